/* Unit tests: contracts/validators — UpdateValidators quorum (2f+1 current
 * validators), effective height, one pending change, set arithmetic.
 * Links lib/ and contracts/ only. */
#include "tests/unit/test_contracts_world.h"

static uint8_t fp[32];

static Hallmark__ValidatorInfo vinfo(const ctk_key_t *k)
{
    Hallmark__ValidatorInfo v = HALLMARK__VALIDATOR_INFO__INIT;
    v.pubkey = (ProtobufCBinaryData){32, (uint8_t *)k->pk};
    v.tls_fingerprint = (ProtobufCBinaryData){32, fp};
    v.address = "10.0.0.9:26656";
    v.name = "new";
    return v;
}

/* UpdateValidators signed by signers[0], co-signed by the rest. */
static uint32_t update(fx_t *f, Hallmark__UpdateValidators *b, ctk_key_t **signers, size_t n)
{
    Hallmark__Tx tx;
    ctk_tx(&f->w, &tx, signers[0], NULL);
    tx.body_case = HALLMARK__TX__BODY_UPDATE_VALIDATORS;
    tx.update_validators = b;
    return fx_run_cos(f, &tx, signers[0], (const ctk_key_t *const *)signers + 1, n - 1);
}

static Hallmark__ValidatorSet *vset(fx_t *f)
{
    contracts_key_t k;
    void *m = NULL;
    OK(contracts_key_validators(&k));
    OK(ctk_get(&f->w, &m, &k, &hallmark__validator_set__descriptor));
    return m;
}

static void test_update_flow(void **state)
{
    fx_t *f = *state;
    ctk_key_t nv, nv2;
    OK(ctk_key(&nv, 4000));
    OK(ctk_key(&nv2, 4001));
    Hallmark__ValidatorInfo add = vinfo(&nv), *addp = &add;
    Hallmark__UpdateValidators b = HALLMARK__UPDATE_VALIDATORS__INIT;
    b.add = &addp;
    b.n_add = 1;
    b.effective_height = f->w.blk.height + 2;
    ctk_key_t *two[] = {&f->v[0], &f->v[1]};
    ctk_key_t *three[] = {&f->v[0], &f->v[1], &f->v[2]};
    /* 2 of 4 is not 2f+1 = 3; a non-validator co-signer does not count */
    EXPECT_R(update(f, &b, two, 2), HM_R_VALIDATOR_QUORUM);
    ctk_key_t *two_plus[] = {&f->v[0], &f->v[1], &f->acc};
    EXPECT_R(update(f, &b, two_plus, 3), HM_R_VALIDATOR_QUORUM);
    b.effective_height = f->w.blk.height;
    EXPECT_R(update(f, &b, three, 3), HM_R_BAD_EFFECTIVE_HEIGHT);
    b.effective_height = f->w.blk.height + 2;
    EXPECT_R(update(f, &b, three, 3), HM_R_OK);
    Hallmark__ValidatorSet *vs = vset(f);
    assert_int_equal(vs->n_validators, 4);
    assert_int_equal(vs->n_pending_validators, 5);
    assert_int_equal(vs->pending_height, f->w.blk.height + 2);
    Hallmark__ValidatorInfo *const *list;
    size_t n;
    contracts_validators_in_force(vs, f->w.blk.height + 1, &list, &n);
    assert_int_equal(n, 4);
    contracts_validators_in_force(vs, f->w.blk.height + 2, &list, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(list[4]->pubkey.data, nv.pk, 32);
    hm_free_validator_set(vs);

    /* one change in flight */
    Hallmark__ValidatorInfo add2 = vinfo(&nv2), *add2p = &add2;
    Hallmark__UpdateValidators b2 = HALLMARK__UPDATE_VALIDATORS__INIT;
    b2.add = &add2p;
    b2.n_add = 1;
    b2.effective_height = f->w.blk.height + 5;
    EXPECT_R(update(f, &b2, three, 3), HM_R_VALIDATOR_PENDING);
    OK(ctk_commit(&f->w, NULL));
    OK(ctk_commit(&f->w, NULL));
    /* now the 5-validator set is in force: 3 of 5 is still 2f+1 (f = 1) */
    EXPECT_R(update(f, &b2, three, 3), HM_R_OK);
    vs = vset(f);
    assert_int_equal(vs->n_validators, 5);
    assert_int_equal(vs->effective_height, f->w.blk.height);
    assert_int_equal(vs->n_pending_validators, 6);
    hm_free_validator_set(vs);
}

static void test_set_arithmetic(void **state)
{
    fx_t *f = *state;
    ctk_key_t *three[] = {&f->v[0], &f->v[1], &f->v[2]};
    ctk_key_t stranger;
    OK(ctk_key(&stranger, 4002));
    Hallmark__UpdateValidators b = HALLMARK__UPDATE_VALIDATORS__INIT;
    b.effective_height = f->w.blk.height + 1;
    EXPECT_R(update(f, &b, three, 3), HM_R_MALFORMED); /* no change */
    ProtobufCBinaryData rm = {32, stranger.pk};
    b.remove = &rm;
    b.n_remove = 1;
    EXPECT_R(update(f, &b, three, 3), HM_R_VALIDATOR_UNKNOWN);
    Hallmark__ValidatorInfo again = vinfo(&f->v[3]), *againp = &again;
    Hallmark__UpdateValidators b2 = HALLMARK__UPDATE_VALIDATORS__INIT;
    b2.add = &againp;
    b2.n_add = 1;
    b2.effective_height = f->w.blk.height + 1;
    EXPECT_R(update(f, &b2, three, 3), HM_R_VALIDATOR_EXISTS);
    again.tls_fingerprint.len = 3;
    EXPECT_R(update(f, &b2, three, 3), HM_R_MALFORMED);
    ProtobufCBinaryData all[4];
    for (size_t i = 0; i < 4; i++)
        all[i] = (ProtobufCBinaryData){32, f->v[i].pk};
    Hallmark__UpdateValidators b3 = HALLMARK__UPDATE_VALIDATORS__INIT;
    b3.remove = all;
    b3.n_remove = 4;
    b3.effective_height = f->w.blk.height + 1;
    EXPECT_R(update(f, &b3, three, 3), HM_R_VALIDATOR_SET_EMPTY);
    /* an actor is not allowed on UpdateValidators */
    Hallmark__Tx tx;
    b3.n_remove = 1;
    ctk_tx(&f->w, &tx, &f->v[0], &f->acc);
    tx.body_case = HALLMARK__TX__BODY_UPDATE_VALIDATORS;
    tx.update_validators = &b3;
    const ctk_key_t *cos[] = {&f->v[1], &f->v[2]};
    EXPECT_R(fx_run_cos(f, &tx, &f->v[0], cos, 2), HM_R_MALFORMED);
    /* removing one of four with 3 signatures */
    EXPECT_R(update(f, &b3, three, 3), HM_R_OK);
    Hallmark__ValidatorSet *vs = vset(f);
    assert_int_equal(vs->n_pending_validators, 3);
    assert_memory_equal(vs->pending_validators[0]->pubkey.data, f->v[1].pk, 32);
    hm_free_validator_set(vs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_update_flow, fx_setup_cast, fx_teardown),
        cmocka_unit_test_setup_teardown(test_set_arithmetic, fx_setup_cast, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
