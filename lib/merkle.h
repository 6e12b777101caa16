/* lib/merkle — RFC 6962-style binary Merkle tree over 32-byte leaves
 * (DESIGN §6), used for tx_root and results_root.
 *
 *   leaf  = H_hallmark/leaf(value)            (value: 32 bytes, e.g. a txid)
 *   node  = H_hallmark/node(left || right)
 *   MTH of n > 1 leaves splits at k, the largest power of two below n; an odd
 *   leaf is never duplicated (CVE-2012-2459). The root of no leaves is 32 zero
 *   bytes.
 *
 * Depends on lib/hash. */
#ifndef HM_LIB_MERKLE_H
#define HM_LIB_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define HM_MERKLE_MAX_DEPTH 64

typedef uint8_t hm_hash32_t[32];

void hm_merkle_leaf_hash(uint8_t out[32], const uint8_t value[32]);
void hm_merkle_node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32]);

/* Root over n leaf values (not yet leaf-hashed). */
void hm_merkle_root(uint8_t root[32], const hm_hash32_t *values, size_t n);

/* Inclusion proof of values[index]: fills path[0..*path_len) from the leaf's
 * sibling upward. path must hold HM_MERKLE_MAX_DEPTH entries.
 * HM_ERR_INVALID if index >= n. */
int hm_merkle_prove(hm_hash32_t *path, size_t *path_len, const hm_hash32_t *values, size_t n,
                    size_t index) HM_WUR;

/* True when `value` is the leaf at `index` of a tree of `size` leaves whose
 * root is `root`, by the given path. Any altered input fails. */
bool hm_merkle_verify(const uint8_t root[32], const uint8_t value[32], uint64_t index,
                      uint64_t size, const hm_hash32_t *path, size_t path_len);

#endif
