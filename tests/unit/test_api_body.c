/* Unit tests: the bodies of POST /v1/txs (node/api) — api_tx_body_scan,
 * the in-place scanner of plain batch bodies, against api_tx_body_decode
 * over jansson's parse (what every other body goes through). */
#include "tests/unit/testutil.h"

#include <jansson.h>

#include "lib/tx.h"
#include "node/api.h"

/* The decoder's answer for body, parsed as node/rpc parses it. */
static int slow_decode(api_tx_body_t *out, const char *body)
{
    json_error_t je;
    json_t *j = json_loadb(body, strlen(body), JSON_REJECT_DUPLICATES, &je);
    assert_non_null(j);
    int st = api_tx_body_decode(out, j, true);
    json_decref(j);
    return st;
}

/* Scan body; it must be taken, and agree with the decoder entry by entry. */
static int scan_agrees(api_tx_body_t *fast, const char *body)
{
    int st = api_tx_body_scan(fast, (const uint8_t *)body, strlen(body));
    assert_true(st >= 0);
    api_tx_body_t slow;
    assert_int_equal(slow_decode(&slow, body), st);
    assert_int_equal(fast->n, slow.n);
    if (st != 0) {
        assert_string_equal(fast->code, slow.code);
        assert_string_equal(fast->msg, slow.msg);
        return st;
    }
    for (size_t i = 0; i < fast->n; i++) {
        assert_int_equal(fast->bad[i], slow.bad[i]);
        assert_int_equal(fast->txs[i].len, slow.txs[i].len);
        if (fast->txs[i].len)
            assert_memory_equal(fast->txs[i].data, slow.txs[i].data, fast->txs[i].len);
    }
    api_tx_body_free(&slow);
    return st;
}

static void test_plain_bodies(void **state)
{
    (void)state;
    api_tx_body_t b;
    /* odd spacing everywhere JSON allows it; upper and lower case hex; an
     * odd-length and a non-hex string are bad entries, not a bad body */
    static const char spaced[] =
        " \r\n{\t\"txs\" : [ \"00ff\" ,\"0A0b\",\"abc\", \"zz\" ,\"\"\n] }\n";
    assert_int_equal(scan_agrees(&b, spaced), 0);
    assert_int_equal(b.n, 5);
    assert_false(b.bad[0]);
    assert_int_equal(b.txs[0].len, 2);
    assert_int_equal(b.txs[0].data[1], 0xff);
    assert_false(b.bad[1]);
    assert_int_equal(b.txs[1].data[0], 0x0a);
    assert_true(b.bad[2]);
    assert_true(b.bad[3]);
    assert_null(b.txs[3].data);
    api_tx_body_free(&b);

    assert_int_equal(scan_agrees(&b, "{\"txs\":[]}"), 0);
    assert_int_equal(b.n, 0);
    api_tx_body_free(&b);

    /* longer than any tx: kept, as a too-large tx for the mempool to name */
    size_t big = 2 * HM_MAX_TX_BYTES + 4;
    char *s = malloc(big + 32);
    assert_non_null(s);
    memcpy(s, "{\"txs\":[\"", 9);
    memset(s + 9, 'a', big);
    memcpy(s + 9 + big, "\"]}", 4);
    assert_int_equal(scan_agrees(&b, s), 0);
    assert_int_equal(b.n, 1);
    assert_false(b.bad[0]);
    assert_int_equal(b.txs[0].len, HM_MAX_TX_BYTES + 1);
    api_tx_body_free(&b);
    free(s);
}

static void test_batch_limit(void **state)
{
    (void)state;
    for (int extra = 0; extra < 2; extra++) {
        size_t n = API_MAX_BATCH_TXS + (size_t)extra;
        char *s = malloc(16 + n * 5);
        assert_non_null(s);
        size_t l = 0;
        l += (size_t)sprintf(s + l, "{\"txs\":[");
        for (size_t i = 0; i < n; i++)
            l += (size_t)sprintf(s + l, "%s\"00\"", i ? "," : "");
        sprintf(s + l, "]}");
        api_tx_body_t b;
        int st = scan_agrees(&b, s);
        if (extra) {
            assert_int_equal(st, 413);
            assert_string_equal(b.code, "too_many_txs");
            assert_null(b.txs);
        } else {
            assert_int_equal(st, 0);
            assert_int_equal(b.n, API_MAX_BATCH_TXS);
            api_tx_body_free(&b);
        }
        free(s);
    }
}

/* Anything but the plain form is left to jansson (-1, nothing allocated):
 * valid JSON the scanner does not read, and invalid JSON alike. */
static void test_other_bodies_left_to_jansson(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "",
        "   ",
        "{\"txs\":[\"\\u0030\\u0030\"]}", /* an escape */
        "{\"txs\":[\"\xc3\xa9\"]}",       /* non-ASCII */
        "{\"txs\":[\"a\tb\"]}",           /* a control character */
        "{\"txs\":[1]}",                  /* not a string */
        "{\"txs\":[null, \"00\"]}",
        "{\"txs\":[[\"00\"]]}",
        "{\"txs\":{}}",
        "{\"a\":1,\"txs\":[]}", /* another key */
        "{\"txs\":[],\"a\":1}",
        "{\"txs\":[],\"txs\":[]}",
        "{\"txs\":[\"00\",]}", /* trailing comma */
        "{\"txs\":[\"00\"]",   /* unterminated */
        "{\"txs\":[\"00]}",
        "{\"txs\":[\"00\"]}x", /* trailing bytes */
        "{\"txs\":[\"00\"]}}",
        "[\"00\"]",
        "{\"tx\":\"00\"}",
        "\xef\xbb\xbf{\"txs\":[]}", /* a byte-order mark */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        api_tx_body_t b;
        memset(&b, 0x55, sizeof b);
        assert_int_equal(api_tx_body_scan(&b, (const uint8_t *)bodies[i], strlen(bodies[i])), -1);
        assert_int_equal(b.n, 0);
        assert_null(b.txs);
        assert_null(b.bad);
    }
    /* a NUL inside the body, and no body at all */
    static const char nul[] = "{\"txs\":[\"00\"]}\0";
    api_tx_body_t b;
    assert_int_equal(api_tx_body_scan(&b, (const uint8_t *)nul, sizeof nul - 1), -1);
    assert_int_equal(api_tx_body_scan(&b, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_bodies),
        cmocka_unit_test(test_batch_limit),
        cmocka_unit_test(test_other_bodies_left_to_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
