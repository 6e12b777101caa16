/* wallet/cmd_common — what the subcommands share; see cmd.h. */
#include "wallet/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/hex.h"
#include "wallet/nodeapi.h"
#include "wallet/passphrase.h"

const wallet_opt_spec_t WALLET_OPTS_WALLETDIR[] = {
    {"wallet-dir", 0, "DIR", 0,
     "keystore directory (default $" WALLET_ENV_DIR " or ~/.hallmark/wallet)"},
    WALLET_OPT_END};

const wallet_opt_spec_t WALLET_OPTS_KEYSTORE[] = {
    {"wallet-dir", 0, "DIR", 0,
     "keystore directory (default $" WALLET_ENV_DIR " or ~/.hallmark/wallet)"},
    {"passphrase-file", 0, "FILE", 0,
     "read the passphrase from FILE's first line (else $HALLMARK_PASSPHRASE, else the "
     "terminal)"},
    WALLET_OPT_END};

const wallet_opt_spec_t WALLET_OPTS_NODE[] = {
    {"node", 0, "URL", 0, "node JSON API (default $" RPCC_ENV_URL " or " RPCC_DEFAULT_URL ")"},
    {"rpc-token", 0, "TOKEN", 0, "bearer token (default $" RPCC_ENV_TOKEN ")"},
    {"rpc-cookie", 0, "FILE", 0, "read the bearer token from the node's cookie file"},
    WALLET_OPT_END};

const wallet_opt_spec_t WALLET_OPTS_JSON[] = {
    {"json", 0, NULL, 0, "machine-readable JSON output"}, WALLET_OPT_END};

const wallet_opt_spec_t WALLET_OPTS_CHAIN[] = {
    {"genesis", 0, "FILE", 0, "the network's genesis file (chain id = its tagged hash)"},
    {"chain-id", 0, "HEX", 0, "the chain id (64 hex) instead of --genesis"},
    WALLET_OPT_END};

const wallet_opt_spec_t WALLET_OPTS_WAIT[] = {
    {"wait", 0, NULL, 0, "follow the tx until it commits; print height and result"},
    {"timeout", 0, "SECONDS", 0, "give up waiting after SECONDS (default 60)"},
    WALLET_OPT_END};

void wallet_print_json(const json_t *v)
{
    char *t = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (t) {
        fputs(t, stdout);
        fputc('\n', stdout);
        free(t);
    }
}

void wallet_cmd_print_help(const wallet_cmd_t *c)
{
    printf("Usage: hallmark-wallet %s%s%s [options]\n\n%s\n", c->name, c->args[0] ? " " : "",
           c->args, c->summary);
    if (c->details)
        printf("\n%s\n", c->details);
    printf("\n");
    wallet_opts_print_help(stdout, c->opts);
}

int wallet_cmd_exec(const wallet_cmd_t *c, int argc, char **argv, wallet_diag_t *d)
{
    wallet_opts_t o;
    int rc = wallet_opts_parse(&o, c->opts, argc, argv, d);
    int ex = WALLET_EXIT_ERROR;
    if (rc == HM_OK && o.help) {
        wallet_cmd_print_help(c);
        ex = WALLET_EXIT_OK;
        goto done;
    }
    if (rc != HM_OK)
        goto done;
    if (o.n_pos < c->min_pos || o.n_pos > c->max_pos) {
        if (o.n_pos < c->min_pos)
            wallet_diag_set(d, "missing argument: usage: hallmark-wallet %s %s", c->name,
                            c->args);
        else
            wallet_diag_set(d, "unexpected argument \"%.60s\": usage: hallmark-wallet %s %s",
                            o.pos[c->max_pos], c->name, c->args);
        goto done;
    }
    ex = c->run(c, &o, d);
done:
    wallet_opts_free(&o);
    return ex;
}

int wallet_cmd_keystore(wallet_keystore_t **out, const wallet_opts_t *o, bool create,
                        wallet_diag_t *d)
{
    char *dir = NULL;
    int rc = wallet_keystore_dir(&dir, wallet_opt(o, "wallet-dir"), d);
    if (rc == HM_OK)
        rc = wallet_keystore_open(out, dir, create, d);
    free(dir);
    return rc;
}

int wallet_cmd_passphrase(hm_buf_t *out, const wallet_opts_t *o, const char *name, bool confirm,
                          wallet_diag_t *d)
{
    char prompt[128];
    snprintf(prompt, sizeof prompt, confirm ? "New passphrase for key %s: " : "Passphrase for key %s: ",
             name);
    return wallet_passphrase_get(out, wallet_opt(o, "passphrase-file"), WALLET_ENV_PASSPHRASE,
                                 prompt, confirm, d);
}

int wallet_cmd_client(rpcc_client_t *out, const wallet_opts_t *o, wallet_diag_t *d)
{
    char token[RPCC_MAX_TOKEN + 1] = "";
    const char *t = wallet_opt(o, "rpc-token");
    const char *cookie = wallet_opt(o, "rpc-cookie");
    int rc = HM_OK;
    if (t && cookie) {
        wallet_diag_set(d, "give --rpc-token or --rpc-cookie, not both");
        return HM_ERR_INVALID;
    }
    if (cookie) {
        rc = rpcc_read_cookie(token, cookie, d);
        t = token;
    } else if (!t) {
        t = getenv(RPCC_ENV_TOKEN);
    }
    if (rc == HM_OK)
        rc = rpcc_client_init(out, wallet_opt(o, "node"), t, d);
    hm_wipe(token, sizeof token);
    return rc;
}

int wallet_cmd_read_chain_id(uint8_t out[HM_CHAIN_ID_LEN], bool *have, const wallet_opts_t *o,
                        wallet_diag_t *d)
{
    const char *g = wallet_opt(o, "genesis");
    const char *c = wallet_opt(o, "chain-id");
    *have = false;
    if (g && c) {
        wallet_diag_set(d, "give --genesis or --chain-id, not both");
        return HM_ERR_INVALID;
    }
    int rc = HM_OK;
    if (g)
        rc = wallet_chain_id_from_genesis(out, g, d);
    else if (c)
        rc = wallet_parse_hash(out, c, "--chain-id", d);
    else
        return HM_OK;
    *have = rc == HM_OK;
    return rc;
}

int wallet_cmd_timeout(unsigned *out, const wallet_opts_t *o, wallet_diag_t *d)
{
    const char *v = wallet_opt(o, "timeout");
    uint32_t t = 60;
    if (v && wallet_parse_u32(&t, v, "--timeout", d) != HM_OK)
        return HM_ERR_INVALID;
    if (t == 0 || t > 86400) {
        wallet_diag_set(d, "--timeout: between 1 and 86400 seconds");
        return HM_ERR_INVALID;
    }
    *out = t;
    return HM_OK;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_status(const char *txid_hex, const wallet_txstatus_t *s, bool as_json)
{
    const char *state = s->state == WALLET_TX_COMMITTED ? "committed"
                        : s->state == WALLET_TX_PENDING ? "pending"
                                                        : "unknown";
    if (as_json) {
        json_t *o = json_pack("{s:s, s:s}", "txid", txid_hex, "status", state);
        if (o && s->state == WALLET_TX_COMMITTED) {
            json_object_set_new(o, "height", json_integer((json_int_t)s->height));
            json_object_set_new(o, "code", json_integer(s->code));
            json_object_set_new(o, "code_name", json_string(s->code_name));
            json_object_set_new(o, "applied", json_boolean(s->code == 0));
        }
        if (o)
            wallet_print_json(o);
        json_decref(o);
        return;
    }
    printf("txid:   %s\nstatus: %s\n", txid_hex, state);
    if (s->state == WALLET_TX_COMMITTED)
        printf("height: %llu\nresult: %s (%u)%s\n", (unsigned long long)s->height,
               s->code_name[0] ? s->code_name : (s->code == 0 ? "OK" : "rejected"), s->code,
               s->code == 0 ? "" : " - the transaction was rejected, it had no effect");
}

int wallet_cmd_wait(const rpcc_client_t *c, const char *txid_hex, unsigned timeout_s,
                    bool as_json, wallet_diag_t *d)
{
    bool tty = isatty(STDERR_FILENO);
    int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
    wallet_txstatus_t s;
    bool dots = false;
    int ex = WALLET_EXIT_ERROR;
    if (tty)
        fprintf(stderr, "waiting for %.16s... to commit ", txid_hex);
    for (;;) {
        int rc = wallet_api_tx_status(c, &s, txid_hex, d);
        if (rc != HM_OK)
            goto done;
        if (s.state == WALLET_TX_COMMITTED)
            break;
        if (mono_ms() >= deadline) {
            wallet_diag_set(d, "tx %s not committed after %u s (still %s)", txid_hex, timeout_s,
                            s.state == WALLET_TX_PENDING ? "pending" : "unknown to the node");
            goto done;
        }
        if (tty) {
            fputc('.', stderr);
            fflush(stderr);
            dots = true;
        }
        struct timespec ts = {0, 500 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (tty)
        fputs(dots ? " done\n" : "done\n", stderr);
    tty = false;
    print_status(txid_hex, &s, as_json);
    ex = s.code == 0 ? WALLET_EXIT_OK : WALLET_EXIT_NEGATIVE;
done:
    if (tty)
        fputc('\n', stderr);
    return ex;
}

/* Query "tx TXID": one status, or --wait. Shared here so submit can reuse
 * print_status through wallet_cmd_wait. */
static int run_query_tx(const wallet_cmd_t *cmd, const wallet_opts_t *o, wallet_diag_t *d)
{
    rpcc_client_t c;
    uint8_t raw[32];
    char hex[65];
    int ex = WALLET_EXIT_ERROR;
    if (wallet_parse_hash(raw, o->pos[0], "TXID", d) != HM_OK)
        return ex;
    hm_hex_encode(hex, raw, sizeof raw);
    if (wallet_cmd_client(&c, o, d) != HM_OK)
        return ex;
    if (wallet_opt_has(o, "wait")) {
        unsigned t;
        if (wallet_cmd_timeout(&t, o, d) == HM_OK)
            ex = wallet_cmd_wait(&c, hex, t, wallet_opt_has(o, "json"), d);
    } else {
        wallet_txstatus_t s;
        if (wallet_api_tx_status(&c, &s, hex, d) == HM_OK) {
            print_status(hex, &s, wallet_opt_has(o, "json"));
            ex = s.state == WALLET_TX_COMMITTED && s.code != 0 ? WALLET_EXIT_NEGATIVE
                                                               : WALLET_EXIT_OK;
        }
    }
    rpcc_client_clear(&c);
    return ex;
}

const wallet_cmd_t wallet_cmd_query_tx = {
    "query tx", "TXID", 1, 1, "show a transaction's status: pending, committed (height, result) "
                               "or unknown",
    "Exit status: 0, or 1 when the tx was committed but rejected (a nonzero result code).",
    {WALLET_OPTS_WAIT, WALLET_OPTS_NODE, WALLET_OPTS_JSON, NULL}, run_query_tx};
