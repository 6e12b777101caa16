/* lib/merkle — see merkle.h. Recursive over index ranges; depth is at most
 * 64 because sizes are size_t. */
#include "lib/merkle.h"

#include <string.h>

#include "lib/hash.h"

void hm_merkle_leaf_hash(uint8_t out[32], const uint8_t value[32])
{
    hm_tagged_hash(out, HM_TAG_LEAF, value, 32);
}

void hm_merkle_node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32])
{
    hm_tagged_hash2(out, HM_TAG_NODE, left, 32, right, 32);
}

/* Largest power of two strictly below n (n >= 2). */
static size_t hm_split(size_t n)
{
    size_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static void hm_mth(uint8_t out[32], const hm_hash32_t *v, size_t n)
{
    if (n == 1) {
        hm_merkle_leaf_hash(out, v[0]);
        return;
    }
    size_t k = hm_split(n);
    uint8_t l[32], r[32];
    hm_mth(l, v, k);
    hm_mth(r, v + k, n - k);
    hm_merkle_node_hash(out, l, r);
}

void hm_merkle_root(uint8_t root[32], const hm_hash32_t *values, size_t n)
{
    if (n == 0) {
        memset(root, 0, 32);
        return;
    }
    hm_mth(root, values, n);
}

/* Appends the path for index m within v[0..n) and returns its length. */
static size_t hm_path(hm_hash32_t *path, const hm_hash32_t *v, size_t n, size_t m)
{
    if (n == 1)
        return 0;
    size_t k = hm_split(n);
    size_t len;
    if (m < k) {
        len = hm_path(path, v, k, m);
        hm_mth(path[len], v + k, n - k);
    } else {
        len = hm_path(path, v + k, n - k, m - k);
        hm_mth(path[len], v, k);
    }
    return len + 1;
}

int hm_merkle_prove(hm_hash32_t *path, size_t *path_len, const hm_hash32_t *values, size_t n,
                    size_t index)
{
    if (index >= n)
        return HM_ERR_INVALID;
    *path_len = hm_path(path, values, n, index);
    return HM_OK;
}

bool hm_merkle_verify(const uint8_t root[32], const uint8_t value[32], uint64_t index,
                      uint64_t size, const hm_hash32_t *path, size_t path_len)
{
    if (index >= size || path_len > HM_MERKLE_MAX_DEPTH)
        return false;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[32];
    hm_merkle_leaf_hash(r, value);
    for (size_t i = 0; i < path_len; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            hm_merkle_node_hash(r, path[i], r);
            if (!(fn & 1)) {
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            hm_merkle_node_hash(r, r, path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, 32) == 0;
}
