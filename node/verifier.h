/* node/verifier — transaction admission checks off the event loop.
 *
 * Background threads (one per core by default) run mempool_check (decode,
 * size, chain id, signatures) over queued batches of txs — each thread a
 * whole batch, several batches at once — while the owning thread goes on
 * executing and committing blocks. Finished batches
 * wait until the owner collects them on its own thread (verifier_collect),
 * woken by verifier_fd becoming readable; each batch's done callback then
 * runs there, in submission order — so a client's txs, submitted in nonce
 * order, reach the mempool in that order.
 *
 * Bounded: at most max_txs txs queued or waiting to be collected; a submit
 * beyond that is refused (HM_ERR_LIMIT) and changes nothing.
 *
 * Ownership: verifier_submit copies the txs; the callbacks' arg is the
 * caller's, handed back exactly once — to done (collected) or to drop (the
 * verifier freed first). Depends on lib/, node/mempool (the checks) and
 * pthreads; no libevent (the owner watches the fd). */
#ifndef HM_NODE_VERIFIER_H
#define HM_NODE_VERIFIER_H

#include <stddef.h>

#include "lib/codec.h"
#include "lib/err.h"
#include "node/mempool.h"

typedef struct node_verifier node_verifier_t;

/* txs/checked hold n entries and are valid during the call only. */
typedef void (*verifier_done_fn)(void *arg, const ProtobufCBinaryData *txs,
                                 const mempool_checked_t *checked, size_t n);
typedef void (*verifier_drop_fn)(void *arg);

/* chain_id is copied; max_txs 0 = 100,000; threads 0 = one per online
 * core (at most 16). Starts the threads.
 * Out: *out (caller owns; verifier_free). */
int verifier_new(node_verifier_t **out, const uint8_t chain_id[32], size_t max_txs,
                 unsigned threads) HM_WUR;

/* Stop and join the threads; every batch not yet handed to done goes to its
 * drop callback (on the calling thread). Accepts NULL. */
void verifier_free(node_verifier_t *v);

/* The read end of the wake-up pipe: readable when batches are finished. */
int verifier_fd(const node_verifier_t *v);

/* Queue n txs (copied). HM_ERR_LIMIT when the queue is full, HM_ERR_NOMEM;
 * on error nothing is queued and no callback will run. n may be 0 (done
 * runs at the next collect). */
int verifier_submit(node_verifier_t *v, const ProtobufCBinaryData *txs, size_t n,
                    verifier_done_fn done, verifier_drop_fn drop, void *arg) HM_WUR;

/* Drain the wake-up pipe and run done for every finished batch, oldest
 * first, on the calling thread. Callbacks may submit again. */
void verifier_collect(node_verifier_t *v);

/* Txs queued or finished and not yet collected. */
size_t verifier_pending(node_verifier_t *v);

#endif
