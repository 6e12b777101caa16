/* node/byzantine — a Byzantine validator for fault-injection tests (issue 9).
 *
 * Test-only, like node/crashpoint: compiled only with HM_TEST_HOOKS
 * (configure's default; --disable-test-hooks leaves it out, and then every
 * function below is an inline no-op). A validator started with
 * HM_BYZANTINE=MODE[:N] misbehaves as MODE says; otherwise it runs the
 * honest core and stays able to be a primary:
 *
 *   equivocate[:N]  as primary, its PRE-PREPARE for (view, height) goes out
 *                   as different blocks to different peers, each correctly
 *                   signed with its own key (header time moved, the last txs
 *                   left out). For the first N heights (default 5) one peer
 *                   gets the other block and the rest get the block its own
 *                   core holds (a quorum can still form; the odd one out must
 *                   catch up); from then on every peer gets its own block,
 *                   so no quorum forms and the others must change view.
 *   replay[:N]      keeps the last messages it sent or received (consensus
 *                   messages and tx batches; a bounded ring) and re-sends N
 *                   of them (default 16) every 20 ms to every peer, cycling
 *                   through old heights and views and its own old votes; as
 *                   primary it appends up to 4 txs that are already committed
 *                   to each proposal (re-signed).
 *   flood[:N]       sends N invalid messages per second (default 2000) to
 *                   every peer: tx batches of garbage bytes, txs with a bad
 *                   signature and txs signed for another chain; votes with
 *                   bad signatures, wrong heights and views, wrong digests,
 *                   the wrong shape.
 *
 * Modes combine: HM_BYZANTINE=equivocate:40,flood:2000 does both.
 *
 * It logs "byzantine ..." lines at warn level as it acts (the first
 * equivocation of each height, a summary of counters every 5 s and at exit),
 * so a test can assert that the fault really happened.
 *
 * Threading: everything on the event loop's thread. Depends on lib/,
 * consensus/, node/p2p, node/chain, libevent. */
#ifndef HM_NODE_BYZANTINE_H
#define HM_NODE_BYZANTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/pbft.h"
#include "lib/err.h"
#include "node/chain.h"
#include "node/p2p.h"

struct event_base;

typedef struct node_byz node_byz_t;

typedef struct {
    struct event_base *base;  /* borrowed; outlives the byz */
    p2p_t *p2p;               /* borrowed */
    const pbft_t *core;       /* borrowed: read for the current view and height */
    node_chain_t *chain;      /* borrowed: which txs are committed (replay) */
    const valset_t *vs;       /* borrowed */
    const uint8_t *seckey;    /* 32 bytes, borrowed; NULL: not a validator */
    uint8_t chain_id[32];
    const uint64_t *peer_of;  /* borrowed, vs->n entries: validator -> ready peer id (0: none) */
} byz_options_t;

#ifdef HM_TEST_HOOKS

/* Read HM_BYZANTINE. Out: *out, NULL when the variable is unset or empty
 * (honest node; all calls below accept NULL). HM_ERR_INVALID for an unknown
 * mode or a bad N, or when the node is not a validator. */
int byz_new(node_byz_t **out, const byz_options_t *opt) HM_WUR;
void byz_free(node_byz_t *b);

/* The replica is about to send Envelope bytes to validator `peer` (or
 * PBFT_PEER_ALL). True when the byz sent (its version of) them itself and
 * the replica must not. */
bool byz_on_send(node_byz_t *b, int peer, const uint8_t *env, size_t len);

/* An Envelope from validator `from` (-1: not a validator) was received. */
void byz_on_recv(node_byz_t *b, int from, const uint8_t *env, size_t len);

#else

static inline int byz_new(node_byz_t **out, const byz_options_t *opt)
{
    (void)opt;
    *out = NULL;
    return HM_OK;
}
static inline void byz_free(node_byz_t *b)
{
    (void)b;
}
static inline bool byz_on_send(node_byz_t *b, int peer, const uint8_t *env, size_t len)
{
    (void)b;
    (void)peer;
    (void)env;
    (void)len;
    return false;
}
static inline void byz_on_recv(node_byz_t *b, int from, const uint8_t *env, size_t len)
{
    (void)b;
    (void)from;
    (void)env;
    (void)len;
}

#endif

#endif
