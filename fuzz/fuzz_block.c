/* Harness: Block decode (consensus proposals and catch-up). Invariants: the
 * block hash is the tagged hash of the exact header bytes; a re-encoded block
 * decodes to the same hash and txids. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/block.h"
#include "lib/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hm_block_t *b = NULL;
    if (hm_block_decode(&b, data, size) != HM_OK) {
        HM_FUZZ_CHECK(b == NULL);
        return 0;
    }
    uint8_t h[32];
    hm_tagged_hash(h, HM_TAG_HEADER, b->block->header.data, b->block->header.len);
    HM_FUZZ_CHECK(memcmp(h, b->hash, 32) == 0);
    hm_hash32_t *ids = NULL;
    int rc = hm_block_txids(&ids, b->block);
    HM_FUZZ_CHECK(rc == HM_OK || rc == HM_ERR_INVALID);
    int root_rc = hm_block_check_tx_root(b);
    HM_FUZZ_CHECK(rc == HM_OK ? (root_rc == HM_OK || root_rc == HM_ERR_PROOF)
                              : root_rc == HM_ERR_INVALID);

    uint8_t *re = NULL;
    size_t relen = 0;
    HM_FUZZ_CHECK(hm_codec_encode(&re, &relen, &b->block->base) == HM_OK);
    hm_block_t *b2 = NULL;
    HM_FUZZ_CHECK(hm_block_decode(&b2, re, relen) == HM_OK);
    HM_FUZZ_CHECK(memcmp(b->hash, b2->hash, 32) == 0);
    HM_FUZZ_CHECK(b2->block->n_txs == b->block->n_txs);
    if (rc == HM_OK) {
        hm_hash32_t *ids2 = NULL;
        HM_FUZZ_CHECK(hm_block_txids(&ids2, b2->block) == HM_OK);
        HM_FUZZ_CHECK(b->block->n_txs == 0 || memcmp(ids, ids2, b->block->n_txs * 32) == 0);
        free(ids2);
    }
    hm_block_free(b2);
    free(re);
    free(ids);
    hm_block_free(b);
    return 0;
}
