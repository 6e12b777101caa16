/* wallet/rpcclient — see rpcclient.h. */
#include "wallet/rpcclient.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/keys.h"

/* ------------------------------------------------------------------ URL */

int rpcc_url_parse(rpcc_url_t *out, const char *url, wallet_diag_t *d)
{
    rpcc_url_t u;
    memset(&u, 0, sizeof u);
    const char *p;
    if (!url) {
        wallet_diag_set(d, "node URL missing");
        return HM_ERR_INVALID;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        wallet_diag_set(d, "node URL %.200s: https is not supported yet (use http:// to a local "
                           "node, or a TLS tunnel)",
                        url);
        return HM_ERR_UNSUPPORTED;
    }
    if (strncasecmp(url, "http://", 7) != 0) {
        wallet_diag_set(d, "node URL %.200s: expected http://HOST[:PORT]", url);
        return HM_ERR_INVALID;
    }
    p = url + 7;
    const char *host_end;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end || host_end == p + 1 || (size_t)(host_end - p - 1) >= sizeof u.host)
            goto bad;
        memcpy(u.host, p + 1, (size_t)(host_end - p - 1));
        for (const char *q = p + 1; q < host_end; q++)
            if (!strchr("0123456789abcdefABCDEF:.", *q))
                goto bad;
        p = host_end + 1;
    } else {
        size_t n = strcspn(p, ":/");
        if (n == 0 || n >= sizeof u.host)
            goto bad;
        for (size_t i = 0; i < n; i++) {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_'))
                goto bad;
        }
        memcpy(u.host, p, n);
        p += n;
    }
    if (*p == ':') {
        p++;
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 5)
            goto bad;
        memcpy(u.port, p, n);
        long port = strtol(u.port, NULL, 10);
        if (port < 1 || port > 65535)
            goto bad;
        p += n;
    } else {
        memcpy(u.port, "80", 3);
    }
    if (*p == '/') {
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
            n--;
        if (n >= sizeof u.base)
            goto bad;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#')
                goto bad;
        }
        memcpy(u.base, p, n);
    } else if (*p) {
        goto bad;
    }
    *out = u;
    return HM_OK;
bad:
    wallet_diag_set(d, "node URL %.200s: expected http://HOST[:PORT][/PREFIX]", url);
    return HM_ERR_INVALID;
}

/* --------------------------------------------------------------- client */

static int check_token(const char *t, wallet_diag_t *d)
{
    size_t n = strlen(t);
    if (n > RPCC_MAX_TOKEN) {
        wallet_diag_set(d, "RPC token longer than %d characters", RPCC_MAX_TOKEN);
        return HM_ERR_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f) {
            wallet_diag_set(d, "RPC token: only printable ASCII without spaces is allowed");
            return HM_ERR_INVALID;
        }
    }
    return HM_OK;
}

int rpcc_client_init(rpcc_client_t *c, const char *url, const char *token, wallet_diag_t *d)
{
    memset(c, 0, sizeof *c);
    if (!url || !*url) {
        const char *env = getenv(RPCC_ENV_URL);
        url = env && *env ? env : RPCC_DEFAULT_URL;
    }
    int rc = rpcc_url_parse(&c->url, url, d);
    if (rc != HM_OK)
        return rc;
    if (token && *token) {
        if ((rc = check_token(token, d)) != HM_OK)
            return rc;
        snprintf(c->token, sizeof c->token, "%s", token);
    }
    c->connect_timeout_ms = 10000;
    c->io_timeout_ms = 30000;
    c->max_body = RPCC_DEFAULT_MAX_BODY;
    return HM_OK;
}

void rpcc_client_clear(rpcc_client_t *c)
{
    hm_wipe(c->token, sizeof c->token);
}

int rpcc_read_cookie(char token[RPCC_MAX_TOKEN + 1], const char *path, wallet_diag_t *d)
{
    hm_buf_t b = {0};
    int rc = wallet_read_file(&b, path, 4096, "RPC cookie file", d);
    if (rc != HM_OK)
        goto done;
    size_t n = 0;
    while (n < b.len && b.data[n] != '\n' && b.data[n] != '\r')
        n++;
    if (n == 0 || n > RPCC_MAX_TOKEN) {
        wallet_diag_set(d, "RPC cookie file %s: expected one line of 1 to %d characters", path,
                        RPCC_MAX_TOKEN);
        rc = HM_ERR_INVALID;
        goto done;
    }
    /* "user:secret" (hallmarkd, like bitcoind): the bearer token is the secret */
    const uint8_t *colon = memchr(b.data, ':', n);
    size_t off = colon ? (size_t)(colon - b.data) + 1 : 0;
    if (off == n) {
        wallet_diag_set(d, "RPC cookie file %s: empty secret", path);
        rc = HM_ERR_INVALID;
        goto done;
    }
    memcpy(token, b.data + off, n - off);
    token[n - off] = '\0';
    rc = check_token(token, d);
    if (rc != HM_OK) {
        wallet_diag_prefix(d, "RPC cookie file %s", path);
        hm_wipe(token, RPCC_MAX_TOKEN + 1);
    }
done:
    hm_buf_free_secure(&b);
    return rc;
}

void rpcc_response_free(rpcc_response_t *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->status = 0;
}

int rpcc_path_escape(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (keep) {
            if (o + 1 >= cap)
                return HM_ERR_TOO_LARGE;
            dst[o++] = (char)*p;
        } else {
            if (o + 3 >= cap)
                return HM_ERR_TOO_LARGE;
            dst[o++] = '%';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
        }
    }
    if (o >= cap)
        return HM_ERR_TOO_LARGE;
    dst[o] = '\0';
    return HM_OK;
}

/* ------------------------------------------------------------- request */

int rpcc_build_request(hm_buf_t *out, const rpcc_client_t *c, const char *method,
                       const char *path, const char *body, size_t body_len, wallet_diag_t *d)
{
    char line[1024];
    int rc = HM_OK;
    hm_buf_reset(out);
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            wallet_diag_set(d, "request path contains a space or control character");
            return HM_ERR_INVALID;
        }
    bool v6 = strchr(c->url.host, ':') != NULL;
    int n = snprintf(line, sizeof line,
                     "%s %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: hallmark-wallet/"
                     "0.1\r\nAccept: application/json\r\nConnection: close\r\n",
                     method, c->url.base, path, v6 ? "[" : "", c->url.host, v6 ? "]" : "",
                     c->url.port);
    if (n < 0 || (size_t)n >= sizeof line) {
        wallet_diag_set(d, "request path too long");
        return HM_ERR_TOO_LARGE;
    }
    rc |= hm_buf_append(out, line, (size_t)n);
    if (c->token[0]) {
        rc |= hm_buf_append_str(out, "Authorization: Bearer ");
        rc |= hm_buf_append_str(out, c->token);
        rc |= hm_buf_append_str(out, "\r\n");
    }
    if (body) {
        n = snprintf(line, sizeof line,
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
        rc |= hm_buf_append(out, line, (size_t)n);
    }
    rc |= hm_buf_append_str(out, "\r\n");
    if (body)
        rc |= hm_buf_append(out, body, body_len);
    if (rc != HM_OK) {
        wallet_diag_set(d, "out of memory");
        hm_buf_free_secure(out);
        return HM_ERR_NOMEM;
    }
    return HM_OK;
}

/* -------------------------------------------------------------- parsing */

/* Find "\r\n" in [p, end); return pointer to '\r' or NULL. */
static const uint8_t *find_crlf(const uint8_t *p, const uint8_t *end)
{
    for (; p + 1 < end; p++)
        if (p[0] == '\r' && p[1] == '\n')
            return p;
    return NULL;
}

static bool header_is(const uint8_t *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp((const char *)name, want, n) == 0;
}

/* Trim optional whitespace around a header value. */
static void trim_ows(const uint8_t **v, size_t *n)
{
    while (*n && (**v == ' ' || **v == '\t')) {
        (*v)++;
        (*n)--;
    }
    while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
        (*n)--;
}

/* Strict decimal, no sign, at most 19 digits. */
static bool parse_len(const uint8_t *v, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

/* Decode a chunked body starting at p. Returns HM_OK with *done when the
 * terminating chunk and trailers are there (and *end_out the byte after),
 * HM_OK with !*done when more bytes are needed. Appends the data to body. */
static int dechunk(hm_buf_t *body, bool *done, const uint8_t **end_out, const uint8_t *p,
                   const uint8_t *end, size_t max_body, wallet_diag_t *d)
{
    *done = false;
    hm_buf_reset(body);
    for (;;) {
        const uint8_t *eol = find_crlf(p, end);
        if (!eol) {
            if (end - p > 64)
                goto bad;
            return HM_OK;
        }
        /* chunk-size [; extensions] */
        uint64_t size = 0;
        const uint8_t *q = p;
        size_t digits = 0;
        for (; q < eol; q++) {
            int v;
            if (*q >= '0' && *q <= '9')
                v = *q - '0';
            else if (*q >= 'a' && *q <= 'f')
                v = *q - 'a' + 10;
            else if (*q >= 'A' && *q <= 'F')
                v = *q - 'A' + 10;
            else
                break;
            if (++digits > 15)
                goto bad;
            size = size * 16 + (uint64_t)v;
        }
        if (digits == 0 || (q < eol && *q != ';' && *q != ' ' && *q != '\t'))
            goto bad;
        p = eol + 2;
        if (size == 0) {
            /* trailers, then an empty line */
            for (;;) {
                const uint8_t *t = find_crlf(p, end);
                if (!t)
                    return HM_OK;
                if (t == p) {
                    *end_out = t + 2;
                    *done = true;
                    return HM_OK;
                }
                p = t + 2;
            }
        }
        if (size > max_body || body->len + size > max_body) {
            wallet_diag_set(d, "node response body larger than %zu bytes", max_body);
            return HM_ERR_TOO_LARGE;
        }
        if ((uint64_t)(end - p) < size + 2)
            return HM_OK;
        if (p[size] != '\r' || p[size + 1] != '\n')
            goto bad;
        if (hm_buf_append(body, p, (size_t)size) != HM_OK) {
            wallet_diag_set(d, "out of memory");
            return HM_ERR_NOMEM;
        }
        p += size + 2;
    }
bad:
    wallet_diag_set(d, "malformed chunked response from the node");
    return HM_ERR_INVALID;
}

int rpcc_parse_response(rpcc_response_t *out, bool *complete, const uint8_t *data, size_t len,
                        bool at_eof, size_t max_body, wallet_diag_t *d)
{
    const uint8_t *end = data + len;
    const uint8_t *hdr_end = NULL;
    hm_buf_t body = {0};
    int rc = HM_ERR_INVALID;
    *complete = false;

    for (const uint8_t *p = data; p + 3 < end; p++)
        if (p[0] == '\r' && p[1] == '\n' && p[2] == '\r' && p[3] == '\n') {
            hdr_end = p;
            break;
        }
    if (!hdr_end) {
        if (len > RPCC_MAX_HEADER_BYTES) {
            wallet_diag_set(d, "node response headers larger than %u bytes",
                            RPCC_MAX_HEADER_BYTES);
            return HM_ERR_TOO_LARGE;
        }
        if (at_eof) {
            wallet_diag_set(d, len ? "truncated or malformed HTTP response from the node"
                                   : "the node closed the connection without a response");
            return HM_ERR_INVALID;
        }
        return HM_OK;
    }
    if ((size_t)(hdr_end - data) > RPCC_MAX_HEADER_BYTES) {
        wallet_diag_set(d, "node response headers larger than %u bytes", RPCC_MAX_HEADER_BYTES);
        return HM_ERR_TOO_LARGE;
    }
    /* status line: HTTP/1.x SSS[ reason] */
    const uint8_t *eol = find_crlf(data, hdr_end + 2);
    size_t sl = (size_t)(eol - data);
    if (sl < 12 || memcmp(data, "HTTP/1.", 7) != 0 || (data[7] != '0' && data[7] != '1') ||
        data[8] != ' ' || data[9] < '1' || data[9] > '5' || data[10] < '0' || data[10] > '9' ||
        data[11] < '0' || data[11] > '9' || (sl > 12 && data[12] != ' ')) {
        wallet_diag_set(d, "not an HTTP/1.x response from the node (bad status line)");
        return HM_ERR_INVALID;
    }
    int status = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
    if (status < 200) {
        wallet_diag_set(d, "unexpected informational HTTP status %d from the node", status);
        return HM_ERR_UNSUPPORTED;
    }
    for (const uint8_t *q = data; q < eol; q++)
        if (*q < 0x20 && *q != '\t')
            goto bad_header;
    /* headers */
    bool have_cl = false, chunked = false;
    uint64_t cl = 0;
    const uint8_t *p = eol + 2;
    while (p < hdr_end + 2) {
        const uint8_t *e = find_crlf(p, hdr_end + 2);
        if (!e)
            goto bad_header;
        if (e == p)
            break;
        const uint8_t *colon = memchr(p, ':', (size_t)(e - p));
        if (!colon || colon == p)
            goto bad_header;
        for (const uint8_t *q = p; q < colon; q++)
            if (*q <= 0x20 || *q >= 0x7f)
                goto bad_header;
        for (const uint8_t *q = colon + 1; q < e; q++)
            if ((*q < 0x20 && *q != '\t') || *q == 0x7f)
                goto bad_header;
        const uint8_t *v = colon + 1;
        size_t vn = (size_t)(e - v);
        trim_ows(&v, &vn);
        size_t nn = (size_t)(colon - p);
        if (header_is(p, nn, "Content-Length")) {
            uint64_t x;
            if (!parse_len(v, vn, &x) || (have_cl && x != cl)) {
                wallet_diag_set(d, "bad Content-Length in the node's response");
                return HM_ERR_INVALID;
            }
            cl = x;
            have_cl = true;
        } else if (header_is(p, nn, "Transfer-Encoding")) {
            if (vn == 7 && strncasecmp((const char *)v, "chunked", 7) == 0) {
                chunked = true;
            } else {
                wallet_diag_set(d, "unsupported Transfer-Encoding in the node's response");
                return HM_ERR_UNSUPPORTED;
            }
        }
        p = e + 2;
    }
    if (have_cl && chunked) {
        wallet_diag_set(d, "node response has both Content-Length and chunked encoding");
        return HM_ERR_INVALID;
    }
    const uint8_t *b = hdr_end + 4;
    size_t avail = (size_t)(end - b);
    if (status == 204 || status == 304) {
        have_cl = true;
        cl = 0;
        chunked = false;
    }
    if (have_cl) {
        if (cl > max_body) {
            wallet_diag_set(d, "node response body larger than %zu bytes", max_body);
            return HM_ERR_TOO_LARGE;
        }
        if (avail < cl) {
            if (at_eof) {
                wallet_diag_set(d, "node response cut short (%zu of %llu body bytes)", avail,
                                (unsigned long long)cl);
                return HM_ERR_INVALID;
            }
            return HM_OK;
        }
        if (avail > cl) {
            wallet_diag_set(d, "node response has bytes after its body");
            return HM_ERR_INVALID;
        }
        if (hm_buf_append(&body, b, (size_t)cl) != HM_OK)
            goto nomem;
    } else if (chunked) {
        bool done;
        const uint8_t *after = NULL;
        rc = dechunk(&body, &done, &after, b, end, max_body, d);
        if (rc != HM_OK)
            goto fail;
        if (!done) {
            hm_buf_free(&body);
            if (at_eof) {
                wallet_diag_set(d, "node response cut short (chunked body incomplete)");
                return HM_ERR_INVALID;
            }
            return HM_OK;
        }
        if (after != end) {
            wallet_diag_set(d, "node response has bytes after its body");
            rc = HM_ERR_INVALID;
            goto fail;
        }
    } else {
        if (avail > max_body) {
            wallet_diag_set(d, "node response body larger than %zu bytes", max_body);
            return HM_ERR_TOO_LARGE;
        }
        if (!at_eof)
            return HM_OK;
        if (hm_buf_append(&body, b, avail) != HM_OK)
            goto nomem;
    }
    if (hm_buf_append_u8(&body, 0) != HM_OK)
        goto nomem;
    size_t total = 0;
    out->status = status;
    out->body = (char *)hm_buf_detach(&body, &total);
    out->body_len = total - 1;
    *complete = true;
    return HM_OK;
bad_header:
    wallet_diag_set(d, "malformed header in the node's response");
    return HM_ERR_INVALID;
nomem:
    wallet_diag_set(d, "out of memory");
    rc = HM_ERR_NOMEM;
fail:
    hm_buf_free(&body);
    return rc;
}

/* ------------------------------------------------------------ transport */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to become ready for `events` until deadline (monotonic ms). */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return HM_ERR_TIMEOUT;
        struct pollfd pfd = {.fd = fd, .events = events};
        int r = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return HM_ERR_IO;
        if (r > 0)
            return HM_OK;
    }
}

static int connect_to(int *fd_out, const rpcc_client_t *c, wallet_diag_t *d)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(c->url.host, c->url.port, &hints, &res);
    if (g != 0) {
        wallet_diag_set(d, "node %s:%s: cannot resolve: %s", c->url.host, c->url.port,
                        gai_strerror(g));
        return HM_ERR_IO;
    }
    int rc = HM_ERR_IO;
    int err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                err = errno;
                close(fd);
                continue;
            }
            int w = wait_fd(fd, POLLOUT, now_ms() + c->connect_timeout_ms);
            socklen_t sl = sizeof err;
            if (w == HM_ERR_TIMEOUT) {
                err = ETIMEDOUT;
                close(fd);
                continue;
            }
            if (w != HM_OK || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0 || err) {
                if (!err)
                    err = errno;
                close(fd);
                continue;
            }
        }
        *fd_out = fd;
        rc = HM_OK;
        break;
    }
    freeaddrinfo(res);
    if (rc != HM_OK)
        wallet_diag_set(d, "cannot connect to the node at %s:%s: %s (is hallmarkd running? "
                           "see --node)",
                        c->url.host, c->url.port, strerror(err ? err : ECONNREFUSED));
    return rc == HM_OK ? HM_OK : (err == ETIMEDOUT ? HM_ERR_TIMEOUT : HM_ERR_IO);
}

int rpcc_request(const rpcc_client_t *c, rpcc_response_t *out, const char *method,
                 const char *path, const char *body, size_t body_len, wallet_diag_t *d)
{
    hm_buf_t req = {0}, in = {0};
    int fd = -1;
    int rc = rpcc_build_request(&req, c, method, path, body, body_len, d);
    if (rc != HM_OK)
        return rc;
    rc = connect_to(&fd, c, d);
    if (rc != HM_OK)
        goto done;
    /* send */
    size_t off = 0;
    while (off < req.len) {
        rc = wait_fd(fd, POLLOUT, now_ms() + c->io_timeout_ms);
        if (rc != HM_OK)
            goto io_fail;
        ssize_t w = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            rc = HM_ERR_IO;
            goto io_fail;
        }
        off += (size_t)w;
    }
    /* receive until the response is complete or the server closes */
    size_t cap = RPCC_MAX_HEADER_BYTES + c->max_body + 64 * 1024; /* chunk framing slack */
    for (;;) {
        bool complete = false, eof = false;
        rc = wait_fd(fd, POLLIN, now_ms() + c->io_timeout_ms);
        if (rc != HM_OK)
            goto io_fail;
        if (hm_buf_reserve(&in, 16384) != HM_OK) {
            wallet_diag_set(d, "out of memory");
            rc = HM_ERR_NOMEM;
            goto done;
        }
        ssize_t r = recv(fd, in.data + in.len, in.cap - in.len, 0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            rc = HM_ERR_IO;
            goto io_fail;
        }
        if (r == 0)
            eof = true;
        in.len += (size_t)r;
        if (in.len > cap) {
            wallet_diag_set(d, "node response larger than %zu bytes", cap);
            rc = HM_ERR_TOO_LARGE;
            goto done;
        }
        rc = rpcc_parse_response(out, &complete, in.data, in.len, eof, c->max_body, d);
        if (rc != HM_OK || complete)
            goto done;
    }
io_fail:
    if (rc == HM_ERR_TIMEOUT)
        wallet_diag_set(d, "node %s:%s did not answer within %d ms", c->url.host, c->url.port,
                        c->io_timeout_ms);
    else
        wallet_diag_set(d, "talking to the node at %s:%s: %s", c->url.host, c->url.port,
                        strerror(errno));
done:
    if (fd >= 0)
        close(fd);
    hm_buf_free_secure(&req); /* holds the token */
    hm_buf_free(&in);
    return rc;
}
