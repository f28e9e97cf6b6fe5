/* threads.c: runs a batch of tasks on POSIX threads (task 0 on the calling thread). */
#include <pthread.h>
#include <stdlib.h>

#include "ulm_native.h"

typedef struct task_arg {
    ulm_task_fn fn;
    void *ctx;
    unsigned task;
} task_arg;

static void *task_main(void *p) {
    task_arg *a = p;
    a->fn(a->ctx, a->task);
    return NULL;
}

void ulm_native_run(void *ud, unsigned n_tasks, ulm_task_fn fn, void *ctx) {
    if (n_tasks == 0) return;
    pthread_t *th = malloc(n_tasks * sizeof *th);
    task_arg *args = malloc(n_tasks * sizeof *args);
    unsigned started = 0;
    if (th && args)
        for (unsigned t = 1; t < n_tasks; t++) {
            args[t] = (task_arg){fn, ctx, t};
            if (pthread_create(&th[t], NULL, task_main, &args[t]) != 0) break;
            started = t;
        }
    fn(ctx, 0);
    for (unsigned t = 1; t <= started; t++) pthread_join(th[t], NULL);
    /* Tasks a thread could not be started for run here, one after another. */
    for (unsigned t = started + 1; t < n_tasks; t++) fn(ctx, t);
    free(th);
    free(args);
}
