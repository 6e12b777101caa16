/* node/daemon — see daemon.h. Owns the process-level resources of one
 * hallmarkd (lock, event loop, signals) and the endpoints that exist before
 * the consensus core is wired (/v1/status, /metrics, and POST /v1/tx(s)
 * answering 503 after validating the request). */
#include "node/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "node/nodekey.h"
#include "node/storage.h"

/* Descriptors the node holds beside its connections: LevelDB's table
 * caches (STORE_MAX_OPEN_FILES over the store's two databases) and a
 * margin for their logs and manifests, the
 * listeners, the log file, the lock, the event loop and worker pipes. */
#define NODE_FD_RESERVE (STORE_MAX_OPEN_FILES + 128u)

struct node {
    char *datadir;
    char version[64];
    int lock_fd;
    node_config_t *cfg;
    genesis_t *genesis;
    uint8_t seckey[HM_SECKEY_LEN];
    uint8_t pubkey[HM_PUBKEY_LEN];
    int validator_index;
    bool log_to_file;
    struct event_base *base;
    struct event *sigterm, *sigint;
    p2p_t *p2p;
    rpc_t *rpc;
    metrics_t *metrics;
    node_std_metrics_t std;
    node_hooks_t hooks;
    bool failed_storage;
};

static int take_lock(node_t *n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", n->datadir, NODE_LOCK_FILE);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        HM_LOG_ERR("node", "cannot open %s: %s", path, strerror(errno));
        return HM_ERR_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) {
            HM_LOG_ERR("node", "%s is in use by another hallmarkd (%s is locked)", n->datadir,
                       path);
            return HM_ERR_EXISTS;
        }
        HM_LOG_ERR("node", "cannot lock %s: %s", path, strerror(e));
        return HM_ERR_IO;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)len) != len)
        HM_LOG_WARN("node", "cannot write the pid into %s", path);
    n->lock_fd = fd;
    return HM_OK;
}

static double peers_gauge(void *arg)
{
    node_t *n = arg;
    return n->p2p ? (double)p2p_peer_count(n->p2p) : 0.0;
}

static double rpc_conns_gauge(void *arg)
{
    node_t *n = arg;
    return n->rpc ? (double)rpc_connection_count(n->rpc) : 0.0;
}

static double p2p_conns_gauge(void *arg)
{
    node_t *n = arg;
    return n->p2p ? (double)p2p_connection_count(n->p2p) : 0.0;
}

/* Make the open-file limit fit the configured caps: raise the soft limit
 * up to the hard one when needed; if even that is too low, lower
 * rpc_max_connections (the p2p mesh and LevelDB come first) and say so. */
static void fit_fd_limit(node_t *n)
{
    node_config_t *cfg = n->cfg;
    uint64_t peers = cfg->n_peers ? cfg->n_peers : n->genesis->n_validators;
    uint64_t others = NODE_FD_RESERVE + (uint64_t)cfg->max_inbound + peers + RPC_ACCEPT_BURST;
    uint64_t need = others + cfg->rpc_max_connections;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return;
    uint64_t old = rl.rlim_cur;
    rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) ? need : rl.rlim_max;
    if (rl.rlim_cur > old && setrlimit(RLIMIT_NOFILE, &rl) == 0)
        HM_LOG_INFO("node", "open-file limit raised from %llu to %llu", (unsigned long long)old,
                    (unsigned long long)rl.rlim_cur);
    else
        rl.rlim_cur = old;
    if (rl.rlim_cur >= need)
        return;
    uint64_t room = rl.rlim_cur > others + 8 ? rl.rlim_cur - others : 8;
    HM_LOG_WARN("node",
                "open-file limit %llu is below the %llu the configured caps need (LevelDB %u, "
                "max_inbound %u, %llu peers, rpc_max_connections %u): rpc_max_connections "
                "lowered to %llu; raise LimitNOFILE (ulimit -n)",
                (unsigned long long)rl.rlim_cur, (unsigned long long)need, STORE_MAX_OPEN_FILES,
                cfg->max_inbound, (unsigned long long)peers, cfg->rpc_max_connections,
                (unsigned long long)room);
    cfg->rpc_max_connections = (uint32_t)room;
}

static int register_metrics(node_t *n)
{
    static const double latency_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    int rc = metrics_new(&n->metrics);
    if (rc != HM_OK)
        return rc;
    metrics_t *m = n->metrics;
    n->std.height = metrics_gauge(m, "hallmark_height", "last committed height");
    n->std.view = metrics_gauge(m, "hallmark_view", "current PBFT view");
    n->std.view_changes =
        metrics_counter(m, "hallmark_view_changes_total", "view changes since start");
    n->std.txs_committed =
        metrics_counter(m, "hallmark_txs_committed_total", "transactions committed since start");
    n->std.mempool_txs = metrics_gauge(m, "hallmark_mempool_txs", "transactions in the mempool");
    n->std.peers_connected = metrics_gauge_fn(m, "hallmark_peers_connected",
                                              "authenticated p2p peers", peers_gauge, n);
    n->std.commit_latency = metrics_histogram(
        m, "hallmark_commit_latency_seconds", "time from proposal to commit of a block",
        latency_bounds, sizeof latency_bounds / sizeof latency_bounds[0]);
    if (!n->std.height || !n->std.view || !n->std.view_changes || !n->std.txs_committed ||
        !n->std.mempool_txs || !n->std.peers_connected || !n->std.commit_latency)
        return HM_ERR_NOMEM;
    if (!metrics_gauge_fn(m, "hallmark_rpc_connections",
                          "open JSON API connections (capped by rpc_max_connections)",
                          rpc_conns_gauge, n) ||
        !metrics_gauge_fn(m, "hallmark_p2p_connections",
                          "p2p connections in any state, authenticated or not", p2p_conns_gauge,
                          n))
        return HM_ERR_NOMEM;
    return HM_OK;
}

int node_open(node_t **out, const node_options_t *opt)
{
    int rc = HM_ERR_NOMEM;
    char err[512] = "";
    char *path = NULL, *passpath = NULL, *pass = NULL;
    size_t pass_len = 0;
    struct stat st;
    node_t *n = calloc(1, sizeof *n);
    if (!n)
        goto done;
    n->lock_fd = -1;
    n->validator_index = -1;
    snprintf(n->version, sizeof n->version, "%s", opt->version ? opt->version : "hallmarkd");
    if (!(n->datadir = strdup(opt->datadir)))
        goto done;
    if (stat(n->datadir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        HM_LOG_ERR("node", "data directory %s does not exist (run hallmarkd init)", n->datadir);
        rc = HM_ERR_NOT_FOUND;
        goto done;
    }
    if ((rc = take_lock(n)) != HM_OK)
        goto done;
    if ((rc = config_load(&n->cfg, n->datadir, opt->config_path, err, sizeof err)) != HM_OK) {
        HM_LOG_ERR("config", "%s", err);
        goto done;
    }
    if (opt->force_full)
        n->cfg->mode = NODE_MODE_FULL;
    hm_log_level_t lvl = n->cfg->log_level;
    if (opt->log_level && hm_log_level_parse(opt->log_level, &lvl) != HM_OK) {
        HM_LOG_ERR("node", "unknown log level '%s'", opt->log_level);
        rc = HM_ERR_INVALID;
        goto done;
    }
    hm_log_set_level(lvl);
    if (n->cfg->log_file) {
        rc = HM_ERR_NOMEM;
        if (!(path = config_path(n->cfg, n->cfg->log_file)))
            goto done;
        if ((rc = hm_log_open_file(path)) != HM_OK) {
            HM_LOG_ERR("node", "cannot open the log file %s", path);
            goto done;
        }
        n->log_to_file = true;
        free(path);
        path = NULL;
    }
    HM_LOG_INFO("node", "%s starting, datadir %s", n->version, n->datadir);

    rc = HM_ERR_NOMEM;
    if (!(path = config_path(n->cfg, n->cfg->genesis_file)))
        goto done;
    if ((rc = genesis_load(&n->genesis, path, err, sizeof err)) != HM_OK) {
        HM_LOG_ERR("genesis", "%s", err);
        goto done;
    }
    free(path);
    path = NULL;

    rc = HM_ERR_NOMEM;
    if (!(path = config_path(n->cfg, n->cfg->key_file)))
        goto done;
    if (n->cfg->key_passphrase_file) {
        if (!(passpath = config_path(n->cfg, n->cfg->key_passphrase_file)))
            goto done;
        if ((rc = nodekey_read_passphrase(&pass, &pass_len, passpath)) != HM_OK) {
            HM_LOG_ERR("node", "cannot read the passphrase file %s: %s", passpath,
                       hm_strerror(rc));
            goto done;
        }
    }
    if ((rc = nodekey_load(n->seckey, n->pubkey, path, pass, pass_len)) != HM_OK) {
        HM_LOG_ERR("node", "cannot load the consensus key %s: %s%s", path, hm_strerror(rc),
                   rc == HM_ERR_STATE ? " (sealed: set key_passphrase_file)" : "");
        goto done;
    }
    int idx = genesis_find_pubkey(n->genesis, n->pubkey);
    if (n->cfg->mode == NODE_MODE_VALIDATOR) {
        if (idx < 0)
            HM_LOG_WARN("node", "this node's key is not a genesis validator: not voting");
        n->validator_index = idx;
    }
    if ((rc = register_metrics(n)) != HM_OK)
        goto done;
    char chain[65];
    hm_hex_encode(chain, n->genesis->chain_id, HM_HASH_LEN);
    HM_LOG_INFO("node", "chain %s (%s), %zu validators, %s%s", chain, n->genesis->chain_name,
                n->genesis->n_validators,
                n->cfg->mode == NODE_MODE_FULL ? "full node" : "validator mode",
                idx >= 0 ? "" : " (not in the validator set)");
    *out = n;
    n = NULL;
    rc = HM_OK;
done:
    if (pass) {
        hm_wipe(pass, pass_len);
        free(pass);
    }
    free(passpath);
    free(path);
    node_close(n);
    return rc;
}

void node_set_hooks(node_t *n, const node_hooks_t *hooks)
{
    if (hooks)
        n->hooks = *hooks;
    else
        memset(&n->hooks, 0, sizeof n->hooks);
}

/* ---- the daemon's own endpoint ------------------------------------------- */

static void h_metrics(void *arg, rpc_request_t *req)
{
    node_t *n = arg;
    hm_buf_t b = {0};
    if (metrics_render(n->metrics, &b) != HM_OK)
        rpc_reply_error(req, 500, "internal", "cannot render metrics");
    else
        rpc_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    hm_buf_free(&b);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    node_t *n = arg;
    HM_LOG_INFO("node", "%s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopexit(n->base, NULL);
}

static void fwd_recv(void *arg, const p2p_peer_info_t *peer, const Hallmark__Envelope *env,
                     const uint8_t *bytes, size_t len)
{
    node_t *n = arg;
    if (n->hooks.on_envelope)
        n->hooks.on_envelope(n->hooks.arg, peer, env, bytes, len);
}

static void fwd_peer(void *arg, const p2p_peer_info_t *peer, bool connected)
{
    node_t *n = arg;
    if (n->hooks.on_peer)
        n->hooks.on_peer(n->hooks.arg, peer, connected);
}

int node_run(node_t *n)
{
    int rc = HM_ERR_NOMEM;
    char *cookie = NULL;
    bool started_hooks = false;
    if (!(n->base = event_base_new()))
        goto done;
    p2p_options_t po = {
        .base = n->base,
        .cfg = n->cfg,
        .genesis = n->genesis,
        .version = n->version,
        .on_recv = fwd_recv,
        .on_peer = fwd_peer,
        .cb_arg = n,
    };
    memcpy(po.node_key, n->pubkey, HM_PUBKEY_LEN);
    if ((rc = p2p_new(&n->p2p, &po)) != HM_OK) {
        HM_LOG_ERR("node", "cannot set up p2p: %s", hm_strerror(rc));
        goto done;
    }
    if (n->validator_index >= 0 &&
        memcmp(n->genesis->validators[n->validator_index].tls_fingerprint,
               p2p_own_fingerprint(n->p2p), TLS_FP_LEN))
        HM_LOG_WARN("node", "our TLS certificate is not the one genesis pins for us: "
                            "peers will refuse this node");
    rc = HM_ERR_NOMEM;
    if (n->cfg->rpc_cookie && !(cookie = config_path(n->cfg, NODE_COOKIE_FILE)))
        goto done;
    fit_fd_limit(n);
    rpc_options_t ro = {
        .base = n->base,
        .bind = n->cfg->rpc_bind,
        .token = n->cfg->rpc_token,
        .cookie_path = cookie,
        .max_connections = n->cfg->rpc_max_connections,
        .request_timeout_ms = n->cfg->rpc_request_timeout_ms,
    };
    if ((rc = rpc_new(&n->rpc, &ro)) != HM_OK)
        goto done;
    /* /metrics is the daemon's; every /v1 endpoint is registered by the
     * wiring (node/wire, node/api) in on_start. */
    if ((rc = rpc_route(n->rpc, RPC_GET, "/metrics", h_metrics, n)) != HM_OK)
        goto done;
    if (n->hooks.on_start && (rc = n->hooks.on_start(n->hooks.arg, n)) != HM_OK) {
        n->failed_storage = rc == HM_ERR_IO;
        goto done;
    }
    started_hooks = true;
    if ((rc = p2p_start(n->p2p)) != HM_OK)
        goto done;
    if ((rc = rpc_start(n->rpc)) != HM_OK) {
        /* bound, so the cookie file could not be written */
        n->failed_storage = rc == HM_ERR_IO && rpc_port(n->rpc) != 0;
        goto done;
    }
    rc = HM_ERR_NOMEM;
    if (!(n->sigterm = evsignal_new(n->base, SIGTERM, on_signal, n)) ||
        !(n->sigint = evsignal_new(n->base, SIGINT, on_signal, n)) ||
        evsignal_add(n->sigterm, NULL) != 0 || evsignal_add(n->sigint, NULL) != 0)
        goto done;
    HM_LOG_INFO("node", "running");
    if (event_base_dispatch(n->base) < 0) {
        rc = HM_ERR_IO;
        goto done;
    }
    rc = HM_OK;
done:
    if (started_hooks && n->hooks.on_stop)
        n->hooks.on_stop(n->hooks.arg, n);
    rpc_free(n->rpc); /* removes the cookie */
    n->rpc = NULL;
    p2p_free(n->p2p);
    n->p2p = NULL;
    if (n->sigterm)
        event_free(n->sigterm);
    if (n->sigint)
        event_free(n->sigint);
    n->sigterm = n->sigint = NULL;
    if (n->base)
        event_base_free(n->base);
    n->base = NULL;
    free(cookie);
    HM_LOG_INFO("node", "stopped");
    return rc;
}

void node_stop(node_t *n)
{
    if (n->base)
        event_base_loopexit(n->base, NULL);
}

bool node_failed_storage(const node_t *n)
{
    return n->failed_storage;
}

void node_close(node_t *n)
{
    if (!n)
        return;
    hm_wipe(n->seckey, sizeof n->seckey);
    genesis_free(n->genesis);
    config_free(n->cfg);
    metrics_free(n->metrics);
    if (n->log_to_file)
        hm_log_close();
    if (n->lock_fd >= 0)
        close(n->lock_fd); /* releases the flock */
    free(n->datadir);
    free(n);
}

const node_config_t *node_config(const node_t *n) { return n->cfg; }
const genesis_t *node_genesis(const node_t *n) { return n->genesis; }
struct event_base *node_base(node_t *n) { return n->base; }
p2p_t *node_p2p(node_t *n) { return n->p2p; }
rpc_t *node_rpc(node_t *n) { return n->rpc; }
metrics_t *node_metrics(node_t *n) { return n->metrics; }
const uint8_t *node_pubkey(const node_t *n) { return n->pubkey; }
const uint8_t *node_seckey(const node_t *n) { return n->seckey; }
int node_validator_index(const node_t *n) { return n->validator_index; }
const node_std_metrics_t *node_std_metrics(const node_t *n) { return &n->std; }
