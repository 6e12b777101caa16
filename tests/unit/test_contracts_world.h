/* tests/unit/test_contracts_world.h — the cmocka fixture shared by the
 * contracts unit tests: a memory store with a genesis accreditor and four
 * validators, and a cast accredited by it (designer, manufacturer,
 * inspector, a plain registered party), optionally with a recipe and a
 * 100-unit licence. Txs are really signed (lib/tx) and decoded. Header-only
 * so each test links only lib/ and contracts/. */
#ifndef HM_TESTS_TEST_CONTRACTS_WORLD_H
#define HM_TESTS_TEST_CONTRACTS_WORLD_H

#include "tests/unit/testutil.h"

#include "contracts/contracts.h"
#include "contracts/testkit.h"
#include "lib/hash.h"

typedef struct {
    hm_store_t *store;
    ctk_world_t w;
    ctk_key_t acc;   /* genesis accreditor */
    ctk_key_t des;   /* ROLE_DESIGNER */
    ctk_key_t mfr;   /* ROLE_MANUFACTURER */
    ctk_key_t mfr2;  /* ROLE_MANUFACTURER, a second firm */
    ctk_key_t insp;  /* ROLE_INSPECTOR */
    ctk_key_t joe;   /* registered, PENDING, no roles */
    ctk_key_t v[4];  /* validators */
    uint8_t recipe[32];
    uint8_t licence[32]; /* des -> mfr, 100 units, no window, any site */
} fx_t;

#define OK(expr) assert_int_equal((expr), HM_OK)
/* Compare result codes by their stable names, so a failure reads well. */
#define EXPECT_R(code, WANT) assert_string_equal(contracts_result_name(code), #WANT)

static inline void fx_role(fx_t *f, ctk_key_t *k, Hallmark__Role role)
{
    uint32_t code;
    OK(ctk_accredit(&f->w, &code, &f->acc, k->gid, &role, 1, 0));
    EXPECT_R(code, HM_R_OK);
}

static inline int fx_setup_cast(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    uint32_t code;
    OK(hm_store_mem_new(&f->store));
    OK(ctk_world_init(&f->w, f->store, true));
    ctk_key_t *keys[] = {&f->acc, &f->des, &f->mfr, &f->mfr2, &f->insp, &f->joe,
                         &f->v[0], &f->v[1], &f->v[2], &f->v[3]};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        OK(ctk_key(keys[i], 100 + i));
    ctk_key_t *accs[] = {&f->acc};
    const ctk_key_t *vals[] = {&f->v[0], &f->v[1], &f->v[2], &f->v[3]};
    OK(ctk_genesis(&f->w, accs, 1, vals, 4));

    OK(ctk_register(&f->w, &code, &f->des, "Designer Ltd", HALLMARK__IDENTITY_KIND__KIND_DESIGNER));
    EXPECT_R(code, HM_R_OK);
    OK(ctk_register(&f->w, &code, &f->mfr, "Maker GmbH", HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER));
    EXPECT_R(code, HM_R_OK);
    OK(ctk_register(&f->w, &code, &f->mfr2, "Other Maker", HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER));
    EXPECT_R(code, HM_R_OK);
    OK(ctk_register(&f->w, &code, &f->insp, "Inspect SA", HALLMARK__IDENTITY_KIND__KIND_INSPECTOR));
    EXPECT_R(code, HM_R_OK);
    OK(ctk_register(&f->w, &code, &f->joe, "Joe", HALLMARK__IDENTITY_KIND__KIND_AUDITOR));
    EXPECT_R(code, HM_R_OK);
    fx_role(f, &f->des, HALLMARK__ROLE__ROLE_DESIGNER);
    fx_role(f, &f->mfr, HALLMARK__ROLE__ROLE_MANUFACTURER);
    fx_role(f, &f->mfr2, HALLMARK__ROLE__ROLE_MANUFACTURER);
    fx_role(f, &f->insp, HALLMARK__ROLE__ROLE_INSPECTOR);
    OK(ctk_commit(&f->w, NULL));
    *state = f;
    return 0;
}

/* The cast plus a recipe owned by des and a 100-unit licence for mfr. */
static inline int fx_setup_full(void **state)
{
    fx_setup_cast(state);
    fx_t *f = *state;
    uint32_t code;
    hm_sha256(f->recipe, "recipe-doc", 10);
    OK(ctk_recipe(&f->w, &code, &f->des, f->recipe, NULL));
    EXPECT_R(code, HM_R_OK);
    OK(ctk_grant(&f->w, &code, f->licence, &f->des, f->recipe, f->mfr.gid, 100, 0, 0));
    EXPECT_R(code, HM_R_OK);
    OK(ctk_commit(&f->w, NULL));
    return 0;
}

static inline int fx_teardown(void **state)
{
    fx_t *f = *state;
    ctk_world_free(&f->w);
    hm_store_free(f->store);
    free(f);
    return 0;
}

/* Build, sign (with co-signers) and apply tx; return its result code. */
static inline uint32_t fx_run_cos(fx_t *f, const Hallmark__Tx *tx, const ctk_key_t *signer,
                                  const ctk_key_t *const *cos, size_t ncos)
{
    uint32_t code = UINT32_MAX;
    OK(ctk_exec(&f->w, &code, NULL, tx, signer, cos, ncos));
    return code;
}

static inline uint32_t fx_run(fx_t *f, const Hallmark__Tx *tx, const ctk_key_t *signer)
{
    return fx_run_cos(f, tx, signer, NULL, 0);
}

/* Typed record reads (NULL when absent); free with hm_free_<type>. */
static inline Hallmark__Identity *fx_identity(fx_t *f, const uint8_t gid[20])
{
    contracts_key_t k;
    void *m = NULL;
    OK(contracts_key_identity(&k, gid));
    OK(ctk_get(&f->w, &m, &k, &hallmark__identity__descriptor));
    return m;
}

static inline Hallmark__Recipe *fx_recipe(fx_t *f, const uint8_t hash[32])
{
    contracts_key_t k;
    void *m = NULL;
    OK(contracts_key_recipe(&k, hash));
    OK(ctk_get(&f->w, &m, &k, &hallmark__recipe__descriptor));
    return m;
}

static inline Hallmark__Licence *fx_licence(fx_t *f, const uint8_t id[32])
{
    contracts_key_t k;
    void *m = NULL;
    OK(contracts_key_licence(&k, id));
    OK(ctk_get(&f->w, &m, &k, &hallmark__licence__descriptor));
    return m;
}

static inline Hallmark__Certificate *fx_cert(fx_t *f, const uint8_t id[32])
{
    contracts_key_t k;
    void *m = NULL;
    OK(contracts_key_cert(&k, id));
    OK(ctk_get(&f->w, &m, &k, &hallmark__certificate__descriptor));
    return m;
}

static inline Hallmark__Part *fx_part(fx_t *f, const char *serial)
{
    contracts_key_t k;
    void *m = NULL;
    OK(contracts_key_part(&k, serial));
    OK(ctk_get(&f->w, &m, &k, &hallmark__part__descriptor));
    return m;
}

/* Mint `n` parts named prefix-0..n-1 under f->licence (quantity n). */
static inline uint32_t fx_mint_n(fx_t *f, uint8_t cert_id[32], const char *batch,
                                 const char *prefix, size_t n)
{
    char **s = calloc(n ? n : 1, sizeof *s);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        s[i] = malloc(64);
        snprintf(s[i], 64, "%s-%zu", prefix, i);
    }
    uint32_t code;
    OK(ctk_mint(&f->w, &code, cert_id, &f->mfr, batch, f->recipe, f->licence, n ? n : 1, s, n));
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
    return code;
}

#endif
