/* contracts/part — EPCIS-shaped part events (DESIGN §4.5): TransferCustody,
 * Assemble, RecordInspection, Scrap. Owns updates of the "p/" records
 * (contracts/certificate creates them). Recall is never written per part:
 * a part reads recalled while its certificate is REVOKED (see query.c).
 * Depends on lib/ and proto/ only. */
#include <stdlib.h>
#include <string.h>

#include "contracts/exec.h"

#define MAX_REASON 256

/* The certificate of the last part looked at: parts of one batch share it,
 * so a 4096-serial transfer reads it once. */
typedef struct {
    bool valid;
    uint8_t id[32];
    bool revoked;
    bool certified;
    uint8_t manufacturer[HM_GID_LEN];
} cert_cache_t;

static int cert_of(cx_t *cx, cert_cache_t *cc, const ProtobufCBinaryData *cert_id)
{
    Hallmark__Certificate *c = NULL;
    if (cc->valid && cert_id->len == 32 && memcmp(cc->id, cert_id->data, 32) == 0)
        return HM_OK;
    if (cert_id->len != 32)
        return HM_ERR_CORRUPT;
    int rc = cx_get_cert(cx, &c, cert_id->data);
    if (rc != HM_OK)
        return rc;
    if (!c || c->manufacturer.len != HM_GID_LEN) {
        rc = HM_ERR_CORRUPT; /* a part always has its certificate */
        goto done;
    }
    memcpy(cc->id, cert_id->data, 32);
    cc->revoked = c->status == HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED;
    cc->certified = c->status == HALLMARK__CERTIFICATE_STATUS__CERT_CERTIFIED;
    memcpy(cc->manufacturer, c->manufacturer.data, HM_GID_LEN);
    cc->valid = true;
done:
    hm_free_certificate(c);
    return rc;
}

/* Load a part the actor holds and may move: known, not scrapped, not a
 * component, held by the actor. Recall is checked by the caller (rules
 * differ per event). Out: *p (caller frees) when *code is HM_R_OK. */
static int held_part(cx_t *cx, uint32_t *code, Hallmark__Part **p, const char *serial)
{
    Hallmark__Part *part = NULL;
    int rc = HM_OK;
    CX_TRY(cx_get_part(cx, &part, serial));
    if (!part)
        CX_REJECT(HM_R_SERIAL_UNKNOWN);
    if (part->status == HALLMARK__PART_STATUS__PART_SCRAPPED)
        CX_REJECT(HM_R_PART_SCRAPPED);
    if (part->status == HALLMARK__PART_STATUS__PART_ASSEMBLED)
        CX_REJECT(HM_R_PART_ASSEMBLED);
    if (!cx_bytes_same(&part->holder, &cx->tx->actor))
        CX_REJECT(HM_R_NOT_HOLDER);
done:
    if (rc == HM_OK && *code == HM_R_OK)
        *p = part;
    else
        hm_free_part(part);
    return rc;
}

static int put_part(cx_t *cx, Hallmark__Part *o)
{
    contracts_key_t k;
    int rc = contracts_key_part(&k, o->serial);
    return rc != HM_OK ? rc : cx_put(cx, &k, &o->base);
}

static int valid_serials(bool *ok, char *const *s, size_t n)
{
    bool dup = false;
    *ok = cx_serial_list(s, n);
    if (!*ok)
        return HM_OK;
    int rc = cx_has_dup_strings(&dup, s, n);
    *ok = !dup;
    return rc;
}

int part_transfer(cx_t *cx, uint32_t *code)
{
    const Hallmark__TransferCustody *b = cx->tx->transfer_custody;
    Hallmark__Identity *actor = NULL, *to = NULL;
    Hallmark__Part *p = NULL;
    cert_cache_t cc = {0};
    uint8_t head[32];
    bool ok;
    int rc = HM_OK;
    *code = HM_R_OK;

    CX_TRY(valid_serials(&ok, b->serials, b->n_serials));
    if (!ok || !cx_bytes_len(&b->to, HM_GID_LEN))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    CX_TRY(cx_get_identity(cx, &to, b->to.data));
    if (!to)
        CX_REJECT(HM_R_IDENTITY_UNKNOWN);
    if (to->status == HALLMARK__IDENTITY_STATUS__IDENTITY_REVOKED)
        CX_REJECT(HM_R_IDENTITY_REVOKED);
    for (size_t i = 0; i < b->n_serials; i++) {
        CX_TRY(held_part(cx, code, &p, b->serials[i]));
        if (*code != HM_R_OK)
            goto done;
        CX_TRY(cert_of(cx, &cc, &p->cert_id));
        /* A recalled part may only go back to its manufacturer. */
        if (cc.revoked && memcmp(b->to.data, cc.manufacturer, HM_GID_LEN) != 0)
            CX_REJECT(HM_R_PART_RECALLED);
        Hallmark__Part o = *p;
        o.holder = b->to;
        CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
        CX_TRY(put_part(cx, &o));
        hm_free_part(p);
        p = NULL;
    }
done:
    hm_free_part(p);
    hm_free_identity(actor);
    hm_free_identity(to);
    return rc;
}

int part_assemble(cx_t *cx, uint32_t *code)
{
    const Hallmark__Assemble *b = cx->tx->assemble;
    Hallmark__Identity *actor = NULL;
    Hallmark__Part *parent = NULL, *p = NULL;
    char **children = NULL;
    cert_cache_t cc = {0};
    uint8_t head[32];
    bool ok;
    int rc = HM_OK;
    *code = HM_R_OK;

    CX_TRY(valid_serials(&ok, b->children, b->n_children));
    ok = ok && cx_text(b->parent, 1, CONTRACTS_MAX_SERIAL_LEN);
    for (size_t i = 0; ok && i < b->n_children; i++)
        ok = strcmp(b->children[i], b->parent) != 0;
    if (!ok)
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;

    /* The parent: held, free-standing (so it has no parent itself: no cycle
     * can form), not recalled, and certified. */
    CX_TRY(held_part(cx, code, &parent, b->parent));
    if (*code != HM_R_OK)
        goto done;
    CX_TRY(cert_of(cx, &cc, &parent->cert_id));
    if (cc.revoked)
        CX_REJECT(HM_R_PART_RECALLED);
    if (!cc.certified)
        CX_REJECT(HM_R_PARENT_NOT_CERTIFIED);
    if (parent->n_children > CONTRACTS_MAX_CHILDREN ||
        b->n_children > CONTRACTS_MAX_CHILDREN - parent->n_children)
        CX_REJECT(HM_R_CAPACITY);

    for (size_t i = 0; i < b->n_children; i++) {
        CX_TRY(held_part(cx, code, &p, b->children[i]));
        if (*code != HM_R_OK)
            goto done;
        CX_TRY(cert_of(cx, &cc, &p->cert_id));
        if (cc.revoked)
            CX_REJECT(HM_R_PART_RECALLED);
        Hallmark__Part o = *p;
        o.status = HALLMARK__PART_STATUS__PART_ASSEMBLED;
        o.parent = b->parent;
        CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
        CX_TRY(put_part(cx, &o));
        hm_free_part(p);
        p = NULL;
    }

    size_t n = parent->n_children + b->n_children;
    children = malloc(n * sizeof *children);
    if (!children) {
        rc = HM_ERR_NOMEM;
        goto done;
    }
    if (parent->n_children)
        memcpy(children, parent->children, parent->n_children * sizeof *children);
    memcpy(children + parent->n_children, b->children, b->n_children * sizeof *children);
    Hallmark__Part o = *parent;
    o.children = children;
    o.n_children = n;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    CX_TRY(put_part(cx, &o));
done:
    free(children);
    hm_free_part(p);
    hm_free_part(parent);
    hm_free_identity(actor);
    return rc;
}

int part_inspect(cx_t *cx, uint32_t *code)
{
    const Hallmark__RecordInspection *b = cx->tx->record_inspection;
    Hallmark__Identity *actor = NULL;
    Hallmark__Part *p = NULL;
    uint8_t head[32];
    int rc = HM_OK;
    *code = HM_R_OK;

    if (!cx_text(b->serial, 1, CONTRACTS_MAX_SERIAL_LEN) || !cx_bytes_opt(&b->report_hash, 32) ||
        (b->verdict != HALLMARK__VERDICT__VERDICT_PASS &&
         b->verdict != HALLMARK__VERDICT__VERDICT_FAIL))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    CX_CHECK(cx_role(cx, actor, HALLMARK__ROLE__ROLE_INSPECTOR));
    CX_TRY(cx_get_part(cx, &p, b->serial));
    if (!p)
        CX_REJECT(HM_R_SERIAL_UNKNOWN);
    if (p->status == HALLMARK__PART_STATUS__PART_SCRAPPED)
        CX_REJECT(HM_R_PART_SCRAPPED);
    /* Inspecting a recalled or assembled part is allowed (and useful). */
    Hallmark__Part o = *p;
    if (!hm_add_u64(&o.inspections, p->inspections, 1))
        CX_REJECT(HM_R_CAPACITY);
    o.last_verdict = b->verdict;
    CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
    CX_TRY(put_part(cx, &o));
done:
    hm_free_part(p);
    hm_free_identity(actor);
    return rc;
}

int part_scrap(cx_t *cx, uint32_t *code)
{
    const Hallmark__Scrap *b = cx->tx->scrap;
    Hallmark__Identity *actor = NULL;
    Hallmark__Part *p = NULL;
    uint8_t head[32];
    bool ok;
    int rc = HM_OK;
    *code = HM_R_OK;

    CX_TRY(valid_serials(&ok, b->serials, b->n_serials));
    if (!ok || !cx_text(b->reason, 0, MAX_REASON))
        CX_REJECT(HM_R_MALFORMED);
    CX_TRY(cx_actor(cx, code, &actor, false));
    if (*code != HM_R_OK)
        goto done;
    for (size_t i = 0; i < b->n_serials; i++) {
        /* Recalled parts may be scrapped: that is what a recall asks for. */
        CX_TRY(held_part(cx, code, &p, b->serials[i]));
        if (*code != HM_R_OK)
            goto done;
        Hallmark__Part o = *p;
        o.status = HALLMARK__PART_STATUS__PART_SCRAPPED;
        CX_TRY(cx_history(cx, &o.history_len, &o.history_head, head));
        CX_TRY(put_part(cx, &o));
        hm_free_part(p);
        p = NULL;
    }
done:
    hm_free_part(p);
    hm_free_identity(actor);
    return rc;
}
