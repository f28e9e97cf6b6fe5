/* ulm_clv.h: customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma.
 *
 * A customer's history is summarised as (x, t_x, T): x repeat purchases (distinct purchase days
 * after the first), t_x the time of the last purchase and T the end of observation, both measured
 * from the first purchase in one time unit (days or weeks). BG/NBD is Fader, Hardie & Lee (2005),
 * Marketing Science 24(2):275-284; Pareto/NBD is Schmittlein, Morrison & Colombo (1987) in the form
 * of Fader, Hardie & Lee, "A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005);
 * Gamma-Gamma is Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value". Definitions and
 * formulas: docs/clv.md.
 *
 * Scoring half (libulm_core, also in the wasm scorers): likelihoods with gradients, P(alive),
 * expected purchases, expected spend, discounted CLV, the Gauss hypergeometric function. None of
 * these allocate. The fits (ulm_*_fit, ulm_clv_groups_*) are the training half (libulm_train).
 *
 *     ulm_clv_groups g;                                   // distinct (x, t_x, T) with weights
 *     ulm_clv_groups_build(x, t_x, T, n, &g, &diag);
 *     ulm_fit_params fp = ulm_fit_params_init();
 *     ulm_bgnbd m; ulm_fit_report rep;
 *     if (ulm_bgnbd_fit(&g, &fp, &m, &rep, &diag) != ULM_OK) fail(diag.message);
 *     double pa, ey;
 *     ulm_bgnbd_p_alive(&m, 2, 30.43, 38.86, &pa);        // 0.7266 on CDNOW
 *     ulm_bgnbd_expected(&m, 2, 30.43, 38.86, 39, &ey);   // purchases in the next 39 weeks
 *     ulm_clv_groups_free(&g);
 */
#ifndef ULM_CLV_H
#define ULM_CLV_H

#include <stddef.h>
#include <stdint.h>

#include "ulm_parallel.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* BG/NBD parameters: purchase rate ~ Gamma(r, alpha); drop-out probability per purchase ~ Beta(a, b). */
typedef struct ulm_bgnbd {
    double r, alpha, a, b;
} ulm_bgnbd;
/* Pareto/NBD parameters: purchase rate ~ Gamma(r, alpha); drop-out rate ~ Gamma(s, beta). */
typedef struct ulm_pnbd {
    double r, alpha, s, beta;
} ulm_pnbd;
/* Gamma-Gamma parameters: spend per purchase ~ Gamma(p, nu); nu ~ Gamma(q, gamma). */
typedef struct ulm_gg {
    double p, q, gamma;
} ulm_gg;

/* ---- special functions ---------------------------------------------------------------------- */

/* ln Gamma(x) for x > 0 (Stirling series after upward recurrence; no global sign state). @since 0.2 */
ULM_API double ulm_lgamma(double x);
/* Digamma psi(x) for x > 0. @since 0.2 */
ULM_API double ulm_digamma(double x);
/* Gauss hypergeometric 2F1(a, b; c; z) for real a, b, c (c not a non-positive integer) and z < 1:
 * the series directly for |z| <= 1/2, Pfaff's transformation for z < -1/2, and the series with up
 * to 10^6 terms for 1/2 < z < 1. ULM_ERR_RANGE when z >= 1 or the series does not converge; *out
 * is then NaN. Never allocates. @since 0.2 */
ULM_API ulm_status ulm_hyp2f1(double a, double b, double c, double z, double *out);

/* ---- BG/NBD ---------------------------------------------------------------------------------- */

/* ln L(r, alpha, a, b | x, t_x, T) of one customer in the log-sum-exp form; grad (may be NULL)
 * gets d lnL / d ln(r, alpha, a, b). ULM_ERR_RANGE for parameters <= 0 or an inconsistent
 * history (x < 0, t_x < 0, t_x > T, or x > 0 with t_x = 0 is allowed). @since 0.2 */
ULM_API ulm_status ulm_bgnbd_loglik(const ulm_bgnbd *m, double x, double t_x, double T, double *ll, double grad[4]);
/* P(alive at T | x, t_x, T). 1 for x = 0. @since 0.2 */
ULM_API ulm_status ulm_bgnbd_p_alive(const ulm_bgnbd *m, double x, double t_x, double T, double *out);
/* E[purchases in (T, T + t] | x, t_x, T] (FHL 2005 eq. 10). @since 0.2 */
ULM_API ulm_status ulm_bgnbd_expected(const ulm_bgnbd *m, double x, double t_x, double T, double t, double *out);
/* E[X(t)]: expected purchases in (0, t] of a customer just acquired (FHL 2005 eq. 9). @since 0.2 */
ULM_API ulm_status ulm_bgnbd_expected_new(const ulm_bgnbd *m, double t, double *out);

/* ---- Pareto/NBD ------------------------------------------------------------------------------ */

/* ln L(r, alpha, s, beta | x, t_x, T); grad (may be NULL) gets d lnL / d ln(r, alpha, s, beta).
 * Uses 2F1 with analytic parameter derivatives. @since 0.2 */
ULM_API ulm_status ulm_pnbd_loglik(const ulm_pnbd *m, double x, double t_x, double T, double *ll, double grad[4]);
/* P(alive at T | x, t_x, T). @since 0.2 */
ULM_API ulm_status ulm_pnbd_p_alive(const ulm_pnbd *m, double x, double t_x, double T, double *out);
/* E[purchases in (T, T + t] | x, t_x, T]. @since 0.2 */
ULM_API ulm_status ulm_pnbd_expected(const ulm_pnbd *m, double x, double t_x, double T, double t, double *out);
/* E[X(t)] for a customer just acquired. @since 0.2 */
ULM_API ulm_status ulm_pnbd_expected_new(const ulm_pnbd *m, double t, double *out);

/* ---- Gamma-Gamma ----------------------------------------------------------------------------- */

/* ln f(zbar | p, q, gamma, x) for a customer with x >= 1 purchases of mean value zbar > 0; grad
 * (may be NULL) gets d/d ln(p, q, gamma). ULM_ERR_RANGE otherwise. @since 0.2 */
ULM_API ulm_status ulm_gg_loglik(const ulm_gg *m, double x, double zbar, double *ll, double grad[3]);
/* E[M | p, q, gamma, x, zbar] (Fader & Hardie 2013 eq. 5); x = 0 gives the population mean
 * p gamma / (q - 1) (ULM_ERR_RANGE if q <= 1). @since 0.2 */
ULM_API ulm_status ulm_gg_expected_spend(const ulm_gg *m, double x, double zbar, double *out);

/* ---- lifetime value -------------------------------------------------------------------------- */

typedef enum ulm_clv_kind { ULM_CLV_BGNBD = 0, ULM_CLV_PNBD = 1 } ulm_clv_kind;
/* A purchase model plus the spend model. */
typedef struct ulm_clv_model {
    int kind; /* ulm_clv_kind */
    ulm_bgnbd bg;
    ulm_pnbd pn;
    ulm_gg gg;
} ulm_clv_model;
/* One customer's P(alive), expected purchases over horizon, expected spend per purchase and
 * discounted CLV: sum over periods k = 1..ceil(horizon/period) of E[M] times the expected
 * purchases in period k, divided by (1 + discount)^k. Times in the model's unit. @since 0.2 */
typedef struct ulm_clv_pred {
    double p_alive, expected_purchases, expected_spend, clv;
} ulm_clv_pred;
ULM_API ulm_status ulm_clv_predict(const ulm_clv_model *m, double x, double t_x, double T, double zbar,
                                   double horizon, double period, double discount, ulm_clv_pred *out);

/* ---- fitting (training half: libulm_train) ------------------------------------------------------ */

/* Customers grouped by distinct (x, t_x, T); w = how many customers share the triple. */
typedef struct ulm_clv_groups {
    size_t n;              /* distinct triples */
    double *x, *t_x, *T, *w;
    size_t n_customers;
} ulm_clv_groups;
/* Groups n customers (sorted by x, then t_x, then T). Allocates; ULM_ERR_RANGE names the first bad
 * customer (negative or non-finite values, t_x > T, x > 0 with T = 0 is allowed). @since 0.2 */
ULM_API ulm_status ulm_clv_groups_build(const double *x, const double *t_x, const double *T, size_t n,
                                        ulm_clv_groups *out, ulm_diag *diag);
/* Frees the arrays; NULL-safe; zeroes g. @since 0.2 */
ULM_API void ulm_clv_groups_free(ulm_clv_groups *g);


/* Optimiser settings (BFGS on log-parameters with a backtracking line search). */
typedef struct ulm_fit_params {
    uint32_t struct_size;
    int max_iter;     /* per start (default 400) */
    double grad_tol;  /* stop when max |d(-lnL/N)/d ln theta| is below this (default 1e-9) */
    int n_starts;     /* starting points tried; the best end point wins (default 3) */
    /* BG/NBD: the likelihood's sum over groups runs as fixed chunks through this hook (NULL = in the
     * calling thread); chunks and their reduction order do not depend on the threads, so neither does
     * the fit. @since 0.3 */
    ulm_parallel_fn parallel;
    void *parallel_ctx;
} ulm_fit_params;
/* Defaults as documented above. @since 0.2 */
ULM_API ulm_fit_params ulm_fit_params_init(void);
/* What a fit did. */
typedef struct ulm_fit_report {
    double loglik;      /* at the returned parameters */
    double grad_norm;   /* max |d(-lnL/N)/d ln theta| there */
    int iterations;     /* of the winning start */
    int converged;      /* 1 when grad_tol was reached */
    size_t n_used;      /* customers that entered the likelihood */
    size_t n_excluded;  /* customers left out (Gamma-Gamma: x = 0 or spend <= 0) */
} ulm_fit_report;

/* Maximum-likelihood BG/NBD. A fit that stops short of grad_tol still returns ULM_OK with the best
 * point and rep->converged = 0. @since 0.2 */
ULM_API ulm_status ulm_bgnbd_fit(const ulm_clv_groups *g, const ulm_fit_params *fp, ulm_bgnbd *out,
                                 ulm_fit_report *rep, ulm_diag *diag);
/* Maximum-likelihood Pareto/NBD (same conventions). @since 0.2 */
ULM_API ulm_status ulm_pnbd_fit(const ulm_clv_groups *g, const ulm_fit_params *fp, ulm_pnbd *out,
                                ulm_fit_report *rep, ulm_diag *diag);
/* Maximum-likelihood Gamma-Gamma on customers with x >= 1 and zbar > 0 (others are counted in
 * rep->n_excluded). ULM_ERR_RANGE when fewer than 2 customers remain. @since 0.2 */
ULM_API ulm_status ulm_gg_fit(const double *x, const double *zbar, size_t n, const ulm_fit_params *fp, ulm_gg *out,
                              ulm_fit_report *rep, ulm_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
