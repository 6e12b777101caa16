/* wallet/rpcclient — a small blocking HTTP/1.1 client for the node's JSON API
 * (DESIGN §9), on plain sockets: one request per connection
 * ("Connection: close"), Content-Length request bodies, responses framed by
 * Content-Length, chunked transfer coding or connection close, a cap on the
 * response size, connect and read timeouts, and a bearer token.
 *
 * TLS is not supported yet: an "https://" URL is refused with a clear
 * message (a node exposed beyond localhost needs a TLS-terminating proxy or
 * an SSH tunnel until then).
 *
 * Everything the server sends is untrusted: the parser is a pure function
 * over bytes (rpcc_parse_response), tested against canned responses.
 * Depends on lib/ and the C library only; never on node/. */
#ifndef HM_WALLET_RPCCLIENT_H
#define HM_WALLET_RPCCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "wallet/util.h"

#define RPCC_DEFAULT_URL "http://127.0.0.1:7701" /* hallmarkd's default rpc_bind */
#define RPCC_ENV_URL "HALLMARK_NODE"
#define RPCC_ENV_TOKEN "HALLMARK_RPC_TOKEN"
/* Response header section cap and default body cap (DESIGN §3 RPC body). */
#define RPCC_MAX_HEADER_BYTES (16u * 1024u)
#define RPCC_DEFAULT_MAX_BODY (4u * 1024u * 1024u)
#define RPCC_MAX_TOKEN 512

typedef struct {
    char host[256]; /* without brackets for IPv6 literals */
    char port[8];
    char base[256]; /* path prefix without a trailing '/', may be "" */
} rpcc_url_t;

/* Parse "http://HOST[:PORT][/PREFIX]" (HOST may be "[v6]"; PORT defaults to
 * 80). Refuses https, user-info, queries, fragments and stray characters. */
int rpcc_url_parse(rpcc_url_t *out, const char *url, wallet_diag_t *d) HM_WUR;

/* A client: where to connect, the token and limits. Fill with
 * rpcc_client_init; release with rpcc_client_clear (wipes the token). */
typedef struct {
    rpcc_url_t url;
    char token[RPCC_MAX_TOKEN + 1]; /* "" = no Authorization header */
    int connect_timeout_ms;
    int io_timeout_ms; /* per read/write wait */
    size_t max_body;
} rpcc_client_t;

/* url NULL: $HALLMARK_NODE or RPCC_DEFAULT_URL. token NULL or "": none.
 * A token must be printable ASCII without spaces (it goes in a header). */
int rpcc_client_init(rpcc_client_t *c, const char *url, const char *token,
                     wallet_diag_t *d) HM_WUR;
void rpcc_client_clear(rpcc_client_t *c);

/* Read a cookie file: its first line is "USER:SECRET" (hallmarkd writes
 * "__cookie__:<hex>", as bitcoind does) and the bearer token is SECRET; a
 * line without ':' is the token itself. Out: token (RPCC_MAX_TOKEN+1 bytes;
 * the caller wipes it). */
int rpcc_read_cookie(char token[RPCC_MAX_TOKEN + 1], const char *path, wallet_diag_t *d) HM_WUR;

/* A response. body is NUL-terminated (not counted in body_len), owned;
 * free with rpcc_response_free (accepts an empty response). */
typedef struct {
    int status;
    char *body;
    size_t body_len;
} rpcc_response_t;

void rpcc_response_free(rpcc_response_t *r);

/* Parse the bytes received so far. at_eof: the server closed the
 * connection. Returns HM_OK with *complete = true and *out filled when a
 * whole response is there; HM_OK with *complete = false when more bytes are
 * needed (only when !at_eof); HM_ERR_INVALID for a malformed response (or
 * one cut short at EOF, or with bytes after its end), HM_ERR_TOO_LARGE over
 * RPCC_MAX_HEADER_BYTES / max_body, HM_ERR_UNSUPPORTED for framing this
 * client does not speak. */
int rpcc_parse_response(rpcc_response_t *out, bool *complete, const uint8_t *data, size_t len,
                        bool at_eof, size_t max_body, wallet_diag_t *d) HM_WUR;

/* Build the request bytes (exposed for tests). path starts with '/'; the
 * URL's prefix is put before it. body may be NULL (no body). Out: *out. */
int rpcc_build_request(hm_buf_t *out, const rpcc_client_t *c, const char *method,
                       const char *path, const char *body, size_t body_len,
                       wallet_diag_t *d) HM_WUR;

/* Send one request and read the whole response. Any HTTP status is a
 * success here (the caller reads it); errors are transport-level:
 * HM_ERR_IO (connect/send/recv failed, names the address), HM_ERR_TIMEOUT,
 * and the parse errors above. Out: *out on success. */
int rpcc_request(const rpcc_client_t *c, rpcc_response_t *out, const char *method,
                 const char *path, const char *body, size_t body_len, wallet_diag_t *d) HM_WUR;

/* Percent-encode s for one path segment (unreserved characters kept).
 * Out: dst (cap bytes). HM_ERR_TOO_LARGE when it does not fit. */
int rpcc_path_escape(char *dst, size_t cap, const char *s) HM_WUR;

#endif
