/* lib/smt — the compact sparse Merkle tree behind the state root
 * (DESIGN §5; the exact rules are in doc/state.md, which is normative for
 * independent verifiers).
 *
 *   keyhash   = H_hallmark/smt-key(state key bytes)
 *   valuehash = H_hallmark/smt-value(value bytes)
 *   leaf      = H_hallmark/smt-leaf(keyhash || valuehash)
 *   node      = H_hallmark/smt-node(left || right)
 *   empty     = 32 zero bytes
 * 256 levels; bit d of keyhash (MSB of byte 0 first) chooses right (1) or
 * left (0) at depth d. A subtree with no leaf hashes to empty, a subtree with
 * exactly one leaf hashes to that leaf's hash whatever its height (compact),
 * any other subtree to node(left, right).
 *
 * Nodes are content-addressed, never overwritten or deleted, so every old
 * root stays readable and provable. A stored node is found by its hash and
 * its locator: a number the writer gives every node one update creates (a
 * store uses its commit sequence, so that the nodes of one commit sit
 * together, after every older one, in its key space; doc/state.md §4).
 * An interior node records its children's locators. This module does
 * no I/O: it reads nodes through an hm_smt_reader_t and hands new nodes to an
 * hm_smt_writer_t (lib/state wires both to an hm_store_t).
 *
 * Depends on lib/err, lib/hash, lib/codec (proof encoding). Deterministic:
 * no clock, no randomness, no floating point. Thread-safety: none needed;
 * functions are reentrant. */
#ifndef HM_LIB_SMT_H
#define HM_LIB_SMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "proto/hallmark.pb-c.h"

#define HM_SMT_DEPTH 256
/* Persisted node bytes (doc/state.md §4 "Stored nodes"):
 *   leaf:     'L' || keyhash(32) || valuehash(32)                 65 bytes
 *   interior: 'N' || flags(1) || left(32) || right(32)
 *             || left locator(8) || right locator(8)             82 bytes
 *             flags bit 0: left child is a leaf; bit 1: right child is.
 *             Locators big-endian; an empty child's is 0. */
#define HM_SMT_LEAF_LEN 65
#define HM_SMT_NODE_LEN 82
#define HM_SMT_MAX_NODE_LEN 82

/* Reads the persisted node (hash, loc) into out (HM_SMT_MAX_NODE_LEN bytes
 * of room); sets *len. Returns HM_OK, HM_ERR_NOT_FOUND, or another error.
 * A store may ignore loc (nodes are content-addressed). */
typedef struct {
    int (*get)(void *arg, const uint8_t hash[32], uint64_t loc,
               uint8_t out[HM_SMT_MAX_NODE_LEN], size_t *len);
    void *arg;
} hm_smt_reader_t;

/* Receives each node an update creates, and each old leaf it keeps below
 * a new sibling (it may already exist: writes are idempotent; a store
 * cache may treat nodes an update read and did not write as replaced).
 * Every put of one update carries loc, the writer's locator; node is
 * borrowed for the call. */
typedef struct {
    int (*put)(void *arg, const uint8_t hash[32], uint64_t loc, const uint8_t *node, size_t len);
    void *arg;
    uint64_t loc;
} hm_smt_writer_t;

void hm_smt_key_hash(uint8_t out[32], const uint8_t *key, size_t klen);
void hm_smt_value_hash(uint8_t out[32], const uint8_t *val, size_t vlen);
void hm_smt_leaf_hash(uint8_t out[32], const uint8_t keyhash[32], const uint8_t valuehash[32]);
void hm_smt_node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32]);

/* One change: set keyhash to valuehash, or remove it (del). */
typedef struct {
    uint8_t keyhash[32];
    uint8_t valuehash[32];
    bool del;
} hm_smt_update_t;

/* Apply n updates to the tree at (root, root_loc) in one pass (each
 * touched node read and hashed once). ups is reordered (sorted by keyhash);
 * two updates of the same keyhash are HM_ERR_INVALID. Deleting an absent key
 * is a no-op. Out: new_root (may alias root) and *new_root_loc (the root's
 * locator: w->loc if the update made it, else the one it had). Returns
 * HM_ERR_CORRUPT if a stored node is malformed, HM_ERR_NOT_FOUND if one is
 * missing, or the reader's/writer's error. */
int hm_smt_update(const hm_smt_reader_t *r, const hm_smt_writer_t *w, uint8_t new_root[32],
                  uint64_t *new_root_loc, const uint8_t root[32], uint64_t root_loc,
                  hm_smt_update_t *ups, size_t n) HM_WUR;

/* Look keyhash up in the tree at (root, root_loc). Out: *found, and
 * valuehash when found. */
int hm_smt_get(const hm_smt_reader_t *r, bool *found, uint8_t valuehash[32],
               const uint8_t root[32], uint64_t root_loc, const uint8_t keyhash[32]) HM_WUR;

/* A membership or absence proof (doc/state.md §"Proofs"). siblings[i] is
 * the i-th non-empty sibling from the root down; bitmap bit d (byte d/8,
 * MSB first) says the sibling at depth d is non-empty. The path length is
 * (highest set bit + 1), 0 when no bit is set. has_leaf: the path ends at a
 * leaf (leaf_key, leaf_value_hash), else at an empty subtree. */
typedef struct {
    uint8_t bitmap[32];
    uint8_t siblings[HM_SMT_DEPTH][32];
    size_t n_siblings;
    bool has_leaf;
    uint8_t leaf_key[32];
    uint8_t leaf_value_hash[32];
} hm_smt_proof_t;

/* Build the proof for keyhash in the tree at (root, root_loc) (membership
 * if present, absence otherwise). Out: *out (caller's storage, ~8 KiB). */
int hm_smt_prove(const hm_smt_reader_t *r, hm_smt_proof_t *out, const uint8_t root[32],
                 uint64_t root_loc, const uint8_t keyhash[32]) HM_WUR;

/* Verify a proof against nothing but root. valuehash NULL: prove keyhash is
 * absent; otherwise prove keyhash -> valuehash. Returns HM_OK or
 * HM_ERR_PROOF (also for a malformed or non-canonical proof). */
int hm_smt_verify_hashed(const uint8_t root[32], const uint8_t keyhash[32],
                         const uint8_t *valuehash, const hm_smt_proof_t *p) HM_WUR;

/* As hm_smt_verify_hashed over the state key and the value bytes (val NULL:
 * absence; val non-NULL with vlen 0: an empty value is present). */
int hm_smt_verify(const uint8_t root[32], const uint8_t *key, size_t klen, const uint8_t *val,
                  size_t vlen, const hm_smt_proof_t *p) HM_WUR;

/* True when the proof claims key membership, i.e. ends at the leaf of
 * keyhash (it still has to verify). */
bool hm_smt_proof_is_membership(const hm_smt_proof_t *p, const uint8_t keyhash[32]);

/* The proto SmtProof view of a proof, for embedding in a RecordProof.
 * hm_smt_proof_to_msg fills *m with pointers into p: m->msg is valid while
 * both *m and p live and are unchanged. */
typedef struct {
    Hallmark__SmtProof msg;
    ProtobufCBinaryData sib[HM_SMT_DEPTH];
} hm_smt_proof_msg_t;
void hm_smt_proof_to_msg(hm_smt_proof_msg_t *m, const hm_smt_proof_t *p);

/* Convert a decoded (untrusted) SmtProof. Every length is checked: bitmap
 * 32 bytes, at most 256 siblings of 32 bytes each and as many as the bitmap
 * has bits set, leaf_key and leaf_value_hash both empty or both 32 bytes.
 * Returns HM_OK or HM_ERR_INVALID; *out is filled only on success. */
int hm_smt_proof_from_msg(hm_smt_proof_t *out, const Hallmark__SmtProof *msg) HM_WUR;

/* Encode as SmtProof bytes. Out: *out (malloc'd, caller frees), *len. */
int hm_smt_proof_encode(uint8_t **out, size_t *len, const hm_smt_proof_t *p) HM_WUR;

/* Decode SmtProof bytes (capped by lib/codec) and check as
 * hm_smt_proof_from_msg. Out: *out, only on success. */
int hm_smt_proof_decode(hm_smt_proof_t *out, const uint8_t *data, size_t len) HM_WUR;

#endif
