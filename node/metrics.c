/* node/metrics — see metrics.h. Owns metric storage and the exposition
 * format; depends on lib/ and pthreads only. */
#include "node/metrics.h"

#include <ctype.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { M_COUNTER, M_GAUGE, M_GAUGE_FN, M_HISTOGRAM } metric_kind_t;

struct metric {
    metrics_t *owner;
    metric_kind_t kind;
    char *name;
    char *help;
    uint64_t count;  /* counter value; histogram observation count */
    double value;    /* gauge value; histogram sum */
    metrics_gauge_cb fn;
    void *fn_arg;
    size_t n_bounds;
    double bounds[METRICS_MAX_BUCKETS];
    uint64_t buckets[METRICS_MAX_BUCKETS]; /* non-cumulative; +Inf = count - sum */
};

struct metrics {
    pthread_mutex_t lock;
    metric_t *items[METRICS_MAX];
    size_t n;
};

int metrics_new(metrics_t **out)
{
    metrics_t *m = calloc(1, sizeof *m);
    if (!m)
        return HM_ERR_NOMEM;
    pthread_mutex_init(&m->lock, NULL);
    *out = m;
    return HM_OK;
}

void metrics_free(metrics_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i]->name);
        free(m->items[i]->help);
        free(m->items[i]);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static bool name_ok(const char *s)
{
    if (!s || !*s || !(isalpha((unsigned char)*s) || *s == '_' || *s == ':'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == ':'))
            return false;
    return true;
}

static metric_t *add(metrics_t *m, metric_kind_t kind, const char *name, const char *help)
{
    metric_t *x = NULL;
    if (!m || !name_ok(name))
        return NULL;
    pthread_mutex_lock(&m->lock);
    if (m->n >= METRICS_MAX)
        goto done;
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->items[i]->name, name))
            goto done;
    if (!(x = calloc(1, sizeof *x)) || !(x->name = strdup(name)) ||
        !(x->help = strdup(help ? help : ""))) {
        if (x) {
            free(x->name);
            free(x);
        }
        x = NULL;
        goto done;
    }
    for (char *c = x->help; *c; c++) /* help is one line */
        if (*c == '\n' || *c == '\\')
            *c = ' ';
    x->owner = m;
    x->kind = kind;
    m->items[m->n++] = x;
done:
    pthread_mutex_unlock(&m->lock);
    return x;
}

metric_t *metrics_counter(metrics_t *m, const char *name, const char *help)
{
    return add(m, M_COUNTER, name, help);
}

metric_t *metrics_gauge(metrics_t *m, const char *name, const char *help)
{
    return add(m, M_GAUGE, name, help);
}

metric_t *metrics_gauge_fn(metrics_t *m, const char *name, const char *help, metrics_gauge_cb fn,
                           void *arg)
{
    if (!fn)
        return NULL;
    metric_t *x = add(m, M_GAUGE_FN, name, help);
    if (x) {
        x->fn = fn;
        x->fn_arg = arg;
    }
    return x;
}

metric_t *metrics_histogram(metrics_t *m, const char *name, const char *help,
                            const double *bounds, size_t n)
{
    if (!bounds || n < 1 || n > METRICS_MAX_BUCKETS)
        return NULL;
    for (size_t i = 1; i < n; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;
    metric_t *x = add(m, M_HISTOGRAM, name, help);
    if (x) {
        memcpy(x->bounds, bounds, n * sizeof *bounds);
        x->n_bounds = n;
    }
    return x;
}

void metric_inc(metric_t *c, uint64_t by)
{
    if (!c || c->kind != M_COUNTER)
        return;
    pthread_mutex_lock(&c->owner->lock);
    c->count += by;
    pthread_mutex_unlock(&c->owner->lock);
}

void metric_set(metric_t *g, double v)
{
    if (!g || g->kind != M_GAUGE)
        return;
    pthread_mutex_lock(&g->owner->lock);
    g->value = v;
    pthread_mutex_unlock(&g->owner->lock);
}

void metric_observe(metric_t *h, double v)
{
    if (!h || h->kind != M_HISTOGRAM)
        return;
    pthread_mutex_lock(&h->owner->lock);
    h->count++;
    h->value += v;
    for (size_t i = 0; i < h->n_bounds; i++)
        if (v <= h->bounds[i]) {
            h->buckets[i]++;
            break;
        }
    pthread_mutex_unlock(&h->owner->lock);
}

double metric_value(metric_t *x)
{
    double v = 0;
    if (!x)
        return 0;
    pthread_mutex_lock(&x->owner->lock);
    switch (x->kind) {
    case M_COUNTER: v = (double)x->count; break;
    case M_GAUGE: v = x->value; break;
    case M_GAUGE_FN: v = x->fn(x->fn_arg); break;
    case M_HISTOGRAM: v = (double)x->count; break;
    }
    pthread_mutex_unlock(&x->owner->lock);
    return v;
}

static int appendf(hm_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int appendf(hm_buf_t *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return HM_ERR_INVALID;
    return hm_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

int metrics_render(metrics_t *m, hm_buf_t *out)
{
    int rc = HM_OK;
    static const char *const types[] = {"counter", "gauge", "gauge", "histogram"};
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n && rc == HM_OK; i++) {
        metric_t *x = m->items[i];
        rc = appendf(out, "# HELP %s %s\n# TYPE %s %s\n", x->name, x->help, x->name,
                     types[x->kind]);
        if (rc != HM_OK)
            break;
        switch (x->kind) {
        case M_COUNTER:
            rc = appendf(out, "%s %llu\n", x->name, (unsigned long long)x->count);
            break;
        case M_GAUGE:
            rc = appendf(out, "%s %.17g\n", x->name, x->value);
            break;
        case M_GAUGE_FN:
            rc = appendf(out, "%s %.17g\n", x->name, x->fn(x->fn_arg));
            break;
        case M_HISTOGRAM: {
            uint64_t cum = 0;
            for (size_t b = 0; b < x->n_bounds && rc == HM_OK; b++) {
                cum += x->buckets[b];
                rc = appendf(out, "%s_bucket{le=\"%g\"} %llu\n", x->name, x->bounds[b],
                             (unsigned long long)cum);
            }
            if (rc == HM_OK)
                rc = appendf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n%s_count %llu\n",
                             x->name, (unsigned long long)x->count, x->name, x->value, x->name,
                             (unsigned long long)x->count);
            break;
        }
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}
