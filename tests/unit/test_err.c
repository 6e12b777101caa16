/* Unit tests: lib/err. */
#include "tests/unit/testutil.h"

#include "lib/err.h"

static void test_ok_is_zero(void **state)
{
    (void)state;
    assert_int_equal(HM_OK, 0);
    assert_string_equal(hm_strerror(HM_OK), "success");
    assert_string_equal(hm_errname(HM_OK), "HM_OK");
}

static void test_every_code_has_distinct_text(void **state)
{
    (void)state;
    for (int a = HM_ERR_UNSUPPORTED; a <= HM_OK; a++) {
        assert_string_not_equal(hm_strerror(a), "unknown error");
        assert_string_not_equal(hm_errname(a), "HM_ERR_UNKNOWN");
        for (int b = a + 1; b <= HM_OK; b++)
            assert_string_not_equal(hm_strerror(a), hm_strerror(b));
    }
}

static void test_unknown_code(void **state)
{
    (void)state;
    assert_string_equal(hm_strerror(-9999), "unknown error");
    assert_string_equal(hm_strerror(42), "unknown error");
    assert_string_equal(hm_errname(-9999), "HM_ERR_UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_is_zero),
        cmocka_unit_test(test_every_code_has_distinct_text),
        cmocka_unit_test(test_unknown_code),
    };
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
