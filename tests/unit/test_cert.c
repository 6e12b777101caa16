/* Unit tests: consensus/valset, consensus/vote, consensus/cert — each
 * validation rule of a commit certificate has its own case. */
#include "tests/unit/testutil.h"

#include "consensus/cert.h"
#include "consensus/valset.h"
#include "consensus/vote.h"
#include "lib/buf.h"
#include "lib/hash.h"
#include "lib/keys.h"

#define N 4
static uint8_t sk[N][32], pk[N][32];
static uint8_t chain[32], bhash[32];
static valset_t *vs;

static int setup(void **state)
{
    (void)state;
    uint64_t seed = 7;
    for (int i = 0; i < N; i++) {
        do {
            tu_fill(sk[i], 32, &seed);
        } while (hm_key_pubkey(pk[i], sk[i]) != HM_OK);
    }
    hm_tagged_hash(chain, HM_TAG_GENESIS, "g", 1);
    hm_tagged_hash(bhash, HM_TAG_HEADER, "b", 1);
    return valset_new(&vs, (const uint8_t(*)[32])pk, N) == HM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    valset_free(&vs);
    assert_null(vs);
    return 0;
}

static void test_valset_basics(void **state)
{
    (void)state;
    assert_int_equal(vs->n, 4);
    assert_int_equal(valset_f(vs), 1);
    assert_int_equal(valset_quorum(vs), 3);
    assert_int_equal(valset_primary(vs, 0), 0);
    assert_int_equal(valset_primary(vs, 5), 1);
    assert_int_equal(valset_index(vs, pk[2]), 2);
    uint8_t other[32] = {0};
    assert_int_equal(valset_index(vs, other), -1);
    /* hash = H_valset(u32be(N) || keys) */
    uint8_t buf[4 + N * 32], want[32];
    hm_put_u32be(buf, N);
    for (int i = 0; i < N; i++)
        memcpy(buf + 4 + 32 * i, pk[i], 32);
    hm_tagged_hash(want, HM_TAG_VALSET, buf, sizeof buf);
    assert_memory_equal(vs->hash, want, 32);
    /* f for other sizes */
    valset_t *v7 = NULL;
    uint8_t k7[7][32];
    uint64_t seed = 99;
    for (int i = 0; i < 7; i++) {
        uint8_t s[32];
        do {
            tu_fill(s, 32, &seed);
        } while (hm_key_pubkey(k7[i], s) != HM_OK);
    }
    assert_int_equal(valset_new(&v7, (const uint8_t(*)[32])k7, 7), HM_OK);
    assert_int_equal(valset_f(v7), 2);
    assert_int_equal(valset_quorum(v7), 5);
    valset_free(&v7);
}

static void test_valset_rejects(void **state)
{
    (void)state;
    valset_t *v = NULL;
    uint8_t dup[2][32];
    memcpy(dup[0], pk[0], 32);
    memcpy(dup[1], pk[0], 32);
    assert_int_equal(valset_new(&v, (const uint8_t(*)[32])dup, 2), HM_ERR_INVALID);
    assert_int_equal(valset_new(&v, (const uint8_t(*)[32])pk, 0), HM_ERR_INVALID);
    uint8_t bad[1][32];
    memset(bad[0], 0xff, 32); /* not an x coordinate below p */
    assert_int_equal(valset_new(&v, (const uint8_t(*)[32])bad, 1), HM_ERR_INVALID);
    assert_null(v);
}

static void test_vote_msg_layout(void **state)
{
    (void)state;
    uint8_t m[81], want[32], got[32];
    memcpy(m, chain, 32);
    m[32] = 3;
    hm_put_u64be(m + 33, 5);
    hm_put_u64be(m + 41, 9);
    memcpy(m + 49, bhash, 32);
    hm_tagged_hash(want, HM_TAG_VOTE, m, sizeof m);
    pbft_vote_msg(got, chain, 3, 5, 9, bhash);
    assert_memory_equal(got, want, 32);
    uint8_t sig[64];
    assert_int_equal(pbft_vote_sign(sig, sk[1], chain, 3, 5, 9, bhash, true), HM_OK);
    assert_true(pbft_vote_verify(sig, pk[1], chain, 3, 5, 9, bhash));
    assert_false(pbft_vote_verify(sig, pk[1], chain, 2, 5, 9, bhash));
    assert_false(pbft_vote_verify(sig, pk[1], chain, 3, 6, 9, bhash));
    assert_false(pbft_vote_verify(sig, pk[1], chain, 3, 5, 10, bhash));
    assert_false(pbft_vote_verify(sig, pk[2], chain, 3, 5, 9, bhash));
}

/* Build a cert signed by the validators in `who` (n of them); sig_of lets a
 * test substitute a signer's key. */
static uint8_t *make_cert(size_t *len, const int *who, size_t n, uint64_t height, uint64_t view,
                          const uint8_t *sign_chain, uint8_t phase)
{
    uint8_t pks[8][32], sigs[8][64];
    for (size_t i = 0; i < n; i++) {
        memcpy(pks[i], pk[who[i]], 32);
        assert_int_equal(pbft_vote_sign(sigs[i], sk[who[i]], sign_chain, phase, view, height,
                                        bhash, true),
                         HM_OK);
    }
    uint8_t *out = NULL;
    assert_int_equal(cert_build(&out, len, height, view, bhash, (const uint8_t(*)[32])pks,
                                (const uint8_t(*)[64])sigs, n),
                     HM_OK);
    return out;
}

static cert_reason_t check(const uint8_t *c, size_t len, const uint64_t *h, const uint8_t *hash)
{
    cert_reason_t r = CERT_OK;
    int rc = cert_verify_bytes(&r, c, len, chain, vs, h, hash);
    assert_int_equal(rc == HM_OK, r == CERT_OK);
    assert_true(rc == HM_OK || rc == HM_ERR_PROOF);
    return r;
}

static void test_cert_ok(void **state)
{
    (void)state;
    int who[] = {2, 0, 3};
    size_t len;
    uint8_t *c = make_cert(&len, who, 3, 9, 5, chain, PBFT_PHASE_COMMIT);
    uint64_t h = 9;
    assert_int_equal(check(c, len, &h, bhash), CERT_OK);
    assert_int_equal(check(c, len, NULL, NULL), CERT_OK);
    free(c);
    int all[] = {0, 1, 2, 3};
    c = make_cert(&len, all, 4, 9, 5, chain, PBFT_PHASE_COMMIT);
    assert_int_equal(check(c, len, &h, bhash), CERT_OK);
    free(c);
}

static void test_cert_too_few(void **state)
{
    (void)state;
    int who[] = {0, 1};
    size_t len;
    uint8_t *c = make_cert(&len, who, 2, 9, 5, chain, PBFT_PHASE_COMMIT);
    assert_int_equal(check(c, len, NULL, NULL), CERT_TOO_FEW);
    free(c);
}

static void test_cert_duplicate(void **state)
{
    (void)state;
    int who[] = {0, 1, 1};
    size_t len;
    uint8_t *c = make_cert(&len, who, 3, 9, 5, chain, PBFT_PHASE_COMMIT);
    assert_int_equal(check(c, len, NULL, NULL), CERT_DUPLICATE_VALIDATOR);
    free(c);
}

static void test_cert_too_many(void **state)
{
    (void)state;
    int who[] = {0, 1, 2, 3, 0};
    size_t len;
    uint8_t *c = make_cert(&len, who, 5, 9, 5, chain, PBFT_PHASE_COMMIT);
    assert_int_equal(check(c, len, NULL, NULL), CERT_TOO_MANY);
    free(c);
}

static void test_cert_unknown_validator(void **state)
{
    (void)state;
    uint8_t osk[32], opk[32];
    uint64_t seed = 1234;
    do {
        tu_fill(osk, 32, &seed);
    } while (hm_key_pubkey(opk, osk) != HM_OK);
    uint8_t pks[3][32], sigs[3][64];
    for (int i = 0; i < 3; i++) {
        const uint8_t *s = i == 2 ? osk : sk[i];
        memcpy(pks[i], i == 2 ? opk : pk[i], 32);
        assert_int_equal(pbft_vote_sign(sigs[i], s, chain, 3, 5, 9, bhash, true), HM_OK);
    }
    uint8_t *c = NULL;
    size_t len;
    assert_int_equal(cert_build(&c, &len, 9, 5, bhash, (const uint8_t(*)[32])pks,
                                (const uint8_t(*)[64])sigs, 3),
                     HM_OK);
    assert_int_equal(check(c, len, NULL, NULL), CERT_UNKNOWN_VALIDATOR);
    free(c);
}

static void test_cert_bad_signature(void **state)
{
    (void)state;
    int who[] = {0, 1, 2};
    size_t len;
    /* signed for another chain */
    uint8_t other[32];
    hm_tagged_hash(other, HM_TAG_GENESIS, "other", 5);
    uint8_t *c = make_cert(&len, who, 3, 9, 5, other, PBFT_PHASE_COMMIT);
    assert_int_equal(check(c, len, NULL, NULL), CERT_BAD_SIGNATURE);
    free(c);
    /* PREPARE signatures are not COMMIT signatures */
    c = make_cert(&len, who, 3, 9, 5, chain, PBFT_PHASE_PREPARE);
    assert_int_equal(check(c, len, NULL, NULL), CERT_BAD_SIGNATURE);
    free(c);
    /* a flipped bit in one signature */
    c = make_cert(&len, who, 3, 9, 5, chain, PBFT_PHASE_COMMIT);
    Hallmark__CommitCertificate *d = NULL;
    assert_int_equal(hm_decode_commit_cert(&d, c, len), HM_OK);
    d->signatures[1]->signature.data[10] ^= 1;
    cert_reason_t r;
    assert_int_equal(cert_verify(&r, d, chain, vs, NULL, NULL), HM_ERR_PROOF);
    assert_int_equal(r, CERT_BAD_SIGNATURE);
    d->signatures[1]->signature.data[10] ^= 1;
    /* a changed view or height breaks every signature */
    d->view = 6;
    assert_int_equal(cert_verify(&r, d, chain, vs, NULL, NULL), HM_ERR_PROOF);
    assert_int_equal(r, CERT_BAD_SIGNATURE);
    d->view = 5;
    assert_int_equal(cert_verify(&r, d, chain, vs, NULL, NULL), HM_OK);
    hm_free_commit_cert(d);
    free(c);
}

static void test_cert_expectations(void **state)
{
    (void)state;
    int who[] = {0, 1, 2};
    size_t len;
    uint8_t *c = make_cert(&len, who, 3, 9, 5, chain, PBFT_PHASE_COMMIT);
    uint64_t h = 10;
    assert_int_equal(check(c, len, &h, NULL), CERT_WRONG_HEIGHT);
    uint8_t other[32] = {1};
    assert_int_equal(check(c, len, NULL, other), CERT_WRONG_HASH);
    free(c);
}

static void test_cert_malformed(void **state)
{
    (void)state;
    uint8_t junk[] = {0xff, 0xff, 0xff};
    assert_int_equal(check(junk, sizeof junk, NULL, NULL), CERT_MALFORMED);
    Hallmark__CommitCertificate c = HALLMARK__COMMIT_CERTIFICATE__INIT;
    cert_reason_t r;
    assert_int_equal(cert_verify(&r, &c, chain, vs, NULL, NULL), HM_ERR_PROOF);
    assert_int_equal(r, CERT_MALFORMED); /* block_hash missing */
    assert_int_equal(cert_verify(&r, NULL, chain, vs, NULL, NULL), HM_ERR_PROOF);
    assert_int_equal(r, CERT_MALFORMED);
    /* a short signature */
    int who[] = {0, 1, 2};
    size_t len;
    uint8_t *b = make_cert(&len, who, 3, 9, 5, chain, PBFT_PHASE_COMMIT);
    Hallmark__CommitCertificate *d = NULL;
    assert_int_equal(hm_decode_commit_cert(&d, b, len), HM_OK);
    d->signatures[0]->signature.len = 63;
    assert_int_equal(cert_verify(&r, d, chain, vs, NULL, NULL), HM_ERR_PROOF);
    assert_int_equal(r, CERT_MALFORMED);
    d->signatures[0]->signature.len = 64;
    hm_free_commit_cert(d);
    free(b);
    assert_string_equal(cert_reason_name(CERT_TOO_FEW), "CERT_TOO_FEW");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valset_basics),     cmocka_unit_test(test_valset_rejects),
        cmocka_unit_test(test_vote_msg_layout),   cmocka_unit_test(test_cert_ok),
        cmocka_unit_test(test_cert_too_few),      cmocka_unit_test(test_cert_duplicate),
        cmocka_unit_test(test_cert_too_many),     cmocka_unit_test(test_cert_unknown_validator),
        cmocka_unit_test(test_cert_bad_signature), cmocka_unit_test(test_cert_expectations),
        cmocka_unit_test(test_cert_malformed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
