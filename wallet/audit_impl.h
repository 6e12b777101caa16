/* wallet/audit_impl — what wallet/audit.c (the verifier) and
 * wallet/audit_render.c (report, JSON, DOT, EPCIS) share: the verified
 * view of a bundle. Private to those two files. Everything here is owned by
 * the audit_t; borrowed pointers live as long as it. */
#ifndef HM_WALLET_AUDIT_IMPL_H
#define HM_WALLET_AUDIT_IMPL_H

#include "contracts/contracts.h"
#include "lib/codec.h"
#include "lib/tx.h"
#include "wallet/audit.h"

typedef struct {
    Hallmark__Header *h; /* owned; NULL when it did not decode */
    uint64_t height;
    uint8_t hash[32];
    bool ok; /* certified by the trusted set, right chain and set */
} aud_header_t;

typedef struct {
    const Hallmark__TxInclusion *inc; /* borrowed from the bundle */
    hm_tx_t *tx;                      /* owned */
    uint8_t txid[32];
    uint64_t height;
    uint64_t index;   /* position in its block */
    uint64_t time_ms; /* its block's time */
    uint32_t code;
    bool code_proven; /* result proven against results_root of height+1 */
    bool ok;          /* signatures and inclusion verified */
} aud_tx_t;

typedef enum { AUD_PART, AUD_CERT, AUD_LICENCE, AUD_RECIPE, AUD_IDENTITY } aud_kind_t;

typedef struct {
    const Hallmark__RecordProof *rp; /* borrowed from the bundle */
    const uint8_t *key;
    size_t klen;
    aud_kind_t kind;
    bool present; /* membership (else proven absent) */
    bool ok;      /* proof, decoding and history all verified */
    void *msg;    /* owned decoded record (present only) */
    uint64_t hlen;
    const ProtobufCBinaryData *head; /* into msg */
} aud_rec_t;

typedef struct audit_part {
    char serial[CONTRACTS_MAX_SERIAL_LEN + 1]; /* printable copy, for messages */
    char raw[CONTRACTS_MAX_SERIAL_LEN + 1];    /* as on the ledger (UTF-8) */
    audit_verdict_t verdict;
    wallet_strlist_t reasons;
    size_t dropped;
    bool recalled;
    bool doc_checked, doc_match;
    const aud_rec_t *rec, *cert, *lic, *parent_lic, *recipe, *holder, *mfr;
    const aud_tx_t *mint;
    struct audit_part **kids; /* owned array; the parts are owned by audit_t */
    size_t n_kids;
} audit_part_t;

struct audit {
    Hallmark__ProofBundle *b; /* owned */
    char subject[CONTRACTS_MAX_SERIAL_LEN + 1];     /* printable copy */
    char subject_raw[CONTRACTS_MAX_SERIAL_LEN + 1]; /* as sent */
    uint8_t chain_id[32];
    uint8_t doc_hash[32];
    audit_opts_t opts; /* recipe_doc_hash points at doc_hash; no expect_subject */
    audit_verdict_t verdict;
    bool bundle_ok;
    bool nomem;
    wallet_strlist_t problems; /* integrity failures of the bundle */
    size_t dropped;
    wallet_strlist_t notes; /* observations that do not change the verdict */
    aud_header_t *hdr;      /* ascending heights */
    size_t n_hdr;
    aud_tx_t *txs; /* sorted by txid */
    size_t n_txs;
    aud_rec_t *recs; /* sorted by key */
    size_t n_recs;
    const aud_header_t *anchor;
    audit_part_t *root;
    audit_part_t **parts; /* every part evaluated, root first */
    size_t n_parts, cap_parts;
};

void aud_hex(char *out, const void *p, size_t n);
void aud_did(char out[WALLET_DID_STRLEN], const ProtobufCBinaryData *gid);
void aud_clean(char *out, size_t cap, const char *s, size_t len);
void aud_key_label(char *out, size_t cap, const uint8_t *key, size_t klen);
const aud_header_t *aud_header(const audit_t *a, uint64_t h);
const aud_tx_t *aud_tx(const audit_t *a, const uint8_t txid[32]);
const aud_rec_t *aud_rec(const audit_t *a, const contracts_key_t *k);
const aud_rec_t *aud_rec_id(const audit_t *a, char prefix, const uint8_t *id, size_t n);

#endif
