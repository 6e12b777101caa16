/* contracts/validators — the validator set in state (DESIGN §4.6):
 * UpdateValidators, multi-signed by 2f+1 current validators, recorded as a
 * pending change that takes effect at a later height. Owns the "v/" record.
 * The set's hash is computed by the node (consensus/ owns that function;
 * contracts never include consensus/). Depends on lib/ and proto/ only. */
#include <stdlib.h>
#include <string.h>

#include "contracts/exec.h"
#include "lib/keys.h"

#define MAX_ADDRESS 256
#define MAX_VNAME 128

void contracts_validators_in_force(const Hallmark__ValidatorSet *vs, uint64_t height,
                                   Hallmark__ValidatorInfo *const **list, size_t *n)
{
    if (vs->pending_height != 0 && height >= vs->pending_height) {
        *list = vs->pending_validators;
        *n = vs->n_pending_validators;
    } else {
        *list = vs->validators;
        *n = vs->n_validators;
    }
}

static bool in_list(Hallmark__ValidatorInfo *const *l, size_t n, const ProtobufCBinaryData *pk)
{
    for (size_t i = 0; i < n; i++)
        if (cx_bytes_same(&l[i]->pubkey, pk))
            return true;
    return false;
}

static bool in_keys(const ProtobufCBinaryData *k, size_t n, const ProtobufCBinaryData *pk)
{
    for (size_t i = 0; i < n; i++)
        if (cx_bytes_same(&k[i], pk))
            return true;
    return false;
}

static bool valid_body(const Hallmark__UpdateValidators *b)
{
    if ((b->n_add == 0 && b->n_remove == 0) || b->n_add > CONTRACTS_MAX_VALIDATORS ||
        b->n_remove > CONTRACTS_MAX_VALIDATORS)
        return false;
    for (size_t i = 0; i < b->n_add; i++) {
        const Hallmark__ValidatorInfo *v = b->add[i];
        if (v->pubkey.len != 32 || !hm_pubkey_is_valid(v->pubkey.data) ||
            v->tls_fingerprint.len != 32 || !cx_text(v->address, 0, MAX_ADDRESS) ||
            !cx_text(v->name, 0, MAX_VNAME) || in_list(b->add, i, &v->pubkey) ||
            in_keys(b->remove, b->n_remove, &v->pubkey))
            return false;
    }
    for (size_t i = 0; i < b->n_remove; i++)
        if (b->remove[i].len != 32 || in_keys(b->remove, i, &b->remove[i]))
            return false;
    return true;
}

int validators_update(cx_t *cx, uint32_t *code)
{
    const Hallmark__UpdateValidators *b = cx->tx->update_validators;
    Hallmark__ValidatorSet *vs = NULL;
    Hallmark__ValidatorInfo **next = NULL;
    contracts_key_t k;
    int rc = HM_OK;
    *code = HM_R_OK;

    if (cx->tx->actor.len != 0 || !valid_body(b))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(contracts_key_validators(&k));
    CX_TRY(cx_get(cx, (void **)&vs, &k, &hallmark__validator_set__descriptor));
    if (!vs) /* no set: nobody can sign */
        CX_REJECT(HM_R_VALIDATOR_QUORUM);

    /* The set in force at this height: a pending change whose height has
     * come is folded in first. */
    Hallmark__ValidatorSet o = *vs;
    bool pending = vs->pending_height != 0;
    if (pending && cx->blk->height >= vs->pending_height) {
        o.validators = vs->pending_validators;
        o.n_validators = vs->n_pending_validators;
        o.effective_height = vs->pending_height;
        pending = false;
    }
    size_t n = o.n_validators, have = 0;
    for (size_t i = 0; i < n; i++)
        if (o.validators[i]->pubkey.len == 32 && cx_signed_by(cx, o.validators[i]->pubkey.data))
            have++;
    if (n == 0 || have < 2 * ((n - 1) / 3) + 1)
        CX_REJECT(HM_R_VALIDATOR_QUORUM);
    if (b->effective_height <= cx->blk->height)
        CX_REJECT(HM_R_BAD_EFFECTIVE_HEIGHT);
    if (pending)
        CX_REJECT(HM_R_VALIDATOR_PENDING);
    for (size_t i = 0; i < b->n_remove; i++)
        if (!in_list(o.validators, n, &b->remove[i]))
            CX_REJECT(HM_R_VALIDATOR_UNKNOWN);
    for (size_t i = 0; i < b->n_add; i++)
        if (in_list(o.validators, n, &b->add[i]->pubkey))
            CX_REJECT(HM_R_VALIDATOR_EXISTS);
    size_t m = n - b->n_remove + b->n_add;
    if (m == 0)
        CX_REJECT(HM_R_VALIDATOR_SET_EMPTY);
    if (m > CONTRACTS_MAX_VALIDATORS)
        CX_REJECT(HM_R_CAPACITY);

    /* Order: the current order minus the removed, then the added in tx
     * order — deterministic, and the node hashes exactly this list. */
    next = malloc(m * sizeof *next);
    if (!next) {
        rc = HM_ERR_NOMEM;
        goto done;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (!in_keys(b->remove, b->n_remove, &o.validators[i]->pubkey))
            next[j++] = o.validators[i];
    for (size_t i = 0; i < b->n_add; i++)
        next[j++] = b->add[i];
    o.pending_validators = next;
    o.n_pending_validators = m;
    o.pending_height = b->effective_height;
    CX_TRY(cx_put(cx, &k, &o.base));
done:
    free(next);
    hm_free_validator_set(vs);
    return rc;
}
