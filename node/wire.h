/* node/wire — the wiring of hallmarkd: on top of the daemon's plumbing
 * (node/daemon: lock, config, genesis, keys, event loop, p2p, rpc) it opens
 * the LevelDB store, the executed chain, the mempool and its verification
 * pool, the consensus driver, and registers the JSON API — all through the
 * daemon's hooks, so the daemon knows none of them.
 *
 * The chain's data lives in <datadir>/chain (LevelDB). Depends on every
 * node/ module, consensus/, contracts/, lib/. */
#ifndef HM_NODE_WIRE_H
#define HM_NODE_WIRE_H

#include "lib/err.h"
#include "node/daemon.h"

typedef struct node_wire node_wire_t;

/* Out: *out (caller owns; wire_free after node_run returns). */
int wire_new(node_wire_t **out, const char *version) HM_WUR;
void wire_free(node_wire_t *w);

/* Fill hooks so that node_run starts and stops everything above. */
void wire_hooks(node_wire_t *w, node_hooks_t *hooks);

/* True when the consensus driver stopped on a storage failure (the daemon
 * should exit non-zero). */
bool wire_failed(const node_wire_t *w);

#endif
