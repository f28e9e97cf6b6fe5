/* recs_als_rows.h: the CG row loop of recs_als.c, a template included once per vector type.
 *
 * The includer defines ALS_V (a vector of ALS_L floats: als_v4 for SSE2, als_v8 for AVX2, plain
 * float where the compiler has no vector extensions), ALS_SPLAT(x) (x in every lane), ALS_FN(name)
 * (the instance's names) and ALS_ATTR (function attributes, e.g. the AVX2 target). Every output element is summed in the
 * same order whatever ALS_L is, so all instances give the same bits (products round before the
 * sums: no FMA contraction in ISO C mode). */

/* out = G a + sum_k s_k y[idx_k] for the f x f symmetric G (G a as the sum of G's rows scaled
 * by a): per column block one pass over G's rows and the row's factor rows with the
 * accumulators in registers (8 vectors: 32 columns on SSE2, 64 on AVX2), out written once. */
ALS_ATTR static inline void ALS_FN(combo)(float *out, const float *g, const float *a, uint32_t f, const float *y,
                                          const uint32_t *idx, const float *s, size_t n) {
    uint32_t c = 0;
#define ALS_COMBO_COLS(NV)                                                                                             \
    do {                                                                                                               \
        ALS_V acc[NV], r_;                                                                                             \
        for (int q = 0; q < (NV); q++) acc[q] = (ALS_V){0};                                                            \
        for (uint32_t j = 0; j < f; j++) {                                                                             \
            const float *row = g + (size_t)j * f + c;                                                                  \
            ALS_V aj = ALS_SPLAT(a[j]);                                                                              \
            for (int q = 0; q < (NV); q++) memcpy(&r_, row + ALS_L * q, sizeof r_), acc[q] += aj * r_;                 \
        }                                                                                                              \
        for (size_t k = 0; k < n; k++) {                                                                               \
            const float *row = y + (size_t)idx[k] * f + c;                                                             \
            ALS_V sk = ALS_SPLAT(s[k]);                                                                              \
            for (int q = 0; q < (NV); q++) memcpy(&r_, row + ALS_L * q, sizeof r_), acc[q] += sk * r_;                 \
        }                                                                                                              \
        memcpy(out + c, acc, sizeof acc);                                                                              \
    } while (0)
    for (; c + 8 * ALS_L <= f; c += 8 * ALS_L) ALS_COMBO_COLS(8);
    for (; c + ALS_L <= f; c += ALS_L) ALS_COMBO_COLS(1);
#undef ALS_COMBO_COLS
    for (; c < f; c++) {
        float acc = 0;
        for (uint32_t j = 0; j < f; j++) acc += a[j] * g[(size_t)j * f + c];
        for (size_t k = 0; k < n; k++) acc += s[k] * y[(size_t)idx[k] * f + c];
        out[c] = acc;
    }
}

/* t[k] = y[idx_k] . v for k < n, each summed exactly as dot16 does (16 lanes, then a fixed
 * tree); two rows at a time. */
ALS_ATTR static inline void ALS_FN(dots)(float *t, const float *y, const uint32_t *idx, size_t n, const float *v,
                                         uint32_t f) {
    enum { NV = 16 / ALS_L };
    uint32_t f16 = f & ~15u;
    size_t k = 0;
    for (; k + 2 <= n; k += 2) {
        const float *a = y + (size_t)idx[k] * f, *b = y + (size_t)idx[k + 1] * f;
        ALS_V ea[NV], eb[NV], vv, r_;
        for (int q = 0; q < NV; q++) ea[q] = eb[q] = (ALS_V){0};
        for (uint32_t j = 0; j < f16; j += 16)
            for (int q = 0; q < NV; q++) {
                memcpy(&vv, v + j + ALS_L * q, sizeof vv);
                memcpy(&r_, a + j + ALS_L * q, sizeof r_), ea[q] += r_ * vv;
                memcpy(&r_, b + j + ALS_L * q, sizeof r_), eb[q] += r_ * vv;
            }
        float fa[16], fb[16];
        memcpy(fa, ea, sizeof fa), memcpy(fb, eb, sizeof fb);
        for (int l = 0; l < 8; l++) fa[l] += fa[l + 8], fb[l] += fb[l + 8];
        float sa = ((fa[0] + fa[4]) + (fa[1] + fa[5])) + ((fa[2] + fa[6]) + (fa[3] + fa[7]));
        float sb = ((fb[0] + fb[4]) + (fb[1] + fb[5])) + ((fb[2] + fb[6]) + (fb[3] + fb[7]));
        for (uint32_t j = f16; j < f; j++) sa += a[j] * v[j], sb += b[j] * v[j];
        t[k] = sa, t[k + 1] = sb;
    }
    for (; k < n; k++) t[k] = dot16(y + (size_t)idx[k] * f, v, f);
}

/* A few CG steps on one row with entries y[idx[k]], d[k] (k < n), warm-started from x
 * (Takacs et al. 2011, Algorithm 2); s holds 4 f + 2 n floats. */
ALS_ATTR static inline void ALS_FN(solve_cg)(const als_half *h, const float *y, const uint32_t *idx, const float *d,
                                             size_t n, float *x, float *s) {
    uint32_t f = h->f;
    float *r = s, *p = r + f, *ap = p + f, *nx = ap + f, *t = nx + f, *w = t + n;
    /* r = b - A x = sum_k (c_k - (c_k - 1) y_k.x) y_k - G x, with c_k = 1 + alpha d_k. */
    ALS_FN(dots)(t, y, idx, n, x, f);
    for (size_t k = 0; k < n; k++) {
        float c1 = h->alpha * d[k];
        w[k] = (1.0f + c1) - c1 * t[k];
    }
    for (uint32_t l = 0; l < f; l++) nx[l] = -x[l];
    ALS_FN(combo)(r, h->gram, nx, f, y, idx, w, n);
    memcpy(p, r, f * sizeof *p);
    float rs_old = ulm__dot8(r, r, f);
    if (rs_old < 1e-20f) return;
    for (unsigned it = 0; it < h->cg_steps; it++) {
        /* ap = A p = G p + sum_k (c_k - 1) (y_k.p) y_k */
        ALS_FN(dots)(t, y, idx, n, p, f);
        for (size_t k = 0; k < n; k++) w[k] = h->alpha * d[k] * t[k];
        ALS_FN(combo)(ap, h->gram, p, f, y, idx, w, n);
        float pap = ulm__dot8(p, ap, f);
        if (!(pap > 0)) return;
        float step = rs_old / pap;
        ulm__axpy(x, step, p, f);
        ulm__axpy(r, -step, ap, f);
        float rs_new = ulm__dot8(r, r, f);
        if (rs_new < 1e-20f) return;
        float beta = rs_new / rs_old;
        for (uint32_t l = 0; l < f; l++) p[l] = r[l] + beta * p[l];
        rs_old = rs_new;
    }
}

/* Rows [bounds[t], bounds[t+1]) of one half-step: CG, or the exact Cholesky solve. */
ALS_ATTR static void ALS_FN(half_rows)(const als_half *h, unsigned t) {
    uint32_t f = h->f;
    float *s = h->scratch + t * h->scratch_per;
    for (uint32_t u = h->bounds[t]; u < h->bounds[t + 1]; u++) {
        float *x = h->x + (size_t)u * f;
        size_t a = h->indptr[u], b = h->indptr[u + 1];
        if (a == b) {
            for (uint32_t l = 0; l < f; l++) x[l] = 0;
            continue;
        }
        if (h->cg_steps && b - a >= ALS_GATHER_MIN && b - a <= h->gather_cap) {
            /* Copy the row's factor rows together first: the eight passes of the CG steps then
             * read one contiguous block instead of rows scattered over the fixed side. */
            float *g = h->gather + t * h->gather_cap * f;
            for (size_t k = a; k < b; k++) memcpy(g + (k - a) * f, h->y + (size_t)h->indices[k] * f, f * sizeof *g);
            ALS_FN(solve_cg)(h, g, h->iota, h->data + a, b - a, x, s);
        } else if (h->cg_steps) {
            ALS_FN(solve_cg)(h, h->y, h->indices + a, h->data + a, b - a, x, s);
        } else {
            float *A = s, *rhs = s + (size_t)f * f;
            normal_equations(h->gram, h->y, h->indices + a, h->data + a, b - a, h->alpha, f, A, rhs);
            if (ulm__chol_solve(A, rhs, f) == 0) memcpy(x, rhs, f * sizeof *x);
        }
    }
}
