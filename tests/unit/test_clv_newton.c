/* test_clv_newton.c: the analytic Hessian of the BG/NBD objective (what Newton's method steps with)
 * against central differences of its analytic gradient, and trigamma against the derivative of digamma. */
#include <math.h>
#include <stdlib.h>

#include "clv_impl.h"
#include "ulm_test.h"

ULM_TEST(clv_trigamma_is_digamma_derivative) {
    const double xs[] = {0.05, 0.2426, 0.9, 1.0, 3.3, 9.99, 10.0, 42.5, 1e4};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        double x = xs[i], h = 1e-5 * x;
        double fd = (ulm_digamma(x + h) - ulm_digamma(x - h)) / (2 * h);
        ASSERT_NEAR(ulm__trigamma(x) / fd, 1.0, 1e-7);
    }
    ASSERT_NEAR(ulm__trigamma(1.0), 1.6449340668482264, 1e-13); /* pi^2 / 6 */
    ASSERT_NEAR(ulm__trigamma(0.5), 4.934802200544679, 1e-12);  /* pi^2 / 2 */
    return 0;
}

ULM_TEST(clv_bgnbd_hessian_matches_gradient_differences) {
    enum { N = 3000 };
    double *x = malloc(N * sizeof(double)), *tx = malloc(N * sizeof(double)), *T = malloc(N * sizeof(double));
    ASSERT_TRUE(x && tx && T);
    uint64_t s = 99;
    for (size_t i = 0; i < N; i++) { /* mixed histories: none, a few, many repeat purchases */
        s = s * 6364136223846793005u + 1442695040888963407u;
        T[i] = 27 + (double)(s >> 40 & 0xFF) / 16.0;
        x[i] = (double)((s >> 20) % 7 == 0 ? 0 : (s >> 24) % 23);
        tx[i] = x[i] > 0 ? T[i] * (double)((s >> 8) % 1000) / 1000.0 : 0;
    }
    ulm_clv_groups g;
    ASSERT_STATUS(ulm_clv_groups_build(x, tx, T, N, &g, NULL), ULM_OK);
    const double ths[2][4] = {{log(0.24), log(4.4), log(0.79), log(2.4)}, {log(1.7), log(0.6), log(3.1), log(0.4)}};
    for (int k = 0; k < 2; k++) {
        double f, gr[4], H[16];
        ASSERT_TRUE(ulm__bgnbd_objective(&g, ths[k], &f, gr, H) == 0);
        for (int j = 0; j < 4; j++) {
            double tp[4], tm[4], fp, fm, gp[4], gm[4], h = 1e-5;
            for (int i = 0; i < 4; i++) tp[i] = tm[i] = ths[k][i];
            tp[j] += h, tm[j] -= h;
            ASSERT_TRUE(ulm__bgnbd_objective(&g, tp, &fp, gp, NULL) == 0);
            ASSERT_TRUE(ulm__bgnbd_objective(&g, tm, &fm, gm, NULL) == 0);
            ASSERT_NEAR((fp - fm) / (2 * h), gr[j], 1e-7 * (1 + fabs(gr[j])));
            for (int i = 0; i < 4; i++) {
                ASSERT_NEAR((gp[i] - gm[i]) / (2 * h), H[i * 4 + j], 1e-6 * (1 + fabs(H[i * 4 + j])));
                ASSERT_TRUE(H[i * 4 + j] == H[j * 4 + i]);
            }
        }
    }
    ulm_clv_groups_free(&g);
    free(x), free(tx), free(T);
    return 0;
}
