/* Unit tests: lib/seal. Uses N = 2^10 (the floor) to keep the run short;
 * one test runs the production parameters once. */
#include "tests/unit/testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "lib/seal.h"

static const hm_seal_params_t FAST = {HM_SEAL_MIN_LOG2_N, 8, 1};
static const char PASS[] = "correct horse battery staple";

static void test_roundtrip(void **state)
{
    (void)state;
    uint8_t secret[32];
    uint64_t s = 1;
    tu_fill(secret, sizeof secret, &s);
    hm_buf_t img = {0}, out = {0};
    assert_int_equal(hm_seal(&img, secret, sizeof secret, PASS, strlen(PASS), &FAST), HM_OK);
    assert_int_equal(img.len, HM_SEAL_HEADER_LEN + sizeof secret + HM_SEAL_TAG_LEN);
    assert_true(hm_seal_is_sealed(img.data, img.len));
    assert_memory_equal(img.data, "HMSEAL", 6);
    assert_int_equal(img.data[6], 1);
    assert_int_equal(img.data[8], HM_SEAL_MIN_LOG2_N);
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_OK);
    assert_int_equal(out.len, sizeof secret);
    assert_memory_equal(out.data, secret, sizeof secret);
    /* Two seals of the same secret differ (fresh salt and nonce). */
    hm_buf_t img2 = {0};
    assert_int_equal(hm_seal(&img2, secret, sizeof secret, PASS, strlen(PASS), &FAST), HM_OK);
    assert_memory_not_equal(img.data + 17, img2.data + 17, HM_SEAL_SALT_LEN + HM_SEAL_NONCE_LEN);
    hm_buf_free(&img);
    hm_buf_free(&img2);
    hm_buf_free_secure(&out);
}

static void test_empty_secret_and_pass(void **state)
{
    (void)state;
    hm_buf_t img = {0}, out = {0};
    assert_int_equal(hm_seal(&img, NULL, 0, "", 0, &FAST), HM_OK);
    assert_int_equal(hm_unseal(&out, img.data, img.len, "", 0), HM_OK);
    assert_int_equal(out.len, 0);
    assert_int_equal(hm_unseal(&out, img.data, img.len, "x", 1), HM_ERR_AUTH);
    hm_buf_free(&img);
    hm_buf_free_secure(&out);
}

static void test_wrong_pass(void **state)
{
    (void)state;
    const uint8_t secret[4] = {1, 2, 3, 4};
    hm_buf_t img = {0}, out = {0};
    assert_int_equal(hm_seal(&img, secret, 4, PASS, strlen(PASS), &FAST), HM_OK);
    assert_int_equal(hm_unseal(&out, img.data, img.len, "wrong", 5), HM_ERR_AUTH);
    assert_null(out.data); /* nothing handed out on failure */
    hm_buf_free(&img);
}

/* Flipping any single byte of the image never yields the secret. */
static void test_tamper_every_byte(void **state)
{
    (void)state;
    const uint8_t secret[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    hm_buf_t img = {0}, out = {0};
    assert_int_equal(hm_seal(&img, secret, sizeof secret, PASS, strlen(PASS), &FAST), HM_OK);
    for (size_t i = 0; i < img.len; i++) {
        img.data[i] ^= 0x01;
        int rc = hm_unseal(&out, img.data, img.len, PASS, strlen(PASS));
        assert_int_not_equal(rc, HM_OK);
        if (i >= 17) /* salt, nonce, length?, ciphertext, tag */
            assert_true(rc == HM_ERR_AUTH || rc == HM_ERR_CORRUPT);
        img.data[i] ^= 0x01;
    }
    /* Lowering N in the header (cheaper brute force) fails: params are AAD. */
    img.data[8] = HM_SEAL_MIN_LOG2_N - 1;
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_ERR_AUTH);
    img.data[8] = HM_SEAL_MIN_LOG2_N;
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_OK);
    hm_buf_free(&img);
    hm_buf_free_secure(&out);
}

static void test_malformed(void **state)
{
    (void)state;
    const uint8_t secret[8] = {0};
    hm_buf_t img = {0}, out = {0};
    assert_int_equal(hm_seal(&img, secret, sizeof secret, PASS, strlen(PASS), &FAST), HM_OK);
    /* every truncation */
    for (size_t n = 0; n < img.len; n++)
        assert_int_equal(hm_unseal(&out, img.data, n, PASS, strlen(PASS)), HM_ERR_CORRUPT);
    assert_int_equal(hm_unseal(&out, NULL, 0, PASS, strlen(PASS)), HM_ERR_CORRUPT);
    /* trailing garbage */
    assert_int_equal(hm_buf_append_u8(&img, 0), HM_OK);
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_ERR_CORRUPT);
    img.len--;
    /* unknown version, unknown kdf */
    img.data[6] = 2;
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_ERR_UNSUPPORTED);
    img.data[6] = 1;
    img.data[7] = 9;
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_ERR_UNSUPPORTED);
    img.data[7] = 1;
    /* cost over the ceiling is refused before any work */
    img.data[8] = 40;
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_ERR_LIMIT);
    img.data[8] = HM_SEAL_MIN_LOG2_N;
    hm_put_u32be(img.data + 9, 0xffffffffu);
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_ERR_LIMIT);
    hm_put_u32be(img.data + 9, 8);
    /* under the memory ceiling but p = 16 times the work (fuzz_keystore:
     * N = 2^20, r = 7, p = 16 took 32 s and 900 MB per open) */
    img.data[8] = 20;
    hm_put_u32be(img.data + 9, 7);
    hm_put_u32be(img.data + 13, 16);
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_ERR_LIMIT);
    img.data[8] = 17;
    hm_put_u32be(img.data + 9, 8);
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_ERR_LIMIT);
    img.data[8] = HM_SEAL_MIN_LOG2_N;
    hm_put_u32be(img.data + 13, 1);
    /* length field lies */
    hm_put_u32be(img.data + 45, 0xffffffffu);
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_ERR_CORRUPT);
    assert_null(out.data);
    hm_buf_free(&img);
}

static void test_bad_params(void **state)
{
    (void)state;
    hm_buf_t img = {0};
    const uint8_t secret[1] = {1};
    hm_seal_params_t low = {HM_SEAL_MIN_LOG2_N - 1, 8, 1};
    hm_seal_params_t high = {HM_SEAL_MAX_LOG2_N + 1, 8, 1};
    hm_seal_params_t r0 = {HM_SEAL_MIN_LOG2_N, 0, 1};
    assert_int_equal(hm_seal(&img, secret, 1, PASS, strlen(PASS), &low), HM_ERR_INVALID);
    assert_int_equal(hm_seal(&img, secret, 1, PASS, strlen(PASS), &high), HM_ERR_INVALID);
    assert_int_equal(hm_seal(&img, secret, 1, PASS, strlen(PASS), &r0), HM_ERR_INVALID);
    hm_seal_params_t d = hm_seal_params_default();
    assert_true(d.log2_n >= 15);
    assert_int_equal(d.r, 8);
    assert_int_equal(d.p, 1);
    hm_buf_free(&img);
}

/* Production parameters once (about 0.1 s). */
static void test_default_params(void **state)
{
    (void)state;
    const uint8_t secret[32] = {42};
    hm_buf_t img = {0}, out = {0};
    assert_int_equal(hm_seal(&img, secret, sizeof secret, PASS, strlen(PASS), NULL), HM_OK);
    assert_int_equal(img.data[8], 15);
    assert_int_equal(hm_get_u32be(img.data + 9), 8);
    assert_int_equal(hm_get_u32be(img.data + 13), 1);
    assert_int_equal(hm_unseal(&out, img.data, img.len, PASS, strlen(PASS)), HM_OK);
    assert_memory_equal(out.data, secret, sizeof secret);
    hm_buf_free(&img);
    hm_buf_free_secure(&out);
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/hm-seal-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/key", dir);
    const uint8_t secret[32] = {7};
    hm_buf_t out = {0};

    assert_int_equal(hm_seal_read_sealed(&out, path, PASS, strlen(PASS)), HM_ERR_NOT_FOUND);
    assert_int_equal(hm_seal_write_file(path, secret, 32, PASS, strlen(PASS), &FAST), HM_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(hm_seal_read_sealed(&out, path, PASS, strlen(PASS)), HM_OK);
    assert_memory_equal(out.data, secret, 32);
    assert_int_equal(hm_seal_read_sealed(&out, path, "no", 2), HM_ERR_AUTH);

    /* overwrite atomically; no temporary left behind */
    const uint8_t plain[3] = {'a', 'b', '\n'};
    assert_int_equal(hm_seal_write_atomic(path, plain, 3), HM_OK);
    hm_buf_t raw = {0};
    assert_int_equal(hm_seal_read_file(&raw, path, 100), HM_OK);
    assert_int_equal(raw.len, 3);
    assert_false(hm_seal_is_sealed(raw.data, raw.len));
    assert_int_equal(hm_seal_read_file(&raw, path, 2), HM_ERR_TOO_LARGE);
    assert_int_equal(hm_seal_read_sealed(&out, path, PASS, strlen(PASS)), HM_ERR_CORRUPT);
    assert_int_equal(hm_seal_read_file(&raw, dir, 100), HM_ERR_IO); /* a directory */

    /* unwritable destination: clean error */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/key", dir);
    assert_int_equal(hm_seal_write_atomic(bad, plain, 3), HM_ERR_IO);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls %s | wc -l | grep -qx 1", dir);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    rmdir(dir);
    hm_buf_free(&raw);
    hm_buf_free_secure(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_empty_secret_and_pass),
        cmocka_unit_test(test_wrong_pass),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_default_params),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
