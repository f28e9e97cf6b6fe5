/* ulm_native.h: native compute backends (OpenBLAS, CUDA) behind a plain C ABI.
 *
 * Each backend is one folder compiled only when CMake enables it; an absent backend is a
 * stub that reports itself unavailable and returns ULM_ERR_UNSUPPORTED, so callers need
 * no #ifdef.
 *
 *     char d[128];
 *     if (ulm_blas_describe(d, sizeof d)) printf("blas: %s\n", d);
 *     ulm_blas_score_rows(rows, n_rows, dim, query, out);   // out[i] = dot(rows[i], query)
 */
#ifndef ULM_NATIVE_H
#define ULM_NATIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "ulm/ulm_linalg.h"
#include "ulm/ulm_status.h"

/* Writes a one-line description of the backend into buf; returns true when it is usable. */
bool ulm_blas_describe(char *buf, size_t cap);
bool ulm_cuda_describe(char *buf, size_t cap);

/* out[i] = sum_j rows[i*dim + j] * query[j] for i < n_rows (one SGEMV). */
ulm_status ulm_blas_score_rows(const float *rows, size_t n_rows, size_t dim, const float *query, float *out);
/* The same on the GPU (copies in and out); ULM_ERR_UNSUPPORTED without a device. */
ulm_status ulm_cuda_score_rows(const float *rows, size_t n_rows, size_t dim, const float *query, float *out);

/* The linalg table for training (ulm_linalg.h): OpenBLAS + pthreads when built with BLAS,
 * otherwise the reference maths on pthreads. threads >= 1. */
void ulm_linalg_native(ulm_linalg *out, unsigned threads);
/* Runs fn(ctx, t) for t < n_tasks, each on its own POSIX thread (ulm_linalg.run). */
void ulm_native_run(void *ud, unsigned n_tasks, ulm_task_fn fn, void *ctx);

#endif
