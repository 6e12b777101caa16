/* wallet/cli — the command-line option parser of hallmark-wallet: each
 * subcommand declares its options in a table (name, argument, flags, help),
 * from which both the parser and the subcommand's --help are made, so help
 * never drifts from what is accepted.
 *
 * Accepts "--name value", "--name=value", "-x value" for options with a
 * short name, "--" to end options, and "-" as a positional (stdin/stdout).
 * A repeated option without WALLET_OPT_REPEAT, an unknown option, a
 * missing value or a missing required option is a usage error naming it.
 * Depends on wallet/util only. */
#ifndef HM_WALLET_CLI_H
#define HM_WALLET_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/err.h"
#include "wallet/util.h"

#define WALLET_OPT_REQUIRED 1u
#define WALLET_OPT_REPEAT 2u

typedef struct {
    const char *name; /* long name without "--"; NULL ends a table */
    char short_name;  /* 0 = none */
    const char *arg;  /* metavariable, NULL for a flag */
    unsigned flags;
    const char *help;
} wallet_opt_spec_t;

#define WALLET_OPT_END {NULL, 0, NULL, 0, NULL}

#define WALLET_MAX_SPECS 10

/* Parsed options. Values point into argv (borrowed: argv outlives them).
 * Release with wallet_opts_free. */
typedef struct {
    const wallet_opt_spec_t *specs[WALLET_MAX_SPECS]; /* NULL-terminated list of tables */
    struct wallet_opt_val {
        const wallet_opt_spec_t *spec;
        const char *value; /* NULL for a flag */
    } *vals;
    size_t n_vals, cap_vals;
    const char **pos; /* positionals */
    size_t n_pos;
    bool help; /* -h / --help was given */
} wallet_opts_t;

/* Parse argv[0..argc) (argv[0] is the first argument, not the program)
 * against the NULL-terminated list of tables `specs`. -h/--help is always
 * accepted and sets o->help (required options are then not checked).
 * Positionals are collected in order. Out: *o (caller frees with
 * wallet_opts_free, also after a failure). */
int wallet_opts_parse(wallet_opts_t *o, const wallet_opt_spec_t *const *specs, int argc,
                      char **argv, wallet_diag_t *d) HM_WUR;
void wallet_opts_free(wallet_opts_t *o);

/* The value of a single-valued option, or NULL when absent. */
const char *wallet_opt(const wallet_opts_t *o, const char *name);
/* True when a flag (or a valued option) was given. */
bool wallet_opt_has(const wallet_opts_t *o, const char *name);
/* Number of values of a repeatable option, and the i-th (in given order). */
size_t wallet_opt_count(const wallet_opts_t *o, const char *name);
const char *wallet_opt_nth(const wallet_opts_t *o, const char *name, size_t i);

/* Print "Options:" help for the tables (aligned, wrapped at 80 columns). */
void wallet_opts_print_help(FILE *f, const wallet_opt_spec_t *const *specs);

#endif
