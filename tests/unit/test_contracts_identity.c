/* Unit tests: contracts/identity — register, controller keys + threshold,
 * rotate, accredit, suspend, revoke, external ids; the actor and role
 * checks every contract shares. Links lib/ and contracts/ only. */
#include "tests/unit/test_contracts_world.h"

#include "lib/hash.h"

static Hallmark__Tx reg_tx(fx_t *f, Hallmark__RegisterIdentity *b, ctk_key_t *k)
{
    Hallmark__Tx tx;
    ctk_tx(&f->w, &tx, k, NULL);
    tx.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
    tx.register_identity = b;
    return tx;
}

static void test_register_ok_and_history(void **state)
{
    fx_t *f = *state;
    ctk_key_t k;
    OK(ctk_key(&k, 900));
    Hallmark__RegisterIdentity b = HALLMARK__REGISTER_IDENTITY__INIT;
    Hallmark__ExternalId e = HALLMARK__EXTERNAL_ID__INIT, *ep = &e;
    e.scheme = "gs1-gln";
    e.value = "4012345000009";
    b.name = "Acme";
    b.kind = HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER;
    b.external_ids = &ep;
    b.n_external_ids = 1;
    b.country = "DE";
    Hallmark__Tx tx = reg_tx(f, &b, &k);
    uint32_t code;
    uint8_t txid[32];
    OK(ctk_exec(&f->w, &code, txid, &tx, &k, NULL, 0));
    EXPECT_R(code, HM_R_OK);
    uint8_t gid[20];
    contracts_gid(gid, k.pk, tx.nonce);
    Hallmark__Identity *id = fx_identity(f, gid);
    assert_non_null(id);
    assert_int_equal(id->status, HALLMARK__IDENTITY_STATUS__IDENTITY_PENDING);
    assert_int_equal(id->n_roles, 0);
    assert_int_equal(id->n_controller_keys, 1);
    assert_memory_equal(id->controller_keys[0].data, k.pk, 32);
    assert_int_equal(id->threshold, 1);
    assert_int_equal(id->registered_height, f->w.blk.height);
    const uint8_t(*ids)[32] = (const uint8_t(*)[32])txid;
    assert_true(contracts_history_verify(id->history_len, id->history_head.data,
                                         id->history_head.len, ids, 1));
    hm_free_identity(id);
    /* the external id index points at the gid */
    contracts_key_t xk;
    void *m = NULL;
    OK(contracts_key_external_id(&xk, "gs1-gln", "4012345000009"));
    OK(ctk_get(&f->w, &m, &xk, &hallmark__external_id_index__descriptor));
    assert_non_null(m);
    assert_memory_equal(((Hallmark__ExternalIdIndex *)m)->gid.data, gid, 20);
    hm_codec_free(m);

    /* the same external id for another identity */
    ctk_key_t k2;
    OK(ctk_key(&k2, 901));
    b.name = "Copycat";
    tx = reg_tx(f, &b, &k2);
    EXPECT_R(fx_run(f, &tx, &k2), HM_R_EXTERNAL_ID_TAKEN);
}

static void test_register_malformed(void **state)
{
    fx_t *f = *state;
    ctk_key_t k;
    OK(ctk_key(&k, 902));
    Hallmark__RegisterIdentity b = HALLMARK__REGISTER_IDENTITY__INIT;
    b.kind = HALLMARK__IDENTITY_KIND__KIND_DESIGNER;
    b.name = ""; /* empty name */
    Hallmark__Tx tx = reg_tx(f, &b, &k);
    EXPECT_R(fx_run(f, &tx, &k), HM_R_MALFORMED);
    b.name = "ok";
    b.kind = 42; /* unknown kind */
    tx = reg_tx(f, &b, &k);
    EXPECT_R(fx_run(f, &tx, &k), HM_R_MALFORMED);
    b.kind = HALLMARK__IDENTITY_KIND__KIND_DESIGNER;
    b.threshold = 2; /* 2 of the signer alone */
    tx = reg_tx(f, &b, &k);
    EXPECT_R(fx_run(f, &tx, &k), HM_R_MALFORMED);
    b.threshold = 0;
    ProtobufCBinaryData keys[2] = {{32, k.pk}, {32, k.pk}}; /* duplicate keys */
    b.controller_keys = keys;
    b.n_controller_keys = 2;
    tx = reg_tx(f, &b, &k);
    EXPECT_R(fx_run(f, &tx, &k), HM_R_MALFORMED);
    b.n_controller_keys = 0;
    b.country = "Germany";
    tx = reg_tx(f, &b, &k);
    EXPECT_R(fx_run(f, &tx, &k), HM_R_MALFORMED);
    b.country = "";
    tx = reg_tx(f, &b, &k);
    tx.actor.data = f->des.gid; /* RegisterIdentity has no actor */
    tx.actor.len = 20;
    EXPECT_R(fx_run(f, &tx, &k), HM_R_MALFORMED);
    tx = reg_tx(f, &b, &k);
    EXPECT_R(fx_run(f, &tx, &k), HM_R_OK);
}

static void test_register_identity_exists(void **state)
{
    /* Unreachable without a hash collision: seed the state with a record at
     * the GID the next registration will get. */
    fx_t *f = *state;
    ctk_key_t k;
    OK(ctk_key(&k, 903));
    uint8_t gid[20];
    contracts_gid(gid, k.pk, k.nonce);
    contracts_key_t key;
    OK(contracts_key_identity(&key, gid));
    OK(hm_state_put(f->w.st, key.b, key.len, (const uint8_t *)"\x0a\x00", 2));
    uint32_t code;
    OK(ctk_register(&f->w, &code, &k, "Twin", HALLMARK__IDENTITY_KIND__KIND_DESIGNER));
    EXPECT_R(code, HM_R_IDENTITY_EXISTS);
}

static void test_threshold_and_rotate(void **state)
{
    fx_t *f = *state;
    ctk_key_t a, b2, c;
    OK(ctk_key(&a, 910));
    OK(ctk_key(&b2, 911));
    OK(ctk_key(&c, 912));
    /* a registers a 2-of-2 identity over keys a and b2 */
    Hallmark__RegisterIdentity r = HALLMARK__REGISTER_IDENTITY__INIT;
    ProtobufCBinaryData keys[2] = {{32, a.pk}, {32, b2.pk}};
    r.name = "Two keys";
    r.kind = HALLMARK__IDENTITY_KIND__KIND_DESIGNER;
    r.controller_keys = keys;
    r.n_controller_keys = 2;
    r.threshold = 2;
    Hallmark__Tx tx = reg_tx(f, &r, &a);
    EXPECT_R(fx_run(f, &tx, &a), HM_R_OK);
    contracts_gid(a.gid, a.pk, tx.nonce);
    memcpy(b2.gid, a.gid, 20);
    memcpy(c.gid, a.gid, 20);

    Hallmark__RotateKeys rk = HALLMARK__ROTATE_KEYS__INIT;
    ProtobufCBinaryData nk[1] = {{32, c.pk}};
    rk.gid.data = a.gid;
    rk.gid.len = 20;
    rk.controller_keys = nk;
    rk.n_controller_keys = 1;
    /* signer alone: 1 of 2 */
    ctk_tx(&f->w, &tx, &a, &a);
    tx.body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
    tx.rotate_keys = &rk;
    EXPECT_R(fx_run(f, &tx, &a), HM_R_UNAUTHORIZED);
    /* a non-controller co-signer does not count */
    ctk_tx(&f->w, &tx, &a, &a);
    tx.body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
    tx.rotate_keys = &rk;
    const ctk_key_t *cos_c[] = {&c};
    EXPECT_R(fx_run_cos(f, &tx, &a, cos_c, 1), HM_R_UNAUTHORIZED);
    /* gid must be the actor's */
    ctk_tx(&f->w, &tx, &a, &a);
    tx.body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
    Hallmark__RotateKeys other = rk;
    other.gid.data = f->des.gid;
    tx.rotate_keys = &other;
    EXPECT_R(fx_run(f, &tx, &a), HM_R_MALFORMED);
    /* 2 of 2: a signs, b2 co-signs (plus a harmless extra co-signer) */
    ctk_tx(&f->w, &tx, &a, &a);
    tx.body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
    tx.rotate_keys = &rk;
    const ctk_key_t *cos[] = {&c, &b2};
    EXPECT_R(fx_run_cos(f, &tx, &a, cos, 2), HM_R_OK);
    Hallmark__Identity *id = fx_identity(f, a.gid);
    assert_int_equal(id->n_controller_keys, 1);
    assert_memory_equal(id->controller_keys[0].data, c.pk, 32);
    assert_int_equal(id->threshold, 1);
    assert_int_equal(id->history_len, 2);
    hm_free_identity(id);
    /* the old keys stop working at once; the new one works */
    ctk_tx(&f->w, &tx, &a, &a);
    tx.body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
    tx.rotate_keys = &rk;
    const ctk_key_t *cos_b[] = {&b2};
    EXPECT_R(fx_run_cos(f, &tx, &a, cos_b, 1), HM_R_UNAUTHORIZED);
    ctk_tx(&f->w, &tx, &c, &c);
    tx.body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
    tx.rotate_keys = &rk;
    EXPECT_R(fx_run(f, &tx, &c), HM_R_OK);
}

static void test_unknown_actor(void **state)
{
    fx_t *f = *state;
    ctk_key_t k;
    OK(ctk_key(&k, 920));
    uint32_t code;
    /* never registered: gid stays zero */
    OK(ctk_recipe(&f->w, &code, &k, f->recipe, NULL));
    EXPECT_R(code, HM_R_UNKNOWN_ACTOR);
    /* no actor at all on a tx that needs one */
    Hallmark__Tx tx;
    Hallmark__Suspend s = HALLMARK__SUSPEND__INIT;
    s.gid.data = f->joe.gid;
    s.gid.len = 20;
    ctk_tx(&f->w, &tx, &f->acc, NULL);
    tx.body_case = HALLMARK__TX__BODY_SUSPEND;
    tx.suspend = &s;
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_UNKNOWN_ACTOR);
    /* acting for someone else's identity */
    ctk_tx(&f->w, &tx, &f->des, &f->acc);
    tx.body_case = HALLMARK__TX__BODY_SUSPEND;
    tx.suspend = &s;
    EXPECT_R(fx_run(f, &tx, &f->des), HM_R_UNAUTHORIZED);
}

static void test_accredit_rules(void **state)
{
    fx_t *f = *state;
    uint32_t code;
    Hallmark__Role r = HALLMARK__ROLE__ROLE_MANUFACTURER;
    /* only accreditors accredit */
    OK(ctk_accredit(&f->w, &code, &f->des, f->joe.gid, &r, 1, 0));
    EXPECT_R(code, HM_R_NOT_ACCREDITOR);
    uint8_t nobody[20] = {1, 2, 3};
    OK(ctk_accredit(&f->w, &code, &f->acc, nobody, &r, 1, 0));
    EXPECT_R(code, HM_R_IDENTITY_UNKNOWN);
    OK(ctk_accredit(&f->w, &code, &f->acc, f->joe.gid, &r, 0, 0));
    EXPECT_R(code, HM_R_MALFORMED);
    Hallmark__Role bad = 77;
    OK(ctk_accredit(&f->w, &code, &f->acc, f->joe.gid, &bad, 1, 0));
    EXPECT_R(code, HM_R_MALFORMED);
    Hallmark__Role two[2] = {r, r};
    OK(ctk_accredit(&f->w, &code, &f->acc, f->joe.gid, two, 2, 0));
    EXPECT_R(code, HM_R_MALFORMED);
    /* an accredited accreditor may accredit in turn */
    Hallmark__Role ra = HALLMARK__ROLE__ROLE_ACCREDITOR;
    OK(ctk_accredit(&f->w, &code, &f->acc, f->joe.gid, &ra, 1, 0));
    EXPECT_R(code, HM_R_OK);
    OK(ctk_accredit(&f->w, &code, &f->joe, f->des.gid, &r, 1, 0));
    EXPECT_R(code, HM_R_OK);
    Hallmark__Identity *id = fx_identity(f, f->des.gid);
    assert_int_equal(id->status, HALLMARK__IDENTITY_STATUS__IDENTITY_ACTIVE);
    assert_int_equal(id->n_roles, 1); /* replaced, not merged */
    assert_int_equal(id->roles[0], HALLMARK__ROLE__ROLE_MANUFACTURER);
    assert_memory_equal(id->accredited_by.data, f->joe.gid, 20);
    hm_free_identity(id);
}

static void test_roles_at_block_time(void **state)
{
    fx_t *f = *state;
    uint32_t code;
    uint8_t h1[32], h2[32], h3[32];
    hm_sha256(h1, "r1", 2);
    hm_sha256(h2, "r2", 2);
    hm_sha256(h3, "r3", 2);
    /* PENDING: no role yet */
    OK(ctk_recipe(&f->w, &code, &f->joe, h1, NULL));
    EXPECT_R(code, HM_R_NOT_ACTIVE);
    /* ACTIVE but another role */
    OK(ctk_recipe(&f->w, &code, &f->insp, h1, NULL));
    EXPECT_R(code, HM_R_ROLE_MISSING);
    /* accredited until just after now: valid in this block, expired in the next */
    Hallmark__Role r = HALLMARK__ROLE__ROLE_DESIGNER;
    OK(ctk_accredit(&f->w, &code, &f->acc, f->joe.gid, &r, 1, f->w.blk.time_ms + 500));
    EXPECT_R(code, HM_R_OK);
    OK(ctk_recipe(&f->w, &code, &f->joe, h1, NULL));
    EXPECT_R(code, HM_R_OK);
    OK(ctk_commit(&f->w, NULL));
    OK(ctk_recipe(&f->w, &code, &f->joe, h2, NULL));
    EXPECT_R(code, HM_R_ACCREDITATION_EXPIRED);
    /* a manufacturer may register recipes too */
    OK(ctk_recipe(&f->w, &code, &f->mfr, h3, NULL));
    EXPECT_R(code, HM_R_OK);
}

static Hallmark__Tx status_tx(fx_t *f, ctk_key_t *by, Hallmark__Tx__BodyCase which, void *body)
{
    Hallmark__Tx tx;
    ctk_tx(&f->w, &tx, by, by);
    tx.body_case = which;
    if (which == HALLMARK__TX__BODY_SUSPEND)
        tx.suspend = body;
    else
        tx.revoke_identity = body;
    return tx;
}

static void test_suspend_reactivate_revoke(void **state)
{
    fx_t *f = *state;
    uint32_t code;
    uint8_t h1[32];
    hm_sha256(h1, "s1", 2);
    Hallmark__Suspend s = HALLMARK__SUSPEND__INIT;
    s.gid.data = f->des.gid;
    s.gid.len = 20;
    s.reason = "audit pending";
    Hallmark__Tx tx = status_tx(f, &f->des, HALLMARK__TX__BODY_SUSPEND, &s);
    EXPECT_R(fx_run(f, &tx, &f->des), HM_R_NOT_ACCREDITOR);
    tx = status_tx(f, &f->acc, HALLMARK__TX__BODY_SUSPEND, &s);
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_OK);
    Hallmark__Identity *id = fx_identity(f, f->des.gid);
    assert_int_equal(id->status, HALLMARK__IDENTITY_STATUS__IDENTITY_SUSPENDED);
    assert_string_equal(id->status_reason, "audit pending");
    hm_free_identity(id);
    /* a suspended actor is barred */
    OK(ctk_recipe(&f->w, &code, &f->des, h1, NULL));
    EXPECT_R(code, HM_R_NOT_ACTIVE);
    /* Accredit re-activates */
    fx_role(f, &f->des, HALLMARK__ROLE__ROLE_DESIGNER);
    OK(ctk_recipe(&f->w, &code, &f->des, h1, NULL));
    EXPECT_R(code, HM_R_OK);
    /* bad reason (control character) */
    s.reason = "bad\x01";
    tx = status_tx(f, &f->acc, HALLMARK__TX__BODY_SUSPEND, &s);
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_MALFORMED);

    Hallmark__RevokeIdentity rv = HALLMARK__REVOKE_IDENTITY__INIT;
    rv.gid.data = f->des.gid;
    rv.gid.len = 20;
    rv.reason = "fraud";
    tx = status_tx(f, &f->acc, HALLMARK__TX__BODY_REVOKE_IDENTITY, &rv);
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_OK);
    /* final: no accredit, suspend or revoke of a revoked identity */
    tx = status_tx(f, &f->acc, HALLMARK__TX__BODY_REVOKE_IDENTITY, &rv);
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_IDENTITY_REVOKED);
    s.reason = "";
    tx = status_tx(f, &f->acc, HALLMARK__TX__BODY_SUSPEND, &s);
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_IDENTITY_REVOKED);
    Hallmark__Role r = HALLMARK__ROLE__ROLE_DESIGNER;
    OK(ctk_accredit(&f->w, &code, &f->acc, f->des.gid, &r, 1, 0));
    EXPECT_R(code, HM_R_IDENTITY_REVOKED);
    /* and the revoked identity cannot act, not even rotate keys */
    Hallmark__RotateKeys rk = HALLMARK__ROTATE_KEYS__INIT;
    ProtobufCBinaryData nk = {32, f->des.pk};
    rk.gid.data = f->des.gid;
    rk.gid.len = 20;
    rk.controller_keys = &nk;
    rk.n_controller_keys = 1;
    ctk_tx(&f->w, &tx, &f->des, &f->des);
    tx.body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
    tx.rotate_keys = &rk;
    EXPECT_R(fx_run(f, &tx, &f->des), HM_R_NOT_ACTIVE);
    id = fx_identity(f, f->des.gid);
    assert_int_equal(id->status, HALLMARK__IDENTITY_STATUS__IDENTITY_REVOKED);
    assert_int_equal(id->history_len, 5); /* register, accredit, suspend, accredit, revoke */
    hm_free_identity(id);
}

static void test_suspended_may_rotate(void **state)
{
    fx_t *f = *state;
    Hallmark__Suspend s = HALLMARK__SUSPEND__INIT;
    s.gid.data = f->joe.gid;
    s.gid.len = 20;
    Hallmark__Tx tx = status_tx(f, &f->acc, HALLMARK__TX__BODY_SUSPEND, &s);
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_OK);
    Hallmark__RotateKeys rk = HALLMARK__ROTATE_KEYS__INIT;
    ProtobufCBinaryData nk = {32, f->insp.pk};
    rk.gid.data = f->joe.gid;
    rk.gid.len = 20;
    rk.controller_keys = &nk;
    rk.n_controller_keys = 1;
    ctk_tx(&f->w, &tx, &f->joe, &f->joe);
    tx.body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
    tx.rotate_keys = &rk;
    EXPECT_R(fx_run(f, &tx, &f->joe), HM_R_OK);
}

static void test_genesis_accreditor(void **state)
{
    fx_t *f = *state;
    uint8_t gid[20];
    contracts_genesis_gid(gid, f->acc.pk);
    assert_memory_equal(gid, f->acc.gid, 20);
    Hallmark__Identity *id = fx_identity(f, gid);
    assert_non_null(id);
    assert_int_equal(id->status, HALLMARK__IDENTITY_STATUS__IDENTITY_ACTIVE);
    assert_true(ident_holds_role(id, HALLMARK__ROLE__ROLE_ACCREDITOR, UINT64_MAX - 1));
    assert_false(ident_holds_role(id, HALLMARK__ROLE__ROLE_MANUFACTURER, 0));
    assert_int_equal(id->accredited_until_ms, 0);
    /* genesis made it, not a tx: empty chain; then the accredits it signed
     * did not touch it */
    assert_int_equal(id->history_len, 0);
    assert_true(contracts_history_verify(0, id->history_head.data, id->history_head.len, NULL, 0));
    hm_free_identity(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_ok_and_history, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_register_malformed, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_register_identity_exists, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_threshold_and_rotate, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_actor, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_accredit_rules, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_roles_at_block_time, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_suspend_reactivate_revoke, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_suspended_may_rotate, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_genesis_accreditor, fx_setup_full, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
