/* Unit tests: contracts/certificate — mint (serials, batch ids, quota),
 * add parts, co-sign, revoke. Links lib/ and contracts/ only. */
#include "tests/unit/test_contracts_world.h"

#include "lib/hash.h"

static uint32_t mint(fx_t *f, uint8_t cert[32], ctk_key_t *k, const char *batch, uint64_t qty,
                     char **serials, size_t n)
{
    uint32_t code;
    OK(ctk_mint(&f->w, &code, cert, k, batch, f->recipe, f->licence, qty, serials, n));
    return code;
}

static uint32_t add_parts(fx_t *f, ctk_key_t *k, const uint8_t cert[32], char **serials, size_t n)
{
    Hallmark__Tx tx;
    Hallmark__AddParts b = HALLMARK__ADD_PARTS__INIT;
    b.cert_id.data = (uint8_t *)cert;
    b.cert_id.len = 32;
    b.serials = serials;
    b.n_serials = n;
    ctk_tx(&f->w, &tx, k, k);
    tx.body_case = HALLMARK__TX__BODY_ADD_PARTS;
    tx.add_parts = &b;
    return fx_run(f, &tx, k);
}

static uint32_t cosign(fx_t *f, ctk_key_t *k, const uint8_t cert[32], Hallmark__Verdict v)
{
    uint32_t code;
    OK(ctk_cosign(&f->w, &code, k, cert, v));
    return code;
}

static uint32_t revoke(fx_t *f, ctk_key_t *k, const uint8_t cert[32])
{
    uint32_t code;
    OK(ctk_revoke_cert(&f->w, &code, k, cert));
    return code;
}

static void test_mint_ok(void **state)
{
    fx_t *f = *state;
    char *s[] = {"SN-1", "SN-2", "SN-\xc3\xa9"}; /* UTF-8 serials are fine */
    Hallmark__Tx tx;
    Hallmark__MintCertificate b = HALLMARK__MINT_CERTIFICATE__INIT;
    Hallmark__TestResult tr = HALLMARK__TEST_RESULT__INIT, *trp = &tr;
    uint8_t report[32], txid[32], cert[32];
    hm_sha256(report, "report", 6);
    tr.name = "tensile";
    tr.value = "950 MPa";
    tr.pass = true;
    b.batch_id = "2024-001";
    b.recipe_hash = (ProtobufCBinaryData){32, f->recipe};
    b.licence_id = (ProtobufCBinaryData){32, f->licence};
    b.quantity = 10;
    b.part_serials = s;
    b.n_part_serials = 3;
    b.site = "plant-1";
    b.produced_at_ms = 123;
    b.report_hash = (ProtobufCBinaryData){32, report};
    b.results = &trp;
    b.n_results = 1;
    b.standard = "ISO 9001";
    ctk_tx(&f->w, &tx, &f->mfr, &f->mfr);
    tx.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
    tx.mint_certificate = &b;
    uint32_t code;
    OK(ctk_exec(&f->w, &code, txid, &tx, &f->mfr, NULL, 0));
    EXPECT_R(code, HM_R_OK);
    contracts_cert_id(cert, txid);

    Hallmark__Certificate *c = fx_cert(f, cert);
    assert_non_null(c);
    assert_int_equal(c->status, HALLMARK__CERTIFICATE_STATUS__CERT_SELF_DECLARED);
    assert_memory_equal(c->manufacturer.data, f->mfr.gid, 20);
    assert_int_equal(c->quantity, 10);
    assert_int_equal(c->part_count, 3);
    assert_string_equal(c->batch_id, "2024-001");
    assert_string_equal(c->standard, "ISO 9001");
    assert_int_equal(c->minted_height, f->w.blk.height);
    const uint8_t(*ids)[32] = (const uint8_t(*)[32])txid;
    assert_true(contracts_history_verify(c->history_len, c->history_head.data,
                                         c->history_head.len, ids, 1));
    hm_free_certificate(c);
    for (size_t i = 0; i < 3; i++) {
        Hallmark__Part *p = fx_part(f, s[i]);
        assert_non_null(p);
        assert_memory_equal(p->cert_id.data, cert, 32);
        assert_memory_equal(p->holder.data, f->mfr.gid, 20);
        assert_int_equal(p->status, HALLMARK__PART_STATUS__PART_ACTIVE);
        assert_true(contracts_history_verify(p->history_len, p->history_head.data,
                                             p->history_head.len, ids, 1));
        hm_free_part(p);
    }
    /* the batch index */
    contracts_key_t k;
    void *m = NULL;
    OK(contracts_key_batch(&k, f->mfr.gid, "2024-001"));
    OK(ctk_get(&f->w, &m, &k, &hallmark__batch_index__descriptor));
    assert_memory_equal(((Hallmark__BatchIndex *)m)->cert_id.data, cert, 32);
    hm_codec_free(m);
    /* the licence was charged the quantity, not the part count */
    Hallmark__Licence *l = fx_licence(f, f->licence);
    assert_int_equal(l->used_units, 10);
    hm_free_licence(l);
}

static void test_mint_rejections(void **state)
{
    fx_t *f = *state;
    uint8_t cert[32];
    char *dup[] = {"D-1", "D-1"};
    EXPECT_R(mint(f, cert, &f->mfr, "B", 5, dup, 2), HM_R_MALFORMED);
    char *one[] = {"A-1"};
    EXPECT_R(mint(f, cert, &f->mfr, "", 5, one, 1), HM_R_MALFORMED);
    EXPECT_R(mint(f, cert, &f->mfr, "B", 0, NULL, 0), HM_R_MALFORMED);
    char longs[CONTRACTS_MAX_SERIAL_LEN + 2];
    memset(longs, 'x', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    char *lp[] = {longs};
    EXPECT_R(mint(f, cert, &f->mfr, "B", 5, lp, 1), HM_R_MALFORMED);
    char *ctl[] = {"A\n1"};
    EXPECT_R(mint(f, cert, &f->mfr, "B", 5, ctl, 1), HM_R_MALFORMED);
    char *bad_utf8[] = {"A\xc3"};
    EXPECT_R(mint(f, cert, &f->mfr, "B", 5, bad_utf8, 1), HM_R_MALFORMED);
    char *three[] = {"T-1", "T-2", "T-3"};
    EXPECT_R(mint(f, cert, &f->mfr, "B", 2, three, 3), HM_R_QUANTITY_EXCEEDED);
    EXPECT_R(mint(f, cert, &f->des, "B", 3, three, 3), HM_R_ROLE_MISSING);
    uint32_t code;
    uint8_t unknown[32] = {1};
    OK(ctk_mint(&f->w, &code, cert, &f->mfr, "B", unknown, f->licence, 3, three, 3));
    EXPECT_R(code, HM_R_RECIPE_UNKNOWN);

    EXPECT_R(mint(f, cert, &f->mfr, "B", 3, three, 3), HM_R_OK);
    /* batch ids are unique per manufacturer */
    char *four[] = {"T-4"};
    EXPECT_R(mint(f, cert, &f->mfr, "B", 1, four, 1), HM_R_BATCH_EXISTS);
    /* a serial already on the ledger: the counterfeit signal; and the
     * rejected mint leaves nothing behind (T-5 not created, no quota used) */
    char *again[] = {"T-5", "T-2"};
    EXPECT_R(mint(f, cert, &f->mfr, "C", 2, again, 2), HM_R_SERIAL_EXISTS);
    Hallmark__Part *p = fx_part(f, "T-5");
    assert_null(p);
    Hallmark__Licence *l = fx_licence(f, f->licence);
    assert_int_equal(l->used_units, 3);
    hm_free_licence(l);
}

static void test_mint_limits(void **state)
{
    fx_t *f = *state;
    size_t n = CONTRACTS_MAX_SERIALS_PER_TX + 1;
    char **s = calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s[i] = malloc(8);
        snprintf(s[i], 8, "L%zu", i);
    }
    uint8_t cert[32];
    EXPECT_R(mint(f, cert, &f->mfr, "BIG", n, s, n), HM_R_MALFORMED);
    /* exactly the limit is fine */
    uint32_t code;
    uint8_t unl[32];
    OK(ctk_grant(&f->w, &code, unl, &f->des, f->recipe, f->mfr.gid, 0, 0, 0));
    OK(ctk_mint(&f->w, &code, cert, &f->mfr, "BIG", f->recipe, unl, n - 1, s, n - 1));
    EXPECT_R(code, HM_R_OK);
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

static void test_add_parts(void **state)
{
    fx_t *f = *state;
    uint8_t cert[32], unknown[32] = {3};
    char *first[] = {"AP-1"};
    EXPECT_R(mint(f, cert, &f->mfr, "AP", 3, first, 1), HM_R_OK);
    char *more[] = {"AP-2", "AP-3"};
    EXPECT_R(add_parts(f, &f->mfr, unknown, more, 2), HM_R_CERT_UNKNOWN);
    EXPECT_R(add_parts(f, &f->mfr2, cert, more, 2), HM_R_NOT_OWNER);
    EXPECT_R(add_parts(f, &f->mfr, cert, more, 0), HM_R_MALFORMED);
    char *dup[] = {"AP-1"};
    EXPECT_R(add_parts(f, &f->mfr, cert, dup, 1), HM_R_SERIAL_EXISTS);
    EXPECT_R(add_parts(f, &f->mfr, cert, more, 2), HM_R_OK);
    char *over[] = {"AP-4"};
    EXPECT_R(add_parts(f, &f->mfr, cert, over, 1), HM_R_QUANTITY_EXCEEDED);
    Hallmark__Certificate *c = fx_cert(f, cert);
    assert_int_equal(c->part_count, 3);
    assert_int_equal(c->history_len, 2);
    hm_free_certificate(c);
    Hallmark__Part *p = fx_part(f, "AP-3");
    assert_memory_equal(p->cert_id.data, cert, 32);
    hm_free_part(p);
    /* a revoked certificate takes no more parts */
    uint8_t cert2[32];
    EXPECT_R(mint(f, cert2, &f->mfr, "AP2", 5, NULL, 0), HM_R_OK);
    EXPECT_R(revoke(f, &f->mfr, cert2), HM_R_OK);
    EXPECT_R(add_parts(f, &f->mfr, cert2, over, 1), HM_R_CERT_REVOKED);
}

static void test_cosign(void **state)
{
    fx_t *f = *state;
    uint8_t cert[32], unknown[32] = {4};
    EXPECT_R(mint(f, cert, &f->mfr, "CS", 1, NULL, 0), HM_R_OK);
    EXPECT_R(cosign(f, &f->des, cert, HALLMARK__VERDICT__VERDICT_PASS), HM_R_ROLE_MISSING);
    EXPECT_R(cosign(f, &f->insp, unknown, HALLMARK__VERDICT__VERDICT_PASS), HM_R_CERT_UNKNOWN);
    EXPECT_R(cosign(f, &f->insp, cert, HALLMARK__VERDICT__VERDICT_UNSPECIFIED), HM_R_MALFORMED);
    EXPECT_R(cosign(f, &f->insp, cert, HALLMARK__VERDICT__VERDICT_PASS), HM_R_OK);
    EXPECT_R(cosign(f, &f->insp, cert, HALLMARK__VERDICT__VERDICT_PASS), HM_R_ALREADY_COSIGNED);
    Hallmark__Certificate *c = fx_cert(f, cert);
    assert_int_equal(c->status, HALLMARK__CERTIFICATE_STATUS__CERT_CERTIFIED);
    assert_int_equal(c->n_cosigns, 1);
    assert_memory_equal(c->cosigns[0]->inspector.data, f->insp.gid, 20);
    assert_int_equal(c->cosigns[0]->height, f->w.blk.height);
    hm_free_certificate(c);

    /* a manufacturer that is also an inspector cannot co-sign its own batch */
    Hallmark__Role both[2] = {HALLMARK__ROLE__ROLE_MANUFACTURER, HALLMARK__ROLE__ROLE_INSPECTOR};
    uint32_t code;
    OK(ctk_accredit(&f->w, &code, &f->acc, f->mfr.gid, both, 2, 0));
    EXPECT_R(code, HM_R_OK);
    EXPECT_R(cosign(f, &f->mfr, cert, HALLMARK__VERDICT__VERDICT_PASS), HM_R_NOT_INDEPENDENT);
    /* a FAIL is sticky */
    OK(ctk_accredit(&f->w, &code, &f->acc, f->mfr2.gid, both, 2, 0));
    EXPECT_R(cosign(f, &f->mfr2, cert, HALLMARK__VERDICT__VERDICT_FAIL), HM_R_OK);
    c = fx_cert(f, cert);
    assert_int_equal(c->status, HALLMARK__CERTIFICATE_STATUS__CERT_REJECTED);
    hm_free_certificate(c);
    EXPECT_R(revoke(f, &f->mfr, cert), HM_R_OK);
    EXPECT_R(cosign(f, &f->joe, cert, HALLMARK__VERDICT__VERDICT_PASS), HM_R_NOT_ACTIVE);
    OK(ctk_accredit(&f->w, &code, &f->acc, f->joe.gid, &both[1], 1, 0));
    EXPECT_R(cosign(f, &f->joe, cert, HALLMARK__VERDICT__VERDICT_PASS), HM_R_CERT_REVOKED);
}

static void test_cosign_capacity(void **state)
{
    fx_t *f = *state;
    uint8_t cert[32];
    uint32_t code;
    EXPECT_R(mint(f, cert, &f->mfr, "CAP", 1, NULL, 0), HM_R_OK);
    Hallmark__Role r = HALLMARK__ROLE__ROLE_INSPECTOR;
    for (size_t i = 0; i <= CONTRACTS_MAX_COSIGNS; i++) {
        ctk_key_t k;
        OK(ctk_key(&k, 5000 + i));
        OK(ctk_register(&f->w, &code, &k, "insp", HALLMARK__IDENTITY_KIND__KIND_INSPECTOR));
        EXPECT_R(code, HM_R_OK);
        OK(ctk_accredit(&f->w, &code, &f->acc, k.gid, &r, 1, 0));
        EXPECT_R(code, HM_R_OK);
        if (i < CONTRACTS_MAX_COSIGNS)
            EXPECT_R(cosign(f, &k, cert, HALLMARK__VERDICT__VERDICT_PASS), HM_R_OK);
        else
            EXPECT_R(cosign(f, &k, cert, HALLMARK__VERDICT__VERDICT_PASS), HM_R_CAPACITY);
    }
}

static void test_revoke(void **state)
{
    fx_t *f = *state;
    uint8_t c1[32], c2[32], c3[32], unknown[32] = {6};
    EXPECT_R(mint(f, c1, &f->mfr, "R1", 1, NULL, 0), HM_R_OK);
    EXPECT_R(mint(f, c2, &f->mfr, "R2", 1, NULL, 0), HM_R_OK);
    EXPECT_R(mint(f, c3, &f->mfr, "R3", 1, NULL, 0), HM_R_OK);
    EXPECT_R(revoke(f, &f->mfr, unknown), HM_R_CERT_UNKNOWN);
    /* not by another manufacturer, nor an inspector who did not co-sign */
    EXPECT_R(revoke(f, &f->mfr2, c1), HM_R_NOT_OWNER);
    EXPECT_R(revoke(f, &f->insp, c1), HM_R_NOT_OWNER);
    /* by the manufacturer */
    EXPECT_R(revoke(f, &f->mfr, c1), HM_R_OK);
    EXPECT_R(revoke(f, &f->mfr, c1), HM_R_CERT_REVOKED);
    Hallmark__Certificate *c = fx_cert(f, c1);
    assert_int_equal(c->status, HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED);
    assert_memory_equal(c->revoked_by.data, f->mfr.gid, 20);
    assert_string_equal(c->revoke_reason, "recall");
    hm_free_certificate(c);
    /* by a co-signing inspector */
    EXPECT_R(cosign(f, &f->insp, c2, HALLMARK__VERDICT__VERDICT_PASS), HM_R_OK);
    EXPECT_R(revoke(f, &f->insp, c2), HM_R_OK);
    /* by an accreditor */
    EXPECT_R(revoke(f, &f->acc, c3), HM_R_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mint_ok, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_mint_rejections, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_mint_limits, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_add_parts, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cosign, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cosign_capacity, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_revoke, fx_setup_full, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
