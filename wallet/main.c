/* wallet/main — hallmark-wallet's entry point: finds the subcommand in the
 * tables (fixed commands here, transaction kinds in wallet/txbuild) and runs
 * it; prints the error a subcommand reports. Nothing else lives here. */
#include <stdio.h>
#include <string.h>

#include "wallet/cmd.h"

static const wallet_cmd_t *const COMMANDS[] = {
    &wallet_cmd_key_create,     &wallet_cmd_key_list,        &wallet_cmd_key_show,
    &wallet_cmd_key_import,     &wallet_cmd_key_export,      &wallet_cmd_key_passwd,
    &wallet_cmd_key_set_gid,    &wallet_cmd_cosign,          &wallet_cmd_decode,
    &wallet_cmd_submit,         &wallet_cmd_query_identity,  &wallet_cmd_query_recipe,
    &wallet_cmd_query_licence,  &wallet_cmd_query_certificate, &wallet_cmd_query_part,
    &wallet_cmd_query_tx,       &wallet_cmd_status,          &wallet_cmd_chain_id,
    NULL};

/* Number of leading words of name that match argv (0 = no match). */
static int match(const char *name, int argc, char **argv)
{
    int w = 0;
    const char *p = name;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (w >= argc || strlen(argv[w]) != n || strncmp(argv[w], p, n) != 0)
            return 0;
        w++;
        p += n;
        if (*p == ' ')
            p++;
    }
    return w;
}

static bool is_fixed_group(const char *g)
{
    for (size_t i = 0; COMMANDS[i]; i++) {
        size_t n = strcspn(COMMANDS[i]->name, " ");
        if (COMMANDS[i]->name[n] == ' ' && strlen(g) == n && strncmp(g, COMMANDS[i]->name, n) == 0)
            return true;
    }
    return false;
}

static void print_usage(FILE *f)
{
    size_t n;
    const wallet_txkind_t *k = wallet_txkinds(&n);
    fprintf(f, "Usage: hallmark-wallet COMMAND [options]   (COMMAND --help for details)\n\n"
               "Keys:\n");
    for (size_t i = 0; COMMANDS[i]; i++)
        if (strncmp(COMMANDS[i]->name, "key ", 4) == 0)
            fprintf(f, "  %-28s %s\n", COMMANDS[i]->name, COMMANDS[i]->summary);
    fprintf(f, "\nTransactions (signed and submitted; `sign ...` to sign offline):\n");
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s %s", k[i].group, k[i].action);
        fprintf(f, "  %-28s %s\n", name, k[i].summary);
    }
    fprintf(f, "  %-28s %s\n", "sign GROUP ACTION --out F", "sign any of the above offline");
    fprintf(f, "\nSigned tx files and queries:\n");
    for (size_t i = 0; COMMANDS[i]; i++)
        if (strncmp(COMMANDS[i]->name, "key ", 4) != 0)
            fprintf(f, "  %-28s %s\n", COMMANDS[i]->name, COMMANDS[i]->summary);
    fprintf(f, "\nExit status: 0 success, 1 a committed tx was rejected, 2 usage or I/O error.\n"
               "Environment: HALLMARK_WALLET_DIR, HALLMARK_PASSPHRASE, HALLMARK_NODE, "
               "HALLMARK_RPC_TOKEN.\n");
}

static void print_group(FILE *f, const char *group)
{
    size_t n;
    const wallet_txkind_t *k = wallet_txkinds(&n);
    fprintf(f, "Usage: hallmark-wallet %s ACTION [options]   (ACTION --help for details)\n\n",
            group);
    for (size_t i = 0; COMMANDS[i]; i++)
        if (strncmp(COMMANDS[i]->name, group, strlen(group)) == 0 &&
            COMMANDS[i]->name[strlen(group)] == ' ')
            fprintf(f, "  %-28s %s\n", COMMANDS[i]->name, COMMANDS[i]->summary);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].group, group) == 0 || strcmp(group, "sign") == 0) {
            char name[64];
            snprintf(name, sizeof name, "%s%s %s", strcmp(group, "sign") == 0 ? "sign " : "",
                     k[i].group, k[i].action);
            fprintf(f, "  %-28s %s\n", name, k[i].summary);
        }
}

static int fail(const wallet_diag_t *d)
{
    fprintf(stderr, "hallmark-wallet: error: %s\n", d->msg[0] ? d->msg : "failed");
    return WALLET_EXIT_ERROR;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "hallmark-wallet: error: %s \"%.60s\" (see hallmark-wallet --help)\n", what,
            arg);
    return WALLET_EXIT_ERROR;
}

static bool is_help(const char *a)
{
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "help") == 0;
}

int main(int argc, char **argv)
{
    wallet_diag_t d = {{0}};
    int ex;
    argc--;
    argv++;
    if (argc == 0) {
        print_usage(stderr);
        return WALLET_EXIT_ERROR;
    }
    if (is_help(argv[0])) {
        print_usage(stdout);
        return WALLET_EXIT_OK;
    }
    if (strcmp(argv[0], "--version") == 0) {
        printf("hallmark-wallet 0.1.0\n");
        return WALLET_EXIT_OK;
    }
    /* sign GROUP ACTION ... */
    if (strcmp(argv[0], "sign") == 0) {
        if (argc < 3 || is_help(argv[1]) || is_help(argv[2])) {
            print_group(stdout, "sign");
            return argc >= 2 && (is_help(argv[1]) || (argc >= 3 && is_help(argv[2])))
                       ? WALLET_EXIT_OK
                       : WALLET_EXIT_ERROR;
        }
        const wallet_txkind_t *k = wallet_txkind_find(argv[1], argv[2]);
        if (!k)
            return usage_error("unknown transaction kind", argv[2]);
        ex = wallet_cmd_tx(k, true, argc - 3, argv + 3, &d);
        return ex == WALLET_EXIT_ERROR ? fail(&d) : ex;
    }
    /* fixed commands */
    for (size_t i = 0; COMMANDS[i]; i++) {
        int w = match(COMMANDS[i]->name, argc, argv);
        if (w) {
            ex = wallet_cmd_exec(COMMANDS[i], argc - w, argv + w, &d);
            return ex == WALLET_EXIT_ERROR && d.msg[0] ? fail(&d) : ex;
        }
    }
    /* GROUP ACTION: a transaction kind */
    bool txgroup = wallet_txgroup_exists(argv[0]);
    if (txgroup || is_fixed_group(argv[0])) {
        if (argc < 2 || is_help(argv[1])) {
            print_group(argc < 2 ? stderr : stdout, argv[0]);
            return argc < 2 ? WALLET_EXIT_ERROR : WALLET_EXIT_OK;
        }
        const wallet_txkind_t *k = txgroup ? wallet_txkind_find(argv[0], argv[1]) : NULL;
        if (!k)
            return usage_error("unknown subcommand", argv[1]);
        ex = wallet_cmd_tx(k, false, argc - 2, argv + 2, &d);
        return ex == WALLET_EXIT_ERROR ? fail(&d) : ex;
    }
    return usage_error("unknown command", argv[0]);
}
