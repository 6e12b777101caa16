/* Unit tests: wallet/rpcclient (URLs, request bytes, response parsing against
 * canned byte strings incl. malformed and oversized ones, a real loopback
 * exchange with a forked one-shot server, timeouts, refused connections)
 * and wallet/nodeapi (the node's JSON answers and errors). */
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/seal.h"
#include "wallet/nodeapi.h"
#include "wallet/rpcclient.h"

static void test_url(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    rpcc_url_t u;
    assert_int_equal(rpcc_url_parse(&u, "http://127.0.0.1:8645", &d), HM_OK);
    assert_string_equal(u.host, "127.0.0.1");
    assert_string_equal(u.port, "8645");
    assert_string_equal(u.base, "");
    assert_int_equal(rpcc_url_parse(&u, "http://node-1.example.com/api/", &d), HM_OK);
    assert_string_equal(u.port, "80");
    assert_string_equal(u.base, "/api");
    assert_int_equal(rpcc_url_parse(&u, "http://[::1]:9000", &d), HM_OK);
    assert_string_equal(u.host, "::1");
    assert_int_equal(rpcc_url_parse(&u, "https://x:1", &d), HM_ERR_UNSUPPORTED);
    assert_non_null(strstr(d.msg, "https is not supported"));
    const char *bad[] = {"127.0.0.1:8645", "http://", "http://h:0", "http://h:65536",
                         "http://h:12x", "http://user@h", "http://h/a?b", "http://h/a b",
                         "ftp://h", "http://[::1", "http://h\r\nX: y"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(rpcc_url_parse(&u, bad[i], &d), HM_ERR_INVALID);
}

static void test_request_bytes(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    rpcc_client_t c;
    hm_buf_t b = {0};
    assert_int_equal(rpcc_client_init(&c, "http://127.0.0.1:8645/pre", "tok123", &d), HM_OK);
    assert_int_equal(rpcc_build_request(&b, &c, "POST", "/v1/tx", "{\"tx\":\"00\"}", 11, &d),
                     HM_OK);
    assert_int_equal(hm_buf_append_u8(&b, 0), HM_OK);
    const char *s = (const char *)b.data;
    assert_non_null(strstr(s, "POST /pre/v1/tx HTTP/1.1\r\n"));
    assert_non_null(strstr(s, "Host: 127.0.0.1:8645\r\n"));
    assert_non_null(strstr(s, "Authorization: Bearer tok123\r\n"));
    assert_non_null(strstr(s, "Content-Length: 11\r\n"));
    assert_non_null(strstr(s, "Connection: close\r\n"));
    assert_non_null(strstr(s, "\r\n\r\n{\"tx\":\"00\"}"));
    assert_int_equal(rpcc_build_request(&b, &c, "GET", "/v1/x y", NULL, 0, &d), HM_ERR_INVALID);
    rpcc_client_clear(&c);
    /* tokens that would inject headers are refused */
    assert_int_equal(rpcc_client_init(&c, NULL, "a\r\nX-Evil: 1", &d), HM_ERR_INVALID);
    assert_int_equal(rpcc_client_init(&c, NULL, "has space", &d), HM_ERR_INVALID);
    /* no token: no Authorization header */
    assert_int_equal(rpcc_client_init(&c, "http://[::1]:1", NULL, &d), HM_OK);
    assert_int_equal(rpcc_build_request(&b, &c, "GET", "/v1/status", NULL, 0, &d), HM_OK);
    assert_int_equal(hm_buf_append_u8(&b, 0), HM_OK);
    assert_null(strstr((const char *)b.data, "Authorization"));
    assert_non_null(strstr((const char *)b.data, "Host: [::1]:1\r\n"));
    hm_buf_free(&b);
    char esc[64];
    assert_int_equal(rpcc_path_escape(esc, sizeof esc, "SN/1 2%"), HM_OK);
    assert_string_equal(esc, "SN%2F1%202%25");
    assert_int_equal(rpcc_path_escape(esc, 4, "abcd"), HM_ERR_TOO_LARGE);
}

static int parse(rpcc_response_t *r, bool *complete, const char *s, size_t len, bool eof,
                 wallet_diag_t *d)
{
    memset(r, 0, sizeof *r);
    return rpcc_parse_response(r, complete, (const uint8_t *)s, len, eof, 1024, d);
}
#define P(s, eof) parse(&r, &complete, (s), sizeof(s) - 1, (eof), &d)

static void test_parse_response(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    rpcc_response_t r;
    bool complete;
    const char okr[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Content-Length: 13\r\n\r\n{\"nonce\": 7}\n";
    assert_int_equal(P(okr, false), HM_OK);
    assert_true(complete);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 13);
    assert_string_equal(r.body, "{\"nonce\": 7}\n");
    rpcc_response_free(&r);
    /* every prefix is "incomplete", never an error or a crash */
    for (size_t i = 0; i < sizeof okr - 1; i++) {
        assert_int_equal(parse(&r, &complete, okr, i, false, &d), HM_OK);
        assert_false(complete);
        /* the same prefix at EOF is a truncated response */
        assert_int_equal(parse(&r, &complete, okr, i, true, &d), HM_ERR_INVALID);
    }
    /* chunked, with an extension and a trailer; case-insensitive names */
    const char ch[] = "HTTP/1.1 404 Not Found\r\ntransfer-encoding: Chunked\r\n\r\n"
                      "4;x=y\r\n{\"er\r\n5\r\nror\":\r\n3\r\n{}}\r\n0\r\nX-T: 1\r\n\r\n";
    assert_int_equal(P(ch, false), HM_OK);
    assert_true(complete);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{\"error\":{}}");
    rpcc_response_free(&r);
    /* no framing: the body runs to EOF */
    const char eofr[] = "HTTP/1.0 500 Oops\r\n\r\nboom";
    assert_int_equal(P(eofr, false), HM_OK);
    assert_false(complete);
    assert_int_equal(P(eofr, true), HM_OK);
    assert_true(complete);
    assert_string_equal(r.body, "boom");
    rpcc_response_free(&r);
    const char nocontent[] = "HTTP/1.1 204 No Content\r\n\r\n";
    assert_int_equal(P(nocontent, false), HM_OK);
    assert_true(complete);
    assert_int_equal(r.body_len, 0);
    rpcc_response_free(&r);

    struct {
        const char *s;
        int rc;
    } bad[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra", HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", HM_ERR_TOO_LARGE},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}", HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
         HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HM_ERR_UNSUPPORTED},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffff\r\n",
         HM_ERR_TOO_LARGE},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nXX", HM_ERR_INVALID},
        {"HTTP/2 200\r\n\r\n", HM_ERR_INVALID},
        {"SSH-2.0-OpenSSH\r\n\r\n", HM_ERR_INVALID},
        {"HTTP/1.1 2000 OK\r\n\r\n", HM_ERR_INVALID},
        {"HTTP/1.1 099 X\r\n\r\n", HM_ERR_INVALID},
        {"HTTP/1.1 100 Continue\r\n\r\n", HM_ERR_UNSUPPORTED},
        {"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", HM_ERR_INVALID},
        {"HTTP/1.1 200 OK\r\nX: a\x01" "b\r\n\r\n", HM_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = parse(&r, &complete, bad[i].s, strlen(bad[i].s), true, &d);
        if (rc != bad[i].rc)
            fail_msg("case %zu: got %d want %d (%s)", i, rc, bad[i].rc, d.msg);
        assert_false(complete);
    }
    /* headers over the cap, with or without their end */
    size_t n = RPCC_MAX_HEADER_BYTES + 100;
    char *big = malloc(n + 64);
    int k = snprintf(big, n + 64, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + k, 'a', n - (size_t)k);
    assert_int_equal(parse(&r, &complete, big, n, false, &d), HM_ERR_TOO_LARGE);
    memcpy(big + n, "\r\n\r\n", 4);
    assert_int_equal(parse(&r, &complete, big, n + 4, true, &d), HM_ERR_TOO_LARGE);
    free(big);
    /* a body to EOF over the cap */
    char *body = malloc(2048 + 32);
    k = snprintf(body, 64, "HTTP/1.1 200 OK\r\n\r\n");
    memset(body + k, 'b', 2048);
    assert_int_equal(parse(&r, &complete, body, (size_t)k + 2048, true, &d), HM_ERR_TOO_LARGE);
    free(body);
}

/* Random bytes never crash the parser (a tiny deterministic fuzz). */
static void test_parse_garbage(void **state)
{
    (void)state;
    uint64_t s = 1234;
    uint8_t buf[512];
    const char *prefix = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 3000; i++) {
        size_t n = (size_t)(i % 500) + 1;
        tu_fill(buf, n, &s);
        if (i % 2) {
            size_t pl = strlen(prefix);
            if (n > pl)
                memcpy(buf, prefix, pl);
        }
        rpcc_response_t r = {0};
        bool complete;
        wallet_diag_t d = {{0}};
        int rc = rpcc_parse_response(&r, &complete, buf, n, i % 3 == 0, 256, &d);
        if (rc == HM_OK && complete)
            rpcc_response_free(&r);
        else
            assert_null(r.body);
    }
}

/* ------------------------------------------------------- loopback */

/* Fork a server that accepts one connection, reads the request head and
 * sends `reply` (or nothing, holding the connection, when reply is NULL). */
static pid_t serve_once(int *port, const char *reply)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int c = accept(fd, NULL, NULL);
        char req[4096];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t r = read(c, req + got, sizeof req - 1 - got);
            if (r <= 0)
                break;
            got += (size_t)r;
            req[got] = 0;
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        if (reply) {
            /* dribble the reply in two writes to exercise partial reads */
            size_t n = strlen(reply), h = n / 2;
            if (write(c, reply, h) < 0 || (usleep(20000), write(c, reply + h, n - h)) < 0)
                _exit(1);
        } else {
            sleep(5);
        }
        close(c);
        _exit(0);
    }
    close(fd);
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_loopback(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    rpcc_client_t c;
    char url[64];
    int port;
    const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 41\r\n\r\n"
                         "{\"chain_id\":\"00\",\"height\":12,\"view\":0}   ";
    pid_t pid = serve_once(&port, reply);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    assert_int_equal(rpcc_client_init(&c, url, "t", &d), HM_OK);
    json_t *o = NULL;
    assert_int_equal(wallet_api_get(&c, &o, "/v1/status", &d), HM_OK);
    assert_int_equal(json_integer_value(json_object_get(o, "height")), 12);
    json_decref(o);
    /* a chain id that is not 64 hex is refused */
    reap(pid);
    pid = serve_once(&port, reply);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    assert_int_equal(rpcc_client_init(&c, url, NULL, &d), HM_OK);
    uint8_t chain[32];
    assert_int_equal(wallet_api_chain_id(&c, chain, &d), HM_ERR_INVALID);
    assert_non_null(strstr(d.msg, "chain_id"));
    reap(pid);

    /* a server that never answers: a timeout, not a hang */
    pid = serve_once(&port, NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    assert_int_equal(rpcc_client_init(&c, url, NULL, &d), HM_OK);
    c.io_timeout_ms = 300;
    rpcc_response_t r = {0};
    assert_int_equal(rpcc_request(&c, &r, "GET", "/v1/status", NULL, 0, &d), HM_ERR_TIMEOUT);
    assert_non_null(strstr(d.msg, "did not answer"));
    reap(pid);

    /* nobody listening: a clear connection error */
    pid = serve_once(&port, "");
    reap(pid); /* the port is closed now */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    assert_int_equal(rpcc_client_init(&c, url, NULL, &d), HM_OK);
    assert_int_equal(rpcc_request(&c, &r, "GET", "/v1/status", NULL, 0, &d), HM_ERR_IO);
    assert_non_null(strstr(d.msg, "cannot connect"));
    rpcc_client_clear(&c);
}

/* ----------------------------------------------------------- node API */

static void test_api_answers(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    json_t *o = NULL;
    const char ok[] = "{\"txid\":\"" "aa" "\"}";
    assert_int_equal(wallet_api_parse_answer(&o, 200, ok, strlen(ok), &d), HM_OK);
    json_decref(o);
    assert_int_equal(wallet_api_parse_answer(&o, 200, "[1]", 3, &d), HM_ERR_INVALID);
    assert_int_equal(wallet_api_parse_answer(&o, 200, "{\"a\":1,\"a\":2}", 13, &d),
                     HM_ERR_INVALID);
    assert_int_equal(wallet_api_parse_answer(&o, 200, "{bad", 4, &d), HM_ERR_INVALID);
    const char e404[] = "{\"error\":{\"code\":\"not_found\",\"message\":\"no such tx\"}}";
    assert_int_equal(wallet_api_parse_answer(&o, 404, e404, strlen(e404), &d), HM_ERR_NOT_FOUND);
    assert_non_null(strstr(d.msg, "HTTP 404 (not_found): no such tx"));
    const char e401[] = "{\"error\":{\"code\":\"unauthorized\",\"message\":\"token\x1b[2J\"}}";
    assert_int_equal(wallet_api_parse_answer(&o, 401, e401, strlen(e401), &d), HM_ERR_AUTH);
    assert_null(strchr(d.msg, '\x1b'));
    assert_int_equal(wallet_api_parse_answer(&o, 400, "x", 1, &d), HM_ERR_INVALID);
    assert_string_equal(d.msg, "node answered HTTP 400");
    assert_int_equal(wallet_api_parse_answer(&o, 503, NULL, 0, &d), HM_ERR_IO);

    wallet_txstatus_t s;
    json_t *j = json_loads("{\"status\":\"committed\",\"height\":17,\"code\":22,"
                           "\"code_name\":\"HM_R_LICENCE_EXHAUSTED\"}",
                           0, NULL);
    assert_int_equal(wallet_api_parse_tx_status(&s, j, &d), HM_OK);
    assert_int_equal(s.state, WALLET_TX_COMMITTED);
    assert_int_equal(s.height, 17);
    assert_int_equal(s.code, 22);
    assert_string_equal(s.code_name, "HM_R_LICENCE_EXHAUSTED");
    json_decref(j);
    j = json_loads("{\"status\":\"pending\"}", 0, NULL);
    assert_int_equal(wallet_api_parse_tx_status(&s, j, &d), HM_OK);
    assert_int_equal(s.state, WALLET_TX_PENDING);
    json_decref(j);
    const char *bad[] = {"{}", "{\"status\":\"lost\"}", "{\"status\":\"committed\"}",
                         "{\"status\":\"committed\",\"height\":-1,\"code\":0}",
                         "{\"status\":\"committed\",\"height\":1,\"code\":4294967296}",
                         "{\"status\":7}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        assert_int_equal(wallet_api_parse_tx_status(&s, j, &d), HM_ERR_INVALID);
        json_decref(j);
    }
    /* submit answers */
    char txid[65], st[32];
    j = json_loads("{\"txid\":\"ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB\","
                   "\"status\":\"pending\"}",
                   0, NULL);
    assert_int_equal(wallet_api_parse_submit(txid, st, sizeof st, j, &d), HM_OK);
    assert_string_equal(txid, "abababababababababababababababababababababababababababababababab");
    assert_string_equal(st, "pending");
    json_decref(j);
    j = json_loads("{\"txid\":\"abc\"}", 0, NULL);
    assert_int_equal(wallet_api_parse_submit(txid, st, sizeof st, j, &d), HM_ERR_INVALID);
    json_decref(j);
    /* uint64 values: integers, or decimal strings above 2^63-1 */
    uint64_t v;
    j = json_loads("[5, \"18446744073709551615\", -1, 1.5, \"x\"]", 0, NULL);
    assert_int_equal(wallet_json_u64(&v, json_array_get(j, 0)), HM_OK);
    assert_int_equal(v, 5);
    assert_int_equal(wallet_json_u64(&v, json_array_get(j, 1)), HM_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(wallet_json_u64(&v, json_array_get(j, 2)), HM_ERR_INVALID);
    assert_int_equal(wallet_json_u64(&v, json_array_get(j, 3)), HM_ERR_INVALID);
    assert_int_equal(wallet_json_u64(&v, json_array_get(j, 4)), HM_ERR_INVALID);
    json_decref(j);
}

static void test_cookie(void **state)
{
    (void)state;
    wallet_diag_t d = {{0}};
    char dir[] = "/tmp/hm-wallet-rpc-XXXXXX", path[128], tok[RPCC_MAX_TOKEN + 1];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/cookie", dir);
    assert_int_equal(hm_seal_write_atomic(path, (const uint8_t *)"__cookie__:abc123\n", 18),
                     HM_OK);
    assert_int_equal(rpcc_read_cookie(tok, path, &d), HM_OK);
    assert_string_equal(tok, "abc123");
    assert_int_equal(hm_seal_write_atomic(path, (const uint8_t *)"plaintoken", 10), HM_OK);
    assert_int_equal(rpcc_read_cookie(tok, path, &d), HM_OK);
    assert_string_equal(tok, "plaintoken");
    assert_int_equal(hm_seal_write_atomic(path, (const uint8_t *)"user:", 5), HM_OK);
    assert_int_equal(rpcc_read_cookie(tok, path, &d), HM_ERR_INVALID);
    assert_int_equal(hm_seal_write_atomic(path, (const uint8_t *)"a b", 3), HM_OK);
    assert_int_equal(rpcc_read_cookie(tok, path, &d), HM_ERR_INVALID);
    unlink(path);
    assert_int_equal(rpcc_read_cookie(tok, path, &d), HM_ERR_NOT_FOUND);
    rmdir(dir);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url),          cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_parse_response), cmocka_unit_test(test_parse_garbage),
        cmocka_unit_test(test_loopback),     cmocka_unit_test(test_api_answers),
        cmocka_unit_test(test_cookie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
