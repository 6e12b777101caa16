/* Harness: SignedTx decode + stateless verification (the mempool's trust
 * boundary). Invariants: decoding is deterministic; re-encoding the outer
 * envelope keeps the signed Tx bytes, hence the txid and the verdict. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/hash.h"
#include "lib/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t chain[32];
    hm_tagged_hash(chain, HM_TAG_GENESIS, "fuzz", 4);
    hm_tx_t *t = NULL;
    int rc = hm_tx_decode(&t, data, size);
    if (rc != HM_OK) {
        HM_FUZZ_CHECK(t == NULL);
        return 0;
    }
    int v1 = hm_tx_verify(t, chain);
    HM_FUZZ_CHECK(v1 == HM_OK || v1 == HM_ERR_WRONG_CHAIN || v1 == HM_ERR_BAD_SIGNATURE);

    uint8_t *re = NULL;
    size_t relen = 0;
    HM_FUZZ_CHECK(hm_codec_encode(&re, &relen, &t->stx->base) == HM_OK);
    hm_tx_t *t2 = NULL;
    HM_FUZZ_CHECK(hm_tx_decode(&t2, re, relen) == HM_OK);
    HM_FUZZ_CHECK(memcmp(t->txid, t2->txid, 32) == 0);
    HM_FUZZ_CHECK(hm_tx_verify(t2, chain) == v1);
    hm_tx_free(t2);
    free(re);
    hm_tx_free(t);
    return 0;
}
