/* churn_pool.c: persistent worker threads; the caller takes tasks too, so one dispatch costs one
 * broadcast and one wait. */
#include "churn_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct ulm_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    pthread_t *th;
    uint32_t n_workers;
    uint64_t generation;
    bool stop;
    ulm_task_fn fn;
    void *arg;
    uint32_t n_tasks;
    atomic_uint next;
    uint32_t finished; /* workers finished with this generation */
};

/* Takes tasks until none are left. */
static void drain(ulm_pool *p) {
    for (;;) {
        uint32_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n_tasks) return;
        p->fn(p->arg, i);
    }
}

static void *worker(void *arg) {
    ulm_pool *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->stop) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p);
        pthread_mutex_lock(&p->mu);
        if (++p->finished == p->n_workers) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

ulm_pool *ulm_pool_new(uint32_t n_threads) {
    ulm_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    uint32_t nw = n_threads > 1 ? n_threads - 1 : 0;
    p->th = calloc(nw + 1, sizeof *p->th);
    if (!p->th) {
        free(p);
        return NULL;
    }
    for (uint32_t i = 0; i < nw; i++) {
        if (pthread_create(&p->th[i], NULL, worker, p) != 0) {
            ulm_pool_free(p);
            return NULL;
        }
        p->n_workers++;
    }
    return p;
}

void ulm_pool_parallel(void *pool, uint32_t n_tasks, ulm_task_fn fn, void *arg) {
    ulm_pool *p = pool;
    if (!p || p->n_workers == 0 || n_tasks < 2) {
        for (uint32_t i = 0; i < n_tasks; i++) fn(arg, i);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->finished = 0;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    drain(p);
    pthread_mutex_lock(&p->mu);
    while (p->finished < p->n_workers) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void ulm_pool_free(ulm_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (uint32_t i = 0; i < p->n_workers; i++) pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->th);
    free(p);
}
