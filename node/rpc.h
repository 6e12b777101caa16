/* node/rpc — the JSON-over-HTTP server plumbing (DESIGN §9) on libevent's
 * evhttp and jansson: bind, authentication, a route table with path
 * parameters, method checks, body caps, JSON bodies, JSON errors.
 * Endpoints are handlers the node registers (rpc_route); this module knows
 * none of them.
 *
 * Every error is an HTTP status and {"error": {"code": str, "message": str}}:
 *   400 bad_request / invalid_json, 401 unauthorized, 404 not_found,
 *   405 method_not_allowed (with Allow), 413 body_too_large,
 *   500 internal (a handler that did not reply).
 *
 * Limits (each closes or refuses with a log line; the server goes on):
 *   - a body over HM_MAX_RPC_BODY_BYTES: evhttp answers 413 (its own HTML
 *     page, not JSON) as soon as the declared length is known, reading and
 *     discarding what the client still sends, never buffering it; headers
 *     over RPC_MAX_HEADERS_BYTES are refused the same way;
 *   - a connection must deliver a complete request within
 *     request_timeout_ms of connecting or of its previous request, else it
 *     is closed (slowloris, idle keep-alive); one owed a deferred reply
 *     (rpc_defer) gets twice that; twice that bounds a stalled write;
 *   - at most max_connections connections: a new one closes the least
 *     recently active one (the connection with the oldest accept or last
 *     complete request; one owed a deferred reply is passed over), so a
 *     flood of silent connections cannot lock out a client that sends a
 *     request;
 *   - when accept() fails (out of file descriptors) the listener pauses
 *     until the next sweep (at most RPC_SWEEP_MAX_MS) instead of spinning.
 * Descriptors: at most max_connections + RPC_ACCEPT_BURST. Memory: about
 * max_connections x (headers cap + body cap) in the worst case, a few KiB
 * per silent connection.
 *
 * Authentication, when a token or a cookie is configured, is checked before
 * routing (unauthenticated clients learn nothing about endpoints):
 *   Authorization: Bearer <token>           (rpc_token)
 *   Authorization: Bearer <cookie secret>   (the hex after "__cookie__:")
 *   Authorization: Basic base64("__cookie__:<secret>")  (bitcoind style)
 * The cookie file <datadir>/.cookie holds "__cookie__:<64 hex>", mode 0600,
 * written by rpc_start and removed by rpc_free.
 *
 * Threading: evhttp runs on the event_base's thread; handlers run there and
 * reply exactly once — before returning (a handler that does not reply gets
 * a 500 sent for it; a second reply is ignored), or later through
 * rpc_defer. Depends on lib/, libevent (evhttp), jansson. */
#ifndef HM_NODE_RPC_H
#define HM_NODE_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/codec.h"
#include "lib/err.h"

struct event_base;

#define RPC_MAX_HEADERS_BYTES (64u * 1024u)
#define RPC_MAX_ROUTES 64
#define RPC_MAX_PARAMS 4
#define RPC_COOKIE_USER "__cookie__"
#define RPC_DEFAULT_MAX_CONNECTIONS 128
#define RPC_DEFAULT_TIMEOUT_MS 30000
#define RPC_BACKLOG 1024
#define RPC_ACCEPT_BURST 64 /* accepted beyond max_connections before the cap is applied */
#define RPC_SWEEP_MAX_MS 1000
#define RPC_MAX_SINGLE_IO (1u << 20) /* bytes per socket read/write callback (libevent: 16 KiB) */

typedef struct rpc rpc_t;
typedef struct rpc_request rpc_request_t;

typedef enum { RPC_GET = 1, RPC_POST = 2 } rpc_method_t;

/* Handle one request. req is valid until the reply. */
typedef void (*rpc_handler_fn)(void *arg, rpc_request_t *req);

typedef struct {
    struct event_base *base; /* borrowed; outlives the server */
    const char *bind;        /* host:port (numeric host) */
    const char *token;       /* NULL or "" = no token */
    const char *cookie_path; /* NULL = no cookie auth; else written 0600 at start */
    uint32_t max_connections;    /* 0 = RPC_DEFAULT_MAX_CONNECTIONS */
    uint32_t request_timeout_ms; /* 0 = RPC_DEFAULT_TIMEOUT_MS */
} rpc_options_t;

/* Out: *out (caller frees with rpc_free). Copies the options' strings. */
int rpc_new(rpc_t **out, const rpc_options_t *opt) HM_WUR;

/* Register a handler for method + pattern. A pattern is an absolute path
 * whose segments are literals or {name} (one non-empty segment, percent-
 * decoded, read with rpc_param), e.g. "/v1/records/{kind}/{id}".
 * Routes are matched in registration order. fn/arg are borrowed. */
int rpc_route(rpc_t *r, rpc_method_t method, const char *pattern, rpc_handler_fn fn,
              void *arg) HM_WUR;

/* Bind and start serving; writes the cookie file when configured.
 * HM_ERR_IO when the address cannot be bound. */
int rpc_start(rpc_t *r) HM_WUR;

/* The bound port (after rpc_start). */
uint16_t rpc_port(const rpc_t *r);

/* Stop serving (pending requests are dropped), remove the cookie file.
 * Accepts NULL. */
void rpc_free(rpc_t *r);

/* Requests served so far, by final status class (for metrics/tests). */
uint64_t rpc_requests_total(const rpc_t *r);

/* Connections open now (accepted and not yet closed). */
size_t rpc_connection_count(const rpc_t *r);

/* --- inside a handler ------------------------------------------------- */

/* The value of path parameter {name}; NULL when the route has none. */
const char *rpc_param(const rpc_request_t *req, const char *name);

/* A decoded query-string parameter; NULL when absent. Borrowed until reply. */
const char *rpc_query(rpc_request_t *req, const char *name);

/* The raw body (NULL/0 when empty). Borrowed until reply. */
const uint8_t *rpc_body(const rpc_request_t *req, size_t *len);

/* The body parsed as JSON. Returns NULL after replying 400 itself when the
 * body is missing or not valid JSON (the handler then just returns).
 * Borrowed: freed at reply. */
json_t *rpc_body_json(rpc_request_t *req);

/* Reply with a JSON value (steals body; NULL = 500). */
void rpc_reply_json(rpc_request_t *req, int status, json_t *body);

/* Reply {"error": {"code": code, "message": ...}}. */
void rpc_reply_error(rpc_request_t *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reply with arbitrary bytes (e.g. Prometheus text, protobuf). */
void rpc_reply_raw(rpc_request_t *req, int status, const char *content_type, const void *data,
                   size_t len);

/* Answer later: returns a deferred handle for req (NULL on allocation
 * failure: reply to req as usual). The handler then returns without
 * replying; one later rpc_reply_* on the handle (on the loop's thread)
 * answers the client and frees the handle — or rpc_abandon frees it,
 * answering 503 if the client still waits. Only the reply functions may be
 * used on the handle (params and body went with the handler). When the
 * client goes away, or the server is freed, first, the reply is discarded
 * but the handle stays valid until that reply or rpc_abandon. */
rpc_request_t *rpc_defer(rpc_request_t *req);
void rpc_abandon(rpc_request_t *deferred);

#endif
