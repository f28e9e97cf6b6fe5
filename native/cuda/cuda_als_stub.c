/* cuda_als_stub.c: stands in for the CUDA ALS backend where nvcc was not found. */
#include <stdio.h>

#include "ulm_cuda_als.h"

ulm_status ulm_cuda_als_train(const ulm_imatrix *x, uint32_t factors, uint32_t iters, float reg, float alpha,
                              uint32_t cg_steps, float *user_f, float *item_f, char *msg, size_t cap) {
    (void)x, (void)factors, (void)iters, (void)reg, (void)alpha, (void)cg_steps, (void)user_f, (void)item_f;
    if (msg && cap) snprintf(msg, cap, "not built (no nvcc at configure time)");
    return ULM_ERR_UNSUPPORTED;
}
