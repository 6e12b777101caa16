/* wallet/nodeapi — the node's JSON API (DESIGN §9) as the wallet uses it:
 * status (chain id), nonce, submit (one or a batch), tx status and records.
 * Builds on wallet/rpcclient; parses answers with jansson. Every answer is
 * untrusted: a missing or mistyped field is a clean error naming it, and an
 * HTTP error's {"error":{"code","message"}} becomes the message.
 *
 * The answer parsers are pure functions over JSON text (tested without a
 * node). Depends on lib/, wallet/rpcclient, jansson; never on node/. */
#ifndef HM_WALLET_NODEAPI_H
#define HM_WALLET_NODEAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"
#include "lib/tx.h"
#include "wallet/rpcclient.h"
#include "wallet/util.h"

/* Record kinds of GET /v1/records/{kind}/{id}. */
#define WALLET_RECORD_KINDS "identity, recipe, licence, certificate, part"

typedef enum {
    WALLET_TX_UNKNOWN = 0,
    WALLET_TX_PENDING = 1,
    WALLET_TX_COMMITTED = 2,
} wallet_txstate_t;

typedef struct {
    wallet_txstate_t state;
    uint64_t height;    /* committed only */
    uint32_t code;      /* committed only: 0 = applied */
    char code_name[64]; /* committed only; "" when the node gave none */
} wallet_txstatus_t;

/* Turn a response into JSON: 2xx with a JSON object body -> *out (caller
 * owns; json_decref). Any other status -> an error naming the status and the
 * node's error code/message: HM_ERR_NOT_FOUND for 404, HM_ERR_AUTH for
 * 401/403, HM_ERR_INVALID for other 4xx, HM_ERR_IO for 5xx. */
int wallet_api_parse_answer(json_t **out, int status, const char *body, size_t len,
                            wallet_diag_t *d) HM_WUR;

/* A JSON unsigned integer: an integer >= 0, or a decimal string (for values
 * above 2^63). */
int wallet_json_u64(uint64_t *out, const json_t *v) HM_WUR;

/* Parse a GET /v1/tx/{txid} answer object. */
int wallet_api_parse_tx_status(wallet_txstatus_t *out, const json_t *o, wallet_diag_t *d) HM_WUR;

/* Parse a POST /v1/tx answer: {"txid": hex64, "status": string}.
 * Out: txid_hex (65 bytes), status (cap bytes). */
int wallet_api_parse_submit(char txid_hex[65], char *status, size_t cap, const json_t *o,
                            wallet_diag_t *d) HM_WUR;

/* GET path -> JSON object (caller owns). */
int wallet_api_get(const rpcc_client_t *c, json_t **out, const char *path,
                   wallet_diag_t *d) HM_WUR;
/* POST body (a JSON value, borrowed) -> JSON object (caller owns). */
int wallet_api_post(const rpcc_client_t *c, json_t **out, const char *path, const json_t *body,
                    wallet_diag_t *d) HM_WUR;

/* GET /v1/status, its "chain_id". */
int wallet_api_chain_id(const rpcc_client_t *c, uint8_t chain_id[HM_CHAIN_ID_LEN],
                        wallet_diag_t *d) HM_WUR;
/* GET /v1/nonce/{pubkey}, its "nonce". */
int wallet_api_nonce(const rpcc_client_t *c, uint64_t *nonce, const uint8_t pubkey[32],
                     wallet_diag_t *d) HM_WUR;
/* POST /v1/tx. Out: txid_hex, status. Checks the node's txid equals ours
 * when expect_txid is non-NULL. */
int wallet_api_submit(const rpcc_client_t *c, char txid_hex[65], char *status, size_t cap,
                      const uint8_t *stx, size_t len, const uint8_t *expect_txid,
                      wallet_diag_t *d) HM_WUR;
/* POST /v1/txs with n signed txs. Out: *out (the node's answer; caller owns). */
int wallet_api_submit_batch(const rpcc_client_t *c, json_t **out, const uint8_t *const *stx,
                            const size_t *lens, size_t n, wallet_diag_t *d) HM_WUR;
/* GET /v1/tx/{txid}. */
int wallet_api_tx_status(const rpcc_client_t *c, wallet_txstatus_t *out, const char *txid_hex,
                         wallet_diag_t *d) HM_WUR;
/* GET /v1/records/{kind}/{id} (id escaped here). Out: the whole answer
 * ({"record", "proof", "header", ...}; caller owns). HM_ERR_NOT_FOUND with a
 * message when the node proves the record absent ("found": false). */
int wallet_api_record(const rpcc_client_t *c, json_t **out, const char *kind, const char *id,
                      wallet_diag_t *d) HM_WUR;

#endif
