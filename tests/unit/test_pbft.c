/* Unit tests: consensus/pbft — one case per validation rule of each
 * message (exact reasons), the normal case end to end, view change with
 * NEW-VIEW validation, restart without equivocation, catch-up. The core
 * under test is replica 1 of 4 (replica 0 is primary of view 0). */
#include "tests/unit/testutil.h"
#include "tests/unit/txfixture.h"

#include "consensus/cert.h"
#include "consensus/pbft.h"
#include "consensus/valset.h"
#include "consensus/vote.h"
#include "lib/block.h"
#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/tx.h"

#define N 4
#define ME 1
#define NOW 100000u
static uint8_t sk[N + 1][32], pk[N + 1][32]; /* index N: an outsider */
static uint8_t chain[32], other_chain[32];
static valset_t *vs;
static const uint8_t SR0[32] = {0x11}, RR0[32] = {0x22};

static int setup(void **state)
{
    (void)state;
    uint64_t seed = 42;
    for (int i = 0; i <= N; i++)
        do {
            tu_fill(sk[i], 32, &seed);
        } while (hm_key_pubkey(pk[i], sk[i]) != HM_OK);
    hm_tagged_hash(chain, HM_TAG_GENESIS, "unit", 4);
    hm_tagged_hash(other_chain, HM_TAG_GENESIS, "other", 5);
    return valset_new(&vs, (const uint8_t(*)[32])pk, N) == HM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    valset_free(&vs);
    return 0;
}

typedef struct {
    pbft_t *p;
    pbft_outbox_t o;
} fx_t;

static void fx_start(fx_t *fx, int me, bool executed, const int *rk, const uint8_t *const *rb,
                     const size_t *rl, size_t nr)
{
    pbft_config_t cfg;
    pbft_config_default(&cfg);
    memcpy(cfg.chain_id, chain, 32);
    cfg.vs = vs;
    cfg.seckey = sk[me];
    cfg.genesis_time_ms = 1000;
    cfg.deterministic_sigs = true;
    assert_int_equal(pbft_new(&fx->p, &cfg), HM_OK);
    pbft_outbox_init(&fx->o);
    assert_int_equal(pbft_start(fx->p, &fx->o, NOW, NULL, 0, rk, rb, rl, nr), HM_OK);
    if (executed)
        pbft_on_executed(fx->p, &fx->o, NOW, 0, SR0, RR0);
    pbft_outbox_clear(&fx->o);
}

static void fx_free(fx_t *fx)
{
    pbft_free(&fx->p);
    pbft_outbox_free(&fx->o);
}

static size_t count_kind(const fx_t *fx, pbft_out_kind_t k)
{
    size_t c = 0;
    for (size_t i = 0; i < fx->o.n; i++)
        c += fx->o.v[i].kind == k;
    return c;
}

/* ---------------------------------------------------------- message makers */

typedef struct {
    uint64_t height, view, time;
    int proposer;
    const uint8_t *chain, *prev, *state, *results, *valset;
    bool bad_tx_root, bad_tx;
} blk_spec_t;

static blk_spec_t spec_default(void)
{
    static const uint8_t zero[32];
    blk_spec_t s = {1, 0, 2000, 0, chain, zero, SR0, RR0, NULL, false, false};
    s.valset = vs->hash;
    return s;
}

static uint8_t *make_block(const blk_spec_t *s, size_t *len, uint8_t hash[32])
{
    Hallmark__Tx tx = HALLMARK__TX__INIT;
    Hallmark__Scrap scrap = HALLMARK__SCRAP__INIT;
    char *serials[] = {(char *)"S1"};
    scrap.serials = serials;
    scrap.n_serials = 1;
    tx.chain_id.data = s->bad_tx ? other_chain : chain;
    tx.chain_id.len = 32;
    tx.signer.data = pk[3];
    tx.signer.len = 32;
    tx.body_case = HALLMARK__TX__BODY_SCRAP;
    tx.scrap = &scrap;
    ProtobufCBinaryData txb;
    uint8_t txid[32];
    assert_int_equal(hm_tx_sign(&txb.data, &txb.len, txid, &tx, sk[3]), HM_OK);
    hm_hash32_t ids[1];
    memcpy(ids[0], txid, 32);
    uint8_t root[32];
    hm_merkle_root(root, (const hm_hash32_t *)ids, 1);
    if (s->bad_tx_root)
        root[0] ^= 1;
    Hallmark__Header h = HALLMARK__HEADER__INIT;
    h.chain_id = (ProtobufCBinaryData){32, (uint8_t *)s->chain};
    h.height = s->height;
    h.view = s->view;
    h.time_ms = s->time;
    h.prev_hash = (ProtobufCBinaryData){32, (uint8_t *)s->prev};
    h.tx_root = (ProtobufCBinaryData){32, root};
    h.results_root = (ProtobufCBinaryData){32, (uint8_t *)s->results};
    h.state_root = (ProtobufCBinaryData){32, (uint8_t *)s->state};
    h.validator_set_hash = (ProtobufCBinaryData){32, (uint8_t *)s->valset};
    h.proposer = (ProtobufCBinaryData){32, pk[s->proposer]};
    uint8_t *out = NULL;
    assert_int_equal(hm_block_build(&out, len, hash, &h, &txb, 1), HM_OK);
    free(txb.data);
    return out;
}

static void fill_vote(Hallmark__Vote *v, uint8_t *sig, int signer, uint8_t phase, uint64_t view,
                      uint64_t height, const uint8_t *digest, const uint8_t *sign_chain)
{
    hallmark__vote__init(v);
    assert_int_equal(pbft_vote_sign(sig, sk[signer], sign_chain, phase, view, height, digest,
                                    true),
                     HM_OK);
    v->phase = (Hallmark__VotePhase)phase;
    v->view = view;
    v->height = height;
    v->digest = (ProtobufCBinaryData){32, (uint8_t *)digest};
    v->validator = (ProtobufCBinaryData){32, pk[signer]};
    v->signature = (ProtobufCBinaryData){64, sig};
}

static uint8_t *vote_env(size_t *len, int signer, uint8_t phase, uint64_t view, uint64_t height,
                         const uint8_t *digest)
{
    Hallmark__Vote v;
    uint8_t sig[64];
    fill_vote(&v, sig, signer, phase, view, height, digest, chain);
    Hallmark__Envelope e = HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_VOTE;
    e.vote = &v;
    uint8_t *out = NULL;
    assert_int_equal(hm_codec_encode(&out, len, &e.base), HM_OK);
    return out;
}

static uint8_t *pp_env(size_t *len, int signer, uint64_t view, uint64_t height,
                       const uint8_t *block, size_t blen, const uint8_t *digest)
{
    Hallmark__Vote v;
    uint8_t sig[64];
    fill_vote(&v, sig, signer, PBFT_PHASE_PREPREPARE, view, height, digest, chain);
    Hallmark__PrePrepare pp = HALLMARK__PRE_PREPARE__INIT;
    pp.vote = &v;
    pp.block = (ProtobufCBinaryData){blen, (uint8_t *)block};
    Hallmark__Envelope e = HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_PREPREPARE;
    e.preprepare = &pp;
    uint8_t *out = NULL;
    assert_int_equal(hm_codec_encode(&out, len, &e.base), HM_OK);
    return out;
}

/* len by pointer: read after env is built (argument order is unspecified) */
static pbft_reason_t feed(fx_t *fx, uint8_t *env, const size_t *len)
{
    pbft_reason_t r = pbft_on_message(fx->p, &fx->o, NOW, 0, env, *len);
    free(env);
    return r;
}

static pbft_reason_t feed_block(fx_t *fx, const blk_spec_t *s, int signer)
{
    size_t bl, el;
    uint8_t hash[32];
    uint8_t *b = make_block(s, &bl, hash);
    uint8_t *e = pp_env(&el, signer, s->view, s->height, b, bl, hash);
    free(b);
    return feed(fx, e, &el);
}

/* ------------------------------------------------------------------ votes */

static void test_vote_rules(void **state)
{
    (void)state;
    fx_t fx;
    fx_start(&fx, ME, true, NULL, NULL, NULL, 0);
    uint8_t d[32] = {7};
    size_t len;
    uint8_t *e;
    /* accepted, then duplicate, then a conflicting digest from the same sender */
    assert_int_equal(feed(&fx, vote_env(&len, 2, PBFT_PHASE_PREPARE, 0, 1, d), &len), PBFT_OK);
    assert_int_equal(feed(&fx, vote_env(&len, 2, PBFT_PHASE_PREPARE, 0, 1, d), &len),
                     PBFT_REJ_DUPLICATE);
    uint8_t d2[32] = {8};
    assert_int_equal(feed(&fx, vote_env(&len, 2, PBFT_PHASE_PREPARE, 0, 1, d2), &len),
                     PBFT_REJ_CONFLICT);
    /* phase */
    assert_int_equal(feed(&fx, vote_env(&len, 2, PBFT_PHASE_PREPREPARE, 0, 1, d), &len),
                     PBFT_REJ_PHASE);
    /* sender outside the set */
    assert_int_equal(feed(&fx, vote_env(&len, N, PBFT_PHASE_PREPARE, 0, 1, d), &len),
                     PBFT_REJ_SENDER);
    /* height */
    assert_int_equal(feed(&fx, vote_env(&len, 2, PBFT_PHASE_PREPARE, 0, 0, d), &len),
                     PBFT_REJ_OLD_HEIGHT);
    pbft_outbox_clear(&fx.o);
    assert_int_equal(feed(&fx, vote_env(&len, 2, PBFT_PHASE_COMMIT, 0, 9, d), &len),
                     PBFT_REJ_FUTURE_HEIGHT);
    assert_int_equal(count_kind(&fx, PBFT_OUT_REQUEST), 1); /* catch-up asked */
    /* view window */
    assert_int_equal(feed(&fx, vote_env(&len, 2, PBFT_PHASE_PREPARE, 1000, 1, d), &len),
                     PBFT_REJ_FUTURE_VIEW);
    /* signature: for another chain; tampered */
    Hallmark__Vote v;
    uint8_t sig[64];
    fill_vote(&v, sig, 3, PBFT_PHASE_PREPARE, 0, 1, d, other_chain);
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    env.msg_case = HALLMARK__ENVELOPE__MSG_VOTE;
    env.vote = &v;
    assert_int_equal(hm_codec_encode(&e, &len, &env.base), HM_OK);
    assert_int_equal(feed(&fx, e, &len), PBFT_REJ_SIGNATURE);
    fill_vote(&v, sig, 3, PBFT_PHASE_PREPARE, 0, 1, d, chain);
    sig[5] ^= 1;
    assert_int_equal(hm_codec_encode(&e, &len, &env.base), HM_OK);
    assert_int_equal(feed(&fx, e, &len), PBFT_REJ_SIGNATURE);
    /* shape */
    sig[5] ^= 1;
    v.digest.len = 31;
    assert_int_equal(hm_codec_encode(&e, &len, &env.base), HM_OK);
    assert_int_equal(feed(&fx, e, &len), PBFT_REJ_DECODE);
    /* garbage and non-consensus envelopes */
    uint8_t junk[] = {0xff, 0x01, 0x02};
    assert_int_equal(pbft_on_message(fx.p, &fx.o, NOW, 0, junk, sizeof junk), PBFT_REJ_DECODE);
    Hallmark__TxBatch tb = HALLMARK__TX_BATCH__INIT;
    Hallmark__Envelope e2 = HALLMARK__ENVELOPE__INIT;
    e2.msg_case = HALLMARK__ENVELOPE__MSG_TX_BATCH;
    e2.tx_batch = &tb;
    assert_int_equal(hm_codec_encode(&e, &len, &e2.base), HM_OK);
    assert_int_equal(feed(&fx, e, &len), PBFT_REJ_NOT_CONSENSUS);
    fx_free(&fx);
}

/* ------------------------------------------------------------- pre-prepare */

static void test_preprepare_header_rules(void **state)
{
    (void)state;
    fx_t fx;
    fx_start(&fx, ME, true, NULL, NULL, NULL, 0);
    uint8_t bad[32];
    memset(bad, 0xab, 32);
    struct {
        blk_spec_t s;
        pbft_reason_t want;
    } cases[16];
    size_t n = 0;
    blk_spec_t s;
#define CASE(mod, reason)                                                                          \
    do {                                                                                           \
        s = spec_default();                                                                        \
        mod;                                                                                       \
        cases[n].s = s;                                                                            \
        cases[n++].want = reason;                                                                  \
    } while (0)
    CASE(s.chain = other_chain, PBFT_REJ_CHAIN);
    CASE(s.prev = bad, PBFT_REJ_HEADER_PREV);
    CASE(s.state = bad, PBFT_REJ_HEADER_STATE);
    CASE(s.results = bad, PBFT_REJ_HEADER_RESULTS);
    CASE(s.valset = bad, PBFT_REJ_HEADER_VALSET);
    CASE(s.time = 1000, PBFT_REJ_TIME_OLD);
    CASE(s.time = NOW + 10001, PBFT_REJ_TIME_FUTURE);
    CASE(s.bad_tx_root = true, PBFT_REJ_TX_ROOT);
    CASE(s.bad_tx = true, PBFT_REJ_TX_INVALID);
    CASE(s.proposer = 2, PBFT_REJ_HEADER_PROPOSER);
#undef CASE
    for (size_t i = 0; i < n; i++)
        assert_string_equal(pbft_reason_name(feed_block(&fx, &cases[i].s, 0)),
                            pbft_reason_name(cases[i].want));
    /* header height != vote height */
    size_t bl, el;
    uint8_t hash[32];
    s = spec_default();
    s.height = 2;
    uint8_t *b = make_block(&s, &bl, hash);
    assert_int_equal(feed(&fx, pp_env(&el, 0, 0, 1, b, bl, hash), &el), PBFT_REJ_HEADER_HEIGHT);
    free(b);
    /* header view != vote view for a fresh proposal */
    s = spec_default();
    s.view = 4; /* primary of view 4 is replica 0 too */
    b = make_block(&s, &bl, hash);
    assert_int_equal(feed(&fx, pp_env(&el, 0, 0, 1, b, bl, hash), &el), PBFT_REJ_HEADER_VIEW);
    free(b);
    fx_free(&fx);
}

static void test_preprepare_rules(void **state)
{
    (void)state;
    fx_t fx;
    fx_start(&fx, ME, false, NULL, NULL, NULL, 0);
    blk_spec_t s = spec_default();
    size_t bl, el;
    uint8_t hash[32], other[32] = {1};
    uint8_t *b = make_block(&s, &bl, hash);
    /* not the primary of view 0 */
    assert_int_equal(feed(&fx, pp_env(&el, 2, 0, 1, b, bl, hash), &el), PBFT_REJ_NOT_PRIMARY);
    /* digest is not the block's hash */
    pbft_on_executed(fx.p, &fx.o, NOW, 0, SR0, RR0);
    assert_int_equal(feed(&fx, pp_env(&el, 0, 0, 1, b, bl, other), &el), PBFT_REJ_DIGEST);
    /* oversize block */
    /* a signature by the wrong key */
    uint8_t *e = pp_env(&el, 0, 0, 1, b, bl, hash);
    Hallmark__Envelope *d = NULL;
    assert_int_equal(hm_decode_envelope(&d, e, el), HM_OK);
    d->preprepare->vote->signature.data[0] ^= 1;
    free(e);
    assert_int_equal(hm_codec_encode(&e, &el, &d->base), HM_OK);
    hm_free_envelope(d);
    assert_int_equal(feed(&fx, e, &el), PBFT_REJ_SIGNATURE);
    /* a future view's pre-prepare outside a new-view */
    assert_int_equal(feed(&fx, pp_env(&el, 1, 1, 1, b, bl, hash), &el), PBFT_REJ_FUTURE_VIEW);
    /* accepted: persists the PREPARE record before sending it */
    pbft_outbox_clear(&fx.o);
    assert_int_equal(feed(&fx, pp_env(&el, 0, 0, 1, b, bl, hash), &el), PBFT_OK);
    size_t persist_at = SIZE_MAX, send_at = SIZE_MAX;
    for (size_t i = 0; i < fx.o.n; i++) {
        if (fx.o.v[i].kind == PBFT_OUT_PERSIST && persist_at == SIZE_MAX)
            persist_at = i;
        if (fx.o.v[i].kind == PBFT_OUT_SEND && send_at == SIZE_MAX)
            send_at = i;
    }
    assert_true(persist_at < send_at && send_at != SIZE_MAX);
    assert_int_equal(feed(&fx, pp_env(&el, 0, 0, 1, b, bl, hash), &el), PBFT_REJ_DUPLICATE);
    /* a second, different block from the primary in the same view */
    s.time = 2001;
    uint8_t h2[32];
    uint8_t *b2 = make_block(&s, &bl, h2);
    assert_int_equal(feed(&fx, pp_env(&el, 0, 0, 1, b2, bl, h2), &el), PBFT_REJ_CONFLICT);
    free(b2);
    free(b);
    fx_free(&fx);
}

static void test_not_executed_is_held(void **state)
{
    (void)state;
    fx_t fx;
    fx_start(&fx, ME, false, NULL, NULL, NULL, 0);
    blk_spec_t s = spec_default();
    assert_int_equal(feed_block(&fx, &s, 0), PBFT_REJ_NOT_EXECUTED);
    pbft_outbox_clear(&fx.o);
    pbft_on_executed(fx.p, &fx.o, NOW, 0, SR0, RR0);
    assert_true(count_kind(&fx, PBFT_OUT_SEND) >= 1); /* the held proposal got its PREPARE */
    fx_free(&fx);
}

/* The next height's proposal, come while this height is not final here
 * yet (a lagging replica), is held and taken once this height executes. */
static void test_next_height_proposal_is_held(void **state)
{
    (void)state;
    fx_t fx;
    fx_start(&fx, ME, true, NULL, NULL, NULL, 0);
    static const uint8_t SR1[32] = {0x33}, RR1[32] = {0x44};
    blk_spec_t s1 = spec_default();
    size_t bl1, el;
    uint8_t h1[32], h2[32];
    uint8_t *b1 = make_block(&s1, &bl1, h1);
    blk_spec_t s2 = spec_default();
    s2.height = 2;
    s2.time = 3000;
    s2.prev = h1;
    s2.state = SR1;
    s2.results = RR1;
    size_t bl2;
    uint8_t *b2 = make_block(&s2, &bl2, h2);
    assert_int_equal(feed(&fx, pp_env(&el, 0, 0, 2, b2, bl2, h2), &el), PBFT_REJ_FUTURE_HEIGHT);
    free(b2);
    /* height 1 becomes final here: pre-prepare, prepares, commits */
    assert_int_equal(feed(&fx, pp_env(&el, 0, 0, 1, b1, bl1, h1), &el), PBFT_OK);
    free(b1);
    assert_int_equal(feed(&fx, vote_env(&el, 2, PBFT_PHASE_PREPARE, 0, 1, h1), &el), PBFT_OK);
    assert_int_equal(feed(&fx, vote_env(&el, 2, PBFT_PHASE_COMMIT, 0, 1, h1), &el), PBFT_OK);
    assert_int_equal(feed(&fx, vote_env(&el, 3, PBFT_PHASE_COMMIT, 0, 1, h1), &el), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_COMMIT), 1);
    pbft_outbox_clear(&fx.o);
    pbft_on_executed(fx.p, &fx.o, NOW, 1, SR1, RR1);
    /* the held proposal of height 2 got its PREPARE */
    bool prepared = false;
    for (size_t i = 0; i < fx.o.n; i++) {
        Hallmark__Envelope *e = NULL;
        if (fx.o.v[i].kind != PBFT_OUT_SEND ||
            hm_decode_envelope(&e, fx.o.v[i].data, fx.o.v[i].len) != HM_OK)
            continue;
        if (e->msg_case == HALLMARK__ENVELOPE__MSG_VOTE && e->vote->height == 2 &&
            e->vote->phase == (Hallmark__VotePhase)PBFT_PHASE_PREPARE &&
            memcmp(e->vote->digest.data, h2, 32) == 0)
            prepared = true;
        hm_free_envelope(e);
    }
    assert_true(prepared);
    fx_free(&fx);
}

/* ----------------------------------------------------------- normal case */

static void test_normal_case_commit(void **state)
{
    (void)state;
    fx_t fx;
    fx_start(&fx, ME, true, NULL, NULL, NULL, 0);
    blk_spec_t s = spec_default();
    size_t bl, el;
    uint8_t hash[32];
    uint8_t *b = make_block(&s, &bl, hash);
    assert_int_equal(feed(&fx, pp_env(&el, 0, 0, 1, b, bl, hash), &el), PBFT_OK);
    /* 2f = 2 prepares of others + the pre-prepare: prepared; the primary's
     * prepare does not count */
    assert_int_equal(feed(&fx, vote_env(&el, 0, PBFT_PHASE_PREPARE, 0, 1, hash), &el), PBFT_OK);
    pbft_outbox_clear(&fx.o);
    assert_int_equal(feed(&fx, vote_env(&el, 2, PBFT_PHASE_PREPARE, 0, 1, hash), &el), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_PERSIST), 2); /* prepared cert + COMMIT record */
    assert_int_equal(count_kind(&fx, PBFT_OUT_SEND), 1);
    pbft_outbox_clear(&fx.o);
    assert_int_equal(feed(&fx, vote_env(&el, 2, PBFT_PHASE_COMMIT, 0, 1, hash), &el), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_COMMIT), 0); /* 2 of 3 */
    assert_int_equal(feed(&fx, vote_env(&el, 3, PBFT_PHASE_COMMIT, 0, 1, hash), &el), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_COMMIT), 1);
    const pbft_out_t *c = NULL;
    for (size_t i = 0; i < fx.o.n; i++)
        if (fx.o.v[i].kind == PBFT_OUT_COMMIT)
            c = &fx.o.v[i];
    Hallmark__CertifiedBlock *cb = NULL;
    assert_int_equal(hm_decode_certified_block(&cb, c->data, c->len), HM_OK);
    uint64_t h = 1;
    assert_int_equal(cert_verify(NULL, cb->cert, chain, vs, &h, hash), HM_OK);
    assert_memory_equal(cb->block.data, b, bl);
    hm_free_certified_block(cb);
    pbft_status_t st;
    pbft_get_status(fx.p, &st);
    assert_int_equal(st.height, 1);
    assert_memory_equal(st.last_hash, hash, 32);
    /* the catch-up path refuses the same block again */
    pbft_outbox_t o2;
    pbft_outbox_init(&o2);
    uint8_t *copy = malloc(c->len);
    memcpy(copy, c->data, c->len);
    size_t clen = c->len;
    assert_int_equal(pbft_on_certified_block(fx.p, &o2, NOW, copy, clen), PBFT_REJ_OLD_HEIGHT);
    /* a fresh replica accepts it by catch-up, and not with a broken cert */
    fx_t fy;
    fx_start(&fy, 2, true, NULL, NULL, NULL, 0);
    Hallmark__CertifiedBlock *bad = NULL;
    assert_int_equal(hm_decode_certified_block(&bad, copy, clen), HM_OK);
    bad->cert->n_signatures = 2;
    uint8_t *bb = NULL;
    size_t bbl;
    assert_int_equal(hm_codec_encode(&bb, &bbl, &bad->base), HM_OK);
    bad->cert->n_signatures = 3;
    hm_free_certified_block(bad);
    assert_int_equal(pbft_on_certified_block(fy.p, &fy.o, NOW, bb, bbl), PBFT_REJ_CERT);
    assert_int_equal(pbft_on_certified_block(fy.p, &fy.o, NOW, copy, clen), PBFT_OK);
    assert_int_equal(count_kind(&fy, PBFT_OUT_COMMIT), 1);
    free(bb);
    free(copy);
    pbft_outbox_free(&o2);
    fx_free(&fy);
    free(b);
    fx_free(&fx);
}

static void test_primary_builds(void **state)
{
    (void)state;
    fx_t fx;
    fx_start(&fx, 0, true, NULL, NULL, NULL, 0);
    pbft_on_work(fx.p, &fx.o, NOW, true);
    assert_int_equal(count_kind(&fx, PBFT_OUT_BUILD), 1);
    pbft_outbox_clear(&fx.o);
    assert_int_equal(pbft_propose(fx.p, &fx.o, NOW, 2, 0, NULL, NULL, NULL, 0), PBFT_REJ_STATE);
    assert_int_equal(pbft_propose(fx.p, &fx.o, NOW, 1, 0, NULL, NULL, NULL, 0), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_PERSIST), 1);
    assert_int_equal(count_kind(&fx, PBFT_OUT_SEND), 1);
    /* the proposal passes a replica's checks */
    fx_t fy;
    fx_start(&fy, ME, true, NULL, NULL, NULL, 0);
    for (size_t i = 0; i < fx.o.n; i++)
        if (fx.o.v[i].kind == PBFT_OUT_SEND)
            assert_int_equal(pbft_on_message(fy.p, &fy.o, NOW, 0, fx.o.v[i].data, fx.o.v[i].len),
                             PBFT_OK);
    fx_free(&fy);
    fx_free(&fx);
}

/* A primary's own proposal from txs whose txids its caller vouches for
 * (its mempool verified them on admission): the core proposes them without
 * decoding or verifying them again; a replica still checks every one. */
static pbft_reason_t propose_vouched(bool corrupt)
{
    hm_hash32_t ids[2];
    ProtobufCBinaryData t[2];
    const uint8_t *ptrs[2];
    size_t lens[2];
    for (int i = 0; i < 2; i++) {
        t[i] = tu_scrap_tx(chain, 1, ids[i], NULL);
        ptrs[i] = t[i].data;
        lens[i] = t[i].len;
    }
    if (corrupt)
        t[1].data[t[1].len - 1] ^= 1; /* inside the signature */
    fx_t fx;
    fx_start(&fx, 0, true, NULL, NULL, NULL, 0);
    pbft_on_work(fx.p, &fx.o, NOW, true);
    pbft_outbox_clear(&fx.o);
    assert_int_equal(pbft_propose(fx.p, &fx.o, NOW, 1, 0, ptrs, lens,
                                  (const hm_hash32_t *)ids, 2),
                     PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_SEND), 1);
    fx_t fy;
    fx_start(&fy, ME, true, NULL, NULL, NULL, 0);
    pbft_reason_t why = PBFT_REJ_STATE;
    for (size_t i = 0; i < fx.o.n; i++)
        if (fx.o.v[i].kind == PBFT_OUT_SEND)
            why = pbft_on_message(fy.p, &fy.o, NOW, 0, fx.o.v[i].data, fx.o.v[i].len);
    fx_free(&fy);
    fx_free(&fx);
    for (int i = 0; i < 2; i++)
        free(t[i].data);
    return why;
}

static void test_primary_proposes_vouched_txs(void **state)
{
    (void)state;
    assert_int_equal(propose_vouched(false), PBFT_OK);
    /* the core took the caller's word; the replica did not */
    assert_int_equal(propose_vouched(true), PBFT_REJ_TX_INVALID);
}

static bool has_timer_out(const fx_t *fx, pbft_out_kind_t k, int timer)
{
    for (size_t i = 0; i < fx->o.n; i++)
        if (fx->o.v[i].kind == k && fx->o.v[i].timer == timer)
            return true;
    return false;
}

/* With a batch delay, a primary waits for the batch timer, unless the
 * pending work already fills a block (DESIGN §7); a full batch while a
 * block is in flight makes the next one start at once. */
static void test_primary_full_batch_skips_delay(void **state)
{
    (void)state;
    pbft_config_t cfg;
    pbft_config_default(&cfg);
    memcpy(cfg.chain_id, chain, 32);
    cfg.vs = vs;
    cfg.seckey = sk[0];
    cfg.genesis_time_ms = 1000;
    cfg.deterministic_sigs = true;
    cfg.batch_delay_ms = 50;
    fx_t fx;
    assert_int_equal(pbft_new(&fx.p, &cfg), HM_OK);
    pbft_outbox_init(&fx.o);
    assert_int_equal(pbft_start(fx.p, &fx.o, NOW, NULL, 0, NULL, NULL, NULL, 0), HM_OK);
    pbft_on_executed(fx.p, &fx.o, NOW, 0, SR0, RR0);
    pbft_outbox_clear(&fx.o);
    /* some work: the batch timer, no build yet */
    pbft_on_work(fx.p, &fx.o, NOW, true);
    assert_int_equal(count_kind(&fx, PBFT_OUT_BUILD), 0);
    assert_true(has_timer_out(&fx, PBFT_OUT_TIMER_SET, PBFT_TIMER_BATCH));
    pbft_outbox_clear(&fx.o);
    /* more work arrives and fills a block: build now, timer cancelled */
    pbft_on_full_batch(fx.p, &fx.o, NOW + 1);
    assert_int_equal(count_kind(&fx, PBFT_OUT_BUILD), 1);
    assert_true(has_timer_out(&fx, PBFT_OUT_TIMER_CANCEL, PBFT_TIMER_BATCH));
    pbft_outbox_clear(&fx.o);
    /* while that build is pending, a second signal builds nothing more */
    pbft_on_full_batch(fx.p, &fx.o, NOW + 2);
    assert_int_equal(count_kind(&fx, PBFT_OUT_BUILD), 0);
    pbft_outbox_clear(&fx.o);
    assert_int_equal(pbft_propose(fx.p, &fx.o, NOW + 2, 1, 0, NULL, NULL, NULL, 0), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_SEND), 1);
    pbft_outbox_clear(&fx.o);
    /* a replica (not primary in view 0) never builds on the signal */
    fx_t fy;
    fx_start(&fy, ME, true, NULL, NULL, NULL, 0);
    pbft_on_full_batch(fy.p, &fy.o, NOW);
    assert_int_equal(count_kind(&fy, PBFT_OUT_BUILD), 0);
    fx_free(&fy);
    fx_free(&fx);
}

/* ------------------------------------------------------- restart recovery */

static void test_restart_never_equivocates(void **state)
{
    (void)state;
    /* first life: prepare block A at (view 0, height 1) */
    fx_t fx;
    fx_start(&fx, ME, true, NULL, NULL, NULL, 0);
    blk_spec_t s = spec_default();
    assert_int_equal(feed_block(&fx, &s, 0), PBFT_OK);
    int rk[8];
    uint8_t *rb[8];
    size_t rl[8], nr = 0;
    for (size_t i = 0; i < fx.o.n && nr < 8; i++)
        if (fx.o.v[i].kind == PBFT_OUT_PERSIST) {
            rk[nr] = fx.o.v[i].rec_kind;
            rb[nr] = malloc(fx.o.v[i].len);
            memcpy(rb[nr], fx.o.v[i].data, fx.o.v[i].len);
            rl[nr++] = fx.o.v[i].len;
        }
    assert_int_equal(nr, 1);
    fx_free(&fx);
    /* second life: the (Byzantine) primary offers block B in the same view */
    fx_start(&fx, ME, true, rk, (const uint8_t *const *)rb, rl, nr);
    s.time = 2500;
    pbft_outbox_clear(&fx.o);
    assert_int_equal(feed_block(&fx, &s, 0), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_SEND), 0); /* no PREPARE for B */
    assert_int_equal(count_kind(&fx, PBFT_OUT_PERSIST), 0);
    /* block A again is fine */
    fx_free(&fx);
    fx_start(&fx, ME, true, rk, (const uint8_t *const *)rb, rl, nr);
    s.time = 2000;
    assert_int_equal(feed_block(&fx, &s, 0), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_SEND), 1);
    fx_free(&fx);
    for (size_t i = 0; i < nr; i++)
        free(rb[i]);
}

/* ------------------------------------------------------------ view change */

static uint8_t *vc_msg(size_t *len, int signer, uint64_t new_view, uint64_t committed,
                       const uint8_t *sign_chain, bool corrupt_sig)
{
    Hallmark__ViewChangeBody b = HALLMARK__VIEW_CHANGE_BODY__INIT;
    b.chain_id = (ProtobufCBinaryData){32, (uint8_t *)sign_chain};
    b.validator = (ProtobufCBinaryData){32, pk[signer]};
    b.new_view = new_view;
    b.committed_height = committed;
    uint8_t *body = NULL, msg[32], sig[64];
    size_t bl;
    assert_int_equal(hm_codec_encode(&body, &bl, &b.base), HM_OK);
    hm_tagged_hash(msg, HM_TAG_VIEWCHANGE, body, bl);
    assert_int_equal(hm_sign(sig, sk[signer], msg, NULL), HM_OK);
    if (corrupt_sig)
        sig[0] ^= 1;
    Hallmark__ViewChange vc = HALLMARK__VIEW_CHANGE__INIT;
    vc.body = (ProtobufCBinaryData){bl, body};
    vc.signature = (ProtobufCBinaryData){64, sig};
    uint8_t *out = NULL;
    assert_int_equal(hm_codec_encode(&out, len, &vc.base), HM_OK);
    free(body);
    return out;
}

static uint8_t *wrap_vc(size_t *len, uint8_t *vc_bytes, size_t vl)
{
    Hallmark__ViewChange *vc = NULL;
    assert_int_equal(hm_codec_decode((void **)&vc, &hallmark__view_change__descriptor, 1 << 20,
                                     vc_bytes, vl),
                     HM_OK);
    Hallmark__Envelope e = HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_VIEW_CHANGE;
    e.view_change = vc;
    uint8_t *out = NULL;
    assert_int_equal(hm_codec_encode(&out, len, &e.base), HM_OK);
    hm_codec_free(vc);
    free(vc_bytes);
    return out;
}

static pbft_reason_t feed_vc(fx_t *fx, int signer, uint64_t nv, uint64_t committed,
                             const uint8_t *c, bool corrupt)
{
    size_t vl, el;
    uint8_t *v = vc_msg(&vl, signer, nv, committed, c, corrupt);
    return feed(fx, wrap_vc(&el, v, vl), &el);
}

static void test_view_change_rules(void **state)
{
    (void)state;
    fx_t fx;
    fx_start(&fx, ME, true, NULL, NULL, NULL, 0);
    assert_int_equal(feed_vc(&fx, 2, 1, 0, other_chain, false), PBFT_REJ_CHAIN);
    assert_int_equal(feed_vc(&fx, N, 1, 0, chain, false), PBFT_REJ_SENDER);
    assert_int_equal(feed_vc(&fx, 2, 1, 0, chain, true), PBFT_REJ_SIGNATURE);
    assert_int_equal(feed_vc(&fx, 2, 0, 0, chain, false), PBFT_REJ_OLD_VIEW);
    pbft_outbox_clear(&fx.o);
    assert_int_equal(feed_vc(&fx, 2, 1, 5, chain, false), PBFT_REJ_FUTURE_HEIGHT);
    assert_int_equal(count_kind(&fx, PBFT_OUT_REQUEST), 1);
    /* f+1 = 2 view-changes for view 2 make us join view 2 */
    assert_int_equal(feed_vc(&fx, 2, 2, 0, chain, false), PBFT_OK);
    assert_int_equal(feed_vc(&fx, 2, 2, 0, chain, false), PBFT_REJ_DUPLICATE);
    pbft_status_t st;
    pbft_get_status(fx.p, &st);
    assert_false(st.in_view_change);
    pbft_outbox_clear(&fx.o);
    assert_int_equal(feed_vc(&fx, 3, 2, 0, chain, false), PBFT_OK);
    pbft_get_status(fx.p, &st);
    assert_true(st.in_view_change);
    assert_int_equal(st.view, 2);
    /* joining persisted the view before the VIEW-CHANGE left */
    assert_int_equal(fx.o.v[0].kind, PBFT_OUT_PERSIST);
    assert_int_equal(fx.o.v[0].rec_kind, PBFT_REC_VIEW);
    /* a pre-prepare while changing view */
    blk_spec_t s = spec_default();
    s.view = 2;
    s.proposer = 2;
    assert_int_equal(feed_block(&fx, &s, 2), PBFT_REJ_IN_VIEW_CHANGE);
    fx_free(&fx);
}

/* The new primary (replica 1 for view 1) gathers 2f+1 view-changes and its
 * NEW-VIEW passes another replica's checks; tampered ones do not. */
static void test_new_view(void **state)
{
    (void)state;
    fx_t prim, rep;
    fx_start(&prim, 1, true, NULL, NULL, NULL, 0);
    fx_start(&rep, 2, true, NULL, NULL, NULL, 0);
    pbft_on_work(prim.p, &prim.o, NOW, true);
    pbft_on_timer(prim.p, &prim.o, NOW, PBFT_TIMER_VIEW); /* its own VC for view 1 */
    assert_int_equal(feed_vc(&prim, 2, 1, 0, chain, false), PBFT_OK);
    pbft_outbox_clear(&prim.o);
    assert_int_equal(feed_vc(&prim, 3, 1, 0, chain, false), PBFT_OK);
    assert_int_equal(count_kind(&prim, PBFT_OUT_BUILD), 1); /* no prepared block: fresh */
    pbft_outbox_clear(&prim.o);
    assert_int_equal(pbft_propose(prim.p, &prim.o, NOW, 1, 1, NULL, NULL, NULL, 0), PBFT_OK);
    const pbft_out_t *nv = NULL;
    for (size_t i = 0; i < prim.o.n; i++)
        if (prim.o.v[i].kind == PBFT_OUT_SEND)
            nv = &prim.o.v[i];
    assert_non_null(nv);
    /* replica 2 is still in view 0 and not changing: a NEW-VIEW for view 1
     * is valid from its contents alone */
    Hallmark__Envelope *e = NULL;
    assert_int_equal(hm_decode_envelope(&e, nv->data, nv->len), HM_OK);
    assert_int_equal(e->msg_case, HALLMARK__ENVELOPE__MSG_NEW_VIEW);
    Hallmark__NewViewBody *body = NULL;
    assert_int_equal(hm_decode_new_view_body(&body, e->new_view->body.data,
                                             e->new_view->body.len),
                     HM_OK);
    assert_int_equal(body->n_view_changes, 3);
    /* tampered: drop a view-change (too few), re-signed by the primary */
    uint8_t *enc = NULL, msg[32], sig[64];
    size_t enc_len, el;
    body->n_view_changes = 2;
    assert_int_equal(hm_codec_encode(&enc, &enc_len, &body->base), HM_OK);
    body->n_view_changes = 3;
    hm_tagged_hash(msg, HM_TAG_NEWVIEW, enc, enc_len);
    assert_int_equal(hm_sign(sig, sk[1], msg, NULL), HM_OK);
    Hallmark__NewView nv2 = HALLMARK__NEW_VIEW__INIT;
    nv2.body = (ProtobufCBinaryData){enc_len, enc};
    nv2.signature = (ProtobufCBinaryData){64, sig};
    Hallmark__Envelope e2 = HALLMARK__ENVELOPE__INIT;
    e2.msg_case = HALLMARK__ENVELOPE__MSG_NEW_VIEW;
    e2.new_view = &nv2;
    uint8_t *out = NULL;
    assert_int_equal(hm_codec_encode(&out, &el, &e2.base), HM_OK);
    assert_int_equal(feed(&rep, out, &el), PBFT_REJ_NV_TOO_FEW);
    /* signed by a non-primary */
    assert_int_equal(hm_sign(sig, sk[3], msg, NULL), HM_OK);
    assert_int_equal(hm_codec_encode(&out, &el, &e2.base), HM_OK);
    assert_int_equal(feed(&rep, out, &el), PBFT_REJ_SIGNATURE);
    free(enc);
    /* a duplicated view-change */
    Hallmark__ViewChange *keep = body->view_changes[2];
    body->view_changes[2] = body->view_changes[1];
    assert_int_equal(hm_codec_encode(&enc, &enc_len, &body->base), HM_OK);
    body->view_changes[2] = keep;
    hm_tagged_hash(msg, HM_TAG_NEWVIEW, enc, enc_len);
    assert_int_equal(hm_sign(sig, sk[1], msg, NULL), HM_OK);
    nv2.body = (ProtobufCBinaryData){enc_len, enc};
    assert_int_equal(hm_codec_encode(&out, &el, &e2.base), HM_OK);
    assert_int_equal(feed(&rep, out, &el), PBFT_REJ_NV_VIEW_CHANGE);
    free(enc);
    hm_free_new_view_body(body);
    hm_free_envelope(e);
    /* the genuine one */
    pbft_outbox_clear(&rep.o);
    assert_int_equal(pbft_on_message(rep.p, &rep.o, NOW, 1, nv->data, nv->len), PBFT_OK);
    pbft_status_t st;
    pbft_get_status(rep.p, &st);
    assert_int_equal(st.view, 1);
    assert_false(st.in_view_change);
    assert_int_equal(count_kind(&rep, PBFT_OUT_SEND), 1); /* its PREPARE in view 1 */
    assert_int_equal(pbft_on_message(rep.p, &rep.o, NOW, 1, nv->data, nv->len),
                     PBFT_REJ_DUPLICATE);
    fx_free(&prim);
    fx_free(&rep);
}

/* A block a commit quorum proves final is fetched at once, even while a
 * catch-up request chases a height one validator claimed (a Byzantine one
 * can claim any height with a signed vote); once per height, and retried
 * soon when nothing comes back. */
static void test_final_block_fetched_despite_claim(void **state)
{
    (void)state;
    fx_t fx;
    fx_start(&fx, ME, true, NULL, NULL, NULL, 0);
    size_t len;
    uint8_t d[32] = {7};
    assert_int_equal(feed(&fx, vote_env(&len, 0, PBFT_PHASE_COMMIT, 0, 900, d), &len),
                     PBFT_REJ_FUTURE_HEIGHT);
    assert_int_equal(count_kind(&fx, PBFT_OUT_REQUEST), 1); /* out, chasing 899 */
    pbft_outbox_clear(&fx.o);
    assert_int_equal(feed(&fx, vote_env(&len, 0, PBFT_PHASE_COMMIT, 0, 1, d), &len), PBFT_OK);
    assert_int_equal(feed(&fx, vote_env(&len, 2, PBFT_PHASE_COMMIT, 0, 1, d), &len), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_REQUEST), 0);
    assert_int_equal(feed(&fx, vote_env(&len, 3, PBFT_PHASE_COMMIT, 0, 1, d), &len), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_REQUEST), 1); /* 2f+1 commits: ask now */
    bool found = false, soon = false;
    for (size_t i = 0; i < fx.o.n; i++) {
        if (fx.o.v[i].kind == PBFT_OUT_REQUEST) {
            assert_int_equal(fx.o.v[i].height, 1);
            assert_true(fx.o.v[i].peer != ME);
            found = true;
        }
        /* retried well before the catch-up timeout (2 s) if nothing comes */
        if (fx.o.v[i].kind == PBFT_OUT_TIMER_SET && fx.o.v[i].timer == PBFT_TIMER_CATCHUP)
            soon = fx.o.v[i].ms == 250;
    }
    assert_true(found);
    assert_true(soon);
    pbft_outbox_clear(&fx.o);
    /* more votes at that height do not ask again */
    assert_int_equal(feed(&fx, vote_env(&len, 2, PBFT_PHASE_PREPARE, 0, 1, d), &len), PBFT_OK);
    assert_int_equal(count_kind(&fx, PBFT_OUT_REQUEST), 0);
    fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vote_rules),
        cmocka_unit_test(test_preprepare_header_rules),
        cmocka_unit_test(test_preprepare_rules),
        cmocka_unit_test(test_not_executed_is_held),
        cmocka_unit_test(test_next_height_proposal_is_held),
        cmocka_unit_test(test_normal_case_commit),
        cmocka_unit_test(test_primary_builds),
        cmocka_unit_test(test_primary_proposes_vouched_txs),
        cmocka_unit_test(test_primary_full_batch_skips_delay),
        cmocka_unit_test(test_restart_never_equivocates),
        cmocka_unit_test(test_view_change_rules),
        cmocka_unit_test(test_new_view),
        cmocka_unit_test(test_final_block_fetched_despite_claim),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
