/* node/api — the JSON API endpoints of DESIGN §9 over node/rpc's plumbing:
 * tx submission (single and batch), tx status, node status, blocks and
 * certified headers, records with SMT proofs against a certified header,
 * paged record histories with inclusion proofs, a part's proof bundle, a
 * signer's next nonce, and the validator set. doc/rpc.md documents each.
 *
 * Proof anchoring: header h carries the state root after h-1 (doc/
 * design-notes.md §2), so records are proven against the state root of the
 * newest certified header (the tip's), i.e. the state after tip-1; the node
 * follows every non-empty block with one more block so that this is the
 * current state within one block interval.
 *
 * Threading: handlers run on the event-loop thread. Depends on node/chain,
 * node/replica, node/mempool, node/rpc, node/p2p, node/genesis, contracts,
 * consensus, lib. */
#ifndef HM_NODE_API_H
#define HM_NODE_API_H

#include "consensus/valset.h"
#include "lib/err.h"
#include "node/chain.h"
#include "node/genesis.h"
#include "node/mempool.h"
#include "node/p2p.h"
#include "node/replica.h"
#include "node/rpc.h"

/* Everything borrowed; the context itself must outlive the server. */
typedef struct {
    node_replica_t *replica;
    node_chain_t *chain;
    node_mempool_t *mempool;
    p2p_t *p2p;
    const genesis_t *genesis;
    const valset_t *vs;
    int validator_index; /* -1: full node */
    const uint8_t *node_key; /* this node's consensus public key (32 bytes) */
    const char *version;
} api_ctx_t;

/* Register every endpoint on rpc (before it serves). */
int api_register(rpc_t *rpc, api_ctx_t *ctx) HM_WUR;

/* The pure part of POST /v1/tx (batch false: {"tx": "<hex>"}) and POST
 * /v1/txs (batch true: {"txs": ["<hex>", ...]}): the SignedTx byte strings
 * of a parsed JSON body, before the mempool sees them. A hex string longer
 * than any tx becomes HM_MAX_TX_BYTES + 1 zero bytes (the mempool then says
 * too_large). In a batch, an entry that is not a hex string is marked bad
 * (.data NULL); a single tx that is not one refuses the body. No side
 * effects (fuzz/fuzz_rpc_body drives it). Returns 0 with out->n, txs, bad
 * filled (release with api_tx_body_free), or the HTTP status of the refusal
 * (400, 413, 500) with out->code and out->msg set and nothing to free. */
typedef struct {
    size_t n;
    ProtobufCBinaryData *txs; /* n entries; .data malloc'd, NULL where bad */
    bool *bad;                /* n entries */
    const char *code;         /* refusal: error code (static string) */
    char msg[96];             /* refusal: message */
} api_tx_body_t;

int api_tx_body_decode(api_tx_body_t *out, const json_t *body, bool batch) HM_WUR;

/* The same for a batch body in its plain form, straight from the bytes:
 * {"txs": [...]} with only that key, strings of printable ASCII without
 * escapes, JSON whitespace anywhere between tokens. Returns -1 (nothing
 * allocated) for any other body, which the caller then parses with jansson
 * and api_tx_body_decode; else exactly what api_tx_body_decode(batch true)
 * returns for the parsed body (fuzz/fuzz_rpc_body checks the two agree). */
int api_tx_body_scan(api_tx_body_t *out, const uint8_t *body, size_t len) HM_WUR;
void api_tx_body_free(api_tx_body_t *b);

/* Limits (also in doc/rpc.md). */
#define API_MAX_BATCH_TXS 10000
#define API_MAX_HEADERS 1000
#define API_MAX_HISTORY 100
#define API_BUNDLE_MAX_RECORDS 2048

#endif
