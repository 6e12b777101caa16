/* node/chain — see chain.h. */
#include "node/chain.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/log.h"
#include "lib/merkle.h"
#include "lib/smt.h"
#include "lib/tx.h"
#include "node/crashpoint.h"

#define CHAIN_TIP_MAGIC "HMCH"
#define CHAIN_TIP_VERSION 1
/* magic 4, version 1, chain_id 32, height 8, last_hash 32, time 8,
 * state_root 32, results_root 32 */
#define CHAIN_TIP_LEN (4 + 1 + 32 + 8 + 32 + 8 + 32 + 32)

struct node_chain {
    hm_store_t *store;
    chain_tip_t tip;
};

/* ---------------------------------------------------------------- keys */

static size_t key_height(uint8_t out[9], char tag, uint64_t h)
{
    out[0] = (uint8_t)tag;
    hm_put_u64be(out + 1, h);
    return 9;
}

/* "H" klen[2] key [h[8] index[4]] into b (reset first). */
static int key_history(hm_buf_t *b, const uint8_t *key, size_t klen, bool with_pos, uint64_t h,
                       uint32_t index)
{
    if (klen > 0xffff)
        return HM_ERR_TOO_LARGE;
    hm_buf_reset(b);
    int rc = hm_buf_append_u8(b, 'H');
    if (rc == HM_OK)
        rc = hm_buf_append(b, (uint8_t[]){(uint8_t)(klen >> 8), (uint8_t)klen}, 2);
    if (rc == HM_OK)
        rc = hm_buf_append(b, key, klen);
    if (rc == HM_OK && with_pos) {
        rc = hm_buf_append_u64be(b, h);
        if (rc == HM_OK)
            rc = hm_buf_append_u32be(b, index);
    }
    return rc;
}

/* ----------------------------------------------------------------- tip */

static void tip_encode(uint8_t out[CHAIN_TIP_LEN], const chain_tip_t *t)
{
    uint8_t *p = out;
    memcpy(p, CHAIN_TIP_MAGIC, 4);
    p += 4;
    *p++ = CHAIN_TIP_VERSION;
    memcpy(p, t->chain_id, 32);
    p += 32;
    hm_put_u64be(p, t->height);
    p += 8;
    memcpy(p, t->last_hash, 32);
    p += 32;
    hm_put_u64be(p, t->last_time_ms);
    p += 8;
    memcpy(p, t->state_root, 32);
    p += 32;
    memcpy(p, t->results_root, 32);
}

static int tip_decode(chain_tip_t *t, const uint8_t *p, size_t len)
{
    if (len != CHAIN_TIP_LEN || memcmp(p, CHAIN_TIP_MAGIC, 4) != 0 || p[4] != CHAIN_TIP_VERSION)
        return HM_ERR_CORRUPT;
    p += 5;
    memcpy(t->chain_id, p, 32);
    p += 32;
    t->height = hm_get_u64be(p);
    p += 8;
    memcpy(t->last_hash, p, 32);
    p += 32;
    t->last_time_ms = hm_get_u64be(p);
    p += 8;
    memcpy(t->state_root, p, 32);
    p += 32;
    memcpy(t->results_root, p, 32);
    return HM_OK;
}

static int chain_put_tip(hm_state_t *st, const chain_tip_t *t)
{
    uint8_t enc[CHAIN_TIP_LEN];
    tip_encode(enc, t);
    return hm_state_aux_put(st, (const uint8_t *)"M", 1, enc, sizeof enc);
}

/* ------------------------------------------------------ touched keys */

/* Keys written while executing: appended as klen[2] key, possibly repeated;
 * sorted and deduplicated when read (a mint writes thousands of parts, so
 * no per-write search). */
struct touched {
    hm_buf_t keys;
    bool oom;
};

static void touched_observe(void *arg, const uint8_t *key, size_t klen)
{
    struct touched *t = arg;
    if (klen > 0xffff || t->oom)
        return;
    if (hm_buf_append(&t->keys, (uint8_t[]){(uint8_t)(klen >> 8), (uint8_t)klen}, 2) != HM_OK ||
        hm_buf_append(&t->keys, key, klen) != HM_OK)
        t->oom = true; /* chain_commit_block fails the block rather than lose one */
}

typedef struct {
    const uint8_t *key;
    size_t len;
} key_ref_t;

static int key_ref_cmp(const void *a, const void *b)
{
    const key_ref_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The distinct keys of t, sorted. Out: *refs (malloc'd; pointers into t). */
static int touched_keys(const struct touched *t, key_ref_t **refs, size_t *n)
{
    size_t count = 0;
    for (size_t off = 0; off < t->keys.len; count++)
        off += 2 + ((size_t)t->keys.data[off] << 8 | t->keys.data[off + 1]);
    *refs = NULL;
    *n = 0;
    if (count == 0)
        return HM_OK;
    key_ref_t *v = malloc(count * sizeof *v);
    if (!v)
        return HM_ERR_NOMEM;
    size_t i = 0;
    for (size_t off = 0; off < t->keys.len; i++) {
        size_t l = (size_t)t->keys.data[off] << 8 | t->keys.data[off + 1];
        v[i].key = t->keys.data + off + 2;
        v[i].len = l;
        off += 2 + l;
    }
    qsort(v, count, sizeof *v, key_ref_cmp);
    size_t k = 0;
    for (i = 0; i < count; i++)
        if (k == 0 || key_ref_cmp(&v[k - 1], &v[i]) != 0)
            v[k++] = v[i];
    *refs = v;
    *n = k;
    return HM_OK;
}

static bool has_history(const uint8_t *key, size_t klen)
{
    if (klen < 2 || key[1] != '/')
        return false;
    return key[0] == 'i' || key[0] == 'r' || key[0] == 'l' || key[0] == 'c' || key[0] == 'p';
}

/* History index entries for the records this tx changed; the keys also go
 * to the block's list (for the value store). */
static int chain_index_tx(hm_state_t *st, const struct touched *t, struct touched *block,
                          uint64_t height, uint32_t index, const uint8_t txid[32],
                          hm_buf_t *scratch)
{
    key_ref_t *refs = NULL;
    size_t n = 0;
    int rc = touched_keys(t, &refs, &n);
    for (size_t i = 0; rc == HM_OK && i < n; i++) {
        touched_observe(block, refs[i].key, refs[i].len);
        if (!has_history(refs[i].key, refs[i].len))
            continue;
        rc = key_history(scratch, refs[i].key, refs[i].len, true, height, index);
        if (rc == HM_OK)
            rc = hm_state_aux_put(st, scratch->data, scratch->len, txid, 32);
    }
    if (rc == HM_OK && block->oom)
        rc = HM_ERR_NOMEM;
    free(refs);
    return rc;
}

/* Value store: "V" H_smt-value(value) -> value for every value a block
 * replaced or deleted, so a record can be proven against any certified
 * root (SMT leaves hold only value hashes; SMT nodes and these values are
 * both content-addressed and kept). A key's current value is its state
 * record, so it needs no copy until a block replaces it (chain_prove
 * looks there first). Stores written before 2026-11-24 (fifth session)
 * also hold copies of current values; they are simply never needed. */
static int chain_keep_replaced(hm_state_t *st, const struct touched *block)
{
    key_ref_t *refs = NULL;
    size_t n = 0;
    int rc = touched_keys(block, &refs, &n);
    for (size_t i = 0; rc == HM_OK && i < n; i++) {
        uint8_t *old = NULL, *cur = NULL;
        size_t olen = 0, clen = 0;
        rc = hm_state_get_committed(st, refs[i].key, refs[i].len, &old, &olen);
        if (rc == HM_ERR_NOT_FOUND) {
            rc = HM_OK; /* new key: nothing replaced */
            continue;
        }
        if (rc == HM_OK) {
            rc = hm_state_get(st, refs[i].key, refs[i].len, &cur, &clen);
            bool same = rc == HM_OK && clen == olen && memcmp(cur, old, olen) == 0;
            if (rc == HM_ERR_NOT_FOUND)
                rc = HM_OK; /* deleted: the old value is kept */
            if (rc == HM_OK && !same) {
                uint8_t vk[33] = {'V'};
                hm_smt_value_hash(vk + 1, old, olen);
                rc = hm_state_aux_put(st, vk, sizeof vk, old, olen);
            }
        }
        free(old);
        free(cur);
    }
    free(refs);
    return rc;
}

/* --------------------------------------------------------------- open */

static int chain_load_tip(node_chain_t *c, bool *found)
{
    uint8_t *val = NULL;
    size_t vlen = 0;
    int rc = hm_store_get_aux(c->store, (const uint8_t *)"M", 1, &val, &vlen);
    if (rc == HM_ERR_NOT_FOUND) {
        *found = false;
        return HM_OK;
    }
    if (rc != HM_OK)
        return rc;
    rc = tip_decode(&c->tip, val, vlen);
    free(val);
    *found = rc == HM_OK;
    return rc;
}

static int chain_init_genesis(node_chain_t *c, const uint8_t chain_id[32],
                              uint64_t genesis_time_ms, const contracts_genesis_t *g,
                              const uint8_t *genesis_bytes, size_t genesis_len)
{
    hm_state_t *st = NULL;
    int rc = hm_state_begin(&st, c->store);
    if (rc != HM_OK)
        return rc;
    rc = contracts_genesis(st, g); /* replaces nothing: no value copies */
    if (rc != HM_OK)
        goto done;
    memset(&c->tip, 0, sizeof c->tip);
    memcpy(c->tip.chain_id, chain_id, 32);
    c->tip.last_time_ms = genesis_time_ms;
    hm_merkle_root(c->tip.results_root, NULL, 0);
    rc = hm_state_root(st, c->tip.state_root);
    if (rc != HM_OK)
        goto done;
    rc = hm_state_aux_put(st, (const uint8_t *)"G", 1, genesis_bytes, genesis_len);
    if (rc != HM_OK)
        goto done;
    rc = chain_put_tip(st, &c->tip);
    if (rc != HM_OK)
        goto done;
    rc = hm_state_commit(st, true);
done:
    hm_state_free(st);
    return rc;
}

int chain_open(node_chain_t **out, hm_store_t *store, const uint8_t chain_id[32],
               uint64_t genesis_time_ms, const contracts_genesis_t *g,
               const uint8_t *genesis_bytes, size_t genesis_len)
{
    node_chain_t *c = calloc(1, sizeof *c);
    if (!c)
        return HM_ERR_NOMEM;
    c->store = store;
    bool found = false;
    int rc = chain_load_tip(c, &found);
    if (rc != HM_OK)
        goto done;
    if (!found) {
        rc = chain_init_genesis(c, chain_id, genesis_time_ms, g, genesis_bytes, genesis_len);
        if (rc == HM_OK)
            HM_LOG_INFO("chain", "initialised genesis state");
        goto done;
    }
    if (memcmp(c->tip.chain_id, chain_id, 32) != 0) {
        HM_LOG_ERR("chain", "the data directory belongs to another chain");
        rc = HM_ERR_WRONG_CHAIN;
        goto done;
    }
    uint8_t root[32];
    store->ops->root(store, root);
    if (memcmp(root, c->tip.state_root, 32) != 0) {
        HM_LOG_ERR("chain", "stored state root does not match the chain tip");
        rc = HM_ERR_CORRUPT;
    }
done:
    if (rc == HM_OK)
        *out = c;
    else
        free(c);
    return rc;
}

void chain_free(node_chain_t *c)
{
    free(c);
}

const chain_tip_t *chain_tip(const node_chain_t *c)
{
    return &c->tip;
}

/* -------------------------------------------------------------- commit */

static int chain_check_header(const node_chain_t *c, const Hallmark__Header *h)
{
    const chain_tip_t *t = &c->tip;
    if (h->height != t->height + 1 || memcmp(h->chain_id.data, t->chain_id, 32) != 0 ||
        memcmp(h->prev_hash.data, t->last_hash, 32) != 0 ||
        memcmp(h->state_root.data, t->state_root, 32) != 0 ||
        memcmp(h->results_root.data, t->results_root, 32) != 0 || h->time_ms <= t->last_time_ms)
        return HM_ERR_STATE;
    return HM_OK;
}

int chain_commit_block(node_chain_t *c, const hm_block_t *b, const uint8_t *block_bytes,
                       size_t block_len, const uint8_t *cert_bytes, size_t cert_len,
                       const bool *unseen, uint32_t **codes_out)
{
    const Hallmark__Header *h = b->header;
    size_t n = b->block->n_txs;
    hm_state_t *st = NULL;
    hm_tx_t **txs = NULL;
    uint32_t *codes = NULL;
    Hallmark__TxResult *res = NULL, **resp = NULL;
    struct touched touched = {0}, block_keys = {0};
    hm_buf_t scratch = {0}, enc = {0};
    chain_tip_t next = c->tip;
    int rc = chain_check_header(c, h);
    if (rc != HM_OK) {
        HM_LOG_ERR("chain", "block %llu does not extend the tip at %llu",
                   (unsigned long long)h->height, (unsigned long long)c->tip.height);
        return rc;
    }
    rc = HM_ERR_NOMEM;
    if (n) {
        txs = calloc(n, sizeof *txs);
        codes = calloc(n, sizeof *codes);
        res = calloc(n, sizeof *res);
        resp = calloc(n, sizeof *resp);
        if (!txs || !codes || !res || !resp)
            goto done;
    }
    for (size_t i = 0; i < n; i++) {
        rc = hm_tx_decode(&txs[i], b->block->txs[i].data, b->block->txs[i].len);
        if (rc != HM_OK) {
            /* consensus checked tx_root over decodable txs: this is a bug or
             * a corrupt block, never a verdict */
            HM_LOG_ERR("chain", "undecodable tx %zu in certified block %llu", i,
                       (unsigned long long)h->height);
            rc = HM_ERR_CORRUPT;
            goto done;
        }
    }
    rc = hm_state_begin(&st, c->store);
    if (rc != HM_OK)
        goto done;
    hm_state_set_observer(st, touched_observe, &touched);
    contracts_block_t blk;
    memcpy(blk.chain_id, c->tip.chain_id, 32);
    blk.height = h->height;
    blk.time_ms = h->time_ms;
    for (size_t i = 0; i < n; i++) {
        hm_buf_reset(&touched.keys);
        rc = contracts_apply_tx(st, &codes[i], &blk, txs[i]);
        if (rc != HM_OK)
            goto done;
        if (touched.oom) {
            rc = HM_ERR_NOMEM;
            goto done;
        }
        if (codes[i] != HM_R_OK) {
            /* a rejected tx changed its signer's nonce only (or nothing) */
            hm_buf_reset(&touched.keys);
            contracts_key_t nk;
            if (contracts_key_nonce(&nk, txs[i]->tx->signer.data) == HM_OK)
                touched_observe(&touched, nk.b, nk.len);
        }
        rc = chain_index_tx(st, &touched, &block_keys, h->height, (uint32_t)i, txs[i]->txid,
                            &scratch);
        if (rc != HM_OK)
            goto done;
        hallmark__tx_result__init(&res[i]);
        res[i].txid.data = txs[i]->txid;
        res[i].txid.len = 32;
        res[i].code = codes[i];
        resp[i] = &res[i];
    }
    hm_state_set_observer(st, NULL, NULL);
    /* Tx locations: the first commit of a txid is the one that counts (a
     * replay is rejected as BAD_NONCE and must not shadow it). Written in
     * reverse so that, within the block too, the earliest index wins. */
    for (size_t i = n; i-- > 0;) {
        uint64_t oh;
        uint32_t oi;
        rc = unseen && unseen[i] ? HM_ERR_NOT_FOUND : chain_tx_location(c, txs[i]->txid, &oh, &oi);
        if (rc == HM_OK)
            continue;
        if (rc != HM_ERR_NOT_FOUND)
            goto done;
        uint8_t loc[12];
        hm_put_u64be(loc, h->height);
        hm_put_u32be(loc + 8, (uint32_t)i);
        uint8_t tkey[33] = {'T'};
        memcpy(tkey + 1, txs[i]->txid, 32);
        rc = hm_state_aux_put(st, tkey, sizeof tkey, loc, sizeof loc);
        if (rc != HM_OK)
            goto done;
    }
    rc = chain_keep_replaced(st, &block_keys);
    if (rc != HM_OK)
        goto done;
    rc = hm_state_root(st, next.state_root);
    if (rc != HM_OK)
        goto done;
    rc = hm_results_root(next.results_root, (const Hallmark__TxResult *const *)resp, n);
    if (rc != HM_OK)
        goto done;
    Hallmark__BlockResults br = HALLMARK__BLOCK_RESULTS__INIT;
    br.height = h->height;
    br.results = resp;
    br.n_results = n;
    rc = hm_codec_encode_append(&enc, &br.base);
    if (rc != HM_OK)
        goto done;
    uint8_t hk[9];
    key_height(hk, 'R', h->height);
    if ((rc = hm_state_aux_put(st, hk, sizeof hk, enc.data, enc.len)) != HM_OK)
        goto done;
    key_height(hk, 'B', h->height);
    if ((rc = hm_state_aux_put(st, hk, sizeof hk, block_bytes, block_len)) != HM_OK)
        goto done;
    key_height(hk, 'C', h->height);
    if ((rc = hm_state_aux_put(st, hk, sizeof hk, cert_bytes, cert_len)) != HM_OK)
        goto done;
    next.height = h->height;
    memcpy(next.last_hash, b->hash, 32);
    next.last_time_ms = h->time_ms;
    if ((rc = chain_put_tip(st, &next)) != HM_OK)
        goto done;
    CRASHPOINT("block-before-commit");
    rc = hm_state_commit(st, true);
    if (rc != HM_OK)
        goto done;
    CRASHPOINT("block-after-commit");
    c->tip = next;
    if (codes_out) {
        *codes_out = codes;
        codes = NULL;
    }
done:
    if (rc != HM_OK && rc != HM_ERR_STATE)
        HM_LOG_ERR("chain", "executing block %llu failed: %s", (unsigned long long)h->height,
                   hm_strerror(rc));
    hm_state_free(st);
    for (size_t i = 0; txs && i < n; i++)
        hm_tx_free(txs[i]);
    free(txs);
    free(codes);
    free(res);
    free(resp);
    hm_buf_free(&touched.keys);
    hm_buf_free(&block_keys.keys);
    hm_buf_free(&scratch);
    hm_buf_free(&enc);
    return rc;
}

/* --------------------------------------------------------------- reads */

static int chain_get_aux(node_chain_t *c, const uint8_t *key, size_t klen, hm_buf_t *out)
{
    uint8_t *val = NULL;
    size_t vlen = 0;
    int rc = hm_store_get_aux(c->store, key, klen, &val, &vlen);
    if (rc != HM_OK)
        return rc;
    hm_buf_reset(out);
    rc = hm_buf_append(out, val, vlen);
    free(val);
    return rc;
}

static int chain_get_at(node_chain_t *c, char tag, uint64_t height, hm_buf_t *out)
{
    if (height == 0 || height > c->tip.height)
        return HM_ERR_NOT_FOUND;
    uint8_t k[9];
    key_height(k, tag, height);
    return chain_get_aux(c, k, sizeof k, out);
}

int chain_block_bytes(node_chain_t *c, uint64_t height, hm_buf_t *out)
{
    return chain_get_at(c, 'B', height, out);
}

int chain_cert_bytes(node_chain_t *c, uint64_t height, hm_buf_t *out)
{
    return chain_get_at(c, 'C', height, out);
}

int chain_results_bytes(node_chain_t *c, uint64_t height, hm_buf_t *out)
{
    return chain_get_at(c, 'R', height, out);
}

int chain_genesis_bytes(node_chain_t *c, hm_buf_t *out)
{
    return chain_get_aux(c, (const uint8_t *)"G", 1, out);
}

int chain_tx_location(node_chain_t *c, const uint8_t txid[32], uint64_t *height, uint32_t *index)
{
    uint8_t k[33] = {'T'};
    memcpy(k + 1, txid, 32);
    hm_buf_t v = {0};
    int rc = chain_get_aux(c, k, sizeof k, &v);
    if (rc == HM_OK && v.len != 12)
        rc = HM_ERR_CORRUPT;
    if (rc == HM_OK) {
        *height = hm_get_u64be(v.data);
        *index = hm_get_u32be(v.data + 8);
    }
    hm_buf_free(&v);
    return rc;
}

struct history_walk {
    size_t prefix_len;
    bool from_start;
    uint64_t after_height;
    uint32_t after_index;
    size_t limit;
    chain_history_entry_t *entries;
    size_t n;
    int rc;
};

static int history_visit(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen)
{
    struct history_walk *w = arg;
    if (klen != w->prefix_len + 12 || vlen != 32) {
        w->rc = HM_ERR_CORRUPT;
        return 1;
    }
    uint64_t h = hm_get_u64be(key + w->prefix_len);
    uint32_t i = hm_get_u32be(key + w->prefix_len + 8);
    if (!w->from_start && (h < w->after_height || (h == w->after_height && i <= w->after_index)))
        return 0; /* at or before the cursor */
    chain_history_entry_t *e = &w->entries[w->n++];
    e->height = h;
    e->index = i;
    memcpy(e->txid, val, 32);
    return w->n >= w->limit ? 1 : 0;
}

/* Entries are read from the start of the record's index and those up to the
 * cursor skipped: O(position) per page, fine for the histories parts and
 * certificates have (tens to thousands of txs). */
int chain_history(node_chain_t *c, const uint8_t *key, size_t klen, bool from_start,
                  uint64_t after_height, uint32_t after_index, size_t limit,
                  chain_history_entry_t *entries, size_t *n)
{
    *n = 0;
    if (limit == 0)
        return HM_OK;
    hm_buf_t prefix = {0};
    int rc = key_history(&prefix, key, klen, false, 0, 0);
    if (rc == HM_OK) {
        struct history_walk w = {prefix.len, from_start, after_height, after_index,
                                 limit,      entries,    0,            HM_OK};
        rc = hm_store_iterate_aux(c->store, prefix.data, prefix.len, history_visit, &w);
        if (rc > 0)
            rc = HM_OK; /* stopped by the visitor */
        if (rc == HM_OK)
            rc = w.rc;
        if (rc == HM_OK)
            *n = w.n;
    }
    hm_buf_free(&prefix);
    return rc;
}

int chain_prove(node_chain_t *c, const uint8_t root[32], const uint8_t *key, size_t klen,
                bool *found, hm_buf_t *value, hm_smt_proof_t *proof)
{
    uint8_t kh[32];
    hm_smt_key_hash(kh, key, klen);
    int rc = hm_store_prove(c->store, proof, root, key, klen);
    if (rc != HM_OK)
        return rc;
    hm_buf_reset(value);
    *found = hm_smt_proof_is_membership(proof, kh);
    if (!*found)
        return HM_OK;
    /* the current value, if the leaf still holds it; else the copy kept
     * when a block replaced it */
    uint8_t *cur = NULL;
    size_t clen = 0;
    rc = hm_store_get(c->store, key, klen, &cur, &clen);
    if (rc != HM_OK && rc != HM_ERR_NOT_FOUND)
        return rc;
    if (rc == HM_OK) {
        uint8_t vh[32];
        hm_smt_value_hash(vh, cur, clen);
        if (memcmp(vh, proof->leaf_value_hash, 32) == 0) {
            rc = hm_buf_append(value, cur, clen);
            free(cur);
            return rc;
        }
        free(cur);
    }
    uint8_t vk[33] = {'V'};
    memcpy(vk + 1, proof->leaf_value_hash, 32);
    rc = chain_get_aux(c, vk, sizeof vk, value);
    if (rc == HM_ERR_NOT_FOUND)
        rc = HM_ERR_CORRUPT; /* a leaf whose value was never stored */
    return rc;
}

int chain_state_view(node_chain_t *c, hm_state_t **out)
{
    return hm_state_begin(out, c->store);
}
