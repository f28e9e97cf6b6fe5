/* ulm_cuda_als.h: implicit ALS on a CUDA GPU behind a plain C ABI (native/cuda/cuda_als.cu; a stub
 * returning ULM_ERR_UNSUPPORTED where nvcc was not found, cuda/cuda_als_stub.c).
 *
 * The same algorithm as the CPU trainer (core/src/train/recs_als.c): confidence 1 + alpha r,
 * per half-step the fixed side's Gram matrix Y^T Y + reg I, then warm-started conjugate gradient
 * (cg_steps) for every row: one thread block per row, the factor dimension across its threads.
 * Float sums run in a different order than on the CPU, so factors agree closely, not bitwise;
 * bench/cuda_als_check.sh compares them and times both.
 *
 *     float *U = ..., *V = ...;   // initial factors, n_users x f and n_items x f
 *     char msg[160];
 *     if (ulm_cuda_als_train(&x, 64, 15, 0.01f, 10.0f, 3, U, V, msg, sizeof msg) != ULM_OK)
 *         ...;  // fall back to ulm_rec_train on the CPU; msg says why
 */
#ifndef ULM_CUDA_ALS_H
#define ULM_CUDA_ALS_H

#include <stddef.h>
#include <stdint.h>

#include "ulm/ulm_rectrain.h"
#include "ulm/ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs `iters` ALS sweeps of x on the first GPU, starting from and updating user_f
 * (n_users x factors) and item_f (n_items x factors). factors 1..256, cg_steps >= 1.
 * ULM_ERR_UNSUPPORTED without a device or a CUDA build, ULM_ERR_NOMEM when device memory runs
 * out, ULM_ERR_RANGE for bad parameters; msg (may be NULL) says which. Not thread-safe. */
ulm_status ulm_cuda_als_train(const ulm_imatrix *x, uint32_t factors, uint32_t iters, float reg, float alpha,
                              uint32_t cg_steps, float *user_f, float *item_f, char *msg, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
