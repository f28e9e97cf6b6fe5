/* clv_models.c: BG/NBD, Pareto/NBD and Gamma-Gamma likelihoods (with gradients on log-parameters)
 * and predictions: P(alive), conditional and unconditional expected purchases, expected spend, CLV.
 * Formulas: Fader, Hardie & Lee (2005) for BG/NBD; the Fader-Hardie-Lee note on the Pareto/NBD
 * (2005, eq. 22 for the likelihood); Fader & Hardie (2013) for Gamma-Gamma. See docs/clv.md. */
#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#include "clv_impl.h"

/* Valid history: finite, 0 <= t_x <= T, x >= 0. */
static int history_ok(double x, double t_x, double T) {
    return isfinite(x) && isfinite(t_x) && isfinite(T) && x >= 0 && t_x >= 0 && t_x <= T;
}
static int bg_ok(const ulm_bgnbd *m) {
    return m && m->r > 0 && m->alpha > 0 && m->a > 0 && m->b > 0 && isfinite(m->r) && isfinite(m->alpha) &&
           isfinite(m->a) && isfinite(m->b);
}
static int pn_ok(const ulm_pnbd *m) {
    return m && m->r > 0 && m->alpha > 0 && m->s > 0 && m->beta > 0 && isfinite(m->r) && isfinite(m->alpha) &&
           isfinite(m->s) && isfinite(m->beta);
}

/* ---- BG/NBD ---------------------------------------------------------------------------------- */

ulm_status ulm_bgnbd_loglik(const ulm_bgnbd *m, double x, double t_x, double T, double *ll, double grad[4]) {
    if (ll) *ll = NAN;
    if (!bg_ok(m) || !history_ok(x, t_x, T) || !ll) return ULM_ERR_RANGE;
    double r = m->r, al = m->alpha, a = m->a, b = m->b;
    double c0 = ulm_lgamma(r + x) - ulm_lgamma(r) + r * log(al) + ulm_lgamma(a + b) + ulm_lgamma(b + x) -
                ulm_lgamma(b) - ulm_lgamma(a + b + x);
    /* ln(A3 + A4) with A3 = (alpha+T)^-(r+x), A4 = a/(b+x-1) (alpha+t_x)^-(r+x): log-sum-exp. */
    double u = -(r + x) * log(al + T), l = u, w3 = 1, w4 = 0, v = 0;
    if (x > 0) {
        v = log(a) - log(b + x - 1) - (r + x) * log(al + t_x);
        l = ulm__logaddexp(u, v);
        w3 = exp(u - l);
        w4 = exp(v - l);
    }
    *ll = c0 + l;
    if (grad) {
        double dr = ulm_digamma(r + x) - ulm_digamma(r) + log(al) - w3 * log(al + T) - (x > 0 ? w4 * log(al + t_x) : 0);
        double dal = r / al - (r + x) * (w3 / (al + T) + (x > 0 ? w4 / (al + t_x) : 0));
        double dab = ulm_digamma(a + b) - ulm_digamma(a + b + x);
        double da = dab + (x > 0 ? w4 / a : 0);
        double db = dab + ulm_digamma(b + x) - ulm_digamma(b) - (x > 0 ? w4 / (b + x - 1) : 0);
        grad[0] = dr * r;
        grad[1] = dal * al;
        grad[2] = da * a;
        grad[3] = db * b;
    }
    return isfinite(*ll) ? ULM_OK : ULM_ERR_RANGE;
}

ulm_status ulm_bgnbd_p_alive(const ulm_bgnbd *m, double x, double t_x, double T, double *out) {
    *out = NAN;
    if (!bg_ok(m) || !history_ok(x, t_x, T)) return ULM_ERR_RANGE;
    if (x <= 0) {
        *out = 1;
        return ULM_OK;
    }
    /* 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)), the ratio taken in logs. */
    double lv = log(m->a) - log(m->b + x - 1) + (m->r + x) * (log(m->alpha + T) - log(m->alpha + t_x));
    *out = lv > 0 ? exp(-lv) / (1 + exp(-lv)) : 1 / (1 + exp(lv));
    return ULM_OK;
}

/* (C/(a-1)) (1 - F(A, a-1; C; w)): the bracket of FHL eq. 9/10 after Pfaff's transformation. a = 1
 * is a removable singularity: averaged from both sides. */
static ulm_status bg_bracket(double A, double a, double C, double w, double *out) {
    if (fabs(a - 1) < 1e-7) {
        double lo = NAN, hi = NAN;
        ulm_status s = bg_bracket(A, 1 - 1e-6, C, w, &lo);
        if (s == ULM_OK) s = bg_bracket(A, 1 + 1e-6, C, w, &hi);
        *out = 0.5 * (lo + hi);
        return s;
    }
    double f;
    ulm_status s = ulm_hyp2f1(A, a - 1, C, w, &f);
    if (s != ULM_OK) return s;
    *out = C / (a - 1) * (1 - f);
    return isfinite(*out) ? ULM_OK : ULM_ERR_RANGE;
}

ulm_status ulm_bgnbd_expected(const ulm_bgnbd *m, double x, double t_x, double T, double t, double *out) {
    *out = NAN;
    if (!bg_ok(m) || !history_ok(x, t_x, T) || !(t >= 0) || !isfinite(t)) return ULM_ERR_RANGE;
    double pa, br;
    ulm_status s = ulm_bgnbd_p_alive(m, x, t_x, T, &pa);
    if (s != ULM_OK) return s;
    /* ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))
     *   = 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T))   (Pfaff). */
    s = bg_bracket(m->r + x, m->a, m->a + m->b + x - 1, -t / (m->alpha + T), &br);
    if (s != ULM_OK) return s;
    *out = br * pa;
    if (*out < 0) *out = 0;
    return ULM_OK;
}

ulm_status ulm_bgnbd_expected_new(const ulm_bgnbd *m, double t, double *out) {
    *out = NAN;
    if (!bg_ok(m) || !(t >= 0) || !isfinite(t)) return ULM_ERR_RANGE;
    ulm_status s = bg_bracket(m->r, m->a, m->a + m->b - 1, -t / m->alpha, out);
    if (s == ULM_OK && *out < 0) *out = 0;
    return s;
}

/* ---- Pareto/NBD ------------------------------------------------------------------------------ */

/* G = 2F1(a, b; a+1; z) and dG/da (c = a+1 moving with a), dG/db, dG/dz in out[0..4] (out[3] = 0).
 * Near z = 1 the series needs ~1/(1-z) terms, so there the 1-z connection formula (Abramowitz &
 * Stegun 15.3.6 with c = a+1) is used:
 *   G = Gamma(a+1) Gamma(1-b) / Gamma(a+1-b) z^-a + (1-z)^(1-b) a/(b-1) 2F1(1, a+1-b; 2-b; 1-z),
 * with Gamma(1-b) = pi / (sin(pi b) Gamma(b)); needs a+1-b > 0. At integer b the two terms are
 * singular with opposite signs: near there G is interpolated in b from points 0.01-0.03 away. */
static ulm_status hyp_a1_connect(double a, double b, double z, double out[5]);
static ulm_status hyp_a1_grad(double a, double b, double z, double out[5]) {
    if (z <= 0.9 || !(a + 1 - b > 0)) return ulm__hyp2f1_grad(a, b, a + 1, z, out);
    double bi = floor(b + 0.5);
    if (fabs(b - bi) < 0.01) {
        /* Cubic (Lagrange) interpolation in b through bi -0.03, -0.01, +0.01, +0.03, where the
         * cancellation costs at most ~1e-10: the interpolation error is ~1e-8 relative. */
        static const double node[4] = {-0.03, -0.01, 0.01, 0.03};
        double v[4][5], t = b - bi;
        for (int j = 0; j < 4; j++) {
            ulm_status s = hyp_a1_connect(a, bi + node[j], z, v[j]);
            if (s != ULM_OK) return s;
        }
        for (int k = 0; k < 5; k++) out[k] = 0;
        for (int j = 0; j < 4; j++) {
            double L = 1, dL = 0; /* basis polynomial and its derivative at t */
            for (int m = 0; m < 4; m++) {
                if (m == j) continue;
                double q = 1 / (node[j] - node[m]);
                dL = dL * (t - node[m]) * q + L * q;
                L *= (t - node[m]) * q;
            }
            out[0] += L * v[j][0];
            out[1] += L * v[j][1];
            out[2] += dL * v[j][0]; /* dG/db from the interpolant of G itself */
            out[4] += L * v[j][4];
        }
        return out[0] > 0 ? ULM_OK : ULM_ERR_RANGE;
    }
    return hyp_a1_connect(a, b, z, out);
}

/* The connection formula itself (b not an integer). */
static ulm_status hyp_a1_connect(double a, double b, double z, double out[5]) {
    double y = 1 - z, f[5];
    ulm_status s = ulm__hyp2f1_grad(1, a + 1 - b, 2 - b, y, f);
    if (s != ULM_OK) return s;
    double sn = sin(M_PI * b);
    double l1 = ulm_lgamma(a + 1) + log(M_PI) - log(fabs(sn)) - ulm_lgamma(b) - ulm_lgamma(a + 1 - b) - a * log(z);
    double t1 = (sn > 0 ? 1 : -1) * exp(l1);
    double pre = exp((1 - b) * log(y)) * a / (b - 1), t2 = pre * f[0];
    /* d ln|T1|: da: psi(a+1) - psi(a+1-b) - ln z; db: psi(a+1-b) - psi(1-b), psi(1-b) = psi(b) + pi cot(pi b). */
    double ps1b = ulm_digamma(b) + M_PI * cos(M_PI * b) / sn;
    double t1a = t1 * (ulm_digamma(a + 1) - ulm_digamma(a + 1 - b) - log(z));
    double t1b = t1 * (ulm_digamma(a + 1 - b) - ps1b);
    double t1z = -t1 * a / z;
    /* T2 = pre F(1, a+1-b; 2-b; y): d pre/da = pre/a, d pre/db = pre (-ln y - 1/(b-1)), d pre/dz = -pre (1-b)/y. */
    double t2a = t2 / a + pre * f[2];
    double t2b = t2 * (-log(y) - 1 / (b - 1)) + pre * (-f[2] - f[3]);
    double t2z = t2 * (b - 1) / y - pre * f[4];
    out[0] = t1 + t2;
    out[1] = t1a + t2a;
    out[2] = t1b + t2b;
    out[3] = 0;
    out[4] = t1z + t2z;
    return isfinite(out[0]) && out[0] > 0 ? ULM_OK : ULM_ERR_RANGE;
}

/* ln H(t) = ln 2F1(A, B; A+1; z_t) - A ln(kappa + t) of the note's eq. 22, with d lnH / d(r, alpha,
 * s, beta) in dh (when non-NULL). */
static ulm_status pn_lnh(const ulm_pnbd *m, double x, double t, double *lh, double dh[4]) {
    double r = m->r, al = m->alpha, s = m->s, be = m->beta, A = r + s + x, f[5];
    int ge = al >= be;
    double kap = ge ? al : be, B = ge ? s + 1 : r + x, z = ge ? (al - be) / (al + t) : (be - al) / (be + t);
    ulm_status st = hyp_a1_grad(A, B, z, f);
    if (st != ULM_OK) return st;
    *lh = log(f[0]) - A * log(kap + t);
    if (dh) {
        /* dA/dr = dA/ds = dC/dr = dC/ds = 1; dB/ds = 1 when alpha >= beta, dB/dr = 1 otherwise. */
        double fa = f[1] / f[0], fb = f[2] / f[0], fc = f[3] / f[0], fz = f[4] / f[0], lk = log(kap + t);
        double dz_dal = ge ? (be + t) / ((al + t) * (al + t)) : -1 / (be + t);
        double dz_dbe = ge ? -1 / (al + t) : (al + t) / ((be + t) * (be + t));
        dh[0] = fa + fc + (ge ? 0 : fb) - lk;
        dh[2] = fa + fc + (ge ? fb : 0) - lk;
        dh[1] = fz * dz_dal - (ge ? A / (kap + t) : 0);
        dh[3] = fz * dz_dbe - (ge ? 0 : A / (kap + t));
    }
    return ULM_OK;
}

/* The Pareto/NBD likelihood's pieces: ll, its gradient on the raw parameters (draw, may be NULL)
 * and P(alive) (pa, may be NULL). */
static ulm_status pn_eval(const ulm_pnbd *m, double x, double t_x, double T, double *ll, double draw[4], double *pa) {
    double r = m->r, al = m->alpha, s = m->s, be = m->beta, A = r + s + x;
    double lh1 = 0, lh2 = 0, d1[4] = {0}, d2[4] = {0};
    ulm_status st = pn_lnh(m, x, t_x, &lh1, draw ? d1 : NULL);
    if (st == ULM_OK) st = pn_lnh(m, x, T, &lh2, draw ? d2 : NULL);
    if (st != ULM_OK) return st;
    double le1 = -(r + x) * log(al + T) - s * log(be + T);
    double lsm = log(s) - log(A);
    /* A0 = H(t_x) - H(T) >= 0; zero when t_x = T. */
    double la0 = lh2 < lh1 ? lh1 + log1p(-exp(lh2 - lh1)) : -INFINITY;
    double l2 = lsm + la0, lsum = ulm__logaddexp(le1, l2);
    *ll = ulm_lgamma(r + x) - ulm_lgamma(r) + r * log(al) + s * log(be) + lsum;
    if (pa) *pa = exp(le1 - lsum);
    if (draw) {
        double e1 = exp(le1 - lsum), e2 = exp(l2 - lsum);
        double g1 = la0 > -INFINITY ? exp(lsm + lh1 - lsum) : 0, g2 = la0 > -INFINITY ? exp(lsm + lh2 - lsum) : 0;
        double de1[4] = {-log(al + T), -(r + x) / (al + T), -log(be + T), -s / (be + T)};
        double dlsm[4] = {-1 / A, 0, 1 / s - 1 / A, 0};
        double pre[4] = {ulm_digamma(r + x) - ulm_digamma(r) + log(al), r / al, log(be), s / be};
        for (int k = 0; k < 4; k++)
            draw[k] = pre[k] + e1 * de1[k] + e2 * dlsm[k] + g1 * d1[k] - g2 * d2[k];
    }
    return isfinite(*ll) ? ULM_OK : ULM_ERR_RANGE;
}

ulm_status ulm_pnbd_loglik(const ulm_pnbd *m, double x, double t_x, double T, double *ll, double grad[4]) {
    if (ll) *ll = NAN;
    if (!pn_ok(m) || !history_ok(x, t_x, T) || !ll) return ULM_ERR_RANGE;
    double d[4];
    ulm_status st = pn_eval(m, x, t_x, T, ll, grad ? d : NULL, NULL);
    if (st != ULM_OK) {
        *ll = NAN;
        return st;
    }
    if (grad) {
        grad[0] = d[0] * m->r;
        grad[1] = d[1] * m->alpha;
        grad[2] = d[2] * m->s;
        grad[3] = d[3] * m->beta;
    }
    return ULM_OK;
}

ulm_status ulm_pnbd_p_alive(const ulm_pnbd *m, double x, double t_x, double T, double *out) {
    *out = NAN;
    if (!pn_ok(m) || !history_ok(x, t_x, T)) return ULM_ERR_RANGE;
    double ll;
    return pn_eval(m, x, t_x, T, &ll, NULL, out);
}

/* (1 - (k/(k+t))^(s-1)) / (s-1), continuous at s = 1 (where it is ln((k+t)/k)). */
static double pn_decay(double s, double k, double t) {
    double L = log1p(t / k);
    return fabs(s - 1) < 1e-12 ? L : -expm1(-(s - 1) * L) / (s - 1);
}

ulm_status ulm_pnbd_expected(const ulm_pnbd *m, double x, double t_x, double T, double t, double *out) {
    *out = NAN;
    if (!pn_ok(m) || !history_ok(x, t_x, T) || !(t >= 0) || !isfinite(t)) return ULM_ERR_RANGE;
    double pa;
    ulm_status st = ulm_pnbd_p_alive(m, x, t_x, T, &pa);
    if (st != ULM_OK) return st;
    *out = (m->r + x) * (m->beta + T) / (m->alpha + T) * pn_decay(m->s, m->beta + T, t) * pa;
    return isfinite(*out) ? ULM_OK : ULM_ERR_RANGE;
}

ulm_status ulm_pnbd_expected_new(const ulm_pnbd *m, double t, double *out) {
    *out = NAN;
    if (!pn_ok(m) || !(t >= 0) || !isfinite(t)) return ULM_ERR_RANGE;
    *out = m->r * m->beta / m->alpha * pn_decay(m->s, m->beta, t);
    return isfinite(*out) ? ULM_OK : ULM_ERR_RANGE;
}

/* ---- Gamma-Gamma ----------------------------------------------------------------------------- */

static int gg_ok(const ulm_gg *m) {
    return m && m->p > 0 && m->q > 0 && m->gamma > 0 && isfinite(m->p) && isfinite(m->q) && isfinite(m->gamma);
}

ulm_status ulm_gg_loglik(const ulm_gg *m, double x, double zbar, double *ll, double grad[3]) {
    if (ll) *ll = NAN;
    if (!gg_ok(m) || !ll || !(x >= 1) || !(zbar > 0) || !isfinite(x) || !isfinite(zbar)) return ULM_ERR_RANGE;
    double p = m->p, q = m->q, g = m->gamma, px = p * x, lgx = log(g + x * zbar);
    *ll = ulm_lgamma(px + q) - ulm_lgamma(px) - ulm_lgamma(q) + q * log(g) + px * log(x) + (px - 1) * log(zbar) -
          (px + q) * lgx;
    if (grad) {
        double dpq = ulm_digamma(px + q);
        grad[0] = p * x * (dpq - ulm_digamma(px) + log(x) + log(zbar) - lgx);
        grad[1] = q * (dpq - ulm_digamma(q) + log(g) - lgx);
        grad[2] = g * (q / g - (px + q) / (g + x * zbar));
    }
    return isfinite(*ll) ? ULM_OK : ULM_ERR_RANGE;
}

ulm_status ulm_gg_expected_spend(const ulm_gg *m, double x, double zbar, double *out) {
    *out = NAN;
    if (!gg_ok(m) || !(x >= 0) || !isfinite(x)) return ULM_ERR_RANGE;
    if (x == 0 || !(zbar > 0) || !isfinite(zbar)) {
        if (m->q <= 1) return ULM_ERR_RANGE;
        *out = m->p * m->gamma / (m->q - 1);
        return ULM_OK;
    }
    double d = m->p * x + m->q - 1;
    if (!(d > 0)) return ULM_ERR_RANGE;
    *out = (m->gamma + x * zbar) * m->p / d;
    return ULM_OK;
}

/* ---- lifetime value -------------------------------------------------------------------------- */

static ulm_status cond_expected(const ulm_clv_model *m, double x, double t_x, double T, double t, double *out) {
    return m->kind == ULM_CLV_PNBD ? ulm_pnbd_expected(&m->pn, x, t_x, T, t, out)
                                   : ulm_bgnbd_expected(&m->bg, x, t_x, T, t, out);
}

ulm_status ulm_clv_predict(const ulm_clv_model *m, double x, double t_x, double T, double zbar, double horizon,
                           double period, double discount, ulm_clv_pred *out) {
    if (!out) return ULM_ERR_MISUSE;
    out->p_alive = out->expected_purchases = out->expected_spend = out->clv = NAN;
    if (!m || (m->kind != ULM_CLV_BGNBD && m->kind != ULM_CLV_PNBD)) return ULM_ERR_MISUSE;
    if (!(horizon >= 0) || !(period > 0) || !(discount > -1) || !isfinite(horizon) || !isfinite(period) ||
        !isfinite(discount) || horizon / period > 1e6)
        return ULM_ERR_RANGE;
    ulm_status s = m->kind == ULM_CLV_PNBD ? ulm_pnbd_p_alive(&m->pn, x, t_x, T, &out->p_alive)
                                           : ulm_bgnbd_p_alive(&m->bg, x, t_x, T, &out->p_alive);
    if (s == ULM_OK) s = cond_expected(m, x, t_x, T, horizon, &out->expected_purchases);
    if (s == ULM_OK) s = ulm_gg_expected_spend(&m->gg, x, zbar, &out->expected_spend);
    if (s != ULM_OK) return s;
    double prev = 0, sum = 0, disc = 1;
    for (double k = 1; (k - 1) * period < horizon; k++) {
        double cur, tk = k * period < horizon ? k * period : horizon;
        s = cond_expected(m, x, t_x, T, tk, &cur);
        if (s != ULM_OK) return s;
        disc /= 1 + discount;
        sum += (cur - prev) * disc;
        prev = cur;
    }
    out->clv = sum * out->expected_spend;
    return isfinite(out->clv) ? ULM_OK : ULM_ERR_RANGE;
}
