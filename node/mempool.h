/* node/mempool — transactions waiting for a block.
 *
 * Admission runs the stateless checks (size cap, decode, chain id, signer and
 * co-signer signatures: lib/tx hm_tx_decode_verify) on every core through a
 * node_workpool, dedupes by txid, and enforces a count and a byte cap with a
 * clear verdict. Txs leave in arrival order (mempool_reap) and are removed
 * once committed (mempool_remove). A tx admitted here was verified once; a
 * proposal carrying the same bytes need not be verified again
 * (mempool_has_exact).
 *
 * Not thread-safe: one thread (the node's event loop) owns it; only the
 * signature checks fan out to the pool. Depends on lib/ and node/workpool. */
#ifndef HM_NODE_MEMPOOL_H
#define HM_NODE_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/codec.h"
#include "lib/err.h"
#include "lib/merkle.h"
#include "node/workpool.h"

typedef enum {
    MEMPOOL_ADMITTED = 0,
    MEMPOOL_DUPLICATE = 1,     /* this txid is already pending */
    MEMPOOL_MALFORMED = 2,     /* does not decode as a SignedTx of the right shape */
    MEMPOOL_TOO_LARGE = 3,     /* over HM_MAX_TX_BYTES */
    MEMPOOL_WRONG_CHAIN = 4,   /* signed for another chain id */
    MEMPOOL_BAD_SIGNATURE = 5, /* a signature does not verify */
    MEMPOOL_FULL = 6,          /* count or byte cap reached */
} mempool_verdict_t;

/* Stable lowercase name of a verdict ("admitted", "duplicate", ...). */
const char *mempool_verdict_name(mempool_verdict_t v);

typedef struct {
    mempool_verdict_t verdict;
    bool has_txid;   /* false when the bytes did not decode */
    uint8_t txid[32];
} mempool_result_t;

typedef struct {
    size_t max_txs;   /* 0 = 100,000 */
    size_t max_bytes; /* 0 = 256 MiB */
} mempool_limits_t;

typedef struct node_mempool node_mempool_t;

/* Create an empty mempool for chain_id (copied). pool is borrowed and may be
 * NULL (verify on the calling thread); it must outlive the mempool.
 * Out: *out (caller owns; mempool_free). */
int mempool_new(node_mempool_t **out, const uint8_t chain_id[32], const mempool_limits_t *limits,
                node_workpool_t *pool) HM_WUR;
void mempool_free(node_mempool_t *mp);

/* Admit n SignedTx byte strings (copied). results[i] gets the verdict of
 * txs[i]. Txs are verified in parallel and inserted in input order. When a
 * pending txid arrives again with more co-signatures, the richer copy
 * replaces the stored bytes in place (DUPLICATE is still reported).
 * Returns HM_ERR_NOMEM only on allocation failure (state unchanged for the
 * remaining txs). */
int mempool_add(node_mempool_t *mp, const ProtobufCBinaryData *txs, size_t n,
                mempool_result_t *results) HM_WUR;

/* Admission in two halves, for a caller that verifies off the owning
 * thread (node/verifier): mempool_check is the stateless part of
 * mempool_add for one tx — a pure function of the bytes, safe on any thread,
 * touching no mempool — and mempool_add_checked inserts txs whose checks
 * are done (on the owning thread), with mempool_add's verdicts and caps. A
 * tx resubmitted while pending is verified again on this path (mempool_add
 * skips that check); it is then reported as a duplicate. */
typedef struct {
    mempool_result_t r;
    size_t ncosig;
    uint8_t signer[32];
} mempool_checked_t;
void mempool_check(const uint8_t chain_id[32], const ProtobufCBinaryData *tx,
                   mempool_checked_t *out);
int mempool_add_checked(node_mempool_t *mp, const ProtobufCBinaryData *txs, size_t n,
                        const mempool_checked_t *checked, mempool_result_t *results) HM_WUR;

size_t mempool_count(const node_mempool_t *mp);
size_t mempool_bytes(const node_mempool_t *mp);
bool mempool_contains(const node_mempool_t *mp, const uint8_t txid[32]);
/* True when txid is pending with exactly these bytes (already verified). */
bool mempool_has_exact(const node_mempool_t *mp, const uint8_t txid[32], const uint8_t *bytes,
                       size_t len);

/* Stateless checks of n SignedTx byte strings (a proposal's txs), each
 * verified at most once per node: ok[i] is true when txs[i] is pending here
 * with exactly these bytes (verified on admission) or passes
 * hm_tx_decode_verify for the mempool's chain id; the others are checked in
 * parallel on the pool. A pure function of the bytes, as the consensus core
 * requires of its verify_txs hook. Does not change the mempool. */
void mempool_verify(const node_mempool_t *mp, bool *ok, const uint8_t *const *txs,
                    const size_t *lens, size_t n);

/* Pending txs signed by signer (a linear scan: for nonce queries). */
size_t mempool_count_signer(const node_mempool_t *mp, const uint8_t signer[32]);

/* Copy out up to max_txs txs totalling at most max_bytes, oldest first,
 * without removing them. Out: *out (array of n byte strings), *txids (if
 * not NULL: their n txids, or NULL when n is 0); release both with
 * mempool_reap_free. */
int mempool_reap(const node_mempool_t *mp, size_t max_txs, size_t max_bytes,
                 ProtobufCBinaryData **out, hm_hash32_t **txids, size_t *n) HM_WUR;
void mempool_reap_free(ProtobufCBinaryData *txs, hm_hash32_t *txids, size_t n);

/* Drop the given txids (those pending; others are ignored). */
void mempool_remove(node_mempool_t *mp, const hm_hash32_t *txids, size_t n);

#endif
