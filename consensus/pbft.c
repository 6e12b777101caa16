/* consensus/pbft — the PBFT replica core; see pbft.h for the contract and
 * doc/consensus.md for the protocol as built. Owns one replica's consensus
 * state; must not depend on sockets, disk, clocks, randomness or globals.
 *
 * Shape of the state: the committed tip (height, hash, time, certificate),
 * the executed tip (roots the next header carries), the view, and for the
 * one height in flight H = height + 1: the accepted pre-prepare, what this
 * replica signed (per phase, highest view), its highest prepared
 * certificate, a bounded vote pool (per-validator slots, so a Byzantine
 * validator can only evict its own votes), the latest view-change of each
 * validator, and a small cache of candidate blocks. */
#include "consensus/pbft.h"

#include <stdlib.h>
#include <string.h>

#include "consensus/cert.h"
#include "consensus/vote.h"
#include "lib/block.h"
#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/tx.h"

#define POOL_PER_VAL 8u   /* vote slots per validator */
#define BLK_CACHE 4u      /* candidate blocks kept for the height in flight */
#define VIEW_WINDOW 64u   /* votes accepted up to this many views ahead/behind */
#define VIEW_MAX (UINT64_MAX / 4)
#define MAX_TIMEOUT_SHIFT 4u
#define CATCHUP_FINAL_DIV 8u /* retry a block proven final this much sooner */

typedef struct {
    bool used;
    uint8_t phase;
    uint64_t view, height;
    uint8_t digest[32];
    uint8_t sig[64];
} vote_ent_t;

typedef struct {
    bool used;
    uint8_t digest[32];
    uint8_t *bytes;
    size_t len;
} blk_ent_t;

typedef struct {
    bool have;
    uint64_t view;   /* new_view */
    uint64_t height; /* committed_height + 1 */
    uint8_t *bytes;  /* ViewChange message bytes (body + signature) */
    size_t len;
    bool has_prep;
    uint64_t prep_view;
} vc_ent_t;

typedef struct {
    bool have;
    uint64_t view;
    uint8_t digest[32];
} signed_t;

struct pbft {
    pbft_config_t cfg;
    const valset_t *vs;
    uint8_t sk[32];
    int me;
    size_t n, f, q;
    bool started;
    uint64_t now; /* time of the current input */

    /* committed tip */
    uint64_t height;
    uint8_t last_hash[32];
    uint64_t last_time;
    uint8_t *last_cert;
    size_t last_cert_len;
    uint64_t last_cert_view;

    /* executed tip */
    bool exec_known;
    uint64_t exec_height;
    uint8_t state_root[32], results_root[32];

    /* view */
    uint64_t view, stable_view;
    uint64_t hv; /* view the height in flight started in */
    bool in_vc;
    uint32_t vc_count;
    uint64_t view_changes;
    bool work;

    /* height in flight: H = height + 1 */
    bool pp_have;
    uint64_t pp_view;
    uint8_t pp_digest[32];
    signed_t sv[4]; /* by phase */
    bool prep_have;
    uint64_t prep_view;
    uint8_t prep_digest[32];
    uint8_t *prep_bytes; /* PreparedCertificate */
    size_t prep_len;
    bool nv_sent;
    uint64_t nv_view;
    bool build_pending, build_nv;
    uint64_t build_view;
    bool batch_armed, batch_ready;
    bool vt_on; /* view timer armed */
    uint8_t pp_sig[64];
    uint8_t *rtx[4]; /* envelopes to retransmit: proposal, prepare, commit, view-change */
    size_t rtx_len[4];
    uint8_t *stash; /* a proposal waiting for execution of its parent, or */
    size_t stash_len; /* one for the next height, come while we finish this one */
    int stash_from;
    uint64_t stash_height;

    vote_ent_t *pool;
    blk_ent_t blocks[BLK_CACHE];
    unsigned blk_next;
    vc_ent_t *vcs;

    bool catchup_out;
    uint64_t catchup_target;
    int catchup_peer;
    uint64_t catchup_final; /* last height fetched at once because a quorum proved it final */
};

enum { RTX_PROP = 0, RTX_PREPARE = 1, RTX_COMMIT = 2, RTX_VC = 3 };

/* ------------------------------------------------------------------ outbox */

void pbft_outbox_init(pbft_outbox_t *o)
{
    memset(o, 0, sizeof *o);
}

void pbft_outbox_clear(pbft_outbox_t *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->v[i].data);
    o->n = 0;
}

void pbft_outbox_free(pbft_outbox_t *o)
{
    pbft_outbox_clear(o);
    free(o->v);
    memset(o, 0, sizeof *o);
}

static pbft_out_t *push(pbft_outbox_t *o, pbft_out_kind_t kind)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        pbft_out_t *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return NULL;
        o->v = v;
        o->cap = cap;
    }
    pbft_out_t *e = &o->v[o->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    return e;
}

/* Push an output owning a copy of data. */
static int push_data(pbft_outbox_t *o, pbft_out_kind_t kind, const uint8_t *data, size_t len,
                     pbft_out_t **outp)
{
    uint8_t *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy)
            return HM_ERR_NOMEM;
        memcpy(copy, data, len);
    }
    pbft_out_t *e = push(o, kind);
    if (!e) {
        free(copy);
        return HM_ERR_NOMEM;
    }
    e->data = copy;
    e->len = len;
    if (outp)
        *outp = e;
    return HM_OK;
}

static void timer_set(pbft_outbox_t *o, int id, uint64_t ms)
{
    pbft_out_t *e = push(o, PBFT_OUT_TIMER_SET);
    if (e) {
        e->timer = id;
        e->ms = ms;
    }
}

static void timer_cancel(pbft_outbox_t *o, int id)
{
    pbft_out_t *e = push(o, PBFT_OUT_TIMER_CANCEL);
    if (e)
        e->timer = id;
}

static int send_bytes(pbft_outbox_t *o, int peer, const uint8_t *data, size_t len)
{
    pbft_out_t *e = NULL;
    int rc = push_data(o, PBFT_OUT_SEND, data, len, &e);
    if (rc == HM_OK)
        e->peer = peer;
    return rc;
}

/* ----------------------------------------------------------------- helpers */

const char *pbft_reason_name(pbft_reason_t r)
{
    static const char *const names[] = {
        "PBFT_OK", "PBFT_REJ_DECODE", "PBFT_REJ_NOT_CONSENSUS", "PBFT_REJ_CHAIN",
        "PBFT_REJ_PHASE", "PBFT_REJ_SENDER", "PBFT_REJ_SIGNATURE", "PBFT_REJ_DIGEST",
        "PBFT_REJ_OLD_HEIGHT", "PBFT_REJ_FUTURE_HEIGHT", "PBFT_REJ_OLD_VIEW",
        "PBFT_REJ_FUTURE_VIEW", "PBFT_REJ_NOT_PRIMARY", "PBFT_REJ_DUPLICATE",
        "PBFT_REJ_CONFLICT", "PBFT_REJ_NOT_EXECUTED", "PBFT_REJ_IN_VIEW_CHANGE",
        "PBFT_REJ_BLOCK", "PBFT_REJ_BLOCK_SIZE", "PBFT_REJ_HEADER_HEIGHT",
        "PBFT_REJ_HEADER_PREV", "PBFT_REJ_HEADER_STATE", "PBFT_REJ_HEADER_RESULTS",
        "PBFT_REJ_HEADER_VALSET", "PBFT_REJ_HEADER_VIEW", "PBFT_REJ_HEADER_PROPOSER",
        "PBFT_REJ_TIME_OLD", "PBFT_REJ_TIME_FUTURE", "PBFT_REJ_TX_ROOT",
        "PBFT_REJ_TX_INVALID", "PBFT_REJ_VC_COMMITTED", "PBFT_REJ_VC_PREPARED",
        "PBFT_REJ_NV_VIEW_CHANGE", "PBFT_REJ_NV_TOO_FEW", "PBFT_REJ_NV_PROPOSAL",
        "PBFT_REJ_CERT", "PBFT_REJ_STATE",
    };
    if ((unsigned)r < sizeof names / sizeof names[0])
        return names[r];
    return "PBFT_REJ_?";
}

void pbft_verify_txs_serial(void *arg, bool *ok, const uint8_t chain_id[32],
                            const uint8_t *const *txs, const size_t *lens, size_t n)
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        hm_tx_t *t = NULL;
        ok[i] = hm_tx_decode_verify(&t, txs[i], lens[i], chain_id) == HM_OK;
        hm_tx_free(t);
    }
}

/* Run the configured verifier over n txs. Out: *ok (caller frees). */
static int verify_txs(const pbft_t *p, bool **ok, const uint8_t *const *txs, const size_t *lens,
                      size_t n)
{
    *ok = calloc(n ? n : 1, sizeof **ok);
    if (!*ok)
        return HM_ERR_NOMEM;
    if (n == 0)
        return HM_OK;
    if (p->cfg.verify_txs)
        p->cfg.verify_txs(p->cfg.verify_arg, *ok, p->cfg.chain_id, txs, lens, n);
    else
        pbft_verify_txs_serial(NULL, *ok, p->cfg.chain_id, txs, lens, n);
    return HM_OK;
}

void pbft_config_default(pbft_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->view_timeout_ms = 2000;
    cfg->status_interval_ms = 1000;
    cfg->batch_delay_ms = 0;
    cfg->catchup_timeout_ms = 2000;
    cfg->max_clock_skew_ms = 10000;
    cfg->max_block_bytes = HM_MAX_BLOCK_BYTES;
    cfg->max_block_txs = 10000;
}

static bool is_primary(const pbft_t *p, uint64_t view)
{
    return p->me >= 0 && valset_primary(p->vs, view) == (size_t)p->me;
}

static uint64_t inflight(const pbft_t *p)
{
    return p->height + 1;
}

static void set_bytes(uint8_t **dst, size_t *dlen, const uint8_t *src, size_t len)
{
    free(*dst);
    *dst = NULL;
    *dlen = 0;
    if (!src || !len)
        return;
    *dst = malloc(len);
    if (*dst) {
        memcpy(*dst, src, len);
        *dlen = len;
    }
}

static bool bin32(const ProtobufCBinaryData *b)
{
    return b->len == 32 && b->data;
}

/* A Vote message's shape: 32-byte digest and validator, 64-byte signature. */
static bool vote_shape_ok(const Hallmark__Vote *v)
{
    return v && bin32(&v->digest) && bin32(&v->validator) && v->signature.len == 64 &&
           v->signature.data;
}

static int encode_env(uint8_t **out, size_t *len, Hallmark__Envelope *env)
{
    return hm_codec_encode(out, len, &env->base);
}

/* ------------------------------------------------------------------ blocks */

static blk_ent_t *blk_find(pbft_t *p, const uint8_t digest[32])
{
    for (unsigned i = 0; i < BLK_CACHE; i++)
        if (p->blocks[i].used && memcmp(p->blocks[i].digest, digest, 32) == 0)
            return &p->blocks[i];
    return NULL;
}

static void blk_put(pbft_t *p, const uint8_t digest[32], const uint8_t *bytes, size_t len)
{
    if (blk_find(p, digest))
        return;
    blk_ent_t *b = &p->blocks[p->blk_next];
    p->blk_next = (p->blk_next + 1) % BLK_CACHE;
    free(b->bytes);
    memset(b, 0, sizeof *b);
    b->bytes = malloc(len ? len : 1);
    if (!b->bytes)
        return;
    memcpy(b->bytes, bytes, len);
    b->len = len;
    memcpy(b->digest, digest, 32);
    b->used = true;
}

static void blk_clear(pbft_t *p)
{
    for (unsigned i = 0; i < BLK_CACHE; i++) {
        free(p->blocks[i].bytes);
        memset(&p->blocks[i], 0, sizeof p->blocks[i]);
    }
}

/* Check a proposed block for the height in flight. vote_view: view of the
 * pre-prepare; fresh: proposed in vote_view (else a re-proposal from an
 * earlier view). */
static pbft_reason_t check_block(pbft_t *p, const uint8_t *bytes, size_t len, uint64_t vote_view,
                                 bool fresh, const uint8_t digest[32])
{
    pbft_reason_t why = PBFT_REJ_BLOCK_SIZE;
    hm_block_t *b = NULL;
    const uint8_t **ptrs = NULL;
    size_t *lens = NULL;
    bool *ok = NULL;
    if (len > p->cfg.max_block_bytes)
        goto done;
    why = PBFT_REJ_BLOCK;
    if (hm_block_decode(&b, bytes, len) != HM_OK)
        goto done;
    const Hallmark__Header *h = b->header;
    why = PBFT_REJ_DIGEST;
    if (memcmp(b->hash, digest, 32) != 0)
        goto done;
    why = PBFT_REJ_BLOCK_SIZE;
    if (b->block->n_txs > p->cfg.max_block_txs)
        goto done;
    why = PBFT_REJ_CHAIN;
    if (memcmp(h->chain_id.data, p->cfg.chain_id, 32) != 0)
        goto done;
    why = PBFT_REJ_HEADER_HEIGHT;
    if (h->height != inflight(p))
        goto done;
    why = PBFT_REJ_HEADER_PREV;
    if (memcmp(h->prev_hash.data, p->last_hash, 32) != 0)
        goto done;
    why = PBFT_REJ_HEADER_STATE;
    if (memcmp(h->state_root.data, p->state_root, 32) != 0)
        goto done;
    why = PBFT_REJ_HEADER_RESULTS;
    if (memcmp(h->results_root.data, p->results_root, 32) != 0)
        goto done;
    why = PBFT_REJ_HEADER_VALSET;
    if (memcmp(h->validator_set_hash.data, p->vs->hash, 32) != 0)
        goto done;
    why = PBFT_REJ_HEADER_VIEW;
    if (fresh ? h->view != vote_view : h->view > vote_view)
        goto done;
    why = PBFT_REJ_HEADER_PROPOSER;
    if (memcmp(h->proposer.data, p->vs->pks[valset_primary(p->vs, h->view)], 32) != 0)
        goto done;
    why = PBFT_REJ_TIME_OLD;
    if (h->time_ms <= p->last_time)
        goto done;
    why = PBFT_REJ_TIME_FUTURE;
    uint64_t limit;
    if (!hm_add_u64(&limit, p->now, p->cfg.max_clock_skew_ms))
        limit = UINT64_MAX;
    if (h->time_ms > limit)
        goto done;
    why = PBFT_REJ_TX_ROOT;
    if (hm_block_check_tx_root(b) != HM_OK)
        goto done;
    why = PBFT_REJ_TX_INVALID;
    size_t n = b->block->n_txs;
    ptrs = calloc(n ? n : 1, sizeof *ptrs);
    lens = calloc(n ? n : 1, sizeof *lens);
    if (!ptrs || !lens)
        goto done; /* out of memory: refuse, the view change retries */
    for (size_t i = 0; i < n; i++) {
        ptrs[i] = b->block->txs[i].data;
        lens[i] = b->block->txs[i].len;
    }
    if (verify_txs(p, &ok, ptrs, lens, n) != HM_OK)
        goto done;
    for (size_t i = 0; i < n; i++)
        if (!ok[i])
            goto done;
    why = PBFT_OK;
done:
    free(ptrs);
    free(lens);
    free(ok);
    hm_block_free(b);
    return why;
}

/* -------------------------------------------------------------- vote pool */

static vote_ent_t *pool_slots(pbft_t *p, int vi)
{
    return &p->pool[(size_t)vi * POOL_PER_VAL];
}

static vote_ent_t *pool_find(pbft_t *p, int vi, uint8_t phase, uint64_t view, uint64_t height)
{
    vote_ent_t *s = pool_slots(p, vi);
    for (unsigned i = 0; i < POOL_PER_VAL; i++)
        if (s[i].used && s[i].phase == phase && s[i].view == view && s[i].height == height)
            return &s[i];
    return NULL;
}

static void pool_add(pbft_t *p, int vi, uint8_t phase, uint64_t view, uint64_t height,
                     const uint8_t digest[32], const uint8_t sig[64])
{
    vote_ent_t *s = pool_slots(p, vi), *slot = NULL;
    for (unsigned i = 0; i < POOL_PER_VAL && !slot; i++)
        if (!s[i].used)
            slot = &s[i];
    if (!slot) { /* evict this validator's oldest (height, view) */
        slot = &s[0];
        for (unsigned i = 1; i < POOL_PER_VAL; i++)
            if (s[i].height < slot->height ||
                (s[i].height == slot->height && s[i].view < slot->view))
                slot = &s[i];
    }
    slot->used = true;
    slot->phase = phase;
    slot->view = view;
    slot->height = height;
    memcpy(slot->digest, digest, 32);
    memcpy(slot->sig, sig, 64);
}

static void pool_prune(pbft_t *p)
{
    for (size_t i = 0; i < p->n * POOL_PER_VAL; i++)
        if (p->pool[i].used && p->pool[i].height <= p->height)
            p->pool[i].used = false;
}

/* Validators with a vote (phase, view, H, digest); collects indexes in
 * `who` (n entries) when non-NULL. */
static size_t pool_count(pbft_t *p, uint8_t phase, uint64_t view, const uint8_t digest[32],
                         int skip, int *who)
{
    size_t c = 0;
    for (size_t vi = 0; vi < p->n; vi++) {
        if ((int)vi == skip)
            continue;
        vote_ent_t *e = pool_find(p, (int)vi, phase, view, inflight(p));
        if (e && memcmp(e->digest, digest, 32) == 0) {
            if (who)
                who[c] = (int)vi;
            c++;
        }
    }
    return c;
}

/* -------------------------------------------------------- persist + sign */

static int persist_vote_record(pbft_t *p, pbft_outbox_t *o, int kind, uint64_t view,
                               uint64_t height, uint8_t phase, const uint8_t *digest)
{
    Hallmark__VoteRecord r = HALLMARK__VOTE_RECORD__INIT;
    r.view = view;
    r.height = height;
    r.phase = (Hallmark__VotePhase)phase;
    if (digest) {
        r.digest.data = (uint8_t *)digest;
        r.digest.len = 32;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    pbft_out_t *e = NULL;
    int rc = hm_codec_encode(&bytes, &len, &r.base);
    if (rc == HM_OK)
        rc = push_data(o, PBFT_OUT_PERSIST, bytes, len, &e);
    if (rc == HM_OK)
        e->rec_kind = kind;
    free(bytes);
    return rc;
}

/* Sign (phase, view, H, digest) unless that would contradict what this
 * replica already signed at (view, H, phase); persist the record first.
 * Out: sig. HM_ERR_STATE when refusing to equivocate. */
static int sign_vote(pbft_t *p, pbft_outbox_t *o, uint8_t phase, uint64_t view,
                     const uint8_t digest[32], uint8_t sig[64])
{
    signed_t *s = &p->sv[phase];
    if (p->me < 0)
        return HM_ERR_STATE;
    if (s->have && s->view == view && memcmp(s->digest, digest, 32) != 0)
        return HM_ERR_STATE;
    if (s->have && s->view > view)
        return HM_ERR_STATE;
    int rc = persist_vote_record(p, o, PBFT_REC_VOTE, view, inflight(p), phase, digest);
    if (rc != HM_OK)
        return rc;
    s->have = true;
    s->view = view;
    memcpy(s->digest, digest, 32);
    return pbft_vote_sign(sig, p->sk, p->cfg.chain_id, phase, view, inflight(p), digest,
                          p->cfg.deterministic_sigs);
}

static void fill_vote(Hallmark__Vote *v, uint8_t phase, uint64_t view, uint64_t height,
                      const uint8_t *digest, const uint8_t *pk, const uint8_t *sig)
{
    hallmark__vote__init(v);
    v->phase = (Hallmark__VotePhase)phase;
    v->view = view;
    v->height = height;
    v->digest.data = (uint8_t *)digest;
    v->digest.len = 32;
    v->validator.data = (uint8_t *)pk;
    v->validator.len = 32;
    v->signature.data = (uint8_t *)sig;
    v->signature.len = 64;
}

/* Sign, persist, broadcast a PREPARE or COMMIT for the height in flight. */
static int cast_vote(pbft_t *p, pbft_outbox_t *o, uint8_t phase, uint64_t view,
                     const uint8_t digest[32])
{
    uint8_t sig[64], *env_bytes = NULL;
    size_t env_len = 0;
    int rc = sign_vote(p, o, phase, view, digest, sig);
    if (rc != HM_OK)
        goto done;
    Hallmark__Vote v;
    fill_vote(&v, phase, view, inflight(p), digest, p->vs->pks[p->me], sig);
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_VOTE;
    env.vote = &v;
    rc = encode_env(&env_bytes, &env_len, &env);
    if (rc != HM_OK)
        goto done;
    pool_add(p, p->me, phase, view, inflight(p), digest, sig);
    rc = send_bytes(o, PBFT_PEER_ALL, env_bytes, env_len);
    int slot = phase == PBFT_PHASE_PREPARE ? RTX_PREPARE : RTX_COMMIT;
    set_bytes(&p->rtx[slot], &p->rtx_len[slot], env_bytes, env_len);
done:
    free(env_bytes);
    return rc;
}

/* ----------------------------------------------------------------- timers */

/* Doubling per view above the one this height started in (not per local
 * count): replicas that fell behind in views time out sooner than those
 * ahead, so the honest ones converge on one view instead of drifting. */
static uint64_t view_timeout(const pbft_t *p)
{
    uint64_t d = p->view > p->hv ? p->view - p->hv : 0;
    return p->cfg.view_timeout_ms << (d < MAX_TIMEOUT_SHIFT ? d : MAX_TIMEOUT_SHIFT);
}

/* The view timer runs while there is something to finish: work pending, a
 * proposal in flight, or a view change under way. */
static void arm_view_timer(pbft_t *p, pbft_outbox_t *o, bool force)
{
    if (p->me < 0)
        return;
    if (p->work || p->pp_have || p->in_vc) {
        if (force || !p->vt_on) {
            timer_set(o, PBFT_TIMER_VIEW, view_timeout(p));
            p->vt_on = true;
        }
    } else if (p->vt_on) {
        timer_cancel(o, PBFT_TIMER_VIEW);
        p->vt_on = false;
    }
}

static void request_catchup(pbft_t *p, pbft_outbox_t *o, int peer, uint64_t to)
{
    if (to <= p->height)
        return;
    if (to > p->catchup_target)
        p->catchup_target = to;
    if (p->catchup_out || peer < 0 || (size_t)peer >= p->n || peer == p->me)
        return;
    p->catchup_peer = peer;
    pbft_out_t *e = push(o, PBFT_OUT_REQUEST);
    if (!e)
        return;
    e->peer = peer;
    e->height = p->height + 1;
    e->to_height = p->catchup_target;
    p->catchup_out = true;
    /* a block a commit quorum proved final is held by every signer (the
     * honest ones commit it within a round trip): a request that brought
     * nothing (it came before the peer committed, or the peer lies) is
     * retried soon, at the next validator */
    uint64_t ms = p->cfg.catchup_timeout_ms;
    if (p->catchup_final == inflight(p) && ms / CATCHUP_FINAL_DIV > 0)
        ms /= CATCHUP_FINAL_DIV;
    timer_set(o, PBFT_TIMER_CATCHUP, ms);
}

/* ------------------------------------------------------- commit + advance */

static size_t quorum(const pbft_t *p)
{
    return p->cfg.planted_bug_weak_quorum ? p->q - 1 : p->q;
}

static bool exec_ready(const pbft_t *p)
{
    return p->exec_known && p->exec_height == p->height;
}

static void check_progress(pbft_t *p, pbft_outbox_t *o);
static void maybe_propose(pbft_t *p, pbft_outbox_t *o);
static void check_new_view(pbft_t *p, pbft_outbox_t *o);

static void clear_inflight(pbft_t *p)
{
    p->pp_have = false;
    memset(p->sv, 0, sizeof p->sv);
    p->prep_have = false;
    set_bytes(&p->prep_bytes, &p->prep_len, NULL, 0);
    p->nv_sent = false;
    p->build_pending = false;
    for (int i = 0; i < 4; i++)
        set_bytes(&p->rtx[i], &p->rtx_len[i], NULL, 0);
    blk_clear(p);
}

/* Move the committed tip to the next height. The view of the next height
 * is the highest of the view we were working in and the certificate's; a
 * view change of the finished height is over (view-changes are bound to a
 * height, see doc/consensus.md). */
static void advance(pbft_t *p, pbft_outbox_t *o, const uint8_t hash[32], uint64_t time_ms,
                    const uint8_t *cert, size_t cert_len, uint64_t cert_view)
{
    p->height++;
    memcpy(p->last_hash, hash, 32);
    p->last_time = time_ms;
    set_bytes(&p->last_cert, &p->last_cert_len, cert, cert_len);
    p->last_cert_view = cert_view;
    uint64_t base = p->in_vc ? p->stable_view : p->view;
    p->view = base > cert_view ? base : cert_view;
    p->stable_view = p->view;
    p->hv = p->view;
    p->in_vc = false;
    p->vc_count = 0;
    clear_inflight(p);
    pool_prune(p);
    for (size_t i = 0; i < p->n; i++)
        if (p->vcs[i].have && p->vcs[i].height <= p->height) {
            free(p->vcs[i].bytes);
            memset(&p->vcs[i], 0, sizeof p->vcs[i]);
        }
    if (p->catchup_target <= p->height && p->catchup_out) {
        p->catchup_out = false;
        timer_cancel(o, PBFT_TIMER_CATCHUP);
    }
    if (p->stash_len && p->stash_height <= p->height) { /* for a finished height: dead */
        free(p->stash);
        p->stash = NULL;
        p->stash_len = 0;
    }
    arm_view_timer(p, o, true);
}

/* Emit COMMIT for block bytes + cert (a decoded or freshly built cert). */
static int emit_commit(pbft_t *p, pbft_outbox_t *o, const uint8_t *block, size_t block_len,
                       const uint8_t *cert, size_t cert_len, uint64_t view)
{
    Hallmark__CommitCertificate *c = NULL;
    uint8_t *cb_bytes = NULL;
    size_t cb_len = 0;
    pbft_out_t *e = NULL;
    int rc = hm_decode_commit_cert(&c, cert, cert_len);
    if (rc != HM_OK)
        goto done;
    Hallmark__CertifiedBlock cb = HALLMARK__CERTIFIED_BLOCK__INIT;
    cb.block.data = (uint8_t *)block;
    cb.block.len = block_len;
    cb.cert = c;
    rc = hm_codec_encode(&cb_bytes, &cb_len, &cb.base);
    if (rc != HM_OK)
        goto done;
    rc = push_data(o, PBFT_OUT_COMMIT, cb_bytes, cb_len, &e);
    if (rc != HM_OK)
        goto done;
    e->height = inflight(p);
    e->view = view;
done:
    hm_free_commit_cert(c);
    free(cb_bytes);
    return rc;
}

static uint64_t header_time(const uint8_t *block, size_t len)
{
    hm_block_t *b = NULL;
    uint64_t t = 0;
    if (hm_block_decode(&b, block, len) == HM_OK)
        t = b->header->time_ms;
    hm_block_free(b);
    return t;
}

/* 2f+1 COMMITs for one (view, digest) at the height in flight: final. */
static bool try_commit(pbft_t *p, pbft_outbox_t *o)
{
    uint64_t H = inflight(p);
    for (size_t i = 0; i < p->n * POOL_PER_VAL; i++) {
        const vote_ent_t *c = &p->pool[i];
        if (!c->used || c->phase != PBFT_PHASE_COMMIT || c->height != H)
            continue;
        int who[VALSET_MAX];
        size_t k = pool_count(p, PBFT_PHASE_COMMIT, c->view, c->digest, -1, who);
        if (k < quorum(p))
            continue;
        blk_ent_t *b = blk_find(p, c->digest);
        if (!b) { /* final, but we lack the block: fetch it */
            int peer = who[0] == p->me && k > 1 ? who[1] : who[0];
            /* ask a signer now, once per height, even when a request is
             * out: that one may chase a height a single (Byzantine) peer
             * claimed and would hold this up until the catch-up timeout */
            if (p->catchup_final != H) {
                p->catchup_final = H;
                p->catchup_out = false;
            }
            request_catchup(p, o, peer, H);
            return false;
        }
        uint8_t pks[VALSET_MAX][32], sigs[VALSET_MAX][64];
        for (size_t j = 0; j < k; j++) {
            const vote_ent_t *e = pool_find(p, who[j], PBFT_PHASE_COMMIT, c->view, H);
            memcpy(pks[j], p->vs->pks[who[j]], 32);
            memcpy(sigs[j], e->sig, 64);
        }
        uint8_t *cert = NULL, digest[32];
        size_t cert_len = 0;
        uint64_t view = c->view;
        memcpy(digest, c->digest, 32);
        if (cert_build(&cert, &cert_len, H, view, digest, (const uint8_t(*)[32])pks,
                       (const uint8_t(*)[64])sigs, k) != HM_OK)
            return false;
        uint64_t t = header_time(b->bytes, b->len);
        int rc = emit_commit(p, o, b->bytes, b->len, cert, cert_len, view);
        if (rc == HM_OK)
            advance(p, o, digest, t, cert, cert_len, view);
        free(cert);
        return rc == HM_OK;
    }
    return false;
}

/* Pre-prepare + 2f PREPAREs (2f+1 with it) in the view of the pre-prepare:
 * prepared. Persist the prepared certificate, then COMMIT. */
static void try_prepare(pbft_t *p, pbft_outbox_t *o)
{
    if (!p->pp_have || p->me < 0 || p->in_vc || p->pp_view != p->view)
        return;
    if (p->sv[PBFT_PHASE_COMMIT].have && p->sv[PBFT_PHASE_COMMIT].view >= p->pp_view)
        return;
    int prim = (int)valset_primary(p->vs, p->pp_view);
    int who[VALSET_MAX];
    size_t k = pool_count(p, PBFT_PHASE_PREPARE, p->pp_view, p->pp_digest, prim, who);
    if (k + 1 < quorum(p))
        return;
    blk_ent_t *b = blk_find(p, p->pp_digest);
    if (!b)
        return;
    /* the prepared certificate: pre-prepare + the prepares we hold */
    Hallmark__Vote ppv, *pv = calloc(k ? k : 1, sizeof *pv);
    Hallmark__Vote **pvp = calloc(k ? k : 1, sizeof *pvp);
    uint8_t *bytes = NULL;
    size_t len = 0;
    pbft_out_t *e = NULL;
    if (!pv || !pvp)
        goto done;
    fill_vote(&ppv, PBFT_PHASE_PREPREPARE, p->pp_view, inflight(p), p->pp_digest,
              p->vs->pks[prim], p->pp_sig);
    for (size_t j = 0; j < k; j++) {
        const vote_ent_t *v = pool_find(p, who[j], PBFT_PHASE_PREPARE, p->pp_view, inflight(p));
        fill_vote(&pv[j], PBFT_PHASE_PREPARE, p->pp_view, inflight(p), p->pp_digest,
                  p->vs->pks[who[j]], v->sig);
        pvp[j] = &pv[j];
    }
    Hallmark__PrePrepare pp = HALLMARK__PRE_PREPARE__INIT;
    pp.vote = &ppv;
    pp.block.data = b->bytes;
    pp.block.len = b->len;
    Hallmark__PreparedCertificate pc = HALLMARK__PREPARED_CERTIFICATE__INIT;
    pc.preprepare = &pp;
    pc.n_prepares = k;
    pc.prepares = pvp;
    if (hm_codec_encode(&bytes, &len, &pc.base) != HM_OK)
        goto done;
    if (push_data(o, PBFT_OUT_PERSIST, bytes, len, &e) != HM_OK)
        goto done;
    e->rec_kind = PBFT_REC_PREPARED;
    p->prep_have = true;
    p->prep_view = p->pp_view;
    memcpy(p->prep_digest, p->pp_digest, 32);
    set_bytes(&p->prep_bytes, &p->prep_len, bytes, len);
    (void)cast_vote(p, o, PBFT_PHASE_COMMIT, p->pp_view, p->pp_digest);
done:
    free(bytes);
    free(pv);
    free(pvp);
}

static void check_progress(pbft_t *p, pbft_outbox_t *o)
{
    try_prepare(p, o);
    if (try_commit(p, o)) {
        maybe_propose(p, o);
        /* votes for the new height may already be pooled */
        try_commit(p, o);
    }
}

/* Accept a checked pre-prepare (own or received) for the height in flight. */
static void accept_pp(pbft_t *p, pbft_outbox_t *o, uint64_t view, const uint8_t digest[32],
                      const uint8_t sig[64], const uint8_t *block, size_t len)
{
    p->pp_have = true;
    p->pp_view = view;
    memcpy(p->pp_digest, digest, 32);
    memcpy(p->pp_sig, sig, 64);
    blk_put(p, digest, block, len);
    if (p->me >= 0 && !is_primary(p, view))
        (void)cast_vote(p, o, PBFT_PHASE_PREPARE, view, digest);
    arm_view_timer(p, o, false);
    check_progress(p, o);
}

/* --------------------------------------------------------------- proposal */

static void maybe_propose(pbft_t *p, pbft_outbox_t *o)
{
    if (p->me < 0 || p->in_vc || !is_primary(p, p->view) || p->pp_have || p->build_pending ||
        !exec_ready(p) || !p->work)
        return;
    if (p->sv[PBFT_PHASE_PREPREPARE].have && p->sv[PBFT_PHASE_PREPREPARE].view == p->view)
        return; /* proposed in this view before a restart: never a second block */
    if (p->cfg.batch_delay_ms && !p->batch_ready) {
        if (!p->batch_armed) {
            timer_set(o, PBFT_TIMER_BATCH, p->cfg.batch_delay_ms);
            p->batch_armed = true;
        }
        return;
    }
    pbft_out_t *e = push(o, PBFT_OUT_BUILD);
    if (!e)
        return;
    e->height = inflight(p);
    e->view = p->view;
    p->build_pending = true;
    p->build_nv = false;
    p->build_view = p->view;
    p->batch_ready = false;
}

static int send_new_view(pbft_t *p, pbft_outbox_t *o, Hallmark__PrePrepare *prop);

/* Sign a pre-prepare for (view, H, block) and send it (or the NEW-VIEW
 * carrying it); accept it ourselves. */
static int propose_block(pbft_t *p, pbft_outbox_t *o, const uint8_t *block, size_t len,
                         const uint8_t digest[32], bool as_new_view)
{
    uint8_t sig[64], *env_bytes = NULL;
    size_t env_len = 0;
    int rc = sign_vote(p, o, PBFT_PHASE_PREPREPARE, p->view, digest, sig);
    if (rc != HM_OK)
        goto done;
    Hallmark__Vote v;
    fill_vote(&v, PBFT_PHASE_PREPREPARE, p->view, inflight(p), digest, p->vs->pks[p->me], sig);
    Hallmark__PrePrepare pp = HALLMARK__PRE_PREPARE__INIT;
    pp.vote = &v;
    pp.block.data = (uint8_t *)block;
    pp.block.len = len;
    if (as_new_view) {
        rc = send_new_view(p, o, &pp);
    } else {
        Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
        env.msg_case = HALLMARK__ENVELOPE__MSG_PREPREPARE;
        env.preprepare = &pp;
        rc = encode_env(&env_bytes, &env_len, &env);
        if (rc == HM_OK)
            rc = send_bytes(o, PBFT_PEER_ALL, env_bytes, env_len);
        if (rc == HM_OK)
            set_bytes(&p->rtx[RTX_PROP], &p->rtx_len[RTX_PROP], env_bytes, env_len);
    }
    if (rc == HM_OK)
        accept_pp(p, o, p->view, digest, sig, block, len);
done:
    free(env_bytes);
    return rc;
}

pbft_reason_t pbft_propose(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, uint64_t height,
                           uint64_t view, const uint8_t *const *txs, const size_t *tx_lens,
                           const hm_hash32_t *txids, size_t n_txs)
{
    p->now = now_ms;
    if (!p->build_pending || height != inflight(p) || view != p->build_view ||
        view != p->view || !exec_ready(p))
        return PBFT_REJ_STATE;
    bool as_nv = p->build_nv;
    p->build_pending = false;
    pbft_reason_t why = PBFT_REJ_STATE;
    ProtobufCBinaryData *keep = calloc(n_txs ? n_txs : 1, sizeof *keep);
    hm_hash32_t *ids = calloc(n_txs ? n_txs : 1, sizeof *ids);
    uint8_t *block = NULL, digest[32];
    size_t block_len = 0, n = 0, bytes = 256;
    bool *ok = NULL;
    if (!keep || !ids)
        goto done;
    if (!txids && verify_txs(p, &ok, txs, tx_lens, n_txs) != HM_OK)
        goto done;
    for (size_t i = 0; i < n_txs && n < p->cfg.max_block_txs; i++) {
        if (bytes + tx_lens[i] + 8 > p->cfg.max_block_bytes)
            continue;
        if (txids) { /* verified by the caller */
            memcpy(ids[n], txids[i], 32);
        } else {
            hm_tx_t *t = NULL;
            bool good = ok[i] && hm_tx_decode(&t, txs[i], tx_lens[i]) == HM_OK;
            if (good)
                memcpy(ids[n], t->txid, 32);
            hm_tx_free(t);
            if (!good)
                continue;
        }
        keep[n].data = (uint8_t *)txs[i];
        keep[n].len = tx_lens[i];
        bytes += tx_lens[i] + 8;
        n++;
    }
    uint8_t tx_root[32];
    hm_merkle_root(tx_root, (const hm_hash32_t *)ids, n);
    Hallmark__Header h = HALLMARK__HEADER__INIT;
    h.chain_id.data = p->cfg.chain_id;
    h.chain_id.len = 32;
    h.height = inflight(p);
    h.view = p->view;
    h.time_ms = now_ms > p->last_time ? now_ms : p->last_time + 1;
    h.prev_hash.data = p->last_hash;
    h.prev_hash.len = 32;
    h.tx_root.data = tx_root;
    h.tx_root.len = 32;
    h.results_root.data = p->results_root;
    h.results_root.len = 32;
    h.state_root.data = p->state_root;
    h.state_root.len = 32;
    h.validator_set_hash.data = (uint8_t *)p->vs->hash;
    h.validator_set_hash.len = 32;
    h.proposer.data = p->vs->pks[p->me];
    h.proposer.len = 32;
    if (hm_block_build(&block, &block_len, digest, &h, keep, n) != HM_OK)
        goto done;
    if (propose_block(p, out, block, block_len, digest, as_nv) != HM_OK)
        goto done;
    why = PBFT_OK;
done:
    free(block);
    free(keep);
    free(ids);
    free(ok);
    return why;
}

/* ------------------------------------------------------------ view change */

static int decode_prepared(Hallmark__PreparedCertificate **out, const uint8_t *b, size_t len)
{
    return hm_codec_decode((void **)out, &hallmark__prepared_certificate__descriptor,
                           HM_MAX_BLOCK_BYTES + HM_MAX_RECORD_BYTES, b, len);
}

/* Sign and broadcast our VIEW-CHANGE for view w at the height in flight,
 * and record it in the view-change pool. */
static int make_vc(pbft_t *p, pbft_outbox_t *o, uint64_t w)
{
    Hallmark__CommitCertificate *cc = NULL;
    Hallmark__PreparedCertificate *pc = NULL;
    uint8_t *body = NULL, *vc_bytes = NULL, *env_bytes = NULL;
    size_t body_len = 0, vc_len = 0, env_len = 0;
    int rc = HM_OK;
    if (p->height > 0 && p->last_cert && (rc = hm_decode_commit_cert(&cc, p->last_cert,
                                                                      p->last_cert_len)) != HM_OK)
        goto done;
    if (p->prep_have && (rc = decode_prepared(&pc, p->prep_bytes, p->prep_len)) != HM_OK)
        goto done;
    Hallmark__ViewChangeBody b = HALLMARK__VIEW_CHANGE_BODY__INIT;
    b.chain_id.data = p->cfg.chain_id;
    b.chain_id.len = 32;
    b.validator.data = p->vs->pks[p->me];
    b.validator.len = 32;
    b.new_view = w;
    b.committed_height = p->height;
    b.committed_cert = cc;
    b.prepared = pc;
    if ((rc = hm_codec_encode(&body, &body_len, &b.base)) != HM_OK)
        goto done;
    uint8_t sig[64];
    if ((rc = pbft_body_sign(sig, p->sk, HM_TAG_VIEWCHANGE, body, body_len, p->cfg.deterministic_sigs)) !=
        HM_OK)
        goto done;
    Hallmark__ViewChange vc = HALLMARK__VIEW_CHANGE__INIT;
    vc.body.data = body;
    vc.body.len = body_len;
    vc.signature.data = sig;
    vc.signature.len = 64;
    if ((rc = hm_codec_encode(&vc_bytes, &vc_len, &vc.base)) != HM_OK)
        goto done;
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_VIEW_CHANGE;
    env.view_change = &vc;
    if ((rc = encode_env(&env_bytes, &env_len, &env)) != HM_OK)
        goto done;
    if ((rc = send_bytes(o, PBFT_PEER_ALL, env_bytes, env_len)) != HM_OK)
        goto done;
    set_bytes(&p->rtx[RTX_VC], &p->rtx_len[RTX_VC], env_bytes, env_len);
    vc_ent_t *me = &p->vcs[p->me];
    free(me->bytes);
    memset(me, 0, sizeof *me);
    me->have = true;
    me->view = w;
    me->height = inflight(p);
    me->bytes = vc_bytes;
    me->len = vc_len;
    vc_bytes = NULL;
    me->has_prep = p->prep_have;
    me->prep_view = p->prep_view;
done:
    hm_free_commit_cert(cc);
    hm_codec_free(pc);
    free(body);
    free(vc_bytes);
    free(env_bytes);
    return rc;
}

static void start_view_change(pbft_t *p, pbft_outbox_t *o, uint64_t w)
{
    if (p->me < 0 || w <= p->view || w > VIEW_MAX)
        return;
    if (persist_vote_record(p, o, PBFT_REC_VIEW, w, inflight(p), 0, NULL) != HM_OK)
        return;
    if (!p->in_vc)
        p->stable_view = p->view;
    p->view = w;
    p->in_vc = true;
    p->vc_count++;
    p->view_changes++;
    p->pp_have = false;
    p->build_pending = false;
    p->nv_sent = false;
    set_bytes(&p->rtx[RTX_PROP], &p->rtx_len[RTX_PROP], NULL, 0);
    set_bytes(&p->rtx[RTX_PREPARE], &p->rtx_len[RTX_PREPARE], NULL, 0);
    (void)make_vc(p, o, w);
    arm_view_timer(p, o, true);
    check_new_view(p, o);
}

static int send_new_view(pbft_t *p, pbft_outbox_t *o, Hallmark__PrePrepare *prop)
{
    Hallmark__ViewChange *vcs[VALSET_MAX];
    size_t k = 0;
    uint8_t *body = NULL, *env_bytes = NULL;
    size_t body_len = 0, env_len = 0;
    int rc = HM_OK;
    for (size_t i = 0; i < p->n; i++) {
        const vc_ent_t *e = &p->vcs[i];
        if (!e->have || e->view != p->view || e->height != inflight(p))
            continue;
        if ((rc = hm_codec_decode((void **)&vcs[k], &hallmark__view_change__descriptor,
                                  HM_MAX_FRAME_BYTES, e->bytes, e->len)) != HM_OK)
            goto done;
        k++;
    }
    Hallmark__NewViewBody b = HALLMARK__NEW_VIEW_BODY__INIT;
    b.chain_id.data = p->cfg.chain_id;
    b.chain_id.len = 32;
    b.validator.data = p->vs->pks[p->me];
    b.validator.len = 32;
    b.view = p->view;
    b.n_view_changes = k;
    b.view_changes = vcs;
    b.proposal = prop;
    if ((rc = hm_codec_encode(&body, &body_len, &b.base)) != HM_OK)
        goto done;
    uint8_t sig[64];
    if ((rc = pbft_body_sign(sig, p->sk, HM_TAG_NEWVIEW, body, body_len, p->cfg.deterministic_sigs)) !=
        HM_OK)
        goto done;
    Hallmark__NewView nv = HALLMARK__NEW_VIEW__INIT;
    nv.body.data = body;
    nv.body.len = body_len;
    nv.signature.data = sig;
    nv.signature.len = 64;
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_NEW_VIEW;
    env.new_view = &nv;
    if ((rc = encode_env(&env_bytes, &env_len, &env)) != HM_OK)
        goto done;
    if ((rc = send_bytes(o, PBFT_PEER_ALL, env_bytes, env_len)) != HM_OK)
        goto done;
    set_bytes(&p->rtx[RTX_PROP], &p->rtx_len[RTX_PROP], env_bytes, env_len);
    set_bytes(&p->rtx[RTX_VC], &p->rtx_len[RTX_VC], NULL, 0);
    p->nv_sent = true;
    p->nv_view = p->view;
    p->in_vc = false;
    p->stable_view = p->view;
    arm_view_timer(p, o, true);
done:
    for (size_t i = 0; i < k; i++)
        hm_codec_free(vcs[i]);
    free(body);
    free(env_bytes);
    return rc;
}

/* New primary with 2f+1 view-changes for (view, H): re-propose the block
 * of the highest prepared certificate among them, or ask for a fresh one. */
static void check_new_view(pbft_t *p, pbft_outbox_t *o)
{
    if (p->me < 0 || !p->in_vc || !is_primary(p, p->view) || p->nv_sent || p->build_pending ||
        !exec_ready(p))
        return;
    size_t k = 0;
    int best = -1;
    for (size_t i = 0; i < p->n; i++) {
        const vc_ent_t *e = &p->vcs[i];
        if (!e->have || e->view != p->view || e->height != inflight(p))
            continue;
        k++;
        if (e->has_prep && (best < 0 || e->prep_view > p->vcs[best].prep_view))
            best = (int)i;
    }
    if (k < p->q)
        return;
    if (best < 0) {
        pbft_out_t *e = push(o, PBFT_OUT_BUILD);
        if (!e)
            return;
        e->height = inflight(p);
        e->view = p->view;
        p->build_pending = true;
        p->build_nv = true;
        p->build_view = p->view;
        return;
    }
    Hallmark__ViewChange *vc = NULL;
    Hallmark__ViewChangeBody *body = NULL;
    const vc_ent_t *e = &p->vcs[best];
    if (hm_codec_decode((void **)&vc, &hallmark__view_change__descriptor, HM_MAX_FRAME_BYTES,
                        e->bytes, e->len) == HM_OK &&
        hm_decode_view_change_body(&body, vc->body.data, vc->body.len) == HM_OK &&
        body->prepared && body->prepared->preprepare) {
        const Hallmark__PrePrepare *pp = body->prepared->preprepare;
        (void)propose_block(p, o, pp->block.data, pp->block.len, pp->vote->digest.data, true);
    }
    hm_free_view_change_body(body);
    hm_codec_free(vc);
}

/* --------------------------------------------------------------- handlers */

static void stash_msg(pbft_t *p, int from, const uint8_t *env, size_t len, uint64_t height)
{
    set_bytes(&p->stash, &p->stash_len, env, len);
    p->stash_from = from;
    p->stash_height = height;
}

static pbft_reason_t handle_vote(pbft_t *p, pbft_outbox_t *o, const Hallmark__Vote *v)
{
    if (!vote_shape_ok(v))
        return PBFT_REJ_DECODE;
    if (v->phase != PBFT_PHASE_PREPARE && v->phase != PBFT_PHASE_COMMIT)
        return PBFT_REJ_PHASE;
    int vi = valset_index(p->vs, v->validator.data);
    if (vi < 0)
        return PBFT_REJ_SENDER;
    if (v->height <= p->height)
        return PBFT_REJ_OLD_HEIGHT;
    if (v->view > VIEW_MAX || v->view > p->view + VIEW_WINDOW)
        return PBFT_REJ_FUTURE_VIEW;
    if (v->view + VIEW_WINDOW < p->view ||
        (v->phase == PBFT_PHASE_PREPARE && v->height == inflight(p) && v->view < p->view))
        return PBFT_REJ_OLD_VIEW;
    uint8_t phase = (uint8_t)v->phase;
    vote_ent_t *e = pool_find(p, vi, phase, v->view, v->height);
    if (e && memcmp(e->digest, v->digest.data, 32) == 0)
        return PBFT_REJ_DUPLICATE;
    if (!pbft_vote_verify(v->signature.data, v->validator.data, p->cfg.chain_id, phase, v->view,
                          v->height, v->digest.data))
        return PBFT_REJ_SIGNATURE;
    if (e)
        return PBFT_REJ_CONFLICT; /* equivocation: the first vote stands */
    if (v->height > inflight(p) + 1) {
        request_catchup(p, o, vi, v->height - 1);
        return PBFT_REJ_FUTURE_HEIGHT;
    }
    pool_add(p, vi, phase, v->view, v->height, v->digest.data, v->signature.data);
    if (v->height == inflight(p))
        check_progress(p, o);
    else if (phase == PBFT_PHASE_COMMIT)
        request_catchup(p, o, vi, inflight(p)); /* someone finished our height */
    return PBFT_OK;
}

static pbft_reason_t handle_preprepare(pbft_t *p, pbft_outbox_t *o, int from,
                                       const Hallmark__PrePrepare *pp, const uint8_t *env,
                                       size_t env_len)
{
    const Hallmark__Vote *v = pp->vote;
    if (!vote_shape_ok(v))
        return PBFT_REJ_DECODE;
    if (v->phase != PBFT_PHASE_PREPREPARE)
        return PBFT_REJ_PHASE;
    int vi = valset_index(p->vs, v->validator.data);
    if (vi < 0)
        return PBFT_REJ_SENDER;
    if (v->height <= p->height)
        return PBFT_REJ_OLD_HEIGHT;
    if (v->height == inflight(p)) {
        if (v->view < p->view)
            return PBFT_REJ_OLD_VIEW;
        if (v->view > p->view)
            return PBFT_REJ_FUTURE_VIEW;
        if (p->in_vc)
            return PBFT_REJ_IN_VIEW_CHANGE;
    }
    if ((size_t)vi != valset_primary(p->vs, v->view))
        return PBFT_REJ_NOT_PRIMARY;
    if (v->height == inflight(p) && p->pp_have && p->pp_view == v->view)
        return memcmp(p->pp_digest, v->digest.data, 32) == 0 ? PBFT_REJ_DUPLICATE
                                                              : PBFT_REJ_CONFLICT;
    if (!pbft_vote_verify(v->signature.data, v->validator.data, p->cfg.chain_id,
                          PBFT_PHASE_PREPREPARE, v->view, v->height, v->digest.data))
        return PBFT_REJ_SIGNATURE;
    if (v->height > inflight(p)) {
        /* the next height's proposal, come before this height is final
         * here (we lag, e.g. fetching a block): hold it, or this replica
         * misses that height until the primary retransmits (one status
         * interval, as long as a view timeout) */
        if (v->height == inflight(p) + 1 && !(p->stash_len && p->stash_height == inflight(p)))
            stash_msg(p, from, env, env_len, v->height);
        request_catchup(p, o, vi, v->height - 1);
        return PBFT_REJ_FUTURE_HEIGHT;
    }
    if (!exec_ready(p)) {
        stash_msg(p, from, env, env_len, v->height);
        return PBFT_REJ_NOT_EXECUTED;
    }
    pbft_reason_t r = check_block(p, pp->block.data, pp->block.len, v->view, true,
                                  v->digest.data);
    if (r != PBFT_OK)
        return r;
    accept_pp(p, o, v->view, v->digest.data, v->signature.data, pp->block.data, pp->block.len);
    return PBFT_OK;
}

/* A prepared certificate for height H from a view below `below`: a valid
 * pre-prepare of that view's primary over the carried block, and 2f
 * PREPAREs for it from distinct other validators. */
static bool prepared_ok(pbft_t *p, const Hallmark__PreparedCertificate *pc, uint64_t below,
                        uint64_t *view_out, const uint8_t **digest_out)
{
    if (!pc || !pc->preprepare)
        return false;
    const Hallmark__Vote *v = pc->preprepare->vote;
    if (!vote_shape_ok(v) || v->phase != PBFT_PHASE_PREPREPARE || v->height != inflight(p) ||
        v->view >= below)
        return false;
    size_t prim = valset_primary(p->vs, v->view);
    if (valset_index(p->vs, v->validator.data) != (int)prim)
        return false;
    if (pc->n_prepares > p->n)
        return false;
    hm_block_t *b = NULL;
    bool ok = hm_block_decode(&b, pc->preprepare->block.data, pc->preprepare->block.len) ==
                  HM_OK &&
              memcmp(b->hash, v->digest.data, 32) == 0;
    hm_block_free(b);
    if (!ok || !pbft_vote_verify(v->signature.data, v->validator.data, p->cfg.chain_id,
                                 PBFT_PHASE_PREPREPARE, v->view, v->height, v->digest.data))
        return false;
    bool seen[VALSET_MAX] = {false};
    size_t k = 0;
    for (size_t i = 0; i < pc->n_prepares; i++) {
        const Hallmark__Vote *w = pc->prepares[i];
        if (!vote_shape_ok(w) || w->phase != PBFT_PHASE_PREPARE || w->view != v->view ||
            w->height != v->height || memcmp(w->digest.data, v->digest.data, 32) != 0)
            return false;
        int wi = valset_index(p->vs, w->validator.data);
        if (wi < 0 || (size_t)wi == prim || seen[wi])
            return false;
        if (!pbft_vote_verify(w->signature.data, w->validator.data, p->cfg.chain_id,
                              PBFT_PHASE_PREPARE, w->view, w->height, w->digest.data))
            return false;
        seen[wi] = true;
        k++;
    }
    if (k + 1 < quorum(p))
        return false;
    *view_out = v->view;
    *digest_out = v->digest.data;
    return true;
}

typedef struct {
    Hallmark__ViewChangeBody *body; /* owned */
    int vi;
    bool has_prep;
    uint64_t prep_view;
    const uint8_t *prep_digest; /* into body */
} vc_info_t;

/* Shape, chain and sender of a VIEW-CHANGE. Out: info->body, info->vi. */
static pbft_reason_t vc_open(pbft_t *p, const Hallmark__ViewChange *vc, vc_info_t *info)
{
    memset(info, 0, sizeof *info);
    if (!vc || vc->signature.len != 64 || !vc->signature.data)
        return PBFT_REJ_DECODE;
    if (hm_decode_view_change_body(&info->body, vc->body.data, vc->body.len) != HM_OK)
        return PBFT_REJ_DECODE;
    const Hallmark__ViewChangeBody *b = info->body;
    if (!bin32(&b->chain_id) || !bin32(&b->validator))
        return PBFT_REJ_DECODE;
    if (memcmp(b->chain_id.data, p->cfg.chain_id, 32) != 0)
        return PBFT_REJ_CHAIN;
    info->vi = valset_index(p->vs, b->validator.data);
    if (info->vi < 0)
        return PBFT_REJ_SENDER;
    if (b->new_view > VIEW_MAX)
        return PBFT_REJ_FUTURE_VIEW;
    return PBFT_OK;
}

/* Signature, committed height/cert, prepared certificate. */
static pbft_reason_t vc_check(pbft_t *p, const Hallmark__ViewChange *vc, vc_info_t *info)
{
    const Hallmark__ViewChangeBody *b = info->body;
    uint8_t msg[32];
    hm_tagged_hash(msg, HM_TAG_VIEWCHANGE, vc->body.data, vc->body.len);
    if (!hm_verify(vc->signature.data, msg, 32, b->validator.data))
        return PBFT_REJ_SIGNATURE;
    if (b->committed_height < p->height)
        return PBFT_REJ_OLD_HEIGHT;
    if (b->committed_height > p->height)
        return PBFT_REJ_FUTURE_HEIGHT;
    if (p->height > 0) {
        /* the block is one we hold as committed; its cert must name it */
        const Hallmark__CommitCertificate *c = b->committed_cert;
        if (!c || c->height != p->height || !bin32(&c->block_hash) ||
            memcmp(c->block_hash.data, p->last_hash, 32) != 0)
            return PBFT_REJ_VC_COMMITTED;
    }
    if (b->prepared) {
        if (!prepared_ok(p, b->prepared, b->new_view, &info->prep_view, &info->prep_digest))
            return PBFT_REJ_VC_PREPARED;
        info->has_prep = true;
    }
    return PBFT_OK;
}

/* f+1 validators ask for views above ours at our height: join the highest
 * view that at least f+1 of them have reached (one of them is honest). */
static void maybe_join(pbft_t *p, pbft_outbox_t *o)
{
    uint64_t views[VALSET_MAX];
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->vcs[i].have && p->vcs[i].height == inflight(p) && p->vcs[i].view > p->view)
            views[k++] = p->vcs[i].view;
    if (k < p->f + 1)
        return;
    for (size_t i = 1; i < k; i++) /* insertion sort, descending */
        for (size_t j = i; j > 0 && views[j] > views[j - 1]; j--) {
            uint64_t t = views[j];
            views[j] = views[j - 1];
            views[j - 1] = t;
        }
    start_view_change(p, o, views[p->f]);
}

static pbft_reason_t handle_view_change(pbft_t *p, pbft_outbox_t *o,
                                        const Hallmark__ViewChange *vc)
{
    vc_info_t info;
    uint8_t *bytes = NULL;
    size_t len = 0;
    pbft_reason_t r = vc_open(p, vc, &info);
    if (r != PBFT_OK)
        goto done;
    const Hallmark__ViewChangeBody *b = info.body;
    vc_ent_t *e = &p->vcs[info.vi];
    r = PBFT_REJ_OLD_VIEW;
    if (b->committed_height == p->height &&
        (b->new_view < p->view || (b->new_view == p->view && !p->in_vc)))
        goto done;
    if (b->committed_height == p->height && e->have && e->height == inflight(p) &&
        e->view >= b->new_view) {
        r = e->view == b->new_view ? PBFT_REJ_DUPLICATE : PBFT_REJ_OLD_VIEW;
        goto done;
    }
    r = vc_check(p, vc, &info);
    if (r == PBFT_REJ_FUTURE_HEIGHT)
        request_catchup(p, o, info.vi, b->committed_height);
    if (r != PBFT_OK)
        goto done;
    r = PBFT_REJ_DECODE;
    if (hm_codec_encode(&bytes, &len, &vc->base) != HM_OK)
        goto done;
    free(e->bytes);
    memset(e, 0, sizeof *e);
    e->have = true;
    e->view = b->new_view;
    e->height = inflight(p);
    e->bytes = bytes;
    e->len = len;
    bytes = NULL;
    e->has_prep = info.has_prep;
    e->prep_view = info.prep_view;
    r = PBFT_OK;
    maybe_join(p, o);
    check_new_view(p, o);
done:
    hm_free_view_change_body(info.body);
    free(bytes);
    return r;
}

static pbft_reason_t handle_new_view(pbft_t *p, pbft_outbox_t *o, int from,
                                     const Hallmark__NewView *nv, const uint8_t *env,
                                     size_t env_len)
{
    Hallmark__NewViewBody *b = NULL;
    pbft_reason_t r = PBFT_REJ_DECODE;
    if (nv->signature.len != 64 || !nv->signature.data)
        goto done;
    if (hm_decode_new_view_body(&b, nv->body.data, nv->body.len) != HM_OK)
        goto done;
    if (!bin32(&b->chain_id) || !bin32(&b->validator) || !b->proposal ||
        !vote_shape_ok(b->proposal->vote))
        goto done;
    r = PBFT_REJ_CHAIN;
    if (memcmp(b->chain_id.data, p->cfg.chain_id, 32) != 0)
        goto done;
    r = PBFT_REJ_SENDER;
    int vi = valset_index(p->vs, b->validator.data);
    if (vi < 0)
        goto done;
    r = PBFT_REJ_FUTURE_VIEW;
    if (b->view > VIEW_MAX)
        goto done;
    const Hallmark__Vote *pv = b->proposal->vote;
    r = PBFT_REJ_OLD_HEIGHT;
    if (pv->height <= p->height)
        goto done;
    if (pv->height == inflight(p)) {
        r = PBFT_REJ_OLD_VIEW;
        if (b->view < p->view)
            goto done;
        r = PBFT_REJ_DUPLICATE;
        if (b->view == p->view && !p->in_vc)
            goto done;
    }
    r = PBFT_REJ_NOT_PRIMARY;
    if ((size_t)vi != valset_primary(p->vs, b->view))
        goto done;
    r = PBFT_REJ_PHASE;
    if (pv->phase != PBFT_PHASE_PREPREPARE)
        goto done;
    r = PBFT_REJ_NV_PROPOSAL;
    if (pv->view != b->view || memcmp(pv->validator.data, b->validator.data, 32) != 0)
        goto done;
    r = PBFT_REJ_SIGNATURE;
    uint8_t msg[32];
    hm_tagged_hash(msg, HM_TAG_NEWVIEW, nv->body.data, nv->body.len);
    if (!hm_verify(nv->signature.data, msg, 32, b->validator.data))
        goto done;
    if (pv->height > inflight(p)) {
        request_catchup(p, o, vi, pv->height - 1);
        r = PBFT_REJ_FUTURE_HEIGHT;
        goto done;
    }
    if (!exec_ready(p)) {
        stash_msg(p, from, env, env_len, pv->height);
        r = PBFT_REJ_NOT_EXECUTED;
        goto done;
    }
    /* the view-changes: 2f+1 distinct, each valid for (view, H) */
    bool seen[VALSET_MAX] = {false};
    size_t k = 0;
    bool has_best = false;
    uint64_t best_view = 0;
    uint8_t best_digest[32];
    r = PBFT_REJ_NV_VIEW_CHANGE;
    if (b->n_view_changes > p->n)
        goto done;
    for (size_t i = 0; i < b->n_view_changes; i++) {
        vc_info_t info;
        pbft_reason_t vr = vc_open(p, b->view_changes[i], &info);
        if (vr == PBFT_OK && (info.body->new_view != b->view || seen[info.vi]))
            vr = PBFT_REJ_NV_VIEW_CHANGE;
        if (vr == PBFT_OK)
            vr = vc_check(p, b->view_changes[i], &info);
        if (vr == PBFT_OK) {
            seen[info.vi] = true;
            k++;
            if (info.has_prep && (!has_best || info.prep_view > best_view)) {
                has_best = true;
                best_view = info.prep_view;
                memcpy(best_digest, info.prep_digest, 32);
            }
        }
        hm_free_view_change_body(info.body);
        if (vr != PBFT_OK)
            goto done;
    }
    r = PBFT_REJ_NV_TOO_FEW;
    if (k < p->q)
        goto done;
    r = PBFT_REJ_NV_PROPOSAL;
    if (has_best && memcmp(best_digest, pv->digest.data, 32) != 0)
        goto done;
    r = PBFT_REJ_SIGNATURE;
    if (!pbft_vote_verify(pv->signature.data, pv->validator.data, p->cfg.chain_id,
                          PBFT_PHASE_PREPREPARE, pv->view, pv->height, pv->digest.data))
        goto done;
    r = check_block(p, b->proposal->block.data, b->proposal->block.len, b->view, !has_best,
                    pv->digest.data);
    if (r != PBFT_OK)
        goto done;
    /* enter the view */
    p->view = b->view;
    p->stable_view = b->view;
    p->in_vc = false;
    p->pp_have = false;
    set_bytes(&p->rtx[RTX_VC], &p->rtx_len[RTX_VC], NULL, 0);
    arm_view_timer(p, o, true);
    accept_pp(p, o, pv->view, pv->digest.data, pv->signature.data, b->proposal->block.data,
              b->proposal->block.len);
    r = PBFT_OK;
done:
    hm_free_new_view_body(b);
    return r;
}

pbft_reason_t pbft_on_message(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, int from,
                              const uint8_t *env, size_t len)
{
    Hallmark__Envelope *e = NULL;
    pbft_reason_t r = PBFT_REJ_STATE;
    p->now = now_ms;
    if (!p->started)
        goto done;
    r = PBFT_REJ_DECODE;
    if (hm_decode_envelope(&e, env, len) != HM_OK)
        goto done;
    switch (e->msg_case) {
    case HALLMARK__ENVELOPE__MSG_PREPREPARE:
        r = handle_preprepare(p, out, from, e->preprepare, env, len);
        break;
    case HALLMARK__ENVELOPE__MSG_VOTE:
        r = handle_vote(p, out, e->vote);
        break;
    case HALLMARK__ENVELOPE__MSG_VIEW_CHANGE:
        r = handle_view_change(p, out, e->view_change);
        break;
    case HALLMARK__ENVELOPE__MSG_NEW_VIEW:
        r = handle_new_view(p, out, from, e->new_view, env, len);
        break;
    case HALLMARK__ENVELOPE__MSG_STATUS:
        r = PBFT_OK;
        if (e->status->height > p->height)
            request_catchup(p, out, from, e->status->height);
        break;
    default:
        r = PBFT_REJ_NOT_CONSENSUS;
        break;
    }
done:
    hm_free_envelope(e);
    return r;
}

/* ------------------------------------------------------------ other inputs */

static void send_status(pbft_t *p, pbft_outbox_t *o)
{
    Hallmark__Status st = HALLMARK__STATUS__INIT;
    st.height = p->height;
    st.view = p->view;
    st.last_block_hash.data = p->last_hash;
    st.last_block_hash.len = 32;
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_STATUS;
    env.status = &st;
    uint8_t *b = NULL;
    size_t len = 0;
    if (encode_env(&b, &len, &env) == HM_OK)
        (void)send_bytes(o, PBFT_PEER_ALL, b, len);
    free(b);
}

void pbft_on_timer(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, int timer)
{
    p->now = now_ms;
    if (!p->started)
        return;
    switch (timer) {
    case PBFT_TIMER_VIEW:
        p->vt_on = false;
        if (p->me >= 0 && (p->work || p->pp_have || p->in_vc)) {
            /* go to the highest view others ask for at our height (at most
             * N ahead), so groups of honest replicas whose timers expire
             * in step cannot stay one view apart for ever */
            uint64_t w = p->view + 1;
            for (size_t i = 0; i < p->n; i++)
                if (p->vcs[i].have && p->vcs[i].height == inflight(p) && p->vcs[i].view > w &&
                    p->vcs[i].view <= p->view + p->n)
                    w = p->vcs[i].view;
            start_view_change(p, out, w);
        }
        break;
    case PBFT_TIMER_BATCH:
        p->batch_armed = false;
        p->batch_ready = true;
        maybe_propose(p, out);
        break;
    case PBFT_TIMER_STATUS:
        /* status for catch-up, and our latest messages again: the network
         * may lose any of them */
        send_status(p, out);
        if (p->me >= 0) {
            int order[] = {RTX_VC, RTX_PROP, RTX_PREPARE, RTX_COMMIT};
            for (int i = 0; i < 4; i++)
                if (p->rtx[order[i]])
                    (void)send_bytes(out, PBFT_PEER_ALL, p->rtx[order[i]],
                                     p->rtx_len[order[i]]);
        }
        timer_set(out, PBFT_TIMER_STATUS, p->cfg.status_interval_ms);
        break;
    case PBFT_TIMER_CATCHUP:
        p->catchup_out = false;
        if (p->catchup_target > p->height) {
            int peer = (p->catchup_peer + 1) % (int)p->n;
            if (peer == p->me)
                peer = (peer + 1) % (int)p->n;
            request_catchup(p, out, peer, p->catchup_target);
        }
        break;
    default:
        break;
    }
}

void pbft_on_executed(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, uint64_t height,
                      const uint8_t state_root[32], const uint8_t results_root[32])
{
    p->now = now_ms;
    if (height != p->height)
        return; /* stale (a later one follows) or ahead of commits: ignore */
    p->exec_known = true;
    p->exec_height = height;
    memcpy(p->state_root, state_root, 32);
    memcpy(p->results_root, results_root, 32);
    if (!p->started)
        return;
    if (p->stash_len) {
        uint8_t *m = p->stash;
        size_t len = p->stash_len;
        p->stash = NULL;
        p->stash_len = 0;
        (void)pbft_on_message(p, out, now_ms, p->stash_from, m, len);
        free(m);
    }
    maybe_propose(p, out);
    check_new_view(p, out);
}

void pbft_on_work(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, bool pending)
{
    p->now = now_ms;
    p->work = pending;
    if (!p->started)
        return;
    arm_view_timer(p, out, false);
    maybe_propose(p, out);
}

void pbft_on_full_batch(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms)
{
    if (p->started) {
        if (p->batch_armed) {
            timer_cancel(out, PBFT_TIMER_BATCH);
            p->batch_armed = false;
        }
        p->batch_ready = true;
    }
    pbft_on_work(p, out, now_ms, true);
}

/* Apply a CertifiedBlock (decoded) of the next height. */
static pbft_reason_t apply_certified(pbft_t *p, pbft_outbox_t *o, const uint8_t *data,
                                     size_t len, bool emit)
{
    Hallmark__CertifiedBlock *cb = NULL;
    hm_block_t *b = NULL;
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    pbft_reason_t r = PBFT_REJ_DECODE;
    if (hm_decode_certified_block(&cb, data, len) != HM_OK)
        goto done;
    r = PBFT_REJ_CERT;
    if (!cb->cert)
        goto done;
    r = PBFT_REJ_BLOCK;
    if (hm_block_decode(&b, cb->block.data, cb->block.len) != HM_OK)
        goto done;
    r = PBFT_REJ_OLD_HEIGHT;
    if (b->header->height <= p->height)
        goto done;
    r = PBFT_REJ_FUTURE_HEIGHT;
    if (b->header->height > inflight(p))
        goto done;
    r = PBFT_REJ_CHAIN;
    if (memcmp(b->header->chain_id.data, p->cfg.chain_id, 32) != 0)
        goto done;
    r = PBFT_REJ_HEADER_PREV;
    if (memcmp(b->header->prev_hash.data, p->last_hash, 32) != 0)
        goto done;
    r = PBFT_REJ_HEADER_VALSET;
    if (memcmp(b->header->validator_set_hash.data, p->vs->hash, 32) != 0)
        goto done;
    r = PBFT_REJ_CERT;
    uint64_t h = b->header->height;
    if (cert_verify(NULL, cb->cert, p->cfg.chain_id, p->vs, &h, b->hash) != HM_OK)
        goto done;
    if (hm_codec_encode(&cert, &cert_len, &cb->cert->base) != HM_OK)
        goto done;
    if (emit) {
        pbft_out_t *e = NULL;
        if (push_data(o, PBFT_OUT_COMMIT, data, len, &e) != HM_OK)
            goto done;
        e->height = h;
        e->view = cb->cert->view;
    }
    advance(p, o, b->hash, b->header->time_ms, cert, cert_len, cb->cert->view);
    r = PBFT_OK;
done:
    hm_free_certified_block(cb);
    hm_block_free(b);
    free(cert);
    return r;
}

pbft_reason_t pbft_on_certified_block(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms,
                                      const uint8_t *data, size_t len)
{
    p->now = now_ms;
    if (!p->started)
        return PBFT_REJ_STATE;
    pbft_reason_t r = apply_certified(p, out, data, len, true);
    if (r == PBFT_OK) {
        if (p->catchup_target > p->height) { /* keep fetching from the same peer */
            p->catchup_out = false;
            request_catchup(p, out, p->catchup_peer, p->catchup_target);
        }
        maybe_propose(p, out);
        try_commit(p, out);
    }
    return r;
}

/* ---------------------------------------------------------------- lifetime */

int pbft_new(pbft_t **out, const pbft_config_t *cfg)
{
    int rc = HM_ERR_INVALID;
    pbft_t *p = NULL;
    if (!out || !cfg || !cfg->vs || cfg->vs->n == 0 || cfg->vs->n > VALSET_MAX ||
        cfg->view_timeout_ms == 0 || cfg->status_interval_ms == 0 ||
        cfg->catchup_timeout_ms == 0 || cfg->max_block_bytes > HM_MAX_BLOCK_BYTES)
        goto done;
    rc = HM_ERR_NOMEM;
    p = calloc(1, sizeof *p);
    if (!p)
        goto done;
    p->cfg = *cfg;
    p->cfg.seckey = NULL;
    p->vs = cfg->vs;
    p->n = p->vs->n;
    p->f = valset_f(p->vs);
    p->q = valset_quorum(p->vs);
    p->me = -1;
    p->last_time = cfg->genesis_time_ms;
    p->pool = calloc(p->n * POOL_PER_VAL, sizeof *p->pool);
    p->vcs = calloc(p->n, sizeof *p->vcs);
    if (!p->pool || !p->vcs)
        goto done;
    if (cfg->seckey) {
        uint8_t pk[32];
        rc = hm_key_pubkey(pk, cfg->seckey);
        if (rc != HM_OK)
            goto done;
        rc = HM_ERR_INVALID;
        p->me = valset_index(p->vs, pk);
        if (p->me < 0)
            goto done;
        memcpy(p->sk, cfg->seckey, 32);
    }
    *out = p;
    p = NULL;
    rc = HM_OK;
done:
    pbft_free(&p);
    return rc;
}

void pbft_free(pbft_t **pp)
{
    if (!pp || !*pp)
        return;
    pbft_t *p = *pp;
    clear_inflight(p);
    free(p->last_cert);
    free(p->stash);
    free(p->pool);
    if (p->vcs)
        for (size_t i = 0; i < p->n; i++)
            free(p->vcs[i].bytes);
    free(p->vcs);
    hm_wipe(p->sk, sizeof p->sk);
    free(p);
    *pp = NULL;
}

int pbft_start(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, const uint8_t *committed,
               size_t committed_len, const int *rec_kinds, const uint8_t *const *recs,
               const size_t *rec_lens, size_t n_recs)
{
    int rc = HM_ERR_STATE;
    if (p->started)
        goto done;
    p->now = now_ms;
    if (committed) {
        rc = HM_ERR_CORRUPT;
        /* the committed tip must be certified; it is the next height of an
         * empty core only at height 1, so take it as given by height */
        Hallmark__CertifiedBlock *cb = NULL;
        hm_block_t *b = NULL;
        uint8_t *cert = NULL;
        size_t cert_len = 0;
        if (hm_decode_certified_block(&cb, committed, committed_len) == HM_OK && cb->cert &&
            hm_block_decode(&b, cb->block.data, cb->block.len) == HM_OK &&
            memcmp(b->header->chain_id.data, p->cfg.chain_id, 32) == 0 &&
            cert_verify(NULL, cb->cert, p->cfg.chain_id, p->vs, &b->header->height, b->hash) ==
                HM_OK &&
            hm_codec_encode(&cert, &cert_len, &cb->cert->base) == HM_OK) {
            p->height = b->header->height - 1;
            advance(p, out, b->hash, b->header->time_ms, cert, cert_len, cb->cert->view);
            rc = HM_OK;
        }
        hm_free_certified_block(cb);
        hm_block_free(b);
        free(cert);
        if (rc != HM_OK)
            goto done;
    }
    /* what we signed at the height in flight, from the record log */
    uint64_t H = inflight(p), max_vote_view = 0, max_vc_view = 0;
    bool any_vote = false, any_vc = false;
    for (size_t i = 0; i < n_recs; i++) {
        if (rec_kinds[i] == PBFT_REC_VOTE || rec_kinds[i] == PBFT_REC_VIEW) {
            Hallmark__VoteRecord *r = NULL;
            if (hm_decode_vote_record(&r, recs[i], rec_lens[i]) != HM_OK) {
                rc = HM_ERR_CORRUPT;
                goto done;
            }
            if (r->height == H && r->view <= VIEW_MAX) {
                if (rec_kinds[i] == PBFT_REC_VIEW) {
                    if (!any_vc || r->view > max_vc_view)
                        max_vc_view = r->view;
                    any_vc = true;
                } else if (r->phase >= 1 && r->phase <= 3 && r->digest.len == 32) {
                    signed_t *s = &p->sv[r->phase];
                    if (!s->have || r->view >= s->view) {
                        s->have = true;
                        s->view = r->view;
                        memcpy(s->digest, r->digest.data, 32);
                    }
                    if (!any_vote || r->view > max_vote_view)
                        max_vote_view = r->view;
                    any_vote = true;
                }
            }
            hm_free_vote_record(r);
        } else if (rec_kinds[i] == PBFT_REC_PREPARED) {
            Hallmark__PreparedCertificate *pc = NULL;
            if (decode_prepared(&pc, recs[i], rec_lens[i]) != HM_OK) {
                rc = HM_ERR_CORRUPT;
                goto done;
            }
            const Hallmark__Vote *v = pc->preprepare ? pc->preprepare->vote : NULL;
            if (vote_shape_ok(v) && v->height == H && (!p->prep_have || v->view >= p->prep_view)) {
                p->prep_have = true;
                p->prep_view = v->view;
                memcpy(p->prep_digest, v->digest.data, 32);
                set_bytes(&p->prep_bytes, &p->prep_len, recs[i], rec_lens[i]);
            }
            hm_codec_free(pc);
        }
    }
    p->hv = p->view;
    if (any_vote && max_vote_view > p->view)
        p->view = max_vote_view;
    p->stable_view = p->view;
    p->started = true;
    if (any_vc && max_vc_view > p->view) {
        /* we were changing view: say so again (same view, nothing new signed
         * at a lower one) */
        p->view = max_vc_view;
        p->in_vc = true;
        p->vc_count = 1;
        (void)make_vc(p, out, max_vc_view);
    }
    timer_set(out, PBFT_TIMER_STATUS, p->cfg.status_interval_ms);
    arm_view_timer(p, out, true);
    rc = HM_OK;
done:
    return rc;
}

void pbft_get_status(const pbft_t *p, pbft_status_t *st)
{
    st->height = p->height;
    memcpy(st->last_hash, p->last_hash, 32);
    st->view = p->view;
    st->in_view_change = p->in_vc;
    st->view_changes = p->view_changes;
    st->self = p->me;
}
