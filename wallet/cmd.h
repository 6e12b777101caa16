/* wallet/cmd — the subcommands of hallmark-wallet and what they share:
 * common option tables (keystore, node, output), turning options into a
 * keystore handle, an RPC client, a chain id or a passphrase, and following
 * a submitted tx to commit (--wait).
 *
 * A subcommand's run function returns the process exit status (DESIGN §9):
 * WALLET_EXIT_OK, WALLET_EXIT_NEGATIVE (a committed tx was rejected) or
 * WALLET_EXIT_ERROR with *d naming the problem (main prints it). Results go
 * to stdout, progress and warnings to stderr. Depends on the other wallet/ modules and lib/;
 * never on node/. */
#ifndef HM_WALLET_CMD_H
#define HM_WALLET_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/buf.h"
#include "wallet/cli.h"
#include "wallet/keystore.h"
#include "wallet/rpcclient.h"
#include "wallet/txbuild.h"
#include "wallet/util.h"

typedef struct wallet_cmd wallet_cmd_t;

struct wallet_cmd {
    const char *name;    /* "key create" */
    const char *args;    /* positional synopsis, e.g. "NAME FILE" ("" for none) */
    size_t min_pos, max_pos;
    const char *summary; /* one line */
    const char *details; /* more help text or NULL */
    const wallet_opt_spec_t *opts[WALLET_MAX_SPECS]; /* NULL-terminated */
    int (*run)(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d);
};

/* Shared option tables. */
extern const wallet_opt_spec_t WALLET_OPTS_KEYSTORE[]; /* --wallet-dir, --passphrase-file */
extern const wallet_opt_spec_t WALLET_OPTS_WALLETDIR[]; /* --wallet-dir */
extern const wallet_opt_spec_t WALLET_OPTS_NODE[];     /* --node, --rpc-token, --rpc-cookie */
extern const wallet_opt_spec_t WALLET_OPTS_JSON[];     /* --json */
extern const wallet_opt_spec_t WALLET_OPTS_CHAIN[];    /* --genesis, --chain-id */
extern const wallet_opt_spec_t WALLET_OPTS_WAIT[];     /* --wait, --timeout */

/* The fixed subcommands (main.c lists them; the tx kinds come from
 * wallet/txbuild). */
extern const wallet_cmd_t wallet_cmd_key_create, wallet_cmd_key_list, wallet_cmd_key_show,
    wallet_cmd_key_import, wallet_cmd_key_export, wallet_cmd_key_passwd, wallet_cmd_key_set_gid;
extern const wallet_cmd_t wallet_cmd_cosign, wallet_cmd_decode, wallet_cmd_submit;
extern const wallet_cmd_t wallet_cmd_query_identity, wallet_cmd_query_recipe,
    wallet_cmd_query_licence, wallet_cmd_query_certificate, wallet_cmd_query_part,
    wallet_cmd_query_tx, wallet_cmd_status, wallet_cmd_chain_id;

/* Parse argv for c, print its help for -h, check the positionals and run it.
 * Returns the exit status. */
int wallet_cmd_exec(const wallet_cmd_t *c, int argc, char **argv, wallet_diag_t *d);
void wallet_cmd_print_help(const wallet_cmd_t *c);

/* A transaction subcommand: "GROUP ACTION" (submit) or, with sign_only,
 * "sign GROUP ACTION" (write a signed tx file, no node). */
int wallet_cmd_tx(const wallet_txkind_t *k, bool sign_only, int argc, char **argv,
                  wallet_diag_t *d);

/* Open the keystore named by --wallet-dir / $HALLMARK_WALLET_DIR / ~. */
int wallet_cmd_keystore(wallet_keystore_t **out, const wallet_opts_t *o, bool create,
                        wallet_diag_t *d) HM_WUR;
/* A passphrase for "key NAME": --passphrase-file, $HALLMARK_PASSPHRASE or the
 * terminal. Out: *out (caller wipes: hm_buf_free_secure). */
int wallet_cmd_passphrase(hm_buf_t *out, const wallet_opts_t *o, const char *name, bool confirm,
                          wallet_diag_t *d) HM_WUR;
/* An RPC client from --node/$HALLMARK_NODE, --rpc-token/$HALLMARK_RPC_TOKEN or
 * --rpc-cookie. Release with rpcc_client_clear. */
int wallet_cmd_client(rpcc_client_t *out, const wallet_opts_t *o, wallet_diag_t *d) HM_WUR;
/* The chain id from --genesis or --chain-id. *have is false when neither
 * was given (both is a usage error). */
int wallet_cmd_read_chain_id(uint8_t out[HM_CHAIN_ID_LEN], bool *have, const wallet_opts_t *o,
                        wallet_diag_t *d) HM_WUR;
/* --timeout SECONDS (default 60). */
int wallet_cmd_timeout(unsigned *out, const wallet_opts_t *o, wallet_diag_t *d) HM_WUR;

/* Follow txid until committed or timeout_s passes, printing progress dots
 * on a terminal (stderr). Prints the outcome (JSON with as_json). Returns
 * the exit status: OK when applied, NEGATIVE when committed but rejected,
 * ERROR on timeout or I/O error. */
int wallet_cmd_wait(const rpcc_client_t *c, const char *txid_hex, unsigned timeout_s,
                    bool as_json, wallet_diag_t *d);

/* Print v to stdout as indented JSON and a newline. */
void wallet_print_json(const json_t *v);

#endif
