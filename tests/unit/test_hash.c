/* Unit tests: lib/hash. Golden values were computed independently (Python
 * hashlib) from the definition H_tag(x) = SHA256(SHA256(tag)||SHA256(tag)||x). */
#include "tests/unit/testutil.h"

#include <pthread.h>

#include "lib/hash.h"
#include "lib/hex.h"

static void expect_hex(const uint8_t h[32], const char *want)
{
    char got[65];
    hm_hex_encode(got, h, 32);
    assert_string_equal(got, want);
}

static void test_sha256_known(void **state)
{
    (void)state;
    uint8_t h[32];
    hm_sha256(h, "abc", 3);
    expect_hex(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hm_sha256(h, "", 0);
    expect_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_tagged_golden(void **state)
{
    (void)state;
    uint8_t h[32], zero[32] = {0};
    hm_tagged_hash(h, HM_TAG_TX, "", 0);
    expect_hex(h, "a058cda9dc44a9f19458a9c49aad044f43fd5e7c5c8041d707b492137da8f43b");
    hm_tagged_hash(h, HM_TAG_LEAF, zero, 32);
    expect_hex(h, "d54d25664e7000a386bbc98a4355eba6652f67e57c0c5b1416bc744b7b0dcf04");
    hm_tagged_hash(h, "BIP0340/challenge", "abc", 3);
    expect_hex(h, "770a5b7e7c304bbcc3ea107343ff951dd404312ef418db0c3b94e2ebfbb50087");
    const char *g = "{\"chain\":\"test\"}";
    hm_tagged_hash(h, HM_TAG_GENESIS, g, strlen(g));
    expect_hex(h, "7a76dbe55bab4bc94e28fb68fe96cd30e09532fc3111dc4e462aafb2c51bcdc1");
}

static void test_tagged_matches_definition(void **state)
{
    (void)state;
    uint64_t seed = 1;
    for (size_t len = 0; len < 300; len += 7) {
        uint8_t x[300], th[32], buf[364], want[32], got[32];
        tu_fill(x, len, &seed);
        hm_sha256(th, HM_TAG_NODE, strlen(HM_TAG_NODE));
        memcpy(buf, th, 32);
        memcpy(buf + 32, th, 32);
        memcpy(buf + 64, x, len);
        hm_sha256(want, buf, 64 + len);
        hm_tagged_hash(got, HM_TAG_NODE, x, len);
        assert_memory_equal(got, want, 32);
        /* two-part form and streaming form agree */
        size_t cut = len / 3;
        hm_tagged_hash2(got, HM_TAG_NODE, x, cut, x + cut, len - cut);
        assert_memory_equal(got, want, 32);
        hm_hasher_t s;
        hm_hasher_init_tagged(&s, HM_TAG_NODE);
        for (size_t i = 0; i < len; i++)
            hm_hasher_update(&s, x + i, 1);
        hm_hasher_final(&s, got);
        assert_memory_equal(got, want, 32);
    }
}

static void test_tags_are_domain_separated(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    hm_tagged_hash(a, HM_TAG_LEAF, "x", 1);
    hm_tagged_hash(b, HM_TAG_NODE, "x", 1);
    assert_memory_not_equal(a, b, 32);
}

static void test_streaming_plain(void **state)
{
    (void)state;
    hm_hasher_t s;
    uint8_t h[32];
    hm_hasher_init(&s);
    hm_hasher_update(&s, "a", 1);
    hm_hasher_update(&s, "bc", 2);
    hm_hasher_final(&s, h);
    expect_hex(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hm_hasher_init(&s);
    hm_hasher_abort(&s); /* releases without finishing */
}

/* Many distinct tags overflow the per-thread midstate cache; results stay right. */
static void test_many_tags(void **state)
{
    (void)state;
    for (int i = 0; i < 80; i++) {
        char tag[64];
        snprintf(tag, sizeof tag, "hallmark/test-tag-%d", i);
        uint8_t th[32], buf[65], want[32], got[32];
        hm_sha256(th, tag, strlen(tag));
        memcpy(buf, th, 32);
        memcpy(buf + 32, th, 32);
        buf[64] = (uint8_t)i;
        hm_sha256(want, buf, 65);
        uint8_t one = (uint8_t)i;
        hm_tagged_hash(got, tag, &one, 1);
        assert_memory_equal(got, want, 32);
    }
}

static void *thread_hash(void *arg)
{
    uint8_t *out = arg;
    for (int i = 0; i < 1000; i++)
        hm_tagged_hash(out, HM_TAG_TX, "abc", 3);
    hm_hash_thread_cleanup();
    return NULL;
}

static void test_threads_agree(void **state)
{
    (void)state;
    pthread_t t[4];
    uint8_t out[4][32], want[32];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_hash, out[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    hm_tagged_hash(want, HM_TAG_TX, "abc", 3);
    for (int i = 0; i < 4; i++)
        assert_memory_equal(out[i], want, 32);
}

static int teardown(void **state)
{
    (void)state;
    hm_hash_thread_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_known),
        cmocka_unit_test(test_tagged_golden),
        cmocka_unit_test(test_tagged_matches_definition),
        cmocka_unit_test(test_tags_are_domain_separated),
        cmocka_unit_test(test_streaming_plain),
        cmocka_unit_test(test_many_tags),
        cmocka_unit_test(test_threads_agree),
    };
    return cmocka_run_group_tests_name("hash", tests, NULL, teardown);
}
