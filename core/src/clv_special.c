/* clv_special.c: ln Gamma, digamma and the Gauss hypergeometric function 2F1 for the CLV models.
 * Own implementations (not libm's lgamma) so that native and wasm builds compute the same bits
 * from the same basic operations, and so that no global sign state (signgam) is touched. */
#include <math.h>

#include "clv_impl.h"

#define ULM__HYP_MAX_TERMS 1000000

/* Stirling's series for ln Gamma(x), accurate to ~1e-15 for x >= 10. */
static double lgamma_stirling(double x) {
    double z = 1.0 / (x * x);
    double s = (((((691.0 / 360360.0 * z - 1.0 / 1188.0) * z + 1.0 / 1680.0) * z - 1.0 / 1260.0) * z + 1.0 / 360.0) *
                    -z +
                1.0 / 12.0) /
               x;
    /* The bracket above is 1/12 - z/360 + z^2/1260 - z^3/1680 + z^4/1188 - 691 z^5/360360. */
    return (x - 0.5) * log(x) - x + 0.91893853320467274178 + s;
}

double ulm_lgamma(double x) {
    if (!(x > 0)) return NAN;
    if (x >= 10) return lgamma_stirling(x);
    /* Upward recurrence: Gamma(x) = Gamma(x + k) / (x (x+1) ... (x+k-1)). */
    double prod = 1;
    while (x < 10) {
        prod *= x;
        x += 1;
    }
    return lgamma_stirling(x) - log(prod);
}

double ulm_digamma(double x) {
    if (!(x > 0)) return NAN;
    double acc = 0;
    while (x < 10) {
        acc -= 1.0 / x;
        x += 1;
    }
    double z = 1.0 / (x * x);
    double s = z * (1.0 / 12 -
                    z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (1.0 / 132 - z * (691.0 / 32760 - z / 12))))));
    return acc + log(x) - 0.5 / x - s;
}

double ulm__logaddexp(double u, double v) {
    if (u == -INFINITY) return v;
    if (v == -INFINITY) return u;
    return u > v ? u + log1p(exp(v - u)) : v + log1p(exp(u - v));
}

/* The power series of 2F1, stopped when a geometric bound on the tail (the next term ratio is
 * below 1 from then on, for |z| < 1 and n large) falls under 1e-17 of the sum. */
static ulm_status hyp_series(double a, double b, double c, double z, double *out) {
    double term = 1, sum = 1, comp = 0;
    *out = NAN;
    for (long n = 0;; n++) {
        if (n == ULM__HYP_MAX_TERMS) return ULM_ERR_RANGE;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
        /* Kahan summation: the terms can alternate in sign. */
        double y = term - comp, t = sum + y;
        comp = (t - sum) - y;
        sum = t;
        if (!isfinite(sum)) return ULM_ERR_RANGE;
        double r = fabs((a + n + 1) * (b + n + 1) / ((c + n + 1) * (n + 2)) * z);
        if (term == 0 || (r < 1 && fabs(term) * r / (1 - r) <= 1e-17 * fabs(sum))) break;
    }
    *out = sum;
    return ULM_OK;
}

ulm_status ulm_hyp2f1(double a, double b, double c, double z, double *out) {
    *out = NAN;
    if (!(z < 1) || !isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(z)) return ULM_ERR_RANGE;
    if (c <= 0 && c == floor(c)) return ULM_ERR_RANGE;
    if (z == 0) {
        *out = 1;
        return ULM_OK;
    }
    if (z < -0.5) {
        /* Pfaff: F(a,b;c;z) = (1-z)^-a F(a, c-b; c; w) = (1-z)^-b F(c-a, b; c; w), w = z/(z-1) in (1/3, 1).
         * The variant whose prefactor exponent is smaller keeps the new series' terms small. */
        double w = z / (z - 1), f;
        ulm_status s;
        if (fabs(b) < fabs(a)) {
            s = hyp_series(c - a, b, c, w, &f);
            if (s != ULM_OK) return s;
            *out = exp(-b * log1p(-z)) * f;
        } else {
            s = hyp_series(a, c - b, c, w, &f);
            if (s != ULM_OK) return s;
            *out = exp(-a * log1p(-z)) * f;
        }
        return isfinite(*out) ? ULM_OK : ULM_ERR_RANGE;
    }
    return hyp_series(a, b, c, z, out);
}

ulm_status ulm__hyp2f1_grad(double a, double b, double c, double z, double out[5]) {
    /* term_n = (a)_n (b)_n / ((c)_n n!) z^n; d ln term_n / da = sum_{k<n} 1/(a+k), likewise b, -c;
     * d term_n / dz = n term_n / z, summed as the series of the next index. */
    double term = 1, f = 1, fa = 0, fb = 0, fc = 0, fz = 0, sa = 0, sb = 0, sc = 0;
    for (int i = 0; i < 5; i++) out[i] = NAN;
    if (!(z >= 0 && z < 1)) return ULM_ERR_RANGE;
    for (long n = 0; n < ULM__HYP_MAX_TERMS; n++) {
        double ratio = (a + n) * (b + n) / ((c + n) * (n + 1));
        /* d/dz of term_{n+1} = (n+1) term_{n+1} / z = term_n * ratio * (n+1). */
        fz += term * ratio * (n + 1);
        sa += 1.0 / (a + n);
        sb += 1.0 / (b + n);
        sc += 1.0 / (c + n);
        term *= ratio * z;
        f += term;
        fa += term * sa;
        fb += term * sb;
        fc -= term * sc;
        if (!isfinite(f) || !isfinite(fa) || !isfinite(fb) || !isfinite(fc) || !isfinite(fz)) return ULM_ERR_RANGE;
        if (term == 0) break;
        /* Tail bound as in hyp_series, on the largest of the weights (sums of 1/(a+k) grow like ln n). */
        double r = fabs((a + n + 1) * (b + n + 1) / ((c + n + 1) * (n + 2)) * z);
        double wmax = fmax(1.0, fmax(fabs(sa), fmax(fabs(sb), fmax(fabs(sc), (n + 2) / z))));
        if (r < 1 && fabs(term) * wmax * r / (1 - r) <= 1e-17 * fmax(fabs(f), 1e-300) * 1e-0 &&
            fabs(term) * wmax * r / (1 - r) <= 1e-16 * (fabs(fa) + fabs(fb) + fabs(fc) + fabs(fz) + fabs(f)))
            break;
        if (n == ULM__HYP_MAX_TERMS - 1) return ULM_ERR_RANGE;
    }
    out[0] = f;
    out[1] = fa;
    out[2] = fb;
    out[3] = fc;
    out[4] = fz;
    return ULM_OK;
}

double ulm__trigamma(double x) {
    double s = 0;
    for (; x < 10; x += 1) s += 1 / (x * x);
    double t = 1 / x, t2 = t * t;
    /* 1/x + 1/(2x^2) + 1/(6x^3) - 1/(30x^5) + 1/(42x^7) - 1/(30x^9) + 5/(66x^11) */
    return s + t + t2 / 2 + t * t2 * (1.0 / 6 - t2 * (1.0 / 30 - t2 * (1.0 / 42 - t2 * (1.0 / 30 - t2 * 5.0 / 66))));
}
