/* lib/block — blocks and headers (DESIGN §6): decode with shape checks,
 * block hash over the exact header bytes, tx_root and results_root.
 * Depends on lib/codec, lib/hash, lib/merkle, lib/tx. */
#ifndef HM_LIB_BLOCK_H
#define HM_LIB_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "lib/codec.h"
#include "lib/err.h"
#include "lib/merkle.h"

/* Txs a block may hold (each SignedTx is >= ~100 bytes, so the byte cap
 * binds first in practice; this bounds per-block arrays). */
#define HM_MAX_BLOCK_TXS 100000u

typedef struct {
    Hallmark__Block *block;   /* owned */
    Hallmark__Header *header; /* owned, decoded from block->header */
    uint8_t hash[32];         /* H_hallmark/header(block->header bytes) */
} hm_block_t;

/* Decode Block bytes (<= HM_MAX_BLOCK_BYTES) and its header. Checks shape:
 * 32-byte chain_id/prev_hash/tx_root/results_root/state_root/
 * validator_set_hash/proposer, tx count <= HM_MAX_BLOCK_TXS, each tx
 * <= HM_MAX_TX_BYTES. Does not check signatures or tx_root (see
 * hm_block_check_tx_root). Out: *out (caller owns; hm_block_free). */
int hm_block_decode(hm_block_t **out, const uint8_t *data, size_t len) HM_WUR;
void hm_block_free(hm_block_t *b);

/* Decode Header bytes alone, with the same shape checks. */
int hm_header_decode(Hallmark__Header **out, const uint8_t *data, size_t len) HM_WUR;

void hm_block_hash(uint8_t out[32], const uint8_t *header_bytes, size_t len);

/* txids of the block's txs, in order. Out: *out (malloc'd n entries; caller
 * frees with free(); NULL when the block is empty). HM_ERR_INVALID if a tx
 * does not decode as a SignedTx. */
int hm_block_txids(hm_hash32_t **out, const Hallmark__Block *block) HM_WUR;

/* HM_OK when header.tx_root is the Merkle root of the block's txids, else
 * HM_ERR_PROOF (or HM_ERR_INVALID for an undecodable tx). */
int hm_block_check_tx_root(const hm_block_t *b) HM_WUR;

/* Leaf value of a tx result for results_root: H_hallmark/result(TxResult bytes
 * as encoded here: txid[32] || code[4 BE]), a fixed layout so every node
 * computes the same root without depending on protobuf encoding. */
void hm_result_leaf(uint8_t out[32], const uint8_t txid[32], uint32_t code);

/* Root over a block's results (same order as its txs). */
int hm_results_root(uint8_t root[32], const Hallmark__TxResult *const *results, size_t n) HM_WUR;

/* Build Block bytes from a filled header and SignedTx byte strings.
 * Out: *out (free()), *out_len, and hash (block hash) if non-NULL. */
int hm_block_build(uint8_t **out, size_t *out_len, uint8_t hash[32], const Hallmark__Header *header,
                   const ProtobufCBinaryData *txs, size_t n_txs) HM_WUR;

#endif
