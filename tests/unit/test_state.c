/* Unit tests: lib/state — batch, session semantics over the memory store
 * (read-your-writes, deletes, merged iteration, savepoints, commit, root,
 * aux records, proofs). Links lib/ only. Seeds fixed. */
#include "tests/unit/testutil.h"

#include "lib/buf.h"
#include "lib/kvmap.h"
#include "lib/smt.h"
#include "lib/state.h"

#define S(x) (const uint8_t *)(x), strlen(x)

static void put(hm_state_t *st, const char *k, const char *v)
{
    assert_int_equal(hm_state_put(st, S(k), (const uint8_t *)v, strlen(v)), HM_OK);
}

static void del(hm_state_t *st, const char *k)
{
    assert_int_equal(hm_state_del(st, S(k)), HM_OK);
}

static void expect(hm_state_t *st, const char *k, const char *v)
{
    uint8_t *val = NULL;
    size_t vlen = 0;
    int rc = hm_state_get(st, S(k), &val, &vlen);
    if (!v) {
        assert_int_equal(rc, HM_ERR_NOT_FOUND);
        return;
    }
    assert_int_equal(rc, HM_OK);
    assert_int_equal(vlen, strlen(v));
    assert_memory_equal(val, v, vlen);
    free(val);
}

/* Collects "k=v;" for each visited pair. */
typedef struct {
    char buf[4096];
    size_t len;
    int stop_after; /* 0: never */
    int seen;
    hm_state_t *st; /* when set, try to write during the visit */
} sink_t;

static int sink_visit(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    sink_t *s = arg;
    s->len += (size_t)snprintf(s->buf + s->len, sizeof s->buf - s->len, "%.*s=%.*s;", (int)klen,
                               (const char *)key, (int)vlen, (const char *)val);
    if (s->st) {
        assert_int_equal(hm_state_put(s->st, S("zz"), (const uint8_t *)"x", 1), HM_ERR_STATE);
        assert_int_equal(hm_state_del(s->st, S("zz")), HM_ERR_STATE);
        assert_int_equal(hm_state_commit(s->st, false), HM_ERR_STATE);
    }
    if (s->stop_after && ++s->seen == s->stop_after)
        return 42;
    return 0;
}

static const char *iter(hm_state_t *st, const char *prefix, sink_t *s)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(hm_state_iterate(st, S(prefix), sink_visit, s), 0);
    return s->buf;
}

static hm_store_t *new_store(void)
{
    hm_store_t *s = NULL;
    assert_int_equal(hm_store_mem_new(&s), HM_OK);
    assert_non_null(s);
    return s;
}

static void test_batch(void **state)
{
    (void)state;
    hm_batch_t b = {0};
    for (int i = 0; i < 200; i++)
        assert_int_equal(hm_batch_add(&b, HM_OP_STATE_PUT, S("k"), (const uint8_t *)"v", 1), HM_OK);
    assert_int_equal(hm_batch_add(&b, HM_OP_STATE_DEL, S("k"), NULL, 0), HM_OK);
    assert_int_equal(b.n, 201);
    assert_null(b.ops[200].val);
    hm_batch_free(&b);
    assert_int_equal(b.n, 0);
    hm_batch_free(&b);
}

/* The batch copies keys and values into an arena of chunks: every entry
 * keeps its own bytes while thousands more are added (small ones, empty
 * ones, ones larger than a chunk between them), a put of an empty value
 * has a non-NULL value and a delete a NULL one. */
static size_t arena_vlen(uint32_t i)
{
    return i % 997 == 0 ? 70000 : i % 97 == 0 ? 20000 + i : i % 13 == 0 ? 0 : i % 300;
}

static void test_batch_arena(void **state)
{
    (void)state;
    enum { N = 5000 };
    hm_batch_t b = {0};
    uint8_t *big = malloc(200000);
    assert_non_null(big);
    for (size_t i = 0; i < 200000; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    for (uint32_t i = 0; i < N; i++) {
        uint8_t key[8];
        hm_put_u32be(key, i);
        hm_put_u32be(key + 4, ~i);
        size_t vlen = arena_vlen(i);
        if (i % 11 == 0)
            assert_int_equal(hm_batch_add(&b, HM_OP_STATE_DEL, key, sizeof key, NULL, 0), HM_OK);
        else
            assert_int_equal(hm_batch_add(&b, HM_OP_AUX_PUT, key, sizeof key, big + i, vlen),
                             HM_OK);
    }
    assert_int_equal(b.n, N);
    for (uint32_t i = 0; i < N; i++) {
        const hm_op_t *op = &b.ops[i];
        uint8_t key[8];
        hm_put_u32be(key, i);
        hm_put_u32be(key + 4, ~i);
        assert_int_equal(op->klen, sizeof key);
        assert_memory_equal(op->key, key, sizeof key);
        if (i % 11 == 0) {
            assert_int_equal(op->kind, HM_OP_STATE_DEL);
            assert_null(op->val);
            assert_int_equal(op->vlen, 0);
            continue;
        }
        size_t vlen = arena_vlen(i);
        assert_non_null(op->val);
        assert_int_equal(op->vlen, vlen);
        if (vlen)
            assert_memory_equal(op->val, big + i, vlen);
    }
    hm_batch_free(&b);
    assert_null(b.chunks);
    assert_int_equal(b.n, 0);
    free(big);
}

/* A session caches what it read from the store (present or absent); a
 * commit that changes the state, by this session or another, makes it
 * read again; its own writes always come first. */
static void test_read_cache_follows_commits(void **state)
{
    (void)state;
    hm_store_t *store = new_store();
    hm_state_t *w = NULL, *r = NULL;
    assert_int_equal(hm_state_begin(&w, store), HM_OK);
    put(w, "i/a", "one");
    assert_int_equal(hm_state_commit(w, true), HM_OK);
    assert_int_equal(hm_state_begin(&r, store), HM_OK);
    expect(r, "i/a", "one");
    expect(r, "i/b", NULL);
    expect(r, "i/a", "one"); /* cached */
    expect(r, "i/b", NULL);
    /* another session commits: r sees the new values and the new key */
    put(w, "i/a", "two");
    put(w, "i/b", "bee");
    assert_int_equal(hm_state_commit(w, true), HM_OK);
    expect(r, "i/a", "two");
    expect(r, "i/b", "bee");
    /* r's own writes come before the cache, and its commit is seen */
    put(r, "i/a", "three");
    expect(r, "i/a", "three");
    del(r, "i/b");
    expect(r, "i/b", NULL);
    assert_int_equal(hm_state_tx_begin(r), HM_OK);
    put(r, "i/b", "tx");
    expect(r, "i/b", "tx");
    hm_state_tx_rollback(r);
    expect(r, "i/b", NULL);
    assert_int_equal(hm_state_commit(r, true), HM_OK);
    expect(r, "i/a", "three");
    expect(r, "i/b", NULL);
    expect(w, "i/a", "three");
    expect(w, "i/b", NULL);
    hm_state_free(r);
    hm_state_free(w);
    hm_store_free(store);
}

/* A session whose root was computed before another session's commit may
 * not commit that root: it would undo the other commit. Recomputing (any
 * write, or a fresh session) makes it valid again. */
static void test_stale_root_refused(void **state)
{
    (void)state;
    hm_store_t *store = new_store();
    hm_state_t *a = NULL, *b = NULL;
    assert_int_equal(hm_state_begin(&a, store), HM_OK);
    assert_int_equal(hm_state_begin(&b, store), HM_OK);
    put(a, "i/a", "one");
    uint8_t ra[32], rb[32], now[32];
    assert_int_equal(hm_state_root(a, ra), HM_OK);
    put(b, "i/b", "bee");
    assert_int_equal(hm_state_commit(b, true), HM_OK);
    hm_store_root(store, rb);
    assert_int_equal(hm_state_commit(a, true), HM_ERR_STATE);
    hm_store_root(store, now);
    assert_memory_equal(now, rb, 32); /* nothing written */
    expect(a, "i/a", "one");          /* a keeps its pending write */
    put(a, "i/c", "sea");             /* a write: the root is recomputed */
    assert_int_equal(hm_state_commit(a, true), HM_OK);
    expect(b, "i/a", "one");
    expect(b, "i/b", "bee");
    expect(b, "i/c", "sea");
    hm_state_free(a);
    hm_state_free(b);
    hm_store_free(store);
}

static void test_read_your_writes_and_delete(void **state)
{
    (void)state;
    hm_store_t *store = new_store();
    hm_state_t *st = NULL;
    assert_int_equal(hm_state_begin(&st, store), HM_OK);
    expect(st, "i/a", NULL);
    put(st, "i/a", "one");
    expect(st, "i/a", "one");
    put(st, "i/a", "two");
    expect(st, "i/a", "two");
    del(st, "i/a");
    expect(st, "i/a", NULL);
    put(st, "i/a", "three");
    put(st, "i/empty", "");
    expect(st, "i/empty", "");
    assert_int_equal(hm_state_dirty_count(st), 2);
    assert_int_equal(hm_state_commit(st, true), HM_OK);
    assert_int_equal(hm_state_dirty_count(st), 0);
    /* The committed store and a new session both see it. */
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(hm_store_get(store, S("i/a"), &v, &vl), HM_OK);
    assert_int_equal(vl, 5);
    free(v);
    assert_int_equal(hm_store_get(store, S("i/empty"), &v, &vl), HM_OK);
    assert_int_equal(vl, 0);
    free(v);
    hm_state_t *st2 = NULL;
    assert_int_equal(hm_state_begin(&st2, store), HM_OK);
    expect(st2, "i/a", "three");
    /* Deleting a committed key hides it until commit, then removes it. */
    del(st2, "i/a");
    expect(st2, "i/a", NULL);
    assert_int_equal(hm_store_get(store, S("i/a"), &v, &vl), HM_OK);
    free(v);
    assert_int_equal(hm_state_commit(st2, false), HM_OK);
    assert_int_equal(hm_store_get(store, S("i/a"), &v, &vl), HM_ERR_NOT_FOUND);
    expect(st, "i/a", NULL); /* the old session is over the same store */
    hm_state_free(st2);
    hm_state_free(st);
    hm_store_free(store);
    hm_store_free(NULL);
    hm_state_free(NULL);
}

static void test_iterate_merged(void **state)
{
    (void)state;
    hm_store_t *store = new_store();
    hm_state_t *st = NULL;
    assert_int_equal(hm_state_begin(&st, store), HM_OK);
    put(st, "a/1", "c1");
    put(st, "a/3", "c3");
    put(st, "a/5", "c5");
    put(st, "a", "root");
    put(st, "b/1", "b1");
    put(st, "a/", "slash");
    assert_int_equal(hm_state_commit(st, false), HM_OK);
    sink_t s;
    assert_string_equal(iter(st, "a/", &s), "a/=slash;a/1=c1;a/3=c3;a/5=c5;");
    put(st, "a/2", "o2");
    put(st, "a/3", "o3");
    del(st, "a/5");
    put(st, "a/6", "o6");
    put(st, "a/0", "o0");
    del(st, "a/9"); /* never existed */
    put(st, "a\xff", "after");
    assert_string_equal(iter(st, "a/", &s), "a/=slash;a/0=o0;a/1=c1;a/2=o2;a/3=o3;a/6=o6;");
    assert_string_equal(iter(st, "", &s),
                        "a=root;a/=slash;a/0=o0;a/1=c1;a/2=o2;a/3=o3;a/6=o6;a\xff=after;b/1=b1;");
    assert_string_equal(iter(st, "b", &s), "b/1=b1;");
    assert_string_equal(iter(st, "c", &s), "");
    assert_string_equal(iter(st, "a/3", &s), "a/3=o3;");
    /* A visitor's non-zero return stops and is returned. */
    memset(&s, 0, sizeof s);
    s.stop_after = 3;
    assert_int_equal(hm_state_iterate(st, S("a/"), sink_visit, &s), 42);
    assert_string_equal(s.buf, "a/=slash;a/0=o0;a/1=c1;");
    /* No writes from inside a visit. */
    memset(&s, 0, sizeof s);
    s.st = st;
    assert_int_equal(hm_state_iterate(st, S("b"), sink_visit, &s), 0);
    /* After commit the store iterates the same. */
    assert_int_equal(hm_state_commit(st, false), HM_OK);
    assert_string_equal(iter(st, "a/", &s), "a/=slash;a/0=o0;a/1=c1;a/2=o2;a/3=o3;a/6=o6;");
    hm_state_free(st);
    hm_store_free(store);
}

static void test_savepoints(void **state)
{
    (void)state;
    hm_store_t *store = new_store();
    hm_state_t *st = NULL;
    assert_int_equal(hm_state_begin(&st, store), HM_OK);
    put(st, "k/committed", "c");
    put(st, "k/gone", "g");
    assert_int_equal(hm_state_commit(st, false), HM_OK);
    uint8_t root0[32];
    hm_store_root(store, root0);

    put(st, "k/before", "b");
    uint8_t r1[32], r2[32];
    assert_int_equal(hm_state_root(st, r1), HM_OK);
    assert_int_equal(hm_state_tx_begin(st), HM_OK);
    assert_int_equal(hm_state_tx_begin(st), HM_ERR_STATE);
    assert_int_equal(hm_state_commit(st, false), HM_ERR_STATE);
    put(st, "k/before", "b2");
    put(st, "k/before", "b3");
    put(st, "k/new", "n");
    del(st, "k/committed");
    put(st, "k/gone", "g2");
    del(st, "k/gone");
    assert_int_equal(hm_state_dirty_count(st), 4);
    expect(st, "k/before", "b3");
    hm_state_tx_rollback(st);
    expect(st, "k/before", "b");
    expect(st, "k/new", NULL);
    expect(st, "k/committed", "c");
    expect(st, "k/gone", "g");
    assert_int_equal(hm_state_dirty_count(st), 1);
    assert_int_equal(hm_state_root(st, r2), HM_OK);
    assert_memory_equal(r1, r2, 32);

    assert_int_equal(hm_state_tx_begin(st), HM_OK);
    put(st, "k/new", "n");
    del(st, "k/gone");
    hm_state_tx_commit(st);
    expect(st, "k/new", "n");
    expect(st, "k/gone", NULL);
    /* A later rollback does not undo an earlier committed tx. */
    assert_int_equal(hm_state_tx_begin(st), HM_OK);
    put(st, "k/new", "changed");
    hm_state_tx_rollback(st);
    expect(st, "k/new", "n");
    assert_int_equal(hm_state_commit(st, true), HM_OK);
    hm_state_t *st2 = NULL;
    assert_int_equal(hm_state_begin(&st2, store), HM_OK);
    expect(st2, "k/new", "n");
    expect(st2, "k/before", "b");
    expect(st2, "k/gone", NULL);
    expect(st2, "k/committed", "c");
    hm_state_free(st2);
    /* Rolling back everything of a block leaves the root unchanged. */
    uint8_t before[32], after[32];
    hm_store_root(store, before);
    assert_int_equal(hm_state_tx_begin(st), HM_OK);
    put(st, "x", "y");
    hm_state_tx_rollback(st);
    assert_int_equal(hm_state_root(st, after), HM_OK);
    assert_memory_equal(before, after, 32);
    assert_memory_not_equal(before, root0, 32);
    hm_state_free(st);
    hm_store_free(store);
}

/* ---- the root equals a direct SMT over the same key/values */

/* A one-update node store for direct_root: from the empty tree, every
 * node it reads was written by that update under its one locator. */
static int ns_get(void *arg, const uint8_t hash[32], uint64_t loc,
                  uint8_t out[HM_SMT_MAX_NODE_LEN], size_t *len)
{
    (void)loc;
    const hm_kvnode_t *e = hm_kvmap_get(arg, hash, 32);
    if (!e)
        return HM_ERR_NOT_FOUND;
    memcpy(out, e->val, e->vlen);
    *len = e->vlen;
    return HM_OK;
}

static int ns_put(void *arg, const uint8_t hash[32], uint64_t loc, const uint8_t *node,
                  size_t len)
{
    (void)loc;
    return hm_kvmap_put(arg, hash, 32, node, len, 0, NULL);
}

typedef struct {
    hm_smt_update_t *ups;
    size_t n;
} ups_t;

static int model_to_update(void *arg, const hm_kvnode_t *e)
{
    ups_t *u = arg;
    hm_smt_update_t *x = &u->ups[u->n++];
    memset(x, 0, sizeof *x);
    hm_smt_key_hash(x->keyhash, e->key, e->klen);
    hm_smt_value_hash(x->valuehash, e->val, e->vlen);
    return 0;
}

static void direct_root(const hm_kvmap_t *model, uint8_t out[32])
{
    hm_kvmap_t nodes = {0};
    ups_t u = {calloc(model->n + 1, sizeof(hm_smt_update_t)), 0};
    assert_non_null(u.ups);
    assert_int_equal(hm_kvmap_visit(model, NULL, 0, model_to_update, &u), 0);
    hm_smt_reader_t r = {ns_get, &nodes};
    hm_smt_writer_t w = {ns_put, &nodes, 1};
    uint8_t zero[32] = {0};
    uint64_t loc;
    assert_int_equal(hm_smt_update(&r, &w, out, &loc, zero, 0, u.ups, u.n), HM_OK);
    free(u.ups);
    hm_kvmap_clear(&nodes);
}

typedef struct {
    const hm_kvnode_t **e;
    size_t n, i;
    bool ok;
} cmp_t;

static int collect_model(void *arg, const hm_kvnode_t *e)
{
    cmp_t *c = arg;
    c->e[c->n++] = e;
    return 0;
}

static int compare_visit(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen)
{
    cmp_t *c = arg;
    if (c->i >= c->n)
        c->ok = false;
    else {
        const hm_kvnode_t *e = c->e[c->i++];
        if (hm_bytes_cmp(key, klen, e->key, e->klen) != 0 || vlen != e->vlen ||
            (vlen && memcmp(val, e->val, vlen) != 0))
            c->ok = false;
    }
    return 0;
}

/* The session's view (or the store) iterates exactly as the model. */
static void check_view(hm_state_t *st, hm_store_t *store, const hm_kvmap_t *model,
                       const char *prefix)
{
    cmp_t c = {calloc(model->n + 1, sizeof(hm_kvnode_t *)), 0, 0, true};
    assert_non_null(c.e);
    assert_int_equal(hm_kvmap_visit(model, S(prefix), collect_model, &c), 0);
    if (st)
        assert_int_equal(hm_state_iterate(st, S(prefix), compare_visit, &c), 0);
    else
        assert_int_equal(hm_store_iterate(store, S(prefix), compare_visit, &c), 0);
    assert_true(c.ok);
    assert_int_equal(c.i, c.n);
    free(c.e);
}

static void random_key(char *k, size_t cap, uint64_t *seed)
{
    static const char *pfx[] = {"i/", "p/", "n/", "l/"};
    uint8_t r[2];
    tu_fill(r, 2, seed);
    snprintf(k, cap, "%s%u", pfx[r[0] % 4], (unsigned)(r[1] % 200));
}

static void test_random_sessions_vs_model(void **state)
{
    (void)state;
    uint64_t seed = 0x57a7e001;
    hm_store_t *store = new_store();
    hm_kvmap_t model = {0}, block = {0};
    hm_state_t *st = NULL;
    assert_int_equal(hm_state_begin(&st, store), HM_OK);
    for (int blk = 0; blk < 40; blk++) {
        hm_kvmap_t pending = {0}; /* the model's copy of this block's view */
        /* copy model into pending */
        cmp_t all = {calloc(model.n + 1, sizeof(hm_kvnode_t *)), 0, 0, true};
        assert_int_equal(hm_kvmap_visit(&model, NULL, 0, collect_model, &all), 0);
        for (size_t i = 0; i < all.n; i++)
            assert_int_equal(hm_kvmap_put(&pending, all.e[i]->key, all.e[i]->klen, all.e[i]->val,
                                          all.e[i]->vlen, 0, NULL),
                             HM_OK);
        free(all.e);
        int ntx = 1 + (int)(seed % 8);
        for (int tx = 0; tx < ntx; tx++) {
            uint8_t r[2];
            tu_fill(r, 2, &seed);
            bool rollback = r[0] % 4 == 0;
            hm_kvmap_t txmodel = {0}; /* writes of this tx: flag 1 = delete */
            assert_int_equal(hm_state_tx_begin(st), HM_OK);
            for (int w = 0; w < 1 + r[1] % 20; w++) {
                char k[32], v[32];
                random_key(k, sizeof k, &seed);
                uint8_t x[1];
                tu_fill(x, 1, &seed);
                if (x[0] % 3 == 0) {
                    del(st, k);
                    assert_int_equal(hm_kvmap_put(&txmodel, S(k), NULL, 0, 1, NULL), HM_OK);
                } else {
                    snprintf(v, sizeof v, "v%d.%d.%u", blk, tx, x[0]);
                    put(st, k, v);
                    assert_int_equal(
                        hm_kvmap_put(&txmodel, S(k), (const uint8_t *)v, strlen(v), 0, NULL),
                        HM_OK);
                }
            }
            if (rollback) {
                hm_state_tx_rollback(st);
            } else {
                hm_state_tx_commit(st);
                cmp_t w = {calloc(txmodel.n + 1, sizeof(hm_kvnode_t *)), 0, 0, true};
                assert_int_equal(hm_kvmap_visit(&txmodel, NULL, 0, collect_model, &w), 0);
                for (size_t i = 0; i < w.n; i++) {
                    const hm_kvnode_t *e = w.e[i];
                    if (e->flag)
                        (void)hm_kvmap_del(&pending, e->key, e->klen);
                    else
                        assert_int_equal(
                            hm_kvmap_put(&pending, e->key, e->klen, e->val, e->vlen, 0, NULL),
                            HM_OK);
                    assert_int_equal(hm_kvmap_put(&block, e->key, e->klen, NULL, 0, 0, NULL),
                                     HM_OK);
                }
                free(w.e);
            }
            hm_kvmap_clear(&txmodel);
            check_view(st, NULL, &pending, "");
        }
        check_view(st, NULL, &pending, "p/");
        check_view(st, NULL, &pending, "i/1");
        assert_int_equal(hm_state_dirty_count(st), block.n);
        uint8_t r1[32], r2[32], ref[32];
        assert_int_equal(hm_state_root(st, r1), HM_OK);
        direct_root(&pending, ref);
        assert_memory_equal(r1, ref, 32);
        assert_int_equal(hm_state_commit(st, blk % 2 == 0), HM_OK);
        hm_store_root(store, r2);
        assert_memory_equal(r2, ref, 32);
        hm_kvmap_clear(&model);
        model = pending;
        hm_kvmap_clear(&block);
        check_view(NULL, store, &model, "");
        check_view(NULL, store, &model, "n/");
    }
    assert_true(model.n > 100);
    /* Every committed key has a proof against the store root. */
    cmp_t all = {calloc(model.n + 1, sizeof(hm_kvnode_t *)), 0, 0, true};
    assert_int_equal(hm_kvmap_visit(&model, NULL, 0, collect_model, &all), 0);
    uint8_t root[32];
    hm_store_root(store, root);
    hm_smt_proof_t *p = malloc(sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < all.n; i++) {
        assert_int_equal(hm_store_prove(store, p, root, all.e[i]->key, all.e[i]->klen), HM_OK);
        assert_int_equal(hm_smt_verify(root, all.e[i]->key, all.e[i]->klen,
                                       all.e[i]->val ? all.e[i]->val : (const uint8_t *)"",
                                       all.e[i]->vlen, p),
                         HM_OK);
    }
    assert_int_equal(hm_store_prove(store, p, root, S("p/none")), HM_OK);
    assert_int_equal(hm_smt_verify(root, S("p/none"), NULL, 0, p), HM_OK);
    free(p);
    free(all.e);
    hm_kvmap_clear(&model);
    hm_state_free(st);
    hm_store_free(store);
}

static void test_root_twice_and_aux(void **state)
{
    (void)state;
    hm_store_t *store = new_store();
    hm_state_t *st = NULL;
    assert_int_equal(hm_state_begin(&st, store), HM_OK);
    uint8_t zero[32] = {0}, r[32], r2[32];
    assert_int_equal(hm_state_root(st, r), HM_OK);
    assert_memory_equal(r, zero, 32);
    put(st, "a", "1");
    assert_int_equal(hm_state_root(st, r), HM_OK);
    put(st, "b", "2");
    assert_int_equal(hm_state_root(st, r2), HM_OK);
    assert_memory_not_equal(r, r2, 32);
    del(st, "b");
    assert_int_equal(hm_state_root(st, r2), HM_OK);
    assert_memory_equal(r, r2, 32);
    put(st, "b", "2");
    assert_int_equal(hm_state_aux_put(st, S("blk/1"), (const uint8_t *)"block1", 6), HM_OK);
    assert_int_equal(hm_state_aux_put(st, S("blk/2"), (const uint8_t *)"block2", 6), HM_OK);
    assert_int_equal(hm_state_aux_put(st, S("idx/x"), (const uint8_t *)"", 0), HM_OK);
    assert_int_equal(hm_state_commit(st, true), HM_OK);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(hm_store_get_aux(store, S("blk/2"), &v, &vl), HM_OK);
    assert_int_equal(vl, 6);
    assert_memory_equal(v, "block2", 6);
    free(v);
    assert_int_equal(hm_store_get_aux(store, S("idx/x"), &v, &vl), HM_OK);
    assert_int_equal(vl, 0);
    free(v);
    /* Aux records are not state: no state key, no effect on the root. */
    assert_int_equal(hm_store_get(store, S("blk/2"), &v, &vl), HM_ERR_NOT_FOUND);
    sink_t s;
    memset(&s, 0, sizeof s);
    assert_int_equal(hm_store_iterate_aux(store, S("blk/"), sink_visit, &s), 0);
    assert_string_equal(s.buf, "blk/1=block1;blk/2=block2;");
    uint8_t old[32];
    hm_store_root(store, old);
    assert_int_equal(hm_state_aux_put(st, S("blk/1"), NULL, 0), HM_OK);
    assert_int_equal(hm_state_commit(st, false), HM_OK);
    assert_int_equal(hm_store_get_aux(store, S("blk/1"), &v, &vl), HM_ERR_NOT_FOUND);
    hm_store_root(store, r);
    assert_memory_equal(r, old, 32);
    /* Old roots stay provable after later blocks. */
    put(st, "a", "changed");
    assert_int_equal(hm_state_commit(st, false), HM_OK);
    hm_smt_proof_t p;
    assert_int_equal(hm_store_prove(store, &p, old, S("a")), HM_OK);
    assert_int_equal(hm_smt_verify(old, S("a"), (const uint8_t *)"1", 1, &p), HM_OK);
    hm_store_root(store, r);
    assert_int_equal(hm_store_prove(store, &p, r, S("a")), HM_OK);
    assert_int_equal(hm_smt_verify(r, S("a"), (const uint8_t *)"changed", 7, &p), HM_OK);
    hm_state_free(st);
    hm_store_free(store);
}

/* A commit the store refuses changes nothing and keeps the session's writes. */
static void test_bad_batch_is_atomic(void **state)
{
    (void)state;
    hm_store_t *store = new_store();
    hm_batch_t b = {0};
    assert_int_equal(hm_batch_add(&b, HM_OP_STATE_PUT, S("x"), (const uint8_t *)"1", 1), HM_OK);
    assert_int_equal(hm_batch_add(&b, HM_OP_NODE_PUT, S("short"), (const uint8_t *)"1", 1), HM_OK);
    b.has_root = true;
    memset(b.root, 9, 32);
    assert_int_equal(store->ops->commit(store, &b, false), HM_ERR_INVALID);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(hm_store_get(store, S("x"), &v, &vl), HM_ERR_NOT_FOUND);
    uint8_t r[32], zero[32] = {0};
    hm_store_root(store, r);
    assert_memory_equal(r, zero, 32);
    hm_batch_free(&b);
    hm_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_batch_arena),
        cmocka_unit_test(test_read_cache_follows_commits),
        cmocka_unit_test(test_stale_root_refused),
        cmocka_unit_test(test_read_your_writes_and_delete),
        cmocka_unit_test(test_iterate_merged),
        cmocka_unit_test(test_savepoints),
        cmocka_unit_test(test_random_sessions_vs_model),
        cmocka_unit_test(test_root_twice_and_aux),
        cmocka_unit_test(test_bad_batch_is_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
