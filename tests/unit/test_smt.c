/* Unit tests: lib/smt — the compact sparse Merkle tree, checked against a
 * naive reference that recomputes the root from scratch by the definition
 * (doc/state.md). Seeds are fixed so failures replay. */
#include "tests/unit/testutil.h"

#include "lib/hash.h"
#include "lib/kvmap.h"
#include "lib/smt.h"

/* ---- a node store for the tree: an ordered map locator || hash -> node
 * bytes. Exact: a node asked for under the wrong locator is not found, so
 * every test also checks that interior nodes carry their children's
 * locators. */

static void ns_key(uint8_t k[40], const uint8_t hash[32], uint64_t loc)
{
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)(loc >> (56 - 8 * i));
    memcpy(k + 8, hash, 32);
}

static int ns_get(void *arg, const uint8_t hash[32], uint64_t loc,
                  uint8_t out[HM_SMT_MAX_NODE_LEN], size_t *len)
{
    uint8_t k[40];
    ns_key(k, hash, loc);
    const hm_kvnode_t *e = hm_kvmap_get(arg, k, sizeof k);
    if (!e)
        return HM_ERR_NOT_FOUND;
    memcpy(out, e->val, e->vlen);
    *len = e->vlen;
    return HM_OK;
}

static int ns_put(void *arg, const uint8_t hash[32], uint64_t loc, const uint8_t *node,
                  size_t len)
{
    uint8_t k[40];
    ns_key(k, hash, loc);
    return hm_kvmap_put(arg, k, sizeof k, node, len, 0, NULL);
}

typedef struct {
    hm_kvmap_t nodes;
    hm_smt_reader_t r;
    hm_smt_writer_t w; /* w.loc: the locator of the last update */
    uint8_t root[32];
    uint64_t root_loc;
} tree_t;

static void tree_init(tree_t *t)
{
    memset(t, 0, sizeof *t);
    t->r = (hm_smt_reader_t){ns_get, &t->nodes};
    t->w = (hm_smt_writer_t){ns_put, &t->nodes, 0};
}

/* One update under a fresh locator, as a store's commit would. */
static int tree_update(tree_t *t, hm_smt_update_t *ups, size_t n)
{
    t->w.loc++;
    return hm_smt_update(&t->r, &t->w, t->root, &t->root_loc, t->root, t->root_loc, ups, n);
}

static int tree_prove(tree_t *t, hm_smt_proof_t *p, const uint8_t kh[32])
{
    return hm_smt_prove(&t->r, p, t->root, t->root_loc, kh);
}

static int tree_get(tree_t *t, bool *found, uint8_t vh[32], const uint8_t kh[32])
{
    return hm_smt_get(&t->r, found, vh, t->root, t->root_loc, kh);
}

static void tree_free(tree_t *t)
{
    hm_kvmap_clear(&t->nodes);
}

/* ---- the model: keyhash -> valuehash, and the reference root */

typedef struct {
    uint8_t kh[32], vh[32];
} kv_t;

static int kv_cmp(const void *a, const void *b)
{
    return memcmp(((const kv_t *)a)->kh, ((const kv_t *)b)->kh, 32);
}

static int bit_of(const uint8_t kh[32], unsigned d)
{
    return (kh[d / 8] >> (7 - d % 8)) & 1;
}

/* By the definition: no leaf -> zeros; one leaf -> its leaf hash; else
 * H_node(subtree(bit d = 0), subtree(bit d = 1)). Written with plain tagged
 * hashes, not the module's helpers. kv sorted by kh. */
static void ref_subtree(uint8_t out[32], const kv_t *kv, size_t n, unsigned d)
{
    if (n == 0) {
        memset(out, 0, 32);
        return;
    }
    if (n == 1) {
        hm_tagged_hash2(out, "hallmark/smt-leaf", kv[0].kh, 32, kv[0].vh, 32);
        return;
    }
    assert_true(d < 256);
    size_t m = 0;
    while (m < n && !bit_of(kv[m].kh, d))
        m++;
    uint8_t l[32], r[32];
    ref_subtree(l, kv, m, d + 1);
    ref_subtree(r, kv + m, n - m, d + 1);
    hm_tagged_hash2(out, "hallmark/smt-node", l, 32, r, 32);
}

typedef struct {
    kv_t *kv;
    size_t n, cap;
} model_t;

static kv_t *model_find(model_t *m, const uint8_t kh[32])
{
    kv_t key;
    memcpy(key.kh, kh, 32);
    return m->n ? bsearch(&key, m->kv, m->n, sizeof *m->kv, kv_cmp) : NULL;
}

static void model_apply(model_t *m, const hm_smt_update_t *u)
{
    kv_t *e = model_find(m, u->keyhash);
    if (u->del) {
        if (e) {
            size_t i = (size_t)(e - m->kv);
            memmove(e, e + 1, (m->n - i - 1) * sizeof *e);
            m->n--;
        }
        return;
    }
    if (e) {
        memcpy(e->vh, u->valuehash, 32);
        return;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->kv = realloc(m->kv, m->cap * sizeof *m->kv);
        assert_non_null(m->kv);
    }
    memcpy(m->kv[m->n].kh, u->keyhash, 32);
    memcpy(m->kv[m->n].vh, u->valuehash, 32);
    m->n++;
    qsort(m->kv, m->n, sizeof *m->kv, kv_cmp);
}

static void model_root(const model_t *m, uint8_t out[32])
{
    ref_subtree(out, m->kv, m->n, 0);
}

static uint64_t rnd(uint64_t *s)
{
    uint8_t b[8];
    tu_fill(b, 8, s);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | b[i];
    return x;
}

static void apply_batch(tree_t *t, model_t *m, hm_smt_update_t *ups, size_t n)
{
    for (size_t i = 0; i < n; i++)
        model_apply(m, &ups[i]);
    assert_int_equal(tree_update(t, ups, n), HM_OK);
    uint8_t ref[32];
    model_root(m, ref);
    assert_memory_equal(t->root, ref, 32);
}

static void check_proof(tree_t *t, const uint8_t kh[32], const uint8_t *vh)
{
    hm_smt_proof_t *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(tree_prove(t, p, kh), HM_OK);
    assert_int_equal(hm_smt_verify_hashed(t->root, kh, vh, p), HM_OK);
    assert_int_equal(hm_smt_proof_is_membership(p, kh), vh != NULL);
    /* The opposite claim fails. */
    uint8_t other[32];
    memset(other, 0x5a, 32);
    assert_int_equal(hm_smt_verify_hashed(t->root, kh, vh ? NULL : other, p), HM_ERR_PROOF);
    if (vh) {
        memcpy(other, vh, 32);
        other[31] ^= 1;
        assert_int_equal(hm_smt_verify_hashed(t->root, kh, other, p), HM_ERR_PROOF);
    }
    /* The encoded form round-trips. */
    uint8_t *enc = NULL;
    size_t elen = 0;
    assert_int_equal(hm_smt_proof_encode(&enc, &elen, p), HM_OK);
    hm_smt_proof_t *q = malloc(sizeof *q);
    assert_non_null(q);
    assert_int_equal(hm_smt_proof_decode(q, enc, elen), HM_OK);
    assert_int_equal(hm_smt_verify_hashed(t->root, kh, vh, q), HM_OK);
    free(q);
    free(enc);
    free(p);
}

/* ---- tests */

static void test_empty_tree(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t);
    uint8_t zero[32] = {0}, kh[32];
    hm_smt_key_hash(kh, (const uint8_t *)"p/x", 3);
    assert_int_equal(tree_update(&t, NULL, 0), HM_OK);
    assert_memory_equal(t.root, zero, 32);
    /* Deleting from the empty tree leaves it empty. */
    hm_smt_update_t u = {.del = true};
    memcpy(u.keyhash, kh, 32);
    assert_int_equal(tree_update(&t, &u, 1), HM_OK);
    assert_memory_equal(t.root, zero, 32);
    check_proof(&t, kh, NULL);
    hm_smt_proof_t p;
    assert_int_equal(tree_prove(&t, &p, kh), HM_OK);
    assert_int_equal(p.n_siblings, 0);
    assert_false(p.has_leaf);
    assert_int_equal(hm_smt_verify(t.root, (const uint8_t *)"p/x", 3, NULL, 0, &p), HM_OK);
    assert_int_equal(hm_smt_verify(t.root, (const uint8_t *)"p/x", 3, (const uint8_t *)"", 0, &p),
                     HM_ERR_PROOF);
    bool found = true;
    uint8_t vh[32];
    assert_int_equal(tree_get(&t, &found, vh, kh), HM_OK);
    assert_false(found);
    tree_free(&t);
}

static void test_single_leaf(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t);
    const uint8_t key[] = "i/alice", val[] = "record";
    hm_smt_update_t u = {0};
    hm_smt_key_hash(u.keyhash, key, sizeof key - 1);
    hm_smt_value_hash(u.valuehash, val, sizeof val - 1);
    assert_int_equal(tree_update(&t, &u, 1), HM_OK);
    uint8_t leaf[32], kh[32], vh[32];
    memcpy(kh, u.keyhash, 32);
    memcpy(vh, u.valuehash, 32);
    hm_smt_leaf_hash(leaf, kh, vh);
    assert_memory_equal(t.root, leaf, 32); /* compact: the lone leaf is the root */
    hm_smt_proof_t p;
    assert_int_equal(tree_prove(&t, &p, kh), HM_OK);
    assert_int_equal(p.n_siblings, 0);
    assert_int_equal(hm_smt_verify(t.root, key, sizeof key - 1, val, sizeof val - 1, &p), HM_OK);
    /* Absence of another key, shown by the lone leaf. */
    uint8_t kh2[32];
    hm_smt_key_hash(kh2, (const uint8_t *)"i/bob", 5);
    check_proof(&t, kh2, NULL);
    check_proof(&t, kh, vh);
    /* Delete it again: empty. */
    u.del = true;
    assert_int_equal(tree_update(&t, &u, 1), HM_OK);
    uint8_t zero[32] = {0};
    assert_memory_equal(t.root, zero, 32);
    tree_free(&t);
}

/* Random keys, random batches of inserts, updates and deletes, against the
 * reference after every batch; then every proof. */
static void test_random_vs_reference(void **state)
{
    (void)state;
    uint64_t seed = 0x5eed0001;
    tree_t t;
    tree_init(&t);
    model_t m = {0};
    enum { KEYS = 4000, ROUNDS = 60 };
    uint8_t(*keys)[32] = malloc(KEYS * 32);
    assert_non_null(keys);
    for (size_t i = 0; i < KEYS; i++) {
        char k[32];
        int kl = snprintf(k, sizeof k, "p/serial-%zu", i);
        hm_smt_key_hash(keys[i], (const uint8_t *)k, (size_t)kl);
    }
    hm_smt_update_t *ups = malloc(KEYS * sizeof *ups);
    uint8_t *used = calloc(KEYS, 1);
    assert_non_null(ups);
    assert_non_null(used);
    for (int round = 0; round < ROUNDS; round++) {
        size_t n = round < 3 ? 1 + rnd(&seed) % 3 : 1 + rnd(&seed) % 600;
        if (round == 10)
            n = 3000; /* one big batch */
        memset(used, 0, KEYS);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            size_t idx = rnd(&seed) % KEYS;
            if (used[idx])
                continue;
            used[idx] = 1;
            hm_smt_update_t *u = &ups[k++];
            memcpy(u->keyhash, keys[idx], 32);
            /* Deletes a third of the time after warm-up (some of absent keys). */
            u->del = round > 12 && rnd(&seed) % 3 == 0;
            memset(u->valuehash, 0, 32);
            if (!u->del) {
                uint64_t v = rnd(&seed) % 5; /* few values: many no-op updates */
                hm_smt_value_hash(u->valuehash, (const uint8_t *)&v, sizeof v);
            }
        }
        apply_batch(&t, &m, ups, k);
    }
    /* Key by key, in random order, gives the same root too. */
    tree_t t2;
    tree_init(&t2);
    size_t *order = malloc(m.n * sizeof *order);
    assert_non_null(order);
    for (size_t i = 0; i < m.n; i++)
        order[i] = i;
    for (size_t i = m.n; i > 1; i--) {
        size_t j = rnd(&seed) % i, tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
    for (size_t i = 0; i < m.n; i++) {
        hm_smt_update_t u = {0};
        memcpy(u.keyhash, m.kv[order[i]].kh, 32);
        memcpy(u.valuehash, m.kv[order[i]].vh, 32);
        assert_int_equal(tree_update(&t2, &u, 1), HM_OK);
    }
    assert_memory_equal(t2.root, t.root, 32);
    free(order);
    tree_free(&t2);

    /* Every membership proof, and absence proofs for every key not present. */
    for (size_t i = 0; i < m.n; i++) {
        check_proof(&t, m.kv[i].kh, m.kv[i].vh);
        bool found = false;
        uint8_t vh[32];
        assert_int_equal(tree_get(&t, &found, vh, m.kv[i].kh), HM_OK);
        assert_true(found);
        assert_memory_equal(vh, m.kv[i].vh, 32);
    }
    size_t absent = 0;
    for (size_t i = 0; i < KEYS; i++)
        if (!model_find(&m, keys[i])) {
            check_proof(&t, keys[i], NULL);
            absent++;
        }
    assert_true(absent > 100);
    assert_true(m.n > 1000);
    free(m.kv);
    free(ups);
    free(used);
    free(keys);
    tree_free(&t);
}

/* Flip every bit of every part of a proof (and of the claim): all fail. */
static void tamper_all(const uint8_t root[32], const uint8_t kh[32], const uint8_t *vh,
                       const hm_smt_proof_t *orig)
{
    hm_smt_proof_t *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(hm_smt_verify_hashed(root, kh, vh, orig), HM_OK);
    for (unsigned b = 0; b < 256; b++) { /* bitmap */
        memcpy(p, orig, sizeof *p);
        p->bitmap[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
        assert_int_equal(hm_smt_verify_hashed(root, kh, vh, p), HM_ERR_PROOF);
    }
    for (size_t s = 0; s < orig->n_siblings; s++) /* siblings */
        for (unsigned b = 0; b < 256; b++) {
            memcpy(p, orig, sizeof *p);
            p->siblings[s][b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_int_equal(hm_smt_verify_hashed(root, kh, vh, p), HM_ERR_PROOF);
        }
    if (orig->has_leaf)
        for (unsigned b = 0; b < 256; b++) { /* leaf key and value hash */
            memcpy(p, orig, sizeof *p);
            p->leaf_key[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_int_equal(hm_smt_verify_hashed(root, kh, vh, p), HM_ERR_PROOF);
            memcpy(p, orig, sizeof *p);
            p->leaf_value_hash[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_int_equal(hm_smt_verify_hashed(root, kh, vh, p), HM_ERR_PROOF);
        }
    /* Drop the leaf, drop or add a sibling. */
    memcpy(p, orig, sizeof *p);
    p->has_leaf = !p->has_leaf;
    assert_int_equal(hm_smt_verify_hashed(root, kh, vh, p), HM_ERR_PROOF);
    if (orig->n_siblings) {
        memcpy(p, orig, sizeof *p);
        p->n_siblings--;
        assert_int_equal(hm_smt_verify_hashed(root, kh, vh, p), HM_ERR_PROOF);
    }
    if (orig->n_siblings < HM_SMT_DEPTH) {
        memcpy(p, orig, sizeof *p);
        memset(p->siblings[p->n_siblings++], 7, 32);
        assert_int_equal(hm_smt_verify_hashed(root, kh, vh, p), HM_ERR_PROOF);
    }
    /* The claim: every bit of the key hash and of the value hash. (An
     * absence proof ending at depth d also proves absent every other key
     * sharing those d bits, so only bits above d are altered for it.) */
    unsigned depth = 0;
    for (unsigned b = 0; b < 256; b++)
        if (orig->bitmap[b / 8] & (0x80 >> (b % 8)))
            depth = b + 1;
    for (unsigned b = 0; b < 256; b++) {
        uint8_t k2[32];
        memcpy(k2, kh, 32);
        k2[b / 8] ^= (uint8_t)(0x80u >> (b % 8));
        if (vh || b < depth)
            assert_int_equal(hm_smt_verify_hashed(root, k2, vh, orig), HM_ERR_PROOF);
        if (vh) {
            uint8_t v2[32];
            memcpy(v2, vh, 32);
            v2[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_int_equal(hm_smt_verify_hashed(root, kh, v2, orig), HM_ERR_PROOF);
        }
        uint8_t r2[32];
        memcpy(r2, root, 32);
        r2[b / 8] ^= (uint8_t)(1u << (b % 8));
        assert_int_equal(hm_smt_verify_hashed(r2, kh, vh, orig), HM_ERR_PROOF);
    }
    free(p);
}

static void test_altered_proofs_fail(void **state)
{
    (void)state;
    uint64_t seed = 0x5eed0002;
    tree_t t;
    tree_init(&t);
    enum { N = 2000 };
    hm_smt_update_t *ups = calloc(N, sizeof *ups);
    assert_non_null(ups);
    char (*names)[24] = malloc(N * 24);
    assert_non_null(names);
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], 24, "c/%zu", i);
        hm_smt_key_hash(ups[i].keyhash, (const uint8_t *)names[i], strlen(names[i]));
        hm_smt_value_hash(ups[i].valuehash, (const uint8_t *)names[i], strlen(names[i]) - 1);
    }
    assert_int_equal(tree_update(&t, ups, N), HM_OK);
    hm_smt_proof_t *p = malloc(sizeof *p);
    assert_non_null(p);
    for (int j = 0; j < 12; j++) {
        size_t i = rnd(&seed) % N;
        const char *k = names[i];
        uint8_t kh[32], vh[32];
        hm_smt_key_hash(kh, (const uint8_t *)k, strlen(k));
        hm_smt_value_hash(vh, (const uint8_t *)k, strlen(k) - 1);
        assert_int_equal(tree_prove(&t, p, kh), HM_OK);
        tamper_all(t.root, kh, vh, p);
        /* Value and key bytes as the verifier's caller passes them. */
        size_t kl = strlen(k);
        uint8_t kb[24], vb[24];
        memcpy(kb, k, kl);
        memcpy(vb, k, kl - 1);
        assert_int_equal(hm_smt_verify(t.root, kb, kl, vb, kl - 1, p), HM_OK);
        for (unsigned b = 0; b < 8 * (kl - 1); b++) {
            vb[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_int_equal(hm_smt_verify(t.root, kb, kl, vb, kl - 1, p), HM_ERR_PROOF);
            vb[b / 8] ^= (uint8_t)(1u << (b % 8));
        }
        for (unsigned b = 0; b < 8 * kl; b++) {
            kb[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_int_equal(hm_smt_verify(t.root, kb, kl, vb, kl - 1, p), HM_ERR_PROOF);
            kb[b / 8] ^= (uint8_t)(1u << (b % 8));
        }
        /* Absence of a key not in the tree (ends at a leaf or an empty). */
        uint8_t ak[32];
        tu_fill(ak, 32, &seed);
        assert_int_equal(tree_prove(&t, p, ak), HM_OK);
        tamper_all(t.root, ak, NULL, p);
    }
    free(p);
    free(names);
    free(ups);
    tree_free(&t);
}

/* Keys sharing long prefixes: deep chains of single-child interior nodes,
 * a split at the very last bit, deletes that collapse them. */
static void test_long_prefixes(void **state)
{
    (void)state;
    uint64_t seed = 0x5eed0003;
    tree_t t;
    tree_init(&t);
    model_t m = {0};
    uint8_t base[32];
    tu_fill(base, 32, &seed);
    static const unsigned flips[] = {255, 254, 250, 200, 128, 64, 8, 1, 0};
    enum { NF = sizeof flips / sizeof flips[0] };
    hm_smt_update_t ups[NF + 1];
    memset(ups, 0, sizeof ups);
    memcpy(ups[0].keyhash, base, 32);
    ups[0].valuehash[0] = 1;
    for (size_t i = 0; i < NF; i++) {
        memcpy(ups[i + 1].keyhash, base, 32);
        ups[i + 1].keyhash[flips[i] / 8] ^= (uint8_t)(0x80 >> (flips[i] % 8));
        ups[i + 1].valuehash[0] = (uint8_t)(i + 2);
    }
    /* Insert one at a time, deepest split first, checking as we go. */
    for (size_t i = 0; i <= NF; i++) {
        hm_smt_update_t u = ups[i];
        apply_batch(&t, &m, &u, 1);
    }
    for (size_t i = 0; i < m.n; i++) {
        check_proof(&t, m.kv[i].kh, m.kv[i].vh);
        hm_smt_proof_t p;
        assert_int_equal(tree_prove(&t, &p, m.kv[i].kh), HM_OK);
        if (memcmp(m.kv[i].kh, base, 32) == 0)
            assert_int_equal(p.n_siblings, NF); /* one per flip */
    }
    /* The key at the bottom: a path of full depth 256. */
    hm_smt_proof_t p;
    assert_int_equal(tree_prove(&t, &p, base), HM_OK);
    assert_true(p.bitmap[31] & 1);
    tamper_all(t.root, base, ups[0].valuehash, &p);
    /* Absent keys along the same prefixes. */
    for (unsigned d = 0; d < 256; d += 17) {
        uint8_t k[32];
        memcpy(k, base, 32);
        k[d / 8] ^= (uint8_t)(0x80 >> (d % 8));
        k[31] ^= 0x40;
        if (!model_find(&m, k))
            check_proof(&t, k, NULL);
    }
    /* Delete in another order; each step matches the reference. */
    static const size_t del_order[] = {0, 5, 1, 9, 3, 2, 8, 4, 7, 6};
    for (size_t i = 0; i <= NF; i++) {
        hm_smt_update_t u = ups[del_order[i]];
        u.del = true;
        apply_batch(&t, &m, &u, 1);
        for (size_t j = 0; j < m.n; j++)
            check_proof(&t, m.kv[j].kh, m.kv[j].vh);
    }
    uint8_t zero[32] = {0};
    assert_memory_equal(t.root, zero, 32);
    free(m.kv);
    tree_free(&t);
}

/* Nodes are never deleted: an old root stays provable after updates. */
static void test_historical_roots(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t);
    hm_smt_update_t u[3];
    memset(u, 0, sizeof u);
    for (int i = 0; i < 3; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        hm_smt_key_hash(u[i].keyhash, (const uint8_t *)k, 2);
        hm_smt_value_hash(u[i].valuehash, (const uint8_t *)"v1", 2);
    }
    assert_int_equal(tree_update(&t, u, 3), HM_OK);
    uint8_t old[32];
    memcpy(old, t.root, 32);
    uint64_t old_loc = t.root_loc;
    /* (hm_smt_update sorted u: look "k1" up by its hash.) */
    hm_smt_update_t v = {0};
    hm_smt_key_hash(v.keyhash, (const uint8_t *)"k1", 2);
    hm_smt_value_hash(v.valuehash, (const uint8_t *)"v2", 2);
    assert_int_equal(tree_update(&t, &v, 1), HM_OK);
    assert_memory_not_equal(old, t.root, 32);
    hm_smt_proof_t p;
    assert_int_equal(hm_smt_prove(&t.r, &p, old, old_loc, v.keyhash), HM_OK);
    assert_int_equal(hm_smt_verify(old, (const uint8_t *)"k1", 2, (const uint8_t *)"v1", 2, &p),
                     HM_OK);
    assert_int_equal(hm_smt_verify(t.root, (const uint8_t *)"k1", 2, (const uint8_t *)"v1", 2, &p),
                     HM_ERR_PROOF);
    /* Duplicate keys in one update are refused. */
    hm_smt_update_t dup[2] = {u[0], u[0]};
    assert_int_equal(tree_update(&t, dup, 2), HM_ERR_INVALID);
    tree_free(&t);
}

static void test_proof_codec_rejects_malformed(void **state)
{
    (void)state;
    uint8_t bm[32] = {0}, sib[32], lk[32], lv[32];
    memset(sib, 1, 32);
    memset(lk, 2, 32);
    memset(lv, 3, 32);
    bm[0] = 0x80;
    ProtobufCBinaryData sibs[1] = {{32, sib}};
    Hallmark__SmtProof msg = HALLMARK__SMT_PROOF__INIT;
    msg.bitmap = (ProtobufCBinaryData){32, bm};
    msg.n_siblings = 1;
    msg.siblings = sibs;
    msg.leaf_key = (ProtobufCBinaryData){32, lk};
    msg.leaf_value_hash = (ProtobufCBinaryData){32, lv};
    hm_smt_proof_t p;
    assert_int_equal(hm_smt_proof_from_msg(&p, &msg), HM_OK);
    assert_true(p.has_leaf);
    msg.bitmap.len = 31;
    assert_int_equal(hm_smt_proof_from_msg(&p, &msg), HM_ERR_INVALID);
    msg.bitmap.len = 32;
    bm[0] = 0xc0; /* two bits, one sibling */
    assert_int_equal(hm_smt_proof_from_msg(&p, &msg), HM_ERR_INVALID);
    bm[0] = 0x80;
    sibs[0].len = 31;
    assert_int_equal(hm_smt_proof_from_msg(&p, &msg), HM_ERR_INVALID);
    sibs[0].len = 32;
    msg.leaf_value_hash.len = 0;
    assert_int_equal(hm_smt_proof_from_msg(&p, &msg), HM_ERR_INVALID);
    msg.leaf_key.len = 0;
    assert_int_equal(hm_smt_proof_from_msg(&p, &msg), HM_OK);
    assert_false(p.has_leaf);
    /* Bytes that are not an SmtProof. */
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    assert_int_not_equal(hm_smt_proof_decode(&p, junk, sizeof junk), HM_OK);
    /* A sibling of zeros where the bitmap says non-empty: refused. */
    hm_smt_proof_t z;
    memset(&z, 0, sizeof z);
    z.bitmap[0] = 0x80;
    z.n_siblings = 1;
    uint8_t root[32] = {0}, kh[32] = {0};
    assert_int_equal(hm_smt_verify_hashed(root, kh, NULL, &z), HM_ERR_PROOF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_tree),
        cmocka_unit_test(test_single_leaf),
        cmocka_unit_test(test_random_vs_reference),
        cmocka_unit_test(test_altered_proofs_fail),
        cmocka_unit_test(test_long_prefixes),
        cmocka_unit_test(test_historical_roots),
        cmocka_unit_test(test_proof_codec_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
