/* consensus/vote — see vote.h. Depends on lib/ only. */
#include "consensus/vote.h"

#include <string.h>

#include "lib/buf.h"
#include "lib/hash.h"
#include "lib/keys.h"

void pbft_vote_msg(uint8_t msg32[32], const uint8_t chain_id[32], uint8_t phase, uint64_t view,
                   uint64_t height, const uint8_t digest[32])
{
    uint8_t m[32 + 1 + 8 + 8 + 32];
    memcpy(m, chain_id, 32);
    m[32] = phase;
    hm_put_u64be(m + 33, view);
    hm_put_u64be(m + 41, height);
    memcpy(m + 49, digest, 32);
    hm_tagged_hash(msg32, HM_TAG_VOTE, m, sizeof m);
}

static int pbft_sign_msg(uint8_t sig[64], const uint8_t seckey[32], const uint8_t msg[32],
                         bool deterministic)
{
    static const uint8_t zero_aux[32];
    return hm_sign(sig, seckey, msg, deterministic ? zero_aux : NULL);
}

int pbft_vote_sign(uint8_t sig[64], const uint8_t seckey[32], const uint8_t chain_id[32],
                   uint8_t phase, uint64_t view, uint64_t height, const uint8_t digest[32],
                   bool deterministic)
{
    uint8_t msg[32];
    pbft_vote_msg(msg, chain_id, phase, view, height, digest);
    return pbft_sign_msg(sig, seckey, msg, deterministic);
}

int pbft_body_sign(uint8_t sig[64], const uint8_t seckey[32], const char *tag, const uint8_t *body,
                   size_t len, bool deterministic)
{
    uint8_t msg[32];
    hm_tagged_hash(msg, tag, body, len);
    return pbft_sign_msg(sig, seckey, msg, deterministic);
}

bool pbft_vote_verify(const uint8_t sig[64], const uint8_t pk[32], const uint8_t chain_id[32],
                      uint8_t phase, uint64_t view, uint64_t height, const uint8_t digest[32])
{
    uint8_t msg[32];
    pbft_vote_msg(msg, chain_id, phase, view, height, digest);
    return hm_verify(sig, msg, 32, pk);
}
