/* lib/smt — see smt.h and doc/state.md. Owns the SMT hashing rules, the
 * one-pass batch update, proofs and their verification. Does no I/O and
 * must not depend on lib/state or any store: nodes come and go through the
 * reader/writer callbacks. */
#include "lib/smt.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/hash.h"

enum { K_EMPTY = 0, K_LEAF = 1, K_NODE = 2 };

static const uint8_t hm_zero32[32];

/* A subtree as the update sees it: its hash, its locator (where its top
 * node is stored) and what kind of thing it is. */
typedef struct {
    uint8_t h[32];
    uint64_t loc;
    int kind;
} sub_t;

/* A decoded stored node. Leaf: a = keyhash, b = valuehash.
 * Interior: a = left, b = right (la, lb their locators), flags as in
 * smt.h. */
typedef struct {
    int kind;
    uint8_t flags;
    uint8_t a[32], b[32];
    uint64_t la, lb;
} node_t;

static inline int key_bit(const uint8_t kh[32], unsigned d)
{
    return (kh[d >> 3] >> (7 - (d & 7))) & 1;
}

static inline bool is_zero32(const uint8_t h[32])
{
    return memcmp(h, hm_zero32, 32) == 0;
}

void hm_smt_key_hash(uint8_t out[32], const uint8_t *key, size_t klen)
{
    hm_tagged_hash(out, HM_TAG_SMT_KEY, key, klen);
}

void hm_smt_value_hash(uint8_t out[32], const uint8_t *val, size_t vlen)
{
    hm_tagged_hash(out, HM_TAG_SMT_VALUE, val, vlen);
}

void hm_smt_leaf_hash(uint8_t out[32], const uint8_t keyhash[32], const uint8_t valuehash[32])
{
    hm_tagged_hash2(out, HM_TAG_SMT_LEAF, keyhash, 32, valuehash, 32);
}

void hm_smt_node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32])
{
    hm_tagged_hash2(out, HM_TAG_SMT_NODE, left, 32, right, 32);
}

static int load(const hm_smt_reader_t *r, const uint8_t h[32], uint64_t loc, node_t *n)
{
    uint8_t buf[HM_SMT_MAX_NODE_LEN];
    size_t len = 0;
    int rc = r->get(r->arg, h, loc, buf, &len);
    if (rc != HM_OK)
        return rc;
    if (len == HM_SMT_LEAF_LEN && buf[0] == 'L') {
        n->kind = K_LEAF;
        n->flags = 0;
        memcpy(n->a, buf + 1, 32);
        memcpy(n->b, buf + 33, 32);
        n->la = n->lb = 0;
        return HM_OK;
    }
    if (len == HM_SMT_NODE_LEN && buf[0] == 'N' && buf[1] <= 3) {
        n->kind = K_NODE;
        n->flags = buf[1];
        memcpy(n->a, buf + 2, 32);
        memcpy(n->b, buf + 34, 32);
        n->la = hm_get_u64be(buf + 66);
        n->lb = hm_get_u64be(buf + 74);
        return HM_OK;
    }
    return HM_ERR_CORRUPT;
}

static int child_kind(const uint8_t h[32], bool leaf)
{
    if (is_zero32(h))
        return K_EMPTY;
    return leaf ? K_LEAF : K_NODE;
}

/* Kind of the subtree at h when nothing else says it (the root). */
static int resolve(const hm_smt_reader_t *r, const uint8_t h[32], uint64_t loc, int *kind)
{
    if (is_zero32(h)) {
        *kind = K_EMPTY;
        return HM_OK;
    }
    node_t n;
    int rc = load(r, h, loc, &n);
    if (rc == HM_OK)
        *kind = n.kind;
    return rc;
}

typedef struct {
    const hm_smt_reader_t *r;
    const hm_smt_writer_t *w;
} uctx_t;

static int emit_leaf(const uctx_t *c, sub_t *out, const uint8_t kh[32], const uint8_t vh[32])
{
    uint8_t buf[HM_SMT_LEAF_LEN];
    buf[0] = 'L';
    memcpy(buf + 1, kh, 32);
    memcpy(buf + 33, vh, 32);
    hm_smt_leaf_hash(out->h, kh, vh);
    out->kind = K_LEAF;
    out->loc = c->w->loc;
    return c->w->put(c->w->arg, out->h, out->loc, buf, sizeof buf);
}

static int combine(const uctx_t *c, sub_t *out, const sub_t *l, const sub_t *r)
{
    if (l->kind == K_EMPTY && r->kind != K_NODE) {
        *out = *r; /* empty, or a lone leaf that floats up */
        return HM_OK;
    }
    if (r->kind == K_EMPTY && l->kind == K_LEAF) {
        *out = *l;
        return HM_OK;
    }
    uint8_t buf[HM_SMT_NODE_LEN];
    buf[0] = 'N';
    buf[1] = (uint8_t)((l->kind == K_LEAF ? 1 : 0) | (r->kind == K_LEAF ? 2 : 0));
    memcpy(buf + 2, l->h, 32);
    memcpy(buf + 34, r->h, 32);
    hm_put_u64be(buf + 66, l->kind == K_EMPTY ? 0 : l->loc);
    hm_put_u64be(buf + 74, r->kind == K_EMPTY ? 0 : r->loc);
    hm_smt_node_hash(out->h, l->h, r->h);
    out->kind = K_NODE;
    out->loc = c->w->loc;
    return c->w->put(c->w->arg, out->h, out->loc, buf, sizeof buf);
}

/* First index in ups[0..n) whose keyhash has bit d set (ups sorted and all
 * sharing bits 0..d-1). */
static size_t split_at(const hm_smt_update_t *ups, size_t n, unsigned d)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_bit(ups[mid].keyhash, d))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The old lone leaf of a subtree being rebuilt. */
typedef struct {
    uint8_t kh[32], vh[32], h[32];
} oldleaf_t;

/* Build the subtree at depth d holding `old` (if any, and not overridden by
 * an update) plus every put of ups[0..n). */
static int build(const uctx_t *c, sub_t *out, unsigned d, const oldleaf_t *old,
                 const hm_smt_update_t *ups, size_t n)
{
    bool alive = old != NULL;
    size_t puts = 0;
    const hm_smt_update_t *one = NULL;
    for (size_t i = 0; i < n; i++) {
        if (alive && memcmp(ups[i].keyhash, old->kh, 32) == 0)
            alive = false;
        if (!ups[i].del) {
            puts++;
            one = &ups[i];
        }
    }
    size_t total = puts + (alive ? 1 : 0);
    if (total == 0) {
        memset(out->h, 0, 32);
        out->loc = 0;
        out->kind = K_EMPTY;
        return HM_OK;
    }
    if (total == 1) {
        /* A surviving old leaf (moved below a new sibling) is handed to the
         * writer again although it exists: the update read it, and a
         * store's cache may take "read by an update" as "replaced" (see
         * node/storage), so this says it is still in the tree. Same bytes,
         * same hash: the write is idempotent. */
        if (alive)
            return emit_leaf(c, out, old->kh, old->vh);
        return emit_leaf(c, out, one->keyhash, one->valuehash);
    }
    if (d >= HM_SMT_DEPTH)
        return HM_ERR_CORRUPT; /* two distinct keys always part before depth 256 */
    size_t m = split_at(ups, n, d);
    const oldleaf_t *ol = NULL, *orr = NULL;
    if (alive) {
        if (key_bit(old->kh, d))
            orr = old;
        else
            ol = old;
    }
    sub_t l, r;
    int rc = build(c, &l, d + 1, ol, ups, m);
    if (rc != HM_OK)
        return rc;
    rc = build(c, &r, d + 1, orr, ups + m, n - m);
    if (rc != HM_OK)
        return rc;
    return combine(c, out, &l, &r);
}

static int update(const uctx_t *c, sub_t *out, const sub_t *cur, unsigned d,
                  const hm_smt_update_t *ups, size_t n)
{
    if (n == 0) {
        *out = *cur;
        return HM_OK;
    }
    int rc;
    if (cur->kind == K_NODE) {
        node_t nd;
        if ((rc = load(c->r, cur->h, cur->loc, &nd)) != HM_OK)
            return rc;
        if (nd.kind != K_NODE || d >= HM_SMT_DEPTH)
            return HM_ERR_CORRUPT;
        sub_t l, r, nl, nr;
        memcpy(l.h, nd.a, 32);
        l.loc = nd.la;
        l.kind = child_kind(nd.a, nd.flags & 1);
        memcpy(r.h, nd.b, 32);
        r.loc = nd.lb;
        r.kind = child_kind(nd.b, nd.flags & 2);
        size_t m = split_at(ups, n, d);
        if ((rc = update(c, &nl, &l, d + 1, ups, m)) != HM_OK)
            return rc;
        if ((rc = update(c, &nr, &r, d + 1, ups + m, n - m)) != HM_OK)
            return rc;
        return combine(c, out, &nl, &nr);
    }
    if (cur->kind == K_LEAF) {
        node_t nd;
        if ((rc = load(c->r, cur->h, cur->loc, &nd)) != HM_OK)
            return rc;
        if (nd.kind != K_LEAF)
            return HM_ERR_CORRUPT;
        oldleaf_t old;
        memcpy(old.kh, nd.a, 32);
        memcpy(old.vh, nd.b, 32);
        memcpy(old.h, cur->h, 32);
        return build(c, out, d, &old, ups, n);
    }
    return build(c, out, d, NULL, ups, n);
}

static int cmp_update(const void *a, const void *b)
{
    return memcmp(((const hm_smt_update_t *)a)->keyhash, ((const hm_smt_update_t *)b)->keyhash,
                  32);
}

int hm_smt_update(const hm_smt_reader_t *r, const hm_smt_writer_t *w, uint8_t new_root[32],
                  uint64_t *new_root_loc, const uint8_t root[32], uint64_t root_loc,
                  hm_smt_update_t *ups, size_t n)
{
    if (n > 1)
        qsort(ups, n, sizeof *ups, cmp_update);
    for (size_t i = 1; i < n; i++)
        if (memcmp(ups[i - 1].keyhash, ups[i].keyhash, 32) == 0)
            return HM_ERR_INVALID;
    uctx_t c = {r, w};
    sub_t cur, out;
    memcpy(cur.h, root, 32);
    cur.loc = root_loc;
    int rc = resolve(r, root, root_loc, &cur.kind);
    if (rc != HM_OK)
        return rc;
    rc = update(&c, &out, &cur, 0, ups, n);
    if (rc == HM_OK) {
        memcpy(new_root, out.h, 32);
        *new_root_loc = out.kind == K_EMPTY ? 0 : out.loc;
    }
    return rc;
}

int hm_smt_get(const hm_smt_reader_t *r, bool *found, uint8_t valuehash[32],
               const uint8_t root[32], uint64_t root_loc, const uint8_t keyhash[32])
{
    uint8_t h[32];
    uint64_t loc = root_loc;
    memcpy(h, root, 32);
    for (unsigned d = 0;; d++) {
        if (is_zero32(h)) {
            *found = false;
            return HM_OK;
        }
        node_t nd;
        int rc = load(r, h, loc, &nd);
        if (rc != HM_OK)
            return rc;
        if (nd.kind == K_LEAF) {
            *found = memcmp(nd.a, keyhash, 32) == 0;
            if (*found)
                memcpy(valuehash, nd.b, 32);
            return HM_OK;
        }
        if (d >= HM_SMT_DEPTH)
            return HM_ERR_CORRUPT;
        bool right = key_bit(keyhash, d);
        memcpy(h, right ? nd.b : nd.a, 32);
        loc = right ? nd.lb : nd.la;
    }
}

int hm_smt_prove(const hm_smt_reader_t *r, hm_smt_proof_t *out, const uint8_t root[32],
                 uint64_t root_loc, const uint8_t keyhash[32])
{
    hm_smt_proof_t *p = malloc(sizeof *p);
    if (!p)
        return HM_ERR_NOMEM;
    memset(p->bitmap, 0, sizeof p->bitmap);
    p->n_siblings = 0;
    p->has_leaf = false;
    memset(p->leaf_key, 0, 32);
    memset(p->leaf_value_hash, 0, 32);
    int rc = HM_OK;
    uint8_t h[32];
    uint64_t loc = root_loc;
    memcpy(h, root, 32);
    for (unsigned d = 0;; d++) {
        if (is_zero32(h))
            break;
        node_t nd;
        if ((rc = load(r, h, loc, &nd)) != HM_OK)
            goto done;
        if (nd.kind == K_LEAF) {
            p->has_leaf = true;
            memcpy(p->leaf_key, nd.a, 32);
            memcpy(p->leaf_value_hash, nd.b, 32);
            break;
        }
        if (d >= HM_SMT_DEPTH) {
            rc = HM_ERR_CORRUPT;
            goto done;
        }
        int b = key_bit(keyhash, d);
        const uint8_t *sib = b ? nd.a : nd.b;
        if (!is_zero32(sib)) {
            p->bitmap[d >> 3] |= (uint8_t)(0x80u >> (d & 7));
            memcpy(p->siblings[p->n_siblings++], sib, 32);
        }
        memcpy(h, b ? nd.b : nd.a, 32);
        loc = b ? nd.lb : nd.la;
    }
    memcpy(out, p, sizeof *p);
done:
    free(p);
    return rc;
}

static unsigned popcount_bitmap(const uint8_t bm[32], int *highest)
{
    unsigned c = 0;
    *highest = -1;
    for (int d = 0; d < HM_SMT_DEPTH; d++)
        if ((bm[d >> 3] >> (7 - (d & 7))) & 1) {
            c++;
            *highest = d;
        }
    return c;
}

bool hm_smt_proof_is_membership(const hm_smt_proof_t *p, const uint8_t keyhash[32])
{
    return p->has_leaf && memcmp(p->leaf_key, keyhash, 32) == 0;
}

int hm_smt_verify_hashed(const uint8_t root[32], const uint8_t keyhash[32],
                         const uint8_t *valuehash, const hm_smt_proof_t *p)
{
    int highest;
    unsigned cnt = popcount_bitmap(p->bitmap, &highest);
    if (p->n_siblings > HM_SMT_DEPTH || cnt != p->n_siblings)
        return HM_ERR_PROOF;
    unsigned depth = (unsigned)(highest + 1);
    uint8_t cur[32];
    if (valuehash) {
        if (!p->has_leaf || memcmp(p->leaf_key, keyhash, 32) != 0 ||
            memcmp(p->leaf_value_hash, valuehash, 32) != 0)
            return HM_ERR_PROOF;
        hm_smt_leaf_hash(cur, keyhash, valuehash);
    } else if (p->has_leaf) {
        /* Absence shown by another leaf: it must sit on keyhash's path. */
        if (memcmp(p->leaf_key, keyhash, 32) == 0)
            return HM_ERR_PROOF;
        for (unsigned d = 0; d < depth; d++)
            if (key_bit(p->leaf_key, d) != key_bit(keyhash, d))
                return HM_ERR_PROOF;
        hm_smt_leaf_hash(cur, p->leaf_key, p->leaf_value_hash);
    } else {
        memset(cur, 0, 32);
    }
    size_t si = p->n_siblings;
    for (unsigned i = depth; i-- > 0;) {
        const uint8_t *sib = hm_zero32;
        if ((p->bitmap[i >> 3] >> (7 - (i & 7))) & 1) {
            sib = p->siblings[--si];
            if (is_zero32(sib))
                return HM_ERR_PROOF; /* the bitmap says non-empty */
        }
        if (key_bit(keyhash, i))
            hm_smt_node_hash(cur, sib, cur);
        else
            hm_smt_node_hash(cur, cur, sib);
    }
    return memcmp(cur, root, 32) == 0 ? HM_OK : HM_ERR_PROOF;
}

int hm_smt_verify(const uint8_t root[32], const uint8_t *key, size_t klen, const uint8_t *val,
                  size_t vlen, const hm_smt_proof_t *p)
{
    uint8_t kh[32], vh[32];
    hm_smt_key_hash(kh, key, klen);
    if (!val)
        return hm_smt_verify_hashed(root, kh, NULL, p);
    hm_smt_value_hash(vh, val, vlen);
    return hm_smt_verify_hashed(root, kh, vh, p);
}

void hm_smt_proof_to_msg(hm_smt_proof_msg_t *m, const hm_smt_proof_t *p)
{
    Hallmark__SmtProof init = HALLMARK__SMT_PROOF__INIT;
    m->msg = init;
    m->msg.bitmap.data = (uint8_t *)p->bitmap;
    m->msg.bitmap.len = 32;
    for (size_t i = 0; i < p->n_siblings; i++) {
        m->sib[i].data = (uint8_t *)p->siblings[i];
        m->sib[i].len = 32;
    }
    m->msg.n_siblings = p->n_siblings;
    m->msg.siblings = p->n_siblings ? m->sib : NULL;
    if (p->has_leaf) {
        m->msg.leaf_key.data = (uint8_t *)p->leaf_key;
        m->msg.leaf_key.len = 32;
        m->msg.leaf_value_hash.data = (uint8_t *)p->leaf_value_hash;
        m->msg.leaf_value_hash.len = 32;
    }
}

int hm_smt_proof_from_msg(hm_smt_proof_t *out, const Hallmark__SmtProof *msg)
{
    if (msg->bitmap.len != 32 || msg->n_siblings > HM_SMT_DEPTH)
        return HM_ERR_INVALID;
    int highest;
    if (popcount_bitmap(msg->bitmap.data, &highest) != msg->n_siblings)
        return HM_ERR_INVALID;
    for (size_t i = 0; i < msg->n_siblings; i++)
        if (msg->siblings[i].len != 32)
            return HM_ERR_INVALID;
    if (msg->leaf_key.len != msg->leaf_value_hash.len ||
        (msg->leaf_key.len != 0 && msg->leaf_key.len != 32))
        return HM_ERR_INVALID;
    memcpy(out->bitmap, msg->bitmap.data, 32);
    for (size_t i = 0; i < msg->n_siblings; i++)
        memcpy(out->siblings[i], msg->siblings[i].data, 32);
    out->n_siblings = msg->n_siblings;
    out->has_leaf = msg->leaf_key.len == 32;
    if (out->has_leaf) {
        memcpy(out->leaf_key, msg->leaf_key.data, 32);
        memcpy(out->leaf_value_hash, msg->leaf_value_hash.data, 32);
    } else {
        memset(out->leaf_key, 0, 32);
        memset(out->leaf_value_hash, 0, 32);
    }
    return HM_OK;
}

int hm_smt_proof_encode(uint8_t **out, size_t *len, const hm_smt_proof_t *p)
{
    hm_smt_proof_msg_t *m = malloc(sizeof *m);
    if (!m)
        return HM_ERR_NOMEM;
    hm_smt_proof_to_msg(m, p);
    int rc = hm_codec_encode(out, len, &m->msg.base);
    free(m);
    return rc;
}

int hm_smt_proof_decode(hm_smt_proof_t *out, const uint8_t *data, size_t len)
{
    Hallmark__SmtProof *msg = NULL;
    int rc = hm_decode_smt_proof(&msg, data, len);
    if (rc != HM_OK)
        return rc;
    rc = hm_smt_proof_from_msg(out, msg);
    hm_free_smt_proof(msg);
    return rc;
}
