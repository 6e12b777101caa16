/* node/wire — see wire.h. */
#include "node/wire.h"

#include <stdlib.h>
#include <string.h>

#include "consensus/valset.h"
#include "contracts/contracts.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/seal.h"
#include "node/api.h"
#include "node/chain.h"
#include "node/genesis.h"
#include "node/mempool.h"
#include "node/replica.h"
#include "node/storage.h"
#include "node/workpool.h"

struct node_wire {
    const char *version;
    hm_store_t *store;
    node_chain_t *chain;
    valset_t *vs;
    node_workpool_t *pool;
    node_mempool_t *mempool;
    node_replica_t *replica;
    api_ctx_t api;
    bool failed; /* the replica stopped on a storage failure (kept past wire_close) */
};

int wire_new(node_wire_t **out, const char *version)
{
    node_wire_t *w = calloc(1, sizeof *w);
    if (!w)
        return HM_ERR_NOMEM;
    w->version = version;
    *out = w;
    return HM_OK;
}

static void wire_close(node_wire_t *w)
{
    w->failed = w->failed || (w->replica && replica_failed(w->replica));
    replica_free(w->replica);
    w->replica = NULL;
    mempool_free(w->mempool);
    w->mempool = NULL;
    workpool_free(w->pool);
    w->pool = NULL;
    chain_free(w->chain);
    w->chain = NULL;
    hm_store_free(w->store);
    w->store = NULL;
    valset_free(&w->vs);
}

void wire_free(node_wire_t *w)
{
    if (!w)
        return;
    wire_close(w);
    free(w);
}

bool wire_failed(const node_wire_t *w)
{
    return w->failed || (w->replica && replica_failed(w->replica));
}

/* The genesis records for contracts, from the parsed genesis file. */
static int wire_open_chain(node_wire_t *w, const node_config_t *cfg, const genesis_t *g)
{
    hm_buf_t bytes = {0};
    char *gpath = config_path(cfg, cfg->genesis_file);
    contracts_genesis_accreditor_t *acc = calloc(g->n_accreditors + 1, sizeof *acc);
    Hallmark__ValidatorInfo *vi = calloc(g->n_validators, sizeof *vi);
    Hallmark__ValidatorInfo **vp = calloc(g->n_validators, sizeof *vp);
    int rc = HM_ERR_NOMEM;
    if (!gpath || !acc || !vi || !vp)
        goto done;
    rc = hm_seal_read_file(&bytes, gpath, GENESIS_MAX_BYTES);
    if (rc != HM_OK) {
        HM_LOG_ERR("node", "cannot read the genesis file %s: %s", gpath, hm_strerror(rc));
        goto done;
    }
    for (size_t i = 0; i < g->n_accreditors; i++) {
        const genesis_accreditor_t *a = &g->accreditors[i];
        acc[i].name = a->name;
        acc[i].kind = (Hallmark__IdentityKind)a->kind;
        acc[i].keys = (const uint8_t (*)[32])a->controller_keys;
        acc[i].n_keys = a->n_controller_keys;
        acc[i].threshold = a->threshold;
    }
    for (size_t i = 0; i < g->n_validators; i++) {
        hallmark__validator_info__init(&vi[i]);
        vi[i].pubkey = (ProtobufCBinaryData){32, (uint8_t *)g->validators[i].pubkey};
        vi[i].tls_fingerprint =
            (ProtobufCBinaryData){32, (uint8_t *)g->validators[i].tls_fingerprint};
        vi[i].address = (char *)g->validators[i].address;
        vi[i].name = (char *)g->validators[i].name;
        vp[i] = &vi[i];
    }
    contracts_genesis_t cg = {.accreditors = acc,
                              .n_accreditors = g->n_accreditors,
                              .validators = vp,
                              .n_validators = g->n_validators};
    rc = chain_open(&w->chain, w->store, g->chain_id, g->genesis_time_ms, &cg, bytes.data,
                    bytes.len);
done:
    free(gpath);
    free(acc);
    free(vi);
    free(vp);
    hm_buf_free(&bytes);
    return rc;
}

static void wire_fatal(void *arg)
{
    node_stop(arg);
}

static int wire_on_start(void *arg, node_t *n)
{
    node_wire_t *w = arg;
    const node_config_t *cfg = node_config(n);
    const genesis_t *g = node_genesis(n);
    char *dir = config_path(cfg, "chain");
    uint8_t(*pks)[32] = calloc(g->n_validators, sizeof *pks);
    int rc = HM_ERR_NOMEM;
    if (!dir || !pks)
        goto done;
    store_options_t so;
    store_options_default(&so);
    so.node_cache_huge_pages = cfg->node_cache_huge_pages;
    rc = store_open(&w->store, dir, &so);
    if (rc != HM_OK)
        goto done;
    rc = wire_open_chain(w, cfg, g);
    if (rc != HM_OK) {
        HM_LOG_ERR("node", "cannot open the chain in %s: %s", dir, hm_strerror(rc));
        goto done;
    }
    for (size_t i = 0; i < g->n_validators; i++)
        memcpy(pks[i], g->validators[i].pubkey, 32);
    rc = valset_new(&w->vs, (const uint8_t (*)[32])pks, g->n_validators);
    if (rc == HM_OK)
        rc = workpool_new(&w->pool, 0);
    if (rc != HM_OK)
        goto done;
    mempool_limits_t lim = {0};
    rc = mempool_new(&w->mempool, g->chain_id, &lim, w->pool);
    if (rc != HM_OK)
        goto done;

    const node_std_metrics_t *m = node_std_metrics(n);
    replica_options_t ro = {0};
    ro.base = node_base(n);
    ro.p2p = node_p2p(n);
    ro.store = w->store;
    ro.chain = w->chain;
    ro.mempool = w->mempool;
    pbft_config_default(&ro.pbft);
    memcpy(ro.pbft.chain_id, g->chain_id, 32);
    ro.pbft.vs = w->vs;
    ro.pbft.seckey = node_validator_index(n) >= 0 ? node_seckey(n) : NULL;
    ro.pbft.genesis_time_ms = g->genesis_time_ms;
    ro.pbft.view_timeout_ms = cfg->view_change_timeout_ms ? cfg->view_change_timeout_ms
                                                          : g->params.view_change_timeout_ms;
    ro.pbft.batch_delay_ms =
        cfg->batch_timeout_ms ? cfg->batch_timeout_ms : g->params.batch_timeout_ms;
    ro.pbft.max_clock_skew_ms = g->params.max_clock_skew_ms;
    ro.pbft.max_block_bytes = g->params.max_block_bytes;
    ro.pbft.max_block_txs = cfg->batch_max_txs ? cfg->batch_max_txs : g->params.max_block_txs;
    ro.m_height = m->height;
    ro.m_view = m->view;
    ro.m_view_changes = m->view_changes;
    ro.m_txs_committed = m->txs_committed;
    ro.m_mempool_txs = m->mempool_txs;
    ro.m_commit_latency = m->commit_latency;
    ro.on_fatal = wire_fatal;
    ro.fatal_arg = n;
    rc = replica_new(&w->replica, &ro);
    if (rc != HM_OK)
        goto done;

    w->api.replica = w->replica;
    w->api.chain = w->chain;
    w->api.mempool = w->mempool;
    w->api.p2p = node_p2p(n);
    w->api.genesis = g;
    w->api.vs = w->vs;
    w->api.validator_index = node_validator_index(n);
    w->api.node_key = node_pubkey(n);
    w->api.version = w->version;
    rc = api_register(node_rpc(n), &w->api);
    if (rc == HM_OK)
        rc = replica_start(w->replica);
    if (rc == HM_OK)
        HM_LOG_INFO("node", "chain at height %llu; %s",
                    (unsigned long long)chain_tip(w->chain)->height,
                    ro.pbft.seckey ? "voting as a validator" : "following as a full node");
done:
    free(dir);
    free(pks);
    if (rc != HM_OK)
        wire_close(w);
    return rc;
}

static void wire_on_envelope(void *arg, const p2p_peer_info_t *peer, const Hallmark__Envelope *env,
                             const uint8_t *bytes, size_t len)
{
    node_wire_t *w = arg;
    if (w->replica)
        replica_on_envelope(w->replica, peer, env, bytes, len);
}

static void wire_on_peer(void *arg, const p2p_peer_info_t *peer, bool connected)
{
    node_wire_t *w = arg;
    if (w->replica)
        replica_on_peer(w->replica, peer, connected);
}

static void wire_on_stop(void *arg, node_t *n)
{
    (void)n;
    wire_close(arg);
}

void wire_hooks(node_wire_t *w, node_hooks_t *hooks)
{
    memset(hooks, 0, sizeof *hooks);
    hooks->on_start = wire_on_start;
    hooks->on_envelope = wire_on_envelope;
    hooks->on_peer = wire_on_peer;
    hooks->on_stop = wire_on_stop;
    hooks->arg = w;
}
