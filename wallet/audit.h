/* wallet/audit — the auditor's verifier (DESIGN §10, doc/audit.md): takes
 * the bytes of a ProofBundle and of a genesis file, trusts nothing but the
 * genesis, and answers VALID / INVALID / RECALLED for the bundle's subject
 * part with specific reasons. Also renders what it verified: a readable
 * report, JSON, a Graphviz provenance graph and GS1 EPCIS 2.0 JSON-LD.
 *
 * The bundle is hostile input: every length is checked, counts are capped,
 * nothing in it trips an assert; a bundle that does not decode or whose any
 * proof fails is INVALID with the reason, never an error. Errors (negative
 * hm_err_t) are kept for the caller's side: an unusable genesis file, memory.
 *
 * Depends on lib/, proto/, consensus/ (valset, vote, cert: commit
 * certificates), contracts/ (ids, state keys, history chains), wallet/util
 * and jansson; never on node/. No global state; no I/O except the FILE
 * streams the render functions are given. */
#ifndef HM_WALLET_AUDIT_H
#define HM_WALLET_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "consensus/valset.h"
#include "lib/err.h"
#include "wallet/util.h"

/* Caps on what one bundle may hold (the byte cap is HM_MAX_BUNDLE_BYTES). */
#define AUDIT_MAX_HEADERS 100000u
#define AUDIT_MAX_RECORDS 65536u
#define AUDIT_MAX_TXS 200000u
#define AUDIT_MAX_DEPTH 32u   /* assembly nesting */
#define AUDIT_MAX_PARTS 65536u /* parts visited in one assembly tree */
#define AUDIT_MAX_REASONS 256u /* reasons kept per part (more are counted) */

typedef enum {
    AUDIT_VALID = 0,
    AUDIT_INVALID = 1,
    AUDIT_RECALLED = 2,
} audit_verdict_t;

/* "VALID", "INVALID", "RECALLED". */
const char *audit_verdict_name(audit_verdict_t v);

/* The trust root: chain id and validator set of a genesis file.
 * audit_genesis_parse reads the exact genesis bytes (chain id =
 * H_hallmark/genesis(bytes)) and its "validators" list (each "pubkey" 64
 * hex; other fields are not needed here). Errors name the problem in *d:
 * HM_ERR_INVALID for a file that is not a usable genesis. Out: *out (caller
 * owns; audit_trust_free). */
typedef struct {
    uint8_t chain_id[32];
    valset_t *vs; /* owned */
} audit_trust_t;

int audit_genesis_parse(audit_trust_t *out, const uint8_t *genesis, size_t len,
                        wallet_diag_t *d) HM_WUR;
void audit_trust_free(audit_trust_t *t);

typedef struct {
    /* SHA-256 of a recipe document to compare with the subject's recipe
     * (--recipe-document), or NULL. Borrowed for the call. */
    const uint8_t *recipe_doc_hash;
    /* The serial the caller asked for, or NULL: a bundle about another part
     * (a node answering with a good part's bundle) is INVALID. Borrowed for
     * the call. */
    const char *expect_subject;
    /* Freshness: when non-zero, an anchor header older than this block time
     * (ms) is INVALID — a node withholding a recall serves an old but
     * genuine bundle, which only the auditor's clock can refuse. */
    uint64_t min_anchor_time_ms;
} audit_opts_t;

/* The outcome of one verification. Opaque; audit_free releases it. */
typedef struct audit audit_t;

/* Verify bundle bytes (untrusted; borrowed for the call — the result keeps
 * its own decoded copy) against trust. Returns HM_OK whenever a verdict was
 * reached — including INVALID for a bundle that does not decode, is over
 * HM_MAX_BUNDLE_BYTES or fails any check — and HM_ERR_NOMEM otherwise.
 * Out: *out (caller owns; audit_free). opts may be NULL. */
int audit_verify(audit_t **out, const uint8_t *bundle, size_t len, const audit_trust_t *trust,
                 const audit_opts_t *opts) HM_WUR;

/* Release; accepts NULL and nulls the pointer. */
void audit_free(audit_t **a);

audit_verdict_t audit_verdict(const audit_t *a);
/* The subject's reasons (for a VALID part: none). Borrowed from a. */
size_t audit_reason_count(const audit_t *a);
const char *audit_reason(const audit_t *a, size_t i);
/* True when the bundle itself verified (headers, certificates, inclusion,
 * state proofs, history chains): its content can be shown even when the
 * part's verdict is negative. */
bool audit_bundle_ok(const audit_t *a);
/* The subject serial the bundle claims, as sent (borrowed; "" when
 * undecodable). Untrusted text: clean it before printing to a terminal. */
const char *audit_subject(const audit_t *a);

/* Renderers (doc/audit.md gives the formats). All read only verified
 * content. */
void audit_report_text(FILE *f, const audit_t *a);
/* A new JSON object (caller owns: json_decref), NULL when out of memory. */
json_t *audit_report_json(const audit_t *a);
/* Graphviz digraph of the provenance: parts, certificates, recipes,
 * licences, identities (holders, manufacturers, inspectors). */
void audit_report_dot(FILE *f, const audit_t *a);
/* GS1 EPCIS 2.0 JSON-LD EPCISDocument of the subject's history and its
 * components'. creation_ms: creationDate (the caller's clock; the events
 * carry block times). NULL when out of memory or when the bundle did not
 * verify (audit_bundle_ok false). Caller owns. */
json_t *audit_epcis(const audit_t *a, uint64_t creation_ms);

/* The EPC of a serial: the serial itself when it is already a URN
 * ("urn:epc:..."), else "https://hallmark.example/part/" + the serial
 * percent-encoded (unreserved characters kept). Out: out (cap bytes). */
int audit_epc(char *out, size_t cap, const char *serial) HM_WUR;

#endif
