/* ulm_parallel.h: the task-pool hook through which portable training code runs in parallel.
 *
 * The core has no threads. A caller that has a pool passes parallel(ctx, n, fn, arg), which runs
 * fn(arg, 0..n-1), possibly on several threads, and returns when all are done; NULL means "run
 * the tasks in the calling thread". Training code splits work into a fixed number of tasks and
 * reduces their results in task order, so results never depend on the number of threads.
 *
 *     p.parallel = my_pool_run; p.parallel_ctx = pool;   // e.g. trainer/churn_pool.c
 */
#ifndef ULM_PARALLEL_H
#define ULM_PARALLEL_H

#include <stdint.h>

/* One task: fn(arg, task) for task in 0..n_tasks-1. */
typedef void (*ulm_task_fn)(void *arg, uint32_t task);
/* Runs fn(arg, 0..n_tasks-1) and returns when all are done. */
typedef void (*ulm_parallel_fn)(void *ctx, uint32_t n_tasks, ulm_task_fn fn, void *arg);

#endif
