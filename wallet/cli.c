/* wallet/cli — see cli.h. */
#include "wallet/cli.h"

#include <stdlib.h>
#include <string.h>

static const wallet_opt_spec_t *find_long(const wallet_opt_spec_t *const *specs, const char *name,
                                          size_t n)
{
    for (size_t t = 0; specs[t]; t++)
        for (const wallet_opt_spec_t *s = specs[t]; s->name; s++)
            if (strlen(s->name) == n && strncmp(s->name, name, n) == 0)
                return s;
    return NULL;
}

static const wallet_opt_spec_t *find_short(const wallet_opt_spec_t *const *specs, char c)
{
    for (size_t t = 0; specs[t]; t++)
        for (const wallet_opt_spec_t *s = specs[t]; s->name; s++)
            if (s->short_name && s->short_name == c)
                return s;
    return NULL;
}

static int add_val(wallet_opts_t *o, const wallet_opt_spec_t *s, const char *v, wallet_diag_t *d)
{
    if (!(s->flags & WALLET_OPT_REPEAT))
        for (size_t i = 0; i < o->n_vals; i++)
            if (o->vals[i].spec == s) {
                wallet_diag_set(d, "--%s given more than once", s->name);
                return HM_ERR_INVALID;
            }
    if (o->n_vals == o->cap_vals) {
        size_t cap = o->cap_vals ? 2 * o->cap_vals : 16;
        struct wallet_opt_val *p = realloc(o->vals, cap * sizeof *p);
        if (!p) {
            wallet_diag_set(d, "out of memory");
            return HM_ERR_NOMEM;
        }
        o->vals = p;
        o->cap_vals = cap;
    }
    o->vals[o->n_vals].spec = s;
    o->vals[o->n_vals].value = v;
    o->n_vals++;
    return HM_OK;
}

int wallet_opts_parse(wallet_opts_t *o, const wallet_opt_spec_t *const *specs, int argc,
                      char **argv, wallet_diag_t *d)
{
    memset(o, 0, sizeof *o);
    size_t nt = 0;
    for (; specs[nt]; nt++) {
        if (nt + 1 >= WALLET_MAX_SPECS) {
            wallet_diag_set(d, "internal: too many option tables");
            return HM_ERR_INVALID;
        }
        o->specs[nt] = specs[nt];
    }
    o->pos = calloc((size_t)(argc > 0 ? argc : 1), sizeof *o->pos);
    if (!o->pos) {
        wallet_diag_set(d, "out of memory");
        return HM_ERR_NOMEM;
    }
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            o->pos[o->n_pos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = true;
            continue;
        }
        const wallet_opt_spec_t *s;
        const char *inline_val = NULL;
        char shown[48];
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            s = find_long(o->specs, name, n);
            if (eq)
                inline_val = eq + 1;
            snprintf(shown, sizeof shown, "--%.*s", (int)(n > 40 ? 40 : n), name);
        } else {
            s = a[2] == '\0' ? find_short(o->specs, a[1]) : NULL;
            snprintf(shown, sizeof shown, "%.40s", a);
        }
        if (!s) {
            wallet_diag_set(d, "unknown option %s (see --help)", shown);
            return HM_ERR_INVALID;
        }
        const char *v = NULL;
        if (s->arg) {
            if (inline_val) {
                v = inline_val;
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else {
                wallet_diag_set(d, "--%s needs a value (%s)", s->name, s->arg);
                return HM_ERR_INVALID;
            }
        } else if (inline_val) {
            wallet_diag_set(d, "--%s takes no value", s->name);
            return HM_ERR_INVALID;
        }
        int rc = add_val(o, s, v, d);
        if (rc != HM_OK)
            return rc;
    }
    if (o->help)
        return HM_OK;
    for (size_t t = 0; o->specs[t]; t++)
        for (const wallet_opt_spec_t *s = o->specs[t]; s->name; s++)
            if ((s->flags & WALLET_OPT_REQUIRED) && !wallet_opt_has(o, s->name)) {
                wallet_diag_set(d, "--%s is required (see --help)", s->name);
                return HM_ERR_INVALID;
            }
    return HM_OK;
}

void wallet_opts_free(wallet_opts_t *o)
{
    free(o->vals);
    free(o->pos);
    memset(o, 0, sizeof *o);
}

const char *wallet_opt(const wallet_opts_t *o, const char *name)
{
    for (size_t i = o->n_vals; i-- > 0;)
        if (strcmp(o->vals[i].spec->name, name) == 0)
            return o->vals[i].value;
    return NULL;
}

bool wallet_opt_has(const wallet_opts_t *o, const char *name)
{
    for (size_t i = 0; i < o->n_vals; i++)
        if (strcmp(o->vals[i].spec->name, name) == 0)
            return true;
    return false;
}

size_t wallet_opt_count(const wallet_opts_t *o, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < o->n_vals; i++)
        if (strcmp(o->vals[i].spec->name, name) == 0)
            n++;
    return n;
}

const char *wallet_opt_nth(const wallet_opts_t *o, const char *name, size_t k)
{
    for (size_t i = 0; i < o->n_vals; i++)
        if (strcmp(o->vals[i].spec->name, name) == 0 && k-- == 0)
            return o->vals[i].value;
    return NULL;
}

void wallet_opts_print_help(FILE *f, const wallet_opt_spec_t *const *specs)
{
    fputs("Options:\n", f);
    for (size_t t = 0; specs[t]; t++)
        for (const wallet_opt_spec_t *s = specs[t]; s->name; s++) {
            char left[80];
            int n = snprintf(left, sizeof left, "  %s%c%s--%s%s%s", s->short_name ? "-" : "",
                             s->short_name ? s->short_name : ' ', s->short_name ? ", " : " ",
                             s->name, s->arg ? " " : "", s->arg ? s->arg : "");
            if (!s->short_name) /* keep long options aligned */
                n = snprintf(left, sizeof left, "      --%s%s%s", s->name, s->arg ? " " : "",
                             s->arg ? s->arg : "");
            const char *req = (s->flags & WALLET_OPT_REQUIRED) ? " (required)"
                              : (s->flags & WALLET_OPT_REPEAT) ? " (repeatable)"
                                                                : "";
            if (n > 30)
                fprintf(f, "%s\n%32s%s%s\n", left, "", s->help, req);
            else
                fprintf(f, "%-32s%s%s\n", left, s->help, req);
        }
    fprintf(f, "%-32s%s\n", "  -h, --help", "show this help");
}
