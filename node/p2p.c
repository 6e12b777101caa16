/* node/p2p — see p2p.h. Owns sockets, bufferevents and SSL objects of the
 * mesh; depends on lib/, node/tls, node/config, node/genesis, libevent and
 * OpenSSL (through bufferevent_openssl). Knows nothing of consensus. */
#include "node/p2p.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/hex.h"
#include "lib/log.h"

#define TICK_MS 250

typedef enum { CONN_TLS = 0, CONN_HELLO = 1, CONN_READY = 2 } conn_state_t;

typedef struct target target_t;
typedef struct conn conn_t;

struct conn {
    p2p_t *p2p;
    struct bufferevent *bev;
    conn_state_t state;
    target_t *target; /* outbound: the dial target that made it */
    p2p_peer_status_t st;
    uint64_t started_mono;
    uint64_t last_recv_mono;
    int in_callback; /* >0 while a user callback runs on it */
    bool dead;       /* closed during a callback: destroy when it returns */
    conn_t *next;
};

struct target {
    char address[P2P_MAX_ADDR];
    char host[256];
    uint16_t port;
    bool fp_known;
    uint8_t fp[TLS_FP_LEN]; /* from genesis (address match) or learned */
    uint32_t backoff_ms;
    struct event *timer;
    conn_t *conn; /* the connection it dialed, while alive */
    p2p_t *p2p;
};

struct p2p {
    struct event_base *base;
    const node_config_t *cfg;
    const genesis_t *genesis;
    uint8_t node_key[HM_PUBKEY_LEN];
    char version[64];
    p2p_recv_fn on_recv;
    p2p_peer_fn on_peer;
    void *cb_arg;
    tls_ctx_t *tls;
    uint8_t own_fp[TLS_FP_LEN];
    struct evconnlistener *listener;
    uint16_t listen_port;
    struct event *tick;
    conn_t *conns;
    target_t *targets;
    size_t n_targets;
    uint64_t next_id;
    uint64_t height, view;
    uint8_t last_hash[HM_HASH_LEN];
    uint64_t next_status_mono;
    struct event *resume; /* re-enables the listener (accept error, burst) */
    uint32_t accept_burst; /* accepted since the listener was last resumed */
    /* log lines that repeat under a flood: P2P_LOG_BURST per P2P_LOG_EVERY_MS */
    uint64_t unauth_window_mono, full_window_mono;
    uint32_t unauth_logged, full_logged;
    uint64_t unauth_suppressed, full_suppressed;
};

static uint64_t now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *conn_name(const conn_t *c, char *buf, size_t len)
{
    const p2p_peer_info_t *i = &c->st.info;
    if (c->state == CONN_READY && i->validator_index >= 0)
        snprintf(buf, len, "#%llu %s (%s)", (unsigned long long)i->id,
                 c->p2p->genesis->validators[i->validator_index].name, i->address);
    else
        snprintf(buf, len, "#%llu %s", (unsigned long long)i->id, i->address);
    return buf;
}

bool p2p_is_allowed(const p2p_t *p, const uint8_t fp[TLS_FP_LEN])
{
    if (genesis_find_fingerprint(p->genesis, fp) >= 0)
        return true;
    for (size_t i = 0; i < p->cfg->n_observers; i++)
        if (!memcmp(p->cfg->observers[i], fp, TLS_FP_LEN))
            return true;
    return false;
}

static bool allow_cb(void *arg, const uint8_t fp[TLS_FP_LEN])
{
    const p2p_t *p = arg;
    /* Never accept our own certificate (a node dialing itself). */
    return memcmp(fp, p->own_fp, TLS_FP_LEN) != 0 && p2p_is_allowed(p, fp);
}

static void schedule_dial(target_t *t, bool reset);

/* Rate limit of a repeated log line: whether one more may be written now
 * (P2P_LOG_BURST per P2P_LOG_EVERY_MS window); when not, it is counted and
 * the count reported (what) once the window is over. */
static bool flood_log_ok(uint64_t *window, uint32_t *logged, uint64_t *suppressed, uint64_t now,
                         const char *what)
{
    if (now - *window >= P2P_LOG_EVERY_MS) {
        if (*suppressed)
            HM_LOG_WARN("p2p", "%llu more %s in the last %d s (not logged one by one)",
                        (unsigned long long)*suppressed, what, P2P_LOG_EVERY_MS / 1000);
        *suppressed = 0;
        *logged = 0;
        *window = now;
    }
    if (*logged < P2P_LOG_BURST) {
        (*logged)++;
        return true;
    }
    (*suppressed)++;
    return false;
}

static const char UNAUTH_WHAT[] = "closes of unauthenticated inbound connections";
static const char FULL_WHAT[] = "inbound connections over max_inbound";

static void conn_destroy(conn_t *c)
{
    p2p_t *p = c->p2p;
    for (conn_t **pp = &p->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->bev) {
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        if (ssl)
            SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN); /* no blocking close_notify */
        bufferevent_free(c->bev);
    }
    free(c);
}

/* Close c with a log line. Safe inside callbacks: a connection in use by a
 * user callback is destroyed when the callback returns. Closes of inbound
 * connections that never authenticated (scans, floods) are logged once per
 * P2P_LOG_EVERY_MS, with the count of those left out. */
static void conn_close(conn_t *c, hm_log_level_t lvl, const char *reason)
{
    if (c->dead)
        return;
    p2p_t *p = c->p2p;
    char name[400];
    if (c->state != CONN_READY && !c->st.info.outbound && lvl <= HM_LOG_INFO &&
        !flood_log_ok(&p->unauth_window_mono, &p->unauth_logged, &p->unauth_suppressed,
                      now_mono_ms(), UNAUTH_WHAT))
        lvl = HM_LOG_DEBUG;
    hm_log(lvl, "p2p", "closing %s: %s", conn_name(c, name, sizeof name), reason);
    bool was_ready = c->state == CONN_READY;
    c->dead = true;
    if (c->bev)
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    if (c->target) {
        target_t *t = c->target;
        t->conn = NULL;
        c->target = NULL;
        schedule_dial(t, false);
    }
    if (was_ready && p->on_peer) {
        c->in_callback++;
        p->on_peer(p->cb_arg, &c->st.info, false);
        c->in_callback--;
    }
    if (c->in_callback == 0)
        conn_destroy(c);
}

static conn_t *find_conn(p2p_t *p, uint64_t id)
{
    for (conn_t *c = p->conns; c; c = c->next)
        if (c->st.info.id == id && !c->dead)
            return c;
    return NULL;
}

/* Append one frame to c's output, enforcing the queue cap. */
static int conn_queue(conn_t *c, const uint8_t *env, size_t len)
{
    p2p_t *p = c->p2p;
    if (len == 0 || len > HM_MAX_FRAME_BYTES)
        return HM_ERR_TOO_LARGE;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t queued = evbuffer_get_length(out);
    if (queued + 4 + len > p->cfg->send_queue_max_bytes) {
        conn_close(c, HM_LOG_WARN, "send queue over its cap (peer too slow)");
        return HM_ERR_LIMIT;
    }
    uint8_t hdr[4];
    hm_put_u32be(hdr, (uint32_t)len);
    if (evbuffer_add(out, hdr, 4) != 0 || evbuffer_add(out, env, len) != 0) {
        conn_close(c, HM_LOG_ERROR, "out of memory queueing a frame");
        return HM_ERR_NOMEM;
    }
    c->st.frames_out++;
    c->st.bytes_out += 4 + len;
    return HM_OK;
}

static int conn_send_env(conn_t *c, const Hallmark__Envelope *env)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = hm_codec_encode(&bytes, &len, &env->base);
    if (rc == HM_OK)
        rc = conn_queue(c, bytes, len);
    free(bytes);
    return rc;
}

static int send_hello(conn_t *c)
{
    p2p_t *p = c->p2p;
    Hallmark__Hello hello = HALLMARK__HELLO__INIT;
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    hello.chain_id.data = (uint8_t *)p->genesis->chain_id; /* not modified by encoding */
    hello.chain_id.len = HM_HASH_LEN;
    hello.node_key.data = p->node_key;
    hello.node_key.len = HM_PUBKEY_LEN;
    hello.height = p->height;
    hello.version = p->version;
    env.msg_case = HALLMARK__ENVELOPE__MSG_HELLO;
    env.hello = &hello;
    return conn_send_env(c, &env);
}

static int send_status(conn_t *c)
{
    p2p_t *p = c->p2p;
    Hallmark__Status st = HALLMARK__STATUS__INIT;
    Hallmark__Envelope env = HALLMARK__ENVELOPE__INIT;
    st.height = p->height;
    st.view = p->view;
    st.last_block_hash.data = p->last_hash;
    st.last_block_hash.len = HM_HASH_LEN;
    env.msg_case = HALLMARK__ENVELOPE__MSG_STATUS;
    env.status = &st;
    return conn_send_env(c, &env);
}

/* Two ready connections to the same identity: keep the one dialed by the
 * side with the smaller fingerprint; same dialer: keep the newer. */
static bool conn_wins(const conn_t *a, const conn_t *b)
{
    const p2p_t *p = a->p2p;
    int cmp = memcmp(p->own_fp, a->st.info.tls_fp, TLS_FP_LEN);
    /* dialer of a: us if outbound else them; "smaller dials" wins */
    bool a_by_small = a->st.info.outbound ? cmp < 0 : cmp > 0;
    bool b_by_small = b->st.info.outbound ? cmp < 0 : cmp > 0;
    if (a_by_small != b_by_small)
        return a_by_small;
    return a->st.info.id > b->st.info.id;
}

static void handle_hello(conn_t *c, const Hallmark__Hello *h)
{
    p2p_t *p = c->p2p;
    p2p_peer_info_t *info = &c->st.info;
    if (h->chain_id.len != HM_HASH_LEN || memcmp(h->chain_id.data, p->genesis->chain_id, HM_HASH_LEN)) {
        conn_close(c, HM_LOG_WARN, "Hello for another chain id");
        return;
    }
    if (h->node_key.len != HM_PUBKEY_LEN) {
        conn_close(c, HM_LOG_WARN, "Hello without a 32-byte node key");
        return;
    }
    if (info->validator_index >= 0 &&
        memcmp(h->node_key.data, p->genesis->validators[info->validator_index].pubkey,
               HM_PUBKEY_LEN)) {
        conn_close(c, HM_LOG_WARN,
                   "Hello node key does not match the validator pinned to its TLS certificate");
        return;
    }
    memcpy(info->node_key, h->node_key.data, HM_PUBKEY_LEN);
    c->st.height = h->height;
    /* One connection per identity. */
    for (conn_t *o = p->conns; o; o = o->next) {
        if (o == c || o->dead || o->state != CONN_READY ||
            memcmp(o->st.info.tls_fp, info->tls_fp, TLS_FP_LEN))
            continue;
        if (conn_wins(c, o)) {
            conn_close(o, HM_LOG_INFO, "replaced by a newer connection to the same peer");
        } else {
            conn_close(c, HM_LOG_INFO, "duplicate connection to an already connected peer");
            return;
        }
        break;
    }
    c->state = CONN_READY;
    bufferevent_setwatermark(c->bev, EV_READ, 0, 4 + HM_MAX_FRAME_BYTES);
    if (c->target) {
        c->target->backoff_ms = P2P_BACKOFF_INITIAL_MS;
        c->target->fp_known = true;
        memcpy(c->target->fp, info->tls_fp, TLS_FP_LEN);
    }
    char name[400];
    HM_LOG_INFO("p2p", "peer %s ready (%s, height %llu)", conn_name(c, name, sizeof name),
                info->outbound ? "outbound" : "inbound", (unsigned long long)h->height);
    if (p->on_peer) {
        c->in_callback++;
        p->on_peer(p->cb_arg, info, true);
        c->in_callback--;
    }
}

/* Handle one complete frame. Returns false when c was closed. */
static bool handle_frame(conn_t *c, const uint8_t *bytes, size_t len)
{
    p2p_t *p = c->p2p;
    Hallmark__Envelope *env = NULL;
    int rc = hm_decode_envelope(&env, bytes, len);
    char why[96];
    /* Anything below may close c; destruction waits until we are done. */
    c->in_callback++;
    if (rc != HM_OK || env->msg_case == HALLMARK__ENVELOPE__MSG__NOT_SET) {
        snprintf(why, sizeof why, "undecodable frame of %zu bytes (%s)", len,
                 rc != HM_OK ? hm_strerror(rc) : "empty envelope");
        conn_close(c, HM_LOG_WARN, why);
        hm_free_envelope(env);
        if (--c->in_callback == 0)
            conn_destroy(c);
        return false;
    }
    c->st.frames_in++;
    c->st.bytes_in += 4 + len;
    c->last_recv_mono = now_mono_ms();
    c->st.last_recv_ms = now_wall_ms();
    if (c->state == CONN_HELLO) {
        if (env->msg_case != HALLMARK__ENVELOPE__MSG_HELLO)
            conn_close(c, HM_LOG_WARN, "first frame is not a Hello");
        else
            handle_hello(c, env->hello);
    } else if (env->msg_case == HALLMARK__ENVELOPE__MSG_HELLO) {
        conn_close(c, HM_LOG_WARN, "second Hello");
    } else {
        if (env->msg_case == HALLMARK__ENVELOPE__MSG_STATUS) {
            c->st.height = env->status->height;
            c->st.view = env->status->view;
        }
        if (p->on_recv)
            p->on_recv(p->cb_arg, &c->st.info, env, bytes, len);
    }
    hm_free_envelope(env);
    c->in_callback--;
    if (c->dead) {
        if (c->in_callback == 0)
            conn_destroy(c);
        return false;
    }
    return true;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!c->dead && c->state != CONN_TLS) {
        size_t avail = evbuffer_get_length(in);
        uint8_t hdr[4];
        if (avail < 4)
            return;
        if (evbuffer_copyout(in, hdr, 4) != 4)
            return;
        uint32_t len = hm_get_u32be(hdr);
        uint32_t cap = c->state == CONN_READY ? HM_MAX_FRAME_BYTES : P2P_MAX_HELLO_BYTES;
        if (len == 0 || len > cap) {
            char why[96];
            snprintf(why, sizeof why, "bad frame length %u (cap %u%s)", len, cap,
                     c->state == CONN_READY ? "" : " before the Hello");
            conn_close(c, HM_LOG_WARN, why);
            return;
        }
        if (avail < 4 + (size_t)len)
            return; /* the watermark lets at most one full frame in */
        const uint8_t *data = evbuffer_pullup(in, 4 + (ssize_t)len);
        if (!data) {
            conn_close(c, HM_LOG_ERROR, "out of memory reading a frame");
            return;
        }
        /* Copy out: the callback may queue output or close, and evbuffer
         * memory must not be held across it. */
        uint8_t *copy = malloc(len);
        if (!copy) {
            conn_close(c, HM_LOG_ERROR, "out of memory reading a frame");
            return;
        }
        memcpy(copy, data + 4, len);
        evbuffer_drain(in, 4 + (size_t)len);
        bool alive = handle_frame(c, copy, len);
        free(copy);
        if (!alive)
            return;
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    conn_t *c = arg;
    p2p_t *p = c->p2p;
    if (what & BEV_EVENT_CONNECTED) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        p2p_peer_info_t *info = &c->st.info;
        if (tls_peer_fingerprint(info->tls_fp, ssl) != HM_OK || !allow_cb(p, info->tls_fp)) {
            conn_close(c, HM_LOG_WARN, "peer certificate missing or not pinned");
            return;
        }
        info->validator_index = genesis_find_fingerprint(p->genesis, info->tls_fp);
        if (c->target && c->target->fp_known && memcmp(c->target->fp, info->tls_fp, TLS_FP_LEN)) {
            conn_close(c, HM_LOG_WARN, "peer presented another pinned certificate than expected");
            return;
        }
        c->state = CONN_HELLO;
        if (send_hello(c) != HM_OK)
            return; /* closed */
        read_cb(bev, c); /* a Hello may already be buffered */
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        char why[200];
        unsigned long e = bufferevent_get_openssl_error(bev);
        if (e && ERR_GET_LIB(e) == 0)
            e = 0; /* a system call failed under TLS: report the socket error */
        if (e) {
            char es[160];
            ERR_error_string_n(e, es, sizeof es);
            snprintf(why, sizeof why, "TLS error: %s", es);
        } else if (what & BEV_EVENT_EOF) {
            snprintf(why, sizeof why, "connection closed by peer");
        } else if (what & BEV_EVENT_TIMEOUT) {
            snprintf(why, sizeof why, "timeout");
        } else {
            int err = EVUTIL_SOCKET_ERROR();
            snprintf(why, sizeof why, "socket error: %s",
                     err ? evutil_socket_error_to_string(err) : "unknown");
        }
        /* A peer that is simply not up yet is routine for an outbound dial. */
        hm_log_level_t lvl = c->state == CONN_READY ? HM_LOG_INFO : HM_LOG_WARN;
        if (c->state == CONN_TLS && c->st.info.outbound && !e)
            lvl = HM_LOG_DEBUG;
        conn_close(c, lvl, why);
    }
}

static conn_t *conn_new(p2p_t *p, struct bufferevent *bev, bool outbound, const char *addr)
{
    conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->p2p = p;
    c->bev = bev;
    c->state = CONN_TLS;
    c->st.info.id = ++p->next_id;
    c->st.info.validator_index = -1;
    c->st.info.outbound = outbound;
    snprintf(c->st.info.address, sizeof c->st.info.address, "%s", addr);
    c->started_mono = c->last_recv_mono = now_mono_ms();
    c->st.connected_ms = now_wall_ms();
    c->next = p->conns;
    p->conns = c;
    /* At most one full frame buffered on input: the cap bounds memory (a
     * Hello's until the peer is ready, then a frame's). */
    bufferevent_setwatermark(bev, EV_READ, 0, 4 + P2P_MAX_HELLO_BYTES);
    bufferevent_setcb(bev, read_cb, NULL, event_cb, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    return c;
}

static void dial_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    target_t *t = arg;
    p2p_t *p = t->p2p;
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    struct bufferevent *bev = NULL;
    SSL *ssl = NULL;

    if (t->conn)
        return;
    if (t->fp_known) { /* already connected to that identity (it dialed us) */
        for (conn_t *c = p->conns; c; c = c->next)
            if (!c->dead && c->state == CONN_READY && !memcmp(c->st.info.tls_fp, t->fp, TLS_FP_LEN)) {
                /* look again in a second, in case that connection drops */
                struct timeval tv = {1, 0};
                t->backoff_ms = P2P_BACKOFF_INITIAL_MS;
                evtimer_add(t->timer, &tv);
                return;
            }
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%u", t->port);
    int gai = getaddrinfo(t->host, portstr, &hints, &res);
    if (gai != 0 || !res) {
        HM_LOG_WARN("p2p", "cannot resolve %s: %s", t->address, gai_strerror(gai));
        goto retry;
    }
    if (!(ssl = tls_ssl_new(p->tls)))
        goto retry;
    bev = bufferevent_openssl_socket_new(p->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        goto retry;
    }
    conn_t *c = conn_new(p, bev, true, t->address);
    if (!c) {
        bufferevent_free(bev);
        goto retry;
    }
    c->target = t;
    t->conn = c;
    HM_LOG_DEBUG("p2p", "dialing %s", t->address);
    if (bufferevent_socket_connect(bev, res->ai_addr, (int)res->ai_addrlen) != 0) {
        /* conn_close reschedules through the target */
        conn_close(c, HM_LOG_DEBUG, "connect failed");
    }
    freeaddrinfo(res);
    return;
retry:
    if (res)
        freeaddrinfo(res);
    schedule_dial(t, false);
}

static void schedule_dial(target_t *t, bool reset)
{
    p2p_t *p = t->p2p;
    if (reset)
        t->backoff_ms = P2P_BACKOFF_INITIAL_MS;
    uint32_t delay = t->backoff_ms;
    /* jitter: 75%..125% so restarted nodes do not dial in lockstep */
    uint8_t r = 0;
    if (hm_random(&r, 1) == HM_OK)
        delay = delay * 3 / 4 + (uint32_t)((uint64_t)delay * r / 510);
    uint64_t next = (uint64_t)t->backoff_ms * 2;
    t->backoff_ms = next > p->cfg->reconnect_max_ms ? p->cfg->reconnect_max_ms : (uint32_t)next;
    struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
    evtimer_add(t->timer, &tv);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)l;
    (void)salen;
    p2p_t *p = arg;
    char addr[P2P_MAX_ADDR] = "?";
    char host[64] = "?";
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        snprintf(addr, sizeof addr, "%s:%u", host, ntohs(s4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        snprintf(addr, sizeof addr, "[%s]:%u", host, ntohs(s6->sin6_port));
    }
    size_t inbound = 0;
    conn_t *oldest = NULL; /* the oldest inbound one still in its handshake */
    for (conn_t *c = p->conns; c; c = c->next)
        if (!c->st.info.outbound && !c->dead) {
            inbound++;
            if (c->state != CONN_READY && (!oldest || c->started_mono <= oldest->started_mono))
                oldest = c;
        }
    if (inbound >= p->cfg->max_inbound) {
        if (flood_log_ok(&p->full_window_mono, &p->full_logged, &p->full_suppressed,
                         now_mono_ms(), FULL_WHAT))
            HM_LOG_WARN("p2p", "%zu inbound connections (max_inbound %u): %s %s", inbound,
                        p->cfg->max_inbound,
                        oldest ? "the oldest unauthenticated one gives way to" : "refusing", addr);
        if (!oldest) {
            evutil_closesocket(fd);
            return;
        }
        conn_close(oldest, HM_LOG_DEBUG, "makes room for a new inbound connection (max_inbound)");
    }
    SSL *ssl = tls_ssl_new(p->tls);
    if (!ssl) {
        evutil_closesocket(fd);
        return;
    }
    struct bufferevent *bev =
        bufferevent_openssl_socket_new(p->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                       BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        evutil_closesocket(fd);
        return;
    }
    if (!conn_new(p, bev, false, addr)) {
        bufferevent_free(bev);
        return;
    }
    HM_LOG_DEBUG("p2p", "accepted %s", addr);
    /* libevent accepts until the backlog is empty; a closed connection's
     * TLS state is freed only when the loop turns, so a burst is taken a
     * slice at a time: memory stays at about max_inbound connections. */
    if (++p->accept_burst >= P2P_ACCEPT_BURST) {
        struct timeval now = {0, 0};
        evconnlistener_disable(p->listener);
        evtimer_add(p->resume, &now);
    }
}

/* accept() failed for another reason than a retry (EMFILE, ENFILE,
 * ENOBUFS): the socket stays readable, so pause rather than spin. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    p2p_t *p = arg;
    int err = EVUTIL_SOCKET_ERROR();
    HM_LOG_WARN("p2p", "cannot accept a connection: %s; pausing the listener for %d ms",
                evutil_socket_error_to_string(err), P2P_ACCEPT_PAUSE_MS);
    evconnlistener_disable(l);
    struct timeval tv = {P2P_ACCEPT_PAUSE_MS / 1000, (P2P_ACCEPT_PAUSE_MS % 1000) * 1000};
    evtimer_add(p->resume, &tv);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    p2p_t *p = arg;
    p->accept_burst = 0;
    if (p->listener)
        evconnlistener_enable(p->listener);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    p2p_t *p = arg;
    uint64_t now = now_mono_ms();
    uint64_t handshake_ms =
        p->cfg->handshake_timeout_ms ? p->cfg->handshake_timeout_ms : P2P_HANDSHAKE_TIMEOUT_MS;
    bool status_due = now >= p->next_status_mono;
    if (p->unauth_suppressed && now - p->unauth_window_mono >= P2P_LOG_EVERY_MS)
        (void)flood_log_ok(&p->unauth_window_mono, &p->unauth_logged, &p->unauth_suppressed, now,
                           UNAUTH_WHAT);
    if (p->full_suppressed && now - p->full_window_mono >= P2P_LOG_EVERY_MS)
        (void)flood_log_ok(&p->full_window_mono, &p->full_logged, &p->full_suppressed, now,
                           FULL_WHAT);
    if (status_due)
        p->next_status_mono = now + p->cfg->keepalive_ms;
    conn_t *next;
    for (conn_t *c = p->conns; c; c = next) {
        next = c->next;
        if (c->dead)
            continue;
        if (c->state != CONN_READY) {
            if (now - c->started_mono > handshake_ms)
                conn_close(c, HM_LOG_WARN, "handshake timeout");
            continue;
        }
        if (now - c->last_recv_mono > 4ull * p->cfg->keepalive_ms) {
            conn_close(c, HM_LOG_WARN, "silent for 4 keepalive periods");
            continue;
        }
        if (status_due)
            (void)send_status(c); /* failure closes c */
    }
}

int p2p_new(p2p_t **out, const p2p_options_t *opt)
{
    int rc = HM_ERR_NOMEM;
    char *cert = NULL, *key = NULL;
    p2p_t *p = calloc(1, sizeof *p);
    if (!p)
        goto done;
    p->base = opt->base;
    p->cfg = opt->cfg;
    p->genesis = opt->genesis;
    memcpy(p->node_key, opt->node_key, HM_PUBKEY_LEN);
    snprintf(p->version, sizeof p->version, "%s", opt->version ? opt->version : "");
    p->on_recv = opt->on_recv;
    p->on_peer = opt->on_peer;
    p->cb_arg = opt->cb_arg;
    if (!(cert = config_path(p->cfg, p->cfg->tls_cert_file)) ||
        !(key = config_path(p->cfg, p->cfg->tls_key_file)))
        goto done;
    if ((rc = tls_ctx_new(&p->tls, p->own_fp, cert, key, allow_cb, p)) != HM_OK)
        goto done;
    rc = HM_ERR_NOMEM;
    if (!(p->tick = event_new(p->base, -1, EV_PERSIST, tick_cb, p)) ||
        !(p->resume = evtimer_new(p->base, resume_cb, p)))
        goto done;
    *out = p;
    p = NULL;
    rc = HM_OK;
done:
    free(cert);
    free(key);
    p2p_free(p);
    return rc;
}

static int add_target(p2p_t *p, const char *address)
{
    target_t *t = &p->targets[p->n_targets];
    memset(t, 0, sizeof *t);
    snprintf(t->address, sizeof t->address, "%s", address);
    if (config_split_hostport(address, t->host, sizeof t->host, &t->port) != HM_OK) {
        HM_LOG_WARN("p2p", "ignoring peer address '%s': not host:port", address);
        return HM_OK;
    }
    for (size_t i = 0; i < p->genesis->n_validators; i++)
        if (!strcmp(p->genesis->validators[i].address, address)) {
            if (!memcmp(p->genesis->validators[i].tls_fingerprint, p->own_fp, TLS_FP_LEN))
                return HM_OK; /* ourselves */
            t->fp_known = true;
            memcpy(t->fp, p->genesis->validators[i].tls_fingerprint, TLS_FP_LEN);
        }
    t->p2p = p;
    t->backoff_ms = P2P_BACKOFF_INITIAL_MS;
    if (!(t->timer = evtimer_new(p->base, dial_cb, t)))
        return HM_ERR_NOMEM;
    p->n_targets++;
    return HM_OK;
}

int p2p_start(p2p_t *p)
{
    int rc;
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (evutil_parse_sockaddr_port(p->cfg->listen, (struct sockaddr *)&ss, &sslen) != 0) {
        HM_LOG_ERR("p2p", "listen address '%s' must be a numeric IP:port", p->cfg->listen);
        return HM_ERR_INVALID;
    }
    p->listener = evconnlistener_new_bind(p->base, accept_cb, p,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                              LEV_OPT_CLOSE_ON_EXEC,
                                          P2P_BACKLOG, (struct sockaddr *)&ss, sslen);
    if (!p->listener) {
        HM_LOG_ERR("p2p", "cannot listen on %s: %s", p->cfg->listen,
                   evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return HM_ERR_IO;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(evconnlistener_get_fd(p->listener), (struct sockaddr *)&bound, &blen) == 0)
        p->listen_port = ntohs(bound.ss_family == AF_INET6
                                   ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                   : ((struct sockaddr_in *)&bound)->sin_port);
    evconnlistener_set_error_cb(p->listener, accept_error_cb);
    HM_LOG_INFO("p2p", "listening on %s", p->cfg->listen);

    size_t n = p->cfg->n_peers ? p->cfg->n_peers : p->genesis->n_validators;
    if (n && !(p->targets = calloc(n, sizeof *p->targets)))
        return HM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *a = p->cfg->n_peers ? p->cfg->peers[i] : p->genesis->validators[i].address;
        if ((rc = add_target(p, a)) != HM_OK)
            return rc;
    }
    for (size_t i = 0; i < p->n_targets; i++) {
        struct timeval tv = {0, 0};
        evtimer_add(p->targets[i].timer, &tv);
    }
    struct timeval tick = {0, TICK_MS * 1000};
    event_add(p->tick, &tick);
    return HM_OK;
}

void p2p_free(p2p_t *p)
{
    if (!p)
        return;
    /* No callbacks to the node during teardown. */
    p->on_peer = NULL;
    p->on_recv = NULL;
    while (p->conns) {
        conn_t *c = p->conns;
        c->target = NULL;
        conn_destroy(c);
    }
    for (size_t i = 0; i < p->n_targets; i++)
        if (p->targets[i].timer)
            event_free(p->targets[i].timer);
    free(p->targets);
    if (p->listener)
        evconnlistener_free(p->listener);
    if (p->tick)
        event_free(p->tick);
    if (p->resume)
        event_free(p->resume);
    tls_ctx_free(p->tls);
    free(p);
}

const uint8_t *p2p_own_fingerprint(const p2p_t *p)
{
    return p->own_fp;
}

int p2p_send_bytes(p2p_t *p, uint64_t peer_id, const uint8_t *env, size_t len)
{
    conn_t *c = find_conn(p, peer_id);
    if (!c || c->state != CONN_READY)
        return HM_ERR_NOT_FOUND;
    return conn_queue(c, env, len);
}

int p2p_send(p2p_t *p, uint64_t peer_id, const Hallmark__Envelope *env)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = hm_codec_encode(&bytes, &len, &env->base);
    if (rc == HM_OK)
        rc = p2p_send_bytes(p, peer_id, bytes, len);
    free(bytes);
    return rc;
}

int p2p_broadcast(p2p_t *p, const Hallmark__Envelope *env, bool validators_only, size_t *sent)
{
    uint8_t *bytes = NULL;
    size_t len = 0, n = 0;
    int rc = hm_codec_encode(&bytes, &len, &env->base);
    if (rc != HM_OK)
        goto done;
    rc = HM_ERR_TOO_LARGE;
    if (len == 0 || len > HM_MAX_FRAME_BYTES)
        goto done;
    conn_t *next;
    for (conn_t *c = p->conns; c; c = next) {
        next = c->next; /* conn_queue may destroy c */
        if (c->dead || c->state != CONN_READY ||
            (validators_only && c->st.info.validator_index < 0))
            continue;
        if (conn_queue(c, bytes, len) == HM_OK)
            n++;
    }
    rc = HM_OK;
done:
    free(bytes);
    if (sent)
        *sent = n;
    return rc;
}

void p2p_disconnect(p2p_t *p, uint64_t peer_id, const char *reason)
{
    conn_t *c = find_conn(p, peer_id);
    if (c)
        conn_close(c, HM_LOG_INFO, reason ? reason : "disconnected by the node");
}

void p2p_set_status(p2p_t *p, uint64_t height, uint64_t view,
                    const uint8_t last_block_hash[HM_HASH_LEN])
{
    p->height = height;
    p->view = view;
    if (last_block_hash)
        memcpy(p->last_hash, last_block_hash, HM_HASH_LEN);
}

size_t p2p_peer_count(const p2p_t *p)
{
    size_t n = 0;
    for (const conn_t *c = p->conns; c; c = c->next)
        if (!c->dead && c->state == CONN_READY)
            n++;
    return n;
}

size_t p2p_connection_count(const p2p_t *p)
{
    size_t n = 0;
    for (const conn_t *c = p->conns; c; c = c->next)
        if (!c->dead)
            n++;
    return n;
}

size_t p2p_peers(const p2p_t *p, p2p_peer_status_t *out, size_t max)
{
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (const conn_t *c = p->conns; c && n < max; c = c->next) {
            if (c->dead || (c->state == CONN_READY) != (pass == 0))
                continue;
            out[n] = c->st;
            out[n].ready = c->state == CONN_READY;
            out[n].queued_bytes = evbuffer_get_length(bufferevent_get_output(c->bev));
            n++;
        }
    return n;
}

uint16_t p2p_listen_port(const p2p_t *p)
{
    return p->listen_port;
}
