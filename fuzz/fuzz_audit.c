/* fuzz/fuzz_audit — arbitrary bytes as a proof bundle for hallmark-audit's
 * verifier (wallet/audit audit_verify), against the fixed genesis of the
 * story vectors (tests/vectors/audit/genesis.json; seeds are the story's
 * real bundles).
 *
 * Invariants:
 *  - audit_verify always reaches a verdict (HM_OK), one of VALID, INVALID,
 *    RECALLED, and the same one twice (same reasons, same subject);
 *  - a verdict other than VALID carries reasons, each a non-empty string;
 *    VALID and RECALLED only when the bundle itself verified; an unverified
 *    bundle is INVALID and renders no EPCIS document;
 *  - asking for another part than the bundle's subject is INVALID;
 *  - no bundle that verifies survives a flipped bit in any signature: for
 *    up to FLIPS signatures of a verified bundle (commit-certificate votes,
 *    tx signatures and co-signatures, picked by a hash of the input), the
 *    bundle with that one bit flipped is INVALID and does not verify;
 *  - the renderers (text, JSON, Graphviz, EPCIS) run on every outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/codec.h"
#include "lib/hash.h"
#include "wallet/audit.h"

#ifndef HM_FUZZ_SRCDIR
#define HM_FUZZ_SRCDIR "."
#endif
#define FLIPS 3
#define MAX_SLOTS 4096

static audit_trust_t trust;
static bool ready;
static FILE *sink;

static void init(void)
{
    if (ready)
        return;
    const char *top = getenv("HM_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/audit/genesis.json",
             top && *top ? top : HM_FUZZ_SRCDIR);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_audit: cannot read %s (set HM_SRCDIR)\n", path);
        abort();
    }
    static uint8_t g[65536];
    size_t n = fread(g, 1, sizeof g, f);
    fclose(f);
    wallet_diag_t d = {{0}};
    HM_FUZZ_CHECK(audit_genesis_parse(&trust, g, n, &d) == HM_OK);
    sink = fopen("/dev/null", "w");
    HM_FUZZ_CHECK(sink != NULL);
    ready = true;
}

static audit_t *verify(const uint8_t *data, size_t size, const audit_opts_t *o)
{
    audit_t *a = NULL;
    HM_FUZZ_CHECK(audit_verify(&a, data, size, &trust, o) == HM_OK && a != NULL);
    audit_verdict_t v = audit_verdict(a);
    HM_FUZZ_CHECK(v == AUDIT_VALID || v == AUDIT_INVALID || v == AUDIT_RECALLED);
    HM_FUZZ_CHECK(audit_verdict_name(v) != NULL);
    if (v != AUDIT_VALID)
        HM_FUZZ_CHECK(audit_reason_count(a) > 0);
    for (size_t i = 0; i < audit_reason_count(a); i++) {
        const char *r = audit_reason(a, i);
        HM_FUZZ_CHECK(r != NULL && r[0] != '\0');
    }
    if (!audit_bundle_ok(a))
        HM_FUZZ_CHECK(v == AUDIT_INVALID);
    HM_FUZZ_CHECK(audit_subject(a) != NULL);
    return a;
}

static void same_outcome(const audit_t *a, const audit_t *b)
{
    HM_FUZZ_CHECK(audit_verdict(a) == audit_verdict(b));
    HM_FUZZ_CHECK(audit_bundle_ok(a) == audit_bundle_ok(b));
    HM_FUZZ_CHECK(audit_reason_count(a) == audit_reason_count(b));
    for (size_t i = 0; i < audit_reason_count(a); i++)
        HM_FUZZ_CHECK(strcmp(audit_reason(a, i), audit_reason(b, i)) == 0);
    HM_FUZZ_CHECK(strcmp(audit_subject(a), audit_subject(b)) == 0);
}

static void render(const audit_t *a)
{
    audit_report_text(sink, a);
    audit_report_dot(sink, a);
    json_t *j = audit_report_json(a);
    HM_FUZZ_CHECK(j != NULL);
    char *s = json_dumps(j, JSON_COMPACT);
    HM_FUZZ_CHECK(s != NULL);
    free(s);
    json_decref(j);
    json_t *e = audit_epcis(a, 1764000000000ull);
    HM_FUZZ_CHECK(audit_bundle_ok(a) ? e != NULL : e == NULL);
    json_decref(e);
}

/* Offsets in data of every 64-byte signature the verifier must check. */
static size_t signature_slots(const uint8_t *data, size_t size, size_t *slots)
{
    Hallmark__ProofBundle *b = NULL;
    size_t n = 0;
    if (hm_decode_proof_bundle(&b, data, size) != HM_OK)
        return 0;
#define ADD_SLOT(bin)                                                                              \
    do {                                                                                           \
        if ((bin).len == 64 && n < MAX_SLOTS) {                                                    \
            const uint8_t *at = memmem(data, size, (bin).data, 64);                                \
            if (at)                                                                                \
                slots[n++] = (size_t)(at - data);                                                  \
        }                                                                                          \
    } while (0)
    for (size_t i = 0; i < b->n_headers; i++) {
        const Hallmark__CommitCertificate *c = b->headers[i]->cert;
        for (size_t j = 0; c && j < c->n_signatures; j++)
            ADD_SLOT(c->signatures[j]->signature);
    }
    for (size_t i = 0; i < b->n_txs; i++) {
        Hallmark__SignedTx *st = NULL;
        if (hm_decode_signed_tx(&st, b->txs[i]->signed_tx.data, b->txs[i]->signed_tx.len) != HM_OK)
            continue;
        ADD_SLOT(st->signature);
        for (size_t j = 0; j < st->n_cosignatures; j++)
            ADD_SLOT(st->cosignatures[j]->signature);
        hm_free_signed_tx(st);
    }
#undef ADD_SLOT
    hm_free_proof_bundle(b);
    return n;
}

static void flip_signatures(const uint8_t *data, size_t size)
{
    static size_t slots[MAX_SLOTS];
    size_t n = signature_slots(data, size, slots);
    HM_FUZZ_CHECK(n > 0); /* a verified bundle has at least its anchor's certificate */
    uint8_t h[32];
    hm_sha256(h, data, size);
    uint8_t *copy = malloc(size);
    HM_FUZZ_CHECK(copy != NULL);
    for (int k = 0; k < FLIPS && k < (int)n; k++) {
        size_t pick = (((size_t)h[4 * k] << 8) | h[4 * k + 1]) % n;
        size_t at = slots[pick] + h[4 * k + 2] % 64;
        memcpy(copy, data, size);
        copy[at] ^= (uint8_t)(1u << (h[4 * k + 3] % 8));
        audit_t *a = verify(copy, size, NULL);
        if (audit_bundle_ok(a) || audit_verdict(a) != AUDIT_INVALID) {
            fprintf(stderr, "flipped bit %u of byte %zu (signature slot %zu of %zu) still "
                            "verifies: %s\n",
                    h[4 * k + 3] % 8, at, pick, n, audit_verdict_name(audit_verdict(a)));
            abort();
        }
        audit_free(&a);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    audit_t *a = verify(data, size, NULL);
    audit_t *b = verify(data, size, NULL);
    same_outcome(a, b);
    render(a);
    audit_free(&b);
    HM_FUZZ_CHECK(b == NULL);
    if (audit_bundle_ok(a)) {
        /* asked about another part, the same bytes are INVALID */
        audit_opts_t o = {0};
        o.expect_subject = "fuzz-not-the-subject";
        audit_t *c = verify(data, size, &o);
        HM_FUZZ_CHECK(strcmp(audit_subject(a), o.expect_subject) == 0 ||
                      audit_verdict(c) == AUDIT_INVALID);
        audit_free(&c);
        /* asked about its own subject, the verdict stands */
        o.expect_subject = audit_subject(a);
        c = verify(data, size, &o);
        same_outcome(a, c);
        audit_free(&c);
        flip_signatures(data, size);
    }
    audit_free(&a);
    return 0;
}
