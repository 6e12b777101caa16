/* wallet/txjson — JSON views of protobuf messages for people and scripts:
 * a decoded transaction (`hallmark-wallet decode`) and the plain-text
 * rendering of JSON answers (records, statuses).
 *
 * The message view walks the generated descriptors, so every transaction
 * kind of proto/hallmark.proto is covered without a hand-written printer
 * per kind: bytes become lowercase hex, enums their proto names, uint64
 * above 2^63-1 a decimal string. It only reads structs decoded by lib/codec
 * (never packs, unpacks or frees them). Depends on lib/, jansson. */
#ifndef HM_WALLET_TXJSON_H
#define HM_WALLET_TXJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "lib/err.h"
#include "lib/tx.h"

/* A JSON object with every field of m (unset oneof members left out).
 * Returns a new reference (caller json_decref) or NULL when out of memory. */
json_t *wallet_msg_to_json(const ProtobufCMessage *m);

/* The decoded view of a signed tx: {"txid", "kind", "chain_id", "signer",
 * "nonce", "actor", "body": {...}, "signature", "cosignatures": [...]} plus
 * derived ids ("gid" for register_identity, "licence_id" for grant_licence,
 * "cert_id" for mint_certificate). Out: *out (caller owns). */
int wallet_tx_to_json(json_t **out, const hm_tx_t *t) HM_WUR;

/* Print v for people: objects as "key: value" lines, nested ones indented,
 * arrays of scalars on one line. `indent` is the starting indentation. */
void wallet_json_print_human(FILE *f, const json_t *v, int indent);

#endif
