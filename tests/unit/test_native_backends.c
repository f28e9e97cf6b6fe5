/* test_native_backends.c: every native backend against the scalar reference (conformance). A
 * backend that is not built or has no device must say so (ULM_ERR_UNSUPPORTED), never fake it. */
#include <stdlib.h>

#include "ulm/ulm.h"
#include "ulm_native.h"
#include "ulm_test.h"

/* Reference: out[i] = dot(rows[i], q) in double. */
static void ref_score(const float *rows, size_t n, size_t dim, const float *q, double *out) {
    for (size_t i = 0; i < n; i++) {
        double acc = 0;
        for (size_t j = 0; j < dim; j++) acc += (double)rows[i * dim + j] * q[j];
        out[i] = acc;
    }
}

/* Runs one backend on a 1000 x 64 problem and checks the normalised mean squared error. */
static int check_backend(ulm_status (*fn)(const float *, size_t, size_t, const float *, float *), const char *name) {
    size_t n = 1000, dim = 64;
    float *rows = malloc(n * dim * sizeof *rows), q[64], *out = malloc(n * sizeof *out);
    double *want = malloc(n * sizeof *want);
    uint32_t s = 12345;
    for (size_t i = 0; i < n * dim; i++) {
        s = s * 1664525u + 1013904223u;
        rows[i] = (float)((s >> 8) / 16777216.0 - 0.5);
    }
    for (size_t j = 0; j < dim; j++) q[j] = (float)(j % 7) * 0.25f - 0.75f;
    ref_score(rows, n, dim, q, want);
    ulm_status st = fn(rows, n, dim, q, out);
    int rc = 0;
    if (st == ULM_OK) {
        double err = 0, norm = 0;
        for (size_t i = 0; i < n; i++) {
            err += (out[i] - want[i]) * (out[i] - want[i]);
            norm += want[i] * want[i];
        }
        if (!(err / norm < 1e-10)) {
            fprintf(stderr, "%s: NMSE %g over budget 1e-10\n", name, err / norm);
            rc = 1;
        }
    } else if (st != ULM_ERR_UNSUPPORTED) {
        fprintf(stderr, "%s: unexpected status %s\n", name, ulm_status_name(st));
        rc = 1;
    }
    free(rows);
    free(out);
    free(want);
    return rc;
}

ULM_TEST(backend_blas_matches_reference) {
    char d[256];
    bool have = ulm_blas_describe(d, sizeof d);
    ASSERT_TRUE(strlen(d) > 0);
    ASSERT_EQ_INT(check_backend(ulm_blas_score_rows, "blas"), 0);
    if (!have) {
        float x = 1, y;
        ASSERT_STATUS(ulm_blas_score_rows(&x, 1, 1, &x, &y), ULM_ERR_UNSUPPORTED);
    }
    return 0;
}

ULM_TEST(backend_cuda_matches_reference_or_says_unavailable) {
    char d[256];
    bool have = ulm_cuda_describe(d, sizeof d);
    ASSERT_TRUE(strlen(d) > 0);
    ASSERT_EQ_INT(check_backend(ulm_cuda_score_rows, "cuda"), 0);
    if (!have) {
        float x = 1, y;
        ASSERT_STATUS(ulm_cuda_score_rows(&x, 1, 1, &x, &y), ULM_ERR_UNSUPPORTED);
    }
    return 0;
}
