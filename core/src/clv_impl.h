/* clv_impl.h: internals shared by the CLV sources (scoring and training halves); not installed. */
#ifndef ULM_CLV_IMPL_H
#define ULM_CLV_IMPL_H

#include "ulm/ulm_clv.h"

/* 2F1(a, b; c; z) for 0 <= z < 1 by the power series, with its partial derivatives:
 * out[0] = F, out[1..4] = dF/da, dF/db, dF/dc, dF/dz. ULM_ERR_RANGE if not converged. */
ulm_status ulm__hyp2f1_grad(double a, double b, double c, double z, double out[5]);
/* ln(exp(u) + exp(v)) without overflow. */
double ulm__logaddexp(double u, double v);

#endif
