/* contracts/exec — internal helpers shared by the contract modules: the
 * per-tx execution context, typed record reads/writes, history links,
 * authorisation and role checks, field validation. Not a public header:
 * only the contracts/ sources include it. Depends on lib/ and proto/ only. */
#ifndef HM_CONTRACTS_EXEC_H
#define HM_CONTRACTS_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "contracts/contracts.h"
#include "lib/buf.h"

/* One tx's execution context. Borrowed pointers live for the tx. */
typedef struct {
    hm_state_t *st;
    const contracts_block_t *blk;
    const hm_tx_t *t;
    const Hallmark__Tx *tx; /* == t->tx */
    hm_buf_t enc;           /* scratch for encoding records (owned) */
} cx_t;

/* Contract functions: return HM_OK with *code set (a verdict), or a negative
 * hm_err_t. They run inside a savepoint; the dispatcher keeps or drops it. */
typedef int (*cx_contract_fn)(cx_t *cx, uint32_t *code);

/* Set *code and jump to done (rc stays HM_OK): a rejection, not an error. */
#define CX_REJECT(c)                                                                               \
    do {                                                                                           \
        *code = (c);                                                                               \
        goto done;                                                                                 \
    } while (0)
/* Evaluate an int-returning call; on error jump to done with rc set. */
#define CX_TRY(expr)                                                                               \
    do {                                                                                           \
        rc = (expr);                                                                               \
        if (rc != HM_OK)                                                                           \
            goto done;                                                                             \
    } while (0)
/* Run a check returning a result code; reject with it when non-zero. */
#define CX_CHECK(expr)                                                                             \
    do {                                                                                           \
        uint32_t cx_c_ = (expr);                                                                   \
        if (cx_c_ != HM_R_OK)                                                                      \
            CX_REJECT(cx_c_);                                                                      \
    } while (0)

/* ------------------------------------------------------------- records */

/* Read and decode the record at k. Out: *out (caller frees with
 * hm_codec_free), or NULL when absent (HM_OK). A stored value that does
 * not decode is HM_ERR_CORRUPT. */
int cx_get(cx_t *cx, void **out, const contracts_key_t *k,
           const ProtobufCMessageDescriptor *desc) HM_WUR;
/* Same over a session without a tx context (queries). */
int cx_state_get(hm_state_t *st, void **out, const contracts_key_t *k,
                 const ProtobufCMessageDescriptor *desc) HM_WUR;
/* Encode msg and store it at k. */
int cx_put(cx_t *cx, const contracts_key_t *k, const ProtobufCMessage *msg) HM_WUR;
/* Is there a value at k? */
int cx_exists(cx_t *cx, bool *out, const contracts_key_t *k) HM_WUR;

int cx_get_identity(cx_t *cx, Hallmark__Identity **out, const uint8_t gid[HM_GID_LEN]) HM_WUR;
int cx_get_recipe(cx_t *cx, Hallmark__Recipe **out, const uint8_t hash[32]) HM_WUR;
int cx_get_licence(cx_t *cx, Hallmark__Licence **out, const uint8_t id[32]) HM_WUR;
int cx_get_cert(cx_t *cx, Hallmark__Certificate **out, const uint8_t id[32]) HM_WUR;
int cx_get_part(cx_t *cx, Hallmark__Part **out, const char *serial) HM_WUR;

/* Advance a record's history chain by this tx: *len += 1, head = the new
 * link, stored in buf (which must outlive the encoding of the record). */
int cx_history(cx_t *cx, uint64_t *len, ProtobufCBinaryData *head, uint8_t buf[32]) HM_WUR;

/* ----------------------------------------------------- actor and roles */

/* Resolve and authorise the tx's actor: non-empty, registered, the signer
 * set meets its threshold, and (unless allow_suspended) ACTIVE or PENDING.
 * Out: *actor (caller frees) when *code is HM_R_OK. */
int cx_actor(cx_t *cx, uint32_t *code, Hallmark__Identity **actor, bool allow_suspended) HM_WUR;

/* Does the signer set ({signer} + co-signers) meet id's threshold? */
bool cx_authorised(const cx_t *cx, const Hallmark__Identity *id);
/* Is pubkey the signer or a co-signer of this tx? */
bool cx_signed_by(const cx_t *cx, const uint8_t pubkey[32]);

/* HM_R_OK when id holds role at block time; else NOT_ACTIVE (not ACTIVE),
 * ROLE_MISSING or ACCREDITATION_EXPIRED. */
uint32_t cx_role(const cx_t *cx, const Hallmark__Identity *id, Hallmark__Role role);

/* --------------------------------------------------------- validation */

static inline bool cx_bytes_len(const ProtobufCBinaryData *b, size_t n)
{
    return b->len == n;
}
/* Empty or exactly n bytes. */
static inline bool cx_bytes_opt(const ProtobufCBinaryData *b, size_t n)
{
    return b->len == 0 || b->len == n;
}
static inline bool cx_bytes_eq(const ProtobufCBinaryData *b, const uint8_t *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}
static inline bool cx_bytes_same(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Text field: valid UTF-8, no control characters, min..max bytes. */
bool cx_text(const char *s, size_t min, size_t max);
/* A list of serials: 1..CONTRACTS_MAX_SERIALS_PER_TX valid serials
 * (duplicates are checked separately with cx_has_dup_strings). */
bool cx_serial_list(char *const *serials, size_t n);
/* Any duplicate among n strings (sorts a copy of the pointers)? Returns
 * HM_ERR_NOMEM on allocation failure. */
int cx_has_dup_strings(bool *dup, char *const *s, size_t n) HM_WUR;

/* Contract entry points (one per tx body). */
int ident_register(cx_t *cx, uint32_t *code) HM_WUR;
int ident_rotate_keys(cx_t *cx, uint32_t *code) HM_WUR;
int ident_accredit(cx_t *cx, uint32_t *code) HM_WUR;
int ident_suspend(cx_t *cx, uint32_t *code) HM_WUR;
int ident_revoke(cx_t *cx, uint32_t *code) HM_WUR;
int recipe_register(cx_t *cx, uint32_t *code) HM_WUR;
int recipe_transfer(cx_t *cx, uint32_t *code) HM_WUR;
int recipe_deprecate(cx_t *cx, uint32_t *code) HM_WUR;
int licence_grant(cx_t *cx, uint32_t *code) HM_WUR;
int licence_revoke(cx_t *cx, uint32_t *code) HM_WUR;
int cert_mint(cx_t *cx, uint32_t *code) HM_WUR;
int cert_add_parts(cx_t *cx, uint32_t *code) HM_WUR;
int cert_cosign(cx_t *cx, uint32_t *code) HM_WUR;
int cert_revoke(cx_t *cx, uint32_t *code) HM_WUR;
int part_transfer(cx_t *cx, uint32_t *code) HM_WUR;
int part_assemble(cx_t *cx, uint32_t *code) HM_WUR;
int part_inspect(cx_t *cx, uint32_t *code) HM_WUR;
int part_scrap(cx_t *cx, uint32_t *code) HM_WUR;
int validators_update(cx_t *cx, uint32_t *code) HM_WUR;

/* Shared by certificate.c (mint, add parts): create a Part for each serial,
 * held by holder, under cert_id, rejecting SERIAL_EXISTS. */
int cert_create_parts(cx_t *cx, uint32_t *code, char *const *serials, size_t n,
                      const uint8_t cert_id[32], const uint8_t holder[HM_GID_LEN]) HM_WUR;

/* Shared by certificate.c (mint): every rule a licence imposes on minting
 * `quantity` units of `recipe` at `site` by the actor, then the atomic
 * consumption of those units (used_units += quantity). Writes the licence. */
int licence_consume(cx_t *cx, uint32_t *code, const ProtobufCBinaryData *licence_id,
                    const ProtobufCBinaryData *recipe, const char *site, uint64_t quantity) HM_WUR;

#endif
