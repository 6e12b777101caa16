/* consensus/cert — commit certificates (DESIGN §6): build one from
 * collected COMMIT signatures, verify one against a validator set.
 *
 * A CommitCertificate {height, view, block_hash, signatures[]} proves a block
 * final: at least 2f+1 signatures of distinct validators of the given set,
 * each a BIP340 signature over the COMMIT vote message (consensus/vote.h)
 * (chain_id, PHASE_COMMIT, view, height, block_hash).
 *
 * The auditor links this module: it depends on lib/ and consensus/valset,
 * consensus/vote only, never on the replica core. */
#ifndef HM_CONSENSUS_CERT_H
#define HM_CONSENSUS_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/valset.h"
#include "lib/codec.h"
#include "lib/err.h"

/* Why a certificate was refused. Stable: tests assert them. */
typedef enum {
    CERT_OK = 0,
    CERT_MALFORMED,           /* missing cert, hash or signature of the wrong length */
    CERT_WRONG_HEIGHT,        /* not the height the caller expects */
    CERT_WRONG_HASH,          /* not the block hash the caller expects */
    CERT_UNKNOWN_VALIDATOR,   /* a signer is not in the set */
    CERT_DUPLICATE_VALIDATOR, /* a validator signs twice */
    CERT_BAD_SIGNATURE,       /* a signature does not verify */
    CERT_TOO_FEW,             /* fewer than 2f+1 signatures */
    CERT_TOO_MANY,            /* more signatures than validators */
} cert_reason_t;

/* Stable name of a reason, e.g. "CERT_TOO_FEW". */
const char *cert_reason_name(cert_reason_t r);

/* Verify cert for chain_id against vs. When expect_height is non-NULL the
 * cert must be for that height; when expect_hash is non-NULL, for that block
 * hash. Every signature is checked (none skipped once the quorum is met).
 * Returns HM_OK, or HM_ERR_PROOF with *reason set (reason may be NULL).
 * In: cert is borrowed for the call only. */
int cert_verify(cert_reason_t *reason, const Hallmark__CommitCertificate *cert,
                const uint8_t chain_id[32], const valset_t *vs, const uint64_t *expect_height,
                const uint8_t *expect_hash) HM_WUR;

/* Decode CommitCertificate bytes and verify them as cert_verify does.
 * A decode failure is HM_ERR_PROOF with CERT_MALFORMED. */
int cert_verify_bytes(cert_reason_t *reason, const uint8_t *data, size_t len,
                      const uint8_t chain_id[32], const valset_t *vs,
                      const uint64_t *expect_height, const uint8_t *expect_hash) HM_WUR;

/* Encode a certificate from n (validator pubkey, signature) pairs, in the
 * order given. Checks nothing (verify it if the signatures came from the
 * network). Out: *out (caller frees with free()), *out_len. */
int cert_build(uint8_t **out, size_t *out_len, uint64_t height, uint64_t view,
               const uint8_t block_hash[32], const uint8_t (*pks)[32], const uint8_t (*sigs)[64],
               size_t n) HM_WUR;

#endif
