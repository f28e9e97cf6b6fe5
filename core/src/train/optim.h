/* optim.h: a small dense BFGS minimiser for smooth objectives of a few parameters (internal). */
#ifndef ULM_OPTIM_H
#define ULM_OPTIM_H

#define ULM__BFGS_MAX_DIM 8

/* Objective: f(x) and its gradient g(x); returns 0 when both are finite, non-zero otherwise
 * (the line search then backs off). */
typedef int (*ulm__objective)(void *ud, const double *x, double *f, double *g);

/* What a run did. */
typedef struct ulm__bfgs_result {
    double f;         /* objective at the returned x */
    double gmax;      /* max |g| there */
    int iterations;
    int converged;    /* gmax <= grad_tol, or no descent possible with gmax <= 100 grad_tol */
} ulm__bfgs_result;

/* Minimises fn from x[0..n) (n <= ULM__BFGS_MAX_DIM) in place with BFGS on the inverse Hessian, a
 * backtracking Armijo line search with steps capped at max_step per coordinate, and a restart from
 * the scaled identity when the line search stalls. Returns -1 when fn fails at the start, else 0. */
int ulm__bfgs(int n, double *x, ulm__objective fn, void *ud, int max_iter, double grad_tol, double max_step,
              ulm__bfgs_result *res);

/* Objective with its Hessian: f(x), g(x) and the n x n Hessian h(x) (row-major); 0 when all are finite. */
typedef int (*ulm__objective_h)(void *ud, const double *x, double *f, double *g, double *h);

/* Minimises fn from x[0..n) in place with Newton's method (Hessian shifted by a multiple of the identity
 * until positive definite), the line search and step cap of ulm__bfgs. Returns -1 when fn fails at the
 * start, else 0. (optim_newton.c) */
int ulm__newton(int n, double *x, ulm__objective_h fn, void *ud, int max_iter, double grad_tol, double max_step,
                ulm__bfgs_result *res);

#endif
