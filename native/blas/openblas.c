/* openblas.c: the OpenBLAS backend (SGEMV for batched row scoring). */
#include <cblas.h>
#include <stdio.h>

#include "ulm_native.h"

bool ulm_blas_describe(char *buf, size_t cap) {
    snprintf(buf, cap, "OpenBLAS (%s), %d threads", openblas_get_config(), openblas_get_num_threads());
    return true;
}

ulm_status ulm_blas_score_rows(const float *rows, size_t n_rows, size_t dim, const float *query, float *out) {
    if (n_rows > 0x7FFFFFFF || dim > 0x7FFFFFFF) return ULM_ERR_RANGE;
    if (n_rows == 0) return ULM_OK;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n_rows, (int)dim, 1.0f, rows, (int)dim, query, 1, 0.0f, out, 1);
    return ULM_OK;
}
