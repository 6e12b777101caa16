/* wallet/keystore — the wallet's encrypted key store (DESIGN §2).
 *
 * A directory (mode 0700) holding, per key NAME:
 *   NAME.key   the 32-byte BIP340 secret key sealed by lib/seal (scrypt +
 *              AES-256-GCM under the key's passphrase), mode 0600;
 *   NAME.json  public facts, so `list`/`show` need no passphrase (0600):
 *              {"version":1,"name":NAME,"pubkey":"<64 hex>","gid":"<40 hex>"}
 *              ("gid" only once known: the GID the key acts for).
 * Names match [A-Za-z0-9._-]{1,64} and do not start with '.'.
 *
 * Opening a key checks that the sealed secret derives the public key recorded
 * in NAME.json, so a swapped or edited file is an error, not a silent wrong
 * key. A wrong passphrase and a tampered NAME.key both report HM_ERR_AUTH
 * (lib/seal cannot tell them apart by design).
 *
 * Secrets handed out (seckey arrays) are the caller's to wipe (hm_wipe).
 * Depends on lib/ (seal, keys, hex) and jansson; never on node/. */
#ifndef HM_WALLET_KEYSTORE_H
#define HM_WALLET_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/keys.h"
#include "lib/seal.h"
#include "lib/tx.h"
#include "wallet/util.h"

#define WALLET_KEY_NAME_MAX 64
/* The environment variable naming the keystore directory. */
#define WALLET_ENV_DIR "HALLMARK_WALLET_DIR"
/* TEST ONLY: when set to "1", new seals use N = 2^10 instead of 2^15 so test
 * suites run fast. Never set it for real keys. */
#define WALLET_ENV_FAST_KDF "HALLMARK_TEST_FAST_KDF"

typedef struct {
    char name[WALLET_KEY_NAME_MAX + 1];
    uint8_t pubkey[HM_PUBKEY_LEN];
    bool has_gid;
    uint8_t gid[HM_GID_LEN];
} wallet_keyinfo_t;

/* A keystore handle: the directory and the seal parameters for new seals.
 * Owned by the caller of wallet_keystore_open; wallet_keystore_free. */
typedef struct {
    char *dir;
    hm_seal_params_t params;
} wallet_keystore_t;

/* True when name is an acceptable key name. */
bool wallet_key_name_is_valid(const char *name);

/* Resolve the keystore directory: flag_dir if non-NULL, else
 * $HALLMARK_WALLET_DIR, else $HOME/.hallmark/wallet. Out: *out (malloc'd;
 * caller frees). */
int wallet_keystore_dir(char **out, const char *flag_dir, wallet_diag_t *d) HM_WUR;

/* Open the keystore at dir, creating it (and missing parents) with mode 0700
 * when `create`. Warns on stderr when the directory is readable by others.
 * New seals use production parameters unless $HALLMARK_TEST_FAST_KDF=1.
 * Out: *out (caller owns; wallet_keystore_free). */
int wallet_keystore_open(wallet_keystore_t **out, const char *dir, bool create,
                         wallet_diag_t *d) HM_WUR;
void wallet_keystore_free(wallet_keystore_t *ks);

/* Generate a key and store it under name (which must not exist).
 * Out: *info (may be NULL). */
int wallet_key_create(wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                      const char *pass, size_t pass_len, wallet_diag_t *d) HM_WUR;

/* Store an existing secret key under name (which must not exist), sealed
 * under pass. Out: *info (may be NULL). */
int wallet_key_import_secret(wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                             const uint8_t seckey[HM_SECKEY_LEN], const char *pass,
                             size_t pass_len, wallet_diag_t *d) HM_WUR;

/* Read the public facts of name (no passphrase). HM_ERR_NOT_FOUND when the
 * key does not exist. */
int wallet_key_info(const wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                    wallet_diag_t *d) HM_WUR;

/* List every key, sorted by name. Entries whose public file is unreadable
 * are reported on stderr and skipped. Out: *out (malloc'd array, caller
 * frees; NULL when empty), *n. */
int wallet_key_list(const wallet_keystore_t *ks, wallet_keyinfo_t **out, size_t *n,
                    wallet_diag_t *d) HM_WUR;

/* Open the sealed secret of name. Out: seckey (caller wipes), *info (may be
 * NULL). Returns HM_ERR_AUTH for a wrong passphrase or a tampered file,
 * HM_ERR_CORRUPT when the secret does not match the public file. */
int wallet_key_unlock(const wallet_keystore_t *ks, uint8_t seckey[HM_SECKEY_LEN],
                      wallet_keyinfo_t *info, const char *name, const char *pass,
                      size_t pass_len, wallet_diag_t *d) HM_WUR;

/* Re-seal name under a new passphrase (the old one must open it). */
int wallet_key_change_passphrase(wallet_keystore_t *ks, const char *name, const char *old_pass,
                                 size_t old_len, const char *new_pass, size_t new_len,
                                 wallet_diag_t *d) HM_WUR;

/* Record (gid non-NULL) or forget (NULL) the GID the key acts for. */
int wallet_key_set_gid(wallet_keystore_t *ks, const char *name, const uint8_t *gid,
                       wallet_diag_t *d) HM_WUR;

/* The sealed file of name as it is on disk (still encrypted), for export.
 * Out: *out (reset first). */
int wallet_key_export_sealed(const wallet_keystore_t *ks, hm_buf_t *out, const char *name,
                             wallet_diag_t *d) HM_WUR;

/* Import a sealed key image (as written by export): open it with pass (its
 * passphrase), then store it under name re-sealed with this keystore's
 * parameters and the same passphrase. Out: *info (may be NULL). */
int wallet_key_import_sealed(wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                             const uint8_t *data, size_t len, const char *pass, size_t pass_len,
                             wallet_diag_t *d) HM_WUR;

#endif
