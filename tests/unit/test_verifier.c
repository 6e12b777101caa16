/* Unit tests: node/verifier (admission checks on background threads) and
 * mempool_check / mempool_add_checked, the two halves it uses. */
#include "tests/unit/testutil.h"
#include "tests/unit/txfixture.h"

#include <poll.h>

#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/tx.h"
#include "node/mempool.h"
#include "node/verifier.h"

static uint8_t chain[32], other[32];

static int setup(void **state)
{
    (void)state;
    hm_tagged_hash(chain, HM_TAG_GENESIS, "verifier-test", 13);
    hm_tagged_hash(other, HM_TAG_GENESIS, "other", 5);
    return 0;
}

/* What the callbacks saw, in order. */
typedef struct {
    int order[16];
    size_t norder;
    mempool_checked_t got[16][4];
    size_t n[16];
    int dropped[16];
    size_t ndropped;
} seen_t;

typedef struct {
    seen_t *s;
    int id;
} tag_t;

static void on_done(void *arg, const ProtobufCBinaryData *txs, const mempool_checked_t *c,
                    size_t n)
{
    (void)txs;
    tag_t *t = arg;
    seen_t *s = t->s;
    assert_true(n <= 4);
    s->n[t->id] = n;
    memcpy(s->got[t->id], c, n * sizeof *c);
    s->order[s->norder++] = t->id;
}

static void on_drop(void *arg)
{
    tag_t *t = arg;
    t->s->dropped[t->s->ndropped++] = t->id;
}

/* Collect until `want` batches were handed back (bounded wait). */
static void collect_until(node_verifier_t *v, seen_t *s, size_t want)
{
    for (int tries = 0; s->norder < want && tries < 500; tries++) {
        struct pollfd p = {verifier_fd(v), POLLIN, 0};
        (void)poll(&p, 1, 20);
        verifier_collect(v);
    }
    assert_int_equal(s->norder, want);
}

static void test_verdicts_and_order(void **state)
{
    (void)state;
    node_verifier_t *v = NULL;
    assert_int_equal(verifier_new(&v, chain, 0, 0), HM_OK);
    seen_t s = {0};
    tag_t tags[8];
    for (int i = 0; i < 8; i++)
        tags[i] = (tag_t){&s, i};
    uint8_t id[4][32];
    ProtobufCBinaryData a[3];
    a[0] = tu_scrap_tx(chain, 0, id[0], NULL);
    a[1] = tu_scrap_tx(other, 0, id[1], NULL); /* wrong chain */
    a[2] = tu_scrap_tx(chain, 1, id[2], NULL);
    a[2].data[a[2].len - 1] ^= 1; /* signature byte flipped */
    uint8_t junk[] = {0xde, 0xad};
    ProtobufCBinaryData b[2] = {{sizeof junk, junk}, {0, NULL}};
    b[1] = tu_scrap_tx(chain, 2, id[3], NULL);
    assert_int_equal(verifier_submit(v, a, 3, on_done, on_drop, &tags[0]), HM_OK);
    assert_int_equal(verifier_submit(v, b, 2, on_done, on_drop, &tags[1]), HM_OK);
    assert_int_equal(verifier_submit(v, NULL, 0, on_done, on_drop, &tags[2]), HM_OK);
    /* the copies are the verifier's: the caller's bytes may go at once */
    a[0].data[0] ^= 0xff;
    a[0].data[0] ^= 0xff;
    collect_until(v, &s, 3);
    assert_int_equal(s.order[0], 0);
    assert_int_equal(s.order[1], 1);
    assert_int_equal(s.order[2], 2);
    assert_int_equal(s.n[0], 3);
    assert_int_equal(s.got[0][0].r.verdict, MEMPOOL_ADMITTED);
    assert_memory_equal(s.got[0][0].r.txid, id[0], 32);
    assert_int_equal(s.got[0][1].r.verdict, MEMPOOL_WRONG_CHAIN);
    assert_int_equal(s.got[0][2].r.verdict, MEMPOOL_BAD_SIGNATURE);
    assert_int_equal(s.got[1][0].r.verdict, MEMPOOL_MALFORMED);
    assert_false(s.got[1][0].r.has_txid);
    assert_int_equal(s.got[1][1].r.verdict, MEMPOOL_ADMITTED);
    assert_int_equal(s.n[2], 0);
    assert_int_equal(verifier_pending(v), 0);

    /* the checked halves insert like mempool_add would */
    node_mempool_t *mp = NULL;
    assert_int_equal(mempool_new(&mp, chain, NULL, NULL), HM_OK);
    mempool_result_t r[3];
    assert_int_equal(mempool_add_checked(mp, a, 3, s.got[0], r), HM_OK);
    assert_int_equal(r[0].verdict, MEMPOOL_ADMITTED);
    assert_int_equal(r[1].verdict, MEMPOOL_WRONG_CHAIN);
    assert_int_equal(mempool_count(mp), 1);
    assert_true(mempool_has_exact(mp, id[0], a[0].data, a[0].len));
    assert_int_equal(mempool_add_checked(mp, a, 1, s.got[0], r), HM_OK);
    assert_int_equal(r[0].verdict, MEMPOOL_DUPLICATE);
    assert_int_equal(mempool_count(mp), 1);
    mempool_free(mp);
    verifier_free(v);
    assert_int_equal(s.ndropped, 0);
    for (int i = 0; i < 3; i++)
        free(a[i].data);
    free(b[1].data);
}

static void test_limit_and_drop(void **state)
{
    (void)state;
    node_verifier_t *v = NULL;
    assert_int_equal(verifier_new(&v, chain, 3, 1), HM_OK);
    seen_t s = {0};
    tag_t tags[4];
    for (int i = 0; i < 4; i++)
        tags[i] = (tag_t){&s, i};
    uint8_t id[4][32];
    ProtobufCBinaryData t[4];
    for (int i = 0; i < 4; i++)
        t[i] = tu_scrap_tx(chain, (uint64_t)i, id[i], NULL);
    assert_int_equal(verifier_submit(v, t, 2, on_done, on_drop, &tags[0]), HM_OK);
    /* 2 + 2 > 3: refused, nothing queued, no callback for it ever */
    assert_int_equal(verifier_submit(v, t + 2, 2, on_done, on_drop, &tags[1]), HM_ERR_LIMIT);
    assert_int_equal(verifier_submit(v, t + 2, 1, on_done, on_drop, &tags[2]), HM_OK);
    assert_int_equal(verifier_pending(v), 3);
    /* not collected: freeing hands both batches to drop, in order */
    verifier_free(v);
    assert_int_equal(s.norder, 0);
    assert_int_equal(s.ndropped, 2);
    assert_int_equal(s.dropped[0], 0);
    assert_int_equal(s.dropped[1], 2);
    verifier_free(NULL);
    for (int i = 0; i < 4; i++)
        free(t[i].data);
}

/* With several threads, later (smaller) batches finish first, but are
 * handed back only after every earlier one, in submission order. */
static void test_parallel_batches_keep_order(void **state)
{
    (void)state;
    node_verifier_t *v = NULL;
    assert_int_equal(verifier_new(&v, chain, 0, 4), HM_OK);
    seen_t s = {0};
    tag_t tags[16];
    ProtobufCBinaryData t[16][4];
    uint8_t id[16][4][32];
    for (int b = 0; b < 16; b++) {
        tags[b] = (tag_t){&s, b};
        size_t n = b == 0 ? 4 : (size_t)(b % 2); /* batch 0 is the slowest */
        for (size_t i = 0; i < n; i++)
            t[b][i] = tu_scrap_tx(chain, (uint64_t)(b * 4 + (int)i), id[b][i], NULL);
        assert_int_equal(verifier_submit(v, t[b], n, on_done, on_drop, &tags[b]), HM_OK);
    }
    collect_until(v, &s, 16);
    for (int b = 0; b < 16; b++) {
        assert_int_equal(s.order[b], b);
        assert_int_equal(s.n[b], b == 0 ? 4 : (size_t)(b % 2));
        for (size_t i = 0; i < s.n[b]; i++) {
            assert_int_equal(s.got[b][i].r.verdict, MEMPOOL_ADMITTED);
            assert_memory_equal(s.got[b][i].r.txid, id[b][i], 32);
            free(t[b][i].data);
        }
    }
    assert_int_equal(verifier_pending(v), 0);
    verifier_free(v);
    assert_int_equal(s.ndropped, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts_and_order),
        cmocka_unit_test(test_limit_and_drop),
        cmocka_unit_test(test_parallel_batches_keep_order),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
