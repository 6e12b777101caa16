/* contracts/genesis — the records a chain starts with: the consortium's
 * first accreditors and the validator set. Depends on lib/ and proto/. */
#include <stdlib.h>
#include <string.h>

#include "contracts/exec.h"
#include "lib/keys.h"

static bool valid_accreditor(const contracts_genesis_accreditor_t *a)
{
    if (!a->name || !cx_text(a->name, 1, 128) || a->n_keys == 0 ||
        a->n_keys > CONTRACTS_MAX_CONTROLLER_KEYS || a->threshold > a->n_keys ||
        a->n_roles > HALLMARK__ROLE__ROLE_ACCREDITOR || (a->n_roles && !a->roles) ||
        (a->kind != HALLMARK__IDENTITY_KIND__KIND_UNSPECIFIED &&
         (a->kind < HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER ||
          a->kind > HALLMARK__IDENTITY_KIND__KIND_OPERATOR)))
        return false;
    for (size_t i = 0; i < a->n_keys; i++) {
        if (!hm_pubkey_is_valid(a->keys[i]))
            return false;
        for (size_t j = 0; j < i; j++)
            if (memcmp(a->keys[i], a->keys[j], 32) == 0)
                return false;
    }
    for (size_t i = 0; i < a->n_roles; i++)
        if (a->roles[i] < HALLMARK__ROLE__ROLE_MANUFACTURER ||
            a->roles[i] > HALLMARK__ROLE__ROLE_ACCREDITOR)
            return false;
    return true;
}

static int put_record(hm_state_t *st, hm_buf_t *enc, const contracts_key_t *k,
                      const ProtobufCMessage *m)
{
    hm_buf_reset(enc);
    int rc = hm_codec_encode_append(enc, m);
    return rc != HM_OK ? rc : hm_state_put(st, k->b, k->len, enc->data, enc->len);
}

static int put_accreditor(hm_state_t *st, hm_buf_t *enc, const contracts_genesis_accreditor_t *a)
{
    uint8_t gid[HM_GID_LEN];
    ProtobufCBinaryData keys[CONTRACTS_MAX_CONTROLLER_KEYS];
    Hallmark__Role roles[HALLMARK__ROLE__ROLE_ACCREDITOR + 1];
    size_t nr = 0;
    contracts_key_t k;
    uint8_t *old = NULL;
    size_t oldlen = 0;

    contracts_genesis_gid(gid, a->keys[0]);
    int rc = contracts_key_identity(&k, gid);
    if (rc != HM_OK)
        return rc;
    rc = hm_state_get(st, k.b, k.len, &old, &oldlen);
    free(old);
    if (rc == HM_OK)
        return HM_ERR_INVALID; /* two accreditors with the same first key */
    if (rc != HM_ERR_NOT_FOUND)
        return rc;

    for (size_t i = 0; i < a->n_keys; i++) {
        keys[i].data = (uint8_t *)a->keys[i];
        keys[i].len = 32;
    }
    roles[nr++] = HALLMARK__ROLE__ROLE_ACCREDITOR;
    for (size_t i = 0; i < a->n_roles; i++) {
        bool seen = false;
        for (size_t j = 0; j < nr; j++)
            seen = seen || roles[j] == a->roles[i];
        if (!seen)
            roles[nr++] = a->roles[i];
    }
    Hallmark__Identity id = HALLMARK__IDENTITY__INIT;
    id.gid.data = gid;
    id.gid.len = HM_GID_LEN;
    id.name = (char *)a->name;
    id.kind = a->kind ? a->kind : HALLMARK__IDENTITY_KIND__KIND_OPERATOR;
    id.status = HALLMARK__IDENTITY_STATUS__IDENTITY_ACTIVE;
    id.n_controller_keys = a->n_keys;
    id.controller_keys = keys;
    id.threshold = a->threshold ? a->threshold : 1;
    id.n_roles = nr;
    id.roles = roles;
    return put_record(st, enc, &k, &id.base);
}

int contracts_genesis(hm_state_t *st, const contracts_genesis_t *g)
{
    hm_buf_t enc = {0};
    contracts_key_t k;
    uint8_t *old = NULL;
    size_t oldlen = 0;
    int rc = contracts_key_validators(&k);
    if (rc != HM_OK)
        return rc;

    rc = HM_ERR_INVALID;
    if (g->n_validators == 0 || g->n_validators > CONTRACTS_MAX_VALIDATORS ||
        (g->n_accreditors && !g->accreditors))
        goto done;
    for (size_t i = 0; i < g->n_validators; i++) {
        const Hallmark__ValidatorInfo *v = g->validators[i];
        if (v->pubkey.len != 32 || !hm_pubkey_is_valid(v->pubkey.data) ||
            v->tls_fingerprint.len != 32)
            goto done;
        for (size_t j = 0; j < i; j++)
            if (memcmp(g->validators[j]->pubkey.data, v->pubkey.data, 32) == 0)
                goto done;
    }
    for (size_t i = 0; i < g->n_accreditors; i++)
        if (!valid_accreditor(&g->accreditors[i]))
            goto done;

    rc = hm_state_get(st, k.b, k.len, &old, &oldlen);
    free(old);
    if (rc == HM_OK) {
        rc = HM_ERR_EXISTS;
        goto done;
    }
    if (rc != HM_ERR_NOT_FOUND)
        goto done;

    for (size_t i = 0; i < g->n_accreditors; i++) {
        rc = put_accreditor(st, &enc, &g->accreditors[i]);
        if (rc != HM_OK)
            goto done;
    }
    Hallmark__ValidatorSet vs = HALLMARK__VALIDATOR_SET__INIT;
    vs.validators = (Hallmark__ValidatorInfo **)g->validators;
    vs.n_validators = g->n_validators;
    rc = put_record(st, &enc, &k, &vs.base);
done:
    hm_buf_free(&enc);
    return rc;
}
