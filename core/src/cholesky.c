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
        for (size_t i = j + 1; i < n; i++) {
            float v = (a[i * n + j] - dot8(a + i * n, a + j * n, j)) * inv;
            a[i * n + j] = v;
            a[j * n + i] = v; /* L^T, for the backward pass */
        }
    }
    return 0;
}

void ulm__chol_subst(const float *a, float *b, size_t n) {
    for (size_t i = 0; i < n; i++) b[i] = (b[i] - dot8(a + i * n, b, i)) / a[i * n + i];
    for (size_t i = n; i-- > 0;) b[i] = (b[i] - dot8(a + i * n + i + 1, b + i + 1, n - i - 1)) / a[i * n + i];
}
