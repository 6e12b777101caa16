/* lib/block — see block.h. */
#include "lib/block.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/hash.h"
#include "lib/tx.h"

void hm_block_hash(uint8_t out[32], const uint8_t *header_bytes, size_t len)
{
    hm_tagged_hash(out, HM_TAG_HEADER, header_bytes, len);
}

int hm_header_decode(Hallmark__Header **out, const uint8_t *data, size_t len)
{
    Hallmark__Header *h = NULL;
    int rc = hm_decode_header(&h, data, len);
    if (rc != HM_OK)
        return rc;
    if (h->chain_id.len != 32 || h->prev_hash.len != 32 || h->tx_root.len != 32 ||
        h->results_root.len != 32 || h->state_root.len != 32 ||
        h->validator_set_hash.len != 32 || h->proposer.len != 32) {
        hm_free_header(h);
        return HM_ERR_INVALID;
    }
    *out = h;
    return HM_OK;
}

void hm_block_free(hm_block_t *b)
{
    if (!b)
        return;
    hm_free_header(b->header);
    hm_free_block(b->block);
    free(b);
}

int hm_block_decode(hm_block_t **out, const uint8_t *data, size_t len)
{
    hm_block_t *b = calloc(1, sizeof *b);
    if (!b)
        return HM_ERR_NOMEM;
    int rc = hm_decode_block(&b->block, data, len);
    if (rc != HM_OK)
        goto done;
    rc = HM_ERR_INVALID;
    if (b->block->n_txs > HM_MAX_BLOCK_TXS)
        goto done;
    for (size_t i = 0; i < b->block->n_txs; i++)
        if (b->block->txs[i].len == 0 || b->block->txs[i].len > HM_MAX_TX_BYTES)
            goto done;
    rc = hm_header_decode(&b->header, b->block->header.data, b->block->header.len);
    if (rc != HM_OK)
        goto done;
    hm_block_hash(b->hash, b->block->header.data, b->block->header.len);
done:
    if (rc == HM_OK)
        *out = b;
    else
        hm_block_free(b);
    return rc;
}

int hm_block_txids(hm_hash32_t **out, const Hallmark__Block *block)
{
    *out = NULL;
    if (block->n_txs == 0)
        return HM_OK;
    hm_hash32_t *ids = malloc(block->n_txs * sizeof *ids);
    if (!ids)
        return HM_ERR_NOMEM;
    for (size_t i = 0; i < block->n_txs; i++) {
        Hallmark__SignedTx *stx = NULL;
        int rc = hm_decode_signed_tx(&stx, block->txs[i].data, block->txs[i].len);
        if (rc != HM_OK) {
            free(ids);
            return HM_ERR_INVALID;
        }
        hm_txid(ids[i], stx->tx.data, stx->tx.len);
        hm_free_signed_tx(stx);
    }
    *out = ids;
    return HM_OK;
}

int hm_block_check_tx_root(const hm_block_t *b)
{
    hm_hash32_t *ids = NULL;
    int rc = hm_block_txids(&ids, b->block);
    if (rc != HM_OK)
        return rc;
    uint8_t root[32];
    hm_merkle_root(root, (const hm_hash32_t *)ids, b->block->n_txs);
    free(ids);
    return memcmp(root, b->header->tx_root.data, 32) == 0 ? HM_OK : HM_ERR_PROOF;
}

void hm_result_leaf(uint8_t out[32], const uint8_t txid[32], uint32_t code)
{
    uint8_t c[4];
    hm_put_u32be(c, code);
    hm_tagged_hash2(out, HM_TAG_RESULT, txid, 32, c, 4);
}

int hm_results_root(uint8_t root[32], const Hallmark__TxResult *const *results, size_t n)
{
    hm_hash32_t *leaves = NULL;
    if (n) {
        leaves = malloc(n * sizeof *leaves);
        if (!leaves)
            return HM_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (results[i]->txid.len != 32) {
            free(leaves);
            return HM_ERR_INVALID;
        }
        hm_result_leaf(leaves[i], results[i]->txid.data, results[i]->code);
    }
    hm_merkle_root(root, (const hm_hash32_t *)leaves, n);
    free(leaves);
    return HM_OK;
}

int hm_block_build(uint8_t **out, size_t *out_len, uint8_t hash[32], const Hallmark__Header *header,
                   const ProtobufCBinaryData *txs, size_t n_txs)
{
    uint8_t *hb = NULL;
    size_t hlen = 0;
    int rc = hm_codec_encode(&hb, &hlen, &header->base);
    if (rc != HM_OK)
        return rc;
    Hallmark__Block blk = HALLMARK__BLOCK__INIT;
    blk.header.data = hb;
    blk.header.len = hlen;
    blk.txs = (ProtobufCBinaryData *)txs;
    blk.n_txs = n_txs;
    rc = hm_codec_encode(out, out_len, &blk.base);
    if (rc == HM_OK && *out_len > HM_MAX_BLOCK_BYTES) {
        free(*out);
        *out = NULL;
        rc = HM_ERR_TOO_LARGE;
    }
    if (rc == HM_OK && hash)
        hm_block_hash(hash, hb, hlen);
    free(hb);
    return rc;
}
