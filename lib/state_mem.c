/* lib/state_mem — the in-memory hm_store_t (tests, tools, determinism
 * checks). Owns four ordered maps (state, SMT nodes by locator || hash,
 * aux, and the locator of every root it has had) and the root.
 * Iteration is in key byte order (lib/kvmap), never hash order. Commits are
 * all-or-nothing: every allocation is made before the first change.
 * Must not depend on node/ or any disk. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/kvmap.h"
#include "lib/state.h"

typedef struct {
    hm_store_t base;
    hm_kvmap_t state, nodes, aux, roots;
    uint8_t root[32];
    uint64_t next_loc; /* locator of the next commit's nodes (from 1) */
} mem_store_t;

static int mem_copy_out(const hm_kvnode_t *e, uint8_t **val, size_t *vlen)
{
    if (!e)
        return HM_ERR_NOT_FOUND;
    uint8_t *v = malloc(e->vlen ? e->vlen : 1);
    if (!v)
        return HM_ERR_NOMEM;
    if (e->vlen)
        memcpy(v, e->val, e->vlen);
    *val = v;
    *vlen = e->vlen;
    return HM_OK;
}

static int mem_get(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen)
{
    mem_store_t *m = (mem_store_t *)s;
    return mem_copy_out(hm_kvmap_get(&m->state, key, klen), val, vlen);
}

static int mem_get_node(hm_store_t *s, const uint8_t hash[32], uint64_t loc,
                        uint8_t out[HM_SMT_MAX_NODE_LEN], size_t *len)
{
    mem_store_t *m = (mem_store_t *)s;
    uint8_t k[HM_NODE_KEY_LEN];
    hm_node_key(k, loc, hash);
    const hm_kvnode_t *e = hm_kvmap_get(&m->nodes, k, sizeof k);
    if (!e)
        return HM_ERR_NOT_FOUND;
    if (e->vlen > HM_SMT_MAX_NODE_LEN)
        return HM_ERR_CORRUPT;
    memcpy(out, e->val, e->vlen);
    *len = e->vlen;
    return HM_OK;
}

static int mem_get_aux(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen)
{
    mem_store_t *m = (mem_store_t *)s;
    return mem_copy_out(hm_kvmap_get(&m->aux, key, klen), val, vlen);
}

typedef struct {
    hm_kv_visit_fn fn;
    void *arg;
} mem_visit_t;

static int mem_visit_adapter(void *arg, const hm_kvnode_t *e)
{
    mem_visit_t *v = arg;
    return v->fn(v->arg, e->key, e->klen, e->val, e->vlen);
}

static int mem_iterate(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                       void *arg)
{
    mem_store_t *m = (mem_store_t *)s;
    mem_visit_t v = {fn, arg};
    return hm_kvmap_visit(&m->state, prefix, plen, mem_visit_adapter, &v);
}

static int mem_iterate_aux(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                           void *arg)
{
    mem_store_t *m = (mem_store_t *)s;
    mem_visit_t v = {fn, arg};
    return hm_kvmap_visit(&m->aux, prefix, plen, mem_visit_adapter, &v);
}

static hm_kvmap_t *mem_table(mem_store_t *m, hm_op_kind_t k)
{
    switch (k) {
    case HM_OP_STATE_PUT:
    case HM_OP_STATE_DEL:
        return &m->state;
    case HM_OP_NODE_PUT:
        return &m->nodes;
    case HM_OP_AUX_PUT:
    case HM_OP_AUX_DEL:
        return &m->aux;
    }
    return NULL;
}

static int mem_commit(hm_store_t *s, const hm_batch_t *b, bool sync)
{
    (void)sync;
    mem_store_t *m = (mem_store_t *)s;
    int rc = HM_OK;
    hm_kvnode_t *rootloc = NULL;
    hm_kvnode_t **pre = calloc(b->n ? b->n : 1, sizeof *pre);
    if (!pre)
        return HM_ERR_NOMEM;
    /* Phase 1: validate and allocate; nothing changes yet. */
    for (size_t i = 0; i < b->n; i++) {
        const hm_op_t *op = &b->ops[i];
        if (!mem_table(m, op->kind) || (op->kind == HM_OP_NODE_PUT && op->klen != HM_NODE_KEY_LEN)) {
            rc = HM_ERR_INVALID;
            goto done;
        }
        if (op->kind == HM_OP_STATE_DEL || op->kind == HM_OP_AUX_DEL)
            continue;
        uint8_t *v = malloc(op->vlen ? op->vlen : 1);
        if (!v) {
            rc = HM_ERR_NOMEM;
            goto done;
        }
        if (op->vlen)
            memcpy(v, op->val, op->vlen);
        if ((rc = hm_kvmap_node_new(&pre[i], op->key, op->klen, v, op->vlen, 0)) != HM_OK) {
            free(v);
            goto done;
        }
    }
    if (b->has_root) {
        uint8_t *v = malloc(8);
        if (!v) {
            rc = HM_ERR_NOMEM;
            goto done;
        }
        hm_put_u64be(v, b->root_loc);
        if ((rc = hm_kvmap_node_new(&rootloc, b->root, 32, v, 8, 0)) != HM_OK) {
            free(v);
            goto done;
        }
    }
    /* Phase 2: apply in order; cannot fail. */
    for (size_t i = 0; i < b->n; i++) {
        const hm_op_t *op = &b->ops[i];
        hm_kvmap_t *t = mem_table(m, op->kind);
        if (pre[i]) {
            hm_kvmap_put_node(t, pre[i]);
            pre[i] = NULL;
        } else {
            (void)hm_kvmap_del(t, op->key, op->klen);
        }
    }
    if (b->has_root) {
        memcpy(m->root, b->root, 32);
        hm_kvmap_put_node(&m->roots, rootloc);
        rootloc = NULL;
        m->next_loc++;
    }
done:
    hm_kvmap_node_free(rootloc);
    for (size_t i = 0; i < b->n; i++)
        hm_kvmap_node_free(pre[i]);
    free(pre);
    return rc;
}

static void mem_root(hm_store_t *s, uint8_t out[32])
{
    memcpy(out, ((mem_store_t *)s)->root, 32);
}

static int mem_root_loc(hm_store_t *s, const uint8_t root[32], uint64_t *loc)
{
    const hm_kvnode_t *e = hm_kvmap_get(&((mem_store_t *)s)->roots, root, 32);
    if (!e)
        return HM_ERR_NOT_FOUND;
    *loc = hm_get_u64be(e->val);
    return HM_OK;
}

static uint64_t mem_next_loc(hm_store_t *s)
{
    return ((mem_store_t *)s)->next_loc;
}

static void mem_free(hm_store_t *s)
{
    mem_store_t *m = (mem_store_t *)s;
    hm_kvmap_clear(&m->state);
    hm_kvmap_clear(&m->nodes);
    hm_kvmap_clear(&m->aux);
    hm_kvmap_clear(&m->roots);
    free(m);
}

static const struct hm_store_ops mem_ops = {
    .get = mem_get,
    .iterate = mem_iterate,
    .get_node = mem_get_node,
    .get_aux = mem_get_aux,
    .commit = mem_commit,
    .root = mem_root,
    .root_loc = mem_root_loc,
    .next_loc = mem_next_loc,
    .free = mem_free,
    .iterate_aux = mem_iterate_aux,
};

int hm_store_mem_new(hm_store_t **out)
{
    mem_store_t *m = calloc(1, sizeof *m);
    if (!m)
        return HM_ERR_NOMEM;
    m->base.ops = &mem_ops;
    m->next_loc = 1;
    *out = &m->base;
    return HM_OK;
}
