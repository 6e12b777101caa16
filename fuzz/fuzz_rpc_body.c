/* fuzz/fuzz_rpc_body — arbitrary bytes as the body of POST /v1/tx and POST
 * /v1/txs (DESIGN §9, doc/rpc.md).
 *
 * The bytes are parsed as node/rpc's rpc_body_json parses a body (jansson,
 * JSON_REJECT_DUPLICATES); a parsed body goes through the endpoints' own
 * body decoder (node/api api_tx_body_decode), once as a single tx and once
 * as a batch, and what it yields into a fresh mempool the way the node
 * admits it (node/verifier's mempool_check, then mempool_add_checked: the
 * stateless checks every submitted tx meets). Invariants:
 *  - a refused body has a status of 400/413/500, an error code and message,
 *    nothing allocated, and is refused exactly when the spec says (not a hex
 *    string; not an array; more than API_MAX_BATCH_TXS entries);
 *  - an accepted body yields one entry per array element (one for /v1/tx),
 *    bad exactly where the element is not an even-length hex string, and
 *    bytes that re-encode to the hex that was sent;
 *  - every admitted tx is in the mempool, verifies for the chain, and its
 *    decoded SignedTx re-encodes to a tx with the same txid that verifies
 *    again; a refused tx is never in the mempool (unless another entry
 *    with its txid was admitted); the mempool holds exactly the admitted
 *    txs, in order, byte for byte (or a richer co-signed copy);
 *  - mempool_add, the one-thread admission, gives the same verdicts, count
 *    and bytes.
 *  - api_tx_body_scan, the batch endpoint's scanner of plain bodies, takes
 *    only bodies jansson parses and yields exactly what the decoder does.
 * Nothing else changes: no other state is touched. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/hash.h"
#include "lib/hex.h"
#include "lib/tx.h"
#include "node/api.h"
#include "node/mempool.h"

/* The spec of one tx string: an even-length hex string (upper or lower
 * case) of at most HM_MAX_TX_BYTES + 1 bytes, or any string longer than the
 * hex of a maximal tx (kept as a too-large tx). */
static bool spec_tx_string(const json_t *v, bool *too_long)
{
    *too_long = false;
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n > 2 * HM_MAX_TX_BYTES + 2) {
        *too_long = true;
        return true;
    }
    if (n % 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static void check_entry(const json_t *v, const ProtobufCBinaryData *tx, bool bad)
{
    bool too_long;
    bool ok = spec_tx_string(v, &too_long);
    HM_FUZZ_CHECK(bad == !ok);
    if (bad) {
        HM_FUZZ_CHECK(tx->data == NULL && tx->len == 0);
        return;
    }
    if (too_long) {
        HM_FUZZ_CHECK(tx->len == HM_MAX_TX_BYTES + 1);
        return;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    HM_FUZZ_CHECK(tx->len * 2 == n);
    char *re = hm_hex_dup(tx->data, tx->len);
    HM_FUZZ_CHECK(re != NULL);
    for (size_t i = 0; i < n; i++)
        HM_FUZZ_CHECK(re[i] == tolower((unsigned char)s[i]));
    free(re);
}

/* The admitted txs must be what the mempool holds, in order. */
static void check_mempool(node_mempool_t *mp, const uint8_t chain[32],
                          const ProtobufCBinaryData *good, const mempool_result_t *res, size_t k)
{
    size_t admitted = 0;
    for (size_t j = 0; j < k; j++) {
        const mempool_result_t *r = &res[j];
        HM_FUZZ_CHECK(r->verdict >= MEMPOOL_ADMITTED && r->verdict <= MEMPOOL_FULL);
        HM_FUZZ_CHECK(r->verdict != MEMPOOL_FULL); /* the default caps are far away */
        if (good[j].len > HM_MAX_TX_BYTES)
            HM_FUZZ_CHECK(r->verdict == MEMPOOL_TOO_LARGE);
        if (r->verdict == MEMPOOL_ADMITTED || r->verdict == MEMPOOL_DUPLICATE) {
            HM_FUZZ_CHECK(r->has_txid && mempool_contains(mp, r->txid));
            hm_tx_t *t = NULL;
            HM_FUZZ_CHECK(hm_tx_decode_verify(&t, good[j].data, good[j].len, chain) == HM_OK);
            HM_FUZZ_CHECK(memcmp(t->txid, r->txid, 32) == 0);
            uint8_t *enc = NULL;
            size_t elen = 0;
            HM_FUZZ_CHECK(hm_codec_encode(&enc, &elen, &t->stx->base) == HM_OK);
            hm_tx_t *t2 = NULL;
            HM_FUZZ_CHECK(hm_tx_decode_verify(&t2, enc, elen, chain) == HM_OK);
            HM_FUZZ_CHECK(memcmp(t2->txid, r->txid, 32) == 0);
            hm_tx_free(t2);
            free(enc);
            hm_tx_free(t);
            if (r->verdict == MEMPOOL_ADMITTED)
                admitted++;
            else {
                bool earlier = false; /* a duplicate of an earlier admitted entry */
                for (size_t i = 0; i < j && !earlier; i++)
                    earlier = res[i].verdict == MEMPOOL_ADMITTED &&
                              memcmp(res[i].txid, r->txid, 32) == 0;
                HM_FUZZ_CHECK(earlier);
            }
        } else if (r->has_txid && mempool_contains(mp, r->txid)) {
            bool other = false; /* another entry with this txid was admitted */
            for (size_t i = 0; i < k && !other; i++)
                other = res[i].verdict == MEMPOOL_ADMITTED &&
                        memcmp(res[i].txid, r->txid, 32) == 0;
            HM_FUZZ_CHECK(other);
        }
    }
    HM_FUZZ_CHECK(mempool_count(mp) == admitted);
    ProtobufCBinaryData *held = NULL;
    size_t nheld = 0;
    HM_FUZZ_CHECK(mempool_reap(mp, SIZE_MAX, SIZE_MAX, &held, NULL, &nheld) == HM_OK);
    HM_FUZZ_CHECK(nheld == admitted);
    size_t h = 0;
    for (size_t j = 0; j < k; j++) {
        if (res[j].verdict != MEMPOOL_ADMITTED)
            continue;
        hm_tx_t *t = NULL;
        HM_FUZZ_CHECK(hm_tx_decode_verify(&t, held[h].data, held[h].len, chain) == HM_OK);
        HM_FUZZ_CHECK(memcmp(t->txid, res[j].txid, 32) == 0);
        /* the same bytes, or those of a later copy of the tx (a richer
         * co-signed copy replaces the stored one) */
        bool same = false;
        for (size_t i = j; i < k && !same; i++)
            same = (i == j || (res[i].verdict == MEMPOOL_DUPLICATE &&
                               memcmp(res[i].txid, res[j].txid, 32) == 0)) &&
                   held[h].len == good[i].len &&
                   memcmp(held[h].data, good[i].data, good[i].len) == 0;
        HM_FUZZ_CHECK(same);
        hm_tx_free(t);
        h++;
    }
    mempool_reap_free(held, NULL, nheld);
}

static void run(const json_t *body, bool batch, const uint8_t chain[32])
{
    api_tx_body_t tb;
    int st = api_tx_body_decode(&tb, body, batch);
    const json_t *field = json_object_get(body, batch ? "txs" : "tx");
    if (st != 0) {
        HM_FUZZ_CHECK(st == 400 || st == 413 || st == 500);
        HM_FUZZ_CHECK(tb.code && *tb.code && tb.msg[0]);
        HM_FUZZ_CHECK(tb.txs == NULL && tb.bad == NULL && tb.n == 0);
        if (st == 413)
            HM_FUZZ_CHECK(batch && json_array_size(field) > API_MAX_BATCH_TXS);
        if (st == 400) {
            bool too_long;
            HM_FUZZ_CHECK(batch ? !json_is_array(field) : !spec_tx_string(field, &too_long));
        }
        return;
    }
    /* accepted: exactly the spec's entries */
    if (batch) {
        HM_FUZZ_CHECK(json_is_array(field) && json_array_size(field) <= API_MAX_BATCH_TXS);
        HM_FUZZ_CHECK(tb.n == json_array_size(field));
        for (size_t i = 0; i < tb.n; i++)
            check_entry(json_array_get(field, i), &tb.txs[i], tb.bad[i]);
    } else {
        HM_FUZZ_CHECK(tb.n == 1 && !tb.bad[0]);
        check_entry(field, &tb.txs[0], false);
    }
    /* what the handlers hand the mempool: the good entries, in order */
    ProtobufCBinaryData *good = calloc(tb.n ? tb.n : 1, sizeof *good);
    mempool_result_t *res = calloc(tb.n ? tb.n : 1, sizeof *res);
    HM_FUZZ_CHECK(good && res);
    size_t k = 0;
    for (size_t i = 0; i < tb.n; i++)
        if (!tb.bad[i])
            good[k++] = tb.txs[i];
    node_mempool_t *mp = NULL;
    HM_FUZZ_CHECK(mempool_new(&mp, chain, NULL, NULL) == HM_OK);
    /* the node's path: node/verifier runs mempool_check on each tx, the
     * loop inserts them with mempool_add_checked */
    mempool_checked_t *chk = calloc(k ? k : 1, sizeof *chk);
    HM_FUZZ_CHECK(chk != NULL);
    for (size_t i = 0; i < k; i++)
        mempool_check(chain, &good[i], &chk[i]);
    HM_FUZZ_CHECK(mempool_add_checked(mp, good, k, chk, res) == HM_OK);
    check_mempool(mp, chain, good, res, k);
    /* mempool_add (admission on one thread) agrees, verdict for verdict */
    node_mempool_t *mp2 = NULL;
    mempool_result_t *res2 = calloc(k ? k : 1, sizeof *res2);
    HM_FUZZ_CHECK(res2 != NULL && mempool_new(&mp2, chain, NULL, NULL) == HM_OK);
    HM_FUZZ_CHECK(mempool_add(mp2, good, k, res2) == HM_OK);
    for (size_t i = 0; i < k; i++) {
        HM_FUZZ_CHECK(res[i].verdict == res2[i].verdict && res[i].has_txid == res2[i].has_txid);
        HM_FUZZ_CHECK(!res[i].has_txid || memcmp(res[i].txid, res2[i].txid, 32) == 0);
    }
    HM_FUZZ_CHECK(mempool_count(mp) == mempool_count(mp2) &&
                  mempool_bytes(mp) == mempool_bytes(mp2));
    mempool_free(mp2);
    free(res2);
    free(chk);
    mempool_free(mp);
    free(good);
    free(res);
    api_tx_body_free(&tb);
    HM_FUZZ_CHECK(tb.txs == NULL && tb.bad == NULL && tb.n == 0);
}

/* The scanner of plain batch bodies (api_tx_body_scan) agrees with
 * jansson + api_tx_body_decode on every body it takes, and takes only
 * bodies jansson parses. */
static void check_scan(const uint8_t *data, size_t size, const json_t *body)
{
    api_tx_body_t fast, slow;
    int st = api_tx_body_scan(&fast, data, size);
    if (st < 0) {
        HM_FUZZ_CHECK(fast.txs == NULL && fast.bad == NULL && fast.n == 0);
        return;
    }
    HM_FUZZ_CHECK(body != NULL);
    int st2 = api_tx_body_decode(&slow, body, true);
    HM_FUZZ_CHECK(st == st2 && fast.n == slow.n);
    if (st != 0) {
        HM_FUZZ_CHECK(strcmp(fast.code, slow.code) == 0 && strcmp(fast.msg, slow.msg) == 0);
        HM_FUZZ_CHECK(fast.txs == NULL && fast.bad == NULL);
        return;
    }
    for (size_t i = 0; i < fast.n; i++) {
        HM_FUZZ_CHECK(fast.bad[i] == slow.bad[i] && fast.txs[i].len == slow.txs[i].len);
        HM_FUZZ_CHECK(fast.txs[i].len == 0 ||
                      memcmp(fast.txs[i].data, slow.txs[i].data, fast.txs[i].len) == 0);
    }
    api_tx_body_free(&fast);
    api_tx_body_free(&slow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t chain[32];
    hm_tagged_hash(chain, HM_TAG_GENESIS, "fuzz", 4); /* fuzz/mkseeds signs for it */
    if (size == 0 || size > HM_MAX_RPC_BODY_BYTES)
        return 0; /* node/rpc refuses these before any handler runs */
    json_error_t je;
    /* the flags of node/rpc's rpc_body_json */
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    check_scan(data, size, body); /* POST /v1/txs tries the scanner first */
    if (!body)
        return 0; /* 400 invalid_json: no handler runs */
    run(body, false, chain);
    run(body, true, chain);
    json_decref(body);
    return 0;
}
