/* contracts/identity — Global IDs (DESIGN §4.1): RegisterIdentity,
 * RotateKeys, Accredit, Suspend, RevokeIdentity; the external-id index.
 * Owns the "i/" and "x/" records. Depends on lib/ and proto/ only. */
#include <stdlib.h>
#include <string.h>

#include "contracts/exec.h"
#include "lib/keys.h"

#define MAX_NAME 128
#define MAX_EXTERNAL_IDS 8
#define MAX_SCHEME 32
#define MAX_EXT_VALUE 128
#define MAX_CAPABILITIES 32
#define MAX_CAPABILITY 64
#define MAX_REASON 256

/* Controller keys: 1..16 (or 0 when allow_empty), each a valid x-only key,
 * distinct; threshold <= number of keys (empty: the signer alone). */
static bool valid_keys(const ProtobufCBinaryData *keys, size_t n, uint32_t threshold,
                       bool allow_empty)
{
    if ((n == 0 && !allow_empty) || n > CONTRACTS_MAX_CONTROLLER_KEYS)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (keys[i].len != 32 || !hm_pubkey_is_valid(keys[i].data))
            return false;
        for (size_t j = 0; j < i; j++)
            if (memcmp(keys[i].data, keys[j].data, 32) == 0)
                return false;
    }
    return threshold <= (n ? n : 1);
}

static bool valid_country(const char *c)
{
    if (c[0] == 0)
        return true;
    return c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] == 0;
}

static bool valid_external_ids(Hallmark__ExternalId *const *ids, size_t n)
{
    if (n > MAX_EXTERNAL_IDS)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!cx_text(ids[i]->scheme, 1, MAX_SCHEME) || strchr(ids[i]->scheme, ':') ||
            !cx_text(ids[i]->value, 1, MAX_EXT_VALUE))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(ids[i]->scheme, ids[j]->scheme) == 0 &&
                strcmp(ids[i]->value, ids[j]->value) == 0)
                return false;
    }
    return true;
}

int ident_register(cx_t *cx, uint32_t *code)
{
    const Hallmark__RegisterIdentity *b = cx->tx->register_identity;
    Hallmark__Identity *old = NULL;
    uint8_t gid[HM_GID_LEN], head[32];
    int rc = HM_OK;
    *code = HM_R_OK;

    if (cx->tx->actor.len != 0 || !cx_text(b->name, 1, MAX_NAME) ||
        b->kind < HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER ||
        b->kind > HALLMARK__IDENTITY_KIND__KIND_OPERATOR ||
        !valid_external_ids(b->external_ids, b->n_external_ids) || !valid_country(b->country) ||
        !cx_bytes_opt(&b->metadata_hash, 32) ||
        !valid_keys(b->controller_keys, b->n_controller_keys, b->threshold, true))
        CX_REJECT(HM_R_MALFORMED);

    contracts_gid(gid, cx->tx->signer.data, cx->tx->nonce);
    CX_TRY(cx_get_identity(cx, &old, gid));
    if (old) /* only with a hash collision or a pre-seeded state */
        CX_REJECT(HM_R_IDENTITY_EXISTS);

    Hallmark__ExternalIdIndex idx = HALLMARK__EXTERNAL_ID_INDEX__INIT;
    idx.gid.data = gid;
    idx.gid.len = HM_GID_LEN;
    for (size_t i = 0; i < b->n_external_ids; i++) {
        contracts_key_t k;
        bool taken;
        CX_TRY(contracts_key_external_id(&k, b->external_ids[i]->scheme, b->external_ids[i]->value));
        CX_TRY(cx_exists(cx, &taken, &k));
        if (taken)
            CX_REJECT(HM_R_EXTERNAL_ID_TAKEN);
        CX_TRY(cx_put(cx, &k, &idx.base));
    }

    Hallmark__Identity id = HALLMARK__IDENTITY__INIT;
    ProtobufCBinaryData self = cx->tx->signer;
    id.gid.data = gid;
    id.gid.len = HM_GID_LEN;
    id.name = b->name;
    id.kind = b->kind;
    id.n_external_ids = b->n_external_ids;
    id.external_ids = b->external_ids;
    id.country = b->country;
    id.metadata_hash = b->metadata_hash;
    id.status = HALLMARK__IDENTITY_STATUS__IDENTITY_PENDING;
    if (b->n_controller_keys) {
        id.n_controller_keys = b->n_controller_keys;
        id.controller_keys = b->controller_keys;
    } else {
        id.n_controller_keys = 1;
        id.controller_keys = &self;
    }
    id.threshold = b->threshold ? b->threshold : 1;
    id.registered_height = cx->blk->height;
    CX_TRY(cx_history(cx, &id.history_len, &id.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_identity(&k, gid));
    CX_TRY(cx_put(cx, &k, &id.base));
done:
    hm_free_identity(old);
    return rc;
}

int ident_rotate_keys(cx_t *cx, uint32_t *code)
{
    const Hallmark__RotateKeys *b = cx->tx->rotate_keys;
    Hallmark__Identity *actor = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    *code = HM_R_OK;

    if (!cx_bytes_len(&b->gid, HM_GID_LEN) || !cx_bytes_same(&b->gid, &cx->tx->actor) ||
        !valid_keys(b->controller_keys, b->n_controller_keys, b->threshold, false))
        CX_REJECT(HM_R_MALFORMED);
    /* A suspended identity may still secure its keys; a revoked one may not. */
    CX_TRY(cx_actor(cx, code, &actor, true));
    if (*code != HM_R_OK)
        goto done;

    Hallmark__Identity o = *actor;
    o.n_controller_keys = b->n_controller_keys;
    o.controller_keys = b->controller_keys;
    o.threshold = b->threshold ? b->threshold : 1;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_identity(&k, b->gid.data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_identity(actor);
    return rc;
}

/* The common front of Accredit, Suspend and RevokeIdentity: an authorised
 * actor holding ROLE_ACCREDITOR, and a registered, non-revoked target.
 * Out: *target (caller frees) when *code is HM_R_OK. */
static int accreditor_and_target(cx_t *cx, uint32_t *code, Hallmark__Identity **target,
                                 const ProtobufCBinaryData *gid)
{
    Hallmark__Identity *actor = NULL, *t = NULL;
    int rc = HM_OK;
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    if (cx_role(cx, actor, HALLMARK__ROLE__ROLE_ACCREDITOR) != HM_R_OK)
        CX_REJECT(HM_R_NOT_ACCREDITOR);
    CX_TRY(cx_get_identity(cx, &t, gid->data));
    if (!t)
        CX_REJECT(HM_R_IDENTITY_UNKNOWN);
    if (t->status == HALLMARK__IDENTITY_STATUS__IDENTITY_REVOKED)
        CX_REJECT(HM_R_IDENTITY_REVOKED);
done:
    hm_free_identity(actor);
    if (rc == HM_OK && *code == HM_R_OK)
        *target = t;
    else
        hm_free_identity(t);
    return rc;
}

int ident_accredit(cx_t *cx, uint32_t *code)
{
    const Hallmark__Accredit *b = cx->tx->accredit;
    Hallmark__Identity *t = NULL;
    uint8_t head[32];
    bool dup = false;
    int rc = HM_OK;
    *code = HM_R_OK;

    bool ok = cx_bytes_len(&b->gid, HM_GID_LEN) && b->n_roles >= 1 &&
              b->n_roles <= HALLMARK__ROLE__ROLE_ACCREDITOR && b->n_capabilities <= MAX_CAPABILITIES;
    for (size_t i = 0; ok && i < b->n_roles; i++) {
        ok = b->roles[i] >= HALLMARK__ROLE__ROLE_MANUFACTURER &&
             b->roles[i] <= HALLMARK__ROLE__ROLE_ACCREDITOR;
        for (size_t j = 0; ok && j < i; j++)
            ok = b->roles[i] != b->roles[j];
    }
    for (size_t i = 0; ok && i < b->n_capabilities; i++)
        ok = cx_text(b->capabilities[i], 1, MAX_CAPABILITY);
    if (ok)
        CX_TRY(cx_has_dup_strings(&dup, b->capabilities, b->n_capabilities));
    if (!ok || dup)
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(accreditor_and_target(cx, code, &t, &b->gid));
    if (*code != HM_R_OK)
        goto done;

    /* Accreditation replaces roles and capabilities (so it can also narrow
     * them) and (re-)activates a pending or suspended identity. */
    Hallmark__Identity o = *t;
    o.status = HALLMARK__IDENTITY_STATUS__IDENTITY_ACTIVE;
    o.n_roles = b->n_roles;
    o.roles = b->roles;
    o.n_capabilities = b->n_capabilities;
    o.capabilities = b->capabilities;
    o.accredited_until_ms = b->valid_until_ms;
    o.accredited_by = cx->tx->actor;
    o.status_reason = (char *)protobuf_c_empty_string;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_identity(&k, b->gid.data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_identity(t);
    return rc;
}

static int set_status(cx_t *cx, uint32_t *code, const ProtobufCBinaryData *gid, char *reason,
                      Hallmark__IdentityStatus status)
{
    Hallmark__Identity *t = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    *code = HM_R_OK;
    if (!cx_bytes_len(gid, HM_GID_LEN) || !cx_text(reason, 0, MAX_REASON))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(accreditor_and_target(cx, code, &t, gid));
    if (*code != HM_R_OK)
        goto done;
    Hallmark__Identity o = *t;
    o.status = status;
    o.status_reason = reason;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    contracts_key_t k;
    CX_TRY(contracts_key_identity(&k, gid->data));
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    hm_free_identity(t);
    return rc;
}

int ident_suspend(cx_t *cx, uint32_t *code)
{
    return set_status(cx, code, &cx->tx->suspend->gid, cx->tx->suspend->reason,
                      HALLMARK__IDENTITY_STATUS__IDENTITY_SUSPENDED);
}

int ident_revoke(cx_t *cx, uint32_t *code)
{
    return set_status(cx, code, &cx->tx->revoke_identity->gid, cx->tx->revoke_identity->reason,
                      HALLMARK__IDENTITY_STATUS__IDENTITY_REVOKED);
}
