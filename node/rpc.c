/* node/rpc — see rpc.h. Owns the evhttp server, the route table and the
 * cookie file; depends on lib/, libevent's evhttp and jansson. */
#include "node/rpc.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "lib/buf.h"
#include "lib/hex.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/seal.h"
#include "node/config.h"

#define MAX_SEGMENTS 16
#define LOG_EVERY_MS 5000 /* repeated limit events: one log line per this */

/* A log line that may repeat under attack: the first is written, the rest
 * within LOG_EVERY_MS counted and reported by the next line. */
typedef struct {
    uint64_t last_ms;
    uint64_t suppressed;
    bool logged;
} ratelog_t;

/* One accepted connection. evhttp owns it; we track it to cap the number
 * and to close those that do not deliver a request in time. We hold a
 * reference on its bufferevent, so bev stays readable after evhttp frees
 * the connection (its callbacks are then NULL): evcon is used only while
 * bev still carries evhttp's callbacks with evcon as their argument. */
typedef struct rpc_conn rpc_conn_t;
struct rpc_conn {
    struct rpc *rpc;
    struct bufferevent *bev;         /* referenced until released */
    struct evhttp_connection *evcon; /* NULL until adopted */
    uint64_t active_ms;              /* accepted, or its last complete request */
    rpc_conn_t *prev, *next;         /* pending list (next only), then the LRU list */
    rpc_conn_t *hnext;               /* chain of the evcon hash */
};

typedef struct {
    rpc_method_t method;
    char *pattern;
    char *segs[MAX_SEGMENTS];
    char pname[MAX_SEGMENTS][48]; /* {name} without braces */
    size_t n_segs;
    rpc_handler_fn fn;
    void *arg;
} route_t;

struct rpc {
    struct event_base *base;
    struct evhttp *http;
    char *bind;
    char *token;
    char *cookie_path;
    char cookie_secret[65];
    bool cookie_written;
    uint16_t port;
    route_t routes[RPC_MAX_ROUTES];
    size_t n_routes;
    uint64_t requests;
    /* connections */
    uint32_t max_conns, timeout_ms;
    struct evconnlistener *listener; /* owned by the evhttp */
    struct event *adopt_ev, *sweep_ev;
    rpc_conn_t *pending;             /* accepted, not yet adopted */
    rpc_conn_t *lru_head, *lru_tail; /* least recently active first */
    rpc_conn_t **htab;               /* evcon -> conn */
    size_t hmask;
    size_t n_conns; /* pending + adopted */
    rpc_request_t *deferred; /* handed out by rpc_defer, not yet answered */
    rpc_conn_t *closing;
    bool closing_seen;
    ratelog_t log_evict, log_timeout;
    uint64_t n_evicted, n_timed_out;
};

struct rpc_request {
    rpc_t *rpc;
    struct evhttp_request *req;
    bool replied;
    const char *pnames[RPC_MAX_PARAMS];
    char *pvalues[RPC_MAX_PARAMS];
    size_t n_params;
    struct evkeyvalq query;
    bool query_parsed;
    uint8_t *body;
    size_t body_len;
    json_t *json;
    /* rpc_defer: on the original, handed_off; the heap copy is deferred,
     * linked in rpc->deferred while the server lives (rpc NULL after), and
     * gone once evhttp has freed (or will free) its evhttp_request. */
    bool handed_off, deferred, gone;
    struct evhttp_connection *evcon;
    rpc_request_t *dprev, *dnext;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Whether to write a line about n more events now; when not, they are
 * counted. *suppressed gets how many were counted since the last line. */
static bool ratelog_ok(ratelog_t *rl, uint64_t now, uint64_t n, uint64_t *suppressed)
{
    if (rl->logged && now - rl->last_ms < LOG_EVERY_MS) {
        rl->suppressed += n;
        return false;
    }
    *suppressed = rl->suppressed;
    rl->suppressed = 0;
    rl->last_ms = now;
    rl->logged = true;
    return true;
}

/* "; N more <what> since the last line", or "" when none. */
static const char *ratelog_more(char *buf, size_t len, uint64_t more, const char *what)
{
    buf[0] = '\0';
    if (more)
        snprintf(buf, len, "; %llu more %s since the last line", (unsigned long long)more, what);
    return buf;
}

/* Split a path into segments (in place copy). Returns count or -1. */
static int split_path(char *copy, char **segs, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    if (copy[0] != '/')
        return -1;
    for (char *s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (n >= max)
            return -1;
        segs[n++] = s;
    }
    return (int)n;
}

int rpc_new(rpc_t **out, const rpc_options_t *opt)
{
    int rc = HM_ERR_NOMEM;
    rpc_t *r = calloc(1, sizeof *r);
    if (!r)
        goto done;
    r->base = opt->base;
    if (!(r->bind = strdup(opt->bind ? opt->bind : "127.0.0.1:7701")))
        goto done;
    if (opt->token && *opt->token && !(r->token = strdup(opt->token)))
        goto done;
    if (opt->cookie_path && !(r->cookie_path = strdup(opt->cookie_path)))
        goto done;
    r->max_conns = opt->max_connections ? opt->max_connections : RPC_DEFAULT_MAX_CONNECTIONS;
    r->timeout_ms = opt->request_timeout_ms ? opt->request_timeout_ms : RPC_DEFAULT_TIMEOUT_MS;
    *out = r;
    r = NULL;
    rc = HM_OK;
done:
    rpc_free(r);
    return rc;
}

int rpc_route(rpc_t *r, rpc_method_t method, const char *pattern, rpc_handler_fn fn, void *arg)
{
    if (r->n_routes >= RPC_MAX_ROUTES || !pattern || !fn)
        return HM_ERR_LIMIT;
    route_t *rt = &r->routes[r->n_routes];
    memset(rt, 0, sizeof *rt);
    if (!(rt->pattern = strdup(pattern)))
        return HM_ERR_NOMEM;
    int n = split_path(rt->pattern, rt->segs, MAX_SEGMENTS);
    size_t params = 0;
    bool bad = n < 0;
    for (int i = 0; i < n; i++) {
        size_t sl = strlen(rt->segs[i]);
        if (rt->segs[i][0] != '{')
            continue;
        params++;
        if (sl < 3 || sl - 2 >= sizeof rt->pname[i] || rt->segs[i][sl - 1] != '}')
            bad = true;
        else
            snprintf(rt->pname[i], sizeof rt->pname[i], "%.*s", (int)(sl - 2), rt->segs[i] + 1);
    }
    if (bad || params > RPC_MAX_PARAMS) {
        free(rt->pattern);
        return HM_ERR_INVALID;
    }
    rt->n_segs = (size_t)n;
    rt->method = method;
    rt->fn = fn;
    rt->arg = arg;
    r->n_routes++;
    return HM_OK;
}

/* ---- replies --------------------------------------------------------- */

static void deferred_unlink(rpc_request_t *d)
{
    if (d->rpc) {
        if (d->dprev)
            d->dprev->dnext = d->dnext;
        else
            d->rpc->deferred = d->dnext;
        if (d->dnext)
            d->dnext->dprev = d->dprev;
    }
    d->rpc = NULL;
    d->dprev = d->dnext = NULL;
}

static void send_reply_now(rpc_request_t *q, int status, const char *ctype, const void *data,
                           size_t len);

static void send_reply(rpc_request_t *q, int status, const char *ctype, const void *data,
                       size_t len)
{
    if (!q->deferred) {
        send_reply_now(q, status, ctype, data, len);
        return;
    }
    /* a deferred handle: answered (unless the client is gone) and freed */
    if (!q->gone && !q->replied)
        send_reply_now(q, status, ctype, data, len);
    deferred_unlink(q);
    free(q);
}

rpc_request_t *rpc_defer(rpc_request_t *q)
{
    if (q->replied || q->deferred || q->handed_off)
        return NULL;
    rpc_request_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->rpc = q->rpc;
    d->req = q->req;
    d->deferred = true;
    d->evcon = evhttp_request_get_connection(q->req);
    d->dnext = d->rpc->deferred;
    if (d->dnext)
        d->dnext->dprev = d;
    d->rpc->deferred = d;
    q->handed_off = true;
    return d;
}

void rpc_abandon(rpc_request_t *d)
{
    if (!d)
        return;
    rpc_reply_error(d, 503, "unavailable", "the node is shutting down"); /* frees d */
}

/* evhttp is closing evcon: its deferred requests still attached to it are
 * freed with it (a request whose client left while it was deferred was
 * detached by evhttp first and stays ours: replying frees it). */
static void deferred_conn_closed(rpc_t *r, struct evhttp_connection *evcon)
{
    for (rpc_request_t *d = r->deferred; d; d = d->dnext)
        if (d->evcon == evcon && !d->gone && evhttp_request_get_connection(d->req) != NULL)
            d->gone = true;
}

static void send_reply_now(rpc_request_t *q, int status, const char *ctype, const void *data,
                           size_t len)
{
    if (q->replied)
        return;
    q->replied = true;
    struct evbuffer *buf = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(q->req);
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (buf && len)
        evbuffer_add(buf, data, len);
    const char *reason = NULL;
    switch (status) {
    case 200: reason = "OK"; break;
    case 400: reason = "Bad Request"; break;
    case 401: reason = "Unauthorized"; break;
    case 404: reason = "Not Found"; break;
    case 405: reason = "Method Not Allowed"; break;
    case 413: reason = "Payload Too Large"; break;
    case 500: reason = "Internal Server Error"; break;
    case 503: reason = "Service Unavailable"; break;
    default: reason = "Status"; break;
    }
    evhttp_send_reply(q->req, status, reason, buf);
    if (buf)
        evbuffer_free(buf);
}

void rpc_reply_raw(rpc_request_t *q, int status, const char *content_type, const void *data,
                   size_t len)
{
    send_reply(q, status, content_type, data, len);
}

void rpc_reply_json(rpc_request_t *q, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!s) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}\n";
        send_reply(q, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    size_t n = strlen(s);
    hm_buf_t b = {0};
    if (hm_buf_append(&b, s, n) == HM_OK && hm_buf_append_u8(&b, '\n') == HM_OK)
        send_reply(q, status, "application/json", b.data, b.len);
    else
        send_reply(q, status, "application/json", s, n);
    hm_buf_free(&b);
    free(s);
}

void rpc_reply_error(rpc_request_t *q, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* json_string needs UTF-8; messages may quote client bytes */
    json_t *m = json_string(msg);
    if (!m)
        m = json_string("(message not UTF-8)");
    rpc_reply_json(q, status, json_pack("{s:{s:s, s:o}}", "error", "code", code, "message", m));
}

/* ---- request accessors ----------------------------------------------- */

const char *rpc_param(const rpc_request_t *q, const char *name)
{
    for (size_t i = 0; i < q->n_params; i++)
        if (!strcmp(q->pnames[i], name))
            return q->pvalues[i];
    return NULL;
}

const char *rpc_query(rpc_request_t *q, const char *name)
{
    if (!q->query_parsed) {
        const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(q->req));
        TAILQ_INIT(&q->query);
        if (qs && evhttp_parse_query_str(qs, &q->query) != 0)
            evhttp_clear_headers(&q->query);
        q->query_parsed = true;
    }
    return evhttp_find_header(&q->query, name);
}

const uint8_t *rpc_body(const rpc_request_t *q, size_t *len)
{
    *len = q->body_len;
    return q->body;
}

json_t *rpc_body_json(rpc_request_t *q)
{
    if (q->json)
        return q->json;
    if (!q->body_len) {
        rpc_reply_error(q, 400, "invalid_json", "a JSON body is required");
        return NULL;
    }
    json_error_t je;
    q->json = json_loadb((const char *)q->body, q->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!q->json)
        rpc_reply_error(q, 400, "invalid_json", "JSON error at line %d column %d: %s", je.line,
                        je.column, je.text);
    return q->json;
}

uint64_t rpc_requests_total(const rpc_t *r)
{
    return r->requests;
}

/* ---- connections ------------------------------------------------------- */

static size_t conn_slot(const rpc_t *r, const struct evhttp_connection *evcon)
{
    uint64_t x = (uint64_t)(uintptr_t)evcon;
    x = (x >> 4) * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 32) & r->hmask;
}

static rpc_conn_t *conn_find(rpc_t *r, const struct evhttp_connection *evcon)
{
    if (!r->htab || !evcon)
        return NULL;
    for (rpc_conn_t *c = r->htab[conn_slot(r, evcon)]; c; c = c->hnext)
        if (c->evcon == evcon)
            return c;
    return NULL;
}

static void lru_unlink(rpc_t *r, rpc_conn_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (r->lru_head == c)
        r->lru_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else if (r->lru_tail == c)
        r->lru_tail = c->prev;
    c->prev = c->next = NULL;
}

static void lru_append(rpc_t *r, rpc_conn_t *c)
{
    c->next = NULL;
    c->prev = r->lru_tail;
    if (r->lru_tail)
        r->lru_tail->next = c;
    else
        r->lru_head = c;
    r->lru_tail = c;
}

/* Whether evhttp still runs c: it clears bev's callbacks when it frees the
 * connection (bev itself stays valid: we hold a reference). */
static bool conn_alive(const rpc_conn_t *c)
{
    bufferevent_event_cb ecb = NULL;
    void *arg = NULL;
    bufferevent_getcb(c->bev, NULL, NULL, &ecb, &arg);
    return ecb && arg && arg == (void *)c->evcon;
}

/* Whether a reply deferred by rpc_defer is still owed on evcon: the node
 * is working on its answer, the client is not idle. */
static bool conn_awaits_reply(const rpc_t *r, const struct evhttp_connection *evcon)
{
    for (const rpc_request_t *d = r->deferred; d; d = d->dnext)
        if (d->evcon == evcon && !d->gone)
            return true;
    return false;
}

/* Forget an adopted c (evhttp has closed it or is closing it). */
static void conn_release(rpc_t *r, rpc_conn_t *c)
{
    for (rpc_conn_t **pp = &r->htab[conn_slot(r, c->evcon)]; *pp; pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    lru_unlink(r, c);
    r->n_conns--;
    bufferevent_decref(c->bev);
    free(c);
}

static void conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
    rpc_conn_t *c = arg;
    rpc_t *r = c->rpc;
    deferred_conn_closed(r, evcon);
    if (c == r->closing)
        r->closing_seen = true;
    conn_release(r, c);
}

/* Close an adopted connection (never from inside its own callbacks). */
static void conn_close(rpc_t *r, rpc_conn_t *c)
{
    if (!conn_alive(c)) {
        conn_release(r, c);
        return;
    }
    r->closing = c;
    r->closing_seen = false;
    deferred_conn_closed(r, c->evcon); /* evhttp may not call closecb */
    evhttp_connection_free(c->evcon);
    if (!r->closing_seen)
        conn_release(r, c); /* evhttp did not report the close: release it here */
    r->closing = NULL;
}

/* evhttp makes each accepted connection's bufferevent here: we count the
 * connection, hold a reference on the bufferevent and adopt it (learn its
 * evhttp_connection) once evhttp has set it up, in conns_adopt_cb. */
static struct bufferevent *conn_bev_cb(struct event_base *base, void *arg)
{
    rpc_t *r = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    /* libevent reads at most 16 KiB per callback by default: a 500 KiB
     * POST /v1/txs then takes ~30 loop passes, any of which may wait for a
     * block's execution (doc/benchmarks.md) */
    if (bev) {
        (void)bufferevent_set_max_single_read(bev, RPC_MAX_SINGLE_IO);
        (void)bufferevent_set_max_single_write(bev, RPC_MAX_SINGLE_IO);
    }
    rpc_conn_t *c = bev ? calloc(1, sizeof *c) : NULL;
    if (!c)
        return bev; /* out of memory: evhttp serves it untracked, or drops it */
    c->rpc = r;
    c->bev = bev;
    c->active_ms = now_ms();
    bufferevent_incref(bev);
    c->next = r->pending;
    r->pending = c;
    r->n_conns++;
    /* An accept burst stops here until the adoption below has made room. */
    if (r->n_conns >= (size_t)r->max_conns + RPC_ACCEPT_BURST && r->listener)
        evconnlistener_disable(r->listener);
    event_active(r->adopt_ev, EV_TIMEOUT, 0);
    return bev;
}

static void conns_adopt_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rpc_t *r = arg;
    rpc_conn_t *c;
    while ((c = r->pending)) {
        r->pending = c->next;
        c->next = NULL;
        bufferevent_event_cb ecb = NULL;
        void *evcon = NULL;
        bufferevent_getcb(c->bev, NULL, NULL, &ecb, &evcon);
        if (!ecb || !evcon) { /* evhttp has dropped it already */
            r->n_conns--;
            bufferevent_decref(c->bev);
            free(c);
            continue;
        }
        c->evcon = evcon;
        rpc_conn_t *stale = conn_find(r, c->evcon);
        if (stale) /* a connection evhttp freed without telling; its memory is reused */
            conn_release(r, stale);
        size_t slot = conn_slot(r, c->evcon);
        c->hnext = r->htab[slot];
        r->htab[slot] = c;
        lru_append(r, c);
        evhttp_connection_set_closecb(c->evcon, conn_closed_cb, c);
    }
    uint64_t now = now_ms();
    while (r->n_conns > r->max_conns) {
        rpc_conn_t *old = r->lru_head; /* the least recently active not owed a reply */
        while (old && old != r->lru_tail && conn_awaits_reply(r, old->evcon))
            old = old->next;
        if (!old || old == r->lru_tail)
            break; /* all busy: the accept burst guard bounds the excess */
        uint64_t more = 0;
        char mbuf[96];
        r->n_evicted++;
        if (ratelog_ok(&r->log_evict, now, 1, &more))
            HM_LOG_WARN("rpc",
                        "%zu connections, over rpc_max_connections %u: closing the least recently "
                        "active one (idle %llu ms)%s",
                        r->n_conns, r->max_conns, (unsigned long long)(now - old->active_ms),
                        ratelog_more(mbuf, sizeof mbuf, more, "closed so"));
        conn_close(r, old);
    }
    if (r->listener && r->n_conns < (size_t)r->max_conns + RPC_ACCEPT_BURST)
        evconnlistener_enable(r->listener);
}

/* Close connections that have not delivered a complete request within
 * timeout_ms of connecting or of their previous request (slowloris, idle
 * keep-alive); release those evhttp closed without telling; resume an
 * accept paused by an error. */
static void conns_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rpc_t *r = arg;
    uint64_t now = now_ms();
    size_t closed = 0;
    rpc_conn_t *next;
    for (rpc_conn_t *c = r->lru_head; c; c = next) {
        next = c->next;
        if (!conn_alive(c)) {
            conn_release(r, c);
            continue;
        }
        if (now - c->active_ms < r->timeout_ms)
            continue;
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
            continue; /* a reply still going out: evhttp's write timeout bounds it */
        if (now - c->active_ms < 2 * (uint64_t)r->timeout_ms && conn_awaits_reply(r, c->evcon))
            continue; /* a deferred reply still being worked on: more time */
        conn_close(r, c);
        closed++;
    }
    if (closed) {
        uint64_t more = 0;
        char mbuf[96];
        r->n_timed_out += closed;
        if (ratelog_ok(&r->log_timeout, now, closed, &more))
            HM_LOG_WARN("rpc",
                        "closed %zu connection%s without a complete request within "
                        "rpc_request_timeout_ms %u%s",
                        closed, closed == 1 ? "" : "s", r->timeout_ms,
                        ratelog_more(mbuf, sizeof mbuf, more, "closed so"));
    }
    ratelog_t *logs[2] = {&r->log_evict, &r->log_timeout};
    for (int i = 0; i < 2; i++)
        if (logs[i]->suppressed && now - logs[i]->last_ms >= LOG_EVERY_MS) {
            HM_LOG_WARN("rpc", "%llu more connections closed %s in the last %d s",
                        (unsigned long long)logs[i]->suppressed,
                        i == 0 ? "over rpc_max_connections" : "for rpc_request_timeout_ms",
                        LOG_EVERY_MS / 1000);
            logs[i]->suppressed = 0;
            logs[i]->last_ms = now;
        }
    if (r->listener && r->n_conns < (size_t)r->max_conns + RPC_ACCEPT_BURST)
        evconnlistener_enable(r->listener);
}

/* accept() failed for another reason than a retry (EMFILE, ENFILE,
 * ENOBUFS): the listener's socket stays readable, so pause it rather than
 * spin; conns_sweep_cb resumes it. arg is the evhttp (the listener's
 * owner), so the rate limit of this line is per process. */
static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    static ratelog_t rl; /* only the event loop thread runs this */
    int err = EVUTIL_SOCKET_ERROR();
    uint64_t more = 0;
    char mbuf[96];
    evconnlistener_disable(lev);
    if (ratelog_ok(&rl, now_ms(), 1, &more))
        HM_LOG_WARN("rpc", "cannot accept a JSON API connection: %s; pausing the listener%s",
                    evutil_socket_error_to_string(err),
                    ratelog_more(mbuf, sizeof mbuf, more, "failures"));
}

size_t rpc_connection_count(const rpc_t *r)
{
    return r->n_conns;
}

/* ---- dispatch ------------------------------------------------------------ */

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict base64 into out (NUL-terminated). Returns length or -1. */
static int b64decode(char *out, size_t outlen, const char *in)
{
    size_t n = strlen(in), o = 0;
    if (n % 4)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = in[i + k] == '=' ? -2 : b64val((unsigned char)in[i + k]);
            if (v[k] == -1 || (v[k] == -2 && (i + 4 != n || k < 2)))
                return -1;
        }
        if (v[2] == -2 && v[3] != -2)
            return -1;
        uint32_t x = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
                     ((uint32_t)(v[2] < 0 ? 0 : v[2]) << 6) | (uint32_t)(v[3] < 0 ? 0 : v[3]);
        int bytes = v[2] == -2 ? 1 : v[3] == -2 ? 2 : 3;
        if (o + (size_t)bytes + 1 > outlen)
            return -1;
        out[o++] = (char)(x >> 16);
        if (bytes > 1)
            out[o++] = (char)(x >> 8);
        if (bytes > 2)
            out[o++] = (char)x;
    }
    out[o] = '\0';
    return (int)o;
}

static bool secret_eq(const char *given, const char *want)
{
    size_t n = strlen(want);
    return want[0] && strlen(given) == n && hm_ct_equal(given, want, n);
}

static bool auth_ok(rpc_t *r, struct evhttp_request *req)
{
    if (!r->token && !r->cookie_written)
        return true;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!h || strlen(h) > 1024)
        return false;
    if (!strncmp(h, "Bearer ", 7)) {
        const char *t = h + 7;
        return (r->token && secret_eq(t, r->token)) ||
               (r->cookie_written && secret_eq(t, r->cookie_secret));
    }
    if (!strncmp(h, "Basic ", 6) && r->cookie_written) {
        char dec[512];
        int n = b64decode(dec, sizeof dec, h + 6);
        bool ok = false;
        if (n > 0 && !memchr(dec, '\0', (size_t)n)) {
            size_t ul = strlen(RPC_COOKIE_USER);
            ok = !strncmp(dec, RPC_COOKIE_USER ":", ul + 1) &&
                 secret_eq(dec + ul + 1, r->cookie_secret);
        }
        hm_wipe(dec, sizeof dec);
        return ok;
    }
    return false;
}

static void request_cleanup(rpc_request_t *q)
{
    for (size_t i = 0; i < q->n_params; i++)
        free(q->pvalues[i]);
    if (q->query_parsed)
        evhttp_clear_headers(&q->query);
    json_decref(q->json);
    free(q->body);
}

static void dispatch(struct evhttp_request *req, void *arg)
{
    rpc_t *r = arg;
    rpc_request_t q;
    memset(&q, 0, sizeof q);
    q.rpc = r;
    q.req = req;
    r->requests++;
    rpc_conn_t *conn = conn_find(r, evhttp_request_get_connection(req));
    if (conn) { /* a complete request: this connection is active */
        conn->active_ms = now_ms();
        lru_unlink(r, conn);
        lru_append(r, conn);
    }

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    char *copy = NULL;
    char *segs[MAX_SEGMENTS];
    int n;

    if (!auth_ok(r, req)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"hallmarkd\"");
        rpc_reply_error(&q, 401, "unauthorized", "missing or invalid credentials");
        goto done;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t blen = in ? evbuffer_get_length(in) : 0;
    if (blen > HM_MAX_RPC_BODY_BYTES) {
        rpc_reply_error(&q, 413, "body_too_large", "request body over %u bytes",
                        HM_MAX_RPC_BODY_BYTES);
        goto done;
    }
    if (blen) {
        if (!(q.body = malloc(blen))) {
            rpc_reply_error(&q, 500, "internal", "out of memory");
            goto done;
        }
        evbuffer_remove(in, q.body, blen);
        q.body_len = blen;
    }
    if (!path || !*path)
        path = "/";
    if (strlen(path) > 2048 || !(copy = strdup(path)) ||
        (n = split_path(copy, segs, MAX_SEGMENTS)) < 0) {
        rpc_reply_error(&q, 404, "not_found", "no such endpoint");
        goto done;
    }
    unsigned allowed = 0;
    for (size_t i = 0; i < r->n_routes; i++) {
        route_t *rt = &r->routes[i];
        if (rt->n_segs != (size_t)n)
            continue;
        bool match = true;
        for (size_t s = 0; s < rt->n_segs && match; s++)
            if (rt->segs[s][0] != '{' && strcmp(rt->segs[s], segs[s]))
                match = false;
        if (!match)
            continue;
        bool method_ok = (rt->method == RPC_GET && cmd == EVHTTP_REQ_GET) ||
                         (rt->method == RPC_POST && cmd == EVHTTP_REQ_POST);
        if (!method_ok) {
            allowed |= rt->method;
            continue;
        }
        for (size_t s = 0; s < rt->n_segs; s++) {
            if (rt->segs[s][0] != '{')
                continue;
            char *v = evhttp_uridecode(segs[s], 0, NULL);
            if (!v) {
                rpc_reply_error(&q, 500, "internal", "out of memory");
                goto done;
            }
            q.pnames[q.n_params] = rt->pname[s];
            q.pvalues[q.n_params++] = v;
        }
        rt->fn(rt->arg, &q);
        if (!q.replied && !q.handed_off) {
            HM_LOG_ERR("rpc", "handler for %s did not reply", rt->pattern);
            rpc_reply_error(&q, 500, "internal", "the handler did not reply");
        }
        goto done;
    }
    if (allowed) {
        char allow[32];
        snprintf(allow, sizeof allow, "%s%s%s", (allowed & RPC_GET) ? "GET" : "",
                 (allowed & RPC_GET) && (allowed & RPC_POST) ? ", " : "",
                 (allowed & RPC_POST) ? "POST" : "");
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
        rpc_reply_error(&q, 405, "method_not_allowed", "use %s for this endpoint", allow);
        goto done;
    }
    rpc_reply_error(&q, 404, "not_found", "no such endpoint");
done:
    free(copy);
    request_cleanup(&q);
}

static int write_cookie(rpc_t *r)
{
    uint8_t secret[32];
    char line[sizeof RPC_COOKIE_USER + 1 + 64 + 1];
    int rc = hm_random(secret, sizeof secret);
    if (rc != HM_OK)
        return rc;
    hm_hex_encode(r->cookie_secret, secret, sizeof secret);
    hm_wipe(secret, sizeof secret);
    int n = snprintf(line, sizeof line, "%s:%s", RPC_COOKIE_USER, r->cookie_secret);
    rc = hm_seal_write_atomic(r->cookie_path, (const uint8_t *)line, (size_t)n);
    hm_wipe(line, sizeof line);
    if (rc != HM_OK) {
        HM_LOG_ERR("rpc", "cannot write the cookie file %s", r->cookie_path);
        return rc;
    }
    r->cookie_written = true;
    return HM_OK;
}

int rpc_start(rpc_t *r)
{
    char host[256];
    uint16_t port;
    int rc;
    if (config_split_hostport(r->bind, host, sizeof host, &port) != HM_OK) {
        HM_LOG_ERR("rpc", "rpc_bind '%s' is not host:port", r->bind);
        return HM_ERR_INVALID;
    }
    size_t slots = 64;
    while (slots < r->max_conns + RPC_ACCEPT_BURST)
        slots *= 2;
    if (!(r->htab = calloc(slots, sizeof *r->htab)))
        return HM_ERR_NOMEM;
    r->hmask = slots - 1;
    uint32_t sweep_ms = r->timeout_ms / 4;
    sweep_ms = sweep_ms < 50 ? 50 : sweep_ms > RPC_SWEEP_MAX_MS ? RPC_SWEEP_MAX_MS : sweep_ms;
    struct timeval sweep = {(time_t)(sweep_ms / 1000), (suseconds_t)((sweep_ms % 1000) * 1000)};
    /* evhttp's own read/write inactivity timeout: twice ours, so that the
     * sweep (which logs) closes silent clients first; it still bounds a
     * client that stops reading its reply. */
    uint64_t idle_ms = 2 * (uint64_t)r->timeout_ms;
    struct timeval idle = {(time_t)(idle_ms / 1000), (suseconds_t)((idle_ms % 1000) * 1000)};
    if (!(r->adopt_ev = event_new(r->base, -1, 0, conns_adopt_cb, r)) ||
        !(r->sweep_ev = event_new(r->base, -1, EV_PERSIST, conns_sweep_cb, r)) ||
        event_add(r->sweep_ev, &sweep) != 0)
        return HM_ERR_NOMEM;
    if (!(r->http = evhttp_new(r->base)))
        return HM_ERR_NOMEM;
    /* A body over the cap is answered 413 from its declared length; what
     * the client still sends is read and dropped (lingering close), so it
     * sees the 413 rather than a reset, and nothing is buffered. */
    evhttp_set_max_body_size(r->http, HM_MAX_RPC_BODY_BYTES);
    evhttp_set_max_headers_size(r->http, RPC_MAX_HEADERS_BYTES);
    evhttp_set_flags(r->http, EVHTTP_SERVER_LINGERING_CLOSE);
    evhttp_set_timeout_tv(r->http, &idle);
    evhttp_set_allowed_methods(r->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(r->http, dispatch, r);
    evhttp_set_bevcb(r->http, conn_bev_cb, r);

    /* Our own listener: a deep backlog for connection bursts, and an error
     * callback so that running out of descriptors pauses accept(). */
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%u", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0 || !res) {
        HM_LOG_ERR("rpc", "cannot resolve rpc_bind '%s'", r->bind);
        return HM_ERR_IO;
    }
    r->listener = evconnlistener_new_bind(
        r->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        RPC_BACKLOG, res->ai_addr, (int)res->ai_addrlen);
    freeaddrinfo(res);
    if (!r->listener) {
        HM_LOG_ERR("rpc", "cannot bind the JSON API to %s: %s", r->bind,
                   evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return HM_ERR_IO;
    }
    if (!evhttp_bind_listener(r->http, r->listener)) {
        evconnlistener_free(r->listener);
        r->listener = NULL;
        return HM_ERR_NOMEM;
    }
    evconnlistener_set_error_cb(r->listener, accept_error_cb);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(evconnlistener_get_fd(r->listener), (struct sockaddr *)&ss, &sl) == 0)
        r->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    if (r->cookie_path && (rc = write_cookie(r)) != HM_OK)
        return rc;
    HM_LOG_INFO("rpc", "JSON API on %s (auth:%s%s; at most %u connections, %u ms per request)",
                r->bind, r->token ? " token" : "",
                r->cookie_written ? " cookie" : (r->token ? "" : " none"), r->max_conns,
                r->timeout_ms);
    return HM_OK;
}

uint16_t rpc_port(const rpc_t *r)
{
    return r->port;
}

void rpc_free(rpc_t *r)
{
    if (!r)
        return;
    /* deferred requests whose client left are ours to free; the others go
     * with their connections (closecb marks them gone) */
    for (rpc_request_t *d = r->deferred; d; d = d->dnext)
        if (!d->gone && evhttp_request_get_connection(d->req) == NULL) {
            evhttp_request_free(d->req);
            d->gone = true;
        }
    if (r->http)
        evhttp_free(r->http); /* frees the listener and every connection (closecb) */
    while (r->deferred) {
        r->deferred->gone = true;
        deferred_unlink(r->deferred);
    }
    while (r->pending) {
        rpc_conn_t *c = r->pending;
        r->pending = c->next;
        bufferevent_decref(c->bev);
        free(c);
    }
    while (r->lru_head)
        conn_release(r, r->lru_head);
    if (r->adopt_ev)
        event_free(r->adopt_ev);
    if (r->sweep_ev)
        event_free(r->sweep_ev);
    free(r->htab);
    if (r->cookie_written && unlink(r->cookie_path) != 0)
        HM_LOG_WARN("rpc", "cannot remove the cookie file %s", r->cookie_path);
    for (size_t i = 0; i < r->n_routes; i++)
        free(r->routes[i].pattern);
    if (r->token)
        hm_wipe(r->token, strlen(r->token));
    hm_wipe(r->cookie_secret, sizeof r->cookie_secret);
    free(r->token);
    free(r->cookie_path);
    free(r->bind);
    free(r);
}
