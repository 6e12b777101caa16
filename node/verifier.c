/* node/verifier — see verifier.h. One FIFO list of batches: each thread
 * takes the batch at `cursor` (and moves it on), so different batches are
 * checked at the same time; the owner collects finished ones from the
 * head, in order, stopping at the first unfinished one. */
#include "node/verifier.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hash.h"

#define VERIFIER_DEFAULT_MAX_TXS 100000u
#define VERIFIER_MAX_THREADS 16u

struct vjob {
    struct vjob *next;
    ProtobufCBinaryData *txs; /* n entries pointing into bytes */
    mempool_checked_t *checked;
    uint8_t *bytes;
    size_t n;
    bool finished;
    verifier_done_fn done;
    verifier_drop_fn drop;
    void *arg;
};

struct node_verifier {
    uint8_t chain_id[32];
    size_t max_txs;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t threads[VERIFIER_MAX_THREADS];
    unsigned nthreads; /* started */
    bool stopping;
    struct vjob *head, *tail, *cursor; /* cursor: first batch no thread has taken */
    size_t pending;                    /* txs in the list */
    int pipe_r, pipe_w;
};

static void job_free(struct vjob *j)
{
    if (!j)
        return;
    free(j->txs);
    free(j->checked);
    free(j->bytes);
    free(j);
}

static void *verifier_main(void *arg)
{
    node_verifier_t *v = arg;
    pthread_mutex_lock(&v->lock);
    for (;;) {
        while (!v->stopping && !v->cursor)
            pthread_cond_wait(&v->wake, &v->lock);
        if (v->stopping)
            break;
        struct vjob *j = v->cursor;
        v->cursor = j->next;
        pthread_mutex_unlock(&v->lock);
        for (size_t i = 0; i < j->n; i++)
            mempool_check(v->chain_id, &j->txs[i], &j->checked[i]);
        pthread_mutex_lock(&v->lock);
        j->finished = true;
        /* a full pipe already means "wake up": EAGAIN is fine */
        ssize_t w = write(v->pipe_w, "x", 1);
        (void)w;
    }
    pthread_mutex_unlock(&v->lock);
    hm_hash_thread_cleanup();
    return NULL;
}

int verifier_new(node_verifier_t **out, const uint8_t chain_id[32], size_t max_txs,
                 unsigned threads)
{
    *out = NULL;
    node_verifier_t *v = calloc(1, sizeof *v);
    if (!v)
        return HM_ERR_NOMEM;
    memcpy(v->chain_id, chain_id, 32);
    v->max_txs = max_txs ? max_txs : VERIFIER_DEFAULT_MAX_TXS;
    v->pipe_r = v->pipe_w = -1;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->wake, NULL);
    int fds[2];
    if (pipe(fds) != 0) {
        verifier_free(v);
        return HM_ERR_IO;
    }
    v->pipe_r = fds[0];
    v->pipe_w = fds[1];
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) != 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
            verifier_free(v);
            return HM_ERR_IO;
        }
    }
    if (!threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores < 1 ? 1u : (unsigned)cores;
    }
    if (threads > VERIFIER_MAX_THREADS)
        threads = VERIFIER_MAX_THREADS;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&v->threads[i], NULL, verifier_main, v) != 0) {
            if (v->nthreads)
                break; /* fewer threads than asked: still correct */
            verifier_free(v);
            return HM_ERR_NOMEM;
        }
        v->nthreads++;
    }
    *out = v;
    return HM_OK;
}

void verifier_free(node_verifier_t *v)
{
    if (!v)
        return;
    if (v->nthreads) {
        pthread_mutex_lock(&v->lock);
        v->stopping = true;
        pthread_cond_broadcast(&v->wake);
        pthread_mutex_unlock(&v->lock);
        for (unsigned i = 0; i < v->nthreads; i++)
            pthread_join(v->threads[i], NULL);
    }
    for (struct vjob *j = v->head, *next; j; j = next) {
        next = j->next;
        if (j->drop)
            j->drop(j->arg);
        job_free(j);
    }
    if (v->pipe_r >= 0)
        close(v->pipe_r);
    if (v->pipe_w >= 0)
        close(v->pipe_w);
    pthread_cond_destroy(&v->wake);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

int verifier_fd(const node_verifier_t *v)
{
    return v->pipe_r;
}

int verifier_submit(node_verifier_t *v, const ProtobufCBinaryData *txs, size_t n,
                    verifier_done_fn done, verifier_drop_fn drop, void *arg)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (txs[i].len > SIZE_MAX - total)
            return HM_ERR_OVERFLOW;
        total += txs[i].len;
    }
    pthread_mutex_lock(&v->lock);
    bool full = v->pending > v->max_txs || n > v->max_txs - v->pending;
    pthread_mutex_unlock(&v->lock);
    if (full)
        return HM_ERR_LIMIT;
    struct vjob *j = calloc(1, sizeof *j);
    if (!j)
        return HM_ERR_NOMEM;
    j->n = n;
    j->txs = calloc(n ? n : 1, sizeof *j->txs);
    j->checked = calloc(n ? n : 1, sizeof *j->checked);
    j->bytes = malloc(total ? total : 1);
    if (!j->txs || !j->checked || !j->bytes) {
        job_free(j);
        return HM_ERR_NOMEM;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (txs[i].len)
            memcpy(j->bytes + off, txs[i].data, txs[i].len);
        j->txs[i].data = j->bytes + off;
        j->txs[i].len = txs[i].len;
        off += txs[i].len;
    }
    j->done = done;
    j->drop = drop;
    j->arg = arg;
    pthread_mutex_lock(&v->lock);
    if (v->tail)
        v->tail->next = j;
    else
        v->head = j;
    v->tail = j;
    if (!v->cursor)
        v->cursor = j;
    v->pending += n;
    pthread_cond_signal(&v->wake);
    pthread_mutex_unlock(&v->lock);
    return HM_OK;
}

void verifier_collect(node_verifier_t *v)
{
    char buf[256];
    while (read(v->pipe_r, buf, sizeof buf) > 0)
        ;
    for (;;) {
        pthread_mutex_lock(&v->lock);
        struct vjob *j = v->head;
        if (!j || !j->finished) {
            pthread_mutex_unlock(&v->lock);
            return;
        }
        v->head = j->next;
        if (v->tail == j)
            v->tail = NULL;
        v->pending -= j->n;
        pthread_mutex_unlock(&v->lock);
        if (j->done)
            j->done(j->arg, j->txs, j->checked, j->n);
        job_free(j);
    }
}

size_t verifier_pending(node_verifier_t *v)
{
    pthread_mutex_lock(&v->lock);
    size_t n = v->pending;
    pthread_mutex_unlock(&v->lock);
    return n;
}
