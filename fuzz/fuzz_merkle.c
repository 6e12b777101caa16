/* Harness: Merkle inclusion proofs (tx and result inclusion checked by the
 * auditor). Input: root[32] || value[32] || index[8 BE] || size[8 BE] ||
 * path (32-byte entries). Invariants: never crashes on any index/size/path;
 * deterministic; a proof that verifies fails for another value, another
 * root, or a path with one bit flipped. */
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/buf.h"
#include "lib/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 80)
        return 0;
    const uint8_t *root = data, *value = data + 32;
    uint64_t index = hm_get_u64be(data + 64), tree = hm_get_u64be(data + 72);
    size_t n = (size - 80) / 32;
    if (n > HM_MERKLE_MAX_DEPTH + 2)
        n = HM_MERKLE_MAX_DEPTH + 2;
    hm_hash32_t path[HM_MERKLE_MAX_DEPTH + 2];
    memcpy(path, data + 80, n * 32);
    bool ok = hm_merkle_verify(root, value, index, tree, (const hm_hash32_t *)path, n);
    HM_FUZZ_CHECK(ok == hm_merkle_verify(root, value, index, tree, (const hm_hash32_t *)path, n));
    if (!ok)
        return 0;
    uint8_t v2[32], r2[32];
    memcpy(v2, value, 32);
    v2[31] ^= 1;
    memcpy(r2, root, 32);
    r2[0] ^= 0x80;
    HM_FUZZ_CHECK(!hm_merkle_verify(root, v2, index, tree, (const hm_hash32_t *)path, n));
    HM_FUZZ_CHECK(!hm_merkle_verify(r2, value, index, tree, (const hm_hash32_t *)path, n));
    if (n > 0) {
        path[n - 1][7] ^= 4;
        HM_FUZZ_CHECK(!hm_merkle_verify(root, value, index, tree, (const hm_hash32_t *)path, n));
    }
    return 0;
}
