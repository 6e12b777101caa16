/* Harness: the config parser (node/config) on arbitrary bytes. Invariants:
 * a rejected input leaves no output and explains itself; an accepted one
 * has every integer inside its key's range, every list under its cap, and
 * a path for every file the node needs. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    node_config_t *cfg = NULL;
    char err[256] = "";
    if (config_parse(&cfg, "/nonexistent", (const char *)data, size, err, sizeof err) != HM_OK) {
        HM_FUZZ_CHECK(cfg == NULL);
        HM_FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    for (const config_key_t *k = config_keys(); k->key; k++) {
        const char *field = (const char *)cfg + k->offset;
        if (k->kind == CONFIG_U32) {
            uint32_t v;
            memcpy(&v, field, sizeof v);
            HM_FUZZ_CHECK(v >= k->min && v <= k->max);
        } else if (k->kind == CONFIG_U64) {
            uint64_t v;
            memcpy(&v, field, sizeof v);
            HM_FUZZ_CHECK(v >= k->min && v <= k->max);
        }
    }
    HM_FUZZ_CHECK(cfg->n_peers <= CONFIG_MAX_LIST && cfg->n_observers <= CONFIG_MAX_LIST);
    HM_FUZZ_CHECK(cfg->listen && cfg->rpc_bind);
    /* the files the node needs always have a path (an empty value once
     * left one NULL: the daemon then exited 2 without a word) */
    const char *need[] = {cfg->genesis_file, cfg->key_file, cfg->tls_cert_file, cfg->tls_key_file};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        char *p = config_path(cfg, need[i]);
        HM_FUZZ_CHECK(p != NULL);
        free(p);
    }
    config_free(cfg);
    return 0;
}
