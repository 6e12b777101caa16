/* wallet/txbuild — one builder per transaction kind of DESIGN §4 (every
 * body of proto/hallmark.proto's Tx): each kind declares its options (which
 * double as its --help) and turns the parsed, untrusted values into a filled
 * Hallmark__Tx body. Also: the Tx header (chain id, signer, nonce, actor) and
 * signing into SignedTx bytes via lib/tx.
 *
 * Everything a builder allocates lives in the caller's wallet_arena_t; the
 * Tx struct itself is the caller's (stack) and points into the arena and
 * into the wallet_txhead_t, which must outlive it. Builders read files named
 * by options (recipe documents, serial lists, reports) and check every value
 * before anything is signed. Depends on lib/ and wallet/{util,cli}. */
#ifndef HM_WALLET_TXBUILD_H
#define HM_WALLET_TXBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/keys.h"
#include "lib/tx.h"
#include "wallet/cli.h"
#include "wallet/util.h"

/* Text field limits (bytes of UTF-8) applied by the builders. */
#define WALLET_MAX_NAME 256
#define WALLET_MAX_REASON 512
#define WALLET_MAX_URI 1024
#define WALLET_MAX_SHORT 128
#define WALLET_MAX_LIST 256 /* repeated scalars (keys, roles, sites, ...) */

typedef struct wallet_txkind wallet_txkind_t;

typedef int (*wallet_txbuild_fn)(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                                 wallet_diag_t *d);

struct wallet_txkind {
    const char *group;  /* "identity", "recipe", ... */
    const char *action; /* "register", "rotate", ... */
    const char *summary;
    Hallmark__Tx__BodyCase body_case;
    bool actor_default; /* act for the key's recorded GID when --actor is absent */
    const wallet_opt_spec_t *opts;
    wallet_txbuild_fn build;
};

/* All kinds, in help order. Out: *n. */
const wallet_txkind_t *wallet_txkinds(size_t *n);
/* The kind of "group action", or NULL. */
const wallet_txkind_t *wallet_txkind_find(const char *group, const char *action);
/* True when some kind has this group. */
bool wallet_txgroup_exists(const char *group);

/* The header every tx carries. */
typedef struct {
    uint8_t chain_id[HM_CHAIN_ID_LEN];
    uint8_t signer[HM_PUBKEY_LEN];
    uint64_t nonce;
    bool has_actor;
    uint8_t actor[HM_GID_LEN];
} wallet_txhead_t;

/* Initialise *tx with h (tx points into h: keep h alive while tx is used). */
void wallet_tx_init(Hallmark__Tx *tx, const wallet_txhead_t *h);

/* Fill tx's body for kind k from the parsed options o (the kind's own table
 * must have been among those parsed). Builders that default a GID to the
 * actor (rotate) read tx->actor, so call wallet_tx_init first.
 * Returns HM_ERR_INVALID with a message naming the option on bad input. */
int wallet_tx_build(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_txkind_t *k,
                    const wallet_opts_t *o, wallet_diag_t *d) HM_WUR;

/* Sign tx with seckey (whose public key must be tx->signer). Out: *out
 * (SignedTx bytes; caller frees with free()), *out_len, txid. */
int wallet_tx_sign(uint8_t **out, size_t *out_len, uint8_t txid[32], const Hallmark__Tx *tx,
                   const uint8_t seckey[HM_SECKEY_LEN], wallet_diag_t *d) HM_WUR;

#endif
