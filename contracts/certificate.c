/* contracts/certificate — quality certificates (DESIGN §4.4):
 * MintCertificate (consumes licence quota, creates the parts), AddParts,
 * CoSignCertificate, RevokeCertificate (a recall). Owns the "c/" and "b/"
 * records and creates "p/" records. Depends on lib/ and proto/ only. */
#include <stdlib.h>
#include <string.h>

#include "contracts/exec.h"

#define MAX_BATCH_ID 128
#define MAX_SITE 64
#define MAX_STANDARD 128
#define MAX_RESULTS 64
#define MAX_RESULT_NAME 64
#define MAX_RESULT_VALUE 128
#define MAX_REASON 256

/* A serial list of 0..4096 (allow_empty) or 1..4096, valid and distinct. */
static int serials_ok(bool *ok, char *const *s, size_t n, bool allow_empty)
{
    bool dup = false;
    *ok = (allow_empty && n == 0) || cx_serial_list(s, n);
    if (!*ok || n == 0)
        return HM_OK;
    int rc = cx_has_dup_strings(&dup, s, n);
    *ok = !dup;
    return rc;
}

int cert_create_parts(cx_t *cx, uint32_t *code, char *const *serials, size_t n,
                      const uint8_t cert_id[32], const uint8_t holder[HM_GID_LEN])
{
    uint8_t head[32];
    int rc = HM_OK;
    Hallmark__Part p = HALLMARK__PART__INIT;
    p.cert_id.data = (uint8_t *)cert_id;
    p.cert_id.len = 32;
    p.holder.data = (uint8_t *)holder;
    p.holder.len = HM_GID_LEN;
    p.status = HALLMARK__PART_STATUS__PART_ACTIVE;
    /* Every new part's chain starts with this tx: the same first link. */
    CX_TRY(cx_history(cx, &p.history_len, &p.history_head, head));
    for (size_t i = 0; i < n; i++) {
        contracts_key_t k;
        bool exists;
        CX_TRY(contracts_key_part(&k, serials[i]));
        CX_TRY(cx_exists(cx, &exists, &k));
        if (exists) /* the counterfeit signal */
            CX_REJECT(HM_R_SERIAL_EXISTS);
        p.serial = serials[i];
        CX_TRY(cx_put(cx, &k, &p.base));
    }
done:
    return rc;
}

int cert_mint(cx_t *cx, uint32_t *code)
{
    const Hallmark__MintCertificate *b = cx->tx->mint_certificate;
    Hallmark__Identity *actor = NULL;
    Hallmark__Recipe *r = NULL;
    uint8_t id[32], head[32];
    bool ok;
    int rc = HM_OK;
    *code = HM_R_OK;

    CX_TRY(serials_ok(&ok, b->part_serials, b->n_part_serials, true));
    ok = ok && cx_text(b->batch_id, 1, MAX_BATCH_ID) && cx_bytes_len(&b->recipe_hash, 32) &&
         cx_bytes_len(&b->licence_id, 32) && b->quantity >= 1 && cx_text(b->site, 0, MAX_SITE) &&
         cx_bytes_opt(&b->report_hash, 32) && cx_bytes_opt(&b->results_hash, 32) &&
         cx_text(b->standard, 0, MAX_STANDARD) && b->n_results <= MAX_RESULTS;
    for (size_t i = 0; ok && i < b->n_results; i++)
        ok = cx_text(b->results[i]->name, 1, MAX_RESULT_NAME) &&
             cx_text(b->results[i]->value, 0, MAX_RESULT_VALUE);
    if (!ok)
        CX_REJECT(HM_R_MALFORMED);
    if (b->n_part_serials > b->quantity)
        CX_REJECT(HM_R_QUANTITY_EXCEEDED);

    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    CX_CHECK(cx_role(cx, actor, HALLMARK__ROLE__ROLE_MANUFACTURER));
    CX_TRY(cx_get_recipe(cx, &r, b->recipe_hash.data));
    if (!r)
        CX_REJECT(HM_R_RECIPE_UNKNOWN);
    contracts_key_t bk;
    bool exists;
    CX_TRY(contracts_key_batch(&bk, cx->tx->actor.data, b->batch_id));
    CX_TRY(cx_exists(cx, &exists, &bk));
    if (exists)
        CX_REJECT(HM_R_BATCH_EXISTS);
    CX_TRY(licence_consume(cx, code, &b->licence_id, &b->recipe_hash, b->site, b->quantity));
    if (*code != HM_R_OK)
        goto done;

    contracts_cert_id(id, cx->t->txid);
    CX_TRY(cert_create_parts(cx, code, b->part_serials, b->n_part_serials, id,
                             cx->tx->actor.data));
    if (*code != HM_R_OK)
        goto done;

    Hallmark__BatchIndex bi = HALLMARK__BATCH_INDEX__INIT;
    bi.cert_id.data = id;
    bi.cert_id.len = 32;
    CX_TRY(cx_put(cx, &bk, &bi.base));

    /* The results themselves stay in the mint tx (reachable through the
     * history chain); the record keeps results_hash as given. */
    Hallmark__Certificate c = HALLMARK__CERTIFICATE__INIT;
    c.cert_id.data = id;
    c.cert_id.len = 32;
    c.manufacturer = cx->tx->actor;
    c.batch_id = b->batch_id;
    c.recipe_hash = b->recipe_hash;
    c.licence_id = b->licence_id;
    c.quantity = b->quantity;
    c.part_count = b->n_part_serials;
    c.site = b->site;
    c.produced_at_ms = b->produced_at_ms;
    c.report_hash = b->report_hash;
    c.results_hash = b->results_hash;
    c.standard = b->standard;
    c.status = HALLMARK__CERTIFICATE_STATUS__CERT_SELF_DECLARED;
    c.minted_height = cx->blk->height;
    CX_TRY(cx_history(cx, &c.history_len, &c.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_cert(&k, id));
    CX_TRY(cx_put(cx, &k, &c.base));
done:
    hm_free_identity(actor);
    hm_free_recipe(r);
    return rc;
}

int cert_add_parts(cx_t *cx, uint32_t *code)
{
    const Hallmark__AddParts *b = cx->tx->add_parts;
    Hallmark__Identity *actor = NULL;
    Hallmark__Certificate *c = NULL;
    uint8_t head[32];
    bool ok;
    int rc = HM_OK;
    *code = HM_R_OK;

    CX_TRY(serials_ok(&ok, b->serials, b->n_serials, false));
    if (!ok || !cx_bytes_len(&b->cert_id, 32))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    CX_TRY(cx_get_cert(cx, &c, b->cert_id.data));
    if (!c)
        CX_REJECT(HM_R_CERT_UNKNOWN);
    if (!cx_bytes_same(&c->manufacturer, &cx->tx->actor))
        CX_REJECT(HM_R_NOT_OWNER);
    if (c->status == HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED)
        CX_REJECT(HM_R_CERT_REVOKED);
    CX_CHECK(cx_role(cx, actor, HALLMARK__ROLE__ROLE_MANUFACTURER));
    uint64_t count;
    if (!hm_add_u64(&count, c->part_count, b->n_serials) || count > c->quantity)
        CX_REJECT(HM_R_QUANTITY_EXCEEDED);
    CX_TRY(cert_create_parts(cx, code, b->serials, b->n_serials, b->cert_id.data,
                             cx->tx->actor.data));
    if (*code != HM_R_OK)
        goto done;
    Hallmark__Certificate o = *c;
    o.part_count = count;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_cert(&k, b->cert_id.data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_identity(actor);
    hm_free_certificate(c);
    return rc;
}

int cert_cosign(cx_t *cx, uint32_t *code)
{
    const Hallmark__CoSignCertificate *b = cx->tx->cosign_certificate;
    Hallmark__Identity *actor = NULL;
    Hallmark__Certificate *c = NULL;
    Hallmark__CoSign **list = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    *code = HM_R_OK;

    if (!cx_bytes_len(&b->cert_id, 32) || !cx_bytes_opt(&b->report_hash, 32) ||
        (b->verdict != HALLMARK__VERDICT__VERDICT_PASS &&
         b->verdict != HALLMARK__VERDICT__VERDICT_FAIL))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    CX_CHECK(cx_role(cx, actor, HALLMARK__ROLE__ROLE_INSPECTOR));
    CX_TRY(cx_get_cert(cx, &c, b->cert_id.data));
    if (!c)
        CX_REJECT(HM_R_CERT_UNKNOWN);
    if (c->status == HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED)
        CX_REJECT(HM_R_CERT_REVOKED);
    if (cx_bytes_same(&c->manufacturer, &cx->tx->actor))
        CX_REJECT(HM_R_NOT_INDEPENDENT);
    for (size_t i = 0; i < c->n_cosigns; i++)
        if (cx_bytes_same(&c->cosigns[i]->inspector, &cx->tx->actor))
            CX_REJECT(HM_R_ALREADY_COSIGNED);
    if (c->n_cosigns >= CONTRACTS_MAX_COSIGNS)
        CX_REJECT(HM_R_CAPACITY);

    list = malloc((c->n_cosigns + 1) * sizeof *list);
    if (!list) {
        rc = HM_ERR_NOMEM;
        goto done;
    }
    if (c->n_cosigns)
        memcpy(list, c->cosigns, c->n_cosigns * sizeof *list);
    Hallmark__CoSign mine = HALLMARK__CO_SIGN__INIT;
    mine.inspector = cx->tx->actor;
    mine.verdict = b->verdict;
    mine.report_hash = b->report_hash;
    mine.height = cx->blk->height;
    list[c->n_cosigns] = &mine;

    Hallmark__Certificate o = *c;
    o.cosigns = list;
    o.n_cosigns = c->n_cosigns + 1;
    /* A FAIL is sticky: one failing inspection outweighs any PASS. */
    if (b->verdict == HALLMARK__VERDICT__VERDICT_FAIL)
        o.status = HALLMARK__CERTIFICATE_STATUS__CERT_REJECTED;
    else if (c->status != HALLMARK__CERTIFICATE_STATUS__CERT_REJECTED)
        o.status = HALLMARK__CERTIFICATE_STATUS__CERT_CERTIFIED;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_cert(&k, b->cert_id.data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    free(list);
    hm_free_identity(actor);
    hm_free_certificate(c);
    return rc;
}

int cert_revoke(cx_t *cx, uint32_t *code)
{
    const Hallmark__RevokeCertificate *b = cx->tx->revoke_certificate;
    Hallmark__Identity *actor = NULL;
    Hallmark__Certificate *c = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    *code = HM_R_OK;

    if (!cx_bytes_len(&b->cert_id, 32) || !cx_text(b->reason, 0, MAX_REASON))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    CX_TRY(cx_get_cert(cx, &c, b->cert_id.data));
    if (!c)
        CX_REJECT(HM_R_CERT_UNKNOWN);
    if (c->status == HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED)
        CX_REJECT(HM_R_CERT_REVOKED);
    /* The manufacturer, an inspector who co-signed it, or an accreditor. */
    bool may = cx_bytes_same(&c->manufacturer, &cx->tx->actor) ||
               ident_holds_role(actor, HALLMARK__ROLE__ROLE_ACCREDITOR, cx->blk->time_ms);
    for (size_t i = 0; !may && i < c->n_cosigns; i++)
        may = cx_bytes_same(&c->cosigns[i]->inspector, &cx->tx->actor);
    if (!may)
        CX_REJECT(HM_R_NOT_OWNER);
    Hallmark__Certificate o = *c;
    o.status = HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED;
    o.revoke_reason = b->reason;
    o.revoked_by = cx->tx->actor;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_cert(&k, b->cert_id.data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_identity(actor);
    hm_free_certificate(c);
    return rc;
}
