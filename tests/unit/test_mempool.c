/* Unit tests: node/mempool and node/workpool. */
#include "tests/unit/testutil.h"
#include "tests/unit/txfixture.h"

#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/tx.h"
#include "node/mempool.h"

static uint8_t chain[32], other[32];

static int setup(void **state)
{
    (void)state;
    hm_tagged_hash(chain, HM_TAG_GENESIS, "mempool-test", 12);
    hm_tagged_hash(other, HM_TAG_GENESIS, "other", 5);
    return 0;
}

static void test_verdicts(void **state)
{
    (void)state;
    node_mempool_t *mp = NULL;
    assert_int_equal(mempool_new(&mp, chain, NULL, NULL), HM_OK);
    uint8_t id[5][32];
    ProtobufCBinaryData txs[6];
    txs[0] = tu_scrap_tx(chain, 0, id[0], NULL);
    txs[1] = tu_scrap_tx(other, 0, id[1], NULL);   /* wrong chain */
    txs[2] = tu_scrap_tx(chain, 1, id[2], NULL);
    txs[2].data[txs[2].len - 1] ^= 1;           /* signature byte flipped */
    uint8_t junk[] = {0xde, 0xad};
    txs[3].data = junk;
    txs[3].len = sizeof junk;
    txs[4] = txs[0];                            /* duplicate inside the batch */
    uint8_t *big = calloc(1, HM_MAX_TX_BYTES + 1);
    txs[5].data = big;
    txs[5].len = HM_MAX_TX_BYTES + 1;
    mempool_result_t r[6];
    assert_int_equal(mempool_add(mp, txs, 6, r), HM_OK);
    assert_int_equal(r[0].verdict, MEMPOOL_ADMITTED);
    assert_true(r[0].has_txid);
    assert_memory_equal(r[0].txid, id[0], 32);
    assert_int_equal(r[1].verdict, MEMPOOL_WRONG_CHAIN);
    assert_int_equal(r[2].verdict, MEMPOOL_BAD_SIGNATURE);
    assert_int_equal(r[3].verdict, MEMPOOL_MALFORMED);
    assert_false(r[3].has_txid);
    assert_int_equal(r[4].verdict, MEMPOOL_DUPLICATE);
    assert_int_equal(r[5].verdict, MEMPOOL_TOO_LARGE);
    assert_int_equal(mempool_count(mp), 1);
    assert_int_equal(mempool_bytes(mp), txs[0].len);
    assert_true(mempool_contains(mp, id[0]));
    assert_false(mempool_contains(mp, id[1]));
    assert_true(mempool_has_exact(mp, id[0], txs[0].data, txs[0].len));
    assert_string_equal(mempool_verdict_name(MEMPOOL_FULL), "mempool_full");
    free(big);
    free(txs[0].data);
    free(txs[1].data);
    free(txs[2].data);
    mempool_free(mp);
}

static void test_caps(void **state)
{
    (void)state;
    uint8_t id[32];
    ProtobufCBinaryData t[4];
    for (int i = 0; i < 4; i++)
        t[i] = tu_scrap_tx(chain, (uint64_t)i, id, NULL);
    mempool_limits_t lim = {.max_txs = 2};
    node_mempool_t *mp = NULL;
    assert_int_equal(mempool_new(&mp, chain, &lim, NULL), HM_OK);
    mempool_result_t r[4];
    assert_int_equal(mempool_add(mp, t, 3, r), HM_OK);
    assert_int_equal(r[0].verdict, MEMPOOL_ADMITTED);
    assert_int_equal(r[1].verdict, MEMPOOL_ADMITTED);
    assert_int_equal(r[2].verdict, MEMPOOL_FULL);
    assert_int_equal(mempool_count(mp), 2);
    mempool_free(mp);

    lim = (mempool_limits_t){.max_bytes = t[0].len + t[1].len};
    assert_int_equal(mempool_new(&mp, chain, &lim, NULL), HM_OK);
    assert_int_equal(mempool_add(mp, t, 4, r), HM_OK);
    int admitted = 0;
    for (int i = 0; i < 4; i++)
        admitted += r[i].verdict == MEMPOOL_ADMITTED;
    assert_true(admitted >= 1 && admitted <= 2);
    assert_true(mempool_bytes(mp) <= lim.max_bytes);
    assert_int_equal(r[3].verdict, MEMPOOL_FULL);
    mempool_free(mp);
    for (int i = 0; i < 4; i++)
        free(t[i].data);
}

static void test_reap_order_and_remove(void **state)
{
    (void)state;
    node_mempool_t *mp = NULL;
    assert_int_equal(mempool_new(&mp, chain, NULL, NULL), HM_OK);
    enum { N = 20 };
    ProtobufCBinaryData t[N];
    hm_hash32_t ids[N];
    mempool_result_t r[N];
    for (int i = 0; i < N; i++)
        t[i] = tu_scrap_tx(chain, (uint64_t)i, ids[i], NULL);
    assert_int_equal(mempool_add(mp, t, N, r), HM_OK);
    ProtobufCBinaryData *out = NULL;
    hm_hash32_t *out_ids = NULL;
    size_t n = 0;
    assert_int_equal(mempool_reap(mp, 5, SIZE_MAX, &out, &out_ids, &n), HM_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].len, t[i].len);
        assert_memory_equal(out[i].data, t[i].data, t[i].len); /* arrival order */
        assert_memory_equal(out_ids[i], ids[i], 32);           /* with their txids */
    }
    mempool_reap_free(out, out_ids, n);
    /* byte limit: only what fits */
    assert_int_equal(mempool_reap(mp, 100, t[0].len + t[1].len + 1, &out, NULL, &n), HM_OK);
    assert_int_equal(n, 2);
    mempool_reap_free(out, NULL, n);
    assert_int_equal(mempool_reap(mp, 100, 1, &out, NULL, &n), HM_OK);
    assert_int_equal(n, 0);
    assert_null(out);
    /* remove the first three and an unknown id: the fourth is now first */
    hm_hash32_t gone[4];
    memcpy(gone, ids, 3 * 32);
    memset(gone[3], 0x77, 32);
    mempool_remove(mp, (const hm_hash32_t *)gone, 4);
    assert_int_equal(mempool_count(mp), N - 3);
    {
        hm_tx_t *d = NULL;
        assert_int_equal(hm_tx_decode(&d, t[5].data, t[5].len), HM_OK);
        assert_int_equal(mempool_count_signer(mp, d->tx->signer.data), 1);
        hm_tx_free(d);
        uint8_t nobody[32] = {0};
        assert_int_equal(mempool_count_signer(mp, nobody), 0);
    }
    assert_false(mempool_contains(mp, ids[1]));
    assert_int_equal(mempool_reap(mp, 1, SIZE_MAX, &out, NULL, &n), HM_OK);
    assert_memory_equal(out[0].data, t[3].data, t[3].len);
    mempool_reap_free(out, NULL, n);
    /* a removed tx can be admitted again (the ledger, not the mempool, stops replays) */
    assert_int_equal(mempool_add(mp, &t[0], 1, r), HM_OK);
    assert_int_equal(r[0].verdict, MEMPOOL_ADMITTED);
    for (int i = 0; i < N; i++)
        free(t[i].data);
    mempool_free(mp);
}

static void test_richer_copy_replaces(void **state)
{
    (void)state;
    node_mempool_t *mp = NULL;
    assert_int_equal(mempool_new(&mp, chain, NULL, NULL), HM_OK);
    uint8_t id[32], sk[32], co_sk[32], co_pk[32];
    ProtobufCBinaryData plain = tu_scrap_tx(chain, 0, id, sk);
    assert_int_equal(hm_key_generate(co_sk, co_pk), HM_OK);
    ProtobufCBinaryData rich;
    assert_int_equal(hm_tx_cosign(&rich.data, &rich.len, plain.data, plain.len, co_sk), HM_OK);
    mempool_result_t r;
    assert_int_equal(mempool_add(mp, &plain, 1, &r), HM_OK);
    assert_int_equal(r.verdict, MEMPOOL_ADMITTED);
    assert_int_equal(mempool_add(mp, &rich, 1, &r), HM_OK);
    assert_int_equal(r.verdict, MEMPOOL_DUPLICATE);
    assert_true(mempool_has_exact(mp, id, rich.data, rich.len));
    assert_int_equal(mempool_bytes(mp), rich.len);
    /* the poorer copy does not replace the richer one */
    assert_int_equal(mempool_add(mp, &plain, 1, &r), HM_OK);
    assert_true(mempool_has_exact(mp, id, rich.data, rich.len));
    free(plain.data);
    free(rich.data);
    mempool_free(mp);
}

/* Parallel admission gives the same verdicts as serial admission. */
static void test_parallel_matches_serial(void **state)
{
    (void)state;
    enum { N = 300 };
    ProtobufCBinaryData t[N];
    uint8_t id[32];
    for (int i = 0; i < N; i++) {
        t[i] = tu_scrap_tx(i % 7 == 3 ? other : chain, (uint64_t)i, id, NULL);
        if (i % 5 == 1)
            t[i].data[t[i].len - 2] ^= 4;
    }
    node_workpool_t *pool = NULL;
    assert_int_equal(workpool_new(&pool, 3), HM_OK);
    assert_int_equal(workpool_width(pool), 4);
    node_mempool_t *a = NULL, *b = NULL;
    assert_int_equal(mempool_new(&a, chain, NULL, pool), HM_OK);
    assert_int_equal(mempool_new(&b, chain, NULL, NULL), HM_OK);
    mempool_result_t ra[N], rb[N];
    assert_int_equal(mempool_add(a, t, N, ra), HM_OK);
    assert_int_equal(mempool_add(b, t, N, rb), HM_OK);
    size_t admitted = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(ra[i].verdict, rb[i].verdict);
        admitted += ra[i].verdict == MEMPOOL_ADMITTED;
    }
    assert_int_equal(mempool_count(a), admitted);
    assert_true(admitted > N / 2 && admitted < N);
    mempool_free(a);
    mempool_free(b);
    workpool_free(pool);
    for (int i = 0; i < N; i++)
        free(t[i].data);
}

/* Many adds and removes (tombstones, rehash) keep the index consistent
 * with a plain model. */
static void test_churn(void **state)
{
    (void)state;
    enum { N = 3000 };
    ProtobufCBinaryData *t = calloc(N, sizeof *t);
    hm_hash32_t *ids = calloc(N, sizeof *ids);
    bool *in = calloc(N, sizeof *in);
    uint8_t sk[32], pk[32];
    assert_int_equal(hm_key_generate(sk, pk), HM_OK);
    for (int i = 0; i < N; i++) {
        Hallmark__Tx tx = HALLMARK__TX__INIT;
        Hallmark__Suspend s = HALLMARK__SUSPEND__INIT;
        tx.chain_id.data = chain;
        tx.chain_id.len = 32;
        tx.signer.data = pk;
        tx.signer.len = 32;
        tx.nonce = (uint64_t)i;
        tx.body_case = HALLMARK__TX__BODY_SUSPEND;
        tx.suspend = &s;
        assert_int_equal(hm_tx_sign(&t[i].data, &t[i].len, ids[i], &tx, sk), HM_OK);
    }
    node_mempool_t *mp = NULL;
    assert_int_equal(mempool_new(&mp, chain, NULL, NULL), HM_OK);
    uint64_t seed = 99;
    size_t live = 0;
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < N; i++) {
            uint8_t coin;
            tu_fill(&coin, 1, &seed);
            mempool_result_t r;
            if (coin & 1) {
                assert_int_equal(mempool_add(mp, &t[i], 1, &r), HM_OK);
                assert_int_equal(r.verdict, in[i] ? MEMPOOL_DUPLICATE : MEMPOOL_ADMITTED);
                if (!in[i])
                    live++;
                in[i] = true;
            } else {
                mempool_remove(mp, (const hm_hash32_t *)&ids[i], 1);
                if (in[i])
                    live--;
                in[i] = false;
            }
        }
        assert_int_equal(mempool_count(mp), live);
        for (int i = 0; i < N; i++)
            assert_int_equal(mempool_contains(mp, ids[i]), in[i]);
    }
    mempool_free(mp);
    for (int i = 0; i < N; i++)
        free(t[i].data);
    free(t);
    free(ids);
    free(in);
}

static void add_one(void *arg, size_t i)
{
    __atomic_add_fetch((size_t *)arg + i, 1, __ATOMIC_RELAXED);
}

static void test_workpool_runs_each_index_once(void **state)
{
    (void)state;
    node_workpool_t *pool = NULL;
    assert_int_equal(workpool_new(&pool, 2), HM_OK);
    size_t counts[1000] = {0};
    for (int rep = 0; rep < 50; rep++)
        workpool_run(pool, add_one, counts, 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(counts[i], 50);
    workpool_run(pool, add_one, counts, 0);
    workpool_free(pool);
    workpool_free(NULL);
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
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_reap_order_and_remove),
        cmocka_unit_test(test_richer_copy_replaces),
        cmocka_unit_test(test_parallel_matches_serial),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_workpool_runs_each_index_once),
    };
    return cmocka_run_group_tests_name("mempool", tests, setup, teardown);
}
