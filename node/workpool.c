/* node/workpool — see workpool.h. Work is handed out by an atomic index, so
 * a job of n items costs n atomic increments and no per-item allocation. */
#include "node/workpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/hash.h"

struct node_workpool {
    pthread_mutex_t lock;
    pthread_cond_t start;    /* workers wait for a new job */
    pthread_cond_t finished; /* the caller waits for the workers */
    pthread_mutex_t run_lock;/* one job at a time */
    pthread_t *threads;
    unsigned nthreads;
    bool stopping;
    unsigned long generation; /* bumps once per job */
    unsigned busy;            /* workers still in the current job */
    /* the current job */
    workpool_fn fn;
    void *arg;
    size_t n;
    atomic_size_t next;
};

static void workpool_drain(struct node_workpool *p)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            return;
        p->fn(p->arg, i);
    }
}

static void *workpool_main(void *arg)
{
    struct node_workpool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stopping && p->generation == seen)
            pthread_cond_wait(&p->start, &p->lock);
        if (p->stopping)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        workpool_drain(p);
        pthread_mutex_lock(&p->lock);
        if (--p->busy == 0)
            pthread_cond_signal(&p->finished);
    }
    pthread_mutex_unlock(&p->lock);
    hm_hash_thread_cleanup();
    return NULL;
}

int workpool_new(node_workpool_t **out, unsigned threads)
{
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 1 ? (unsigned)(cpus - 1) : 0;
    }
    if (threads > 256)
        return HM_ERR_INVALID;
    struct node_workpool *p = calloc(1, sizeof *p);
    if (!p)
        return HM_ERR_NOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->run_lock, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->finished, NULL);
    if (threads) {
        p->threads = calloc(threads, sizeof *p->threads);
        if (!p->threads) {
            workpool_free(p);
            return HM_ERR_NOMEM;
        }
    }
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, workpool_main, p) != 0) {
            workpool_free(p);
            return HM_ERR_NOMEM;
        }
        p->nthreads++;
    }
    *out = p;
    return HM_OK;
}

void workpool_free(node_workpool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->finished);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->run_lock);
    free(p);
}

void workpool_run(node_workpool_t *p, workpool_fn fn, void *arg, size_t n)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&p->run_lock);
    if (p->nthreads == 0 || n == 1) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i);
        pthread_mutex_unlock(&p->run_lock);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    atomic_store(&p->next, 0);
    p->busy = p->nthreads;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);

    workpool_drain(p);

    pthread_mutex_lock(&p->lock);
    while (p->busy > 0)
        pthread_cond_wait(&p->finished, &p->lock);
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&p->run_lock);
}

unsigned workpool_width(const node_workpool_t *p)
{
    return p->nthreads + 1;
}
