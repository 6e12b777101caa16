/* wallet/audit_render — what the auditor shows of a verified bundle: the
 * readable report, the JSON report, the Graphviz provenance graph and the
 * GS1 EPCIS 2.0 JSON-LD history (doc/audit.md gives each format). Reads
 * only the verified view of wallet/audit_impl.h; owns nothing beyond its
 * outputs. Depends on lib/, wallet/util, jansson; never on node/. */
#include "wallet/audit_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hex.h"

/* -------------------------------------------------------------- names */

/* The enum value's name without its prefix: CERT_CERTIFIED -> CERTIFIED. */
static const char *ename(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(d, v);
    if (!e)
        return "UNKNOWN";
    const char *u = strchr(e->name, '_');
    return u ? u + 1 : e->name;
}

static void fmt_time(char out[32], uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms / 1000 > (uint64_t)253402300799ull || !gmtime_r(&t, &tm)) {
        snprintf(out, 32, "%llu ms", (unsigned long long)ms);
        return;
    }
    char s[24];
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03uZ", s, (unsigned)(ms % 1000));
}

static const Hallmark__Identity *ident(const aud_rec_t *r)
{
    return r && r->present ? r->msg : NULL;
}

static const char *ident_name(const audit_t *a, const ProtobufCBinaryData *gid)
{
    const aud_rec_t *r = aud_rec_id(a, 'i', gid->data, gid->len);
    const Hallmark__Identity *id = r && r->ok ? ident(r) : NULL;
    return id && id->name ? id->name : NULL;
}

/* "did:hallmark:... (Name)" */
static void who(char *out, size_t cap, const audit_t *a, const ProtobufCBinaryData *gid)
{
    char did[WALLET_DID_STRLEN], nm[80];
    aud_did(did, gid);
    const char *n = ident_name(a, gid);
    if (n) {
        aud_clean(nm, sizeof nm, n, strlen(n));
        snprintf(out, cap, "%s (%s)", did, nm);
    } else {
        snprintf(out, cap, "%s", did);
    }
}

static void hexb(char out[65], const ProtobufCBinaryData *b)
{
    aud_hex(out, b->data, b->len <= 32 ? b->len : 32);
}

/* --------------------------------------------------------------- text */

static void text_part(FILE *f, const audit_t *a, const audit_part_t *p, int depth)
{
    char ind[80], h[65], w[200], t[32];
    int n = depth * 4;
    if (n > 60)
        n = 60;
    memset(ind, ' ', (size_t)n);
    ind[n] = '\0';
    fprintf(f, "%spart        %s — %s\n", ind, p->serial, audit_verdict_name(p->verdict));
    if (p->rec) {
        const Hallmark__Part *P = p->rec->msg;
        who(w, sizeof w, a, &P->holder);
        fprintf(f, "%s  status      %s%s%s\n", ind,
                ename(&hallmark__part_status__descriptor, P->status),
                P->parent && P->parent[0] ? ", in " : "", P->parent ? P->parent : "");
        fprintf(f, "%s  holder      %s\n", ind, w);
        fprintf(f, "%s  history     %llu txs, complete; %llu inspection(s)%s%s\n", ind,
                (unsigned long long)P->history_len, (unsigned long long)P->inspections,
                P->inspections ? ", last " : "",
                P->inspections ? ename(&hallmark__verdict__descriptor, P->last_verdict) : "");
    }
    if (p->cert) {
        const Hallmark__Certificate *C = p->cert->msg;
        char batch[140];
        hexb(h, &C->cert_id);
        aud_clean(batch, sizeof batch, C->batch_id ? C->batch_id : "",
                  C->batch_id ? strlen(C->batch_id) : 0);
        fprintf(f, "%s  certificate %s\n", ind, h);
        fprintf(f, "%s              %s, batch %s, %llu of %llu units, minted at height %llu\n", ind,
                ename(&hallmark__certificate_status__descriptor, C->status), batch,
                (unsigned long long)C->part_count, (unsigned long long)C->quantity,
                (unsigned long long)C->minted_height);
        who(w, sizeof w, a, &C->manufacturer);
        if (p->mint) {
            fmt_time(t, p->mint->time_ms);
            fprintf(f, "%s  manufacturer %s, mint applied at %s\n", ind, w, t);
        } else {
            fprintf(f, "%s  manufacturer %s\n", ind, w);
        }
        for (size_t i = 0; i < C->n_cosigns; i++) {
            who(w, sizeof w, a, &C->cosigns[i]->inspector);
            fprintf(f, "%s  inspector   %s: %s at height %llu\n", ind, w,
                    ename(&hallmark__verdict__descriptor, C->cosigns[i]->verdict),
                    (unsigned long long)C->cosigns[i]->height);
        }
    }
    if (p->lic) {
        const Hallmark__Licence *L = p->lic->msg;
        hexb(h, &L->licence_id);
        fprintf(f, "%s  licence     %s\n", ind, h);
        if (L->max_units)
            fprintf(f, "%s              %llu of %llu units used (%llu left)%s\n", ind,
                    (unsigned long long)L->used_units, (unsigned long long)L->max_units,
                    (unsigned long long)(L->max_units >= L->used_units ? L->max_units - L->used_units : 0),
                    L->revoked ? ", REVOKED since" : "");
        else
            fprintf(f, "%s              %llu units used (unlimited)%s\n", ind,
                    (unsigned long long)L->used_units, L->revoked ? ", REVOKED since" : "");
        who(w, sizeof w, a, &L->licensor);
        fprintf(f, "%s  licensor    %s\n", ind, w);
    }
    if (p->recipe) {
        const Hallmark__Recipe *R = p->recipe->msg;
        char title[140], ver[70];
        hexb(h, &R->recipe_hash);
        aud_clean(title, sizeof title, R->title ? R->title : "", R->title ? strlen(R->title) : 0);
        aud_clean(ver, sizeof ver, R->version ? R->version : "",
                  R->version ? strlen(R->version) : 0);
        fprintf(f, "%s  recipe      %s\n", ind, h);
        who(w, sizeof w, a, &R->owner);
        fprintf(f, "%s              \"%s\" %s, owner %s%s%s\n", ind, title, ver, w,
                R->deprecated ? ", deprecated" : "",
                p->doc_checked ? (p->doc_match ? "; document matches" : "; DOCUMENT DIFFERS")
                               : "");
    }
    if (p->verdict != AUDIT_VALID && depth > 0)
        for (size_t i = 0; i < p->reasons.n; i++)
            fprintf(f, "%s  reason      %s\n", ind, p->reasons.items[i]);
    if (p->n_kids)
        fprintf(f, "%s  components  %zu\n", ind, p->n_kids);
    for (size_t i = 0; i < p->n_kids; i++)
        text_part(f, a, p->kids[i], depth + 1);
}

void audit_report_text(FILE *f, const audit_t *a)
{
    char h[65], t[32];
    fprintf(f, "hallmark-audit: part %s: %s\n\n", a->subject[0] ? a->subject : "(unknown)",
            audit_verdict_name(a->verdict));
    aud_hex(h, a->chain_id, 32);
    fprintf(f, "chain       %s\n", h);
    if (a->anchor && a->anchor->ok) {
        fmt_time(t, a->anchor->h->time_ms);
        aud_hex(h, a->anchor->hash, 32);
        fprintf(f, "anchor      height %llu, %s, block %s\n",
                (unsigned long long)a->anchor->height, t, h);
        fprintf(f, "verified    %zu certified headers, %zu txs, %zu state proofs\n", a->n_hdr,
                a->n_txs, a->n_recs);
    }
    if (a->root) {
        fputc('\n', f);
        text_part(f, a, a->root, 0);
    }
    size_t n = audit_reason_count(a);
    if (n) {
        fprintf(f, "\nreasons:\n");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "  - %s\n", audit_reason(a, i));
        if (a->dropped || (a->root && a->root->dropped))
            fprintf(f, "  - ... and %zu more\n", a->dropped + (a->root ? a->root->dropped : 0));
    }
    if (a->notes.n) {
        fprintf(f, "\nnotes:\n");
        for (size_t i = 0; i < a->notes.n; i++)
            fprintf(f, "  - %s\n", a->notes.items[i]);
    }
    fprintf(f, "\nverdict: %s\n", audit_verdict_name(a->verdict));
}

/* --------------------------------------------------------------- JSON */

static json_t *jhex(const ProtobufCBinaryData *b)
{
    char h[65];
    hexb(h, b);
    return json_string(h);
}

/* Ledger text as JSON: as is when valid UTF-8 (jansson escapes control
 * characters), else a printable copy. */
static json_t *jstr(const char *s)
{
    char c[600];
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    aud_clean(c, sizeof c, s ? s : "", s ? strlen(s) : 0);
    return json_string(c);
}

static json_t *jident(const audit_t *a, const ProtobufCBinaryData *gid)
{
    char did[WALLET_DID_STRLEN];
    aud_did(did, gid);
    json_t *o = json_pack("{s:s}", "gid", did);
    const aud_rec_t *r = aud_rec_id(a, 'i', gid->data, gid->len);
    const Hallmark__Identity *id = r && r->ok ? ident(r) : NULL;
    if (o && id) {
        json_object_set_new(o, "name", jstr(id->name));
        json_object_set_new(o, "kind", json_string(ename(&hallmark__identity_kind__descriptor, id->kind)));
        json_object_set_new(o, "status", json_string(ename(&hallmark__identity_status__descriptor, id->status)));
    }
    return o;
}

static json_t *jstrlist(const wallet_strlist_t *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < l->n; i++)
        json_array_append_new(arr, json_string(l->items[i]));
    return arr;
}

static json_t *jpart(const audit_t *a, const audit_part_t *p)
{
    json_t *o = json_pack("{s:o,s:s,s:o}", "serial", jstr(p->raw), "verdict",
                          audit_verdict_name(p->verdict), "reasons", jstrlist(&p->reasons));
    if (!o)
        return NULL;
    if (p->rec) {
        const Hallmark__Part *P = p->rec->msg;
        json_object_set_new(o, "status", json_string(ename(&hallmark__part_status__descriptor, P->status)));
        json_object_set_new(o, "holder", jident(a, &P->holder));
        json_object_set_new(o, "history_len", json_integer((json_int_t)P->history_len));
        json_object_set_new(o, "inspections", json_integer((json_int_t)P->inspections));
        if (P->parent && P->parent[0])
            json_object_set_new(o, "assembled_into", jstr(P->parent));
    }
    if (p->cert) {
        const Hallmark__Certificate *C = p->cert->msg;
        json_t *cs = json_array();
        for (size_t i = 0; cs && i < C->n_cosigns; i++)
            json_array_append_new(
                cs, json_pack("{s:o,s:s,s:I}", "inspector", jident(a, &C->cosigns[i]->inspector),
                              "verdict", ename(&hallmark__verdict__descriptor, C->cosigns[i]->verdict),
                              "height", (json_int_t)C->cosigns[i]->height));
        json_t *c = json_pack("{s:o,s:s,s:o,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "cert_id",
                              jhex(&C->cert_id), "status",
                              ename(&hallmark__certificate_status__descriptor, C->status),
                              "batch_id", jstr(C->batch_id), "quantity", (json_int_t)C->quantity,
                              "part_count", (json_int_t)C->part_count, "minted_height",
                              (json_int_t)C->minted_height, "manufacturer",
                              jident(a, &C->manufacturer), "cosigns", cs, "site", jstr(C->site),
                              "standard", jstr(C->standard));
        if (c && C->status == HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED)
            json_object_set_new(c, "revoke_reason", jstr(C->revoke_reason));
        if (c && p->mint) {
            char h[65], t[32];
            aud_hex(h, p->mint->txid, 32);
            fmt_time(t, p->mint->time_ms);
            json_object_set_new(c, "mint_txid", json_string(h));
            json_object_set_new(c, "mint_height", json_integer((json_int_t)p->mint->height));
            json_object_set_new(c, "mint_time", json_string(t));
        }
        json_object_set_new(o, "certificate", c);
    }
    if (p->lic) {
        const Hallmark__Licence *L = p->lic->msg;
        json_t *l = json_pack("{s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:b}", "licence_id",
                              jhex(&L->licence_id), "recipe_hash", jhex(&L->recipe_hash),
                              "licensor", jident(a, &L->licensor), "licensee",
                              jident(a, &L->licensee), "max_units", (json_int_t)L->max_units,
                              "used_units", (json_int_t)L->used_units, "valid_from_ms",
                              (json_int_t)L->valid_from_ms, "valid_until_ms",
                              (json_int_t)L->valid_until_ms, "revoked", L->revoked);
        if (l)
            json_object_set_new(l, "remaining_units",
                                L->max_units ? json_integer((json_int_t)(L->max_units >= L->used_units
                                                                             ? L->max_units - L->used_units
                                                                             : 0))
                                             : json_string("unlimited"));
        if (l && L->parent_licence.len)
            json_object_set_new(l, "parent_licence", jhex(&L->parent_licence));
        json_object_set_new(o, "licence", l);
    }
    if (p->recipe) {
        const Hallmark__Recipe *R = p->recipe->msg;
        json_t *r = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "recipe_hash",
                              jhex(&R->recipe_hash), "title", jstr(R->title), "version",
                              jstr(R->version), "material", jstr(R->material), "process",
                              jstr(R->process), "document_uri", jstr(R->document_uri), "owner",
                              jident(a, &R->owner), "deprecated", R->deprecated);
        if (r)
            json_object_set_new(r, "document_match",
                                p->doc_checked ? json_boolean(p->doc_match) : json_null());
        json_object_set_new(o, "recipe", r);
    }
    json_t *kids = json_array();
    for (size_t i = 0; kids && i < p->n_kids; i++)
        json_array_append_new(kids, jpart(a, p->kids[i]));
    json_object_set_new(o, "components", kids);
    return o;
}

json_t *audit_report_json(const audit_t *a)
{
    char h[65];
    aud_hex(h, a->chain_id, 32);
    json_t *reasons = json_array();
    for (size_t i = 0; reasons && i < audit_reason_count(a); i++)
        json_array_append_new(reasons, json_string(audit_reason(a, i)));
    json_t *o = json_pack("{s:s,s:o,s:s,s:b,s:o,s:o}", "verdict", audit_verdict_name(a->verdict),
                          "subject", jstr(a->subject_raw), "chain_id", h, "bundle_verified", a->bundle_ok,
                          "reasons", reasons, "notes", jstrlist(&a->notes));
    if (!o)
        return NULL;
    if (a->anchor && a->anchor->ok) {
        char t[32], bh[65], sr[65];
        fmt_time(t, a->anchor->h->time_ms);
        aud_hex(bh, a->anchor->hash, 32);
        hexb(sr, &a->anchor->h->state_root);
        json_object_set_new(o, "anchor",
                            json_pack("{s:I,s:s,s:s,s:s}", "height", (json_int_t)a->anchor->height,
                                      "time", t, "block_hash", bh, "state_root", sr));
        json_object_set_new(o, "verified",
                            json_pack("{s:I,s:I,s:I}", "headers", (json_int_t)a->n_hdr, "txs",
                                      (json_int_t)a->n_txs, "records", (json_int_t)a->n_recs));
    }
    json_object_set_new(o, "part", a->root ? jpart(a, a->root) : json_null());
    return o;
}

/* ---------------------------------------------------------------- DOT */

static void dot_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fputc('\\', f);
        if (c == '\n') {
            fputs("\\n", f);
            continue;
        }
        /* UTF-8 passes (ledger text is validated UTF-8; "\u2026" shortens
         * hashes); ASCII control characters and DEL do not */
        fputc(c >= 0x20 && c != 0x7f ? (int)c : '?', f);
    }
    fputc('"', f);
}

static void dot_ident_node(FILE *f, const audit_t *a, const ProtobufCBinaryData *gid)
{
    char did[WALLET_DID_STRLEN], lab[200], nm[80];
    aud_did(did, gid);
    const char *n = ident_name(a, gid);
    aud_clean(nm, sizeof nm, n ? n : "", n ? strlen(n) : 0);
    snprintf(lab, sizeof lab, "%s\n%s", nm, did);
    fputs("  ", f);
    dot_str(f, did);
    fputs(" [shape=ellipse, label=", f);
    dot_str(f, lab);
    fputs("];\n", f);
}

static void dot_edge(FILE *f, const char *from, const char *to, const char *label)
{
    fputs("  ", f);
    dot_str(f, from);
    fputs(" -> ", f);
    dot_str(f, to);
    fputs(" [label=", f);
    dot_str(f, label);
    fputs("];\n", f);
}

static void dot_part(FILE *f, const audit_t *a, const audit_part_t *p)
{
    char pid[160], cid[80], lid[80], rid[80], did[WALLET_DID_STRLEN], lab[300], h[65];
    static const char *const colour[] = {"darkgreen", "red", "orange"};
    snprintf(pid, sizeof pid, "part:%s", p->serial);
    snprintf(lab, sizeof lab, "part %s\n%s", p->serial, audit_verdict_name(p->verdict));
    fputs("  ", f);
    dot_str(f, pid);
    fprintf(f, " [shape=box, style=bold, color=%s, label=", colour[p->verdict]);
    dot_str(f, lab);
    fputs("];\n", f);
    if (p->rec) {
        const Hallmark__Part *P = p->rec->msg;
        dot_ident_node(f, a, &P->holder);
        aud_did(did, &P->holder);
        dot_edge(f, pid, did, "holder");
    }
    if (p->cert) {
        const Hallmark__Certificate *C = p->cert->msg;
        hexb(h, &C->cert_id);
        snprintf(cid, sizeof cid, "cert:%s", h);
        snprintf(lab, sizeof lab, "certificate %.16s…\n%s", h,
                 ename(&hallmark__certificate_status__descriptor, C->status));
        fputs("  ", f);
        dot_str(f, cid);
        fputs(" [shape=note, label=", f);
        dot_str(f, lab);
        fputs("];\n", f);
        dot_edge(f, cid, pid, "mint");
        dot_ident_node(f, a, &C->manufacturer);
        aud_did(did, &C->manufacturer);
        dot_edge(f, did, cid, "minted");
        for (size_t i = 0; i < C->n_cosigns; i++) {
            dot_ident_node(f, a, &C->cosigns[i]->inspector);
            aud_did(did, &C->cosigns[i]->inspector);
            snprintf(lab, sizeof lab, "co-signed %s",
                     ename(&hallmark__verdict__descriptor, C->cosigns[i]->verdict));
            dot_edge(f, did, cid, lab);
        }
        if (p->lic) {
            const Hallmark__Licence *L = p->lic->msg;
            hexb(h, &L->licence_id);
            snprintf(lid, sizeof lid, "licence:%s", h);
            if (L->max_units)
                snprintf(lab, sizeof lab, "licence %.16s…\n%llu/%llu units", h,
                         (unsigned long long)L->used_units, (unsigned long long)L->max_units);
            else
                snprintf(lab, sizeof lab, "licence %.16s…\nunlimited", h);
            fputs("  ", f);
            dot_str(f, lid);
            fputs(" [shape=component, label=", f);
            dot_str(f, lab);
            fputs("];\n", f);
            dot_edge(f, cid, lid, "under");
            dot_ident_node(f, a, &L->licensor);
            aud_did(did, &L->licensor);
            dot_edge(f, did, lid, "granted");
        }
        if (p->recipe) {
            const Hallmark__Recipe *R = p->recipe->msg;
            char title[100];
            hexb(h, &R->recipe_hash);
            aud_clean(title, sizeof title, R->title ? R->title : "", R->title ? strlen(R->title) : 0);
            snprintf(rid, sizeof rid, "recipe:%s", h);
            snprintf(lab, sizeof lab, "recipe %.16s…\n%s", h, title);
            fputs("  ", f);
            dot_str(f, rid);
            fputs(" [shape=folder, label=", f);
            dot_str(f, lab);
            fputs("];\n", f);
            dot_edge(f, p->lic ? lid : cid, rid, "recipe");
            dot_ident_node(f, a, &R->owner);
            aud_did(did, &R->owner);
            dot_edge(f, did, rid, "owns");
        }
    }
    for (size_t i = 0; i < p->n_kids; i++) {
        char kid[160];
        snprintf(kid, sizeof kid, "part:%s", p->kids[i]->serial);
        dot_part(f, a, p->kids[i]);
        dot_edge(f, pid, kid, "component");
    }
}

void audit_report_dot(FILE *f, const audit_t *a)
{
    fputs("digraph provenance {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
          "  edge [fontname=\"Helvetica\", fontsize=9];\n  label=",
          f);
    char lab[300];
    snprintf(lab, sizeof lab, "hallmark-audit: %s %s", a->subject, audit_verdict_name(a->verdict));
    dot_str(f, lab);
    fputs(";\n", f);
    if (a->root)
        dot_part(f, a, a->root);
    fputs("}\n", f);
}

/* -------------------------------------------------------------- EPCIS */

int audit_epc(char *out, size_t cap, const char *serial)
{
    static const char base[] = "https://hallmark.example/part/";
    size_t j = 0;
    if (strncmp(serial, "urn:epc:", 8) == 0) {
        if (strlen(serial) + 1 > cap)
            return HM_ERR_TOO_LARGE;
        memcpy(out, serial, strlen(serial) + 1);
        return HM_OK;
    }
    if (sizeof base > cap)
        return HM_ERR_TOO_LARGE;
    memcpy(out, base, sizeof base - 1);
    j = sizeof base - 1;
    for (const unsigned char *s = (const unsigned char *)serial; *s; s++) {
        bool unreserved = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                          (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_' ||
                          *s == '~';
        if (j + (unreserved ? 1 : 3) + 1 > cap)
            return HM_ERR_TOO_LARGE;
        if (unreserved) {
            out[j++] = (char)*s;
        } else {
            snprintf(out + j, 4, "%%%02X", *s);
            j += 3;
        }
    }
    out[j] = '\0';
    return HM_OK;
}

typedef struct {
    uint64_t height, index;
    int seq; /* several events of one tx keep their order */
    json_t *ev;
} epcis_ev_t;

typedef struct {
    epcis_ev_t *v;
    size_t n, cap;
    const audit_t *a;
    bool nomem;
} epcis_list_t;

static bool ev_seen(const epcis_list_t *l, const aud_tx_t *t, int seq)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].height == t->height && l->v[i].index == t->index && l->v[i].seq == seq)
            return true;
    return false;
}

static json_t *ev_base(const char *type, const aud_tx_t *t, const char *action)
{
    char tm[32], h[65], uri[120];
    fmt_time(tm, t->time_ms);
    aud_hex(h, t->txid, 32);
    snprintf(uri, sizeof uri, "https://hallmark.example/tx/%s", h);
    json_t *e = json_pack("{s:s,s:s,s:s}", "type", type, "eventTime", tm, "eventTimeZoneOffset",
                          "+00:00");
    if (e && action)
        json_object_set_new(e, "action", json_string(action));
    if (e) {
        json_object_set_new(e, "hallmark:txid", json_string(h));
        json_object_set_new(e, "hallmark:height", json_integer((json_int_t)t->height));
        json_object_set_new(e, "hallmark:tx", json_string(uri));
    }
    return e;
}

static void ev_add(epcis_list_t *l, const aud_tx_t *t, int seq, json_t *ev)
{
    if (!ev) {
        l->nomem = true;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        epcis_ev_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            json_decref(ev);
            l->nomem = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (epcis_ev_t){t->height, t->index, seq, ev};
}

static json_t *epc_list1(const char *serial)
{
    char epc[600];
    if (audit_epc(epc, sizeof epc, serial) != HM_OK)
        return NULL;
    return json_pack("[s]", epc);
}

static json_t *party(const char *field, const ProtobufCBinaryData *gid)
{
    char did[WALLET_DID_STRLEN];
    aud_did(did, gid);
    return json_pack("[{s:s,s:s}]", "type", "owning_party", field, did);
}

/* Events of one part's history txs (its own chain) and of its
 * certificate's inspections and recall. */
static void epcis_part(epcis_list_t *l, const audit_part_t *p)
{
    const audit_t *a = l->a;
    char epc[600];
    if (!p->rec || audit_epc(epc, sizeof epc, p->raw) != HM_OK)
        return;
    const Hallmark__RecordProof *rp = p->rec->rp;
    for (size_t i = 0; i < rp->n_history_txids; i++) {
        const aud_tx_t *t = aud_tx(a, rp->history_txids[i].data);
        if (!t)
            continue;
        const Hallmark__Tx *tx = t->tx->tx;
        json_t *e = NULL;
        int seq = 0;
        switch (tx->body_case) {
        case HALLMARK__TX__BODY_MINT_CERTIFICATE:
        case HALLMARK__TX__BODY_ADD_PARTS:
            /* one commissioning event per part (same tx, seq = position) */
            {
                size_t k = 0;
                for (; k < a->n_parts && a->parts[k] != p; k++)
                    ;
                seq = 1 + (int)k;
            }
            if (ev_seen(l, t, seq))
                continue;
            e = ev_base("ObjectEvent", t, "ADD");
            if (e) {
                char cid[65];
                uint8_t id[32];
                if (tx->body_case == HALLMARK__TX__BODY_MINT_CERTIFICATE)
                    contracts_cert_id(id, t->txid);
                else
                    memcpy(id, tx->add_parts->cert_id.data, 32);
                aud_hex(cid, id, 32);
                json_object_set_new(e, "epcList", json_pack("[s]", epc));
                json_object_set_new(e, "bizStep", json_string("commissioning"));
                json_object_set_new(e, "disposition", json_string("active"));
                json_object_set_new(e, "hallmark:certificate", json_string(cid));
            }
            break;
        case HALLMARK__TX__BODY_TRANSFER_CUSTODY:
            seq = 0;
            if (ev_seen(l, t, seq))
                continue;
            e = ev_base("ObjectEvent", t, "OBSERVE");
            if (e) {
                json_t *epcs = json_array();
                for (size_t k = 0; epcs && k < tx->transfer_custody->n_serials; k++) {
                    char x[600];
                    if (audit_epc(x, sizeof x, tx->transfer_custody->serials[k]) == HM_OK)
                        json_array_append_new(epcs, json_string(x));
                }
                json_object_set_new(e, "epcList", epcs);
                json_object_set_new(e, "bizStep", json_string("shipping"));
                json_object_set_new(e, "disposition", json_string("in_transit"));
                json_object_set_new(e, "sourceList", party("source", &tx->actor));
                json_object_set_new(e, "destinationList",
                                    party("destination", &tx->transfer_custody->to));
            }
            break;
        case HALLMARK__TX__BODY_ASSEMBLE:
            seq = 0;
            if (ev_seen(l, t, seq))
                continue;
            e = ev_base("AggregationEvent", t, "ADD");
            if (e) {
                char x[600];
                json_t *kids = json_array();
                for (size_t k = 0; kids && k < tx->assemble->n_children; k++)
                    if (audit_epc(x, sizeof x, tx->assemble->children[k]) == HM_OK)
                        json_array_append_new(kids, json_string(x));
                if (audit_epc(x, sizeof x, tx->assemble->parent ? tx->assemble->parent : "") ==
                    HM_OK)
                    json_object_set_new(e, "parentID", json_string(x));
                json_object_set_new(e, "childEPCs", kids);
                json_object_set_new(e, "bizStep", json_string("assembling"));
            }
            break;
        case HALLMARK__TX__BODY_RECORD_INSPECTION:
            seq = 0;
            if (ev_seen(l, t, seq))
                continue;
            e = ev_base("ObjectEvent", t, "OBSERVE");
            if (e) {
                json_object_set_new(e, "epcList", json_pack("[s]", epc));
                json_object_set_new(e, "bizStep", json_string("inspecting"));
                json_object_set_new(e, "disposition",
                                    json_string(tx->record_inspection->verdict ==
                                                        HALLMARK__VERDICT__VERDICT_PASS
                                                    ? "conformant"
                                                    : "non_conformant"));
            }
            break;
        case HALLMARK__TX__BODY_SCRAP:
            seq = 0;
            if (ev_seen(l, t, seq))
                continue;
            e = ev_base("ObjectEvent", t, "DELETE");
            if (e) {
                json_t *epcs = json_array();
                for (size_t k = 0; epcs && k < tx->scrap->n_serials; k++) {
                    char x[600];
                    if (audit_epc(x, sizeof x, tx->scrap->serials[k]) == HM_OK)
                        json_array_append_new(epcs, json_string(x));
                }
                json_object_set_new(e, "epcList", epcs);
                json_object_set_new(e, "bizStep", json_string("destroying"));
                json_object_set_new(e, "disposition", json_string("destroyed"));
            }
            break;
        default: continue;
        }
        ev_add(l, t, seq, e);
    }
    /* the certificate's co-signatures (inspections of the batch) and recall */
    if (!p->cert)
        return;
    rp = p->cert->rp;
    size_t k = 0;
    for (; k < a->n_parts && a->parts[k] != p; k++)
        ;
    for (size_t i = 0; i < rp->n_history_txids; i++) {
        const aud_tx_t *t = aud_tx(a, rp->history_txids[i].data);
        if (!t)
            continue;
        const Hallmark__Tx *tx = t->tx->tx;
        int seq = 1 + (int)k;
        json_t *e = NULL;
        if (ev_seen(l, t, seq))
            continue;
        if (tx->body_case == HALLMARK__TX__BODY_COSIGN_CERTIFICATE) {
            e = ev_base("ObjectEvent", t, "OBSERVE");
            if (e) {
                json_object_set_new(e, "epcList", epc_list1(p->raw));
                json_object_set_new(e, "bizStep", json_string("inspecting"));
                json_object_set_new(e, "disposition",
                                    json_string(tx->cosign_certificate->verdict ==
                                                        HALLMARK__VERDICT__VERDICT_PASS
                                                    ? "conformant"
                                                    : "non_conformant"));
            }
        } else if (tx->body_case == HALLMARK__TX__BODY_REVOKE_CERTIFICATE) {
            e = ev_base("ObjectEvent", t, "OBSERVE");
            if (e) {
                json_object_set_new(e, "epcList", epc_list1(p->raw));
                json_object_set_new(e, "disposition", json_string("recalled"));
            }
        } else {
            continue;
        }
        ev_add(l, t, seq, e);
    }
}

static int cmp_ev(const void *x, const void *y)
{
    const epcis_ev_t *a = x, *b = y;
    if (a->height != b->height)
        return a->height < b->height ? -1 : 1;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

json_t *audit_epcis(const audit_t *a, uint64_t creation_ms)
{
    if (!a->bundle_ok || !a->root)
        return NULL;
    epcis_list_t l = {.a = a};
    for (size_t i = 0; i < a->n_parts; i++)
        epcis_part(&l, a->parts[i]);
    json_t *list = json_array();
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, cmp_ev);
    for (size_t i = 0; i < l.n; i++) {
        if (list)
            json_array_append(list, l.v[i].ev);
        json_decref(l.v[i].ev);
    }
    free(l.v);
    char tm[32];
    fmt_time(tm, creation_ms);
    json_t *doc = NULL;
    if (list && !l.nomem)
        doc = json_pack("{s:[s,{s:s}],s:s,s:s,s:s,s:{s:o}}", "@context",
                        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                        "hallmark", "https://hallmark.example/ns/", "type", "EPCISDocument",
                        "schemaVersion", "2.0", "creationDate", tm, "epcisBody", "eventList",
                        list);
    else
        json_decref(list);
    return doc;
}
