/* contracts/apply — the entry points: one tx (nonce, savepoint, dispatch)
 * and one block (txs in order, then the state root). Owns no state.
 * Depends on lib/ and proto/ only. */
#include <stdlib.h>
#include <string.h>

#include "contracts/exec.h"

static cx_contract_fn contract_of(Hallmark__Tx__BodyCase body)
{
    switch (body) {
    case HALLMARK__TX__BODY_REGISTER_IDENTITY: return ident_register;
    case HALLMARK__TX__BODY_ROTATE_KEYS: return ident_rotate_keys;
    case HALLMARK__TX__BODY_ACCREDIT: return ident_accredit;
    case HALLMARK__TX__BODY_SUSPEND: return ident_suspend;
    case HALLMARK__TX__BODY_REVOKE_IDENTITY: return ident_revoke;
    case HALLMARK__TX__BODY_REGISTER_RECIPE: return recipe_register;
    case HALLMARK__TX__BODY_TRANSFER_RECIPE: return recipe_transfer;
    case HALLMARK__TX__BODY_DEPRECATE_RECIPE: return recipe_deprecate;
    case HALLMARK__TX__BODY_GRANT_LICENCE: return licence_grant;
    case HALLMARK__TX__BODY_REVOKE_LICENCE: return licence_revoke;
    case HALLMARK__TX__BODY_MINT_CERTIFICATE: return cert_mint;
    case HALLMARK__TX__BODY_ADD_PARTS: return cert_add_parts;
    case HALLMARK__TX__BODY_COSIGN_CERTIFICATE: return cert_cosign;
    case HALLMARK__TX__BODY_REVOKE_CERTIFICATE: return cert_revoke;
    case HALLMARK__TX__BODY_TRANSFER_CUSTODY: return part_transfer;
    case HALLMARK__TX__BODY_ASSEMBLE: return part_assemble;
    case HALLMARK__TX__BODY_RECORD_INSPECTION: return part_inspect;
    case HALLMARK__TX__BODY_SCRAP: return part_scrap;
    case HALLMARK__TX__BODY_UPDATE_VALIDATORS: return validators_update;
    default: return NULL;
    }
}

int contracts_next_nonce(hm_state_t *st, uint64_t *out, const uint8_t pubkey[32])
{
    Hallmark__NonceRecord *nr = NULL;
    contracts_key_t k;
    int rc = contracts_key_nonce(&k, pubkey);
    if (rc == HM_OK)
        rc = cx_state_get(st, (void **)&nr, &k, &hallmark__nonce_record__descriptor);
    if (rc == HM_OK)
        *out = nr ? nr->next : 0;
    hm_free_nonce_record(nr);
    return rc;
}

int contracts_apply_tx(hm_state_t *st, uint32_t *code, const contracts_block_t *blk,
                       const hm_tx_t *t)
{
    cx_t cx = {.st = st, .blk = blk, .t = t, .tx = t->tx};
    contracts_key_t nk;
    uint64_t next = 0;
    uint32_t c = HM_R_OK;
    bool in_tx = false;
    int rc = HM_OK;

    /* hm_tx_decode guarantees a 32-byte signer, an actor of 0 or 20 bytes
     * and a body; a caller bypassing it gets MALFORMED, not a crash. */
    if (t->tx->signer.len != 32 || (t->tx->actor.len != 0 && t->tx->actor.len != HM_GID_LEN)) {
        *code = HM_R_MALFORMED;
        return HM_OK;
    }
    CX_TRY(contracts_key_nonce(&nk, t->tx->signer.data));
    CX_TRY(contracts_next_nonce(st, &next, t->tx->signer.data));
    /* UINT64_MAX is never accepted: it could not be consumed (and it is the
     * genesis accreditors' GID nonce). */
    if (t->tx->nonce != next || next == UINT64_MAX) {
        *code = HM_R_BAD_NONCE;
        goto done;
    }

    cx_contract_fn fn = contract_of(t->tx->body_case);
    CX_TRY(hm_state_tx_begin(st));
    in_tx = true;
    if (fn)
        CX_TRY(fn(&cx, &c));
    else
        c = HM_R_MALFORMED;
    if (c == HM_R_OK)
        hm_state_tx_commit(st);
    else
        hm_state_tx_rollback(st);
    in_tx = false;

    /* The nonce is consumed whether the tx was applied or rejected. */
    Hallmark__NonceRecord nr = HALLMARK__NONCE_RECORD__INIT;
    nr.next = next + 1;
    hm_buf_reset(&cx.enc);
    CX_TRY(hm_codec_encode_append(&cx.enc, &nr.base));
    CX_TRY(hm_state_put(st, nk.b, nk.len, cx.enc.data, cx.enc.len));
    *code = c;
done:
    if (in_tx)
        hm_state_tx_rollback(st);
    hm_buf_free(&cx.enc);
    return rc;
}

int contracts_apply_block(hm_state_t *st, uint32_t *codes, uint8_t root[32],
                          const contracts_block_t *blk, hm_tx_t *const *txs, size_t n)
{
    int rc = HM_OK;
    for (size_t i = 0; i < n; i++) {
        rc = contracts_apply_tx(st, &codes[i], blk, txs[i]);
        if (rc != HM_OK)
            return rc;
    }
    if (root)
        rc = hm_state_root(st, root);
    return rc;
}
