/* wallet/audit — the verifier: genesis -> commit certificates -> tx
 * inclusion and results -> state proofs -> history chains -> the verdict of
 * DESIGN §10 (doc/audit.md has the algorithm step by step). The renderers
 * are in wallet/audit_render.c. Owns the decoded bundle and what it derives
 * from it; depends on lib/, consensus/ (cert, valset), contracts/ (ids,
 * keys, history chains), wallet/util; never on node/. */
#include "wallet/audit_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/cert.h"
#include "lib/block.h"
#include "lib/hash.h"
#include "lib/hex.h"
#include "lib/merkle.h"
#include "lib/smt.h"

/* ------------------------------------------------------------ helpers */

const char *audit_verdict_name(audit_verdict_t v)
{
    switch (v) {
    case AUDIT_VALID: return "VALID";
    case AUDIT_INVALID: return "INVALID";
    case AUDIT_RECALLED: return "RECALLED";
    }
    return "INVALID";
}

void aud_hex(char *out, const void *p, size_t n)
{
    hm_hex_encode(out, p, n);
}

void aud_did(char out[WALLET_DID_STRLEN], const ProtobufCBinaryData *gid)
{
    if (gid->len == HM_GID_LEN)
        wallet_gid_format(out, gid->data);
    else
        snprintf(out, WALLET_DID_STRLEN, "(none)");
}

static bool bin_eq(const ProtobufCBinaryData *b, const void *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

static bool bins_eq(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Printable copy of untrusted text for messages (non-printables -> '?'). */
void aud_clean(char *out, size_t cap, const char *s, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; i < len && j + 1 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    out[j] = '\0';
}

static void vlist_add(wallet_strlist_t *l, size_t *dropped, const char *fmt, va_list ap)
{
    char msg[640];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (l->n >= AUDIT_MAX_REASONS || wallet_strlist_contains(l, msg)) {
        if (l->n >= AUDIT_MAX_REASONS)
            (*dropped)++;
        return;
    }
    if (wallet_strlist_add(l, msg) != HM_OK)
        (*dropped)++;
}

__attribute__((format(printf, 2, 3))) static void problem(audit_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlist_add(&a->problems, &a->dropped, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void note(audit_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t dropped = 0;
    vlist_add(&a->notes, &dropped, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void reason(audit_part_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlist_add(&p->reasons, &p->dropped, fmt, ap);
    va_end(ap);
}

/* A readable name of a state key: "part SN-1", "certificate <hex>", ... */
void aud_key_label(char *out, size_t cap, const uint8_t *key, size_t klen)
{
    char hex[2 * CONTRACTS_KEY_MAX + 1];
    if (klen > 2 && key[1] == '/') {
        const uint8_t *id = key + 2;
        size_t n = klen - 2;
        const char *what = NULL;
        switch (key[0]) {
        case 'p': {
            char s[CONTRACTS_KEY_MAX + 1];
            aud_clean(s, sizeof s, (const char *)id, n);
            snprintf(out, cap, "part %s", s);
            return;
        }
        case 'c': what = "certificate"; break;
        case 'l': what = "licence"; break;
        case 'r': what = "recipe"; break;
        case 'i': what = "identity did:hallmark:"; break;
        default: break;
        }
        if (what) {
            aud_hex(hex, id, n);
            snprintf(out, cap, "%s%s%s", what, key[0] == 'i' ? "" : " ", hex);
            return;
        }
    }
    aud_hex(hex, key, klen > CONTRACTS_KEY_MAX ? CONTRACTS_KEY_MAX : klen);
    snprintf(out, cap, "record %s", hex);
}

/* ------------------------------------------------------------ genesis */

int audit_genesis_parse(audit_trust_t *out, const uint8_t *genesis, size_t len, wallet_diag_t *d)
{
    json_error_t jerr;
    json_t *root = NULL;
    uint8_t(*pks)[32] = NULL;
    int rc = HM_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (len == 0 || len > WALLET_GENESIS_MAX) {
        wallet_diag_set(d, "genesis file: %s", len ? "too large" : "empty");
        goto done;
    }
    root = json_loadb((const char *)genesis, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *vs = root ? json_object_get(root, "validators") : NULL;
    if (!json_is_array(vs) || json_array_size(vs) == 0 || json_array_size(vs) > VALSET_MAX) {
        wallet_diag_set(d, "genesis file: %s", root ? "no \"validators\" list of 1..256 entries"
                                                    : jerr.text);
        goto done;
    }
    size_t n = json_array_size(vs);
    if (!(pks = calloc(n, sizeof *pks))) {
        rc = HM_ERR_NOMEM;
        wallet_diag_set(d, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const char *hex = json_string_value(json_object_get(json_array_get(vs, i), "pubkey"));
        if (!hex || hm_hex_decode(pks[i], 32, hex) != HM_OK) {
            wallet_diag_set(d, "genesis file: validator %zu has no 64-hex \"pubkey\"", i);
            goto done;
        }
    }
    rc = valset_new(&out->vs, (const uint8_t(*)[32])pks, n);
    if (rc != HM_OK) {
        wallet_diag_set(d, "genesis file: the validator keys are not a valid set (%s)",
                        hm_strerror(rc));
        goto done;
    }
    hm_tagged_hash(out->chain_id, HM_TAG_GENESIS, genesis, len);
done:
    free(pks);
    json_decref(root);
    return rc;
}

void audit_trust_free(audit_trust_t *t)
{
    if (t)
        valset_free(&t->vs);
}

/* ------------------------------------------------------------ lookups */

static int cmp_hdr(const void *x, const void *y)
{
    uint64_t a = ((const aud_header_t *)x)->height, b = ((const aud_header_t *)y)->height;
    return (a > b) - (a < b);
}

const aud_header_t *aud_header(const audit_t *a, uint64_t h)
{
    aud_header_t key = {.height = h};
    return a->n_hdr ? bsearch(&key, a->hdr, a->n_hdr, sizeof *a->hdr, cmp_hdr) : NULL;
}

static int cmp_txid(const void *x, const void *y)
{
    return memcmp(((const aud_tx_t *)x)->txid, ((const aud_tx_t *)y)->txid, 32);
}

/* The verified inclusion of txid, preferring one proven applied. */
const aud_tx_t *aud_tx(const audit_t *a, const uint8_t txid[32])
{
    aud_tx_t key;
    memcpy(key.txid, txid, 32);
    const aud_tx_t *t = a->n_txs ? bsearch(&key, a->txs, a->n_txs, sizeof *a->txs, cmp_txid) : NULL;
    if (!t)
        return NULL;
    while (t > a->txs && memcmp(t[-1].txid, txid, 32) == 0)
        t--;
    const aud_tx_t *best = NULL;
    for (; t < a->txs + a->n_txs && memcmp(t->txid, txid, 32) == 0; t++) {
        if (!t->ok)
            continue;
        if (t->code_proven && t->code == 0)
            return t;
        if (!best)
            best = t;
    }
    return best;
}

static int cmp_rec(const void *x, const void *y)
{
    const aud_rec_t *a = x, *b = y;
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = n ? memcmp(a->key, b->key, n) : 0;
    return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

const aud_rec_t *aud_rec(const audit_t *a, const contracts_key_t *k)
{
    aud_rec_t key = {.key = k->b, .klen = k->len};
    return a->n_recs ? bsearch(&key, a->recs, a->n_recs, sizeof *a->recs, cmp_rec) : NULL;
}

const aud_rec_t *aud_rec_id(const audit_t *a, char prefix, const uint8_t *id, size_t n)
{
    contracts_key_t k;
    char pre[3] = {prefix, '/', '\0'};
    if (contracts_key(&k, pre, id, n, NULL, 0) != HM_OK)
        return NULL;
    return aud_rec(a, &k);
}

/* ------------------------------------------------------------ headers */

static void verify_headers(audit_t *a, const audit_trust_t *trust)
{
    const Hallmark__ProofBundle *b = a->b;
    char hex[65], hex2[65];
    a->hdr = calloc(b->n_headers ? b->n_headers : 1, sizeof *a->hdr);
    if (!a->hdr) {
        a->nomem = true;
        return;
    }
    for (size_t i = 0; i < b->n_headers; i++) {
        const Hallmark__CertifiedHeader *ch = b->headers[i];
        aud_header_t *h = &a->hdr[a->n_hdr];
        if (hm_header_decode(&h->h, ch->header.data, ch->header.len) != HM_OK) {
            problem(a, "header #%zu of the bundle does not decode", i);
            continue;
        }
        h->height = h->h->height;
        hm_block_hash(h->hash, ch->header.data, ch->header.len);
        unsigned long long ht = (unsigned long long)h->height;
        if (a->n_hdr && h->height <= a->hdr[a->n_hdr - 1].height) {
            problem(a, "headers are not in strictly ascending height order (height %llu after "
                       "%llu)",
                    ht, (unsigned long long)a->hdr[a->n_hdr - 1].height);
            hm_free_header(h->h);
            h->h = NULL;
            continue;
        }
        a->n_hdr++;
        if (!bin_eq(&h->h->chain_id, trust->chain_id, 32)) {
            aud_hex(hex, h->h->chain_id.data, 32);
            aud_hex(hex2, trust->chain_id, 32);
            problem(a, "header of height %llu is for chain %s, genesis says %s", ht, hex, hex2);
            continue;
        }
        if (!bin_eq(&h->h->validator_set_hash, trust->vs->hash, 32)) {
            aud_hex(hex, h->h->validator_set_hash.data, 32);
            problem(a, "header of height %llu names validator set %s, not the genesis set: "
                       "validator set change not supported by this auditor",
                    ht, hex);
            continue;
        }
        cert_reason_t why = CERT_MALFORMED;
        if (!ch->cert ||
            cert_verify(&why, ch->cert, trust->chain_id, trust->vs, &h->height, h->hash) != HM_OK) {
            problem(a, "commit certificate of height %llu: %s", ht,
                    ch->cert ? cert_reason_name(why) : "missing");
            continue;
        }
        h->ok = true;
        /* adjacent certified headers must link */
        if (a->n_hdr >= 2) {
            const aud_header_t *p = &a->hdr[a->n_hdr - 2];
            if (p->ok && p->height + 1 == h->height && !bin_eq(&h->h->prev_hash, p->hash, 32))
                problem(a, "header of height %llu does not link to the header of height %llu", ht,
                        (unsigned long long)p->height);
        }
    }
}

/* ---------------------------------------------------------------- txs */

/* Merkle proof message -> checked path. False for a malformed proof. */
static bool merkle_from_msg(const Hallmark__MerkleProof *m, hm_hash32_t *path, size_t *n)
{
    if (!m || m->n_path > HM_MERKLE_MAX_DEPTH || m->size == 0 || m->index >= m->size)
        return false;
    for (size_t i = 0; i < m->n_path; i++) {
        if (m->path[i].len != 32)
            return false;
        memcpy(path[i], m->path[i].data, 32);
    }
    *n = m->n_path;
    return true;
}

static void verify_txs(audit_t *a, const audit_trust_t *trust)
{
    const Hallmark__ProofBundle *b = a->b;
    hm_hash32_t path[HM_MERKLE_MAX_DEPTH];
    size_t plen = 0;
    char hex[65], hex2[65];
    a->txs = calloc(b->n_txs ? b->n_txs : 1, sizeof *a->txs);
    if (!a->txs) {
        a->nomem = true;
        return;
    }
    for (size_t i = 0; i < b->n_txs; i++) {
        const Hallmark__TxInclusion *inc = b->txs[i];
        aud_tx_t *t = &a->txs[a->n_txs];
        if (hm_tx_decode(&t->tx, inc->signed_tx.data, inc->signed_tx.len) != HM_OK) {
            problem(a, "tx #%zu of the bundle does not decode", i);
            continue;
        }
        a->n_txs++;
        t->inc = inc;
        memcpy(t->txid, t->tx->txid, 32);
        t->height = inc->height;
        t->index = inc->proof ? inc->proof->index : 0;
        aud_hex(hex, t->txid, 32);
        unsigned long long ht = (unsigned long long)inc->height;
        /* a copy of a tx already verified at the same height: same bytes,
         * only the proofs need checking again (they are cheap) */
        bool same = false;
        for (size_t j = 0; j + 1 < a->n_txs && j < 64; j++) {
            const aud_tx_t *o = &a->txs[a->n_txs - 2 - j];
            if (o->ok && o->height == t->height && memcmp(o->txid, t->txid, 32) == 0 &&
                bins_eq(&o->inc->signed_tx, &inc->signed_tx)) {
                same = true;
                break;
            }
        }
        int rc = same ? HM_OK : hm_tx_verify(t->tx, trust->chain_id);
        if (rc == HM_ERR_WRONG_CHAIN) {
            aud_hex(hex2, t->tx->tx->chain_id.data,
                    t->tx->tx->chain_id.len == 32 ? 32 : 0);
            problem(a, "tx %s is signed for chain %s, not this one", hex, hex2);
            continue;
        }
        if (rc != HM_OK) {
            problem(a, "tx %s: a signature does not verify", hex);
            continue;
        }
        const aud_header_t *h = aud_header(a, inc->height);
        if (!h || !h->ok) {
            problem(a, "tx %s: no certified header for its height %llu", hex, ht);
            continue;
        }
        if (!merkle_from_msg(inc->proof, path, &plen) ||
            !hm_merkle_verify(h->h->tx_root.data, t->txid, inc->proof->index, inc->proof->size,
                              (const hm_hash32_t *)path, plen)) {
            problem(a, "tx %s is not proven included in block %llu (Merkle proof fails against "
                       "its tx_root)",
                    hex, ht);
            continue;
        }
        t->time_ms = h->h->time_ms;
        t->ok = true;
        if (inc->result && !bin_eq(&inc->result->txid, t->txid, 32)) {
            problem(a, "tx %s: its result names another txid", hex);
            t->ok = false;
            continue;
        }
        if (inc->result && inc->result_proof) {
            const aud_header_t *h1 = inc->height < UINT64_MAX ? aud_header(a, inc->height + 1) : NULL;
            uint8_t leaf[32];
            hm_result_leaf(leaf, t->txid, inc->result->code);
            if (!h1 || !h1->ok) {
                problem(a, "tx %s: no certified header of height %llu for its result", hex,
                        ht + 1);
                t->ok = false;
                continue;
            }
            if (!merkle_from_msg(inc->result_proof, path, &plen) ||
                inc->result_proof->index != inc->proof->index ||
                inc->result_proof->size != inc->proof->size ||
                !hm_merkle_verify(h1->h->results_root.data, leaf, inc->result_proof->index,
                                  inc->result_proof->size, (const hm_hash32_t *)path, plen)) {
                problem(a, "tx %s: result code %u does not prove against the results_root of "
                           "height %llu",
                        hex, inc->result->code, ht + 1);
                t->ok = false;
                continue;
            }
            t->code = inc->result->code;
            t->code_proven = true;
        }
    }
    if (a->n_txs > 1)
        qsort(a->txs, a->n_txs, sizeof *a->txs, cmp_txid);
}

/* ------------------------------------------------------------ records */

static int decode_record(aud_rec_t *r)
{
    const ProtobufCBinaryData *v = &r->rp->value;
    const ProtobufCBinaryData *id = NULL;
    size_t idlen = r->klen - 2;
    const uint8_t *kid = r->key + 2;
    int rc = HM_ERR_INVALID;
    switch (r->kind) {
    case AUD_PART: {
        Hallmark__Part *p = NULL;
        rc = hm_decode_part(&p, v->data, v->len);
        r->msg = p;
        if (rc == HM_OK) {
            r->hlen = p->history_len;
            r->head = &p->history_head;
            if (!p->serial || strlen(p->serial) != idlen || memcmp(p->serial, kid, idlen) != 0)
                return HM_ERR_CORRUPT;
        }
        return rc;
    }
    case AUD_CERT: {
        Hallmark__Certificate *c = NULL;
        rc = hm_decode_certificate(&c, v->data, v->len);
        r->msg = c;
        if (rc == HM_OK) {
            r->hlen = c->history_len;
            r->head = &c->history_head;
            id = &c->cert_id;
        }
        break;
    }
    case AUD_LICENCE: {
        Hallmark__Licence *l = NULL;
        rc = hm_decode_licence(&l, v->data, v->len);
        r->msg = l;
        if (rc == HM_OK) {
            r->hlen = l->history_len;
            r->head = &l->history_head;
            id = &l->licence_id;
        }
        break;
    }
    case AUD_RECIPE: {
        Hallmark__Recipe *x = NULL;
        rc = hm_decode_recipe(&x, v->data, v->len);
        r->msg = x;
        if (rc == HM_OK) {
            r->hlen = x->history_len;
            r->head = &x->history_head;
            id = &x->recipe_hash;
        }
        break;
    }
    case AUD_IDENTITY: {
        Hallmark__Identity *x = NULL;
        rc = hm_decode_identity(&x, v->data, v->len);
        r->msg = x;
        if (rc == HM_OK) {
            r->hlen = x->history_len;
            r->head = &x->history_head;
            id = &x->gid;
        }
        break;
    }
    }
    if (rc == HM_OK && !bin_eq(id, kid, idlen))
        return HM_ERR_CORRUPT;
    return rc;
}

static bool rec_kind(aud_rec_t *r)
{
    if (r->klen < 3 || r->klen > CONTRACTS_KEY_MAX || r->key[1] != '/')
        return false;
    size_t n = r->klen - 2;
    switch (r->key[0]) {
    case 'p': r->kind = AUD_PART; return n <= CONTRACTS_MAX_SERIAL_LEN && !memchr(r->key, 0, r->klen);
    case 'c': r->kind = AUD_CERT; return n == 32;
    case 'l': r->kind = AUD_LICENCE; return n == 32;
    case 'r': r->kind = AUD_RECIPE; return n == 32;
    case 'i': r->kind = AUD_IDENTITY; return n == HM_GID_LEN;
    default: return false;
    }
}

/* History chain of a present record: complete, in order, every tx in the
 * bundle, included and proven applied. */
static void verify_history(audit_t *a, aud_rec_t *r, const char *label)
{
    const Hallmark__RecordProof *rp = r->rp;
    size_t n = rp->n_history_txids;
    char hex[65];
    if (n != r->hlen) {
        problem(a, "history of %s is incomplete: %zu txids for history_len %llu", label, n,
                (unsigned long long)r->hlen);
        return;
    }
    uint8_t(*ids)[32] = n ? malloc(n * 32) : NULL;
    if (n && !ids) {
        a->nomem = true;
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (rp->history_txids[i].len != 32) {
            problem(a, "history txid #%zu of %s is not 32 bytes", i, label);
            ok = false;
            break;
        }
        memcpy(ids[i], rp->history_txids[i].data, 32);
    }
    if (ok && !contracts_history_verify(r->hlen, r->head->data, r->head->len,
                                        (const uint8_t(*)[32])ids, n)) {
        problem(a, "history of %s does not chain to its history_head (a tx is missing, added or "
                   "out of order)",
                label);
        ok = false;
    }
    for (size_t i = 0; ok && i < n; i++) {
        const aud_tx_t *t = aud_tx(a, ids[i]);
        aud_hex(hex, ids[i], 32);
        if (!t)
            problem(a, "history tx %s of %s is not in the bundle (or did not verify)", hex, label);
        else if (!t->code_proven)
            problem(a, "history tx %s of %s: its result is not proven", hex, label);
        else if (t->code != 0)
            problem(a, "history tx %s of %s was rejected (%s) yet is in its history", hex, label,
                    contracts_result_name(t->code));
    }
    free(ids);
}

static void verify_records(audit_t *a)
{
    const Hallmark__ProofBundle *b = a->b;
    char label[320];
    hm_smt_proof_t *proof = malloc(sizeof *proof);
    a->recs = calloc(b->n_records ? b->n_records : 1, sizeof *a->recs);
    if (!a->recs || !proof) {
        a->nomem = true;
        free(proof);
        return;
    }
    for (size_t i = 0; i < b->n_records; i++) {
        aud_rec_t *r = &a->recs[a->n_recs];
        r->rp = b->records[i];
        r->key = r->rp->key.data;
        r->klen = r->rp->key.len;
        aud_key_label(label, sizeof label, r->key, r->klen);
        if (!rec_kind(r)) {
            problem(a, "record #%zu has an unexpected key (%s)", i, label);
            continue;
        }
        a->n_recs++;
        if (r->rp->header_height != b->anchor_height) {
            problem(a, "record %s proves against height %llu, not the anchor height %llu", label,
                    (unsigned long long)r->rp->header_height,
                    (unsigned long long)b->anchor_height);
            continue;
        }
        if (!a->anchor || !a->anchor->ok)
            continue; /* reported once */
        if (!r->rp->proof || hm_smt_proof_from_msg(proof, r->rp->proof) != HM_OK) {
            problem(a, "record %s: %s state proof", label, r->rp->proof ? "malformed" : "no");
            continue;
        }
        uint8_t kh[32];
        hm_smt_key_hash(kh, r->key, r->klen);
        r->present = hm_smt_proof_is_membership(proof, kh);
        if (!r->present && r->rp->value.len) {
            problem(a, "record %s: a value comes with an absence proof", label);
            continue;
        }
        static const uint8_t none = 0;
        int rc = r->present ? hm_smt_verify(a->anchor->h->state_root.data, r->key, r->klen,
                                            r->rp->value.len ? r->rp->value.data : &none,
                                            r->rp->value.len, proof)
                            : hm_smt_verify(a->anchor->h->state_root.data, r->key, r->klen, NULL,
                                            0, proof);
        if (rc != HM_OK) {
            problem(a, "record %s does not prove against the state root of height %llu", label,
                    (unsigned long long)b->anchor_height);
            continue;
        }
        if (!r->present) {
            if (r->rp->n_history_txids)
                problem(a, "record %s is proven absent yet lists a history", label);
            else
                r->ok = true;
            continue;
        }
        rc = decode_record(r);
        if (rc != HM_OK) {
            problem(a, "record %s %s", label,
                    rc == HM_ERR_CORRUPT ? "names another id than its key" : "does not decode");
            continue;
        }
        size_t before = a->problems.n + a->dropped;
        verify_history(a, r, label);
        r->ok = a->problems.n + a->dropped == before;
    }
    free(proof);
    if (a->n_recs > 1)
        qsort(a->recs, a->n_recs, sizeof *a->recs, cmp_rec);
    for (size_t i = 1; i < a->n_recs; i++)
        if (cmp_rec(&a->recs[i - 1], &a->recs[i]) == 0) {
            aud_key_label(label, sizeof label, a->recs[i].key, a->recs[i].klen);
            problem(a, "record %s appears twice in the bundle", label);
        }
}

/* -------------------------------------------------------------- parts */

static audit_part_t *part_new(audit_t *a, const char *serial)
{
    if (a->n_parts >= AUDIT_MAX_PARTS)
        return NULL;
    if (a->n_parts == a->cap_parts) {
        size_t cap = a->cap_parts ? 2 * a->cap_parts : 16;
        audit_part_t **p = realloc(a->parts, cap * sizeof *p);
        if (!p)
            return NULL;
        a->parts = p;
        a->cap_parts = cap;
    }
    audit_part_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    aud_clean(p->serial, sizeof p->serial, serial, strlen(serial));
    snprintf(p->raw, sizeof p->raw, "%s", serial); /* callers checked <= 128 bytes */
    a->parts[a->n_parts++] = p;
    return p;
}

static bool serial_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= CONTRACTS_MAX_SERIAL_LEN;
}

static const aud_rec_t *present_rec(const audit_t *a, char prefix, const ProtobufCBinaryData *id)
{
    const aud_rec_t *r = aud_rec_id(a, prefix, id->data, id->len);
    return r && r->ok && r->present ? r : NULL;
}

/* Does tx t create the part `serial` under certificate cert_id? */
static bool creates_part(const aud_tx_t *t, const uint8_t cert_id[32], const char *serial)
{
    const Hallmark__Tx *tx = t->tx->tx;
    if (tx->body_case == HALLMARK__TX__BODY_MINT_CERTIFICATE) {
        uint8_t id[32];
        contracts_cert_id(id, t->txid);
        if (memcmp(id, cert_id, 32) != 0)
            return false;
        for (size_t i = 0; i < tx->mint_certificate->n_part_serials; i++)
            if (strcmp(tx->mint_certificate->part_serials[i], serial) == 0)
                return true;
    } else if (tx->body_case == HALLMARK__TX__BODY_ADD_PARTS) {
        if (!bin_eq(&tx->add_parts->cert_id, cert_id, 32))
            return false;
        for (size_t i = 0; i < tx->add_parts->n_serials; i++)
            if (strcmp(tx->add_parts->serials[i], serial) == 0)
                return true;
    }
    return false;
}

static void eval_cert(audit_t *a, audit_part_t *p, const Hallmark__Part *P, unsigned depth)
{
    char hex[65], hex2[65], did[WALLET_DID_STRLEN], did2[WALLET_DID_STRLEN];
    aud_hex(hex, P->cert_id.data, P->cert_id.len == 32 ? 32 : 0);
    const aud_rec_t *cr = aud_rec_id(a, 'c', P->cert_id.data, P->cert_id.len);
    if (P->cert_id.len != 32 || !cr) {
        reason(p, "certificate %s of part %s is not in the bundle", hex, p->serial);
        return;
    }
    if (!cr->present) {
        reason(p, "certificate %s of part %s is not on the ledger", hex, p->serial);
        return;
    }
    p->cert = cr;
    const Hallmark__Certificate *C = cr->msg;
    switch (C->status) {
    case HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED: {
        char why[300];
        aud_clean(why, sizeof why, C->revoke_reason ? C->revoke_reason : "",
                  C->revoke_reason ? strlen(C->revoke_reason) : 0);
        p->recalled = true;
        reason(p, "certificate %s revoked (recall)%s%s", hex, why[0] ? ": " : "", why);
        break;
    }
    case HALLMARK__CERTIFICATE_STATUS__CERT_REJECTED:
        reason(p, "certificate %s rejected by an inspector (FAIL)", hex);
        break;
    case HALLMARK__CERTIFICATE_STATUS__CERT_CERTIFIED: break;
    case HALLMARK__CERTIFICATE_STATUS__CERT_SELF_DECLARED:
        note(a, "certificate %s is self-declared (no inspector co-signature)", hex);
        break;
    default: reason(p, "certificate %s has no valid status", hex); break;
    }
    /* the mint: first link of the certificate's history, applied (proven
     * when the record verified), signed for the manufacturer */
    const aud_tx_t *mint =
        cr->rp->n_history_txids ? aud_tx(a, cr->rp->history_txids[0].data) : NULL;
    uint8_t id[32];
    if (mint)
        contracts_cert_id(id, mint->txid);
    if (!mint || mint->tx->tx->body_case != HALLMARK__TX__BODY_MINT_CERTIFICATE ||
        memcmp(id, P->cert_id.data, 32) != 0) {
        reason(p, "certificate %s: its first history tx is not the mint that created it", hex);
    } else {
        const Hallmark__MintCertificate *m = mint->tx->tx->mint_certificate;
        p->mint = mint;
        aud_hex(hex2, mint->txid, 32);
        if (!bins_eq(&mint->tx->tx->actor, &C->manufacturer) || C->manufacturer.len != HM_GID_LEN) {
            aud_did(did, &C->manufacturer);
            reason(p, "mint tx %s was not signed for the manufacturer %s", hex2, did);
        }
        if (!bins_eq(&m->recipe_hash, &C->recipe_hash) || !bins_eq(&m->licence_id, &C->licence_id))
            reason(p, "mint tx %s names another recipe or licence than certificate %s", hex2, hex);
    }
    /* the part was created by a tx of this certificate */
    const aud_tx_t *birth =
        p->rec->rp->n_history_txids ? aud_tx(a, p->rec->rp->history_txids[0].data) : NULL;
    if (!birth || !creates_part(birth, P->cert_id.data, P->serial))
        reason(p, "part %s was not created by a mint or add-parts tx of certificate %s",
               p->serial, hex);
    /* the licence matches the certificate */
    aud_hex(hex2, C->licence_id.data, C->licence_id.len == 32 ? 32 : 0);
    const aud_rec_t *lr = aud_rec_id(a, 'l', C->licence_id.data, C->licence_id.len);
    if (!lr)
        reason(p, "licence %s of certificate %s is not in the bundle", hex2, hex);
    else if (!lr->present)
        reason(p, "licence %s of certificate %s is not on the ledger", hex2, hex);
    else {
        const Hallmark__Licence *L = lr->msg;
        p->lic = lr;
        if (!bins_eq(&L->recipe_hash, &C->recipe_hash)) {
            char rh[65];
            aud_hex(rh, L->recipe_hash.data, L->recipe_hash.len == 32 ? 32 : 0);
            reason(p, "licence %s is for recipe %s, not the certificate's", hex2, rh);
        }
        if (!bins_eq(&L->licensee, &C->manufacturer) || L->licensee.len != HM_GID_LEN) {
            aud_did(did, &L->licensee);
            aud_did(did2, &C->manufacturer);
            reason(p, "licence %s was granted to %s, not to the manufacturer %s", hex2, did, did2);
        }
        if (L->revoked)
            note(a, "licence %s has been revoked since (parts minted before stay valid)", hex2);
        if (L->parent_licence.len == 32) {
            p->parent_lic = present_rec(a, 'l', &L->parent_licence);
            if (!p->parent_lic)
                note(a, "parent licence of %s is not proven in the bundle", hex2);
        }
    }
    /* the recipe exists and is the certificate's */
    aud_hex(hex2, C->recipe_hash.data, C->recipe_hash.len == 32 ? 32 : 0);
    const aud_rec_t *rr = aud_rec_id(a, 'r', C->recipe_hash.data, C->recipe_hash.len);
    if (!rr)
        reason(p, "recipe %s of certificate %s is not in the bundle", hex2, hex);
    else if (!rr->present)
        reason(p, "recipe %s of certificate %s is not on the ledger", hex2, hex);
    else
        p->recipe = rr;
    if (depth == 0 && a->opts.recipe_doc_hash && C->recipe_hash.len == 32) {
        p->doc_checked = true;
        p->doc_match = memcmp(a->opts.recipe_doc_hash, C->recipe_hash.data, 32) == 0;
        if (!p->doc_match) {
            char dh[65];
            aud_hex(dh, a->opts.recipe_doc_hash, 32);
            reason(p, "recipe document hashes to %s, the certificate's recipe is %s", dh, hex2);
        }
    }
    p->mfr = present_rec(a, 'i', &C->manufacturer);
    if (!p->mfr)
        note(a, "the manufacturer identity of certificate %s is not proven in the bundle", hex);
}

static audit_part_t *eval_part(audit_t *a, const char *serial, unsigned depth,
                               const char *parent)
{
    audit_part_t *p = part_new(a, serial);
    if (!p) {
        a->nomem = a->n_parts < AUDIT_MAX_PARTS;
        return NULL;
    }
    contracts_key_t k;
    const aud_rec_t *r = contracts_key_part(&k, serial) == HM_OK ? aud_rec(a, &k) : NULL;
    if (!r) {
        reason(p, "the bundle has no record for part %s", p->serial);
        goto verdict;
    }
    if (!r->present) {
        reason(p, "part %s is not on the ledger (absence proven at height %llu)", p->serial,
               (unsigned long long)a->b->anchor_height);
        goto verdict;
    }
    p->rec = r;
    const Hallmark__Part *P = r->msg;
    if (parent && (P->status != HALLMARK__PART_STATUS__PART_ASSEMBLED || !P->parent ||
                   strcmp(P->parent, parent) != 0))
        reason(p, "component %s does not name %s as its assembly", p->serial, parent);
    eval_cert(a, p, P, depth);
    if (P->status == HALLMARK__PART_STATUS__PART_SCRAPPED)
        reason(p, "part %s scrapped", p->serial);
    p->holder = present_rec(a, 'i', &P->holder);
    if (P->n_children) {
        p->kids = calloc(P->n_children, sizeof *p->kids);
        if (!p->kids) {
            a->nomem = true;
            goto verdict;
        }
    }
    for (size_t i = 0; i < P->n_children; i++) {
        const char *c = P->children[i];
        char cs[CONTRACTS_MAX_SERIAL_LEN + 1];
        aud_clean(cs, sizeof cs, c ? c : "", c ? strlen(c) : 0);
        if (!serial_ok(c)) {
            reason(p, "part %s lists a malformed component serial", p->serial);
            continue;
        }
        if (depth + 1 > AUDIT_MAX_DEPTH) {
            reason(p, "assembly %s is nested deeper than %u levels", p->serial, AUDIT_MAX_DEPTH);
            break;
        }
        bool seen = false;
        for (size_t j = 0; j < a->n_parts; j++)
            if (strcmp(a->parts[j]->raw, c) == 0)
                seen = true;
        if (seen) {
            reason(p, "component %s appears twice in the assembly", cs);
            continue;
        }
        audit_part_t *kid = eval_part(a, c, depth + 1, P->serial);
        if (!kid) {
            reason(p, "assembly %s has more than %u parts (not audited)", p->serial,
                   AUDIT_MAX_PARTS);
            break;
        }
        p->kids[p->n_kids++] = kid;
        if (kid->verdict == AUDIT_RECALLED)
            reason(p, "component %s recalled", kid->serial);
        else if (kid->verdict == AUDIT_INVALID)
            reason(p, "component %s invalid: %s", kid->serial,
                   kid->reasons.n ? kid->reasons.items[0] : "see its reasons");
    }
verdict:
    p->verdict = p->recalled ? AUDIT_RECALLED
                 : (p->reasons.n || p->dropped) ? AUDIT_INVALID
                                                : AUDIT_VALID;
    return p;
}

/* ------------------------------------------------------------ verify */

int audit_verify(audit_t **out, const uint8_t *bundle, size_t len, const audit_trust_t *trust,
                 const audit_opts_t *opts)
{
    audit_t *a = calloc(1, sizeof *a);
    char hex[65], hex2[65];
    if (!a)
        return HM_ERR_NOMEM;
    a->verdict = AUDIT_INVALID;
    if (opts)
        a->opts.min_anchor_time_ms = opts->min_anchor_time_ms;
    if (opts && opts->recipe_doc_hash) {
        memcpy(a->doc_hash, opts->recipe_doc_hash, 32);
        a->opts.recipe_doc_hash = a->doc_hash;
    }
    memcpy(a->chain_id, trust->chain_id, 32);
    if (len > HM_MAX_BUNDLE_BYTES) {
        problem(a, "the bundle is %zu bytes, over the %u-byte cap", len, HM_MAX_BUNDLE_BYTES);
        goto done;
    }
    int rc = hm_decode_proof_bundle(&a->b, bundle, len);
    if (rc != HM_OK) {
        problem(a, "the bundle does not decode (%s)", hm_strerror(rc));
        goto done;
    }
    const Hallmark__ProofBundle *b = a->b;
    if (serial_ok(b->subject)) {
        aud_clean(a->subject, sizeof a->subject, b->subject, strlen(b->subject));
        snprintf(a->subject_raw, sizeof a->subject_raw, "%s", b->subject);
    }
    if (!bin_eq(&b->chain_id, trust->chain_id, 32)) {
        aud_hex(hex, b->chain_id.data, b->chain_id.len <= 32 ? b->chain_id.len : 32);
        aud_hex(hex2, trust->chain_id, 32);
        problem(a, "bundle is for chain %s, genesis says %s", hex[0] ? hex : "(none)", hex2);
        goto done;
    }
    if (!serial_ok(b->subject)) {
        problem(a, "the bundle names no valid subject serial");
        goto done;
    }
    if (opts && opts->expect_subject && strcmp(opts->expect_subject, b->subject) != 0) {
        char want[CONTRACTS_MAX_SERIAL_LEN + 1];
        aud_clean(want, sizeof want, opts->expect_subject, strlen(opts->expect_subject));
        problem(a, "the bundle is about part %s, not the requested %s", a->subject, want);
        goto done;
    }
    if (b->n_headers > AUDIT_MAX_HEADERS || b->n_records > AUDIT_MAX_RECORDS ||
        b->n_txs > AUDIT_MAX_TXS) {
        problem(a, "the bundle holds more than this auditor accepts (%zu headers, %zu records, "
                   "%zu txs; caps %u, %u, %u)",
                b->n_headers, b->n_records, b->n_txs, AUDIT_MAX_HEADERS, AUDIT_MAX_RECORDS,
                AUDIT_MAX_TXS);
        goto done;
    }
    verify_headers(a, trust);
    a->anchor = aud_header(a, b->anchor_height);
    if (!a->anchor)
        problem(a, "no certified header for the anchor height %llu",
                (unsigned long long)b->anchor_height);
    else if (a->anchor->ok && a->anchor->h->time_ms < a->opts.min_anchor_time_ms)
        problem(a, "the bundle's anchor (height %llu, block time %llu ms) is older than the "
                   "freshness limit (%llu ms): a newer state may hold a recall",
                (unsigned long long)a->anchor->height, (unsigned long long)a->anchor->h->time_ms,
                (unsigned long long)a->opts.min_anchor_time_ms);
    verify_txs(a, trust);
    verify_records(a);
    if (a->nomem)
        goto nomem;
    a->bundle_ok = a->problems.n == 0 && a->dropped == 0;
    if (!a->bundle_ok)
        goto done;
    a->root = eval_part(a, b->subject, 0, NULL);
    if (a->nomem || !a->root)
        goto nomem;
    a->verdict = a->root->verdict;
done:
    *out = a;
    return HM_OK;
nomem:
    audit_free(&a);
    return HM_ERR_NOMEM;
}

void audit_free(audit_t **pa)
{
    if (!pa || !*pa)
        return;
    audit_t *a = *pa;
    for (size_t i = 0; i < a->n_parts; i++) {
        wallet_strlist_free(&a->parts[i]->reasons);
        free(a->parts[i]->kids);
        free(a->parts[i]);
    }
    free(a->parts);
    for (size_t i = 0; i < a->n_recs; i++)
        hm_codec_free(a->recs[i].msg);
    free(a->recs);
    for (size_t i = 0; i < a->n_txs; i++)
        hm_tx_free(a->txs[i].tx);
    free(a->txs);
    for (size_t i = 0; i < a->n_hdr; i++)
        hm_free_header(a->hdr[i].h);
    free(a->hdr);
    hm_free_proof_bundle(a->b);
    wallet_strlist_free(&a->problems);
    wallet_strlist_free(&a->notes);
    free(a);
    *pa = NULL;
}

audit_verdict_t audit_verdict(const audit_t *a)
{
    return a->verdict;
}

bool audit_bundle_ok(const audit_t *a)
{
    return a->bundle_ok;
}

const char *audit_subject(const audit_t *a)
{
    return a->subject_raw;
}

size_t audit_reason_count(const audit_t *a)
{
    return a->problems.n + (a->root ? a->root->reasons.n : 0);
}

const char *audit_reason(const audit_t *a, size_t i)
{
    if (i < a->problems.n)
        return a->problems.items[i];
    i -= a->problems.n;
    return a->root && i < a->root->reasons.n ? a->root->reasons.items[i] : NULL;
}
