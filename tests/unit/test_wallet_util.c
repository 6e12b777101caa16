/* Unit tests: wallet/util (ids, parsers, serial lists, signed-tx files) and
 * wallet/cli (the option parser behind every subcommand and its --help). */
#include "tests/unit/testutil.h"

#include <unistd.h>

#include "lib/hash.h"
#include "lib/hex.h"
#include "lib/keys.h"
#include "wallet/cli.h"
#include "wallet/util.h"

static void test_gid_derivation(void **state)
{
    (void)state;
    uint8_t pub[32], gid[20], want[32], msg[40];
    uint64_t s = 7;
    tu_fill(pub, sizeof pub, &s);
    /* GID = first 20 bytes of H_hallmark/gid(signer[32] || nonce[8 BE]) */
    memcpy(msg, pub, 32);
    const uint8_t nonce_be[8] = {0, 0, 0, 0, 0, 0, 0x01, 0x02};
    memcpy(msg + 32, nonce_be, 8);
    hm_tagged_hash(want, "hallmark/gid", msg, sizeof msg);
    wallet_gid_derive(gid, pub, 0x0102);
    assert_memory_equal(gid, want, 20);
    /* big-endian: nonce 1 and 1 << 56 give different GIDs */
    uint8_t g1[20], g2[20];
    wallet_gid_derive(g1, pub, 1);
    wallet_gid_derive(g2, pub, 1ull << 56);
    assert_memory_not_equal(g1, g2, 20);
    char did[WALLET_DID_STRLEN];
    wallet_gid_format(did, gid);
    assert_int_equal(strlen(did), 13 + 40);
    assert_memory_equal(did, "did:hallmark:", 13);
    uint8_t back[20];
    assert_int_equal(wallet_parse_gid(back, did, "x", NULL), HM_OK);
    assert_memory_equal(back, gid, 20);
    /* licence and cert ids are tagged hashes of the txid */
    uint8_t txid[32], id[32];
    tu_fill(txid, sizeof txid, &s);
    wallet_licence_id(id, txid);
    hm_tagged_hash(want, "hallmark/licence", txid, 32);
    assert_memory_equal(id, want, 32);
    wallet_cert_id(id, txid);
    hm_tagged_hash(want, "hallmark/cert", txid, 32);
    assert_memory_equal(id, want, 32);
}

static void test_parse_ids(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    uint8_t g[20], h[32];
    const char *hex40 = "00112233445566778899AABBCCDDEEFF00112233";
    assert_int_equal(wallet_parse_gid(g, hex40, "--gid", &d), HM_OK);
    assert_int_equal(g[10], 0xaa);
    assert_int_equal(wallet_parse_gid(g, "did:hallmark:0011", "--gid", &d), HM_ERR_INVALID);
    assert_non_null(strstr(d.msg, "--gid"));
    assert_int_equal(wallet_parse_gid(g, "did:web:00112233445566778899aabbccddeeff00112233",
                                      "--gid", &d),
                     HM_ERR_INVALID);
    assert_int_equal(wallet_parse_gid(g, "00112233445566778899aabbccddeeff0011223g", "x", &d),
                     HM_ERR_INVALID);
    assert_int_equal(wallet_parse_gid(g, "", "x", &d), HM_ERR_INVALID);
    char hex64[65];
    memset(hex64, 'a', 64);
    hex64[64] = 0;
    assert_int_equal(wallet_parse_hash(h, hex64, "x", &d), HM_OK);
    hex64[63] = 0;
    assert_int_equal(wallet_parse_hash(h, hex64, "x", &d), HM_ERR_INVALID);
    /* a pubkey must be on the curve: x = 0 is not, a generated one is */
    uint8_t sk[32], pk[32], out[32];
    char pkhex[65];
    assert_int_equal(hm_key_generate(sk, pk), HM_OK);
    hm_hex_encode(pkhex, pk, 32);
    assert_int_equal(wallet_parse_pubkey(out, pkhex, "k", &d), HM_OK);
    assert_memory_equal(out, pk, 32);
    memset(pkhex, '0', 64);
    assert_int_equal(wallet_parse_pubkey(out, pkhex, "k", &d), HM_ERR_INVALID);
    assert_non_null(strstr(d.msg, "not a valid"));
    /* an error message never echoes control characters */
    assert_int_equal(wallet_parse_hash(h, "\x1b[31mred", "x", &d), HM_ERR_INVALID);
    assert_null(strchr(d.msg, '\x1b'));
}

static void test_parse_numbers_and_times(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    uint64_t v;
    uint32_t w;
    assert_int_equal(wallet_parse_u64(&v, "18446744073709551615", "n", &d), HM_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(wallet_parse_u64(&v, "18446744073709551616", "n", &d), HM_ERR_INVALID);
    const char *bad[] = {"", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(wallet_parse_u64(&v, bad[i], "n", &d), HM_ERR_INVALID);
    assert_int_equal(wallet_parse_u32(&w, "4294967295", "n", &d), HM_OK);
    assert_int_equal(wallet_parse_u32(&w, "4294967296", "n", &d), HM_ERR_INVALID);

    assert_int_equal(wallet_parse_time_ms(&v, "1970-01-01", "t", &d), HM_OK);
    assert_true(v == 0);
    assert_int_equal(wallet_parse_time_ms(&v, "2026-11-24", "t", &d), HM_OK);
    assert_true(v == 1795478400000ull);
    assert_int_equal(wallet_parse_time_ms(&v, "2024-02-29T12:34:56Z", "t", &d), HM_OK);
    assert_true(v == 1709210096000ull);
    assert_int_equal(wallet_parse_time_ms(&v, "1795478400123", "t", &d), HM_OK);
    assert_true(v == 1795478400123ull);
    const char *badt[] = {"2023-02-29", "2026-13-01", "2026-00-10", "2026-11-31",
                          "2026-11-24T24:00:00Z", "2026-11-24T10:00:00", "1969-12-31",
                          "2026/11/24", "tomorrow", ""};
    for (size_t i = 0; i < sizeof badt / sizeof *badt; i++)
        assert_int_equal(wallet_parse_time_ms(&v, badt[i], "--valid-until", &d), HM_ERR_INVALID);
    assert_non_null(strstr(d.msg, "--valid-until"));
}

static void test_check_text(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    assert_int_equal(wallet_check_text("Zürich 東京", 64, false, "t", &d), HM_OK);
    assert_int_equal(wallet_check_text("", 64, true, "t", &d), HM_OK);
    assert_int_equal(wallet_check_text("", 64, false, "t", &d), HM_ERR_INVALID);
    assert_int_equal(wallet_check_text("abc", 2, false, "t", &d), HM_ERR_INVALID);
    const char *bad[] = {"\xc3\x28", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x01",
                         "tab\there", "\x7f", "\xe2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(wallet_check_text(bad[i], 64, false, "--name", &d), HM_ERR_INVALID);
    assert_non_null(strstr(d.msg, "--name"));
}

static void test_serials_parse(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    wallet_strlist_t l = {0};
    const char text[] = "# batch 7\r\nSN-001\r\n\n  SN-002\t \n#SN-x\nSN-003";
    assert_int_equal(wallet_serials_parse(&l, text, strlen(text), "f", &d), HM_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0], "SN-001");
    assert_string_equal(l.items[1], "SN-002");
    assert_string_equal(l.items[2], "SN-003");
    /* a duplicate names its line */
    const char dup[] = "SN-004\nSN-001\n";
    assert_int_equal(wallet_serials_parse(&l, dup, strlen(dup), "serials.txt", &d),
                     HM_ERR_INVALID);
    assert_non_null(strstr(d.msg, "serials.txt line 2"));
    wallet_strlist_free(&l);
    const char *bad[] = {"SN 1\n", "ok\nSN\x01\n", "\xc3\xa9\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(wallet_serials_parse(&l, bad[i], strlen(bad[i]), "f", &d),
                         HM_ERR_INVALID);
        wallet_strlist_free(&l);
    }
    const char nul[] = "a\0b\n";
    assert_int_equal(wallet_serials_parse(&l, nul, sizeof nul - 1, "f", &d), HM_ERR_INVALID);
    wallet_strlist_free(&l);
    char longs[WALLET_SERIAL_MAX + 3];
    memset(longs, 'A', sizeof longs);
    longs[sizeof longs - 1] = '\n';
    assert_int_equal(wallet_serials_parse(&l, longs, sizeof longs, "f", &d), HM_ERR_INVALID);
    assert_int_equal(wallet_serials_parse(&l, longs, WALLET_SERIAL_MAX, "f", &d), HM_OK);
    assert_int_equal(l.n, 1);
    wallet_strlist_free(&l);
    /* an empty file is an empty list; a missing file is a clear error */
    assert_int_equal(wallet_serials_parse(&l, "", 0, "f", &d), HM_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(wallet_serials_read_file(&l, "/nonexistent/serials", &d), HM_ERR_NOT_FOUND);
    assert_non_null(strstr(d.msg, "no such file"));
    wallet_strlist_free(&l);
}

static void test_stx_hex(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    hm_buf_t b = {0};
    assert_int_equal(wallet_stx_parse_hex(&b, " 0A0b\r\n", 7, "f", &d), HM_OK);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.data[0], 0x0a);
    assert_int_equal(wallet_stx_parse_hex(&b, "0a0", 3, "f", &d), HM_ERR_INVALID);
    assert_int_equal(wallet_stx_parse_hex(&b, "zz", 2, "f", &d), HM_ERR_INVALID);
    assert_int_equal(wallet_stx_parse_hex(&b, "\n", 1, "f", &d), HM_ERR_INVALID);
    assert_non_null(strstr(d.msg, "empty"));
    size_t n = 2 * HM_MAX_TX_BYTES + 2;
    char *big = malloc(n);
    memset(big, 'a', n);
    assert_int_equal(wallet_stx_parse_hex(&b, big, n, "f", &d), HM_ERR_TOO_LARGE);
    free(big);
    /* write + read round trip, file mode 0600, lowercase hex + newline */
    char dir[] = "/tmp/hm-wallet-util-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/tx.hex", dir);
    const uint8_t raw[3] = {0xde, 0xad, 0xbe};
    assert_int_equal(wallet_stx_write_file(path, raw, 3, &d), HM_OK);
    size_t len;
    uint8_t *text = tu_read_file(path, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(text, "deadbe\n", 7);
    free(text);
    assert_int_equal(wallet_stx_read_file(&b, path, &d), HM_OK);
    assert_memory_equal(b.data, raw, 3);
    unlink(path);
    rmdir(dir);
    hm_buf_free(&b);
}

static const wallet_opt_spec_t SPEC_A[] = {
    {"key", 'k', "NAME", WALLET_OPT_REQUIRED, "key"},
    {"serial", 0, "S", WALLET_OPT_REPEAT, "serial"},
    {"json", 0, NULL, 0, "json"},
    WALLET_OPT_END};
static const wallet_opt_spec_t SPEC_B[] = {{"out", 'o', "FILE", 0, "out"}, WALLET_OPT_END};

static int parse(wallet_opts_t *o, wallet_diag_t *d, int argc, const char **argv)
{
    const wallet_opt_spec_t *specs[] = {SPEC_A, SPEC_B, NULL};
    return wallet_opts_parse(o, specs, argc, (char **)argv, d);
}

static void test_cli_parser(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    wallet_opts_t o;
    const char *ok[] = {"pos1", "--key=alice", "--serial", "A", "-o", "f.tx",
                        "--serial=B", "--json", "--", "--not-an-option", "-"};
    assert_int_equal(parse(&o, &d, 11, ok), HM_OK);
    assert_string_equal(wallet_opt(&o, "key"), "alice");
    assert_string_equal(wallet_opt(&o, "out"), "f.tx");
    assert_int_equal(wallet_opt_count(&o, "serial"), 2);
    assert_string_equal(wallet_opt_nth(&o, "serial", 1), "B");
    assert_null(wallet_opt_nth(&o, "serial", 2));
    assert_true(wallet_opt_has(&o, "json"));
    assert_int_equal(o.n_pos, 3);
    assert_string_equal(o.pos[1], "--not-an-option");
    assert_string_equal(o.pos[2], "-");
    wallet_opts_free(&o);

    struct {
        int argc;
        const char *argv[4];
        const char *msg;
    } bad[] = {
        {1, {"--bogus"}, "unknown option --bogus"},
        {2, {"--key", "a"}, NULL}, /* fine: placeholder for count */
        {1, {"--serial"}, "needs a value"},
        {4, {"--key", "a", "--key", "b"}, "more than once"},
        {1, {"--json"}, "--key is required"},
        {3, {"--key", "a", "--json=1"}, "takes no value"},
        {3, {"-k", "a", "-x"}, "unknown option -x"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&d, 0, sizeof d);
        int rc = parse(&o, &d, bad[i].argc, bad[i].argv);
        if (bad[i].msg) {
            assert_int_equal(rc, HM_ERR_INVALID);
            assert_non_null(strstr(d.msg, bad[i].msg));
        } else {
            assert_int_equal(rc, HM_OK);
        }
        wallet_opts_free(&o);
    }
    /* --help skips the required check */
    const char *help[] = {"--help"};
    assert_int_equal(parse(&o, &d, 1, help), HM_OK);
    assert_true(o.help);
    wallet_opts_free(&o);
    /* help text lists every option */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const wallet_opt_spec_t *specs[] = {SPEC_A, SPEC_B, NULL};
    wallet_opts_print_help(f, specs);
    fclose(f);
    assert_non_null(strstr(buf, "--key NAME"));
    assert_non_null(strstr(buf, "(required)"));
    assert_non_null(strstr(buf, "-o, --out FILE"));
    assert_non_null(strstr(buf, "--help"));
    free(buf);
}

static void test_arena_and_diag(void **state)
{
    (void)state;
    wallet_arena_t a = {0};
    for (int i = 0; i < 100; i++) {
        char *s = wallet_arena_strdup(&a, "hello");
        assert_string_equal(s, "hello");
        uint8_t *z = wallet_arena_alloc(&a, 33);
        for (int k = 0; k < 33; k++)
            assert_int_equal(z[k], 0);
    }
    wallet_arena_free(&a);
    wallet_arena_free(&a); /* idempotent */
    wallet_diag_t d = {{0}};
    wallet_diag_set(&d, "inner %d", 1);
    wallet_diag_prefix(&d, "outer");
    assert_string_equal(d.msg, "outer: inner 1");
    wallet_diag_set(NULL, "ignored");
    char longp[2000];
    memset(longp, 'p', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    wallet_diag_prefix(&d, "%s", longp);
    assert_true(strlen(d.msg) < sizeof d.msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gid_derivation),  cmocka_unit_test(test_parse_ids),
        cmocka_unit_test(test_parse_numbers_and_times), cmocka_unit_test(test_check_text),
        cmocka_unit_test(test_serials_parse),   cmocka_unit_test(test_stx_hex),
        cmocka_unit_test(test_cli_parser),      cmocka_unit_test(test_arena_and_diag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
