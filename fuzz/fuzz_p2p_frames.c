/* fuzz/fuzz_p2p_frames — arbitrary bytes as the stream a peer sends over a
 * real p2p connection (node/p2p: TLS 1.3 with pinned certificates,
 * length-prefixed Envelope frames, the Hello handshake).
 *
 * Once per process: a node's p2p mesh (validator 0 of a 2-validator genesis)
 * listens on 127.0.0.1 with a fresh certificate; the harness holds
 * validator 1's certificate. Per input: the harness connects as validator 1
 * over TLS (libevent's OpenSSL bufferevent with node/tls's context; no
 * OpenSSL call here: HACKING keeps those in node/tls and node/p2p), writes
 * the input into the TLS stream, and runs the event loop until what the
 * node must do has happened, then closes and waits for the node to drop the
 * connection.
 *
 * Invariant: the node does exactly what DESIGN §8 / node/p2p.h specify,
 * computed here from the bytes (a differential model of the framing): frames
 * are a 4-byte big-endian length L with 0 < L <= HM_MAX_FRAME_BYTES
 * (P2P_MAX_HELLO_BYTES until the Hello is accepted) then L bytes of
 * Envelope; the first must be a Hello for our chain id carrying
 * validator 1's node key (else the connection is closed); a bad length, an
 * undecodable or empty envelope, or a second Hello closes the connection;
 * every other frame is delivered, in order and byte for byte, to the
 * receive callback, attributed to validator 1 — and nothing else is; the
 * peer is reported ready exactly when the Hello was good, and gone exactly
 * once. A hang (the node neither delivers nor closes) aborts after 10 s. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "lib/codec.h"
#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/p2p.h"
#include "node/tls.h"

#define MAX_FRAMES 4096
#define DEADLINE_S 10

static struct event_base *base;
static p2p_t *p2p;
static node_config_t *cfg;
static genesis_t gen;
static genesis_validator_t vals[2];
static tls_ctx_t *cctx;
static char dir[256];
static uint8_t v1_pk[32];

/* what the node did during one input */
static struct {
    size_t n;
    const uint8_t *at[MAX_FRAMES]; /* copies */
    size_t len[MAX_FRAMES];
    int up, down;
} rec;

/* the harness's side of the connection */
static struct {
    struct bufferevent *bev;
    bool connected, closed;
} cl;

static void on_recv(void *arg, const p2p_peer_info_t *peer, const Hallmark__Envelope *env,
                    const uint8_t *bytes, size_t len)
{
    (void)arg;
    HM_FUZZ_CHECK(peer->validator_index == 1 && memcmp(peer->node_key, v1_pk, 32) == 0);
    HM_FUZZ_CHECK(env->msg_case != HALLMARK__ENVELOPE__MSG__NOT_SET &&
                  env->msg_case != HALLMARK__ENVELOPE__MSG_HELLO);
    HM_FUZZ_CHECK(rec.n < MAX_FRAMES);
    uint8_t *copy = malloc(len ? len : 1);
    HM_FUZZ_CHECK(copy != NULL);
    memcpy(copy, bytes, len);
    rec.at[rec.n] = copy;
    rec.len[rec.n++] = len;
}

static void on_peer(void *arg, const p2p_peer_info_t *peer, bool connected)
{
    (void)arg;
    HM_FUZZ_CHECK(peer->validator_index == 1);
    if (connected)
        rec.up++;
    else
        rec.down++;
}

static void make_dir(void)
{
    const char *b = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/hm-fuzz-p2p-XXXXXX", b);
    HM_FUZZ_CHECK(mkdtemp(dir) != NULL);
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static bool allow_any(void *arg, const uint8_t fp[TLS_FP_LEN])
{
    (void)arg;
    (void)fp;
    return true;
}

/* The TLS contexts hold what they need once made: the files can go (also
 * when libFuzzer ends a run without atexit handlers). */
static void remove_files(void)
{
    const char *names[] = {"node.key", "node.crt", "peer.key", "peer.crt"};
    char p[512];
    for (size_t i = 0; i < 4; i++) {
        path_in(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void at_exit(void)
{
    p2p_free(p2p);
    tls_ctx_free(cctx);
    config_free(cfg);
    if (base)
        event_base_free(base);
}

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    HM_FUZZ_CHECK(fd >= 0);
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    HM_FUZZ_CHECK(bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
    HM_FUZZ_CHECK(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
    close(fd);
    return ntohs(sin.sin_port);
}

static void init(void)
{
    if (base)
        return;
    hm_log_set_level(HM_LOG_ERROR); /* closed connections log warnings */
    signal(SIGPIPE, SIG_IGN);       /* as hallmarkd: a peer may close mid-write */
    make_dir();
    char nk[512], nc[512], pkp[512], pc[512];
    path_in(nk, sizeof nk, "node.key");
    path_in(nc, sizeof nc, "node.crt");
    path_in(pkp, sizeof pkp, "peer.key");
    path_in(pc, sizeof pc, "peer.crt");
    HM_FUZZ_CHECK(tls_generate(vals[0].tls_fingerprint, nk, nc, "fuzz-node") == HM_OK);
    HM_FUZZ_CHECK(tls_generate(vals[1].tls_fingerprint, pkp, pc, "fuzz-peer") == HM_OK);
    /* consensus keys as fuzz/fuzz_consensus and fuzz/mkseeds derive them */
    for (int i = 0; i < 2; i++) {
        uint8_t in[2] = {'k', (uint8_t)i}, sk[32];
        hm_sha256(sk, in, 2);
        HM_FUZZ_CHECK(hm_key_pubkey(vals[i].pubkey, sk) == HM_OK);
        snprintf(vals[i].name, sizeof vals[i].name, "v%d", i);
        /* not host:port: the node dials nobody */
        snprintf(vals[i].address, sizeof vals[i].address, "nowhere-%d", i);
    }
    memcpy(v1_pk, vals[1].pubkey, 32);
    static char chain_name[] = "fuzz";
    gen.chain_name = chain_name;
    gen.validators = vals;
    gen.n_validators = 2;
    hm_tagged_hash(gen.chain_id, HM_TAG_GENESIS, "fuzz", 4);

    HM_FUZZ_CHECK(config_defaults(&cfg, dir) == HM_OK);
    free(cfg->tls_cert_file);
    free(cfg->tls_key_file);
    cfg->tls_cert_file = strdup("node.crt");
    cfg->tls_key_file = strdup("node.key");
    HM_FUZZ_CHECK(cfg->tls_cert_file && cfg->tls_key_file);

    base = event_base_new();
    HM_FUZZ_CHECK(base != NULL);
    p2p_options_t o;
    memset(&o, 0, sizeof o);
    o.base = base;
    o.cfg = cfg;
    o.genesis = &gen;
    memcpy(o.node_key, vals[0].pubkey, 32);
    o.version = "hallmark/fuzz";
    o.on_recv = on_recv;
    o.on_peer = on_peer;
    /* the listen address needs a port: take a free one (retry on a race) */
    int rc = HM_ERR_IO;
    for (int attempt = 0; attempt < 20 && rc != HM_OK; attempt++) {
        free(cfg->listen);
        cfg->listen = malloc(32);
        HM_FUZZ_CHECK(cfg->listen != NULL);
        snprintf(cfg->listen, 32, "127.0.0.1:%u", free_port());
        p2p_free(p2p);
        p2p = NULL;
        HM_FUZZ_CHECK(p2p_new(&p2p, &o) == HM_OK);
        rc = p2p_start(p2p);
    }
    HM_FUZZ_CHECK(rc == HM_OK);
    HM_FUZZ_CHECK(p2p_listen_port(p2p) != 0);
    uint8_t fp[TLS_FP_LEN];
    HM_FUZZ_CHECK(tls_ctx_new(&cctx, fp, pc, pkp, allow_any, NULL) == HM_OK);
    HM_FUZZ_CHECK(memcmp(fp, vals[1].tls_fingerprint, TLS_FP_LEN) == 0);
    remove_files();
    atexit(at_exit);
}

/* ---- the model: what the node must do with the stream */

typedef struct {
    size_t n;
    size_t off[MAX_FRAMES], len[MAX_FRAMES];
    bool hello_ok; /* the peer becomes ready */
    bool closes;   /* the node must close the connection */
} expect_t;

static bool hello_good(const Hallmark__Hello *h)
{
    return h->chain_id.len == 32 && memcmp(h->chain_id.data, gen.chain_id, 32) == 0 &&
           h->node_key.len == 32 && memcmp(h->node_key.data, v1_pk, 32) == 0;
}

static void model(const uint8_t *d, size_t size, expect_t *e)
{
    memset(e, 0, sizeof *e);
    size_t pos = 0;
    bool ready = false;
    for (;;) {
        if (size - pos < 4)
            return; /* an incomplete length: wait for more */
        uint32_t len = ((uint32_t)d[pos] << 24) | ((uint32_t)d[pos + 1] << 16) |
                       ((uint32_t)d[pos + 2] << 8) | d[pos + 3];
        if (len == 0 || len > (ready ? HM_MAX_FRAME_BYTES : P2P_MAX_HELLO_BYTES)) {
            e->closes = true;
            return;
        }
        if (size - pos - 4 < len)
            return; /* an incomplete frame: wait for more */
        const uint8_t *body = d + pos + 4;
        pos += 4 + (size_t)len;
        Hallmark__Envelope *env = NULL;
        bool ok = hm_decode_envelope(&env, body, len) == HM_OK &&
                  env->msg_case != HALLMARK__ENVELOPE__MSG__NOT_SET;
        bool hello = ok && env->msg_case == HALLMARK__ENVELOPE__MSG_HELLO;
        bool good = ok && (ready ? !hello : (hello && hello_good(env->hello)));
        hm_free_envelope(env);
        if (!good) {
            e->closes = true;
            return;
        }
        if (!ready) {
            ready = e->hello_ok = true;
            continue;
        }
        if (e->n == MAX_FRAMES)
            return; /* the harness stops listening here (not reached: max_len) */
        e->off[e->n] = (size_t)(body - d);
        e->len[e->n++] = len;
    }
}

/* ---- the harness's connection */

static const uint8_t *stream;
static size_t stream_len;

static void cl_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in)); /* the node's Hello, Status */
}

static void cl_close(void)
{
    if (cl.bev) {
        bufferevent_free(cl.bev);
        cl.bev = NULL;
    }
    cl.closed = true;
}

static void cl_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)arg;
    if (what & BEV_EVENT_CONNECTED) {
        cl.connected = true;
        if (stream_len)
            HM_FUZZ_CHECK(bufferevent_write(cl.bev, stream, stream_len) == 0);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        cl_close();
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Run the loop until done() or the deadline. */
static bool run_until(bool (*done)(const expect_t *), const expect_t *e)
{
    double end = now_s() + DEADLINE_S;
    while (!done(e)) {
        if (now_s() > end)
            return false;
        event_base_loop(base, EVLOOP_ONCE);
    }
    return true;
}

static bool node_done(const expect_t *e)
{
    if (cl.closed)
        return true; /* the node closed on us (checked below) */
    if (!cl.connected)
        return false;
    if (e->closes)
        return false; /* wait for the node to close */
    return rec.n >= e->n && rec.up >= (e->hello_ok ? 1 : 0);
}

static bool conn_gone(const expect_t *e)
{
    (void)e;
    return p2p_connection_count(p2p) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    static expect_t e;
    model(data, size, &e);
    memset(&rec, 0, sizeof rec);
    memset(&cl, 0, sizeof cl);
    stream = data;
    stream_len = size;

    struct ssl_st *ssl = tls_ssl_new(cctx);
    HM_FUZZ_CHECK(ssl != NULL);
    cl.bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    HM_FUZZ_CHECK(cl.bev != NULL);
    bufferevent_setcb(cl.bev, cl_read, NULL, cl_event, NULL);
    HM_FUZZ_CHECK(bufferevent_enable(cl.bev, EV_READ | EV_WRITE) == 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(p2p_listen_port(p2p));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    HM_FUZZ_CHECK(bufferevent_socket_connect(cl.bev, (struct sockaddr *)&sin, sizeof sin) == 0);

    if (!run_until(node_done, &e)) {
        fprintf(stderr, "p2p: no progress in %d s: connected %d, %zu/%zu frames delivered, "
                        "ready %d (want %d), close wanted %d\n",
                DEADLINE_S, cl.connected, rec.n, e.n, rec.up, e.hello_ok, e.closes);
        abort();
    }
    HM_FUZZ_CHECK(cl.connected || cl.closed);
    if (!cl.closed && !e.closes) {
        /* nothing more may happen: let the node read all of it, then see
         * that it neither closed nor delivered more (loopback: once our
         * output is in the kernel, a few loop turns process it) */
        double end = now_s() + DEADLINE_S;
        while (cl.bev && evbuffer_get_length(bufferevent_get_output(cl.bev)) > 0 && now_s() < end)
            event_base_loop(base, EVLOOP_ONCE);
        for (int i = 0; i < 20 && !cl.closed; i++)
            event_base_loop(base, EVLOOP_NONBLOCK);
    }
    /* the node closed exactly when it had to (a close wanted but not seen
     * keeps the loop above waiting until the deadline) */
    if (cl.closed)
        HM_FUZZ_CHECK(e.closes);
    cl_close();
    HM_FUZZ_CHECK(run_until(conn_gone, &e));

    HM_FUZZ_CHECK(rec.up == (e.hello_ok ? 1 : 0));
    HM_FUZZ_CHECK(rec.down == rec.up);
    HM_FUZZ_CHECK(rec.n == e.n);
    for (size_t i = 0; i < rec.n; i++) {
        HM_FUZZ_CHECK(rec.len[i] == e.len[i] && memcmp(rec.at[i], data + e.off[i], e.len[i]) == 0);
        free((void *)rec.at[i]);
    }
    return 0;
}
