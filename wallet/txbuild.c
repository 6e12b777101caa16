/* wallet/txbuild — see txbuild.h. */
#include "wallet/txbuild.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/hex.h"
#include "lib/keys.h"

/* ------------------------------------------------------------ helpers */

#define NEW(a, T, INIT)                                                                            \
    __extension__({                                                                                \
        T *p_ = wallet_arena_alloc((a), sizeof(T));                                                \
        if (p_)                                                                                    \
            *p_ = (T)INIT;                                                                         \
        p_;                                                                                        \
    })

static int oom(wallet_diag_t *d)
{
    wallet_diag_set(d, "out of memory");
    return HM_ERR_NOMEM;
}

/* --NAME as a string for messages. */
static const char *optname(const char *name, char buf[64])
{
    snprintf(buf, 64, "--%s", name);
    return buf;
}

/* Optional text option into *dst (left as the empty default when absent). */
static int opt_text(wallet_arena_t *a, char **dst, const wallet_opts_t *o, const char *name,
                    size_t max, wallet_diag_t *d)
{
    char nb[64];
    const char *v = wallet_opt(o, name);
    if (!v)
        return HM_OK;
    int rc = wallet_check_text(v, max, true, optname(name, nb), d);
    if (rc != HM_OK)
        return rc;
    if (!(*dst = wallet_arena_strdup(a, v)))
        return oom(d);
    return HM_OK;
}

static int required_text(wallet_arena_t *a, char **dst, const wallet_opts_t *o,
                         const char *name, size_t max, wallet_diag_t *d)
{
    char nb[64];
    const char *v = wallet_opt(o, name);
    if (!v) {
        wallet_diag_set(d, "--%s is required", name);
        return HM_ERR_INVALID;
    }
    int rc = wallet_check_text(v, max, false, optname(name, nb), d);
    if (rc != HM_OK)
        return rc;
    if (!(*dst = wallet_arena_strdup(a, v)))
        return oom(d);
    return HM_OK;
}

static int set_bytes(wallet_arena_t *a, ProtobufCBinaryData *dst, const uint8_t *p, size_t n,
                     wallet_diag_t *d)
{
    dst->data = wallet_arena_memdup(a, p, n);
    if (!dst->data)
        return oom(d);
    dst->len = n;
    return HM_OK;
}

static int opt_gid(wallet_arena_t *a, ProtobufCBinaryData *dst, const wallet_opts_t *o,
                   const char *name, bool required, wallet_diag_t *d)
{
    char nb[64];
    uint8_t g[HM_GID_LEN];
    const char *v = wallet_opt(o, name);
    if (!v) {
        if (!required)
            return HM_OK;
        wallet_diag_set(d, "--%s is required", name);
        return HM_ERR_INVALID;
    }
    int rc = wallet_parse_gid(g, v, optname(name, nb), d);
    return rc == HM_OK ? set_bytes(a, dst, g, sizeof g, d) : rc;
}

static int opt_hash(wallet_arena_t *a, ProtobufCBinaryData *dst, const wallet_opts_t *o,
                    const char *name, bool required, wallet_diag_t *d)
{
    char nb[64];
    uint8_t h[32];
    const char *v = wallet_opt(o, name);
    if (!v) {
        if (!required)
            return HM_OK;
        wallet_diag_set(d, "--%s is required", name);
        return HM_ERR_INVALID;
    }
    int rc = wallet_parse_hash(h, v, optname(name, nb), d);
    return rc == HM_OK ? set_bytes(a, dst, h, sizeof h, d) : rc;
}

/* A hash given directly (--X-hash HEX) or as the SHA-256 of a file
 * (--X-file FILE); at most one of the two. */
static int opt_hash_or_file(wallet_arena_t *a, ProtobufCBinaryData *dst, const wallet_opts_t *o,
                            const char *hash_opt, const char *file_opt, bool required,
                            wallet_diag_t *d)
{
    const char *f = wallet_opt(o, file_opt);
    if (f && wallet_opt(o, hash_opt)) {
        wallet_diag_set(d, "give --%s or --%s, not both", hash_opt, file_opt);
        return HM_ERR_INVALID;
    }
    if (f) {
        uint8_t h[32];
        char what[64];
        snprintf(what, sizeof what, "--%s", file_opt);
        int rc = wallet_sha256_file(h, f, what, d);
        return rc == HM_OK ? set_bytes(a, dst, h, sizeof h, d) : rc;
    }
    if (required && !wallet_opt(o, hash_opt)) {
        wallet_diag_set(d, "give --%s or --%s", hash_opt, file_opt);
        return HM_ERR_INVALID;
    }
    return opt_hash(a, dst, o, hash_opt, false, d);
}

static int opt_u64(uint64_t *dst, const wallet_opts_t *o, const char *name, wallet_diag_t *d)
{
    char nb[64];
    const char *v = wallet_opt(o, name);
    return v ? wallet_parse_u64(dst, v, optname(name, nb), d) : HM_OK;
}

static int opt_u32(uint32_t *dst, const wallet_opts_t *o, const char *name, wallet_diag_t *d)
{
    char nb[64];
    const char *v = wallet_opt(o, name);
    return v ? wallet_parse_u32(dst, v, optname(name, nb), d) : HM_OK;
}

static int opt_time(uint64_t *dst, const wallet_opts_t *o, const char *name, wallet_diag_t *d)
{
    char nb[64];
    const char *v = wallet_opt(o, name);
    return v ? wallet_parse_time_ms(dst, v, optname(name, nb), d) : HM_OK;
}

/* A repeatable text option into a string array. */
static int opt_text_list(wallet_arena_t *a, char ***dst, size_t *n_dst, const wallet_opts_t *o,
                         const char *name, size_t max, wallet_diag_t *d)
{
    char nb[64];
    size_t n = wallet_opt_count(o, name);
    if (n == 0)
        return HM_OK;
    if (n > WALLET_MAX_LIST) {
        wallet_diag_set(d, "--%s given more than %d times", name, WALLET_MAX_LIST);
        return HM_ERR_INVALID;
    }
    char **arr = wallet_arena_alloc(a, n * sizeof *arr);
    if (!arr)
        return oom(d);
    for (size_t i = 0; i < n; i++) {
        const char *v = wallet_opt_nth(o, name, i);
        int rc = wallet_check_text(v, max, false, optname(name, nb), d);
        if (rc != HM_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(arr[j], v) == 0) {
                wallet_diag_set(d, "--%s: \"%.60s\" given twice", name, v);
                return HM_ERR_INVALID;
            }
        if (!(arr[i] = wallet_arena_strdup(a, v)))
            return oom(d);
    }
    *dst = arr;
    *n_dst = n;
    return HM_OK;
}

/* A repeatable public-key option into a bytes array (distinct keys). */
static int opt_key_list(wallet_arena_t *a, ProtobufCBinaryData **dst, size_t *n_dst,
                        const wallet_opts_t *o, const char *name, wallet_diag_t *d)
{
    char nb[64];
    size_t n = wallet_opt_count(o, name);
    if (n == 0)
        return HM_OK;
    if (n > HM_MAX_COSIGNATURES + 1) {
        wallet_diag_set(d, "--%s given more than %d times", name, HM_MAX_COSIGNATURES + 1);
        return HM_ERR_INVALID;
    }
    ProtobufCBinaryData *arr = wallet_arena_alloc(a, n * sizeof *arr);
    if (!arr)
        return oom(d);
    for (size_t i = 0; i < n; i++) {
        uint8_t k[32];
        int rc = wallet_parse_pubkey(k, wallet_opt_nth(o, name, i), optname(name, nb), d);
        if (rc != HM_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (memcmp(arr[j].data, k, 32) == 0) {
                wallet_diag_set(d, "--%s: key %s given twice", name, wallet_opt_nth(o, name, i));
                return HM_ERR_INVALID;
            }
        if ((rc = set_bytes(a, &arr[i], k, 32, d)) != HM_OK)
            return rc;
    }
    *dst = arr;
    *n_dst = n;
    return HM_OK;
}

/* Serials from a repeatable option and/or a file option, distinct, capped. */
static int opt_serials(wallet_arena_t *a, char ***dst, size_t *n_dst, const wallet_opts_t *o,
                       const char *name, const char *file_opt, bool required, wallet_diag_t *d)
{
    char nb[64];
    wallet_strlist_t l = {0};
    int rc = HM_OK;
    size_t n = wallet_opt_count(o, name);
    for (size_t i = 0; i < n; i++) {
        const char *v = wallet_opt_nth(o, name, i);
        if ((rc = wallet_check_serial(v, optname(name, nb), d)) != HM_OK)
            goto done;
        if (wallet_strlist_contains(&l, v)) {
            wallet_diag_set(d, "--%s: serial %s given twice", name, v);
            rc = HM_ERR_INVALID;
            goto done;
        }
        if ((rc = wallet_strlist_add(&l, v)) != HM_OK) {
            oom(d);
            goto done;
        }
    }
    for (size_t i = 0; i < wallet_opt_count(o, file_opt); i++)
        if ((rc = wallet_serials_read_file(&l, wallet_opt_nth(o, file_opt, i), d)) != HM_OK)
            goto done;
    if (l.n == 0 && required) {
        wallet_diag_set(d, "give at least one serial (--%s or --%s)", name, file_opt);
        rc = HM_ERR_INVALID;
        goto done;
    }
    if (l.n > WALLET_MAX_SERIALS_PER_TX) {
        wallet_diag_set(d,
                        "%zu serials: at most %d fit in one transaction (send the rest with "
                        "`certificate add-parts`)",
                        l.n, WALLET_MAX_SERIALS_PER_TX);
        rc = HM_ERR_INVALID;
        goto done;
    }
    if (l.n) {
        char **arr = wallet_arena_alloc(a, l.n * sizeof *arr);
        if (!arr) {
            rc = oom(d);
            goto done;
        }
        for (size_t i = 0; i < l.n; i++)
            if (!(arr[i] = wallet_arena_strdup(a, l.items[i]))) {
                rc = oom(d);
                goto done;
            }
        *dst = arr;
        *n_dst = l.n;
    }
done:
    wallet_strlist_free(&l);
    return rc;
}

typedef struct {
    const char *name;
    int value;
} name_value_t;

static int lookup(int *out, const name_value_t *tab, const char *v, const char *what,
                  const char *choices, wallet_diag_t *d)
{
    for (; tab->name; tab++)
        if (strcasecmp(tab->name, v) == 0) {
            *out = tab->value;
            return HM_OK;
        }
    wallet_diag_set(d, "%s: \"%.40s\" is not one of %s", what, v, choices);
    return HM_ERR_INVALID;
}

static const name_value_t KINDS[] = {
    {"manufacturer", HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER},
    {"designer", HALLMARK__IDENTITY_KIND__KIND_DESIGNER},
    {"inspector", HALLMARK__IDENTITY_KIND__KIND_INSPECTOR},
    {"auditor", HALLMARK__IDENTITY_KIND__KIND_AUDITOR},
    {"operator", HALLMARK__IDENTITY_KIND__KIND_OPERATOR},
    {NULL, 0}};
#define KIND_CHOICES "manufacturer, designer, inspector, auditor, operator"

static const name_value_t ROLES[] = {{"manufacturer", HALLMARK__ROLE__ROLE_MANUFACTURER},
                                     {"designer", HALLMARK__ROLE__ROLE_DESIGNER},
                                     {"inspector", HALLMARK__ROLE__ROLE_INSPECTOR},
                                     {"auditor", HALLMARK__ROLE__ROLE_AUDITOR},
                                     {"operator", HALLMARK__ROLE__ROLE_OPERATOR},
                                     {"accreditor", HALLMARK__ROLE__ROLE_ACCREDITOR},
                                     {NULL, 0}};
#define ROLE_CHOICES KIND_CHOICES ", accreditor"

static const name_value_t VERDICTS[] = {
    {"pass", HALLMARK__VERDICT__VERDICT_PASS}, {"fail", HALLMARK__VERDICT__VERDICT_FAIL}, {NULL, 0}};

static int opt_verdict(Hallmark__Verdict *dst, const wallet_opts_t *o, wallet_diag_t *d)
{
    const char *v = wallet_opt(o, "verdict");
    int x;
    if (!v) {
        wallet_diag_set(d, "--verdict is required (pass or fail)");
        return HM_ERR_INVALID;
    }
    int rc = lookup(&x, VERDICTS, v, "--verdict", "pass, fail", d);
    if (rc == HM_OK)
        *dst = (Hallmark__Verdict)x;
    return rc;
}

/* ------------------------------------------------------- option tables */

#define O_REASON(req)                                                                              \
    {"reason", 0, "TEXT", (req), "the reason, recorded on the ledger"}
#define O_SERIALS(help)                                                                            \
    {"serial", 0, "SERIAL", WALLET_OPT_REPEAT, help},                                              \
    {                                                                                              \
        "serials-file", 0, "FILE", WALLET_OPT_REPEAT,                                              \
            "more serials, one per line ('#' comments, blank lines ignored)"                       \
    }

static const wallet_opt_spec_t OPTS_ID_REGISTER[] = {
    {"name", 0, "NAME", WALLET_OPT_REQUIRED, "the organisation's name"},
    {"kind", 0, "KIND", WALLET_OPT_REQUIRED, "one of " KIND_CHOICES},
    {"external-id", 0, "SCHEME:VALUE", WALLET_OPT_REPEAT,
     "an external identifier, e.g. gs1-gln:0614141000005, lei:..., duns:..."},
    {"country", 0, "CC", 0, "ISO 3166-1 alpha-2 country code, e.g. DE"},
    {"metadata-hash", 0, "HEX", 0, "SHA-256 of a metadata document (64 hex)"},
    {"metadata-file", 0, "FILE", 0, "a metadata document to hash instead"},
    {"controller-key", 0, "PUBKEY", WALLET_OPT_REPEAT,
     "a controller key (64 hex; default: the signing key alone)"},
    {"threshold", 0, "N", 0, "signatures needed among the controller keys (default 1)"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_ID_ROTATE[] = {
    {"gid", 0, "GID", 0, "the identity (default: the one the key acts for)"},
    {"controller-key", 0, "PUBKEY", WALLET_OPT_REQUIRED | WALLET_OPT_REPEAT,
     "a new controller key (64 hex)"},
    {"threshold", 0, "N", 0, "signatures needed among the new keys (default 1)"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_ID_ACCREDIT[] = {
    {"gid", 0, "GID", WALLET_OPT_REQUIRED, "the identity to accredit"},
    {"role", 0, "ROLE", WALLET_OPT_REPEAT, "a role: " ROLE_CHOICES},
    {"capability", 0, "TEXT", WALLET_OPT_REPEAT, "a capability, e.g. process:SLM, std:ISO9001"},
    {"valid-until", 0, "TIME", 0, "expiry (ms since epoch or YYYY-MM-DD[THH:MM:SSZ]); default none"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_ID_SUSPEND[] = {
    {"gid", 0, "GID", WALLET_OPT_REQUIRED, "the identity"}, O_REASON(0), WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_RECIPE_REGISTER[] = {
    {"document", 0, "FILE", WALLET_OPT_REQUIRED,
     "the recipe document; its SHA-256 is the recipe hash"},
    {"version", 0, "TEXT", 0, "version label"},
    {"previous", 0, "HASH", 0, "the recipe hash this one supersedes (lineage)"},
    {"title", 0, "TEXT", 0, "title"},
    {"material", 0, "TEXT", 0, "material specification"},
    {"process", 0, "TEXT", 0, "process, e.g. SLM"},
    {"acceptance-hash", 0, "HEX", 0, "SHA-256 of the acceptance criteria"},
    {"acceptance-file", 0, "FILE", 0, "acceptance criteria document to hash instead"},
    {"document-uri", 0, "URI", 0, "where the document can be fetched"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_RECIPE_TRANSFER[] = {
    {"recipe", 0, "HASH", WALLET_OPT_REQUIRED, "the recipe hash"},
    {"to", 0, "GID", WALLET_OPT_REQUIRED, "the new owner"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_RECIPE_DEPRECATE[] = {
    {"recipe", 0, "HASH", WALLET_OPT_REQUIRED, "the recipe hash"}, O_REASON(0), WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_LICENCE_GRANT[] = {
    {"recipe", 0, "HASH", WALLET_OPT_REQUIRED, "the recipe hash"},
    {"licensee", 0, "GID", WALLET_OPT_REQUIRED, "who may manufacture"},
    {"max-units", 0, "N", 0, "units the licence allows (default 0 = unlimited)"},
    {"valid-from", 0, "TIME", 0, "start (ms since epoch or YYYY-MM-DD[THH:MM:SSZ]); default 0"},
    {"valid-until", 0, "TIME", 0, "end (same forms); default none"},
    {"site", 0, "SITE", WALLET_OPT_REPEAT, "a site the licence is limited to (default any)"},
    {"sublicensable", 0, NULL, 0, "the licensee may grant sub-licences"},
    {"parent-licence", 0, "ID", 0, "draw this sub-licence from that licence"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_LICENCE_REVOKE[] = {
    {"licence", 0, "ID", WALLET_OPT_REQUIRED, "the licence id"}, O_REASON(0), WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_CERT_MINT[] = {
    {"batch", 0, "ID", WALLET_OPT_REQUIRED, "batch id (unique per manufacturer)"},
    {"recipe", 0, "HASH", WALLET_OPT_REQUIRED, "the recipe hash"},
    {"licence", 0, "ID", 0, "the licence the units are drawn from"},
    {"quantity", 0, "N", 0, "units consumed from the licence (default: the number of serials)"},
    O_SERIALS("a part serial covered by the certificate"),
    {"site", 0, "SITE", 0, "production site"},
    {"produced-at", 0, "TIME", 0, "production time (ms since epoch or YYYY-MM-DD...); default now"},
    {"report-hash", 0, "HEX", 0, "SHA-256 of the inspection report"},
    {"report-file", 0, "FILE", 0, "the inspection report to hash instead"},
    {"result", 0, "NAME=VALUE:pass|fail", WALLET_OPT_REPEAT, "a test result"},
    {"results-hash", 0, "HEX", 0, "SHA-256 of the results (instead of listing them)"},
    {"standard", 0, "TEXT", 0, "the standard followed, e.g. ISO 9001"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_CERT_ADD_PARTS[] = {
    {"cert", 0, "ID", WALLET_OPT_REQUIRED, "the certificate id"},
    O_SERIALS("a part serial to add"),
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_CERT_COSIGN[] = {
    {"cert", 0, "ID", WALLET_OPT_REQUIRED, "the certificate id"},
    {"verdict", 0, "pass|fail", WALLET_OPT_REQUIRED, "the inspector's verdict"},
    {"report-hash", 0, "HEX", 0, "SHA-256 of the inspection report"},
    {"report-file", 0, "FILE", 0, "the inspection report to hash instead"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_CERT_REVOKE[] = {
    {"cert", 0, "ID", WALLET_OPT_REQUIRED, "the certificate id"}, O_REASON(0), WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_PART_TRANSFER[] = {
    O_SERIALS("a part serial to hand over"),
    {"to", 0, "GID", WALLET_OPT_REQUIRED, "the new holder"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_PART_ASSEMBLE[] = {
    {"parent", 0, "SERIAL", WALLET_OPT_REQUIRED, "the assembly's serial"},
    {"child", 0, "SERIAL", WALLET_OPT_REPEAT, "a component serial"},
    {"children-file", 0, "FILE", WALLET_OPT_REPEAT, "more component serials, one per line"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_PART_INSPECT[] = {
    {"serial", 0, "SERIAL", WALLET_OPT_REQUIRED, "the part"},
    {"verdict", 0, "pass|fail", WALLET_OPT_REQUIRED, "the verdict"},
    {"report-hash", 0, "HEX", 0, "SHA-256 of the inspection report"},
    {"report-file", 0, "FILE", 0, "the inspection report to hash instead"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_PART_SCRAP[] = {
    O_SERIALS("a part serial to scrap"), O_REASON(0), WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_VALIDATORS_UPDATE[] = {
    {"add", 0, "PUBKEY,TLS_FP,HOST:PORT[,NAME]", WALLET_OPT_REPEAT,
     "a validator to add (consensus key, SHA-256 of its TLS certificate, p2p address)"},
    {"remove", 0, "PUBKEY", WALLET_OPT_REPEAT, "a validator's consensus key to remove"},
    {"effective-height", 0, "N", WALLET_OPT_REQUIRED, "the height the change takes effect at"},
    WALLET_OPT_END};

/* ----------------------------------------------------------- builders */

static int build_id_register(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                             wallet_diag_t *d)
{
    Hallmark__RegisterIdentity *b =
        NEW(a, Hallmark__RegisterIdentity, HALLMARK__REGISTER_IDENTITY__INIT);
    int rc, kind;
    if (!b)
        return oom(d);
    if ((rc = required_text(a, &b->name, o, "name", WALLET_MAX_NAME, d)) != HM_OK)
        return rc;
    if ((rc = lookup(&kind, KINDS, wallet_opt(o, "kind"), "--kind", KIND_CHOICES, d)) != HM_OK)
        return rc;
    b->kind = (Hallmark__IdentityKind)kind;
    size_t n = wallet_opt_count(o, "external-id");
    if (n > WALLET_MAX_LIST) {
        wallet_diag_set(d, "--external-id given more than %d times", WALLET_MAX_LIST);
        return HM_ERR_INVALID;
    }
    if (n) {
        b->external_ids = wallet_arena_alloc(a, n * sizeof *b->external_ids);
        if (!b->external_ids)
            return oom(d);
        for (size_t i = 0; i < n; i++) {
            const char *v = wallet_opt_nth(o, "external-id", i);
            const char *colon = strchr(v, ':');
            if (!colon || colon == v || !colon[1]) {
                wallet_diag_set(d, "--external-id: expected SCHEME:VALUE, got \"%.60s\"", v);
                return HM_ERR_INVALID;
            }
            Hallmark__ExternalId *e = NEW(a, Hallmark__ExternalId, HALLMARK__EXTERNAL_ID__INIT);
            char *scheme = wallet_arena_strdup(a, v);
            if (!e || !scheme)
                return oom(d);
            scheme[colon - v] = '\0';
            if ((rc = wallet_check_text(scheme, 32, false, "--external-id scheme", d)) != HM_OK ||
                (rc = wallet_check_text(colon + 1, WALLET_MAX_SHORT, false, "--external-id value",
                                        d)) != HM_OK)
                return rc;
            e->scheme = scheme;
            e->value = scheme + (colon - v) + 1;
            for (size_t j = 0; j < i; j++)
                if (strcmp(b->external_ids[j]->scheme, e->scheme) == 0 &&
                    strcmp(b->external_ids[j]->value, e->value) == 0) {
                    wallet_diag_set(d, "--external-id %.60s given twice", v);
                    return HM_ERR_INVALID;
                }
            b->external_ids[i] = e;
        }
        b->n_external_ids = n;
    }
    const char *cc = wallet_opt(o, "country");
    if (cc) {
        if (strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z') {
            wallet_diag_set(d, "--country: expected two upper-case letters (ISO 3166-1 "
                               "alpha-2), got \"%.20s\"",
                            cc);
            return HM_ERR_INVALID;
        }
        if (!(b->country = wallet_arena_strdup(a, cc)))
            return oom(d);
    }
    if ((rc = opt_hash_or_file(a, &b->metadata_hash, o, "metadata-hash", "metadata-file", false,
                               d)) != HM_OK)
        return rc;
    if ((rc = opt_key_list(a, &b->controller_keys, &b->n_controller_keys, o, "controller-key",
                           d)) != HM_OK)
        return rc;
    if ((rc = opt_u32(&b->threshold, o, "threshold", d)) != HM_OK)
        return rc;
    size_t nkeys = b->n_controller_keys ? b->n_controller_keys : 1;
    if (b->threshold > nkeys) {
        wallet_diag_set(d, "--threshold %u is more than the %zu controller key(s)", b->threshold,
                        nkeys);
        return HM_ERR_INVALID;
    }
    tx->body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
    tx->register_identity = b;
    return HM_OK;
}

static int build_id_rotate(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                           wallet_diag_t *d)
{
    Hallmark__RotateKeys *b = NEW(a, Hallmark__RotateKeys, HALLMARK__ROTATE_KEYS__INIT);
    int rc;
    if (!b)
        return oom(d);
    if (wallet_opt(o, "gid")) {
        if ((rc = opt_gid(a, &b->gid, o, "gid", true, d)) != HM_OK)
            return rc;
    } else if (tx->actor.len == HM_GID_LEN) {
        if ((rc = set_bytes(a, &b->gid, tx->actor.data, HM_GID_LEN, d)) != HM_OK)
            return rc;
    } else {
        wallet_diag_set(d, "--gid is required (the key has no recorded GID and no --actor)");
        return HM_ERR_INVALID;
    }
    if ((rc = opt_key_list(a, &b->controller_keys, &b->n_controller_keys, o, "controller-key",
                           d)) != HM_OK)
        return rc;
    if (b->n_controller_keys == 0) {
        wallet_diag_set(d, "--controller-key is required");
        return HM_ERR_INVALID;
    }
    if ((rc = opt_u32(&b->threshold, o, "threshold", d)) != HM_OK)
        return rc;
    if (b->threshold > b->n_controller_keys) {
        wallet_diag_set(d, "--threshold %u is more than the %zu controller key(s)", b->threshold,
                        b->n_controller_keys);
        return HM_ERR_INVALID;
    }
    tx->body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
    tx->rotate_keys = b;
    return HM_OK;
}

static int build_id_accredit(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                             wallet_diag_t *d)
{
    Hallmark__Accredit *b = NEW(a, Hallmark__Accredit, HALLMARK__ACCREDIT__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_gid(a, &b->gid, o, "gid", true, d)) != HM_OK)
        return rc;
    size_t n = wallet_opt_count(o, "role");
    if (n > 16) {
        wallet_diag_set(d, "--role given more than 16 times");
        return HM_ERR_INVALID;
    }
    if (n) {
        b->roles = wallet_arena_alloc(a, n * sizeof *b->roles);
        if (!b->roles)
            return oom(d);
        for (size_t i = 0; i < n; i++) {
            int r;
            if ((rc = lookup(&r, ROLES, wallet_opt_nth(o, "role", i), "--role", ROLE_CHOICES,
                             d)) != HM_OK)
                return rc;
            for (size_t j = 0; j < i; j++)
                if ((int)b->roles[j] == r) {
                    wallet_diag_set(d, "--role %s given twice", wallet_opt_nth(o, "role", i));
                    return HM_ERR_INVALID;
                }
            b->roles[i] = (Hallmark__Role)r;
        }
        b->n_roles = n;
    }
    if ((rc = opt_text_list(a, &b->capabilities, &b->n_capabilities, o, "capability",
                            WALLET_MAX_SHORT, d)) != HM_OK)
        return rc;
    if (b->n_roles == 0 && b->n_capabilities == 0) {
        wallet_diag_set(d, "give at least one --role or --capability");
        return HM_ERR_INVALID;
    }
    if ((rc = opt_time(&b->valid_until_ms, o, "valid-until", d)) != HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_ACCREDIT;
    tx->accredit = b;
    return HM_OK;
}

static int build_id_suspend(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                            wallet_diag_t *d)
{
    Hallmark__Suspend *b = NEW(a, Hallmark__Suspend, HALLMARK__SUSPEND__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_gid(a, &b->gid, o, "gid", true, d)) != HM_OK ||
        (rc = opt_text(a, &b->reason, o, "reason", WALLET_MAX_REASON, d)) != HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_SUSPEND;
    tx->suspend = b;
    return HM_OK;
}

static int build_id_revoke(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                           wallet_diag_t *d)
{
    Hallmark__RevokeIdentity *b = NEW(a, Hallmark__RevokeIdentity, HALLMARK__REVOKE_IDENTITY__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_gid(a, &b->gid, o, "gid", true, d)) != HM_OK ||
        (rc = opt_text(a, &b->reason, o, "reason", WALLET_MAX_REASON, d)) != HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_REVOKE_IDENTITY;
    tx->revoke_identity = b;
    return HM_OK;
}

static int build_recipe_register(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                                 wallet_diag_t *d)
{
    Hallmark__RegisterRecipe *b = NEW(a, Hallmark__RegisterRecipe, HALLMARK__REGISTER_RECIPE__INIT);
    uint8_t h[32];
    int rc;
    if (!b)
        return oom(d);
    const char *doc = wallet_opt(o, "document");
    if (!doc) {
        wallet_diag_set(d, "--document is required");
        return HM_ERR_INVALID;
    }
    if ((rc = wallet_sha256_file(h, doc, "--document", d)) != HM_OK ||
        (rc = set_bytes(a, &b->recipe_hash, h, sizeof h, d)) != HM_OK)
        return rc;
    if ((rc = opt_text(a, &b->version, o, "version", WALLET_MAX_SHORT, d)) != HM_OK ||
        (rc = opt_hash(a, &b->previous, o, "previous", false, d)) != HM_OK ||
        (rc = opt_text(a, &b->title, o, "title", WALLET_MAX_NAME, d)) != HM_OK ||
        (rc = opt_text(a, &b->material, o, "material", WALLET_MAX_NAME, d)) != HM_OK ||
        (rc = opt_text(a, &b->process, o, "process", WALLET_MAX_NAME, d)) != HM_OK ||
        (rc = opt_hash_or_file(a, &b->acceptance_hash, o, "acceptance-hash", "acceptance-file",
                               false, d)) != HM_OK ||
        (rc = opt_text(a, &b->document_uri, o, "document-uri", WALLET_MAX_URI, d)) != HM_OK)
        return rc;
    if (b->previous.len && memcmp(b->previous.data, h, 32) == 0) {
        wallet_diag_set(d, "--previous is this document's own hash");
        return HM_ERR_INVALID;
    }
    tx->body_case = HALLMARK__TX__BODY_REGISTER_RECIPE;
    tx->register_recipe = b;
    return HM_OK;
}

static int build_recipe_transfer(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                                 wallet_diag_t *d)
{
    Hallmark__TransferRecipe *b = NEW(a, Hallmark__TransferRecipe, HALLMARK__TRANSFER_RECIPE__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_hash(a, &b->recipe_hash, o, "recipe", true, d)) != HM_OK ||
        (rc = opt_gid(a, &b->new_owner, o, "to", true, d)) != HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_TRANSFER_RECIPE;
    tx->transfer_recipe = b;
    return HM_OK;
}

static int build_recipe_deprecate(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                                  wallet_diag_t *d)
{
    Hallmark__DeprecateRecipe *b =
        NEW(a, Hallmark__DeprecateRecipe, HALLMARK__DEPRECATE_RECIPE__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_hash(a, &b->recipe_hash, o, "recipe", true, d)) != HM_OK ||
        (rc = opt_text(a, &b->reason, o, "reason", WALLET_MAX_REASON, d)) != HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_DEPRECATE_RECIPE;
    tx->deprecate_recipe = b;
    return HM_OK;
}

static int build_licence_grant(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                               wallet_diag_t *d)
{
    Hallmark__GrantLicence *b = NEW(a, Hallmark__GrantLicence, HALLMARK__GRANT_LICENCE__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_hash(a, &b->recipe_hash, o, "recipe", true, d)) != HM_OK ||
        (rc = opt_gid(a, &b->licensee, o, "licensee", true, d)) != HM_OK ||
        (rc = opt_u64(&b->max_units, o, "max-units", d)) != HM_OK ||
        (rc = opt_time(&b->valid_from_ms, o, "valid-from", d)) != HM_OK ||
        (rc = opt_time(&b->valid_until_ms, o, "valid-until", d)) != HM_OK ||
        (rc = opt_text_list(a, &b->sites, &b->n_sites, o, "site", WALLET_MAX_SHORT, d)) != HM_OK ||
        (rc = opt_hash(a, &b->parent_licence, o, "parent-licence", false, d)) != HM_OK)
        return rc;
    if (b->valid_until_ms && b->valid_until_ms <= b->valid_from_ms) {
        wallet_diag_set(d, "--valid-until must be after --valid-from");
        return HM_ERR_INVALID;
    }
    b->sublicensable = wallet_opt_has(o, "sublicensable");
    tx->body_case = HALLMARK__TX__BODY_GRANT_LICENCE;
    tx->grant_licence = b;
    return HM_OK;
}

static int build_licence_revoke(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                                wallet_diag_t *d)
{
    Hallmark__RevokeLicence *b = NEW(a, Hallmark__RevokeLicence, HALLMARK__REVOKE_LICENCE__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_hash(a, &b->licence_id, o, "licence", true, d)) != HM_OK ||
        (rc = opt_text(a, &b->reason, o, "reason", WALLET_MAX_REASON, d)) != HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_REVOKE_LICENCE;
    tx->revoke_licence = b;
    return HM_OK;
}

/* --result NAME=VALUE:pass|fail */
static int parse_result(wallet_arena_t *a, Hallmark__TestResult **out, const char *v,
                        wallet_diag_t *d)
{
    const char *eq = strchr(v, '=');
    const char *colon = strrchr(v, ':');
    if (!eq || eq == v || !colon || colon < eq) {
        wallet_diag_set(d, "--result: expected NAME=VALUE:pass|fail, got \"%.60s\"", v);
        return HM_ERR_INVALID;
    }
    Hallmark__TestResult *r = NEW(a, Hallmark__TestResult, HALLMARK__TEST_RESULT__INIT);
    char *copy = wallet_arena_strdup(a, v);
    if (!r || !copy)
        return oom(d);
    copy[eq - v] = '\0';
    copy[colon - v] = '\0';
    r->name = copy;
    r->value = copy + (eq - v) + 1;
    const char *verdict = copy + (colon - v) + 1;
    if (strcasecmp(verdict, "pass") == 0) {
        r->pass = 1;
    } else if (strcasecmp(verdict, "fail") != 0) {
        wallet_diag_set(d, "--result: the verdict after the last ':' is pass or fail, got "
                           "\"%.20s\"",
                        verdict);
        return HM_ERR_INVALID;
    }
    int rc;
    if ((rc = wallet_check_text(r->name, WALLET_MAX_SHORT, false, "--result name", d)) != HM_OK ||
        (rc = wallet_check_text(r->value, WALLET_MAX_SHORT, true, "--result value", d)) != HM_OK)
        return rc;
    *out = r;
    return HM_OK;
}

static int build_cert_mint(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                           wallet_diag_t *d)
{
    Hallmark__MintCertificate *b =
        NEW(a, Hallmark__MintCertificate, HALLMARK__MINT_CERTIFICATE__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = required_text(a, &b->batch_id, o, "batch", WALLET_MAX_SHORT, d)) != HM_OK ||
        (rc = opt_hash(a, &b->recipe_hash, o, "recipe", true, d)) != HM_OK ||
        (rc = opt_hash(a, &b->licence_id, o, "licence", false, d)) != HM_OK ||
        (rc = opt_serials(a, &b->part_serials, &b->n_part_serials, o, "serial", "serials-file",
                          false, d)) != HM_OK ||
        (rc = opt_text(a, &b->site, o, "site", WALLET_MAX_SHORT, d)) != HM_OK ||
        (rc = opt_hash_or_file(a, &b->report_hash, o, "report-hash", "report-file", false, d)) !=
            HM_OK ||
        (rc = opt_hash(a, &b->results_hash, o, "results-hash", false, d)) != HM_OK ||
        (rc = opt_text(a, &b->standard, o, "standard", WALLET_MAX_SHORT, d)) != HM_OK)
        return rc;
    if (wallet_opt(o, "quantity")) {
        if ((rc = opt_u64(&b->quantity, o, "quantity", d)) != HM_OK)
            return rc;
    } else {
        b->quantity = b->n_part_serials;
    }
    if (b->quantity == 0) {
        wallet_diag_set(d, "--quantity is required (and positive) when no serials are given");
        return HM_ERR_INVALID;
    }
    if (b->n_part_serials > b->quantity) {
        wallet_diag_set(d, "%zu serials but --quantity %llu: a certificate covers at most its "
                           "quantity",
                        b->n_part_serials, (unsigned long long)b->quantity);
        return HM_ERR_INVALID;
    }
    if (wallet_opt(o, "produced-at")) {
        if ((rc = opt_time(&b->produced_at_ms, o, "produced-at", d)) != HM_OK)
            return rc;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        b->produced_at_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    }
    size_t n = wallet_opt_count(o, "result");
    if (n > WALLET_MAX_LIST) {
        wallet_diag_set(d, "--result given more than %d times", WALLET_MAX_LIST);
        return HM_ERR_INVALID;
    }
    if (n) {
        if (b->results_hash.len) {
            wallet_diag_set(d, "give --result or --results-hash, not both");
            return HM_ERR_INVALID;
        }
        b->results = wallet_arena_alloc(a, n * sizeof *b->results);
        if (!b->results)
            return oom(d);
        for (size_t i = 0; i < n; i++)
            if ((rc = parse_result(a, &b->results[i], wallet_opt_nth(o, "result", i), d)) != HM_OK)
                return rc;
        b->n_results = n;
    }
    tx->body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
    tx->mint_certificate = b;
    return HM_OK;
}

static int build_cert_add_parts(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                                wallet_diag_t *d)
{
    Hallmark__AddParts *b = NEW(a, Hallmark__AddParts, HALLMARK__ADD_PARTS__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_hash(a, &b->cert_id, o, "cert", true, d)) != HM_OK ||
        (rc = opt_serials(a, &b->serials, &b->n_serials, o, "serial", "serials-file", true, d)) !=
            HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_ADD_PARTS;
    tx->add_parts = b;
    return HM_OK;
}

static int build_cert_cosign(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                             wallet_diag_t *d)
{
    Hallmark__CoSignCertificate *b =
        NEW(a, Hallmark__CoSignCertificate, HALLMARK__CO_SIGN_CERTIFICATE__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_hash(a, &b->cert_id, o, "cert", true, d)) != HM_OK ||
        (rc = opt_verdict(&b->verdict, o, d)) != HM_OK ||
        (rc = opt_hash_or_file(a, &b->report_hash, o, "report-hash", "report-file", false, d)) !=
            HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_COSIGN_CERTIFICATE;
    tx->cosign_certificate = b;
    return HM_OK;
}

static int build_cert_revoke(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                             wallet_diag_t *d)
{
    Hallmark__RevokeCertificate *b =
        NEW(a, Hallmark__RevokeCertificate, HALLMARK__REVOKE_CERTIFICATE__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_hash(a, &b->cert_id, o, "cert", true, d)) != HM_OK ||
        (rc = opt_text(a, &b->reason, o, "reason", WALLET_MAX_REASON, d)) != HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_REVOKE_CERTIFICATE;
    tx->revoke_certificate = b;
    return HM_OK;
}

static int build_part_transfer(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                               wallet_diag_t *d)
{
    Hallmark__TransferCustody *b =
        NEW(a, Hallmark__TransferCustody, HALLMARK__TRANSFER_CUSTODY__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_serials(a, &b->serials, &b->n_serials, o, "serial", "serials-file", true, d)) !=
            HM_OK ||
        (rc = opt_gid(a, &b->to, o, "to", true, d)) != HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_TRANSFER_CUSTODY;
    tx->transfer_custody = b;
    return HM_OK;
}

static int build_part_assemble(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                               wallet_diag_t *d)
{
    Hallmark__Assemble *b = NEW(a, Hallmark__Assemble, HALLMARK__ASSEMBLE__INIT);
    int rc;
    if (!b)
        return oom(d);
    const char *parent = wallet_opt(o, "parent");
    if (!parent) {
        wallet_diag_set(d, "--parent is required");
        return HM_ERR_INVALID;
    }
    if ((rc = wallet_check_serial(parent, "--parent", d)) != HM_OK)
        return rc;
    if (!(b->parent = wallet_arena_strdup(a, parent)))
        return oom(d);
    if ((rc = opt_serials(a, &b->children, &b->n_children, o, "child", "children-file", true,
                          d)) != HM_OK)
        return rc;
    for (size_t i = 0; i < b->n_children; i++)
        if (strcmp(b->children[i], parent) == 0) {
            wallet_diag_set(d, "the parent %s is also listed as a child", parent);
            return HM_ERR_INVALID;
        }
    tx->body_case = HALLMARK__TX__BODY_ASSEMBLE;
    tx->assemble = b;
    return HM_OK;
}

static int build_part_inspect(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                              wallet_diag_t *d)
{
    Hallmark__RecordInspection *b =
        NEW(a, Hallmark__RecordInspection, HALLMARK__RECORD_INSPECTION__INIT);
    int rc;
    if (!b)
        return oom(d);
    const char *serial = wallet_opt(o, "serial");
    if (!serial) {
        wallet_diag_set(d, "--serial is required");
        return HM_ERR_INVALID;
    }
    if ((rc = wallet_check_serial(serial, "--serial", d)) != HM_OK)
        return rc;
    if (!(b->serial = wallet_arena_strdup(a, serial)))
        return oom(d);
    if ((rc = opt_verdict(&b->verdict, o, d)) != HM_OK ||
        (rc = opt_hash_or_file(a, &b->report_hash, o, "report-hash", "report-file", false, d)) !=
            HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_RECORD_INSPECTION;
    tx->record_inspection = b;
    return HM_OK;
}

static int build_part_scrap(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                            wallet_diag_t *d)
{
    Hallmark__Scrap *b = NEW(a, Hallmark__Scrap, HALLMARK__SCRAP__INIT);
    int rc;
    if (!b)
        return oom(d);
    if ((rc = opt_serials(a, &b->serials, &b->n_serials, o, "serial", "serials-file", true, d)) !=
            HM_OK ||
        (rc = opt_text(a, &b->reason, o, "reason", WALLET_MAX_REASON, d)) != HM_OK)
        return rc;
    tx->body_case = HALLMARK__TX__BODY_SCRAP;
    tx->scrap = b;
    return HM_OK;
}

/* --add PUBKEY,TLS_FP,HOST:PORT[,NAME] */
static int parse_validator(wallet_arena_t *a, Hallmark__ValidatorInfo **out, const char *v,
                           wallet_diag_t *d)
{
    char *copy = wallet_arena_strdup(a, v);
    Hallmark__ValidatorInfo *vi = NEW(a, Hallmark__ValidatorInfo, HALLMARK__VALIDATOR_INFO__INIT);
    uint8_t pk[32], fp[32];
    int rc;
    if (!copy || !vi)
        return oom(d);
    char *f[4] = {copy, NULL, NULL, NULL};
    for (int i = 1; i < 4; i++) {
        char *c = strchr(f[i - 1], ',');
        if (!c)
            break;
        *c = '\0';
        f[i] = c + 1;
    }
    if (!f[1] || !f[2]) {
        wallet_diag_set(d, "--add: expected PUBKEY,TLS_FP,HOST:PORT[,NAME], got \"%.80s\"", v);
        return HM_ERR_INVALID;
    }
    if ((rc = wallet_parse_pubkey(pk, f[0], "--add public key", d)) != HM_OK ||
        (rc = wallet_parse_hash(fp, f[1], "--add TLS fingerprint", d)) != HM_OK ||
        (rc = wallet_check_text(f[2], 255, false, "--add address", d)) != HM_OK)
        return rc;
    const char *colon = strrchr(f[2], ':');
    uint32_t port;
    if (!colon || colon == f[2] || wallet_parse_u32(&port, colon + 1, "--add port", d) != HM_OK ||
        port == 0 || port > 65535) {
        wallet_diag_set(d, "--add: the address must be HOST:PORT, got \"%.80s\"", f[2]);
        return HM_ERR_INVALID;
    }
    if (f[3] && (rc = wallet_check_text(f[3], 64, false, "--add name", d)) != HM_OK)
        return rc;
    if ((rc = set_bytes(a, &vi->pubkey, pk, 32, d)) != HM_OK ||
        (rc = set_bytes(a, &vi->tls_fingerprint, fp, 32, d)) != HM_OK)
        return rc;
    vi->address = f[2];
    if (f[3])
        vi->name = f[3];
    *out = vi;
    return HM_OK;
}

static int build_validators_update(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_opts_t *o,
                                   wallet_diag_t *d)
{
    Hallmark__UpdateValidators *b =
        NEW(a, Hallmark__UpdateValidators, HALLMARK__UPDATE_VALIDATORS__INIT);
    int rc;
    if (!b)
        return oom(d);
    size_t n = wallet_opt_count(o, "add");
    if (n > WALLET_MAX_LIST) {
        wallet_diag_set(d, "--add given more than %d times", WALLET_MAX_LIST);
        return HM_ERR_INVALID;
    }
    if (n) {
        b->add = wallet_arena_alloc(a, n * sizeof *b->add);
        if (!b->add)
            return oom(d);
        for (size_t i = 0; i < n; i++) {
            if ((rc = parse_validator(a, &b->add[i], wallet_opt_nth(o, "add", i), d)) != HM_OK)
                return rc;
            for (size_t j = 0; j < i; j++)
                if (memcmp(b->add[j]->pubkey.data, b->add[i]->pubkey.data, 32) == 0) {
                    wallet_diag_set(d, "--add: a validator key is given twice");
                    return HM_ERR_INVALID;
                }
        }
        b->n_add = n;
    }
    if ((rc = opt_key_list(a, &b->remove, &b->n_remove, o, "remove", d)) != HM_OK)
        return rc;
    if (b->n_add == 0 && b->n_remove == 0) {
        wallet_diag_set(d, "give at least one --add or --remove");
        return HM_ERR_INVALID;
    }
    for (size_t i = 0; i < b->n_add; i++)
        for (size_t j = 0; j < b->n_remove; j++)
            if (memcmp(b->add[i]->pubkey.data, b->remove[j].data, 32) == 0) {
                wallet_diag_set(d, "a validator key is both added and removed");
                return HM_ERR_INVALID;
            }
    if ((rc = opt_u64(&b->effective_height, o, "effective-height", d)) != HM_OK)
        return rc;
    if (b->effective_height == 0) {
        wallet_diag_set(d, "--effective-height must be a future height (> 0)");
        return HM_ERR_INVALID;
    }
    tx->body_case = HALLMARK__TX__BODY_UPDATE_VALIDATORS;
    tx->update_validators = b;
    return HM_OK;
}

/* -------------------------------------------------------------- table */

static const wallet_txkind_t KINDS_TABLE[] = {
    {"identity", "register", "register a new Global ID (the GID is derived and recorded)",
     HALLMARK__TX__BODY_REGISTER_IDENTITY, false, OPTS_ID_REGISTER, build_id_register},
    {"identity", "rotate", "replace an identity's controller keys",
     HALLMARK__TX__BODY_ROTATE_KEYS, true, OPTS_ID_ROTATE, build_id_rotate},
    {"identity", "accredit", "grant roles and capabilities (accreditors only)",
     HALLMARK__TX__BODY_ACCREDIT, true, OPTS_ID_ACCREDIT, build_id_accredit},
    {"identity", "suspend", "suspend an identity (accreditors only)", HALLMARK__TX__BODY_SUSPEND,
     true, OPTS_ID_SUSPEND, build_id_suspend},
    {"identity", "revoke", "revoke an identity for good (accreditors only)",
     HALLMARK__TX__BODY_REVOKE_IDENTITY, true, OPTS_ID_SUSPEND, build_id_revoke},
    {"recipe", "register", "register a recipe by the SHA-256 of its document",
     HALLMARK__TX__BODY_REGISTER_RECIPE, true, OPTS_RECIPE_REGISTER, build_recipe_register},
    {"recipe", "transfer", "hand a recipe to a new owner", HALLMARK__TX__BODY_TRANSFER_RECIPE, true,
     OPTS_RECIPE_TRANSFER, build_recipe_transfer},
    {"recipe", "deprecate", "deprecate a recipe (no new licences)",
     HALLMARK__TX__BODY_DEPRECATE_RECIPE, true, OPTS_RECIPE_DEPRECATE, build_recipe_deprecate},
    {"licence", "grant", "licence a manufacturer to make a recipe",
     HALLMARK__TX__BODY_GRANT_LICENCE, true, OPTS_LICENCE_GRANT, build_licence_grant},
    {"licence", "revoke", "revoke a licence", HALLMARK__TX__BODY_REVOKE_LICENCE, true,
     OPTS_LICENCE_REVOKE, build_licence_revoke},
    {"certificate", "mint", "mint a quality certificate for a production batch",
     HALLMARK__TX__BODY_MINT_CERTIFICATE, true, OPTS_CERT_MINT, build_cert_mint},
    {"certificate", "add-parts", "add part serials to a certificate",
     HALLMARK__TX__BODY_ADD_PARTS, true, OPTS_CERT_ADD_PARTS, build_cert_add_parts},
    {"certificate", "co-sign", "co-sign a certificate as an inspector",
     HALLMARK__TX__BODY_COSIGN_CERTIFICATE, true, OPTS_CERT_COSIGN, build_cert_cosign},
    {"certificate", "revoke", "revoke a certificate (recall)",
     HALLMARK__TX__BODY_REVOKE_CERTIFICATE, true, OPTS_CERT_REVOKE, build_cert_revoke},
    {"part", "transfer", "hand parts over to another holder", HALLMARK__TX__BODY_TRANSFER_CUSTODY,
     true, OPTS_PART_TRANSFER, build_part_transfer},
    {"part", "assemble", "assemble component parts into a parent part",
     HALLMARK__TX__BODY_ASSEMBLE, true, OPTS_PART_ASSEMBLE, build_part_assemble},
    {"part", "inspect", "record an inspection of a part", HALLMARK__TX__BODY_RECORD_INSPECTION,
     true, OPTS_PART_INSPECT, build_part_inspect},
    {"part", "scrap", "scrap parts", HALLMARK__TX__BODY_SCRAP, true, OPTS_PART_SCRAP,
     build_part_scrap},
    {"validators", "update", "change the validator set (needs 2f+1 validator co-signatures)",
     HALLMARK__TX__BODY_UPDATE_VALIDATORS, false, OPTS_VALIDATORS_UPDATE,
     build_validators_update},
};

const wallet_txkind_t *wallet_txkinds(size_t *n)
{
    *n = sizeof KINDS_TABLE / sizeof KINDS_TABLE[0];
    return KINDS_TABLE;
}

const wallet_txkind_t *wallet_txkind_find(const char *group, const char *action)
{
    size_t n;
    const wallet_txkind_t *k = wallet_txkinds(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].group, group) == 0 && strcmp(k[i].action, action) == 0)
            return &k[i];
    return NULL;
}

bool wallet_txgroup_exists(const char *group)
{
    size_t n;
    const wallet_txkind_t *k = wallet_txkinds(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].group, group) == 0)
            return true;
    return false;
}

void wallet_tx_init(Hallmark__Tx *tx, const wallet_txhead_t *h)
{
    *tx = (Hallmark__Tx)HALLMARK__TX__INIT;
    tx->chain_id.data = (uint8_t *)h->chain_id;
    tx->chain_id.len = HM_CHAIN_ID_LEN;
    tx->signer.data = (uint8_t *)h->signer;
    tx->signer.len = HM_PUBKEY_LEN;
    tx->nonce = h->nonce;
    if (h->has_actor) {
        tx->actor.data = (uint8_t *)h->actor;
        tx->actor.len = HM_GID_LEN;
    }
}

int wallet_tx_build(wallet_arena_t *a, Hallmark__Tx *tx, const wallet_txkind_t *k,
                    const wallet_opts_t *o, wallet_diag_t *d)
{
    int rc = k->build(a, tx, o, d);
    if (rc == HM_OK && tx->body_case != k->body_case) {
        wallet_diag_set(d, "internal: builder for %s %s set the wrong body", k->group, k->action);
        rc = HM_ERR_STATE;
    }
    return rc;
}

int wallet_tx_sign(uint8_t **out, size_t *out_len, uint8_t txid[32], const Hallmark__Tx *tx,
                   const uint8_t seckey[HM_SECKEY_LEN], wallet_diag_t *d)
{
    int rc = hm_tx_sign(out, out_len, txid, tx, seckey);
    if (rc == HM_ERR_TOO_LARGE)
        wallet_diag_set(d, "the transaction is larger than %u bytes (split the serials across "
                           "several transactions)",
                        HM_MAX_TX_BYTES);
    else if (rc == HM_ERR_INVALID)
        wallet_diag_set(d, "the key does not match the transaction's signer");
    else if (rc != HM_OK)
        wallet_diag_set(d, "signing failed: %s", hm_strerror(rc));
    return rc;
}
