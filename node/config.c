/* node/config — see config.h. Owns the config keys and their parsing;
 * depends on lib/ only. */
#include "node/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/hex.h"
#include "lib/keys.h"
#include "lib/seal.h"

#define OFF(f) offsetof(node_config_t, f)

static const config_key_t KEYS[] = {
    {"mode", CONFIG_MODE, OFF(mode), "validator", 0, 0,
     "validator (votes when its key is in the validator set) or full (follows, never votes)"},
    {"listen", CONFIG_HOSTPORT, OFF(listen), "0.0.0.0:7700", 0, 0,
     "p2p listener, host:port (TLS 1.3, peers pinned by certificate fingerprint)"},
    {"peer", CONFIG_HOSTPORT_LIST, OFF(peers), "", 0, 0,
     "outbound peer host:port; repeat the key or separate with commas; none = the genesis validators"},
    {"observer", CONFIG_FP_LIST, OFF(observers), "", 0, 0,
     "extra TLS certificate SHA-256 fingerprint (64 hex) allowed to connect (non-voting observers)"},
    {"rpc_bind", CONFIG_HOSTPORT, OFF(rpc_bind), "127.0.0.1:7701", 0, 0,
     "JSON API listener, host:port (keep it on localhost unless behind TLS)"},
    {"rpc_token", CONFIG_STR, OFF(rpc_token), "", 0, 0,
     "bearer token for the JSON API (Authorization: Bearer ...); empty = no token"},
    {"rpc_cookie", CONFIG_BOOL, OFF(rpc_cookie), "true", 0, 0,
     "write a random secret to <datadir>/.cookie (0600) at start and require it (Bearer or Basic __cookie__:secret)"},
    {"rpc_max_connections", CONFIG_U32, OFF(rpc_max_connections), "128", 1, 65535,
     "most simultaneous JSON API connections; at the cap the least recently active one is closed to admit a new one"},
    {"rpc_request_timeout_ms", CONFIG_U32, OFF(rpc_request_timeout_ms), "30000", 100, 3600000,
     "a JSON API connection must send a complete request within this time of connecting or of its last one (slow and idle clients are closed)"},
    {"batch_max_txs", CONFIG_U32, OFF(batch_max_txs), "0", 0, 1000000,
     "most txs this node puts in a proposal (0 = genesis max_block_txs)"},
    {"batch_timeout_ms", CONFIG_U32, OFF(batch_timeout_ms), "0", 0, 600000,
     "how long a primary waits to fill a batch (0 = genesis batch_timeout_ms)"},
    {"view_change_timeout_ms", CONFIG_U32, OFF(view_change_timeout_ms), "0", 0, 3600000,
     "base view-change timeout, doubled per consecutive view change (0 = genesis value)"},
    {"log_level", CONFIG_LOG_LEVEL, OFF(log_level), "info", 0, 0,
     "error, warn, info, debug or trace"},
    {"log_file", CONFIG_PATH, OFF(log_file), "", 0, 0,
     "log to this file (relative to the datadir) instead of stderr"},
    {"genesis", CONFIG_PATH, OFF(genesis_file), "genesis.json", 0, 0,
     "the genesis file (its exact bytes define the chain id)"},
    {"key_file", CONFIG_PATH, OFF(key_file), "node.key", 0, 0,
     "consensus secret key: plain hex (0600) or sealed with a passphrase (scrypt + AES-256-GCM)"},
    {"key_passphrase_file", CONFIG_PATH, OFF(key_passphrase_file), "", 0, 0,
     "file holding the passphrase of a sealed key_file (first line); empty = key_file is plain"},
    {"tls_cert", CONFIG_PATH, OFF(tls_cert_file), "tls.crt", 0, 0,
     "this node's self-signed TLS certificate (PEM)"},
    {"tls_key", CONFIG_PATH, OFF(tls_key_file), "tls.key", 0, 0, "its private key (PEM, 0600)"},
    {"send_queue_max_bytes", CONFIG_U64, OFF(send_queue_max_bytes), "67108864", 1048576,
     4294967296ull, "per-peer send queue cap; a peer that falls this far behind is disconnected"},
    {"reconnect_max_ms", CONFIG_U32, OFF(reconnect_max_ms), "30000", 100, 3600000,
     "cap of the exponential reconnect backoff"},
    {"keepalive_ms", CONFIG_U32, OFF(keepalive_ms), "5000", 100, 600000,
     "send a Status to each peer this often; a peer silent for 4x this is dropped"},
    {"max_inbound", CONFIG_U32, OFF(max_inbound), "64", 1, 10000,
     "most simultaneous inbound p2p connections; at the cap the oldest unauthenticated one makes room"},
    {"handshake_timeout_ms", CONFIG_U32, OFF(handshake_timeout_ms), "10000", 100, 600000,
     "a p2p connection must finish TLS and the Hello within this time or is closed"},
    {"node_cache_huge_pages", CONFIG_BOOL, OFF(node_cache_huge_pages), "true", 0, 0,
     "back the in-memory SMT node cache (up to 524 MiB, grown as the state needs it) with transparent huge pages: fewer TLB misses; false: 4 KiB pages"},
    {NULL, CONFIG_STR, 0, NULL, 0, 0, NULL},
};

const config_key_t *config_keys(void)
{
    return KEYS;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int config_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon, *hs, *he;
    if (!s || !*s)
        return HM_ERR_INVALID;
    if (s[0] == '[') {
        he = strchr(s, ']');
        if (!he || he[1] != ':')
            return HM_ERR_INVALID;
        hs = s + 1;
        colon = he + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s)))
            return HM_ERR_INVALID; /* bare IPv6 must be bracketed */
        hs = s;
        he = colon;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= hostlen)
        return HM_ERR_INVALID;
    for (const char *c = hs; c < he; c++)
        if (!(isalnum((unsigned char)*c) || *c == '.' || *c == '-' || *c == ':' || *c == '_'))
            return HM_ERR_INVALID;
    const char *ps = colon + 1;
    if (!*ps || strlen(ps) > 5)
        return HM_ERR_INVALID;
    unsigned long p = 0;
    for (const char *c = ps; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return HM_ERR_INVALID;
        p = p * 10 + (unsigned long)(*c - '0');
    }
    if (p == 0 || p > 65535)
        return HM_ERR_INVALID;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return HM_OK;
}

static int parse_u64(const char *v, uint64_t *out)
{
    if (!*v || strlen(v) > 20)
        return HM_ERR_INVALID;
    uint64_t x = 0;
    for (const char *c = v; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return HM_ERR_INVALID;
        if (!hm_mul_u64(&x, x, 10) || !hm_add_u64(&x, x, (uint64_t)(*c - '0')))
            return HM_ERR_INVALID;
    }
    *out = x;
    return HM_OK;
}

static int list_add_str(char ***list, size_t *n, const char *v)
{
    if (*n >= CONFIG_MAX_LIST)
        return HM_ERR_LIMIT;
    char **p = realloc(*list, (*n + 1) * sizeof *p);
    if (!p)
        return HM_ERR_NOMEM;
    *list = p;
    if (!(p[*n] = strdup(v)))
        return HM_ERR_NOMEM;
    (*n)++;
    return HM_OK;
}

/* Set one key from its textual value; used for defaults and for the file. */
static int set_value(node_config_t *cfg, const config_key_t *k, const char *v, char *why,
                     size_t whylen)
{
    void *field = (char *)cfg + k->offset;
    switch (k->kind) {
    case CONFIG_STR:
    case CONFIG_PATH: {
        char **s = field;
        if (k->kind == CONFIG_PATH && !*v && k->def && *k->def) {
            /* a file the node needs (genesis, keys, TLS): "" left it NULL
             * and the daemon exited 2 without a word (fuzz_node_config) */
            seterr(why, whylen, "a path is required (default %s)", k->def);
            return HM_ERR_INVALID;
        }
        free(*s);
        *s = NULL;
        if (*v && !(*s = strdup(v)))
            return HM_ERR_NOMEM;
        return HM_OK;
    }
    case CONFIG_BOOL: {
        bool *b = field;
        if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
            *b = true;
        else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
            *b = false;
        else {
            seterr(why, whylen, "expected true or false");
            return HM_ERR_INVALID;
        }
        return HM_OK;
    }
    case CONFIG_U32:
    case CONFIG_U64: {
        uint64_t x;
        if (parse_u64(v, &x) != HM_OK || x < k->min || x > k->max) {
            seterr(why, whylen, "expected an integer in [%" PRIu64 ", %" PRIu64 "]", k->min,
                   k->max);
            return HM_ERR_INVALID;
        }
        if (k->kind == CONFIG_U32)
            *(uint32_t *)field = (uint32_t)x;
        else
            *(uint64_t *)field = x;
        return HM_OK;
    }
    case CONFIG_HOSTPORT: {
        char host[256];
        uint16_t port;
        if (config_split_hostport(v, host, sizeof host, &port) != HM_OK) {
            seterr(why, whylen, "expected host:port");
            return HM_ERR_INVALID;
        }
        char **s = field;
        free(*s);
        return (*s = strdup(v)) ? HM_OK : HM_ERR_NOMEM;
    }
    case CONFIG_HOSTPORT_LIST:
    case CONFIG_FP_LIST: {
        /* comma-separated; each item trimmed; an empty value adds nothing */
        char *copy = strdup(v), *save = NULL;
        int rc = HM_OK;
        if (!copy)
            return HM_ERR_NOMEM;
        for (char *it = strtok_r(copy, ",", &save); it && rc == HM_OK;
             it = strtok_r(NULL, ",", &save)) {
            while (isspace((unsigned char)*it))
                it++;
            char *e = it + strlen(it);
            while (e > it && isspace((unsigned char)e[-1]))
                *--e = '\0';
            if (!*it)
                continue;
            if (k->kind == CONFIG_HOSTPORT_LIST) {
                char host[256];
                uint16_t port;
                if (config_split_hostport(it, host, sizeof host, &port) != HM_OK) {
                    seterr(why, whylen, "'%s' is not host:port", it);
                    rc = HM_ERR_INVALID;
                } else if ((rc = list_add_str(&cfg->peers, &cfg->n_peers, it)) == HM_ERR_LIMIT)
                    seterr(why, whylen, "more than %d peers", CONFIG_MAX_LIST);
            } else {
                uint8_t fp[CONFIG_FP_LEN];
                if (strlen(it) != 2 * CONFIG_FP_LEN || hm_hex_decode(fp, sizeof fp, it) != HM_OK) {
                    seterr(why, whylen, "'%s' is not a 64-hex fingerprint", it);
                    rc = HM_ERR_INVALID;
                } else if (cfg->n_observers >= CONFIG_MAX_LIST) {
                    seterr(why, whylen, "more than %d observers", CONFIG_MAX_LIST);
                    rc = HM_ERR_LIMIT;
                } else {
                    uint8_t(*p)[CONFIG_FP_LEN] =
                        realloc(cfg->observers, (cfg->n_observers + 1) * sizeof *p);
                    if (!p)
                        rc = HM_ERR_NOMEM;
                    else {
                        cfg->observers = p;
                        memcpy(p[cfg->n_observers++], fp, CONFIG_FP_LEN);
                    }
                }
            }
        }
        free(copy);
        return rc == HM_ERR_LIMIT ? HM_ERR_INVALID : rc;
    }
    case CONFIG_LOG_LEVEL: {
        hm_log_level_t lv;
        if (hm_log_level_parse(v, &lv) != HM_OK) {
            seterr(why, whylen, "expected error, warn, info, debug or trace");
            return HM_ERR_INVALID;
        }
        *(hm_log_level_t *)field = lv;
        return HM_OK;
    }
    case CONFIG_MODE:
        if (!strcmp(v, "validator"))
            *(node_mode_t *)field = NODE_MODE_VALIDATOR;
        else if (!strcmp(v, "full"))
            *(node_mode_t *)field = NODE_MODE_FULL;
        else {
            seterr(why, whylen, "expected validator or full");
            return HM_ERR_INVALID;
        }
        return HM_OK;
    }
    return HM_ERR_INVALID;
}

void config_free(node_config_t *cfg)
{
    if (!cfg)
        return;
    if (cfg->rpc_token) /* wipe before the loop below frees it */
        hm_wipe(cfg->rpc_token, strlen(cfg->rpc_token));
    for (const config_key_t *k = KEYS; k->key; k++)
        if (k->kind == CONFIG_STR || k->kind == CONFIG_PATH || k->kind == CONFIG_HOSTPORT)
            free(*(char **)((char *)cfg + k->offset));
    for (size_t i = 0; i < cfg->n_peers; i++)
        free(cfg->peers[i]);
    free(cfg->peers);
    free(cfg->observers);
    free(cfg->datadir);
    free(cfg);
}

int config_defaults(node_config_t **out, const char *datadir)
{
    int rc = HM_ERR_NOMEM;
    node_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->datadir = strdup(datadir ? datadir : ".")))
        goto done;
    for (const config_key_t *k = KEYS; k->key; k++)
        if ((rc = set_value(cfg, k, k->def, NULL, 0)) != HM_OK)
            goto done;
    *out = cfg;
    cfg = NULL;
    rc = HM_OK;
done:
    config_free(cfg);
    return rc;
}

int config_parse(node_config_t **out, const char *datadir, const char *text, size_t len,
                 char *err, size_t errlen)
{
    int rc;
    node_config_t *cfg = NULL;
    size_t nkeys = 0;
    bool *seen = NULL;
    char line[4096];
    size_t lineno = 0, pos = 0;

    if (len > CONFIG_MAX_FILE_BYTES) {
        seterr(err, errlen, "config file over %u bytes", CONFIG_MAX_FILE_BYTES);
        return HM_ERR_TOO_LARGE;
    }
    if ((rc = config_defaults(&cfg, datadir)) != HM_OK)
        goto done;
    while (KEYS[nkeys].key)
        nkeys++;
    rc = HM_ERR_NOMEM;
    if (!(seen = calloc(nkeys, sizeof *seen)))
        goto done;

    while (pos < len) {
        size_t start = pos;
        while (pos < len && text[pos] != '\n')
            pos++;
        size_t ll = pos - start;
        pos++; /* past '\n' (or the end) */
        lineno++;
        rc = HM_ERR_INVALID;
        if (ll >= sizeof line) {
            seterr(err, errlen, "line %zu: longer than %zu bytes", lineno, sizeof line - 1);
            goto done;
        }
        memcpy(line, text + start, ll);
        line[ll] = '\0';
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        if (memchr(line, '\0', ll)) {
            seterr(err, errlen, "line %zu: contains a NUL byte", lineno);
            goto done;
        }
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            seterr(err, errlen, "line %zu: expected key = value", lineno);
            goto done;
        }
        char *ke = eq;
        while (ke > s && isspace((unsigned char)ke[-1]))
            ke--;
        *ke = '\0';
        char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        char *ve = v + strlen(v);
        while (ve > v && isspace((unsigned char)ve[-1]))
            *--ve = '\0';
        for (const unsigned char *c = (const unsigned char *)v; *c; c++)
            if (*c < 0x20 && *c != '\t') {
                seterr(err, errlen, "line %zu: control character in value", lineno);
                goto done;
            }
        size_t ki;
        for (ki = 0; ki < nkeys; ki++)
            if (!strcmp(KEYS[ki].key, s))
                break;
        if (ki == nkeys) {
            char shown[64];
            snprintf(shown, sizeof shown, "%s", s);
            seterr(err, errlen, "line %zu: unknown key '%s'", lineno, shown);
            goto done;
        }
        const config_key_t *k = &KEYS[ki];
        bool is_list = k->kind == CONFIG_HOSTPORT_LIST || k->kind == CONFIG_FP_LIST;
        if (seen[ki] && !is_list) {
            seterr(err, errlen, "line %zu: '%s' set twice", lineno, k->key);
            goto done;
        }
        seen[ki] = true;
        char why[200] = "";
        if ((rc = set_value(cfg, k, v, why, sizeof why)) != HM_OK) {
            seterr(err, errlen, "line %zu: %s: %s", lineno, k->key, why[0] ? why : hm_strerror(rc));
            goto done;
        }
    }
    *out = cfg;
    cfg = NULL;
    rc = HM_OK;
done:
    hm_wipe(line, sizeof line); /* may have held the token */
    free(seen);
    config_free(cfg);
    return rc;
}

int config_load(node_config_t **out, const char *datadir, const char *path, char *err,
                size_t errlen)
{
    int rc;
    hm_buf_t b = {0};
    char def[4096];
    if (!path) {
        if ((size_t)snprintf(def, sizeof def, "%s/%s", datadir, CONFIG_FILE_NAME) >= sizeof def)
            return HM_ERR_INVALID;
        path = def;
    }
    rc = hm_seal_read_file(&b, path, CONFIG_MAX_FILE_BYTES);
    if (rc != HM_OK) {
        seterr(err, errlen, "%s: %s", path, hm_strerror(rc));
        goto done;
    }
    char inner[400] = "";
    rc = config_parse(out, datadir, b.len ? (const char *)b.data : "", b.len, inner, sizeof inner);
    if (rc != HM_OK)
        seterr(err, errlen, "%s: %s", path, inner);
done:
    hm_buf_free_secure(&b);
    return rc;
}

char *config_path(const node_config_t *cfg, const char *rel)
{
    char *p = NULL;
    if (!rel)
        return NULL;
    if (rel[0] == '/')
        return strdup(rel);
    if (asprintf(&p, "%s/%s", cfg->datadir, rel) < 0)
        return NULL;
    return p;
}

void config_write_template(FILE *f, const char *const *keys, const char *const *values, size_t n)
{
    fprintf(f, "# hallmarkd configuration. One `key = value` per line; lines starting\n"
               "# with '#' are comments. Unknown keys are errors. Relative paths are\n"
               "# relative to the data directory. `hallmarkd config-help` lists every key.\n");
    for (const config_key_t *k = KEYS; k->key; k++) {
        fprintf(f, "\n# %s\n", k->help);
        bool set = false;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(keys[i], k->key)) {
                fprintf(f, "%s = %s\n", k->key, values[i]);
                set = true;
            }
        if (!set)
            fprintf(f, "#%s = %s\n", k->key, k->def);
    }
}

static const char *kind_name(config_kind_t k)
{
    switch (k) {
    case CONFIG_STR: return "string";
    case CONFIG_PATH: return "path";
    case CONFIG_BOOL: return "bool";
    case CONFIG_U32:
    case CONFIG_U64: return "integer";
    case CONFIG_HOSTPORT: return "host:port";
    case CONFIG_HOSTPORT_LIST: return "host:port, repeatable";
    case CONFIG_FP_LIST: return "64 hex, repeatable";
    case CONFIG_LOG_LEVEL: return "level";
    case CONFIG_MODE: return "validator or full";
    }
    return "?";
}

void config_write_reference(FILE *f)
{
    fprintf(f, "| key | type | default | meaning |\n|---|---|---|---|\n");
    for (const config_key_t *k = KEYS; k->key; k++) {
        fprintf(f, "| `%s` | %s", k->key, kind_name(k->kind));
        if (k->kind == CONFIG_U32 || k->kind == CONFIG_U64)
            fprintf(f, " %" PRIu64 "..%" PRIu64, k->min, k->max);
        fprintf(f, " | %s%s%s | %s |\n", k->def[0] ? "`" : "", k->def[0] ? k->def : "(none)",
                k->def[0] ? "`" : "", k->help);
    }
}
