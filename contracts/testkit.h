/* contracts/testkit — a small world for tests, the fuzz harness and the
 * benchmark: deterministic keys, a store + session, tx building (really
 * signed with lib/tx, or with dummy signatures where only contracts run),
 * and short-hands for the common txs. Test support only: never linked into
 * hallmarkd. Depends on lib/ and contracts/. No global state. */
#ifndef HM_CONTRACTS_TESTKIT_H
#define HM_CONTRACTS_TESTKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contracts/contracts.h"
#include "lib/buf.h"

/* A key and the identity it registered (gid zero until then). */
typedef struct {
    uint8_t sk[32];
    uint8_t pk[32];
    uint8_t gid[HM_GID_LEN];
    uint64_t nonce; /* the nonce the next built tx will carry */
} ctk_key_t;

typedef struct {
    hm_store_t *store; /* borrowed */
    hm_state_t *st;    /* owned */
    contracts_block_t blk;
    bool sign; /* real BIP340 signatures (true) or zero-filled ones */
} ctk_world_t;

/* Deterministic key number `seed`. */
int ctk_key(ctk_key_t *k, uint64_t seed) HM_WUR;

/* Start a world over store (borrowed, must outlive it): chain id
 * H_hallmark/genesis("ctk"), height 1, time 1,000,000 ms. */
int ctk_world_init(ctk_world_t *w, hm_store_t *store, bool sign) HM_WUR;
void ctk_world_free(ctk_world_t *w);

/* Genesis: each accreditor key becomes a 1-of-1 ACCREDITOR identity (its
 * gid is set), each validator key a validator. Commits. */
int ctk_genesis(ctk_world_t *w, ctk_key_t *const *accreditors, size_t na,
                const ctk_key_t *const *validators, size_t nv) HM_WUR;

/* Compute the root, commit the session, advance height by 1 and time by
 * 1000 ms. Out: root (when non-NULL). */
int ctk_commit(ctk_world_t *w, uint8_t root[32]) HM_WUR;

/* Initialise *tx for signer (chain id, signer, nonce = signer->nonce++,
 * actor = actor's gid or none when actor is NULL). The tx borrows the keys. */
void ctk_tx(ctk_world_t *w, Hallmark__Tx *tx, ctk_key_t *signer, const ctk_key_t *actor);

/* Sign tx by signer (+ co-signers) and decode it. Out: *out (hm_tx_free). */
int ctk_build(ctk_world_t *w, hm_tx_t **out, const Hallmark__Tx *tx, const ctk_key_t *signer,
              const ctk_key_t *const *cosigners, size_t ncos) HM_WUR;

/* Build and apply tx. Out: *code, txid (when non-NULL). */
int ctk_exec(ctk_world_t *w, uint32_t *code, uint8_t txid[32], const Hallmark__Tx *tx,
             const ctk_key_t *signer, const ctk_key_t *const *cosigners, size_t ncos) HM_WUR;

/* ---- short-hands: each builds, signs (signer acts for itself unless said)
 * and applies one tx; Out: *code, and the new id where there is one. */
int ctk_register(ctk_world_t *w, uint32_t *code, ctk_key_t *k, const char *name,
                 Hallmark__IdentityKind kind) HM_WUR;
int ctk_accredit(ctk_world_t *w, uint32_t *code, ctk_key_t *accreditor,
                 const uint8_t gid[HM_GID_LEN], const Hallmark__Role *roles, size_t n,
                 uint64_t until_ms) HM_WUR;
int ctk_recipe(ctk_world_t *w, uint32_t *code, ctk_key_t *owner, const uint8_t hash[32],
               const uint8_t *previous) HM_WUR;
int ctk_grant(ctk_world_t *w, uint32_t *code, uint8_t licence_id[32], ctk_key_t *owner,
              const uint8_t recipe[32], const uint8_t licensee[HM_GID_LEN], uint64_t max_units,
              uint64_t from_ms, uint64_t until_ms) HM_WUR;
int ctk_mint(ctk_world_t *w, uint32_t *code, uint8_t cert_id[32], ctk_key_t *mfr,
             const char *batch, const uint8_t recipe[32], const uint8_t licence[32],
             uint64_t quantity, char **serials, size_t n) HM_WUR;
int ctk_transfer(ctk_world_t *w, uint32_t *code, ctk_key_t *holder, char **serials, size_t n,
                 const uint8_t to[HM_GID_LEN]) HM_WUR;
int ctk_cosign(ctk_world_t *w, uint32_t *code, ctk_key_t *inspector, const uint8_t cert_id[32],
               Hallmark__Verdict verdict) HM_WUR;
int ctk_revoke_cert(ctk_world_t *w, uint32_t *code, ctk_key_t *k, const uint8_t cert_id[32])
    HM_WUR;
int ctk_assemble(ctk_world_t *w, uint32_t *code, ctk_key_t *holder, const char *parent,
                 char **children, size_t n) HM_WUR;

/* Read and decode a record (NULL when absent); caller frees with
 * hm_codec_free. */
int ctk_get(ctk_world_t *w, void **out, const contracts_key_t *k,
            const ProtobufCMessageDescriptor *desc) HM_WUR;

#endif

/* ---- a data-driven workload (fuzz harness, determinism tests) ----------
 * Run genesis, a fixed prelude (a small cast with roles, a recipe, two
 * licences) and then a tx sequence decoded from `data` over store, which
 * must be empty. Tx building depends only on data, never on the state, so
 * two runs over two fresh stores (of any backends) must agree. Appends to
 * *trace, per block, each tx's result code (4 bytes BE) and then the
 * state root after the block. Signatures are dummies. */
int ctk_script_run(hm_store_t *store, hm_buf_t *trace, const uint8_t *data, size_t len) HM_WUR;
