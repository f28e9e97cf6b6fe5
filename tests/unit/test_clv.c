/* test_clv.c: BG/NBD, Pareto/NBD and Gamma-Gamma against the published CDNOW numbers
 * (shared/data/cdnow/SOURCE.txt: Fader, Hardie & Lee 2005; Fader & Hardie 2013; Hardie's note 027),
 * the hypergeometric function against closed forms, and every analytic gradient against central
 * differences computed here. */
#include <stdlib.h>

#include "ulm/ulm.h"
#include "ulm_test.h"

#define CDNOW ULM_SHARED_DATA "/cdnow/"

/* Reads the CDNOW summary CSV (header line, then ID,x,t_x,T[,zbar]); returns the row count. */
static size_t read_summary(const char *path, int cols, double *x, double *tx, double *T, double *z, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    size_t n = 0;
    if (!fgets(line, sizeof line, f)) n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        double id, a, b, c, d = 0;
        int k = sscanf(line, "%lf,%lf,%lf,%lf,%lf", &id, &a, &b, &c, &d);
        if (k < cols) continue;
        x[n] = a, tx[n] = b, T[n] = c;
        if (z) z[n] = d;
        n++;
    }
    fclose(f);
    return n;
}

static const ulm_bgnbd PUB_BG = {0.243, 4.414, 0.793, 2.426};
static const ulm_gg PUB_GG = {6.25, 3.74, 15.44};

ULM_TEST(clv_special_functions) {
    /* ln Gamma and digamma at known values. */
    ASSERT_NEAR(ulm_lgamma(0.5), 0.5 * log(M_PI), 1e-14);
    ASSERT_NEAR(ulm_lgamma(1), 0, 1e-14);
    ASSERT_NEAR(ulm_lgamma(101), 363.73937555556347, 1e-10); /* ln 100! */
    ASSERT_NEAR(ulm_lgamma(1e-6), -log(1e-6) - 0.5772156649015329e-6, 1e-10);
    ASSERT_NEAR(ulm_digamma(1), -0.5772156649015329, 1e-14);
    ASSERT_NEAR(ulm_digamma(0.5), -0.5772156649015329 - 2 * log(2.0), 1e-13);
    ASSERT_NEAR(ulm_digamma(1000.5) - ulm_digamma(999.5), 1 / 999.5, 1e-14);
    /* 2F1 against closed forms: -ln(1-z)/z = 2F1(1,1;2;z); (1-z)^-a = 2F1(a,b;b;z);
     * asin(sqrt z)/sqrt(z) = 2F1(1/2,1/2;3/2;z); 2F1(1/2,1;3/2;-z^2) = atan(z)/z. */
    double zs[] = {-50, -3, -0.9, -0.5, -1e-3, 0.2, 0.5, 0.8, 0.99, 0.9999};
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        double z = zs[i], f;
        ASSERT_STATUS(ulm_hyp2f1(1, 1, 2, z, &f), ULM_OK);
        ASSERT_NEAR(f / (-log1p(-z) / z), 1, 1e-12);
        ASSERT_STATUS(ulm_hyp2f1(2.5, 0.7, 0.7, z, &f), ULM_OK);
        ASSERT_NEAR(f / pow(1 - z, -2.5), 1, 1e-12);
        if (z > 0) {
            ASSERT_STATUS(ulm_hyp2f1(0.5, 0.5, 1.5, z, &f), ULM_OK);
            ASSERT_NEAR(f / (asin(sqrt(z)) / sqrt(z)), 1, 1e-12);
        } else {
            double s = sqrt(-z);
            ASSERT_STATUS(ulm_hyp2f1(0.5, 1, 1.5, z, &f), ULM_OK);
            ASSERT_NEAR(f / (atan(s) / s), 1, 1e-12);
        }
    }
    double f;
    ASSERT_STATUS(ulm_hyp2f1(1, 1, 2, 1.0, &f), ULM_ERR_RANGE);
    ASSERT_TRUE(isnan(f));
    ASSERT_STATUS(ulm_hyp2f1(1, 1, -2, 0.5, &f), ULM_ERR_RANGE);
    return 0;
}

ULM_TEST(clv_bgnbd_stability_vectors) {
    /* Hardie, note 027 "BG/NBD numerical error": r 0.25, alpha 4, a 0.8, b 2.5, T 40. */
    ulm_bgnbd m = {0.25, 4, 0.8, 2.5};
    double ll;
    ASSERT_STATUS(ulm_bgnbd_loglik(&m, 0, 0, 40, &ll, NULL), ULM_OK);
    ASSERT_NEAR(ll, -0.59947382, 5e-9);
    ASSERT_STATUS(ulm_bgnbd_loglik(&m, 200, 38, 40, &ll, NULL), ULM_OK);
    ASSERT_NEAR(ll, 100.7957, 5e-5);
    /* Far beyond what a direct product of powers survives. */
    ASSERT_STATUS(ulm_bgnbd_loglik(&m, 5000, 39, 40, &ll, NULL), ULM_OK);
    ASSERT_TRUE(isfinite(ll));
    double pa;
    ASSERT_STATUS(ulm_bgnbd_p_alive(&m, 5000, 39, 40, &pa), ULM_OK);
    ASSERT_TRUE(pa >= 0 && pa <= 1);
    return 0;
}

ULM_TEST(clv_bgnbd_test_vectors) {
    /* SOURCE.txt: customers 1, 3 and 6 at the published BG/NBD parameters. */
    struct { double x, tx, T, zbar, ll, pa, ce, em; } v[] = {
        {2, 30.43, 38.86, 22.35, -9.4586, 0.7266, 1.2260, 24.6637},
        {0, 0, 38.86, 0, -0.5547, 1.0000, 0.1951, -1},
        {7, 29.43, 38.86, 73.74, -21.8633, 0.6418, 3.3371, 71.4697},
    };
    for (int i = 0; i < 3; i++) {
        double ll, pa, ce, em;
        ASSERT_STATUS(ulm_bgnbd_loglik(&PUB_BG, v[i].x, v[i].tx, v[i].T, &ll, NULL), ULM_OK);
        ASSERT_NEAR(ll, v[i].ll, 1e-4);
        ASSERT_STATUS(ulm_bgnbd_p_alive(&PUB_BG, v[i].x, v[i].tx, v[i].T, &pa), ULM_OK);
        ASSERT_NEAR(pa, v[i].pa, 1e-4);
        ASSERT_STATUS(ulm_bgnbd_expected(&PUB_BG, v[i].x, v[i].tx, v[i].T, 39, &ce), ULM_OK);
        ASSERT_NEAR(ce, v[i].ce, 1e-4);
        if (v[i].em > 0) {
            ASSERT_STATUS(ulm_gg_expected_spend(&PUB_GG, v[i].x, v[i].zbar, &em), ULM_OK);
            ASSERT_NEAR(em, v[i].em, 1e-4);
        }
    }
    /* Unconditional E[X(t)] for a new customer. */
    double t[] = {13, 26, 39, 52, 78}, want[] = {0.5344, 0.9026, 1.1967, 1.4461, 1.8605};
    for (int i = 0; i < 5; i++) {
        double e;
        ASSERT_STATUS(ulm_bgnbd_expected_new(&PUB_BG, t[i], &e), ULM_OK);
        ASSERT_NEAR(e, want[i], 1e-4);
    }
    return 0;
}

/* Central-difference check of an analytic gradient on log-parameters. */
typedef ulm_status (*ll4_fn)(const void *m, double x, double tx, double T, double *ll, double *g);
static ulm_status bg_ll(const void *m, double x, double tx, double T, double *ll, double *g) {
    return ulm_bgnbd_loglik(m, x, tx, T, ll, g);
}
static ulm_status pn_ll(const void *m, double x, double tx, double T, double *ll, double *g) {
    return ulm_pnbd_loglik(m, x, tx, T, ll, g);
}
static int grad_check4(ll4_fn fn, const double *p0, double x, double tx, double T) {
    double g[4], ll;
    if (fn(p0, x, tx, T, &ll, g) != ULM_OK) return 1;
    for (int k = 0; k < 4; k++) {
        double p[4], lp, lm, h = 1e-5;
        for (int j = 0; j < 4; j++) p[j] = p0[j];
        p[k] = p0[k] * exp(h);
        if (fn(p, x, tx, T, &lp, NULL) != ULM_OK) return 1;
        p[k] = p0[k] * exp(-h);
        if (fn(p, x, tx, T, &lm, NULL) != ULM_OK) return 1;
        double num = (lp - lm) / (2 * h);
        if (!(fabs(num - g[k]) <= 1e-6 * (1 + fabs(num)))) {
            fprintf(stderr, "gradient %d at x %g t_x %g T %g: analytic %.10g numeric %.10g\n", k, x, tx, T, g[k], num);
            return 1;
        }
    }
    return 0;
}

ULM_TEST(clv_gradients_match_finite_differences) {
    double hist[][3] = {{0, 0, 38.86}, {2, 30.43, 38.86}, {7, 29.43, 38.86}, {1, 1.71, 27}, {30, 38, 38.5}, {5, 38.86, 38.86}};
    double bg[][4] = {{0.243, 4.414, 0.793, 2.426}, {2, 1.5, 3, 0.4}};
    /* Pareto/NBD on both sides of alpha = beta (the two branches of the likelihood). */
    double pn[][4] = {{0.553, 10.578, 0.606, 11.669}, {0.9, 20, 1.4, 3}, {0.3, 2, 0.5, 40}};
    for (size_t h = 0; h < sizeof hist / sizeof hist[0]; h++) {
        for (int k = 0; k < 2; k++) ASSERT_EQ_INT(grad_check4(bg_ll, bg[k], hist[h][0], hist[h][1], hist[h][2]), 0);
        for (int k = 0; k < 3; k++) ASSERT_EQ_INT(grad_check4(pn_ll, pn[k], hist[h][0], hist[h][1], hist[h][2]), 0);
    }
    ulm_gg gg = PUB_GG;
    double g[3], ll;
    ASSERT_STATUS(ulm_gg_loglik(&gg, 3, 41.5, &ll, g), ULM_OK);
    double *p[3] = {&gg.p, &gg.q, &gg.gamma};
    for (int k = 0; k < 3; k++) {
        double v = *p[k], lp, lm, h = 1e-5;
        *p[k] = v * exp(h);
        ulm_gg_loglik(&gg, 3, 41.5, &lp, NULL);
        *p[k] = v * exp(-h);
        ulm_gg_loglik(&gg, 3, 41.5, &lm, NULL);
        *p[k] = v;
        ASSERT_NEAR(g[k], (lp - lm) / (2 * h), 1e-6 * (1 + fabs(g[k])));
    }
    return 0;
}

ULM_TEST(clv_cdnow_fits_reproduce_papers) {
    enum { CAP = 3000 };
    double *x = malloc(CAP * sizeof(double)), *tx = malloc(CAP * sizeof(double)), *T = malloc(CAP * sizeof(double)),
           *z = malloc(CAP * sizeof(double));
    ASSERT_TRUE(x && tx && T && z);
    size_t n = read_summary(CDNOW "cdnow_customers_summary_with_transactions.csv", 5, x, tx, T, z, CAP);
    ASSERT_EQ_INT(n, 2357);
    ulm_clv_groups g;
    ulm_diag d;
    ASSERT_STATUS(ulm_clv_groups_build(x, tx, T, n, &g, &d), ULM_OK);
    ASSERT_EQ_INT(g.n_customers, 2357);
    ASSERT_TRUE(g.n < n);
    ulm_fit_params fp = ulm_fit_params_init();
    ulm_fit_report rep;
    ulm_bgnbd bg;
    ASSERT_STATUS(ulm_bgnbd_fit(&g, &fp, &bg, &rep, &d), ULM_OK);
    ASSERT_TRUE(rep.converged);
    ASSERT_NEAR(bg.r, 0.2426, 0.005 * 0.2426);
    ASSERT_NEAR(bg.alpha, 4.4135, 0.005 * 4.4135);
    ASSERT_NEAR(bg.a, 0.7929, 0.005 * 0.7929);
    ASSERT_NEAR(bg.b, 2.4258, 0.005 * 2.4258);
    ASSERT_NEAR(rep.loglik, -9582.43, 0.01);
    /* The fit's log-likelihood is the sum of the per-customer function. */
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double l;
        ASSERT_STATUS(ulm_bgnbd_loglik(&bg, x[i], tx[i], T[i], &l, NULL), ULM_OK);
        sum += l;
    }
    ASSERT_NEAR(sum, rep.loglik, 1e-6);

    ulm_pnbd pn;
    ASSERT_STATUS(ulm_pnbd_fit(&g, &fp, &pn, &rep, &d), ULM_OK);
    ASSERT_TRUE(rep.converged);
    ASSERT_NEAR(rep.loglik, -9594.97, 0.01);
    ASSERT_NEAR(pn.r, 0.553, 0.005 * 0.553);
    ASSERT_NEAR(pn.alpha, 10.578, 0.005 * 10.578);
    ASSERT_NEAR(pn.s, 0.606, 0.005 * 0.606);
    ASSERT_NEAR(pn.beta, 11.669, 0.005 * 11.669);

    ulm_gg gg;
    ASSERT_STATUS(ulm_gg_fit(x, z, n, &fp, &gg, &rep, &d), ULM_OK);
    ASSERT_EQ_INT(rep.n_used, 946);
    ASSERT_EQ_INT(rep.n_excluded, 2357 - 946);
    ASSERT_NEAR(gg.p, 6.2488, 0.005 * 6.2488);
    ASSERT_NEAR(gg.q, 3.7446, 0.005 * 3.7446);
    ASSERT_NEAR(gg.gamma, 15.4477, 0.005 * 15.4477);

    /* Holdout (weeks 40-78): the conditional expectations at the published parameters sum to about 1,653. */
    double ce_sum = 0;
    for (size_t i = 0; i < n; i++) {
        double e;
        ASSERT_STATUS(ulm_bgnbd_expected(&PUB_BG, x[i], tx[i], T[i], 39, &e), ULM_OK);
        ce_sum += e;
    }
    ASSERT_NEAR(ce_sum, 1653, 5);
    ulm_clv_groups_free(&g);
    free(x), free(tx), free(T), free(z);
    return 0;
}

ULM_TEST(clv_bad_inputs) {
    ulm_bgnbd bad = {0, 4, 0.8, 2.5};
    double v;
    ASSERT_STATUS(ulm_bgnbd_loglik(&bad, 1, 1, 2, &v, NULL), ULM_ERR_RANGE);
    ASSERT_TRUE(isnan(v));
    ASSERT_STATUS(ulm_bgnbd_p_alive(&PUB_BG, 1, 3, 2, &v), ULM_ERR_RANGE); /* t_x > T */
    ASSERT_STATUS(ulm_gg_loglik(&PUB_GG, 0, 10, &v, NULL), ULM_ERR_RANGE);
    ASSERT_STATUS(ulm_gg_loglik(&PUB_GG, 2, -1, &v, NULL), ULM_ERR_RANGE);
    double x[] = {1, 0}, tx[] = {2, 0}, T[] = {1, 0};
    ulm_clv_groups g;
    ulm_diag d;
    ASSERT_STATUS(ulm_clv_groups_build(x, tx, T, 2, &g, &d), ULM_ERR_RANGE);
    double x2[] = {0, 0}, tx2[] = {0, 0}, T2[] = {0, 0};
    ASSERT_STATUS(ulm_clv_groups_build(x2, tx2, T2, 2, &g, &d), ULM_OK);
    ulm_bgnbd m;
    ASSERT_STATUS(ulm_bgnbd_fit(&g, NULL, &m, NULL, &d), ULM_ERR_RANGE); /* every T is zero */
    ulm_clv_groups_free(&g);
    ulm_clv_groups_free(NULL);
    double zx[] = {1, 0, 2}, zz[] = {-3, 5, 0};
    ulm_gg gm;
    ulm_fit_report rep;
    ASSERT_STATUS(ulm_gg_fit(zx, zz, 3, NULL, &gm, &rep, &d), ULM_ERR_RANGE);
    ASSERT_EQ_INT(rep.n_excluded, 3);
    return 0;
}

ULM_TEST(clv_pnbd_near_one) {
    /* Where 2F1's argument nears 1 (beta >> alpha) the likelihood switches to the 1-z connection
     * formula: it must agree with the series just below the switch and keep exact gradients. */
    double p[][4] = {{0.7, 1.0, 0.8, 2000}, {0.7, 3000, 0.8, 1.0}, {0.7, 1.0, 1.0, 2000}, {1.0, 1.0, 0.5, 40}};
    double hist[][3] = {{0, 0, 30}, {3, 20, 30}, {12, 29, 30}};
    for (int k = 0; k < 4; k++)
        for (int h = 0; h < 3; h++) ASSERT_EQ_INT(grad_check4(pn_ll, p[k], hist[h][0], hist[h][1], hist[h][2]), 0);
    /* Continuity across the switch at z = 0.9: z = (beta - alpha)/(beta + t) for alpha < beta. */
    ulm_pnbd a = {0.7, 1.0, 0.8, 0}, b = a;
    a.beta = (0.9 * 30 + 1.0) / (1 - 0.9) - 1e-6; /* T = 30: z just below 0.9 at t = T */
    b.beta = a.beta + 2e-6;
    double la, lb;
    ASSERT_STATUS(ulm_pnbd_loglik(&a, 2, 10, 30, &la, NULL), ULM_OK);
    ASSERT_STATUS(ulm_pnbd_loglik(&b, 2, 10, 30, &lb, NULL), ULM_OK);
    ASSERT_NEAR(la, lb, 1e-8);
    return 0;
}
