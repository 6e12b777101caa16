/* Unit tests: lib/tx — signing, stateless verification over exact bytes. */
#include "tests/unit/testutil.h"

#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/tx.h"

static uint8_t chain[32], other_chain[32];

static int setup(void **state)
{
    (void)state;
    hm_tagged_hash(chain, HM_TAG_GENESIS, "test-chain", 10);
    hm_tagged_hash(other_chain, HM_TAG_GENESIS, "other-chain", 11);
    return 0;
}

/* A signed Scrap tx by a fresh key. Out: bytes (free()), len, sk, txid. */
static uint8_t *make_tx(size_t *len, uint8_t sk[32], uint8_t txid[32], const uint8_t *chain_id)
{
    uint8_t pk[32];
    assert_int_equal(hm_key_generate(sk, pk), HM_OK);
    Hallmark__Tx tx = HALLMARK__TX__INIT;
    Hallmark__Scrap scrap = HALLMARK__SCRAP__INIT;
    char *serials[] = {"SN-1", "SN-2"};
    scrap.serials = serials;
    scrap.n_serials = 2;
    scrap.reason = "damaged";
    tx.chain_id.data = (uint8_t *)chain_id;
    tx.chain_id.len = 32;
    tx.signer.data = pk;
    tx.signer.len = 32;
    tx.nonce = 5;
    tx.body_case = HALLMARK__TX__BODY_SCRAP;
    tx.scrap = &scrap;
    uint8_t *out = NULL;
    assert_int_equal(hm_tx_sign(&out, len, txid, &tx, sk), HM_OK);
    return out;
}

static void test_sign_decode_verify(void **state)
{
    (void)state;
    uint8_t sk[32], txid[32];
    size_t len;
    uint8_t *bytes = make_tx(&len, sk, txid, chain);
    hm_tx_t *t = NULL;
    assert_int_equal(hm_tx_decode_verify(&t, bytes, len, chain), HM_OK);
    assert_memory_equal(t->txid, txid, 32);
    assert_int_equal(t->tx->nonce, 5);
    assert_int_equal(t->tx->body_case, HALLMARK__TX__BODY_SCRAP);
    assert_string_equal(t->tx->scrap->serials[1], "SN-2");
    assert_string_equal(hm_tx_kind_name(t->tx), "scrap");
    /* txid is the tagged hash of the exact inner Tx bytes */
    uint8_t want[32];
    hm_tagged_hash(want, HM_TAG_TX, t->stx->tx.data, t->stx->tx.len);
    assert_memory_equal(t->txid, want, 32);
    hm_tx_free(t);
    free(bytes);
}

static void test_wrong_chain(void **state)
{
    (void)state;
    uint8_t sk[32], txid[32];
    size_t len;
    uint8_t *bytes = make_tx(&len, sk, txid, other_chain);
    hm_tx_t *t = NULL;
    assert_int_equal(hm_tx_decode_verify(&t, bytes, len, chain), HM_ERR_WRONG_CHAIN);
    assert_null(t);
    free(bytes);
}

static void test_any_byte_flip_is_rejected(void **state)
{
    (void)state;
    uint8_t sk[32], txid[32];
    size_t len;
    uint8_t *bytes = make_tx(&len, sk, txid, chain);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            bytes[i] ^= (uint8_t)(1 << bit);
            hm_tx_t *t = NULL;
            int rc = hm_tx_decode_verify(&t, bytes, len, chain);
            assert_int_not_equal(rc, HM_OK);
            assert_null(t);
            bytes[i] ^= (uint8_t)(1 << bit);
        }
    }
    free(bytes);
}

static void test_cosign(void **state)
{
    (void)state;
    uint8_t sk[32], txid[32], sk2[32], pk2[32];
    size_t len;
    uint8_t *bytes = make_tx(&len, sk, txid, chain);
    assert_int_equal(hm_key_generate(sk2, pk2), HM_OK);
    uint8_t *co = NULL;
    size_t colen = 0;
    assert_int_equal(hm_tx_cosign(&co, &colen, bytes, len, sk2), HM_OK);
    hm_tx_t *t = NULL;
    assert_int_equal(hm_tx_decode_verify(&t, co, colen, chain), HM_OK);
    assert_int_equal(t->stx->n_cosignatures, 1);
    assert_memory_equal(t->stx->cosignatures[0]->pubkey.data, pk2, 32);
    assert_memory_equal(t->txid, txid, 32); /* cosigning does not change the txid */
    hm_tx_free(t);

    /* the same co-signer twice, or the signer as co-signer, is rejected */
    uint8_t *co2 = NULL;
    size_t co2len = 0;
    assert_int_equal(hm_tx_cosign(&co2, &co2len, co, colen, sk2), HM_OK);
    assert_int_equal(hm_tx_decode_verify(&t, co2, co2len, chain), HM_ERR_BAD_SIGNATURE);
    free(co2);
    assert_int_equal(hm_tx_cosign(&co2, &co2len, bytes, len, sk), HM_OK);
    assert_int_equal(hm_tx_decode_verify(&t, co2, co2len, chain), HM_ERR_BAD_SIGNATURE);
    free(co2);
    free(co);
    free(bytes);
}

static void test_sign_refuses_wrong_signer(void **state)
{
    (void)state;
    uint8_t sk[32], pk[32], other[32] = {1};
    assert_int_equal(hm_key_generate(sk, pk), HM_OK);
    Hallmark__Tx tx = HALLMARK__TX__INIT;
    Hallmark__Suspend s = HALLMARK__SUSPEND__INIT;
    tx.chain_id.data = chain;
    tx.chain_id.len = 32;
    tx.signer.data = other;
    tx.signer.len = 32;
    tx.body_case = HALLMARK__TX__BODY_SUSPEND;
    tx.suspend = &s;
    uint8_t *out = NULL;
    size_t len;
    assert_int_equal(hm_tx_sign(&out, &len, NULL, &tx, sk), HM_ERR_INVALID);
    assert_null(out);
}

static void test_shape_checks(void **state)
{
    (void)state;
    /* A SignedTx whose body has no oneof set is malformed even if signed. */
    uint8_t sk[32], pk[32];
    assert_int_equal(hm_key_generate(sk, pk), HM_OK);
    Hallmark__Tx tx = HALLMARK__TX__INIT;
    tx.chain_id.data = chain;
    tx.chain_id.len = 32;
    tx.signer.data = pk;
    tx.signer.len = 32;
    uint8_t *out = NULL;
    size_t len;
    assert_int_equal(hm_tx_sign(&out, &len, NULL, &tx, sk), HM_OK);
    hm_tx_t *t = NULL;
    assert_int_equal(hm_tx_decode(&t, out, len), HM_ERR_INVALID);
    free(out);
    /* A short signature */
    Hallmark__SignedTx stx = HALLMARK__SIGNED_TX__INIT;
    uint8_t sig[10] = {0};
    stx.signature.data = sig;
    stx.signature.len = sizeof sig;
    assert_int_equal(hm_codec_encode(&out, &len, &stx.base), HM_OK);
    assert_int_equal(hm_tx_decode(&t, out, len), HM_ERR_INVALID);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_decode_verify),   cmocka_unit_test(test_wrong_chain),
        cmocka_unit_test(test_any_byte_flip_is_rejected), cmocka_unit_test(test_cosign),
        cmocka_unit_test(test_sign_refuses_wrong_signer), cmocka_unit_test(test_shape_checks),
    };
    return cmocka_run_group_tests_name("tx", tests, setup, NULL);
}
