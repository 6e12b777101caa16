/* Unit tests: lib/hex. */
#include "tests/unit/testutil.h"

#include "lib/hex.h"

static void test_encode(void **state)
{
    (void)state;
    char out[9];
    const uint8_t in[4] = {0x00, 0xab, 0x7f, 0xff};
    hm_hex_encode(out, in, 4);
    assert_string_equal(out, "00ab7fff");
    char *d = hm_hex_dup(in, 4);
    assert_string_equal(d, "00ab7fff");
    free(d);
    hm_hex_encode(out, in, 0);
    assert_string_equal(out, "");
}

static void test_decode_exact(void **state)
{
    (void)state;
    uint8_t out[4];
    assert_int_equal(hm_hex_decode(out, 4, "00AB7fFf"), HM_OK);
    const uint8_t want[4] = {0x00, 0xab, 0x7f, 0xff};
    assert_memory_equal(out, want, 4);
    assert_int_equal(hm_hex_decode(out, 4, "00ab7f"), HM_ERR_INVALID);     /* short */
    assert_int_equal(hm_hex_decode(out, 4, "00ab7fff00"), HM_ERR_INVALID); /* long */
    assert_int_equal(hm_hex_decode(out, 4, "00ab7fgf"), HM_ERR_INVALID);   /* bad digit */
    assert_int_equal(hm_hex_decode(out, 4, " 0ab7fff"), HM_ERR_INVALID);
    assert_int_equal(hm_hex_decode(out, 4, NULL), HM_ERR_INVALID);
}

static void test_decode_alloc(void **state)
{
    (void)state;
    uint8_t *p = NULL;
    size_t n = 0;
    assert_int_equal(hm_hex_decode_alloc(&p, &n, "0102", 4, 10), HM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(p[1], 2);
    free(p);
    assert_int_equal(hm_hex_decode_alloc(&p, &n, "010", 3, 10), HM_ERR_INVALID);
    assert_int_equal(hm_hex_decode_alloc(&p, &n, "010203", 6, 2), HM_ERR_TOO_LARGE);
    assert_int_equal(hm_hex_decode_alloc(&p, &n, "01zz", 4, 10), HM_ERR_INVALID);
    assert_int_equal(hm_hex_decode_alloc(&p, &n, "", 0, 10), HM_OK);
    assert_int_equal(n, 0);
    free(p);
}

static void test_roundtrip_random(void **state)
{
    (void)state;
    uint64_t seed = 7;
    for (size_t len = 0; len < 100; len++) {
        uint8_t in[100], back[100];
        char hex[201];
        tu_fill(in, len, &seed);
        hm_hex_encode(hex, in, len);
        assert_int_equal(strlen(hex), 2 * len);
        assert_int_equal(hm_hex_decode(back, len, hex), HM_OK);
        assert_memory_equal(in, back, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode_exact),
        cmocka_unit_test(test_decode_alloc),
        cmocka_unit_test(test_roundtrip_random),
    };
    return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
