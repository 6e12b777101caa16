/* tests/unit/txfixture.h — a signed transaction for tests of the admission
 * path (node/mempool, node/verifier). Header-only, like testutil.h;
 * include it after testutil.h. */
#ifndef HM_TESTS_TXFIXTURE_H
#define HM_TESTS_TXFIXTURE_H

#include "lib/keys.h"
#include "lib/tx.h"

/* A Scrap tx signed by a fresh key for chain_id. Out: bytes (free()), its
 * txid, and the key's secret when sk_out is not NULL. */
static inline ProtobufCBinaryData tu_scrap_tx(const uint8_t *chain_id, uint64_t nonce,
                                              uint8_t txid[32], uint8_t sk_out[32])
{
    uint8_t sk[32], pk[32];
    assert_int_equal(hm_key_generate(sk, pk), HM_OK);
    Hallmark__Tx tx = HALLMARK__TX__INIT;
    Hallmark__Scrap scrap = HALLMARK__SCRAP__INIT;
    char *serials[] = {"S"};
    scrap.serials = serials;
    scrap.n_serials = 1;
    tx.chain_id.data = (uint8_t *)chain_id;
    tx.chain_id.len = 32;
    tx.signer.data = pk;
    tx.signer.len = 32;
    tx.nonce = nonce;
    tx.body_case = HALLMARK__TX__BODY_SCRAP;
    tx.scrap = &scrap;
    ProtobufCBinaryData b;
    assert_int_equal(hm_tx_sign(&b.data, &b.len, txid, &tx, sk), HM_OK);
    if (sk_out)
        memcpy(sk_out, sk, 32);
    return b;
}

#endif
