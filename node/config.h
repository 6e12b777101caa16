/* node/config — hallmarkd's configuration file: `key = value` lines, comments
 * are whole lines starting with '#', blank lines ignored. Parsing is strict:
 * an unknown key, a repeated single-valued key or a bad value is an error
 * naming the line. Every key has a default, so an empty file is valid.
 *
 * The key table (config_keys) is the single source of the keys, their
 * defaults and their documentation: `hallmarkd init` writes a commented
 * config from it and `hallmarkd config-help` prints the reference.
 *
 * Depends on lib/ only; no I/O beyond reading the file named by the caller. */
#ifndef HM_NODE_CONFIG_H
#define HM_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"
#include "lib/log.h"

#define CONFIG_FILE_NAME "hallmarkd.conf"
#define CONFIG_MAX_FILE_BYTES (256u * 1024u)
#define CONFIG_MAX_LIST 256 /* peers, observers */
#define CONFIG_FP_LEN 32

typedef enum {
    NODE_MODE_VALIDATOR = 0, /* votes when its key is in the validator set */
    NODE_MODE_FULL = 1,      /* follows, never votes */
} node_mode_t;

/* A parsed configuration. Plain data, read-only after config_load; every
 * string is owned by the struct and freed by config_free. Paths are as
 * written; resolve them against the data directory with config_path. */
typedef struct {
    char *datadir; /* set by config_load from its argument, absolute or as given */
    node_mode_t mode;
    char *listen;        /* p2p host:port */
    char **peers;        /* host:port each; empty = the genesis validators */
    size_t n_peers;
    uint8_t (*observers)[CONFIG_FP_LEN]; /* extra allowed TLS fingerprints */
    size_t n_observers;
    char *rpc_bind; /* host:port */
    char *rpc_token; /* bearer token, NULL = no token auth */
    bool rpc_cookie; /* write datadir/.cookie and accept it */
    bool node_cache_huge_pages; /* store_options_t.node_cache_huge_pages */
    uint32_t rpc_max_connections;    /* concurrent JSON API connections */
    uint32_t rpc_request_timeout_ms; /* a complete request within this, or closed */
    uint32_t batch_max_txs;          /* 0 = the genesis value */
    uint32_t batch_timeout_ms;       /* 0 = the genesis value */
    uint32_t view_change_timeout_ms; /* 0 = the genesis value */
    hm_log_level_t log_level;
    char *log_file; /* NULL = stderr */
    char *genesis_file;
    char *key_file;
    char *key_passphrase_file; /* NULL = the key file is plain */
    char *tls_cert_file;
    char *tls_key_file;
    uint64_t send_queue_max_bytes;
    uint32_t reconnect_max_ms;
    uint32_t keepalive_ms;
    uint32_t max_inbound;
    uint32_t handshake_timeout_ms; /* TLS + Hello */
} node_config_t;

/* Value kinds of the key table. */
typedef enum {
    CONFIG_STR,
    CONFIG_PATH,
    CONFIG_BOOL,
    CONFIG_U32,
    CONFIG_U64,
    CONFIG_HOSTPORT,
    CONFIG_HOSTPORT_LIST,
    CONFIG_FP_LIST,
    CONFIG_LOG_LEVEL,
    CONFIG_MODE,
} config_kind_t;

typedef struct {
    const char *key;
    config_kind_t kind;
    size_t offset;    /* into node_config_t */
    const char *def;  /* default as it would be written; "" = unset */
    uint64_t min, max; /* for integers */
    const char *help; /* one line */
} config_key_t;

/* The key table, terminated by an entry with key == NULL. Static, read-only. */
const config_key_t *config_keys(void);

/* A config holding every default (datadir copied). Out: *out (config_free). */
int config_defaults(node_config_t **out, const char *datadir) HM_WUR;

/* Parse text (not NUL-terminated; untrusted) over the defaults.
 * Out: *out on success (caller frees with config_free).
 * On failure writes "line N: what is wrong" into err (errlen bytes, may be
 * NULL) and returns HM_ERR_INVALID (or HM_ERR_NOMEM / HM_ERR_TOO_LARGE). */
int config_parse(node_config_t **out, const char *datadir, const char *text, size_t len,
                 char *err, size_t errlen) HM_WUR;

/* Read datadir/hallmarkd.conf (or `path` when non-NULL) and parse it. A missing
 * file is HM_ERR_NOT_FOUND. err as config_parse. */
int config_load(node_config_t **out, const char *datadir, const char *path, char *err,
                size_t errlen) HM_WUR;

void config_free(node_config_t *cfg);

/* Resolve a configured path: absolute paths are returned as copies, relative
 * ones joined to cfg->datadir. Returns a malloc'd string or NULL (no memory). */
char *config_path(const node_config_t *cfg, const char *rel);

/* Split "host:port" or "[v6]:port". host gets the host without brackets.
 * Returns HM_OK or HM_ERR_INVALID (empty host, bad or zero port). */
int config_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port) HM_WUR;

/* Write a complete commented config: every key with its help line, the
 * given overrides uncommented (arrays of n key/value pairs), the rest as
 * commented defaults. */
void config_write_template(FILE *f, const char *const *keys, const char *const *values, size_t n);

/* Print the key table as a Markdown table (docs). */
void config_write_reference(FILE *f);

#endif
