/* lib/state — the state contracts read and write (DESIGN §5), and the
 * store it lives in.
 *
 * Two levels:
 *  - hm_store_t: committed state. A vtable with two backends: memory
 *    (lib/state_mem.c, for tests and tools) and LevelDB (node/storage, the
 *    only place that includes leveldb/c.h). It holds the state key/values,
 *    the persisted SMT nodes (content-addressed by hash), auxiliary records
 *    the node keeps beside state (blocks, results, indexes), and the current
 *    state root. Writes arrive only as one hm_batch_t, applied atomically.
 *  - hm_state_t: one block's execution session over a store. Reads see the
 *    block's earlier writes; tx savepoints give all-or-nothing txs;
 *    hm_state_root computes the new SMT root in O(k log n) node hashes for k
 *    changed keys; hm_state_commit writes state changes, SMT nodes, aux
 *    records and the new root in ONE batch (synced when asked).
 *
 * State keys are typed and prefixed ("i/" + gid, "p/" + serial, ...; see
 * proto/hallmark.proto). Iteration is always in ascending byte order of keys
 * (deterministic). Depends on lib/buf, lib/err, lib/smt.
 *
 * Thread-safety: none; a store and its sessions belong to one thread. */
#ifndef HM_LIB_STATE_H
#define HM_LIB_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/smt.h"

/* Visitor for iteration: return 0 to continue, anything else to stop (that
 * value is returned by the iterate call). Key and value are borrowed for the
 * duration of the call. */
typedef int (*hm_kv_visit_fn)(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
                              size_t vlen);

/* ------------------------------------------------------------------ batch */

typedef enum {
    HM_OP_STATE_PUT = 1, /* state key -> record bytes */
    HM_OP_STATE_DEL = 2,
    HM_OP_NODE_PUT = 3,  /* SMT node key (hm_node_key) -> node bytes */
    HM_OP_AUX_PUT = 4,   /* node-owned record (blocks, results, indexes) */
    HM_OP_AUX_DEL = 5,
} hm_op_kind_t;

typedef struct {
    hm_op_kind_t kind;
    uint8_t *key; /* owned by the batch (in its arena: never freed alone) */
    size_t klen;
    uint8_t *val; /* owned by the batch likewise; NULL for deletes */
    size_t vlen;
} hm_op_t;

struct hm_batch_chunk;

/* An ordered list of writes applied atomically by hm_store_ops.commit.
 * Zero-initialise; hm_batch_free releases it. Keys and values are copied
 * into chunks of a few tens of KiB that never move (a block's commit adds
 * tens of thousands of entries: two mallocs and two frees each cost ~4% of
 * a validator's event loop). */
typedef struct {
    hm_op_t *ops;
    size_t n;
    size_t cap;
    struct hm_batch_chunk *chunks; /* arena, newest first */
    bool has_root;   /* when set, the store's root becomes `root` */
    uint8_t root[32];
    uint64_t root_loc; /* the root node's locator (with has_root) */
} hm_batch_t;

/* The key of an SMT node in a batch and in a store: locator (8,
 * big-endian) || hash (32). */
#define HM_NODE_KEY_LEN 40
void hm_node_key(uint8_t out[HM_NODE_KEY_LEN], uint64_t loc, const uint8_t hash[32]);

/* Append a copy of key/val. val may be NULL for deletes. */
int hm_batch_add(hm_batch_t *b, hm_op_kind_t kind, const uint8_t *key, size_t klen,
                 const uint8_t *val, size_t vlen) HM_WUR;
void hm_batch_free(hm_batch_t *b);

/* ------------------------------------------------------------------ store */

typedef struct hm_store hm_store_t;

struct hm_store_ops {
    /* Committed value of a state key. Out: *val (malloc'd, caller frees),
     * *vlen. HM_ERR_NOT_FOUND when absent. */
    int (*get)(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen);
    /* Visit committed state keys starting with prefix, ascending. */
    int (*iterate)(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn, void *arg);
    /* SMT node by hash and locator, copied into out (*len bytes; a stored
     * node longer than HM_SMT_MAX_NODE_LEN is HM_ERR_CORRUPT). No
     * allocation: an SMT update reads ~40 nodes per tx. HM_ERR_NOT_FOUND
     * when absent. */
    int (*get_node)(hm_store_t *s, const uint8_t hash[32], uint64_t loc,
                    uint8_t out[HM_SMT_MAX_NODE_LEN], size_t *len);
    /* Auxiliary record by key. Out as get. */
    int (*get_aux)(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen);
    /* Apply every op of b, in order, atomically; fsync first when sync.
     * Unsynced (sync false), a commit survives a process crash but not
     * necessarily a machine crash, and the LevelDB store (two databases)
     * may then refuse to open until resynced: hallmarkd always syncs. */
    int (*commit)(hm_store_t *s, const hm_batch_t *b, bool sync);
    /* The committed state root (32 zero bytes for empty state). */
    void (*root)(hm_store_t *s, uint8_t out[32]);
    /* The locator of root, the current or an older committed root (0 for
     * the empty root). HM_ERR_NOT_FOUND if it never was the store's root. */
    int (*root_loc)(hm_store_t *s, const uint8_t root[32], uint64_t *loc);
    /* The locator for the SMT nodes of the next commit: greater than that
     * of any committed node, so each commit's nodes follow all older ones
     * in the node key space (doc/state.md §4). */
    uint64_t (*next_loc)(hm_store_t *s);
    void (*free)(hm_store_t *s);
    /* Visit auxiliary records whose key starts with prefix, ascending. */
    int (*iterate_aux)(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                       void *arg);
};

struct hm_store {
    const struct hm_store_ops *ops;
};

/* A memory store (empty). Out: *out (caller owns; hm_store_free). */
int hm_store_mem_new(hm_store_t **out) HM_WUR;

/* Release a store of any backend. Accepts NULL. */
void hm_store_free(hm_store_t *s);

/* Backend-independent helpers over the committed store (they call the ops).
 * Out as the ops: *val malloc'd (caller frees; never NULL on success, even
 * for an empty value), HM_ERR_NOT_FOUND when absent. */
int hm_store_get(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val,
                 size_t *vlen) HM_WUR;
int hm_store_get_aux(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val,
                     size_t *vlen) HM_WUR;
int hm_store_iterate(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                     void *arg) HM_WUR;
int hm_store_iterate_aux(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                         void *arg) HM_WUR;
void hm_store_root(hm_store_t *s, uint8_t out[32]);
/* The locator of a committed root (see hm_store_ops.root_loc). */
int hm_store_root_loc(hm_store_t *s, const uint8_t root[32], uint64_t *loc) HM_WUR;

/* An SMT node reader over the store's persisted nodes; valid while s lives. */
hm_smt_reader_t hm_store_smt_reader(hm_store_t *s);

/* Prove state key `key` present (with its value) or absent in the tree at
 * root, which may be the current root or any older committed root (nodes
 * are never deleted). Out: *out (caller's storage). Check it with
 * hm_smt_verify(root, key, klen, value or NULL, out). */
int hm_store_prove(hm_store_t *s, hm_smt_proof_t *out, const uint8_t root[32], const uint8_t *key,
                   size_t klen) HM_WUR;

/* ---------------------------------------------------------------- session */

typedef struct hm_state hm_state_t;

/* Start a session over the committed state of store (borrowed: it must
 * outlive the session). Out: *out (caller owns; hm_state_free). */
int hm_state_begin(hm_state_t **out, hm_store_t *store) HM_WUR;

/* Discard the session and any uncommitted writes. Accepts NULL. */
void hm_state_free(hm_state_t *st);

/* Value of key as seen by this session. Out: *val (malloc'd, caller frees),
 * *vlen. HM_ERR_NOT_FOUND when absent or deleted in this session. */
int hm_state_get(hm_state_t *st, const uint8_t *key, size_t klen, uint8_t **val,
                 size_t *vlen) HM_WUR;
/* Value of key in the committed state under this session, ignoring the
 * session's own writes (through the same read cache). Out as
 * hm_state_get; HM_ERR_NOT_FOUND when the committed state lacks it. */
int hm_state_get_committed(hm_state_t *st, const uint8_t *key, size_t klen, uint8_t **val,
                           size_t *vlen) HM_WUR;
int hm_state_put(hm_state_t *st, const uint8_t *key, size_t klen, const uint8_t *val,
                 size_t vlen) HM_WUR;
int hm_state_del(hm_state_t *st, const uint8_t *key, size_t klen) HM_WUR;

/* Visit the session's view (committed merged with pending writes) of keys
 * starting with prefix, ascending. The visitor must not write to the
 * session: put, del, tx_begin, aux_put and commit return HM_ERR_STATE meanwhile. */
int hm_state_iterate(hm_state_t *st, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                     void *arg) HM_WUR;

/* Call fn(arg, key, klen) after every successful hm_state_put/del (the
 * node indexes which records each tx changed). A write later dropped by
 * hm_state_tx_rollback was still reported. fn NULL removes the observer. */
typedef void (*hm_state_observer_fn)(void *arg, const uint8_t *key, size_t klen);
void hm_state_set_observer(hm_state_t *st, hm_state_observer_fn fn, void *arg);

/* Savepoints for one transaction: writes after tx_begin are kept by
 * tx_commit or dropped by tx_rollback. Not nested: tx_begin inside a tx is
 * HM_ERR_STATE. Aux records are not covered by savepoints. */
int hm_state_tx_begin(hm_state_t *st) HM_WUR;
void hm_state_tx_commit(hm_state_t *st);
void hm_state_tx_rollback(hm_state_t *st);

/* The state root that committing now would produce. Updates the SMT with
 * the session's changed keys (O(k log n)); may be called more than once. */
int hm_state_root(hm_state_t *st, uint8_t root[32]) HM_WUR;

/* Queue a node-owned auxiliary record (or its deletion with val == NULL)
 * into the same atomic batch as the state changes. */
int hm_state_aux_put(hm_state_t *st, const uint8_t *key, size_t klen, const uint8_t *val,
                     size_t vlen) HM_WUR;

/* Write state changes, new SMT nodes, aux records and the new root to the
 * store as one batch (synced when sync). The session stays usable and
 * starts empty over the new committed state. HM_ERR_STATE inside a tx, and
 * when another session committed a different root after this session's
 * root was computed (its root would undo that commit). On failure nothing
 * is written and the session keeps its pending writes. */
int hm_state_commit(hm_state_t *st, bool sync) HM_WUR;

/* Number of distinct state keys written (put or deleted) in this session. */
size_t hm_state_dirty_count(const hm_state_t *st);

#endif
