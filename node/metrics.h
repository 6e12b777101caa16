/* node/metrics — a small registry of counters, gauges and fixed-bucket
 * histograms rendered as Prometheus text (exposition format 0.0.4) for
 * GET /metrics. Metrics are created once at start-up; updates are
 * thread-safe (one mutex per registry), so verification workers may count
 * too. Names follow DESIGN §9 (hallmark_*). Depends on lib/ only. */
#ifndef HM_NODE_METRICS_H
#define HM_NODE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"

#define METRICS_MAX 64
#define METRICS_MAX_BUCKETS 16

typedef struct metrics metrics_t;
/* A handle into its registry: valid until metrics_free; never freed alone. */
typedef struct metric metric_t;

/* A gauge computed when rendered (e.g. peers connected, read from p2p).
 * Called with the registry lock held, on the thread that renders. */
typedef double (*metrics_gauge_cb)(void *arg);

int metrics_new(metrics_t **out) HM_WUR;
void metrics_free(metrics_t *m);

/* Register a metric. name must match [a-zA-Z_:][a-zA-Z0-9_:]* and be new;
 * name and help are copied. Return the handle, or NULL when the name is
 * invalid or taken, the registry is full, or memory is short. */
metric_t *metrics_counter(metrics_t *m, const char *name, const char *help);
metric_t *metrics_gauge(metrics_t *m, const char *name, const char *help);
metric_t *metrics_gauge_fn(metrics_t *m, const char *name, const char *help, metrics_gauge_cb fn,
                           void *arg);
/* bounds: n (1..METRICS_MAX_BUCKETS) strictly increasing upper bounds; the
 * +Inf bucket is implicit. */
metric_t *metrics_histogram(metrics_t *m, const char *name, const char *help,
                            const double *bounds, size_t n);

/* Updates. Each accepts NULL (a metric that failed to register) and
 * ignores a call of the wrong kind. */
void metric_inc(metric_t *c, uint64_t by);
void metric_set(metric_t *g, double v);
void metric_observe(metric_t *h, double v);

/* Current value of a counter or gauge (tests, status). */
double metric_value(metric_t *x);

/* Append the Prometheus text of every metric to out. */
int metrics_render(metrics_t *m, hm_buf_t *out) HM_WUR;

#endif
