/* node/api — see api.h. */
#include "node/api.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/pbft.h"
#include "contracts/contracts.h"
#include "lib/block.h"
#include "lib/codec.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/merkle.h"
#include "lib/pbjson.h"
#include "lib/smt.h"
#include "lib/tx.h"

/* ------------------------------------------------------------ helpers */

static json_t *hexj(const void *p, size_t n)
{
    char *h = hm_hex_dup(p, n);
    json_t *j = h ? json_string(h) : json_null();
    free(h);
    return j;
}

static bool parse_hex_n(const char *s, uint8_t *out, size_t n)
{
    return s && hm_hex_decode(out, n, s) == HM_OK;
}

static bool parse_gid(const char *s, uint8_t out[HM_GID_LEN])
{
    if (s && strncmp(s, "did:hallmark:", 13) == 0)
        s += 13;
    return parse_hex_n(s, out, HM_GID_LEN);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static json_t *u64j(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v) : json_null();
}

static void reply_internal(rpc_request_t *req, int rc)
{
    rpc_reply_error(req, 500, "internal", "%s", hm_strerror(rc));
}

/* The committed header of height h (bytes) and its decoded form. */
static int load_header(api_ctx_t *a, uint64_t h, hm_buf_t *header_bytes, hm_block_t **blk)
{
    hm_buf_t bytes = {0};
    int rc = chain_block_bytes(a->chain, h, &bytes);
    if (rc == HM_OK)
        rc = hm_block_decode(blk, bytes.data, bytes.len);
    if (rc == HM_OK && header_bytes) {
        hm_buf_reset(header_bytes);
        rc = hm_buf_append(header_bytes, (*blk)->block->header.data, (*blk)->block->header.len);
    }
    hm_buf_free(&bytes);
    return rc;
}

/* ------------------------------------------------------- tx submission */

static int status_for(mempool_verdict_t v)
{
    switch (v) {
    case MEMPOOL_ADMITTED:
    case MEMPOOL_DUPLICATE:
        return 200;
    case MEMPOOL_FULL:
        return 503;
    case MEMPOOL_TOO_LARGE:
        return 413;
    default:
        return 400;
    }
}

static const char *verdict_message(mempool_verdict_t v)
{
    switch (v) {
    case MEMPOOL_MALFORMED: return "not a well-formed SignedTx";
    case MEMPOOL_TOO_LARGE: return "transaction over the 64 KiB cap";
    case MEMPOOL_WRONG_CHAIN: return "signed for another chain id";
    case MEMPOOL_BAD_SIGNATURE: return "a signature does not verify";
    case MEMPOOL_FULL: return "the mempool is full; retry later";
    default: return "accepted";
    }
}

/* The JSON result of one submitted tx. */
static json_t *submit_result(api_ctx_t *a, const mempool_result_t *r)
{
    if (r->verdict != MEMPOOL_ADMITTED && r->verdict != MEMPOOL_DUPLICATE)
        return json_pack("{s:{s:s,s:s}}", "error", "code", mempool_verdict_name(r->verdict),
                         "message", verdict_message(r->verdict));
    json_t *o = json_pack("{s:o}", "txid", hexj(r->txid, 32));
    uint64_t h;
    uint32_t i;
    /* ADMITTED means not on the ledger (the replica checked): only a
     * duplicate may be committed already */
    if (r->verdict == MEMPOOL_DUPLICATE && chain_tx_location(a->chain, r->txid, &h, &i) == HM_OK) {
        json_object_set_new(o, "status", json_string("committed"));
        json_object_set_new(o, "height", u64j(h));
    } else {
        json_object_set_new(o, "status", json_string("pending"));
    }
    if (r->verdict == MEMPOOL_DUPLICATE)
        json_object_set_new(o, "duplicate", json_true());
    return o;
}

/* The hex string s (n chars) as SignedTx bytes (caller frees out->data). */
static bool decode_hex_str(const char *s, size_t n, ProtobufCBinaryData *out)
{
    out->data = NULL;
    out->len = 0;
    if (n > 2 * HM_MAX_TX_BYTES + 2) {
        /* keep it: the mempool says too_large with a clear verdict */
        out->data = malloc(HM_MAX_TX_BYTES + 1);
        if (!out->data)
            return false;
        memset(out->data, 0, HM_MAX_TX_BYTES + 1);
        out->len = HM_MAX_TX_BYTES + 1;
        return true;
    }
    return hm_hex_decode_alloc(&out->data, &out->len, s, n, HM_MAX_TX_BYTES + 1) == HM_OK;
}

/* The JSON string v as SignedTx bytes (caller frees out->data). */
static bool decode_tx_hex(const json_t *v, ProtobufCBinaryData *out)
{
    const char *s = json_string_value(v);
    out->data = NULL;
    out->len = 0;
    return s && decode_hex_str(s, json_string_length(v), out);
}

static int tx_body_refuse(api_tx_body_t *out, int status, const char *code, const char *msg)
{
    api_tx_body_free(out);
    out->code = code;
    snprintf(out->msg, sizeof out->msg, "%s", msg);
    return status;
}

/* Room for a batch of n entries in out, or the refusal (413 beyond the
 * batch limit, 500 out of memory). */
static int tx_body_alloc(api_tx_body_t *out, size_t n)
{
    if (n > API_MAX_BATCH_TXS) {
        char msg[64];
        snprintf(msg, sizeof msg, "at most %d txs per batch", API_MAX_BATCH_TXS);
        return tx_body_refuse(out, 413, "too_many_txs", msg);
    }
    out->n = n;
    out->txs = calloc(n ? n : 1, sizeof *out->txs);
    out->bad = calloc(n ? n : 1, sizeof *out->bad);
    if (!out->txs || !out->bad)
        return tx_body_refuse(out, 500, "internal", hm_strerror(HM_ERR_NOMEM));
    return 0;
}

int api_tx_body_decode(api_tx_body_t *out, const json_t *body, bool batch)
{
    memset(out, 0, sizeof *out);
    if (!batch) {
        out->n = 1;
        out->txs = calloc(1, sizeof *out->txs);
        out->bad = calloc(1, sizeof *out->bad);
        if (!out->txs || !out->bad || !decode_tx_hex(json_object_get(body, "tx"), &out->txs[0]))
            return tx_body_refuse(out, 400, "bad_request",
                                  "body must be {\"tx\": \"<hex SignedTx>\"}");
        return 0;
    }
    const json_t *arr = json_object_get(body, "txs");
    if (!json_is_array(arr))
        return tx_body_refuse(out, 400, "bad_request", "body must be {\"txs\": [\"<hex>\", ...]}");
    size_t n = json_array_size(arr);
    int st = tx_body_alloc(out, n);
    if (st != 0)
        return st;
    for (size_t i = 0; i < n; i++)
        out->bad[i] = !decode_tx_hex(json_array_get(arr, i), &out->txs[i]);
    return 0;
}

/* ---- the plain batch body, without a JSON tree ----------------------- */

typedef struct {
    const char *p, *end;
} scan_t;

static void scan_ws(scan_t *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool scan_lit(scan_t *c, const char *lit)
{
    size_t n = strlen(lit);
    scan_ws(c);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* A string of printable ASCII without escapes: out its contents. */
static bool scan_plain_string(scan_t *c, const char **s, size_t *n)
{
    scan_ws(c);
    if (c->p == c->end || *c->p != '"')
        return false;
    const char *q = ++c->p;
    while (q < c->end && *q != '"') {
        if (*q < 0x20 || *q > 0x7e || *q == '\\')
            return false;
        q++;
    }
    if (q == c->end)
        return false;
    *s = c->p;
    *n = (size_t)(q - c->p);
    c->p = q + 1;
    return true;
}

/* The array's strings, from scan position c (just after '['): count them
 * (decode NULL) or decode each into out. False when the array is not a
 * plain list of plain strings followed by the end of the body. */
static bool scan_tx_array(scan_t c, size_t *count, api_tx_body_t *decode)
{
    size_t n = 0;
    if (!scan_lit(&c, "]")) {
        for (;;) {
            const char *s;
            size_t len;
            if (!scan_plain_string(&c, &s, &len))
                return false;
            if (decode)
                decode->bad[n] = !decode_hex_str(s, len, &decode->txs[n]);
            n++;
            if (scan_lit(&c, "]"))
                break;
            if (!scan_lit(&c, ","))
                return false;
        }
    }
    if (!scan_lit(&c, "}"))
        return false;
    scan_ws(&c);
    *count = n;
    return c.p == c.end;
}

int api_tx_body_scan(api_tx_body_t *out, const uint8_t *body, size_t len)
{
    memset(out, 0, sizeof *out);
    scan_t c = {(const char *)body, (const char *)body + len};
    size_t n;
    if (!body || !scan_lit(&c, "{") || !scan_lit(&c, "\"txs\"") || !scan_lit(&c, ":") ||
        !scan_lit(&c, "[") || !scan_tx_array(c, &n, NULL))
        return -1;
    int st = tx_body_alloc(out, n);
    if (st != 0)
        return st;
    size_t again = 0;
    bool ok = scan_tx_array(c, &again, out); /* the same bytes, scanned again */
    assert(ok && again == n);
    (void)ok;
    return 0;
}

void api_tx_body_free(api_tx_body_t *b)
{
    for (size_t i = 0; b->txs && i < b->n; i++)
        free(b->txs[i].data);
    free(b->txs);
    free(b->bad);
    b->txs = NULL;
    b->bad = NULL;
    b->n = 0;
}

/* Submission: the body is parsed on the loop, the txs' checks run on the
 * replica's verifier thread (replica_submit_async) and the reply goes out
 * when they are done, from a deferred request (rpc_defer); meanwhile the
 * loop goes on executing blocks. */
typedef struct {
    api_ctx_t *a;
    rpc_request_t *req; /* deferred */
    bool single;        /* POST /v1/tx: one tx, errors as HTTP statuses */
    size_t n;           /* txs in the body */
    bool *bad;          /* n: not a hex string (not submitted) */
} submit_job_t;

static void submit_job_free(submit_job_t *j)
{
    if (j) {
        free(j->bad);
        free(j);
    }
}

/* Reply to a submission; res holds the verdicts of the submitted txs (the
 * ones not bad), in body order. */
static void submit_reply(submit_job_t *j, const mempool_result_t *res)
{
    if (j->single) {
        const mempool_result_t *r = &res[0];
        if (r->verdict != MEMPOOL_ADMITTED && r->verdict != MEMPOOL_DUPLICATE)
            rpc_reply_error(j->req, status_for(r->verdict), mempool_verdict_name(r->verdict),
                            "%s", verdict_message(r->verdict));
        else
            rpc_reply_json(j->req, 200, submit_result(j->a, r));
        return;
    }
    /* Written out by hand (json_dumps of the whole array cost ~5% of the
     * loop at 15,000 tx/s): the same compact JSON rpc_reply_json makes;
     * entries other than an admitted tx still go through jansson. */
    hm_buf_t out = {0};
    size_t accepted = 0, k = 0;
    int rc = hm_buf_reserve(&out, 64 + j->n * 96);
    if (rc == HM_OK)
        rc = hm_buf_append_str(&out, "{\"results\":[");
    for (size_t i = 0; rc == HM_OK && i < j->n; i++) {
        if (i)
            rc = hm_buf_append_u8(&out, ',');
        json_t *e = NULL;
        if (j->bad[i]) {
            e = json_pack("{s:{s:s,s:s}}", "error", "code", "bad_request", "message",
                          "not a hex string");
        } else {
            const mempool_result_t *r = &res[k++];
            accepted += r->verdict == MEMPOOL_ADMITTED || r->verdict == MEMPOOL_DUPLICATE;
            if (r->verdict == MEMPOOL_ADMITTED) {
                char hex[65];
                hm_hex_encode(hex, r->txid, 32);
                if (rc == HM_OK)
                    rc = hm_buf_append_str(&out, "{\"txid\":\"");
                if (rc == HM_OK)
                    rc = hm_buf_append(&out, hex, 64);
                if (rc == HM_OK)
                    rc = hm_buf_append_str(&out, "\",\"status\":\"pending\"}");
                continue;
            }
            e = submit_result(j->a, r);
        }
        char *t = e ? json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(e);
        rc = rc == HM_OK && t ? hm_buf_append_str(&out, t) : HM_ERR_NOMEM;
        free(t);
    }
    char tail[64];
    snprintf(tail, sizeof tail, "],\"accepted\":%zu}\n", accepted);
    if (rc == HM_OK)
        rc = hm_buf_append_str(&out, tail);
    if (rc == HM_OK)
        rpc_reply_raw(j->req, 200, "application/json", out.data, out.len);
    else
        reply_internal(j->req, rc);
    hm_buf_free(&out);
}

static void submit_done(void *arg, const mempool_result_t *results, size_t n, int rc)
{
    (void)n;
    submit_job_t *j = arg;
    if (rc != HM_OK)
        reply_internal(j->req, rc);
    else
        submit_reply(j, results);
    submit_job_free(j);
}

static void submit_drop(void *arg)
{
    submit_job_t *j = arg;
    rpc_abandon(j->req);
    submit_job_free(j);
}

static void h_submit(api_ctx_t *a, rpc_request_t *req, bool single)
{
    api_tx_body_t tb;
    size_t blen = 0;
    const uint8_t *raw = rpc_body(req, &blen);
    /* the usual batch body is scanned in place: building a JSON tree of
     * its strings took ~9% of the loop at 15,000 tx/s */
    int st = single ? -1 : api_tx_body_scan(&tb, raw, blen);
    if (st < 0) {
        json_t *body = rpc_body_json(req);
        if (!body)
            return;
        st = api_tx_body_decode(&tb, body, !single);
    }
    if (st != 0) {
        rpc_reply_error(req, st, tb.code, "%s", tb.msg);
        return;
    }
    size_t n = tb.n, k = 0;
    submit_job_t *j = calloc(1, sizeof *j);
    ProtobufCBinaryData *good = calloc(n ? n : 1, sizeof *good);
    if (j)
        j->bad = calloc(n ? n : 1, sizeof *j->bad);
    if (!j || !good || !j->bad) {
        reply_internal(req, HM_ERR_NOMEM);
        submit_job_free(j);
        goto done;
    }
    *j = (submit_job_t){a, NULL, single, n, j->bad};
    for (size_t i = 0; i < n; i++) {
        j->bad[i] = tb.bad[i];
        if (!tb.bad[i])
            good[k++] = tb.txs[i];
    }
    if (!(j->req = rpc_defer(req))) {
        /* cannot defer (out of memory): check on this thread instead */
        j->req = req;
        mempool_result_t *res = calloc(k ? k : 1, sizeof *res);
        int rc = res ? replica_submit(a->replica, good, k, res) : HM_ERR_NOMEM;
        submit_done(j, res, k, rc); /* frees j */
        free(res);
        goto done;
    }
    int rc = replica_submit_async(a->replica, good, k, submit_done, submit_drop, j);
    if (rc == HM_ERR_LIMIT) {
        /* too much waits for its checks: every tx gets mempool_full */
        mempool_result_t *full = calloc(k ? k : 1, sizeof *full);
        for (size_t i = 0; full && i < k; i++)
            full[i].verdict = MEMPOOL_FULL;
        if (full)
            submit_reply(j, full);
        else
            reply_internal(j->req, HM_ERR_NOMEM);
        free(full);
        submit_job_free(j);
    } else if (rc != HM_OK) {
        reply_internal(j->req, rc);
        submit_job_free(j);
    }
done:
    free(good);
    api_tx_body_free(&tb);
}

static void h_tx(void *arg, rpc_request_t *req)
{
    h_submit(arg, req, true);
}

static void h_txs(void *arg, rpc_request_t *req)
{
    h_submit(arg, req, false);
}

/* ------------------------------------------------------------ queries */

static int result_code(api_ctx_t *a, uint64_t h, uint32_t idx, uint32_t *code)
{
    hm_buf_t rb = {0};
    Hallmark__BlockResults *br = NULL;
    int rc = chain_results_bytes(a->chain, h, &rb);
    if (rc == HM_OK)
        rc = hm_decode_block_results(&br, rb.data, rb.len);
    if (rc == HM_OK && idx >= br->n_results)
        rc = HM_ERR_CORRUPT;
    if (rc == HM_OK)
        *code = br->results[idx]->code;
    hm_free_block_results(br);
    hm_buf_free(&rb);
    return rc;
}

static void h_tx_status(void *arg, rpc_request_t *req)
{
    api_ctx_t *a = arg;
    uint8_t txid[32];
    if (!parse_hex_n(rpc_param(req, "txid"), txid, 32)) {
        rpc_reply_error(req, 400, "bad_request", "txid must be 64 hex digits");
        return;
    }
    uint64_t h;
    uint32_t idx, code;
    int rc = chain_tx_location(a->chain, txid, &h, &idx);
    if (rc == HM_OK) {
        rc = result_code(a, h, idx, &code);
        if (rc != HM_OK) {
            reply_internal(req, rc);
            return;
        }
        rpc_reply_json(req, 200,
                       json_pack("{s:o,s:s,s:o,s:i,s:i,s:s,s:b}", "txid", hexj(txid, 32), "status",
                                 "committed", "height", u64j(h), "index", (int)idx, "code",
                                 (int)code, "code_name", contracts_result_name(code), "applied",
                                 code == HM_R_OK));
        return;
    }
    if (rc != HM_ERR_NOT_FOUND) {
        reply_internal(req, rc);
        return;
    }
    const char *st = mempool_contains(a->mempool, txid) ? "pending" : "unknown";
    rpc_reply_json(req, 200, json_pack("{s:o,s:s}", "txid", hexj(txid, 32), "status", st));
}

static json_t *peers_json(api_ctx_t *a)
{
    size_t cap = p2p_connection_count(a->p2p);
    p2p_peer_status_t *ps = cap ? calloc(cap, sizeof *ps) : NULL;
    size_t np = ps ? p2p_peers(a->p2p, ps, cap) : 0;
    json_t *peers = json_array();
    for (size_t i = 0; peers && i < np; i++) {
        int vi = ps[i].info.validator_index;
        json_array_append_new(
            peers,
            json_pack("{s:I,s:b,s:s,s:o,s:s?,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I}", "id",
                      (json_int_t)ps[i].info.id, "ready", ps[i].ready, "address",
                      ps[i].info.address, "validator_index",
                      vi >= 0 ? json_integer(vi) : json_null(), "name",
                      vi >= 0 && (size_t)vi < a->genesis->n_validators
                          ? a->genesis->validators[vi].name
                          : NULL,
                      "direction", ps[i].info.outbound ? "outbound" : "inbound",
                      "tls_fingerprint", hexj(ps[i].info.tls_fp, TLS_FP_LEN), "node_key",
                      ps[i].ready ? hexj(ps[i].info.node_key, 32) : json_string(""), "height",
                      u64j(ps[i].height), "connected_ms", u64j(ps[i].connected_ms), "bytes_in",
                      u64j(ps[i].bytes_in), "bytes_out", u64j(ps[i].bytes_out), "frames_in",
                      u64j(ps[i].frames_in), "queued_bytes", (json_int_t)ps[i].queued_bytes));
    }
    free(ps);
    return peers ? peers : json_array();
}

static void h_status(void *arg, rpc_request_t *req)
{
    api_ctx_t *a = arg;
    const chain_tip_t *t = chain_tip(a->chain);
    pbft_status_t ps;
    replica_status(a->replica, &ps);
    json_t *o = json_pack(
        "{s:o,s:s,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:I,s:o,s:I,s:I,s:s,s:b}", "chain_id",
        hexj(t->chain_id, 32), "chain_name", a->genesis->chain_name ? a->genesis->chain_name : "",
        "height", u64j(t->height), "view", u64j(ps.view), "validator_index",
        a->validator_index >= 0 ? json_integer(a->validator_index) : json_null(), "mode",
        a->validator_index >= 0 ? "validator" : "full", "node_key",
        a->node_key ? hexj(a->node_key, 32) : json_null(), "tls_fingerprint",
        hexj(p2p_own_fingerprint(a->p2p), TLS_FP_LEN), "last_block_hash",
        hexj(t->last_hash, 32), "last_block_time_ms", u64j(t->last_time_ms), "state_root",
        hexj(t->state_root, 32), "results_root", hexj(t->results_root, 32), "in_view_change",
        ps.in_view_change, "peers_connected", (json_int_t)p2p_peer_count(a->p2p), "peers",
        peers_json(a), "mempool_txs", (json_int_t)mempool_count(a->mempool), "mempool_size",
        (json_int_t)mempool_count(a->mempool), "version", a->version ? a->version : "",
        "failed", replica_failed(a->replica));
    rpc_reply_json(req, 200, o);
}

static json_t *block_json(api_ctx_t *a, uint64_t h, const hm_block_t *b, const uint8_t *cert,
                          size_t cert_len)
{
    json_t *txs = json_array();
    for (size_t i = 0; i < b->block->n_txs; i++) {
        hm_tx_t *t = NULL;
        if (hm_tx_decode(&t, b->block->txs[i].data, b->block->txs[i].len) != HM_OK) {
            json_array_append_new(txs, json_null());
            continue;
        }
        json_t *tj = json_pack("{s:o,s:s,s:o,s:i}", "txid", hexj(t->txid, 32), "kind",
                               hm_tx_kind_name(t->tx), "tx", hm_pb_to_json(&t->tx->base),
                               "cosignatures", (int)t->stx->n_cosignatures);
        json_array_append_new(txs, tj);
        hm_tx_free(t);
    }
    json_t *o = json_pack("{s:o,s:o,s:o,s:o}", "height", u64j(h), "hash", hexj(b->hash, 32),
                          "header", hm_pb_to_json(&b->header->base), "txs", txs);
    hm_buf_t rb = {0};
    Hallmark__BlockResults *br = NULL;
    if (chain_results_bytes(a->chain, h, &rb) == HM_OK &&
        hm_decode_block_results(&br, rb.data, rb.len) == HM_OK) {
        json_t *res = json_array();
        for (size_t i = 0; i < br->n_results; i++)
            json_array_append_new(
                res, json_pack("{s:o,s:i,s:s}", "txid", hexj(br->results[i]->txid.data, 32),
                               "code", (int)br->results[i]->code, "code_name",
                               contracts_result_name(br->results[i]->code)));
        json_object_set_new(o, "results", res);
    }
    hm_free_block_results(br);
    hm_buf_free(&rb);
    Hallmark__CommitCertificate *cc = NULL;
    if (hm_decode_commit_cert(&cc, cert, cert_len) == HM_OK) {
        json_object_set_new(o, "commit_certificate", hm_pb_to_json(&cc->base));
        hm_free_commit_cert(cc);
    }
    return o;
}

/* {"height":h,"block":"<hex>","cert":"<hex>"}, the compact JSON
 * rpc_reply_json would make, hex-encoded straight into one buffer: through
 * jansson a 2 MiB block was copied five times and its hex checked as
 * UTF-8 (~10% of a busy node's loop while a client followed the chain). */
static void reply_raw_block(rpc_request_t *req, uint64_t h, const hm_buf_t *block,
                            const hm_buf_t *cert)
{
    char head[64];
    int hl = snprintf(head, sizeof head, "{\"height\":%llu,\"block\":\"", (unsigned long long)h);
    static const char mid[] = "\",\"cert\":\"", tail[] = "\"}\n";
    hm_buf_t out = {0};
    size_t need = (size_t)hl + 2 * block->len + sizeof mid + 2 * cert->len + sizeof tail + 1;
    int rc = hm_buf_reserve(&out, need);
    if (rc == HM_OK) {
        char *p = (char *)out.data;
        memcpy(p, head, (size_t)hl);
        p += hl;
        hm_hex_encode(p, block->data, block->len);
        p += 2 * block->len;
        memcpy(p, mid, sizeof mid - 1);
        p += sizeof mid - 1;
        hm_hex_encode(p, cert->data, cert->len);
        p += 2 * cert->len;
        memcpy(p, tail, sizeof tail - 1);
        p += sizeof tail - 1;
        out.len = (size_t)(p - (char *)out.data);
        rpc_reply_raw(req, 200, "application/json", out.data, out.len);
    } else {
        reply_internal(req, rc);
    }
    hm_buf_free(&out);
}

static void h_block(void *arg, rpc_request_t *req)
{
    api_ctx_t *a = arg;
    uint64_t h;
    if (!parse_u64(rpc_param(req, "height"), &h) || h == 0) {
        rpc_reply_error(req, 400, "bad_request", "height must be a positive integer");
        return;
    }
    hm_buf_t bytes = {0}, cert = {0};
    hm_block_t *b = NULL;
    int rc = chain_block_bytes(a->chain, h, &bytes);
    if (rc == HM_OK)
        rc = chain_cert_bytes(a->chain, h, &cert);
    if (rc == HM_ERR_NOT_FOUND) {
        rpc_reply_error(req, 404, "not_found", "no block at height %llu (tip %llu)",
                        (unsigned long long)h, (unsigned long long)chain_tip(a->chain)->height);
        goto done;
    }
    if (rc != HM_OK) {
        reply_internal(req, rc);
        goto done;
    }
    const char *raw = rpc_query(req, "raw");
    if (raw && strcmp(raw, "0") != 0) {
        reply_raw_block(req, h, &bytes, &cert);
        goto done;
    }
    rc = hm_block_decode(&b, bytes.data, bytes.len);
    if (rc != HM_OK) {
        reply_internal(req, rc);
        goto done;
    }
    rpc_reply_json(req, 200, block_json(a, h, b, cert.data, cert.len));
done:
    hm_block_free(b);
    hm_buf_free(&bytes);
    hm_buf_free(&cert);
}

static void h_headers(void *arg, rpc_request_t *req)
{
    api_ctx_t *a = arg;
    uint64_t tip = chain_tip(a->chain)->height, from = 1, to = tip;
    const char *qf = rpc_query(req, "from"), *qt = rpc_query(req, "to");
    if ((qf && !parse_u64(qf, &from)) || (qt && !parse_u64(qt, &to)) || from == 0) {
        rpc_reply_error(req, 400, "bad_request", "from and to must be positive integers");
        return;
    }
    if (to > tip)
        to = tip;
    if (from <= to && to - from >= API_MAX_HEADERS)
        to = from + API_MAX_HEADERS - 1;
    json_t *arr = json_array();
    hm_buf_t hb = {0}, cert = {0};
    for (uint64_t h = from; h <= to && from <= to; h++) {
        hm_block_t *b = NULL;
        int rc = load_header(a, h, &hb, &b);
        if (rc == HM_OK)
            rc = chain_cert_bytes(a->chain, h, &cert);
        if (rc != HM_OK) {
            hm_block_free(b);
            json_decref(arr);
            hm_buf_free(&hb);
            hm_buf_free(&cert);
            reply_internal(req, rc);
            return;
        }
        json_array_append_new(arr, json_pack("{s:o,s:o,s:o,s:o,s:o}", "height", u64j(h), "hash",
                                             hexj(b->hash, 32), "header", hexj(hb.data, hb.len),
                                             "fields", hm_pb_to_json(&b->header->base), "cert",
                                             hexj(cert.data, cert.len)));
        hm_block_free(b);
    }
    hm_buf_free(&hb);
    hm_buf_free(&cert);
    rpc_reply_json(req, 200, json_pack("{s:o,s:o}", "tip", u64j(tip), "headers", arr));
}

/* ------------------------------------------------------------ records */

typedef struct {
    contracts_key_t key;
    const ProtobufCMessageDescriptor *desc;
} record_ref_t;

/* Map an API kind and id to a state key. */
static bool record_ref(record_ref_t *r, const char *kind, const char *id)
{
    uint8_t b[32];
    if (!kind || !id)
        return false;
    if (strcmp(kind, "identity") == 0) {
        r->desc = &hallmark__identity__descriptor;
        return parse_gid(id, b) && contracts_key_identity(&r->key, b) == HM_OK;
    }
    if (strcmp(kind, "recipe") == 0) {
        r->desc = &hallmark__recipe__descriptor;
        return parse_hex_n(id, b, 32) && contracts_key_recipe(&r->key, b) == HM_OK;
    }
    if (strcmp(kind, "licence") == 0 || strcmp(kind, "license") == 0) {
        r->desc = &hallmark__licence__descriptor;
        return parse_hex_n(id, b, 32) && contracts_key_licence(&r->key, b) == HM_OK;
    }
    if (strcmp(kind, "certificate") == 0 || strcmp(kind, "cert") == 0) {
        r->desc = &hallmark__certificate__descriptor;
        return parse_hex_n(id, b, 32) && contracts_key_cert(&r->key, b) == HM_OK;
    }
    if (strcmp(kind, "part") == 0) {
        r->desc = &hallmark__part__descriptor;
        return strlen(id) <= CONTRACTS_MAX_SERIAL_LEN && contracts_key_part(&r->key, id) == HM_OK;
    }
    return false;
}

/* The newest certified header: the tip's (state root = state after tip-1). */
typedef struct {
    uint64_t height;
    uint8_t root[32];
    hm_buf_t header;
    hm_buf_t cert;
} anchor_t;

static int anchor_load(api_ctx_t *a, anchor_t *an)
{
    memset(an, 0, sizeof *an);
    an->height = chain_tip(a->chain)->height;
    if (an->height == 0)
        return HM_ERR_NOT_FOUND;
    hm_block_t *b = NULL;
    int rc = load_header(a, an->height, &an->header, &b);
    if (rc == HM_OK)
        memcpy(an->root, b->header->state_root.data, 32);
    if (rc == HM_OK)
        rc = chain_cert_bytes(a->chain, an->height, &an->cert);
    hm_block_free(b);
    return rc;
}

static void anchor_free(anchor_t *an)
{
    hm_buf_free(&an->header);
    hm_buf_free(&an->cert);
}

static void h_record(void *arg, rpc_request_t *req)
{
    api_ctx_t *a = arg;
    record_ref_t ref;
    const char *kind = rpc_param(req, "kind"), *id = rpc_param(req, "id");
    if (!record_ref(&ref, kind, id)) {
        rpc_reply_error(req, 400, "bad_request",
                        "kind must be identity|recipe|licence|certificate|part with a valid id");
        return;
    }
    anchor_t an;
    int rc = anchor_load(a, &an);
    if (rc == HM_ERR_NOT_FOUND) {
        rpc_reply_error(req, 503, "no_certified_state", "no block committed yet");
        return;
    }
    hm_smt_proof_t *proof = malloc(sizeof *proof);
    hm_buf_t value = {0};
    uint8_t *pbytes = NULL;
    size_t plen = 0;
    bool found = false;
    void *rec = NULL;
    if (rc == HM_OK && !proof)
        rc = HM_ERR_NOMEM;
    if (rc == HM_OK)
        rc = chain_prove(a->chain, an.root, ref.key.b, ref.key.len, &found, &value, proof);
    if (rc == HM_OK)
        rc = hm_smt_proof_encode(&pbytes, &plen, proof);
    if (rc == HM_OK && found)
        rc = hm_codec_decode(&rec, ref.desc, HM_MAX_RECORD_BYTES, value.data, value.len);
    if (rc != HM_OK) {
        reply_internal(req, rc);
        goto done;
    }
    json_t *o = json_pack("{s:s,s:s,s:o,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "kind", kind, "id", id,
                          "key", hexj(ref.key.b, ref.key.len), "found", found, "record",
                          rec ? hm_pb_to_json(rec) : json_null(), "value",
                          hexj(value.data, value.len), "proof", hexj(pbytes, plen),
                          "header_height", u64j(an.height), "state_root", hexj(an.root, 32),
                          "header", hexj(an.header.data, an.header.len), "cert",
                          hexj(an.cert.data, an.cert.len));
    if (strcmp(kind, "part") == 0 && found) {
        hm_state_t *view = NULL;
        part_effective_t eff;
        char *recalled = NULL;
        if (chain_state_view(a->chain, &view) == HM_OK &&
            part_assembly_status(view, &eff, &recalled, id, 10000) == HM_OK) {
            json_object_set_new(o, "effective_status", json_string(part_effective_name(eff)));
            if (recalled)
                json_object_set_new(o, "recalled_component", json_string(recalled));
        }
        free(recalled);
        hm_state_free(view);
    }
    if (strcmp(kind, "licence") == 0 && found) {
        uint64_t rem;
        json_object_set_new(o, "remaining_units",
                            licence_remaining(rec, &rem) ? u64j(rem) : json_string("unlimited"));
    }
    rpc_reply_json(req, 200, o);
done:
    hm_codec_free(rec);
    free(pbytes);
    free(proof);
    hm_buf_free(&value);
    anchor_free(&an);
}

/* Merkle inclusion of tx `idx` in block b (txids computed). */
static json_t *merkle_json(uint64_t index, uint64_t size, const hm_hash32_t *path, size_t n)
{
    json_t *p = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(p, hexj(path[i], 32));
    return json_pack("{s:o,s:o,s:o}", "index", u64j(index), "size", u64j(size), "path", p);
}

static bool parse_cursor(const char *s, uint64_t *h, uint32_t *i)
{
    if (!s)
        return false;
    const char *colon = strchr(s, ':');
    if (!colon || colon - s > 20)
        return false;
    char hs[24];
    memcpy(hs, s, (size_t)(colon - s));
    hs[colon - s] = '\0';
    uint64_t idx;
    if (!parse_u64(hs, h) || !parse_u64(colon + 1, &idx) || idx > UINT32_MAX)
        return false;
    *i = (uint32_t)idx;
    return true;
}

static void h_history(void *arg, rpc_request_t *req)
{
    api_ctx_t *a = arg;
    record_ref_t ref;
    if (!record_ref(&ref, rpc_param(req, "kind"), rpc_param(req, "id"))) {
        rpc_reply_error(req, 400, "bad_request", "unknown record kind or malformed id");
        return;
    }
    uint64_t limit = 50, ch = 0;
    uint32_t ci = 0;
    const char *ql = rpc_query(req, "limit"), *qc = rpc_query(req, "cursor");
    if ((ql && (!parse_u64(ql, &limit) || limit == 0)) || (qc && !parse_cursor(qc, &ch, &ci))) {
        rpc_reply_error(req, 400, "bad_request", "limit must be >= 1; cursor is HEIGHT:INDEX");
        return;
    }
    if (limit > API_MAX_HISTORY)
        limit = API_MAX_HISTORY;
    chain_history_entry_t e[API_MAX_HISTORY];
    size_t n = 0;
    int rc = chain_history(a->chain, ref.key.b, ref.key.len, qc == NULL, ch, ci, (size_t)limit, e,
                           &n);
    if (rc != HM_OK) {
        reply_internal(req, rc);
        return;
    }
    json_t *arr = json_array();
    hm_buf_t hb = {0}, cert = {0};
    for (size_t k = 0; k < n && rc == HM_OK; k++) {
        hm_block_t *b = NULL;
        hm_hash32_t *ids = NULL, path[HM_MERKLE_MAX_DEPTH];
        size_t plen = 0;
        rc = load_header(a, e[k].height, &hb, &b);
        if (rc == HM_OK)
            rc = chain_cert_bytes(a->chain, e[k].height, &cert);
        if (rc == HM_OK)
            rc = hm_block_txids(&ids, b->block);
        if (rc == HM_OK && e[k].index >= b->block->n_txs)
            rc = HM_ERR_CORRUPT;
        if (rc == HM_OK)
            rc = hm_merkle_prove(path, &plen, (const hm_hash32_t *)ids, b->block->n_txs,
                                 e[k].index);
        if (rc == HM_OK) {
            const ProtobufCBinaryData *t = &b->block->txs[e[k].index];
            json_array_append_new(
                arr, json_pack("{s:o,s:o,s:i,s:o,s:o,s:o,s:o}", "txid", hexj(e[k].txid, 32),
                               "height", u64j(e[k].height), "index", (int)e[k].index, "tx",
                               hexj(t->data, t->len), "proof",
                               merkle_json(e[k].index, b->block->n_txs,
                                           (const hm_hash32_t *)path, plen),
                               "header", hexj(hb.data, hb.len), "cert",
                               hexj(cert.data, cert.len)));
        }
        free(ids);
        hm_block_free(b);
    }
    hm_buf_free(&hb);
    hm_buf_free(&cert);
    if (rc != HM_OK) {
        json_decref(arr);
        reply_internal(req, rc);
        return;
    }
    json_t *o = json_pack("{s:o}", "entries", arr);
    if (n == limit) {
        char cur[48];
        snprintf(cur, sizeof cur, "%llu:%u", (unsigned long long)e[n - 1].height, e[n - 1].index);
        json_object_set_new(o, "next_cursor", json_string(cur));
    } else {
        json_object_set_new(o, "next_cursor", json_null());
    }
    rpc_reply_json(req, 200, o);
}

static void h_nonce(void *arg, rpc_request_t *req)
{
    api_ctx_t *a = arg;
    uint8_t pk[32];
    if (!parse_hex_n(rpc_param(req, "pubkey"), pk, 32)) {
        rpc_reply_error(req, 400, "bad_request", "pubkey must be 64 hex digits");
        return;
    }
    hm_state_t *view = NULL;
    uint64_t next = 0;
    int rc = chain_state_view(a->chain, &view);
    if (rc == HM_OK)
        rc = contracts_next_nonce(view, &next, pk);
    hm_state_free(view);
    if (rc != HM_OK) {
        reply_internal(req, rc);
        return;
    }
    size_t pending = mempool_count_signer(a->mempool, pk);
    rpc_reply_json(req, 200, json_pack("{s:o,s:o,s:o,s:I}", "pubkey", hexj(pk, 32), "nonce",
                                       u64j(next + pending), "committed_nonce", u64j(next),
                                       "pending", (json_int_t)pending));
}

static void h_validators(void *arg, rpc_request_t *req)
{
    api_ctx_t *a = arg;
    json_t *arr = json_array();
    for (size_t i = 0; i < a->genesis->n_validators; i++) {
        const genesis_validator_t *v = &a->genesis->validators[i];
        json_array_append_new(arr, json_pack("{s:i,s:s,s:o,s:o,s:s}", "index", (int)i, "name",
                                             v->name, "pubkey", hexj(v->pubkey, 32),
                                             "tls_fingerprint", hexj(v->tls_fingerprint, 32),
                                             "address", v->address));
    }
    rpc_reply_json(req, 200,
                   json_pack("{s:o,s:o,s:I,s:I}", "validators", arr, "hash", hexj(a->vs->hash, 32),
                             "f", (json_int_t)valset_f(a->vs), "quorum",
                             (json_int_t)valset_quorum(a->vs)));
}

/* ------------------------------------------------------------- bundle */

#define BUNDLE_CACHE 8

typedef struct {
    uint64_t height;
    hm_block_t *b;
    hm_hash32_t *txids;
} cached_block_t;

typedef struct {
    api_ctx_t *a;
    anchor_t an;
    hm_buf_t out;            /* the bundle, built field by field */
    uint64_t *heights;       /* headers to include (unsorted, deduped on output) */
    size_t nheights, capheights;
    hm_buf_t keys;           /* visited record keys: klen[2] key ... */
    size_t nrecords;
    hm_buf_t emitted;        /* txs already in the bundle: height[8] index[4] ... */
    cached_block_t cache[BUNDLE_CACHE];
    size_t cache_next;
    hm_smt_proof_t proof;
} bundle_t;

static int bundle_note_height(bundle_t *bd, uint64_t h)
{
    for (size_t i = 0; i < bd->nheights; i++)
        if (bd->heights[i] == h)
            return HM_OK;
    if (bd->nheights == bd->capheights) {
        size_t cap = bd->capheights ? bd->capheights * 2 : 64;
        uint64_t *p = realloc(bd->heights, cap * sizeof *p);
        if (!p)
            return HM_ERR_NOMEM;
        bd->heights = p;
        bd->capheights = cap;
    }
    bd->heights[bd->nheights++] = h;
    return HM_OK;
}

static int bundle_block(bundle_t *bd, uint64_t h, cached_block_t **out)
{
    for (size_t i = 0; i < BUNDLE_CACHE; i++)
        if (bd->cache[i].b && bd->cache[i].height == h) {
            *out = &bd->cache[i];
            return HM_OK;
        }
    cached_block_t *c = &bd->cache[bd->cache_next++ % BUNDLE_CACHE];
    hm_block_free(c->b);
    free(c->txids);
    memset(c, 0, sizeof *c);
    int rc = load_header(bd->a, h, NULL, &c->b);
    if (rc == HM_OK)
        rc = hm_block_txids(&c->txids, c->b->block);
    if (rc != HM_OK) {
        hm_block_free(c->b);
        free(c->txids);
        memset(c, 0, sizeof *c);
        return rc;
    }
    c->height = h;
    *out = c;
    return HM_OK;
}

static int bundle_tx(bundle_t *bd, uint64_t h, uint32_t idx)
{
    /* a tx in several records' histories (a mint: certificate, licence,
     * every part) goes into the bundle once */
    uint8_t tag[12];
    hm_put_u64be(tag, h);
    hm_put_u32be(tag + 8, idx);
    for (size_t off = 0; off + sizeof tag <= bd->emitted.len; off += sizeof tag)
        if (memcmp(bd->emitted.data + off, tag, sizeof tag) == 0)
            return HM_OK;
    cached_block_t *c = NULL;
    hm_hash32_t path[HM_MERKLE_MAX_DEPTH], rpath[HM_MERKLE_MAX_DEPTH];
    size_t plen = 0, rplen = 0;
    ProtobufCBinaryData pb[HM_MERKLE_MAX_DEPTH], rpb[HM_MERKLE_MAX_DEPTH];
    Hallmark__BlockResults *br = NULL;
    hm_hash32_t *leaves = NULL;
    hm_buf_t rb = {0};
    int rc = bundle_block(bd, h, &c);
    if (rc == HM_OK && idx >= c->b->block->n_txs)
        rc = HM_ERR_CORRUPT;
    if (rc == HM_OK)
        rc = hm_merkle_prove(path, &plen, (const hm_hash32_t *)c->txids, c->b->block->n_txs, idx);
    if (rc == HM_OK)
        rc = chain_results_bytes(bd->a->chain, h, &rb);
    if (rc == HM_OK)
        rc = hm_decode_block_results(&br, rb.data, rb.len);
    if (rc == HM_OK && br->n_results != c->b->block->n_txs)
        rc = HM_ERR_CORRUPT;
    if (rc != HM_OK)
        goto done;
    Hallmark__MerkleProof mp = HALLMARK__MERKLE_PROOF__INIT, rp = HALLMARK__MERKLE_PROOF__INIT;
    for (size_t i = 0; i < plen; i++)
        pb[i] = (ProtobufCBinaryData){32, path[i]};
    mp.index = idx;
    mp.size = c->b->block->n_txs;
    mp.path = pb;
    mp.n_path = plen;
    Hallmark__TxInclusion inc = HALLMARK__TX_INCLUSION__INIT;
    inc.signed_tx = c->b->block->txs[idx];
    inc.height = h;
    inc.proof = &mp;
    inc.result = br->results[idx];
    /* the result proves against header h+1's results_root, once it exists */
    if (h < chain_tip(bd->a->chain)->height) {
        leaves = malloc(br->n_results * sizeof *leaves);
        if (!leaves) {
            rc = HM_ERR_NOMEM;
            goto done;
        }
        for (size_t i = 0; i < br->n_results; i++)
            hm_result_leaf(leaves[i], br->results[i]->txid.data, br->results[i]->code);
        rc = hm_merkle_prove(rpath, &rplen, (const hm_hash32_t *)leaves, br->n_results, idx);
        if (rc != HM_OK)
            goto done;
        for (size_t i = 0; i < rplen; i++)
            rpb[i] = (ProtobufCBinaryData){32, rpath[i]};
        rp.index = idx;
        rp.size = br->n_results;
        rp.path = rpb;
        rp.n_path = rplen;
        inc.result_proof = &rp;
        rc = bundle_note_height(bd, h + 1);
        if (rc != HM_OK)
            goto done;
    }
    rc = bundle_note_height(bd, h);
    if (rc == HM_OK)
        rc = hm_codec_append_field(&bd->out, 5, &inc.base);
    if (rc == HM_OK)
        rc = hm_buf_append(&bd->emitted, tag, sizeof tag);
done:
    free(leaves);
    hm_free_block_results(br);
    hm_buf_free(&rb);
    return rc;
}

static bool bundle_visited(bundle_t *bd, const contracts_key_t *k)
{
    for (size_t off = 0; off < bd->keys.len;) {
        size_t l = (size_t)bd->keys.data[off] << 8 | bd->keys.data[off + 1];
        if (l == k->len && memcmp(bd->keys.data + off + 2, k->b, l) == 0)
            return true;
        off += 2 + l;
    }
    return false;
}

/* Add one record (proof at the anchor + its whole history). Out: *value
 * (when non-NULL and found: the decoded record, caller frees). */
static int bundle_record(bundle_t *bd, const contracts_key_t *k,
                         const ProtobufCMessageDescriptor *desc, void **value)
{
    if (value)
        *value = NULL;
    if (bundle_visited(bd, k) && !value)
        return HM_OK;
    bool first = !bundle_visited(bd, k);
    if (bd->nrecords >= API_BUNDLE_MAX_RECORDS)
        return HM_ERR_LIMIT;
    hm_buf_t val = {0};
    bool found = false;
    hm_buf_t hist = {0};
    ProtobufCBinaryData *ids = NULL;
    int rc = chain_prove(bd->a->chain, bd->an.root, k->b, k->len, &found, &val, &bd->proof);
    if (rc == HM_OK && first) {
        /* the record's history up to the anchored state (txs of blocks below
         * the anchor height), each tx with its inclusion proof */
        bool start = true;
        uint64_t ah = 0;
        uint32_t ai = 0;
        while (rc == HM_OK) {
            chain_history_entry_t e[API_MAX_HISTORY];
            size_t n = 0;
            rc = chain_history(bd->a->chain, k->b, k->len, start, ah, ai, API_MAX_HISTORY, e, &n);
            for (size_t i = 0; rc == HM_OK && i < n; i++) {
                if (e[i].height >= bd->an.height)
                    continue;
                rc = bundle_tx(bd, e[i].height, e[i].index);
                if (rc == HM_OK)
                    rc = hm_buf_append(&hist, e[i].txid, 32);
            }
            if (n < API_MAX_HISTORY)
                break;
            start = false;
            ah = e[n - 1].height;
            ai = e[n - 1].index;
        }
        size_t nids = hist.len / 32;
        if (rc == HM_OK && nids && !(ids = calloc(nids, sizeof *ids)))
            rc = HM_ERR_NOMEM;
        for (size_t i = 0; rc == HM_OK && i < nids; i++)
            ids[i] = (ProtobufCBinaryData){32, hist.data + 32 * i};
        hm_smt_proof_msg_t pm;
        hm_smt_proof_to_msg(&pm, &bd->proof);
        Hallmark__RecordProof rp = HALLMARK__RECORD_PROOF__INIT;
        rp.key = (ProtobufCBinaryData){k->len, (uint8_t *)k->b};
        rp.value = (ProtobufCBinaryData){val.len, val.data};
        rp.proof = &pm.msg;
        rp.header_height = bd->an.height;
        rp.history_txids = ids;
        rp.n_history_txids = nids;
        if (rc == HM_OK)
            rc = hm_codec_append_field(&bd->out, 4, &rp.base);
        if (rc == HM_OK)
            rc = hm_buf_append(&bd->keys, (uint8_t[]){(uint8_t)(k->len >> 8), (uint8_t)k->len}, 2);
        if (rc == HM_OK)
            rc = hm_buf_append(&bd->keys, k->b, k->len);
        bd->nrecords++;
    }
    if (rc == HM_OK && found && value)
        rc = hm_codec_decode(value, desc, HM_MAX_RECORD_BYTES, val.data, val.len);
    free(ids);
    hm_buf_free(&hist);
    hm_buf_free(&val);
    return rc;
}

static int bundle_identity(bundle_t *bd, const ProtobufCBinaryData *gid)
{
    contracts_key_t k;
    if (gid->len != HM_GID_LEN)
        return HM_OK;
    int rc = contracts_key_identity(&k, gid->data);
    return rc == HM_OK ? bundle_record(bd, &k, &hallmark__identity__descriptor, NULL) : rc;
}

/* A part, its certificate, licence(s), recipe, the identities involved and,
 * recursively, its components. depth bounds the recursion. */
static int bundle_part(bundle_t *bd, const char *serial, int depth)
{
    contracts_key_t k;
    Hallmark__Part *p = NULL;
    Hallmark__Certificate *c = NULL;
    Hallmark__Licence *l = NULL;
    Hallmark__Recipe *r = NULL;
    if (depth > 16)
        return HM_ERR_LIMIT;
    int rc = contracts_key_part(&k, serial);
    if (rc == HM_OK)
        rc = bundle_record(bd, &k, &hallmark__part__descriptor, (void **)&p);
    if (rc != HM_OK || !p)
        goto done;
    rc = bundle_identity(bd, &p->holder);
    if (rc == HM_OK && p->cert_id.len == 32 &&
        (rc = contracts_key_cert(&k, p->cert_id.data)) == HM_OK)
        rc = bundle_record(bd, &k, &hallmark__certificate__descriptor, (void **)&c);
    if (rc == HM_OK && c) {
        rc = bundle_identity(bd, &c->manufacturer);
        for (size_t i = 0; rc == HM_OK && i < c->n_cosigns; i++)
            rc = bundle_identity(bd, &c->cosigns[i]->inspector);
        if (rc == HM_OK && c->licence_id.len == 32 &&
            (rc = contracts_key_licence(&k, c->licence_id.data)) == HM_OK)
            rc = bundle_record(bd, &k, &hallmark__licence__descriptor, (void **)&l);
        if (rc == HM_OK && c->recipe_hash.len == 32 &&
            (rc = contracts_key_recipe(&k, c->recipe_hash.data)) == HM_OK)
            rc = bundle_record(bd, &k, &hallmark__recipe__descriptor, (void **)&r);
    }
    if (rc == HM_OK && l) {
        rc = bundle_identity(bd, &l->licensor);
        if (rc == HM_OK && l->parent_licence.len == 32 &&
            (rc = contracts_key_licence(&k, l->parent_licence.data)) == HM_OK)
            rc = bundle_record(bd, &k, &hallmark__licence__descriptor, NULL);
    }
    if (rc == HM_OK && r)
        rc = bundle_identity(bd, &r->owner);
    for (size_t i = 0; rc == HM_OK && i < p->n_children; i++)
        rc = bundle_part(bd, p->children[i], depth + 1);
done:
    hm_codec_free(p);
    hm_codec_free(c);
    hm_codec_free(l);
    hm_codec_free(r);
    return rc;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static void h_bundle(void *arg, rpc_request_t *req)
{
    api_ctx_t *a = arg;
    const char *serial = rpc_param(req, "serial");
    if (!serial || strlen(serial) > CONTRACTS_MAX_SERIAL_LEN) {
        rpc_reply_error(req, 400, "bad_request", "malformed serial");
        return;
    }
    bundle_t *bd = calloc(1, sizeof *bd);
    if (!bd) {
        reply_internal(req, HM_ERR_NOMEM);
        return;
    }
    bd->a = a;
    hm_buf_t hb = {0}, cert = {0};
    Hallmark__CommitCertificate *cc = NULL;
    int rc = anchor_load(a, &bd->an);
    if (rc == HM_ERR_NOT_FOUND) {
        rpc_reply_error(req, 503, "no_certified_state", "no block committed yet");
        goto done;
    }
    /* scalar fields first; repeated fields are appended after */
    Hallmark__ProofBundle head = HALLMARK__PROOF_BUNDLE__INIT;
    head.chain_id = (ProtobufCBinaryData){32, (uint8_t *)chain_tip(a->chain)->chain_id};
    head.subject = (char *)serial;
    head.anchor_height = bd->an.height;
    if (rc == HM_OK)
        rc = hm_codec_encode_append(&bd->out, &head.base);
    if (rc == HM_OK)
        rc = bundle_part(bd, serial, 0);
    /* An absent part is answered with its absence proof, not a 404: the
     * auditor proves "not on the ledger" instead of trusting the node. */
    if (rc == HM_OK)
        rc = bundle_note_height(bd, bd->an.height);
    if (rc == HM_OK)
        qsort(bd->heights, bd->nheights, sizeof *bd->heights, cmp_u64);
    for (size_t i = 0; rc == HM_OK && i < bd->nheights; i++) {
        hm_block_t *b = NULL;
        rc = load_header(a, bd->heights[i], &hb, &b);
        hm_block_free(b);
        if (rc == HM_OK)
            rc = chain_cert_bytes(a->chain, bd->heights[i], &cert);
        if (rc == HM_OK)
            rc = hm_decode_commit_cert(&cc, cert.data, cert.len);
        if (rc == HM_OK) {
            Hallmark__CertifiedHeader ch = HALLMARK__CERTIFIED_HEADER__INIT;
            ch.header = (ProtobufCBinaryData){hb.len, hb.data};
            ch.cert = cc;
            rc = hm_codec_append_field(&bd->out, 3, &ch.base);
        }
        hm_free_commit_cert(cc);
        cc = NULL;
    }
    if (rc == HM_OK) {
        /* the validator set the headers are certified by */
        Hallmark__ValidatorSet vs = HALLMARK__VALIDATOR_SET__INIT;
        size_t n = a->genesis->n_validators;
        Hallmark__ValidatorInfo *vi = calloc(n, sizeof *vi), **vp = calloc(n, sizeof *vp);
        if (!vi || !vp)
            rc = HM_ERR_NOMEM;
        for (size_t i = 0; rc == HM_OK && i < n; i++) {
            const genesis_validator_t *g = &a->genesis->validators[i];
            hallmark__validator_info__init(&vi[i]);
            vi[i].pubkey = (ProtobufCBinaryData){32, (uint8_t *)g->pubkey};
            vi[i].tls_fingerprint = (ProtobufCBinaryData){32, (uint8_t *)g->tls_fingerprint};
            vi[i].address = (char *)g->address;
            vi[i].name = (char *)g->name;
            vp[i] = &vi[i];
        }
        vs.validators = vp;
        vs.n_validators = n;
        if (rc == HM_OK)
            rc = hm_codec_append_field(&bd->out, 7, &vs.base);
        free(vi);
        free(vp);
    }
    if (rc == HM_OK && bd->out.len > HM_MAX_BUNDLE_BYTES)
        rc = HM_ERR_TOO_LARGE;
    if (rc == HM_ERR_LIMIT || rc == HM_ERR_TOO_LARGE) {
        rpc_reply_error(req, 413, "bundle_too_large", "the provenance is too large for one bundle");
        goto done;
    }
    if (rc != HM_OK) {
        reply_internal(req, rc);
        goto done;
    }
    rpc_reply_raw(req, 200, "application/x-protobuf", bd->out.data, bd->out.len);
done:
    for (size_t i = 0; i < BUNDLE_CACHE; i++) {
        hm_block_free(bd->cache[i].b);
        free(bd->cache[i].txids);
    }
    hm_buf_free(&hb);
    hm_buf_free(&cert);
    hm_buf_free(&bd->out);
    hm_buf_free(&bd->keys);
    hm_buf_free(&bd->emitted);
    free(bd->heights);
    anchor_free(&bd->an);
    free(bd);
}

/* ----------------------------------------------------------- register */

int api_register(rpc_t *rpc, api_ctx_t *ctx)
{
    struct {
        rpc_method_t m;
        const char *path;
        rpc_handler_fn fn;
    } routes[] = {
        {RPC_POST, "/v1/tx", h_tx},
        {RPC_POST, "/v1/txs", h_txs},
        {RPC_GET, "/v1/tx/{txid}", h_tx_status},
        {RPC_GET, "/v1/status", h_status},
        {RPC_GET, "/v1/blocks/{height}", h_block},
        {RPC_GET, "/v1/headers", h_headers},
        {RPC_GET, "/v1/records/{kind}/{id}", h_record},
        {RPC_GET, "/v1/records/{kind}/{id}/history", h_history},
        {RPC_GET, "/v1/parts/{serial}/bundle", h_bundle},
        {RPC_GET, "/v1/nonce/{pubkey}", h_nonce},
        {RPC_GET, "/v1/validators", h_validators},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = rpc_route(rpc, routes[i].m, routes[i].path, routes[i].fn, ctx);
        if (rc != HM_OK)
            return rc;
    }
    return HM_OK;
}
