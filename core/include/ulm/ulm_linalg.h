/* ulm_linalg.h: the dense-maths and threading table that training code runs on.
 *
 * Training in core/ is portable C; the few operations where a tuned library pays off (one
 * GEMM per ALS half-step, the inverse of EASE's Gram matrix) and running tasks on threads go
 * through this table. ulm_linalg_ref() is the scalar reference (single-threaded, plain C): the
 * spec and the fallback. The native build supplies OpenBLAS + pthreads (native/ulm_native.h:
 * ulm_linalg_native()); a NULL member of any table means "use the reference".
 *
 *     const ulm_linalg *la = ulm_linalg_native(2);   // or ulm_linalg_ref()
 *     la->sgemm(la->ud, true, false, k, k, n, 1.0f, Y, k, Y, k, 0.0f, YtY, k);   // YtY = Y^T Y
 *     if (la->spd_inverse(la->ud, G, n) != 0) ...;  // G := G^-1 (G symmetric positive definite)
 *     la->run(la->ud, 2, task_fn, ctx);             // task_fn(ctx, 0) and task_fn(ctx, 1) on two threads
 */
#ifndef ULM_LINALG_H
#define ULM_LINALG_H

#include <stdbool.h>
#include <stddef.h>

#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A task run by ulm_linalg.run: task is 0..n_tasks-1; each task runs on its own thread. */
typedef void (*ulm_task_fn)(void *ctx, unsigned task);

typedef struct ulm_linalg {
    const char *name; /* "reference", "openblas+pthreads", ... */
    void *ud;         /* passed back as the first argument of every member */
    /* C(m x n) = alpha * op(A) * op(B) + beta * C, row-major; op(A) is m x k (A^T when ta). */
    void (*sgemm)(void *ud, bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                  const float *b, size_t ldb, float beta, float *c, size_t ldc);
    /* a (n x n, row-major, symmetric positive definite; both triangles set) := a^-1, both
     * triangles set. Returns 0, or non-zero when a is not positive definite (a is then garbage). */
    int (*spd_inverse)(void *ud, float *a, size_t n);
    /* Runs fn(ctx, t) for t in 0..n_tasks-1, each on its own thread, and returns when all are done.
     * Inside fn, sgemm/spd_inverse must not be called (they may use the same threads). */
    void (*run)(void *ud, unsigned n_tasks, ulm_task_fn fn, void *ctx);
} ulm_linalg;

/* The scalar reference table: plain loops, tasks run one after another. Never NULL. @since 0.2 */
ULM_API const ulm_linalg *ulm_linalg_ref(void);

#ifdef __cplusplus
}
#endif
#endif
