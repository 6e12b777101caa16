/* Determinism across state backends (issue 3): the same block sequence
 * executed on the in-memory store and on a fresh LevelDB store gives
 * identical result codes and state roots, block by block, and the LevelDB
 * root survives a reopen.
 *
 * An L3 test: it links node/libstorage.a besides contracts/ and lib/ (the
 * one cross-layer contracts test, allowed so that both backends meet the
 * same contracts; see contracts/include.am). */
#include "tests/unit/testutil.h"

#include <unistd.h>

#include "contracts/testkit.h"
#include "node/storage.h"

#define OK(expr) assert_int_equal((expr), HM_OK)

static char *tmpdir(void)
{
    char *d = strdup("/tmp/hm-determinism-XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void rmrf(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
}

static void run_both(const uint8_t *data, size_t len)
{
    char *dir = tmpdir();
    hm_store_t *mem = NULL, *ldb = NULL;
    hm_buf_t tm = {0}, tl = {0};
    OK(hm_store_mem_new(&mem));
    OK(store_open(&ldb, dir, NULL));
    OK(ctk_script_run(mem, &tm, data, len));
    OK(ctk_script_run(ldb, &tl, data, len));
    assert_true(tm.len >= 32);
    assert_int_equal(tm.len, tl.len);
    assert_memory_equal(tm.data, tl.data, tm.len);
    uint8_t rm[32], rl[32];
    hm_store_root(mem, rm);
    hm_store_root(ldb, rl);
    assert_memory_equal(rm, rl, 32);
    /* the committed root is durable */
    hm_store_free(ldb);
    ldb = NULL;
    OK(store_open(&ldb, dir, NULL));
    hm_store_root(ldb, rl);
    assert_memory_equal(rm, rl, 32);
    hm_buf_free(&tm);
    hm_buf_free(&tl);
    hm_store_free(mem);
    hm_store_free(ldb);
    rmrf(dir);
    free(dir);
}

static void test_seeded_sequences(void **state)
{
    (void)state;
    uint64_t seed = 7;
    for (int i = 0; i < 6; i++) {
        uint8_t data[1500];
        tu_fill(data, sizeof data, &seed);
        /* bias toward suited signers on half the rounds: deeper states */
        if (i & 1)
            for (size_t j = 1; j < sizeof data; j += 4)
                data[j] |= 0x80;
        run_both(data, sizeof data);
    }
}

static void test_corpus_story_seed(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = tu_read_file(tu_srcpath("fuzz/corpus/contracts/seed-story"), &len);
    run_both(d, len);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeded_sequences),
        cmocka_unit_test(test_corpus_story_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
