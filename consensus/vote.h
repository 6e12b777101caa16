/* consensus/vote — the fixed-layout vote message every consensus signature
 * covers (DESIGN §6, proto VotePhase):
 *
 *   msg32 = H_hallmark/vote(chain_id[32] || phase[1] || view[8 BE] ||
 *                           height[8 BE] || digest[32])
 *
 * and BIP340 signing/verification over it. Pure functions of their inputs;
 * depends on lib/ only. */
#ifndef HM_CONSENSUS_VOTE_H
#define HM_CONSENSUS_VOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Phases as in proto VotePhase. */
#define PBFT_PHASE_PREPREPARE 1
#define PBFT_PHASE_PREPARE 2
#define PBFT_PHASE_COMMIT 3

/* Out: msg32, the tagged hash above. */
void pbft_vote_msg(uint8_t msg32[32], const uint8_t chain_id[32], uint8_t phase, uint64_t view,
                   uint64_t height, const uint8_t digest[32]);

/* Sign the vote message with seckey. deterministic: use 32 zero bytes as
 * BIP340 auxiliary randomness (simulation, tests) instead of fresh bytes.
 * Returns HM_OK or the error of hm_sign. Out: sig. */
int pbft_vote_sign(uint8_t sig[64], const uint8_t seckey[32], const uint8_t chain_id[32],
                   uint8_t phase, uint64_t view, uint64_t height, const uint8_t digest[32],
                   bool deterministic) HM_WUR;

/* Sign H_tag(body) with seckey (VIEW-CHANGE and NEW-VIEW bodies);
 * deterministic as for pbft_vote_sign. Out: sig. */
int pbft_body_sign(uint8_t sig[64], const uint8_t seckey[32], const char *tag, const uint8_t *body,
                   size_t len, bool deterministic) HM_WUR;

/* True when sig is pk's BIP340 signature over the vote message. */
bool pbft_vote_verify(const uint8_t sig[64], const uint8_t pk[32], const uint8_t chain_id[32],
                      uint8_t phase, uint64_t view, uint64_t height, const uint8_t digest[32]);

#endif
