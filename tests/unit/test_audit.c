/* tests/unit/test_audit — the auditor's verifier (wallet/audit) on real
 * bundles made by a 4-validator network running the manufacturing story
 * (tests/vectors/audit/, written by tests/functional/test_story.py): the
 * verdicts of the story, then a lying node's bundles — each mutation is
 * decoded, changed and re-encoded through lib/codec — must be INVALID with
 * the specific reason. Ends with truncations and bit flips (no crash, no
 * leak under the sanitizers). Links wallet/ (libaudit), consensus/,
 * contracts/ and lib/. */
#include "tests/unit/testutil.h"

#include <stdbool.h>

#include "lib/codec.h"
#include "lib/hash.h"
#include "lib/hex.h"
#include "wallet/audit.h"

#define VEC "tests/vectors/audit/"

/* The story's ids (tests/vectors/audit/README). */
#define RECIPE1 "88e063ea7eaf6158aaca037a2a6dae3aff904426290c3a3825ad567a77e50661"
#define CERT_A "9d1c088ddd154ab38d045fd35fcb76069fbbc6035344d2a3b6c65401165deb9f"
#define CERT_B "b82ae12787ec9538d8e839deb72a1200534ffb1c7d78e1f76c161613b1bc00cd"

typedef struct {
    uint8_t *data;
    size_t len;
} blob_t;

static blob_t genesis;
static audit_trust_t trust;

static blob_t load(const char *name)
{
    char rel[256];
    blob_t b;
    snprintf(rel, sizeof rel, VEC "%s", name);
    b.data = tu_read_file(tu_srcpath(rel), &b.len);
    return b;
}

static int setup(void **state)
{
    (void)state;
    genesis = load("genesis.json");
    wallet_diag_t d = {{0}};
    if (audit_genesis_parse(&trust, genesis.data, genesis.len, &d) != HM_OK) {
        fprintf(stderr, "genesis: %s\n", d.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    audit_trust_free(&trust);
    free(genesis.data);
    return 0;
}

static audit_t *verify_with(const uint8_t *p, size_t n, const audit_trust_t *t,
                            const audit_opts_t *o)
{
    audit_t *a = NULL;
    assert_int_equal(audit_verify(&a, p, n, t, o), HM_OK);
    assert_non_null(a);
    return a;
}

static audit_t *verify_file(const char *name, const audit_opts_t *o)
{
    blob_t b = load(name);
    audit_t *a = verify_with(b.data, b.len, &trust, o);
    free(b.data);
    return a;
}

static void dump(const audit_t *a)
{
    fprintf(stderr, "# verdict %s\n", audit_verdict_name(audit_verdict(a)));
    for (size_t i = 0; i < audit_reason_count(a); i++)
        fprintf(stderr, "#   %s\n", audit_reason(a, i));
}

/* The verdict is v and some reason contains want (NULL: no reasons). */
static void expect(const audit_t *a, audit_verdict_t v, const char *want)
{
    bool found = want == NULL ? audit_reason_count(a) == 0 : false;
    for (size_t i = 0; want && i < audit_reason_count(a); i++)
        if (strstr(audit_reason(a, i), want))
            found = true;
    if (audit_verdict(a) != v || !found) {
        dump(a);
        fail_msg("expected %s with a reason containing \"%s\"", audit_verdict_name(v),
                 want ? want : "(none)");
    }
}

/* ------------------------------------------------------ mutation kit */

static Hallmark__ProofBundle *decode(const char *name)
{
    blob_t b = load(name);
    Hallmark__ProofBundle *m = NULL;
    assert_int_equal(hm_decode_proof_bundle(&m, b.data, b.len), HM_OK);
    free(b.data);
    return m;
}

static audit_t *verify_msg(const Hallmark__ProofBundle *m, const audit_trust_t *t)
{
    uint8_t *p = NULL;
    size_t n = 0;
    assert_int_equal(hm_codec_encode(&p, &n, &m->base), HM_OK);
    audit_t *a = verify_with(p, n, t, NULL);
    free(p);
    return a;
}

static Hallmark__RecordProof *find_rec(Hallmark__ProofBundle *m, const char *prefix,
                                       const uint8_t *id, size_t idlen, size_t *index)
{
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < m->n_records; i++) {
        const ProtobufCBinaryData *k = &m->records[i]->key;
        if (k->len == pl + idlen && !memcmp(k->data, prefix, pl) && !memcmp(k->data + pl, id, idlen)) {
            if (index)
                *index = i;
            return m->records[i];
        }
    }
    fail_msg("no record %s", prefix);
    return NULL;
}

static Hallmark__RecordProof *part_rec(Hallmark__ProofBundle *m, const char *serial)
{
    return find_rec(m, "p/", (const uint8_t *)serial, strlen(serial), NULL);
}

static uint64_t header_height(const Hallmark__CertifiedHeader *ch)
{
    Hallmark__Header *h = NULL;
    assert_int_equal(hm_decode_header(&h, ch->header.data, ch->header.len), HM_OK);
    uint64_t v = h->height;
    hm_free_header(h);
    return v;
}

static void hex32(uint8_t out[32], const char *hex)
{
    assert_int_equal(hm_hex_decode(out, 32, hex), HM_OK);
}

static Hallmark__TxInclusion *find_tx(Hallmark__ProofBundle *m, const uint8_t txid[32],
                                      size_t *index)
{
    for (size_t i = 0; i < m->n_txs; i++) {
        uint8_t id[32];
        Hallmark__SignedTx *s = NULL;
        assert_int_equal(hm_decode_signed_tx(&s, m->txs[i]->signed_tx.data,
                                             m->txs[i]->signed_tx.len),
                         HM_OK);
        hm_txid(id, s->tx.data, s->tx.len);
        hm_free_signed_tx(s);
        if (!memcmp(id, txid, 32)) {
            if (index)
                *index = i;
            return m->txs[i];
        }
    }
    fail_msg("no tx");
    return NULL;
}

/* ------------------------------------------------------ story verdicts */

static void test_certified_part_valid(void **state)
{
    (void)state;
    audit_t *a = verify_file("SN-A1.bundle", NULL);
    expect(a, AUDIT_VALID, NULL);
    assert_true(audit_bundle_ok(a));
    assert_string_equal(audit_subject(a), "SN-A1");
    json_t *j = audit_report_json(a);
    assert_non_null(j);
    json_t *p = json_object_get(j, "part");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "certificate"), "status")),
                        "CERTIFIED");
    assert_int_equal(json_integer_value(json_object_get(p, "history_len")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(p, "licence"), "remaining_units")), 1);
    json_decref(j);
    audit_free(&a);
    assert_null(a);
}

static void test_recalled_part(void **state)
{
    (void)state;
    audit_t *a = verify_file("SN-B1.bundle", NULL);
    expect(a, AUDIT_RECALLED, "certificate " CERT_B " revoked (recall): porosity out of spec");
    assert_true(audit_bundle_ok(a));
    audit_free(&a);
}

static void test_assembly_with_recalled_component(void **state)
{
    (void)state;
    audit_t *a = verify_file("GEARBOX-1.bundle", NULL);
    expect(a, AUDIT_INVALID, "component SN-B1 recalled");
    assert_int_equal(audit_reason_count(a), 1);
    json_t *j = audit_report_json(a);
    json_t *kids = json_object_get(json_object_get(j, "part"), "components");
    assert_int_equal(json_array_size(kids), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(kids, 0), "verdict")),
                        "VALID");
    assert_string_equal(json_string_value(json_object_get(json_array_get(kids, 1), "verdict")),
                        "RECALLED");
    json_decref(j);
    audit_free(&a);
}

static void test_part_beyond_licence_never_exists(void **state)
{
    (void)state;
    audit_t *a = verify_file("SN-D1.bundle", NULL);
    expect(a, AUDIT_INVALID, "part SN-D1 is not on the ledger (absence proven at height ");
    assert_true(audit_bundle_ok(a));
    audit_free(&a);
}

static void test_recipe_document(void **state)
{
    (void)state;
    uint8_t h[32];
    hex32(h, RECIPE1);
    audit_opts_t o = {h, NULL, 0};
    audit_t *a = verify_file("SN-A1.bundle", &o);
    expect(a, AUDIT_VALID, NULL);
    audit_free(&a);
    h[5] ^= 1;
    a = verify_file("SN-A1.bundle", &o);
    expect(a, AUDIT_INVALID, "recipe document hashes to ");
    audit_free(&a);
}

/* A node asked about a counterfeit serial answers with a good part's
 * bundle. */
static void test_bundle_for_another_part(void **state)
{
    (void)state;
    audit_opts_t o = {NULL, "SN-FAKE", 0};
    audit_t *a = verify_file("SN-A1.bundle", &o);
    expect(a, AUDIT_INVALID, "the bundle is about part SN-A1, not the requested SN-FAKE");
    assert_false(audit_bundle_ok(a));
    audit_free(&a);
    o.expect_subject = "SN-A1";
    a = verify_file("SN-A1.bundle", &o);
    expect(a, AUDIT_VALID, NULL);
    audit_free(&a);
}

/* Freshness: the old bundle of SN-A1 is genuine but predates later txs. */
static void test_freshness(void **state)
{
    (void)state;
    json_t *j = NULL;
    audit_t *a = verify_file("SN-A1.bundle", NULL);
    j = audit_report_json(a);
    const char *t = json_string_value(json_object_get(json_object_get(j, "anchor"), "time"));
    assert_non_null(t);
    audit_free(&a);
    json_decref(j);
    audit_opts_t o = {NULL, NULL, 1};
    a = verify_file("SN-A1.old.bundle", &o);
    expect(a, AUDIT_VALID, NULL); /* a limit in the past */
    audit_free(&a);
    o.min_anchor_time_ms = UINT64_MAX;
    a = verify_file("SN-A1.old.bundle", &o);
    expect(a, AUDIT_INVALID, "is older than the freshness limit");
    audit_free(&a);
}

static void test_renderers(void **state)
{
    (void)state;
    audit_t *a = verify_file("GEARBOX-1.bundle", NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    audit_report_text(f, a);
    audit_report_dot(f, a);
    fclose(f);
    assert_non_null(strstr(buf, "verdict: INVALID"));
    assert_non_null(strstr(buf, "\"part:GEARBOX-1\" -> \"part:SN-B1\" [label=\"component\"]"));
    free(buf);
    json_t *e = audit_epcis(a, 1700000000000ull);
    assert_non_null(e);
    json_t *evs = json_object_get(json_object_get(e, "epcisBody"), "eventList");
    size_t agg = 0;
    for (size_t i = 0; i < json_array_size(evs); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(evs, i), "type")),
                    "AggregationEvent"))
            agg++;
    assert_int_equal(agg, 1);
    assert_string_equal(json_string_value(json_object_get(e, "creationDate")),
                        "2023-11-14T22:13:20.000Z");
    json_decref(e);
    audit_free(&a);
    char epc[200];
    assert_int_equal(audit_epc(epc, sizeof epc, "urn:epc:id:sgtin:0614141.107346.2017"), HM_OK);
    assert_string_equal(epc, "urn:epc:id:sgtin:0614141.107346.2017");
    assert_int_equal(audit_epc(epc, sizeof epc, "SN 1/x"), HM_OK);
    assert_string_equal(epc, "https://hallmark.example/part/SN%201%2Fx");
    assert_int_equal(audit_epc(epc, 20, "SN-1"), HM_ERR_TOO_LARGE);
}

/* ---------------------------------------------------- a lying node */

static void test_history_txid_dropped(void **state)
{
    (void)state;
    Hallmark__ProofBundle *m = decode("SN-A1.bundle");
    Hallmark__RecordProof *r = part_rec(m, "SN-A1");
    assert_int_equal(r->n_history_txids, 3);
    /* drop the middle tx (the custody transfer) from the part's history */
    ProtobufCBinaryData keep = r->history_txids[1];
    r->history_txids[1] = r->history_txids[2];
    r->n_history_txids = 2;
    audit_t *a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, "history of part SN-A1 is incomplete: 2 txids for history_len 3");
    assert_false(audit_bundle_ok(a));
    audit_free(&a);
    /* or keep the count and reorder: the chain does not reach the head */
    r->n_history_txids = 3;
    r->history_txids[2] = keep; /* now t0, t2, t1 */
    a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, "history of part SN-A1 does not chain to its history_head");
    audit_free(&a);
    r->history_txids[2] = r->history_txids[1];
    r->history_txids[1] = keep;
    hm_free_proof_bundle(m);
}

static void test_history_tx_missing(void **state)
{
    (void)state;
    Hallmark__ProofBundle *m = decode("SN-A1.bundle");
    Hallmark__RecordProof *r = part_rec(m, "SN-A1");
    size_t i = 0;
    char hex[65];
    find_tx(m, r->history_txids[1].data, &i);
    hm_hex_encode(hex, r->history_txids[1].data, 32);
    Hallmark__TxInclusion *t = m->txs[i];
    m->txs[i] = m->txs[m->n_txs - 1];
    m->n_txs--;
    audit_t *a = verify_msg(m, &trust);
    char want[200];
    snprintf(want, sizeof want, "history tx %s of part SN-A1 is not in the bundle", hex);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    m->n_txs++;
    m->txs[m->n_txs - 1] = m->txs[i];
    m->txs[i] = t;
    hm_free_proof_bundle(m);
}

static void test_forged_certificate_2f(void **state)
{
    (void)state;
    Hallmark__ProofBundle *m = decode("SN-A1.bundle");
    Hallmark__CommitCertificate *c = m->headers[m->n_headers - 1]->cert;
    size_t n = c->n_signatures;
    assert_true(n >= 3);
    c->n_signatures = 2; /* 2f of 4 validators */
    audit_t *a = verify_msg(m, &trust);
    char want[100];
    snprintf(want, sizeof want, "commit certificate of height %llu: CERT_TOO_FEW",
             (unsigned long long)m->anchor_height);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    /* 2f genuine signatures plus one of them repeated */
    c->n_signatures = 3;
    Hallmark__VoteSignature *third = c->signatures[2];
    c->signatures[2] = c->signatures[0];
    a = verify_msg(m, &trust);
    snprintf(want, sizeof want, "commit certificate of height %llu: CERT_DUPLICATE_VALIDATOR",
             (unsigned long long)m->anchor_height);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    c->signatures[2] = third;
    /* a flipped signature */
    c->signatures[1]->signature.data[7] ^= 0x40;
    a = verify_msg(m, &trust);
    snprintf(want, sizeof want, "commit certificate of height %llu: CERT_BAD_SIGNATURE",
             (unsigned long long)m->anchor_height);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    c->signatures[1]->signature.data[7] ^= 0x40;
    c->n_signatures = n;
    hm_free_proof_bundle(m);
}

static void test_stale_state_proof(void **state)
{
    (void)state;
    Hallmark__ProofBundle *m = decode("SN-A1.bundle");
    Hallmark__ProofBundle *old = decode("SN-A1.old.bundle");
    assert_true(old->anchor_height < m->anchor_height);
    size_t i = 0;
    find_rec(m, "p/", (const uint8_t *)"SN-A1", 5, &i);
    Hallmark__RecordProof *mine = m->records[i], *stale = part_rec(old, "SN-A1");
    /* the older record (before the transfer) with its own proof */
    m->records[i] = stale;
    audit_t *a = verify_msg(m, &trust);
    char want[120];
    snprintf(want, sizeof want, "record part SN-A1 proves against height %llu, not the anchor",
             (unsigned long long)old->anchor_height);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    /* ... claiming the current anchor */
    uint64_t h = stale->header_height;
    stale->header_height = m->anchor_height;
    a = verify_msg(m, &trust);
    snprintf(want, sizeof want, "record part SN-A1 does not prove against the state root of "
                                "height %llu",
             (unsigned long long)m->anchor_height);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    stale->header_height = h;
    m->records[i] = mine;
    /* one flipped byte of the current record */
    mine->value.data[mine->value.len / 2] ^= 0x01;
    a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    mine->value.data[mine->value.len / 2] ^= 0x01;
    /* an absence claimed for a present record */
    ProtobufCBinaryData v = mine->value;
    mine->value.len = 0;
    a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    mine->value = v;
    hm_free_proof_bundle(old);
    hm_free_proof_bundle(m);
}

static void test_other_chain(void **state)
{
    (void)state;
    Hallmark__ProofBundle *m = decode("SN-A1.bundle");
    m->chain_id.data[0] ^= 0xff;
    audit_t *a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, "bundle is for chain ");
    audit_free(&a);
    m->chain_id.data[0] ^= 0xff;
    /* a genesis with other bytes (so another chain id, same validators),
     * and a bundle relabelled for it: the headers and txs are not its */
    uint8_t *g2 = malloc(genesis.len + 1);
    memcpy(g2, genesis.data, genesis.len);
    g2[genesis.len] = '\n';
    audit_trust_t t2;
    wallet_diag_t d = {{0}};
    assert_int_equal(audit_genesis_parse(&t2, g2, genesis.len + 1, &d), HM_OK);
    uint8_t saved[32];
    memcpy(saved, m->chain_id.data, 32);
    memcpy(m->chain_id.data, t2.chain_id, 32);
    a = verify_msg(m, &t2);
    char want[200], hex[65], hex2[65];
    hm_hex_encode(hex, saved, 32);
    hm_hex_encode(hex2, t2.chain_id, 32);
    snprintf(want, sizeof want, "is for chain %s, genesis says %s", hex, hex2);
    expect(a, AUDIT_INVALID, want);
    expect(a, AUDIT_INVALID, "is signed for chain ");
    audit_free(&a);
    memcpy(m->chain_id.data, saved, 32);
    audit_trust_free(&t2);
    free(g2);
    hm_free_proof_bundle(m);
}

static void test_swapped_recipe(void **state)
{
    (void)state;
    Hallmark__ProofBundle *m = decode("SN-A1.bundle");
    Hallmark__ProofBundle *r2 = decode("SN-R2.bundle");
    assert_int_equal(m->anchor_height, r2->anchor_height);
    uint8_t h1[32];
    hex32(h1, RECIPE1);
    size_t i = 0;
    find_rec(m, "r/", h1, 32, &i);
    /* another recipe's genuine record (same anchor) in place of the
     * certificate's recipe */
    Hallmark__RecordProof *mine = m->records[i], *other = NULL;
    for (size_t k = 0; k < r2->n_records; k++)
        if (r2->records[k]->key.len == 34 && !memcmp(r2->records[k]->key.data, "r/", 2))
            other = r2->records[k];
    assert_non_null(other);
    /* a thorough liar also brings that recipe's history txs and headers */
    Hallmark__CertifiedHeader **hs = calloc(m->n_headers + r2->n_headers, sizeof *hs);
    Hallmark__TxInclusion **ts = calloc(m->n_txs + r2->n_txs, sizeof *ts);
    size_t nh = 0, a1 = 0, b1 = 0;
    while (a1 < m->n_headers || b1 < r2->n_headers) {
        uint64_t ha = a1 < m->n_headers ? header_height(m->headers[a1]) : UINT64_MAX;
        uint64_t hb = b1 < r2->n_headers ? header_height(r2->headers[b1]) : UINT64_MAX;
        hs[nh++] = ha <= hb ? m->headers[a1] : r2->headers[b1];
        a1 += ha <= hb;
        b1 += hb <= ha;
    }
    memcpy(ts, m->txs, m->n_txs * sizeof *ts);
    memcpy(ts + m->n_txs, r2->txs, r2->n_txs * sizeof *ts);
    Hallmark__CertifiedHeader **mh = m->headers;
    Hallmark__TxInclusion **mt = m->txs;
    size_t mnh = m->n_headers, mnt = m->n_txs;
    m->headers = hs;
    m->n_headers = nh;
    m->txs = ts;
    m->n_txs = mnt + r2->n_txs;
    m->records[i] = other;
    audit_t *a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, "recipe " RECIPE1 " of certificate " CERT_A " is not in the bundle");
    assert_true(audit_bundle_ok(a)); /* every proof holds: the verdict is the rule's */
    audit_free(&a);
    m->headers = mh;
    m->n_headers = mnh;
    m->txs = mt;
    m->n_txs = mnt;
    free(hs);
    free(ts);
    /* the other recipe's record bytes under this recipe's key */
    ProtobufCBinaryData v = mine->value;
    mine->value = other->value;
    m->records[i] = mine;
    a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, "record recipe " RECIPE1 " does not prove against the state root");
    audit_free(&a);
    mine->value = v;
    hm_free_proof_bundle(r2);
    hm_free_proof_bundle(m);
}

static void test_tampered_tx(void **state)
{
    (void)state;
    Hallmark__ProofBundle *m = decode("SN-A1.bundle");
    Hallmark__RecordProof *r = part_rec(m, "SN-A1");
    Hallmark__TxInclusion *t = find_tx(m, r->history_txids[1].data, NULL);
    char want[200], hex[65];
    hm_hex_encode(hex, r->history_txids[1].data, 32);
    /* a result claimed rejected */
    assert_non_null(t->result);
    t->result->code = 22;
    audit_t *a = verify_msg(m, &trust);
    snprintf(want, sizeof want, "tx %s: result code 22 does not prove against the results_root",
             hex);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    t->result->code = 0;
    /* the result without its proof: not proven applied */
    Hallmark__MerkleProof *rp = t->result_proof;
    t->result_proof = NULL;
    a = verify_msg(m, &trust);
    snprintf(want, sizeof want, "history tx %s of part SN-A1: its result is not proven", hex);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    t->result_proof = rp;
    /* a signature byte */
    t->signed_tx.data[t->signed_tx.len - 3] ^= 0x10;
    a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, "a signature does not verify");
    audit_free(&a);
    t->signed_tx.data[t->signed_tx.len - 3] ^= 0x10;
    /* the inclusion proof moved to another index */
    t->proof->index ^= 1;
    a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, "is not proven included in block");
    audit_free(&a);
    t->proof->index ^= 1;
    /* and the genuine bundle still verifies after the round trips */
    a = verify_msg(m, &trust);
    expect(a, AUDIT_VALID, NULL);
    audit_free(&a);
    hm_free_proof_bundle(m);
}

static void test_missing_header(void **state)
{
    (void)state;
    Hallmark__ProofBundle *m = decode("SN-A1.bundle");
    size_t n = m->n_headers;
    m->n_headers = n - 1; /* drop the anchor */
    audit_t *a = verify_msg(m, &trust);
    char want[100];
    snprintf(want, sizeof want, "no certified header for the anchor height %llu",
             (unsigned long long)m->anchor_height);
    expect(a, AUDIT_INVALID, want);
    audit_free(&a);
    m->n_headers = n;
    /* headers out of order */
    Hallmark__CertifiedHeader *h0 = m->headers[0];
    m->headers[0] = m->headers[1];
    m->headers[1] = h0;
    a = verify_msg(m, &trust);
    expect(a, AUDIT_INVALID, "headers are not in strictly ascending height order");
    audit_free(&a);
    m->headers[1] = m->headers[0];
    m->headers[0] = h0;
    hm_free_proof_bundle(m);
}

static void test_garbage(void **state)
{
    (void)state;
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01, 0x02};
    audit_t *a = verify_with(junk, sizeof junk, &trust, NULL);
    expect(a, AUDIT_INVALID, "the bundle does not decode");
    assert_null(audit_epcis(a, 0));
    audit_free(&a);
    a = verify_with(junk, (size_t)HM_MAX_BUNDLE_BYTES + 1, &trust, NULL);
    expect(a, AUDIT_INVALID, "over the");
    audit_free(&a);
    a = verify_with(NULL, 0, &trust, NULL);
    expect(a, AUDIT_INVALID, "bundle is for chain (none)");
    audit_free(&a);
    wallet_diag_t d = {{0}};
    audit_trust_t t;
    assert_int_equal(audit_genesis_parse(&t, (const uint8_t *)"{}", 2, &d), HM_ERR_INVALID);
    assert_non_null(strstr(d.msg, "validators"));
}

/* Truncations and single-bit flips of a real bundle: always a verdict,
 * never a crash; a flip in anything proven gives INVALID. */
static void test_truncate_and_flip(void **state)
{
    (void)state;
    blob_t b = load("GEARBOX-1.bundle");
    size_t valid = 0, runs = 0;
    for (size_t n = 0; n < b.len; n += 1 + n / 16) {
        audit_t *a = verify_with(b.data, n, &trust, NULL);
        valid += audit_verdict(a) == AUDIT_VALID;
        audit_free(&a);
    }
    assert_int_equal(valid, 0);
    uint64_t seed = 0x5eed;
    size_t flips_valid = 0;
    for (runs = 0; runs < 300; runs++) {
        uint8_t r[4];
        tu_fill(r, sizeof r, &seed);
        size_t pos = (((size_t)r[0] << 16) | ((size_t)r[1] << 8) | r[2]) % b.len;
        uint8_t bit = (uint8_t)(1u << (r[3] & 7));
        b.data[pos] ^= bit;
        audit_t *a = verify_with(b.data, b.len, &trust, NULL);
        /* the gearbox is INVALID anyway; a flip must never make it VALID */
        flips_valid += audit_verdict(a) == AUDIT_VALID;
        json_t *j = audit_report_json(a);
        json_decref(j);
        audit_free(&a);
        b.data[pos] ^= bit;
    }
    assert_int_equal(flips_valid, 0);
    free(b.data);
    /* and on a VALID bundle: count flips that keep it VALID (informational
     * fields: the validator_sets list, unproven shape of proofs) */
    b = load("SN-A1.bundle");
    size_t kept = 0;
    for (runs = 0; runs < 300; runs++) {
        uint8_t r[4];
        tu_fill(r, sizeof r, &seed);
        size_t pos = (((size_t)r[0] << 16) | ((size_t)r[1] << 8) | r[2]) % b.len;
        uint8_t bit = (uint8_t)(1u << (r[3] & 7));
        b.data[pos] ^= bit;
        audit_t *a = verify_with(b.data, b.len, &trust, NULL);
        kept += audit_verdict(a) == AUDIT_VALID;
        audit_free(&a);
        b.data[pos] ^= bit;
    }
    printf("# %zu of 300 single-bit flips of a VALID bundle leave it VALID (unverified "
           "informational bytes)\n",
           kept);
    assert_true(kept < 30);
    free(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_certified_part_valid),
        cmocka_unit_test(test_recalled_part),
        cmocka_unit_test(test_assembly_with_recalled_component),
        cmocka_unit_test(test_part_beyond_licence_never_exists),
        cmocka_unit_test(test_recipe_document),
        cmocka_unit_test(test_bundle_for_another_part),
        cmocka_unit_test(test_freshness),
        cmocka_unit_test(test_renderers),
        cmocka_unit_test(test_history_txid_dropped),
        cmocka_unit_test(test_history_tx_missing),
        cmocka_unit_test(test_forged_certificate_2f),
        cmocka_unit_test(test_stale_state_proof),
        cmocka_unit_test(test_other_chain),
        cmocka_unit_test(test_swapped_recipe),
        cmocka_unit_test(test_tampered_tx),
        cmocka_unit_test(test_missing_header),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_truncate_and_flip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
