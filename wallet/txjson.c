/* wallet/txjson — see txjson.h. */
#include "wallet/txjson.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "lib/pbjson.h"
#include "wallet/util.h"

static json_t *bytes_json(const ProtobufCBinaryData *b)
{
    char *h = hm_hex_dup(b->data, b->len);
    if (!h)
        return NULL;
    json_t *j = json_string(h);
    free(h);
    return j;
}

int wallet_tx_to_json(json_t **out, const hm_tx_t *t)
{
    char txid[65];
    json_t *o = json_object();
    json_t *tx = hm_pb_to_json(&t->tx->base);
    json_t *cos = json_array();
    int rc = HM_ERR_NOMEM;
    if (!o || !tx || !cos)
        goto done;
    hm_hex_encode(txid, t->txid, sizeof t->txid);
    const char *kind = hm_tx_kind_name(t->tx);
    int e = 0;
    e |= json_object_set_new(o, "txid", json_string(txid));
    e |= json_object_set_new(o, "kind", json_string(kind));
    /* chain_id, signer, nonce, actor, then the body under "body" */
    const char *head[] = {"chain_id", "signer", "nonce", "actor"};
    for (size_t i = 0; i < 4; i++)
        e |= json_object_set(o, head[i], json_object_get(tx, head[i]));
    json_t *body = json_object_get(tx, kind);
    e |= json_object_set(o, "body", body ? body : json_null());
    if (t->tx->actor.len == HM_GID_LEN) {
        char did[WALLET_DID_STRLEN];
        wallet_gid_format(did, t->tx->actor.data);
        e |= json_object_set_new(o, "actor_did", json_string(did));
    }
    if (t->tx->body_case == HALLMARK__TX__BODY_REGISTER_IDENTITY) {
        uint8_t gid[HM_GID_LEN];
        char hex[2 * HM_GID_LEN + 1], did[WALLET_DID_STRLEN];
        wallet_gid_derive(gid, t->tx->signer.data, t->tx->nonce);
        hm_hex_encode(hex, gid, sizeof gid);
        wallet_gid_format(did, gid);
        e |= json_object_set_new(o, "gid", json_string(hex));
        e |= json_object_set_new(o, "did", json_string(did));
    } else if (t->tx->body_case == HALLMARK__TX__BODY_GRANT_LICENCE ||
               t->tx->body_case == HALLMARK__TX__BODY_MINT_CERTIFICATE) {
        uint8_t id[32];
        char hex[65];
        bool lic = t->tx->body_case == HALLMARK__TX__BODY_GRANT_LICENCE;
        if (lic)
            wallet_licence_id(id, t->txid);
        else
            wallet_cert_id(id, t->txid);
        hm_hex_encode(hex, id, sizeof id);
        e |= json_object_set_new(o, lic ? "licence_id" : "cert_id", json_string(hex));
    }
    e |= json_object_set_new(o, "signature", bytes_json(&t->stx->signature));
    for (size_t i = 0; i < t->stx->n_cosignatures; i++)
        e |= json_array_append_new(cos, hm_pb_to_json(&t->stx->cosignatures[i]->base));
    e |= json_object_set(o, "cosignatures", cos);
    if (e)
        goto done;
    rc = HM_OK;
done:
    json_decref(tx);
    json_decref(cos);
    if (rc == HM_OK)
        *out = o;
    else
        json_decref(o);
    return rc;
}

static bool is_scalar(const json_t *v)
{
    return !json_is_object(v) && !json_is_array(v);
}

/* Strings come from the network: make control characters visible. */
static void print_text(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s, f);
}

static void print_scalar(FILE *f, const json_t *v)
{
    if (json_is_string(v)) {
        print_text(f, json_string_value(v));
    } else if (json_is_null(v)) {
        fputs("-", f);
    } else {
        char *t = json_dumps(v, JSON_ENCODE_ANY);
        fputs(t ? t : "?", f);
        free(t);
    }
}

static bool all_scalars(const json_t *a)
{
    size_t i;
    const json_t *e;
    json_array_foreach(a, i, e)
    {
        if (!is_scalar(e))
            return false;
    }
    return true;
}

void wallet_json_print_human(FILE *f, const json_t *v, int indent)
{
    if (is_scalar(v)) {
        fprintf(f, "%*s", indent, "");
        print_scalar(f, v);
        fputc('\n', f);
        return;
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            fprintf(f, "%*s-", indent, "");
            if (is_scalar(e)) {
                fputc(' ', f);
                print_scalar(f, e);
                fputc('\n', f);
            } else {
                fputc('\n', f);
                wallet_json_print_human(f, e, indent + 2);
            }
        }
        return;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        fprintf(f, "%*s", indent, "");
        print_text(f, key);
        fputc(':', f);
        if (is_scalar(val)) {
            fputc(' ', f);
            print_scalar(f, val);
            fputc('\n', f);
        } else if (json_is_array(val) && all_scalars(val)) {
            size_t i;
            const json_t *e;
            if (json_array_size(val) == 0)
                fputs(" (none)", f);
            json_array_foreach(val, i, e)
            {
                fputs(i ? ", " : " ", f);
                print_scalar(f, e);
            }
            fputc('\n', f);
        } else if (json_is_object(val) && json_object_size(val) == 0) {
            fputs(" (empty)\n", f);
        } else {
            fputc('\n', f);
            wallet_json_print_human(f, val, indent + 2);
        }
    }
}
