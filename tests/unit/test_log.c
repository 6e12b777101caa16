/* Unit tests: lib/log. */
#include "tests/unit/testutil.h"

#include <unistd.h>

#include "lib/log.h"

/* Run fn with the log going to a temporary file; return what it wrote. */
static char *capture(void (*fn)(void))
{
    FILE *m = tmpfile();
    assert_non_null(m);
    hm_log_set_stream(m);
    fn();
    hm_log_set_stream(NULL);
    long n = ftell(m);
    assert_true(n >= 0);
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    rewind(m);
    assert_int_equal(fread(text, 1, (size_t)n, m), (size_t)n);
    fclose(m);
    return text;
}

static void emit_levels(void)
{
    hm_log_set_level(HM_LOG_INFO);
    HM_LOG_ERR("p2p", "peer %d dropped", 3);
    HM_LOG_INFO("rpc", "listening");
    HM_LOG_DEBUG("rpc", "hidden at info");
}

static void test_levels_and_format(void **state)
{
    (void)state;
    char *out = capture(emit_levels);
    assert_non_null(strstr(out, "error [p2p] peer 3 dropped\n"));
    assert_non_null(strstr(out, "info  [rpc] listening\n"));
    assert_null(strstr(out, "hidden"));
    /* ISO-8601 UTC timestamp with milliseconds at the start of the line */
    assert_true(strlen(out) > 24);
    assert_int_equal(out[4], '-');
    assert_int_equal(out[10], 'T');
    assert_int_equal(out[19], '.');
    assert_int_equal(out[23], 'Z');
    free(out);
}

static void emit_control_chars(void)
{
    hm_log_set_level(HM_LOG_INFO);
    HM_LOG_WARN("rpc", "bad input: %s", "line1\nline2\r\x1b[31m");
}

static void test_control_chars_folded(void **state)
{
    (void)state;
    char *out = capture(emit_control_chars);
    /* one line only: the embedded newline became '?' */
    assert_int_equal(strchr(out, '\n') - out, (long)strlen(out) - 1);
    assert_non_null(strstr(out, "line1?line2??[31m"));
    free(out);
}

static void test_level_parse(void **state)
{
    (void)state;
    hm_log_level_t l;
    assert_int_equal(hm_log_level_parse("debug", &l), HM_OK);
    assert_int_equal(l, HM_LOG_DEBUG);
    assert_int_equal(hm_log_level_parse("WARN", &l), HM_OK);
    assert_int_equal(l, HM_LOG_WARN);
    assert_int_equal(hm_log_level_parse("warning", &l), HM_OK);
    assert_int_equal(hm_log_level_parse("loud", &l), HM_ERR_INVALID);
    assert_int_equal(hm_log_level_parse(NULL, &l), HM_ERR_INVALID);
    assert_string_equal(hm_log_level_name(HM_LOG_TRACE), "trace");
}

static void test_log_to_file(void **state)
{
    (void)state;
    char path[] = "/tmp/hm-log-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(hm_log_open_file(path), HM_OK);
    hm_log_set_level(HM_LOG_DEBUG);
    HM_LOG_DEBUG("store", "batch of %u writes", 7u);
    hm_log_close();
    size_t n;
    uint8_t *text = tu_read_file(path, &n);
    assert_non_null(strstr((char *)text, "debug [store] batch of 7 writes"));
    free(text);
    unlink(path);
    assert_int_equal(hm_log_open_file("/nonexistent-dir/x.log"), HM_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_format),
        cmocka_unit_test(test_control_chars_folded),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_log_to_file),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
