/* contracts/recipe — recipes and their lineage (DESIGN §4.2):
 * RegisterRecipe, TransferRecipe, DeprecateRecipe. Owns the "r/" records.
 * Depends on lib/ and proto/ only. */
#include <string.h>

#include "contracts/exec.h"

#define MAX_VERSION 64
#define MAX_TITLE 256
#define MAX_MATERIAL 128
#define MAX_PROCESS 128
#define MAX_URI 512
#define MAX_REASON 256

int recipe_register(cx_t *cx, uint32_t *code)
{
    const Hallmark__RegisterRecipe *b = cx->tx->register_recipe;
    Hallmark__Identity *actor = NULL;
    Hallmark__Recipe *old = NULL, *prev = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    *code = HM_R_OK;

    if (!cx_bytes_len(&b->recipe_hash, 32) || !cx_bytes_opt(&b->previous, 32) ||
        cx_bytes_same(&b->previous, &b->recipe_hash) || !cx_text(b->version, 0, MAX_VERSION) ||
        !cx_text(b->title, 0, MAX_TITLE) || !cx_text(b->material, 0, MAX_MATERIAL) ||
        !cx_text(b->process, 0, MAX_PROCESS) || !cx_bytes_opt(&b->acceptance_hash, 32) ||
        !cx_text(b->document_uri, 0, MAX_URI))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    uint32_t c = cx_role(cx, actor, HALLMARK__ROLE__ROLE_DESIGNER);
    if (c != HM_R_OK && cx_role(cx, actor, HALLMARK__ROLE__ROLE_MANUFACTURER) != HM_R_OK)
        CX_REJECT(c);
    CX_TRY(cx_get_recipe(cx, &old, b->recipe_hash.data));
    if (old)
        CX_REJECT(HM_R_RECIPE_EXISTS);
    if (b->previous.len) {
        /* Only the predecessor's owner may extend its lineage. */
        CX_TRY(cx_get_recipe(cx, &prev, b->previous.data));
        if (!prev)
            CX_REJECT(HM_R_PREVIOUS_UNKNOWN);
        if (!cx_bytes_same(&prev->owner, &cx->tx->actor))
            CX_REJECT(HM_R_NOT_OWNER);
    }

    Hallmark__Recipe r = HALLMARK__RECIPE__INIT;
    r.recipe_hash = b->recipe_hash;
    r.version = b->version;
    r.previous = b->previous;
    r.title = b->title;
    r.material = b->material;
    r.process = b->process;
    r.acceptance_hash = b->acceptance_hash;
    r.document_uri = b->document_uri;
    r.owner = cx->tx->actor;
    r.registered_height = cx->blk->height;
    CX_TRY(cx_history(cx, &r.history_len, &r.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_recipe(&k, b->recipe_hash.data));
    CX_TRY(cx_put(cx, &k, &r.base));
done:
    hm_free_identity(actor);
    hm_free_recipe(old);
    hm_free_recipe(prev);
    return rc;
}

/* Load the recipe the actor owns. Out: *r (caller frees) when *code OK. */
static int owned_recipe(cx_t *cx, uint32_t *code, Hallmark__Recipe **r,
                        const ProtobufCBinaryData *hash)
{
    Hallmark__Identity *actor = NULL;
    Hallmark__Recipe *rec = NULL;
    int rc = HM_OK;
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    CX_TRY(cx_get_recipe(cx, &rec, hash->data));
    if (!rec)
        CX_REJECT(HM_R_RECIPE_UNKNOWN);
    if (!cx_bytes_same(&rec->owner, &cx->tx->actor))
        CX_REJECT(HM_R_NOT_OWNER);
done:
    hm_free_identity(actor);
    if (rc == HM_OK && *code == HM_R_OK)
        *r = rec;
    else
        hm_free_recipe(rec);
    return rc;
}

int recipe_transfer(cx_t *cx, uint32_t *code)
{
    const Hallmark__TransferRecipe *b = cx->tx->transfer_recipe;
    Hallmark__Recipe *r = NULL;
    Hallmark__Identity *to = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    *code = HM_R_OK;
    if (!cx_bytes_len(&b->recipe_hash, 32) || !cx_bytes_len(&b->new_owner, HM_GID_LEN))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(owned_recipe(cx, code, &r, &b->recipe_hash));
    if (*code != HM_R_OK)
        goto done;
    CX_TRY(cx_get_identity(cx, &to, b->new_owner.data));
    if (!to)
        CX_REJECT(HM_R_IDENTITY_UNKNOWN);
    if (to->status == HALLMARK__IDENTITY_STATUS__IDENTITY_REVOKED)
        CX_REJECT(HM_R_IDENTITY_REVOKED);
    Hallmark__Recipe o = *r;
    o.owner = b->new_owner;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_recipe(&k, b->recipe_hash.data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_recipe(r);
    hm_free_identity(to);
    return rc;
}

int recipe_deprecate(cx_t *cx, uint32_t *code)
{
    const Hallmark__DeprecateRecipe *b = cx->tx->deprecate_recipe;
    Hallmark__Recipe *r = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    *code = HM_R_OK;
    if (!cx_bytes_len(&b->recipe_hash, 32) || !cx_text(b->reason, 0, MAX_REASON))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(owned_recipe(cx, code, &r, &b->recipe_hash));
    if (*code != HM_R_OK)
        goto done;
    if (r->deprecated)
        CX_REJECT(HM_R_RECIPE_DEPRECATED);
    Hallmark__Recipe o = *r;
    o.deprecated = true;
    o.deprecation_reason = b->reason;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_recipe(&k, b->recipe_hash.data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_recipe(r);
    return rc;
}
