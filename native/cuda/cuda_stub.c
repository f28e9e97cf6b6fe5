/* cuda_stub.c: stands in for the CUDA backend where nvcc was not found. */
#include <stdio.h>

#include "ulm_native.h"

bool ulm_cuda_describe(char *buf, size_t cap) {
    snprintf(buf, cap, "not built (no nvcc at configure time)");
    return false;
}

ulm_status ulm_cuda_score_rows(const float *rows, size_t n_rows, size_t dim, const float *query, float *out) {
    return ULM_ERR_UNSUPPORTED;
}
