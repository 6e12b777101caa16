/* Unit tests: wallet/txbuild. For every transaction kind, CLI-style options
 * go through the kind's own option table and builder, the tx is signed, and
 * the SignedTx bytes must pass hm_tx_decode_verify for the chain id with
 * body fields equal to the inputs. Also: bad inputs name their option, the
 * table covers every body of proto/hallmark.proto, and caps hold. */
#include "tests/unit/testutil.h"

#include <unistd.h>

#include "lib/hash.h"
#include "lib/hex.h"
#include "lib/keys.h"
#include "wallet/txbuild.h"

static uint8_t SK[32], PK[32], CHAIN[32];
static char TMP[64];
static const char *GID_HEX = "00112233445566778899aabbccddeeff00112233";
static const char *H1 = "1111111111111111111111111111111111111111111111111111111111111111";
static const char *H2 = "2222222222222222222222222222222222222222222222222222222222222222";

static int group_setup(void **state)
{
    (void)state;
    uint64_t s = 99;
    if (hm_key_generate(SK, PK) != HM_OK)
        return -1;
    tu_fill(CHAIN, sizeof CHAIN, &s);
    snprintf(TMP, sizeof TMP, "/tmp/hm-wallet-tx-XXXXXX");
    return mkdtemp(TMP) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", TMP);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_tmp(const char *name, const void *data, size_t len)
{
    static char path[8][256];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 256, "%s/%s", TMP, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return p;
}

/* Build kind from argv, sign, decode+verify. Returns the decoded tx, or
 * NULL with *rc and d set when building fails. */
static hm_tx_t *build(const char *group, const char *action, int argc, const char **argv,
                      int *rc_out, wallet_diag_t *d, uint64_t nonce, const char *actor)
{
    const wallet_txkind_t *k = wallet_txkind_find(group, action);
    assert_non_null(k);
    const wallet_opt_spec_t *specs[] = {k->opts, NULL};
    wallet_opts_t o;
    wallet_arena_t a = {0};
    wallet_txhead_t h;
    Hallmark__Tx tx;
    hm_tx_t *t = NULL;
    memset(&h, 0, sizeof h);
    memcpy(h.chain_id, CHAIN, 32);
    memcpy(h.signer, PK, 32);
    h.nonce = nonce;
    if (actor) {
        assert_int_equal(hm_hex_decode(h.actor, 20, actor), HM_OK);
        h.has_actor = true;
    }
    int rc = wallet_opts_parse(&o, specs, argc, (char **)argv, d);
    if (rc == HM_OK) {
        wallet_tx_init(&tx, &h);
        rc = wallet_tx_build(&a, &tx, k, &o, d);
    }
    if (rc == HM_OK) {
        uint8_t *stx = NULL, txid[32];
        size_t len = 0;
        rc = wallet_tx_sign(&stx, &len, txid, &tx, SK, d);
        if (rc == HM_OK) {
            assert_int_equal(hm_tx_decode_verify(&t, stx, len, CHAIN), HM_OK);
            assert_memory_equal(t->txid, txid, 32);
            assert_int_equal(t->tx->nonce, nonce);
            assert_memory_equal(t->tx->signer.data, PK, 32);
            assert_int_equal(t->tx->actor.len, actor ? 20 : 0);
            /* and it is bound to this chain */
            uint8_t other[32];
            memcpy(other, CHAIN, 32);
            other[0] ^= 1;
            hm_tx_t *t2 = NULL;
            assert_int_equal(hm_tx_decode_verify(&t2, stx, len, other), HM_ERR_WRONG_CHAIN);
            free(stx);
        }
    }
    wallet_opts_free(&o);
    wallet_arena_free(&a);
    *rc_out = rc;
    return t;
}

#define BUILD_OK(group, action, ...)                                                               \
    __extension__({                                                                                \
        const char *argv_[] = {__VA_ARGS__};                                                       \
        int rc_;                                                                                   \
        wallet_diag_t d_ = {{0}};                                                                  \
        hm_tx_t *t_ = build(group, action, (int)(sizeof argv_ / sizeof *argv_), argv_, &rc_, &d_,  \
                            42, GID_HEX);                                                          \
        if (rc_ != HM_OK)                                                                          \
            fail_msg("%s %s: %s", group, action, d_.msg);                                          \
        t_;                                                                                        \
    })

/* Expect a failure whose message contains `want`. */
static void expect_bad(const char *group, const char *action, int argc, const char **argv,
                       const char *want)
{
    int rc;
    wallet_diag_t d = {{0}};
    hm_tx_t *t = build(group, action, argc, argv, &rc, &d, 1, GID_HEX);
    if (t || rc == HM_OK)
        fail_msg("%s %s accepted bad input (wanted \"%s\")", group, action, want);
    if (!strstr(d.msg, want))
        fail_msg("%s %s: message \"%s\" lacks \"%s\"", group, action, d.msg, want);
}
#define BAD(group, action, want, ...)                                                              \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__};                                                       \
        expect_bad(group, action, (int)(sizeof argv_ / sizeof *argv_), argv_, want);               \
    } while (0)

static void assert_hex(const ProtobufCBinaryData *b, const char *hex)
{
    char buf[129];
    assert_true(b->len * 2 < sizeof buf);
    hm_hex_encode(buf, b->data, b->len);
    assert_string_equal(buf, hex);
}

/* ------------------------------------------------------------ identity */

static void test_identity(void **state)
{
    (void)state;
    char k2[65];
    uint8_t sk2[32], pk2[32];
    assert_int_equal(hm_key_generate(sk2, pk2), HM_OK);
    hm_hex_encode(k2, pk2, 32);
    hm_tx_t *t = BUILD_OK("identity", "register", "--name", "Acme Präzision GmbH", "--kind",
                          "Manufacturer", "--external-id", "gs1-gln:0614141000005",
                          "--external-id", "lei:5493001KJTIIGC8Y1R12", "--country", "DE",
                          "--metadata-hash", H1, "--controller-key", k2, "--threshold", "1");
    Hallmark__RegisterIdentity *r = t->tx->register_identity;
    assert_int_equal(t->tx->body_case, HALLMARK__TX__BODY_REGISTER_IDENTITY);
    assert_string_equal(r->name, "Acme Präzision GmbH");
    assert_int_equal(r->kind, HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER);
    assert_int_equal(r->n_external_ids, 2);
    assert_string_equal(r->external_ids[0]->scheme, "gs1-gln");
    assert_string_equal(r->external_ids[0]->value, "0614141000005");
    assert_string_equal(r->external_ids[1]->scheme, "lei");
    assert_string_equal(r->country, "DE");
    assert_hex(&r->metadata_hash, H1);
    assert_int_equal(r->n_controller_keys, 1);
    assert_memory_equal(r->controller_keys[0].data, pk2, 32);
    assert_int_equal(r->threshold, 1);
    hm_tx_free(t);

    /* metadata from a file is its SHA-256 */
    const char *meta = write_tmp("meta.json", "{\"a\":1}", 7);
    t = BUILD_OK("identity", "register", "--name", "X", "--kind", "designer", "--metadata-file",
                 meta);
    uint8_t h[32];
    hm_sha256(h, "{\"a\":1}", 7);
    assert_memory_equal(t->tx->register_identity->metadata_hash.data, h, 32);
    assert_int_equal(t->tx->register_identity->kind, HALLMARK__IDENTITY_KIND__KIND_DESIGNER);
    hm_tx_free(t);

    t = BUILD_OK("identity", "rotate", "--controller-key", k2, "--threshold", "1");
    assert_hex(&t->tx->rotate_keys->gid, GID_HEX); /* defaults to the actor */
    assert_int_equal(t->tx->rotate_keys->n_controller_keys, 1);
    hm_tx_free(t);

    t = BUILD_OK("identity", "accredit", "--gid", "did:hallmark:ffeeddccbbaa99887766554433221100ffeeddcc",
                 "--role", "manufacturer", "--role", "inspector", "--capability", "process:SLM",
                 "--capability", "std:ISO9001", "--valid-until", "2027-01-01");
    Hallmark__Accredit *ac = t->tx->accredit;
    assert_hex(&ac->gid, "ffeeddccbbaa99887766554433221100ffeeddcc");
    assert_int_equal(ac->n_roles, 2);
    assert_int_equal(ac->roles[0], HALLMARK__ROLE__ROLE_MANUFACTURER);
    assert_int_equal(ac->roles[1], HALLMARK__ROLE__ROLE_INSPECTOR);
    assert_int_equal(ac->n_capabilities, 2);
    assert_string_equal(ac->capabilities[1], "std:ISO9001");
    assert_true(ac->valid_until_ms == 1798761600000ull);
    hm_tx_free(t);

    t = BUILD_OK("identity", "suspend", "--gid", GID_HEX, "--reason", "audit pending");
    assert_hex(&t->tx->suspend->gid, GID_HEX);
    assert_string_equal(t->tx->suspend->reason, "audit pending");
    hm_tx_free(t);
    t = BUILD_OK("identity", "revoke", "--gid", GID_HEX, "--reason", "fraud");
    assert_int_equal(t->tx->body_case, HALLMARK__TX__BODY_REVOKE_IDENTITY);
    assert_string_equal(t->tx->revoke_identity->reason, "fraud");
    hm_tx_free(t);

    BAD("identity", "register", "--kind", "--name", "X", "--kind", "wizard");
    BAD("identity", "register", "--external-id", "--name", "X", "--kind", "auditor",
        "--external-id", "nocolon");
    BAD("identity", "register", "--country", "--name", "X", "--kind", "auditor", "--country",
        "de");
    BAD("identity", "register", "--threshold", "--name", "X", "--kind", "auditor", "--threshold",
        "2");
    BAD("identity", "register", "--name", "--name", "bad\x01name", "--kind", "auditor");
    BAD("identity", "register", "not both", "--name", "X", "--kind", "auditor",
        "--metadata-hash", H1, "--metadata-file", meta);
    BAD("identity", "rotate", "--controller-key", "--controller-key", "abcd");
    BAD("identity", "rotate", "given twice", "--controller-key", k2, "--controller-key", k2);
    BAD("identity", "accredit", "--role", "--gid", GID_HEX, "--role", "king");
    BAD("identity", "accredit", "at least one", "--gid", GID_HEX);
    BAD("identity", "suspend", "--gid", "--gid", "12");
    hm_wipe(sk2, 32);
}

/* --------------------------------------------------------------- recipe */

static void test_recipe(void **state)
{
    (void)state;
    const char doc[] = "recipe: bracket v2\nmaterial: Ti-6Al-4V\n";
    const char *path = write_tmp("recipe.txt", doc, sizeof doc - 1);
    uint8_t h[32];
    char hh[65];
    hm_sha256(h, doc, sizeof doc - 1);
    hm_hex_encode(hh, h, 32);
    hm_tx_t *t = BUILD_OK("recipe", "register", "--document", path, "--version", "2.0",
                          "--previous", H1, "--title", "Bracket", "--material", "Ti-6Al-4V",
                          "--process", "SLM", "--acceptance-hash", H2, "--document-uri",
                          "https://example.com/r.pdf");
    Hallmark__RegisterRecipe *r = t->tx->register_recipe;
    assert_hex(&r->recipe_hash, hh);
    assert_string_equal(r->version, "2.0");
    assert_hex(&r->previous, H1);
    assert_string_equal(r->title, "Bracket");
    assert_string_equal(r->material, "Ti-6Al-4V");
    assert_string_equal(r->process, "SLM");
    assert_hex(&r->acceptance_hash, H2);
    assert_string_equal(r->document_uri, "https://example.com/r.pdf");
    hm_tx_free(t);

    t = BUILD_OK("recipe", "transfer", "--recipe", H1, "--to", GID_HEX);
    assert_hex(&t->tx->transfer_recipe->recipe_hash, H1);
    assert_hex(&t->tx->transfer_recipe->new_owner, GID_HEX);
    hm_tx_free(t);
    t = BUILD_OK("recipe", "deprecate", "--recipe", H2, "--reason", "superseded");
    assert_hex(&t->tx->deprecate_recipe->recipe_hash, H2);
    assert_string_equal(t->tx->deprecate_recipe->reason, "superseded");
    hm_tx_free(t);

    BAD("recipe", "register", "no such file", "--document", "/nonexistent/recipe.pdf");
    BAD("recipe", "register", "own hash", "--document", path, "--previous", hh);
    BAD("recipe", "register", "--previous", "--document", path, "--previous", "xyz");
    BAD("recipe", "transfer", "--to", "--recipe", H1, "--to", H1);
    BAD("recipe", "deprecate", "--recipe", "--recipe", GID_HEX);
}

/* -------------------------------------------------------------- licence */

static void test_licence(void **state)
{
    (void)state;
    hm_tx_t *t = BUILD_OK("licence", "grant", "--recipe", H1, "--licensee", GID_HEX,
                          "--max-units", "500", "--valid-from", "2026-01-01", "--valid-until",
                          "1798761600000", "--site", "DE-MUC-1", "--site", "DE-BER-2",
                          "--sublicensable", "--parent-licence", H2);
    Hallmark__GrantLicence *g = t->tx->grant_licence;
    assert_hex(&g->recipe_hash, H1);
    assert_hex(&g->licensee, GID_HEX);
    assert_int_equal(g->max_units, 500);
    assert_true(g->valid_from_ms == 1767225600000ull);
    assert_true(g->valid_until_ms == 1798761600000ull);
    assert_int_equal(g->n_sites, 2);
    assert_string_equal(g->sites[1], "DE-BER-2");
    assert_true(g->sublicensable);
    assert_hex(&g->parent_licence, H2);
    assert_null(g->key_envelope);
    hm_tx_free(t);
    t = BUILD_OK("licence", "grant", "--recipe", H1, "--licensee", GID_HEX);
    assert_int_equal(t->tx->grant_licence->max_units, 0); /* unlimited */
    assert_false(t->tx->grant_licence->sublicensable);
    hm_tx_free(t);
    t = BUILD_OK("licence", "revoke", "--licence", H2, "--reason", "breach");
    assert_hex(&t->tx->revoke_licence->licence_id, H2);
    assert_string_equal(t->tx->revoke_licence->reason, "breach");
    hm_tx_free(t);

    BAD("licence", "grant", "after --valid-from", "--recipe", H1, "--licensee", GID_HEX,
        "--valid-from", "2027-01-01", "--valid-until", "2026-01-01");
    BAD("licence", "grant", "--max-units", "--recipe", H1, "--licensee", GID_HEX, "--max-units",
        "-5");
    BAD("licence", "grant", "--licensee is required", "--recipe", H1);
    BAD("licence", "grant", "given twice", "--recipe", H1, "--licensee", GID_HEX, "--site", "A",
        "--site", "A");
}

/* ---------------------------------------------------------- certificate */

static void test_certificate(void **state)
{
    (void)state;
    const char serials[] = "# batch B-7\nSN-0003\nSN-0004\n\nSN-0005\n";
    const char *sf = write_tmp("serials.txt", serials, sizeof serials - 1);
    const char *report = write_tmp("report.pdf", "REPORT", 6);
    uint8_t rh[32];
    char rhex[65];
    hm_sha256(rh, "REPORT", 6);
    hm_hex_encode(rhex, rh, 32);
    hm_tx_t *t = BUILD_OK("certificate", "mint", "--batch", "B-7", "--recipe", H1, "--licence",
                          H2, "--serial", "SN-0001", "--serial", "SN-0002", "--serials-file", sf,
                          "--site", "DE-MUC-1", "--produced-at", "2026-11-20T08:00:00Z",
                          "--report-file", report, "--result", "tensile=950MPa:pass", "--result",
                          "porosity=0.2%:fail", "--standard", "ISO 9001");
    Hallmark__MintCertificate *m = t->tx->mint_certificate;
    assert_string_equal(m->batch_id, "B-7");
    assert_hex(&m->recipe_hash, H1);
    assert_hex(&m->licence_id, H2);
    assert_int_equal(m->n_part_serials, 5);
    assert_string_equal(m->part_serials[0], "SN-0001");
    assert_string_equal(m->part_serials[4], "SN-0005");
    assert_int_equal(m->quantity, 5); /* defaults to the number of serials */
    assert_string_equal(m->site, "DE-MUC-1");
    assert_true(m->produced_at_ms == 1795161600000ull);
    assert_hex(&m->report_hash, rhex);
    assert_int_equal(m->n_results, 2);
    assert_string_equal(m->results[0]->name, "tensile");
    assert_string_equal(m->results[0]->value, "950MPa");
    assert_true(m->results[0]->pass);
    assert_string_equal(m->results[1]->value, "0.2%");
    assert_false(m->results[1]->pass);
    assert_string_equal(m->standard, "ISO 9001");
    hm_tx_free(t);
    t = BUILD_OK("certificate", "mint", "--batch", "B-8", "--recipe", H1, "--quantity", "100",
                 "--results-hash", H2);
    assert_int_equal(t->tx->mint_certificate->quantity, 100);
    assert_int_equal(t->tx->mint_certificate->n_part_serials, 0);
    assert_hex(&t->tx->mint_certificate->results_hash, H2);
    assert_true(t->tx->mint_certificate->produced_at_ms > 1700000000000ull); /* now */
    hm_tx_free(t);

    t = BUILD_OK("certificate", "add-parts", "--cert", H1, "--serials-file", sf);
    assert_hex(&t->tx->add_parts->cert_id, H1);
    assert_int_equal(t->tx->add_parts->n_serials, 3);
    hm_tx_free(t);
    t = BUILD_OK("certificate", "co-sign", "--cert", H1, "--verdict", "pass", "--report-hash",
                 H2);
    assert_hex(&t->tx->cosign_certificate->cert_id, H1);
    assert_int_equal(t->tx->cosign_certificate->verdict, HALLMARK__VERDICT__VERDICT_PASS);
    assert_hex(&t->tx->cosign_certificate->report_hash, H2);
    hm_tx_free(t);
    t = BUILD_OK("certificate", "revoke", "--cert", H2, "--reason", "recall 2026-11");
    assert_hex(&t->tx->revoke_certificate->cert_id, H2);
    assert_string_equal(t->tx->revoke_certificate->reason, "recall 2026-11");
    hm_tx_free(t);

    BAD("certificate", "mint", "--quantity is required", "--batch", "B", "--recipe", H1);
    BAD("certificate", "mint", "at most its quantity", "--batch", "B", "--recipe", H1,
        "--quantity", "1", "--serial", "A", "--serial", "B");
    BAD("certificate", "mint", "serials.txt line 2: serial SN-0003 is listed twice", "--batch",
        "B", "--recipe", H1, "--serial", "SN-0003", "--serials-file", sf);
    BAD("certificate", "mint", "--result", "--batch", "B", "--recipe", H1, "--quantity", "1",
        "--result", "x=1:maybe");
    BAD("certificate", "mint", "not both", "--batch", "B", "--recipe", H1, "--quantity", "1",
        "--result", "x=1:pass", "--results-hash", H2);
    BAD("certificate", "mint", "--serial", "--batch", "B", "--recipe", H1, "--serial", "has space");
    BAD("certificate", "add-parts", "at least one serial", "--cert", H1);
    BAD("certificate", "co-sign", "--verdict", "--cert", H1, "--verdict", "ok");
}

/* Over the per-tx cap of serials, and over the 64 KiB tx cap. */
static void test_serial_caps(void **state)
{
    (void)state;
    size_t n = WALLET_MAX_SERIALS_PER_TX + 1;
    char *text = malloc(n * 64);
    size_t off = 0;
    for (size_t i = 0; i < n; i++)
        off += (size_t)sprintf(text + off, "SN-%08zu\n", i);
    const char *big = write_tmp("big.txt", text, off);
    BAD("certificate", "add-parts", "add-parts", "--cert", H1, "--serials-file", big);
    /* 4096 long serials exceed 64 KiB: a clean error at signing */
    off = 0;
    for (size_t i = 0; i < WALLET_MAX_SERIALS_PER_TX; i++)
        off += (size_t)sprintf(text + off, "SN-%08zu-%s\n", i, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    const char *wide = write_tmp("wide.txt", text, off);
    BAD("part", "scrap", "larger than", "--serials-file", wide);
    free(text);
}

/* ----------------------------------------------------------------- part */

static void test_part(void **state)
{
    (void)state;
    hm_tx_t *t = BUILD_OK("part", "transfer", "--serial", "SN-1", "--serial", "SN-2", "--to",
                          "did:hallmark:ffeeddccbbaa99887766554433221100ffeeddcc");
    assert_int_equal(t->tx->transfer_custody->n_serials, 2);
    assert_string_equal(t->tx->transfer_custody->serials[1], "SN-2");
    assert_hex(&t->tx->transfer_custody->to, "ffeeddccbbaa99887766554433221100ffeeddcc");
    hm_tx_free(t);
    const char kids[] = "C-2\nC-3\n";
    const char *kf = write_tmp("kids.txt", kids, sizeof kids - 1);
    t = BUILD_OK("part", "assemble", "--parent", "P-1", "--child", "C-1", "--children-file", kf);
    assert_string_equal(t->tx->assemble->parent, "P-1");
    assert_int_equal(t->tx->assemble->n_children, 3);
    assert_string_equal(t->tx->assemble->children[2], "C-3");
    hm_tx_free(t);
    t = BUILD_OK("part", "inspect", "--serial", "SN-1", "--verdict", "FAIL", "--report-hash", H1);
    assert_string_equal(t->tx->record_inspection->serial, "SN-1");
    assert_int_equal(t->tx->record_inspection->verdict, HALLMARK__VERDICT__VERDICT_FAIL);
    assert_hex(&t->tx->record_inspection->report_hash, H1);
    hm_tx_free(t);
    t = BUILD_OK("part", "scrap", "--serial", "SN-9", "--reason", "cracked");
    assert_int_equal(t->tx->scrap->n_serials, 1);
    assert_string_equal(t->tx->scrap->reason, "cracked");
    hm_tx_free(t);

    BAD("part", "transfer", "--to is required", "--serial", "SN-1");
    BAD("part", "assemble", "also listed as a child", "--parent", "P-1", "--child", "P-1");
    BAD("part", "assemble", "at least one serial", "--parent", "P-1");
    BAD("part", "inspect", "--verdict", "--serial", "SN-1");
    BAD("part", "scrap", "no such file", "--serials-file", "/nonexistent/s.txt");
}

/* ------------------------------------------------------------ validators */

static void test_validators(void **state)
{
    (void)state;
    uint8_t sk2[32], pk2[32], sk3[32], pk3[32];
    char add[300], rem[65], pk2hex[65];
    assert_int_equal(hm_key_generate(sk2, pk2), HM_OK);
    assert_int_equal(hm_key_generate(sk3, pk3), HM_OK);
    hm_hex_encode(pk2hex, pk2, 32);
    hm_hex_encode(rem, pk3, 32);
    snprintf(add, sizeof add, "%s,%s,10.0.0.5:7000,val-5", pk2hex, H1);
    hm_tx_t *t = BUILD_OK("validators", "update", "--add", add, "--remove", rem,
                          "--effective-height", "1200");
    Hallmark__UpdateValidators *u = t->tx->update_validators;
    assert_int_equal(u->n_add, 1);
    assert_memory_equal(u->add[0]->pubkey.data, pk2, 32);
    assert_hex(&u->add[0]->tls_fingerprint, H1);
    assert_string_equal(u->add[0]->address, "10.0.0.5:7000");
    assert_string_equal(u->add[0]->name, "val-5");
    assert_int_equal(u->n_remove, 1);
    assert_memory_equal(u->remove[0].data, pk3, 32);
    assert_int_equal(u->effective_height, 1200);
    hm_tx_free(t);

    snprintf(add, sizeof add, "%s,%s,nohostport", pk2hex, H1);
    BAD("validators", "update", "HOST:PORT", "--add", add, "--effective-height", "5");
    BAD("validators", "update", "at least one", "--effective-height", "5");
    BAD("validators", "update", "both added and removed", "--remove", pk2hex, "--add",
        (snprintf(add, sizeof add, "%s,%s,h:1", pk2hex, H1), add), "--effective-height", "5");
    hm_wipe(sk2, 32);
    hm_wipe(sk3, 32);
}

/* Every body of the Tx oneof has a kind in the table, with its own options. */
static void test_table_covers_schema(void **state)
{
    (void)state;
    size_t n;
    const wallet_txkind_t *k = wallet_txkinds(&n);
    const ProtobufCMessageDescriptor *desc = &hallmark__tx__descriptor;
    size_t bodies = 0;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        bodies++;
        bool found = false;
        for (size_t j = 0; j < n; j++)
            if ((unsigned)k[j].body_case == f->id)
                found = true;
        if (!found)
            fail_msg("no wallet subcommand builds Tx.%s", f->name);
    }
    assert_int_equal(bodies, n);
    for (size_t j = 0; j < n; j++) {
        assert_non_null(k[j].opts);
        assert_ptr_equal(wallet_txkind_find(k[j].group, k[j].action), &k[j]);
    }
    assert_null(wallet_txkind_find("identity", "teleport"));
    assert_true(wallet_txgroup_exists("part"));
    assert_false(wallet_txgroup_exists("key"));
}

/* Signing with a key that is not the signer is refused. */
static void test_wrong_key(void **state)
{
    (void)state;
    wallet_txhead_t h;
    Hallmark__Tx tx;
    wallet_arena_t a = {0};
    wallet_opts_t o;
    wallet_diag_t d = {{0}};
    uint8_t other_sk[32], other_pk[32], *out = NULL, txid[32];
    size_t len;
    memset(&h, 0, sizeof h);
    memcpy(h.signer, PK, 32);
    memcpy(h.chain_id, CHAIN, 32);
    const wallet_txkind_t *k = wallet_txkind_find("part", "scrap");
    const wallet_opt_spec_t *specs[] = {k->opts, NULL};
    const char *argv[] = {"--serial", "S"};
    assert_int_equal(wallet_opts_parse(&o, specs, 2, (char **)argv, &d), HM_OK);
    wallet_tx_init(&tx, &h);
    assert_int_equal(wallet_tx_build(&a, &tx, k, &o, &d), HM_OK);
    assert_int_equal(hm_key_generate(other_sk, other_pk), HM_OK);
    assert_int_equal(wallet_tx_sign(&out, &len, txid, &tx, other_sk, &d), HM_ERR_INVALID);
    assert_non_null(strstr(d.msg, "does not match"));
    wallet_opts_free(&o);
    wallet_arena_free(&a);
    hm_wipe(other_sk, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),    cmocka_unit_test(test_recipe),
        cmocka_unit_test(test_licence),     cmocka_unit_test(test_certificate),
        cmocka_unit_test(test_serial_caps), cmocka_unit_test(test_part),
        cmocka_unit_test(test_validators),  cmocka_unit_test(test_table_covers_schema),
        cmocka_unit_test(test_wrong_key),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
