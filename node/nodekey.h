/* node/nodekey — the node's consensus key file (DESIGN §2): either sealed
 * with a passphrase (lib/seal) or, by operator choice for unattended
 * restarts, plain: 64 lowercase hex digits and a newline, mode 0600.
 * Depends on lib/ only. */
#ifndef HM_NODE_NODEKEY_H
#define HM_NODE_NODEKEY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/keys.h"

#define NODEKEY_MAX_PASSPHRASE 1024

/* Generate a key and write it to path (refuses to overwrite: HM_ERR_EXISTS).
 * pass NULL = plain file. Out: pubkey. */
int nodekey_create(uint8_t pubkey[HM_PUBKEY_LEN], const char *path, const char *pass,
                   size_t pass_len) HM_WUR;

/* Load the key at path. A sealed file needs pass (HM_ERR_AUTH when wrong,
 * HM_ERR_STATE when pass is NULL); a plain one ignores it. Out: seckey
 * (caller wipes with hm_wipe) and pubkey. */
int nodekey_load(uint8_t seckey[HM_SECKEY_LEN], uint8_t pubkey[HM_PUBKEY_LEN], const char *path,
                 const char *pass, size_t pass_len) HM_WUR;

/* Read a passphrase: the first line of the file at path (newline stripped,
 * at most NODEKEY_MAX_PASSPHRASE bytes). Out: *out malloc'd, caller wipes
 * and frees; *len. */
int nodekey_read_passphrase(char **out, size_t *len, const char *path) HM_WUR;

#endif
