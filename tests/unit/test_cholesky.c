/* test_cholesky.c: the scorer's small SPD solve (cholesky.c) against a double-precision Gaussian
 * elimination computed here: only the lower triangle is read (the upper one is NaN on entry), L^T
 * lands in the upper triangle, and the solution matches; and top-K's skip (ulm__first_ge) against
 * a plain scan, NaN included. */
#include <math.h>
#include <stdlib.h>

#include "quant.h"
#include "ulm_impl.h"
#include "ulm_test.h"

/* x = m^-1 b in double, by Gaussian elimination with partial pivoting (m is n x n, destroyed). */
static void solve_ref(double *m, double *b, size_t n) {
    for (size_t c = 0; c < n; c++) {
        size_t p = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(m[r * n + c]) > fabs(m[p * n + c])) p = r;
        for (size_t k = 0; k < n; k++) {
            double t = m[c * n + k];
            m[c * n + k] = m[p * n + k], m[p * n + k] = t;
        }
        double t = b[c];
        b[c] = b[p], b[p] = t;
        for (size_t r = c + 1; r < n; r++) {
            double f = m[r * n + c] / m[c * n + c];
            for (size_t k = c; k < n; k++) m[r * n + k] -= f * m[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (size_t c = n; c-- > 0;) {
        for (size_t k = c + 1; k < n; k++) b[c] -= m[c * n + k] * b[k];
        b[c] /= m[c * n + c];
    }
}

ULM_TEST(cholesky_solve_matches_reference) {
    const size_t sizes[] = {1, 7, 13, 64};
    uint32_t seed = 12345;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        float *a = malloc(n * n * sizeof *a), *y = malloc(n * n * sizeof *y), *x = malloc(n * sizeof *x);
        double *m = malloc(n * n * sizeof *m), *b = malloc(n * sizeof *b);
        ASSERT_TRUE(a && y && x && m && b);
        for (size_t i = 0; i < n * n; i++) {
            seed = seed * 1664525u + 1013904223u;
            y[i] = (float)((seed >> 8) / 16777216.0 - 0.5);
        }
        /* a = Y Y^T + I (SPD), the lower triangle only. */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double s = i == j;
                for (size_t t = 0; t < n; t++) s += (double)y[i * n + t] * y[j * n + t];
                a[i * n + j] = j <= i ? (float)s : NAN;
                m[i * n + j] = (double)(float)s;
            }
        for (size_t i = 0; i < n; i++) x[i] = (float)i - (float)n / 3, b[i] = x[i];
        ASSERT_EQ_INT(ulm__chol_factor(a, n), 0);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < i; j++) ASSERT_TRUE(a[j * n + i] == a[i * n + j]);
        ulm__chol_subst(a, x, n);
        solve_ref(m, b, n);
        double err = 0, norm = 0;
        for (size_t i = 0; i < n; i++) err = fmax(err, fabs(x[i] - b[i])), norm = fmax(norm, fabs(b[i]));
        ASSERT_TRUE(err <= 1e-4 * (norm + 1));
        free(a), free(y), free(x), free(m), free(b);
    }
    float bad[4] = {1, 2, 2, -1}; /* indefinite */
    ASSERT_EQ_INT(ulm__chol_factor(bad, 2), 1);
    return 0;
}

ULM_TEST(cholesky_first_ge_matches_scan) {
    float s[37];
    for (uint32_t i = 0; i < 37; i++) s[i] = (float)((i * 7) % 11) - 5.0f;
    s[20] = NAN;
    const float ts[] = {-6.0f, 0.0f, 4.5f, 5.0f, 6.0f, NAN};
    for (size_t q = 0; q < sizeof ts / sizeof ts[0]; q++)
        for (uint32_t from = 0; from <= 37; from++) {
            uint32_t want = from;
            while (want < 37 && !(s[want] >= ts[q])) want++;
            ASSERT_EQ_INT(ulm__first_ge(s, from, 37, ts[q]), want);
        }
    return 0;
}
