/* Unit tests: contracts/licence — grant (incl. sub-licences and key
 * envelopes), revoke, and every licence rule a mint meets (quota, window,
 * sites, recipe, licensee). Links lib/ and contracts/ only. */
#include "tests/unit/test_contracts_world.h"

#include "lib/hash.h"

static Hallmark__GrantLicence grant_body(const uint8_t recipe[32], const uint8_t licensee[20],
                                         uint64_t max)
{
    Hallmark__GrantLicence b = HALLMARK__GRANT_LICENCE__INIT;
    b.recipe_hash.data = (uint8_t *)recipe;
    b.recipe_hash.len = 32;
    b.licensee.data = (uint8_t *)licensee;
    b.licensee.len = 20;
    b.max_units = max;
    return b;
}

/* Grant b by `by`. Out: id (when non-NULL). */
static uint32_t grant(fx_t *f, ctk_key_t *by, Hallmark__GrantLicence *b, uint8_t id[32])
{
    Hallmark__Tx tx;
    uint32_t code;
    uint8_t txid[32];
    ctk_tx(&f->w, &tx, by, by);
    tx.body_case = HALLMARK__TX__BODY_GRANT_LICENCE;
    tx.grant_licence = b;
    OK(ctk_exec(&f->w, &code, txid, &tx, by, NULL, 0));
    if (id)
        contracts_licence_id(id, txid);
    return code;
}

static uint32_t revoke(fx_t *f, ctk_key_t *by, const uint8_t id[32])
{
    Hallmark__Tx tx;
    Hallmark__RevokeLicence b = HALLMARK__REVOKE_LICENCE__INIT;
    b.licence_id.data = (uint8_t *)id;
    b.licence_id.len = 32;
    b.reason = "breach";
    ctk_tx(&f->w, &tx, by, by);
    tx.body_case = HALLMARK__TX__BODY_REVOKE_LICENCE;
    tx.revoke_licence = &b;
    return fx_run(f, &tx, by);
}

/* Mint one part `serial` of `qty` units by k under licence at site. */
static uint32_t mint_at(fx_t *f, ctk_key_t *k, const uint8_t recipe[32], const uint8_t lic[32],
                        uint64_t qty, const char *batch, const char *site)
{
    Hallmark__Tx tx;
    Hallmark__MintCertificate b = HALLMARK__MINT_CERTIFICATE__INIT;
    b.batch_id = (char *)batch;
    b.recipe_hash.data = (uint8_t *)recipe;
    b.recipe_hash.len = 32;
    b.licence_id.data = (uint8_t *)lic;
    b.licence_id.len = 32;
    b.quantity = qty;
    b.site = (char *)site;
    ctk_tx(&f->w, &tx, k, k);
    tx.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
    tx.mint_certificate = &b;
    return fx_run(f, &tx, k);
}

static void test_grant_ok(void **state)
{
    fx_t *f = *state;
    Hallmark__Licence *l = fx_licence(f, f->licence);
    assert_non_null(l);
    assert_memory_equal(l->licence_id.data, f->licence, 32);
    assert_memory_equal(l->licensor.data, f->des.gid, 20);
    assert_memory_equal(l->licensee.data, f->mfr.gid, 20);
    assert_int_equal(l->max_units, 100);
    assert_int_equal(l->used_units, 0);
    assert_int_equal(l->history_len, 1);
    uint64_t rem;
    assert_true(licence_remaining(l, &rem));
    assert_int_equal(rem, 100);
    hm_free_licence(l);

    /* sites, window and an opaque key envelope */
    Hallmark__GrantLicence b = grant_body(f->recipe, f->mfr2.gid, 0);
    char *sites[] = {"plant-1", "plant-2"};
    b.sites = sites;
    b.n_sites = 2;
    b.valid_from_ms = 5;
    b.valid_until_ms = f->w.blk.time_ms + 100000;
    Hallmark__KeyEnvelope e = HALLMARK__KEY_ENVELOPE__INIT;
    uint8_t r32[32] = {1}, eph[33] = {2}, n12[12] = {3}, ct[48] = {4};
    e.recipient = (ProtobufCBinaryData){32, r32};
    e.ephemeral = (ProtobufCBinaryData){33, eph};
    e.nonce = (ProtobufCBinaryData){12, n12};
    e.ciphertext = (ProtobufCBinaryData){48, ct};
    b.key_envelope = &e;
    uint8_t id[32];
    EXPECT_R(grant(f, &f->des, &b, id), HM_R_OK);
    l = fx_licence(f, id);
    assert_int_equal(l->n_sites, 2);
    assert_non_null(l->key_envelope);
    assert_int_equal(l->key_envelope->ciphertext.len, 48);
    assert_false(licence_remaining(l, &rem)); /* unlimited */
    hm_free_licence(l);
    /* an envelope with a wrong field length */
    e.nonce.len = 11;
    EXPECT_R(grant(f, &f->des, &b, NULL), HM_R_MALFORMED);
}

static void test_grant_rejections(void **state)
{
    fx_t *f = *state;
    uint8_t unknown[32], nobody[20] = {7};
    hm_sha256(unknown, "unknown", 7);
    Hallmark__GrantLicence b = grant_body(f->recipe, f->mfr2.gid, 10);
    EXPECT_R(grant(f, &f->mfr, &b, NULL), HM_R_NOT_OWNER);
    b = grant_body(unknown, f->mfr2.gid, 10);
    EXPECT_R(grant(f, &f->des, &b, NULL), HM_R_RECIPE_UNKNOWN);
    b = grant_body(f->recipe, nobody, 10);
    EXPECT_R(grant(f, &f->des, &b, NULL), HM_R_IDENTITY_UNKNOWN);
    b = grant_body(f->recipe, f->mfr2.gid, 10);
    b.valid_from_ms = 100;
    b.valid_until_ms = 100; /* empty window */
    EXPECT_R(grant(f, &f->des, &b, NULL), HM_R_MALFORMED);
    b = grant_body(f->recipe, f->mfr2.gid, 10);
    char *dup[] = {"a", "a"};
    b.sites = dup;
    b.n_sites = 2;
    EXPECT_R(grant(f, &f->des, &b, NULL), HM_R_MALFORMED);
    /* licensee revoked */
    Hallmark__Tx tx;
    Hallmark__RevokeIdentity rv = HALLMARK__REVOKE_IDENTITY__INIT;
    rv.gid.data = f->joe.gid;
    rv.gid.len = 20;
    ctk_tx(&f->w, &tx, &f->acc, &f->acc);
    tx.body_case = HALLMARK__TX__BODY_REVOKE_IDENTITY;
    tx.revoke_identity = &rv;
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_OK);
    b = grant_body(f->recipe, f->joe.gid, 10);
    EXPECT_R(grant(f, &f->des, &b, NULL), HM_R_IDENTITY_REVOKED);
}

static void test_revoke(void **state)
{
    fx_t *f = *state;
    uint8_t unknown[32];
    hm_sha256(unknown, "unknown", 7);
    EXPECT_R(revoke(f, &f->des, unknown), HM_R_LICENCE_UNKNOWN);
    EXPECT_R(revoke(f, &f->mfr, f->licence), HM_R_NOT_OWNER);
    EXPECT_R(revoke(f, &f->des, f->licence), HM_R_OK);
    EXPECT_R(revoke(f, &f->des, f->licence), HM_R_LICENCE_REVOKED);
    Hallmark__Licence *l = fx_licence(f, f->licence);
    assert_true(l->revoked);
    assert_string_equal(l->revoke_reason, "breach");
    assert_int_equal(l->history_len, 2);
    hm_free_licence(l);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, f->licence, 1, "B1", ""), HM_R_LICENCE_REVOKED);
}

static void test_mint_licence_rules(void **state)
{
    fx_t *f = *state;
    uint64_t now = f->w.blk.time_ms;
    uint8_t unknown[32], other_recipe[32], later[32], past[32], sited[32];
    hm_sha256(unknown, "unknown", 7);
    hm_sha256(other_recipe, "other", 5);
    uint32_t code;
    OK(ctk_recipe(&f->w, &code, &f->des, other_recipe, NULL));
    EXPECT_R(code, HM_R_OK);

    EXPECT_R(mint_at(f, &f->mfr, f->recipe, unknown, 1, "B0", ""), HM_R_LICENCE_UNKNOWN);
    EXPECT_R(mint_at(f, &f->mfr2, f->recipe, f->licence, 1, "B0", ""), HM_R_NOT_LICENSEE);
    EXPECT_R(mint_at(f, &f->mfr, other_recipe, f->licence, 1, "B0", ""),
             HM_R_LICENCE_RECIPE_MISMATCH);

    Hallmark__GrantLicence b = grant_body(f->recipe, f->mfr.gid, 10);
    b.valid_from_ms = now + 5000;
    EXPECT_R(grant(f, &f->des, &b, later), HM_R_OK);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, later, 1, "B1", ""), HM_R_LICENCE_NOT_YET_VALID);
    b = grant_body(f->recipe, f->mfr.gid, 10);
    b.valid_until_ms = now + 500;
    EXPECT_R(grant(f, &f->des, &b, past), HM_R_OK);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, past, 1, "B2", ""), HM_R_OK); /* in window */
    OK(ctk_commit(&f->w, NULL));
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, past, 1, "B3", ""), HM_R_LICENCE_EXPIRED);

    b = grant_body(f->recipe, f->mfr.gid, 10);
    char *sites[] = {"plant-1"};
    b.sites = sites;
    b.n_sites = 1;
    EXPECT_R(grant(f, &f->des, &b, sited), HM_R_OK);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, sited, 1, "B4", "plant-9"), HM_R_LICENCE_SITE);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, sited, 1, "B4", ""), HM_R_LICENCE_SITE);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, sited, 1, "B4", "plant-1"), HM_R_OK);
}

static void test_quota(void **state)
{
    fx_t *f = *state;
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, f->licence, 60, "Q1", ""), HM_R_OK);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, f->licence, 41, "Q2", ""), HM_R_LICENCE_EXHAUSTED);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, f->licence, UINT64_MAX, "Q2", ""),
             HM_R_LICENCE_EXHAUSTED); /* overflow is exhaustion, not a wrap */
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, f->licence, 40, "Q2", ""), HM_R_OK);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, f->licence, 1, "Q3", ""), HM_R_LICENCE_EXHAUSTED);
    Hallmark__Licence *l = fx_licence(f, f->licence);
    assert_int_equal(l->used_units, 100);
    assert_int_equal(l->history_len, 3); /* grant + two mints; rejections leave no trace */
    hm_free_licence(l);
    /* unlimited */
    uint8_t unl[32];
    Hallmark__GrantLicence b = grant_body(f->recipe, f->mfr.gid, 0);
    EXPECT_R(grant(f, &f->des, &b, unl), HM_R_OK);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, unl, 1000000, "Q4", ""), HM_R_OK);
}

static void test_sublicence(void **state)
{
    fx_t *f = *state;
    uint8_t parent[32], sub[32], other_recipe[32];
    uint32_t code;
    hm_sha256(other_recipe, "other", 5);
    OK(ctk_recipe(&f->w, &code, &f->des, other_recipe, NULL));
    EXPECT_R(code, HM_R_OK);
    Hallmark__GrantLicence b = grant_body(f->recipe, f->mfr.gid, 100);
    b.sublicensable = true;
    char *psites[] = {"plant-1", "plant-2"};
    b.sites = psites;
    b.n_sites = 2;
    b.valid_until_ms = f->w.blk.time_ms + 1000000;
    EXPECT_R(grant(f, &f->des, &b, parent), HM_R_OK);

    Hallmark__GrantLicence s = grant_body(f->recipe, f->mfr2.gid, 30);
    char *ssites[] = {"plant-2"};
    s.sites = ssites;
    s.n_sites = 1;
    s.valid_until_ms = b.valid_until_ms;
    s.parent_licence = (ProtobufCBinaryData){32, parent};
    /* only the parent's licensee sub-licenses */
    EXPECT_R(grant(f, &f->des, &s, NULL), HM_R_NOT_LICENSEE);
    /* a sub-licence cannot itself be sublicensable (one level) */
    s.sublicensable = true;
    EXPECT_R(grant(f, &f->mfr, &s, NULL), HM_R_MALFORMED);
    s.sublicensable = false;
    /* window outside the parent's */
    s.valid_until_ms = 0;
    EXPECT_R(grant(f, &f->mfr, &s, NULL), HM_R_LICENCE_WINDOW);
    s.valid_until_ms = b.valid_until_ms;
    /* sites outside the parent's */
    char *bad_sites[] = {"plant-3"};
    s.sites = bad_sites;
    EXPECT_R(grant(f, &f->mfr, &s, NULL), HM_R_LICENCE_SITE);
    s.sites = ssites;
    /* more than the parent has left, or unlimited under a limited parent */
    s.max_units = 101;
    EXPECT_R(grant(f, &f->mfr, &s, NULL), HM_R_LICENCE_EXHAUSTED);
    s.max_units = 0;
    EXPECT_R(grant(f, &f->mfr, &s, NULL), HM_R_LICENCE_EXHAUSTED);
    s.max_units = 30;
    /* recipe mismatch */
    Hallmark__GrantLicence s2 = s;
    s2.recipe_hash = (ProtobufCBinaryData){32, other_recipe};
    EXPECT_R(grant(f, &f->mfr, &s2, NULL), HM_R_LICENCE_RECIPE_MISMATCH);
    /* parent unknown */
    uint8_t unknown[32] = {5};
    s2 = s;
    s2.parent_licence = (ProtobufCBinaryData){32, unknown};
    EXPECT_R(grant(f, &f->mfr, &s2, NULL), HM_R_LICENCE_UNKNOWN);
    /* a parent that does not allow sub-licences */
    s2 = s;
    s2.parent_licence = (ProtobufCBinaryData){32, f->licence};
    s2.sites = NULL;
    s2.n_sites = 0;
    s2.valid_until_ms = 0;
    EXPECT_R(grant(f, &f->mfr, &s2, NULL), HM_R_NOT_SUBLICENSABLE);

    /* the good one: 30 units reserved from the parent at grant */
    EXPECT_R(grant(f, &f->mfr, &s, sub), HM_R_OK);
    Hallmark__Licence *p = fx_licence(f, parent);
    assert_int_equal(p->used_units, 30);
    assert_int_equal(p->history_len, 2);
    hm_free_licence(p);
    Hallmark__Licence *l = fx_licence(f, sub);
    assert_memory_equal(l->parent_licence.data, parent, 32);
    assert_memory_equal(l->licensor.data, f->mfr.gid, 20);
    hm_free_licence(l);
    EXPECT_R(mint_at(f, &f->mfr2, f->recipe, sub, 30, "S1", "plant-2"), HM_R_OK);
    EXPECT_R(mint_at(f, &f->mfr2, f->recipe, sub, 1, "S2", "plant-2"), HM_R_LICENCE_EXHAUSTED);
    /* the parent has 70 left */
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, parent, 71, "P1", "plant-1"), HM_R_LICENCE_EXHAUSTED);
    EXPECT_R(mint_at(f, &f->mfr, f->recipe, parent, 70, "P1", "plant-1"), HM_R_OK);

    /* revoking the parent stops minting under the sub-licence, and new grants */
    uint8_t sub2[32];
    Hallmark__GrantLicence big = grant_body(f->recipe, f->mfr.gid, 0);
    big.sublicensable = true;
    uint8_t parent2[32];
    EXPECT_R(grant(f, &f->des, &big, parent2), HM_R_OK);
    Hallmark__GrantLicence s3 = grant_body(f->recipe, f->mfr2.gid, 5);
    s3.parent_licence = (ProtobufCBinaryData){32, parent2};
    EXPECT_R(grant(f, &f->mfr, &s3, sub2), HM_R_OK);
    EXPECT_R(revoke(f, &f->des, parent2), HM_R_OK);
    EXPECT_R(mint_at(f, &f->mfr2, f->recipe, sub2, 1, "S3", ""), HM_R_LICENCE_REVOKED);
    EXPECT_R(grant(f, &f->mfr, &s3, NULL), HM_R_LICENCE_REVOKED);
}

static void test_sublicence_parent_window(void **state)
{
    fx_t *f = *state;
    uint8_t parent[32];
    Hallmark__GrantLicence b = grant_body(f->recipe, f->mfr.gid, 0);
    b.sublicensable = true;
    b.valid_until_ms = f->w.blk.time_ms + 500;
    EXPECT_R(grant(f, &f->des, &b, parent), HM_R_OK);
    OK(ctk_commit(&f->w, NULL));
    Hallmark__GrantLicence s = grant_body(f->recipe, f->mfr2.gid, 5);
    s.parent_licence = (ProtobufCBinaryData){32, parent};
    s.valid_until_ms = b.valid_until_ms;
    EXPECT_R(grant(f, &f->mfr, &s, NULL), HM_R_LICENCE_EXPIRED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grant_ok, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_grant_rejections, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_revoke, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_mint_licence_rules, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_quota, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sublicence, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sublicence_parent_window, fx_setup_full,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
