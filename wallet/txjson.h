/* wallet/txjson — JSON views for people and scripts: a decoded transaction
 * (`hallmark-wallet decode`, built on lib/pbjson so every kind of
 * proto/hallmark.proto is covered) and the plain-text rendering of JSON
 * answers (records, statuses). Depends on lib/, jansson. */
#ifndef HM_WALLET_TXJSON_H
#define HM_WALLET_TXJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "lib/err.h"
#include "lib/tx.h"

/* The decoded view of a signed tx: {"txid", "kind", "chain_id", "signer",
 * "nonce", "actor", "body": {...}, "signature", "cosignatures": [...]} plus
 * derived ids ("gid" for register_identity, "licence_id" for grant_licence,
 * "cert_id" for mint_certificate). Out: *out (caller owns). */
int wallet_tx_to_json(json_t **out, const hm_tx_t *t) HM_WUR;

/* Print v for people: objects as "key: value" lines, nested ones indented,
 * arrays of scalars on one line. `indent` is the starting indentation. */
void wallet_json_print_human(FILE *f, const json_t *v, int indent);

#endif
