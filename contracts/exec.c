/* contracts/exec — see exec.h. Owns no state beyond one tx's context.
 * Depends on lib/state, lib/codec, lib/hash; never on consensus/ or node/. */
#include "contracts/exec.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"

/* ------------------------------------------------------------- records */

int cx_state_get(hm_state_t *st, void **out, const contracts_key_t *k,
                 const ProtobufCMessageDescriptor *desc)
{
    uint8_t *val = NULL;
    size_t vlen = 0;
    *out = NULL;
    int rc = hm_state_get(st, k->b, k->len, &val, &vlen);
    if (rc == HM_ERR_NOT_FOUND)
        return HM_OK;
    if (rc != HM_OK)
        return rc;
    rc = hm_codec_decode(out, desc, HM_MAX_RECORD_BYTES, val, vlen);
    free(val);
    if (rc != HM_OK) {
        *out = NULL;
        return rc == HM_ERR_NOMEM ? rc : HM_ERR_CORRUPT;
    }
    return HM_OK;
}

int cx_get(cx_t *cx, void **out, const contracts_key_t *k, const ProtobufCMessageDescriptor *desc)
{
    return cx_state_get(cx->st, out, k, desc);
}

int cx_put(cx_t *cx, const contracts_key_t *k, const ProtobufCMessage *msg)
{
    hm_buf_reset(&cx->enc);
    int rc = hm_codec_encode_append(&cx->enc, msg);
    if (rc != HM_OK)
        return rc;
    return hm_state_put(cx->st, k->b, k->len, cx->enc.data, cx->enc.len);
}

int cx_exists(cx_t *cx, bool *out, const contracts_key_t *k)
{
    uint8_t *val = NULL;
    size_t vlen = 0;
    int rc = hm_state_get(cx->st, k->b, k->len, &val, &vlen);
    free(val);
    if (rc == HM_ERR_NOT_FOUND) {
        *out = false;
        return HM_OK;
    }
    if (rc == HM_OK)
        *out = true;
    return rc;
}

int cx_get_identity(cx_t *cx, Hallmark__Identity **out, const uint8_t gid[HM_GID_LEN])
{
    contracts_key_t k;
    int rc = contracts_key_identity(&k, gid);
    return rc != HM_OK ? rc : cx_get(cx, (void **)out, &k, &hallmark__identity__descriptor);
}

int cx_get_recipe(cx_t *cx, Hallmark__Recipe **out, const uint8_t hash[32])
{
    contracts_key_t k;
    int rc = contracts_key_recipe(&k, hash);
    return rc != HM_OK ? rc : cx_get(cx, (void **)out, &k, &hallmark__recipe__descriptor);
}

int cx_get_licence(cx_t *cx, Hallmark__Licence **out, const uint8_t id[32])
{
    contracts_key_t k;
    int rc = contracts_key_licence(&k, id);
    return rc != HM_OK ? rc : cx_get(cx, (void **)out, &k, &hallmark__licence__descriptor);
}

int cx_get_cert(cx_t *cx, Hallmark__Certificate **out, const uint8_t id[32])
{
    contracts_key_t k;
    int rc = contracts_key_cert(&k, id);
    return rc != HM_OK ? rc : cx_get(cx, (void **)out, &k, &hallmark__certificate__descriptor);
}

int cx_get_part(cx_t *cx, Hallmark__Part **out, const char *serial)
{
    contracts_key_t k;
    int rc = contracts_key_part(&k, serial);
    return rc != HM_OK ? rc : cx_get(cx, (void **)out, &k, &hallmark__part__descriptor);
}

int cx_history(cx_t *cx, uint64_t *len, ProtobufCBinaryData *head, uint8_t buf[32])
{
    static const uint8_t zero[32];
    uint64_t n;
    if (!hm_add_u64(&n, *len, 1))
        return HM_ERR_OVERFLOW;
    /* Only 32-byte heads are ever written; anything else is a first link. */
    const uint8_t *prev = head->len == 32 ? head->data : zero;
    contracts_history_next(buf, prev, cx->t->txid);
    head->data = buf;
    head->len = 32;
    *len = n;
    return HM_OK;
}

/* ----------------------------------------------------- actor and roles */

bool cx_signed_by(const cx_t *cx, const uint8_t pubkey[32])
{
    if (memcmp(cx->tx->signer.data, pubkey, 32) == 0)
        return true;
    const Hallmark__SignedTx *s = cx->t->stx;
    for (size_t i = 0; i < s->n_cosignatures; i++)
        if (memcmp(s->cosignatures[i]->pubkey.data, pubkey, 32) == 0)
            return true;
    return false;
}

bool cx_authorised(const cx_t *cx, const Hallmark__Identity *id)
{
    uint32_t need = id->threshold ? id->threshold : 1;
    uint32_t have = 0;
    /* Controller keys are distinct (checked when set), so each counts once. */
    for (size_t i = 0; i < id->n_controller_keys && have < need; i++) {
        const ProtobufCBinaryData *k = &id->controller_keys[i];
        if (k->len == 32 && cx_signed_by(cx, k->data))
            have++;
    }
    return have >= need;
}

int cx_actor(cx_t *cx, uint32_t *code, Hallmark__Identity **actor, bool allow_suspended)
{
    Hallmark__Identity *id = NULL;
    int rc = HM_OK;
    *code = HM_R_OK;
    if (cx->tx->actor.len != HM_GID_LEN)
        CX_REJECT(HM_R_UNKNOWN_ACTOR);
    CX_TRY(cx_get_identity(cx, &id, cx->tx->actor.data));
    if (!id)
        CX_REJECT(HM_R_UNKNOWN_ACTOR);
    if (!cx_authorised(cx, id))
        CX_REJECT(HM_R_UNAUTHORIZED);
    switch (id->status) {
    case HALLMARK__IDENTITY_STATUS__IDENTITY_PENDING:
    case HALLMARK__IDENTITY_STATUS__IDENTITY_ACTIVE:
        break;
    case HALLMARK__IDENTITY_STATUS__IDENTITY_SUSPENDED:
        if (allow_suspended)
            break;
        CX_REJECT(HM_R_NOT_ACTIVE);
    default:
        CX_REJECT(HM_R_NOT_ACTIVE);
    }
done:
    if (rc == HM_OK && *code == HM_R_OK)
        *actor = id;
    else
        hm_free_identity(id);
    return rc;
}

bool ident_holds_role(const Hallmark__Identity *id, Hallmark__Role role, uint64_t t)
{
    if (id->status != HALLMARK__IDENTITY_STATUS__IDENTITY_ACTIVE)
        return false;
    if (id->accredited_until_ms != 0 && t >= id->accredited_until_ms)
        return false;
    for (size_t i = 0; i < id->n_roles; i++)
        if (id->roles[i] == role)
            return true;
    return false;
}

uint32_t cx_role(const cx_t *cx, const Hallmark__Identity *id, Hallmark__Role role)
{
    if (id->status != HALLMARK__IDENTITY_STATUS__IDENTITY_ACTIVE)
        return HM_R_NOT_ACTIVE;
    bool has = false;
    for (size_t i = 0; i < id->n_roles; i++)
        has = has || id->roles[i] == role;
    if (!has)
        return HM_R_ROLE_MISSING;
    if (!ident_holds_role(id, role, cx->blk->time_ms))
        return HM_R_ACCREDITATION_EXPIRED;
    return HM_R_OK;
}

/* --------------------------------------------------------- validation */

bool cx_text(const char *s, size_t min, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (p[n]) {
        unsigned c = p[n];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            extra = 0;
            cp = c;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= extra; i++) {
            unsigned cc = p[n + i];
            if ((cc & 0xc0) != 0x80) /* also stops at the terminating NUL */
                return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
            (extra == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        n += extra + 1;
        if (n > max)
            return false;
    }
    return n >= min;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cx_has_dup_strings(bool *dup, char *const *s, size_t n)
{
    *dup = false;
    if (n < 2)
        return HM_OK;
    if (n <= 8) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (strcmp(s[i], s[j]) == 0)
                    *dup = true;
        return HM_OK;
    }
    char **c = malloc(n * sizeof *c);
    if (!c)
        return HM_ERR_NOMEM;
    memcpy(c, s, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_strp);
    for (size_t i = 1; i < n && !*dup; i++)
        *dup = strcmp(c[i - 1], c[i]) == 0;
    free(c);
    return HM_OK;
}

bool cx_serial_list(char *const *serials, size_t n)
{
    if (n == 0 || n > CONTRACTS_MAX_SERIALS_PER_TX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!cx_text(serials[i], 1, CONTRACTS_MAX_SERIAL_LEN))
            return false;
    return true;
}
