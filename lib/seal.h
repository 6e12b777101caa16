/* lib/seal — secrets at rest (DESIGN §2): scrypt (OpenSSL EVP_PBE_scrypt)
 * turns a passphrase into an AES-256-GCM key that seals a small secret (a
 * node's consensus key, later the wallet keystore's keys).
 *
 * File format, version 1 (all integers big-endian):
 *
 *   off  len  field
 *     0    6  magic "HMSEAL"
 *     6    1  version = 1
 *     7    1  kdf = 1 (scrypt)
 *     8    1  log2(N)
 *     9    4  r
 *    13    4  p
 *    17   16  salt (random)
 *    33   12  nonce (random)
 *    45    4  ciphertext length L (without the tag)
 *    49    L  ciphertext
 *  49+L   16  GCM tag
 *
 * The 49 header bytes are the GCM additional data, so the KDF parameters are
 * authenticated. A wrong passphrase and a tampered file are indistinguishable
 * by design: both return HM_ERR_AUTH. A file this version cannot read is
 * HM_ERR_UNSUPPORTED; one that is cut short or malformed is HM_ERR_CORRUPT.
 *
 * Also here: writing a file atomically with mode 0600 (temp file in the same
 * directory, fsync, rename), used for sealed and plain key files alike.
 *
 * Depends on lib/err, lib/buf, lib/keys (randomness) and OpenSSL crypto only.
 * No global state; thread-safe. */
#ifndef HM_LIB_SEAL_H
#define HM_LIB_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"

#define HM_SEAL_MAGIC "HMSEAL"
#define HM_SEAL_MAGIC_LEN 6
#define HM_SEAL_VERSION 1
#define HM_SEAL_KDF_SCRYPT 1
#define HM_SEAL_SALT_LEN 16
#define HM_SEAL_NONCE_LEN 12
#define HM_SEAL_TAG_LEN 16
#define HM_SEAL_HEADER_LEN 49
/* The largest secret sealed or opened (a keystore is small). */
#define HM_SEAL_MAX_SECRET (1024u * 1024u)
#define HM_SEAL_MAX_FILE (HM_SEAL_HEADER_LEN + HM_SEAL_MAX_SECRET + HM_SEAL_TAG_LEN)

/* Production scrypt parameters (DESIGN §2: N >= 2^15, r = 8, p = 1). */
#define HM_SEAL_DEFAULT_LOG2_N 15
#define HM_SEAL_DEFAULT_R 8
#define HM_SEAL_DEFAULT_P 1
/* hm_seal refuses parameters below this floor... */
#define HM_SEAL_MIN_LOG2_N 10
/* ...and both directions refuse work above these ceilings, so a crafted file
 * cannot make the opener allocate gigabytes (128 * r * N bytes). */
#define HM_SEAL_MAX_LOG2_N 20
#define HM_SEAL_MAX_R 32
#define HM_SEAL_MAX_P 16
#define HM_SEAL_MAX_KDF_MEM (1024ull * 1024ull * 1024ull)
/* ...and scrypt's work N * r * p (its time) above 2^20 * 8 (32 times the
 * production cost, about 2 s): within the memory ceiling, p = 16 alone would
 * make one open take half a minute. */
#define HM_SEAL_MAX_KDF_WORK ((1ull << 20) * 8ull)

typedef struct {
    uint8_t log2_n; /* N = 2^log2_n */
    uint32_t r;
    uint32_t p;
} hm_seal_params_t;

/* The production parameters (2^15, 8, 1). */
hm_seal_params_t hm_seal_params_default(void);

/* Seal `secret` (len <= HM_SEAL_MAX_SECRET) under the passphrase.
 * params NULL means hm_seal_params_default(); explicit parameters below
 * 2^15 exist for tests only (the floor is HM_SEAL_MIN_LOG2_N).
 * Out: *out receives the whole file image (appended to an empty or reset
 * buffer; caller frees; it holds only ciphertext, no secret).
 * Returns HM_OK, HM_ERR_INVALID (bad params/lengths), HM_ERR_CRYPTO, HM_ERR_NOMEM. */
int hm_seal(hm_buf_t *out, const uint8_t *secret, size_t secret_len, const char *pass,
            size_t pass_len, const hm_seal_params_t *params) HM_WUR;

/* Open a sealed image. Out: *out receives the secret on success only (the
 * caller wipes it: hm_buf_free_secure). In: data/len, untrusted.
 * Returns HM_OK, HM_ERR_AUTH (wrong passphrase or tampered bytes),
 * HM_ERR_CORRUPT (truncated / bad lengths / bad magic), HM_ERR_UNSUPPORTED
 * (unknown version or kdf), HM_ERR_LIMIT (kdf cost over the ceilings),
 * HM_ERR_CRYPTO, HM_ERR_NOMEM. */
int hm_unseal(hm_buf_t *out, const uint8_t *data, size_t len, const char *pass,
              size_t pass_len) HM_WUR;

/* True when data starts with the seal magic (a sealed file, any version). */
bool hm_seal_is_sealed(const uint8_t *data, size_t len);

/* Write data to path atomically with mode 0600: a temporary file in the same
 * directory, fsync, rename over path, fsync of the directory. On failure the
 * old file (if any) is untouched and the temporary is removed.
 * Returns HM_OK or HM_ERR_IO. */
int hm_seal_write_atomic(const char *path, const uint8_t *data, size_t len) HM_WUR;

/* Read a whole regular file of at most max_len bytes into *out (reset first).
 * Returns HM_OK, HM_ERR_NOT_FOUND, HM_ERR_TOO_LARGE, HM_ERR_IO. */
int hm_seal_read_file(hm_buf_t *out, const char *path, size_t max_len) HM_WUR;

/* Seal and write to path (0600, atomic). */
int hm_seal_write_file(const char *path, const uint8_t *secret, size_t secret_len,
                       const char *pass, size_t pass_len,
                       const hm_seal_params_t *params) HM_WUR;

/* Read and open path. Errors as hm_seal_read_file and hm_unseal. */
int hm_seal_read_sealed(hm_buf_t *out, const char *path, const char *pass,
                        size_t pass_len) HM_WUR;

#endif
