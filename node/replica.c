/* node/replica — see replica.h. */
#include "node/replica.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/block.h"
#include "lib/codec.h"
#include "lib/log.h"
#include "lib/tx.h"
#include "node/byzantine.h"
#include "node/crashpoint.h"
#include "node/verifier.h"

#define REPLICA_TIMERS 5            /* timer ids 1..4 */
#define REPLICA_SERVE_MAX_BLOCKS 64 /* per BlockResponse */
#define REPLICA_SERVE_MAX_BYTES (8u * 1024u * 1024u)

struct rec_meta {
    uint64_t seq;
    uint64_t height;
};

struct replica_timer {
    struct node_replica *r;
    int id;
    struct event *ev;
};

struct node_replica {
    replica_options_t o;
    pbft_t *core;
    pbft_outbox_t out;
    struct replica_timer timers[REPLICA_TIMERS];
    uint64_t peer_of[VALSET_MAX]; /* validator index -> ready peer id (0: none) */
    struct rec_meta *recs;
    size_t nrecs, caprecs;
    uint64_t first_seq, next_seq;
    bool started, failed, flushing;
    uint64_t view_changes_reported; /* counter already added to the metric */
    /* A BUILD met an empty mempool: answered after the batch delay so that
     * txs waiting in RPC connections get in (else blocks alternate full and
     * empty under load); still proposed empty if nothing came. */
    struct event *build_ev;
    uint64_t build_height, build_view;
    /* client txs are checked on the verifier's thread while this one
     * executes blocks (replica_submit_async) */
    node_verifier_t *verifier;
    struct event *verifier_ev;
    /* Admitted client txs signal the core from here, one loop pass later:
     * every batch collected in this pass is in the mempool and its reply
     * written before a block is built and executed (else a POST's reply
     * waits for a whole block's commit, and blocks hold one batch). */
    struct event *work_ev;
    node_byz_t *byz; /* test builds: HM_BYZANTINE misbehaviour (NULL: honest) */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A single output step (a block's execution and synced write, a send, a
 * proposal) taking this long is logged: it stalls consensus for everyone
 * waiting on this node. */
#define REPLICA_SLOW_MS 100u

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *out_kind_name(int kind)
{
    switch (kind) {
    case PBFT_OUT_SEND:
        return "a send";
    case PBFT_OUT_COMMIT:
        return "committing a block (execute + synced write)";
    case PBFT_OUT_REQUEST:
        return "a catch-up request";
    case PBFT_OUT_BUILD:
        return "building a proposal";
    default:
        return "an output";
    }
}

static void replica_fail(node_replica_t *r, const char *what, int rc)
{
    if (r->failed)
        return;
    HM_LOG_ERR("replica", "%s: %s; this node stops voting and committing", what,
               hm_strerror(rc));
    r->failed = true;
    if (r->o.on_fatal)
        r->o.on_fatal(r->o.fatal_arg);
}

/* ------------------------------------------------------- record log */

static void rec_key(uint8_t k[9], uint64_t seq)
{
    k[0] = 'P';
    hm_put_u64be(k + 1, seq);
}

static int rec_meta_put(node_replica_t *r, hm_batch_t *b)
{
    uint8_t v[16];
    hm_put_u64be(v, r->first_seq);
    hm_put_u64be(v + 8, r->next_seq);
    return hm_batch_add(b, HM_OP_AUX_PUT, (const uint8_t *)"Pm", 2, v, sizeof v);
}

/* The height a persisted record belongs to (0 when it cannot tell: kept). */
static uint64_t rec_height(int kind, const uint8_t *data, size_t len)
{
    uint64_t h = 0;
    if (kind == PBFT_REC_PREPARED) {
        Hallmark__PreparedCertificate *pc = NULL;
        if (hm_codec_decode((void **)&pc, &hallmark__prepared_certificate__descriptor,
                            HM_MAX_FRAME_BYTES, data, len) == HM_OK) {
            if (pc->preprepare && pc->preprepare->vote)
                h = pc->preprepare->vote->height;
            hm_codec_free(pc);
        }
    } else {
        Hallmark__VoteRecord *vr = NULL;
        if (hm_decode_vote_record(&vr, data, len) == HM_OK) {
            h = vr->height;
            hm_free_vote_record(vr);
        }
    }
    return h;
}

static int rec_remember(node_replica_t *r, uint64_t seq, uint64_t height)
{
    if (r->nrecs == r->caprecs) {
        size_t cap = r->caprecs ? r->caprecs * 2 : 16;
        struct rec_meta *p = realloc(r->recs, cap * sizeof *p);
        if (!p)
            return HM_ERR_NOMEM;
        r->recs = p;
        r->caprecs = cap;
    }
    r->recs[r->nrecs++] = (struct rec_meta){seq, height};
    return HM_OK;
}

/* Store every PERSIST output of the outbox in one synced batch. */
static int replica_persist(node_replica_t *r, const pbft_outbox_t *ob)
{
    hm_batch_t b = {0};
    hm_buf_t val = {0};
    int rc = HM_OK;
    size_t added = 0;
    uint64_t seq = r->next_seq;
    for (size_t i = 0; i < ob->n && rc == HM_OK; i++) {
        const pbft_out_t *o = &ob->v[i];
        if (o->kind != PBFT_OUT_PERSIST)
            continue;
        uint8_t k[9];
        rec_key(k, seq);
        hm_buf_reset(&val);
        rc = hm_buf_append_u8(&val, (uint8_t)o->rec_kind);
        if (rc == HM_OK)
            rc = hm_buf_append(&val, o->data, o->len);
        if (rc == HM_OK)
            rc = hm_batch_add(&b, HM_OP_AUX_PUT, k, sizeof k, val.data, val.len);
        if (rc == HM_OK)
            rc = rec_remember(r, seq, rec_height(o->rec_kind, o->data, o->len));
        seq++;
        added++;
    }
    if (rc == HM_OK && added) {
        uint64_t old_next = r->next_seq;
        r->next_seq = seq;
        rc = rec_meta_put(r, &b);
        if (rc == HM_OK)
            rc = r->o.store->ops->commit(r->o.store, &b, true);
        if (rc != HM_OK) {
            r->next_seq = old_next;
            r->nrecs -= added;
        }
    }
    hm_buf_free(&val);
    hm_batch_free(&b);
    return rc;
}

/* Drop records of heights <= committed (best effort: a failure leaves them,
 * and the core ignores records of committed heights on restart). */
static void replica_prune(node_replica_t *r, uint64_t committed)
{
    hm_batch_t b = {0};
    size_t keep = 0;
    int rc = HM_OK;
    for (size_t i = 0; i < r->nrecs; i++) {
        if (r->recs[i].height != 0 && r->recs[i].height <= committed) {
            uint8_t k[9];
            rec_key(k, r->recs[i].seq);
            if (rc == HM_OK)
                rc = hm_batch_add(&b, HM_OP_AUX_DEL, k, sizeof k, NULL, 0);
        } else {
            r->recs[keep++] = r->recs[i];
        }
    }
    if (keep == r->nrecs || rc != HM_OK) {
        hm_batch_free(&b);
        return;
    }
    r->nrecs = keep;
    r->first_seq = keep ? r->recs[0].seq : r->next_seq;
    if (rec_meta_put(r, &b) == HM_OK &&
        r->o.store->ops->commit(r->o.store, &b, false) != HM_OK)
        HM_LOG_WARN("replica", "could not prune the vote log");
    hm_batch_free(&b);
}

/* Load the record log. Out: parallel arrays (caller frees each data and the
 * arrays), *n. */
static int replica_load_records(node_replica_t *r, int **kinds, uint8_t ***datas, size_t **lens,
                                size_t *n)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    *n = 0;
    *kinds = NULL;
    *datas = NULL;
    *lens = NULL;
    int rc = hm_store_get_aux(r->o.store, (const uint8_t *)"Pm", 2, &v, &vlen);
    if (rc == HM_ERR_NOT_FOUND)
        return HM_OK;
    if (rc != HM_OK)
        return rc;
    if (vlen != 16) {
        free(v);
        return HM_ERR_CORRUPT;
    }
    r->first_seq = hm_get_u64be(v);
    r->next_seq = hm_get_u64be(v + 8);
    free(v);
    if (r->next_seq < r->first_seq || r->next_seq - r->first_seq > 1000000)
        return HM_ERR_CORRUPT;
    size_t cap = (size_t)(r->next_seq - r->first_seq);
    if (cap == 0)
        return HM_OK;
    *kinds = calloc(cap, sizeof **kinds);
    *datas = calloc(cap, sizeof **datas);
    *lens = calloc(cap, sizeof **lens);
    if (!*kinds || !*datas || !*lens)
        return HM_ERR_NOMEM;
    for (uint64_t seq = r->first_seq; seq < r->next_seq; seq++) {
        uint8_t k[9];
        rec_key(k, seq);
        rc = hm_store_get_aux(r->o.store, k, sizeof k, &v, &vlen);
        if (rc == HM_ERR_NOT_FOUND)
            continue; /* pruned */
        if (rc != HM_OK)
            return rc;
        if (vlen < 1) {
            free(v);
            return HM_ERR_CORRUPT;
        }
        (*kinds)[*n] = v[0];
        (*lens)[*n] = vlen - 1;
        memmove(v, v + 1, vlen - 1);
        (*datas)[*n] = v;
        rc = rec_remember(r, seq, rec_height((*kinds)[*n], v, vlen - 1));
        if (rc != HM_OK)
            return rc;
        (*n)++;
    }
    return HM_OK;
}

/* ------------------------------------------------------------ outputs */

static void replica_flush(node_replica_t *r);

static void replica_send(node_replica_t *r, int peer, const uint8_t *data, size_t len)
{
    if (byz_on_send(r->byz, peer, data, len))
        return;
    if (peer == PBFT_PEER_ALL) {
        for (size_t i = 0; i < r->o.pbft.vs->n; i++)
            if (r->peer_of[i] && p2p_send_bytes(r->o.p2p, r->peer_of[i], data, len) != HM_OK)
                HM_LOG_DEBUG("replica", "send to validator %zu failed", i);
        return;
    }
    if (peer < 0 || (size_t)peer >= r->o.pbft.vs->n || !r->peer_of[peer])
        return; /* not connected: the core retransmits on its status timer */
    if (p2p_send_bytes(r->o.p2p, r->peer_of[peer], data, len) != HM_OK)
        HM_LOG_DEBUG("replica", "send to validator %d failed", peer);
}

static void replica_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct replica_timer *t = arg;
    node_replica_t *r = t->r;
    if (r->failed)
        return;
    pbft_on_timer(r->core, &r->out, now_ms(), t->id);
    replica_flush(r);
}

static void replica_set_timer(node_replica_t *r, int id, uint64_t ms, bool arm)
{
    if (id <= 0 || id >= REPLICA_TIMERS || !r->timers[id].ev)
        return;
    evtimer_del(r->timers[id].ev);
    if (!arm)
        return;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(r->timers[id].ev, &tv);
}

static void replica_request(node_replica_t *r, int peer, uint64_t from, uint64_t to)
{
    Hallmark__BlockRequest br = HALLMARK__BLOCK_REQUEST__INIT;
    br.from_height = from;
    br.to_height = to;
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_BLOCK_REQUEST;
    env.block_request = &br;
    uint64_t id = (peer >= 0 && (size_t)peer < r->o.pbft.vs->n) ? r->peer_of[peer] : 0;
    for (size_t i = 0; !id && i < r->o.pbft.vs->n; i++)
        id = r->peer_of[i];
    if (id && p2p_send(r->o.p2p, id, &env) != HM_OK)
        HM_LOG_DEBUG("replica", "catch-up request could not be sent");
}

/* Bytes of txs a proposal may carry: the block cap less room for the
 * header and the Block framing. */
static size_t replica_max_tx_bytes(const node_replica_t *r)
{
    return r->o.pbft.max_block_bytes > 4096 ? r->o.pbft.max_block_bytes - 4096 : 0;
}

/* Tell the core that txs are pending, and whether they already fill a
 * block (max txs or replica_max_tx_bytes): then the primary builds
 * without waiting out the batch delay. */
static void replica_signal_work(node_replica_t *r, uint64_t now)
{
    if (mempool_count(r->o.mempool) >= r->o.pbft.max_block_txs ||
        mempool_bytes(r->o.mempool) >= replica_max_tx_bytes(r))
        pbft_on_full_batch(r->core, &r->out, now);
    else
        pbft_on_work(r->core, &r->out, now, true);
}

static void replica_build_now(node_replica_t *r, uint64_t height, uint64_t view)
{
    ProtobufCBinaryData *txs = NULL;
    hm_hash32_t *txids = NULL;
    size_t reaped = 0;
    /* every tx reaped was verified on admission (exactly these bytes): the
     * core is handed their txids and checks none of them again */
    if (mempool_reap(r->o.mempool, r->o.pbft.max_block_txs, replica_max_tx_bytes(r), &txs,
                     &txids, &reaped) != HM_OK)
        reaped = 0; /* out of memory: propose an empty block rather than stall */
    size_t n = reaped;
    const uint8_t **ptrs = n ? calloc(n, sizeof *ptrs) : NULL;
    size_t *lens = n ? calloc(n, sizeof *lens) : NULL;
    if (n && (!ptrs || !lens))
        n = 0;
    for (size_t i = 0; i < n; i++) {
        ptrs[i] = txs[i].data;
        lens[i] = txs[i].len;
    }
    pbft_reason_t why = pbft_propose(r->core, &r->out, now_ms(), height, view,
                                     (const uint8_t *const *)ptrs, lens, txids, n);
    if (why != PBFT_OK)
        HM_LOG_DEBUG("replica", "proposal for %llu not taken: %s", (unsigned long long)height,
                     pbft_reason_name(why));
    free(ptrs);
    free(lens);
    mempool_reap_free(txs, txids, reaped);
}

static void replica_build_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    node_replica_t *r = arg;
    if (r->failed)
        return;
    replica_build_now(r, r->build_height, r->build_view);
    replica_flush(r);
}

static void replica_build(node_replica_t *r, uint64_t height, uint64_t view)
{
    if (mempool_count(r->o.mempool) > 0 || !r->build_ev) {
        if (r->build_ev)
            evtimer_del(r->build_ev);
        replica_build_now(r, height, view);
        return;
    }
    uint64_t ms = r->o.pbft.batch_delay_ms ? r->o.pbft.batch_delay_ms : 1;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    r->build_height = height;
    r->build_view = view;
    evtimer_add(r->build_ev, &tv);
}

/* Tell every peer, full nodes included, the new height at once: full nodes
 * get no consensus traffic and would otherwise wait for a keepalive to
 * learn there is something to fetch. */
static void replica_announce(node_replica_t *r, const chain_tip_t *tip, uint64_t view)
{
    Hallmark__Status s = HALLMARK__STATUS__INIT;
    s.height = tip->height;
    s.view = view;
    s.last_block_hash = (ProtobufCBinaryData){32, (uint8_t *)tip->last_hash};
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_STATUS;
    env.status = &s;
    size_t sent = 0;
    if (p2p_broadcast(r->o.p2p, &env, false, &sent) != HM_OK)
        HM_LOG_DEBUG("replica", "status broadcast failed");
}

static void replica_commit(node_replica_t *r, const uint8_t *data, size_t len)
{
    Hallmark__CertifiedBlock *cb = NULL;
    hm_block_t *b = NULL;
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    hm_hash32_t *ids = NULL;
    bool *unseen = NULL;
    int rc = hm_decode_certified_block(&cb, data, len);
    if (rc == HM_OK && !cb->cert)
        rc = HM_ERR_INVALID;
    if (rc == HM_OK)
        rc = hm_block_decode(&b, cb->block.data, cb->block.len);
    if (rc == HM_OK)
        rc = hm_codec_encode(&cert, &cert_len, &cb->cert->base);
    /* A tx in the mempool is not on the ledger (checked on admission; each
     * commit removes its txids): the chain need not look it up. */
    if (rc == HM_OK && hm_block_txids(&ids, b->block) == HM_OK && ids &&
        (unseen = calloc(b->block->n_txs, sizeof *unseen)) != NULL)
        for (size_t i = 0; i < b->block->n_txs; i++)
            unseen[i] = mempool_contains(r->o.mempool, ids[i]);
    if (rc == HM_OK)
        rc = chain_commit_block(r->o.chain, b, cb->block.data, cb->block.len, cert, cert_len,
                                unseen, NULL);
    if (rc != HM_OK) {
        replica_fail(r, "committing a certified block failed", rc);
        goto done;
    }
    const chain_tip_t *tip = chain_tip(r->o.chain);
    if (ids)
        mempool_remove(r->o.mempool, (const hm_hash32_t *)ids, b->block->n_txs);
    uint64_t t = now_ms();
    if (r->o.m_height)
        metric_set(r->o.m_height, (double)tip->height);
    if (r->o.m_txs_committed)
        metric_inc(r->o.m_txs_committed, b->block->n_txs);
    if (r->o.m_mempool_txs)
        metric_set(r->o.m_mempool_txs, (double)mempool_count(r->o.mempool));
    if (r->o.m_commit_latency && t >= b->header->time_ms)
        metric_observe(r->o.m_commit_latency, (double)(t - b->header->time_ms) / 1000.0);
    HM_LOG_DEBUG("replica", "committed height %llu (%zu txs)", (unsigned long long)tip->height,
                 b->block->n_txs);
    replica_prune(r, tip->height);
    pbft_on_executed(r->core, &r->out, t, tip->height, tip->state_root, tip->results_root);
    pbft_status_t st;
    pbft_get_status(r->core, &st);
    p2p_set_status(r->o.p2p, tip->height, st.view, tip->last_hash);
    replica_announce(r, tip, st.view);
    /* A block with txs is followed by one more (empty if nothing is
     * pending): its header certifies the state those txs produced, so
     * records can be proven at the current state (doc/design-notes.md). */
    if (mempool_count(r->o.mempool) > 0)
        replica_signal_work(r, t);
    else
        pbft_on_work(r->core, &r->out, t, b->block->n_txs > 0);
done:
    free(unseen);
    free(ids);
    free(cert);
    hm_block_free(b);
    hm_free_certified_block(cb);
}

/* Carry out the outbox until the core stops producing outputs. Persist
 * outputs of each round are stored (synced) before its sends. */
static void replica_flush(node_replica_t *r)
{
    if (r->flushing)
        return; /* re-entered from an output: the outer loop picks it up */
    r->flushing = true;
    pbft_outbox_t round;
    pbft_outbox_init(&round);
    while (r->out.n > 0 && !r->failed) {
        pbft_outbox_t tmp = round;
        round = r->out;
        r->out = tmp;
        bool votes = false, view_change = false;
        for (size_t i = 0; i < round.n; i++) {
            votes = votes || round.v[i].kind == PBFT_OUT_PERSIST;
            view_change = view_change || (round.v[i].kind == PBFT_OUT_PERSIST &&
                                          round.v[i].rec_kind == PBFT_REC_VIEW);
        }
        if (votes)
            CRASHPOINT("vote-before-persist");
        uint64_t tp = mono_ms();
        int rc = replica_persist(r, &round);
        if (mono_ms() - tp >= REPLICA_SLOW_MS)
            HM_LOG_WARN("replica", "slow: persisting votes took %llu ms",
                        (unsigned long long)(mono_ms() - tp));
        if (rc != HM_OK) {
            replica_fail(r, "persisting votes failed", rc);
            break;
        }
        if (votes)
            CRASHPOINT("persist-before-send");
        if (view_change)
            CRASHPOINT("viewchange-persisted");
        for (size_t i = 0; i < round.n && !r->failed; i++) {
            pbft_out_t *o = &round.v[i];
            uint64_t t0 = mono_ms();
            switch (o->kind) {
            case PBFT_OUT_SEND:
                replica_send(r, o->peer, o->data, o->len);
                break;
            case PBFT_OUT_PERSIST:
                break; /* done above */
            case PBFT_OUT_TIMER_SET:
                replica_set_timer(r, o->timer, o->ms, true);
                break;
            case PBFT_OUT_TIMER_CANCEL:
                replica_set_timer(r, o->timer, 0, false);
                break;
            case PBFT_OUT_COMMIT:
                replica_commit(r, o->data, o->len);
                break;
            case PBFT_OUT_REQUEST:
                replica_request(r, o->peer, o->height, o->to_height);
                break;
            case PBFT_OUT_BUILD:
                replica_build(r, o->height, o->view);
                break;
            }
            uint64_t took = mono_ms() - t0;
            if (took >= REPLICA_SLOW_MS)
                HM_LOG_WARN("replica", "slow: %s took %llu ms", out_kind_name(o->kind),
                            (unsigned long long)took);
        }
        pbft_outbox_clear(&round);
    }
    pbft_outbox_free(&round);
    if (r->failed)
        pbft_outbox_clear(&r->out);
    pbft_status_t st;
    pbft_get_status(r->core, &st);
    if (r->o.m_view)
        metric_set(r->o.m_view, (double)st.view);
    if (r->o.m_view_changes && st.view_changes > r->view_changes_reported) {
        metric_inc(r->o.m_view_changes, st.view_changes - r->view_changes_reported);
        r->view_changes_reported = st.view_changes;
    }
    r->flushing = false;
}

/* ------------------------------------------------------------ serving */

static void replica_serve(node_replica_t *r, const p2p_peer_info_t *peer,
                          const Hallmark__BlockRequest *req)
{
    const chain_tip_t *tip = chain_tip(r->o.chain);
    uint64_t from = req->from_height ? req->from_height : 1;
    uint64_t to = req->to_height < tip->height ? req->to_height : tip->height;
    if (from > to)
        return;
    if (to - from >= REPLICA_SERVE_MAX_BLOCKS)
        to = from + REPLICA_SERVE_MAX_BLOCKS - 1;
    size_t cap = (size_t)(to - from + 1), n = 0, bytes = 0;
    Hallmark__CertifiedBlock *cbs = calloc(cap, sizeof *cbs);
    Hallmark__CertifiedBlock **ptrs = calloc(cap, sizeof *ptrs);
    hm_buf_t *blocks = calloc(cap, sizeof *blocks);
    Hallmark__CommitCertificate **certs = calloc(cap, sizeof *certs);
    if (!cbs || !ptrs || !blocks || !certs)
        goto done;
    for (uint64_t h = from; h <= to; h++) {
        hm_buf_t cert = {0};
        if (chain_block_bytes(r->o.chain, h, &blocks[n]) != HM_OK ||
            chain_cert_bytes(r->o.chain, h, &cert) != HM_OK ||
            hm_decode_commit_cert(&certs[n], cert.data, cert.len) != HM_OK) {
            hm_buf_free(&cert);
            hm_buf_free(&blocks[n]);
            break;
        }
        hm_buf_free(&cert);
        if (n > 0 && bytes + blocks[n].len > REPLICA_SERVE_MAX_BYTES) {
            hm_buf_free(&blocks[n]);
            hm_free_commit_cert(certs[n]);
            certs[n] = NULL;
            break;
        }
        bytes += blocks[n].len;
        hallmark__certified_block__init(&cbs[n]);
        cbs[n].block.data = blocks[n].data;
        cbs[n].block.len = blocks[n].len;
        cbs[n].cert = certs[n];
        ptrs[n] = &cbs[n];
        n++;
    }
    if (n == 0)
        goto done;
    Hallmark__BlockResponse resp = HALLMARK__BLOCK_RESPONSE__INIT;
    resp.blocks = ptrs;
    resp.n_blocks = n;
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_BLOCK_RESPONSE;
    env.block_response = &resp;
    if (p2p_send(r->o.p2p, peer->id, &env) != HM_OK)
        HM_LOG_DEBUG("replica", "could not serve blocks %llu..%llu", (unsigned long long)from,
                     (unsigned long long)(from + n - 1));
done:
    for (size_t i = 0; i < n; i++) {
        hm_buf_free(&blocks[i]);
        hm_free_commit_cert(certs[i]);
    }
    free(cbs);
    free(ptrs);
    free(blocks);
    free(certs);
}

static void replica_take_blocks(node_replica_t *r, const Hallmark__BlockResponse *resp)
{
    for (size_t i = 0; i < resp->n_blocks && !r->failed; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (hm_codec_encode(&bytes, &len, &resp->blocks[i]->base) != HM_OK)
            return;
        CRASHPOINT("catchup-block");
        pbft_reason_t why = pbft_on_certified_block(r->core, &r->out, now_ms(), bytes, len);
        free(bytes);
        if (why != PBFT_OK && why != PBFT_REJ_OLD_HEIGHT)
            HM_LOG_DEBUG("replica", "fetched block refused: %s", pbft_reason_name(why));
        replica_flush(r); /* execute before the next one links to it */
    }
}

/* ---------------------------------------------------------- admission */

/* Mark txs already on the ledger as duplicates and take them back out of
 * the mempool: a committed txid must not be included twice, and
 * replica_commit counts on no mempool entry being on the ledger. A tx
 * whose index lookup fails cannot be vouched for and is refused for now
 * (mempool_full: try again). */
static void replica_drop_committed(node_replica_t *r, mempool_result_t *results, size_t n)
{
    hm_hash32_t *gone = NULL;
    size_t ngone = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t h;
        uint32_t idx;
        if (results[i].verdict != MEMPOOL_ADMITTED)
            continue;
        int rc = chain_tx_location(r->o.chain, results[i].txid, &h, &idx);
        if (rc == HM_ERR_NOT_FOUND)
            continue;
        if (rc != HM_OK)
            HM_LOG_WARN("replica", "tx index lookup failed (%s): tx refused for now",
                        hm_strerror(rc));
        results[i].verdict = rc == HM_OK ? MEMPOOL_DUPLICATE : MEMPOOL_FULL;
        hm_hash32_t *p = realloc(gone, (ngone + 1) * sizeof *p);
        if (!p) {
            mempool_remove(r->o.mempool, (const hm_hash32_t *)results[i].txid, 1);
            continue;
        }
        gone = p;
        memcpy(gone[ngone++], results[i].txid, 32);
    }
    mempool_remove(r->o.mempool, (const hm_hash32_t *)gone, ngone);
    free(gone);
    if (r->o.m_mempool_txs)
        metric_set(r->o.m_mempool_txs, (double)mempool_count(r->o.mempool));
}

static int replica_admit(node_replica_t *r, const ProtobufCBinaryData *txs, size_t n,
                         mempool_result_t *results)
{
    int rc = mempool_add(r->o.mempool, txs, n, results);
    if (rc == HM_OK)
        replica_drop_committed(r, results, n);
    return rc;
}

static void replica_work_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    node_replica_t *r = arg;
    if (r->failed || mempool_count(r->o.mempool) == 0)
        return;
    replica_signal_work(r, now_ms());
    replica_flush(r);
}

/* Tell the core about new mempool txs at the next loop pass (a zero
 * timer: the pass's socket writes, replies included, run before it). */
static void replica_defer_work(node_replica_t *r)
{
    static const struct timeval now = {0, 0};
    if (r->failed || evtimer_pending(r->work_ev, NULL))
        return;
    if (evtimer_add(r->work_ev, &now) != 0) {
        replica_signal_work(r, now_ms()); /* cannot defer: tell it now */
        replica_flush(r);
    }
}

/* Relay the admitted ones of txs to every validator and tell the core
 * (replica_defer_work). */
static void replica_relay(node_replica_t *r, const ProtobufCBinaryData *txs,
                          const mempool_result_t *results, size_t n)
{
    size_t k = 0;
    ProtobufCBinaryData *relay = n ? calloc(n, sizeof *relay) : NULL;
    for (size_t i = 0; relay && i < n; i++)
        if (results[i].verdict == MEMPOOL_ADMITTED)
            relay[k++] = txs[i];
    if (k) {
        Hallmark__TxBatch batch = HALLMARK__TX_BATCH__INIT;
        batch.txs = relay;
        batch.n_txs = k;
        Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
        env.msg_case = HALLMARK__ENVELOPE__MSG_TX_BATCH;
        env.tx_batch = &batch;
        size_t sent = 0;
        if (p2p_broadcast(r->o.p2p, &env, true, &sent) != HM_OK)
            HM_LOG_DEBUG("replica", "tx relay failed");
        replica_defer_work(r);
    }
    free(relay);
}

int replica_submit(node_replica_t *r, const ProtobufCBinaryData *txs, size_t n,
                   mempool_result_t *results)
{
    int rc = replica_admit(r, txs, n, results);
    if (rc == HM_OK)
        replica_relay(r, txs, results, n);
    return rc;
}

struct async_submit {
    node_replica_t *r;
    replica_submit_done_fn done;
    replica_submit_drop_fn drop;
    void *arg;
};

static void async_done(void *arg, const ProtobufCBinaryData *txs, const mempool_checked_t *checked,
                       size_t n)
{
    struct async_submit *a = arg;
    node_replica_t *r = a->r;
    mempool_result_t *results = calloc(n ? n : 1, sizeof *results);
    int rc = results ? mempool_add_checked(r->o.mempool, txs, n, checked, results)
                     : HM_ERR_NOMEM;
    if (rc == HM_OK) {
        replica_drop_committed(r, results, n);
        replica_relay(r, txs, results, n);
    }
    a->done(a->arg, rc == HM_OK ? results : NULL, n, rc);
    free(results);
    free(a);
}

static void async_drop(void *arg)
{
    struct async_submit *a = arg;
    if (a->drop)
        a->drop(a->arg);
    free(a);
}

int replica_submit_async(node_replica_t *r, const ProtobufCBinaryData *txs, size_t n,
                         replica_submit_done_fn done, replica_submit_drop_fn drop, void *arg)
{
    struct async_submit *a = calloc(1, sizeof *a);
    if (!a)
        return HM_ERR_NOMEM;
    *a = (struct async_submit){r, done, drop, arg};
    int rc = verifier_submit(r->verifier, txs, n, async_done, async_drop, a);
    if (rc != HM_OK)
        free(a);
    return rc;
}

static void replica_verifier_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    node_replica_t *r = arg;
    verifier_collect(r->verifier);
}

/* ------------------------------------------------------------- inputs */

void replica_on_envelope(node_replica_t *r, const p2p_peer_info_t *peer,
                         const Hallmark__Envelope *env, const uint8_t *bytes, size_t len)
{
    if (r->failed)
        return;
    byz_on_recv(r->byz, peer->validator_index, bytes, len);
    switch (env->msg_case) {
    case HALLMARK__ENVELOPE__MSG_PREPREPARE:
    case HALLMARK__ENVELOPE__MSG_VOTE:
    case HALLMARK__ENVELOPE__MSG_VIEW_CHANGE:
    case HALLMARK__ENVELOPE__MSG_NEW_VIEW:
    case HALLMARK__ENVELOPE__MSG_STATUS: {
        pbft_reason_t why =
            pbft_on_message(r->core, &r->out, now_ms(), peer->validator_index, bytes, len);
        if (why != PBFT_OK && why != PBFT_REJ_DUPLICATE && why != PBFT_REJ_OLD_HEIGHT)
            HM_LOG_TRACE("replica", "message from peer %llu ignored: %s",
                         (unsigned long long)peer->id, pbft_reason_name(why));
        break;
    }
    case HALLMARK__ENVELOPE__MSG_BLOCK_REQUEST:
        replica_serve(r, peer, env->block_request);
        break;
    case HALLMARK__ENVELOPE__MSG_BLOCK_RESPONSE:
        replica_take_blocks(r, env->block_response);
        break;
    case HALLMARK__ENVELOPE__MSG_TX_BATCH: {
        size_t n = env->tx_batch->n_txs;
        mempool_result_t *res = n ? calloc(n, sizeof *res) : NULL;
        if (res && replica_admit(r, env->tx_batch->txs, n, res) == HM_OK &&
            mempool_count(r->o.mempool) > 0)
            replica_defer_work(r);
        free(res);
        break;
    }
    default:
        break;
    }
    replica_flush(r);
}

void replica_on_peer(node_replica_t *r, const p2p_peer_info_t *peer, bool connected)
{
    int v = peer->validator_index;
    if (v < 0 || (size_t)v >= r->o.pbft.vs->n)
        return;
    if (connected)
        r->peer_of[v] = peer->id;
    else if (r->peer_of[v] == peer->id)
        r->peer_of[v] = 0;
}

/* ---------------------------------------------------------- lifecycle */

static int replica_committed_bytes(node_replica_t *r, uint8_t **out, size_t *len)
{
    const chain_tip_t *tip = chain_tip(r->o.chain);
    *out = NULL;
    *len = 0;
    if (tip->height == 0)
        return HM_OK;
    hm_buf_t block = {0}, cert = {0};
    Hallmark__CommitCertificate *cc = NULL;
    int rc = chain_block_bytes(r->o.chain, tip->height, &block);
    if (rc == HM_OK)
        rc = chain_cert_bytes(r->o.chain, tip->height, &cert);
    if (rc == HM_OK)
        rc = hm_decode_commit_cert(&cc, cert.data, cert.len);
    if (rc == HM_OK) {
        Hallmark__CertifiedBlock cb = HALLMARK__CERTIFIED_BLOCK__INIT;
        cb.block.data = block.data;
        cb.block.len = block.len;
        cb.cert = cc;
        rc = hm_codec_encode(out, len, &cb.base);
    }
    hm_free_commit_cert(cc);
    hm_buf_free(&block);
    hm_buf_free(&cert);
    return rc;
}

static void replica_verify_txs(void *arg, bool *ok, const uint8_t chain_id[32],
                               const uint8_t *const *txs, const size_t *lens, size_t n)
{
    node_replica_t *r = arg;
    (void)chain_id; /* the mempool's, from the same genesis */
    mempool_verify(r->o.mempool, ok, txs, lens, n);
}

int replica_new(node_replica_t **out, const replica_options_t *opt)
{
    node_replica_t *r = calloc(1, sizeof *r);
    if (!r)
        return HM_ERR_NOMEM;
    r->o = *opt;
    if (!r->o.pbft.verify_txs) {
        /* verify each proposed tx once per node: the mempool knows which
         * it admitted (verified), the rest go over the worker pool */
        r->o.pbft.verify_txs = replica_verify_txs;
        r->o.pbft.verify_arg = r;
    }
    pbft_outbox_init(&r->out);
    int *kinds = NULL;
    uint8_t **datas = NULL;
    size_t *lens = NULL, nrec = 0;
    uint8_t *committed = NULL;
    size_t committed_len = 0;
    int rc = pbft_new(&r->core, &r->o.pbft);
    if (rc != HM_OK)
        goto done;
    for (int id = 1; id < REPLICA_TIMERS; id++) {
        r->timers[id].r = r;
        r->timers[id].id = id;
        r->timers[id].ev = evtimer_new(r->o.base, replica_timer_cb, &r->timers[id]);
        if (!r->timers[id].ev) {
            rc = HM_ERR_NOMEM;
            goto done;
        }
    }
    r->build_ev = evtimer_new(r->o.base, replica_build_timer_cb, r);
    r->work_ev = evtimer_new(r->o.base, replica_work_cb, r);
    if (!r->build_ev || !r->work_ev) {
        rc = HM_ERR_NOMEM;
        goto done;
    }
    if ((rc = verifier_new(&r->verifier, r->o.pbft.chain_id, 0, 0)) != HM_OK)
        goto done;
    r->verifier_ev = event_new(r->o.base, verifier_fd(r->verifier), EV_READ | EV_PERSIST,
                               replica_verifier_cb, r);
    if (!r->verifier_ev || event_add(r->verifier_ev, NULL) != 0) {
        rc = HM_ERR_NOMEM;
        goto done;
    }
    byz_options_t bo = {r->o.base, r->o.p2p, r->core, r->o.chain, r->o.pbft.vs,
                        r->o.pbft.seckey, {0}, r->peer_of};
    memcpy(bo.chain_id, r->o.pbft.chain_id, 32);
    rc = byz_new(&r->byz, &bo);
    if (rc == HM_OK)
        rc = replica_load_records(r, &kinds, &datas, &lens, &nrec);
    if (rc == HM_OK)
        rc = replica_committed_bytes(r, &committed, &committed_len);
    if (rc != HM_OK)
        goto done;
    uint64_t t = now_ms();
    rc = pbft_start(r->core, &r->out, t, committed, committed_len, kinds,
                    (const uint8_t *const *)datas, lens, nrec);
    if (rc != HM_OK)
        goto done;
    const chain_tip_t *tip = chain_tip(r->o.chain);
    pbft_on_executed(r->core, &r->out, t, tip->height, tip->state_root, tip->results_root);
    if (r->o.m_height)
        metric_set(r->o.m_height, (double)tip->height);
    HM_LOG_INFO("replica", "restored at height %llu with %zu persisted consensus records",
                (unsigned long long)tip->height, nrec);
done:
    for (size_t i = 0; datas && i < nrec; i++)
        free(datas[i]);
    free(datas);
    free(kinds);
    free(lens);
    free(committed);
    if (rc == HM_OK) {
        *out = r;
    } else {
        HM_LOG_ERR("replica", "cannot start the consensus core: %s", hm_strerror(rc));
        replica_free(r);
    }
    return rc;
}

int replica_start(node_replica_t *r)
{
    r->started = true;
    const chain_tip_t *tip = chain_tip(r->o.chain);
    pbft_status_t st;
    pbft_get_status(r->core, &st);
    p2p_set_status(r->o.p2p, tip->height, st.view, tip->last_hash);
    replica_flush(r);
    return r->failed ? HM_ERR_IO : HM_OK;
}

void replica_free(node_replica_t *r)
{
    if (!r)
        return;
    for (int id = 1; id < REPLICA_TIMERS; id++)
        if (r->timers[id].ev)
            event_free(r->timers[id].ev);
    if (r->build_ev)
        event_free(r->build_ev);
    if (r->work_ev)
        event_free(r->work_ev);
    if (r->verifier_ev)
        event_free(r->verifier_ev);
    verifier_free(r->verifier); /* batches not collected go to their drop */
    byz_free(r->byz);
    pbft_free(&r->core);
    pbft_outbox_free(&r->out);
    free(r->recs);
    free(r);
}

void replica_status(const node_replica_t *r, pbft_status_t *out)
{
    pbft_get_status(r->core, out);
}

bool replica_failed(const node_replica_t *r)
{
    return r->failed;
}
