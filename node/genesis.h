/* node/genesis — the genesis file (JSON, doc/protocol.md "Genesis"): the
 * consortium's validators (consensus key, TLS fingerprint, address), the
 * first accreditors and the chain parameters. chain_id is the tagged hash of
 * the file's exact bytes (DESIGN §6), so the file is never re-serialised
 * after it is made.
 *
 * Parsing is strict: unknown or missing fields, wrong types, duplicate keys,
 * out-of-range numbers, invalid keys and duplicates among validators are all
 * errors with a message naming the field. Depends on lib/ and jansson. */
#ifndef HM_NODE_GENESIS_H
#define HM_NODE_GENESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/hash.h"
#include "lib/keys.h"

#define GENESIS_MAX_BYTES (1024u * 1024u)
#define GENESIS_MAX_VALIDATORS 256
#define GENESIS_MAX_ACCREDITORS 256
#define GENESIS_MAX_CONTROLLER_KEYS 16
#define GENESIS_MAX_NAME 64   /* bytes, printable UTF-8, no control chars */
#define GENESIS_MAX_ADDRESS 255
#define GENESIS_FP_LEN 32

typedef struct {
    char name[GENESIS_MAX_NAME + 1];
    uint8_t pubkey[HM_PUBKEY_LEN];          /* x-only BIP340 consensus key */
    uint8_t tls_fingerprint[GENESIS_FP_LEN]; /* SHA-256 of the DER certificate */
    char address[GENESIS_MAX_ADDRESS + 1];  /* host:port */
} genesis_validator_t;

typedef struct {
    char name[GENESIS_MAX_NAME + 1];
    int kind; /* Hallmark__IdentityKind value (1..5) */
    uint8_t controller_keys[GENESIS_MAX_CONTROLLER_KEYS][HM_PUBKEY_LEN];
    size_t n_controller_keys;
    uint32_t threshold; /* 1..n_controller_keys */
} genesis_accreditor_t;

typedef struct {
    uint32_t max_block_txs;
    uint32_t max_block_bytes;
    uint32_t batch_timeout_ms;
    uint32_t view_change_timeout_ms;
    uint32_t max_clock_skew_ms;
} genesis_params_t;

/* A parsed genesis. Plain data, read-only after parsing; owned by the caller
 * of genesis_parse and released with genesis_free. */
typedef struct {
    char *chain_name;
    uint64_t genesis_time_ms;
    genesis_params_t params;
    genesis_validator_t *validators;
    size_t n_validators;
    genesis_accreditor_t *accreditors;
    size_t n_accreditors;
    uint8_t chain_id[HM_HASH_LEN]; /* H_hallmark/genesis(file bytes) */
} genesis_t;

/* The defaults `hallmarkd genesis` writes when no flag overrides them. */
genesis_params_t genesis_params_default(void);

/* Parse and validate genesis bytes (untrusted). Out: *out on success (caller
 * frees with genesis_free). On failure a message goes to err (may be NULL)
 * and HM_ERR_INVALID / HM_ERR_TOO_LARGE / HM_ERR_NOMEM is returned. */
int genesis_parse(genesis_t **out, const uint8_t *data, size_t len, char *err,
                  size_t errlen) HM_WUR;

/* Read path and parse it. HM_ERR_NOT_FOUND / HM_ERR_IO for the file. */
int genesis_load(genesis_t **out, const char *path, char *err, size_t errlen) HM_WUR;

void genesis_free(genesis_t *g);

/* Parse one validator record (the JSON `hallmarkd init` prints:
 * {"name","pubkey","tls_fingerprint","address"}). err as genesis_parse. */
int genesis_parse_validator(genesis_validator_t *out, const uint8_t *data, size_t len, char *err,
                            size_t errlen) HM_WUR;

/* Render a validator record as one JSON object (malloc'd, NUL-terminated,
 * caller frees; ends with a newline). */
int genesis_validator_json(char **out, const genesis_validator_t *v) HM_WUR;

/* Serialise g (chain_id ignored) into the canonical layout `hallmarkd
 * genesis` writes (2-space indent, fields in documented order, trailing
 * newline). Out: *out malloc'd NUL-terminated, *len without the NUL. The
 * chain id is the hash of exactly these bytes once written. */
int genesis_dump(char **out, size_t *len, const genesis_t *g) HM_WUR;

/* Parse "MANUFACTURER" etc. into the IdentityKind value; -1 if unknown. */
int genesis_kind_parse(const char *s);
const char *genesis_kind_name(int kind);

/* Index of the validator with this consensus key / TLS fingerprint, or -1. */
int genesis_find_pubkey(const genesis_t *g, const uint8_t pubkey[HM_PUBKEY_LEN]);
int genesis_find_fingerprint(const genesis_t *g, const uint8_t fp[GENESIS_FP_LEN]);

#endif
