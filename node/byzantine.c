/* node/byzantine — see byzantine.h. Test-only: nothing here is compiled
 * without HM_TEST_HOOKS. */
#include "node/byzantine.h"

#ifdef HM_TEST_HOOKS
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consensus/vote.h"
#include "lib/block.h"
#include "lib/codec.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/tx.h"

#define BYZ_RING 2048u                      /* messages kept for replay */
#define BYZ_RING_BYTES (32u * 1024u * 1024u) /* and at most these many bytes */
#define BYZ_TXS 256u                        /* txs kept to put into blocks again */
#define BYZ_REPLAY_TICK_MS 20u
#define BYZ_FLOOD_TICK_MS 10u
#define BYZ_REPORT_MS 5000u
#define BYZ_MAX_QUEUED (512u * 1024u) /* flood/replay skip a peer queued above this */
#define BYZ_WRONG_CHAIN_TXS 32u
#define BYZ_BLOCK_EXTRA 4u /* committed txs appended to a proposal (replay) */

/* modes are bits: one node may do several at once */
enum { BYZ_EQUIVOCATE = 1, BYZ_REPLAY = 2, BYZ_FLOOD = 4 };

struct byz_msg {
    uint8_t *bytes;
    size_t len;
};

struct node_byz {
    byz_options_t o;
    unsigned mode;          /* BYZ_* bits */
    char spec[64];          /* HM_BYZANTINE as given, for the log */
    unsigned long n_split;  /* equivocate: heights split 2-1 before a block per peer */
    unsigned long n_replay; /* replay: messages re-sent every 20 ms */
    unsigned long n_flood;  /* flood: invalid messages per second per peer */
    unsigned tick_ms;
    int self;
    uint64_t rng;
    struct event *tick;
    uint64_t last_report;

    /* the proposal rewritten last: per-validator envelope bytes, resent
     * as they are when the core retransmits it */
    bool rw_have;
    uint64_t rw_view, rw_height;
    struct byz_msg *rw; /* vs->n entries */
    unsigned long rw_slots;

    /* replay: ring of messages, ring of txs */
    struct byz_msg ring[BYZ_RING];
    size_t ring_next, ring_bytes, replay_pos;
    struct byz_msg txs[BYZ_TXS];
    size_t txs_next;

    /* flood */
    uint8_t fk_sec[32], fk_pub[32];
    uint8_t bad_sig[64];
    struct byz_msg wrong_chain[BYZ_WRONG_CHAIN_TXS];

    /* counters */
    uint64_t n_equivocated, n_split_all, n_rewritten, n_extra_txs;
    uint64_t n_replayed, n_flood_txs, n_flood_votes, n_skipped;
    uint64_t tx_seq, vote_seq; /* picks the kind of the next invalid tx / vote */
};

static uint64_t byz_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t byz_rand(node_byz_t *b)
{
    /* xorshift64*: test traffic only, never consensus */
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return b->rng * 2685821657736338717ull;
}

static void byz_fill(node_byz_t *b, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = byz_rand(b);
        memcpy(p + i, &r, n - i < 8 ? n - i : 8);
    }
}

static void msg_set(struct byz_msg *m, const uint8_t *p, size_t len)
{
    free(m->bytes);
    m->bytes = NULL;
    m->len = 0;
    if (!p)
        return;
    m->bytes = malloc(len ? len : 1);
    if (m->bytes) {
        memcpy(m->bytes, p, len);
        m->len = len;
    }
}

static void byz_report(node_byz_t *b, const char *when)
{
    HM_LOG_WARN("byzantine",
                "%s counters (%s): equivocated heights %llu (every peer its own block: %llu), "
                "proposals rewritten %llu, committed txs put into blocks again %llu, "
                "messages replayed %llu, invalid txs sent %llu, invalid votes sent %llu, "
                "sends skipped (peer queue full) %llu",
                b->spec, when, (unsigned long long)b->n_equivocated,
                (unsigned long long)b->n_split_all, (unsigned long long)b->n_rewritten,
                (unsigned long long)b->n_extra_txs, (unsigned long long)b->n_replayed,
                (unsigned long long)b->n_flood_txs, (unsigned long long)b->n_flood_votes,
                (unsigned long long)b->n_skipped);
}

/* ------------------------------------------------------------- sending */

/* Ready peers with room in their send queue: fills ids (vs->n entries, 0
 * for none or full). */
static void byz_peers(node_byz_t *b, uint64_t *ids)
{
    size_t n = b->o.vs->n;
    for (size_t i = 0; i < n; i++)
        ids[i] = (int)i == b->self ? 0 : b->o.peer_of[i];
    size_t cap = p2p_connection_count(b->o.p2p);
    p2p_peer_status_t *ps = cap ? calloc(cap, sizeof *ps) : NULL;
    size_t np = ps ? p2p_peers(b->o.p2p, ps, cap) : 0;
    for (size_t k = 0; k < np; k++)
        for (size_t i = 0; i < n; i++)
            if (ids[i] && ids[i] == ps[k].info.id && ps[k].queued_bytes > BYZ_MAX_QUEUED) {
                ids[i] = 0;
                b->n_skipped++;
            }
    free(ps);
}

static void byz_send(node_byz_t *b, uint64_t id, const uint8_t *p, size_t len)
{
    if (id && p2p_send_bytes(b->o.p2p, id, p, len) != HM_OK)
        HM_LOG_DEBUG("byzantine", "send to peer %llu failed", (unsigned long long)id);
}

static int byz_encode_env(uint8_t **out, size_t *len, Hallmark__Envelope *env)
{
    return hm_codec_encode(out, len, &env->base);
}

/* ------------------------------------------------------ block variants */

/* A PRE-PREPARE envelope for the same (view, height) as pp over another
 * block: header time + dt, the last `drop` txs left out, `extra` txs
 * appended; signed with our key. Out: *out (free()), *out_len. */
static int byz_variant(node_byz_t *b, const Hallmark__PrePrepare *pp, uint64_t dt, size_t drop,
                       const struct byz_msg *extra, size_t n_extra, uint8_t **out,
                       size_t *out_len)
{
    hm_block_t *blk = NULL;
    ProtobufCBinaryData *txs = NULL;
    hm_hash32_t *ids = NULL;
    uint8_t *block = NULL;
    size_t block_len = 0;
    int rc = hm_block_decode(&blk, pp->block.data, pp->block.len);
    if (rc != HM_OK)
        return rc;
    size_t n = blk->block->n_txs, keep = n > drop ? n - drop : 0, cnt = 0;
    rc = HM_ERR_NOMEM;
    txs = calloc(keep + n_extra + 1, sizeof *txs);
    if (!txs)
        goto done;
    for (size_t i = 0; i < keep; i++)
        txs[cnt++] = blk->block->txs[i];
    for (size_t i = 0; i < n_extra; i++)
        txs[cnt++] = (ProtobufCBinaryData){extra[i].len, extra[i].bytes};
    Hallmark__Block tmp = HALLMARK__BLOCK__INIT;
    tmp.txs = txs;
    tmp.n_txs = cnt;
    if (cnt && (rc = hm_block_txids(&ids, &tmp)) != HM_OK)
        goto done;
    uint8_t root[32], digest[32], sig[64];
    hm_merkle_root(root, (const hm_hash32_t *)ids, cnt);
    Hallmark__Header h = *blk->header;
    h.time_ms += dt;
    h.tx_root = (ProtobufCBinaryData){32, root};
    if ((rc = hm_block_build(&block, &block_len, digest, &h, txs, cnt)) != HM_OK)
        goto done;
    const Hallmark__Vote *ov = pp->vote;
    if ((rc = pbft_vote_sign(sig, b->o.seckey, b->o.chain_id, PBFT_PHASE_PREPREPARE, ov->view,
                             ov->height, digest, false)) != HM_OK)
        goto done;
    Hallmark__Vote v = *ov;
    v.digest = (ProtobufCBinaryData){32, digest};
    v.signature = (ProtobufCBinaryData){64, sig};
    Hallmark__PrePrepare np = HALLMARK__PRE_PREPARE__INIT;
    np.vote = &v;
    np.block = (ProtobufCBinaryData){block_len, block};
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_PREPREPARE;
    env.preprepare = &np;
    rc = byz_encode_env(out, out_len, &env);
done:
    free(block);
    free(ids);
    free(txs);
    hm_block_free(blk);
    return rc;
}

static void rw_clear(node_byz_t *b)
{
    for (size_t i = 0; i < b->o.vs->n; i++)
        msg_set(&b->rw[i], NULL, 0);
    b->rw_have = false;
}

/* equivocate: per-validator blocks for a fresh (view, height). */
static int byz_equivocate(node_byz_t *b, const Hallmark__PrePrepare *pp, const uint8_t *env,
                          size_t len)
{
    size_t n = b->o.vs->n, others = n - 1, k = 0;
    const Hallmark__Vote *v = pp->vote;
    bool all = b->rw_slots >= b->n_split;
    size_t odd = (size_t)(v->height % (others ? others : 1)); /* the odd one out (2-1 split) */
    int odd_vi = -1;
    for (size_t i = 0; i < n; i++) {
        if ((int)i == b->self)
            continue;
        size_t variant = all ? k + 1 : (k == odd ? 1 : 0);
        if (!all && k == odd)
            odd_vi = (int)i;
        k++;
        if (variant == 0) {
            msg_set(&b->rw[i], env, len);
            if (!b->rw[i].bytes)
                return HM_ERR_NOMEM;
            continue;
        }
        uint8_t *out = NULL;
        size_t out_len = 0;
        int rc = byz_variant(b, pp, variant, variant, NULL, 0, &out, &out_len);
        if (rc != HM_OK)
            return rc;
        free(b->rw[i].bytes);
        b->rw[i].bytes = out;
        b->rw[i].len = out_len;
    }
    b->n_equivocated++;
    if (all) {
        b->n_split_all++;
        HM_LOG_WARN("byzantine",
                    "equivocating at view %llu height %llu: a different block to each of %zu "
                    "peers",
                    (unsigned long long)v->view, (unsigned long long)v->height, others);
    } else {
        HM_LOG_WARN("byzantine",
                    "equivocating at view %llu height %llu: another block to validator %d, "
                    "ours to the rest",
                    (unsigned long long)v->view, (unsigned long long)v->height, odd_vi);
    }
    return HM_OK;
}

/* replay as primary: one block for everyone with committed txs appended. */
static int byz_replay_block(node_byz_t *b, const Hallmark__PrePrepare *pp)
{
    struct byz_msg extra[BYZ_BLOCK_EXTRA];
    size_t n_extra = 0;
    for (size_t k = 0; k < BYZ_TXS && n_extra < BYZ_BLOCK_EXTRA; k++) {
        const struct byz_msg *m = &b->txs[(b->txs_next + k) % BYZ_TXS]; /* oldest first */
        hm_tx_t *t = NULL;
        uint64_t h;
        uint32_t idx;
        if (!m->bytes || hm_tx_decode(&t, m->bytes, m->len) != HM_OK)
            continue;
        if (chain_tx_location(b->o.chain, t->txid, &h, &idx) == HM_OK)
            extra[n_extra++] = *m;
        hm_tx_free(t);
    }
    if (n_extra == 0)
        return HM_ERR_NOT_FOUND; /* nothing committed seen yet: send as it is */
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = byz_variant(b, pp, 0, 0, extra, n_extra, &out, &out_len);
    if (rc != HM_OK)
        return rc;
    for (size_t i = 0; i < b->o.vs->n; i++)
        if ((int)i != b->self)
            msg_set(&b->rw[i], out, out_len);
    free(out);
    b->n_rewritten++;
    b->n_extra_txs += n_extra;
    HM_LOG_WARN("byzantine", "replaying %zu committed txs in the proposal for height %llu",
                n_extra, (unsigned long long)pp->vote->height);
    return HM_OK;
}

/* Our core's PRE-PREPARE to everyone: send our version instead. */
static bool byz_rewrite_proposal(node_byz_t *b, const uint8_t *env, size_t len)
{
    Hallmark__Envelope *e = NULL;
    bool taken = false;
    if (hm_decode_envelope(&e, env, len) != HM_OK)
        return false;
    if (e->msg_case != HALLMARK__ENVELOPE__MSG_PREPREPARE || !e->preprepare->vote)
        goto done;
    const Hallmark__PrePrepare *pp = e->preprepare;
    if (!b->rw_have || pp->vote->view != b->rw_view || pp->vote->height != b->rw_height) {
        rw_clear(b);
        int rc = (b->mode & BYZ_EQUIVOCATE) ? byz_equivocate(b, pp, env, len)
                                            : byz_replay_block(b, pp);
        if (rc != HM_OK) {
            rw_clear(b);
            goto done;
        }
        b->rw_have = true;
        b->rw_view = pp->vote->view;
        b->rw_height = pp->vote->height;
        b->rw_slots++;
    }
    for (size_t i = 0; i < b->o.vs->n; i++)
        if ((int)i != b->self && b->rw[i].bytes)
            byz_send(b, b->o.peer_of[i], b->rw[i].bytes, b->rw[i].len);
    taken = true;
done:
    hm_free_envelope(e);
    return taken;
}

/* --------------------------------------------------------------- replay */

static void ring_put(node_byz_t *b, const uint8_t *p, size_t len)
{
    struct byz_msg *m = &b->ring[b->ring_next];
    b->ring_bytes -= m->len;
    msg_set(m, p, len);
    b->ring_bytes += m->len;
    b->ring_next = (b->ring_next + 1) % BYZ_RING;
    /* over the byte cap: drop the oldest until under it */
    for (size_t k = 0; b->ring_bytes > BYZ_RING_BYTES && k < BYZ_RING; k++) {
        struct byz_msg *o = &b->ring[(b->ring_next + k) % BYZ_RING];
        b->ring_bytes -= o->len;
        msg_set(o, NULL, 0);
    }
}

static void txs_put(node_byz_t *b, const ProtobufCBinaryData *t)
{
    msg_set(&b->txs[b->txs_next], t->data, t->len);
    b->txs_next = (b->txs_next + 1) % BYZ_TXS;
}

static void byz_replay_tick(node_byz_t *b, const uint64_t *ids)
{
    size_t sent = 0, want = (size_t)(b->n_replay * b->tick_ms / BYZ_REPLAY_TICK_MS);
    for (size_t k = 0; k < BYZ_RING && sent < want; k++) {
        const struct byz_msg *m = &b->ring[b->replay_pos];
        b->replay_pos = (b->replay_pos + 1) % BYZ_RING;
        if (!m->bytes)
            continue;
        for (size_t i = 0; i < b->o.vs->n; i++)
            byz_send(b, ids[i], m->bytes, m->len);
        sent++;
    }
    b->n_replayed += sent;
}

/* ---------------------------------------------------------------- flood */

static int byz_flood_init(node_byz_t *b)
{
    int rc = hm_key_generate(b->fk_sec, b->fk_pub);
    if (rc != HM_OK)
        return rc;
    byz_fill(b, b->bad_sig, sizeof b->bad_sig);
    uint8_t other[32];
    memcpy(other, b->o.chain_id, 32);
    other[0] ^= 0xff;
    for (size_t i = 0; i < BYZ_WRONG_CHAIN_TXS; i++) {
        Hallmark__RegisterIdentity ri = HALLMARK__REGISTER_IDENTITY__INIT;
        ri.name = "byzantine flood";
        ri.kind = HALLMARK__IDENTITY_KIND__KIND_DESIGNER;
        Hallmark__Tx tx = HALLMARK__TX__INIT;
        tx.chain_id = (ProtobufCBinaryData){32, other};
        tx.signer = (ProtobufCBinaryData){32, b->fk_pub};
        tx.nonce = i;
        tx.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
        tx.register_identity = &ri;
        uint8_t *out = NULL;
        size_t len = 0;
        if ((rc = hm_tx_sign(&out, &len, NULL, &tx, b->fk_sec)) != HM_OK)
            return rc;
        b->wrong_chain[i].bytes = out;
        b->wrong_chain[i].len = len;
    }
    return HM_OK;
}

/* One invalid SignedTx (or garbage) into *m (owned by the caller). */
static int byz_bad_tx(node_byz_t *b, uint64_t k, struct byz_msg *m)
{
    uint8_t buf[512];
    m->bytes = NULL;
    m->len = 0;
    switch (k % 3) {
    case 0: { /* garbage */
        size_t len = 16 + (size_t)(byz_rand(b) % 400);
        byz_fill(b, buf, len);
        msg_set(m, buf, len);
        return m->bytes ? HM_OK : HM_ERR_NOMEM;
    }
    case 1: { /* our chain, a unique tx, a signature that does not verify */
        Hallmark__RegisterIdentity ri = HALLMARK__REGISTER_IDENTITY__INIT;
        ri.name = "byzantine flood";
        ri.kind = HALLMARK__IDENTITY_KIND__KIND_DESIGNER;
        Hallmark__Tx tx = HALLMARK__TX__INIT;
        tx.chain_id = (ProtobufCBinaryData){32, b->o.chain_id};
        tx.signer = (ProtobufCBinaryData){32, b->fk_pub};
        tx.nonce = byz_rand(b);
        tx.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
        tx.register_identity = &ri;
        uint8_t *body = NULL;
        size_t body_len = 0;
        int rc = hm_codec_encode(&body, &body_len, &tx.base);
        if (rc != HM_OK)
            return rc;
        Hallmark__SignedTx stx = HALLMARK__SIGNED_TX__INIT;
        stx.tx = (ProtobufCBinaryData){body_len, body};
        stx.signature = (ProtobufCBinaryData){64, b->bad_sig};
        rc = hm_codec_encode(&m->bytes, &m->len, &stx.base);
        free(body);
        return rc;
    }
    default: { /* properly signed for another chain */
        const struct byz_msg *w = &b->wrong_chain[k / 3 % BYZ_WRONG_CHAIN_TXS];
        msg_set(m, w->bytes, w->len);
        return m->bytes ? HM_OK : HM_ERR_NOMEM;
    }
    }
}

/* One invalid vote envelope. Out: *out (free()), *len. */
static int byz_bad_vote(node_byz_t *b, uint64_t k, uint64_t view, uint64_t H, uint8_t **out,
                        size_t *len)
{
    uint8_t digest[32], sig[64];
    byz_fill(b, digest, 32);
    byz_fill(b, sig, 64);
    const uint8_t *me = b->o.vs->pks[b->self];
    uint8_t phase = (byz_rand(b) & 1) ? PBFT_PHASE_PREPARE : PBFT_PHASE_COMMIT;
    uint64_t v = view, h = H;
    const uint8_t *who = me;
    bool sign = true;
    size_t dlen = 32;
    switch (k % 6) {
    case 0: /* an honest validator's name, a signature that does not verify */
        who = b->o.vs->pks[(size_t)(byz_rand(b) % b->o.vs->n)];
        sign = false;
        break;
    case 1: /* signed, for a height far ahead */
        h = H + 2 + byz_rand(b) % 1000;
        break;
    case 2: /* signed, a view outside the window (ahead, or behind) */
        v = (byz_rand(b) & 1) || view < 100 ? view + 65 + byz_rand(b) % 1000 : view - 65;
        break;
    case 3: /* signed, this height, a digest of no block: a PREPARE in this view or one
             * ahead, a COMMIT in a view ahead (a COMMIT in this view would stand in for
             * our own, so we would withhold our vote; that is another fault) */
        v = view + (phase == PBFT_PHASE_COMMIT) + byz_rand(b) % 63;
        break;
    case 4: /* the wrong shape: short digest, or a PRE-PREPARE phase in a vote */
        if (byz_rand(b) & 1)
            dlen = 31;
        else
            phase = PBFT_PHASE_PREPREPARE;
        sign = false;
        break;
    default: /* signed, an old height */
        h = H > 1 ? 1 + byz_rand(b) % (H - 1) : H + 1;
        break;
    }
    if (sign) {
        int rc = pbft_vote_sign(sig, b->o.seckey, b->o.chain_id, phase, v, h, digest, false);
        if (rc != HM_OK)
            return rc;
    }
    Hallmark__Vote vote = HALLMARK__VOTE__INIT;
    vote.phase = (Hallmark__VotePhase)phase;
    vote.view = v;
    vote.height = h;
    vote.digest = (ProtobufCBinaryData){dlen, digest};
    vote.validator = (ProtobufCBinaryData){32, (uint8_t *)who};
    vote.signature = (ProtobufCBinaryData){64, sig};
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_VOTE;
    env.vote = &vote;
    return byz_encode_env(out, len, &env);
}

static void byz_flood_tick(node_byz_t *b, const uint64_t *ids)
{
    size_t per_tick = (size_t)(b->n_flood * b->tick_ms / 1000);
    size_t n_txs = per_tick / 2, n_votes = per_tick - n_txs;
    size_t peers = 0;
    for (size_t i = 0; i < b->o.vs->n; i++)
        peers += ids[i] != 0;
    if (!peers)
        return;
    pbft_status_t st;
    pbft_get_status(b->o.core, &st);
    uint64_t H = st.height + 1;
    /* one batch of invalid txs, the same bytes to every peer */
    struct byz_msg *bad = n_txs ? calloc(n_txs, sizeof *bad) : NULL;
    ProtobufCBinaryData *bt = n_txs ? calloc(n_txs, sizeof *bt) : NULL;
    size_t nb = 0;
    for (size_t j = 0; bad && bt && j < n_txs; j++) {
        if (byz_bad_tx(b, b->tx_seq++, &bad[nb]) != HM_OK)
            break;
        bt[nb] = (ProtobufCBinaryData){bad[nb].len, bad[nb].bytes};
        nb++;
    }
    if (nb) {
        Hallmark__TxBatch batch = HALLMARK__TX_BATCH__INIT;
        batch.txs = bt;
        batch.n_txs = nb;
        Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
        env.msg_case = HALLMARK__ENVELOPE__MSG_TX_BATCH;
        env.tx_batch = &batch;
        uint8_t *p = NULL;
        size_t len = 0;
        if (byz_encode_env(&p, &len, &env) == HM_OK) {
            for (size_t i = 0; i < b->o.vs->n; i++)
                byz_send(b, ids[i], p, len);
            b->n_flood_txs += nb * peers;
        }
        free(p);
    }
    for (size_t j = 0; j < nb; j++)
        free(bad[j].bytes);
    free(bad);
    free(bt);
    for (size_t j = 0; j < n_votes; j++) {
        uint8_t *p = NULL;
        size_t len = 0;
        if (byz_bad_vote(b, b->vote_seq++, st.view, H, &p, &len) != HM_OK)
            break;
        for (size_t i = 0; i < b->o.vs->n; i++)
            byz_send(b, ids[i], p, len);
        b->n_flood_votes += peers;
        free(p);
    }
}

/* ------------------------------------------------------------ lifecycle */

static void byz_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    node_byz_t *b = arg;
    uint64_t ids[VALSET_MAX];
    byz_peers(b, ids);
    if (b->mode & BYZ_REPLAY)
        byz_replay_tick(b, ids);
    if (b->mode & BYZ_FLOOD)
        byz_flood_tick(b, ids);
    uint64_t t = byz_now();
    if (t - b->last_report >= BYZ_REPORT_MS) {
        b->last_report = t;
        byz_report(b, "so far");
    }
}

/* Parse MODE[:N][,MODE[:N]...] into b. */
static int byz_parse(node_byz_t *b, const char *v)
{
    size_t len = strlen(v);
    if (len >= sizeof b->spec)
        return HM_ERR_INVALID;
    memcpy(b->spec, v, len + 1);
    b->n_split = 5;
    b->n_replay = 16;
    b->n_flood = 2000;
    for (const char *p = v; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        size_t name = colon ? (size_t)(colon - p) : n;
        unsigned long *param = NULL;
        if (name == 10 && memcmp(p, "equivocate", name) == 0) {
            b->mode |= BYZ_EQUIVOCATE;
            param = &b->n_split;
        } else if (name == 6 && memcmp(p, "replay", name) == 0) {
            b->mode |= BYZ_REPLAY;
            param = &b->n_replay;
        } else if (name == 5 && memcmp(p, "flood", name) == 0) {
            b->mode |= BYZ_FLOOD;
            param = &b->n_flood;
        } else {
            return HM_ERR_INVALID;
        }
        if (colon) {
            char *stop = NULL;
            unsigned long k = strtoul(colon + 1, &stop, 10);
            if (stop != p + n || stop == colon + 1 || k > 1000000)
                return HM_ERR_INVALID;
            *param = k;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return b->mode ? HM_OK : HM_ERR_INVALID;
}

int byz_new(node_byz_t **out, const byz_options_t *opt)
{
    *out = NULL;
    const char *v = getenv("HM_BYZANTINE");
    if (!v || !*v)
        return HM_OK;
    if (!opt->seckey) {
        HM_LOG_ERR("byzantine", "HM_BYZANTINE needs a validator");
        return HM_ERR_INVALID;
    }
    node_byz_t *b = calloc(1, sizeof *b);
    int rc = HM_ERR_NOMEM;
    if (!b)
        return rc;
    b->o = *opt;
    if ((rc = byz_parse(b, v)) != HM_OK) {
        HM_LOG_ERR("byzantine",
                   "HM_BYZANTINE=%s: expected MODE[:N][,MODE[:N]...], MODE one of "
                   "equivocate, replay, flood, N up to 1000000",
                   v);
        goto done;
    }
    uint8_t pk[32];
    if ((rc = hm_key_pubkey(pk, opt->seckey)) != HM_OK)
        goto done;
    b->self = valset_index(opt->vs, pk);
    rc = HM_ERR_INVALID;
    if (b->self < 0)
        goto done;
    if ((rc = hm_random(&b->rng, sizeof b->rng)) != HM_OK)
        goto done;
    b->rng |= 1;
    rc = HM_ERR_NOMEM;
    b->rw = calloc(opt->vs->n, sizeof *b->rw);
    if (!b->rw)
        goto done;
    if ((b->mode & BYZ_FLOOD) && (rc = byz_flood_init(b)) != HM_OK)
        goto done;
    /* the tick floods or replays, and reports the counters in every mode */
    rc = HM_ERR_NOMEM;
    b->tick = event_new(opt->base, -1, EV_PERSIST, byz_tick_cb, b);
    if (!b->tick)
        goto done;
    b->tick_ms = (b->mode & BYZ_FLOOD)    ? BYZ_FLOOD_TICK_MS
                 : (b->mode & BYZ_REPLAY) ? BYZ_REPLAY_TICK_MS
                                          : 500u;
    struct timeval tv = {0, (suseconds_t)b->tick_ms * 1000};
    if (event_add(b->tick, &tv) != 0)
        goto done;
    b->last_report = byz_now();
    HM_LOG_WARN("byzantine", "validator %d is Byzantine: %s", b->self, b->spec);
    *out = b;
    b = NULL;
    rc = HM_OK;
done:
    byz_free(b);
    return rc;
}

void byz_free(node_byz_t *b)
{
    if (!b)
        return;
    if (b->tick) {
        byz_report(b, "at exit");
        event_free(b->tick);
    }
    if (b->rw)
        rw_clear(b);
    free(b->rw);
    for (size_t i = 0; i < BYZ_RING; i++)
        free(b->ring[i].bytes);
    for (size_t i = 0; i < BYZ_TXS; i++)
        free(b->txs[i].bytes);
    for (size_t i = 0; i < BYZ_WRONG_CHAIN_TXS; i++)
        free(b->wrong_chain[i].bytes);
    hm_wipe(b->fk_sec, sizeof b->fk_sec);
    free(b);
}

bool byz_on_send(node_byz_t *b, int peer, const uint8_t *env, size_t len)
{
    if (!b)
        return false;
    if (b->mode & BYZ_REPLAY)
        ring_put(b, env, len);
    if (peer != PBFT_PEER_ALL || !(b->mode & (BYZ_EQUIVOCATE | BYZ_REPLAY)))
        return false;
    return byz_rewrite_proposal(b, env, len);
}

void byz_on_recv(node_byz_t *b, int from, const uint8_t *env, size_t len)
{
    (void)from;
    if (!b || !(b->mode & BYZ_REPLAY))
        return;
    Hallmark__Envelope *e = NULL;
    if (hm_decode_envelope(&e, env, len) != HM_OK)
        return;
    switch (e->msg_case) {
    case HALLMARK__ENVELOPE__MSG_PREPREPARE:
    case HALLMARK__ENVELOPE__MSG_VOTE:
    case HALLMARK__ENVELOPE__MSG_VIEW_CHANGE:
    case HALLMARK__ENVELOPE__MSG_NEW_VIEW:
    case HALLMARK__ENVELOPE__MSG_STATUS:
        ring_put(b, env, len);
        break;
    case HALLMARK__ENVELOPE__MSG_TX_BATCH:
        ring_put(b, env, len);
        for (size_t i = 0; i < e->tx_batch->n_txs; i++)
            txs_put(b, &e->tx_batch->txs[i]);
        break;
    default:
        break;
    }
    hm_free_envelope(e);
}

#endif
