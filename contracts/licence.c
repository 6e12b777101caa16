/* contracts/licence — on-chain DRM (DESIGN §4.3): GrantLicence (incl.
 * one level of sub-licences), RevokeLicence. Quota is consumed by
 * contracts/certificate at mint. Owns the "l/" records. Depends on lib/
 * and proto/ only. */
#include <string.h>

#include "contracts/exec.h"

#define MAX_SITES 64
#define MAX_SITE 64
#define MAX_REASON 256
#define MAX_ENVELOPE_CIPHERTEXT 1024

static bool valid_envelope(const Hallmark__KeyEnvelope *e)
{
    /* Opaque to the ledger: only the field lengths are checked. */
    return !e || (e->recipient.len == 32 && e->ephemeral.len == 33 && e->nonce.len == 12 &&
                  e->ciphertext.len > 16 && e->ciphertext.len <= MAX_ENVELOPE_CIPHERTEXT);
}

static bool has_site(char *const *sites, size_t n, const char *site)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(sites[i], site) == 0)
            return true;
    return false;
}

/* HM_R_OK when block time t is inside [from, until) (until 0 = none). */
static uint32_t window_check(const Hallmark__Licence *l, uint64_t t)
{
    if (t < l->valid_from_ms)
        return HM_R_LICENCE_NOT_YET_VALID;
    if (l->valid_until_ms != 0 && t >= l->valid_until_ms)
        return HM_R_LICENCE_EXPIRED;
    return HM_R_OK;
}

/* The checks a sub-licence grant makes against its parent, and the
 * reservation of its units. Writes the parent. */
static int draw_from_parent(cx_t *cx, uint32_t *code, const Hallmark__GrantLicence *b)
{
    Hallmark__Licence *p = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    CX_TRY(cx_get_licence(cx, &p, b->parent_licence.data));
    if (!p)
        CX_REJECT(HM_R_LICENCE_UNKNOWN);
    if (p->revoked)
        CX_REJECT(HM_R_LICENCE_REVOKED);
    if (!cx_bytes_same(&p->licensee, &cx->tx->actor))
        CX_REJECT(HM_R_NOT_LICENSEE);
    if (!p->sublicensable)
        CX_REJECT(HM_R_NOT_SUBLICENSABLE);
    if (!cx_bytes_same(&p->recipe_hash, &b->recipe_hash))
        CX_REJECT(HM_R_LICENCE_RECIPE_MISMATCH);
    CX_CHECK(window_check(p, cx->blk->time_ms));
    if (b->valid_from_ms < p->valid_from_ms ||
        (p->valid_until_ms != 0 &&
         (b->valid_until_ms == 0 || b->valid_until_ms > p->valid_until_ms)))
        CX_REJECT(HM_R_LICENCE_WINDOW);
    if (p->n_sites) {
        if (b->n_sites == 0)
            CX_REJECT(HM_R_LICENCE_SITE);
        for (size_t i = 0; i < b->n_sites; i++)
            if (!has_site(p->sites, p->n_sites, b->sites[i]))
                CX_REJECT(HM_R_LICENCE_SITE);
    }
    Hallmark__Licence o = *p;
    if (p->max_units != 0) {
        /* A sub-licence's units are reserved from the parent at grant. */
        uint64_t used;
        if (b->max_units == 0 || !hm_add_u64(&used, p->used_units, b->max_units) ||
            used > p->max_units)
            CX_REJECT(HM_R_LICENCE_EXHAUSTED);
        o.used_units = used;
    }
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_licence(&k, b->parent_licence.data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_licence(p);
    return rc;
}

int licence_grant(cx_t *cx, uint32_t *code)
{
    const Hallmark__GrantLicence *b = cx->tx->grant_licence;
    Hallmark__Identity *actor = NULL, *licensee = NULL;
    Hallmark__Recipe *r = NULL;
    uint8_t id[32], head[32];
    bool dup = false;
    int rc = HM_OK;
    *code = HM_R_OK;

    bool ok = cx_bytes_len(&b->recipe_hash, 32) && cx_bytes_len(&b->licensee, HM_GID_LEN) &&
              (b->valid_until_ms == 0 || b->valid_until_ms > b->valid_from_ms) &&
              b->n_sites <= MAX_SITES && valid_envelope(b->key_envelope) &&
              cx_bytes_opt(&b->parent_licence, 32) &&
              !(b->parent_licence.len && b->sublicensable); /* one level of sub-licences */
    for (size_t i = 0; ok && i < b->n_sites; i++)
        ok = cx_text(b->sites[i], 1, MAX_SITE);
    if (ok)
        CX_TRY(cx_has_dup_strings(&dup, b->sites, b->n_sites));
    if (!ok || dup)
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    CX_TRY(cx_get_recipe(cx, &r, b->recipe_hash.data));
    if (!r)
        CX_REJECT(HM_R_RECIPE_UNKNOWN);
    if (r->deprecated) /* deprecation stops new licences, not existing ones */
        CX_REJECT(HM_R_RECIPE_DEPRECATED);
    if (!b->parent_licence.len && !cx_bytes_same(&r->owner, &cx->tx->actor))
        CX_REJECT(HM_R_NOT_OWNER);
    CX_TRY(cx_get_identity(cx, &licensee, b->licensee.data));
    if (!licensee)
        CX_REJECT(HM_R_IDENTITY_UNKNOWN);
    if (licensee->status == HALLMARK__IDENTITY_STATUS__IDENTITY_REVOKED)
        CX_REJECT(HM_R_IDENTITY_REVOKED);
    if (b->parent_licence.len) {
        CX_TRY(draw_from_parent(cx, code, b));
        if (*code != HM_R_OK)
            goto done;
    }

    contracts_licence_id(id, cx->t->txid);
    Hallmark__Licence l = HALLMARK__LICENCE__INIT;
    l.licence_id.data = id;
    l.licence_id.len = 32;
    l.recipe_hash = b->recipe_hash;
    l.licensor = cx->tx->actor;
    l.licensee = b->licensee;
    l.max_units = b->max_units;
    l.valid_from_ms = b->valid_from_ms;
    l.valid_until_ms = b->valid_until_ms;
    l.n_sites = b->n_sites;
    l.sites = b->sites;
    l.sublicensable = b->sublicensable;
    l.key_envelope = b->key_envelope;
    l.parent_licence = b->parent_licence;
    l.granted_height = cx->blk->height;
    CX_TRY(cx_history(cx, &l.history_len, &l.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_licence(&k, id));
    CX_TRY(cx_put(cx, &k, &l.base));
done:
    hm_free_identity(actor);
    hm_free_identity(licensee);
    hm_free_recipe(r);
    return rc;
}

int licence_revoke(cx_t *cx, uint32_t *code)
{
    const Hallmark__RevokeLicence *b = cx->tx->revoke_licence;
    Hallmark__Identity *actor = NULL;
    Hallmark__Licence *l = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    *code = HM_R_OK;
    if (!cx_bytes_len(&b->licence_id, 32) || !cx_text(b->reason, 0, MAX_REASON))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    CX_TRY(cx_get_licence(cx, &l, b->licence_id.data));
    if (!l)
        CX_REJECT(HM_R_LICENCE_UNKNOWN);
    if (!cx_bytes_same(&l->licensor, &cx->tx->actor))
        CX_REJECT(HM_R_NOT_OWNER);
    if (l->revoked)
        CX_REJECT(HM_R_LICENCE_REVOKED);
    Hallmark__Licence o = *l;
    o.revoked = true;
    o.revoke_reason = b->reason;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_licence(&k, b->licence_id.data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_identity(actor);
    hm_free_licence(l);
    return rc;
}

int licence_consume(cx_t *cx, uint32_t *code, const ProtobufCBinaryData *licence_id,
                    const ProtobufCBinaryData *recipe, const char *site, uint64_t quantity)
{
    Hallmark__Licence *l = NULL, *parent = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    CX_TRY(cx_get_licence(cx, &l, licence_id->data));
    if (!l)
        CX_REJECT(HM_R_LICENCE_UNKNOWN);
    if (l->revoked)
        CX_REJECT(HM_R_LICENCE_REVOKED);
    if (l->parent_licence.len == 32) {
        /* Revoking a licence also stops minting under its sub-licences. */
        CX_TRY(cx_get_licence(cx, &parent, l->parent_licence.data));
        if (!parent || parent->revoked)
            CX_REJECT(HM_R_LICENCE_REVOKED);
    }
    if (!cx_bytes_same(&l->licensee, &cx->tx->actor))
        CX_REJECT(HM_R_NOT_LICENSEE);
    if (!cx_bytes_same(&l->recipe_hash, recipe))
        CX_REJECT(HM_R_LICENCE_RECIPE_MISMATCH);
    CX_CHECK(window_check(l, cx->blk->time_ms));
    if (l->n_sites && !has_site(l->sites, l->n_sites, site))
        CX_REJECT(HM_R_LICENCE_SITE);
    uint64_t used;
    if (!hm_add_u64(&used, l->used_units, quantity) || (l->max_units && used > l->max_units))
        CX_REJECT(HM_R_LICENCE_EXHAUSTED);
    Hallmark__Licence o = *l;
    o.used_units = used;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_licence(&k, licence_id->data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_licence(l);
    hm_free_licence(parent);
    return rc;
}

bool licence_remaining(const Hallmark__Licence *l, uint64_t *out)
{
    if (l->max_units == 0)
        return false;
    *out = l->used_units >= l->max_units ? 0 : l->max_units - l->used_units;
    return true;
}
