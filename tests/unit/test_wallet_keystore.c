/* Unit tests: wallet/keystore and wallet/passphrase. New seals use the
 * test-only weak KDF ($HALLMARK_TEST_FAST_KDF=1) to keep the run short. */
#include "tests/unit/testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "lib/hex.h"
#include "lib/keys.h"
#include "wallet/keystore.h"
#include "wallet/passphrase.h"

static const char PASS[] = "correct horse battery staple";

typedef struct {
    char root[64];
    char dir[128];
    wallet_keystore_t *ks;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/hm-wallet-ks-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/a/b/wallet", f->root);
    setenv(WALLET_ENV_FAST_KDF, "1", 1);
    wallet_diag_t d = {{0}};
    if (wallet_keystore_open(&f->ks, f->dir, true, &d) != HM_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[256];
    wallet_keystore_free(f->ks);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 0777;
}

static void entry(char *out, size_t cap, const fixture_t *f, const char *name, const char *ext)
{
    snprintf(out, cap, "%s/%s%s", f->dir, name, ext);
}

static void test_create_open_permissions(void **state)
{
    fixture_t *f = *state;
    wallet_diag_t d = {{0}};
    wallet_keyinfo_t k, k2;
    uint8_t sk[32], pk[32];
    char path[256];
    assert_int_equal(f->ks->params.log2_n, HM_SEAL_MIN_LOG2_N);
    assert_int_equal(mode_of(f->dir), 0700);
    assert_int_equal(wallet_key_create(f->ks, &k, "alice", PASS, strlen(PASS), &d), HM_OK);
    entry(path, sizeof path, f, "alice", ".key");
    assert_int_equal(mode_of(path), 0600);
    entry(path, sizeof path, f, "alice", ".json");
    assert_int_equal(mode_of(path), 0600);
    assert_false(k.has_gid);
    assert_int_equal(wallet_key_info(f->ks, &k2, "alice", &d), HM_OK);
    assert_memory_equal(k2.pubkey, k.pubkey, 32);
    assert_int_equal(wallet_key_unlock(f->ks, sk, &k2, "alice", PASS, strlen(PASS), &d), HM_OK);
    assert_int_equal(hm_key_pubkey(pk, sk), HM_OK);
    assert_memory_equal(pk, k.pubkey, 32);
    hm_wipe(sk, sizeof sk);
    /* the secret never appears in the public file */
    size_t len;
    uint8_t *pub = tu_read_file(path, &len);
    assert_non_null(strstr((char *)pub, "\"pubkey\""));
    free(pub);
    /* a second key with the same name is refused */
    assert_int_equal(wallet_key_create(f->ks, NULL, "alice", PASS, strlen(PASS), &d),
                     HM_ERR_EXISTS);
    assert_non_null(strstr(d.msg, "already exists"));
    /* unknown key */
    assert_int_equal(wallet_key_info(f->ks, &k2, "bob", &d), HM_ERR_NOT_FOUND);
    assert_non_null(strstr(d.msg, "no key named"));
}

static void test_names(void **state)
{
    fixture_t *f = *state;
    wallet_diag_t d = {{0}};
    const char *good[] = {"a", "Alice_2", "ops.key-1", "x234567890123456789012345678901234567890"
                                                       "12345678901234567890123"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(wallet_key_name_is_valid(good[i]));
    const char *bad[] = {"", ".hidden", "../etc", "a/b", "a b", "ä",
                         "x2345678901234567890123456789012345678901234567890123456789012345"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(wallet_key_name_is_valid(bad[i]));
        assert_int_equal(wallet_key_create(f->ks, NULL, bad[i], PASS, 4, &d), HM_ERR_INVALID);
    }
}

static void test_wrong_passphrase_and_tamper(void **state)
{
    fixture_t *f = *state;
    wallet_diag_t d = {{0}};
    uint8_t sk[32];
    char path[256];
    assert_int_equal(wallet_key_create(f->ks, NULL, "carol", PASS, strlen(PASS), &d), HM_OK);
    assert_int_equal(wallet_key_unlock(f->ks, sk, NULL, "carol", "nope", 4, &d), HM_ERR_AUTH);
    assert_non_null(strstr(d.msg, "wrong passphrase"));
    /* flip one ciphertext byte: authentication fails */
    entry(path, sizeof path, f, "carol", ".key");
    size_t len;
    uint8_t *img = tu_read_file(path, &len);
    img[HM_SEAL_HEADER_LEN + 3] ^= 0x40;
    assert_int_equal(hm_seal_write_atomic(path, img, len), HM_OK);
    assert_int_equal(wallet_key_unlock(f->ks, sk, NULL, "carol", PASS, strlen(PASS), &d),
                     HM_ERR_AUTH);
    /* cut short: damaged */
    assert_int_equal(hm_seal_write_atomic(path, img, 20), HM_OK);
    assert_int_equal(wallet_key_unlock(f->ks, sk, NULL, "carol", PASS, strlen(PASS), &d),
                     HM_ERR_CORRUPT);
    assert_non_null(strstr(d.msg, "carol"));
    free(img);
}

static void test_swapped_public_file(void **state)
{
    fixture_t *f = *state;
    wallet_diag_t d = {{0}};
    wallet_keyinfo_t a, b;
    uint8_t sk[32];
    char pa[256], pb[256];
    assert_int_equal(wallet_key_create(f->ks, &a, "dave", PASS, strlen(PASS), &d), HM_OK);
    assert_int_equal(wallet_key_create(f->ks, &b, "erin", PASS, strlen(PASS), &d), HM_OK);
    /* dave.key now sealed under erin's public file: rejected */
    entry(pa, sizeof pa, f, "dave", ".key");
    entry(pb, sizeof pb, f, "erin", ".key");
    size_t len;
    uint8_t *img = tu_read_file(pa, &len);
    assert_int_equal(hm_seal_write_atomic(pb, img, len), HM_OK);
    free(img);
    assert_int_equal(wallet_key_unlock(f->ks, sk, NULL, "erin", PASS, strlen(PASS), &d),
                     HM_ERR_CORRUPT);
    assert_non_null(strstr(d.msg, "does not match"));
    /* a public file that is not ours */
    entry(pb, sizeof pb, f, "erin", ".json");
    const char *junk[] = {"not json", "[]", "{\"version\":1,\"name\":\"erin\"}",
                          "{\"version\":2,\"name\":\"erin\",\"pubkey\":\"00\"}",
                          "{\"version\":1,\"name\":\"dave\",\"pubkey\":\"00\"}"};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        assert_int_equal(hm_seal_write_atomic(pb, (const uint8_t *)junk[i], strlen(junk[i])),
                         HM_OK);
        assert_int_equal(wallet_key_info(f->ks, &b, "erin", &d), HM_ERR_CORRUPT);
    }
}

static void test_change_passphrase(void **state)
{
    fixture_t *f = *state;
    wallet_diag_t d = {{0}};
    wallet_keyinfo_t k;
    uint8_t sk1[32], sk2[32];
    assert_int_equal(wallet_key_create(f->ks, &k, "frank", PASS, strlen(PASS), &d), HM_OK);
    assert_int_equal(wallet_key_unlock(f->ks, sk1, NULL, "frank", PASS, strlen(PASS), &d), HM_OK);
    assert_int_equal(wallet_key_change_passphrase(f->ks, "frank", "bad", 3, "new", 3, &d),
                     HM_ERR_AUTH);
    assert_int_equal(wallet_key_change_passphrase(f->ks, "frank", PASS, strlen(PASS), "new", 3, &d),
                     HM_OK);
    assert_int_equal(wallet_key_unlock(f->ks, sk2, NULL, "frank", PASS, strlen(PASS), &d),
                     HM_ERR_AUTH);
    assert_int_equal(wallet_key_unlock(f->ks, sk2, NULL, "frank", "new", 3, &d), HM_OK);
    assert_memory_equal(sk1, sk2, 32);
    char path[256];
    entry(path, sizeof path, f, "frank", ".key");
    assert_int_equal(mode_of(path), 0600);
    hm_wipe(sk1, 32);
    hm_wipe(sk2, 32);
}

static void test_export_import(void **state)
{
    fixture_t *f = *state;
    wallet_diag_t d = {{0}};
    wallet_keyinfo_t k, k2, k3;
    hm_buf_t img = {0};
    assert_int_equal(wallet_key_create(f->ks, &k, "gina", PASS, strlen(PASS), &d), HM_OK);
    assert_int_equal(wallet_key_export_sealed(f->ks, &img, "gina", &d), HM_OK);
    assert_true(hm_seal_is_sealed(img.data, img.len));
    /* into another keystore */
    char dir2[192];
    snprintf(dir2, sizeof dir2, "%s/other", f->root);
    wallet_keystore_t *ks2 = NULL;
    assert_int_equal(wallet_keystore_open(&ks2, dir2, true, &d), HM_OK);
    assert_int_equal(wallet_key_import_sealed(ks2, &k2, "g2", img.data, img.len, "x", 1, &d),
                     HM_ERR_AUTH);
    assert_int_equal(wallet_key_info(ks2, &k3, "g2", &d), HM_ERR_NOT_FOUND); /* nothing left */
    assert_int_equal(
        wallet_key_import_sealed(ks2, &k2, "g2", img.data, img.len, PASS, strlen(PASS), &d), HM_OK);
    assert_memory_equal(k2.pubkey, k.pubkey, 32);
    assert_int_equal(
        wallet_key_import_sealed(ks2, &k2, "g2", img.data, img.len, PASS, strlen(PASS), &d),
        HM_ERR_EXISTS);
    /* a raw secret */
    uint8_t sk[32], pk[32];
    assert_int_equal(hm_key_generate(sk, pk), HM_OK);
    assert_int_equal(wallet_key_import_secret(ks2, &k3, "raw", sk, "p", 1, &d), HM_OK);
    assert_memory_equal(k3.pubkey, pk, 32);
    uint8_t zero[32] = {0};
    assert_int_equal(wallet_key_import_secret(ks2, &k3, "zero", zero, "p", 1, &d), HM_ERR_INVALID);
    /* list is sorted and complete */
    wallet_keyinfo_t *list = NULL;
    size_t n = 0;
    assert_int_equal(wallet_key_list(ks2, &list, &n, &d), HM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "g2");
    assert_string_equal(list[1].name, "raw");
    free(list);
    hm_wipe(sk, 32);
    hm_buf_free(&img);
    wallet_keystore_free(ks2);
}

static void test_set_gid(void **state)
{
    fixture_t *f = *state;
    wallet_diag_t d = {{0}};
    wallet_keyinfo_t k;
    uint8_t gid[20];
    uint64_t s = 3;
    tu_fill(gid, sizeof gid, &s);
    assert_int_equal(wallet_key_create(f->ks, NULL, "hank", PASS, strlen(PASS), &d), HM_OK);
    assert_int_equal(wallet_key_set_gid(f->ks, "hank", gid, &d), HM_OK);
    assert_int_equal(wallet_key_info(f->ks, &k, "hank", &d), HM_OK);
    assert_true(k.has_gid);
    assert_memory_equal(k.gid, gid, 20);
    /* still unlocks: the public file kept its pubkey */
    uint8_t sk[32];
    assert_int_equal(wallet_key_unlock(f->ks, sk, NULL, "hank", PASS, strlen(PASS), &d), HM_OK);
    hm_wipe(sk, 32);
    assert_int_equal(wallet_key_set_gid(f->ks, "hank", NULL, &d), HM_OK);
    assert_int_equal(wallet_key_info(f->ks, &k, "hank", &d), HM_OK);
    assert_false(k.has_gid);
}

static void test_dir_resolution(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    char *dir = NULL;
    setenv(WALLET_ENV_DIR, "/env/dir", 1);
    assert_int_equal(wallet_keystore_dir(&dir, "/flag/dir", &d), HM_OK);
    assert_string_equal(dir, "/flag/dir");
    free(dir);
    assert_int_equal(wallet_keystore_dir(&dir, NULL, &d), HM_OK);
    assert_string_equal(dir, "/env/dir");
    free(dir);
    unsetenv(WALLET_ENV_DIR);
    setenv("HOME", "/home/x", 1);
    assert_int_equal(wallet_keystore_dir(&dir, NULL, &d), HM_OK);
    assert_string_equal(dir, "/home/x/.hallmark/wallet");
    free(dir);
    /* opening a missing keystore without create is a clear error */
    wallet_keystore_t *ks = NULL;
    assert_int_equal(wallet_keystore_open(&ks, "/nonexistent/hm/wallet", false, &d),
                     HM_ERR_NOT_FOUND);
    assert_non_null(strstr(d.msg, "does not exist"));
}

static void test_passphrase_sources(void **state)
{
    fixture_t *f = *state;
    wallet_diag_t d = {{0}};
    hm_buf_t p = {0};
    assert_int_equal(wallet_passphrase_from_text(&p, "secret\r\nsecond line", 19, &d), HM_OK);
    assert_int_equal(p.len, 6);
    assert_string_equal((char *)p.data, "secret");
    assert_int_equal(wallet_passphrase_from_text(&p, "a\0b", 3, &d), HM_ERR_INVALID);
    /* a file beats the environment */
    char path[256];
    snprintf(path, sizeof path, "%s/pass", f->root);
    assert_int_equal(hm_seal_write_atomic(path, (const uint8_t *)"from-file\n", 10), HM_OK);
    setenv("HM_TEST_PASS", "from-env", 1);
    assert_int_equal(wallet_passphrase_get(&p, path, "HM_TEST_PASS", "?", false, &d), HM_OK);
    assert_string_equal((char *)p.data, "from-file");
    assert_int_equal(wallet_passphrase_get(&p, NULL, "HM_TEST_PASS", "?", true, &d), HM_OK);
    assert_string_equal((char *)p.data, "from-env");
    setenv("HM_TEST_PASS", "", 1); /* an empty passphrase is allowed, if set */
    assert_int_equal(wallet_passphrase_get(&p, NULL, "HM_TEST_PASS", "?", false, &d), HM_OK);
    assert_int_equal(p.len, 0);
    assert_int_equal(wallet_passphrase_get(&p, "/nonexistent/pass", NULL, "?", false, &d),
                     HM_ERR_IO);
    assert_non_null(strstr(d.msg, "/nonexistent/pass"));
    hm_buf_free_secure(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_open_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_passphrase_and_tamper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_public_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_gid, setup, teardown),
        cmocka_unit_test(test_dir_resolution),
        cmocka_unit_test_setup_teardown(test_passphrase_sources, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
