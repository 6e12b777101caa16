/* node/api — the JSON API endpoints of DESIGN §9 over node/rpc's plumbing:
 * tx submission (single and batch), tx status, node status, blocks and
 * certified headers, records with SMT proofs against a certified header,
 * paged record histories with inclusion proofs, a part's proof bundle, a
 * signer's next nonce, and the validator set. doc/rpc.md documents each.
 *
 * Proof anchoring: header h carries the state root after h-1 (doc/
 * design-notes.md §2), so records are proven against the state root of the
 * newest certified header (the tip's), i.e. the state after tip-1; the node
 * follows every non-empty block with one more block so that this is the
 * current state within one block interval.
 *
 * Threading: handlers run on the event-loop thread. Depends on node/chain,
 * node/replica, node/mempool, node/rpc, node/p2p, node/genesis, contracts,
 * consensus, lib. */
#ifndef HM_NODE_API_H
#define HM_NODE_API_H

#include "consensus/valset.h"
#include "lib/err.h"
#include "node/chain.h"
#include "node/genesis.h"
#include "node/mempool.h"
#include "node/p2p.h"
#include "node/replica.h"
#include "node/rpc.h"

/* Everything borrowed; the context itself must outlive the server. */
typedef struct {
    node_replica_t *replica;
    node_chain_t *chain;
    node_mempool_t *mempool;
    p2p_t *p2p;
    const genesis_t *genesis;
    const valset_t *vs;
    int validator_index; /* -1: full node */
    const uint8_t *node_key; /* this node's consensus public key (32 bytes) */
    const char *version;
} api_ctx_t;

/* Register every endpoint on rpc (before it serves). */
int api_register(rpc_t *rpc, api_ctx_t *ctx) HM_WUR;

/* Limits (also in doc/rpc.md). */
#define API_MAX_BATCH_TXS 10000
#define API_MAX_HEADERS 1000
#define API_MAX_HISTORY 100
#define API_BUNDLE_MAX_RECORDS 2048

#endif
