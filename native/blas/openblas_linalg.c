/* openblas_linalg.c: the linalg table on OpenBLAS (SGEMM, LAPACK spotrf + spotri) and pthreads.
 *
 * OpenBLAS keeps its own thread pool: it gets the caller's thread count for the big products
 * and one thread while our tasks run, since nested pools made 2-thread ALS 9x slower
 * (PERF.md). */
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>

#include "ulm_native.h"

/* LAPACK's Fortran entry points, exported by libopenblas. */
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
extern void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info);

static void ob_sgemm(void *ud, bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float *a,
                     size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc) {
    openblas_set_num_threads((int)(uintptr_t)ud);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

/* Row-major lower = column-major upper; the matrix is symmetric, so either triangle is the
 * input, and the other one is filled from the result. */
static int ob_spd_inverse(void *ud, float *a, size_t n) {
    if (n > 0x7FFFFFFF) return 1;
    openblas_set_num_threads((int)(uintptr_t)ud);
    int nn = (int)n, info = 0;
    spotrf_("U", &nn, a, &nn, &info);
    if (info != 0) return 1;
    spotri_("U", &nn, a, &nn, &info);
    if (info != 0) return 1;
    /* Column-major upper = row-major lower: a[i*n+j] is valid for j <= i. Mirror it up. */
    for (size_t bi = 0; bi < n; bi += 64) /* in 64 x 64 tiles: column walks over n rows thrash the cache */
        for (size_t bj = bi; bj < n; bj += 64)
            for (size_t i = bi; i < bi + 64 && i < n; i++)
                for (size_t j = (bj > i + 1 ? bj : i + 1); j < bj + 64 && j < n; j++) a[i * n + j] = a[j * n + i];
    return 0;
}

static void ob_run(void *ud, unsigned n_tasks, ulm_task_fn fn, void *ctx) {
    openblas_set_num_threads(1);
    ulm_native_run(ud, n_tasks, fn, ctx);
    openblas_set_num_threads((int)(uintptr_t)ud);
}

void ulm_linalg_native(ulm_linalg *out, unsigned threads) {
    if (threads < 1) threads = 1;
    *out = (ulm_linalg){"openblas+pthreads", (void *)(uintptr_t)threads, ob_sgemm, ob_spd_inverse, ob_run};
}
