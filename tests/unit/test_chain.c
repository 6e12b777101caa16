/* Unit tests: node/chain — executing certified blocks over a store, the
 * tip, stored blocks/certs/results, tx locations and record histories. Runs
 * on the memory store; the LevelDB store implements the same interface. */
#include "tests/unit/testutil.h"

#include "contracts/testkit.h"
#include "lib/block.h"
#include "lib/hash.h"
#include "lib/tx.h"
#include "node/chain.h"

#define GENESIS_TIME 1000000ull

struct world {
    hm_store_t *store;
    node_chain_t *chain;
    uint8_t chain_id[32];
    ctk_key_t acc, val, des;
};

static const char genesis_json[] = "{\"chain_name\":\"chain-test\"}";

static void open_chain(struct world *w)
{
    const uint8_t (*keys)[32] = (const uint8_t (*)[32])w->acc.pk;
    contracts_genesis_accreditor_t a = {.name = "Consortium", .keys = keys, .n_keys = 1};
    Hallmark__ValidatorInfo vi = HALLMARK__VALIDATOR_INFO__INIT;
    uint8_t fp[32];
    memset(fp, 0xf0, sizeof fp);
    vi.pubkey.data = w->val.pk;
    vi.pubkey.len = 32;
    vi.tls_fingerprint.data = fp;
    vi.tls_fingerprint.len = 32;
    Hallmark__ValidatorInfo *vis[1] = {&vi};
    contracts_genesis_t g = {.accreditors = &a, .n_accreditors = 1, .validators = vis,
                             .n_validators = 1};
    assert_int_equal(chain_open(&w->chain, w->store, w->chain_id, GENESIS_TIME, &g,
                                (const uint8_t *)genesis_json, sizeof genesis_json - 1),
                     HM_OK);
}

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(hm_store_mem_new(&w->store), HM_OK);
    hm_tagged_hash(w->chain_id, HM_TAG_GENESIS, genesis_json, sizeof genesis_json - 1);
    assert_int_equal(ctk_key(&w->acc, 1), HM_OK);
    assert_int_equal(ctk_key(&w->val, 2), HM_OK);
    assert_int_equal(ctk_key(&w->des, 3), HM_OK);
    contracts_genesis_gid(w->acc.gid, w->acc.pk);
    open_chain(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    if (!w)
        return 0;
    chain_free(w->chain);
    hm_store_free(w->store);
    free(w);
    return 0;
}

/* Sign tx as signer with the next nonce; append the SignedTx bytes. */
static void add_tx(struct world *w, ProtobufCBinaryData *txs, size_t *n, Hallmark__Tx *tx,
                   ctk_key_t *signer, const uint8_t *actor, uint8_t txid[32])
{
    tx->chain_id.data = w->chain_id;
    tx->chain_id.len = 32;
    tx->signer.data = signer->pk;
    tx->signer.len = 32;
    tx->nonce = signer->nonce++;
    tx->actor.data = (uint8_t *)actor;
    tx->actor.len = actor ? HM_GID_LEN : 0;
    assert_int_equal(hm_tx_sign(&txs[*n].data, &txs[*n].len, txid, tx, signer->sk), HM_OK);
    (*n)++;
}

/* Build the next block over the tip with the given txs. Out: decoded block
 * (hm_block_free) and its bytes (free()). */
static hm_block_t *next_block(struct world *w, const ProtobufCBinaryData *txs, size_t n,
                              uint8_t **bytes, size_t *len)
{
    const chain_tip_t *t = chain_tip(w->chain);
    hm_hash32_t *ids = calloc(n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        hm_tx_t *x = NULL;
        assert_int_equal(hm_tx_decode(&x, txs[i].data, txs[i].len), HM_OK);
        memcpy(ids[i], x->txid, 32);
        hm_tx_free(x);
    }
    uint8_t tx_root[32], zero[32] = {0};
    hm_merkle_root(tx_root, (const hm_hash32_t *)ids, n);
    free(ids);
    Hallmark__Header h = HALLMARK__HEADER__INIT;
    h.chain_id = (ProtobufCBinaryData){32, (uint8_t *)t->chain_id};
    h.height = t->height + 1;
    h.time_ms = t->last_time_ms + 1000;
    h.prev_hash = (ProtobufCBinaryData){32, (uint8_t *)t->last_hash};
    h.tx_root = (ProtobufCBinaryData){32, tx_root};
    h.results_root = (ProtobufCBinaryData){32, (uint8_t *)t->results_root};
    h.state_root = (ProtobufCBinaryData){32, (uint8_t *)t->state_root};
    h.validator_set_hash = (ProtobufCBinaryData){32, zero};
    h.proposer = (ProtobufCBinaryData){32, w->val.pk};
    assert_int_equal(hm_block_build(bytes, len, NULL, &h, txs, n), HM_OK);
    hm_block_t *b = NULL;
    assert_int_equal(hm_block_decode(&b, *bytes, *len), HM_OK);
    return b;
}

static const uint8_t fake_cert[] = {0x08, 0x01};

static void test_genesis_tip(void **state)
{
    struct world *w = *state;
    const chain_tip_t *t = chain_tip(w->chain);
    assert_int_equal(t->height, 0);
    assert_true(t->last_time_ms == GENESIS_TIME);
    assert_memory_equal(t->chain_id, w->chain_id, 32);
    uint8_t root[32], empty[32];
    w->store->ops->root(w->store, root);
    assert_memory_equal(root, t->state_root, 32);
    hm_merkle_root(empty, NULL, 0);
    assert_memory_equal(t->results_root, empty, 32);
    hm_buf_t g = {0};
    assert_int_equal(chain_genesis_bytes(w->chain, &g), HM_OK);
    assert_int_equal(g.len, sizeof genesis_json - 1);
    hm_buf_free(&g);
    assert_int_equal(chain_block_bytes(w->chain, 1, &g), HM_ERR_NOT_FOUND);
}

static void test_blocks_results_history(void **state)
{
    struct world *w = *state;
    /* block 1: the designer registers; the accreditor accredits it */
    ProtobufCBinaryData txs[4];
    size_t n = 0;
    uint8_t id_reg[32], id_acc[32], id_bad[32];
    Hallmark__Tx t1 = HALLMARK__TX__INIT;
    Hallmark__RegisterIdentity reg = HALLMARK__REGISTER_IDENTITY__INIT;
    reg.name = "Design Co";
    reg.kind = HALLMARK__IDENTITY_KIND__KIND_DESIGNER;
    t1.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
    t1.register_identity = &reg;
    contracts_gid(w->des.gid, w->des.pk, w->des.nonce);
    add_tx(w, txs, &n, &t1, &w->des, NULL, id_reg);

    Hallmark__Tx t2 = HALLMARK__TX__INIT;
    Hallmark__Accredit acc = HALLMARK__ACCREDIT__INIT;
    Hallmark__Role roles[1] = {HALLMARK__ROLE__ROLE_DESIGNER};
    acc.gid = (ProtobufCBinaryData){HM_GID_LEN, w->des.gid};
    acc.roles = roles;
    acc.n_roles = 1;
    t2.body_case = HALLMARK__TX__BODY_ACCREDIT;
    t2.accredit = &acc;
    add_tx(w, txs, &n, &t2, &w->acc, w->acc.gid, id_acc);

    uint8_t *bytes;
    size_t len;
    hm_block_t *b = next_block(w, txs, n, &bytes, &len);
    uint32_t *codes = NULL;
    assert_int_equal(chain_commit_block(w->chain, b, bytes, len, fake_cert, sizeof fake_cert,
                                        NULL, &codes),
                     HM_OK);
    assert_int_equal(codes[0], HM_R_OK);
    assert_int_equal(codes[1], HM_R_OK);
    free(codes);
    const chain_tip_t *tip = chain_tip(w->chain);
    assert_int_equal(tip->height, 1);
    assert_memory_equal(tip->last_hash, b->hash, 32);
    uint8_t root[32];
    w->store->ops->root(w->store, root);
    assert_memory_equal(root, tip->state_root, 32);

    /* stored block, certificate, results */
    hm_buf_t buf = {0};
    assert_int_equal(chain_block_bytes(w->chain, 1, &buf), HM_OK);
    assert_int_equal(buf.len, len);
    assert_memory_equal(buf.data, bytes, len);
    assert_int_equal(chain_cert_bytes(w->chain, 1, &buf), HM_OK);
    assert_memory_equal(buf.data, fake_cert, sizeof fake_cert);
    assert_int_equal(chain_results_bytes(w->chain, 1, &buf), HM_OK);
    Hallmark__BlockResults *br = NULL;
    assert_int_equal(hm_decode_block_results(&br, buf.data, buf.len), HM_OK);
    assert_int_equal(br->n_results, 2);
    assert_memory_equal(br->results[1]->txid.data, id_acc, 32);
    uint8_t rr[32];
    assert_int_equal(hm_results_root(rr, (const Hallmark__TxResult *const *)br->results, 2),
                     HM_OK);
    assert_memory_equal(rr, tip->results_root, 32);
    hm_free_block_results(br);

    uint64_t h;
    uint32_t idx;
    assert_int_equal(chain_tx_location(w->chain, id_acc, &h, &idx), HM_OK);
    assert_int_equal(h, 1);
    assert_int_equal(idx, 1);
    hm_block_free(b);
    free(bytes);
    for (size_t i = 0; i < n; i++)
        free(txs[i].data);

    /* block 2: a replayed nonce (rejected, located, no history) and a
     * suspend of the designer (applied: history grows) */
    n = 0;
    w->des.nonce = 0; /* reuse nonce 0: BAD_NONCE */
    Hallmark__Tx t3 = HALLMARK__TX__INIT;
    Hallmark__Suspend sus = HALLMARK__SUSPEND__INIT;
    sus.gid = (ProtobufCBinaryData){HM_GID_LEN, w->des.gid};
    sus.reason = "audit";
    t3.body_case = HALLMARK__TX__BODY_SUSPEND;
    t3.suspend = &sus;
    add_tx(w, txs, &n, &t3, &w->des, w->des.gid, id_bad);
    uint8_t id_sus[32];
    Hallmark__Tx t4 = HALLMARK__TX__INIT;
    t4.body_case = HALLMARK__TX__BODY_SUSPEND;
    t4.suspend = &sus;
    add_tx(w, txs, &n, &t4, &w->acc, w->acc.gid, id_sus);
    b = next_block(w, txs, n, &bytes, &len);
    assert_int_equal(chain_commit_block(w->chain, b, bytes, len, fake_cert, sizeof fake_cert,
                                        NULL, &codes),
                     HM_OK);
    assert_int_equal(codes[0], HM_R_BAD_NONCE);
    assert_int_equal(codes[1], HM_R_OK);
    free(codes);
    assert_int_equal(chain_tx_location(w->chain, id_bad, &h, &idx), HM_OK);
    assert_int_equal(h, 2);
    assert_int_equal(idx, 0);

    /* the designer's identity record: register, accredit, suspend */
    contracts_key_t k;
    assert_int_equal(contracts_key_identity(&k, w->des.gid), HM_OK);
    chain_history_entry_t e[8];
    size_t ne = 0;
    assert_int_equal(chain_history(w->chain, k.b, k.len, true, 0, 0, 8, e, &ne), HM_OK);
    assert_int_equal(ne, 3);
    assert_memory_equal(e[0].txid, id_reg, 32);
    assert_memory_equal(e[1].txid, id_acc, 32);
    assert_memory_equal(e[2].txid, id_sus, 32);
    assert_int_equal(e[2].height, 2);
    assert_int_equal(e[2].index, 1);
    /* the chain of txids matches the record's history head */
    hm_state_t *view = NULL;
    assert_int_equal(chain_state_view(w->chain, &view), HM_OK);
    uint8_t *val = NULL;
    size_t vlen = 0;
    assert_int_equal(hm_state_get(view, k.b, k.len, &val, &vlen), HM_OK);
    Hallmark__Identity *id = NULL;
    assert_int_equal(hm_decode_identity(&id, val, vlen), HM_OK);
    uint8_t ids[3][32];
    for (int i = 0; i < 3; i++)
        memcpy(ids[i], e[i].txid, 32);
    assert_true(contracts_history_verify(id->history_len, id->history_head.data,
                                         id->history_head.len, (const uint8_t (*)[32])ids, 3));
    hm_free_identity(id);

    /* proofs: the designer's record at the current root and at block 2's
     * header root (state after block 1: accredited, not yet suspended) */
    hm_smt_proof_t *proof = malloc(sizeof *proof);
    hm_buf_t value = {0};
    bool found = false;
    assert_int_equal(chain_prove(w->chain, chain_tip(w->chain)->state_root, k.b, k.len, &found,
                                 &value, proof),
                     HM_OK);
    assert_true(found);
    assert_int_equal(value.len, vlen);
    assert_memory_equal(value.data, val, vlen);
    assert_int_equal(hm_smt_verify(chain_tip(w->chain)->state_root, k.b, k.len, value.data,
                                   value.len, proof),
                     HM_OK);
    assert_int_equal(hm_smt_verify(chain_tip(w->chain)->state_root, k.b, k.len, NULL, 0, proof),
                     HM_ERR_PROOF);
    assert_int_equal(hm_smt_verify(b->header->state_root.data, k.b, k.len, value.data,
                                   value.len, proof),
                     HM_ERR_PROOF);
    assert_int_equal(chain_prove(w->chain, b->header->state_root.data, k.b, k.len, &found,
                                 &value, proof),
                     HM_OK);
    assert_true(found);
    assert_int_equal(hm_smt_verify(b->header->state_root.data, k.b, k.len, value.data,
                                   value.len, proof),
                     HM_OK);
    assert_int_equal(hm_decode_identity(&id, value.data, value.len), HM_OK);
    assert_int_equal(id->status, HALLMARK__IDENTITY_STATUS__IDENTITY_ACTIVE);
    assert_int_equal(id->history_len, 2);
    hm_free_identity(id);
    /* value copies: the replaced value was kept by its hash (that is how
     * it proved above); the current one was not — it is the state record */
    uint8_t vk[33] = {'V'};
    uint8_t *copy = NULL;
    size_t clen = 0;
    hm_smt_value_hash(vk + 1, value.data, value.len);
    assert_int_equal(hm_store_get_aux(w->store, vk, sizeof vk, &copy, &clen), HM_OK);
    assert_int_equal(clen, value.len);
    assert_memory_equal(copy, value.data, clen);
    free(copy);
    hm_smt_value_hash(vk + 1, val, vlen);
    assert_int_equal(hm_store_get_aux(w->store, vk, sizeof vk, &copy, &clen), HM_ERR_NOT_FOUND);
    /* absence */
    contracts_key_t nokey;
    assert_int_equal(contracts_key_part(&nokey, "no-such-serial"), HM_OK);
    assert_int_equal(chain_prove(w->chain, chain_tip(w->chain)->state_root, nokey.b, nokey.len,
                                 &found, &value, proof),
                     HM_OK);
    assert_false(found);
    assert_int_equal(hm_smt_verify(chain_tip(w->chain)->state_root, nokey.b, nokey.len, NULL, 0,
                                   proof),
                     HM_OK);
    /* a genesis record proves too (its value was stored at genesis) */
    contracts_key_t vkey;
    assert_int_equal(contracts_key_validators(&vkey), HM_OK);
    assert_int_equal(chain_prove(w->chain, chain_tip(w->chain)->state_root, vkey.b, vkey.len,
                                 &found, &value, proof),
                     HM_OK);
    assert_true(found);
    hm_buf_free(&value);
    free(proof);
    free(val);
    hm_state_free(view);

    /* paging: one at a time after a cursor */
    assert_int_equal(chain_history(w->chain, k.b, k.len, true, 0, 0, 1, e, &ne), HM_OK);
    assert_int_equal(ne, 1);
    assert_int_equal(chain_history(w->chain, k.b, k.len, false, e[0].height, e[0].index, 5, e,
                                   &ne),
                     HM_OK);
    assert_int_equal(ne, 2);
    assert_memory_equal(e[0].txid, id_acc, 32);
    /* the accreditor's identity was not changed by any tx: empty history */
    assert_int_equal(contracts_key_identity(&k, w->acc.gid), HM_OK);
    assert_int_equal(chain_history(w->chain, k.b, k.len, true, 0, 0, 8, e, &ne), HM_OK);
    assert_int_equal(ne, 0);

    hm_block_free(b);
    free(bytes);
    for (size_t i = 0; i < n; i++)
        free(txs[i].data);
    hm_buf_free(&buf);
}

static void test_rejects_block_off_the_tip(void **state)
{
    struct world *w = *state;
    uint8_t *bytes;
    size_t len;
    hm_block_t *b = next_block(w, NULL, 0, &bytes, &len);
    chain_tip_t before = *chain_tip(w->chain);
    /* tamper with the decoded header's claims one at a time */
    b->header->state_root.data[0] ^= 1;
    assert_int_equal(chain_commit_block(w->chain, b, bytes, len, fake_cert, 2, NULL, NULL),
                     HM_ERR_STATE);
    b->header->state_root.data[0] ^= 1;
    b->header->height++;
    assert_int_equal(chain_commit_block(w->chain, b, bytes, len, fake_cert, 2, NULL, NULL),
                     HM_ERR_STATE);
    b->header->height--;
    b->header->prev_hash.data[5] ^= 1;
    assert_int_equal(chain_commit_block(w->chain, b, bytes, len, fake_cert, 2, NULL, NULL),
                     HM_ERR_STATE);
    b->header->prev_hash.data[5] ^= 1;
    b->header->time_ms = before.last_time_ms;
    assert_int_equal(chain_commit_block(w->chain, b, bytes, len, fake_cert, 2, NULL, NULL),
                     HM_ERR_STATE);
    assert_memory_equal(chain_tip(w->chain), &before, sizeof before);
    hm_block_free(b);
    free(bytes);
    /* an empty block extends the chain */
    b = next_block(w, NULL, 0, &bytes, &len);
    assert_int_equal(chain_commit_block(w->chain, b, bytes, len, fake_cert, 2, NULL, NULL), HM_OK);
    assert_int_equal(chain_tip(w->chain)->height, before.height + 1);
    hm_block_free(b);
    free(bytes);
}

static void test_reopen(void **state)
{
    struct world *w = *state;
    chain_tip_t before = *chain_tip(w->chain);
    chain_free(w->chain);
    w->chain = NULL;
    open_chain(w); /* the genesis is not applied twice: the tip is read back */
    assert_memory_equal(chain_tip(w->chain), &before, sizeof before);
    /* another chain id is refused */
    node_chain_t *other = NULL;
    uint8_t wrong[32] = {9};
    contracts_genesis_t g = {0};
    assert_int_equal(chain_open(&other, w->store, wrong, 0, &g, NULL, 0), HM_ERR_WRONG_CHAIN);
    assert_null(other);
}

/* unseen[i] (the caller knows tx i is not on the ledger) only skips the
 * tx-index lookup: honest flags store exactly what no flags store. Three
 * fresh chains get the same two blocks — block 2 replays block 1's tx —
 * with no flags, honest flags, and a false promise for the replay (which
 * then indexes the replay: the lookup really is skipped). */
static void test_unseen_flags(void **state)
{
    (void)state;
    const bool honest[2][2] = {{true}, {false, true}}, false_promise[2][2] = {{true}, {true, true}};
    const bool(*flags[3])[2] = {NULL, honest, false_promise};
    chain_tip_t tips[3];
    uint64_t loc_h[3][2];
    uint32_t loc_i[3][2];
    for (int run = 0; run < 3; run++) {
        void *ws = NULL;
        assert_int_equal(setup(&ws), 0);
        struct world *w = ws;
        ProtobufCBinaryData txs[2];
        size_t n = 0;
        uint8_t id_reg[32], id_two[32];
        Hallmark__Tx t1 = HALLMARK__TX__INIT, t2 = HALLMARK__TX__INIT;
        Hallmark__RegisterIdentity reg = HALLMARK__REGISTER_IDENTITY__INIT;
        reg.name = "Design Co";
        reg.kind = HALLMARK__IDENTITY_KIND__KIND_DESIGNER;
        t1.body_case = t2.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
        t1.register_identity = t2.register_identity = &reg;
        add_tx(w, txs, &n, &t1, &w->des, NULL, id_reg);
        for (int blk = 0; blk < 2; blk++) {
            if (blk == 1) /* the same bytes again (a replay), then a new tx */
                add_tx(w, txs, &n, &t2, &w->des, NULL, id_two);
            uint8_t *bytes;
            size_t len;
            hm_block_t *b = next_block(w, txs, n, &bytes, &len);
            const bool *unseen = flags[run] ? flags[run][blk] : NULL;
            assert_int_equal(chain_commit_block(w->chain, b, bytes, len, fake_cert,
                                                sizeof fake_cert, unseen, NULL),
                             HM_OK);
            hm_block_free(b);
            free(bytes);
        }
        tips[run] = *chain_tip(w->chain);
        const uint8_t *ids[2] = {id_reg, id_two};
        for (int k = 0; k < 2; k++)
            assert_int_equal(chain_tx_location(w->chain, ids[k], &loc_h[run][k], &loc_i[run][k]),
                             HM_OK);
        for (size_t i = 0; i < n; i++)
            free(txs[i].data);
        teardown(&ws);
    }
    assert_memory_equal(&tips[0], &tips[1], sizeof tips[0]);
    assert_true(loc_h[0][0] == 1 && loc_i[0][0] == 0); /* the first commit counts */
    assert_true(loc_h[0][1] == 2 && loc_i[0][1] == 1);
    assert_true(loc_h[1][0] == 1 && loc_i[1][0] == 0 && loc_h[1][1] == 2 && loc_i[1][1] == 1);
    assert_true(loc_h[2][0] == 2 && loc_i[2][0] == 0); /* the false promise shows */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genesis_tip),
        cmocka_unit_test(test_blocks_results_history),
        cmocka_unit_test(test_rejects_block_off_the_tip),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_unseen_flags),
    };
    return cmocka_run_group_tests_name("chain", tests, setup, teardown);
}
