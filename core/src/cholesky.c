/* cholesky.c: the small dense SPD solve used for ALS fold-in (scoring) and by the ALS trainer.
 * The factor reads only the lower triangle of a; it leaves L there and L^T in the upper triangle,
 * so both substitution passes walk contiguous rows with ulm__dot8's fixed order (every build
 * gives the same bits; the wasm SIMD build computes it two vectors at a time). */
#include <math.h>

#include "ulm_impl.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

/* ulm__dot8 with its eight partial sums in two vectors (lanes 0-3, 4-7): the same additions in the
 * same order, so the same bits (wasm has no fused multiply-add). */
static inline float dot8(const float *a, const float *b, size_t n) {
    v128_t lo = wasm_f32x4_splat(0.0f), hi = lo;
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        lo = wasm_f32x4_add(lo, wasm_f32x4_mul(wasm_v128_load(a + j), wasm_v128_load(b + j)));
        hi = wasm_f32x4_add(hi, wasm_f32x4_mul(wasm_v128_load(a + j + 4), wasm_v128_load(b + j + 4)));
    }
    v128_t v = wasm_f32x4_add(lo, hi);
    float s = (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
              (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
    for (; j < n; j++) s += a[j] * b[j];
    return s;
}
#else
#define dot8 ulm__dot8
#endif

int ulm__chol_factor(float *a, size_t n) {
    for (size_t j = 0; j < n; j++) {
        float d = a[j * n + j] - dot8(a + j * n, a + j * n, j);
        if (!(d > 0) || !isfinite(d)) return 1;
        d = sqrtf(d);
        a[j * n + j] = d;
        float inv = 1.0f / d;
        size_t i = j + 1;
#if defined(__wasm_simd128__)
        /* Four rows at a time against row j: each lane does dot8's additions in dot8's order
         * (the eight partial sums, their fixed reduction, then the tail one by one). */
        const float *rj = a + j * n;
        size_t j8 = j & ~(size_t)7;
        for (; i + 4 <= n; i += 4) {
            const float *r0 = a + i * n, *r1 = r0 + n, *r2 = r1 + n, *r3 = r2 + n;
            v128_t l0 = wasm_f32x4_splat(0.0f), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0;
            for (size_t t = 0; t < j8; t += 8) {
                v128_t bl = wasm_v128_load(rj + t), bh = wasm_v128_load(rj + t + 4);
                l0 = wasm_f32x4_add(l0, wasm_f32x4_mul(wasm_v128_load(r0 + t), bl));
                h0 = wasm_f32x4_add(h0, wasm_f32x4_mul(wasm_v128_load(r0 + t + 4), bh));
                l1 = wasm_f32x4_add(l1, wasm_f32x4_mul(wasm_v128_load(r1 + t), bl));
                h1 = wasm_f32x4_add(h1, wasm_f32x4_mul(wasm_v128_load(r1 + t + 4), bh));
                l2 = wasm_f32x4_add(l2, wasm_f32x4_mul(wasm_v128_load(r2 + t), bl));
                h2 = wasm_f32x4_add(h2, wasm_f32x4_mul(wasm_v128_load(r2 + t + 4), bh));
                l3 = wasm_f32x4_add(l3, wasm_f32x4_mul(wasm_v128_load(r3 + t), bl));
                h3 = wasm_f32x4_add(h3, wasm_f32x4_mul(wasm_v128_load(r3 + t + 4), bh));
            }
            v128_t v0 = wasm_f32x4_add(l0, h0), v1 = wasm_f32x4_add(l1, h1), v2 = wasm_f32x4_add(l2, h2),
                   v3 = wasm_f32x4_add(l3, h3);
            v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(v0, v1, 0, 4, 2, 6), wasm_i32x4_shuffle(v0, v1, 1, 5, 3, 7));
            v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(v2, v3, 0, 4, 2, 6), wasm_i32x4_shuffle(v2, v3, 1, 5, 3, 7));
            v128_t s4 = wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
            for (size_t t = j8; t < j; t++) /* L[i..i+3][t], read from L^T's row t: contiguous */
                s4 = wasm_f32x4_add(s4, wasm_f32x4_mul(wasm_v128_load(a + t * n + i), wasm_f32x4_splat(rj[t])));
            v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_make(r0[j], r1[j], r2[j], r3[j]), s4), wasm_f32x4_splat(inv));
            wasm_v128_store(a + j * n + i, v); /* L^T */
            a[i * n + j] = wasm_f32x4_extract_lane(v, 0), a[(i + 1) * n + j] = wasm_f32x4_extract_lane(v, 1);
            a[(i + 2) * n + j] = wasm_f32x4_extract_lane(v, 2), a[(i + 3) * n + j] = wasm_f32x4_extract_lane(v, 3);
        }
#endif
        for (; i < n; i++) {
            float v = (a[i * n + j] - dot8(a + i * n, a + j * n, j)) * inv;
            a[i * n + j] = v;
            a[j * n + i] = v; /* L^T, for the backward pass */
        }
    }
    return 0;
}

__attribute__((noinline)) void ulm__chol_fwd(const float *a, float *b, size_t n) {
    for (size_t i = 0; i < n; i++) b[i] = (b[i] - dot8(a + i * n, b, i)) / a[i * n + i];
}

__attribute__((noinline)) void ulm__chol_bwd(const float *a, float *b, size_t n) {
    for (size_t i = n; i-- > 0;) b[i] = (b[i] - dot8(a + i * n + i + 1, b + i + 1, n - i - 1)) / a[i * n + i];
}

void ulm__chol_subst(const float *a, float *b, size_t n) {
    ulm__chol_fwd(a, b, n);
    ulm__chol_bwd(a, b, n);
}

#if defined(__wasm_simd128__)
/* Rows i and i + 1 (when two) of X for the W * 4 columns from q: both rows' sums over the rows t < i
 * share each load of X's row t, then row i is finished and row i + 1 takes its term t = i. */
static inline __attribute__((always_inline)) void cols2(const float *l, size_t n, const float *y, size_t m,
                                                         float *x, size_t i, bool two, size_t q, int W) {
    const float *l0 = l + i * n, *l1 = two ? l0 + n : l0, *xt = x + q;
    v128_t a[4], c[4];
    for (int k = 0; k < W; k++) a[k] = c[k] = wasm_f32x4_splat(0.0f);
    for (size_t t = 0; t < i; t++, xt += m) {
        v128_t s0 = wasm_f32x4_splat(l0[t]), s1 = wasm_f32x4_splat(l1[t]);
        for (int k = 0; k < W; k++) {
            v128_t v = wasm_v128_load(xt + 4 * k);
            a[k] = wasm_f32x4_add(a[k], wasm_f32x4_mul(s0, v));
            c[k] = wasm_f32x4_add(c[k], wasm_f32x4_mul(s1, v));
        }
    }
    for (int k = 0; k < W; k++) {
        const float *yk = y + (q + 4 * k) * n + i;
        v128_t r = wasm_f32x4_div(wasm_f32x4_sub(wasm_f32x4_make(yk[0], yk[n], yk[2 * n], yk[3 * n]), a[k]),
                                  wasm_f32x4_splat(l0[i]));
        wasm_v128_store(x + i * m + q + 4 * k, r);
        if (!two) continue;
        v128_t s = wasm_f32x4_add(c[k], wasm_f32x4_mul(wasm_f32x4_splat(l1[i]), r));
        wasm_v128_store(x + (i + 1) * m + q + 4 * k,
                        wasm_f32x4_div(wasm_f32x4_sub(wasm_f32x4_make(yk[1], yk[n + 1], yk[2 * n + 1], yk[3 * n + 1]), s),
                                       wasm_f32x4_splat(l1[i + 1])));
    }
}
#endif

void ulm__chol_cols(const float *l, size_t n, const float *y, size_t m, float *x) {
    if (m == 1) { /* one column: ulm__chol_fwd itself */
        memcpy(x, y, n * sizeof *x);
        ulm__chol_fwd(l, x, n);
        return;
    }
    /* Each entry: x[i][q] = (y_q[i] - sum over t < i of L[i][t] x[t][q], added in t order) / L[i][i]. */
#if defined(__wasm_simd128__)
    for (size_t i = 0; i < n; i += 2) { /* two rows at a time, sixteen columns, then four */
        size_t q = 0;
        for (; q + 16 <= m; q += 16) cols2(l, n, y, m, x, i, i + 1 < n, q, 4);
        for (; q < m; q += 4) cols2(l, n, y, m, x, i, i + 1 < n, q, 1);
    }
#else
    for (size_t i = 0; i < n; i++)
        for (size_t q = 0; q < m; q++) {
            float v = 0;
            for (size_t t = 0; t < i; t++) v += l[i * n + t] * x[t * m + q];
            x[i * m + q] = (y[q * n + i] - v) / l[i * n + i];
        }
#endif
}
