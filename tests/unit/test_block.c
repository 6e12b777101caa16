/* Unit tests: lib/block — decode, hash over exact header bytes, tx_root. */
#include "tests/unit/testutil.h"

#include "lib/block.h"
#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/tx.h"

static uint8_t chain[32];

static uint8_t *signed_scrap(size_t *len, const char *serial)
{
    uint8_t sk[32], pk[32];
    assert_int_equal(hm_key_generate(sk, pk), HM_OK);
    Hallmark__Tx tx = HALLMARK__TX__INIT;
    Hallmark__Scrap scrap = HALLMARK__SCRAP__INIT;
    char *serials[] = {(char *)serial};
    scrap.serials = serials;
    scrap.n_serials = 1;
    tx.chain_id.data = chain;
    tx.chain_id.len = 32;
    tx.signer.data = pk;
    tx.signer.len = 32;
    tx.body_case = HALLMARK__TX__BODY_SCRAP;
    tx.scrap = &scrap;
    uint8_t *out = NULL;
    assert_int_equal(hm_tx_sign(&out, len, NULL, &tx, sk), HM_OK);
    return out;
}

static void fill_header(Hallmark__Header *h, uint8_t fields[7][32])
{
    for (int i = 0; i < 7; i++)
        memset(fields[i], i + 1, 32);
    memcpy(fields[0], chain, 32);
    ProtobufCBinaryData *b[7] = {&h->chain_id,   &h->prev_hash,          &h->tx_root,
                                 &h->results_root, &h->state_root, &h->validator_set_hash,
                                 &h->proposer};
    for (int i = 0; i < 7; i++) {
        b[i]->data = fields[i];
        b[i]->len = 32;
    }
    h->height = 9;
    h->view = 1;
    h->time_ms = 123;
}

static void test_build_decode_root(void **state)
{
    (void)state;
    hm_tagged_hash(chain, HM_TAG_GENESIS, "c", 1);
    ProtobufCBinaryData txs[3];
    hm_hash32_t ids[3];
    for (int i = 0; i < 3; i++) {
        char serial[16];
        snprintf(serial, sizeof serial, "S%d", i);
        txs[i].data = signed_scrap(&txs[i].len, serial);
        hm_tx_t *t = NULL;
        assert_int_equal(hm_tx_decode(&t, txs[i].data, txs[i].len), HM_OK);
        memcpy(ids[i], t->txid, 32);
        hm_tx_free(t);
    }
    Hallmark__Header h = HALLMARK__HEADER__INIT;
    uint8_t fields[7][32];
    fill_header(&h, fields);
    hm_merkle_root(fields[2], (const hm_hash32_t *)ids, 3);

    uint8_t *bytes = NULL, hash[32];
    size_t len;
    assert_int_equal(hm_block_build(&bytes, &len, hash, &h, txs, 3), HM_OK);
    hm_block_t *b = NULL;
    assert_int_equal(hm_block_decode(&b, bytes, len), HM_OK);
    assert_memory_equal(b->hash, hash, 32);
    uint8_t want[32];
    hm_tagged_hash(want, HM_TAG_HEADER, b->block->header.data, b->block->header.len);
    assert_memory_equal(b->hash, want, 32);
    assert_int_equal(b->header->height, 9);
    assert_int_equal(hm_block_check_tx_root(b), HM_OK);

    hm_hash32_t *got = NULL;
    assert_int_equal(hm_block_txids(&got, b->block), HM_OK);
    assert_memory_equal(got, ids, sizeof ids);
    free(got);
    hm_block_free(b);
    free(bytes);

    /* a block whose tx_root does not match its txs */
    fields[2][0] ^= 1;
    assert_int_equal(hm_block_build(&bytes, &len, hash, &h, txs, 3), HM_OK);
    assert_int_equal(hm_block_decode(&b, bytes, len), HM_OK);
    assert_int_equal(hm_block_check_tx_root(b), HM_ERR_PROOF);
    hm_block_free(b);
    free(bytes);

    /* reordered txs change the root */
    ProtobufCBinaryData swapped[3] = {txs[1], txs[0], txs[2]};
    fields[2][0] ^= 1;
    assert_int_equal(hm_block_build(&bytes, &len, hash, &h, swapped, 3), HM_OK);
    assert_int_equal(hm_block_decode(&b, bytes, len), HM_OK);
    assert_int_equal(hm_block_check_tx_root(b), HM_ERR_PROOF);
    hm_block_free(b);
    free(bytes);
    for (int i = 0; i < 3; i++)
        free(txs[i].data);
}

static void test_header_shape(void **state)
{
    (void)state;
    Hallmark__Header h = HALLMARK__HEADER__INIT;
    uint8_t fields[7][32];
    fill_header(&h, fields);
    h.proposer.len = 31;
    uint8_t *bytes;
    size_t len;
    assert_int_equal(hm_codec_encode(&bytes, &len, &h.base), HM_OK);
    Hallmark__Header *out = NULL;
    assert_int_equal(hm_header_decode(&out, bytes, len), HM_ERR_INVALID);
    free(bytes);
    h.proposer.len = 32;
    assert_int_equal(hm_codec_encode(&bytes, &len, &h.base), HM_OK);
    assert_int_equal(hm_header_decode(&out, bytes, len), HM_OK);
    hm_free_header(out);
    free(bytes);
}

static void test_block_with_garbage_tx(void **state)
{
    (void)state;
    Hallmark__Header h = HALLMARK__HEADER__INIT;
    uint8_t fields[7][32];
    fill_header(&h, fields);
    uint8_t junk[] = {0xff, 0xff, 0xff};
    ProtobufCBinaryData txs[1] = {{sizeof junk, junk}};
    uint8_t *bytes;
    size_t len;
    assert_int_equal(hm_block_build(&bytes, &len, NULL, &h, txs, 1), HM_OK);
    hm_block_t *b = NULL;
    assert_int_equal(hm_block_decode(&b, bytes, len), HM_OK); /* shape is fine */
    assert_int_equal(hm_block_check_tx_root(b), HM_ERR_INVALID);
    hm_block_free(b);
    free(bytes);
}

static void test_results_root(void **state)
{
    (void)state;
    Hallmark__TxResult r[2] = {HALLMARK__TX_RESULT__INIT, HALLMARK__TX_RESULT__INIT};
    uint8_t id0[32] = {1}, id1[32] = {2};
    r[0].txid.data = id0;
    r[0].txid.len = 32;
    r[1].txid.data = id1;
    r[1].txid.len = 32;
    r[1].code = 7;
    const Hallmark__TxResult *rp[2] = {&r[0], &r[1]};
    uint8_t a[32], b[32];
    assert_int_equal(hm_results_root(a, rp, 2), HM_OK);
    r[1].code = 8;
    assert_int_equal(hm_results_root(b, rp, 2), HM_OK);
    assert_memory_not_equal(a, b, 32);
    uint8_t l0[32], l1[32], want[32];
    hm_result_leaf(l0, id0, 0);
    hm_result_leaf(l1, id1, 8);
    hm_hash32_t leaves[2];
    memcpy(leaves[0], l0, 32);
    memcpy(leaves[1], l1, 32);
    hm_merkle_root(want, (const hm_hash32_t *)leaves, 2);
    assert_memory_equal(b, want, 32);
    r[0].txid.len = 3;
    assert_int_equal(hm_results_root(a, rp, 2), HM_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_decode_root),
        cmocka_unit_test(test_header_shape),
        cmocka_unit_test(test_block_with_garbage_tx),
        cmocka_unit_test(test_results_root),
    };
    return cmocka_run_group_tests_name("block", tests, NULL, NULL);
}
