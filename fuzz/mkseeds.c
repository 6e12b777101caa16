/* fuzz/mkseeds.c — writes seed inputs made from real encodings into
 * DIR/<target>/ for the harnesses: signed txs of several kinds, blocks, one
 * envelope of every p2p message kind (and p2p streams of them), RPC
 * tx-submission bodies carrying those txs, and keystore files sealed by
 * lib/seal. Run: fuzz/mkseeds fuzz/corpus
 * (the audit corpus is the story's bundles, copied from tests/vectors/audit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/block.h"
#include "lib/hash.h"
#include "lib/hex.h"
#include "lib/keys.h"
#include "lib/merkle.h"
#include "lib/seal.h"
#include "lib/smt.h"
#include "lib/state.h"
#include "lib/tx.h"

static const char *outdir;
static uint8_t chain[32], sk[32], pk[32];

static void put(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(2);
    }
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* Every non-Hello envelope seed, also as p2p frames (length-prefixed). */
static hm_buf_t frames;

static void frame_append(hm_buf_t *b, const uint8_t *p, size_t n)
{
    uint8_t len[4];
    hm_put_u32be(len, (uint32_t)n);
    if (hm_buf_append(b, len, 4) != HM_OK || hm_buf_append(b, p, n) != HM_OK)
        exit(2);
}

static void put_msg(const char *target, const char *name, const ProtobufCMessage *m)
{
    uint8_t *p = NULL;
    size_t n = 0;
    if (hm_codec_encode(&p, &n, m) != HM_OK)
        exit(2);
    put(target, name, p, n);
    if (m->descriptor == &hallmark__envelope__descriptor &&
        ((const Hallmark__Envelope *)m)->msg_case != HALLMARK__ENVELOPE__MSG_HELLO)
        frame_append(&frames, p, n);
    free(p);
}

/* ---- fuzz_p2p_frames: streams a peer (validator 1 of the harness's
 * genesis, consensus key from SHA-256("k" 0x01)) sends after TLS */
static void p2p_seeds(const uint8_t chain_id[32])
{
    uint8_t sk1[32], pk1[32], in[2] = {'k', 1};
    hm_sha256(sk1, in, 2);
    if (hm_key_pubkey(pk1, sk1) != HM_OK)
        exit(2);
    Hallmark__Hello hello = HALLMARK__HELLO__INIT;
    hello.chain_id.data = (uint8_t *)chain_id;
    hello.chain_id.len = 32;
    hello.node_key.data = pk1;
    hello.node_key.len = 32;
    hello.height = 3;
    hello.version = "hallmark/0.1.0";
    Hallmark__Envelope e = HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_HELLO;
    e.hello = &hello;
    uint8_t *hb = NULL, *wb = NULL;
    size_t hl = 0, wl = 0;
    if (hm_codec_encode(&hb, &hl, &e.base) != HM_OK)
        exit(2);
    hello.node_key.data = (uint8_t *)chain_id; /* not validator 1's key */
    if (hm_codec_encode(&wb, &wl, &e.base) != HM_OK)
        exit(2);
    hm_buf_t b = {0};
    const uint8_t zero4[4] = {0, 0, 0, 0}, huge[4] = {0x01, 0x00, 0x00, 0x01};
    const uint8_t junk[6] = {0, 0, 0, 2, 0xff, 0xff};
    /* Hello then one frame of every kind */
    frame_append(&b, hb, hl);
    if (hm_buf_append(&b, frames.data, frames.len) != HM_OK)
        exit(2);
    put("p2p_frames", "seed-all-kinds", b.data, b.len);
    /* ... then a partial frame */
    if (hm_buf_append(&b, frames.data, 7) != HM_OK)
        exit(2);
    put("p2p_frames", "seed-partial-tail", b.data, b.len);
    hm_buf_reset(&b);
    frame_append(&b, hb, hl);
    frame_append(&b, hb, hl);
    put("p2p_frames", "seed-second-hello", b.data, b.len);
    hm_buf_reset(&b);
    frame_append(&b, wb, wl);
    put("p2p_frames", "seed-wrong-key-hello", b.data, b.len);
    hm_buf_reset(&b);
    if (hm_buf_append(&b, frames.data, frames.len) != HM_OK)
        exit(2);
    put("p2p_frames", "seed-no-hello", b.data, b.len);
    const struct {
        const char *name;
        const uint8_t *p;
        size_t n;
    } tails[] = {{"seed-zero-length", zero4, 4},
                 {"seed-over-cap", huge, 4},
                 {"seed-undecodable", junk, 6}};
    for (size_t i = 0; i < 3; i++) {
        hm_buf_reset(&b);
        frame_append(&b, hb, hl);
        if (hm_buf_append(&b, tails[i].p, tails[i].n) != HM_OK)
            exit(2);
        put("p2p_frames", tails[i].name, b.data, b.len);
    }
    hm_buf_free(&b);
    hm_buf_free(&frames);
    free(hb);
    free(wb);
}

static ProtobufCBinaryData sign_tx(Hallmark__Tx *tx, uint64_t nonce)
{
    tx->chain_id.data = chain;
    tx->chain_id.len = 32;
    tx->signer.data = pk;
    tx->signer.len = 32;
    tx->nonce = nonce;
    ProtobufCBinaryData out;
    if (hm_tx_sign(&out.data, &out.len, NULL, tx, sk) != HM_OK)
        exit(2);
    return out;
}

/* ---- fuzz_rpc_body: JSON bodies of POST /v1/tx and /v1/txs */

static void put_text(const char *target, const char *name, const char *text)
{
    put(target, name, (const uint8_t *)text, strlen(text));
}

/* Append the NUL-terminated strings parts[0..n) to b (exits on failure). */
static void append_strs(hm_buf_t *b, const char *const *parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hm_buf_append(b, parts[i], strlen(parts[i])) != HM_OK)
            exit(2);
}

static void rpc_seeds(const ProtobufCBinaryData *txs, size_t n, const uint8_t *co, size_t colen,
                      const ProtobufCBinaryData *other_chain)
{
    hm_buf_t b = {0};
    char *h0 = hm_hex_dup(txs[0].data, txs[0].len);
    char *hc = hm_hex_dup(co, colen);
    char *ho = hm_hex_dup(other_chain->data, other_chain->len);
    if (!h0 || !hc || !ho)
        exit(2);
    if (hm_buf_append(&b, "{\"tx\": \"", 8) != HM_OK || hm_buf_append(&b, h0, strlen(h0)) != HM_OK ||
        hm_buf_append(&b, "\"}", 2) != HM_OK)
        exit(2);
    put("rpc_body", "seed-tx", b.data, b.len);
    hm_buf_reset(&b);
    /* a batch: every kind, a richer co-signed copy, an upper-case copy,
     * another chain's tx, a bad signature, entries that are not hex */
    if (hm_buf_append(&b, "{\"txs\": [", 9) != HM_OK)
        exit(2);
    for (size_t i = 0; i < n; i++) {
        char *h = hm_hex_dup(txs[i].data, txs[i].len);
        if (!h || hm_buf_append(&b, "\"", 1) != HM_OK || hm_buf_append(&b, h, strlen(h)) != HM_OK ||
            hm_buf_append(&b, "\", ", 3) != HM_OK)
            exit(2);
        free(h);
    }
    char *up = strdup(h0), *bad = strdup(h0);
    if (!up || !bad)
        exit(2);
    for (char *c = up; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    size_t bl = strlen(bad);
    bad[bl - 3] = bad[bl - 3] == '0' ? '1' : '0'; /* inside the signature */
    const char *parts[] = {"\"", hc, "\", \"", up, "\", \"", ho, "\", \"", bad,
                           "\", \"zz\", 5, \"abc\", \"\", null]}"};
    append_strs(&b, parts, sizeof parts / sizeof parts[0]);
    put("rpc_body", "seed-txs", b.data, b.len);
    hm_buf_free(&b);
    /* plain batch bodies: node/api's scanner takes them (odd spacing, a
     * bad and an empty string), or leaves them to jansson (an escape) */
    const char *plain[] = {"\n{ \"txs\" :[ \"", h0, "\" ,\"zz\",\"abc\" , \"\" ,\"", hc,
                           "\"]}\r\n"};
    append_strs(&b, plain, sizeof plain / sizeof plain[0]);
    put("rpc_body", "seed-txs-plain", b.data, b.len);
    hm_buf_free(&b);
    put_text("rpc_body", "seed-txs-escaped", "{\"txs\": [\"\\u0030\\u0030\", \"00\"]}");
    put_text("rpc_body", "seed-empty-batch", "{\"txs\": []}");
    put_text("rpc_body", "seed-not-array", "{\"txs\": {\"a\": 1}, \"tx\": 7}");
    put_text("rpc_body", "seed-odd-hex", "{\"tx\": \"abc\", \"txs\": [\"00\"]}");
    put_text("rpc_body", "seed-dup-key", "{\"tx\": \"00\", \"tx\": \"00\"}");
    free(h0);
    free(hc);
    free(ho);
    free(up);
    free(bad);
}

/* ---- fuzz_keystore: keystore files, all sealing the one fixed secret
 * (SHA-256 of "fuzz-keystore-secret") under "fuzz-keystore-pass" with the
 * test-floor scrypt cost; see fuzz/fuzz_keystore.c for the input layout. */

#define KS_PASS "fuzz-keystore-pass"

static void ks_put(const char *name, uint8_t mode, const char *json, const hm_buf_t *key)
{
    hm_buf_t b = {0};
    size_t jl = json ? strlen(json) : 0;
    if (hm_buf_append_u8(&b, mode) != HM_OK)
        exit(2);
    if (mode == 0 && (hm_buf_append_u8(&b, (uint8_t)(jl >> 8)) != HM_OK ||
                      hm_buf_append_u8(&b, (uint8_t)jl) != HM_OK ||
                      hm_buf_append(&b, json, jl) != HM_OK))
        exit(2);
    if (key && hm_buf_append(&b, key->data, key->len) != HM_OK)
        exit(2);
    put("keystore", name, b.data, b.len);
    hm_buf_free(&b);
}

static void keystore_seeds(void)
{
    uint8_t ksk[32], kpk[32], osk[32], opk[32];
    hm_sha256(ksk, "fuzz-keystore-secret", strlen("fuzz-keystore-secret"));
    if (hm_key_pubkey(kpk, ksk) != HM_OK || hm_key_generate(osk, opk) != HM_OK)
        exit(2);
    hm_seal_params_t fast = {HM_SEAL_MIN_LOG2_N, 8, 1};
    hm_buf_t sealed = {0}, short_secret = {0};
    if (hm_seal(&sealed, ksk, 32, KS_PASS, strlen(KS_PASS), &fast) != HM_OK ||
        hm_seal(&short_secret, ksk, 31, KS_PASS, strlen(KS_PASS), &fast) != HM_OK)
        exit(2);
    char pub[65], other[65], json[256];
    hm_hex_encode(pub, kpk, 32);
    hm_hex_encode(other, opk, 32);
    /* NAME.json as wallet/keystore writes it */
    snprintf(json, sizeof json, "{\n  \"version\": 1,\n  \"name\": \"k\",\n  \"pubkey\": \"%s\"\n}\n",
             pub);
    ks_put("load-genuine", 0, json, &sealed);
    snprintf(json, sizeof json,
             "{\n  \"version\": 1,\n  \"name\": \"k\",\n  \"pubkey\": \"%s\",\n  \"gid\": "
             "\"00112233445566778899aabbccddeeff00112233\"\n}\n",
             pub);
    ks_put("load-gid", 0, json, &sealed);
    snprintf(json, sizeof json, "{\"version\": 1, \"name\": \"k\", \"pubkey\": \"%s\"}", other);
    ks_put("load-swapped-pubkey", 0, json, &sealed);
    snprintf(json, sizeof json, "{\"version\": 2, \"name\": \"k\", \"pubkey\": \"%s\"}", pub);
    ks_put("load-version-2", 0, json, &sealed);
    hm_buf_t tampered = {0};
    if (hm_buf_append(&tampered, sealed.data, sealed.len) != HM_OK)
        exit(2);
    tampered.data[tampered.len - 20] ^= 1; /* in the ciphertext */
    snprintf(json, sizeof json, "{\"version\": 1, \"name\": \"k\", \"pubkey\": \"%s\"}", pub);
    ks_put("load-tampered", 0, json, &tampered);
    ks_put("import-genuine", 1, NULL, &sealed);
    ks_put("import-31-byte-secret", 1, NULL, &short_secret);
    /* the header asks for N = 2^21: over the ceiling, refused before any work */
    hm_buf_reset(&tampered);
    if (hm_buf_append(&tampered, sealed.data, sealed.len) != HM_OK)
        exit(2);
    tampered.data[8] = HM_SEAL_MAX_LOG2_N + 1;
    ks_put("import-over-ceiling", 1, NULL, &tampered);
    /* round trips: passphrase, secret, name */
    hm_buf_t rt = {0};
    const char *pass = "correct horse";
    if (hm_buf_append_u8(&rt, (uint8_t)strlen(pass)) != HM_OK ||
        hm_buf_append(&rt, pass, strlen(pass)) != HM_OK || hm_buf_append(&rt, osk, 32) != HM_OK ||
        hm_buf_append(&rt, "alice.key-1", 11) != HM_OK)
        exit(2);
    hm_buf_t full = {0};
    if (hm_buf_append_u8(&full, 2) != HM_OK || hm_buf_append(&full, rt.data, rt.len) != HM_OK)
        exit(2);
    put("keystore", "roundtrip-alice", full.data, full.len);
    hm_buf_reset(&full);
    uint8_t zero[32] = {0};
    if (hm_buf_append_u8(&full, 2) != HM_OK || hm_buf_append_u8(&full, 0) != HM_OK ||
        hm_buf_append(&full, zero, 32) != HM_OK || hm_buf_append(&full, ".hidden", 7) != HM_OK)
        exit(2);
    put("keystore", "roundtrip-zero-secret", full.data, full.len);
    hm_buf_free(&full);
    hm_buf_free(&rt);
    hm_buf_free(&tampered);
    hm_buf_free(&sealed);
    hm_buf_free(&short_secret);
    hm_wipe(osk, sizeof osk);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkseeds DIR\n");
        return 2;
    }
    outdir = argv[1];
    hm_tagged_hash(chain, HM_TAG_GENESIS, "fuzz", 4); /* the harnesses' chain id */
    if (hm_key_generate(sk, pk) != HM_OK)
        return 2;
    uint8_t h32[32];
    memset(h32, 0x11, sizeof h32);

    ProtobufCBinaryData txs[3];
    Hallmark__Tx t1 = HALLMARK__TX__INIT;
    Hallmark__RegisterIdentity reg = HALLMARK__REGISTER_IDENTITY__INIT;
    Hallmark__ExternalId ext = HALLMARK__EXTERNAL_ID__INIT;
    Hallmark__ExternalId *exts[1] = {&ext};
    ext.scheme = "gs1-gln";
    ext.value = "4012345000009";
    reg.name = "Acme Additive";
    reg.kind = HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER;
    reg.external_ids = exts;
    reg.n_external_ids = 1;
    reg.country = "DE";
    t1.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
    t1.register_identity = &reg;
    txs[0] = sign_tx(&t1, 0);

    Hallmark__Tx t2 = HALLMARK__TX__INIT;
    Hallmark__MintCertificate mint = HALLMARK__MINT_CERTIFICATE__INIT;
    char *serials[] = {"SN-0001", "SN-0002", "SN-0003"};
    mint.batch_id = "B-2026-11";
    mint.recipe_hash.data = h32;
    mint.recipe_hash.len = 32;
    mint.licence_id.data = h32;
    mint.licence_id.len = 32;
    mint.quantity = 3;
    mint.part_serials = serials;
    mint.n_part_serials = 3;
    mint.site = "plant-1";
    t2.actor.data = h32;
    t2.actor.len = 20;
    t2.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
    t2.mint_certificate = &mint;
    txs[1] = sign_tx(&t2, 1);

    Hallmark__Tx t3 = HALLMARK__TX__INIT;
    Hallmark__TransferCustody tc = HALLMARK__TRANSFER_CUSTODY__INIT;
    tc.serials = serials;
    tc.n_serials = 2;
    tc.to.data = h32;
    tc.to.len = 20;
    t3.actor.data = h32;
    t3.actor.len = 20;
    t3.body_case = HALLMARK__TX__BODY_TRANSFER_CUSTODY;
    t3.transfer_custody = &tc;
    txs[2] = sign_tx(&t3, 2);

    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "seed-%d", i);
        put("signed_tx", name, txs[i].data, txs[i].len);
    }
    uint8_t *co = NULL;
    size_t colen = 0;
    uint8_t sk2[32], pk2[32];
    if (hm_key_generate(sk2, pk2) != HM_OK || hm_tx_cosign(&co, &colen, txs[0].data, txs[0].len, sk2) != HM_OK)
        return 2;
    put("signed_tx", "seed-cosigned", co, colen);
    uint8_t chain2[32];
    memcpy(chain2, chain, 32);
    hm_tagged_hash(chain, HM_TAG_GENESIS, "another chain", 13);
    Hallmark__Tx t4 = t1;
    ProtobufCBinaryData other_chain = sign_tx(&t4, 9);
    memcpy(chain, chain2, 32);
    rpc_seeds(txs, 3, co, colen, &other_chain);
    free(other_chain.data);
    free(co);
    keystore_seeds();

    /* blocks: empty and with the three txs */
    Hallmark__Header h = HALLMARK__HEADER__INIT;
    ProtobufCBinaryData *f[] = {&h.chain_id,   &h.prev_hash,          &h.tx_root, &h.results_root,
                                &h.state_root, &h.validator_set_hash, &h.proposer};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        f[i]->data = h32;
        f[i]->len = 32;
    }
    h.chain_id.data = chain;
    h.height = 1;
    h.time_ms = 1764000000000ull;
    uint8_t zero_root[32], tx_root[32];
    hm_merkle_root(zero_root, NULL, 0);
    h.tx_root.data = zero_root;
    uint8_t *blk = NULL, bhash[32];
    size_t blen = 0;
    if (hm_block_build(&blk, &blen, bhash, &h, NULL, 0) != HM_OK)
        return 2;
    put("block", "seed-empty", blk, blen);
    free(blk);
    hm_hash32_t ids[3];
    for (int i = 0; i < 3; i++) {
        hm_tx_t *t = NULL;
        if (hm_tx_decode(&t, txs[i].data, txs[i].len) != HM_OK)
            return 2;
        memcpy(ids[i], t->txid, 32);
        hm_tx_free(t);
    }
    hm_merkle_root(tx_root, (const hm_hash32_t *)ids, 3);
    h.tx_root.data = tx_root;
    h.height = 2;
    if (hm_block_build(&blk, &blen, bhash, &h, txs, 3) != HM_OK)
        return 2;
    put("block", "seed-3txs", blk, blen);

    /* envelopes: one of each kind */
    uint8_t sig[64];
    memset(sig, 0x22, sizeof sig);
    Hallmark__Vote vote = HALLMARK__VOTE__INIT;
    vote.phase = HALLMARK__VOTE_PHASE__PHASE_PREPARE;
    vote.view = 0;
    vote.height = 2;
    vote.digest.data = bhash;
    vote.digest.len = 32;
    vote.validator.data = pk;
    vote.validator.len = 32;
    vote.signature.data = sig;
    vote.signature.len = 64;
    Hallmark__Envelope e = HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_VOTE;
    e.vote = &vote;
    put_msg("envelope", "seed-vote", &e.base);

    Hallmark__Vote ppv = vote;
    ppv.phase = HALLMARK__VOTE_PHASE__PHASE_PREPREPARE;
    Hallmark__PrePrepare pp = HALLMARK__PRE_PREPARE__INIT;
    pp.vote = &ppv;
    pp.block.data = blk;
    pp.block.len = blen;
    e = (Hallmark__Envelope)HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_PREPREPARE;
    e.preprepare = &pp;
    put_msg("envelope", "seed-preprepare", &e.base);

    Hallmark__Hello hello = HALLMARK__HELLO__INIT;
    hello.chain_id.data = chain;
    hello.chain_id.len = 32;
    hello.node_key.data = pk;
    hello.node_key.len = 32;
    hello.height = 7;
    hello.version = "hallmark/0.1.0";
    e = (Hallmark__Envelope)HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_HELLO;
    e.hello = &hello;
    put_msg("envelope", "seed-hello", &e.base);

    Hallmark__Status st = HALLMARK__STATUS__INIT;
    st.height = 2;
    st.view = 1;
    st.last_block_hash.data = bhash;
    st.last_block_hash.len = 32;
    e = (Hallmark__Envelope)HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_STATUS;
    e.status = &st;
    put_msg("envelope", "seed-status", &e.base);

    Hallmark__BlockRequest br = HALLMARK__BLOCK_REQUEST__INIT;
    br.from_height = 1;
    br.to_height = 100;
    e = (Hallmark__Envelope)HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_BLOCK_REQUEST;
    e.block_request = &br;
    put_msg("envelope", "seed-block-request", &e.base);

    Hallmark__VoteSignature vs = HALLMARK__VOTE_SIGNATURE__INIT;
    vs.validator = vote.validator;
    vs.signature = vote.signature;
    Hallmark__VoteSignature *vsp[1] = {&vs};
    Hallmark__CommitCertificate cc = HALLMARK__COMMIT_CERTIFICATE__INIT;
    cc.height = 2;
    cc.block_hash = vote.digest;
    cc.signatures = vsp;
    cc.n_signatures = 1;
    Hallmark__CertifiedBlock cb = HALLMARK__CERTIFIED_BLOCK__INIT;
    cb.block.data = blk;
    cb.block.len = blen;
    cb.cert = &cc;
    Hallmark__CertifiedBlock *cbp[1] = {&cb};
    Hallmark__BlockResponse bresp = HALLMARK__BLOCK_RESPONSE__INIT;
    bresp.blocks = cbp;
    bresp.n_blocks = 1;
    e = (Hallmark__Envelope)HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_BLOCK_RESPONSE;
    e.block_response = &bresp;
    put_msg("envelope", "seed-block-response", &e.base);

    Hallmark__TxBatch batch = HALLMARK__TX_BATCH__INIT;
    batch.txs = txs;
    batch.n_txs = 3;
    e = (Hallmark__Envelope)HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_TX_BATCH;
    e.tx_batch = &batch;
    put_msg("envelope", "seed-tx-batch", &e.base);

    Hallmark__ViewChangeBody vcb = HALLMARK__VIEW_CHANGE_BODY__INIT;
    vcb.chain_id.data = chain;
    vcb.chain_id.len = 32;
    vcb.validator = vote.validator;
    vcb.new_view = 1;
    vcb.committed_height = 2;
    vcb.committed_cert = &cc;
    Hallmark__PreparedCertificate pc = HALLMARK__PREPARED_CERTIFICATE__INIT;
    Hallmark__Vote *preps[1] = {&vote};
    pc.preprepare = &pp;
    pc.prepares = preps;
    pc.n_prepares = 1;
    vcb.prepared = &pc;
    uint8_t *vcbytes = NULL;
    size_t vclen = 0;
    if (hm_codec_encode(&vcbytes, &vclen, &vcb.base) != HM_OK)
        return 2;
    Hallmark__ViewChange vc = HALLMARK__VIEW_CHANGE__INIT;
    vc.body.data = vcbytes;
    vc.body.len = vclen;
    vc.signature.data = sig;
    vc.signature.len = 64;
    e = (Hallmark__Envelope)HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_VIEW_CHANGE;
    e.view_change = &vc;
    put_msg("envelope", "seed-view-change", &e.base);

    Hallmark__ViewChange *vcs[1] = {&vc};
    Hallmark__NewViewBody nvb = HALLMARK__NEW_VIEW_BODY__INIT;
    nvb.chain_id = vcb.chain_id;
    nvb.validator = vote.validator;
    nvb.view = 1;
    nvb.view_changes = vcs;
    nvb.n_view_changes = 1;
    nvb.proposal = &pp;
    uint8_t *nvbytes = NULL;
    size_t nvlen = 0;
    if (hm_codec_encode(&nvbytes, &nvlen, &nvb.base) != HM_OK)
        return 2;
    Hallmark__NewView nv = HALLMARK__NEW_VIEW__INIT;
    nv.body.data = nvbytes;
    nv.body.len = nvlen;
    nv.signature.data = sig;
    nv.signature.len = 64;
    e = (Hallmark__Envelope)HALLMARK__ENVELOPE__INIT;
    e.msg_case = HALLMARK__ENVELOPE__MSG_NEW_VIEW;
    e.new_view = &nv;
    put_msg("envelope", "seed-new-view", &e.base);

    p2p_seeds(chain);

    /* SMT proofs: root || klen || key || SmtProof, for a present and an
     * absent key of a small memory store */
    hm_store_t *store = NULL;
    hm_state_t *ss = NULL;
    if (hm_store_mem_new(&store) != HM_OK || hm_state_begin(&ss, store) != HM_OK)
        return 2;
    for (int i = 0; i < 50; i++) {
        char k[16], v[16];
        int kl = snprintf(k, sizeof k, "p/SN-%04d", i), vl = snprintf(v, sizeof v, "value-%d", i);
        if (hm_state_put(ss, (uint8_t *)k, (size_t)kl, (uint8_t *)v, (size_t)vl) != HM_OK)
            return 2;
    }
    uint8_t root[32];
    if (hm_state_root(ss, root) != HM_OK || hm_state_commit(ss, true) != HM_OK)
        return 2;
    const char *keys[2] = {"p/SN-0007", "p/NOT-THERE"};
    for (int i = 0; i < 2; i++) {
        hm_smt_proof_t *pr = malloc(sizeof *pr);
        uint8_t *enc = NULL;
        size_t elen = 0;
        size_t kl = strlen(keys[i]);
        if (!pr || hm_store_prove(store, pr, root, (const uint8_t *)keys[i], kl) != HM_OK ||
            hm_smt_proof_encode(&enc, &elen, pr) != HM_OK)
            return 2;
        hm_buf_t seed = {0};
        if (hm_buf_append(&seed, root, 32) != HM_OK || hm_buf_append_u8(&seed, (uint8_t)kl) != HM_OK ||
            hm_buf_append(&seed, keys[i], kl) != HM_OK || hm_buf_append(&seed, enc, elen) != HM_OK)
            return 2;
        put("smt_proof", i == 0 ? "seed-member" : "seed-absent", seed.data, seed.len);
        hm_buf_free(&seed);
        free(enc);
        free(pr);
    }
    hm_state_free(ss);
    hm_store_free(store);

    /* Merkle inclusion: root || value || index || size || path */
    hm_hash32_t leaves[7], path[HM_MERKLE_MAX_DEPTH];
    for (int i = 0; i < 7; i++)
        hm_tagged_hash(leaves[i], HM_TAG_TX, &i, sizeof i);
    uint8_t mroot[32];
    size_t plen = 0;
    hm_merkle_root(mroot, (const hm_hash32_t *)leaves, 7);
    for (size_t idx = 0; idx < 7; idx += 3) {
        if (hm_merkle_prove(path, &plen, (const hm_hash32_t *)leaves, 7, idx) != HM_OK)
            return 2;
        hm_buf_t seed = {0};
        if (hm_buf_append(&seed, mroot, 32) != HM_OK || hm_buf_append(&seed, leaves[idx], 32) != HM_OK ||
            hm_buf_append_u64be(&seed, idx) != HM_OK || hm_buf_append_u64be(&seed, 7) != HM_OK ||
            hm_buf_append(&seed, path, plen * 32) != HM_OK)
            return 2;
        char name[32];
        snprintf(name, sizeof name, "seed-7-%zu", idx);
        put("merkle", name, seed.data, seed.len);
        hm_buf_free(&seed);
    }

    free(vcbytes);
    free(nvbytes);
    free(blk);
    for (int i = 0; i < 3; i++)
        free(txs[i].data);
    hm_wipe(sk, sizeof sk);
    hm_wipe(sk2, sizeof sk2);
    return 0;
}
