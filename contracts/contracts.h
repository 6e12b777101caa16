/* contracts — the deterministic record rules of Hallmark (DESIGN §4):
 * identities, recipes, licences, certificates, parts and the validator set,
 * executed over one block's state session (lib/state.h).
 *
 * Execution model (doc/contracts.md has every rule):
 *  - Signatures are checked BEFORE contracts (hm_tx_verify); contracts trust
 *    that t->tx->signer and every co-signer pubkey signed the txid.
 *  - Each tx first meets its signer's nonce ("n/" + pubkey). A wrong nonce is
 *    HM_R_BAD_NONCE and changes nothing. A tx with the right nonce CONSUMES
 *    it whether it is then applied or rejected: the nonce bump is the one
 *    effect a rejected tx has (so a rejected tx cannot be replayed, and a
 *    signer's later txs stay valid).
 *  - A tx's other effects run inside a state savepoint: all of them land
 *    (HM_R_OK) or none (any rejection).
 *  - A rejection is a verdict (a result code of contracts/result.h), never an
 *    error. Errors (negative hm_err_t) mean the state failed (I/O, memory,
 *    corrupt record): the caller must discard the session and stop, because
 *    turning an I/O error into a verdict would make replicas diverge.
 *  - Deterministic: no clocks, no randomness, no floats, no unordered
 *    iteration, checked arithmetic. Time rules use blk->time_ms.
 *
 * Depends on lib/ (state, tx, codec, hash, keys, buf, err) and proto/ only;
 * never on consensus/ or node/. Thread-safety: none beyond lib/state's. */
#ifndef HM_CONTRACTS_CONTRACTS_H
#define HM_CONTRACTS_CONTRACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contracts/result.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/state.h"
#include "lib/tx.h"

/* ------------------------------------------------------------- limits */

#define CONTRACTS_MAX_SERIAL_LEN 128      /* bytes of UTF-8 */
#define CONTRACTS_MAX_SERIALS_PER_TX 4096 /* Mint, AddParts, Transfer, Scrap, Assemble */
#define CONTRACTS_MAX_CHILDREN 4096       /* components of one assembly */
#define CONTRACTS_MAX_CONTROLLER_KEYS 16
#define CONTRACTS_MAX_COSIGNS 16          /* inspector co-signatures per certificate */
#define CONTRACTS_MAX_VALIDATORS 128

/* --------------------------------------------------------- execution */

/* What contracts need to know about the block being executed. */
typedef struct {
    uint8_t chain_id[32];
    uint64_t height; /* the executing height */
    uint64_t time_ms; /* the block's time (DESIGN §6), never a local clock */
} contracts_block_t;

/* Apply one tx (decoded, signatures already verified) to st.
 * Out: *code (HM_R_OK or a rejection). Returns HM_OK whenever a verdict was
 * reached, a negative hm_err_t when the state failed (then st must be
 * discarded). Must not be called inside an open hm_state_tx_begin. */
int contracts_apply_tx(hm_state_t *st, uint32_t *code, const contracts_block_t *blk,
                       const hm_tx_t *t) HM_WUR;

/* Apply a block's txs in order over st, then compute the new state root.
 * Out: codes[i] for txs[i] (the caller provides n slots), root (the root
 * hm_state_commit would produce; skipped when NULL). On error the codes and
 * st are unspecified: discard the session. The txs stay the caller's. */
int contracts_apply_block(hm_state_t *st, uint32_t *codes, uint8_t root[32],
                          const contracts_block_t *blk, hm_tx_t *const *txs, size_t n) HM_WUR;

/* ----------------------------------------------------------- genesis */

/* One of the consortium's first accreditors. Created ACTIVE with
 * ROLE_ACCREDITOR plus `roles`, no expiry, history_len 0 and an empty
 * history_head (no tx made it); gid = contracts_genesis_gid(keys[0]). */
typedef struct {
    const char *name;
    Hallmark__IdentityKind kind;   /* KIND_UNSPECIFIED means KIND_OPERATOR */
    const uint8_t (*keys)[32];     /* controller keys, >= 1, distinct */
    size_t n_keys;
    uint32_t threshold;            /* 0 means 1; <= n_keys */
    const Hallmark__Role *roles;   /* extra roles; may be NULL when n_roles = 0 */
    size_t n_roles;
} contracts_genesis_accreditor_t;

typedef struct {
    const contracts_genesis_accreditor_t *accreditors;
    size_t n_accreditors;
    Hallmark__ValidatorInfo *const *validators; /* >= 1, distinct 32-byte pubkeys */
    size_t n_validators;
} contracts_genesis_t;

/* Write the genesis records (accreditor identities and the validator set
 * "v/" with effective_height 0) into st, which must hold no validator set
 * yet. Returns HM_ERR_INVALID for a bad genesis (no validator, bad key,
 * duplicate gid or validator), HM_ERR_EXISTS when st already has a set.
 * The caller commits st. */
int contracts_genesis(hm_state_t *st, const contracts_genesis_t *g) HM_WUR;

/* ------------------------------------------------------ ids, chains */

/* GID of an identity registered by `signer` with tx nonce `nonce`:
 * first 20 bytes of H_hallmark/gid(signer[32] || nonce[8 BE]). */
void contracts_gid(uint8_t out[HM_GID_LEN], const uint8_t signer[32], uint64_t nonce);
/* GID of a genesis accreditor whose first controller key is key0. */
void contracts_genesis_gid(uint8_t out[HM_GID_LEN], const uint8_t key0[32]);
/* licence_id = H_hallmark/licence(txid); cert_id = H_hallmark/cert(txid). */
void contracts_licence_id(uint8_t out[32], const uint8_t txid[32]);
void contracts_cert_id(uint8_t out[32], const uint8_t txid[32]);

/* One link of a history chain: out = H_hallmark/history(prev || txid).
 * prev is 32 zero bytes before a record's first tx. out may alias prev. */
void contracts_history_next(uint8_t out[32], const uint8_t prev[32], const uint8_t txid[32]);
/* True when the n txids, oldest first, chain from 32 zero bytes to head,
 * with n == len: the tx list of a record is complete and in order. */
bool contracts_history_verify(uint64_t len, const uint8_t *head, size_t head_len,
                              const uint8_t (*txids)[32], size_t n);

/* ------------------------------------------------------- state keys */

/* State keys (DESIGN §5): "i/"+gid Identity, "r/"+recipe_hash Recipe,
 * "l/"+licence_id Licence, "c/"+cert_id Certificate, "p/"+serial Part,
 * "n/"+pubkey NonceRecord, "x/"+scheme+":"+value ExternalIdIndex,
 * "b/"+gid+batch_id BatchIndex, "v/" ValidatorSet. */
#define CONTRACTS_KEY_MAX 256
typedef struct {
    uint8_t b[CONTRACTS_KEY_MAX];
    size_t len;
} contracts_key_t;

/* Build prefix ("i/", "p/", ...) + a + b into k. Returns HM_ERR_TOO_LARGE
 * if it would not fit. */
int contracts_key(contracts_key_t *k, const char *prefix, const void *a, size_t alen,
                  const void *b, size_t blen) HM_WUR;
int contracts_key_identity(contracts_key_t *k, const uint8_t gid[HM_GID_LEN]) HM_WUR;
int contracts_key_recipe(contracts_key_t *k, const uint8_t recipe_hash[32]) HM_WUR;
int contracts_key_licence(contracts_key_t *k, const uint8_t licence_id[32]) HM_WUR;
int contracts_key_cert(contracts_key_t *k, const uint8_t cert_id[32]) HM_WUR;
int contracts_key_part(contracts_key_t *k, const char *serial) HM_WUR;
int contracts_key_nonce(contracts_key_t *k, const uint8_t pubkey[32]) HM_WUR;
int contracts_key_external_id(contracts_key_t *k, const char *scheme, const char *value) HM_WUR;
int contracts_key_batch(contracts_key_t *k, const uint8_t gid[HM_GID_LEN],
                        const char *batch_id) HM_WUR;
int contracts_key_validators(contracts_key_t *k) HM_WUR;

/* ---------------------------------------------------------- queries */

/* Signer's next nonce as seen by st (0 for a key never seen). */
int contracts_next_nonce(hm_state_t *st, uint64_t *out, const uint8_t pubkey[32]) HM_WUR;

/* True when id holds role at time t: status ACTIVE, role in roles, and
 * accredited_until_ms == 0 or t < accredited_until_ms. */
bool ident_holds_role(const Hallmark__Identity *id, Hallmark__Role role, uint64_t t);

/* Remaining units of a licence: false for an unlimited one (max_units 0),
 * else true with *out = max_units - used_units. */
bool licence_remaining(const Hallmark__Licence *l, uint64_t *out);

/* The status a part READS as (recall is derived, never written per part). */
typedef enum {
    PART_EFF_UNKNOWN = 0,   /* serial not on the ledger */
    PART_EFF_ACTIVE = 1,
    PART_EFF_ASSEMBLED = 2, /* a component of an assembly */
    PART_EFF_SCRAPPED = 3,
    PART_EFF_RECALLED = 4,  /* its certificate is REVOKED (a recall) */
} part_effective_t;

const char *part_effective_name(part_effective_t s);

/* The effective status of a part given its record and its certificate's
 * (as an auditor holds them from proofs). Recall wins over every other
 * status: a scrapped or assembled part of a revoked batch reads RECALLED.
 * cert may be NULL when unknown (then recall cannot be decided and the
 * part's own status is returned). */
part_effective_t part_effective_status(const Hallmark__Part *p, const Hallmark__Certificate *c);

/* Effective status of `serial` in st. Out: *out (PART_EFF_UNKNOWN when the
 * serial is absent). */
int part_status_effective(hm_state_t *st, part_effective_t *out, const char *serial) HM_WUR;

/* Effective status of an assembly: RECALLED when the part or any of its
 * components, transitively, reads recalled; otherwise the part's own
 * effective status. Visits at most max_parts records (HM_ERR_LIMIT beyond).
 * Out: *out; *recalled (when non-NULL and *out is RECALLED) = a malloc'd
 * copy of the first recalled serial in depth-first order (caller frees),
 * else NULL. */
int part_assembly_status(hm_state_t *st, part_effective_t *out, char **recalled,
                         const char *serial, size_t max_parts) HM_WUR;

/* The validator list in force at `height` according to the stored set:
 * the pending list once height >= pending_height (pending_height != 0),
 * else the current list. Out: *list (borrowed from vs), *n. */
void contracts_validators_in_force(const Hallmark__ValidatorSet *vs, uint64_t height,
                                   Hallmark__ValidatorInfo *const **list, size_t *n);

#endif
