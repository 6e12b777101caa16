/* Unit tests: lib/pbjson — protobuf records rendered as JSON. */
#include "tests/unit/testutil.h"

#include "lib/codec.h"
#include "lib/pbjson.h"

static void test_identity(void **state)
{
    (void)state;
    uint8_t gid[20];
    for (int i = 0; i < 20; i++)
        gid[i] = (uint8_t)(0xa0 + i);
    Hallmark__Identity id = HALLMARK__IDENTITY__INIT;
    id.gid.data = gid;
    id.gid.len = 20;
    id.name = "Acme \"Additive\"";
    id.kind = HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER;
    id.status = HALLMARK__IDENTITY_STATUS__IDENTITY_ACTIVE;
    Hallmark__Role roles[2] = {HALLMARK__ROLE__ROLE_MANUFACTURER, 77};
    id.roles = roles;
    id.n_roles = 2;
    char *caps[1] = {"process:SLM"};
    id.capabilities = caps;
    id.n_capabilities = 1;
    id.accredited_until_ms = UINT64_MAX;
    id.history_len = 3;
    Hallmark__ExternalId ext = HALLMARK__EXTERNAL_ID__INIT;
    ext.scheme = "lei";
    ext.value = "5299001";
    Hallmark__ExternalId *exts[1] = {&ext};
    id.external_ids = exts;
    id.n_external_ids = 1;

    json_t *j = hm_pb_to_json(&id.base);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "gid")),
                        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Acme \"Additive\"");
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "KIND_MANUFACTURER");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "IDENTITY_ACTIVE");
    json_t *r = json_object_get(j, "roles");
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(json_string_value(json_array_get(r, 0)), "ROLE_MANUFACTURER");
    assert_int_equal(json_integer_value(json_array_get(r, 1)), 77); /* unknown enum: number */
    assert_string_equal(json_string_value(json_object_get(j, "accredited_until_ms")),
                        "18446744073709551615");
    assert_int_equal(json_integer_value(json_object_get(j, "history_len")), 3);
    assert_string_equal(json_string_value(json_object_get(j, "history_head")), "");
    json_t *e0 = json_array_get(json_object_get(j, "external_ids"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "scheme")), "lei");
    json_decref(j);
    char did[54];
    hm_gid_did(did, gid);
    assert_string_equal(did, "did:hallmark:a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");
}

static void test_oneof_and_nested(void **state)
{
    (void)state;
    Hallmark__Tx tx = HALLMARK__TX__INIT;
    Hallmark__Scrap scrap = HALLMARK__SCRAP__INIT;
    char *serials[2] = {"A", "B"};
    scrap.serials = serials;
    scrap.n_serials = 2;
    tx.body_case = HALLMARK__TX__BODY_SCRAP;
    tx.scrap = &scrap;
    tx.nonce = 9;
    json_t *j = hm_pb_to_json(&tx.base);
    assert_non_null(j);
    assert_null(json_object_get(j, "mint_certificate")); /* unset oneof members absent */
    json_t *s = json_object_get(j, "scrap");
    assert_true(json_is_object(s));
    assert_int_equal(json_array_size(json_object_get(s, "serials")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "nonce")), 9);
    json_decref(j);

    Hallmark__PrePrepare pp = HALLMARK__PRE_PREPARE__INIT; /* unset message field: null */
    j = hm_pb_to_json(&pp.base);
    assert_true(json_is_null(json_object_get(j, "vote")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_oneof_and_nested),
    };
    return cmocka_run_group_tests_name("pbjson", tests, NULL, NULL);
}
