/* node/storage — see storage.h. Owns the LevelDB handle, the key layout
 * and the in-process SMT node cache. The only production file that includes
 * leveldb/c.h or calls leveldb_free; must not depend on the rest of node/
 * (storage tests link only this and lib/). */
#include "node/storage.h"

#include <errno.h>
#include <leveldb/c.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/kvmap.h"
#include "lib/log.h"

#define P_STATE 's'
#define P_NODE 'n' /* names the op kind only: node keys, in their own database, have no prefix */
#define P_AUX 'a'
#define P_META 'm'

static const char k_root[] = "mroot";  /* root(32) || root locator(8) || next locator(8) */
/* and "mR" || root(32) -> that root's locator(8), for every root the store had */
static const char k_format[] = "mformat";
static const char v_format[] = "hallmark-store-2";
static const char v_format1[] = "hallmark-store-1";

/* Set-associative cache of SMT nodes, keyed by hash alone (NC_WAYS ways
 * per set; the way with the oldest use is evicted). Nodes are immutable
 * and content-addressed, so a cached entry can never be stale; copies of
 * one hash stored under different locators differ only in the locators
 * they record for their children, and the cache only ever holds copies
 * that were committed or read from disk, whose locators all lead to
 * committed copies — so any copy serves any reader. Policy, for an SMT whose live nodes are
 * mostly cold (at 10^6 keys a leaf is touched once per ~1,000 blocks):
 * nodes an update read are demoted at commit (they were replaced, see
 * readlog_add), new nodes come in as the most recent (write-through), so
 * dead nodes leave first and the live tree stays; plain LRU kept the dead
 * (recently read) nodes and let the hit rate at 10^6 keys fall to ~75%.
 * Memory: NC_SLOT_BYTES per slot, mapped once at open, used from a few
 * MiB up as the store fills it (cache_grow). */
#define NC_WAYS 8
typedef struct {
    uint8_t hash[32];
    uint8_t len; /* 0: empty slot */
    uint8_t node[HM_SMT_MAX_NODE_LEN];
} node_slot_t;

typedef struct {
    uint64_t tag[NC_WAYS];   /* bytes 8..15 of the hash, low bit forced; 0: empty */
    uint64_t stamp[NC_WAYS]; /* last use (0: demoted); smallest is evicted */
    node_slot_t slot[NC_WAYS];
} node_set_t;

#define NC_SLOT_BYTES (sizeof(node_set_t) / NC_WAYS)
_Static_assert(NC_SLOT_BYTES == 131, "node_cache_slots is documented at 131 bytes per slot");

typedef struct {
    hm_store_t base;
    leveldb_t *db;  /* state, aux, meta */
    leveldb_t *ndb; /* SMT nodes, keyed locator || hash (dir/nodes) */
    leveldb_options_t *opts, *nopts;
    leveldb_cache_t *cache;
    const leveldb_filterpolicy_t *filter;
    leveldb_readoptions_t *ropts;
    leveldb_writeoptions_t *wsync, *wnosync;
    /* A commit's two write batches (main, nodes), empty between commits
     * (ldb_commit clears them when it is done) and used again: each keeps
     * the memory it grew to, so a commit neither regrows ~4 MiB of batch
     * by doubling nor faults it in afresh. */
    leveldb_writebatch_t *wb, *nb;
    uint8_t root[32];
    uint64_t root_loc;
    uint64_t next_loc; /* locator of the next commit's nodes */
    node_set_t *sets; /* mmap'd, nsets_bytes */
    size_t nsets;     /* a power of two: the low bits of a hash pick the
                         set; sets below nsplit are split (cache_grow):
                         nsets + nsplit in use, up to nsets_max */
    size_t nsplit;
    size_t nsets_max; /* mapped */
    size_t nsets_bytes;
    size_t nfilled; /* filled slots (refilled, never emptied; a split moves them) */
    uint32_t *readlog; /* slots (set * NC_WAYS + way) read since the last commit */
    size_t nread, capread;
    uint64_t clock; /* counts cache uses; 64 bits never wrap */
    store_stats_t stats;
    uint8_t *kbuf; /* scratch for prefixed keys */
    size_t kcap;
    char *dir;         /* the database directory, for messages */
    char *ndir;        /* dir/nodes */
    bool write_failed; /* a write failed: no more until reopened */
} ldb_store_t;

static const struct hm_store_ops ldb_ops;

/* A commit that put more than this into its batches (a loaded block puts
 * ~4 MiB) has them freed afterwards rather than kept for the next. */
#define STORE_BATCH_KEEP_BYTES ((size_t)64 << 20)

void store_options_default(store_options_t *o)
{
    o->create_if_missing = true;
    o->block_cache_bytes = 256u << 20;
    o->node_cache_slots = 1u << 22;
    o->node_cache_huge_pages = true;
    o->compaction_nice = 10;
}

/* Map a LevelDB error string to our codes; log it; free it. */
static int ldb_err(char *err, const char *what, int dflt)
{
    int rc = dflt;
    if (strncmp(err, "Corruption", 10) == 0)
        rc = HM_ERR_CORRUPT;
    else if (strstr(err, "lock") && (strstr(err, "temporarily unavailable") ||
                                     strstr(err, "already held")))
        rc = HM_ERR_STATE;
    else if (strstr(err, "does not exist"))
        rc = HM_ERR_NOT_FOUND;
    HM_LOG_ERR("storage", "%s: %s", what, err);
    leveldb_free(err);
    return rc;
}

/* Key `prefix || key` in the store's scratch buffer. */
static int pkey(ldb_store_t *s, char prefix, const uint8_t *key, size_t klen, const char **out,
                size_t *olen)
{
    if (klen >= SIZE_MAX - 1)
        return HM_ERR_OVERFLOW;
    if (klen + 1 > s->kcap) {
        size_t cap = klen + 1 < 256 ? 256 : klen + 1;
        uint8_t *p = realloc(s->kbuf, cap);
        if (!p)
            return HM_ERR_NOMEM;
        s->kbuf = p;
        s->kcap = cap;
    }
    s->kbuf[0] = (uint8_t)prefix;
    if (klen)
        memcpy(s->kbuf + 1, key, klen);
    *out = (const char *)s->kbuf;
    *olen = klen + 1;
    return HM_OK;
}

static int db_get(ldb_store_t *s, leveldb_t *db, const char *k, size_t klen, uint8_t **val,
                  size_t *vlen)
{
    char *err = NULL;
    size_t n = 0;
    char *v = leveldb_get(db, s->ropts, k, klen, &n, &err);
    if (err)
        return ldb_err(err, "get", HM_ERR_IO);
    if (!v)
        return HM_ERR_NOT_FOUND;
    uint8_t *copy = malloc(n ? n : 1);
    if (copy && n)
        memcpy(copy, v, n);
    leveldb_free(v);
    if (!copy)
        return HM_ERR_NOMEM;
    *val = copy;
    *vlen = n;
    return HM_OK;
}

static int raw_get(ldb_store_t *s, const char *k, size_t klen, uint8_t **val, size_t *vlen)
{
    return db_get(s, s->db, k, klen, val, vlen);
}

/* Key "mR" || root of a root's locator record. */
static void rootloc_key(uint8_t out[2 + 32], const uint8_t root[32])
{
    out[0] = 'm';
    out[1] = 'R';
    memcpy(out + 2, root, 32);
}

static int prefixed_get(ldb_store_t *s, char prefix, const uint8_t *key, size_t klen,
                        uint8_t **val, size_t *vlen)
{
    const char *k;
    size_t kl;
    int rc = pkey(s, prefix, key, klen, &k, &kl);
    if (rc != HM_OK)
        return rc;
    return raw_get(s, k, kl, val, vlen);
}

static int ldb_get(hm_store_t *base, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen)
{
    return prefixed_get((ldb_store_t *)base, P_STATE, key, klen, val, vlen);
}

static int ldb_get_aux(hm_store_t *base, const uint8_t *key, size_t klen, uint8_t **val,
                       size_t *vlen)
{
    return prefixed_get((ldb_store_t *)base, P_AUX, key, klen, val, vlen);
}

static node_set_t *set_for(ldb_store_t *s, const uint8_t hash[32], uint64_t *tag)
{
    uint64_t x;
    memcpy(&x, hash, sizeof x); /* hashes are uniform: any 8 bytes index */
    memcpy(tag, hash + 8, sizeof *tag);
    *tag |= 1;
    size_t i = x & (s->nsets - 1);
    if (i < s->nsplit) /* split already (cache_grow) */
        i = x & (2 * s->nsets - 1);
    return &s->sets[i];
}

/* Remember that slot (set, way) was read. An SMT update reads exactly the
 * nodes on the paths it rewrites, so once the block commits those nodes are
 * out of the current tree: ldb_commit makes them the first to evict (they
 * stay readable, from LevelDB, for proofs at old roots). Without this, LRU
 * keeps a block's replaced nodes (recently used) and evicts live nodes
 * not touched for a while, e.g. most leaves. (A node read outside an
 * update, e.g. for a proof, is demoted too: it may cost one later miss.)
 * lib/smt hands an old leaf it keeps at a new depth to the writer again,
 * so such a leaf is re-cached as new. Capped: past NC_READLOG_MAX
 * reads between commits (a big scan) the rest are not recorded. */
#define NC_READLOG_MAX ((size_t)1 << 22)
static void readlog_add(ldb_store_t *s, const node_set_t *set, int way)
{
    if (s->nread == s->capread) {
        if (s->capread >= NC_READLOG_MAX)
            return;
        size_t cap = s->capread ? s->capread * 2 : 4096;
        uint32_t *p = realloc(s->readlog, cap * sizeof *p);
        if (!p)
            return; /* only a hint */
        s->readlog = p;
        s->capread = cap;
    }
    s->readlog[s->nread++] = (uint32_t)((size_t)(set - s->sets) * NC_WAYS + (size_t)way);
}

/* Make every slot read since the last commit the oldest of its set. */
static void readlog_demote(ldb_store_t *s)
{
    for (size_t i = 0; i < s->nread; i++) {
        uint32_t x = s->readlog[i];
        s->sets[x / NC_WAYS].stamp[x % NC_WAYS] = 0;
    }
    s->nread = 0;
}

/* The cached slot of hash, or NULL. A hit counts as a use. */
static node_slot_t *cache_find(ldb_store_t *s, const uint8_t hash[32])
{
    uint64_t tag;
    node_set_t *set = set_for(s, hash, &tag);
    node_slot_t *ways = set->slot;
    for (int w = 0; w < NC_WAYS; w++)
        if (set->tag[w] == tag && memcmp(ways[w].hash, hash, 32) == 0) {
            set->stamp[w] = ++s->clock;
            readlog_add(s, set, w);
            return &ways[w];
        }
    return NULL;
}

/* Cache a node; returns its set and way (way -1: not cached). */
static int cache_put(ldb_store_t *s, const uint8_t hash[32], const uint8_t *node, size_t len,
                     node_set_t **setp)
{
    if (len == 0 || len > HM_SMT_MAX_NODE_LEN)
        return -1;
    uint64_t tag;
    node_set_t *set = set_for(s, hash, &tag);
    node_slot_t *ways = set->slot;
    int victim = 0; /* the ways of a set fill in order (cache_grow keeps it so) */
    for (int w = 0; w < NC_WAYS; w++) {
        if (set->tag[w] == tag && memcmp(ways[w].hash, hash, 32) == 0) {
            victim = w; /* already there (this copy's locators are as good) */
            break;
        }
        if (set->tag[w] == 0) {
            victim = w;
            break;
        }
        if (set->stamp[w] < set->stamp[victim])
            victim = w;
    }
    node_slot_t *e = &ways[victim];
    if (set->tag[victim] == 0)
        s->nfilled++;
    set->tag[victim] = tag;
    set->stamp[victim] = ++s->clock;
    memcpy(e->hash, hash, 32);
    memcpy(e->node, node, len);
    e->len = (uint8_t)len;
    *setp = set;
    return victim;
}

/* The cache starts with NC_MIN_SETS sets and grows while at least half of
 * its slots are filled: a small store (a test, a local demo) keeps a few
 * MiB resident, a validator's grows to all of node_cache_slots within its
 * first ~10^5 txs. It grows by linear hashing: splitting set nsplit moves
 * the entries whose hash has bit log2(nsets) set to set nsplit + nsets,
 * where set_for will look for them from then on; every entry keeps its
 * stamp and both sets stay filled in order. When every set below nsets is
 * split, nsets doubles. A commit splits at most `budget` sets, so growing
 * never stalls one block (doubling the whole cache in one commit did:
 * four validators at 1,000 tx/s had p99 75-161 ms and max latencies of
 * 0.3-1.4 s, against ~60 and ~110 ms). Slot positions change, so it runs
 * with an empty read log only (at the end of a commit). */
#define NC_MIN_SETS ((size_t)1 << 11) /* 16,384 slots, 2 MiB */
static void cache_grow(ldb_store_t *s, size_t budget)
{
    while (budget-- > 0 && s->nread == 0 && s->nsets < s->nsets_max &&
           s->nfilled * 2 >= (s->nsets + s->nsplit) * NC_WAYS) {
        node_set_t *a = &s->sets[s->nsplit], *b = &s->sets[s->nsplit + s->nsets]; /* b: unused */
        int na = 0, nb = 0;
        for (int w = 0; w < NC_WAYS && a->tag[w] != 0; w++) {
            uint64_t x;
            memcpy(&x, a->slot[w].hash, sizeof x); /* as set_for */
            node_set_t *to = (x & s->nsets) ? b : a;
            int tw = to == b ? nb++ : na++;
            if (to == a && tw == w)
                continue;
            to->tag[tw] = a->tag[w];
            to->stamp[tw] = a->stamp[w];
            to->slot[tw] = a->slot[w];
        }
        for (int w = na; w < NC_WAYS; w++) {
            a->tag[w] = 0;
            a->stamp[w] = 0;
            a->slot[w].len = 0;
        }
        if (++s->nsplit == s->nsets) {
            s->nsets *= 2;
            s->nsplit = 0;
        }
    }
}

static int ldb_get_node(hm_store_t *base, const uint8_t hash[32], uint64_t loc,
                        uint8_t out[HM_SMT_MAX_NODE_LEN], size_t *len)
{
    ldb_store_t *s = (ldb_store_t *)base;
    s->stats.node_reads++;
    node_slot_t *e = cache_find(s, hash);
    if (e) {
        memcpy(out, e->node, e->len); /* len <= HM_SMT_MAX_NODE_LEN: cache_put */
        *len = e->len;
        s->stats.node_cache_hits++;
        return HM_OK;
    }
    uint8_t k[HM_NODE_KEY_LEN], *val = NULL;
    size_t vlen = 0;
    hm_node_key(k, loc, hash);
    int rc = db_get(s, s->ndb, (const char *)k, sizeof k, &val, &vlen);
    if (rc == HM_OK && vlen > HM_SMT_MAX_NODE_LEN)
        rc = HM_ERR_CORRUPT;
    if (rc == HM_OK) {
        memcpy(out, val, vlen);
        *len = vlen;
        node_set_t *set;
        int way = cache_put(s, hash, val, vlen, &set);
        if (way >= 0)
            readlog_add(s, set, way);
    }
    free(val);
    return rc;
}

static int iterate_prefixed(ldb_store_t *s, char prefix, const uint8_t *p, size_t plen,
                            hm_kv_visit_fn fn, void *arg)
{
    const char *k;
    size_t kl;
    int rc = pkey(s, prefix, p, plen, &k, &kl);
    if (rc != HM_OK)
        return rc;
    /* The scratch buffer is reused by callbacks that read: keep a copy. */
    char *seek = malloc(kl);
    if (!seek)
        return HM_ERR_NOMEM;
    memcpy(seek, k, kl);
    leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
    rc = 0;
    for (leveldb_iter_seek(it, seek, kl); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t ikl = 0, ivl = 0;
        const char *ik = leveldb_iter_key(it, &ikl);
        if (ikl < kl || memcmp(ik, seek, kl) != 0)
            break;
        const char *iv = leveldb_iter_value(it, &ivl);
        rc = fn(arg, (const uint8_t *)ik + 1, ikl - 1, (const uint8_t *)iv, ivl);
        if (rc != 0)
            break;
    }
    if (rc == 0) {
        char *err = NULL;
        leveldb_iter_get_error(it, &err);
        if (err)
            rc = ldb_err(err, "iterate", HM_ERR_IO);
    }
    leveldb_iter_destroy(it);
    free(seek);
    return rc;
}

static int ldb_iterate(hm_store_t *base, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                       void *arg)
{
    return iterate_prefixed((ldb_store_t *)base, P_STATE, prefix, plen, fn, arg);
}

static int ldb_iterate_aux(hm_store_t *base, const uint8_t *prefix, size_t plen,
                           hm_kv_visit_fn fn, void *arg)
{
    return iterate_prefixed((ldb_store_t *)base, P_AUX, prefix, plen, fn, arg);
}

static int op_prefix(hm_op_kind_t k, char *p)
{
    switch (k) {
    case HM_OP_STATE_PUT:
    case HM_OP_STATE_DEL:
        *p = P_STATE;
        return HM_OK;
    case HM_OP_NODE_PUT:
        *p = P_NODE;
        return HM_OK;
    case HM_OP_AUX_PUT:
    case HM_OP_AUX_DEL:
        *p = P_AUX;
        return HM_OK;
    }
    return HM_ERR_INVALID;
}

/* One op of a batch, as it will be keyed in LevelDB. */
typedef struct {
    char prefix;
    const hm_op_t *op;
    size_t idx; /* position in the batch: keeps the sort stable */
} sorted_op_t;

static int cmp_sorted_op(const void *pa, const void *pb)
{
    const sorted_op_t *a = pa, *b = pb;
    if (a->prefix != b->prefix)
        return (unsigned char)a->prefix < (unsigned char)b->prefix ? -1 : 1;
    int c = hm_bytes_cmp(a->op->key, a->op->klen, b->op->key, b->op->klen);
    if (c)
        return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Order a commit's node ops (all under one locator) by their hash's top 32
 * bits: LSD radix sort, four stable byte passes over (top, index) pairs,
 * O(n). Out: ord[0..n) = indices into ops in that order; tmp has n slots. */
typedef struct {
    uint32_t top, i;
} node_ord_t;

static void sort_node_ops(node_ord_t *ord, node_ord_t *tmp, size_t n)
{
    for (int shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((ord[i].top >> shift) & 0xffu) + 1]++;
        for (int d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++)
            tmp[count[(ord[i].top >> shift) & 0xffu]++] = ord[i];
        memcpy(ord, tmp, n * sizeof *ord);
    }
}

/* The mount point of the filesystem holding path (out: at most len bytes). */
static void mount_point(const char *path, char *out, size_t len)
{
    char cur[PATH_MAX], parent[PATH_MAX];
    struct stat st, pst;
    if (!realpath(path, cur))
        snprintf(cur, sizeof cur, "%s", path);
    if (stat(cur, &st) == 0)
        for (;;) {
            char *slash = strrchr(cur, '/');
            if (!slash || !strcmp(cur, "/"))
                break;
            size_t plen = slash == cur ? 1 : (size_t)(slash - cur);
            memcpy(parent, cur, plen);
            parent[plen] = '\0';
            if (stat(parent, &pst) != 0 || pst.st_dev != st.st_dev)
                break;
            memcpy(cur, parent, plen + 1);
        }
    snprintf(out, len, "%s", cur);
}

/* A write failed for want of space: say which disk, and how full it is. */
static void log_disk_full(const ldb_store_t *s)
{
    char mnt[PATH_MAX];
    struct statvfs vfs;
    mount_point(s->dir, mnt, sizeof mnt);
    if (statvfs(s->dir, &vfs) == 0)
        HM_LOG_ERR("storage",
                   "the disk holding %s is full (filesystem mounted at %s: %llu KiB free of "
                   "%llu KiB)",
                   s->dir, mnt,
                   (unsigned long long)((uint64_t)vfs.f_bavail * vfs.f_frsize / 1024u),
                   (unsigned long long)((uint64_t)vfs.f_blocks * vfs.f_frsize / 1024u));
    else
        HM_LOG_ERR("storage", "the disk holding %s is full (filesystem mounted at %s)", s->dir,
                   mnt);
}

/* A failed open or write: log err (freed) as what, and which disk is full
 * if that is why. Returns the error code. */
static int ldb_fail(ldb_store_t *s, char *err, const char *what)
{
    bool full = strstr(err, strerror(ENOSPC)) != NULL;
    int rc = ldb_err(err, what, HM_ERR_IO);
    if (full)
        log_disk_full(s);
    return rc;
}

/* Write wb to db; the first failure is the last write of this handle:
 * after a failed write a log may end in a torn record, which LevelDB drops
 * when it reopens the database, but a record written after it would turn
 * it into corruption in the middle of the log. */
static int db_write(ldb_store_t *s, leveldb_t *db, leveldb_writebatch_t *wb, bool sync)
{
    char *err = NULL;
    leveldb_write(db, sync ? s->wsync : s->wnosync, wb, &err);
    if (!err)
        return HM_OK;
    s->write_failed = true;
    int rc = ldb_fail(s, err, "commit");
    HM_LOG_ERR("storage", "no further writes to %s until it is reopened (restart the node)",
               s->dir);
    return rc;
}

/* A commit is two LevelDB writes: the new SMT nodes to the node database,
 * then everything else (state, aux, the root) to the main one, each synced
 * when asked. A crash between the two leaves nodes no root refers to,
 * which are never read: the store still holds all of the block or none of
 * it (DESIGN §5; why two databases: doc/state.md §4). */
static int ldb_commit(hm_store_t *base, const hm_batch_t *b, bool sync)
{
    ldb_store_t *s = (ldb_store_t *)base;
    int rc = HM_OK;
    if (s->write_failed)
        return HM_ERR_IO;
    leveldb_writebatch_t *wb = s->wb, *nb = s->nb;
    size_t bytes = 0; /* put into the two batches */
    /* The main database's ops go into its batch in key order (stable: a
     * key written twice keeps its last write). LevelDB applies a batch by
     * inserting each entry into its memtable skiplist from the head; in key
     * order each search walks mostly the same, cache-hot, nodes as the one
     * before. It is the same set of writes, so the result is identical.
     * Node keys all start with this commit's locator, after every key
     * already there, but lib/smt emits them in tree order, random in the
     * hash that follows: inserted so, each search ended in a cold part of the
     * commit's ~30,000 nodes, and the node database's write was ~22% of a
     * loaded validator's event loop. A radix sort by hash (O(n)) makes
     * each insert land next to the one before. */
    sorted_op_t *so = calloc(b->n ? b->n : 1, sizeof *so);
    node_ord_t *nord = calloc(b->n ? 2 * b->n : 1, sizeof *nord);
    size_t nso = 0, nnodes = 0;
    uint64_t maxloc = 0, minloc = UINT64_MAX;
    if (!so || !nord || b->n > UINT32_MAX) {
        rc = so && nord ? HM_ERR_OVERFLOW : HM_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < b->n; i++) {
        const hm_op_t *op = &b->ops[i];
        char prefix;
        if ((rc = op_prefix(op->kind, &prefix)) != HM_OK)
            goto done;
        if (op->kind == HM_OP_NODE_PUT) {
            if (op->klen != HM_NODE_KEY_LEN || op->vlen == 0 || op->vlen > HM_SMT_MAX_NODE_LEN) {
                rc = HM_ERR_INVALID;
                goto done;
            }
            uint64_t loc = hm_get_u64be(op->key);
            if (loc > maxloc)
                maxloc = loc;
            if (loc < minloc)
                minloc = loc;
            nord[nnodes++] = (node_ord_t){hm_get_u32be(op->key + 8), (uint32_t)i};
            continue;
        }
        so[nso].prefix = prefix;
        so[nso].op = op;
        so[nso].idx = i;
        nso++;
    }
    if (nnodes > 1 && minloc == maxloc) /* else (never seen): batch order */
        sort_node_ops(nord, nord + nnodes, nnodes);
    for (size_t i = 0; i < nnodes; i++) {
        const hm_op_t *op = &b->ops[nord[i].i];
        leveldb_writebatch_put(nb, (const char *)op->key, op->klen, (const char *)op->val,
                               op->vlen);
        bytes += op->klen + op->vlen;
    }
    if (nso > 1)
        qsort(so, nso, sizeof *so, cmp_sorted_op);
    for (size_t i = 0; i < nso; i++) {
        const hm_op_t *op = so[i].op;
        const char *k;
        size_t kl;
        if ((rc = pkey(s, so[i].prefix, op->key, op->klen, &k, &kl)) != HM_OK)
            goto done;
        if (op->kind == HM_OP_STATE_DEL || op->kind == HM_OP_AUX_DEL)
            leveldb_writebatch_delete(wb, k, kl);
        else
            leveldb_writebatch_put(wb, k, kl, op->val ? (const char *)op->val : "", op->vlen);
        bytes += kl + op->vlen;
    }
    uint64_t next_loc = s->next_loc;
    if (b->has_root) {
        if (maxloc >= next_loc)
            next_loc = maxloc;
        next_loc++;
        uint8_t rv[48];
        memcpy(rv, b->root, 32);
        hm_put_u64be(rv + 32, b->root_loc);
        hm_put_u64be(rv + 40, next_loc);
        leveldb_writebatch_put(wb, k_root, sizeof k_root - 1, (const char *)rv, sizeof rv);
        uint8_t rk[2 + 32];
        rootloc_key(rk, b->root);
        leveldb_writebatch_put(wb, (const char *)rk, sizeof rk, (const char *)rv + 32, 8);
    }
    if (nnodes && (rc = db_write(s, s->ndb, nb, sync)) != HM_OK)
        goto done;
    if ((rc = db_write(s, s->db, wb, sync)) != HM_OK)
        goto done;
    s->stats.commits++;
    if (b->has_root) {
        memcpy(s->root, b->root, 32);
        s->root_loc = b->root_loc;
        s->next_loc = next_loc;
    }
    /* Write-through: new nodes are the hot ones (the next block walks the
     * same paths), so the next update never asks LevelDB for them. The
     * nodes they replace (read by the update) go to the back first; one
     * rewritten unchanged is put back in front by its put. */
    if (b->has_root)
        readlog_demote(s);
    for (size_t i = 0; i < b->n; i++)
        if (b->ops[i].kind == HM_OP_NODE_PUT) {
            node_set_t *set;
            (void)cache_put(s, b->ops[i].key + HM_NODE_KEY_LEN - 32, b->ops[i].val,
                            b->ops[i].vlen, &set); /* by hash */
        }
    cache_grow(s, 1024 + nnodes / 4); /* keeps up with a commit's new nodes */
done:
    free(so);
    free(nord);
    leveldb_writebatch_clear(wb);
    leveldb_writebatch_clear(nb);
    if (bytes > STORE_BATCH_KEEP_BYTES) { /* an outsized commit: give its memory back */
        leveldb_writebatch_destroy(wb);
        leveldb_writebatch_destroy(nb);
        s->wb = leveldb_writebatch_create();
        s->nb = leveldb_writebatch_create();
    }
    return rc;
}

static void ldb_root(hm_store_t *base, uint8_t out[32])
{
    memcpy(out, ((ldb_store_t *)base)->root, 32);
}

static int ldb_root_loc(hm_store_t *base, const uint8_t root[32], uint64_t *loc)
{
    ldb_store_t *s = (ldb_store_t *)base;
    if (memcmp(root, s->root, 32) == 0) {
        *loc = s->root_loc;
        return HM_OK;
    }
    uint8_t rk[2 + 32];
    rootloc_key(rk, root);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = raw_get(s, (const char *)rk, sizeof rk, &v, &vl);
    if (rc != HM_OK)
        return rc;
    if (vl == 8)
        *loc = hm_get_u64be(v);
    else
        rc = HM_ERR_CORRUPT;
    free(v);
    return rc;
}

static uint64_t ldb_next_loc(hm_store_t *base)
{
    return ((ldb_store_t *)base)->next_loc;
}

static void ldb_free(hm_store_t *base)
{
    ldb_store_t *s = (ldb_store_t *)base;
    if (s->ndb)
        leveldb_close(s->ndb);
    if (s->db)
        leveldb_close(s->db);
    if (s->nopts)
        leveldb_options_destroy(s->nopts);
    if (s->opts)
        leveldb_options_destroy(s->opts);
    if (s->cache)
        leveldb_cache_destroy(s->cache);
    if (s->filter)
        leveldb_filterpolicy_destroy((leveldb_filterpolicy_t *)s->filter);
    if (s->ropts)
        leveldb_readoptions_destroy(s->ropts);
    if (s->wsync)
        leveldb_writeoptions_destroy(s->wsync);
    if (s->wnosync)
        leveldb_writeoptions_destroy(s->wnosync);
    if (s->wb)
        leveldb_writebatch_destroy(s->wb);
    if (s->nb)
        leveldb_writebatch_destroy(s->nb);
    if (s->sets)
        munmap(s->sets, s->nsets_bytes);
    free(s->kbuf);
    free(s->readlog);
    free(s->dir);
    free(s->ndir);
    free(s);
}

static const struct hm_store_ops ldb_ops = {
    .get = ldb_get,
    .iterate = ldb_iterate,
    .get_node = ldb_get_node,
    .get_aux = ldb_get_aux,
    .commit = ldb_commit,
    .root = ldb_root,
    .root_loc = ldb_root_loc,
    .next_loc = ldb_next_loc,
    .free = ldb_free,
    .iterate_aux = ldb_iterate_aux,
};

bool store_is_leveldb(const hm_store_t *s)
{
    return s && s->ops == &ldb_ops;
}

static bool db_empty(ldb_store_t *s, leveldb_t *db)
{
    leveldb_iterator_t *it = leveldb_create_iterator(db, s->ropts);
    leveldb_iter_seek_to_first(it);
    bool empty = !leveldb_iter_valid(it);
    leveldb_iter_destroy(it);
    return empty;
}

/* Check the main database's format marker. *fresh: the database is empty
 * (no marker yet): it may become a store once the node database is known
 * to be empty too (mark_fresh). */
static int check_format(ldb_store_t *s, bool *fresh)
{
    uint8_t *v = NULL;
    size_t vl = 0;
    *fresh = false;
    int rc = raw_get(s, k_format, sizeof k_format - 1, &v, &vl);
    if (rc == HM_ERR_NOT_FOUND) {
        /* Only an empty database may become a store. */
        if (!db_empty(s, s->db)) {
            HM_LOG_ERR("storage", "database holds data but no Hallmark format marker");
            return HM_ERR_CORRUPT;
        }
        *fresh = true;
        return HM_OK;
    }
    if (rc != HM_OK)
        return rc;
    bool ok = vl == sizeof v_format - 1 && memcmp(v, v_format, vl) == 0;
    bool old = vl == sizeof v_format1 - 1 && memcmp(v, v_format1, vl) == 0;
    free(v);
    if (old) {
        HM_LOG_ERR("storage",
                   "%s holds a store of format %s (SMT nodes without locators); this "
                   "version reads %s only: move the directory aside and let the node resync "
                   "its chain from its peers (doc/operations.md, \"Upgrading\")",
                   s->dir, v_format1, v_format);
        return HM_ERR_CORRUPT;
    }
    if (!ok) {
        HM_LOG_ERR("storage", "unknown store format");
        return HM_ERR_CORRUPT;
    }
    return HM_OK;
}

/* Make a fresh (empty) pair of databases a store: refuse a node database
 * left over from another store, then write the format marker. */
static int mark_fresh(ldb_store_t *s)
{
    if (!db_empty(s, s->ndb)) {
        HM_LOG_ERR("storage",
                   "%s holds SMT nodes but %s holds no store (left over from another "
                   "store?): move both aside",
                   s->ndir, s->dir);
        return HM_ERR_CORRUPT;
    }
    char *err = NULL;
    leveldb_put(s->db, s->wsync, k_format, sizeof k_format - 1, v_format, sizeof v_format - 1,
                &err);
    if (err)
        return ldb_err(err, "write format marker", HM_ERR_IO);
    return HM_OK;
}

/* Load the committed root record, and check the root's node is there. */
static int load_root(ldb_store_t *s)
{
    uint8_t *v = NULL;
    size_t vl = 0;
    memset(s->root, 0, 32);
    s->root_loc = 0;
    s->next_loc = 1;
    int rc = raw_get(s, k_root, sizeof k_root - 1, &v, &vl);
    if (rc == HM_ERR_NOT_FOUND)
        return HM_OK;
    if (rc != HM_OK)
        return rc;
    bool ok = vl == 48;
    if (ok) {
        memcpy(s->root, v, 32);
        s->root_loc = hm_get_u64be(v + 32);
        s->next_loc = hm_get_u64be(v + 40);
    }
    free(v);
    if (!ok || s->next_loc <= s->root_loc) {
        HM_LOG_ERR("storage", "stored root record is malformed");
        return HM_ERR_CORRUPT;
    }
    static const uint8_t zero[32];
    if (memcmp(s->root, zero, 32) != 0) {
        uint8_t k[HM_NODE_KEY_LEN];
        hm_node_key(k, s->root_loc, s->root);
        rc = db_get(s, s->ndb, (const char *)k, sizeof k, &v, &vl);
        if (rc == HM_ERR_NOT_FOUND) {
            HM_LOG_ERR("storage", "the root's SMT node is missing from %s", s->ndir);
            return HM_ERR_CORRUPT;
        }
        if (rc != HM_OK)
            return rc;
        free(v);
    }
    return HM_OK;
}

/* LevelDB (1.23, PosixEnv) runs every flush and compaction of the process
 * on one background thread, started by the first thread that schedules
 * such work, and a Linux thread starts with its creator's nice value. So
 * the database is opened, and a flush of the (empty) memtable forced, from
 * a short-lived thread that first lowers its own priority: if this starts
 * the background thread, that thread inherits it. (A thread started
 * earlier, by an earlier store, keeps what it got then; any failure here
 * only leaves the priority as it was.) Measured on 2 vCPUs shared by four
 * validators: the p99 latency at 1,000 tx/s fell from ~200 to ~150 ms — a
 * memtable flush no longer takes the CPU from every validator's votes at
 * once — and 60 s at full load committed 5,800 instead of 4,800 tx/s
 * without write stalls (doc/benchmarks.md). */
typedef struct {
    ldb_store_t *s;
    int nice;
    char *err;
} open_job_t;

static void *open_job_main(void *arg)
{
    open_job_t *j = arg;
    if (j->nice > 0) {
        id_t tid = (id_t)syscall(SYS_gettid);
        errno = 0;
        int cur = getpriority(PRIO_PROCESS, tid);
        if (errno == 0)
            (void)setpriority(PRIO_PROCESS, tid, j->nice > 19 - cur ? 19 : cur + j->nice);
    }
    j->s->db = leveldb_open(j->s->opts, j->s->dir, &j->err);
    if (!j->err && j->nice > 0)
        leveldb_compact_range(j->s->db, "", 1, "", 1); /* the key "\0": none of ours */
    return NULL;
}

static void open_niced(ldb_store_t *s, int nice, char **err)
{
    open_job_t j = {s, nice, NULL};
    pthread_t th;
    if (j.nice > 0 && pthread_create(&th, NULL, open_job_main, &j) == 0) {
        pthread_join(th, NULL);
    } else {
        j.nice = 0; /* never renice the caller */
        (void)open_job_main(&j);
    }
    *err = j.err;
}

int store_open(hm_store_t **out, const char *dir, const store_options_t *opts)
{
    store_options_t o;
    if (opts)
        o = *opts;
    else
        store_options_default(&o);
    if (!o.block_cache_bytes)
        o.block_cache_bytes = 256u << 20;
    if (!o.node_cache_slots)
        o.node_cache_slots = 1u << 22;
    size_t slots = NC_WAYS;
    while (slots * 2 <= o.node_cache_slots && slots < ((size_t)1 << 28))
        slots *= 2;

    int rc = HM_ERR_NOMEM;
    ldb_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return HM_ERR_NOMEM;
    s->base.ops = &ldb_ops;
    if (!(s->dir = strdup(dir)))
        goto done;
    size_t dl = strlen(dir);
    if (!(s->ndir = malloc(dl + sizeof "/nodes")))
        goto done;
    memcpy(s->ndir, dir, dl);
    memcpy(s->ndir + dl, "/nodes", sizeof "/nodes");
    s->nsets_max = slots / NC_WAYS;
    s->nsets = s->nsets_max < NC_MIN_SETS ? s->nsets_max : NC_MIN_SETS;
    s->nsets_bytes = s->nsets_max * sizeof *s->sets;
    /* Anonymous pages are zero (all slots empty); only the sets in use
     * (cache_grow) are ever touched, so resident memory follows the store.
     * node_cache_huge_pages (the default) asks for 2 MiB pages: the cache
     * is read at random, and with 4 KiB pages nearly every lookup also
     * missed the TLB (one node: ~5% more tx/s, doc/benchmarks.md). Before
     * the cache grew (2026-11-25) the option was off by default, because
     * huge pages faulted all of a 524 MiB cache in within a few thousand
     * blocks of any store, a test's or a demo's too. A hint; ignored
     * without THP. (Collapsing a resident cache later instead cost ~0.9 s
     * of CPU per node and measured no better.) */
    void *mem = mmap(NULL, s->nsets_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (mem == MAP_FAILED)
        goto done;
    if (o.node_cache_huge_pages && madvise(mem, s->nsets_bytes, MADV_HUGEPAGE) != 0)
        HM_LOG_WARN("storage", "node_cache_huge_pages: the kernel refused the advice (%s)",
                    strerror(errno));
    s->sets = mem;

    if (o.create_if_missing && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        HM_LOG_ERR("storage", "cannot create %s: %s", dir, strerror(errno));
        rc = HM_ERR_IO;
        goto done;
    }
    s->opts = leveldb_options_create();
    s->nopts = leveldb_options_create();
    s->cache = leveldb_cache_create_lru(o.block_cache_bytes);
    s->filter = leveldb_filterpolicy_create_bloom(10);
    s->ropts = leveldb_readoptions_create();
    s->wsync = leveldb_writeoptions_create();
    s->wnosync = leveldb_writeoptions_create();
    s->wb = leveldb_writebatch_create();
    s->nb = leveldb_writebatch_create();
    if (!s->opts || !s->nopts || !s->cache || !s->filter || !s->ropts || !s->wsync ||
        !s->wnosync || !s->wb || !s->nb)
        goto done;
    /* Both databases share the block cache and the bloom filter policy,
     * and split the open-file budget. The main database (state and aux:
     * random keys, ~2.5 KiB per tx) has 64 MiB memtables: 16 MiB made a
     * small block's inserts cheaper, but end to end cost ~12% more CPU per
     * tx in flushes and compaction, 8 MiB wrote 18 instead of 12 KiB per tx
     * (doc/benchmarks.md). The node database has 16 MiB: its flushed
     * tables never overlap older ones, so flushes cost no compaction, but
     * both databases share LevelDB's one background thread, and a 4 MiB
     * memtable filled while a main-database compaction held that thread,
     * so a commit stalled ("Current memtable full; waiting", up to 0.7 s;
     * one node at full load: 16-18 stalls in 30 s, 9-16 with 16 MiB). Larger
     * is worse for four validators sharing a disk, which flush the same
     * bytes at the same moment (p99 at 1,000 tx/s: 43-53 ms with 4 MiB,
     * 53-66 with 16, 66-96 with 32, 139-241 with 64); 32 MiB gave one
     * node only ~2% more. The main database writes 2 MiB tables
     * (LevelDB's default; 16 MiB before 2026-11-25): its level 1 holds
     * 10 MiB, so 16 MiB tables each spanned the whole key space and every
     * level-1 compaction rewrote all of level 2 in one job of ~1 s, which
     * held the shared thread while the node memtable filled. 2 MiB jobs
     * are ~8x shorter: one node 24,533-25,467 tx/s instead of
     * 20,833-22,267 over 30 s, 19,967 instead of 17,025 over 120 s (past
     * the 500 tables its table cache keeps open); four validators
     * unchanged (doc/benchmarks.md). */
    leveldb_options_set_create_if_missing(s->opts, o.create_if_missing); /* nopts: below */
    leveldb_options_t *both[2] = {s->opts, s->nopts};
    for (int i = 0; i < 2; i++) {
        leveldb_options_set_paranoid_checks(both[i], 1);
        leveldb_options_set_cache(both[i], s->cache);
        leveldb_options_set_filter_policy(both[i], (leveldb_filterpolicy_t *)s->filter);
        leveldb_options_set_write_buffer_size(both[i], both[i] == s->nopts ? 16u << 20 : 64u << 20);
        leveldb_options_set_max_file_size(both[i], both[i] == s->nopts ? 16u << 20 : 2u << 20);
        leveldb_options_set_max_open_files(both[i], STORE_MAX_OPEN_FILES / 2);
        leveldb_options_set_compression(both[i], leveldb_no_compression);
    }
    leveldb_readoptions_set_verify_checksums(s->ropts, 1);
    leveldb_writeoptions_set_sync(s->wsync, 1);
    leveldb_writeoptions_set_sync(s->wnosync, 0);

    char *err = NULL;
    open_niced(s, o.compaction_nice, &err);
    if (err) {
        rc = ldb_fail(s, err, "open"); /* opening writes a new log and manifest */
        goto done;
    }
    /* The main database first: its format decides whether the node
     * database may be created (a format-1 store has none, and must not get
     * one in the directory the message tells the operator to move). */
    bool fresh;
    if ((rc = check_format(s, &fresh)) != HM_OK)
        goto done;
    leveldb_options_set_create_if_missing(s->nopts, fresh);
    s->ndb = leveldb_open(s->nopts, s->ndir, &err);
    if (err) {
        bool missing = !fresh && strstr(err, "does not exist") != NULL;
        rc = ldb_fail(s, err, "open node database");
        if (missing) {
            HM_LOG_ERR("storage", "%s holds a store but its node database %s is missing",
                       s->dir, s->ndir);
            rc = HM_ERR_CORRUPT;
        }
        goto done;
    }
    if (fresh && (rc = mark_fresh(s)) != HM_OK)
        goto done;
    if ((rc = load_root(s)) != HM_OK)
        goto done;
    *out = &s->base;
    s = NULL;
    rc = HM_OK;
done:
    if (s)
        ldb_free(&s->base);
    return rc;
}

int store_get_aux(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen)
{
    return hm_store_get_aux(s, key, klen, val, vlen);
}

int store_iterate_aux(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                      void *arg)
{
    return hm_store_iterate_aux(s, prefix, plen, fn, arg);
}

int store_put_aux(hm_store_t *s, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                  bool sync)
{
    hm_batch_t b = {0};
    int rc = hm_batch_add(&b, val ? HM_OP_AUX_PUT : HM_OP_AUX_DEL, key, klen, val, vlen);
    if (rc == HM_OK)
        rc = s->ops->commit(s, &b, sync);
    hm_batch_free(&b);
    return rc;
}

void store_get_stats(const hm_store_t *s, store_stats_t *out)
{
    if (store_is_leveldb(s)) {
        const ldb_store_t *l = (const ldb_store_t *)s;
        *out = l->stats;
        out->node_cache_slots = (uint64_t)(l->nsets + l->nsplit) * NC_WAYS;
    } else
        memset(out, 0, sizeof *out);
}
