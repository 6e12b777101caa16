/* wallet/audit_main — hallmark-audit's command line (DESIGN §9, §10;
 * doc/audit.md): part, verify, bundle export, epcis. Fetches bundles over
 * the node API (wallet/rpcclient), reads files, and hands the bytes to the
 * verifier (wallet/audit); prints what it returns. Exit 0 VALID, 1 INVALID
 * or RECALLED, 2 usage or I/O error. Depends on wallet/ and lib/; never on
 * node/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/codec.h"
#include "wallet/audit.h"
#include "wallet/cmd.h"
#include "wallet/nodeapi.h"
#include "wallet/rpcclient.h"

#define PROG "hallmark-audit"

static const wallet_opt_spec_t OPTS_GENESIS[] = {
    {"genesis", 0, "FILE", WALLET_OPT_REQUIRED,
     "the network's genesis file: the only thing trusted (chain id and validator set)"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_VERDICT[] = {
    {"recipe-document", 0, "FILE", 0,
     "check that FILE's SHA-256 is the recipe hash the part's certificate names"},
    {"max-age", 0, "SECONDS", 0,
     "refuse a bundle whose anchor block is older than SECONDS (a node withholding a recall)"},
    {"json", 0, NULL, 0, "print the report as JSON"},
    {"dot", 0, "FILE", 0, "write the provenance graph (Graphviz DOT) to FILE; - for stdout "
                          "(instead of the report)"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_SERIAL[] = {
    {"serial", 0, "SERIAL", 0, "the part the bundle must be about (else: the one it names)"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_EXPORT[] = {
    {"out", 'o', "FILE", WALLET_OPT_REQUIRED, "write the bundle to FILE (- for stdout)"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_EPCIS[] = {
    {"bundle", 0, "FILE", 0, "read the bundle from FILE instead of asking the node"},
    {"out", 'o', "FILE", 0, "write the EPCIS document to FILE (default stdout)"},
    WALLET_OPT_END};

/* ------------------------------------------------------------ helpers */

static int fetch_bundle(hm_buf_t *out, const wallet_opts_t *o, const char *serial,
                        wallet_diag_t *d)
{
    rpcc_client_t c;
    rpcc_response_t r = {0};
    char esc[3 * 256], path[3 * 256 + 64];
    json_t *j = NULL;
    int rc = wallet_check_serial(serial, "SERIAL", d);
    if (rc != HM_OK)
        return rc;
    if ((rc = wallet_cmd_client(&c, o, d)) != HM_OK)
        return rc;
    c.max_body = HM_MAX_BUNDLE_BYTES;
    if ((rc = rpcc_path_escape(esc, sizeof esc, serial)) != HM_OK) {
        wallet_diag_set(d, "serial too long");
        goto done;
    }
    snprintf(path, sizeof path, "/v1/parts/%s/bundle", esc);
    if ((rc = rpcc_request(&c, &r, "GET", path, NULL, 0, d)) != HM_OK) {
        wallet_diag_prefix(d, "fetching the bundle of %s", serial);
        goto done;
    }
    if (r.status != 200) {
        rc = wallet_api_parse_answer(&j, r.status, r.body, r.body_len, d);
        if (rc == HM_OK) {
            wallet_diag_set(d, "node answered HTTP %d", r.status);
            rc = HM_ERR_IO;
        }
        wallet_diag_prefix(d, "fetching the bundle of %s", serial);
        goto done;
    }
    hm_buf_reset(out);
    rc = hm_buf_append(out, r.body, r.body_len);
    if (rc != HM_OK)
        wallet_diag_set(d, "out of memory");
done:
    json_decref(j);
    rpcc_response_free(&r);
    rpcc_client_clear(&c);
    return rc;
}

static int load_trust(audit_trust_t *t, const wallet_opts_t *o, wallet_diag_t *d)
{
    hm_buf_t g = {0};
    const char *path = wallet_opt(o, "genesis");
    int rc = wallet_read_file(&g, path, WALLET_GENESIS_MAX, "genesis file", d);
    if (rc == HM_OK) {
        rc = audit_genesis_parse(t, g.data, g.len, d);
        if (rc != HM_OK)
            wallet_diag_prefix(d, "%s", path);
    }
    hm_buf_free(&g);
    return rc;
}

/* Write bytes to path atomically (or stdout for "-"). */
static int write_out(const char *path, const void *data, size_t len, wallet_diag_t *d)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            wallet_diag_set(d, "writing to stdout failed");
            return HM_ERR_IO;
        }
        return HM_OK;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        wallet_diag_set(d, "%s: path too long", path);
        return HM_ERR_INVALID;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        wallet_diag_set(d, "%s: cannot create (%s)", path, strerror(errno));
        return HM_ERR_IO;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        wallet_diag_set(d, "%s: cannot write (%s)", path, strerror(errno));
        unlink(tmp);
        return HM_ERR_IO;
    }
    return HM_OK;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)(ts.tv_nsec / 1000000);
}

/* Verify bundle bytes (about `serial` when non-NULL) and print the verdict
 * as asked; returns the exit status. */
static int verdict_out(const hm_buf_t *bundle, const char *serial, const wallet_opts_t *o,
                       wallet_diag_t *d)
{
    audit_trust_t trust = {{0}, NULL};
    audit_t *a = NULL;
    uint8_t doc[32];
    int ex = WALLET_EXIT_ERROR;
    const char *dot = wallet_opt(o, "dot");
    bool as_json = wallet_opt_has(o, "json");
    if (dot && strcmp(dot, "-") == 0 && as_json) {
        wallet_diag_set(d, "--dot - and --json both want stdout: write the graph to a file");
        return ex;
    }
    audit_opts_t ao = {NULL, serial, 0};
    const char *age = wallet_opt(o, "max-age");
    if (age) {
        uint32_t secs;
        if (wallet_parse_u32(&secs, age, "--max-age", d) != HM_OK)
            return ex;
        uint64_t now = now_ms();
        ao.min_anchor_time_ms = now > (uint64_t)secs * 1000u ? now - (uint64_t)secs * 1000u : 0;
    }
    const char *docpath = wallet_opt(o, "recipe-document");
    if (docpath) {
        if (wallet_sha256_file(doc, docpath, "--recipe-document", d) != HM_OK)
            return ex;
        ao.recipe_doc_hash = doc;
    }
    if (load_trust(&trust, o, d) != HM_OK)
        goto done;
    if (audit_verify(&a, bundle->data, bundle->len, &trust, &ao) != HM_OK) {
        wallet_diag_set(d, "out of memory");
        goto done;
    }
    if (dot) {
        if (strcmp(dot, "-") == 0) {
            audit_report_dot(stdout, a);
        } else {
            char *buf = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&buf, &len);
            if (!m) {
                wallet_diag_set(d, "out of memory");
                goto done;
            }
            audit_report_dot(m, a);
            fclose(m);
            int rc = write_out(dot, buf, len, d);
            free(buf);
            if (rc != HM_OK)
                goto done;
        }
    }
    if (as_json) {
        json_t *j = audit_report_json(a);
        if (!j) {
            wallet_diag_set(d, "out of memory");
            goto done;
        }
        wallet_print_json(j);
        json_decref(j);
    } else if (!dot || strcmp(dot, "-") != 0) {
        audit_report_text(stdout, a);
    }
    fflush(stdout);
    ex = audit_verdict(a) == AUDIT_VALID ? WALLET_EXIT_OK : WALLET_EXIT_NEGATIVE;
done:
    audit_free(&a);
    audit_trust_free(&trust);
    return ex;
}

/* ----------------------------------------------------------- commands */

static int run_part(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    (void)c;
    hm_buf_t b = {0};
    int ex = WALLET_EXIT_ERROR;
    if (fetch_bundle(&b, o, o->pos[0], d) == HM_OK)
        ex = verdict_out(&b, o->pos[0], o, d);
    hm_buf_free(&b);
    return ex;
}

static int run_verify(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    (void)c;
    hm_buf_t b = {0};
    int ex = WALLET_EXIT_ERROR;
    if (wallet_read_file(&b, o->pos[0], HM_MAX_BUNDLE_BYTES, "bundle file", d) == HM_OK)
        ex = verdict_out(&b, wallet_opt(o, "serial"), o, d);
    hm_buf_free(&b);
    return ex;
}

static int run_export(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    (void)c;
    hm_buf_t b = {0};
    int ex = WALLET_EXIT_ERROR;
    const char *out = wallet_opt(o, "out");
    if (fetch_bundle(&b, o, o->pos[0], d) == HM_OK && write_out(out, b.data, b.len, d) == HM_OK) {
        if (strcmp(out, "-") != 0)
            fprintf(stderr, "%s: wrote the bundle of %s to %s (%zu bytes)\n", PROG, o->pos[0], out,
                    b.len);
        ex = WALLET_EXIT_OK;
    }
    hm_buf_free(&b);
    return ex;
}

static int run_epcis(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    (void)c;
    hm_buf_t b = {0};
    audit_trust_t trust = {{0}, NULL};
    audit_t *a = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    int ex = WALLET_EXIT_ERROR;
    const char *file = wallet_opt(o, "bundle");
    int rc = file ? wallet_read_file(&b, file, HM_MAX_BUNDLE_BYTES, "bundle file", d)
                  : fetch_bundle(&b, o, o->pos[0], d);
    if (rc != HM_OK || load_trust(&trust, o, d) != HM_OK)
        goto done;
    audit_opts_t ao = {NULL, o->pos[0], 0};
    if (audit_verify(&a, b.data, b.len, &trust, &ao) != HM_OK) {
        wallet_diag_set(d, "out of memory");
        goto done;
    }
    if (!audit_bundle_ok(a) || !(doc = audit_epcis(a, now_ms()))) {
        if (audit_bundle_ok(a)) {
            wallet_diag_set(d, "out of memory");
            goto done;
        }
        fprintf(stderr, "%s: the bundle does not verify; no history is written:\n", PROG);
        for (size_t i = 0; i < audit_reason_count(a); i++)
            fprintf(stderr, "  - %s\n", audit_reason(a, i));
        ex = WALLET_EXIT_NEGATIVE;
        goto done;
    }
    text = json_dumps(doc, JSON_INDENT(2));
    const char *out = wallet_opt(o, "out");
    if (!text) {
        wallet_diag_set(d, "out of memory");
        goto done;
    }
    size_t n = strlen(text);
    text[n++] = '\n'; /* replaces the NUL: written by length */
    if (write_out(out ? out : "-", text, n, d) == HM_OK)
        ex = WALLET_EXIT_OK;
done:
    free(text);
    json_decref(doc);
    audit_free(&a);
    audit_trust_free(&trust);
    hm_buf_free(&b);
    return ex;
}

static const wallet_cmd_t CMD_PART = {
    "part", "SERIAL", 1, 1, "fetch a part's proof bundle from a node and verify it",
    "Trusts only --genesis: the node's answer is verified (commit certificates, tx inclusion\n"
    "and results, state proofs, history chains), then judged (DESIGN §10).\n"
    "Exit 0 VALID, 1 INVALID or RECALLED (reasons listed), 2 usage or I/O error.",
    {OPTS_GENESIS, OPTS_VERDICT, WALLET_OPTS_NODE, NULL}, run_part};

static const wallet_cmd_t CMD_VERIFY = {
    "verify", "BUNDLE", 1, 1, "verify a bundle file offline (no network)",
    "Exit 0 VALID, 1 INVALID or RECALLED (reasons listed), 2 usage or I/O error.",
    {OPTS_GENESIS, OPTS_VERDICT, OPTS_SERIAL, NULL}, run_verify};

static const wallet_cmd_t CMD_EXPORT = {
    "bundle export", "SERIAL", 1, 1, "save a part's proof bundle from a node to a file",
    "The file is the node's ProofBundle bytes as received (verify it with `verify`).",
    {OPTS_EXPORT, WALLET_OPTS_NODE, NULL}, run_export};

static const wallet_cmd_t CMD_EPCIS = {
    "epcis", "SERIAL", 1, 1, "write a part's verified history as GS1 EPCIS 2.0 JSON-LD",
    "The bundle (from the node, or --bundle FILE) is verified first; nothing is written\n"
    "when it does not verify (exit 1). A recalled or invalid part's history is still\n"
    "written (exit 0): it is what the ledger proves happened.",
    {OPTS_GENESIS, OPTS_EPCIS, WALLET_OPTS_NODE, NULL}, run_epcis};

static const wallet_cmd_t *const COMMANDS[] = {&CMD_PART, &CMD_VERIFY, &CMD_EXPORT, &CMD_EPCIS,
                                               NULL};

static void print_help(const wallet_cmd_t *c)
{
    printf("Usage: %s %s %s [options]\n\n%s.\n", PROG, c->name, c->args, c->summary);
    if (c->details)
        printf("\n%s\n", c->details);
    printf("\n");
    wallet_opts_print_help(stdout, c->opts);
}

static int exec_cmd(const wallet_cmd_t *c, int argc, char **argv, wallet_diag_t *d)
{
    wallet_opts_t o;
    int ex = WALLET_EXIT_ERROR;
    int rc = wallet_opts_parse(&o, c->opts, argc, argv, d);
    if (rc == HM_OK && o.help) {
        print_help(c);
        ex = WALLET_EXIT_OK;
    } else if (rc == HM_OK && (o.n_pos < c->min_pos || o.n_pos > c->max_pos)) {
        wallet_diag_set(d, "usage: %s %s %s [options] (see --help)", PROG, c->name, c->args);
    } else if (rc == HM_OK) {
        ex = c->run(c, &o, d);
    }
    wallet_opts_free(&o);
    return ex;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: %s COMMAND [options]   (COMMAND --help for details)\n\n", PROG);
    for (size_t i = 0; COMMANDS[i]; i++) {
        char n[64];
        snprintf(n, sizeof n, "%s %s", COMMANDS[i]->name, COMMANDS[i]->args);
        fprintf(f, "  %-22s %s\n", n, COMMANDS[i]->summary);
    }
    fprintf(f, "\nExit status: 0 VALID, 1 INVALID or RECALLED, 2 usage or I/O error.\n"
               "Environment: HALLMARK_NODE, HALLMARK_RPC_TOKEN.\n");
}

int main(int argc, char **argv)
{
    wallet_diag_t d = {{0}};
    argc--;
    argv++;
    if (argc == 0) {
        usage(stderr);
        return WALLET_EXIT_ERROR;
    }
    if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help") || !strcmp(argv[0], "help")) {
        usage(stdout);
        return WALLET_EXIT_OK;
    }
    if (!strcmp(argv[0], "--version")) {
        printf("%s 0.1.0\n", PROG);
        return WALLET_EXIT_OK;
    }
    const wallet_cmd_t *c = NULL;
    int used = 0;
    for (size_t i = 0; COMMANDS[i] && !c; i++) {
        const char *name = COMMANDS[i]->name, *sp = strchr(name, ' ');
        if (!sp && !strcmp(argv[0], name)) {
            c = COMMANDS[i];
            used = 1;
        } else if (sp && (size_t)(sp - name) == strlen(argv[0]) &&
                   !strncmp(argv[0], name, (size_t)(sp - name))) {
            if (argc >= 2 && !strcmp(argv[1], sp + 1)) {
                c = COMMANDS[i];
                used = 2;
            } else {
                fprintf(argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
                            ? stdout
                            : stderr,
                        "Usage: %s %s %s [options]\n", PROG, name, COMMANDS[i]->args);
                return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
                           ? WALLET_EXIT_OK
                           : WALLET_EXIT_ERROR;
            }
        }
    }
    if (!c) {
        fprintf(stderr, "%s: error: unknown command \"%.60s\" (see %s --help)\n", PROG, argv[0],
                PROG);
        return WALLET_EXIT_ERROR;
    }
    int ex = exec_cmd(c, argc - used, argv + used, &d);
    if (ex == WALLET_EXIT_ERROR)
        fprintf(stderr, "%s: error: %s\n", PROG, d.msg[0] ? d.msg : "failed");
    return ex;
}
