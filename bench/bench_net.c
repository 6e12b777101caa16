/* bench/bench_net — `hallmark-bench`: end-to-end figures of a local network
 * (issue 8) and a front door to the other benchmark programs.
 *
 *   hallmark-bench net [options]     committed tx/s, commit latency, blocks/s,
 *                                    view changes, peak RSS; and the bound
 *   hallmark-bench state|contracts   run hallmark-bench-state / -contracts
 *
 * `net` measures, in one run: (1) the bound, BIP340 verifications per second
 * on one core of this machine (hm_verify, timed in-process) x cores / N,
 * since every validator verifies every tx once; (2) a real network of N
 * hallmarkd validators on 127.0.0.1 (spawned: init, genesis with the tuned
 * block parameters, run; always stopped and removed at exit, even on error
 * or a signal) fed a pre-signed workload through POST /v1/txs (keep-alive
 * HTTP/1.1, the node's cookie as bearer), spread over the validators.
 * Or, with --attach/--devnet, a running network (e.g. contrib/devnet.sh),
 * which it never stops: fresh keys each run, accredited by a genesis
 * accreditor key the user passes; its genesis parameters are its own.
 *
 * Workload (doc/contracts.md rules, so the txs are APPLIED): K manufacturer
 * keys and one customer; setup phases (register identities; the genesis
 * accreditor accredits every manufacturer; each registers a recipe and
 * grants itself an unlimited licence), each waited for; then the measured
 * phase: per manufacturer MintCertificate (one serial) and TransferCustody
 * of that serial to the customer, alternating, each key with its own nonce
 * sequence. A key's txs all go to one validator (in nonce order: the mempool
 * and the relay keep that order). Every tx is signed before the clock runs.
 *
 * Latency: submit (the POST leaves) -> the block carrying the tx is seen
 * committed on validator 0 (GET /v1/blocks/{h}?raw=1 polled every 2 ms,
 * txids computed here). Prints figures only; asserts nothing on time.
 * Not part of hallmarkd. Depends on lib/, contracts/ (ids) and POSIX. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "contracts/contracts.h"
#include "lib/block.h"
#include "lib/hash.h"
#include "lib/hex.h"
#include "lib/keys.h"
#include "lib/tx.h"

#define MAX_NODES 16
#define MAX_CONNS 16 /* concurrent submitting connections per node */

/* ------------------------------------------------------------ utilities */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(((long long)(ms * 1e6)) % 1000000000LL)};
    nanosleep(&ts, NULL);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#include <stdarg.h>
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hallmark-bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2); /* the atexit handler stops the nodes */
}

/* Append one formatted value to a space-separated list in buf (cap bytes,
 * NUL-terminated; cut short when full). */
static void list_add(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void list_add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used && used + 1 < cap) {
        buf[used++] = ' ';
        buf[used] = 0;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        die("out of memory");
    return p;
}

/* ------------------------------------------------------- spawned nodes */

typedef struct {
    char host[64];
    int port;
    char cookie_path[512];
    char dir[512];
    pid_t pid; /* 0: unknown (attached without --pids) */
    bool ours; /* started here: stopped and removed at exit */
    int p2p_port;
} node_t;

/* Process-wide so the exit and signal handlers can stop what we started. */
static node_t g_nodes[MAX_NODES];
static size_t g_n_nodes;
static char g_root[256];
static bool g_keep;
static bool g_no_huge_pages; /* node_cache_huge_pages = false in each node's config */

static void stop_nodes(void)
{
    for (size_t i = 0; i < g_n_nodes; i++)
        if (g_nodes[i].ours && g_nodes[i].pid > 0)
            kill(g_nodes[i].pid, SIGTERM);
    for (size_t i = 0; i < g_n_nodes; i++) {
        if (!g_nodes[i].ours || g_nodes[i].pid <= 0)
            continue;
        int st;
        double end = now_s() + 10;
        while (waitpid(g_nodes[i].pid, &st, WNOHANG) == 0) {
            if (now_s() > end) {
                kill(g_nodes[i].pid, SIGKILL);
                waitpid(g_nodes[i].pid, &st, 0);
                break;
            }
            sleep_ms(20);
        }
        g_nodes[i].pid = 0;
    }
    if (g_root[0] && !g_keep) {
        pid_t p = fork();
        if (p == 0) {
            execlp("rm", "rm", "-rf", g_root, (char *)NULL);
            _exit(127);
        }
        if (p > 0)
            waitpid(p, NULL, 0);
        g_root[0] = 0;
    }
}

static void on_signal(int sig)
{
    (void)sig;
    exit(3); /* runs stop_nodes */
}

/* Run argv, capture stdout into out (NUL-terminated, truncated to cap). */
static int run_capture(char *const argv[], char *out, size_t cap)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t p = fork();
    if (p < 0)
        return -1;
    if (p == 0) {
        dup2(fds[1], 1);
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0)
            dup2(nul, 2);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fds[0], out + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap - 1)
            break;
    }
    out[n] = 0;
    close(fds[0]);
    int st;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        die("no free port");
    close(fd);
    return ntohs(a.sin_port);
}

/* --------------------------------------------------------- HTTP client */

typedef struct {
    const node_t *node;
    int fd;
    char auth[160];
    char *resp;
    size_t resp_cap;
} hc_t;

static void hc_init(hc_t *c, const node_t *n)
{
    memset(c, 0, sizeof *c);
    c->node = n;
    c->fd = -1;
}

static void hc_close(hc_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void hc_free(hc_t *c)
{
    hc_close(c);
    free(c->resp);
    c->resp = NULL;
}

static bool hc_load_auth(hc_t *c)
{
    FILE *f = fopen(c->node->cookie_path, "r");
    if (!f)
        return false;
    char line[256] = {0};
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *colon = strchr(line, ':');
    if (!ok || !colon)
        return false;
    colon[1 + strcspn(colon + 1, "\r\n")] = 0;
    snprintf(c->auth, sizeof c->auth, "%s", colon + 1);
    return true;
}

static bool hc_connect(hc_t *c)
{
    if (!c->auth[0] && !hc_load_auth(c))
        return false;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)c->node->port);
    inet_pton(AF_INET, c->node->host, &a.sin_addr);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        hc_close(c);
        return false;
    }
    return true;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* One request on the keep-alive connection (reconnects once). Returns the
 * HTTP status (0 on failure); *body points into c's buffer (NUL-ended). */
static int hc_request(hc_t *c, const char *method, const char *path, const char *body,
                      size_t blen, char **resp_body, size_t *resp_len)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && !hc_connect(c))
            return 0;
        char head[512];
        int hl = snprintf(head, sizeof head,
                          "%s %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                          "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                          method, path, c->node->host, c->node->port, c->auth, blen);
        if (!write_all(c->fd, head, (size_t)hl) || (blen && !write_all(c->fd, body, blen))) {
            hc_close(c);
            continue;
        }
        size_t n = 0, hend = 0;
        long clen = -1;
        int status = 0;
        bool closing = false;
        for (;;) {
            if (c->resp_cap - n < 65536) {
                c->resp_cap = c->resp_cap ? c->resp_cap * 2 : 1 << 20;
                c->resp = realloc(c->resp, c->resp_cap);
                if (!c->resp)
                    die("out of memory");
            }
            ssize_t r = recv(c->fd, c->resp + n, c->resp_cap - n - 1, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            n += (size_t)r;
            c->resp[n] = 0;
            if (!hend) {
                char *e = strstr(c->resp, "\r\n\r\n");
                if (!e)
                    continue;
                hend = (size_t)(e - c->resp) + 4;
                status = atoi(c->resp + 9);
                for (char *l = strstr(c->resp, "\r\n"); l && l < e; l = strstr(l + 2, "\r\n")) {
                    if (!strncasecmp(l + 2, "Content-Length:", 15))
                        clen = atol(l + 17);
                    if (!strncasecmp(l + 2, "Connection: close", 17))
                        closing = true;
                }
            }
            if (hend && clen >= 0 && n >= hend + (size_t)clen)
                break;
        }
        if (!hend || clen < 0 || n < hend + (size_t)clen) {
            hc_close(c);
            if (n == 0)
                continue; /* the idle connection was closed: retry once */
            return 0;
        }
        if (closing)
            hc_close(c);
        *resp_body = c->resp + hend;
        *resp_len = (size_t)clen;
        c->resp[hend + (size_t)clen] = 0;
        return status;
    }
    return 0;
}

/* The integer after "key": in a compact JSON text (-1 when absent). */
static long long json_int(const char *s, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(s, k);
    return p ? atoll(p + strlen(k)) : -1;
}

/* ------------------------------------------------------------- workload */

typedef struct {
    uint8_t sk[32], pk[32], gid[HM_GID_LEN];
    uint64_t nonce;
    uint8_t recipe[32], licence[32];
    int node;
} key_t_;

typedef struct {
    char *hex; /* SignedTx hex */
    size_t hexlen;
    uint8_t txid[32];
    _Atomic double t_submit, t_commit; /* 0: not yet */
    uint8_t kind; /* 0 setup, 1 mint, 2 transfer */
} wtx_t;

static uint8_t g_chain_id[32];

/* Mixed into every bench key: zero for a network started here, random for
 * an attached one, whose earlier runs registered the keys of salt zero. */
static uint8_t g_key_salt[8];
/* "" for a network started here, else "-" and 8 hex digits of the salt:
 * appended to serials, batch ids and recipe names, unique in the ledger. */
static char g_run_tag[10];

static void bench_key(key_t_ *k, uint64_t seed)
{
    uint8_t in[24] = "hm-bench-key";
    memcpy(in + 16, g_key_salt, sizeof g_key_salt);
    for (;;) {
        memcpy(in + 12, &seed, 4);
        hm_tagged_hash(k->sk, "hallmark/bench-key", in, sizeof in);
        if (hm_key_pubkey(k->pk, k->sk) == HM_OK)
            return;
        seed += 0x10000;
    }
}

static void fill_tx(Hallmark__Tx *tx, key_t_ *signer, uint64_t nonce, bool actor)
{
    Hallmark__Tx init = HALLMARK__TX__INIT;
    *tx = init;
    tx->chain_id = (ProtobufCBinaryData){32, g_chain_id};
    tx->signer = (ProtobufCBinaryData){32, signer->pk};
    tx->nonce = nonce;
    if (actor)
        tx->actor = (ProtobufCBinaryData){HM_GID_LEN, signer->gid};
}

static void sign_into(wtx_t *w, const Hallmark__Tx *tx, const key_t_ *k)
{
    uint8_t *b = NULL;
    size_t len = 0;
    if (hm_tx_sign(&b, &len, w->txid, tx, k->sk) != HM_OK)
        die("signing failed");
    w->hex = malloc(2 * len + 1);
    if (!w->hex)
        die("out of memory");
    hm_hex_encode(w->hex, b, len);
    w->hexlen = 2 * len;
    free(b);
}

/* Main-phase tx j of manufacturer m: even j mints serial j/2, odd j
 * transfers it to the customer. */
static void build_main(wtx_t *w, key_t_ *m, size_t mi, uint64_t j, const uint8_t cust_gid[20])
{
    char serial[64], batch[64];
    char *s[] = {serial};
    snprintf(serial, sizeof serial, "BN-%03zu-%08llu%s", mi, (unsigned long long)(j / 2),
             g_run_tag);
    Hallmark__Tx tx;
    fill_tx(&tx, m, 3 + j, true);
    Hallmark__MintCertificate mc = HALLMARK__MINT_CERTIFICATE__INIT;
    Hallmark__TransferCustody tc = HALLMARK__TRANSFER_CUSTODY__INIT;
    if (j % 2 == 0) {
        snprintf(batch, sizeof batch, "LOT-%03zu-%08llu%s", mi, (unsigned long long)(j / 2),
                 g_run_tag);
        mc.batch_id = batch;
        mc.recipe_hash = (ProtobufCBinaryData){32, m->recipe};
        mc.licence_id = (ProtobufCBinaryData){32, m->licence};
        mc.quantity = 1;
        mc.part_serials = s;
        mc.n_part_serials = 1;
        tx.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
        tx.mint_certificate = &mc;
        w->kind = 1;
    } else {
        tc.serials = s;
        tc.n_serials = 1;
        tc.to = (ProtobufCBinaryData){HM_GID_LEN, (uint8_t *)cust_gid};
        tx.body_case = HALLMARK__TX__BODY_TRANSFER_CUSTODY;
        tx.transfer_custody = &tc;
        w->kind = 2;
    }
    sign_into(w, &tx, m);
}

typedef struct {
    wtx_t *txs;
    key_t_ *mfrs;
    size_t n_mfrs, per_mfr, from, to;
    const uint8_t *cust_gid;
} sign_job_t;

static void *sign_worker(void *arg)
{
    sign_job_t *j = arg;
    for (size_t i = j->from; i < j->to; i++) {
        size_t m = i % j->n_mfrs, k = i / j->n_mfrs; /* round robin over keys */
        build_main(&j->txs[i], &j->mfrs[m], m, k, j->cust_gid);
    }
    hm_hash_thread_cleanup(); /* this thread's cached digest contexts */
    return NULL;
}

/* txid -> index (open addressing, filled before the run, read-only after). */
typedef struct {
    size_t *slot; /* index + 1; 0 empty */
    size_t mask;
    wtx_t *txs;
} txmap_t;

static size_t tm_hash(const uint8_t id[32])
{
    size_t v;
    memcpy(&v, id, sizeof v);
    return v;
}

static void tm_build(txmap_t *m, wtx_t *txs, size_t n)
{
    size_t cap = 1024;
    while (cap < 2 * n)
        cap <<= 1;
    m->slot = xcalloc(cap, sizeof *m->slot);
    m->mask = cap - 1;
    m->txs = txs;
    for (size_t i = 0; i < n; i++) {
        size_t h = tm_hash(txs[i].txid) & m->mask;
        while (m->slot[h])
            h = (h + 1) & m->mask;
        m->slot[h] = i + 1;
    }
}

static wtx_t *tm_get(const txmap_t *m, const uint8_t id[32])
{
    for (size_t h = tm_hash(id) & m->mask; m->slot[h]; h = (h + 1) & m->mask)
        if (!memcmp(m->txs[m->slot[h] - 1].txid, id, 32))
            return &m->txs[m->slot[h] - 1];
    return NULL;
}

/* ------------------------------------------------------------ submitting */

typedef struct {
    const node_t *node;
    wtx_t *txs;
    size_t *order; /* indexes of this node's txs, in submit order */
    size_t n;
    double rate;   /* tx/s for this node, 0: as fast as accepted */
    size_t batch;  /* max txs per POST */
    double t0, t_end;
    size_t window; /* rate 0: max txs submitted and not yet committed (all nodes) */
    atomic_size_t *inflight;
    /* out */
    size_t sent, refused, full_retries, http_errors;
    double post_s; /* time inside POSTs */
} sub_t;

static atomic_size_t g_committed_seen;

static void *submitter(void *arg)
{
    sub_t *s = arg;
    hc_t c;
    hc_init(&c, s->node);
    char *body = NULL;
    size_t cap = 0, i = 0;
    while (i < s->n) {
        double t = now_s();
        if (t >= s->t_end)
            break;
        size_t due = s->batch;
        if (s->rate > 0) {
            double want = (t - s->t0) * s->rate;
            due = want > (double)i ? (size_t)(want - (double)i) : 0;
            if (due == 0) {
                sleep_ms(2);
                continue;
            }
            if (due > s->batch)
                due = s->batch;
        } else if (atomic_load(s->inflight) >= s->window) {
            sleep_ms(2);
            continue;
        }
        if (due > s->n - i)
            due = s->n - i;
        size_t need = 16;
        for (size_t k = 0; k < due; k++)
            need += s->txs[s->order[i + k]].hexlen + 3;
        if (need > cap) {
            cap = need * 2;
            body = realloc(body, cap);
            if (!body)
                die("out of memory");
        }
        size_t bl = 0;
        memcpy(body, "{\"txs\":[", 8);
        bl = 8;
        for (size_t k = 0; k < due; k++) {
            const wtx_t *w = &s->txs[s->order[i + k]];
            if (k)
                body[bl++] = ',';
            body[bl++] = '"';
            memcpy(body + bl, w->hex, w->hexlen);
            bl += w->hexlen;
            body[bl++] = '"';
        }
        memcpy(body + bl, "]}", 2);
        bl += 2;
        double ts = now_s();
        for (size_t k = 0; k < due; k++)
            atomic_store(&s->txs[s->order[i + k]].t_submit, ts);
        atomic_fetch_add(s->inflight, due);
        char *resp;
        size_t rlen;
        int st = hc_request(&c, "POST", "/v1/txs", body, bl, &resp, &rlen);
        s->post_s += now_s() - ts;
        if (st != 200) {
            for (size_t k = 0; k < due; k++)
                atomic_store(&s->txs[s->order[i + k]].t_submit, 0.0);
            atomic_fetch_sub(s->inflight, due);
            s->http_errors++;
            sleep_ms(st == 503 ? 20 : 100);
            continue;
        }
        /* per slot: "txid" (admitted or duplicate) or "error" */
        size_t k = 0, first_full = SIZE_MAX;
        for (const char *p = resp; k < due && (p = strpbrk(p, "{")) != NULL; p++) {
            if (!strncmp(p, "{\"txid\"", 7)) {
                k++;
            } else if (!strncmp(p, "{\"error\"", 8)) {
                if (strncmp(p, "{\"error\":{\"code\":\"mempool_full\"", 31) == 0) {
                    if (first_full == SIZE_MAX)
                        first_full = k;
                } else if (first_full == SIZE_MAX) {
                    s->refused++;
                    atomic_store(&s->txs[s->order[i + k]].t_submit, 0.0);
                    atomic_fetch_sub(s->inflight, 1);
                }
                k++;
                p = strstr(p, "}}");
                if (!p)
                    break;
            }
        }
        if (first_full != SIZE_MAX) {
            for (size_t q = first_full; q < due; q++)
                atomic_store(&s->txs[s->order[i + q]].t_submit, 0.0);
            atomic_fetch_sub(s->inflight, due - first_full);
            s->full_retries++;
            due = first_full;
            sleep_ms(10);
        }
        i += due;
        s->sent += due;
    }
    free(body);
    hc_free(&c);
    hm_hash_thread_cleanup();
    return NULL;
}

/* ------------------------------------------------------------- polling */

typedef struct {
    const node_t *node;
    const txmap_t *map;
    uint64_t next_height;
    volatile bool stop;
    atomic_size_t *inflight;
    /* out: per block */
    double *bt;   /* when the poller saw it committed */
    uint64_t *bh; /* its header's time_ms (the primary's clock at proposal) */
    size_t *bn;
    size_t nb, capb;
} poll_t;

static void *poller(void *arg)
{
    poll_t *p = arg;
    hc_t c;
    hc_init(&c, p->node);
    while (!p->stop) {
        char path[64], *resp;
        size_t rlen;
        snprintf(path, sizeof path, "/v1/blocks/%llu?raw=1", (unsigned long long)p->next_height);
        int st = hc_request(&c, "GET", path, NULL, 0, &resp, &rlen);
        double t = now_s();
        if (st != 200) {
            sleep_ms(2);
            continue;
        }
        char *h = strstr(resp, "\"block\":\"");
        if (!h)
            continue;
        h += 9;
        size_t hl = strcspn(h, "\"");
        uint8_t *raw = NULL;
        size_t rawlen = 0;
        hm_block_t *b = NULL;
        hm_hash32_t *ids = NULL;
        if (hm_hex_decode_alloc(&raw, &rawlen, h, hl, 16u << 20) != HM_OK ||
            hm_block_decode(&b, raw, rawlen) != HM_OK || hm_block_txids(&ids, b->block) != HM_OK)
            die("cannot decode block %llu", (unsigned long long)p->next_height);
        size_t ours = 0;
        for (size_t i = 0; i < b->block->n_txs; i++) {
            wtx_t *w = tm_get(p->map, ids[i]);
            if (w && atomic_load(&w->t_commit) == 0.0) {
                atomic_store(&w->t_commit, t);
                ours++;
            }
        }
        atomic_fetch_sub(p->inflight, ours);
        atomic_fetch_add(&g_committed_seen, ours);
        if (p->nb == p->capb) {
            p->capb = p->capb ? 2 * p->capb : 1024;
            p->bt = realloc(p->bt, p->capb * sizeof *p->bt);
            p->bh = realloc(p->bh, p->capb * sizeof *p->bh);
            p->bn = realloc(p->bn, p->capb * sizeof *p->bn);
            if (!p->bt || !p->bh || !p->bn)
                die("out of memory");
        }
        p->bt[p->nb] = t;
        p->bh[p->nb] = b->header->time_ms;
        p->bn[p->nb++] = b->block->n_txs;
        free(ids);
        hm_block_free(b);
        free(raw);
        p->next_height++;
    }
    hc_free(&c);
    hm_hash_thread_cleanup();
    return NULL;
}

/* --------------------------------------------------------------- phases */

static uint64_t node_height(const node_t *n)
{
    hc_t c;
    hc_init(&c, n);
    char *r;
    size_t l;
    long long h = -1;
    if (hc_request(&c, "GET", "/v1/status", NULL, 0, &r, &l) == 200)
        h = json_int(r, "height");
    hc_free(&c);
    return h < 0 ? 0 : (uint64_t)h;
}

/* Submit setup txs (each to its signer's node) and wait until every one is
 * committed; die unless all applied. */
static void run_setup(const char *what, wtx_t *txs, const int *node_of, size_t n, size_t n_nodes)
{
    for (size_t v = 0; v < n_nodes; v++) {
        hc_t c;
        hc_init(&c, &g_nodes[v]);
        size_t cap = 64;
        for (size_t i = 0; i < n; i++)
            cap += txs[i].hexlen + 3;
        char *body = xcalloc(cap, 1), *r;
        size_t bl = 8, k = 0, l;
        memcpy(body, "{\"txs\":[", 8);
        for (size_t i = 0; i < n; i++) {
            if (node_of[i] != (int)v)
                continue;
            if (k++)
                body[bl++] = ',';
            body[bl++] = '"';
            memcpy(body + bl, txs[i].hex, txs[i].hexlen);
            bl += txs[i].hexlen;
            body[bl++] = '"';
        }
        memcpy(body + bl, "]}", 2);
        bl += 2;
        if (k) {
            int st = hc_request(&c, "POST", "/v1/txs", body, bl, &r, &l);
            if (st != 200 || json_int(r, "accepted") != (long long)k)
                die("setup (%s): node %zu accepted %lld of %zu (HTTP %d)", what, v,
                    json_int(r, "accepted"), k, st);
        }
        free(body);
        hc_free(&c);
    }
    hc_t c;
    hc_init(&c, &g_nodes[0]);
    double end = now_s() + 60;
    for (size_t i = 0; i < n; i++) {
        char path[128], id[65], *r;
        size_t l;
        hm_hex_encode(id, txs[i].txid, 32);
        snprintf(path, sizeof path, "/v1/tx/%s", id);
        for (;;) {
            int st = hc_request(&c, "GET", path, NULL, 0, &r, &l);
            if (st == 200 && strstr(r, "\"committed\"")) {
                if (!strstr(r, "\"applied\":true"))
                    die("setup (%s): tx %zu not applied: %s", what, i, r);
                break;
            }
            if (now_s() > end)
                die("setup (%s): tx %zu not committed within 60 s", what, i);
            sleep_ms(20);
        }
    }
    hc_free(&c);
}

/* Wait (secs at most) until each of the first n nodes answers /v1/status
 * with at least `peers` peers connected, all on one chain; g_chain_id is
 * set from their answers. */
static void wait_ready(size_t n, size_t peers, double secs)
{
    double end = now_s() + secs;
    for (size_t i = 0; i < n; i++) {
        for (;;) {
            hc_t c;
            hc_init(&c, &g_nodes[i]);
            char *r;
            size_t l;
            int st = hc_request(&c, "GET", "/v1/status", NULL, 0, &r, &l);
            bool ok = st == 200 && json_int(r, "peers_connected") >= (long long)peers;
            const char *q = ok ? strstr(r, "\"chain_id\":\"") : NULL;
            uint8_t id[32];
            char h[65] = "";
            if (q && strlen(q + 12) >= 64)
                memcpy(h, q + 12, 64);
            h[64] = 0;
            if (ok && hm_hex_decode(id, 32, h) != HM_OK)
                die("node %zu (%s:%d) sent no chain id in /v1/status", i, g_nodes[i].host,
                    g_nodes[i].port);
            if (ok && i > 0 && memcmp(id, g_chain_id, 32) != 0)
                die("node %zu (%s:%d) is on another chain than node 0", i, g_nodes[i].host,
                    g_nodes[i].port);
            if (ok)
                memcpy(g_chain_id, id, 32);
            hc_free(&c);
            if (ok)
                break;
            if (now_s() > end) {
                if (g_nodes[i].ours)
                    die("node %zu not up and meshed within %.0f s (see %s/stderr.log)", i,
                        secs, g_nodes[i].dir);
                die("node %zu (%s:%d) did not answer GET /v1/status within %.0f s%s", i,
                    g_nodes[i].host, g_nodes[i].port, secs,
                    st == 401 ? " (HTTP 401: wrong --rpc-cookie?)" : "");
            }
            sleep_ms(50);
        }
    }
}

static void start_network(size_t n, const char *hallmarkd, const uint8_t acc_pk[32],
                          size_t max_block_txs, size_t max_block_bytes, unsigned batch_ms,
                          unsigned vc_ms)
{
    char tmpl[] = "/tmp/hm-bench-net-XXXXXX";
    const char *tmp = getenv("TMPDIR");
    if (tmp && *tmp)
        snprintf(g_root, sizeof g_root, "%s/hm-bench-net-XXXXXX", tmp);
    else
        snprintf(g_root, sizeof g_root, "%s", tmpl);
    if (!mkdtemp(g_root))
        die("mkdtemp: %s", strerror(errno));
    char out[8192];
    for (size_t i = 0; i < n; i++) {
        node_t *nd = &g_nodes[i];
        snprintf(nd->host, sizeof nd->host, "127.0.0.1");
        nd->port = free_port();
        nd->p2p_port = free_port();
        snprintf(nd->dir, sizeof nd->dir, "%s/n%zu", g_root, i);
        snprintf(nd->cookie_path, sizeof nd->cookie_path, "%s/.cookie", nd->dir);
        char name[32], listen[64], rpc[64];
        snprintf(name, sizeof name, "val%zu", i);
        snprintf(listen, sizeof listen, "127.0.0.1:%d", nd->p2p_port);
        snprintf(rpc, sizeof rpc, "127.0.0.1:%d", nd->port);
        char *argv[] = {(char *)hallmarkd, "init", "--datadir", nd->dir, "--name", name,
                        "--listen", listen, "--rpc-bind", rpc, NULL};
        if (run_capture(argv, out, sizeof out) != 0)
            die("hallmarkd init failed (is %s built?)", hallmarkd);
        if (g_no_huge_pages) {
            char conf[700];
            snprintf(conf, sizeof conf, "%s/hallmarkd.conf", nd->dir);
            FILE *f = fopen(conf, "a");
            if (!f || fputs("node_cache_huge_pages = false\n", f) < 0 || fclose(f) != 0)
                die("cannot write %s", conf);
        }
    }
    g_n_nodes = n;
    char gen[600], txs[32], bytes[32], bms[32], vcs[32], acc[128], pkhex[65];
    snprintf(gen, sizeof gen, "%s/genesis.json", g_root);
    snprintf(txs, sizeof txs, "%zu", max_block_txs);
    snprintf(bytes, sizeof bytes, "%zu", max_block_bytes);
    snprintf(bms, sizeof bms, "%u", batch_ms);
    snprintf(vcs, sizeof vcs, "%u", vc_ms);
    hm_hex_encode(pkhex, acc_pk, 32);
    snprintf(acc, sizeof acc, "Bench:OPERATOR:%s", pkhex);
    char *argv[64] = {(char *)hallmarkd, "genesis", "-o", gen, "--chain-name", "bench",
                      "--max-block-txs", txs, "--max-block-bytes", bytes,
                      "--batch-timeout-ms", bms, "--view-change-timeout-ms", vcs,
                      "--accreditor", acc};
    int a = 16;
    char recs[MAX_NODES][600];
    for (size_t i = 0; i < n; i++) {
        snprintf(recs[i], sizeof recs[i], "%s/validator.json", g_nodes[i].dir);
        argv[a++] = "--validator";
        argv[a++] = recs[i];
    }
    argv[a] = NULL;
    if (run_capture(argv, out, sizeof out) != 0)
        die("hallmarkd genesis failed");
    for (size_t i = 0; i < n; i++) {
        char dst[700];
        snprintf(dst, sizeof dst, "%s/genesis.json", g_nodes[i].dir);
        char *cp[] = {"/bin/cp", gen, dst, NULL};
        if (run_capture(cp, out, sizeof out) != 0)
            die("cannot copy the genesis file");
    }
    for (size_t i = 0; i < n; i++) {
        char log[700];
        snprintf(log, sizeof log, "%s/stderr.log", g_nodes[i].dir);
        pid_t p = fork();
        if (p < 0)
            die("fork: %s", strerror(errno));
        if (p == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
            execl(hallmarkd, hallmarkd, "run", "--datadir", g_nodes[i].dir, (char *)NULL);
            _exit(127);
        }
        g_nodes[i].pid = p;
        g_nodes[i].ours = true;
    }
    wait_ready(n, n - 1, 30);
}

/* ------------------------------------------------------- attached nodes */

/* Split a comma-separated list in place; returns the count (at most max). */
static size_t split_list(char *s, char **out, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max)
            die("more than %zu entries in '%s...'", max, out[0]);
        out[n++] = tok;
    }
    return n;
}

/* "http://HOST:PORT", "HOST:PORT" (HOST an IPv4 address or localhost). */
static void parse_url(node_t *nd, const char *url)
{
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    const char *colon = strrchr(p, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    size_t hl = colon ? (size_t)(colon - p) : 0;
    if (!colon || hl == 0 || hl >= sizeof nd->host || !end || (*end && strcmp(end, "/") != 0) ||
        port < 1 || port > 65535)
        die("--attach: '%s' is not http://HOST:PORT", url);
    memcpy(nd->host, p, hl);
    nd->host[hl] = 0;
    if (strcmp(nd->host, "localhost") == 0)
        snprintf(nd->host, sizeof nd->host, "127.0.0.1");
    struct in_addr a;
    if (inet_pton(AF_INET, nd->host, &a) != 1)
        die("--attach: '%s': the host must be an IPv4 address or localhost", url);
    nd->port = (int)port;
}

typedef struct {
    char *urls, *cookies, *pids, *devnet; /* as given, NULL: not */
} attach_opts_t;

/* Fill g_nodes from --devnet DIR (its devnet.state: "name pid datadir url"
 * per validator, cookie datadir/.cookie) or from --attach, --rpc-cookie and
 * --pids. Returns the node count. */
static size_t attach_nodes(const attach_opts_t *o)
{
    size_t n = 0;
    if (o->devnet) {
        char path[600], line[1200];
        snprintf(path, sizeof path, "%s/devnet.state", o->devnet);
        FILE *f = fopen(path, "r");
        if (!f)
            die("--devnet: cannot read %s (%s): start one with contrib/devnet.sh up --dir %s",
                path, strerror(errno), o->devnet);
        while (fgets(line, sizeof line, f)) {
            char name[64], dir[400], url[256];
            long pid;
            if (sscanf(line, "%63s %ld %399s %255s", name, &pid, dir, url) != 4)
                continue;
            if (n == MAX_NODES)
                die("--devnet: more than %d validators", MAX_NODES);
            node_t *nd = &g_nodes[n++];
            parse_url(nd, url);
            nd->pid = pid > 0 && kill((pid_t)pid, 0) == 0 ? (pid_t)pid : 0;
            snprintf(nd->dir, sizeof nd->dir, "%s", dir);
            snprintf(nd->cookie_path, sizeof nd->cookie_path, "%s/.cookie", dir);
        }
        fclose(f);
        if (n == 0)
            die("--devnet: no validators in %s", path);
    } else {
        char *urls[MAX_NODES], *cookies[MAX_NODES], *pids[MAX_NODES];
        char *ub = strdup(o->urls), *cb = o->cookies ? strdup(o->cookies) : NULL;
        char *pb = o->pids ? strdup(o->pids) : NULL;
        if (!ub || (o->cookies && !cb) || (o->pids && !pb))
            die("out of memory");
        n = split_list(ub, urls, MAX_NODES);
        size_t nc = cb ? split_list(cb, cookies, MAX_NODES) : 0;
        size_t np = pb ? split_list(pb, pids, MAX_NODES) : 0;
        if (n == 0)
            die("--attach: no URL given");
        if (nc != 1 && nc != n)
            die("--rpc-cookie: give one cookie file for all nodes or one per --attach URL "
                "(%zu URLs, %zu files)", n, nc);
        if (pb && np != n)
            die("--pids: give one PID per --attach URL (%zu URLs, %zu PIDs)", n, np);
        for (size_t i = 0; i < n; i++) {
            node_t *nd = &g_nodes[i];
            parse_url(nd, urls[i]);
            snprintf(nd->cookie_path, sizeof nd->cookie_path, "%s", cookies[nc == 1 ? 0 : i]);
            char *end = NULL;
            long pid = pb ? strtol(pids[i], &end, 10) : 0;
            if (pb && (!end || *end || pid < 1))
                die("--pids: '%s' is not a process id", pids[i]);
            if (pb && kill((pid_t)pid, 0) != 0)
                die("--pids: no process %ld (%s)", pid, strerror(errno));
            nd->pid = (pid_t)pid;
        }
        free(ub);
        free(cb);
        free(pb);
    }
    for (size_t i = 0; i < n; i++)
        if (access(g_nodes[i].cookie_path, R_OK) != 0)
            die("cannot read the RPC cookie %s of node %zu (%s)", g_nodes[i].cookie_path, i,
                strerror(errno));
    g_n_nodes = n;
    wait_ready(n, 0, 5); /* running already */
    return n;
}

/* Validators in the attached network (GET /v1/validators on node 0). */
static size_t attached_validators(void)
{
    hc_t c;
    hc_init(&c, &g_nodes[0]);
    char *r;
    size_t l, n = 0;
    if (hc_request(&c, "GET", "/v1/validators", NULL, 0, &r, &l) == 200)
        for (const char *p = r; (p = strstr(p, "\"index\":")) != NULL; p++)
            n++;
    hc_free(&c);
    if (n == 0)
        die("node 0 (%s:%d): GET /v1/validators listed none", g_nodes[0].host, g_nodes[0].port);
    return n;
}

/* The next nonce of pk at node 0 (GET /v1/nonce/{pubkey}). */
static uint64_t attached_nonce(const uint8_t pk[32])
{
    char path[128], hex[65], *r;
    size_t l;
    hm_hex_encode(hex, pk, 32);
    snprintf(path, sizeof path, "/v1/nonce/%s", hex);
    hc_t c;
    hc_init(&c, &g_nodes[0]);
    long long v = hc_request(&c, "GET", path, NULL, 0, &r, &l) == 200 ? json_int(r, "nonce") : -1;
    hc_free(&c);
    if (v < 0)
        die("node 0: GET %s failed", path);
    return (uint64_t)v;
}

/* The secret key in file (64 hex digits, as `hallmark-wallet key export
 * NAME --raw` writes it). */
static void read_key_file(key_t_ *k, const char *file)
{
    char buf[130] = "";
    FILE *f = fopen(file, "r");
    if (!f)
        die("--accreditor-key: cannot read %s (%s)", file, strerror(errno));
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (got && (buf[got - 1] == '\n' || buf[got - 1] == '\r' || buf[got - 1] == ' '))
        got--;
    buf[got] = 0;
    if (got != 64 || hm_hex_decode(k->sk, 32, buf) != HM_OK ||
        hm_key_pubkey(k->pk, k->sk) != HM_OK)
        die("--accreditor-key: %s does not hold a secret key as 64 hex digits", file);
    hm_wipe(buf, sizeof buf);
}

/* ---------------------------------------------------------------- bound */

/* BIP340 verifications per second on this thread, over ~secs. */
static double verify_rate(double secs)
{
    key_t_ k;
    bench_key(&k, 999);
    enum { M = 64 };
    uint8_t msg[M][32], sig[M][64];
    for (int i = 0; i < M; i++) {
        hm_tagged_hash(msg[i], "hallmark/bench-msg", &i, sizeof i);
        if (hm_sign(sig[i], k.sk, msg[i], NULL) != HM_OK)
            die("sign failed");
    }
    size_t n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < M; i++)
            if (!hm_verify(sig[i], msg[i], 32, k.pk))
                die("verify failed");
        n += M;
        t = now_s();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

/* The number after `key` in /proc/<pid>/<file> ("key: value" lines, e.g.
 * status VmHWM: in KiB, io write_bytes:); -1 when it cannot be read. */
static double proc_value(pid_t pid, const char *file, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    FILE *f = fopen(path, "r");
    size_t kl = strlen(key);
    double v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl))
            v = (double)strtoull(line + kl, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static long vm_hwm_kib(pid_t pid)
{
    return (long)proc_value(pid, "status", "VmHWM:");
}

/* CPU seconds (user + system, all threads) a process has used so far;
 * -1 when it cannot be read. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* comm may hold spaces */
    unsigned long long ut = 0, st = 0;
    /* after ") ": state(3) ... utime is field 14, stime 15 */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Bytes a process has caused to be written to storage so far (its own
 * writes and the flushes it triggered, e.g. LevelDB's log, tables and
 * compactions); -1 when it cannot be read. */
static double proc_write_bytes(pid_t pid)
{
    return proc_value(pid, "io", "write_bytes:");
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char NET_USAGE[] =
    "usage: hallmark-bench net [options]\n"
    "\n"
    "Starts N local validators (hallmarkd init/genesis/run on free 127.0.0.1\n"
    "ports, removed at exit) or attaches to running ones (below), pre-signs a\n"
    "mint/transfer workload with many keys, submits it through POST /v1/txs and\n"
    "prints committed tx/s, commit latency p50/p90/p99, blocks/s, block size,\n"
    "view changes, peak RSS, and the bound (BIP340 verifications/s per core x\n"
    "cores / N).\n"
    "\n"
    "  --nodes N              validators (default 4)\n"
    "  --duration S           seconds of submission (default 30)\n"
    "  --rate R               offered tx/s over all nodes; 0 = as fast as accepted\n"
    "                         (default 0)\n"
    "  --txs N                txs to pre-sign (default: enough for the duration)\n"
    "  --signers K            manufacturer keys (default 64)\n"
    "  --batch B              max txs per POST (default 1000)\n"
    "  --conns C              concurrent submitting connections per node (default\n"
    "                         16 in all, at least 4 per node, at most 16; a signer's\n"
    "                         txs always go through one, in nonce order)\n"
    "  --window W             rate 0: max submitted-uncommitted txs (default 40000)\n"
    "  --max-block-txs N      genesis parameter (default 10000)\n"
    "  --max-block-bytes N    genesis parameter (default 4194304, at most 8388608)\n"
    "  --batch-timeout-ms MS  genesis parameter (default 5)\n"
    "  --view-change-timeout-ms MS  genesis parameter (default 5000)\n"
    "  --hallmarkd PATH       (default: node/hallmarkd next to bench/)\n"
    "  --quick                a few seconds, small workload (make check)\n"
    "  --no-huge-pages        set node_cache_huge_pages = false in each node's config\n"
    "                         (hallmarkd's default is true)\n"
    "  --keep                 keep the network's data directory\n"
    "  --help\n"
    "\n"
    "A running network instead (never stopped; fresh keys each run; --nodes,\n"
    "--hallmarkd, the genesis parameters, --no-huge-pages and --keep are refused):\n"
    "  --attach URL[,URL...]  validators to submit to (http://IPv4:PORT); node 0\n"
    "                         is polled; the bound divides by all the network's\n"
    "                         validators (GET /v1/validators)\n"
    "  --rpc-cookie FILE[,FILE...]  each node's RPC cookie (one for all, or one\n"
    "                         per URL)\n"
    "  --pids PID[,PID...]    the nodes' processes, for CPU, disk and RSS figures\n"
    "                         (optional; without them those lines are left out)\n"
    "  --devnet DIR           a contrib/devnet.sh network: URLs, cookies and PIDs\n"
    "                         from DIR/devnet.state\n"
    "  --accreditor-key FILE  secret key of a genesis accreditor of that network,\n"
    "                         64 hex digits (`hallmark-wallet key export NAME --raw\n"
    "                         -o FILE`); it accredits this run's manufacturers\n";

static int cmd_net(int argc, char **argv, const char *self)
{
    size_t n_nodes = 4, n_txs = 0, n_mfrs = 64, batch = 1000, window = 40000, max_block_txs = 10000;
    size_t conns = 0, max_block_bytes = 4u << 20; /* conns 0: not given */
    double duration = 30, rate = 0;
    unsigned batch_ms = 5, vc_ms = 5000;
    bool quick = false;
    attach_opts_t att = {0};
    const char *acc_key_file = NULL;
    const char *spawn_opt = NULL; /* an option that only applies to a started network */
    char hallmarkd[1100];
    {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", self);
        char *sl = strrchr(dir, '/');
        if (sl)
            *sl = 0;
        else
            snprintf(dir, sizeof dir, ".");
        snprintf(hallmarkd, sizeof hallmarkd, "%s/../node/hallmarkd", dir);
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && v && ++i)
#define SPAWN_OPT(name) (OPT(name) && (spawn_opt = name))
        if (SPAWN_OPT("--nodes"))
            n_nodes = strtoul(v, NULL, 10);
        else if (OPT("--duration"))
            duration = atof(v);
        else if (OPT("--rate"))
            rate = atof(v);
        else if (OPT("--txs"))
            n_txs = strtoul(v, NULL, 10);
        else if (OPT("--signers"))
            n_mfrs = strtoul(v, NULL, 10);
        else if (OPT("--conns")) {
            conns = strtoul(v, NULL, 10);
            if (!conns)
                conns = MAX_CONNS + 1; /* 0 given: refused below, not taken as the default */
        }
        else if (OPT("--batch"))
            batch = strtoul(v, NULL, 10);
        else if (OPT("--window"))
            window = strtoul(v, NULL, 10);
        else if (SPAWN_OPT("--max-block-txs"))
            max_block_txs = strtoul(v, NULL, 10);
        else if (SPAWN_OPT("--max-block-bytes"))
            max_block_bytes = strtoul(v, NULL, 10);
        else if (SPAWN_OPT("--batch-timeout-ms"))
            batch_ms = (unsigned)strtoul(v, NULL, 10);
        else if (SPAWN_OPT("--view-change-timeout-ms"))
            vc_ms = (unsigned)strtoul(v, NULL, 10);
        else if (SPAWN_OPT("--hallmarkd"))
            snprintf(hallmarkd, sizeof hallmarkd, "%s", v);
        else if (OPT("--attach"))
            att.urls = (char *)v;
        else if (OPT("--rpc-cookie"))
            att.cookies = (char *)v;
        else if (OPT("--pids"))
            att.pids = (char *)v;
        else if (OPT("--devnet"))
            att.devnet = (char *)v;
        else if (OPT("--accreditor-key"))
            acc_key_file = v;
        else if (!strcmp(a, "--quick"))
            quick = true;
        else if (!strcmp(a, "--keep")) {
            g_keep = true;
            spawn_opt = a;
        } else if (!strcmp(a, "--no-huge-pages")) {
            g_no_huge_pages = true;
            spawn_opt = a;
        }
        else if (!strcmp(a, "--help")) {
            fputs(NET_USAGE, stdout);
            return 0;
        } else {
            fprintf(stderr, "hallmark-bench net: unknown option '%s'\n%s", a, NET_USAGE);
            return 2;
        }
#undef SPAWN_OPT
#undef OPT
    }
    bool attach = att.urls || att.devnet;
    const char *bad = NULL;
    char spawn_only[128];
    snprintf(spawn_only, sizeof spawn_only,
             "%s applies only to a network the bench starts, not with --attach/--devnet",
             spawn_opt ? spawn_opt : "");
    if (attach && spawn_opt)
        bad = spawn_only;
    else if (att.urls && att.devnet)
        bad = "--attach and --devnet are two ways to name the nodes: give one";
    else if (att.urls && !att.cookies)
        bad = "--attach needs --rpc-cookie";
    else if (!att.urls && (att.cookies || att.pids))
        bad = "--rpc-cookie and --pids go with --attach";
    else if (attach && !acc_key_file)
        bad = "--attach/--devnet need --accreditor-key";
    else if (!attach && acc_key_file)
        bad = "--accreditor-key goes with --attach or --devnet";
    if (bad) {
        fprintf(stderr, "hallmark-bench net: %s\n", bad);
        return 2;
    }
    if (quick) {
        if (duration == 30)
            duration = 3;
        if (n_mfrs == 64)
            n_mfrs = 8;
        if (!n_txs)
            n_txs = 2000;
    }
    /* One node with 4 connections x 1,000 txs was client-bound: each
     * connection waits for its reply, and the node sat ~40% idle
     * (doc/benchmarks.md, 2026-11-24 sixth session). */
    if (conns > MAX_CONNS || n_nodes < 1 || n_nodes > MAX_NODES ||
        duration <= 0 || n_mfrs < 1 || batch < 1 || batch > 10000) {
        fputs(NET_USAGE, stderr);
        return 2;
    }
    atexit(stop_nodes);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    size_t n_val = n_nodes; /* validators in the network: the bound's N */
    key_t_ acc;
    if (attach) {
        read_key_file(&acc, acc_key_file);
        if (hm_random(g_key_salt, sizeof g_key_salt) != HM_OK)
            die("no randomness for this run's keys");
        g_run_tag[0] = '-';
        hm_hex_encode(g_run_tag + 1, g_key_salt, 4);
        n_nodes = attach_nodes(&att);
        n_val = attached_validators();
    }
    if (!conns)
        conns = n_nodes >= 4 ? 4 : (MAX_CONNS + n_nodes - 1) / n_nodes;

    /* 1. the bound, on a quiet machine (before any node runs) */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double vps = verify_rate(quick ? 0.2 : 1.0);
    double bound = vps * (double)cores / (double)n_val;
    char load[64] = "?";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (!fgets(load, sizeof load, lf))
            snprintf(load, sizeof load, "?");
        fclose(lf);
        load[strcspn(load, "\n")] = 0;
    }
    printf("hallmark-bench net: %zu validator(s), %ld cores, load average %s\n", n_val, cores,
           load);
    printf("bound: %.0f BIP340 verifications/s per core x %ld cores / %zu = %.0f tx/s\n", vps,
           cores, n_val, bound);
    if (!n_txs) {
        double want = rate > 0 ? rate * duration * 1.05 : bound * duration * 1.1;
        n_txs = (size_t)want + 1000;
        if (n_txs > 3000000)
            n_txs = 3000000;
    }
    n_txs -= n_txs % 2; /* mint + transfer pairs */

    /* 2. keys and the network */
    key_t_ cust, *mfrs = xcalloc(n_mfrs, sizeof *mfrs);
    if (!attach)
        bench_key(&acc, 1);
    bench_key(&cust, 2);
    for (size_t i = 0; i < n_mfrs; i++) {
        bench_key(&mfrs[i], 100 + i);
        mfrs[i].node = (int)(i % n_nodes);
    }
    contracts_genesis_gid(acc.gid, acc.pk);
    uint64_t acc_nonce = 0;
    if (attach) {
        acc_nonce = attached_nonce(acc.pk);
        printf("network: attached, submitting to %zu of its %zu validators (%s), polling "
               "%s:%d; its own genesis parameters; CPU, disk and RSS figures %s\n",
               n_nodes, n_val, att.devnet ? att.devnet : "--attach", g_nodes[0].host,
               g_nodes[0].port, g_nodes[0].pid > 0 ? "from the given PIDs" : "left out (no PIDs)");
    } else {
        start_network(n_nodes, hallmarkd, acc.pk, max_block_txs, max_block_bytes, batch_ms,
                      vc_ms);
        printf("network: %s, max_block_txs %zu, max_block_bytes %zu, batch_timeout_ms %u, "
               "view_change_timeout_ms %u, node_cache_huge_pages %s\n",
               g_root, max_block_txs, max_block_bytes, batch_ms, vc_ms,
               g_no_huge_pages ? "false" : "true");
    }

    /* 3. setup, in three waited phases (each needs the previous applied) */
    size_t ns = n_mfrs + 1;
    size_t n_setup = ns + 3 * n_mfrs;
    wtx_t *setup = xcalloc(n_setup, sizeof *setup);
    int *snode = xcalloc(n_setup, sizeof *snode);
    double ts0 = now_s();
    for (size_t i = 0; i < ns; i++) { /* phase A: register (nonce 0) */
        key_t_ *k = i < n_mfrs ? &mfrs[i] : &cust;
        char name[32];
        snprintf(name, sizeof name, i < n_mfrs ? "Maker %zu" : "Customer", i);
        Hallmark__Tx tx;
        fill_tx(&tx, k, 0, false);
        Hallmark__RegisterIdentity b = HALLMARK__REGISTER_IDENTITY__INIT;
        b.name = name;
        b.kind = i < n_mfrs ? HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER
                            : HALLMARK__IDENTITY_KIND__KIND_OPERATOR;
        tx.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
        tx.register_identity = &b;
        sign_into(&setup[i], &tx, k);
        contracts_gid(k->gid, k->pk, 0);
        snode[i] = i < n_mfrs ? k->node : 0;
    }
    run_setup("register", setup, snode, ns, n_nodes);
    Hallmark__Role roles[] = {HALLMARK__ROLE__ROLE_MANUFACTURER};
    for (size_t i = 0; i < n_mfrs; i++) { /* phase B: accredit */
        Hallmark__Tx tx;
        fill_tx(&tx, &acc, acc_nonce + i, true);
        Hallmark__Accredit b = HALLMARK__ACCREDIT__INIT;
        b.gid = (ProtobufCBinaryData){HM_GID_LEN, mfrs[i].gid};
        b.roles = roles;
        b.n_roles = 1;
        tx.body_case = HALLMARK__TX__BODY_ACCREDIT;
        tx.accredit = &b;
        sign_into(&setup[ns + i], &tx, &acc);
        snode[ns + i] = 0;
    }
    run_setup(attach ? "accredit; is --accreditor-key a genesis accreditor of this network?"
                     : "accredit",
              setup + ns, snode + ns, n_mfrs, n_nodes);
    wtx_t *rg = setup + ns + n_mfrs; /* phase C: recipe + licence per maker */
    int *rgn = snode + ns + n_mfrs;
    for (size_t i = 0; i < n_mfrs; i++) {
        key_t_ *m = &mfrs[i];
        char rname[48];
        snprintf(rname, sizeof rname, "recipe-%zu%s", i, g_run_tag);
        hm_tagged_hash(m->recipe, "hallmark/bench-recipe", rname, strlen(rname));
        Hallmark__Tx tx;
        fill_tx(&tx, m, 1, true);
        Hallmark__RegisterRecipe r = HALLMARK__REGISTER_RECIPE__INIT;
        r.recipe_hash = (ProtobufCBinaryData){32, m->recipe};
        r.version = "1.0";
        r.title = "bracket";
        r.material = "Ti-6Al-4V";
        r.process = "SLM";
        tx.body_case = HALLMARK__TX__BODY_REGISTER_RECIPE;
        tx.register_recipe = &r;
        sign_into(&rg[2 * i], &tx, m);
        fill_tx(&tx, m, 2, true);
        Hallmark__GrantLicence g = HALLMARK__GRANT_LICENCE__INIT;
        g.recipe_hash = (ProtobufCBinaryData){32, m->recipe};
        g.licensee = (ProtobufCBinaryData){HM_GID_LEN, m->gid};
        tx.body_case = HALLMARK__TX__BODY_GRANT_LICENCE;
        tx.grant_licence = &g;
        sign_into(&rg[2 * i + 1], &tx, m);
        contracts_licence_id(m->licence, rg[2 * i + 1].txid);
        rgn[2 * i] = rgn[2 * i + 1] = m->node;
    }
    run_setup("recipe+licence", rg, rgn, 2 * n_mfrs, n_nodes);
    printf("setup: %zu identities, %zu accreditations, %zu recipes + licences applied in %.1f s\n",
           ns, n_mfrs, n_mfrs, now_s() - ts0);

    /* 4. sign the measured workload (not timed) */
    double tsig = now_s();
    wtx_t *txs = xcalloc(n_txs, sizeof *txs);
    size_t nth = cores > 1 ? (size_t)cores : 1;
    pthread_t th[64];
    sign_job_t jobs[64];
    if (nth > 64)
        nth = 64;
    for (size_t t = 0; t < nth; t++) {
        jobs[t] = (sign_job_t){txs, mfrs, n_mfrs, 0, n_txs * t / nth, n_txs * (t + 1) / nth,
                               cust.gid};
        if (pthread_create(&th[t], NULL, sign_worker, &jobs[t]) != 0)
            die("pthread_create");
    }
    for (size_t t = 0; t < nth; t++)
        pthread_join(th[t], NULL);
    txmap_t map;
    tm_build(&map, txs, n_txs);
    printf("workload: %zu txs (MintCertificate + TransferCustody alternating) by %zu keys, "
           "signed in %.1f s\n",
           n_txs, n_mfrs, now_s() - tsig);

    /* 5. run: one submitter per validator (its keys' txs, round robin over
     * keys), one poller on validator 0 */
    sub_t subs[MAX_NODES * MAX_CONNS];
    size_t *orders = xcalloc(n_txs, sizeof *orders);
    atomic_size_t inflight = 0;
    size_t off = 0;
    double t0 = now_s() + 0.05, t_end = t0 + duration;
    /* conns submitters per node; a signer's txs all go through one of them,
     * in nonce order */
    size_t n_subs = n_nodes * conns;
    for (size_t sidx = 0; sidx < n_subs; sidx++) {
        size_t v = sidx / conns, cidx = sidx % conns;
        sub_t *s = &subs[sidx];
        memset(s, 0, sizeof *s);
        s->node = &g_nodes[v];
        s->txs = txs;
        s->order = orders + off;
        for (size_t i = 0; i < n_txs; i++) {
            size_t m = i % n_mfrs;
            if (mfrs[m].node == (int)v && (m / n_nodes) % conns == cidx)
                s->order[s->n++] = i;
        }
        off += s->n;
        s->rate = rate / (double)n_subs;
        s->batch = batch;
        s->t0 = t0;
        s->t_end = t_end;
        s->window = window / n_nodes;
        s->inflight = &inflight;
    }
    atomic_size_t inflight_all = 0;
    poll_t pl = {0};
    pl.node = &g_nodes[0];
    pl.map = &map;
    pl.next_height = node_height(&g_nodes[0]) + 1;
    pl.inflight = &inflight_all;
    uint64_t h0 = pl.next_height - 1;
    /* the window is over all nodes: share one counter */
    for (size_t v = 0; v < n_subs; v++)
        subs[v].inflight = &inflight_all, subs[v].window = window;
    pthread_t pth, sth[MAX_NODES * MAX_CONNS];
    if (pthread_create(&pth, NULL, poller, &pl) != 0)
        die("pthread_create");
    while (now_s() < t0)
        sleep_ms(1);
    double cpu0[MAX_NODES], wr0[MAX_NODES];
    for (size_t v = 0; v < n_nodes; v++) {
        cpu0[v] = g_nodes[v].pid > 0 ? proc_cpu_s(g_nodes[v].pid) : -1;
        wr0[v] = g_nodes[v].pid > 0 ? proc_write_bytes(g_nodes[v].pid) : -1;
    }
    for (size_t v = 0; v < n_subs; v++)
        if (pthread_create(&sth[v], NULL, submitter, &subs[v]) != 0)
            die("pthread_create");
    for (size_t v = 0; v < n_subs; v++)
        pthread_join(sth[v], NULL);
    double t_sub_end = now_s();
    size_t sent = 0, refused = 0, fulls = 0, herr = 0;
    for (size_t v = 0; v < n_subs; v++) {
        sent += subs[v].sent;
        refused += subs[v].refused;
        fulls += subs[v].full_retries;
        herr += subs[v].http_errors;
    }
    /* drain: wait for what was accepted to commit (bounded) */
    double drain_end = now_s() + (quick ? 15 : 60);
    while (atomic_load(&g_committed_seen) < sent && now_s() < drain_end)
        sleep_ms(10);
    pl.stop = true;
    pthread_join(pth, NULL);
    /* node CPU from the start of submission to the end of the drain, per
     * tx committed in that time: the cost that bounds throughput when every
     * core is busy (load-independent, unlike the wall clock) */
    double cpu_sum = 0;
    bool cpu_ok = true, wr_ok = true;
    char cpu_list[512] = "", wr_list[512] = "";
    size_t committed_all = atomic_load(&g_committed_seen);
    for (size_t v = 0; v < n_nodes; v++) {
        double w1 = g_nodes[v].pid > 0 ? proc_write_bytes(g_nodes[v].pid) : -1;
        wr_ok = wr_ok && wr0[v] >= 0 && w1 >= 0;
        list_add(wr_list, sizeof wr_list, "%.1f",
                 committed_all ? (w1 - wr0[v]) / 1024.0 / (double)committed_all : 0.0);
        double c1 = g_nodes[v].pid > 0 ? proc_cpu_s(g_nodes[v].pid) : -1;
        cpu_ok = cpu_ok && cpu0[v] >= 0 && c1 >= 0;
        double d = c1 - cpu0[v];
        cpu_sum += d;
        list_add(cpu_list, sizeof cpu_list, "%.0f",
                 committed_all ? d * 1e6 / (double)committed_all : 0.0);
    }

    /* 6. figures */
    /* the window: the submission period; when the workload ran out
     * before the duration, up to the last commit */
    double win = (t_sub_end < t_end ? t_sub_end : t_end) - t0;
    if (sent == n_txs) {
        double last = 0;
        for (size_t i = 0; i < n_txs; i++)
            if (txs[i].t_commit > last)
                last = txs[i].t_commit;
        if (last - t0 > win)
            win = last - t0;
    }
    size_t in_win = 0, all = 0, lat_n = 0;
    double *lat = xcalloc(n_txs, sizeof *lat);
    for (size_t i = 0; i < n_txs; i++) {
        double s = txs[i].t_submit, c = txs[i].t_commit;
        if (c > 0) {
            all++;
            if (c <= t0 + win)
                in_win++;
            if (s > 0 && c >= s)
                lat[lat_n++] = c - s;
        }
    }
    qsort(lat, lat_n, sizeof *lat, cmp_d);
#define PCT(p) (lat_n ? lat[(size_t)((double)(lat_n - 1) * (p))] * 1000.0 : 0.0)
    size_t blocks_win = 0, txs_blocks = 0, nonempty = 0;
    for (size_t b = 0; b < pl.nb; b++)
        if (pl.bt[b] >= t0 && pl.bt[b] <= t0 + win) {
            blocks_win++;
            txs_blocks += pl.bn[b];
            nonempty += pl.bn[b] > 0;
        }
    double tps = (double)in_win / win;
    /* gaps between consecutive blocks committed in the window, by their
     * headers' times: where the latency tail comes from (a slow block holds
     * up every tx behind it). Not the poller's times: it is answered between
     * the node's commits, so it sees several blocks at once, then none. */
    double *gap = xcalloc(pl.nb ? pl.nb : 1, sizeof *gap);
    size_t ngap = 0;
    for (size_t b = 1; b < pl.nb; b++)
        if (pl.bt[b - 1] >= t0 && pl.bt[b] <= t0 + win)
            gap[ngap++] =
                pl.bh[b] > pl.bh[b - 1] ? (double)(pl.bh[b] - pl.bh[b - 1]) / 1000.0 : 0.0;
    qsort(gap, ngap, sizeof *gap, cmp_d);
#define GAP(p) (ngap ? gap[(size_t)((double)(ngap - 1) * (p))] * 1000.0 : 0.0)
    /* view changes and peak RSS, before the nodes stop */
    long long vcs = 0;
    long rss_max = 0;
    char rss_list[512] = "", file_list[512] = "";
    for (size_t v = 0; v < n_nodes; v++) {
        hc_t c;
        hc_init(&c, &g_nodes[v]);
        char *r;
        size_t l;
        if (hc_request(&c, "GET", "/metrics", NULL, 0, &r, &l) == 200) {
            const char *q = strstr(r, "\nhallmark_view_changes_total ");
            if (q)
                vcs += atoll(q + 29);
        }
        hc_free(&c);
        long k = g_nodes[v].pid > 0 ? vm_hwm_kib(g_nodes[v].pid) : -1;
        if (k > rss_max)
            rss_max = k;
        list_add(rss_list, sizeof rss_list, "%ld", k / 1024);
        /* RssFile: pages of files the node maps (LevelDB maps its tables
         * for reading), counted in VmHWM though the kernel may drop them */
        long fk = g_nodes[v].pid > 0 ? (long)proc_value(g_nodes[v].pid, "status", "RssFile:") : -1;
        list_add(file_list, sizeof file_list, "%ld", fk < 0 ? -1 : fk / 1024);
    }
    /* applied vs rejected: sample committed txs by GET /v1/tx */
    size_t sample = 0, applied = 0;
    {
        hc_t c;
        hc_init(&c, &g_nodes[0]);
        size_t step = all > 400 ? n_txs / 400 : 1;
        for (size_t i = 0; i < n_txs && sample < 400; i += step ? step : 1) {
            if (txs[i].t_commit <= 0)
                continue;
            char path[128], id[65], *r;
            size_t l;
            hm_hex_encode(id, txs[i].txid, 32);
            snprintf(path, sizeof path, "/v1/tx/%s", id);
            if (hc_request(&c, "GET", path, NULL, 0, &r, &l) == 200 && strstr(r, "\"committed\"")) {
                sample++;
                applied += strstr(r, "\"applied\":true") != NULL;
            }
        }
        hc_free(&c);
    }
    uint64_t h1 = node_height(&g_nodes[0]);
    lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (!fgets(load, sizeof load, lf))
            snprintf(load, sizeof load, "?");
        fclose(lf);
        load[strcspn(load, "\n")] = 0;
    }
    printf("offered: %s through %zu connection(s) per node, batches of up to %zu; submitted "
           "%zu txs in %.1f s (%zu refused, %zu mempool-full retries, %zu HTTP errors)\n",
           rate > 0 ? "fixed rate" : "as fast as accepted", conns, batch, sent, t_sub_end - t0,
           refused, fulls, herr);
    if (rate > 0)
        printf("offered rate: %.0f tx/s\n", rate);
    printf("committed: %.0f tx/s sustained over %.1f s (%zu txs; %zu of %zu committed after "
           "drain)\n",
           tps, win, in_win, all, sent);
    printf("fraction of bound: %.1f%% (bound %.0f tx/s)\n", 100.0 * tps / bound, bound);
    printf("latency submit->committed (ms): p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  (%zu txs)\n",
           PCT(0.50), PCT(0.90), PCT(0.99), PCT(1.0), lat_n);
    printf("blocks: %.2f blocks/s, %.0f txs per block (%.0f per non-empty block), heights "
           "%llu..%llu\n",
           (double)blocks_win / win, blocks_win ? (double)txs_blocks / (double)blocks_win : 0.0,
           nonempty ? (double)txs_blocks / (double)nonempty : 0.0, (unsigned long long)h0 + 1,
           (unsigned long long)h1);
    if (cpu_ok && committed_all && cpu_sum > 0)
        printf("node CPU per committed tx (us, per node): %s; CPU-saturated capacity %.0f tx/s "
               "(%ld cores / %.0f us per tx summed over nodes)\n",
               cpu_list, (double)cores * (double)committed_all / cpu_sum, cores,
               cpu_sum * 1e6 / (double)committed_all);
    if (wr_ok && committed_all)
        printf("node disk writes per committed tx (KiB, per node; LevelDB log, tables and "
               "compactions): %s\n",
               wr_list);
    printf("block interval (ms, header times): p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", GAP(0.5),
           GAP(0.9), GAP(0.99), GAP(1.0));
#undef GAP
    free(gap);
    printf("view changes: %lld (sum over validators)\n", vcs);
    if (g_nodes[0].pid > 0) { /* else attached without --pids: nothing to read */
        printf("peak RSS per node (VmHWM, MiB): %s (max %ld)\n", rss_list, rss_max / 1024);
        printf("file-backed RSS per node at the end (RssFile, MiB: code, libraries, LevelDB's "
               "mapped tables; in VmHWM too): %s\n",
               file_list);
    }
    printf("applied: %zu of %zu sampled committed txs (%.1f%%); rejected %.1f%%\n", applied,
           sample, sample ? 100.0 * (double)applied / (double)sample : 0.0,
           sample ? 100.0 * (double)(sample - applied) / (double)sample : 0.0);
    printf("load average at the end: %s\n", load);
#undef PCT
    for (size_t i = 0; i < n_txs; i++)
        free(txs[i].hex);
    for (size_t i = 0; i < n_setup; i++)
        free(setup[i].hex);
    free(txs);
    free(setup);
    free(snode);
    free(orders);
    free(lat);
    free(map.slot);
    free(pl.bt);
    free(pl.bh);
    free(pl.bn);
    free(mfrs);
    bool ok = all > 0 && (sample == 0 || applied == sample);
    return ok ? 0 : 1;
}

/* `hallmark-bench state|contracts ...`: run the sibling program. */
static int cmd_exec(const char *self, const char *prog, char **argv)
{
    char path[1100], dir[1024];
    snprintf(dir, sizeof dir, "%s", self);
    char *sl = strrchr(dir, '/');
    if (sl)
        *sl = 0;
    else
        snprintf(dir, sizeof dir, ".");
    snprintf(path, sizeof path, "%s/%s", dir, prog);
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr, "hallmark-bench: cannot run %s: %s\n", path, strerror(errno));
    return 2;
}

int main(int argc, char **argv)
{
    const char *usage = "usage: hallmark-bench net [--help | options]\n"
                        "       hallmark-bench state [options]      (hallmark-bench-state)\n"
                        "       hallmark-bench contracts [options]  (hallmark-bench-contracts)\n";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(argv[1], "net"))
        return cmd_net(argc - 2, argv + 2, argv[0]);
    if (!strcmp(argv[1], "state"))
        return cmd_exec(argv[0], "hallmark-bench-state", argv + 1);
    if (!strcmp(argv[1], "contracts"))
        return cmd_exec(argv[0], "hallmark-bench-contracts", argv + 1);
    fputs(usage, stderr);
    return 2;
}
