/* churn_pool.h: a small pthread pool implementing ulm_parallel_fn for training (native only).
 * Tasks are independent and each runs once, so results do not depend on the thread count.
 *
 *     ulm_pool *pl = ulm_pool_new(4);                 // 4 threads including the caller
 *     params.parallel = ulm_pool_parallel; params.parallel_ctx = pl;
 *     ...; ulm_pool_free(pl);
 */
#ifndef ULM_TRAINER_CHURN_POOL_H
#define ULM_TRAINER_CHURN_POOL_H

#include <stdint.h>

#include "ulm/ulm_churn_train.h"

typedef struct ulm_pool ulm_pool;
/* n_threads >= 1 (the caller counts as one); NULL when threads cannot be started. */
ulm_pool *ulm_pool_new(uint32_t n_threads);
/* Runs fn(arg, 0..n_tasks-1) on the pool's threads and the caller; returns when all are done. */
void ulm_pool_parallel(void *pool, uint32_t n_tasks, ulm_task_fn fn, void *arg);
void ulm_pool_free(ulm_pool *p);

#endif
