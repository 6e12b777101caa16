/* tests/sim/pbft_sim — deterministic simulation of the PBFT replica core
 * (DESIGN §11). N real consensus/pbft cores run over a simulated network
 * driven only by a seeded PRNG: random delay, loss, duplication,
 * reordering, a partition that heals, crash + restart from persisted state
 * or from nothing (catch-up), and Byzantine replicas (equivocating primary,
 * twins, replays, view/height +-1, silence, a slow primary, garbage).
 * Invariants are checked at every commit; liveness after the last fault
 * heals. Depends on consensus/ and lib/; no clock, no global mutable state
 * (all state lives in the sim_t of one run). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/cert.h"
#include "consensus/pbft.h"
#include "consensus/valset.h"
#include "consensus/vote.h"
#include "lib/block.h"
#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/tx.h"

#define MAXN 16
#define MAXH 4096
#define NTX 8
#define HEAL_MS 4000u
#define LIVE_BOUND_MS 40000u
#define WORK_TICK_MS 200u
#define VIEW_TIMEOUT_MS 400u

enum { BYZ_NONE, BYZ_SILENT, BYZ_EQUIVOCATE, BYZ_TWINS, BYZ_REPLAY, BYZ_SKEW, BYZ_SLOW,
       BYZ_GARBAGE, BYZ_NMODES };
static const char *const byz_names[] = {"honest", "silent", "equivocate", "twins", "replay",
                                        "skew", "slow", "garbage"};

enum { EV_MSG, EV_TIMER, EV_WORK, EV_CRASH, EV_RESTART };

typedef struct {
    uint64_t t, seq;
    int type, node, from, timer, twin;
    uint64_t token;
    uint8_t *data;
    size_t len;
} ev_t;

/* Shared, read-only across runs: keys, chain, txs. */
typedef struct {
    uint8_t sk[MAXN][32], pk[MAXN][32];
    uint8_t chain[32];
    uint8_t *tx[NTX];
    size_t tx_len[NTX];
} world_t;

typedef struct {
    pbft_t *core, *twin;
    bool alive, honest;
    int byz;
    uint64_t tok[5], twin_tok[5];
    /* disk */
    int *rk;
    uint8_t **rb;
    size_t *rl, nrec, caprec;
    uint8_t *blk[MAXH]; /* CertifiedBlock bytes by height */
    size_t blk_len[MAXH];
    uint8_t hash[MAXH][32];
    uint64_t height;
    uint8_t state_root[32], results_root[32];
    uint8_t tw_state[32], tw_results[32];
    uint64_t vc_prev; /* view changes of earlier incarnations */
    uint8_t *replay[16];
    size_t replay_len[16];
    unsigned nreplay;
} node_t;

typedef struct {
    const world_t *w;
    int n, nbyz;
    uint64_t seed, rng;
    bool planted;
    valset_t *vs;
    node_t nodes[MAXN];
    ev_t *heap;
    size_t nh, caph;
    uint64_t now, seq;
    /* faults of this seed */
    unsigned loss_pm, dup_pm, max_delay;
    bool part_on;
    uint64_t part_from, part_to;
    bool side[MAXN];
    /* invariants */
    bool have[MAXH];
    uint8_t gh[MAXH][32];
    char violation[256];
    uint64_t heal_height;
    bool work;
} sim_t;

/* ---------------------------------------------------------------- prng */

static uint64_t rnd(sim_t *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rnd_below(sim_t *s, uint64_t n)
{
    return n ? rnd(s) % n : 0;
}

static bool chance_pm(sim_t *s, unsigned per_mille)
{
    return rnd_below(s, 1000) < per_mille;
}

/* ---------------------------------------------------------------- events */

static bool ev_less(const ev_t *a, const ev_t *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void ev_push(sim_t *s, ev_t e)
{
    if (s->nh == s->caph) {
        s->caph = s->caph ? s->caph * 2 : 1024;
        s->heap = realloc(s->heap, s->caph * sizeof *s->heap);
        if (!s->heap)
            abort();
    }
    e.seq = s->seq++;
    size_t i = s->nh++;
    s->heap[i] = e;
    while (i > 0) {
        size_t par = (i - 1) / 2;
        if (!ev_less(&s->heap[i], &s->heap[par]))
            break;
        ev_t t = s->heap[i];
        s->heap[i] = s->heap[par];
        s->heap[par] = t;
        i = par;
    }
}

static ev_t ev_pop(sim_t *s)
{
    ev_t top = s->heap[0];
    s->heap[0] = s->heap[--s->nh];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nh && ev_less(&s->heap[l], &s->heap[m]))
            m = l;
        if (r < s->nh && ev_less(&s->heap[r], &s->heap[m]))
            m = r;
        if (m == i)
            break;
        ev_t t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
    return top;
}

static void violate(sim_t *s, const char *what, int node, uint64_t h)
{
    if (s->violation[0])
        return;
    snprintf(s->violation, sizeof s->violation, "%s (node %d, height %llu, t=%llu ms)", what,
             node, (unsigned long long)h, (unsigned long long)s->now);
}

/* ---------------------------------------------------------------- network */

static bool partitioned(const sim_t *s, int a, int b)
{
    return s->part_on && s->now >= s->part_from && s->now < s->part_to && s->side[a] != s->side[b];
}

static void net_send(sim_t *s, int from, int to, const uint8_t *data, size_t len, uint64_t extra)
{
    if (from == to || partitioned(s, from, to))
        return;
    if (s->now < HEAL_MS && chance_pm(s, s->loss_pm))
        return;
    int copies = (s->now < HEAL_MS && chance_pm(s, s->dup_pm)) ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        ev_t e = {0};
        e.type = EV_MSG;
        e.node = to;
        e.from = from;
        e.t = s->now + 1 + rnd_below(s, s->max_delay) + extra;
        e.data = malloc(len ? len : 1);
        if (!e.data)
            abort();
        memcpy(e.data, data, len);
        e.len = len;
        ev_push(s, e);
    }
}

static void net_bcast(sim_t *s, int from, const uint8_t *data, size_t len, uint64_t extra)
{
    for (int i = 0; i < s->n; i++)
        net_send(s, from, i, data, len, extra);
}

/* -------------------------------------------------------------- byzantine */

static uint8_t *encode_env(Hallmark__Envelope *e, size_t *len)
{
    uint8_t *out = NULL;
    if (hm_codec_encode(&out, len, &e->base) != HM_OK)
        return NULL;
    return out;
}

/* An equivocating primary: the same pre-prepare with a different block
 * (time + 1), properly signed. Returns NULL if env is no pre-prepare. */
static uint8_t *forge_preprepare(sim_t *s, int ni, const uint8_t *env, size_t len, size_t *olen)
{
    Hallmark__Envelope *e = NULL;
    hm_block_t *b = NULL;
    uint8_t *hdr = NULL, *blk = NULL, *out = NULL, digest[32], sig[64];
    size_t blk_len = 0;
    if (hm_decode_envelope(&e, env, len) != HM_OK ||
        e->msg_case != HALLMARK__ENVELOPE__MSG_PREPREPARE || !e->preprepare->vote)
        goto done;
    if (hm_block_decode(&b, e->preprepare->block.data, e->preprepare->block.len) != HM_OK)
        goto done;
    b->header->time_ms += 1;
    if (hm_block_build(&blk, &blk_len, digest, b->header, b->block->txs, b->block->n_txs) !=
        HM_OK)
        goto done;
    Hallmark__Vote *v = e->preprepare->vote;
    if (pbft_vote_sign(sig, s->w->sk[ni], s->w->chain, PBFT_PHASE_PREPREPARE, v->view, v->height,
                       digest, true) != HM_OK)
        goto done;
    ProtobufCBinaryData od = v->digest, os = v->signature, ob = e->preprepare->block;
    v->digest.data = digest;
    v->signature.data = sig;
    e->preprepare->block.data = blk;
    e->preprepare->block.len = blk_len;
    out = encode_env(e, olen);
    v->digest = od; /* the decoded message frees its own buffers */
    v->signature = os;
    e->preprepare->block = ob;
done:
    hm_free_envelope(e);
    hm_block_free(b);
    free(hdr);
    free(blk);
    return out;
}

/* A vote re-signed for view or height +-1. */
static uint8_t *forge_skew(sim_t *s, int ni, const uint8_t *env, size_t len, size_t *olen)
{
    Hallmark__Envelope *e = NULL;
    uint8_t *out = NULL, sig[64], *old = NULL;
    if (hm_decode_envelope(&e, env, len) != HM_OK || e->msg_case != HALLMARK__ENVELOPE__MSG_VOTE ||
        e->vote->digest.len != 32)
        goto done;
    Hallmark__Vote *v = e->vote;
    switch (rnd_below(s, 4)) {
    case 0: v->view += 1; break;
    case 1: v->view = v->view ? v->view - 1 : 1; break;
    case 2: v->height += 1; break;
    default: v->height = v->height > 1 ? v->height - 1 : 2; break;
    }
    if (pbft_vote_sign(sig, s->w->sk[ni], s->w->chain, (uint8_t)v->phase, v->view, v->height,
                       v->digest.data, true) != HM_OK)
        goto done;
    old = v->signature.data;
    v->signature.data = sig;
    out = encode_env(e, olen);
    v->signature.data = old;
done:
    hm_free_envelope(e);
    return out;
}

static void byz_send(sim_t *s, int ni, int peer, const uint8_t *data, size_t len)
{
    node_t *nd = &s->nodes[ni];
    uint64_t extra = 0;
    switch (nd->byz) {
    case BYZ_SILENT:
        return;
    case BYZ_SLOW: /* just under the view timeout */
        extra = VIEW_TIMEOUT_MS - 60;
        break;
    case BYZ_EQUIVOCATE: {
        size_t flen = 0;
        uint8_t *forged = forge_preprepare(s, ni, data, len, &flen);
        if (forged) {
            for (int i = 0; i < s->n; i++)
                if (peer == PBFT_PEER_ALL || peer == i)
                    net_send(s, ni, i, (i % 2) ? forged : data, (i % 2) ? flen : len, 0);
            free(forged);
            return;
        }
        break;
    }
    case BYZ_SKEW: {
        size_t flen = 0;
        uint8_t *forged = forge_skew(s, ni, data, len, &flen);
        if (forged) {
            net_bcast(s, ni, forged, flen, 0);
            free(forged);
        }
        break;
    }
    case BYZ_REPLAY: {
        unsigned slot = nd->nreplay++ % 16;
        free(nd->replay[slot]);
        nd->replay[slot] = malloc(len ? len : 1);
        if (nd->replay[slot]) {
            memcpy(nd->replay[slot], data, len);
            nd->replay_len[slot] = len;
        }
        unsigned pick = (unsigned)rnd_below(s, 16);
        if (nd->replay[pick])
            net_bcast(s, ni, nd->replay[pick], nd->replay_len[pick], rnd_below(s, 3000));
        break;
    }
    case BYZ_GARBAGE: {
        uint8_t junk[96];
        size_t jl = (size_t)rnd_below(s, sizeof junk);
        for (size_t i = 0; i < jl; i++)
            junk[i] = (uint8_t)rnd(s);
        net_bcast(s, ni, junk, jl, 0);
        uint8_t *flip = malloc(len ? len : 1);
        if (flip && len) {
            memcpy(flip, data, len);
            flip[rnd_below(s, len)] ^= (uint8_t)(1u << rnd_below(s, 8));
            net_bcast(s, ni, flip, len, 0);
        }
        free(flip);
        break;
    }
    default:
        break;
    }
    if (peer == PBFT_PEER_ALL)
        net_bcast(s, ni, data, len, extra);
    else
        net_send(s, ni, peer, data, len, extra);
}

/* ------------------------------------------------------------ environment */

static void app_exec_roots(uint8_t state[32], uint8_t results[32], const uint8_t hash[32])
{
    uint8_t buf[64];
    memcpy(buf, state, 32);
    memcpy(buf + 32, hash, 32);
    hm_tagged_hash(state, HM_TAG_SMT_NODE, buf, 64);
    hm_tagged_hash(results, HM_TAG_RESULT, hash, 32);
}

static void app_exec(node_t *nd, const uint8_t hash[32])
{
    app_exec_roots(nd->state_root, nd->results_root, hash);
}

static void genesis_roots(node_t *nd)
{
    memset(nd->state_root, 0x11, 32);
    memset(nd->results_root, 0, 32);
}

static void process(sim_t *s, int ni, bool twin, pbft_outbox_t *o);

static void record(node_t *nd, int kind, const uint8_t *data, size_t len)
{
    if (nd->nrec == nd->caprec) {
        nd->caprec = nd->caprec ? nd->caprec * 2 : 64;
        nd->rk = realloc(nd->rk, nd->caprec * sizeof *nd->rk);
        nd->rb = realloc(nd->rb, nd->caprec * sizeof *nd->rb);
        nd->rl = realloc(nd->rl, nd->caprec * sizeof *nd->rl);
        if (!nd->rk || !nd->rb || !nd->rl)
            abort();
    }
    nd->rk[nd->nrec] = kind;
    nd->rb[nd->nrec] = malloc(len ? len : 1);
    if (!nd->rb[nd->nrec])
        abort();
    memcpy(nd->rb[nd->nrec], data, len);
    nd->rl[nd->nrec] = len;
    nd->nrec++;
}

static void forget_records(node_t *nd)
{
    for (size_t i = 0; i < nd->nrec; i++)
        free(nd->rb[i]);
    nd->nrec = 0;
}

/* A COMMIT output: check every invariant, store, execute. */
static void on_commit(sim_t *s, int ni, bool twin, const pbft_out_t *c)
{
    node_t *nd = &s->nodes[ni];
    Hallmark__CertifiedBlock *cb = NULL;
    hm_block_t *b = NULL;
    if (hm_decode_certified_block(&cb, c->data, c->len) != HM_OK || !cb->cert ||
        hm_block_decode(&b, cb->block.data, cb->block.len) != HM_OK) {
        violate(s, "undecodable commit", ni, c->height);
        goto done;
    }
    uint64_t h = b->header->height;
    cert_reason_t why;
    if (cert_verify(&why, cb->cert, s->w->chain, s->vs, &h, b->hash) != HM_OK) {
        char m[96];
        snprintf(m, sizeof m, "commit certificate does not verify: %s", cert_reason_name(why));
        violate(s, m, ni, h);
        goto done;
    }
    if (twin) { /* a twin keeps its own application state */
        app_exec_roots(nd->tw_state, nd->tw_results, b->hash);
        pbft_outbox_t o;
        pbft_outbox_init(&o);
        pbft_on_executed(nd->twin, &o, s->now, h, nd->tw_state, nd->tw_results);
        process(s, ni, true, &o);
        pbft_outbox_free(&o);
        goto done;
    }
    if (!nd->honest && h != nd->height + 1)
        goto done; /* Byzantine replicas' own commits are not judged */
    if (h != nd->height + 1 || h >= MAXH) {
        violate(s, "commit out of order (a committed height changed or was skipped)", ni, h);
        goto done;
    }
    if (nd->honest && s->have[h] && memcmp(s->gh[h], b->hash, 32) != 0) {
        violate(s, "two honest replicas committed different blocks at one height", ni, h);
        goto done;
    }
    if (nd->honest && !s->have[h]) {
        s->have[h] = true;
        memcpy(s->gh[h], b->hash, 32);
    }
    nd->blk[h] = malloc(c->len);
    if (!nd->blk[h])
        abort();
    memcpy(nd->blk[h], c->data, c->len);
    nd->blk_len[h] = c->len;
    memcpy(nd->hash[h], b->hash, 32);
    nd->height = h;
    app_exec(nd, b->hash);
    pbft_outbox_t o;
    pbft_outbox_init(&o);
    pbft_on_executed(nd->core, &o, s->now, h, nd->state_root, nd->results_root);
    process(s, ni, false, &o);
    pbft_outbox_free(&o);
done:
    hm_free_certified_block(cb);
    hm_block_free(b);
}

static void on_build(sim_t *s, int ni, bool twin, const pbft_out_t *c)
{
    const uint8_t *txs[3];
    size_t lens[3], k = (size_t)rnd_below(s, 3);
    for (size_t i = 0; i < k; i++) {
        size_t j = (size_t)rnd_below(s, NTX);
        txs[i] = s->w->tx[j];
        lens[i] = s->w->tx_len[j];
    }
    pbft_t *core = twin ? s->nodes[ni].twin : s->nodes[ni].core;
    pbft_outbox_t o;
    pbft_outbox_init(&o);
    (void)pbft_propose(core, &o, s->now, c->height, c->view, txs, lens, NULL, k);
    process(s, ni, twin, &o);
    pbft_outbox_free(&o);
}

static void send_request(sim_t *s, int ni, const pbft_out_t *c)
{
    Hallmark__BlockRequest rq = HALLMARK__BLOCK_REQUEST__INIT;
    rq.from_height = c->height;
    rq.to_height = c->to_height;
    Hallmark__Envelope e = HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_BLOCK_REQUEST;
    e.block_request = &rq;
    size_t len = 0;
    uint8_t *b = encode_env(&e, &len);
    if (b)
        net_send(s, ni, c->peer, b, len, 0);
    free(b);
}

/* A node's storage answers catch-up (outside the core, as hallmarkd will). */
static void serve_request(sim_t *s, int ni, int to, const Hallmark__BlockRequest *rq)
{
    node_t *nd = &s->nodes[ni];
    Hallmark__CertifiedBlock *cbs[16];
    Hallmark__CertifiedBlock **ptr = cbs;
    size_t k = 0;
    for (uint64_t h = rq->from_height; h >= 1 && h <= rq->to_height && h <= nd->height && k < 16;
         h++) {
        if (hm_decode_certified_block(&cbs[k], nd->blk[h], nd->blk_len[h]) == HM_OK)
            k++;
    }
    if (k > 0) {
        Hallmark__BlockResponse rs = HALLMARK__BLOCK_RESPONSE__INIT;
        rs.n_blocks = k;
        rs.blocks = ptr;
        Hallmark__Envelope e = HALLMARK__ENVELOPE__INIT;
        e.msg_case = HALLMARK__ENVELOPE__MSG_BLOCK_RESPONSE;
        e.block_response = &rs;
        size_t len = 0;
        uint8_t *b = encode_env(&e, &len);
        if (b)
            net_send(s, ni, to, b, len, 0);
        free(b);
    }
    for (size_t i = 0; i < k; i++)
        hm_free_certified_block(cbs[i]);
}

static void process(sim_t *s, int ni, bool twin, pbft_outbox_t *o)
{
    node_t *nd = &s->nodes[ni];
    uint64_t *tok = twin ? nd->twin_tok : nd->tok;
    /* persist first (synced), then the rest in order */
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].kind == PBFT_OUT_PERSIST && !twin)
            record(nd, o->v[i].rec_kind, o->v[i].data, o->v[i].len);
    for (size_t i = 0; i < o->n && !s->violation[0]; i++) {
        const pbft_out_t *c = &o->v[i];
        switch (c->kind) {
        case PBFT_OUT_SEND:
            if (nd->byz == BYZ_NONE || nd->byz == BYZ_TWINS)
                (c->peer == PBFT_PEER_ALL ? net_bcast(s, ni, c->data, c->len, 0)
                                          : net_send(s, ni, c->peer, c->data, c->len, 0));
            else
                byz_send(s, ni, c->peer, c->data, c->len);
            break;
        case PBFT_OUT_TIMER_SET: {
            ev_t e = {0};
            e.type = EV_TIMER;
            e.node = ni;
            e.twin = twin;
            e.timer = c->timer;
            e.token = ++tok[c->timer];
            e.t = s->now + c->ms;
            ev_push(s, e);
            break;
        }
        case PBFT_OUT_TIMER_CANCEL:
            tok[c->timer]++;
            break;
        case PBFT_OUT_COMMIT:
            on_commit(s, ni, twin, c);
            break;
        case PBFT_OUT_REQUEST:
            send_request(s, ni, c);
            break;
        case PBFT_OUT_BUILD:
            on_build(s, ni, twin, c);
            break;
        default:
            break;
        }
    }
}

/* ------------------------------------------------------------- lifecycle */

static pbft_t *make_core(sim_t *s, int ni)
{
    pbft_config_t cfg;
    pbft_config_default(&cfg);
    memcpy(cfg.chain_id, s->w->chain, 32);
    cfg.vs = s->vs;
    cfg.seckey = s->w->sk[ni];
    cfg.genesis_time_ms = 0;
    cfg.view_timeout_ms = VIEW_TIMEOUT_MS;
    cfg.status_interval_ms = 300;
    cfg.catchup_timeout_ms = 500;
    cfg.max_clock_skew_ms = 10000;
    cfg.deterministic_sigs = true;
    cfg.planted_bug_weak_quorum = s->planted;
    pbft_t *p = NULL;
    if (pbft_new(&p, &cfg) != HM_OK)
        abort();
    return p;
}

/* Start (or restart) a node's core from its disk. */
static void boot(sim_t *s, int ni, bool twin)
{
    node_t *nd = &s->nodes[ni];
    pbft_outbox_t o;
    pbft_outbox_init(&o);
    if (twin) {
        nd->twin = make_core(s, ni);
        memset(nd->tw_state, 0x11, 32); /* as genesis_roots */
        memset(nd->tw_results, 0, 32);
        if (pbft_start(nd->twin, &o, s->now, NULL, 0, NULL, NULL, NULL, 0) != HM_OK)
            abort();
        pbft_on_executed(nd->twin, &o, s->now, 0, nd->tw_state, nd->tw_results);
        pbft_on_work(nd->twin, &o, s->now, s->work);
        process(s, ni, true, &o);
        pbft_outbox_free(&o);
        return;
    }
    nd->core = make_core(s, ni);
    nd->alive = true;
    genesis_roots(nd);
    for (uint64_t h = 1; h <= nd->height; h++)
        app_exec(nd, nd->hash[h]);
    int rc = pbft_start(nd->core, &o, s->now, nd->height ? nd->blk[nd->height] : NULL,
                        nd->height ? nd->blk_len[nd->height] : 0, nd->rk,
                        (const uint8_t *const *)nd->rb, nd->rl, nd->nrec);
    if (rc != HM_OK) {
        violate(s, "restart from persisted state failed", ni, nd->height);
        pbft_outbox_free(&o);
        return;
    }
    pbft_on_executed(nd->core, &o, s->now, nd->height, nd->state_root, nd->results_root);
    pbft_on_work(nd->core, &o, s->now, s->work);
    process(s, ni, false, &o);
    pbft_outbox_free(&o);
}

static void crash(sim_t *s, int ni, bool amnesia)
{
    node_t *nd = &s->nodes[ni];
    if (!nd->alive)
        return;
    pbft_status_t st;
    pbft_get_status(nd->core, &st);
    nd->vc_prev += st.view_changes;
    pbft_free(&nd->core);
    nd->alive = false;
    for (int i = 0; i < 5; i++)
        nd->tok[i]++;
    if (amnesia) { /* the data directory is gone */
        forget_records(nd);
        for (uint64_t h = 1; h <= nd->height; h++) {
            free(nd->blk[h]);
            nd->blk[h] = NULL;
        }
        nd->height = 0;
    }
}

static void deliver(sim_t *s, const ev_t *e)
{
    node_t *nd = &s->nodes[e->node];
    if (!nd->alive)
        return;
    Hallmark__Envelope *env = NULL;
    if (hm_decode_envelope(&env, e->data, e->len) == HM_OK) {
        if (env->msg_case == HALLMARK__ENVELOPE__MSG_BLOCK_REQUEST) {
            serve_request(s, e->node, e->from, env->block_request);
            hm_free_envelope(env);
            return;
        }
        if (env->msg_case == HALLMARK__ENVELOPE__MSG_BLOCK_RESPONSE) {
            for (size_t i = 0; i < env->block_response->n_blocks && !s->violation[0]; i++) {
                uint8_t *b = NULL;
                size_t len = 0;
                if (hm_codec_encode(&b, &len, &env->block_response->blocks[i]->base) != HM_OK)
                    continue;
                pbft_outbox_t o;
                pbft_outbox_init(&o);
                (void)pbft_on_certified_block(nd->core, &o, s->now, b, len);
                process(s, e->node, false, &o);
                pbft_outbox_free(&o);
                free(b);
            }
            hm_free_envelope(env);
            return;
        }
    }
    hm_free_envelope(env);
    pbft_outbox_t o;
    pbft_outbox_init(&o);
    (void)pbft_on_message(nd->core, &o, s->now, e->from, e->data, e->len);
    process(s, e->node, false, &o);
    if (nd->twin && !s->violation[0]) {
        pbft_outbox_clear(&o);
        (void)pbft_on_message(nd->twin, &o, s->now, e->from, e->data, e->len);
        process(s, e->node, true, &o);
    }
    pbft_outbox_free(&o);
}

/* -------------------------------------------------------------------- run */

typedef struct {
    uint64_t blocks, view_changes;
    bool violated;
    char what[400];
} result_t;

static void run_seed(const world_t *w, int n, int nbyz, uint64_t seed, bool planted,
                     result_t *res)
{
    sim_t *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->w = w;
    s->n = n;
    s->nbyz = nbyz;
    s->seed = seed;
    s->planted = planted;
    s->rng = seed * 0x2545f4914f6cdd1dULL + (uint64_t)n * 1000003u + (uint64_t)nbyz;
    if (valset_new(&s->vs, (const uint8_t(*)[32])w->pk, (size_t)n) != HM_OK)
        abort();
    int f = (n - 1) / 3;
    /* faults of this seed */
    s->loss_pm = chance_pm(s, 300) ? 0 : (unsigned)rnd_below(s, 100);
    s->dup_pm = (unsigned)rnd_below(s, 50);
    s->max_delay = 5 + (unsigned)rnd_below(s, 80);
    if (chance_pm(s, 500)) {
        s->part_on = true;
        s->part_from = rnd_below(s, HEAL_MS - 1000);
        s->part_to = s->part_from + 200 + rnd_below(s, HEAL_MS - s->part_from - 200);
        for (int i = 0; i < n; i++)
            s->side[i] = chance_pm(s, 500);
    }
    for (int i = 0; i < n; i++)
        s->nodes[i].honest = true;
    int budget = f;
    for (int k = 0; k < nbyz && budget > 0; k++, budget--) {
        int ni = planted ? k : (int)rnd_below(s, (uint64_t)n);
        while (!s->nodes[ni].honest)
            ni = (ni + 1) % n;
        s->nodes[ni].honest = false;
        s->nodes[ni].byz = planted ? BYZ_EQUIVOCATE : 1 + (int)rnd_below(s, BYZ_NMODES - 1);
    }
    for (int i = 0; i < n; i++)
        boot(s, i, false);
    for (int i = 0; i < n; i++)
        if (s->nodes[i].byz == BYZ_TWINS)
            boot(s, i, true);
    /* crashes of honest replicas; one may lose its data (counts against f) */
    int crashes = (int)rnd_below(s, 3);
    for (int k = 0; k < crashes; k++) {
        int ni = (int)rnd_below(s, (uint64_t)n);
        if (!s->nodes[ni].honest)
            continue;
        bool amnesia = budget > 0 && chance_pm(s, 300);
        if (amnesia)
            budget--;
        ev_t c = {0};
        c.type = EV_CRASH;
        c.node = ni;
        c.timer = amnesia;
        c.t = rnd_below(s, HEAL_MS - 500);
        ev_push(s, c);
        ev_t r = c;
        r.type = EV_RESTART;
        r.t = c.t + 100 + rnd_below(s, HEAL_MS - c.t - 100);
        ev_push(s, r);
    }
    ev_t wk = {0};
    wk.type = EV_WORK;
    wk.t = WORK_TICK_MS;
    ev_push(s, wk);

    bool healed = false;
    uint64_t target = 0;
    while (s->nh > 0 && !s->violation[0]) {
        ev_t e = ev_pop(s);
        s->now = e.t;
        if (!healed && s->now >= HEAL_MS) {
            healed = true;
            uint64_t hmax = 0;
            for (int i = 0; i < n; i++)
                if (s->nodes[i].honest && s->nodes[i].height > hmax)
                    hmax = s->nodes[i].height;
            target = hmax + 1;
        }
        if (healed) {
            bool done = true;
            for (int i = 0; i < n; i++)
                if (s->nodes[i].honest && s->nodes[i].height < target)
                    done = false;
            if (done) {
                free(e.data);
                break;
            }
            if (s->now > HEAL_MS + LIVE_BOUND_MS) {
                char m[200];
                size_t ml = (size_t)snprintf(m, sizeof m, "liveness: no new commit within the "
                                                          "bound after healing; h/view/vc:");
                for (int i = 0; i < n && ml < sizeof m - 24; i++) {
                    pbft_status_t st = {0};
                    if (s->nodes[i].core)
                        pbft_get_status(s->nodes[i].core, &st);
                    ml += (size_t)snprintf(m + ml, sizeof m - ml, " %llu/%llu/%d",
                                           (unsigned long long)st.height,
                                           (unsigned long long)st.view, st.in_view_change);
                }
                violate(s, m, -1, target);
                free(e.data);
                break;
            }
        }
        node_t *nd = &s->nodes[e.node];
        switch (e.type) {
        case EV_MSG:
            deliver(s, &e);
            break;
        case EV_TIMER: {
            pbft_t *core = e.twin ? nd->twin : nd->core;
            uint64_t *tok = e.twin ? nd->twin_tok : nd->tok;
            if (!core || (!e.twin && !nd->alive) || tok[e.timer] != e.token)
                break;
            pbft_outbox_t o;
            pbft_outbox_init(&o);
            pbft_on_timer(core, &o, s->now, e.timer);
            if (getenv("HM_SIM_TRACE") && e.timer == PBFT_TIMER_VIEW) {
                pbft_status_t st;
                pbft_get_status(core, &st);
                fprintf(stderr, "t=%llu node %d view timer -> h=%llu view=%llu vc=%d\n",
                        (unsigned long long)s->now, e.node, (unsigned long long)st.height,
                        (unsigned long long)st.view, st.in_view_change);
            }
            process(s, e.node, e.twin, &o);
            pbft_outbox_free(&o);
            break;
        }
        case EV_WORK: {
            s->work = true;
            for (int i = 0; i < n; i++) {
                pbft_outbox_t o;
                pbft_outbox_init(&o);
                if (s->nodes[i].alive) {
                    pbft_on_work(s->nodes[i].core, &o, s->now, true);
                    process(s, i, false, &o);
                }
                if (s->nodes[i].twin) {
                    pbft_outbox_clear(&o);
                    pbft_on_work(s->nodes[i].twin, &o, s->now, true);
                    process(s, i, true, &o);
                }
                pbft_outbox_free(&o);
            }
            break;
        }
        case EV_CRASH:
            crash(s, e.node, e.timer != 0);
            break;
        case EV_RESTART:
            if (!nd->alive)
                boot(s, e.node, false);
            break;
        }
        free(e.data);
    }
    res->blocks = 0;
    res->view_changes = 0;
    for (uint64_t h = 1; h < MAXH && s->have[h]; h++)
        res->blocks++;
    for (int i = 0; i < n; i++) {
        node_t *nd = &s->nodes[i];
        res->view_changes += nd->vc_prev;
        if (nd->core) {
            pbft_status_t st;
            pbft_get_status(nd->core, &st);
            res->view_changes += st.view_changes;
        }
    }
    res->violated = s->violation[0] != 0;
    char byz[96] = "";
    size_t bl = 0;
    for (int i = 0; i < n && bl < sizeof byz - 20; i++)
        if (s->nodes[i].byz)
            bl += (size_t)snprintf(byz + bl, sizeof byz - bl, " %d=%s", i,
                                   byz_names[s->nodes[i].byz]);
    snprintf(res->what, sizeof res->what, "%s [byzantine:%s]", s->violation,
             bl ? byz : " none");
    /* teardown */
    while (s->nh > 0) {
        ev_t e = ev_pop(s);
        free(e.data);
    }
    free(s->heap);
    for (int i = 0; i < n; i++) {
        node_t *nd = &s->nodes[i];
        pbft_free(&nd->core);
        pbft_free(&nd->twin);
        forget_records(nd);
        free(nd->rk);
        free(nd->rb);
        free(nd->rl);
        for (uint64_t h = 0; h < MAXH; h++)
            free(nd->blk[h]);
        for (int k = 0; k < 16; k++)
            free(nd->replay[k]);
    }
    valset_free(&s->vs);
    free(s);
}

/* ------------------------------------------------------------------ world */

static void world_init(world_t *w)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < MAXN; i++) {
        uint8_t seed[8];
        hm_put_u64be(seed, (uint64_t)i);
        uint32_t ctr = 0;
        do {
            uint8_t in[12];
            memcpy(in, seed, 8);
            hm_put_u32be(in + 8, ctr++);
            hm_sha256(w->sk[i], in, sizeof in);
        } while (hm_key_pubkey(w->pk[i], w->sk[i]) != HM_OK);
    }
    hm_tagged_hash(w->chain, HM_TAG_GENESIS, "pbft-sim", 8);
    for (int i = 0; i < NTX; i++) {
        Hallmark__Tx tx = HALLMARK__TX__INIT;
        Hallmark__Scrap scrap = HALLMARK__SCRAP__INIT;
        char serial[16];
        snprintf(serial, sizeof serial, "SIM-%d", i);
        char *serials[] = {serial};
        scrap.serials = serials;
        scrap.n_serials = 1;
        tx.chain_id.data = w->chain;
        tx.chain_id.len = 32;
        tx.signer.data = w->pk[i % MAXN];
        tx.signer.len = 32;
        tx.nonce = (uint64_t)i;
        tx.body_case = HALLMARK__TX__BODY_SCRAP;
        tx.scrap = &scrap;
        if (hm_tx_sign(&w->tx[i], &w->tx_len[i], NULL, &tx, w->sk[i % MAXN]) != HM_OK)
            abort();
    }
}

static void world_free(world_t *w)
{
    for (int i = 0; i < NTX; i++)
        free(w->tx[i]);
}

/* -------------------------------------------------------------------- CLI */

typedef struct {
    uint64_t seeds, blocks, view_changes, violations;
    uint64_t first_bad;
    char what[400];
} batch_t;

static void run_batch(const world_t *w, int n, int nbyz, uint64_t start, uint64_t count,
                      bool planted, bool stop_on_violation, batch_t *b)
{
    memset(b, 0, sizeof *b);
    for (uint64_t sd = start; sd < start + count; sd++) {
        result_t r;
        run_seed(w, n, nbyz, sd, planted, &r);
        b->seeds++;
        b->blocks += r.blocks;
        b->view_changes += r.view_changes;
        if (r.violated) {
            if (b->violations++ == 0) {
                b->first_bad = sd;
                snprintf(b->what, sizeof b->what, "%s", r.what);
            }
            if (stop_on_violation)
                break;
        }
    }
}

static void replay_cmd(char *buf, size_t len, int n, int nbyz, uint64_t seed, bool planted)
{
    snprintf(buf, len, "tests/sim/pbft-sim --nodes %d --byzantine %d --seed %llu%s", n, nbyz,
             (unsigned long long)seed, planted ? " --planted-bug" : "");
}

static int check_mode(const world_t *w)
{
    const char *soak = getenv("HM_SOAK");
    bool long_run = soak && *soak && strcmp(soak, "0") != 0;
    struct {
        int n, byz;
        uint64_t seeds;
    } cfgs[] = {
        {4, 0, 400}, {4, 1, 800}, {7, 1, 200}, {7, 2, 600},
    };
    size_t ncfg = sizeof cfgs / sizeof cfgs[0];
    if (long_run) /* 100,000 seeds in all */
        for (size_t i = 0; i < ncfg; i++)
            cfgs[i].seeds = 25000;
    printf("1..%zu\n", ncfg + 1);
    int fails = 0;
    for (size_t i = 0; i < ncfg; i++) {
        batch_t b;
        run_batch(w, cfgs[i].n, cfgs[i].byz, 1, cfgs[i].seeds, false, false, &b);
        if (b.violations == 0) {
            printf("ok %zu - N=%d byzantine=%d: %llu seeds, %llu blocks, %llu view changes, 0 "
                   "violations\n",
                   i + 1, cfgs[i].n, cfgs[i].byz, (unsigned long long)b.seeds,
                   (unsigned long long)b.blocks, (unsigned long long)b.view_changes);
        } else {
            char cmd[160];
            replay_cmd(cmd, sizeof cmd, cfgs[i].n, cfgs[i].byz, b.first_bad, false);
            printf("not ok %zu - N=%d byzantine=%d: %llu violations; first: seed %llu: %s\n"
                   "# replay: %s\n",
                   i + 1, cfgs[i].n, cfgs[i].byz, (unsigned long long)b.violations,
                   (unsigned long long)b.first_bad, b.what, cmd);
            fails++;
        }
        fflush(stdout);
    }
    /* the planted bug must be caught: proof the checker can fail */
    batch_t b;
    run_batch(w, 4, 1, 1, 300, true, true, &b);
    if (b.violations) {
        char cmd[160];
        replay_cmd(cmd, sizeof cmd, 4, 1, b.first_bad, true);
        printf("ok %zu - planted bug (2f quorum) caught at seed %llu after %llu seeds: %s\n"
               "# replay: %s\n",
               ncfg + 1, (unsigned long long)b.first_bad, (unsigned long long)b.seeds, b.what,
               cmd);
    } else {
        printf("not ok %zu - planted bug (2f quorum) NOT caught in %llu seeds\n", ncfg + 1,
               (unsigned long long)b.seeds);
        fails++;
    }
    return fails ? 1 : 0;
}

static void usage(void)
{
    printf("usage: pbft-sim [--nodes N] [--seeds K] [--start S] [--byzantine B]\n"
           "                [--seed S] [--planted-bug] [--check]\n"
           "  --nodes N       replicas (4..%d, default 4)\n"
           "  --seeds K       run seeds start..start+K-1 (default 100)\n"
           "  --seed S        run exactly one seed (replay)\n"
           "  --byzantine B   Byzantine replicas (<= f; default 0)\n"
           "  --planted-bug   cores accept 2f votes instead of 2f+1 (the checker must catch it)\n"
           "  --check         the make-check suite in TAP (HM_SOAK=1: 100,000 seeds)\n",
           MAXN);
}

int main(int argc, char **argv)
{
    int n = 4, nbyz = 0;
    uint64_t seeds = 100, start = 1;
    bool planted = false, check = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--nodes") && v) {
            n = atoi(v);
            i++;
        } else if (!strcmp(a, "--seeds") && v) {
            seeds = strtoull(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--start") && v) {
            start = strtoull(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            start = strtoull(v, NULL, 10);
            seeds = 1;
            i++;
        } else if (!strcmp(a, "--byzantine") && v) {
            nbyz = atoi(v);
            i++;
        } else if (!strcmp(a, "--planted-bug")) {
            planted = true;
        } else if (!strcmp(a, "--check")) {
            check = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    if (n < 1 || n > MAXN || nbyz < 0 || nbyz > (n - 1) / 3) {
        fprintf(stderr, "pbft-sim: need 1 <= nodes <= %d and byzantine <= (nodes-1)/3\n", MAXN);
        return 2;
    }
    world_t *w = malloc(sizeof *w);
    if (!w)
        return 2;
    world_init(w);
    int rc;
    if (check) {
        rc = check_mode(w);
    } else {
        batch_t b;
        run_batch(w, n, nbyz, start, seeds, planted, false, &b);
        printf("seeds run:      %llu (N=%d, byzantine=%d%s)\n", (unsigned long long)b.seeds, n,
               nbyz, planted ? ", planted bug" : "");
        printf("blocks:         %llu committed\n", (unsigned long long)b.blocks);
        printf("view changes:   %llu\n", (unsigned long long)b.view_changes);
        printf("violations:     %llu\n", (unsigned long long)b.violations);

        if (b.violations) {
            char cmd[160];
            replay_cmd(cmd, sizeof cmd, n, nbyz, b.first_bad, planted);
            printf("first violation: seed %llu: %s\nreplay: %s\n",
                   (unsigned long long)b.first_bad, b.what, cmd);
        }
        rc = b.violations ? 1 : 0;
    }
    world_free(w);
    free(w);
    return rc;
}
