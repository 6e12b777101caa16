/* Unit tests: lib/codec — caps, malformed input, unknown fields, round trips. */
#include "tests/unit/testutil.h"

#include "lib/codec.h"

static void test_roundtrip_header(void **state)
{
    (void)state;
    uint8_t h32[32];
    memset(h32, 0xab, sizeof h32);
    Hallmark__Header h = HALLMARK__HEADER__INIT;
    h.chain_id.data = h32;
    h.chain_id.len = 32;
    h.height = 42;
    h.view = 3;
    h.time_ms = 1700000000000ull;
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(hm_codec_encode(&bytes, &len, &h.base), HM_OK);
    assert_int_equal(len, hm_codec_encoded_size(&h.base));
    Hallmark__Header *back = NULL;
    assert_int_equal(hm_decode_header(&back, bytes, len), HM_OK);
    assert_int_equal(back->height, 42);
    assert_int_equal(back->view, 3);
    assert_true(back->time_ms == 1700000000000ull);
    assert_int_equal(back->chain_id.len, 32);
    assert_memory_equal(back->chain_id.data, h32, 32);
    hm_free_header(back);

    hm_buf_t b = {0};
    assert_int_equal(hm_buf_append(&b, "xy", 2), HM_OK);
    assert_int_equal(hm_codec_encode_append(&b, &h.base), HM_OK);
    assert_int_equal(b.len, 2 + len);
    assert_memory_equal(b.data + 2, bytes, len);
    hm_buf_free(&b);
    free(bytes);
}

static void test_cap_before_parse(void **state)
{
    (void)state;
    size_t n = HM_MAX_TX_BYTES + 1;
    uint8_t *big = calloc(1, n);
    assert_non_null(big);
    Hallmark__SignedTx *stx = NULL;
    assert_int_equal(hm_decode_signed_tx(&stx, big, n), HM_ERR_TOO_LARGE);
    assert_null(stx);
    Hallmark__Header *h = NULL;
    assert_int_equal(hm_decode_header(&h, big, HM_MAX_HEADER_BYTES + 1), HM_ERR_TOO_LARGE);
    free(big);
}

static void test_malformed(void **state)
{
    (void)state;
    Hallmark__SignedTx *stx = NULL;
    /* field 1 (bytes) claims 100 bytes, 2 present */
    const uint8_t truncated[] = {0x0a, 100, 1, 2};
    assert_int_equal(hm_decode_signed_tx(&stx, truncated, sizeof truncated), HM_ERR_INVALID);
    /* varint never terminates */
    const uint8_t endless[] = {0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    Hallmark__Header *h = NULL;
    assert_int_equal(hm_decode_header(&h, endless, sizeof endless), HM_ERR_INVALID);
    /* wire type 7 does not exist */
    const uint8_t badwire[] = {0x0f, 0x00};
    assert_int_equal(hm_decode_header(&h, badwire, sizeof badwire), HM_ERR_INVALID);
    assert_int_equal(hm_decode_header(&h, NULL, 3), HM_ERR_INVALID);
    /* length-delimited field with a length over 2^32 */
    const uint8_t hugelen[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f};
    assert_int_equal(hm_decode_signed_tx(&stx, hugelen, sizeof hugelen), HM_ERR_INVALID);
}

static void test_unknown_fields_rejected(void **state)
{
    (void)state;
    Hallmark__Header *h = NULL;
    /* height=1, then unknown field 99 varint 5 */
    const uint8_t top[] = {0x10, 0x01, 0x98, 0x06, 0x05};
    assert_int_equal(hm_decode_header(&h, top, sizeof top), HM_ERR_INVALID);
    const uint8_t ok[] = {0x10, 0x01};
    assert_int_equal(hm_decode_header(&h, ok, sizeof ok), HM_OK);
    assert_int_equal(h->height, 1);
    hm_free_header(h);

    /* unknown field nested two levels down: Envelope.vote(3){ unknown 50 } */
    Hallmark__Envelope *e = NULL;
    const uint8_t nested[] = {0x1a, 0x03, 0x90, 0x03, 0x01};
    assert_int_equal(hm_decode_envelope(&e, nested, sizeof nested), HM_ERR_INVALID);
    const uint8_t nested_ok[] = {0x1a, 0x02, 0x10, 0x07};
    assert_int_equal(hm_decode_envelope(&e, nested_ok, sizeof nested_ok), HM_OK);
    assert_int_equal(e->msg_case, HALLMARK__ENVELOPE__MSG_VOTE);
    assert_int_equal(e->vote->view, 7);
    hm_free_envelope(e);
}

static void test_empty_input(void **state)
{
    (void)state;
    Hallmark__Header *h = NULL;
    assert_int_equal(hm_decode_header(&h, NULL, 0), HM_OK); /* all defaults */
    assert_int_equal(h->height, 0);
    hm_free_header(h);
    hm_codec_free(NULL);
    Hallmark__Header empty = HALLMARK__HEADER__INIT;
    uint8_t *bytes = (uint8_t *)1;
    size_t len = 9;
    assert_int_equal(hm_codec_encode(&bytes, &len, &empty.base), HM_OK);
    assert_null(bytes);
    assert_int_equal(len, 0);
}

static void test_decoded_owns_bytes(void **state)
{
    (void)state;
    Hallmark__Cosignature c = HALLMARK__COSIGNATURE__INIT;
    uint8_t pk[32];
    memset(pk, 7, 32);
    c.pubkey.data = pk;
    c.pubkey.len = 32;
    uint8_t *bytes;
    size_t len;
    assert_int_equal(hm_codec_encode(&bytes, &len, &c.base), HM_OK);
    Hallmark__Cosignature *back = NULL;
    assert_int_equal(hm_codec_decode((void **)&back, &hallmark__cosignature__descriptor,
                                     HM_MAX_TX_BYTES, bytes, len),
                     HM_OK);
    memset(bytes, 0, len); /* the input may go away after decoding */
    free(bytes);
    assert_memory_equal(back->pubkey.data, pk, 32);
    hm_codec_free(back);
}

static void test_append_field_builds_message(void **state)
{
    (void)state;
    /* BlockResponse{blocks: [a, b]} built piecewise equals the whole */
    uint8_t x[3] = {1, 2, 3};
    Hallmark__CertifiedBlock a = HALLMARK__CERTIFIED_BLOCK__INIT, b = HALLMARK__CERTIFIED_BLOCK__INIT;
    a.block.data = x;
    a.block.len = 3;
    b.block.data = x;
    b.block.len = 1;
    hm_buf_t piece = {0};
    assert_int_equal(hm_codec_append_field(&piece, 1, &a.base), HM_OK);
    assert_int_equal(hm_codec_append_field(&piece, 1, &b.base), HM_OK);
    Hallmark__CertifiedBlock *arr[2] = {&a, &b};
    Hallmark__BlockResponse whole = HALLMARK__BLOCK_RESPONSE__INIT;
    whole.blocks = arr;
    whole.n_blocks = 2;
    uint8_t *w = NULL;
    size_t wlen = 0;
    assert_int_equal(hm_codec_encode(&w, &wlen, &whole.base), HM_OK);
    assert_int_equal(piece.len, wlen);
    assert_memory_equal(piece.data, w, wlen);
    assert_int_equal(hm_codec_append_field(&piece, 0, &a.base), HM_ERR_INVALID);
    free(w);
    hm_buf_free(&piece);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_header),    cmocka_unit_test(test_cap_before_parse),
        cmocka_unit_test(test_malformed),           cmocka_unit_test(test_unknown_fields_rejected),
        cmocka_unit_test(test_empty_input),         cmocka_unit_test(test_decoded_owns_bytes),
        cmocka_unit_test(test_append_field_builds_message),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
