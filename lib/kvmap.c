/* lib/kvmap — see kvmap.h. A plain recursive AVL tree; recursion depth is
 * bounded by the tree height (< 1.45 log2 n). Depends on lib/err only. */
#include "lib/kvmap.h"

#include <stdlib.h>
#include <string.h>

int hm_bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int ht(const hm_kvnode_t *n)
{
    return n ? n->height : 0;
}

static void fix(hm_kvnode_t *n)
{
    int l = ht(n->left), r = ht(n->right);
    n->height = (l > r ? l : r) + 1;
}

static hm_kvnode_t *rot_right(hm_kvnode_t *n)
{
    hm_kvnode_t *l = n->left;
    n->left = l->right;
    l->right = n;
    fix(n);
    fix(l);
    return l;
}

static hm_kvnode_t *rot_left(hm_kvnode_t *n)
{
    hm_kvnode_t *r = n->right;
    n->right = r->left;
    r->left = n;
    fix(n);
    fix(r);
    return r;
}

static hm_kvnode_t *balance(hm_kvnode_t *n)
{
    fix(n);
    int bf = ht(n->left) - ht(n->right);
    if (bf > 1) {
        if (ht(n->left->left) < ht(n->left->right))
            n->left = rot_left(n->left);
        return rot_right(n);
    }
    if (bf < -1) {
        if (ht(n->right->right) < ht(n->right->left))
            n->right = rot_right(n->right);
        return rot_left(n);
    }
    return n;
}

/* Insert a node whose key is known to be absent. */
static hm_kvnode_t *insert(hm_kvnode_t *t, hm_kvnode_t *x)
{
    if (!t)
        return x;
    if (hm_bytes_cmp(x->key, x->klen, t->key, t->klen) < 0)
        t->left = insert(t->left, x);
    else
        t->right = insert(t->right, x);
    return balance(t);
}

hm_kvnode_t *hm_kvmap_get(const hm_kvmap_t *m, const uint8_t *key, size_t klen)
{
    hm_kvnode_t *t = m->root;
    while (t) {
        int c = hm_bytes_cmp(key, klen, t->key, t->klen);
        if (c == 0)
            return t;
        t = c < 0 ? t->left : t->right;
    }
    return NULL;
}

int hm_kvmap_node_new(hm_kvnode_t **out, const uint8_t *key, size_t klen, uint8_t *val,
                      size_t vlen, int flag)
{
    hm_kvnode_t *e;
    if (klen > SIZE_MAX - sizeof *e)
        return HM_ERR_OVERFLOW;
    e = malloc(sizeof *e + klen);
    if (!e)
        return HM_ERR_NOMEM;
    e->left = e->right = NULL;
    e->val = val;
    e->vlen = vlen;
    e->klen = klen;
    e->height = 1;
    e->flag = flag;
    if (klen)
        memcpy(e->key, key, klen);
    *out = e;
    return HM_OK;
}

void hm_kvmap_node_free(hm_kvnode_t *n)
{
    if (!n)
        return;
    free(n->val);
    free(n);
}

void hm_kvmap_put_node(hm_kvmap_t *m, hm_kvnode_t *n)
{
    hm_kvnode_t *e = hm_kvmap_get(m, n->key, n->klen);
    if (e) {
        free(e->val);
        e->val = n->val;
        e->vlen = n->vlen;
        e->flag = n->flag;
        free(n);
        return;
    }
    n->left = n->right = NULL;
    n->height = 1;
    m->root = insert(m->root, n);
    m->n++;
}

int hm_kvmap_put_owned(hm_kvmap_t *m, const uint8_t *key, size_t klen, uint8_t *val, size_t vlen,
                       int flag)
{
    hm_kvnode_t *e = hm_kvmap_get(m, key, klen);
    if (e) {
        free(e->val);
        e->val = val;
        e->vlen = vlen;
        e->flag = flag;
        return HM_OK;
    }
    int rc = hm_kvmap_node_new(&e, key, klen, val, vlen, flag);
    if (rc != HM_OK)
        return rc;
    m->root = insert(m->root, e);
    m->n++;
    return HM_OK;
}

int hm_kvmap_put(hm_kvmap_t *m, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                 int flag, hm_kvnode_t **node)
{
    uint8_t *v = NULL;
    if (vlen) {
        v = malloc(vlen);
        if (!v)
            return HM_ERR_NOMEM;
        memcpy(v, val, vlen);
    }
    int rc = hm_kvmap_put_owned(m, key, klen, v, vlen, flag);
    if (rc != HM_OK) {
        free(v);
        return rc;
    }
    if (node)
        *node = hm_kvmap_get(m, key, klen);
    return HM_OK;
}

/* Detach the minimum of t into *min; returns the new subtree. */
static hm_kvnode_t *remove_min(hm_kvnode_t *t, hm_kvnode_t **min)
{
    if (!t->left) {
        *min = t;
        return t->right;
    }
    t->left = remove_min(t->left, min);
    return balance(t);
}

static hm_kvnode_t *kv_remove(hm_kvnode_t *t, const uint8_t *key, size_t klen, hm_kvnode_t **gone)
{
    if (!t)
        return NULL;
    int c = hm_bytes_cmp(key, klen, t->key, t->klen);
    if (c < 0) {
        t->left = kv_remove(t->left, key, klen, gone);
    } else if (c > 0) {
        t->right = kv_remove(t->right, key, klen, gone);
    } else {
        *gone = t;
        if (!t->left)
            return t->right;
        if (!t->right)
            return t->left;
        hm_kvnode_t *min;
        hm_kvnode_t *r = remove_min(t->right, &min);
        min->left = t->left;
        min->right = r;
        return balance(min);
    }
    return balance(t);
}

bool hm_kvmap_del(hm_kvmap_t *m, const uint8_t *key, size_t klen)
{
    hm_kvnode_t *gone = NULL;
    m->root = kv_remove(m->root, key, klen, &gone);
    if (!gone)
        return false;
    free(gone->val);
    free(gone);
    m->n--;
    return true;
}

static int visit(const hm_kvnode_t *t, const uint8_t *p, size_t plen, hm_kvmap_visit_fn fn,
                 void *arg)
{
    while (t) {
        bool has = t->klen >= plen && (plen == 0 || memcmp(t->key, p, plen) == 0);
        if (has) {
            int rc = visit(t->left, p, plen, fn, arg);
            if (rc)
                return rc;
            rc = fn(arg, t);
            if (rc)
                return rc;
            t = t->right;
        } else if (hm_bytes_cmp(t->key, t->klen, p, plen) < 0) {
            t = t->right; /* t and its left subtree sort before the prefix */
        } else {
            t = t->left; /* t and its right subtree sort after the range */
        }
    }
    return 0;
}

int hm_kvmap_visit(const hm_kvmap_t *m, const uint8_t *prefix, size_t plen, hm_kvmap_visit_fn fn,
                   void *arg)
{
    return visit(m->root, prefix, plen, fn, arg);
}

static void clear(hm_kvnode_t *t)
{
    while (t) {
        clear(t->left);
        hm_kvnode_t *r = t->right;
        free(t->val);
        free(t);
        t = r;
    }
}

void hm_kvmap_clear(hm_kvmap_t *m)
{
    clear(m->root);
    m->root = NULL;
    m->n = 0;
}
