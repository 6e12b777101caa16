/* lib/keys — see keys.h. */
#include "lib/keys.h"

#include "lib/hash.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static secp256k1_context *hm_secp;
static pthread_once_t hm_secp_once = PTHREAD_ONCE_INIT;

static void hm_secp_init(void)
{
    hm_secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!hm_secp) {
        fprintf(stderr, "hallmark: fatal: secp256k1_context_create failed\n");
        abort();
    }
    uint8_t seed[32];
    /* Randomisation only blinds side channels; a failure is not fatal. */
    if (RAND_bytes(seed, sizeof seed) == 1 && !secp256k1_context_randomize(hm_secp, seed))
        fprintf(stderr, "hallmark: warning: secp256k1 context randomisation failed\n");
    OPENSSL_cleanse(seed, sizeof seed);
}

static const secp256k1_context *hm_ctx(void)
{
    pthread_once(&hm_secp_once, hm_secp_init);
    return hm_secp;
}

int hm_random(void *out, size_t n)
{
    if (n > (size_t)INT32_MAX)
        return HM_ERR_INVALID;
    return RAND_bytes(out, (int)n) == 1 ? HM_OK : HM_ERR_CRYPTO;
}

void hm_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

int hm_key_pubkey(uint8_t pubkey[HM_PUBKEY_LEN], const uint8_t seckey[HM_SECKEY_LEN])
{
    secp256k1_keypair kp;
    secp256k1_xonly_pubkey xpk;
    int rc = HM_ERR_INVALID;
    if (!secp256k1_keypair_create(hm_ctx(), &kp, seckey))
        goto done;
    if (!secp256k1_keypair_xonly_pub(hm_ctx(), &xpk, NULL, &kp) ||
        !secp256k1_xonly_pubkey_serialize(hm_ctx(), pubkey, &xpk)) {
        rc = HM_ERR_CRYPTO;
        goto done;
    }
    rc = HM_OK;
done:
    hm_wipe(&kp, sizeof kp);
    return rc;
}

int hm_key_generate(uint8_t seckey[HM_SECKEY_LEN], uint8_t pubkey[HM_PUBKEY_LEN])
{
    /* A random 32-byte string is a valid key except with negligible
     * probability; retry rather than reason about it. */
    for (int tries = 0; tries < 16; tries++) {
        int rc = hm_random(seckey, HM_SECKEY_LEN);
        if (rc != HM_OK)
            return rc;
        if (hm_key_pubkey(pubkey, seckey) == HM_OK)
            return HM_OK;
    }
    hm_wipe(seckey, HM_SECKEY_LEN);
    return HM_ERR_CRYPTO;
}

bool hm_pubkey_is_valid(const uint8_t pubkey[HM_PUBKEY_LEN])
{
    secp256k1_xonly_pubkey xpk;
    return secp256k1_xonly_pubkey_parse(hm_ctx(), &xpk, pubkey) == 1;
}

int hm_sign(uint8_t sig[HM_SIG_LEN], const uint8_t seckey[HM_SECKEY_LEN], const uint8_t msg32[32],
            const uint8_t *aux_rand32)
{
    secp256k1_keypair kp;
    uint8_t aux[32];
    int rc = HM_ERR_INVALID;
    if (!secp256k1_keypair_create(hm_ctx(), &kp, seckey))
        goto done;
    if (aux_rand32) {
        memcpy(aux, aux_rand32, sizeof aux);
    } else if ((rc = hm_random(aux, sizeof aux)) != HM_OK) {
        goto done;
    }
    rc = secp256k1_schnorrsig_sign32(hm_ctx(), sig, msg32, &kp, aux) ? HM_OK : HM_ERR_CRYPTO;
done:
    hm_wipe(&kp, sizeof kp);
    hm_wipe(aux, sizeof aux);
    return rc;
}

/* Parsing an x-only key costs a field square root, ~10% of a
 * verification; a ledger's txs come from few signers, so each thread keeps
 * its last parsed keys (direct-mapped by the key's first bytes). Only keys
 * that parsed are kept and a hit compares all 32 bytes, so the answer is
 * exactly what parsing would give. Per thread: no locking, and a thread
 * never sees another's entries. */
#define PK_CACHE_SLOTS 256
typedef struct {
    bool used;
    uint8_t pk[HM_PUBKEY_LEN];
    secp256k1_xonly_pubkey xpk;
} pk_slot_t;
static _Thread_local pk_slot_t pk_cache[PK_CACHE_SLOTS];

static bool parse_xonly_cached(secp256k1_xonly_pubkey *xpk, const uint8_t pubkey[HM_PUBKEY_LEN])
{
    pk_slot_t *e = &pk_cache[(pubkey[0] | (unsigned)pubkey[1] << 8) % PK_CACHE_SLOTS];
    if (e->used && memcmp(e->pk, pubkey, HM_PUBKEY_LEN) == 0) {
        *xpk = e->xpk;
        return true;
    }
    if (!secp256k1_xonly_pubkey_parse(hm_ctx(), xpk, pubkey))
        return false;
    e->used = true;
    memcpy(e->pk, pubkey, HM_PUBKEY_LEN);
    e->xpk = *xpk;
    return true;
}

bool hm_verify(const uint8_t sig[HM_SIG_LEN], const uint8_t *msg, size_t msglen,
               const uint8_t pubkey[HM_PUBKEY_LEN])
{
    secp256k1_xonly_pubkey xpk;
    if (!parse_xonly_cached(&xpk, pubkey))
        return false;
    return secp256k1_schnorrsig_verify(hm_ctx(), sig, msg, msglen, &xpk) == 1;
}

static int hm_ecdh_hash(unsigned char *output, const unsigned char *x32, const unsigned char *y32,
                        void *data)
{
    (void)data;
    uint8_t point[33];
    point[0] = (uint8_t)(0x02 | (y32[31] & 1));
    memcpy(point + 1, x32, 32);
    hm_sha256(output, point, sizeof point);
    OPENSSL_cleanse(point, sizeof point);
    return 1;
}

int hm_ecdh(uint8_t out[32], const uint8_t seckey[HM_SECKEY_LEN], const uint8_t peer33[33])
{
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_parse(hm_ctx(), &pk, peer33, 33))
        return HM_ERR_INVALID;
    return secp256k1_ecdh(hm_ctx(), out, &pk, seckey, hm_ecdh_hash, NULL) ? HM_OK : HM_ERR_INVALID;
}

int hm_key_pubkey_compressed(uint8_t out33[33], const uint8_t seckey[HM_SECKEY_LEN])
{
    secp256k1_pubkey pk;
    size_t len = 33;
    if (!secp256k1_ec_pubkey_create(hm_ctx(), &pk, seckey))
        return HM_ERR_INVALID;
    if (!secp256k1_ec_pubkey_serialize(hm_ctx(), out33, &len, &pk, SECP256K1_EC_COMPRESSED))
        return HM_ERR_CRYPTO;
    return HM_OK;
}
