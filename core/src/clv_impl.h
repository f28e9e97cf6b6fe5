/* clv_impl.h: internals shared by the CLV sources (scoring and training halves); not installed. */
#ifndef ULM_CLV_IMPL_H
#define ULM_CLV_IMPL_H

#include "ulm/ulm_clv.h"

/* 2F1(a, b; c; z) for 0 <= z < 1 by the power series, with its partial derivatives:
 * out[0] = F, out[1..4] = dF/da, dF/db, dF/dc, dF/dz. ULM_ERR_RANGE if not converged. */
ulm_status ulm__hyp2f1_grad(double a, double b, double c, double z, double out[5]);
/* ln(exp(u) + exp(v)) without overflow. */
double ulm__logaddexp(double u, double v);

/* Trigamma psi'(x) for x > 0 (recurrence up to 10, then the asymptotic series; ~1e-14 relative). */
double ulm__trigamma(double x);
/* The BG/NBD fitting objective at log-parameters th (ln r, ln alpha, ln a, ln b): -lnL / N, its gradient
 * and (hess not NULL) its 4 x 4 Hessian; 0 when finite. For tests (core/src/train/clv_fit.c). */
int ulm__bgnbd_objective(const ulm_clv_groups *g, const double th[4], double *f, double grad[4], double hess[16]);

#endif
