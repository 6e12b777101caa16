/* consensus/valset — the validator set: an ordered list of 32-byte x-only
 * consensus keys (order from genesis), its size arithmetic (N, f, quorum),
 * the primary of a view and the set's hash carried in every header:
 *
 *   valset_hash = H_hallmark/valset(u32be(N) || pk_0 || ... || pk_{N-1})
 *
 * Owns only the copy of the keys it was given. Depends on lib/ only; knows
 * nothing of the replica core, so wallet/audit can link it alone. */
#ifndef HM_CONSENSUS_VALSET_H
#define HM_CONSENSUS_VALSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Largest set accepted (bounds per-validator arrays in the core). */
#define VALSET_MAX 256u

typedef struct valset {
    size_t n;              /* number of validators, 1..VALSET_MAX */
    uint8_t (*pks)[32];    /* owned, n keys in genesis order */
    uint8_t hash[32];      /* valset_hash of the list */
} valset_t;

/* Build a set from n keys (copied). HM_ERR_INVALID when n is 0 or above
 * VALSET_MAX, a key is not a valid x-only key, or two keys are equal.
 * Out: *out (caller owns; valset_free). */
int valset_new(valset_t **out, const uint8_t (*pks)[32], size_t n) HM_WUR;

/* Release a set; accepts NULL and sets *vs to NULL. */
void valset_free(valset_t **vs);

/* H_hallmark/valset over n keys, without building a set. */
void valset_hash(uint8_t out[32], const uint8_t (*pks)[32], size_t n);

/* Index of pk in the set, or -1. */
int valset_index(const valset_t *vs, const uint8_t pk[32]);

/* f = (N-1)/3: the faults tolerated. */
size_t valset_f(const valset_t *vs);

/* 2f+1: votes of distinct validators that make a quorum. */
size_t valset_quorum(const valset_t *vs);

/* Index of the primary of `view`: view mod N. */
size_t valset_primary(const valset_t *vs, uint64_t view);

#endif
