/* lib/keys — BIP340 Schnorr keys and signatures over secp256k1, secure
 * randomness and wiping. The only module that calls libsecp256k1.
 *
 * Keys are raw bytes: 32-byte secret keys, 32-byte x-only public keys,
 * 64-byte signatures. Thread-safe: one shared, randomised, read-only
 * secp256k1 context is created on first use. */
#ifndef HM_LIB_KEYS_H
#define HM_LIB_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define HM_SECKEY_LEN 32
#define HM_PUBKEY_LEN 32
#define HM_SIG_LEN 64

/* Fill out with n bytes from the OS CSPRNG (OpenSSL RAND_bytes). */
int hm_random(void *out, size_t n) HM_WUR;

/* Overwrite n bytes at p with zeros in a way the compiler keeps. */
void hm_wipe(void *p, size_t n);

/* Generate a fresh key pair. Out: seckey (wipe it when done), pubkey. */
int hm_key_generate(uint8_t seckey[HM_SECKEY_LEN], uint8_t pubkey[HM_PUBKEY_LEN]) HM_WUR;

/* Derive the x-only public key of seckey. HM_ERR_INVALID if seckey is zero or
 * not below the group order. */
int hm_key_pubkey(uint8_t pubkey[HM_PUBKEY_LEN], const uint8_t seckey[HM_SECKEY_LEN]) HM_WUR;

/* True when pubkey is a valid x-only key (an x coordinate on the curve). */
bool hm_pubkey_is_valid(const uint8_t pubkey[HM_PUBKEY_LEN]);

/* BIP340-sign the 32-byte msg. aux_rand may be NULL: fresh randomness is
 * drawn (the library's nonce stays deterministic in seckey and msg, aux only
 * hardens it). Out: sig. */
int hm_sign(uint8_t sig[HM_SIG_LEN], const uint8_t seckey[HM_SECKEY_LEN], const uint8_t msg32[32],
            const uint8_t *aux_rand32) HM_WUR;

/* Verify a BIP340 signature over msg (any length, BIP340 variable-length
 * messages; Hallmark always signs 32-byte tagged hashes). False for an
 * invalid key or signature. */
bool hm_verify(const uint8_t sig[HM_SIG_LEN], const uint8_t *msg, size_t msglen,
               const uint8_t pubkey[HM_PUBKEY_LEN]);

/* ECDH on secp256k1 for key envelopes: out = SHA-256 of the compressed
 * shared point, of seckey with the 33-byte compressed point `peer33`. */
int hm_ecdh(uint8_t out[32], const uint8_t seckey[HM_SECKEY_LEN], const uint8_t peer33[33]) HM_WUR;

/* The 33-byte compressed public key of seckey (for ECDH ephemerals). */
int hm_key_pubkey_compressed(uint8_t out33[33], const uint8_t seckey[HM_SECKEY_LEN]) HM_WUR;

#endif
