/* wallet/passphrase — where a passphrase comes from, in order (DESIGN §2,
 * issue 6): a file named by the caller (--passphrase-file; its first line),
 * an environment variable (for automation), or the controlling terminal with
 * echo off (asked twice when confirming a new passphrase). With none of
 * these — no file, no variable, no terminal — it is a usage error.
 *
 * The passphrase is handed out in an hm_buf_t the caller wipes with
 * hm_buf_free_secure; it is NUL-terminated (the NUL is not counted in len).
 * Depends on lib/ only. */
#ifndef HM_WALLET_PASSPHRASE_H
#define HM_WALLET_PASSPHRASE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "wallet/util.h"

#define WALLET_ENV_PASSPHRASE "HALLMARK_PASSPHRASE"
#define WALLET_ENV_NEW_PASSPHRASE "HALLMARK_NEW_PASSPHRASE"
#define WALLET_PASSPHRASE_MAX 1024

/* Get a passphrase. file: path or NULL; env: variable name or NULL; prompt:
 * what the terminal shows; confirm: ask twice on a terminal and require the
 * same answer (a file or variable is taken as given).
 * Out: *out (reset first; caller wipes). Returns HM_ERR_INVALID when no
 * source is available, HM_ERR_IO when the file cannot be read. */
int wallet_passphrase_get(hm_buf_t *out, const char *file, const char *env, const char *prompt,
                          bool confirm, wallet_diag_t *d) HM_WUR;

/* The first line of text (without CR/LF), for passphrase files. Exposed for
 * tests. Out: *out (reset first). */
int wallet_passphrase_from_text(hm_buf_t *out, const char *text, size_t len,
                                wallet_diag_t *d) HM_WUR;

#endif
