/* lib/tx — see tx.h. */
#include "lib/tx.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/keys.h"

void hm_txid(uint8_t out[32], const uint8_t *tx_bytes, size_t len)
{
    hm_tagged_hash(out, HM_TAG_TX, tx_bytes, len);
}

void hm_tx_free(hm_tx_t *tx)
{
    if (!tx)
        return;
    hm_free_tx(tx->tx);
    hm_free_signed_tx(tx->stx);
    free(tx);
}

static bool hm_len_is(const ProtobufCBinaryData *b, size_t n)
{
    return b->len == n;
}

int hm_tx_decode(hm_tx_t **out, const uint8_t *data, size_t len)
{
    hm_tx_t *t = calloc(1, sizeof *t);
    if (!t)
        return HM_ERR_NOMEM;
    int rc = hm_decode_signed_tx(&t->stx, data, len);
    if (rc != HM_OK)
        goto done;
    rc = HM_ERR_INVALID;
    if (!hm_len_is(&t->stx->signature, HM_SIG_LEN) ||
        t->stx->n_cosignatures > HM_MAX_COSIGNATURES)
        goto done;
    for (size_t i = 0; i < t->stx->n_cosignatures; i++) {
        const Hallmark__Cosignature *c = t->stx->cosignatures[i];
        if (!hm_len_is(&c->pubkey, HM_PUBKEY_LEN) || !hm_len_is(&c->signature, HM_SIG_LEN))
            goto done;
    }
    rc = hm_decode_tx(&t->tx, t->stx->tx.data, t->stx->tx.len);
    if (rc != HM_OK)
        goto done;
    rc = HM_ERR_INVALID;
    if (!hm_len_is(&t->tx->chain_id, HM_CHAIN_ID_LEN) ||
        !hm_len_is(&t->tx->signer, HM_PUBKEY_LEN) ||
        (t->tx->actor.len != 0 && t->tx->actor.len != HM_GID_LEN) ||
        t->tx->body_case == HALLMARK__TX__BODY__NOT_SET)
        goto done;
    hm_txid(t->txid, t->stx->tx.data, t->stx->tx.len);
    rc = HM_OK;
done:
    if (rc == HM_OK)
        *out = t;
    else
        hm_tx_free(t);
    return rc;
}

int hm_tx_verify(const hm_tx_t *t, const uint8_t chain_id[HM_CHAIN_ID_LEN])
{
    if (memcmp(t->tx->chain_id.data, chain_id, HM_CHAIN_ID_LEN) != 0)
        return HM_ERR_WRONG_CHAIN;
    if (!hm_verify(t->stx->signature.data, t->txid, 32, t->tx->signer.data))
        return HM_ERR_BAD_SIGNATURE;
    for (size_t i = 0; i < t->stx->n_cosignatures; i++) {
        const Hallmark__Cosignature *c = t->stx->cosignatures[i];
        if (memcmp(c->pubkey.data, t->tx->signer.data, HM_PUBKEY_LEN) == 0)
            return HM_ERR_BAD_SIGNATURE;
        for (size_t j = 0; j < i; j++)
            if (memcmp(c->pubkey.data, t->stx->cosignatures[j]->pubkey.data, HM_PUBKEY_LEN) == 0)
                return HM_ERR_BAD_SIGNATURE;
        if (!hm_verify(c->signature.data, t->txid, 32, c->pubkey.data))
            return HM_ERR_BAD_SIGNATURE;
    }
    return HM_OK;
}

int hm_tx_decode_verify(hm_tx_t **out, const uint8_t *data, size_t len,
                        const uint8_t chain_id[HM_CHAIN_ID_LEN])
{
    hm_tx_t *t = NULL;
    int rc = hm_tx_decode(&t, data, len);
    if (rc == HM_OK)
        rc = hm_tx_verify(t, chain_id);
    if (rc == HM_OK)
        *out = t;
    else
        hm_tx_free(t);
    return rc;
}

int hm_tx_sign(uint8_t **out, size_t *out_len, uint8_t txid[32], const Hallmark__Tx *tx,
               const uint8_t seckey[32])
{
    uint8_t *body = NULL;
    size_t body_len = 0;
    uint8_t id[32], sig[HM_SIG_LEN], pub[HM_PUBKEY_LEN];
    int rc = hm_key_pubkey(pub, seckey);
    if (rc != HM_OK)
        return rc;
    if (tx->signer.len != HM_PUBKEY_LEN || memcmp(tx->signer.data, pub, HM_PUBKEY_LEN) != 0)
        return HM_ERR_INVALID;
    rc = hm_codec_encode(&body, &body_len, &tx->base);
    if (rc != HM_OK)
        return rc;
    if (body_len > HM_MAX_TX_BYTES) {
        rc = HM_ERR_TOO_LARGE;
        goto done;
    }
    hm_txid(id, body, body_len);
    rc = hm_sign(sig, seckey, id, NULL);
    if (rc != HM_OK)
        goto done;
    Hallmark__SignedTx stx = HALLMARK__SIGNED_TX__INIT;
    stx.tx.data = body;
    stx.tx.len = body_len;
    stx.signature.data = sig;
    stx.signature.len = sizeof sig;
    rc = hm_codec_encode(out, out_len, &stx.base);
    if (rc == HM_OK && *out_len > HM_MAX_TX_BYTES) {
        free(*out);
        *out = NULL;
        rc = HM_ERR_TOO_LARGE;
    }
    if (rc == HM_OK && txid)
        memcpy(txid, id, 32);
done:
    free(body);
    return rc;
}

int hm_tx_cosign(uint8_t **out, size_t *out_len, const uint8_t *signed_tx, size_t len,
                 const uint8_t seckey[32])
{
    hm_tx_t *t = NULL;
    Hallmark__Cosignature **list = NULL;
    uint8_t pub[HM_PUBKEY_LEN], sig[HM_SIG_LEN];
    int rc = hm_key_pubkey(pub, seckey);
    if (rc != HM_OK)
        return rc;
    rc = hm_tx_decode(&t, signed_tx, len);
    if (rc != HM_OK)
        return rc;
    rc = HM_ERR_LIMIT;
    if (t->stx->n_cosignatures >= HM_MAX_COSIGNATURES)
        goto done;
    rc = hm_sign(sig, seckey, t->txid, NULL);
    if (rc != HM_OK)
        goto done;
    size_t n = t->stx->n_cosignatures;
    list = calloc(n + 1, sizeof *list);
    if (!list) {
        rc = HM_ERR_NOMEM;
        goto done;
    }
    if (n)
        memcpy(list, t->stx->cosignatures, n * sizeof *list);
    Hallmark__Cosignature mine = HALLMARK__COSIGNATURE__INIT;
    mine.pubkey.data = pub;
    mine.pubkey.len = sizeof pub;
    mine.signature.data = sig;
    mine.signature.len = sizeof sig;
    list[n] = &mine;
    Hallmark__SignedTx stx = *t->stx;
    stx.cosignatures = list;
    stx.n_cosignatures = n + 1;
    rc = hm_codec_encode(out, out_len, &stx.base);
done:
    free(list);
    hm_tx_free(t);
    return rc;
}

const char *hm_tx_kind_name(const Hallmark__Tx *tx)
{
    switch (tx->body_case) {
    case HALLMARK__TX__BODY_REGISTER_IDENTITY: return "register_identity";
    case HALLMARK__TX__BODY_ROTATE_KEYS: return "rotate_keys";
    case HALLMARK__TX__BODY_ACCREDIT: return "accredit";
    case HALLMARK__TX__BODY_SUSPEND: return "suspend";
    case HALLMARK__TX__BODY_REVOKE_IDENTITY: return "revoke_identity";
    case HALLMARK__TX__BODY_REGISTER_RECIPE: return "register_recipe";
    case HALLMARK__TX__BODY_TRANSFER_RECIPE: return "transfer_recipe";
    case HALLMARK__TX__BODY_DEPRECATE_RECIPE: return "deprecate_recipe";
    case HALLMARK__TX__BODY_GRANT_LICENCE: return "grant_licence";
    case HALLMARK__TX__BODY_REVOKE_LICENCE: return "revoke_licence";
    case HALLMARK__TX__BODY_MINT_CERTIFICATE: return "mint_certificate";
    case HALLMARK__TX__BODY_ADD_PARTS: return "add_parts";
    case HALLMARK__TX__BODY_COSIGN_CERTIFICATE: return "cosign_certificate";
    case HALLMARK__TX__BODY_REVOKE_CERTIFICATE: return "revoke_certificate";
    case HALLMARK__TX__BODY_TRANSFER_CUSTODY: return "transfer_custody";
    case HALLMARK__TX__BODY_ASSEMBLE: return "assemble";
    case HALLMARK__TX__BODY_RECORD_INSPECTION: return "record_inspection";
    case HALLMARK__TX__BODY_SCRAP: return "scrap";
    case HALLMARK__TX__BODY_UPDATE_VALIDATORS: return "update_validators";
    default: return "unknown";
    }
}
