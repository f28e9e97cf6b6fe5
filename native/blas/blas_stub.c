/* blas_stub.c: stands in for OpenBLAS when ULM_BLAS=OFF. */
#include <stdio.h>

#include "ulm_native.h"

bool ulm_blas_describe(char *buf, size_t cap) {
    snprintf(buf, cap, "not built (ULM_BLAS=OFF)");
    return false;
}

ulm_status ulm_blas_score_rows(const float *rows, size_t n_rows, size_t dim, const float *query, float *out) {
    return ULM_ERR_UNSUPPORTED;
}
