/* wallet/nodeapi — see nodeapi.h. */
#include "wallet/nodeapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"

/* Copy a string from the node for a message: cut and make printable. */
static void clean(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap; i++)
        dst[i] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) ? s[i] : '?';
    dst[i] = '\0';
}

int wallet_api_parse_answer(json_t **out, int status, const char *body, size_t len,
                            wallet_diag_t *d)
{
    json_error_t jerr;
    json_t *o = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
    if (status >= 200 && status < 300) {
        if (!o || !json_is_object(o)) {
            char why[160];
            clean(why, sizeof why, o ? "not a JSON object" : jerr.text);
            wallet_diag_set(d, "the node's answer is not valid JSON (%s)", why);
            json_decref(o);
            return HM_ERR_INVALID;
        }
        *out = o;
        return HM_OK;
    }
    char code[64] = "", msg[300] = "";
    json_t *e = o ? json_object_get(o, "error") : NULL;
    if (json_is_object(e)) {
        json_t *c = json_object_get(e, "code");
        json_t *m = json_object_get(e, "message");
        if (json_is_string(c))
            clean(code, sizeof code, json_string_value(c));
        else if (json_is_integer(c))
            snprintf(code, sizeof code, "%lld", (long long)json_integer_value(c));
        if (json_is_string(m))
            clean(msg, sizeof msg, json_string_value(m));
    }
    if (msg[0] || code[0])
        wallet_diag_set(d, "node answered HTTP %d%s%s%s: %s", status, code[0] ? " (" : "", code,
                        code[0] ? ")" : "", msg[0] ? msg : "(no message)");
    else
        wallet_diag_set(d, "node answered HTTP %d", status);
    json_decref(o);
    if (status == 404)
        return HM_ERR_NOT_FOUND;
    if (status == 401 || status == 403)
        return HM_ERR_AUTH;
    if (status >= 400 && status < 500)
        return HM_ERR_INVALID;
    return HM_ERR_IO;
}

int wallet_json_u64(uint64_t *out, const json_t *v)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0)
            return HM_ERR_INVALID;
        *out = (uint64_t)x;
        return HM_OK;
    }
    if (json_is_string(v))
        return wallet_parse_u64(out, json_string_value(v), "number", NULL);
    return HM_ERR_INVALID;
}

int wallet_api_parse_tx_status(wallet_txstatus_t *out, const json_t *o, wallet_diag_t *d)
{
    wallet_txstatus_t s;
    memset(&s, 0, sizeof s);
    const char *st = json_string_value(json_object_get(o, "status"));
    if (!st) {
        wallet_diag_set(d, "the node's tx status has no \"status\" string");
        return HM_ERR_INVALID;
    }
    if (strcmp(st, "pending") == 0) {
        s.state = WALLET_TX_PENDING;
    } else if (strcmp(st, "unknown") == 0) {
        s.state = WALLET_TX_UNKNOWN;
    } else if (strcmp(st, "committed") == 0) {
        uint64_t code;
        s.state = WALLET_TX_COMMITTED;
        if (wallet_json_u64(&s.height, json_object_get(o, "height")) != HM_OK ||
            wallet_json_u64(&code, json_object_get(o, "code")) != HM_OK || code > UINT32_MAX) {
            wallet_diag_set(d, "the node's committed tx status lacks a valid \"height\" or "
                               "\"code\"");
            return HM_ERR_INVALID;
        }
        s.code = (uint32_t)code;
        const char *cn = json_string_value(json_object_get(o, "code_name"));
        if (cn)
            clean(s.code_name, sizeof s.code_name, cn);
    } else {
        char v[40];
        clean(v, sizeof v, st);
        wallet_diag_set(d, "the node's tx status \"%s\" is not pending, committed or unknown", v);
        return HM_ERR_INVALID;
    }
    *out = s;
    return HM_OK;
}

int wallet_api_parse_submit(char txid_hex[65], char *status, size_t cap, const json_t *o,
                            wallet_diag_t *d)
{
    const char *t = json_string_value(json_object_get(o, "txid"));
    const char *st = json_string_value(json_object_get(o, "status"));
    uint8_t raw[32];
    if (!t || hm_hex_decode(raw, sizeof raw, t) != HM_OK) {
        wallet_diag_set(d, "the node's answer has no valid \"txid\"");
        return HM_ERR_INVALID;
    }
    hm_hex_encode(txid_hex, raw, sizeof raw);
    clean(status, cap, st ? st : "");
    return HM_OK;
}

int wallet_api_get(const rpcc_client_t *c, json_t **out, const char *path, wallet_diag_t *d)
{
    rpcc_response_t r = {0};
    int rc = rpcc_request(c, &r, "GET", path, NULL, 0, d);
    if (rc == HM_OK)
        rc = wallet_api_parse_answer(out, r.status, r.body, r.body_len, d);
    rpcc_response_free(&r);
    return rc;
}

int wallet_api_post(const rpcc_client_t *c, json_t **out, const char *path, const json_t *body,
                    wallet_diag_t *d)
{
    rpcc_response_t r = {0};
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text) {
        wallet_diag_set(d, "out of memory");
        return HM_ERR_NOMEM;
    }
    int rc = rpcc_request(c, &r, "POST", path, text, strlen(text), d);
    if (rc == HM_OK)
        rc = wallet_api_parse_answer(out, r.status, r.body, r.body_len, d);
    rpcc_response_free(&r);
    free(text);
    return rc;
}

int wallet_api_chain_id(const rpcc_client_t *c, uint8_t chain_id[HM_CHAIN_ID_LEN],
                        wallet_diag_t *d)
{
    json_t *o = NULL;
    int rc = wallet_api_get(c, &o, "/v1/status", d);
    if (rc != HM_OK)
        return rc;
    const char *h = json_string_value(json_object_get(o, "chain_id"));
    if (!h || hm_hex_decode(chain_id, HM_CHAIN_ID_LEN, h) != HM_OK) {
        wallet_diag_set(d, "the node's /v1/status has no valid \"chain_id\"");
        rc = HM_ERR_INVALID;
    }
    json_decref(o);
    return rc;
}

int wallet_api_nonce(const rpcc_client_t *c, uint64_t *nonce, const uint8_t pubkey[32],
                     wallet_diag_t *d)
{
    char path[128], hex[65];
    json_t *o = NULL;
    hm_hex_encode(hex, pubkey, 32);
    snprintf(path, sizeof path, "/v1/nonce/%s", hex);
    int rc = wallet_api_get(c, &o, path, d);
    if (rc != HM_OK)
        return rc;
    if (wallet_json_u64(nonce, json_object_get(o, "nonce")) != HM_OK) {
        wallet_diag_set(d, "the node's nonce answer has no valid \"nonce\"");
        rc = HM_ERR_INVALID;
    }
    json_decref(o);
    return rc;
}

int wallet_api_submit(const rpcc_client_t *c, char txid_hex[65], char *status, size_t cap,
                      const uint8_t *stx, size_t len, const uint8_t *expect_txid,
                      wallet_diag_t *d)
{
    json_t *o = NULL, *body = NULL;
    int rc = HM_ERR_NOMEM;
    char *hex = hm_hex_dup(stx, len);
    if (!hex || !(body = json_pack("{s:s}", "tx", hex))) {
        wallet_diag_set(d, "out of memory");
        goto done;
    }
    rc = wallet_api_post(c, &o, "/v1/tx", body, d);
    if (rc != HM_OK)
        goto done;
    rc = wallet_api_parse_submit(txid_hex, status, cap, o, d);
    if (rc == HM_OK && expect_txid) {
        char mine[65];
        hm_hex_encode(mine, expect_txid, 32);
        if (strcmp(mine, txid_hex) != 0) {
            wallet_diag_set(d, "the node reports txid %s, but the transaction's txid is %s",
                            txid_hex, mine);
            rc = HM_ERR_INVALID;
        }
    }
done:
    json_decref(o);
    json_decref(body);
    free(hex);
    return rc;
}

int wallet_api_submit_batch(const rpcc_client_t *c, json_t **out, const uint8_t *const *stx,
                            const size_t *lens, size_t n, wallet_diag_t *d)
{
    json_t *arr = json_array();
    json_t *body = NULL;
    int rc = HM_ERR_NOMEM;
    if (!arr)
        goto done;
    for (size_t i = 0; i < n; i++) {
        char *hex = hm_hex_dup(stx[i], lens[i]);
        if (!hex || json_array_append_new(arr, json_string(hex)) != 0) {
            free(hex);
            goto done;
        }
        free(hex);
    }
    body = json_pack("{s:O}", "txs", arr);
    if (!body)
        goto done;
    rc = wallet_api_post(c, out, "/v1/txs", body, d);
done:
    if (rc == HM_ERR_NOMEM)
        wallet_diag_set(d, "out of memory");
    json_decref(arr);
    json_decref(body);
    return rc;
}

int wallet_api_tx_status(const rpcc_client_t *c, wallet_txstatus_t *out, const char *txid_hex,
                         wallet_diag_t *d)
{
    char path[128];
    uint8_t raw[32];
    json_t *o = NULL;
    if (hm_hex_decode(raw, sizeof raw, txid_hex) != HM_OK) {
        wallet_diag_set(d, "txid: expected 64 hex digits");
        return HM_ERR_INVALID;
    }
    char hex[65];
    hm_hex_encode(hex, raw, sizeof raw);
    snprintf(path, sizeof path, "/v1/tx/%s", hex);
    int rc = wallet_api_get(c, &o, path, d);
    if (rc == HM_ERR_NOT_FOUND) {
        /* a node may answer 404 for a txid it never saw */
        memset(out, 0, sizeof *out);
        out->state = WALLET_TX_UNKNOWN;
        return HM_OK;
    }
    if (rc == HM_OK)
        rc = wallet_api_parse_tx_status(out, o, d);
    json_decref(o);
    return rc;
}

int wallet_api_record(const rpcc_client_t *c, json_t **out, const char *kind, const char *id,
                      wallet_diag_t *d)
{
    char path[1024], esc[768];
    if (rpcc_path_escape(esc, sizeof esc, id) != HM_OK) {
        wallet_diag_set(d, "record id too long");
        return HM_ERR_INVALID;
    }
    snprintf(path, sizeof path, "/v1/records/%s/%s", kind, esc);
    json_t *o = NULL;
    int rc = wallet_api_get(c, &o, path, d);
    if (rc == HM_OK) {
        json_t *found = json_object_get(o, "found");
        json_t *rec = json_object_get(o, "record");
        if (json_is_false(found) || (json_is_null(rec) && !json_is_true(found))) {
            char shown[80];
            clean(shown, sizeof shown, id);
            wallet_diag_set(d, "no %s %s on the ledger", kind, shown);
            rc = HM_ERR_NOT_FOUND;
        } else if (!json_is_object(rec)) {
            wallet_diag_set(d, "the node's answer has no \"record\" object");
            rc = HM_ERR_INVALID;
        }
    }
    if (rc == HM_OK)
        *out = o;
    else
        json_decref(o);
    return rc;
}
