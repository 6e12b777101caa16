/* node/daemon — one running hallmarkd: owns the data directory lock, the
 * configuration, the genesis, the consensus key, the event loop, the p2p
 * mesh, the JSON API and the metrics registry, and ties their lifetimes
 * together (start in order, stop in reverse on SIGTERM/SIGINT).
 *
 * This is the infrastructure half of the daemon. The wiring step adds the
 * consensus core, the executor and storage here: it registers more RPC
 * handlers (node_rpc + rpc_route, before node_run starts serving — use
 * node_set_hooks), sends envelopes with node_p2p + p2p_send/p2p_broadcast,
 * and receives them through the hooks' on_envelope.
 *
 * Depends on every other node/ module and on lib/. */
#ifndef HM_NODE_DAEMON_H
#define HM_NODE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/keys.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/metrics.h"
#include "node/p2p.h"
#include "node/rpc.h"

#define NODE_LOCK_FILE "LOCK"
#define NODE_COOKIE_FILE ".cookie"

/* Exit statuses of `hallmarkd run` (contrib/systemd/hallmarkd.service
 * restarts on failure, except after NODE_EXIT_USAGE). */
#define NODE_EXIT_OK 0
/* usage, config, genesis, key, a port in use, a locked datadir: a restart
 * will not help */
#define NODE_EXIT_USAGE 2
/* the store could not be written or opened (disk full, I/O error): the
 * node stopped before sending anything it could not save; restart it once
 * the disk is fixed */
#define NODE_EXIT_STORAGE 3

typedef struct node node_t;

typedef struct {
    const char *datadir;     /* required */
    const char *config_path; /* NULL = <datadir>/hallmarkd.conf */
    bool force_full;         /* --full: never vote, whatever the config says */
    const char *log_level;   /* NULL = config's */
    const char *version;     /* reported in Hello and /v1/status; borrowed */
} node_options_t;

/* Callbacks for the wiring step; any may be NULL. They run on the event
 * loop thread. */
typedef struct {
    /* After p2p and rpc exist, before the loop runs: register RPC routes,
     * create the consensus core. Non-HM_OK aborts the start. */
    int (*on_start)(void *arg, node_t *n);
    /* A frame from an authenticated, ready peer (see p2p_recv_fn). */
    p2p_recv_fn on_envelope;
    /* A peer came or went. */
    p2p_peer_fn on_peer;
    /* Before p2p and rpc are torn down. */
    void (*on_stop)(void *arg, node_t *n);
    void *arg;
} node_hooks_t;

/* Take the data directory: lock <datadir>/LOCK (HM_ERR_EXISTS when another
 * daemon holds it), load the config, set up logging, load the genesis and
 * the consensus key. Logs what went wrong. Out: *out (node_close). */
int node_open(node_t **out, const node_options_t *opt) HM_WUR;

void node_set_hooks(node_t *n, const node_hooks_t *hooks);

/* Start p2p and the JSON API, run the event loop until SIGTERM/SIGINT or
 * node_stop, then stop them (the cookie file is removed). */
int node_run(node_t *n) HM_WUR;

/* Ask the loop to exit (from the loop thread). */
void node_stop(node_t *n);

/* After node_run failed: true when the reason was the disk (the on_start
 * hook met an I/O error, e.g. opening the store on a full disk, or the
 * cookie file could not be written), which a restart may cure once the
 * disk is fixed. */
bool node_failed_storage(const node_t *n);

/* Release everything, the lock last. Accepts NULL. */
void node_close(node_t *n);

/* Borrowed views, valid between node_open (or start, for the live
 * objects) and node_close. */
const node_config_t *node_config(const node_t *n);
const genesis_t *node_genesis(const node_t *n);
struct event_base *node_base(node_t *n); /* NULL before node_run */
p2p_t *node_p2p(node_t *n);              /* NULL before node_run */
rpc_t *node_rpc(node_t *n);              /* NULL before node_run */
metrics_t *node_metrics(node_t *n);
const uint8_t *node_pubkey(const node_t *n);
/* The consensus secret key (wiped at node_close). */
const uint8_t *node_seckey(const node_t *n);
/* Genesis index of this node's key when it votes, else -1 (full node or
 * not a validator). */
int node_validator_index(const node_t *n);

/* The standard metrics of DESIGN §9, registered by node_open; the wiring
 * step updates them. */
typedef struct {
    metric_t *height, *view, *view_changes, *txs_committed, *mempool_txs, *peers_connected,
        *commit_latency;
} node_std_metrics_t;
const node_std_metrics_t *node_std_metrics(const node_t *n);

#endif
