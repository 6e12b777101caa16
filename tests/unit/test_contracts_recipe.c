/* Unit tests: contracts/recipe — register (lineage), transfer, deprecate.
 * Links lib/ and contracts/ only. */
#include "tests/unit/test_contracts_world.h"

#include "lib/hash.h"

static uint32_t transfer(fx_t *f, ctk_key_t *by, const uint8_t hash[32], const uint8_t to[20])
{
    Hallmark__Tx tx;
    Hallmark__TransferRecipe b = HALLMARK__TRANSFER_RECIPE__INIT;
    b.recipe_hash.data = (uint8_t *)hash;
    b.recipe_hash.len = 32;
    b.new_owner.data = (uint8_t *)to;
    b.new_owner.len = 20;
    ctk_tx(&f->w, &tx, by, by);
    tx.body_case = HALLMARK__TX__BODY_TRANSFER_RECIPE;
    tx.transfer_recipe = &b;
    return fx_run(f, &tx, by);
}

static uint32_t deprecate(fx_t *f, ctk_key_t *by, const uint8_t hash[32])
{
    Hallmark__Tx tx;
    Hallmark__DeprecateRecipe b = HALLMARK__DEPRECATE_RECIPE__INIT;
    b.recipe_hash.data = (uint8_t *)hash;
    b.recipe_hash.len = 32;
    b.reason = "superseded";
    ctk_tx(&f->w, &tx, by, by);
    tx.body_case = HALLMARK__TX__BODY_DEPRECATE_RECIPE;
    tx.deprecate_recipe = &b;
    return fx_run(f, &tx, by);
}

static void test_register_and_lineage(void **state)
{
    fx_t *f = *state;
    uint32_t code;
    Hallmark__Recipe *r = fx_recipe(f, f->recipe);
    assert_non_null(r);
    assert_memory_equal(r->owner.data, f->des.gid, 20);
    assert_string_equal(r->material, "Ti-6Al-4V");
    assert_false(r->deprecated);
    assert_int_equal(r->history_len, 1);
    hm_free_recipe(r);
    /* a hash is registered once */
    OK(ctk_recipe(&f->w, &code, &f->des, f->recipe, NULL));
    EXPECT_R(code, HM_R_RECIPE_EXISTS);
    /* lineage: v2 follows v1, by v1's owner */
    uint8_t v2[32], v3[32], nowhere[32];
    hm_sha256(v2, "v2", 2);
    hm_sha256(v3, "v3", 2);
    hm_sha256(nowhere, "nowhere", 7);
    OK(ctk_recipe(&f->w, &code, &f->des, v2, nowhere));
    EXPECT_R(code, HM_R_PREVIOUS_UNKNOWN);
    OK(ctk_recipe(&f->w, &code, &f->mfr, v2, f->recipe));
    EXPECT_R(code, HM_R_NOT_OWNER);
    OK(ctk_recipe(&f->w, &code, &f->des, v2, f->recipe));
    EXPECT_R(code, HM_R_OK);
    r = fx_recipe(f, v2);
    assert_memory_equal(r->previous.data, f->recipe, 32);
    hm_free_recipe(r);
    /* a recipe cannot follow itself */
    OK(ctk_recipe(&f->w, &code, &f->des, v3, v3));
    EXPECT_R(code, HM_R_MALFORMED);
}

static void test_register_malformed(void **state)
{
    fx_t *f = *state;
    Hallmark__Tx tx;
    Hallmark__RegisterRecipe b = HALLMARK__REGISTER_RECIPE__INIT;
    uint8_t h[31] = {0};
    b.recipe_hash.data = h;
    b.recipe_hash.len = sizeof h; /* not 32 bytes */
    ctk_tx(&f->w, &tx, &f->des, &f->des);
    tx.body_case = HALLMARK__TX__BODY_REGISTER_RECIPE;
    tx.register_recipe = &b;
    EXPECT_R(fx_run(f, &tx, &f->des), HM_R_MALFORMED);
}

static void test_transfer(void **state)
{
    fx_t *f = *state;
    uint8_t unknown[32], nobody[20] = {9};
    hm_sha256(unknown, "unknown", 7);
    EXPECT_R(transfer(f, &f->mfr, f->recipe, f->mfr.gid), HM_R_NOT_OWNER);
    EXPECT_R(transfer(f, &f->des, unknown, f->mfr.gid), HM_R_RECIPE_UNKNOWN);
    EXPECT_R(transfer(f, &f->des, f->recipe, nobody), HM_R_IDENTITY_UNKNOWN);
    EXPECT_R(transfer(f, &f->des, f->recipe, f->mfr.gid), HM_R_OK);
    Hallmark__Recipe *r = fx_recipe(f, f->recipe);
    assert_memory_equal(r->owner.data, f->mfr.gid, 20);
    assert_int_equal(r->history_len, 2);
    hm_free_recipe(r);
    /* the old owner lost it */
    EXPECT_R(deprecate(f, &f->des, f->recipe), HM_R_NOT_OWNER);
    /* not to a revoked identity */
    Hallmark__Tx tx;
    Hallmark__RevokeIdentity rv = HALLMARK__REVOKE_IDENTITY__INIT;
    rv.gid.data = f->joe.gid;
    rv.gid.len = 20;
    ctk_tx(&f->w, &tx, &f->acc, &f->acc);
    tx.body_case = HALLMARK__TX__BODY_REVOKE_IDENTITY;
    tx.revoke_identity = &rv;
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_OK);
    EXPECT_R(transfer(f, &f->mfr, f->recipe, f->joe.gid), HM_R_IDENTITY_REVOKED);
}

static void test_deprecate(void **state)
{
    fx_t *f = *state;
    uint8_t unknown[32];
    hm_sha256(unknown, "unknown", 7);
    EXPECT_R(deprecate(f, &f->des, unknown), HM_R_RECIPE_UNKNOWN);
    EXPECT_R(deprecate(f, &f->des, f->recipe), HM_R_OK);
    EXPECT_R(deprecate(f, &f->des, f->recipe), HM_R_RECIPE_DEPRECATED);
    Hallmark__Recipe *r = fx_recipe(f, f->recipe);
    assert_true(r->deprecated);
    assert_string_equal(r->deprecation_reason, "superseded");
    hm_free_recipe(r);
    /* no new licences ... */
    uint32_t code;
    OK(ctk_grant(&f->w, &code, NULL, &f->des, f->recipe, f->mfr2.gid, 10, 0, 0));
    EXPECT_R(code, HM_R_RECIPE_DEPRECATED);
    /* ... but existing licences still mint (DESIGN: "no new licences") */
    uint8_t cert[32];
    EXPECT_R(fx_mint_n(f, cert, "B-dep", "DEP", 2), HM_R_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_and_lineage, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_register_malformed, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_transfer, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deprecate, fx_setup_full, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
