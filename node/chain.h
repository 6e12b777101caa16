/* node/chain — the executed chain of one node: applies committed blocks
 * through the contracts over the store, and keeps what the API and catch-up
 * serve (blocks, commit certificates, results, tx locations, record
 * histories).
 *
 * Everything a block changes — state, SMT nodes, the block, its certificate,
 * its results, the tx and history indexes and the chain tip — lands in ONE
 * synced store batch (DESIGN §5): after a crash at any point the node holds
 * either all of a block or none of it.
 *
 * Aux record layout in the store (keys are bytes; integers big-endian):
 *   "M"                                   chain tip (chain_tip_t, fixed layout)
 *   "G"                                   the genesis file bytes
 *   "B" h[8]                              Block bytes at height h
 *   "C" h[8]                              CommitCertificate bytes of height h
 *   "R" h[8]                              BlockResults bytes of height h
 *   "T" txid[32]                          h[8] index[4]: where a tx was committed
 *   "H" klen[2] key h[8] index[4]         txid[32]: a tx that changed record `key`
 *   "V" H_smt-value(value)[32]            value: every state value a block replaced
 *                                         or deleted (a current value is its state
 *                                         record), so records prove against any
 *                                         past root
 * The "H" index lists, per record, exactly the txs that advanced its history
 * chain, in execution order (height, index) — what an auditor checks against
 * history_len/history_head.
 *
 * Not thread-safe: the node's event-loop thread owns it. Depends on lib/,
 * contracts/ (never on consensus/: the caller hands in decoded, certified
 * blocks). */
#ifndef HM_NODE_CHAIN_H
#define HM_NODE_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contracts/contracts.h"
#include "lib/block.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/smt.h"
#include "lib/state.h"

typedef struct {
    uint8_t chain_id[32];
    uint64_t height;          /* last executed height; 0 = only genesis */
    uint8_t last_hash[32];    /* hash of block `height` (zeros at 0) */
    uint64_t last_time_ms;    /* time of block `height` (genesis time at 0) */
    uint8_t state_root[32];   /* state after executing `height` */
    uint8_t results_root[32]; /* Merkle root of block `height`'s results */
} chain_tip_t;

typedef struct node_chain node_chain_t;

/* Open the chain over store (borrowed; must outlive the chain). A store
 * without a tip gets the genesis: contracts_genesis(g), the genesis bytes and
 * a tip at height 0, committed synced. A store with a tip must belong to
 * chain_id (else HM_ERR_WRONG_CHAIN). Out: *out (caller owns; chain_free). */
int chain_open(node_chain_t **out, hm_store_t *store, const uint8_t chain_id[32],
               uint64_t genesis_time_ms, const contracts_genesis_t *g,
               const uint8_t *genesis_bytes, size_t genesis_len) HM_WUR;
void chain_free(node_chain_t *c);

const chain_tip_t *chain_tip(const node_chain_t *c);

/* Execute and store the certified block b (decoded from block_bytes) with its
 * certificate (exact bytes). b must be the next height and agree with the tip
 * (prev_hash, state_root, results_root, chain id): anything else is
 * HM_ERR_STATE and changes nothing. Out: codes (when non-NULL, malloc'd n_txs
 * result codes; caller frees). An error from the store leaves the stored
 * chain as it was; the node must then stop rather than go on diverged.
 * unseen (NULL, or n_txs flags): unseen[i] says the caller KNOWS tx i is
 * not on the ledger before this block (node/replica: it was in the
 * mempool, whose every entry was checked against the ledger when admitted
 * and which loses every committed txid at each commit), so its tx-index
 * lookup is skipped; the stored chain is the same either way. */
int chain_commit_block(node_chain_t *c, const hm_block_t *b, const uint8_t *block_bytes,
                       size_t block_len, const uint8_t *cert_bytes, size_t cert_len,
                       const bool *unseen, uint32_t **codes) HM_WUR;

/* Stored bytes by height: the block, its certificate, its results.
 * Out: *out filled (reset first). HM_ERR_NOT_FOUND beyond the tip. */
int chain_block_bytes(node_chain_t *c, uint64_t height, hm_buf_t *out) HM_WUR;
int chain_cert_bytes(node_chain_t *c, uint64_t height, hm_buf_t *out) HM_WUR;
int chain_results_bytes(node_chain_t *c, uint64_t height, hm_buf_t *out) HM_WUR;
int chain_genesis_bytes(node_chain_t *c, hm_buf_t *out) HM_WUR;

/* Where txid was committed. HM_ERR_NOT_FOUND when never committed. */
int chain_tx_location(node_chain_t *c, const uint8_t txid[32], uint64_t *height,
                      uint32_t *index) HM_WUR;

/* One entry of a record's history. */
typedef struct {
    uint64_t height;
    uint32_t index;
    uint8_t txid[32];
} chain_history_entry_t;

/* Up to limit history entries of the record at state key `key`, oldest
 * first, starting after the position (after_height, after_index) — pass
 * (0, 0) with `from_start` true for the beginning. Out: entries[0..*n). */
int chain_history(node_chain_t *c, const uint8_t *key, size_t klen, bool from_start,
                  uint64_t after_height, uint32_t after_index, size_t limit,
                  chain_history_entry_t *entries, size_t *n) HM_WUR;

/* The record at state key `key` in the state whose root is `root` (any
 * root this chain produced: SMT nodes and values are kept). Out: *found;
 * value (reset; the record bytes when found); proof (membership or
 * absence), which hm_smt_verify accepts against root. */
int chain_prove(node_chain_t *c, const uint8_t root[32], const uint8_t *key, size_t klen,
                bool *found, hm_buf_t *value, hm_smt_proof_t *proof) HM_WUR;

/* A read-only session over the committed state (queries and proofs).
 * Out: *out (caller frees with hm_state_free; do not commit it). */
int chain_state_view(node_chain_t *c, hm_state_t **out) HM_WUR;

#endif
