/* node/main — the hallmarkd command line: init, genesis, run, config-help.
 * Owns argument parsing and exit codes (0 ok, 2 usage or I/O error, 3 the
 * running node's storage failed: node/daemon.h NODE_EXIT_*); the daemon
 * itself lives in node/daemon. Must not include OpenSSL (TLS work goes
 * through node/tls). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/hex.h"
#include "lib/log.h"
#include "lib/seal.h"
#include "node/config.h"
#include "node/daemon.h"
#include "node/wire.h"
#include "node/genesis.h"
#include "node/nodekey.h"
#include "node/tls.h"

#define EXIT_OK 0
#define EXIT_USAGE 2
/* HALLMARKD_PACKAGE_VERSION comes from node/include.am (configure's version). */
#define HALLMARKD_VERSION "hallmarkd " HALLMARKD_PACKAGE_VERSION

static const char USAGE_MAIN[] =
    "usage: hallmarkd <command> [options]\n"
    "\n"
    "commands:\n"
    "  init         create a data directory: keys, TLS certificate, config\n"
    "  genesis      assemble validator records into a genesis file\n"
    "  run          run the daemon (the default command)\n"
    "  config-help  list every configuration key\n"
    "\n"
    "  hallmarkd <command> --help   options of a command\n"
    "  hallmarkd --version\n";

static const char USAGE_INIT[] =
    "usage: hallmarkd init --datadir DIR [options]\n"
    "\n"
    "Creates DIR with a consensus key (node.key), a TLS key and self-signed\n"
    "certificate (tls.key, tls.crt) and a commented hallmarkd.conf, then prints\n"
    "this node's validator record (JSON) for the consortium's genesis.\n"
    "\n"
    "  --datadir DIR            data directory (created; must not hold a key)\n"
    "  --name NAME              validator name in the record (default: hostname)\n"
    "  --listen HOST:PORT       p2p listener (default 0.0.0.0:7700)\n"
    "  --address HOST:PORT      address peers dial, put in the record\n"
    "                           (default: the listen address; a wildcard host\n"
    "                           becomes this machine's hostname)\n"
    "  --rpc-bind HOST:PORT     JSON API (default 127.0.0.1:7701)\n"
    "  --passphrase-file FILE   seal node.key with the passphrase in FILE (scrypt +\n"
    "                           AES-256-GCM); the config points key_passphrase_file\n"
    "                           at FILE. Without it node.key is plain hex, mode 0600.\n"
    "  --full                   configure a non-voting full node\n"
    "  --help\n";

static const char USAGE_GENESIS[] =
    "usage: hallmarkd genesis --validator FILE... --accreditor SPEC... -o FILE [options]\n"
    "\n"
    "Writes the genesis file. Its exact bytes define the chain id; share the\n"
    "file itself, never a re-formatted copy.\n"
    "\n"
    "  --validator FILE         a validator record printed by `hallmarkd init`\n"
    "                           (repeat, in the order of the validator indexes)\n"
    "  --accreditor SPEC        NAME:KIND:KEY[,KEY...][:THRESHOLD], KIND one of\n"
    "                           MANUFACTURER DESIGNER INSPECTOR AUDITOR OPERATOR,\n"
    "                           KEY a 64-hex x-only public key (repeat)\n"
    "  -o, --output FILE        where to write (refuses to overwrite)\n"
    "  --chain-name NAME        (default \"hallmark\")\n"
    "  --time-ms MS             genesis time, ms since the epoch (default: now)\n"
    "  --max-block-txs N        (default 2000)\n"
    "  --max-block-bytes N      (default 4194304)\n"
    "  --batch-timeout-ms N     (default 200)\n"
    "  --view-change-timeout-ms N (default 5000)\n"
    "  --max-clock-skew-ms N    (default 10000)\n"
    "  --help\n";

static const char USAGE_RUN[] =
    "usage: hallmarkd [run] --datadir DIR [options]\n"
    "\n"
    "Runs the daemon until SIGTERM or SIGINT. Refuses to start when another\n"
    "hallmarkd holds DIR/LOCK.\n"
    "\n"
    "  --datadir DIR            data directory made by `hallmarkd init`\n"
    "  --conf FILE              config file (default DIR/hallmarkd.conf)\n"
    "  --full                   do not vote, whatever the config says\n"
    "  --log-level LEVEL        error, warn, info, debug, trace (overrides config)\n"
    "  --help\n";

static const char USAGE_CONFIG_HELP[] =
    "usage: hallmarkd config-help [--markdown]\n"
    "\n"
    "Prints every configuration key with its default and meaning; --markdown\n"
    "prints the reference table of doc/operations.md.\n";

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "hallmarkd: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return EXIT_USAGE;
}

/* ------------------------------------------------------------------ init */

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int cmd_init(int argc, char **argv)
{
    enum { O_DATADIR = 1, O_NAME, O_LISTEN, O_ADDRESS, O_RPC, O_PASS, O_FULL, O_HELP };
    static const struct option opts[] = {
        {"datadir", required_argument, NULL, O_DATADIR},
        {"name", required_argument, NULL, O_NAME},
        {"listen", required_argument, NULL, O_LISTEN},
        {"address", required_argument, NULL, O_ADDRESS},
        {"rpc-bind", required_argument, NULL, O_RPC},
        {"passphrase-file", required_argument, NULL, O_PASS},
        {"full", no_argument, NULL, O_FULL},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *datadir = NULL, *name = NULL, *listen = "0.0.0.0:7700", *address = NULL,
               *rpc = NULL, *passfile = NULL;
    bool full = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATADIR: datadir = optarg; break;
        case O_NAME: name = optarg; break;
        case O_LISTEN: listen = optarg; break;
        case O_ADDRESS: address = optarg; break;
        case O_RPC: rpc = optarg; break;
        case O_PASS: passfile = optarg; break;
        case O_FULL: full = true; break;
        case O_HELP: fputs(USAGE_INIT, stdout); return EXIT_OK;
        default: fputs(USAGE_INIT, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error(USAGE_INIT, "unexpected argument '%s'", argv[optind]);
    if (!datadir)
        return usage_error(USAGE_INIT, "%s", "--datadir is required");

    char host[256], hostname[200];
    uint16_t port;
    if (config_split_hostport(listen, host, sizeof host, &port) != HM_OK)
        return usage_error(USAGE_INIT, "--listen '%s' is not host:port", listen);
    if (rpc && config_split_hostport(rpc, host, sizeof host, &port) != HM_OK)
        return usage_error(USAGE_INIT, "--rpc-bind '%s' is not host:port", rpc);
    if (gethostname(hostname, sizeof hostname) != 0)
        snprintf(hostname, sizeof hostname, "localhost");
    hostname[sizeof hostname - 1] = '\0';
    char addrbuf[GENESIS_MAX_ADDRESS + 1];
    if (!address) {
        if (config_split_hostport(listen, host, sizeof host, &port) != HM_OK)
            return EXIT_USAGE;
        if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
            snprintf(addrbuf, sizeof addrbuf, "%s:%u", hostname, port);
        else
            snprintf(addrbuf, sizeof addrbuf, "%s", listen);
        address = addrbuf;
    }
    if (config_split_hostport(address, host, sizeof host, &port) != HM_OK ||
        strlen(address) > GENESIS_MAX_ADDRESS)
        return usage_error(USAGE_INIT, "--address '%s' is not host:port", address);
    if (!name)
        name = hostname;
    if (!*name || strlen(name) > GENESIS_MAX_NAME)
        return usage_error(USAGE_INIT, "--name must be 1..64 bytes, got '%s'", name);
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return usage_error(USAGE_INIT, "%s", "--name must not contain control characters");

    int rc = EXIT_USAGE;
    char *pass = NULL, *abspass = NULL;
    size_t pass_len = 0;
    char path[4096], cert[4096];
    FILE *f = NULL;
    char *json = NULL;
    genesis_validator_t v;
    memset(&v, 0, sizeof v);

    if (passfile) {
        int prc = nodekey_read_passphrase(&pass, &pass_len, passfile);
        if (prc != HM_OK) {
            fprintf(stderr, "hallmarkd: cannot read %s: %s\n", passfile, hm_strerror(prc));
            goto done;
        }
        if (pass_len == 0) {
            fprintf(stderr, "hallmarkd: %s holds an empty passphrase\n", passfile);
            goto done;
        }
        if (!(abspass = realpath(passfile, NULL))) {
            fprintf(stderr, "hallmarkd: %s: %s\n", passfile, strerror(errno));
            goto done;
        }
    }
    if (mkdir_p(datadir) != 0) {
        fprintf(stderr, "hallmarkd: cannot create %s: %s\n", datadir, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/node.key", datadir);
    int krc = nodekey_create(v.pubkey, path, pass, pass_len);
    if (krc != HM_OK) {
        fprintf(stderr, "hallmarkd: %s: %s\n", path,
                krc == HM_ERR_EXISTS ? "already exists (this directory is initialised)"
                                     : hm_strerror(krc));
        goto done;
    }
    snprintf(path, sizeof path, "%s/tls.key", datadir);
    snprintf(cert, sizeof cert, "%s/tls.crt", datadir);
    int trc = tls_generate(v.tls_fingerprint, path, cert, name);
    if (trc != HM_OK) {
        fprintf(stderr, "hallmarkd: cannot create the TLS key and certificate: %s\n",
                hm_strerror(trc));
        goto done;
    }
    snprintf(v.name, sizeof v.name, "%s", name);
    snprintf(v.address, sizeof v.address, "%s", address);

    /* config */
    const char *keys[4], *vals[4];
    size_t nk = 0;
    keys[nk] = "listen";
    vals[nk++] = listen;
    if (rpc) {
        keys[nk] = "rpc_bind";
        vals[nk++] = rpc;
    }
    if (full) {
        keys[nk] = "mode";
        vals[nk++] = "full";
    }
    if (abspass) {
        keys[nk] = "key_passphrase_file";
        vals[nk++] = abspass;
    }
    snprintf(path, sizeof path, "%s/%s", datadir, CONFIG_FILE_NAME);
    struct stat st;
    if (stat(path, &st) != 0) {
        char *text = NULL;
        size_t tlen = 0;
        f = open_memstream(&text, &tlen);
        if (!f) {
            fprintf(stderr, "hallmarkd: out of memory\n");
            goto done;
        }
        config_write_template(f, keys, vals, nk);
        fclose(f);
        f = NULL;
        int wrc = hm_seal_write_atomic(path, (const uint8_t *)text, tlen);
        free(text);
        if (wrc != HM_OK) {
            fprintf(stderr, "hallmarkd: cannot write %s\n", path);
            goto done;
        }
    }
    if (genesis_validator_json(&json, &v) != HM_OK) {
        fprintf(stderr, "hallmarkd: out of memory\n");
        goto done;
    }
    snprintf(path, sizeof path, "%s/validator.json", datadir);
    if (hm_seal_write_atomic(path, (const uint8_t *)json, strlen(json)) != HM_OK) {
        fprintf(stderr, "hallmarkd: cannot write %s\n", path);
        goto done;
    }
    fputs(json, stdout);
    fprintf(stderr,
            "hallmarkd: initialised %s; share validator.json with the consortium, then put\n"
            "the genesis file at %s/genesis.json\n",
            datadir, datadir);
    rc = EXIT_OK;
done:
    if (pass) {
        hm_wipe(pass, pass_len);
        free(pass);
    }
    free(abspass);
    free(json);
    return rc;
}

/* --------------------------------------------------------------- genesis */

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !*s || *end || v > UINT32_MAX || s[0] == '-')
        return false;
    *out = (uint32_t)v;
    return true;
}

static int parse_accreditor(genesis_accreditor_t *a, const char *spec, char *err, size_t errlen)
{
    char buf[4096];
    char *parts[4];
    size_t n = 0;
    memset(a, 0, sizeof *a);
    if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
        goto bad;
    char *save = NULL;
    for (char *p = strtok_r(buf, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (n >= 4)
            goto bad;
        parts[n++] = p;
    }
    if (n < 3 || strlen(parts[0]) > GENESIS_MAX_NAME)
        goto bad;
    snprintf(a->name, sizeof a->name, "%s", parts[0]);
    if ((a->kind = genesis_kind_parse(parts[1])) < 0)
        goto bad;
    char *ks = NULL;
    for (char *k = strtok_r(parts[2], ",", &ks); k; k = strtok_r(NULL, ",", &ks)) {
        if (a->n_controller_keys >= GENESIS_MAX_CONTROLLER_KEYS ||
            hm_hex_decode(a->controller_keys[a->n_controller_keys], HM_PUBKEY_LEN, k) != HM_OK)
            goto bad;
        a->n_controller_keys++;
    }
    a->threshold = 1;
    if (n == 4 && !parse_u32(parts[3], &a->threshold))
        goto bad;
    return HM_OK;
bad:
    snprintf(err, errlen, "--accreditor '%s': expected NAME:KIND:KEY[,KEY...][:THRESHOLD]", spec);
    return HM_ERR_INVALID;
}

static int cmd_genesis(int argc, char **argv)
{
    enum { O_VAL = 1, O_ACC, O_OUT, O_NAME, O_TIME, O_TXS, O_BYTES, O_BATCH, O_VC, O_SKEW, O_HELP };
    static const struct option opts[] = {
        {"validator", required_argument, NULL, O_VAL},
        {"accreditor", required_argument, NULL, O_ACC},
        {"output", required_argument, NULL, O_OUT},
        {"chain-name", required_argument, NULL, O_NAME},
        {"time-ms", required_argument, NULL, O_TIME},
        {"max-block-txs", required_argument, NULL, O_TXS},
        {"max-block-bytes", required_argument, NULL, O_BYTES},
        {"batch-timeout-ms", required_argument, NULL, O_BATCH},
        {"view-change-timeout-ms", required_argument, NULL, O_VC},
        {"max-clock-skew-ms", required_argument, NULL, O_SKEW},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int rc = EXIT_USAGE;
    genesis_t g;
    const char *out = NULL;
    char err[512] = "";
    char *json = NULL;
    size_t json_len = 0;
    genesis_t *check = NULL;
    hm_buf_t b = {0};
    memset(&g, 0, sizeof g);
    g.params = genesis_params_default();
    g.chain_name = (char *)"hallmark";
    g.genesis_time_ms = 0;
    bool have_time = false;
    g.validators = calloc(GENESIS_MAX_VALIDATORS, sizeof *g.validators);
    g.accreditors = calloc(GENESIS_MAX_ACCREDITORS, sizeof *g.accreditors);
    if (!g.validators || !g.accreditors) {
        fprintf(stderr, "hallmarkd: out of memory\n");
        goto done;
    }
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        uint32_t u;
        switch (c) {
        case O_VAL: {
            if (g.n_validators >= GENESIS_MAX_VALIDATORS) {
                fprintf(stderr, "hallmarkd: more than %d validators\n", GENESIS_MAX_VALIDATORS);
                goto done;
            }
            int frc = hm_seal_read_file(&b, optarg, 64 * 1024);
            if (frc != HM_OK) {
                fprintf(stderr, "hallmarkd: %s: %s\n", optarg, hm_strerror(frc));
                goto done;
            }
            if (genesis_parse_validator(&g.validators[g.n_validators], b.data, b.len, err,
                                        sizeof err) != HM_OK) {
                fprintf(stderr, "hallmarkd: %s: %s\n", optarg, err);
                goto done;
            }
            g.n_validators++;
            break;
        }
        case O_ACC:
            if (g.n_accreditors >= GENESIS_MAX_ACCREDITORS ||
                parse_accreditor(&g.accreditors[g.n_accreditors], optarg, err, sizeof err) !=
                    HM_OK) {
                fprintf(stderr, "hallmarkd: %s\n\n%s", err, USAGE_GENESIS);
                goto done;
            }
            g.n_accreditors++;
            break;
        case 'o':
        case O_OUT: out = optarg; break;
        case O_NAME: g.chain_name = optarg; break;
        case O_TIME: {
            char *end;
            errno = 0;
            unsigned long long t = strtoull(optarg, &end, 10);
            if (errno || *end || !*optarg || optarg[0] == '-') {
                rc = usage_error(USAGE_GENESIS, "--time-ms '%s' is not a number", optarg);
                goto done;
            }
            g.genesis_time_ms = t;
            have_time = true;
            break;
        }
        case O_TXS:
        case O_BYTES:
        case O_BATCH:
        case O_VC:
        case O_SKEW:
            if (!parse_u32(optarg, &u)) {
                rc = usage_error(USAGE_GENESIS, "'%s' is not a number", optarg);
                goto done;
            }
            if (c == O_TXS)
                g.params.max_block_txs = u;
            else if (c == O_BYTES)
                g.params.max_block_bytes = u;
            else if (c == O_BATCH)
                g.params.batch_timeout_ms = u;
            else if (c == O_VC)
                g.params.view_change_timeout_ms = u;
            else
                g.params.max_clock_skew_ms = u;
            break;
        case O_HELP:
            fputs(USAGE_GENESIS, stdout);
            rc = EXIT_OK;
            goto done;
        default: fputs(USAGE_GENESIS, stderr); goto done;
        }
    }
    if (optind < argc) {
        rc = usage_error(USAGE_GENESIS, "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!out || g.n_validators == 0 || g.n_accreditors == 0) {
        rc = usage_error(USAGE_GENESIS, "%s",
                         "-o, at least one --validator and one --accreditor are required");
        goto done;
    }
    if (!have_time) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        g.genesis_time_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    }
    if (genesis_dump(&json, &json_len, &g) != HM_OK) {
        fprintf(stderr, "hallmarkd: out of memory\n");
        goto done;
    }
    /* The file must pass the same checks every node will apply. */
    if (genesis_parse(&check, (const uint8_t *)json, json_len, err, sizeof err) != HM_OK) {
        fprintf(stderr, "hallmarkd: invalid genesis: %s\n", err);
        goto done;
    }
    struct stat st;
    if (stat(out, &st) == 0) {
        fprintf(stderr, "hallmarkd: %s exists; refusing to overwrite a genesis\n", out);
        goto done;
    }
    if (hm_seal_write_atomic(out, (const uint8_t *)json, json_len) != HM_OK) {
        fprintf(stderr, "hallmarkd: cannot write %s\n", out);
        goto done;
    }
    chmod(out, 0644);
    char chain[65];
    hm_hex_encode(chain, check->chain_id, HM_HASH_LEN);
    printf("%s\n", chain);
    fprintf(stderr, "hallmarkd: wrote %s (%zu validators); chain id printed above\n", out,
            g.n_validators);
    rc = EXIT_OK;
done:
    hm_buf_free(&b);
    free(json);
    genesis_free(check);
    free(g.validators);
    free(g.accreditors);
    return rc;
}

/* ------------------------------------------------------------------- run */

static int cmd_run(int argc, char **argv)
{
    enum { O_DATADIR = 1, O_CONF, O_FULL, O_LOG, O_HELP };
    static const struct option opts[] = {
        {"datadir", required_argument, NULL, O_DATADIR},
        {"conf", required_argument, NULL, O_CONF},
        {"full", no_argument, NULL, O_FULL},
        {"log-level", required_argument, NULL, O_LOG},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    node_options_t o;
    memset(&o, 0, sizeof o);
    o.version = HALLMARKD_VERSION;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATADIR: o.datadir = optarg; break;
        case O_CONF: o.config_path = optarg; break;
        case O_FULL: o.force_full = true; break;
        case O_LOG: o.log_level = optarg; break;
        case O_HELP: fputs(USAGE_RUN, stdout); return EXIT_OK;
        default: fputs(USAGE_RUN, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error(USAGE_RUN, "unexpected argument '%s'", argv[optind]);
    if (!o.datadir)
        return usage_error(USAGE_RUN, "%s", "--datadir is required");
    hm_log_level_t lv;
    if (o.log_level && hm_log_level_parse(o.log_level, &lv) != HM_OK)
        return usage_error(USAGE_RUN, "unknown --log-level '%s'", o.log_level);

    /* A peer closing mid-write must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
    node_t *n = NULL;
    node_wire_t *w = NULL;
    if (node_open(&n, &o) != HM_OK)
        return EXIT_USAGE;
    if (wire_new(&w, HALLMARKD_VERSION) != HM_OK) {
        node_close(n);
        return EXIT_USAGE;
    }
    node_hooks_t hooks;
    wire_hooks(w, &hooks);
    node_set_hooks(n, &hooks);
    int rc = node_run(n);
    bool storage = wire_failed(w) || (rc != HM_OK && node_failed_storage(n));
    if (storage)
        HM_LOG_ERR("node", "exiting with status %d: storage failed (see above); nothing unsaved "
                           "was sent. Fix the disk: the node restarts from what it saved and "
                           "catches up (systemd restarts it by itself)",
                   NODE_EXIT_STORAGE);
    node_close(n);
    wire_free(w);
    if (storage)
        return NODE_EXIT_STORAGE;
    return rc == HM_OK ? EXIT_OK : EXIT_USAGE;
}

static int cmd_config_help(int argc, char **argv)
{
    bool md = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--markdown"))
            md = true;
        else if (!strcmp(argv[i], "--help")) {
            fputs(USAGE_CONFIG_HELP, stdout);
            return EXIT_OK;
        } else
            return usage_error(USAGE_CONFIG_HELP, "unexpected argument '%s'", argv[i]);
    }
    if (md)
        config_write_reference(stdout);
    else
        config_write_template(stdout, NULL, NULL, 0);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error(USAGE_MAIN, "%s", "a command is required");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("%s\n", HALLMARKD_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(USAGE_MAIN, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "init"))
        return cmd_init(argc - 1, argv + 1);
    if (!strcmp(cmd, "genesis"))
        return cmd_genesis(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "config-help"))
        return cmd_config_help(argc - 1, argv + 1);
    if (cmd[0] == '-') /* `hallmarkd --datadir D`: run is the default */
        return cmd_run(argc, argv);
    return usage_error(USAGE_MAIN, "unknown command '%s'", cmd);
}
