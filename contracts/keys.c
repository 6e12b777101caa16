/* contracts/keys — state key layout, record ids and history links
 * (DESIGN §5). Pure functions: no state. Depends on lib/hash, lib/buf. */
#include <string.h>

#include "contracts/contracts.h"
#include "lib/buf.h"
#include "lib/hash.h"

int contracts_key(contracts_key_t *k, const char *prefix, const void *a, size_t alen,
                  const void *b, size_t blen)
{
    size_t plen = strlen(prefix);
    if (plen > CONTRACTS_KEY_MAX || alen > CONTRACTS_KEY_MAX - plen ||
        blen > CONTRACTS_KEY_MAX - plen - alen)
        return HM_ERR_TOO_LARGE;
    memcpy(k->b, prefix, plen);
    if (alen)
        memcpy(k->b + plen, a, alen);
    if (blen)
        memcpy(k->b + plen + alen, b, blen);
    k->len = plen + alen + blen;
    return HM_OK;
}

int contracts_key_identity(contracts_key_t *k, const uint8_t gid[HM_GID_LEN])
{
    return contracts_key(k, "i/", gid, HM_GID_LEN, NULL, 0);
}

int contracts_key_recipe(contracts_key_t *k, const uint8_t recipe_hash[32])
{
    return contracts_key(k, "r/", recipe_hash, 32, NULL, 0);
}

int contracts_key_licence(contracts_key_t *k, const uint8_t licence_id[32])
{
    return contracts_key(k, "l/", licence_id, 32, NULL, 0);
}

int contracts_key_cert(contracts_key_t *k, const uint8_t cert_id[32])
{
    return contracts_key(k, "c/", cert_id, 32, NULL, 0);
}

int contracts_key_part(contracts_key_t *k, const char *serial)
{
    return contracts_key(k, "p/", serial, strlen(serial), NULL, 0);
}

int contracts_key_nonce(contracts_key_t *k, const uint8_t pubkey[32])
{
    return contracts_key(k, "n/", pubkey, 32, NULL, 0);
}

int contracts_key_external_id(contracts_key_t *k, const char *scheme, const char *value)
{
    size_t slen = strlen(scheme);
    int rc = contracts_key(k, "x/", scheme, slen, ":", 1);
    if (rc != HM_OK)
        return rc;
    size_t vlen = strlen(value);
    if (vlen > CONTRACTS_KEY_MAX - k->len)
        return HM_ERR_TOO_LARGE;
    memcpy(k->b + k->len, value, vlen);
    k->len += vlen;
    return HM_OK;
}

int contracts_key_batch(contracts_key_t *k, const uint8_t gid[HM_GID_LEN], const char *batch_id)
{
    return contracts_key(k, "b/", gid, HM_GID_LEN, batch_id, strlen(batch_id));
}

int contracts_key_validators(contracts_key_t *k)
{
    return contracts_key(k, "v/", NULL, 0, NULL, 0);
}

void contracts_gid(uint8_t out[HM_GID_LEN], const uint8_t signer[32], uint64_t nonce)
{
    uint8_t n[8], h[32];
    hm_put_u64be(n, nonce);
    hm_tagged_hash2(h, HM_TAG_GID, signer, 32, n, sizeof n);
    memcpy(out, h, HM_GID_LEN);
}

void contracts_genesis_gid(uint8_t out[HM_GID_LEN], const uint8_t key0[32])
{
    contracts_gid(out, key0, UINT64_MAX);
}

void contracts_licence_id(uint8_t out[32], const uint8_t txid[32])
{
    hm_tagged_hash(out, HM_TAG_LICENCE, txid, 32);
}

void contracts_cert_id(uint8_t out[32], const uint8_t txid[32])
{
    hm_tagged_hash(out, HM_TAG_CERT, txid, 32);
}

void contracts_history_next(uint8_t out[32], const uint8_t prev[32], const uint8_t txid[32])
{
    uint8_t h[32];
    hm_tagged_hash2(h, HM_TAG_HISTORY, prev, 32, txid, 32);
    memcpy(out, h, 32);
}

bool contracts_history_verify(uint64_t len, const uint8_t *head, size_t head_len,
                              const uint8_t (*txids)[32], size_t n)
{
    uint8_t cur[32] = {0};
    if ((uint64_t)n != len)
        return false;
    for (size_t i = 0; i < n; i++)
        contracts_history_next(cur, cur, txids[i]);
    if (n == 0) /* a record never touched by a tx (genesis) */
        return head_len == 0 || (head_len == 32 && memcmp(head, cur, 32) == 0);
    return head_len == 32 && memcmp(head, cur, 32) == 0;
}
