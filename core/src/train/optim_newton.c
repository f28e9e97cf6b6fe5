/* optim_newton.c: Newton's method for smooth objectives with an exact Hessian (Nocedal & Wright,
 * Numerical Optimization, 2nd ed., ch. 3.4: a multiple of the identity added until the Hessian is
 * positive definite), with the same backtracking Armijo line search and step cap as optim_bfgs.c.
 * Near the optimum it converges quadratically: a handful of evaluations where BFGS takes dozens.
 * No allocation. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "optim.h"

static double max_abs(int n, const double *v) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* Solves (H + mu I) d = -g by Cholesky; 0 when H + mu I is not (numerically) positive definite. */
static int shifted_solve(int n, const double *H, double mu, const double *g, double *d) {
    double L[ULM__BFGS_MAX_DIM * ULM__BFGS_MAX_DIM];
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = H[i * n + j] + (i == j ? mu : 0);
            for (int k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
            if (i == j) {
                if (!(s > 1e-300)) return 0;
                L[i * n + i] = sqrt(s);
            } else {
                L[i * n + j] = s / L[j * n + j];
            }
        }
    for (int i = 0; i < n; i++) { /* L y = -g */
        double s = -g[i];
        for (int k = 0; k < i; k++) s -= L[i * n + k] * d[k];
        d[i] = s / L[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) { /* L' d = y */
        double s = d[i];
        for (int k = i + 1; k < n; k++) s -= L[k * n + i] * d[k];
        d[i] = s / L[i * n + i];
    }
    return 1;
}

int ulm__newton(int n, double *x, ulm__objective_h fn, void *ud, int max_iter, double grad_tol, double max_step,
                ulm__bfgs_result *res) {
    double H[ULM__BFGS_MAX_DIM * ULM__BFGS_MAX_DIM], Hn[ULM__BFGS_MAX_DIM * ULM__BFGS_MAX_DIM];
    double g[ULM__BFGS_MAX_DIM], gn[ULM__BFGS_MAX_DIM], d[ULM__BFGS_MAX_DIM], xn[ULM__BFGS_MAX_DIM], f, fn_;
    memset(res, 0, sizeof *res);
    if (n < 1 || n > ULM__BFGS_MAX_DIM) return -1;
    if (fn(ud, x, &f, g, H) != 0) return -1;
    double mu = 0;
    int it, stalled = 0;
    for (it = 0; it < max_iter; it++) {
        if (max_abs(n, g) <= grad_tol) break;
        double scale = 0;
        for (int i = 0; i < n; i++) scale = fmax(scale, fabs(H[i * n + i]));
        if (!(scale > 0)) scale = 1;
        int have = 0;
        for (int k = 0; k < 40 && !have; k++) { /* the smallest shift (from mu up) that makes H definite */
            have = shifted_solve(n, H, mu, g, d);
            if (!have) mu = mu > 0 ? mu * 10 : 1e-10 * scale;
        }
        double slope = 0;
        for (int i = 0; i < n; i++) slope += d[i] * g[i];
        if (!have || !(slope < 0)) { /* fall back to steepest descent */
            for (int i = 0; i < n; i++) d[i] = -g[i];
            slope = 0;
            for (int i = 0; i < n; i++) slope -= g[i] * g[i];
        }
        double step = 1, dm = max_abs(n, d);
        if (dm * step > max_step) step = max_step / dm;
        int ok = 0;
        for (int k = 0; k < 60; k++, step *= 0.5) {
            for (int i = 0; i < n; i++) xn[i] = x[i] + step * d[i];
            if (fn(ud, xn, &fn_, gn, Hn) == 0 && fn_ <= f + 1e-4 * step * slope) {
                ok = 1;
                break;
            }
        }
        if (!ok) {
            if (mu > 1e6 * scale) { /* even tiny steepest-descent-like steps do not improve: done */
                stalled = 1;
                break;
            }
            mu = mu > 0 ? mu * 100 : 1e-6 * scale;
            continue;
        }
        /* An accepted step too small to move x or f means the objective is flat at this precision (e.g. a
         * parameter running off to infinity on data without that effect): stop instead of spinning. */
        int flat = step * dm <= 1e-10 && f - fn_ <= 4 * DBL_EPSILON * fabs(f);
        memcpy(x, xn, sizeof(double) * (size_t)n);
        memcpy(g, gn, sizeof(double) * (size_t)n);
        memcpy(H, Hn, sizeof(double) * (size_t)(n * n));
        f = fn_;
        if (flat) {
            stalled = 1;
            it++;
            break;
        }
        mu = step == 1 ? mu * 0.01 : mu; /* full steps: trust the Hessian more */
        if (mu < 1e-12 * scale) mu = 0;
    }
    res->f = f;
    res->gmax = max_abs(n, g);
    res->iterations = it;
    res->converged = res->gmax <= grad_tol || (stalled && res->gmax <= 100 * grad_tol);
    return 0;
}
