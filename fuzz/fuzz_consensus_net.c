/* fuzz/fuzz_consensus_net — four live PBFT replica cores (consensus/pbft)
 * on a network the fuzzer schedules, with validator 3 Byzantine.
 *
 * fuzz_consensus shows one core garbage and a flipped pre-prepare; its
 * messages can never carry a quorum's valid signatures, so the core's deeper
 * paths (prepared and committed certificates, view changes, new views,
 * catch-up) stay out of reach. Here every message is genuine: the cores of
 * validators 0, 1, 2 (honest) and 3 talk to each other, and the input is a
 * list of operations (a byte: low nibble the kind, high nibble the time that
 * passes after it; then one to three argument bytes) of the network or of
 * the Byzantine validator: deliver,
 * duplicate or drop a pending message, fire a timer, let time pass, signal
 * client work (which txs the next proposal carries), forge a vote signed
 * with validator 3's key for any (phase, view, height, digest), replay an
 * old message, deliver a message with a byte flipped.
 *
 * Invariants (DESIGN §7; f = 1 so they must hold whatever 3 does):
 *  - agreement: no two honest cores commit different blocks at one height;
 *  - every commit is the next height, its certificate verifies for the set
 *    and the block's hash, and its header links to the previous commit;
 *  - an honest core never signs two digests for one (view, height, phase),
 *    and every vote it sends was persisted by that call or an earlier one
 *    (so a restart cannot make it sign another);
 *  - every SEND is an Envelope that decodes.
 * Liveness is the simulator's (tests/sim), not this harness's. */
#include <stdlib.h>
#include <string.h>

#include "consensus/cert.h"
#include "consensus/pbft.h"
#include "consensus/valset.h"
#include "consensus/vote.h"
#include "fuzz/fuzz.h"
#include "lib/block.h"
#include "lib/codec.h"
#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/tx.h"

#define N 4
#define BYZ 3
#define MAXH 64
#define QMAX 256
#define HIST 64
#define VOTES 4096
#define NTX 4

typedef struct {
    int to, from;
    bool catchup; /* a CertifiedBlock answering a REQUEST */
    uint8_t *data;
    size_t len;
} msg_t;

typedef struct {
    int node;
    uint64_t view, height;
    int phase;
    uint8_t digest[32];
} signed_t;

/* shared across inputs: keys, valset, pre-signed txs */
static uint8_t sk[N][32], pk[N][32], chain[32];
static valset_t *vs;
static uint8_t *txs[NTX];
static size_t tx_len[NTX];

/* one input's world */
static struct {
    pbft_t *core[N];
    uint64_t now;
    bool armed[N][5];
    uint64_t fire_at[N][5];
    uint64_t height[N];
    uint8_t hash[N][MAXH + 1][32];
    uint8_t *blk[N][MAXH + 1];
    size_t blk_len[N][MAXH + 1];
    uint8_t state_root[N][32], results_root[N][32];
    bool have[MAXH + 1];
    uint8_t gh[MAXH + 1][32];
    msg_t q[QMAX];
    size_t nq;
    uint8_t *hist[HIST];
    size_t hist_len[HIST];
    size_t nhist;
    uint8_t digests[16][32];
    size_t ndig;
    signed_t votes[VOTES];
    size_t nvotes;
    signed_t persisted[VOTES];
    size_t npersisted;
    uint8_t build_sel;
} w;

static void init(void)
{
    if (vs)
        return;
    for (int i = 0; i < N; i++) {
        uint8_t in[2] = {'k', (uint8_t)i};
        hm_sha256(sk[i], in, 2);
        HM_FUZZ_CHECK(hm_key_pubkey(pk[i], sk[i]) == HM_OK);
    }
    hm_tagged_hash(chain, HM_TAG_GENESIS, "fuzz", 4);
    HM_FUZZ_CHECK(valset_new(&vs, (const uint8_t(*)[32])pk, N) == HM_OK);
    /* client txs: three good ones and one whose signature is broken */
    uint8_t csk[32], cpk[32];
    hm_sha256(csk, "fuzz-client", 11);
    HM_FUZZ_CHECK(hm_key_pubkey(cpk, csk) == HM_OK);
    for (int i = 0; i < NTX; i++) {
        Hallmark__Tx t = HALLMARK__TX__INIT;
        Hallmark__RegisterIdentity reg = HALLMARK__REGISTER_IDENTITY__INIT;
        char name[16];
        snprintf(name, sizeof name, "Org %d", i);
        reg.name = name;
        reg.kind = HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER;
        reg.country = "DE";
        t.chain_id.data = chain;
        t.chain_id.len = 32;
        t.signer.data = cpk;
        t.signer.len = 32;
        t.nonce = (uint64_t)i;
        t.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
        t.register_identity = &reg;
        HM_FUZZ_CHECK(hm_tx_sign(&txs[i], &tx_len[i], NULL, &t, csk) == HM_OK);
    }
    txs[NTX - 1][tx_len[NTX - 1] - 1] ^= 1;
}

static void app_exec(int n, const uint8_t hash[32])
{
    uint8_t buf[64];
    memcpy(buf, w.state_root[n], 32);
    memcpy(buf + 32, hash, 32);
    hm_tagged_hash(w.state_root[n], HM_TAG_SMT_NODE, buf, 64);
    hm_tagged_hash(w.results_root[n], HM_TAG_RESULT, hash, 32);
}

static void enqueue(int to, int from, bool catchup, const uint8_t *data, size_t len)
{
    if (w.nq == QMAX || to == from)
        return; /* a full network loses messages */
    uint8_t *copy = malloc(len ? len : 1);
    HM_FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, len);
    w.q[w.nq++] = (msg_t){to, from, catchup, copy, len};
}

static void remember(const uint8_t *data, size_t len)
{
    size_t i = w.nhist % HIST;
    free(w.hist[i]);
    w.hist[i] = malloc(len ? len : 1);
    HM_FUZZ_CHECK(w.hist[i] != NULL);
    memcpy(w.hist[i], data, len);
    w.hist_len[i] = len;
    w.nhist++;
}

static bool was_persisted(int n, const Hallmark__Vote *v)
{
    for (size_t i = 0; i < w.npersisted; i++) {
        const signed_t *s = &w.persisted[i];
        if (s->node == n && s->view == v->view && s->height == v->height &&
            s->phase == (int)v->phase && memcmp(s->digest, v->digest.data, 32) == 0)
            return true;
    }
    return w.npersisted == VOTES; /* stopped recording */
}

static void note_persist(int n, const pbft_out_t *e)
{
    if (e->rec_kind != PBFT_REC_VOTE || w.npersisted == VOTES)
        return;
    Hallmark__VoteRecord *r = NULL;
    HM_FUZZ_CHECK(hm_decode_vote_record(&r, e->data, e->len) == HM_OK);
    HM_FUZZ_CHECK(r->digest.len == 32);
    signed_t *s = &w.persisted[w.npersisted++];
    s->node = n;
    s->view = r->view;
    s->height = r->height;
    s->phase = (int)r->phase;
    memcpy(s->digest, r->digest.data, 32);
    hm_free_vote_record(r);
}

static void note_vote(int n, const Hallmark__Vote *v)
{
    if (!v || v->digest.len != 32)
        return;
    if (v->phase == PBFT_PHASE_PREPREPARE && w.ndig < 16)
        memcpy(w.digests[w.ndig++], v->digest.data, 32);
    if (n == BYZ)
        return;
    /* what a core signs it has persisted (this call or before): after a
     * restart it cannot sign another digest for the slot */
    HM_FUZZ_CHECK(was_persisted(n, v));
    for (size_t i = 0; i < w.nvotes; i++) {
        const signed_t *s = &w.votes[i];
        if (s->node == n && s->view == v->view && s->height == v->height &&
            s->phase == (int)v->phase) {
            HM_FUZZ_CHECK(memcmp(s->digest, v->digest.data, 32) == 0);
            return;
        }
    }
    if (w.nvotes < VOTES) {
        signed_t *s = &w.votes[w.nvotes++];
        s->node = n;
        s->view = v->view;
        s->height = v->height;
        s->phase = (int)v->phase;
        memcpy(s->digest, v->digest.data, 32);
    }
}

static void process(int n, pbft_outbox_t *o);

static void on_commit(int n, const pbft_out_t *c)
{
    Hallmark__CertifiedBlock *cb = NULL;
    hm_block_t *b = NULL;
    HM_FUZZ_CHECK(hm_decode_certified_block(&cb, c->data, c->len) == HM_OK && cb->cert);
    HM_FUZZ_CHECK(hm_block_decode(&b, cb->block.data, cb->block.len) == HM_OK);
    uint64_t h = b->header->height;
    cert_reason_t why;
    HM_FUZZ_CHECK(cert_verify(&why, cb->cert, chain, vs, &h, b->hash) == HM_OK);
    HM_FUZZ_CHECK(h == w.height[n] + 1 && h == c->height);
    HM_FUZZ_CHECK(b->header->prev_hash.len == 32);
    if (h > 1 && h - 1 <= MAXH)
        HM_FUZZ_CHECK(memcmp(b->header->prev_hash.data, w.hash[n][h - 1], 32) == 0);
    if (n != BYZ && h <= MAXH) {
        if (w.have[h])
            HM_FUZZ_CHECK(memcmp(w.gh[h], b->hash, 32) == 0); /* agreement */
        w.have[h] = true;
        memcpy(w.gh[h], b->hash, 32);
    }
    w.height[n] = h;
    if (h <= MAXH) {
        memcpy(w.hash[n][h], b->hash, 32);
        w.blk[n][h] = malloc(c->len);
        HM_FUZZ_CHECK(w.blk[n][h] != NULL);
        memcpy(w.blk[n][h], c->data, c->len);
        w.blk_len[n][h] = c->len;
    }
    app_exec(n, b->hash);
    hm_free_certified_block(cb);
    hm_block_free(b);
    pbft_outbox_t o;
    pbft_outbox_init(&o);
    pbft_on_executed(w.core[n], &o, w.now, h, w.state_root[n], w.results_root[n]);
    process(n, &o);
    pbft_outbox_free(&o);
}

static void on_build(int n, const pbft_out_t *c)
{
    const uint8_t *sel[NTX];
    size_t lens[NTX], k = 0;
    for (int i = 0; i < NTX; i++)
        if (w.build_sel & (1u << i)) {
            sel[k] = txs[i];
            lens[k++] = tx_len[i];
        }
    pbft_outbox_t o;
    pbft_outbox_init(&o);
    (void)pbft_propose(w.core[n], &o, w.now, c->height, c->view, sel, lens, NULL, k);
    process(n, &o);
    pbft_outbox_free(&o);
}

static void process(int n, pbft_outbox_t *o)
{
    /* the node stores every PERSIST of a call before any of its SENDs */
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].kind == PBFT_OUT_PERSIST)
            note_persist(n, &o->v[i]);
    for (size_t i = 0; i < o->n; i++) {
        const pbft_out_t *e = &o->v[i];
        switch (e->kind) {
        case PBFT_OUT_PERSIST:
            break;
        case PBFT_OUT_SEND: {
            Hallmark__Envelope *env = NULL;
            HM_FUZZ_CHECK(hm_decode_envelope(&env, e->data, e->len) == HM_OK);
            if (env->msg_case == HALLMARK__ENVELOPE__MSG_VOTE)
                note_vote(n, env->vote);
            else if (env->msg_case == HALLMARK__ENVELOPE__MSG_PREPREPARE)
                note_vote(n, env->preprepare->vote);
            else if (env->msg_case == HALLMARK__ENVELOPE__MSG_NEW_VIEW) {
                /* the new primary's proposal is its pre-prepare vote */
                Hallmark__NewViewBody *nv = NULL;
                HM_FUZZ_CHECK(hm_decode_new_view_body(&nv, env->new_view->body.data,
                                                      env->new_view->body.len) == HM_OK);
                if (nv->proposal)
                    note_vote(n, nv->proposal->vote);
                hm_free_new_view_body(nv);
            }
            hm_free_envelope(env);
            remember(e->data, e->len);
            for (int to = 0; to < N; to++)
                if (e->peer == PBFT_PEER_ALL || e->peer == to)
                    enqueue(to, n, false, e->data, e->len);
            break;
        }
        case PBFT_OUT_TIMER_SET:
            if (e->timer >= 1 && e->timer <= 4) {
                w.armed[n][e->timer] = true;
                w.fire_at[n][e->timer] = w.now + e->ms;
            }
            break;
        case PBFT_OUT_TIMER_CANCEL:
            if (e->timer >= 1 && e->timer <= 4)
                w.armed[n][e->timer] = false;
            break;
        case PBFT_OUT_COMMIT: on_commit(n, e); break;
        case PBFT_OUT_REQUEST: {
            /* the asked peer answers from what it committed */
            int p = e->peer;
            for (uint64_t h = e->height; p >= 0 && p < N && h <= e->to_height && h <= MAXH &&
                                         h <= w.height[p];
                 h++)
                if (w.blk[p][h])
                    enqueue(n, p, true, w.blk[p][h], w.blk_len[p][h]);
            break;
        }
        case PBFT_OUT_BUILD: on_build(n, e); break;
        }
    }
}

static void deliver(const msg_t *m)
{
    pbft_outbox_t o;
    pbft_outbox_init(&o);
    if (m->catchup)
        (void)pbft_on_certified_block(w.core[m->to], &o, w.now, m->data, m->len);
    else
        (void)pbft_on_message(w.core[m->to], &o, w.now, m->from, m->data, m->len);
    process(m->to, &o);
    pbft_outbox_free(&o);
}

static void forge_vote(int to, uint8_t phase, uint64_t view, uint64_t height,
                       const uint8_t digest[32])
{
    uint8_t sig[64];
    HM_FUZZ_CHECK(pbft_vote_sign(sig, sk[BYZ], chain, phase, view, height, digest, true) == HM_OK);
    Hallmark__Vote v = HALLMARK__VOTE__INIT;
    v.phase = phase;
    v.view = view;
    v.height = height;
    v.digest.data = (uint8_t *)digest;
    v.digest.len = 32;
    v.validator.data = pk[BYZ];
    v.validator.len = 32;
    v.signature.data = sig;
    v.signature.len = 64;
    Hallmark__Envelope e = HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_VOTE;
    e.vote = &v;
    uint8_t *bytes = NULL;
    size_t len = 0;
    HM_FUZZ_CHECK(hm_codec_encode(&bytes, &len, &e.base) == HM_OK);
    enqueue(to, BYZ, false, bytes, len);
    free(bytes);
}

static void take(size_t i)
{
    free(w.q[i].data);
    w.q[i] = w.q[--w.nq];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    memset(&w, 0, sizeof w);
    w.now = 5000;
    for (int n = 0; n < N; n++) {
        pbft_config_t cfg;
        pbft_config_default(&cfg);
        memcpy(cfg.chain_id, chain, 32);
        cfg.vs = vs;
        cfg.seckey = sk[n];
        cfg.genesis_time_ms = 0;
        cfg.deterministic_sigs = true;
        cfg.batch_delay_ms = 0;
        HM_FUZZ_CHECK(pbft_new(&w.core[n], &cfg) == HM_OK);
        pbft_outbox_t o;
        pbft_outbox_init(&o);
        HM_FUZZ_CHECK(pbft_start(w.core[n], &o, w.now, NULL, 0, NULL, NULL, NULL, 0) == HM_OK);
        process(n, &o);
        pbft_outbox_clear(&o);
        memset(w.state_root[n], 0x5a, 32);
        memset(w.results_root[n], 0xa5, 32);
        pbft_on_executed(w.core[n], &o, w.now, 0, w.state_root[n], w.results_root[n]);
        process(n, &o);
        pbft_outbox_free(&o);
    }

    size_t pos = 0;
#define NEXT() (pos < size ? data[pos++] : 0)
    while (pos < size) {
        uint8_t op = NEXT();
        uint8_t a = NEXT();
        w.now += 1;
        switch ((op & 0x0f) % 10) {
        case 0:
        case 1:
        case 2: /* deliver one pending message */
            if (w.nq) {
                size_t i = a % w.nq;
                msg_t m = w.q[i];
                w.q[i] = w.q[--w.nq];
                deliver(&m);
                free(m.data);
            }
            break;
        case 3: /* duplicate: deliver, keep it pending */
            if (w.nq) {
                msg_t m = w.q[a % w.nq];
                uint8_t *copy = malloc(m.len ? m.len : 1);
                HM_FUZZ_CHECK(copy != NULL);
                memcpy(copy, m.data, m.len);
                m.data = copy;
                deliver(&m);
                free(copy);
            }
            break;
        case 4: /* drop */
            if (w.nq)
                take(a % w.nq);
            break;
        case 5: { /* a timer fires (early or late: only message order matters) */
            int n = a % N, t = 1 + (a >> 2) % 4;
            if (w.armed[n][t]) {
                w.armed[n][t] = false;
                if (w.fire_at[n][t] > w.now)
                    w.now = w.fire_at[n][t];
                pbft_outbox_t o;
                pbft_outbox_init(&o);
                pbft_on_timer(w.core[n], &o, w.now, t);
                process(n, &o);
                pbft_outbox_free(&o);
            }
            break;
        }
        case 6: { /* client work; a picks the txs of the next proposals */
            w.build_sel = a;
            for (int n = 0; n < N; n++) {
                pbft_outbox_t o;
                pbft_outbox_init(&o);
                pbft_on_work(w.core[n], &o, w.now, true);
                process(n, &o);
                pbft_outbox_free(&o);
            }
            break;
        }
        case 7: { /* validator 3 forges a vote */
            uint8_t b = NEXT();
            uint8_t digest[32];
            if (w.ndig && !(b & 0x80))
                memcpy(digest, w.digests[b % w.ndig], 32);
            else
                hm_sha256(digest, &b, 1);
            uint8_t phase = (uint8_t)(1 + a % 3);
            uint64_t view = (a >> 2) % 3, height = 1 + (b >> 3) % 3;
            int to = (a >> 4) % N;
            for (int n = 0; n < N; n++)
                if (to == BYZ || n == to) /* "to" = 3: everyone */
                    forge_vote(n, phase, view, height, digest);
            break;
        }
        case 8: /* replay an old message */
            if (w.nhist) {
                size_t i = (size_t)a % (w.nhist < HIST ? w.nhist : HIST);
                enqueue((a >> 6) % N, BYZ, false, w.hist[i], w.hist_len[i]);
            }
            break;
        default: /* a pending message arrives with a byte flipped */
            if (w.nq) {
                uint8_t b = NEXT(), c = NEXT();
                size_t i = a % w.nq;
                msg_t m = w.q[i];
                w.q[i] = w.q[--w.nq];
                if (m.len)
                    m.data[((size_t)b << 8 | c) % m.len] ^= (uint8_t)(1u << (b % 8));
                deliver(&m);
                free(m.data);
            }
            break;
        }
        w.now += (op >> 4) * 10u; /* time passes */
    }
#undef NEXT
    for (int n = 0; n < N; n++) {
        pbft_status_t st;
        pbft_get_status(w.core[n], &st);
        HM_FUZZ_CHECK(st.height == w.height[n]);
        pbft_free(&w.core[n]);
        for (int h = 0; h <= MAXH; h++)
            free(w.blk[n][h]);
    }
    while (w.nq)
        take(0);
    for (size_t i = 0; i < HIST; i++)
        free(w.hist[i]);
    return 0;
}
