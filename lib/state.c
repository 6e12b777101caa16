/* lib/state — batches, the store helpers and the block execution session
 * (see state.h). Owns the overlay of a block's writes, tx savepoints, the
 * root computation through lib/smt and the assembly of the one commit batch.
 * Must not depend on any store backend (memory or LevelDB): stores are
 * reached only through hm_store_ops. */
#include "lib/state.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/kvmap.h"
#include "lib/smt.h"

/* ------------------------------------------------------------------ batch */

struct hm_batch_chunk {
    struct hm_batch_chunk *next;
    size_t used, cap;
    uint8_t data[];
};

#define BATCH_CHUNK_BYTES ((size_t)64 << 10)

/* len bytes of b's arena (a valid pointer even for 0), or NULL. A request
 * larger than a quarter chunk gets a chunk of its own, linked behind the
 * current one so that the current one's free space stays in use. */
static uint8_t *batch_alloc(hm_batch_t *b, size_t len)
{
    struct hm_batch_chunk *c = b->chunks;
    if (c && c->cap - c->used >= len) {
        uint8_t *p = c->data + c->used;
        c->used += len;
        return p;
    }
    bool own = len > BATCH_CHUNK_BYTES / 4;
    size_t cap = own ? len : BATCH_CHUNK_BYTES;
    if (cap > SIZE_MAX - sizeof *c)
        return NULL;
    struct hm_batch_chunk *n = malloc(sizeof *n + cap);
    if (!n)
        return NULL;
    n->used = len;
    n->cap = cap;
    if (own && c) {
        n->next = c->next;
        c->next = n;
    } else {
        n->next = c;
        b->chunks = n;
    }
    return n->data;
}

int hm_batch_add(hm_batch_t *b, hm_op_kind_t kind, const uint8_t *key, size_t klen,
                 const uint8_t *val, size_t vlen)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *b->ops)
            return HM_ERR_OVERFLOW;
        hm_op_t *ops = realloc(b->ops, cap * sizeof *ops);
        if (!ops)
            return HM_ERR_NOMEM;
        b->ops = ops;
        b->cap = cap;
    }
    size_t vl = val ? vlen : 0;
    if (klen > SIZE_MAX - vl)
        return HM_ERR_OVERFLOW;
    uint8_t *k = batch_alloc(b, klen + vl); /* on failure the batch is unchanged */
    if (!k)
        return HM_ERR_NOMEM;
    if (klen)
        memcpy(k, key, klen);
    uint8_t *v = val ? k + klen : NULL;
    if (vl)
        memcpy(v, val, vl);
    b->ops[b->n++] = (hm_op_t){.kind = kind, .key = k, .klen = klen, .val = v, .vlen = vl};
    return HM_OK;
}

void hm_batch_free(hm_batch_t *b)
{
    if (!b)
        return;
    for (struct hm_batch_chunk *c = b->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(b->ops);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------ store */

void hm_store_free(hm_store_t *s)
{
    if (s)
        s->ops->free(s);
}

int hm_store_get(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen)
{
    return s->ops->get(s, key, klen, val, vlen);
}

int hm_store_get_aux(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen)
{
    return s->ops->get_aux(s, key, klen, val, vlen);
}

int hm_store_iterate(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                     void *arg)
{
    return s->ops->iterate(s, prefix, plen, fn, arg);
}

int hm_store_iterate_aux(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                         void *arg)
{
    if (!s->ops->iterate_aux)
        return HM_ERR_UNSUPPORTED;
    return s->ops->iterate_aux(s, prefix, plen, fn, arg);
}

void hm_store_root(hm_store_t *s, uint8_t out[32])
{
    s->ops->root(s, out);
}

void hm_node_key(uint8_t out[HM_NODE_KEY_LEN], uint64_t loc, const uint8_t hash[32])
{
    hm_put_u64be(out, loc);
    memcpy(out + 8, hash, 32);
}

int hm_store_root_loc(hm_store_t *s, const uint8_t root[32], uint64_t *loc)
{
    static const uint8_t zero[32];
    if (memcmp(root, zero, 32) == 0) {
        *loc = 0;
        return HM_OK;
    }
    return s->ops->root_loc(s, root, loc);
}

static int store_node_get(void *arg, const uint8_t hash[32], uint64_t loc,
                          uint8_t out[HM_SMT_MAX_NODE_LEN], size_t *len)
{
    hm_store_t *s = arg;
    return s->ops->get_node(s, hash, loc, out, len);
}

hm_smt_reader_t hm_store_smt_reader(hm_store_t *s)
{
    return (hm_smt_reader_t){.get = store_node_get, .arg = s};
}

int hm_store_prove(hm_store_t *s, hm_smt_proof_t *out, const uint8_t root[32], const uint8_t *key,
                   size_t klen)
{
    uint8_t kh[32];
    uint64_t loc;
    int rc = hm_store_root_loc(s, root, &loc);
    if (rc != HM_OK)
        return rc;
    hm_smt_key_hash(kh, key, klen);
    hm_smt_reader_t r = hm_store_smt_reader(s);
    return hm_smt_prove(&r, out, root, loc, kh);
}

/* ---------------------------------------------------------------- session */

enum { ENT_PUT = 0, ENT_TOMB = 1, ENT_ABSENT = 2 };

/* What a key looked like in the overlay before a write inside a tx. */
typedef struct {
    uint8_t *key;
    size_t klen;
    uint8_t *val; /* moved out of the overlay entry */
    size_t vlen;
    int prev;     /* ENT_PUT, ENT_TOMB or ENT_ABSENT */
} undo_t;

/* One SMT node made by a root computation, kept until commit. */
typedef struct {
    uint8_t hash[32];
    uint64_t loc;
    uint8_t len;
    uint8_t node[HM_SMT_MAX_NODE_LEN];
} newnode_t;

struct hm_state {
    hm_store_t *store;
    hm_kvmap_t overlay; /* key -> value; flag ENT_TOMB for deletions */
    newnode_t *nodes;   /* SMT nodes made by the last root computation, in */
    size_t nnodes;      /* creation order (a flat array: they are only */
    size_t capnodes;    /* appended, then written out at commit) */
    hm_batch_t aux;     /* aux puts/deletes in call order */
    undo_t *undo;
    size_t nundo, capundo;
    bool in_tx;
    bool iterating;
    bool root_valid; /* root/nodes match the overlay */
    uint8_t root[32];
    uint64_t root_loc;
    uint8_t root_base[32]; /* the committed root root/nodes were computed on */
    hm_state_observer_fn observer; /* told of every successful put/del */
    void *observer_arg;
    /* Committed values this session has read from the store (flag
     * ENT_ABSENT: not there), so a block that reads the same records for
     * many txs — the signers' identities, licences, recipes — asks LevelDB
     * once. Valid while the store's root is rcache_root: the root commits
     * to every state key and value, so an unchanged root means unchanged
     * values, and any commit to the store (this session's or another's)
     * that changes state invalidates it. */
    hm_kvmap_t rcache;
    uint8_t rcache_root[32];
};

int hm_state_begin(hm_state_t **out, hm_store_t *store)
{
    hm_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return HM_ERR_NOMEM;
    st->store = store;
    *out = st;
    return HM_OK;
}

static void undo_clear(hm_state_t *st)
{
    for (size_t i = 0; i < st->nundo; i++) {
        free(st->undo[i].key);
        free(st->undo[i].val);
    }
    st->nundo = 0;
}

void hm_state_free(hm_state_t *st)
{
    if (!st)
        return;
    hm_kvmap_clear(&st->overlay);
    hm_kvmap_clear(&st->rcache);
    free(st->nodes);
    hm_batch_free(&st->aux);
    undo_clear(st);
    free(st->undo);
    free(st);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* A copy of an overlay or read-cache entry's value; HM_ERR_NOT_FOUND for
 * a tombstone or a cached absence. */
static int entry_out(const hm_kvnode_t *e, uint8_t **val, size_t *vlen)
{
    if (e->flag == ENT_TOMB || e->flag == ENT_ABSENT)
        return HM_ERR_NOT_FOUND;
    uint8_t *v = dup_bytes(e->val, e->vlen);
    if (!v)
        return HM_ERR_NOMEM;
    *val = v;
    *vlen = e->vlen;
    return HM_OK;
}

/* The committed value of key, through the session's read cache. */
static int committed_get(hm_state_t *st, const uint8_t *key, size_t klen, uint8_t **val,
                         size_t *vlen)
{
    uint8_t root[32];
    st->store->ops->root(st->store, root);
    if (st->rcache.n && memcmp(root, st->rcache_root, 32) != 0)
        hm_kvmap_clear(&st->rcache);
    const hm_kvnode_t *c = hm_kvmap_get(&st->rcache, key, klen);
    if (c)
        return entry_out(c, val, vlen);
    int rc = st->store->ops->get(st->store, key, klen, val, vlen);
    if (rc == HM_OK || rc == HM_ERR_NOT_FOUND) {
        if (!st->rcache.n)
            memcpy(st->rcache_root, root, 32);
        /* only a hint: out of memory leaves it uncached */
        if (hm_kvmap_put(&st->rcache, key, klen, rc == HM_OK ? *val : NULL,
                         rc == HM_OK ? *vlen : 0, rc == HM_OK ? ENT_PUT : ENT_ABSENT,
                         NULL) != HM_OK)
            hm_kvmap_clear(&st->rcache);
    }
    return rc;
}

int hm_state_get_committed(hm_state_t *st, const uint8_t *key, size_t klen, uint8_t **val,
                           size_t *vlen)
{
    return committed_get(st, key, klen, val, vlen);
}

int hm_state_get(hm_state_t *st, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen)
{
    const hm_kvnode_t *e = hm_kvmap_get(&st->overlay, key, klen);
    if (!e)
        return committed_get(st, key, klen, val, vlen);
    return entry_out(e, val, vlen);
}

/* Record one overlay write; in a tx, remember what it replaced. */
static int write_entry(hm_state_t *st, const uint8_t *key, size_t klen, const uint8_t *val,
                       size_t vlen, int flag)
{
    if (st->iterating)
        return HM_ERR_STATE;
    int rc = HM_ERR_NOMEM;
    uint8_t *v = NULL, *ukey = NULL;
    if (flag == ENT_PUT && !(v = dup_bytes(val, vlen)))
        goto done;
    if (st->in_tx) {
        if (st->nundo == st->capundo) {
            size_t cap = st->capundo ? st->capundo * 2 : 64;
            undo_t *u = realloc(st->undo, cap * sizeof *u);
            if (!u)
                goto done;
            st->undo = u;
            st->capundo = cap;
        }
        if (!(ukey = dup_bytes(key, klen)))
            goto done;
    }
    hm_kvnode_t *e = hm_kvmap_get(&st->overlay, key, klen);
    undo_t u = {.key = ukey, .klen = klen, .prev = ENT_ABSENT};
    if (e) {
        u.prev = e->flag;
        u.val = e->val;
        u.vlen = e->vlen;
        if (!st->in_tx)
            free(e->val);
        e->val = v;
        e->vlen = flag == ENT_PUT ? vlen : 0;
        e->flag = flag;
    } else if ((rc = hm_kvmap_put_owned(&st->overlay, key, klen, v, flag == ENT_PUT ? vlen : 0,
                                        flag)) != HM_OK) {
        goto done;
    }
    v = NULL;
    if (st->in_tx) {
        st->undo[st->nundo++] = u;
        ukey = NULL;
    }
    st->root_valid = false;
    rc = HM_OK;
done:
    free(v);
    free(ukey);
    return rc;
}

int hm_state_put(hm_state_t *st, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    int rc = write_entry(st, key, klen, val, vlen, ENT_PUT);
    if (rc == HM_OK && st->observer)
        st->observer(st->observer_arg, key, klen);
    return rc;
}

int hm_state_del(hm_state_t *st, const uint8_t *key, size_t klen)
{
    int rc = write_entry(st, key, klen, NULL, 0, ENT_TOMB);
    if (rc == HM_OK && st->observer)
        st->observer(st->observer_arg, key, klen);
    return rc;
}

void hm_state_set_observer(hm_state_t *st, hm_state_observer_fn fn, void *arg)
{
    st->observer = fn;
    st->observer_arg = arg;
}

int hm_state_tx_begin(hm_state_t *st)
{
    if (st->in_tx || st->iterating)
        return HM_ERR_STATE;
    st->in_tx = true;
    return HM_OK;
}

void hm_state_tx_commit(hm_state_t *st)
{
    undo_clear(st);
    st->in_tx = false;
}

void hm_state_tx_rollback(hm_state_t *st)
{
    for (size_t i = st->nundo; i-- > 0;) {
        undo_t *u = &st->undo[i];
        if (u->prev == ENT_ABSENT) {
            hm_kvmap_del(&st->overlay, u->key, u->klen);
        } else {
            hm_kvnode_t *e = hm_kvmap_get(&st->overlay, u->key, u->klen);
            assert(e); /* entries written in a tx stay until rolled back */
            free(e->val);
            e->val = u->val;
            e->vlen = u->vlen;
            e->flag = u->prev;
            u->val = NULL;
        }
        st->root_valid = false;
    }
    undo_clear(st);
    st->in_tx = false;
}

/* ---- merged iteration */

typedef struct {
    const hm_kvnode_t **ov; /* overlay entries under the prefix, ascending */
    size_t n, cap, i;
    hm_kv_visit_fn fn;
    void *arg;
} merge_t;

static int collect(void *arg, const hm_kvnode_t *e)
{
    merge_t *m = arg;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        const hm_kvnode_t **p = realloc(m->ov, cap * sizeof *p);
        if (!p)
            return HM_ERR_NOMEM;
        m->ov = p;
        m->cap = cap;
    }
    m->ov[m->n++] = e;
    return 0;
}

static int emit_overlay(merge_t *m, const hm_kvnode_t *e)
{
    if (e->flag == ENT_TOMB)
        return 0;
    return m->fn(m->arg, e->key, e->klen, e->val, e->vlen);
}

static int merge_visit(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    merge_t *m = arg;
    int rc;
    while (m->i < m->n) {
        const hm_kvnode_t *e = m->ov[m->i];
        int c = hm_bytes_cmp(e->key, e->klen, key, klen);
        if (c > 0)
            break;
        m->i++;
        if ((rc = emit_overlay(m, e)) != 0)
            return rc;
        if (c == 0)
            return 0; /* the overlay shadows the committed value */
    }
    return m->fn(m->arg, key, klen, val, vlen);
}

int hm_state_iterate(hm_state_t *st, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                     void *arg)
{
    if (st->iterating)
        return HM_ERR_STATE;
    merge_t m = {.fn = fn, .arg = arg};
    int rc = hm_kvmap_visit(&st->overlay, prefix, plen, collect, &m);
    if (rc != 0)
        goto done;
    st->iterating = true;
    rc = st->store->ops->iterate(st->store, prefix, plen, merge_visit, &m);
    while (rc == 0 && m.i < m.n)
        rc = emit_overlay(&m, m.ov[m.i++]);
    st->iterating = false;
done:
    free(m.ov);
    return rc;
}

/* ---- root */

static int pending_put(void *arg, const uint8_t hash[32], uint64_t loc, const uint8_t *node,
                       size_t len)
{
    hm_state_t *st = arg;
    if (len > HM_SMT_MAX_NODE_LEN)
        return HM_ERR_INVALID;
    if (st->nnodes == st->capnodes) {
        size_t cap = st->capnodes ? st->capnodes * 2 : 256;
        if (cap > SIZE_MAX / sizeof *st->nodes)
            return HM_ERR_OVERFLOW;
        newnode_t *p = realloc(st->nodes, cap * sizeof *p);
        if (!p)
            return HM_ERR_NOMEM;
        st->nodes = p;
        st->capnodes = cap;
    }
    newnode_t *e = &st->nodes[st->nnodes++];
    memcpy(e->hash, hash, 32);
    e->loc = loc;
    memcpy(e->node, node, len);
    e->len = (uint8_t)len;
    return HM_OK;
}

typedef struct {
    hm_smt_update_t *ups;
    size_t n;
} upcollect_t;

static int collect_update(void *arg, const hm_kvnode_t *e)
{
    upcollect_t *u = arg;
    hm_smt_update_t *x = &u->ups[u->n++];
    hm_smt_key_hash(x->keyhash, e->key, e->klen);
    x->del = e->flag == ENT_TOMB;
    if (x->del)
        memset(x->valuehash, 0, 32);
    else
        hm_smt_value_hash(x->valuehash, e->val, e->vlen);
    return 0;
}

int hm_state_root(hm_state_t *st, uint8_t root[32])
{
    if (st->root_valid) {
        memcpy(root, st->root, 32);
        return HM_OK;
    }
    int rc = HM_ERR_NOMEM;
    upcollect_t u = {0};
    if (st->overlay.n > SIZE_MAX / sizeof *u.ups)
        return HM_ERR_OVERFLOW;
    u.ups = malloc((st->overlay.n ? st->overlay.n : 1) * sizeof *u.ups);
    if (!u.ups)
        goto done;
    (void)hm_kvmap_visit(&st->overlay, NULL, 0, collect_update, &u);
    /* Recompute from the committed root each time, so the nodes kept are
     * exactly those the final root needs. The update only reads nodes of
     * the committed tree (never one it made), so it reads the store. */
    st->nnodes = 0;
    uint8_t base[32], nr[32];
    uint64_t base_loc, nr_loc;
    st->store->ops->root(st->store, base);
    if ((rc = hm_store_root_loc(st->store, base, &base_loc)) != HM_OK)
        goto done;
    hm_smt_reader_t r = hm_store_smt_reader(st->store);
    hm_smt_writer_t w = {.put = pending_put, .arg = st, .loc = st->store->ops->next_loc(st->store)};
    rc = hm_smt_update(&r, &w, nr, &nr_loc, base, base_loc, u.ups, u.n);
    if (rc != HM_OK) {
        st->nnodes = 0;
        goto done;
    }
    memcpy(st->root, nr, 32);
    st->root_loc = nr_loc;
    memcpy(st->root_base, base, 32);
    memcpy(root, nr, 32);
    st->root_valid = true;
done:
    free(u.ups);
    return rc;
}

int hm_state_aux_put(hm_state_t *st, const uint8_t *key, size_t klen, const uint8_t *val,
                     size_t vlen)
{
    if (st->iterating)
        return HM_ERR_STATE;
    return hm_batch_add(&st->aux, val ? HM_OP_AUX_PUT : HM_OP_AUX_DEL, key, klen, val, vlen);
}

typedef struct {
    hm_batch_t *b;
    hm_op_kind_t put, del;
} batchfill_t;

static int fill_batch(void *arg, const hm_kvnode_t *e)
{
    batchfill_t *f = arg;
    if (e->flag == ENT_TOMB)
        return hm_batch_add(f->b, f->del, e->key, e->klen, NULL, 0);
    return hm_batch_add(f->b, f->put, e->key, e->klen, e->val ? e->val : (const uint8_t *)"",
                        e->vlen);
}

int hm_state_commit(hm_state_t *st, bool sync)
{
    if (st->in_tx || st->iterating)
        return HM_ERR_STATE;
    hm_batch_t b = {0};
    uint8_t root[32], cur[32];
    int rc = hm_state_root(st, root);
    if (rc != HM_OK)
        goto done;
    /* Another session committed since this root was computed: the root
     * (perhaps already in a header) and its nodes describe changes to a
     * state that is gone. Refuse rather than lose that commit. */
    st->store->ops->root(st->store, cur);
    if (memcmp(cur, st->root_base, 32) != 0) {
        rc = HM_ERR_STATE;
        goto done;
    }
    batchfill_t f = {&b, HM_OP_STATE_PUT, HM_OP_STATE_DEL};
    if ((rc = hm_kvmap_visit(&st->overlay, NULL, 0, fill_batch, &f)) != 0)
        goto done;
    for (size_t i = 0; i < st->nnodes; i++) {
        const newnode_t *e = &st->nodes[i];
        uint8_t nk[HM_NODE_KEY_LEN];
        hm_node_key(nk, e->loc, e->hash);
        if ((rc = hm_batch_add(&b, HM_OP_NODE_PUT, nk, sizeof nk, e->node, e->len)) != HM_OK)
            goto done;
    }
    for (size_t i = 0; i < st->aux.n; i++) {
        const hm_op_t *op = &st->aux.ops[i];
        if ((rc = hm_batch_add(&b, op->kind, op->key, op->klen, op->val, op->vlen)) != HM_OK)
            goto done;
    }
    b.has_root = true;
    memcpy(b.root, root, 32);
    b.root_loc = st->root_loc;
    if ((rc = st->store->ops->commit(st->store, &b, sync)) != HM_OK)
        goto done;
    hm_kvmap_clear(&st->overlay);
    st->nnodes = 0;
    hm_batch_free(&st->aux);
    st->root_valid = false;
done:
    hm_batch_free(&b);
    return rc;
}

size_t hm_state_dirty_count(const hm_state_t *st)
{
    return st->overlay.n;
}
