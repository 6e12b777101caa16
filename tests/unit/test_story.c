/* The manufacturing story (issue 3), end to end over contracts and the
 * memory store, with really signed txs: a consortium accredits a designer,
 * a manufacturer and an inspector; a recipe is registered; a licence for
 * 100 units is granted; batches of 60 and 40 are minted with serials; a
 * third mint is rejected as exhausted; the inspector co-signs; custody
 * moves; parts are assembled; one certificate is revoked and every part
 * under it reads recalled (the assembly too); the history chain of every
 * touched record verifies against the txs that touched it.
 * Links lib/ and contracts/ only. */
#include "tests/unit/test_contracts_world.h"

#include "lib/hash.h"

/* The txids that touched a record, oldest first, as an auditor gets them. */
typedef struct {
    uint8_t ids[16][32];
    size_t n;
} trail_t;

static void note(trail_t *t, const uint8_t txid[32])
{
    assert_true(t->n < 16);
    memcpy(t->ids[t->n++], txid, 32);
}

static void check_chain(const trail_t *t, uint64_t len, const ProtobufCBinaryData *head)
{
    assert_int_equal(len, t->n);
    assert_true(contracts_history_verify(len, head->data, head->len,
                                         (const uint8_t(*)[32])t->ids, t->n));
    /* a trail missing its last tx, or with one extra, does not verify */
    if (t->n)
        assert_false(contracts_history_verify(len, head->data, head->len,
                                              (const uint8_t(*)[32])t->ids, t->n - 1));
}

static uint32_t run(fx_t *f, uint8_t txid[32], const Hallmark__Tx *tx, const ctk_key_t *signer)
{
    uint32_t code = UINT32_MAX;
    OK(ctk_exec(&f->w, &code, txid, tx, signer, NULL, 0));
    return code;
}

static char **serials(const char *prefix, size_t n)
{
    char **s = calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s[i] = malloc(16);
        snprintf(s[i], 16, "%s-%zu", prefix, i);
    }
    return s;
}

static void free_serials(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

static void test_story(void **state)
{
    (void)state;
    fx_t F = {0}, *f = &F;
    ctk_key_t integ; /* an integrator that assembles (a customer, never accredited) */
    trail_t t_des = {0}, t_mfr = {0}, t_insp = {0}, t_recipe = {0}, t_lic = {0}, t_ca = {0},
            t_cb = {0}, t_a0 = {0}, t_a1 = {0}, t_b0 = {0}, t_b1 = {0}, t_b39 = {0};
    uint8_t txid[32];
    Hallmark__Tx tx;

    /* 1. genesis: the consortium's accreditor and four validators */
    OK(hm_store_mem_new(&f->store));
    OK(ctk_world_init(&f->w, f->store, true));
    ctk_key_t *keys[] = {&f->acc, &f->des, &f->mfr, &f->insp, &integ,
                         &f->v[0], &f->v[1], &f->v[2], &f->v[3]};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        OK(ctk_key(keys[i], 200 + i));
    ctk_key_t *accs[] = {&f->acc};
    const ctk_key_t *vals[] = {&f->v[0], &f->v[1], &f->v[2], &f->v[3]};
    OK(ctk_genesis(&f->w, accs, 1, vals, 4));

    /* 2. registration and accreditation (block 1) */
    struct {
        ctk_key_t *k;
        const char *name;
        Hallmark__IdentityKind kind;
        trail_t *trail;
    } cast[] = {{&f->des, "Aero Designs", HALLMARK__IDENTITY_KIND__KIND_DESIGNER, &t_des},
                {&f->mfr, "Print Works", HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER, &t_mfr},
                {&f->insp, "TUV Lab", HALLMARK__IDENTITY_KIND__KIND_INSPECTOR, &t_insp},
                {&integ, "Airframe Integrator", HALLMARK__IDENTITY_KIND__KIND_OPERATOR, NULL}};
    for (size_t i = 0; i < 4; i++) {
        Hallmark__RegisterIdentity r = HALLMARK__REGISTER_IDENTITY__INIT;
        r.name = (char *)cast[i].name;
        r.kind = cast[i].kind;
        ctk_tx(&f->w, &tx, cast[i].k, NULL);
        tx.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
        tx.register_identity = &r;
        EXPECT_R(run(f, txid, &tx, cast[i].k), HM_R_OK);
        contracts_gid(cast[i].k->gid, cast[i].k->pk, tx.nonce);
        if (cast[i].trail)
            note(cast[i].trail, txid);
    }
    Hallmark__Role roles[] = {HALLMARK__ROLE__ROLE_DESIGNER, HALLMARK__ROLE__ROLE_MANUFACTURER,
                              HALLMARK__ROLE__ROLE_INSPECTOR};
    for (size_t i = 0; i < 3; i++) {
        Hallmark__Accredit a = HALLMARK__ACCREDIT__INIT;
        a.gid = (ProtobufCBinaryData){20, cast[i].k->gid};
        a.roles = &roles[i];
        a.n_roles = 1;
        ctk_tx(&f->w, &tx, &f->acc, &f->acc);
        tx.body_case = HALLMARK__TX__BODY_ACCREDIT;
        tx.accredit = &a;
        EXPECT_R(run(f, txid, &tx, &f->acc), HM_R_OK);
        note(cast[i].trail, txid);
    }
    OK(ctk_commit(&f->w, NULL));

    /* 3. recipe and a 100-unit licence (block 2) */
    hm_sha256(f->recipe, "bracket-v1.step+Ti64+SLM", 24);
    Hallmark__RegisterRecipe rr = HALLMARK__REGISTER_RECIPE__INIT;
    rr.recipe_hash = (ProtobufCBinaryData){32, f->recipe};
    rr.version = "1";
    rr.title = "Wing bracket";
    ctk_tx(&f->w, &tx, &f->des, &f->des);
    tx.body_case = HALLMARK__TX__BODY_REGISTER_RECIPE;
    tx.register_recipe = &rr;
    EXPECT_R(run(f, txid, &tx, &f->des), HM_R_OK);
    note(&t_recipe, txid);
    Hallmark__GrantLicence gl = HALLMARK__GRANT_LICENCE__INIT;
    gl.recipe_hash = rr.recipe_hash;
    gl.licensee = (ProtobufCBinaryData){20, f->mfr.gid};
    gl.max_units = 100;
    ctk_tx(&f->w, &tx, &f->des, &f->des);
    tx.body_case = HALLMARK__TX__BODY_GRANT_LICENCE;
    tx.grant_licence = &gl;
    EXPECT_R(run(f, txid, &tx, &f->des), HM_R_OK);
    contracts_licence_id(f->licence, txid);
    note(&t_lic, txid);
    OK(ctk_commit(&f->w, NULL));

    /* 4. two batches, 60 + 40, with serials; a third is exhausted (block 3) */
    uint8_t ca[32], cb[32];
    char **sa = serials("A", 60), **sb = serials("B", 40);
    Hallmark__MintCertificate m = HALLMARK__MINT_CERTIFICATE__INIT;
    m.recipe_hash = rr.recipe_hash;
    m.licence_id = (ProtobufCBinaryData){32, f->licence};
    m.batch_id = "LOT-A";
    m.quantity = 60;
    m.part_serials = sa;
    m.n_part_serials = 60;
    ctk_tx(&f->w, &tx, &f->mfr, &f->mfr);
    tx.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
    tx.mint_certificate = &m;
    EXPECT_R(run(f, txid, &tx, &f->mfr), HM_R_OK);
    contracts_cert_id(ca, txid);
    note(&t_lic, txid);
    note(&t_ca, txid);
    note(&t_a0, txid);
    note(&t_a1, txid);
    m.batch_id = "LOT-B";
    m.quantity = 40;
    m.part_serials = sb;
    m.n_part_serials = 40;
    ctk_tx(&f->w, &tx, &f->mfr, &f->mfr);
    tx.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
    tx.mint_certificate = &m;
    EXPECT_R(run(f, txid, &tx, &f->mfr), HM_R_OK);
    contracts_cert_id(cb, txid);
    note(&t_lic, txid);
    note(&t_cb, txid);
    note(&t_b0, txid);
    note(&t_b1, txid);
    note(&t_b39, txid);
    char *c0[] = {"C-0"};
    m.batch_id = "LOT-C";
    m.quantity = 1;
    m.part_serials = c0;
    m.n_part_serials = 1;
    ctk_tx(&f->w, &tx, &f->mfr, &f->mfr);
    tx.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
    tx.mint_certificate = &m;
    EXPECT_R(run(f, txid, &tx, &f->mfr), HM_R_LICENCE_EXHAUSTED);
    Hallmark__Licence *l = fx_licence(f, f->licence);
    uint64_t left;
    assert_true(licence_remaining(l, &left));
    assert_int_equal(left, 0);
    hm_free_licence(l);
    assert_null(fx_part(f, "C-0"));
    OK(ctk_commit(&f->w, NULL));

    /* 5. the inspector co-signs both batches (block 4) */
    uint8_t *certs[2] = {ca, cb};
    trail_t *ctrails[2] = {&t_ca, &t_cb};
    for (size_t i = 0; i < 2; i++) {
        Hallmark__CoSignCertificate cs = HALLMARK__CO_SIGN_CERTIFICATE__INIT;
        cs.cert_id = (ProtobufCBinaryData){32, certs[i]};
        cs.verdict = HALLMARK__VERDICT__VERDICT_PASS;
        ctk_tx(&f->w, &tx, &f->insp, &f->insp);
        tx.body_case = HALLMARK__TX__BODY_COSIGN_CERTIFICATE;
        tx.cosign_certificate = &cs;
        EXPECT_R(run(f, txid, &tx, &f->insp), HM_R_OK);
        note(ctrails[i], txid);
    }
    OK(ctk_commit(&f->w, NULL));

    /* 6. custody: A-0, B-0, B-1 to the integrator, who assembles (block 5) */
    char *moving[] = {"A-0", "B-0", "B-1"};
    Hallmark__TransferCustody tc = HALLMARK__TRANSFER_CUSTODY__INIT;
    tc.serials = moving;
    tc.n_serials = 3;
    tc.to = (ProtobufCBinaryData){20, integ.gid};
    ctk_tx(&f->w, &tx, &f->mfr, &f->mfr);
    tx.body_case = HALLMARK__TX__BODY_TRANSFER_CUSTODY;
    tx.transfer_custody = &tc;
    EXPECT_R(run(f, txid, &tx, &f->mfr), HM_R_OK);
    note(&t_a0, txid);
    note(&t_b0, txid);
    note(&t_b1, txid);
    Hallmark__Assemble as = HALLMARK__ASSEMBLE__INIT;
    as.parent = "A-0";
    as.children = moving + 1;
    as.n_children = 2;
    ctk_tx(&f->w, &tx, &integ, &integ);
    tx.body_case = HALLMARK__TX__BODY_ASSEMBLE;
    tx.assemble = &as;
    EXPECT_R(run(f, txid, &tx, &integ), HM_R_OK);
    note(&t_a0, txid);
    note(&t_b0, txid);
    note(&t_b1, txid);
    OK(ctk_commit(&f->w, NULL));

    /* 7. recall of batch B by the manufacturer (block 6) */
    Hallmark__RevokeCertificate rc = HALLMARK__REVOKE_CERTIFICATE__INIT;
    rc.cert_id = (ProtobufCBinaryData){32, cb};
    rc.reason = "porosity found in lot B";
    ctk_tx(&f->w, &tx, &f->mfr, &f->mfr);
    tx.body_case = HALLMARK__TX__BODY_REVOKE_CERTIFICATE;
    tx.revoke_certificate = &rc;
    EXPECT_R(run(f, txid, &tx, &f->mfr), HM_R_OK);
    note(&t_cb, txid);
    uint8_t final_root[32];
    OK(ctk_commit(&f->w, final_root));

    /* every part under B reads recalled; A's parts do not ... */
    part_effective_t e;
    for (size_t i = 0; i < 40; i++) {
        OK(part_status_effective(f->w.st, &e, sb[i]));
        assert_int_equal(e, PART_EFF_RECALLED);
    }
    for (size_t i = 1; i < 60; i++) {
        OK(part_status_effective(f->w.st, &e, sa[i]));
        assert_int_equal(e, PART_EFF_ACTIVE);
    }
    /* ... except the assembly holding B components, which reads recalled */
    OK(part_status_effective(f->w.st, &e, "A-0"));
    assert_int_equal(e, PART_EFF_ACTIVE);
    char *which = NULL;
    OK(part_assembly_status(f->w.st, &e, &which, "A-0", 64));
    assert_int_equal(e, PART_EFF_RECALLED);
    assert_string_equal(which, "B-0");
    free(which);
    OK(part_assembly_status(f->w.st, &e, &which, "A-1", 64));
    assert_int_equal(e, PART_EFF_ACTIVE);
    assert_null(which);

    /* history chains of every touched record verify against their txs */
    Hallmark__Identity *id;
    struct {
        ctk_key_t *k;
        trail_t *t;
    } ids[] = {{&f->des, &t_des}, {&f->mfr, &t_mfr}, {&f->insp, &t_insp}};
    for (size_t i = 0; i < 3; i++) {
        id = fx_identity(f, ids[i].k->gid);
        check_chain(ids[i].t, id->history_len, &id->history_head);
        hm_free_identity(id);
    }
    Hallmark__Recipe *r = fx_recipe(f, f->recipe);
    check_chain(&t_recipe, r->history_len, &r->history_head);
    hm_free_recipe(r);
    l = fx_licence(f, f->licence);
    assert_int_equal(l->used_units, 100);
    check_chain(&t_lic, l->history_len, &l->history_head);
    hm_free_licence(l);
    Hallmark__Certificate *c = fx_cert(f, ca);
    assert_int_equal(c->status, HALLMARK__CERTIFICATE_STATUS__CERT_CERTIFIED);
    check_chain(&t_ca, c->history_len, &c->history_head);
    hm_free_certificate(c);
    c = fx_cert(f, cb);
    assert_int_equal(c->status, HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED);
    check_chain(&t_cb, c->history_len, &c->history_head);
    hm_free_certificate(c);
    struct {
        const char *serial;
        trail_t *t;
    } parts[] = {{"A-0", &t_a0}, {"A-1", &t_a1}, {"B-0", &t_b0}, {"B-1", &t_b1}, {"B-39", &t_b39}};
    for (size_t i = 0; i < 5; i++) {
        Hallmark__Part *p = fx_part(f, parts[i].serial);
        check_chain(parts[i].t, p->history_len, &p->history_head);
        hm_free_part(p);
    }
    Hallmark__Part *p = fx_part(f, "A-0");
    assert_memory_equal(p->holder.data, integ.gid, 20);
    assert_int_equal(p->n_children, 2);
    hm_free_part(p);

    /* the committed root is the store's */
    uint8_t stored[32];
    f->store->ops->root(f->store, stored);
    assert_memory_equal(stored, final_root, 32);

    free_serials(sa, 60);
    free_serials(sb, 40);
    ctk_world_free(&f->w);
    hm_store_free(f->store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_story),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
