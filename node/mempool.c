/* node/mempool — see mempool.h.
 *
 * Entries sit on a doubly linked FIFO list (arrival order) and in an open-
 * addressing hash index keyed by txid. Txids are chosen by whoever signs a
 * tx, so the index hashes them with a per-process secret (keyed SHA-256)
 * rather than using their bytes directly: an attacker cannot aim txs at one
 * bucket. */
#include "node/mempool.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/tx.h"

struct mp_entry {
    uint8_t txid[32];
    uint8_t signer[32];
    uint8_t *bytes;
    size_t len;
    size_t ncosig;
    struct mp_entry *prev, *next;
};

#define MP_TOMBSTONE ((struct mp_entry *)1)

struct node_mempool {
    uint8_t chain_id[32];
    uint8_t secret[16];
    mempool_limits_t lim;
    node_workpool_t *pool;
    struct mp_entry *head, *tail;
    size_t count, bytes;
    struct mp_entry **slots; /* NULL = empty, MP_TOMBSTONE = deleted */
    size_t cap;              /* power of two */
    size_t used;             /* live + tombstones */
};

const char *mempool_verdict_name(mempool_verdict_t v)
{
    switch (v) {
    case MEMPOOL_ADMITTED: return "admitted";
    case MEMPOOL_DUPLICATE: return "duplicate";
    case MEMPOOL_MALFORMED: return "malformed";
    case MEMPOOL_TOO_LARGE: return "too_large";
    case MEMPOOL_WRONG_CHAIN: return "wrong_chain";
    case MEMPOOL_BAD_SIGNATURE: return "bad_signature";
    case MEMPOOL_FULL: return "mempool_full";
    }
    return "unknown";
}

static size_t mp_hash(const node_mempool_t *mp, const uint8_t txid[32])
{
    uint8_t h[32];
    hm_tagged_hash2(h, "hallmark/mempool-index", mp->secret, sizeof mp->secret, txid, 32);
    size_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

/* Slot holding txid, or the slot where it would go (first tombstone or empty). */
static size_t mp_find(const node_mempool_t *mp, const uint8_t txid[32], bool *found)
{
    size_t mask = mp->cap - 1, i = mp_hash(mp, txid) & mask, first_free = SIZE_MAX;
    for (;;) {
        struct mp_entry *e = mp->slots[i];
        if (!e) {
            *found = false;
            return first_free != SIZE_MAX ? first_free : i;
        }
        if (e == MP_TOMBSTONE) {
            if (first_free == SIZE_MAX)
                first_free = i;
        } else if (memcmp(e->txid, txid, 32) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int mp_rehash(node_mempool_t *mp, size_t cap)
{
    struct mp_entry **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return HM_ERR_NOMEM;
    struct mp_entry **old = mp->slots;
    mp->slots = slots;
    mp->cap = cap;
    mp->used = 0;
    for (struct mp_entry *e = mp->head; e; e = e->next) {
        bool found;
        size_t i = mp_find(mp, e->txid, &found);
        mp->slots[i] = e;
        mp->used++;
    }
    free(old);
    return HM_OK;
}

int mempool_new(node_mempool_t **out, const uint8_t chain_id[32], const mempool_limits_t *limits,
                node_workpool_t *pool)
{
    node_mempool_t *mp = calloc(1, sizeof *mp);
    if (!mp)
        return HM_ERR_NOMEM;
    memcpy(mp->chain_id, chain_id, 32);
    mp->lim.max_txs = limits && limits->max_txs ? limits->max_txs : 100000;
    mp->lim.max_bytes = limits && limits->max_bytes ? limits->max_bytes : (size_t)256 << 20;
    mp->pool = pool;
    int rc = hm_random(mp->secret, sizeof mp->secret);
    if (rc == HM_OK)
        rc = mp_rehash(mp, 1024);
    if (rc != HM_OK) {
        free(mp);
        return rc;
    }
    *out = mp;
    return HM_OK;
}

void mempool_free(node_mempool_t *mp)
{
    if (!mp)
        return;
    for (struct mp_entry *e = mp->head, *n; e; e = n) {
        n = e->next;
        free(e->bytes);
        free(e);
    }
    free(mp->slots);
    free(mp);
}

size_t mempool_count(const node_mempool_t *mp)
{
    return mp->count;
}

size_t mempool_bytes(const node_mempool_t *mp)
{
    return mp->bytes;
}

bool mempool_contains(const node_mempool_t *mp, const uint8_t txid[32])
{
    bool found;
    mp_find(mp, txid, &found);
    return found;
}

bool mempool_has_exact(const node_mempool_t *mp, const uint8_t txid[32], const uint8_t *bytes,
                       size_t len)
{
    bool found;
    size_t i = mp_find(mp, txid, &found);
    return found && mp->slots[i]->len == len && memcmp(mp->slots[i]->bytes, bytes, len) == 0;
}

/* ---- parallel verification */

struct mp_check {
    const node_mempool_t *mp;
    const ProtobufCBinaryData *txs;
    mempool_checked_t *out;
};

/* The stateless checks of one tx. mp, when given, is read (not changed)
 * to skip the signature check of bytes already pending. */
static void check_one(const node_mempool_t *mp, const uint8_t chain_id[32],
                      const ProtobufCBinaryData *tx, mempool_checked_t *out)
{
    mempool_result_t *r = &out->r;
    memset(out, 0, sizeof *out);
    if (tx->len > HM_MAX_TX_BYTES) {
        r->verdict = MEMPOOL_TOO_LARGE;
        return;
    }
    hm_tx_t *t = NULL;
    int rc = hm_tx_decode(&t, tx->data, tx->len);
    if (rc != HM_OK) {
        r->verdict = MEMPOOL_MALFORMED;
        return;
    }
    memcpy(r->txid, t->txid, 32);
    r->has_txid = true;
    out->ncosig = t->stx->n_cosignatures;
    memcpy(out->signer, t->tx->signer.data, 32);
    /* Already pending with exactly these bytes: verified once, and the
     * insert reports it as a duplicate. (The index is only read while the
     * workers run.) */
    rc = mp && mempool_has_exact(mp, t->txid, tx->data, tx->len) ? HM_OK
                                                                  : hm_tx_verify(t, chain_id);
    hm_tx_free(t);
    r->verdict = rc == HM_OK ? MEMPOOL_ADMITTED
                 : rc == HM_ERR_WRONG_CHAIN ? MEMPOOL_WRONG_CHAIN
                                            : MEMPOOL_BAD_SIGNATURE;
}

static void mp_check_one(void *arg, size_t i)
{
    struct mp_check *c = arg;
    check_one(c->mp, c->mp->chain_id, &c->txs[i], &c->out[i]);
}

void mempool_check(const uint8_t chain_id[32], const ProtobufCBinaryData *tx,
                   mempool_checked_t *out)
{
    check_one(NULL, chain_id, tx, out);
}

struct mp_vcheck {
    const node_mempool_t *mp;
    bool *ok;
    const uint8_t *const *txs;
    const size_t *lens;
};

/* Read-only on the mempool: safe on several workers at once. */
static void mp_vcheck_one(void *arg, size_t i)
{
    struct mp_vcheck *c = arg;
    hm_tx_t *t = NULL;
    c->ok[i] = false;
    if (c->lens[i] > HM_MAX_TX_BYTES || hm_tx_decode(&t, c->txs[i], c->lens[i]) != HM_OK)
        return;
    c->ok[i] = mempool_has_exact(c->mp, t->txid, c->txs[i], c->lens[i]) ||
               hm_tx_verify(t, c->mp->chain_id) == HM_OK;
    hm_tx_free(t);
}

void mempool_verify(const node_mempool_t *mp, bool *ok, const uint8_t *const *txs,
                    const size_t *lens, size_t n)
{
    struct mp_vcheck c = {mp, ok, txs, lens};
    if (mp->pool && n > 1)
        workpool_run(mp->pool, mp_vcheck_one, &c, n);
    else
        for (size_t i = 0; i < n; i++)
            mp_vcheck_one(&c, i);
}

static int mp_insert(node_mempool_t *mp, const ProtobufCBinaryData *tx, size_t ncosig,
                     const uint8_t signer[32], mempool_result_t *r)
{
    bool found;
    size_t slot = mp_find(mp, r->txid, &found);
    if (found) {
        struct mp_entry *e = mp->slots[slot];
        r->verdict = MEMPOOL_DUPLICATE;
        if (ncosig > e->ncosig && mp->bytes - e->len + tx->len <= mp->lim.max_bytes) {
            uint8_t *copy = malloc(tx->len);
            if (!copy)
                return HM_ERR_NOMEM;
            memcpy(copy, tx->data, tx->len);
            mp->bytes = mp->bytes - e->len + tx->len;
            free(e->bytes);
            e->bytes = copy;
            e->len = tx->len;
            e->ncosig = ncosig;
        }
        return HM_OK;
    }
    if (mp->count >= mp->lim.max_txs || tx->len > mp->lim.max_bytes - mp->bytes) {
        r->verdict = MEMPOOL_FULL;
        return HM_OK;
    }
    if ((mp->used + 1) * 2 > mp->cap) {
        int rc = mp_rehash(mp, mp->count * 4 > mp->cap ? mp->cap * 2 : mp->cap);
        if (rc != HM_OK)
            return rc;
        slot = mp_find(mp, r->txid, &found);
    }
    struct mp_entry *e = calloc(1, sizeof *e);
    uint8_t *copy = malloc(tx->len);
    if (!e || !copy) {
        free(e);
        free(copy);
        return HM_ERR_NOMEM;
    }
    memcpy(copy, tx->data, tx->len);
    memcpy(e->txid, r->txid, 32);
    memcpy(e->signer, signer, 32);
    e->bytes = copy;
    e->len = tx->len;
    e->ncosig = ncosig;
    e->prev = mp->tail;
    if (mp->tail)
        mp->tail->next = e;
    else
        mp->head = e;
    mp->tail = e;
    if (mp->slots[slot] == NULL)
        mp->used++;
    mp->slots[slot] = e;
    mp->count++;
    mp->bytes += tx->len;
    return HM_OK;
}

int mempool_add(node_mempool_t *mp, const ProtobufCBinaryData *txs, size_t n,
                mempool_result_t *results)
{
    if (n == 0)
        return HM_OK;
    mempool_checked_t *checked = calloc(n, sizeof *checked);
    if (!checked)
        return HM_ERR_NOMEM;
    struct mp_check c = {mp, txs, checked};
    if (mp->pool)
        workpool_run(mp->pool, mp_check_one, &c, n);
    else
        for (size_t i = 0; i < n; i++)
            mp_check_one(&c, i);
    int rc = mempool_add_checked(mp, txs, n, checked, results);
    free(checked);
    return rc;
}

int mempool_reap(const node_mempool_t *mp, size_t max_txs, size_t max_bytes,
                 ProtobufCBinaryData **out, hm_hash32_t **txids, size_t *n)
{
    size_t k = 0, bytes = 0;
    for (const struct mp_entry *e = mp->head; e && k < max_txs; e = e->next) {
        if (e->len > max_bytes - bytes)
            break;
        bytes += e->len;
        k++;
    }
    *out = NULL;
    if (txids)
        *txids = NULL;
    *n = 0;
    if (k == 0)
        return HM_OK;
    ProtobufCBinaryData *v = calloc(k, sizeof *v);
    hm_hash32_t *ids = txids ? calloc(k, sizeof *ids) : NULL;
    if (!v || (txids && !ids)) {
        free(v);
        free(ids);
        return HM_ERR_NOMEM;
    }
    size_t i = 0;
    for (const struct mp_entry *e = mp->head; i < k; e = e->next, i++) {
        v[i].data = malloc(e->len);
        if (!v[i].data) {
            mempool_reap_free(v, ids, i);
            return HM_ERR_NOMEM;
        }
        memcpy(v[i].data, e->bytes, e->len);
        v[i].len = e->len;
        if (ids)
            memcpy(ids[i], e->txid, 32);
    }
    *out = v;
    if (txids)
        *txids = ids;
    *n = k;
    return HM_OK;
}

void mempool_reap_free(ProtobufCBinaryData *txs, hm_hash32_t *txids, size_t n)
{
    free(txids);
    if (!txs)
        return;
    for (size_t i = 0; i < n; i++)
        free(txs[i].data);
    free(txs);
}

void mempool_remove(node_mempool_t *mp, const hm_hash32_t *txids, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        bool found;
        size_t slot = mp_find(mp, txids[k], &found);
        if (!found)
            continue;
        struct mp_entry *e = mp->slots[slot];
        mp->slots[slot] = MP_TOMBSTONE;
        if (e->prev)
            e->prev->next = e->next;
        else
            mp->head = e->next;
        if (e->next)
            e->next->prev = e->prev;
        else
            mp->tail = e->prev;
        mp->count--;
        mp->bytes -= e->len;
        free(e->bytes);
        free(e);
    }
}

int mempool_add_checked(node_mempool_t *mp, const ProtobufCBinaryData *txs, size_t n,
                        const mempool_checked_t *checked, mempool_result_t *results)
{
    int rc = HM_OK;
    for (size_t i = 0; i < n; i++)
        results[i] = checked[i].r;
    for (size_t i = 0; i < n && rc == HM_OK; i++)
        if (results[i].verdict == MEMPOOL_ADMITTED)
            rc = mp_insert(mp, &txs[i], checked[i].ncosig, checked[i].signer, &results[i]);
    return rc;
}

size_t mempool_count_signer(const node_mempool_t *mp, const uint8_t signer[32])
{
    size_t n = 0;
    for (const struct mp_entry *e = mp->head; e; e = e->next)
        n += memcmp(e->signer, signer, 32) == 0;
    return n;
}
