/* fuzz/fuzz_consensus — arbitrary bytes into a live PBFT replica core.
 *
 * A core (replica 1 of 4) is started and shown a genuine pre-prepare from
 * replica 0's core; the input then drives a sequence of operations: raw
 * bytes as an Envelope, the genuine pre-prepare with bytes flipped, the
 * genuine one again, raw bytes as a catch-up CertifiedBlock, timer fires.
 * Invariants (not just "no crash"): with only two real keys no block can
 * ever commit; every SEND decodes as an Envelope; every PERSIST of a call
 * precedes its SENDs; the core never signs two digests for one
 * (view, height, phase). */
#include <stdlib.h>
#include <string.h>

#include "consensus/pbft.h"
#include "consensus/valset.h"
#include "fuzz/fuzz.h"
#include "lib/codec.h"
#include "lib/hash.h"
#include "lib/keys.h"

#define N 4

typedef struct {
    bool have;
    uint64_t view, height;
    uint8_t digest[32];
} seen_t;

static void check_outputs(const pbft_outbox_t *o, seen_t seen[4])
{
    bool sent = false;
    for (size_t i = 0; i < o->n; i++) {
        const pbft_out_t *e = &o->v[i];
        HM_FUZZ_CHECK(e->kind != PBFT_OUT_COMMIT);
        if (e->kind == PBFT_OUT_PERSIST)
            HM_FUZZ_CHECK(!sent);
        if (e->kind != PBFT_OUT_SEND)
            continue;
        sent = true;
        Hallmark__Envelope *env = NULL;
        HM_FUZZ_CHECK(hm_decode_envelope(&env, e->data, e->len) == HM_OK);
        const Hallmark__Vote *v = NULL;
        if (env->msg_case == HALLMARK__ENVELOPE__MSG_VOTE)
            v = env->vote;
        if (v && v->phase >= 1 && v->phase <= 3 && v->digest.len == 32) {
            seen_t *s = &seen[v->phase];
            if (s->have && s->view == v->view && s->height == v->height)
                HM_FUZZ_CHECK(memcmp(s->digest, v->digest.data, 32) == 0);
            s->have = true;
            s->view = v->view;
            s->height = v->height;
            memcpy(s->digest, v->digest.data, 32);
        }
        hm_free_envelope(env);
    }
}

static pbft_t *make_core(const valset_t *vs, const uint8_t *chain, const uint8_t *sk)
{
    pbft_config_t cfg;
    pbft_config_default(&cfg);
    memcpy(cfg.chain_id, chain, 32);
    cfg.vs = vs;
    cfg.seckey = sk;
    cfg.genesis_time_ms = 0;
    cfg.deterministic_sigs = true;
    pbft_t *p = NULL;
    HM_FUZZ_CHECK(pbft_new(&p, &cfg) == HM_OK);
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sk[N][32], pk[N][32], chain[32], sr[32] = {1}, rr[32] = {2};
    for (int i = 0; i < N; i++) {
        uint8_t in[2] = {'k', (uint8_t)i};
        hm_sha256(sk[i], in, 2);
        HM_FUZZ_CHECK(hm_key_pubkey(pk[i], sk[i]) == HM_OK);
    }
    hm_tagged_hash(chain, HM_TAG_GENESIS, "fuzz", 4);
    valset_t *vs = NULL;
    HM_FUZZ_CHECK(valset_new(&vs, (const uint8_t(*)[32])pk, N) == HM_OK);
    const uint64_t now = 5000;
    pbft_outbox_t o, po;
    pbft_outbox_init(&o);
    pbft_outbox_init(&po);
    seen_t seen[4] = {{0}};

    /* replica 0 proposes: the genuine pre-prepare */
    pbft_t *prim = make_core(vs, chain, sk[0]);
    HM_FUZZ_CHECK(pbft_start(prim, &po, now, NULL, 0, NULL, NULL, NULL, 0) == HM_OK);
    pbft_on_executed(prim, &po, now, 0, sr, rr);
    pbft_on_work(prim, &po, now, true);
    pbft_outbox_clear(&po);
    HM_FUZZ_CHECK(pbft_propose(prim, &po, now, 1, 0, NULL, NULL, NULL, 0) == PBFT_OK);
    const uint8_t *pp = NULL;
    size_t pp_len = 0;
    for (size_t i = 0; i < po.n; i++)
        if (po.v[i].kind == PBFT_OUT_SEND) {
            pp = po.v[i].data;
            pp_len = po.v[i].len;
        }
    HM_FUZZ_CHECK(pp != NULL);

    pbft_t *p = make_core(vs, chain, sk[1]);
    HM_FUZZ_CHECK(pbft_start(p, &o, now, NULL, 0, NULL, NULL, NULL, 0) == HM_OK);
    pbft_on_executed(p, &o, now, 0, sr, rr);
    pbft_on_work(p, &o, now, true);
    check_outputs(&o, seen);

    size_t pos = 0;
    uint8_t *buf = malloc(pp_len > 256 ? pp_len : 256);
    HM_FUZZ_CHECK(buf != NULL);
    while (pos < size) {
        uint8_t op = data[pos++];
        pbft_outbox_clear(&o);
        switch (op % 5) {
        case 0: { /* raw envelope bytes */
            size_t len = pos < size ? data[pos++] : 0;
            if (len > size - pos)
                len = size - pos;
            (void)pbft_on_message(p, &o, now, (int)(op >> 4) % N, data + pos, len);
            pos += len;
            break;
        }
        case 1: { /* the genuine pre-prepare with bytes flipped */
            memcpy(buf, pp, pp_len);
            for (int k = 0; k < 2 && pos + 2 < size; k++, pos += 3)
                buf[(((size_t)data[pos] << 8) | data[pos + 1]) % pp_len] ^= data[pos + 2];
            (void)pbft_on_message(p, &o, now, 0, buf, pp_len);
            break;
        }
        case 2:
            (void)pbft_on_message(p, &o, now, 0, pp, pp_len);
            break;
        case 3: { /* raw bytes as a catch-up answer */
            size_t len = pos < size ? data[pos++] : 0;
            if (len > size - pos)
                len = size - pos;
            (void)pbft_on_certified_block(p, &o, now, data + pos, len);
            pos += len;
            break;
        }
        default:
            pbft_on_timer(p, &o, now, 1 + (op >> 4) % 4);
            break;
        }
        check_outputs(&o, seen);
        pbft_status_t st;
        pbft_get_status(p, &st);
        HM_FUZZ_CHECK(st.height == 0);
    }
    free(buf);
    pbft_free(&p);
    pbft_free(&prim);
    pbft_outbox_free(&o);
    pbft_outbox_free(&po);
    valset_free(&vs);
    return 0;
}
