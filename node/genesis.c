/* node/genesis — see genesis.h. Owns the genesis JSON format; depends on
 * lib/ (hash, hex, keys) and jansson. */
#include "node/genesis.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/hex.h"
#include "lib/seal.h"
#include "node/config.h"
#include "proto/hallmark.pb-c.h"

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

genesis_params_t genesis_params_default(void)
{
    genesis_params_t p = {
        .max_block_txs = 2000,
        .max_block_bytes = 4u * 1024u * 1024u,
        .batch_timeout_ms = 200,
        .view_change_timeout_ms = 5000,
        .max_clock_skew_ms = 10000,
    };
    return p;
}

static const char *const KIND_NAMES[] = {NULL, "MANUFACTURER", "DESIGNER", "INSPECTOR",
                                         "AUDITOR", "OPERATOR"};

int genesis_kind_parse(const char *s)
{
    for (int i = 1; i <= 5; i++)
        if (s && !strcmp(s, KIND_NAMES[i]))
            return i;
    return -1;
}

const char *genesis_kind_name(int kind)
{
    return kind >= 1 && kind <= 5 ? KIND_NAMES[kind] : "UNSPECIFIED";
}

/* Every key of obj must be in allowed (NULL-terminated), every allowed key present. */
static int check_keys(const json_t *obj, const char *const *allowed, const char *ctx, char *err,
                      size_t errlen)
{
    const char *key;
    json_t *v;
    if (!json_is_object(obj)) {
        seterr(err, errlen, "%s: expected an object", ctx);
        return HM_ERR_INVALID;
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i;
        for (i = 0; allowed[i]; i++)
            if (!strcmp(key, allowed[i]))
                break;
        if (!allowed[i]) {
            char shown[48];
            snprintf(shown, sizeof shown, "%s", key);
            seterr(err, errlen, "%s: unknown field \"%s\"", ctx, shown);
            return HM_ERR_INVALID;
        }
    }
    for (size_t i = 0; allowed[i]; i++)
        if (!json_object_get(obj, allowed[i])) {
            seterr(err, errlen, "%s: missing field \"%s\"", ctx, allowed[i]);
            return HM_ERR_INVALID;
        }
    return HM_OK;
}

static int get_name(char *out, const json_t *obj, const char *key, const char *ctx, char *err,
                    size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > GENESIS_MAX_NAME) {
        seterr(err, errlen, "%s.%s: expected a string of 1..%d bytes", ctx, key, GENESIS_MAX_NAME);
        return HM_ERR_INVALID;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            seterr(err, errlen, "%s.%s: control character", ctx, key);
            return HM_ERR_INVALID;
        }
    memcpy(out, s, n);
    out[n] = '\0';
    return HM_OK;
}

static int get_hex32(uint8_t out[32], const json_t *obj, const char *key, const char *ctx,
                     char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    if (!s || json_string_length(v) != 64 || hm_hex_decode(out, 32, s) != HM_OK) {
        seterr(err, errlen, "%s.%s: expected 64 hex digits", ctx, key);
        return HM_ERR_INVALID;
    }
    for (const char *c = s; *c; c++)
        if (*c >= 'A' && *c <= 'F') {
            seterr(err, errlen, "%s.%s: hex must be lowercase", ctx, key);
            return HM_ERR_INVALID;
        }
    return HM_OK;
}

static int get_uint(uint64_t *out, const json_t *obj, const char *key, uint64_t min, uint64_t max,
                    const char *ctx, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max) {
        seterr(err, errlen, "%s.%s: expected an integer in [%llu, %llu]", ctx, key,
               (unsigned long long)min, (unsigned long long)max);
        return HM_ERR_INVALID;
    }
    *out = (uint64_t)json_integer_value(v);
    return HM_OK;
}

static int parse_validator_obj(genesis_validator_t *out, const json_t *o, const char *ctx,
                               char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "pubkey", "tls_fingerprint", "address", NULL};
    int rc;
    genesis_validator_t v;
    memset(&v, 0, sizeof v);
    if ((rc = check_keys(o, keys, ctx, err, errlen)) != HM_OK ||
        (rc = get_name(v.name, o, "name", ctx, err, errlen)) != HM_OK ||
        (rc = get_hex32(v.pubkey, o, "pubkey", ctx, err, errlen)) != HM_OK ||
        (rc = get_hex32(v.tls_fingerprint, o, "tls_fingerprint", ctx, err, errlen)) != HM_OK)
        return rc;
    if (!hm_pubkey_is_valid(v.pubkey)) {
        seterr(err, errlen, "%s.pubkey: not a valid x-only secp256k1 key", ctx);
        return HM_ERR_INVALID;
    }
    const json_t *a = json_object_get(o, "address");
    char host[GENESIS_MAX_ADDRESS + 1];
    uint16_t port;
    if (!json_is_string(a) || json_string_length(a) > GENESIS_MAX_ADDRESS ||
        strlen(json_string_value(a)) != json_string_length(a) ||
        config_split_hostport(json_string_value(a), host, sizeof host, &port) != HM_OK) {
        seterr(err, errlen, "%s.address: expected \"host:port\"", ctx);
        return HM_ERR_INVALID;
    }
    snprintf(v.address, sizeof v.address, "%s", json_string_value(a));
    *out = v;
    return HM_OK;
}

static int parse_accreditor_obj(genesis_accreditor_t *out, const json_t *o, const char *ctx,
                                char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "kind", "controller_keys", "threshold", NULL};
    int rc;
    genesis_accreditor_t a;
    char sub[160];
    uint64_t th;
    memset(&a, 0, sizeof a);
    if ((rc = check_keys(o, keys, ctx, err, errlen)) != HM_OK ||
        (rc = get_name(a.name, o, "name", ctx, err, errlen)) != HM_OK)
        return rc;
    a.kind = genesis_kind_parse(json_string_value(json_object_get(o, "kind")));
    if (a.kind < 0) {
        seterr(err, errlen,
               "%s.kind: expected MANUFACTURER, DESIGNER, INSPECTOR, AUDITOR or OPERATOR", ctx);
        return HM_ERR_INVALID;
    }
    const json_t *ks = json_object_get(o, "controller_keys");
    if (!json_is_array(ks) || json_array_size(ks) < 1 ||
        json_array_size(ks) > GENESIS_MAX_CONTROLLER_KEYS) {
        seterr(err, errlen, "%s.controller_keys: expected 1..%d keys", ctx,
               GENESIS_MAX_CONTROLLER_KEYS);
        return HM_ERR_INVALID;
    }
    for (size_t i = 0; i < json_array_size(ks); i++) {
        const json_t *k = json_array_get(ks, i);
        const char *s = json_string_value(k);
        snprintf(sub, sizeof sub, "%s.controller_keys[%zu]", ctx, i);
        if (!s || json_string_length(k) != 64 || hm_hex_decode(a.controller_keys[i], 32, s) != HM_OK ||
            !hm_pubkey_is_valid(a.controller_keys[i])) {
            seterr(err, errlen, "%s: expected a 64-hex x-only public key", sub);
            return HM_ERR_INVALID;
        }
        for (size_t j = 0; j < i; j++)
            if (!memcmp(a.controller_keys[i], a.controller_keys[j], 32)) {
                seterr(err, errlen, "%s: duplicate key", sub);
                return HM_ERR_INVALID;
            }
    }
    a.n_controller_keys = json_array_size(ks);
    if ((rc = get_uint(&th, o, "threshold", 1, a.n_controller_keys, ctx, err, errlen)) != HM_OK)
        return rc;
    a.threshold = (uint32_t)th;
    *out = a;
    return HM_OK;
}

void genesis_free(genesis_t *g)
{
    if (!g)
        return;
    free(g->chain_name);
    free(g->validators);
    free(g->accreditors);
    free(g);
}

static json_t *load_json(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        seterr(err, errlen, "JSON error at line %d column %d: %s", je.line, je.column, je.text);
    return root;
}

int genesis_parse(genesis_t **out, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    static const char *const top_keys[] = {"chain_name", "genesis_time_ms", "params",
                                           "validators", "accreditors", NULL};
    static const char *const param_keys[] = {"max_block_txs", "max_block_bytes",
                                             "batch_timeout_ms", "view_change_timeout_ms",
                                             "max_clock_skew_ms", NULL};
    int rc = HM_ERR_INVALID;
    json_t *root = NULL;
    genesis_t *g = NULL;
    char ctx[64];
    uint64_t x;

    if (!data || len == 0) {
        seterr(err, errlen, "empty genesis");
        return HM_ERR_INVALID;
    }
    if (len > GENESIS_MAX_BYTES) {
        seterr(err, errlen, "genesis over %u bytes", GENESIS_MAX_BYTES);
        return HM_ERR_TOO_LARGE;
    }
    if (!(root = load_json(data, len, err, errlen)))
        goto done;
    if ((rc = check_keys(root, top_keys, "genesis", err, errlen)) != HM_OK)
        goto done;
    rc = HM_ERR_NOMEM;
    if (!(g = calloc(1, sizeof *g)))
        goto done;
    rc = HM_ERR_INVALID;
    char name[GENESIS_MAX_NAME + 1];
    if ((rc = get_name(name, root, "chain_name", "genesis", err, errlen)) != HM_OK)
        goto done;
    rc = HM_ERR_NOMEM;
    if (!(g->chain_name = strdup(name)))
        goto done;
    if ((rc = get_uint(&g->genesis_time_ms, root, "genesis_time_ms", 0, (1ull << 53), "genesis",
                       err, errlen)) != HM_OK)
        goto done;

    const json_t *p = json_object_get(root, "params");
    if ((rc = check_keys(p, param_keys, "params", err, errlen)) != HM_OK)
        goto done;
    if ((rc = get_uint(&x, p, "max_block_txs", 1, 100000, "params", err, errlen)) != HM_OK)
        goto done;
    g->params.max_block_txs = (uint32_t)x;
    if ((rc = get_uint(&x, p, "max_block_bytes", 4096, HM_MAX_BLOCK_BYTES, "params", err,
                       errlen)) != HM_OK)
        goto done;
    g->params.max_block_bytes = (uint32_t)x;
    if ((rc = get_uint(&x, p, "batch_timeout_ms", 1, 60000, "params", err, errlen)) != HM_OK)
        goto done;
    g->params.batch_timeout_ms = (uint32_t)x;
    if ((rc = get_uint(&x, p, "view_change_timeout_ms", 100, 3600000, "params", err, errlen)) !=
        HM_OK)
        goto done;
    g->params.view_change_timeout_ms = (uint32_t)x;
    if ((rc = get_uint(&x, p, "max_clock_skew_ms", 0, 3600000, "params", err, errlen)) != HM_OK)
        goto done;
    g->params.max_clock_skew_ms = (uint32_t)x;

    const json_t *vs = json_object_get(root, "validators");
    rc = HM_ERR_INVALID;
    if (!json_is_array(vs) || json_array_size(vs) < 1 ||
        json_array_size(vs) > GENESIS_MAX_VALIDATORS) {
        seterr(err, errlen, "validators: expected an array of 1..%d", GENESIS_MAX_VALIDATORS);
        goto done;
    }
    rc = HM_ERR_NOMEM;
    if (!(g->validators = calloc(json_array_size(vs), sizeof *g->validators)))
        goto done;
    for (size_t i = 0; i < json_array_size(vs); i++) {
        genesis_validator_t *v = &g->validators[i];
        snprintf(ctx, sizeof ctx, "validators[%zu]", i);
        if ((rc = parse_validator_obj(v, json_array_get(vs, i), ctx, err, errlen)) != HM_OK)
            goto done;
        rc = HM_ERR_INVALID;
        for (size_t j = 0; j < i; j++) {
            const genesis_validator_t *w = &g->validators[j];
            if (!memcmp(v->pubkey, w->pubkey, HM_PUBKEY_LEN)) {
                seterr(err, errlen, "%s.pubkey: same as validators[%zu]", ctx, j);
                goto done;
            }
            if (!memcmp(v->tls_fingerprint, w->tls_fingerprint, GENESIS_FP_LEN)) {
                seterr(err, errlen, "%s.tls_fingerprint: same as validators[%zu]", ctx, j);
                goto done;
            }
            if (!strcmp(v->name, w->name)) {
                seterr(err, errlen, "%s.name: same as validators[%zu]", ctx, j);
                goto done;
            }
        }
        g->n_validators = i + 1;
    }

    const json_t *as = json_object_get(root, "accreditors");
    rc = HM_ERR_INVALID;
    if (!json_is_array(as) || json_array_size(as) < 1 ||
        json_array_size(as) > GENESIS_MAX_ACCREDITORS) {
        seterr(err, errlen, "accreditors: expected an array of 1..%d", GENESIS_MAX_ACCREDITORS);
        goto done;
    }
    rc = HM_ERR_NOMEM;
    if (!(g->accreditors = calloc(json_array_size(as), sizeof *g->accreditors)))
        goto done;
    for (size_t i = 0; i < json_array_size(as); i++) {
        snprintf(ctx, sizeof ctx, "accreditors[%zu]", i);
        if ((rc = parse_accreditor_obj(&g->accreditors[i], json_array_get(as, i), ctx, err,
                                       errlen)) != HM_OK)
            goto done;
        g->n_accreditors = i + 1;
    }
    hm_tagged_hash(g->chain_id, HM_TAG_GENESIS, data, len);
    *out = g;
    g = NULL;
    rc = HM_OK;
done:
    json_decref(root);
    genesis_free(g);
    return rc;
}

int genesis_load(genesis_t **out, const char *path, char *err, size_t errlen)
{
    hm_buf_t b = {0};
    int rc = hm_seal_read_file(&b, path, GENESIS_MAX_BYTES);
    if (rc != HM_OK) {
        seterr(err, errlen, "%s: %s", path, hm_strerror(rc));
    } else {
        char inner[300] = "";
        rc = genesis_parse(out, b.data, b.len, inner, sizeof inner);
        if (rc != HM_OK)
            seterr(err, errlen, "%s: %s", path, inner);
    }
    hm_buf_free(&b);
    return rc;
}

int genesis_parse_validator(genesis_validator_t *out, const uint8_t *data, size_t len, char *err,
                            size_t errlen)
{
    if (!data || len == 0 || len > 64 * 1024) {
        seterr(err, errlen, "validator record: empty or over 64 KiB");
        return HM_ERR_INVALID;
    }
    json_t *root = load_json(data, len, err, errlen);
    if (!root)
        return HM_ERR_INVALID;
    int rc = parse_validator_obj(out, root, "validator", err, errlen);
    json_decref(root);
    return rc;
}

static json_t *validator_to_json(const genesis_validator_t *v)
{
    char pk[65], fp[65];
    hm_hex_encode(pk, v->pubkey, HM_PUBKEY_LEN);
    hm_hex_encode(fp, v->tls_fingerprint, GENESIS_FP_LEN);
    return json_pack("{s:s, s:s, s:s, s:s}", "name", v->name, "pubkey", pk, "tls_fingerprint", fp,
                     "address", v->address);
}

static int dump_json(char **out, size_t *len, json_t *j)
{
    if (!j)
        return HM_ERR_NOMEM;
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s)
        return HM_ERR_NOMEM;
    size_t n = strlen(s);
    char *r = realloc(s, n + 2);
    if (!r) {
        free(s);
        return HM_ERR_NOMEM;
    }
    r[n] = '\n';
    r[n + 1] = '\0';
    *out = r;
    if (len)
        *len = n + 1;
    return HM_OK;
}

int genesis_validator_json(char **out, const genesis_validator_t *v)
{
    return dump_json(out, NULL, validator_to_json(v));
}

int genesis_dump(char **out, size_t *len, const genesis_t *g)
{
    json_t *vs = json_array(), *as = json_array(), *root = NULL;
    if (!vs || !as)
        goto fail;
    for (size_t i = 0; i < g->n_validators; i++)
        if (json_array_append_new(vs, validator_to_json(&g->validators[i])) != 0)
            goto fail;
    for (size_t i = 0; i < g->n_accreditors; i++) {
        const genesis_accreditor_t *a = &g->accreditors[i];
        json_t *ks = json_array();
        if (!ks)
            goto fail;
        for (size_t k = 0; k < a->n_controller_keys; k++) {
            char hx[65];
            hm_hex_encode(hx, a->controller_keys[k], HM_PUBKEY_LEN);
            json_array_append_new(ks, json_string(hx));
        }
        json_t *o = json_pack("{s:s, s:s, s:o, s:I}", "name", a->name, "kind",
                              genesis_kind_name(a->kind), "controller_keys", ks, "threshold",
                              (json_int_t)a->threshold);
        if (!o || json_array_append_new(as, o) != 0)
            goto fail;
    }
    root = json_pack("{s:s, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o}", "chain_name",
                     g->chain_name, "genesis_time_ms", (json_int_t)g->genesis_time_ms, "params",
                     "max_block_txs", (json_int_t)g->params.max_block_txs, "max_block_bytes",
                     (json_int_t)g->params.max_block_bytes, "batch_timeout_ms",
                     (json_int_t)g->params.batch_timeout_ms, "view_change_timeout_ms",
                     (json_int_t)g->params.view_change_timeout_ms, "max_clock_skew_ms",
                     (json_int_t)g->params.max_clock_skew_ms, "validators", vs, "accreditors", as);
    /* "o" stole vs and as, even on failure */
    return dump_json(out, len, root);
fail:
    json_decref(vs);
    json_decref(as);
    return HM_ERR_NOMEM;
}

int genesis_find_pubkey(const genesis_t *g, const uint8_t pubkey[HM_PUBKEY_LEN])
{
    for (size_t i = 0; i < g->n_validators; i++)
        if (!memcmp(g->validators[i].pubkey, pubkey, HM_PUBKEY_LEN))
            return (int)i;
    return -1;
}

int genesis_find_fingerprint(const genesis_t *g, const uint8_t fp[GENESIS_FP_LEN])
{
    for (size_t i = 0; i < g->n_validators; i++)
        if (!memcmp(g->validators[i].tls_fingerprint, fp, GENESIS_FP_LEN))
            return (int)i;
    return -1;
}
