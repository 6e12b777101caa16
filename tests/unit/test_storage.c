/* Unit tests: node/storage — the LevelDB store gives the same roots, reads
 * and iteration as the memory store for the same sessions; survives
 * reopen; commits atomically; refuses bad directories cleanly; keeps SMT
 * nodes in their own database under commit-ordered keys (opened raw here
 * to check what is on disk and to fake a crash between the two writes).
 * Links node/libstorage.a and lib/ only. Seeds fixed. */
#define _XOPEN_SOURCE 700
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/smt.h"
#include "lib/state.h"
#include "node/storage.h"

#define S(x) (const uint8_t *)(x), strlen(x)

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char *make_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    char *p = malloc(4096);
    assert_non_null(p);
    snprintf(p, 4096, "%s/hm-test-storage-XXXXXX", t && *t ? t : "/tmp");
    assert_non_null(mkdtemp(p));
    return p;
}

static void rm_tree(char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static char *sub(const char *dir, const char *name)
{
    char *p = malloc(4096);
    assert_non_null(p);
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

static hm_store_t *open_ok(const char *dir)
{
    hm_store_t *s = NULL;
    assert_int_equal(store_open(&s, dir, NULL), HM_OK);
    assert_non_null(s);
    assert_true(store_is_leveldb(s));
    return s;
}

/* A whole view serialised as klen|key|vlen|val..., for comparisons. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} dump_t;

static int dump_visit(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    dump_t *d = arg;
    size_t need = d->len + klen + vlen + 16;
    if (need > d->cap) {
        d->cap = need * 2;
        d->p = realloc(d->p, d->cap);
        assert_non_null(d->p);
    }
    memcpy(d->p + d->len, &klen, sizeof klen);
    d->len += sizeof klen;
    memcpy(d->p + d->len, key, klen);
    d->len += klen;
    memcpy(d->p + d->len, &vlen, sizeof vlen);
    d->len += sizeof vlen;
    if (vlen)
        memcpy(d->p + d->len, val, vlen);
    d->len += vlen;
    return 0;
}

static void same_view(hm_state_t *a, hm_state_t *b, const char *prefix)
{
    dump_t da = {0}, db = {0};
    assert_int_equal(hm_state_iterate(a, S(prefix), dump_visit, &da), 0);
    assert_int_equal(hm_state_iterate(b, S(prefix), dump_visit, &db), 0);
    assert_int_equal(da.len, db.len);
    if (da.len)
        assert_memory_equal(da.p, db.p, da.len);
    free(da.p);
    free(db.p);
}

static void same_store(hm_store_t *a, hm_store_t *b, bool aux)
{
    dump_t da = {0}, db = {0};
    if (aux) {
        assert_int_equal(hm_store_iterate_aux(a, NULL, 0, dump_visit, &da), 0);
        assert_int_equal(hm_store_iterate_aux(b, NULL, 0, dump_visit, &db), 0);
    } else {
        assert_int_equal(hm_store_iterate(a, NULL, 0, dump_visit, &da), 0);
        assert_int_equal(hm_store_iterate(b, NULL, 0, dump_visit, &db), 0);
    }
    assert_int_equal(da.len, db.len);
    if (da.len)
        assert_memory_equal(da.p, db.p, da.len);
    free(da.p);
    free(db.p);
    uint8_t ra[32], rb[32];
    hm_store_root(a, ra);
    hm_store_root(b, rb);
    assert_memory_equal(ra, rb, 32);
}

static void same_get(hm_state_t *a, hm_state_t *b, const char *k)
{
    uint8_t *va = NULL, *vb = NULL;
    size_t la = 0, lb = 0;
    int ra = hm_state_get(a, S(k), &va, &la);
    int rb = hm_state_get(b, S(k), &vb, &lb);
    assert_int_equal(ra, rb);
    if (ra == HM_OK) {
        assert_int_equal(la, lb);
        assert_memory_equal(va, vb, la);
    }
    free(va);
    free(vb);
}

/* Drive the same random blocks on two sessions; compare as we go. */
static void run_blocks(hm_state_t *a, hm_state_t *b, uint64_t *seed, int blocks, int base)
{
    for (int blk = 0; blk < blocks; blk++) {
        uint8_t r[4];
        tu_fill(r, 4, seed);
        int ntx = 1 + r[0] % 10;
        for (int tx = 0; tx < ntx; tx++) {
            assert_int_equal(hm_state_tx_begin(a), HM_OK);
            assert_int_equal(hm_state_tx_begin(b), HM_OK);
            tu_fill(r, 4, seed);
            for (int w = 0; w < 1 + r[1] % 30; w++) {
                uint8_t x[3];
                tu_fill(x, 3, seed);
                char k[32], v[48];
                snprintf(k, sizeof k, "%c/%u", "ipnl"[x[0] % 4], (unsigned)(x[1] * 7 + x[2] % 7));
                if (x[2] % 4 == 0) {
                    assert_int_equal(hm_state_del(a, S(k)), HM_OK);
                    assert_int_equal(hm_state_del(b, S(k)), HM_OK);
                } else {
                    int vl = snprintf(v, sizeof v, "value-%d-%d-%d", base + blk, tx, w);
                    if (x[2] % 11 == 0)
                        vl = 0; /* empty values too */
                    assert_int_equal(hm_state_put(a, S(k), (const uint8_t *)v, (size_t)vl), HM_OK);
                    assert_int_equal(hm_state_put(b, S(k), (const uint8_t *)v, (size_t)vl), HM_OK);
                }
                same_get(a, b, k);
            }
            if (r[2] % 5 == 0) {
                hm_state_tx_rollback(a);
                hm_state_tx_rollback(b);
            } else {
                hm_state_tx_commit(a);
                hm_state_tx_commit(b);
            }
        }
        same_view(a, b, "");
        same_view(a, b, "p/");
        assert_int_equal(hm_state_dirty_count(a), hm_state_dirty_count(b));
        char ak[32], av[32];
        snprintf(ak, sizeof ak, "blk/%08d", base + blk);
        snprintf(av, sizeof av, "block %d", base + blk);
        assert_int_equal(hm_state_aux_put(a, S(ak), S(av)), HM_OK);
        assert_int_equal(hm_state_aux_put(b, S(ak), S(av)), HM_OK);
        uint8_t ra[32], rb[32];
        assert_int_equal(hm_state_root(a, ra), HM_OK);
        assert_int_equal(hm_state_root(b, rb), HM_OK);
        assert_memory_equal(ra, rb, 32);
        bool sync = blk % 4 == 0;
        assert_int_equal(hm_state_commit(a, sync), HM_OK);
        assert_int_equal(hm_state_commit(b, sync), HM_OK);
    }
}

typedef struct {
    hm_store_t *proof_store;
    uint8_t root[32];
    int n;
} proofcheck_t;

static int prove_each(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    proofcheck_t *pc = arg;
    hm_smt_proof_t *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(hm_store_prove(pc->proof_store, p, pc->root, key, klen), HM_OK);
    assert_int_equal(hm_smt_verify(pc->root, key, klen, val ? val : (const uint8_t *)"", vlen, p),
                     HM_OK);
    free(p);
    pc->n++;
    return 0;
}

static void test_matches_memory_store_and_reopens(void **state)
{
    (void)state;
    uint64_t seed = 0x10adb001;
    char *dir = make_tmpdir();
    char *db = sub(dir, "data");
    hm_store_t *mem = NULL, *ldb = open_ok(db);
    assert_int_equal(hm_store_mem_new(&mem), HM_OK);
    hm_state_t *a = NULL, *b = NULL;
    assert_int_equal(hm_state_begin(&a, mem), HM_OK);
    assert_int_equal(hm_state_begin(&b, ldb), HM_OK);
    run_blocks(a, b, &seed, 60, 0);
    same_store(mem, ldb, false);
    same_store(mem, ldb, true);
    uint8_t root[32];
    hm_store_root(ldb, root);
    hm_state_free(b);
    hm_store_free(ldb);

    /* Reopen: same root, data, aux; proofs from disk verify. */
    ldb = open_ok(db);
    uint8_t root2[32];
    hm_store_root(ldb, root2);
    assert_memory_equal(root, root2, 32);
    same_store(mem, ldb, false);
    same_store(mem, ldb, true);
    proofcheck_t pc = {ldb, {0}, 0};
    memcpy(pc.root, root, 32);
    assert_int_equal(hm_store_iterate(ldb, NULL, 0, prove_each, &pc), 0);
    assert_true(pc.n > 100);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(store_get_aux(ldb, S("blk/00000007"), &v, &vl), HM_OK);
    assert_int_equal(vl, strlen("block 7"));
    assert_memory_equal(v, "block 7", vl);
    free(v);
    /* Go on from the reopened store: still identical. */
    assert_int_equal(hm_state_begin(&b, ldb), HM_OK);
    run_blocks(a, b, &seed, 20, 1000);
    same_store(mem, ldb, false);
    store_stats_t st;
    store_get_stats(ldb, &st);
    assert_true(st.commits >= 20);
    assert_true(st.node_reads > 0);
    hm_state_free(a);
    hm_state_free(b);
    hm_store_free(mem);
    hm_store_free(ldb);
    free(db);
    rm_tree(dir);
}

static int count_visit(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)key;
    (void)klen;
    (void)val;
    (void)vlen;
    (*(int *)arg)++;
    return 0;
}

static void test_atomic_commit_and_aux(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    hm_store_t *s = open_ok(dir);
    /* A batch with a bad op writes nothing, not even its good ops. */
    hm_batch_t b = {0};
    assert_int_equal(hm_batch_add(&b, HM_OP_STATE_PUT, S("x"), (const uint8_t *)"1", 1), HM_OK);
    assert_int_equal(hm_batch_add(&b, HM_OP_AUX_PUT, S("y"), (const uint8_t *)"1", 1), HM_OK);
    assert_int_equal(hm_batch_add(&b, HM_OP_NODE_PUT, S("short"), (const uint8_t *)"1", 1), HM_OK);
    b.has_root = true;
    memset(b.root, 9, 32);
    assert_int_equal(s->ops->commit(s, &b, true), HM_ERR_INVALID);
    hm_batch_free(&b);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(hm_store_get(s, S("x"), &v, &vl), HM_ERR_NOT_FOUND);
    assert_int_equal(store_get_aux(s, S("y"), &v, &vl), HM_ERR_NOT_FOUND);
    uint8_t r[32], zero[32] = {0};
    hm_store_root(s, r);
    assert_memory_equal(r, zero, 32);
    /* Prefixes keep state, aux and nodes apart. */
    assert_int_equal(store_put_aux(s, S("k"), S("aux"), true), HM_OK);
    hm_state_t *st = NULL;
    assert_int_equal(hm_state_begin(&st, s), HM_OK);
    assert_int_equal(hm_state_put(st, S("k"), S("state")), HM_OK);
    assert_int_equal(hm_state_commit(st, true), HM_OK);
    assert_int_equal(hm_store_get(s, S("k"), &v, &vl), HM_OK);
    assert_memory_equal(v, "state", 5);
    free(v);
    assert_int_equal(store_get_aux(s, S("k"), &v, &vl), HM_OK);
    assert_memory_equal(v, "aux", 3);
    free(v);
    int n = 0;
    assert_int_equal(hm_store_iterate(s, NULL, 0, count_visit, &n), 0);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(store_iterate_aux(s, NULL, 0, count_visit, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_put_aux(s, S("k"), NULL, 0, false), HM_OK);
    assert_int_equal(store_get_aux(s, S("k"), &v, &vl), HM_ERR_NOT_FOUND);
    hm_state_free(st);
    hm_store_free(s);
    rm_tree(dir);
}

/* A commit beyond STORE_BATCH_KEEP_BYTES (64 MiB) has its write batches
 * replaced afterwards; the store goes on committing, puts and a delete,
 * with the new batches and then with reused ones, and all of it survives
 * a reopen. */
static void test_outsized_commit_then_more(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    hm_store_t *s = open_ok(dir);
    enum { BIG = 1 << 20, NBIG = 70 };
    uint8_t *val = malloc(BIG);
    assert_non_null(val);
    hm_state_t *st = NULL;
    assert_int_equal(hm_state_begin(&st, s), HM_OK);
    for (int i = 0; i < NBIG; i++) {
        char k[16];
        memset(val, 'a' + i % 26, BIG);
        snprintf(k, sizeof k, "big%02d", i);
        assert_int_equal(hm_state_put(st, (const uint8_t *)k, strlen(k), val, BIG), HM_OK);
    }
    assert_int_equal(hm_state_commit(st, false), HM_OK);
    hm_state_free(st);
    for (int round = 0; round < 2; round++) { /* new batches, then reused ones */
        char k[16];
        snprintf(k, sizeof k, "small%d", round);
        assert_int_equal(hm_state_begin(&st, s), HM_OK);
        assert_int_equal(hm_state_put(st, (const uint8_t *)k, strlen(k), S("v")), HM_OK);
        if (round == 1)
            assert_int_equal(hm_state_del(st, S("big00")), HM_OK);
        assert_int_equal(hm_state_commit(st, true), HM_OK);
        hm_state_free(st);
    }
    hm_store_free(s);
    s = open_ok(dir);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(hm_store_get(s, S("big00"), &v, &vl), HM_ERR_NOT_FOUND);
    assert_int_equal(hm_store_get(s, S("big69"), &v, &vl), HM_OK);
    assert_int_equal(vl, BIG);
    memset(val, 'a' + 69 % 26, BIG);
    assert_memory_equal(v, val, BIG);
    free(v);
    assert_int_equal(hm_store_get(s, S("small0"), &v, &vl), HM_OK);
    free(v);
    assert_int_equal(hm_store_get(s, S("small1"), &v, &vl), HM_OK);
    free(v);
    int n = 0;
    assert_int_equal(hm_store_iterate(s, NULL, 0, count_visit, &n), 0);
    assert_int_equal(n, NBIG - 1 + 2);
    free(val);
    hm_store_free(s);
    rm_tree(dir);
}

static void test_bad_directories(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *db = sub(dir, "db");
    hm_store_t *s = open_ok(db), *s2 = NULL;
    /* Locked by an open store. */
    assert_int_equal(store_open(&s2, db, NULL), HM_ERR_STATE);
    assert_null(s2);
    hm_store_free(s);
    /* Missing, with create_if_missing off. */
    store_options_t o;
    store_options_default(&o);
    o.create_if_missing = false;
    char *missing = sub(dir, "missing");
    assert_int_equal(store_open(&s2, missing, &o), HM_ERR_NOT_FOUND);
    /* Not creatable: the parent is a regular file. */
    char *file = sub(dir, "file");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
    char *under = sub(file, "db");
    assert_int_equal(store_open(&s2, under, NULL), HM_ERR_IO);
    /* Corrupt: CURRENT names no manifest. */
    char *cur = sub(db, "CURRENT");
    f = fopen(cur, "w");
    assert_non_null(f);
    fputs("garbage", f);
    fclose(f);
    assert_int_equal(store_open(&s2, db, NULL), HM_ERR_CORRUPT);
    assert_null(s2);
    free(cur);
    free(under);
    free(file);
    free(missing);
    free(db);
    rm_tree(dir);
}

/* Size of the (single) LevelDB log file in dir. */
static off_t log_size(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    off_t size = -1;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".log")) {
            char *p = sub(dir, e->d_name);
            struct stat st;
            assert_int_equal(stat(p, &st), 0);
            size = st.st_size;
            free(p);
        }
    }
    closedir(d);
    assert_true(size >= 0);
    return size;
}

/* Cap the size of any file this process writes (as a full disk would),
 * with SIGXFSZ ignored so that the write fails instead; fsize_uncap puts
 * both back. */
typedef struct {
    struct rlimit old;
    void (*oldsig)(int);
} fsize_cap_t;

static void fsize_cap(fsize_cap_t *c, rlim_t bytes)
{
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &c->old), 0);
    c->oldsig = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = c->old;
    lim.rlim_cur = bytes;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static void fsize_uncap(fsize_cap_t *c)
{
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &c->old), 0);
    signal(SIGXFSZ, c->oldsig);
}

/* A write that fails half way (here: the file size limit, as a full disk
 * would) is the store's last. Without that rule LevelDB 1.23 accepts the
 * next synced write and reports success, but its record lands after the
 * torn one, out of step with the log's blocks, and the next open silently
 * drops it: a vote persisted, sent, then forgotten. Reopened, the store
 * holds everything before the failure and nothing of the failed write. */
static void test_write_failure_is_final(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *db = sub(dir, "db");
    hm_store_t *s = open_ok(db);
    assert_int_equal(store_put_aux(s, S("a"), S("before"), true), HM_OK);
    size_t big = 64 * 1024;
    uint8_t *val = calloc(1, big);
    assert_non_null(val);
    fsize_cap_t cap;
    fsize_cap(&cap, (rlim_t)log_size(db) + 512);
    int rc = store_put_aux(s, S("b"), val, big, true);
    fsize_uncap(&cap);
    assert_int_equal(rc, HM_ERR_IO);
    /* room again, but this handle writes no more */
    assert_int_equal(store_put_aux(s, S("c"), S("after"), true), HM_ERR_IO);
    hm_store_free(s);

    s = open_ok(db);
    uint8_t *v = NULL;
    size_t vlen = 0;
    assert_int_equal(store_get_aux(s, S("a"), &v, &vlen), HM_OK);
    assert_int_equal(vlen, 6);
    assert_memory_equal(v, "before", 6);
    free(v);
    assert_int_equal(store_get_aux(s, S("b"), &v, &vlen), HM_ERR_NOT_FOUND);
    assert_int_equal(store_get_aux(s, S("c"), &v, &vlen), HM_ERR_NOT_FOUND);
    assert_int_equal(store_put_aux(s, S("d"), S("reopened"), true), HM_OK);
    hm_store_free(s);
    free(val);
    free(db);
    rm_tree(dir);
}

/* One commit of key -> value through a session. */
static void commit_kv(hm_store_t *s, const char *key, const char *val)
{
    hm_state_t *st = NULL;
    assert_int_equal(hm_state_begin(&st, s), HM_OK);
    assert_int_equal(hm_state_put(st, S(key), S(val)), HM_OK);
    assert_int_equal(hm_state_commit(st, true), HM_OK);
    hm_state_free(st);
}

static void prove_kv(hm_store_t *s, const uint8_t root[32], const char *key, const char *val)
{
    hm_smt_proof_t *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(hm_store_prove(s, p, root, S(key)), HM_OK);
    assert_int_equal(hm_smt_verify(root, S(key), S(val), p), HM_OK);
    free(p);
}

static leveldb_t *raw_open(const char *dir, bool create)
{
    leveldb_options_t *o = leveldb_options_create();
    leveldb_options_set_create_if_missing(o, create);
    char *err = NULL;
    leveldb_t *db = leveldb_open(o, dir, &err);
    leveldb_options_destroy(o);
    assert_null(err);
    assert_non_null(db);
    return db;
}

/* Put one record straight into the LevelDB database at dir. */
static void raw_put(const char *dir, bool create, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    leveldb_t *db = raw_open(dir, create);
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    char *err = NULL;
    leveldb_put(db, wo, key, klen, val, vlen, &err);
    assert_null(err);
    leveldb_writeoptions_destroy(wo);
    leveldb_close(db);
}

/* Every node on disk is stored under locator || its own hash. Out: the
 * set of locators seen (bit i: locator i, for locators below 64). */
static uint64_t check_node_db(const char *nodes, size_t *count)
{
    leveldb_t *db = raw_open(nodes, false);
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_iterator_t *it = leveldb_create_iterator(db, ro);
    uint64_t seen = 0;
    *count = 0;
    for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        assert_int_equal(kl, 40);
        uint8_t h[32];
        if (vl == HM_SMT_LEAF_LEN && v[0] == 'L') {
            hm_smt_leaf_hash(h, v + 1, v + 33);
        } else {
            assert_int_equal(vl, HM_SMT_NODE_LEN);
            assert_int_equal(v[0], 'N');
            hm_smt_node_hash(h, v + 2, v + 34);
            /* a child's locator is never later than its parent's */
            assert_true(hm_get_u64be(v + 66) <= hm_get_u64be(k));
            assert_true(hm_get_u64be(v + 74) <= hm_get_u64be(k));
        }
        assert_memory_equal(h, k + 8, 32);
        uint64_t loc = hm_get_u64be(k);
        if (loc < 64)
            seen |= (uint64_t)1 << loc;
        (*count)++;
    }
    leveldb_iter_destroy(it);
    leveldb_readoptions_destroy(ro);
    leveldb_close(db);
    return seen;
}

/* A store with an 8-slot node cache: nodes are read from disk, so by their
 * locators. */
static hm_store_t *open_uncached(const char *dir)
{
    store_options_t o;
    store_options_default(&o);
    o.node_cache_slots = 8;
    hm_store_t *s = NULL;
    assert_int_equal(store_open(&s, dir, &o), HM_OK);
    return s;
}

static void test_node_database(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *db = sub(dir, "db");
    char *nodes = sub(db, "nodes");
    hm_store_t *s = open_uncached(db);
    commit_kv(s, "i/a", "1");
    uint8_t root1[32];
    hm_store_root(s, root1);
    commit_kv(s, "i/b", "2");
    commit_kv(s, "i/c", "3");
    commit_kv(s, "i/a", "4");
    /* many keys, so that paths are deep and cross several commits */
    uint64_t seed = 0x5eed;
    for (int c = 0; c < 3; c++) {
        hm_state_t *st = NULL;
        assert_int_equal(hm_state_begin(&st, s), HM_OK);
        for (int i = 0; i < 200; i++) {
            uint8_t r[2];
            tu_fill(r, 2, &seed);
            char k[32];
            snprintf(k, sizeof k, "p/%u", (unsigned)(r[0] << 8 | r[1]) % 300);
            assert_int_equal(hm_state_put(st, S(k), S("v")), HM_OK);
        }
        assert_int_equal(hm_state_commit(st, true), HM_OK);
        hm_state_free(st);
    }
    commit_kv(s, "i/a", "4");
    uint8_t root7[32];
    hm_store_root(s, root7);
    proofcheck_t pc = {s, {0}, 0};
    memcpy(pc.root, root7, 32);
    assert_int_equal(hm_store_iterate(s, NULL, 0, prove_each, &pc), 0);
    assert_true(pc.n > 200);
    uint8_t root4[32];
    hm_store_root(s, root4);
    hm_store_free(s);

    /* The nodes are in dir/nodes, one locator per commit, in commit order. */
    size_t n = 0;
    assert_int_equal(check_node_db(nodes, &n), 0x1fe); /* locators 1..8 */
    assert_true(n > 300);

    /* A crash after the node write and before the main one leaves nodes
     * under the next locator that no root refers to: the store opens at
     * its last root, proves old and new roots, and its next commit reuses
     * the locator without harm. */
    uint8_t key[HM_NODE_KEY_LEN], leaf[HM_SMT_LEAF_LEN] = {'L'}, kh[32], vh[32], lh[32];
    /* the leaf the next commit writes under the same locator, and so
     * overwrites */
    hm_smt_key_hash(kh, S("i/d"));
    hm_smt_value_hash(vh, S("5"));
    memcpy(leaf + 1, kh, 32);
    memcpy(leaf + 33, vh, 32);
    hm_smt_leaf_hash(lh, kh, vh);
    hm_node_key(key, 9, lh);
    raw_put(nodes, false, key, sizeof key, leaf, sizeof leaf);
    s = open_uncached(db);
    uint8_t r[32];
    hm_store_root(s, r);
    assert_memory_equal(r, root7, 32);
    pc.proof_store = s;
    pc.n = 0;
    assert_int_equal(hm_store_iterate(s, NULL, 0, prove_each, &pc), 0);
    assert_true(pc.n > 200);
    prove_kv(s, root4, "i/a", "4"); /* older roots, after reopening */
    prove_kv(s, root1, "i/a", "1");
    commit_kv(s, "i/d", "5");
    hm_store_root(s, r);
    prove_kv(s, r, "i/d", "5");
    prove_kv(s, r, "i/b", "2");
    hm_store_free(s);
    s = open_uncached(db);
    prove_kv(s, r, "i/c", "3");
    /* A root the store never had has no locator. */
    hm_smt_proof_t *p = malloc(sizeof *p);
    assert_non_null(p);
    uint8_t never[32];
    memset(never, 0x77, 32);
    assert_int_equal(hm_store_prove(s, p, never, S("i/a")), HM_ERR_NOT_FOUND);
    free(p);
    hm_store_free(s);

    /* Without its node database the store is refused, not silently empty. */
    nftw(nodes, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    hm_store_t *bad = NULL;
    assert_int_equal(store_open(&bad, db, NULL), HM_ERR_CORRUPT);
    assert_null(bad);

    /* A store of the first format (nodes keyed by hash alone) is refused. */
    char *old = sub(dir, "old");
    raw_put(old, true, "mformat", 7, "hallmark-store-1", 16);
    assert_int_equal(store_open(&bad, old, NULL), HM_ERR_CORRUPT);
    assert_null(bad);
    char *oldnodes = sub(old, "nodes");
    struct stat sb;
    assert_int_equal(stat(oldnodes, &sb), -1); /* and nothing was created in it */
    free(oldnodes);
    free(old);

    /* A node database left over from another store is not adopted. */
    char *left = sub(dir, "left");
    char *leftnodes = sub(left, "nodes");
    assert_int_equal(mkdir(left, 0700), 0);
    raw_put(leftnodes, true, key, sizeof key, leaf, sizeof leaf);
    assert_int_equal(store_open(&bad, left, NULL), HM_ERR_CORRUPT);
    assert_null(bad);
    free(leftnodes);
    free(left);
    free(nodes);
    free(db);
    rm_tree(dir);
}

/* A stored node too long to be an SMT node (a damaged disk) is reported as
 * corruption when read, whether the cache is cold or not, and the store
 * keeps working for what it can still prove. */
static void test_oversized_node_is_corrupt(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *db = sub(dir, "db");
    char *nodes = sub(db, "nodes");
    hm_store_t *s = open_uncached(db);
    commit_kv(s, "i/a", "1");
    uint8_t root[32], key[HM_NODE_KEY_LEN];
    uint64_t loc = 0;
    hm_store_root(s, root);
    assert_int_equal(hm_store_root_loc(s, root, &loc), HM_OK);
    hm_store_free(s);

    uint8_t big[HM_SMT_MAX_NODE_LEN + 1];
    memset(big, 'N', sizeof big);
    hm_node_key(key, loc, root);
    raw_put(nodes, false, key, sizeof key, big, sizeof big);
    s = open_uncached(db);
    hm_smt_proof_t *p = malloc(sizeof *p);
    assert_non_null(p);
    for (int i = 0; i < 2; i++) /* nothing got cached the first time */
        assert_int_equal(hm_store_prove(s, p, root, S("i/a")), HM_ERR_CORRUPT);
    free(p);
    hm_store_free(s);
    free(nodes);
    free(db);
    rm_tree(dir);
}

/* The commit's two writes fail the same way as one: the node write (first)
 * or the main write (second) failing is the store's last write, and the
 * reopened store holds the previous block whole — after a failed main
 * write, with the new nodes left unreferenced under the next locator. */
static void test_node_write_failures(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    for (int which = 0; which < 2; which++) { /* 0: node write fails; 1: main */
        char name[16];
        snprintf(name, sizeof name, "db%d", which);
        char *db = sub(dir, name);
        char *nodes = sub(db, "nodes");
        hm_store_t *s = open_ok(db);
        commit_kv(s, "i/a", "before");
        uint8_t before[32];
        hm_store_root(s, before);
        off_t nl = log_size(nodes), ml = log_size(db);
        size_t big = 64 * 1024;
        uint8_t *val = calloc(1, big);
        assert_non_null(val);
        hm_state_t *st = NULL;
        assert_int_equal(hm_state_begin(&st, s), HM_OK);
        assert_int_equal(hm_state_put(st, S("i/b"), val, big), HM_OK);
        for (int i = 0; i < 50; i++) {
            char k[16];
            snprintf(k, sizeof k, "p/%d", i);
            assert_int_equal(hm_state_put(st, S(k), S("v")), HM_OK);
        }
        /* 50 keys make a node batch of several KiB; the main batch carries
         * the 64 KiB value */
        fsize_cap_t cap;
        fsize_cap(&cap, which == 0 ? (rlim_t)nl + 256 : (rlim_t)(nl > ml ? nl : ml) + 32 * 1024);
        int rc = hm_state_commit(st, true);
        fsize_uncap(&cap);
        assert_int_equal(rc, HM_ERR_IO);
        if (which == 1)
            assert_true(log_size(nodes) > nl); /* the nodes did land */
        uint8_t r[32];
        hm_store_root(s, r);
        assert_memory_equal(r, before, 32);
        hm_state_free(st);
        /* no further writes through this handle */
        assert_int_equal(store_put_aux(s, S("x"), S("y"), true), HM_ERR_IO);
        hm_store_free(s);

        s = open_uncached(db);
        hm_store_root(s, r);
        assert_memory_equal(r, before, 32);
        prove_kv(s, before, "i/a", "before");
        uint8_t *v = NULL;
        size_t vl = 0;
        assert_int_equal(hm_store_get(s, S("i/b"), &v, &vl), HM_ERR_NOT_FOUND);
        commit_kv(s, "i/c", "after");
        hm_store_root(s, r);
        prove_kv(s, r, "i/c", "after");
        prove_kv(s, r, "i/a", "before");
        hm_store_free(s);
        free(val);
        free(nodes);
        free(db);
    }
    rm_tree(dir);
}

/* Nice value of thread tid of this process, or -100 if unreadable. */
static int thread_nice(const char *tid)
{
    char path[300], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -100;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* comm may hold spaces */
    int nice = -100;
    /* after ") ": state(3) ... priority(18) nice(19) */
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %d",
                    &nice) != 1)
        nice = -100;
    return nice;
}

/* LevelDB's flush/compaction thread is started niced (store_options_t
 * compaction_nice, default 10), and this thread is not. */
static void test_compaction_thread_niced(void **state)
{
    (void)state;
    char self[32];
    snprintf(self, sizeof self, "%ld", (long)syscall(SYS_gettid));
    int base = thread_nice(self);
    assert_true(base > -100);
    char *dir = make_tmpdir();
    char *db = sub(dir, "db");
    hm_store_t *s = open_ok(db);
    uint8_t val[4096] = {0};
    for (int i = 0; i < 64; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        assert_int_equal(store_put_aux(s, S(k), val, sizeof val, false), HM_OK);
    }
    hm_store_free(s);
    int want = base + 10 > 19 ? 19 : base + 10, found = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.' && strcmp(e->d_name, self) != 0 && thread_nice(e->d_name) == want)
            found++;
    closedir(d);
    assert_int_equal(thread_nice(self), base);
    assert_int_equal(found, 1);
    free(db);
    rm_tree(dir);
}

/* Whether this process has a mapping of exactly kib KiB whose VmFlags
 * include "hg" (madvise(MADV_HUGEPAGE)). */
static bool mapping_has_hugepage_advice(unsigned long kib)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    bool in = false, found = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long sz;
        if (sscanf(line, "Size: %lu kB", &sz) == 1)
            in = sz == kib;
        else if (in && strncmp(line, "VmFlags:", 8) == 0) {
            if (strstr(line, " hg"))
                found = true;
            in = false;
        }
    }
    fclose(f);
    return found;
}

/* node_cache_huge_pages advises the node cache's mapping, and only then;
 * the cache works the same either way. */
static void test_node_cache_huge_pages(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *db = sub(dir, "db");
    store_options_t o;
    store_options_default(&o);
    assert_true(o.node_cache_huge_pages);
    o.node_cache_slots = (size_t)1 << 16; /* 8,192 sets of 8 slots */
    unsigned long kib = (unsigned long)(((size_t)1 << 16) * 131 / 1024);
    for (int on = 0; on < 2; on++) {
        o.node_cache_huge_pages = on;
        hm_store_t *s = NULL;
        assert_int_equal(store_open(&s, db, &o), HM_OK);
        /* a kernel without THP refuses the advice (the store opens anyway) */
        if (!on || access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0)
            assert_int_equal(mapping_has_hugepage_advice(kib), on);
        hm_state_t *st = NULL;
        assert_int_equal(hm_state_begin(&st, s), HM_OK);
        for (int i = 0; i < 300; i++) {
            char k[16];
            snprintf(k, sizeof k, "i/%d/%d", on, i);
            assert_int_equal(hm_state_put(st, S(k), S("v")), HM_OK);
        }
        assert_int_equal(hm_state_commit(st, true), HM_OK);
        hm_state_free(st);
        uint8_t root[32];
        hm_store_root(s, root);
        hm_smt_proof_t p;
        char k[16];
        snprintf(k, sizeof k, "i/%d/7", on);
        assert_int_equal(hm_store_prove(s, &p, root, S(k)), HM_OK);
        assert_int_equal(hm_smt_verify(root, S(k), S("v"), &p), HM_OK);
        hm_store_free(s);
    }
    free(db);
    rm_tree(dir);
}

/* One block putting n keys "g/<from>".."g/<from+n-1>" (value v). */
static void commit_range(hm_store_t *s, int from, int n, const char *v)
{
    hm_state_t *st = NULL;
    assert_int_equal(hm_state_begin(&st, s), HM_OK);
    for (int i = from; i < from + n; i++) {
        char k[32];
        snprintf(k, sizeof k, "g/%d", i);
        assert_int_equal(hm_state_put(st, S(k), S(v)), HM_OK);
    }
    assert_int_equal(hm_state_commit(st, true), HM_OK);
    hm_state_free(st);
}

/* The node cache starts at 16,384 slots and grows while half full, a
 * bounded number of sets per commit, up to node_cache_slots; a split moves
 * half of a set's entries to a new set, where lookups find them: an update
 * of old keys after growing reads every node from the cache. */
static void test_node_cache_grows(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *db = sub(dir, "db");
    store_options_t o;
    store_options_default(&o);
    o.node_cache_slots = (size_t)1 << 16;
    hm_store_t *s = NULL;
    assert_int_equal(store_open(&s, db, &o), HM_OK);
    store_stats_t st0, st1;
    store_get_stats(s, &st0);
    assert_int_equal(st0.node_cache_slots, 16384);
    uint64_t last = st0.node_cache_slots;
    int steps = 0;
    for (int b = 0; b < 12 && last < o.node_cache_slots; b++) {
        if (b < 8)
            commit_range(s, b * 1000, 1000, "v1"); /* new keys */
        else
            commit_range(s, 0, 8000, b % 2 ? "v1b" : "v1"); /* new nodes, no new keys */
        store_get_stats(s, &st1);
        assert_true(st1.node_cache_slots >= last && st1.node_cache_slots <= o.node_cache_slots);
        assert_int_equal(st1.node_cache_slots % 8, 0);
        steps += st1.node_cache_slots > last;
        last = st1.node_cache_slots;
    }
    assert_true(steps >= 3); /* a few sets per commit, not all at once */
    assert_int_equal(st1.node_cache_slots, 65536);
    /* 8,000 keys: ~19,000 live nodes in 65,536 slots, dead ones demoted */
    store_get_stats(s, &st0);
    commit_range(s, 0, 8000, "v2");
    store_get_stats(s, &st1);
    uint64_t reads = st1.node_reads - st0.node_reads;
    uint64_t hits = st1.node_cache_hits - st0.node_cache_hits;
    assert_true(reads > 8000);
    /* 19,604 of 19,691 here (19,666 with the whole cache from the start:
     * a set of 8 that overflows while the cache is half full evicts; a
     * wrong split would lose about half of the entries) */
    assert_true(hits * 100 >= reads * 99);
    uint8_t root[32];
    hm_store_root(s, root);
    for (int i = 0; i < 8000; i += 997) {
        char k[32];
        snprintf(k, sizeof k, "g/%d", i);
        hm_smt_proof_t p;
        assert_int_equal(hm_store_prove(s, &p, root, S(k)), HM_OK);
        assert_int_equal(hm_smt_verify(root, S(k), S("v2"), &p), HM_OK);
    }
    hm_store_free(s);
    free(db);
    rm_tree(dir);
}

int main(void)
{
    /* The error tests log expected failures; keep the TAP output clean. */
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull)
        hm_log_set_stream(devnull);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_memory_store_and_reopens),
        cmocka_unit_test(test_atomic_commit_and_aux),
        cmocka_unit_test(test_outsized_commit_then_more),
        cmocka_unit_test(test_bad_directories),
        cmocka_unit_test(test_write_failure_is_final),
        cmocka_unit_test(test_node_database),
        cmocka_unit_test(test_oversized_node_is_corrupt),
        cmocka_unit_test(test_node_write_failures),
        cmocka_unit_test(test_compaction_thread_niced),
        cmocka_unit_test(test_node_cache_huge_pages),
        cmocka_unit_test(test_node_cache_grows),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (devnull) {
        hm_log_set_stream(stderr);
        fclose(devnull);
    }
    return rc;
}
