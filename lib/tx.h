/* lib/tx — signed transactions: decode, stateless verification, signing.
 *
 * A SignedTx carries the exact Tx bytes; txid = H_hallmark/tx(Tx bytes) and
 * the signer and every co-signer sign the txid (BIP340). Verification works on
 * the received bytes; nothing is re-encoded. Depends on lib/codec, lib/hash,
 * lib/keys. */
#ifndef HM_LIB_TX_H
#define HM_LIB_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/codec.h"
#include "lib/err.h"

#define HM_CHAIN_ID_LEN 32
#define HM_GID_LEN 20
/* Co-signatures a tx may carry (controller thresholds, validator updates). */
#define HM_MAX_COSIGNATURES 64

/* A decoded signed transaction. Owns both decoded messages. */
typedef struct {
    Hallmark__SignedTx *stx; /* outer envelope (signature, cosignatures) */
    Hallmark__Tx *tx;        /* decoded from stx->tx */
    uint8_t txid[32];
} hm_tx_t;

/* Decode SignedTx bytes (<= HM_MAX_TX_BYTES) and the Tx inside; compute the
 * txid. Checks shape only (field lengths, a body is set); no signatures.
 * Out: *out (caller owns; hm_tx_free). */
int hm_tx_decode(hm_tx_t **out, const uint8_t *data, size_t len) HM_WUR;

/* Stateless checks: chain id equals `chain_id`, the signer's signature and
 * every co-signature verify over the txid, co-signers are distinct and differ
 * from the signer. Returns HM_OK, HM_ERR_WRONG_CHAIN or HM_ERR_BAD_SIGNATURE. */
int hm_tx_verify(const hm_tx_t *tx, const uint8_t chain_id[HM_CHAIN_ID_LEN]) HM_WUR;

/* Decode and verify in one step (mempool admission). */
int hm_tx_decode_verify(hm_tx_t **out, const uint8_t *data, size_t len,
                        const uint8_t chain_id[HM_CHAIN_ID_LEN]) HM_WUR;

void hm_tx_free(hm_tx_t *tx);

/* txid of Tx bytes. */
void hm_txid(uint8_t out[32], const uint8_t *tx_bytes, size_t len);

/* Sign `tx` (whose chain_id, signer and nonce the caller filled; signer must
 * match seckey) and produce SignedTx bytes. Out: *out (caller frees with
 * free()), *out_len, and txid if non-NULL. */
int hm_tx_sign(uint8_t **out, size_t *out_len, uint8_t txid[32], const Hallmark__Tx *tx,
               const uint8_t seckey[32]) HM_WUR;

/* Add a co-signature by seckey to SignedTx bytes; returns new bytes.
 * Out: *out (caller frees with free()), *out_len. */
int hm_tx_cosign(uint8_t **out, size_t *out_len, const uint8_t *signed_tx, size_t len,
                 const uint8_t seckey[32]) HM_WUR;

/* A short stable name of the tx body kind ("mint_certificate", ...). */
const char *hm_tx_kind_name(const Hallmark__Tx *tx);

#endif
