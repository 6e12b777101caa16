/* node/replica — drives the PBFT core (consensus/pbft) inside hallmarkd:
 * carries its outputs out (p2p sends, libevent timers, synced persistence of
 * votes before any send, block building from the mempool, catch-up
 * requests, commits into node/chain) and its inputs in (peer envelopes,
 * timer expiries, execution results, client work).
 *
 * Persistence: the core's record log lives in the store as aux records
 * "P" seq[8] (kind[1] || record) with "Pm" = first_seq[8] || next_seq[8];
 * every batch of PERSIST outputs is one synced store write made before the
 * sends of the same step leave the process. Records of committed heights
 * are pruned after each commit.
 *
 * Mempool invariant: no mempool entry is on the ledger — every admitted tx
 * is looked up in the chain's tx index (refused when the lookup fails) and
 * every commit removes its txids — so a committed block's txs that were
 * in the mempool skip the chain's own index lookup (chain_commit_block's
 * unseen flags).
 *
 * Threading: everything on the node's event-loop thread. Depends on lib/,
 * consensus/, node/chain, node/mempool, node/p2p, node/metrics. */
#ifndef HM_NODE_REPLICA_H
#define HM_NODE_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/pbft.h"
#include "lib/err.h"
#include "node/chain.h"
#include "node/mempool.h"
#include "node/metrics.h"
#include "node/p2p.h"

struct event_base;

typedef struct {
    struct event_base *base; /* borrowed, outlives the replica */
    p2p_t *p2p;              /* borrowed */
    hm_store_t *store;       /* borrowed: persisted votes live here */
    node_chain_t *chain;     /* borrowed */
    node_mempool_t *mempool; /* borrowed */
    pbft_config_t pbft;      /* chain id, set, key (NULL: full node), timers, caps */
    /* Metrics to keep current; any may be NULL. */
    metric_t *m_height, *m_view, *m_view_changes, *m_txs_committed, *m_mempool_txs,
        *m_commit_latency;
    /* Called once when storage fails and the replica stops (may be NULL):
     * the daemon should shut down rather than run on diverged. */
    void (*on_fatal)(void *arg);
    void *fatal_arg;
} replica_options_t;

typedef struct node_replica node_replica_t;

/* Create the core and restore it from the store (last committed block and
 * persisted records), then report the executed tip. Nothing is sent until
 * replica_start. Out: *out (caller owns; replica_free). */
int replica_new(node_replica_t **out, const replica_options_t *opt) HM_WUR;
void replica_free(node_replica_t *r);

/* Arm the timers and begin (call once the event loop runs). */
int replica_start(node_replica_t *r) HM_WUR;

/* A frame from a ready peer (node hook). */
void replica_on_envelope(node_replica_t *r, const p2p_peer_info_t *peer,
                         const Hallmark__Envelope *env, const uint8_t *bytes, size_t len);
/* A peer came or went (node hook). */
void replica_on_peer(node_replica_t *r, const p2p_peer_info_t *peer, bool connected);

/* Client txs (RPC): admit to the mempool (results[i] per tx), relay the
 * admitted ones to every validator, tell the core there is work. */
int replica_submit(node_replica_t *r, const ProtobufCBinaryData *txs, size_t n,
                   mempool_result_t *results) HM_WUR;

/* replica_submit with the checks (decode, signatures) on a background
 * thread (node/verifier) so the loop keeps executing blocks meanwhile.
 * done runs later on the loop's thread, in submission order, with the
 * verdicts (results NULL and rc != HM_OK only on allocation failure);
 * drop instead when the replica is freed first (it must not touch the
 * replica). HM_ERR_LIMIT when too many txs wait for their checks (nothing
 * queued, no callback). txs are copied. */
typedef void (*replica_submit_done_fn)(void *arg, const mempool_result_t *results, size_t n,
                                       int rc);
typedef void (*replica_submit_drop_fn)(void *arg);
int replica_submit_async(node_replica_t *r, const ProtobufCBinaryData *txs, size_t n,
                         replica_submit_done_fn done, replica_submit_drop_fn drop,
                         void *arg) HM_WUR;

void replica_status(const node_replica_t *r, pbft_status_t *out);

/* A fatal storage error stops the replica (it stops voting and committing);
 * the daemon should then exit. */
bool replica_failed(const node_replica_t *r);

#endif
