/* wallet/util — helpers shared by hallmark-wallet's modules: diagnostics
 * (a message naming what went wrong, for the CLI to print), an allocation
 * arena for hand-built protobuf structs, strict parsing of untrusted values
 * from the command line and from files (ids, hashes, numbers, times, text,
 * serial lists), GID / licence id / cert id derivation (doc/design-notes.md
 * §7), the chain id of a genesis file, and the signed-tx file format
 * (lowercase hex of the SignedTx bytes plus a newline).
 *
 * Depends on lib/ only; never on node/. No global state. */
#ifndef HM_WALLET_UTIL_H
#define HM_WALLET_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/hash.h"
#include "lib/tx.h"

/* Exit statuses of the CLI (DESIGN §9). */
#define WALLET_EXIT_OK 0
#define WALLET_EXIT_NEGATIVE 1 /* a negative verdict: a committed tx was rejected */
#define WALLET_EXIT_ERROR 2    /* usage or I/O error */

/* ------------------------------------------------------------ diagnostics */

/* A message for the user naming the problem. Zero-initialise; functions that
 * take a `wallet_diag_t *` (NULL allowed) set it when they fail. */
typedef struct {
    char msg[768];
} wallet_diag_t;

/* Set the message (overwrites). Accepts d == NULL. */
void wallet_diag_set(wallet_diag_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepend context: "<prefix>: <old message>". Accepts d == NULL. */
void wallet_diag_prefix(wallet_diag_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------ arena */

/* Owns every allocation made through it until wallet_arena_free. Used for the
 * nested structs of a transaction body that the wallet fills by hand (they
 * are never handed to protobuf-c's free). Zero-initialise before use. */
typedef struct {
    void **ptrs;
    size_t n, cap;
} wallet_arena_t;

/* Return n zeroed bytes owned by the arena, or NULL when out of memory. */
void *wallet_arena_alloc(wallet_arena_t *a, size_t n);
/* Return a copy of s owned by the arena, or NULL. */
char *wallet_arena_strdup(wallet_arena_t *a, const char *s);
/* Return a copy of n bytes owned by the arena, or NULL. */
uint8_t *wallet_arena_memdup(wallet_arena_t *a, const void *p, size_t n);
/* Free everything (each block is wiped first: bodies may hold key material). */
void wallet_arena_free(wallet_arena_t *a);

/* --------------------------------------------------------- string lists */

/* A growable list of malloc'd strings; owns them. Zero-initialise. */
typedef struct {
    char **items;
    size_t n, cap;
} wallet_strlist_t;

int wallet_strlist_add(wallet_strlist_t *l, const char *s) HM_WUR;
bool wallet_strlist_contains(const wallet_strlist_t *l, const char *s);
void wallet_strlist_free(wallet_strlist_t *l);

/* ------------------------------------------------ parsing untrusted values */
/* Each parser names `what` (e.g. "--gid") in the message when it fails and
 * returns HM_ERR_INVALID (or HM_ERR_TOO_LARGE); *out is set only on success. */

#define WALLET_DID_PREFIX "did:hallmark:"
/* "did:hallmark:" + 40 hex + NUL */
#define WALLET_DID_STRLEN (13 + 2 * HM_GID_LEN + 1)

/* A GID: 40 hex digits, or did:hallmark:<40 hex>. */
int wallet_parse_gid(uint8_t out[HM_GID_LEN], const char *s, const char *what,
                     wallet_diag_t *d) HM_WUR;
/* A 32-byte hash or id: 64 hex digits. */
int wallet_parse_hash(uint8_t out[32], const char *s, const char *what, wallet_diag_t *d) HM_WUR;
/* An x-only public key: 64 hex digits that are a valid curve x coordinate. */
int wallet_parse_pubkey(uint8_t out[32], const char *s, const char *what, wallet_diag_t *d) HM_WUR;
/* A decimal integer without sign, spaces or leading '+'. */
int wallet_parse_u64(uint64_t *out, const char *s, const char *what, wallet_diag_t *d) HM_WUR;
int wallet_parse_u32(uint32_t *out, const char *s, const char *what, wallet_diag_t *d) HM_WUR;
/* A time as milliseconds since the Unix epoch: either a decimal number of
 * milliseconds, or a UTC date "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ". */
int wallet_parse_time_ms(uint64_t *out, const char *s, const char *what, wallet_diag_t *d) HM_WUR;

/* Check that s is valid UTF-8 without control characters, 1..max_len bytes
 * (0..max_len when allow_empty). */
int wallet_check_text(const char *s, size_t max_len, bool allow_empty, const char *what,
                      wallet_diag_t *d) HM_WUR;

/* Part serials: 1..WALLET_SERIAL_MAX printable ASCII characters, no spaces. */
#define WALLET_SERIAL_MAX 128
/* At most this many serials per transaction (DESIGN §4.4). */
#define WALLET_MAX_SERIALS_PER_TX 4096
/* A serials file is at most this large. */
#define WALLET_SERIALS_FILE_MAX (1024u * 1024u)

int wallet_check_serial(const char *s, const char *what, wallet_diag_t *d) HM_WUR;

/* Parse a serials list: one serial per line (LF or CRLF), surrounding spaces
 * and tabs trimmed, empty lines and lines starting with '#' skipped. Appends
 * to *out; a bad serial names its line; a serial already in *out is an
 * error (a tx would be rejected anyway). `source` names the input. */
int wallet_serials_parse(wallet_strlist_t *out, const char *text, size_t len, const char *source,
                         wallet_diag_t *d) HM_WUR;
int wallet_serials_read_file(wallet_strlist_t *out, const char *path, wallet_diag_t *d) HM_WUR;

/* ------------------------------------------------------------------ files */

/* Read a whole regular file of at most max bytes. Out: *out (reset first).
 * `what` names it in the message. */
int wallet_read_file(hm_buf_t *out, const char *path, size_t max, const char *what,
                     wallet_diag_t *d) HM_WUR;
/* SHA-256 of a file's bytes, streamed (no size cap). */
int wallet_sha256_file(uint8_t out[32], const char *path, const char *what,
                       wallet_diag_t *d) HM_WUR;

/* The largest genesis file read. */
#define WALLET_GENESIS_MAX (1024u * 1024u)
/* chain_id = H_hallmark/genesis(exact bytes of the genesis file). */
int wallet_chain_id_from_genesis(uint8_t out[HM_CHAIN_ID_LEN], const char *path,
                                 wallet_diag_t *d) HM_WUR;

/* Signed tx files: lowercase hex of the SignedTx bytes plus a newline.
 * Reading accepts upper case and surrounding whitespace and refuses anything
 * over HM_MAX_TX_BYTES of payload. path "-" means stdin / stdout.
 * Out: *out (reset first) holds the raw SignedTx bytes. */
int wallet_stx_read_file(hm_buf_t *out, const char *path, wallet_diag_t *d) HM_WUR;
int wallet_stx_parse_hex(hm_buf_t *out, const char *text, size_t len, const char *source,
                         wallet_diag_t *d) HM_WUR;
/* Write atomically (mode 0600), or to stdout for "-". */
int wallet_stx_write_file(const char *path, const uint8_t *stx, size_t len,
                          wallet_diag_t *d) HM_WUR;

/* -------------------------------------------------------------- identifiers */

/* GID = first 20 bytes of H_hallmark/gid(signer[32] || nonce[8 BE]). */
void wallet_gid_derive(uint8_t gid[HM_GID_LEN], const uint8_t signer[32], uint64_t nonce);
/* "did:hallmark:<40 hex>" into out[WALLET_DID_STRLEN]. */
void wallet_gid_format(char out[WALLET_DID_STRLEN], const uint8_t gid[HM_GID_LEN]);
/* licence_id = H_hallmark/licence(txid); cert_id = H_hallmark/cert(txid). */
void wallet_licence_id(uint8_t out[32], const uint8_t txid[32]);
void wallet_cert_id(uint8_t out[32], const uint8_t txid[32]);

#endif
