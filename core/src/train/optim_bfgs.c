/* optim_bfgs.c: BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., alg. 6.1) with a
 * backtracking Armijo line search; dense n x n inverse Hessian for the handful of parameters the
 * CLV models have. No allocation. */
#include <math.h>
#include <string.h>

#include "optim.h"

static double max_abs(int n, const double *v) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* H <- I * scale. */
static void set_identity(int n, double *H, double scale) {
    memset(H, 0, sizeof(double) * (size_t)(n * n));
    for (int i = 0; i < n; i++) H[i * n + i] = scale;
}

int ulm__bfgs(int n, double *x, ulm__objective fn, void *ud, int max_iter, double grad_tol, double max_step,
              ulm__bfgs_result *res) {
    double H[ULM__BFGS_MAX_DIM * ULM__BFGS_MAX_DIM], g[ULM__BFGS_MAX_DIM], gn[ULM__BFGS_MAX_DIM];
    double d[ULM__BFGS_MAX_DIM], xn[ULM__BFGS_MAX_DIM], s[ULM__BFGS_MAX_DIM], y[ULM__BFGS_MAX_DIM];
    double Hy[ULM__BFGS_MAX_DIM], f, fn_;
    memset(res, 0, sizeof *res);
    if (n < 1 || n > ULM__BFGS_MAX_DIM) return -1;
    if (fn(ud, x, &f, g) != 0) return -1;
    set_identity(n, H, 1);
    int fresh = 1, stalls = 0, it, stalled = 0;
    for (it = 0; it < max_iter; it++) {
        if (max_abs(n, g) <= grad_tol) break;
        double slope = 0;
        for (int i = 0; i < n; i++) {
            d[i] = 0;
            for (int j = 0; j < n; j++) d[i] -= H[i * n + j] * g[j];
            slope += d[i] * g[i];
        }
        if (!(slope < 0)) { /* not a descent direction: restart from steepest descent */
            set_identity(n, H, 1);
            for (int i = 0; i < n; i++) d[i] = -g[i];
            slope = 0;
            for (int i = 0; i < n; i++) slope += d[i] * g[i];
            fresh = 1;
        }
        double step = 1, dm = max_abs(n, d);
        if (dm * step > max_step) step = max_step / dm;
        int ok = 0;
        for (int k = 0; k < 60; k++, step *= 0.5) {
            for (int i = 0; i < n; i++) xn[i] = x[i] + step * d[i];
            if (fn(ud, xn, &fn_, gn) == 0 && fn_ <= f + 1e-4 * step * slope) {
                ok = 1;
                break;
            }
        }
        if (!ok) {
            if (fresh || ++stalls > 2) { /* even steepest descent cannot improve: done */
                stalled = 1;
                break;
            }
            set_identity(n, H, 1);
            fresh = 1;
            continue;
        }
        double sy = 0, yy = 0;
        for (int i = 0; i < n; i++) {
            s[i] = xn[i] - x[i];
            y[i] = gn[i] - g[i];
            sy += s[i] * y[i];
            yy += y[i] * y[i];
        }
        double fprev = f;
        memcpy(x, xn, sizeof(double) * (size_t)n);
        memcpy(g, gn, sizeof(double) * (size_t)n);
        f = fn_;
        if (sy > 1e-14 * sqrt(yy) * max_abs(n, s) && sy > 0) {
            if (fresh) set_identity(n, H, sy / yy); /* Nocedal & Wright eq. 6.20 */
            fresh = 0;
            /* H <- (I - rho s y') H (I - rho y s') + rho s s', rho = 1/(y's). */
            double rho = 1 / sy, yHy = 0;
            for (int i = 0; i < n; i++) {
                Hy[i] = 0;
                for (int j = 0; j < n; j++) Hy[i] += H[i * n + j] * y[j];
                yHy += y[i] * Hy[i];
            }
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    H[i * n + j] += -rho * (Hy[i] * s[j] + s[i] * Hy[j]) + (rho * rho * yHy + rho) * s[i] * s[j];
        }
        if (f == fprev && max_abs(n, s) < 1e-15) {
            stalled = 1;
            break;
        }
    }
    res->f = f;
    res->gmax = max_abs(n, g);
    res->iterations = it;
    /* A stall with a gradient near tolerance is the rounding floor of f: converged as well. */
    res->converged = res->gmax <= grad_tol || (stalled && res->gmax <= 100 * grad_tol);
    return 0;
}
