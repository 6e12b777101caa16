/* Unit tests: contracts/apply, result, keys, genesis — nonces (a rejected
 * tx consumes its nonce, a wrong nonce changes nothing), block apply and
 * roots, result code names, history helpers, genesis errors, and
 * determinism of the data-driven workload over two fresh memory stores.
 * Links lib/ and contracts/ only. */
#include "tests/unit/test_contracts_world.h"

#include "lib/hash.h"

static void test_result_names(void **state)
{
    (void)state;
    assert_int_equal(HM_R_OK, 0);
    assert_int_equal(HM_R_LICENCE_EXHAUSTED, 22); /* stable once released */
    assert_string_equal(contracts_result_name(HM_R_LICENCE_EXHAUSTED), "HM_R_LICENCE_EXHAUSTED");
    assert_string_equal(contracts_result_name(HM_R_COUNT), "HM_R_UNKNOWN");
    assert_string_equal(contracts_result_name(UINT32_MAX), "HM_R_UNKNOWN");
    for (uint32_t i = 0; i < HM_R_COUNT; i++) {
        const char *n = contracts_result_name(i);
        assert_true(strncmp(n, "HM_R_", 5) == 0);
        assert_string_not_equal(n, "HM_R_UNKNOWN");
        assert_string_not_equal(contracts_result_text(i), "unknown result code");
        uint32_t back = UINT32_MAX;
        assert_true(contracts_result_from_name(n, &back));
        assert_int_equal(back, i);
        for (uint32_t j = 0; j < i; j++)
            assert_string_not_equal(n, contracts_result_name(j));
    }
    uint32_t c;
    assert_false(contracts_result_from_name("HM_R_NOPE", &c));
}

static void test_nonce_rules(void **state)
{
    fx_t *f = *state;
    uint64_t next;
    OK(contracts_next_nonce(f->w.st, &next, f->des.pk));
    assert_int_equal(next, f->des.nonce);
    uint8_t root0[32], root1[32];
    OK(hm_state_root(f->w.st, root0));

    /* a nonce from the future: rejected, nothing changes (not even the nonce) */
    uint8_t h[32];
    hm_sha256(h, "n", 1);
    uint32_t code;
    f->des.nonce += 5;
    OK(ctk_recipe(&f->w, &code, &f->des, h, NULL));
    EXPECT_R(code, HM_R_BAD_NONCE);
    f->des.nonce -= 6;
    OK(hm_state_root(f->w.st, root1));
    assert_memory_equal(root0, root1, 32);
    OK(contracts_next_nonce(f->w.st, &next, f->des.pk));
    assert_int_equal(next, f->des.nonce);

    /* a rejected tx consumes its nonce (its one effect) */
    OK(ctk_recipe(&f->w, &code, &f->des, f->recipe, NULL));
    EXPECT_R(code, HM_R_RECIPE_EXISTS);
    OK(contracts_next_nonce(f->w.st, &next, f->des.pk));
    assert_int_equal(next, f->des.nonce);
    OK(hm_state_root(f->w.st, root1));
    assert_memory_not_equal(root0, root1, 32);

    /* replaying an applied tx: same bytes, old nonce */
    Hallmark__Tx tx;
    Hallmark__DeprecateRecipe b = HALLMARK__DEPRECATE_RECIPE__INIT;
    b.recipe_hash = (ProtobufCBinaryData){32, f->recipe};
    ctk_tx(&f->w, &tx, &f->des, &f->des);
    tx.body_case = HALLMARK__TX__BODY_DEPRECATE_RECIPE;
    tx.deprecate_recipe = &b;
    hm_tx_t *t = NULL;
    OK(ctk_build(&f->w, &t, &tx, &f->des, NULL, 0));
    OK(contracts_apply_tx(f->w.st, &code, &f->w.blk, t));
    EXPECT_R(code, HM_R_OK);
    OK(contracts_apply_tx(f->w.st, &code, &f->w.blk, t));
    EXPECT_R(code, HM_R_BAD_NONCE);
    hm_tx_free(t);
}

static void test_apply_block_root(void **state)
{
    fx_t *f = *state;
    /* three txs in one block: the second depends on the first */
    ctk_key_t k;
    OK(ctk_key(&k, 3000));
    Hallmark__Tx t1, t2, t3;
    Hallmark__RegisterIdentity r = HALLMARK__REGISTER_IDENTITY__INIT;
    r.name = "late";
    r.kind = HALLMARK__IDENTITY_KIND__KIND_DESIGNER;
    ctk_tx(&f->w, &t1, &k, NULL);
    t1.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
    t1.register_identity = &r;
    contracts_gid(k.gid, k.pk, t1.nonce);
    Hallmark__Accredit a = HALLMARK__ACCREDIT__INIT;
    Hallmark__Role role = HALLMARK__ROLE__ROLE_DESIGNER;
    a.gid = (ProtobufCBinaryData){20, k.gid};
    a.roles = &role;
    a.n_roles = 1;
    ctk_tx(&f->w, &t2, &f->acc, &f->acc);
    t2.body_case = HALLMARK__TX__BODY_ACCREDIT;
    t2.accredit = &a;
    Hallmark__RegisterRecipe rr = HALLMARK__REGISTER_RECIPE__INIT;
    uint8_t h[32];
    hm_sha256(h, "late", 4);
    rr.recipe_hash = (ProtobufCBinaryData){32, h};
    ctk_tx(&f->w, &t3, &k, &k);
    t3.body_case = HALLMARK__TX__BODY_REGISTER_RECIPE;
    t3.register_recipe = &rr;
    hm_tx_t *txs[3] = {NULL, NULL, NULL};
    OK(ctk_build(&f->w, &txs[0], &t1, &k, NULL, 0));
    OK(ctk_build(&f->w, &txs[1], &t2, &f->acc, NULL, 0));
    OK(ctk_build(&f->w, &txs[2], &t3, &k, NULL, 0));
    uint32_t codes[3];
    uint8_t root[32], committed[32];
    /* out of order, the recipe comes before the accreditation */
    hm_tx_t *swapped[3] = {txs[0], txs[2], txs[1]};
    OK(contracts_apply_block(f->w.st, codes, NULL, &f->w.blk, swapped, 3));
    EXPECT_R(codes[0], HM_R_OK);
    EXPECT_R(codes[1], HM_R_NOT_ACTIVE);
    EXPECT_R(codes[2], HM_R_OK);
    hm_state_free(f->w.st);
    OK(hm_state_begin(&f->w.st, f->store));
    OK(contracts_apply_block(f->w.st, codes, root, &f->w.blk, txs, 3));
    EXPECT_R(codes[0], HM_R_OK);
    EXPECT_R(codes[1], HM_R_OK);
    EXPECT_R(codes[2], HM_R_OK);
    OK(ctk_commit(&f->w, committed));
    assert_memory_equal(root, committed, 32);
    uint8_t stored[32];
    f->store->ops->root(f->store, stored);
    assert_memory_equal(stored, root, 32);
    for (size_t i = 0; i < 3; i++)
        hm_tx_free(txs[i]);
}

static void test_unknown_body_and_bad_shape(void **state)
{
    fx_t *f = *state;
    Hallmark__Tx tx;
    Hallmark__Scrap s = HALLMARK__SCRAP__INIT;
    char *one[] = {"X"};
    s.serials = one;
    s.n_serials = 1;
    ctk_tx(&f->w, &tx, &f->mfr, &f->mfr);
    tx.body_case = HALLMARK__TX__BODY_SCRAP;
    tx.scrap = &s;
    hm_tx_t *t = NULL;
    OK(ctk_build(&f->w, &t, &tx, &f->mfr, NULL, 0));
    /* a caller that bypassed hm_tx_decode's shape checks gets a verdict */
    uint32_t code;
    size_t saved = t->tx->signer.len;
    t->tx->signer.len = 3;
    OK(contracts_apply_tx(f->w.st, &code, &f->w.blk, t));
    EXPECT_R(code, HM_R_MALFORMED);
    t->tx->signer.len = saved;
    Hallmark__Tx__BodyCase body = t->tx->body_case;
    t->tx->body_case = (Hallmark__Tx__BodyCase)99;
    OK(contracts_apply_tx(f->w.st, &code, &f->w.blk, t));
    EXPECT_R(code, HM_R_MALFORMED); /* and the nonce is consumed */
    t->tx->body_case = body;
    OK(contracts_apply_tx(f->w.st, &code, &f->w.blk, t));
    EXPECT_R(code, HM_R_BAD_NONCE);
    hm_tx_free(t);
}

static void test_history_helpers(void **state)
{
    (void)state;
    uint8_t ids[3][32], head[32] = {0};
    for (size_t i = 0; i < 3; i++) {
        hm_sha256(ids[i], &i, sizeof i);
        contracts_history_next(head, head, ids[i]);
    }
    assert_true(contracts_history_verify(3, head, 32, (const uint8_t(*)[32])ids, 3));
    assert_false(contracts_history_verify(4, head, 32, (const uint8_t(*)[32])ids, 3));
    assert_false(contracts_history_verify(2, head, 32, (const uint8_t(*)[32])ids, 2));
    uint8_t swapped[3][32];
    memcpy(swapped[0], ids[1], 32);
    memcpy(swapped[1], ids[0], 32);
    memcpy(swapped[2], ids[2], 32);
    assert_false(contracts_history_verify(3, head, 32, (const uint8_t(*)[32])swapped, 3));
    /* the first link hashes 32 zero bytes || txid under hallmark/history */
    uint8_t zero[32] = {0}, want[32], got[32];
    hm_tagged_hash2(want, HM_TAG_HISTORY, zero, 32, ids[0], 32);
    contracts_history_next(got, zero, ids[0]);
    assert_memory_equal(got, want, 32);
}

static void test_keys_and_ids(void **state)
{
    (void)state;
    contracts_key_t k;
    OK(contracts_key_part(&k, "SN-1"));
    assert_int_equal(k.len, 6);
    assert_memory_equal(k.b, "p/SN-1", 6);
    OK(contracts_key_external_id(&k, "lei", "X1"));
    assert_memory_equal(k.b, "x/lei:X1", 8);
    char big[CONTRACTS_KEY_MAX + 1];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(contracts_key_part(&k, big), HM_ERR_TOO_LARGE);
    OK(contracts_key_validators(&k));
    assert_int_equal(k.len, 2);
    /* GID = first 20 bytes of H_hallmark/gid(pubkey || nonce BE) */
    uint8_t pk[32] = {7}, n[8] = {0, 0, 0, 0, 0, 0, 1, 2}, h[32], gid[20];
    hm_tagged_hash2(h, HM_TAG_GID, pk, 32, n, 8);
    contracts_gid(gid, pk, 0x0102);
    assert_memory_equal(gid, h, 20);
    uint8_t txid[32] = {9}, id[32];
    hm_tagged_hash(h, HM_TAG_LICENCE, txid, 32);
    contracts_licence_id(id, txid);
    assert_memory_equal(id, h, 32);
    hm_tagged_hash(h, HM_TAG_CERT, txid, 32);
    contracts_cert_id(id, txid);
    assert_memory_equal(id, h, 32);
}

static void test_genesis_errors(void **state)
{
    (void)state;
    hm_store_t *store = NULL;
    hm_state_t *st = NULL;
    OK(hm_store_mem_new(&store));
    OK(hm_state_begin(&st, store));
    ctk_key_t a, v;
    OK(ctk_key(&a, 1));
    OK(ctk_key(&v, 2));
    uint8_t fp[32] = {0};
    Hallmark__ValidatorInfo vi = HALLMARK__VALIDATOR_INFO__INIT, *vp[2] = {&vi, &vi};
    vi.pubkey = (ProtobufCBinaryData){32, v.pk};
    vi.tls_fingerprint = (ProtobufCBinaryData){32, fp};
    contracts_genesis_accreditor_t acc[2] = {{.name = "A", .keys = (const uint8_t(*)[32])a.pk,
                                              .n_keys = 1},
                                             {.name = "B", .keys = (const uint8_t(*)[32])a.pk,
                                              .n_keys = 1}};
    contracts_genesis_t g = {acc, 1, vp, 0};
    assert_int_equal(contracts_genesis(st, &g), HM_ERR_INVALID); /* no validator */
    g.n_validators = 2;
    assert_int_equal(contracts_genesis(st, &g), HM_ERR_INVALID); /* duplicate validator */
    g.n_validators = 1;
    acc[0].threshold = 2;
    assert_int_equal(contracts_genesis(st, &g), HM_ERR_INVALID); /* 2 of 1 */
    acc[0].threshold = 0;
    g.n_accreditors = 2;
    assert_int_equal(contracts_genesis(st, &g), HM_ERR_INVALID); /* same first key */
    hm_state_free(st);
    OK(hm_state_begin(&st, store));
    g.n_accreditors = 1;
    OK(contracts_genesis(st, &g));
    assert_int_equal(contracts_genesis(st, &g), HM_ERR_EXISTS);
    hm_state_free(st);
    hm_store_free(store);
}

static void test_script_determinism_mem(void **state)
{
    (void)state;
    uint64_t seed = 42;
    for (int round = 0; round < 8; round++) {
        uint8_t data[600];
        tu_fill(data, sizeof data, &seed);
        hm_buf_t t1 = {0}, t2 = {0};
        hm_store_t *s1 = NULL, *s2 = NULL;
        OK(hm_store_mem_new(&s1));
        OK(hm_store_mem_new(&s2));
        OK(ctk_script_run(s1, &t1, data, sizeof data));
        OK(ctk_script_run(s2, &t2, data, sizeof data));
        assert_int_equal(t1.len, t2.len);
        assert_memory_equal(t1.data, t2.data, t1.len);
        uint8_t r1[32], r2[32];
        s1->ops->root(s1, r1);
        s2->ops->root(s2, r2);
        assert_memory_equal(r1, r2, 32);
        hm_buf_free(&t1);
        hm_buf_free(&t2);
        hm_store_free(s1);
        hm_store_free(s2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_names),
        cmocka_unit_test_setup_teardown(test_nonce_rules, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_apply_block_root, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_body_and_bad_shape, fx_setup_full,
                                        fx_teardown),
        cmocka_unit_test(test_history_helpers),
        cmocka_unit_test(test_keys_and_ids),
        cmocka_unit_test(test_genesis_errors),
        cmocka_unit_test(test_script_determinism_mem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
