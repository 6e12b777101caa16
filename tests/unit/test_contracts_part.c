/* Unit tests: contracts/part — custody transfer, assembly, inspection,
 * scrap, and the recall read helpers (part_status_effective,
 * part_assembly_status). Links lib/ and contracts/ only. */
#include "tests/unit/test_contracts_world.h"

#include "lib/hash.h"

static uint32_t transfer(fx_t *f, ctk_key_t *k, char **s, size_t n, const uint8_t to[20])
{
    uint32_t code;
    OK(ctk_transfer(&f->w, &code, k, s, n, to));
    return code;
}

static uint32_t assemble(fx_t *f, ctk_key_t *k, const char *parent, char **c, size_t n)
{
    uint32_t code;
    OK(ctk_assemble(&f->w, &code, k, parent, c, n));
    return code;
}

static uint32_t scrap(fx_t *f, ctk_key_t *k, char **s, size_t n)
{
    Hallmark__Tx tx;
    Hallmark__Scrap b = HALLMARK__SCRAP__INIT;
    b.serials = s;
    b.n_serials = n;
    b.reason = "cracked";
    ctk_tx(&f->w, &tx, k, k);
    tx.body_case = HALLMARK__TX__BODY_SCRAP;
    tx.scrap = &b;
    return fx_run(f, &tx, k);
}

static uint32_t inspect(fx_t *f, ctk_key_t *k, const char *serial, Hallmark__Verdict v)
{
    Hallmark__Tx tx;
    Hallmark__RecordInspection b = HALLMARK__RECORD_INSPECTION__INIT;
    b.serial = (char *)serial;
    b.verdict = v;
    ctk_tx(&f->w, &tx, k, k);
    tx.body_case = HALLMARK__TX__BODY_RECORD_INSPECTION;
    tx.record_inspection = &b;
    return fx_run(f, &tx, k);
}

static part_effective_t eff(fx_t *f, const char *serial)
{
    part_effective_t e;
    OK(part_status_effective(f->w.st, &e, serial));
    return e;
}

static void test_transfer(void **state)
{
    fx_t *f = *state;
    uint8_t cert[32], nobody[20] = {8};
    EXPECT_R(fx_mint_n(f, cert, "T", "T", 3), HM_R_OK);
    char *s01[] = {"T-0", "T-1"};
    char *unknown[] = {"T-9"};
    EXPECT_R(transfer(f, &f->mfr, unknown, 1, f->mfr2.gid), HM_R_SERIAL_UNKNOWN);
    EXPECT_R(transfer(f, &f->mfr, s01, 2, nobody), HM_R_IDENTITY_UNKNOWN);
    EXPECT_R(transfer(f, &f->mfr2, s01, 2, f->mfr2.gid), HM_R_NOT_HOLDER);
    char *dup[] = {"T-0", "T-0"};
    EXPECT_R(transfer(f, &f->mfr, dup, 2, f->mfr2.gid), HM_R_MALFORMED);
    EXPECT_R(transfer(f, &f->mfr, s01, 2, f->mfr2.gid), HM_R_OK);
    Hallmark__Part *p = fx_part(f, "T-1");
    assert_memory_equal(p->holder.data, f->mfr2.gid, 20);
    assert_int_equal(p->history_len, 2);
    hm_free_part(p);
    /* all or nothing: T-2 is the mfr's, T-0 no longer */
    char *mixed[] = {"T-2", "T-0"};
    EXPECT_R(transfer(f, &f->mfr, mixed, 2, f->joe.gid), HM_R_NOT_HOLDER);
    p = fx_part(f, "T-2");
    assert_memory_equal(p->holder.data, f->mfr.gid, 20);
    assert_int_equal(p->history_len, 1);
    hm_free_part(p);
    /* to a revoked identity */
    Hallmark__Tx tx;
    Hallmark__RevokeIdentity rv = HALLMARK__REVOKE_IDENTITY__INIT;
    rv.gid.data = f->joe.gid;
    rv.gid.len = 20;
    ctk_tx(&f->w, &tx, &f->acc, &f->acc);
    tx.body_case = HALLMARK__TX__BODY_REVOKE_IDENTITY;
    tx.revoke_identity = &rv;
    EXPECT_R(fx_run(f, &tx, &f->acc), HM_R_OK);
    EXPECT_R(transfer(f, &f->mfr, &mixed[0], 1, f->joe.gid), HM_R_IDENTITY_REVOKED);
    /* a pending (unaccredited) customer may receive parts */
    ctk_key_t cust;
    uint32_t code;
    OK(ctk_key(&cust, 777));
    OK(ctk_register(&f->w, &code, &cust, "Customer", HALLMARK__IDENTITY_KIND__KIND_AUDITOR));
    EXPECT_R(transfer(f, &f->mfr, &mixed[0], 1, cust.gid), HM_R_OK);
}

static void test_recall_reads_and_moves(void **state)
{
    fx_t *f = *state;
    uint8_t cert[32];
    uint32_t code;
    EXPECT_R(fx_mint_n(f, cert, "RC", "RC", 3), HM_R_OK);
    char *s0[] = {"RC-0"}, *s1[] = {"RC-1"}, *s2[] = {"RC-2"};
    EXPECT_R(transfer(f, &f->mfr, s0, 1, f->mfr2.gid), HM_R_OK);
    EXPECT_R(scrap(f, &f->mfr, s2, 1), HM_R_OK);
    assert_int_equal(eff(f, "RC-0"), PART_EFF_ACTIVE);
    assert_int_equal(eff(f, "RC-2"), PART_EFF_SCRAPPED);
    assert_int_equal(eff(f, "nope"), PART_EFF_UNKNOWN);
    OK(ctk_revoke_cert(&f->w, &code, &f->mfr, cert));
    EXPECT_R(code, HM_R_OK);
    /* every part under the certificate reads recalled, scrapped ones too;
     * the part records themselves were not rewritten */
    assert_int_equal(eff(f, "RC-0"), PART_EFF_RECALLED);
    assert_int_equal(eff(f, "RC-1"), PART_EFF_RECALLED);
    assert_int_equal(eff(f, "RC-2"), PART_EFF_RECALLED);
    assert_string_equal(part_effective_name(PART_EFF_RECALLED), "RECALLED");
    Hallmark__Part *p = fx_part(f, "RC-1");
    assert_int_equal(p->status, HALLMARK__PART_STATUS__PART_ACTIVE);
    assert_int_equal(p->history_len, 1);
    hm_free_part(p);
    /* a recalled part only goes back to its manufacturer */
    EXPECT_R(transfer(f, &f->mfr2, s0, 1, f->joe.gid), HM_R_PART_RECALLED);
    EXPECT_R(transfer(f, &f->mfr2, s0, 1, f->mfr.gid), HM_R_OK);
    /* and may be scrapped */
    EXPECT_R(scrap(f, &f->mfr, s1, 1), HM_R_OK);
}

static void test_assemble(void **state)
{
    fx_t *f = *state;
    uint8_t pc[32], cc[32], rc_[32];
    uint32_t code;
    EXPECT_R(fx_mint_n(f, pc, "PA", "PA", 2), HM_R_OK);  /* parents */
    EXPECT_R(fx_mint_n(f, cc, "CH", "CH", 5), HM_R_OK);  /* children */
    EXPECT_R(fx_mint_n(f, rc_, "RX", "RX", 1), HM_R_OK); /* to be recalled */
    char *kids[] = {"CH-0", "CH-1"};
    /* the parent must be certified */
    EXPECT_R(assemble(f, &f->mfr, "PA-0", kids, 2), HM_R_PARENT_NOT_CERTIFIED);
    OK(ctk_cosign(&f->w, &code, &f->insp, pc, HALLMARK__VERDICT__VERDICT_PASS));
    EXPECT_R(code, HM_R_OK);
    char *self[] = {"PA-0"};
    EXPECT_R(assemble(f, &f->mfr, "PA-0", self, 1), HM_R_MALFORMED);
    char *ghost[] = {"CH-9"};
    EXPECT_R(assemble(f, &f->mfr, "PA-0", ghost, 1), HM_R_SERIAL_UNKNOWN);
    EXPECT_R(assemble(f, &f->mfr, "PA-9", kids, 2), HM_R_SERIAL_UNKNOWN);
    EXPECT_R(assemble(f, &f->mfr2, "PA-0", kids, 2), HM_R_NOT_HOLDER);
    char *theirs[] = {"CH-4"};
    EXPECT_R(transfer(f, &f->mfr, theirs, 1, f->mfr2.gid), HM_R_OK);
    EXPECT_R(assemble(f, &f->mfr, "PA-0", theirs, 1), HM_R_NOT_HOLDER);
    char *recalled[] = {"RX-0"};
    OK(ctk_revoke_cert(&f->w, &code, &f->mfr, rc_));
    EXPECT_R(assemble(f, &f->mfr, "PA-0", recalled, 1), HM_R_PART_RECALLED);

    EXPECT_R(assemble(f, &f->mfr, "PA-0", kids, 2), HM_R_OK);
    Hallmark__Part *p = fx_part(f, "PA-0");
    assert_int_equal(p->n_children, 2);
    assert_string_equal(p->children[1], "CH-1");
    hm_free_part(p);
    p = fx_part(f, "CH-0");
    assert_int_equal(p->status, HALLMARK__PART_STATUS__PART_ASSEMBLED);
    assert_string_equal(p->parent, "PA-0");
    hm_free_part(p);
    assert_int_equal(eff(f, "CH-0"), PART_EFF_ASSEMBLED);
    /* components cannot move on their own, nor be assembled twice */
    EXPECT_R(transfer(f, &f->mfr, kids, 1, f->mfr2.gid), HM_R_PART_ASSEMBLED);
    EXPECT_R(scrap(f, &f->mfr, kids, 1), HM_R_PART_ASSEMBLED);
    EXPECT_R(assemble(f, &f->mfr, "PA-1", kids, 1), HM_R_PART_ASSEMBLED);
    /* a parent that is itself a component cannot take children */
    char *pa0[] = {"PA-0"};
    EXPECT_R(assemble(f, &f->mfr, "PA-1", pa0, 1), HM_R_OK);
    char *c2[] = {"CH-2"};
    EXPECT_R(assemble(f, &f->mfr, "PA-0", c2, 1), HM_R_PART_ASSEMBLED);
    /* more children later */
    EXPECT_R(assemble(f, &f->mfr, "PA-1", c2, 1), HM_R_OK);
    /* a scrapped parent */
    char *c3[] = {"CH-3"};
    char *pa1[] = {"PA-1"};
    EXPECT_R(scrap(f, &f->mfr, pa1, 1), HM_R_OK);
    EXPECT_R(assemble(f, &f->mfr, "PA-1", c3, 1), HM_R_PART_SCRAPPED);

    /* the assembly walk: PA-1 -> {PA-0 -> {CH-0, CH-1}, CH-2}; recall the
     * children's batch and the whole assembly reads recalled */
    part_effective_t e;
    char *which = NULL;
    OK(part_assembly_status(f->w.st, &e, &which, "PA-1", 100));
    assert_int_equal(e, PART_EFF_SCRAPPED);
    assert_null(which);
    OK(ctk_revoke_cert(&f->w, &code, &f->mfr, cc));
    EXPECT_R(code, HM_R_OK);
    OK(part_assembly_status(f->w.st, &e, &which, "PA-1", 100));
    assert_int_equal(e, PART_EFF_RECALLED);
    assert_string_equal(which, "CH-0"); /* first in depth-first order */
    free(which);
    assert_int_equal(part_assembly_status(f->w.st, &e, NULL, "PA-1", 2), HM_ERR_LIMIT);
}

static void test_assemble_parent_recalled(void **state)
{
    fx_t *f = *state;
    uint8_t pc[32], cc[32];
    uint32_t code;
    EXPECT_R(fx_mint_n(f, pc, "PA", "PA", 1), HM_R_OK);
    EXPECT_R(fx_mint_n(f, cc, "CH", "CH", 1), HM_R_OK);
    OK(ctk_cosign(&f->w, &code, &f->insp, pc, HALLMARK__VERDICT__VERDICT_PASS));
    OK(ctk_revoke_cert(&f->w, &code, &f->insp, pc));
    EXPECT_R(code, HM_R_OK);
    char *kids[] = {"CH-0"};
    EXPECT_R(assemble(f, &f->mfr, "PA-0", kids, 1), HM_R_PART_RECALLED);
}

static void test_inspection(void **state)
{
    fx_t *f = *state;
    uint8_t cert[32];
    EXPECT_R(fx_mint_n(f, cert, "IN", "IN", 2), HM_R_OK);
    EXPECT_R(inspect(f, &f->mfr, "IN-0", HALLMARK__VERDICT__VERDICT_PASS), HM_R_ROLE_MISSING);
    EXPECT_R(inspect(f, &f->insp, "IN-9", HALLMARK__VERDICT__VERDICT_PASS), HM_R_SERIAL_UNKNOWN);
    EXPECT_R(inspect(f, &f->insp, "IN-0", 9), HM_R_MALFORMED);
    EXPECT_R(inspect(f, &f->insp, "IN-0", HALLMARK__VERDICT__VERDICT_PASS), HM_R_OK);
    EXPECT_R(inspect(f, &f->insp, "IN-0", HALLMARK__VERDICT__VERDICT_FAIL), HM_R_OK);
    Hallmark__Part *p = fx_part(f, "IN-0");
    assert_int_equal(p->inspections, 2);
    assert_int_equal(p->last_verdict, HALLMARK__VERDICT__VERDICT_FAIL);
    assert_int_equal(p->history_len, 3);
    hm_free_part(p);
    char *s1[] = {"IN-1"};
    EXPECT_R(scrap(f, &f->mfr, s1, 1), HM_R_OK);
    EXPECT_R(inspect(f, &f->insp, "IN-1", HALLMARK__VERDICT__VERDICT_PASS), HM_R_PART_SCRAPPED);
}

static void test_scrap(void **state)
{
    fx_t *f = *state;
    uint8_t cert[32];
    EXPECT_R(fx_mint_n(f, cert, "SC", "SC", 2), HM_R_OK);
    char *s[] = {"SC-0", "SC-1"};
    EXPECT_R(scrap(f, &f->mfr2, s, 2), HM_R_NOT_HOLDER);
    EXPECT_R(scrap(f, &f->mfr, s, 0), HM_R_MALFORMED);
    EXPECT_R(scrap(f, &f->mfr, s, 2), HM_R_OK);
    EXPECT_R(scrap(f, &f->mfr, s, 1), HM_R_PART_SCRAPPED);
    EXPECT_R(transfer(f, &f->mfr, s, 1, f->mfr2.gid), HM_R_PART_SCRAPPED);
    Hallmark__Part *p = fx_part(f, "SC-1");
    assert_int_equal(p->status, HALLMARK__PART_STATUS__PART_SCRAPPED);
    hm_free_part(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_transfer, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_recall_reads_and_moves, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_assemble, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_assemble_parent_recalled, fx_setup_full,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_inspection, fx_setup_full, fx_teardown),
        cmocka_unit_test_setup_teardown(test_scrap, fx_setup_full, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
