/* Unit tests: lib/buf. */
#include "tests/unit/testutil.h"

#include "lib/buf.h"

static void test_append_and_grow(void **state)
{
    (void)state;
    hm_buf_t b;
    hm_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(hm_buf_append_u8(&b, (uint8_t)i), HM_OK);
    assert_int_equal(b.len, 1000);
    assert_true(b.cap >= 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(b.data[i], (uint8_t)i);
    hm_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(hm_buf_append_str(&b, "abc"), HM_OK);
    assert_memory_equal(b.data, "abc", 3);
    hm_buf_free(&b);
    assert_null(b.data);
    hm_buf_free(&b); /* twice is fine */
}

static void test_integers_roundtrip(void **state)
{
    (void)state;
    hm_buf_t b;
    hm_buf_init(&b);
    assert_int_equal(hm_buf_append_u32be(&b, 0x01020304u), HM_OK);
    assert_int_equal(hm_buf_append_u64be(&b, 0x1122334455667788ull), HM_OK);
    static const uint8_t want[] = {1, 2, 3, 4, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    assert_memory_equal(b.data, want, sizeof want);

    hm_reader_t r;
    hm_reader_init(&r, b.data, b.len);
    uint32_t a;
    uint64_t c;
    assert_int_equal(hm_read_u32be(&r, &a), HM_OK);
    assert_int_equal(hm_read_u64be(&r, &c), HM_OK);
    assert_int_equal(a, 0x01020304u);
    assert_true(c == 0x1122334455667788ull);
    assert_int_equal(hm_reader_remaining(&r), 0);
    uint8_t x;
    assert_int_equal(hm_read_u8(&r, &x), HM_ERR_INVALID);
    hm_buf_free(&b);
}

static void test_reader_bounds(void **state)
{
    (void)state;
    const uint8_t data[3] = {9, 8, 7};
    hm_reader_t r;
    hm_reader_init(&r, data, sizeof data);
    uint32_t v;
    assert_int_equal(hm_read_u32be(&r, &v), HM_ERR_INVALID);
    assert_int_equal(r.pos, 0); /* a failed read does not move */
    const uint8_t *view;
    assert_int_equal(hm_read_view(&r, &view, 2), HM_OK);
    assert_ptr_equal(view, data);
    assert_int_equal(hm_read_view(&r, &view, 2), HM_ERR_INVALID);
    assert_int_equal(hm_read_view(&r, &view, SIZE_MAX), HM_ERR_INVALID);
}

static void test_detach(void **state)
{
    (void)state;
    hm_buf_t b = {0};
    size_t n = 99;
    assert_null(hm_buf_detach(&b, &n));
    assert_int_equal(n, 0);
    assert_int_equal(hm_buf_append(&b, "xyz", 3), HM_OK);
    uint8_t *p = hm_buf_detach(&b, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "xyz", 3);
    assert_null(b.data);
    free(p);
}

static void test_checked_math(void **state)
{
    (void)state;
    uint64_t r = 5;
    assert_true(hm_add_u64(&r, 1, 2));
    assert_int_equal(r, 3);
    assert_false(hm_add_u64(&r, UINT64_MAX, 1));
    assert_int_equal(r, 3);
    assert_false(hm_mul_u64(&r, UINT64_MAX / 2, 3));
    assert_true(hm_ct_equal("abc", "abc", 3));
    assert_false(hm_ct_equal("abc", "abd", 3));
}

static void test_reserve_overflow(void **state)
{
    (void)state;
    hm_buf_t b = {0};
    assert_int_equal(hm_buf_append(&b, "a", 1), HM_OK);
    assert_int_equal(hm_buf_reserve(&b, SIZE_MAX), HM_ERR_OVERFLOW);
    hm_buf_free_secure(&b);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_grow), cmocka_unit_test(test_integers_roundtrip),
        cmocka_unit_test(test_reader_bounds),   cmocka_unit_test(test_detach),
        cmocka_unit_test(test_checked_math),    cmocka_unit_test(test_reserve_overflow),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
