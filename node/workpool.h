/* node/workpool — a fixed pool of worker threads that runs "parallel for"
 * jobs: fn(arg, i) for i in [0, n), spread over the workers and the calling
 * thread, returning when all are done. Used to verify signatures on every
 * core (mempool admission, proposal checks). Owns its threads; depends on
 * lib/err and pthreads only. */
#ifndef HM_NODE_WORKPOOL_H
#define HM_NODE_WORKPOOL_H

#include <stddef.h>

#include "lib/err.h"

typedef struct node_workpool node_workpool_t;

typedef void (*workpool_fn)(void *arg, size_t index);

/* Start `threads` workers (0 = one fewer than the online CPUs, at least 0:
 * the caller always works too). Out: *out (caller owns; workpool_free). */
int workpool_new(node_workpool_t **out, unsigned threads) HM_WUR;

/* Stop and join the workers. Accepts NULL. Must not race a workpool_run. */
void workpool_free(node_workpool_t *p);

/* Run fn(arg, i) for every i < n and wait for all. fn must be thread-safe
 * for distinct i. One job at a time: calls from several threads serialise. */
void workpool_run(node_workpool_t *p, workpool_fn fn, void *arg, size_t n);

/* Number of threads that work on a job, the caller included. */
unsigned workpool_width(const node_workpool_t *p);

#endif
