/* churn_fast.c: the hot scoring paths of churn models: margins of one row and of batches over the
 * comparison form (comparison bytes of the row, then sixteen trees at a time down the complete trees),
 * calibration. Compiled -O3 in every build (the Emscripten build's other core files are -Oz). */
#include <math.h>
#include <string.h>

#include "churn_impl.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

/* Writes the row's comparisons (see fast16) into c; false when a feature some split reads is NaN or infinite or
 * a category code is out of range (the node walk takes those rows). Each used feature's thresholds (padded to
 * a multiple of 4) are compared in blocks of 16 and then of 4 (by hand with SSE2 or wasm SIMD: four compares
 * per vector, the masks narrowed to bytes; one at a time elsewhere: the same bytes); features no split uses
 * are skipped. */
static bool cmp_row(const ulm_churn *m, const float *x, uint8_t *c) {
    const float *t = m->cmp_thr;
    float bad = 0.0f;
    for (uint32_t e = 0; e < m->bin_class[16]; e++) {
        float v = x[m->plan_feat[e]];
        bad += v * 0.0f; /* NaN (or inf) poisons the sum */
        uint32_t k = m->cmp_start[e], end = m->cmp_start[e + 1];
#if defined(__SSE2__)
        __m128 vv = _mm_set1_ps(v);
        __m128i one = _mm_set1_epi8(1), zero = _mm_setzero_si128();
        for (; k + 16 <= end; k += 16) {
            __m128i a = _mm_packs_epi32(_mm_castps_si128(_mm_cmple_ps(_mm_loadu_ps(t + k), vv)),
                                        _mm_castps_si128(_mm_cmple_ps(_mm_loadu_ps(t + k + 4), vv)));
            __m128i b = _mm_packs_epi32(_mm_castps_si128(_mm_cmple_ps(_mm_loadu_ps(t + k + 8), vv)),
                                        _mm_castps_si128(_mm_cmple_ps(_mm_loadu_ps(t + k + 12), vv)));
            _mm_storeu_si128((__m128i *)(void *)(c + k), _mm_and_si128(_mm_packs_epi16(a, b), one));
        }
        for (; k < end; k += 4) { /* the rest: whole blocks of 4 */
            __m128i a = _mm_packs_epi32(_mm_castps_si128(_mm_cmple_ps(_mm_loadu_ps(t + k), vv)), zero);
            uint32_t w = (uint32_t)_mm_cvtsi128_si32(_mm_and_si128(_mm_packs_epi16(a, zero), one));
            memcpy(c + k, &w, 4);
        }
#elif defined(__wasm_simd128__)
        v128_t vv = wasm_f32x4_splat(v), one = wasm_i8x16_splat(1), zero = wasm_i32x4_splat(0);
        for (; k + 16 <= end; k += 16) {
            v128_t a = wasm_i16x8_narrow_i32x4(wasm_f32x4_le(wasm_v128_load(t + k), vv), wasm_f32x4_le(wasm_v128_load(t + k + 4), vv));
            v128_t b = wasm_i16x8_narrow_i32x4(wasm_f32x4_le(wasm_v128_load(t + k + 8), vv), wasm_f32x4_le(wasm_v128_load(t + k + 12), vv));
            wasm_v128_store(c + k, wasm_v128_and(wasm_i8x16_narrow_i16x8(a, b), one));
        }
        for (; k < end; k += 4) { /* the rest: whole blocks of 4 */
            v128_t a = wasm_i16x8_narrow_i32x4(wasm_f32x4_le(wasm_v128_load(t + k), vv), zero);
            uint32_t w = (uint32_t)wasm_i32x4_extract_lane(wasm_v128_and(wasm_i8x16_narrow_i16x8(a, zero), one), 0);
            memcpy(c + k, &w, 4);
        }
#endif
        for (; k < end; k++) c[k] = (uint8_t)(t[k] <= v);
    }
    for (uint32_t b = 0; b < m->n_cat_blocks; b++) { /* category pairs: code != x */
        uint32_t f = m->cat_feat[b], k = m->cat_start[b], end = m->cat_start[b + 1];
        float v = x[f];
        if (!(v >= 0.0f && v < (float)m->n_cats[f])) return false;
        v = (float)(uint32_t)v; /* the code the node walk reads */
#if defined(__SSE2__)
        __m128 vv = _mm_set1_ps(v);
        __m128i one = _mm_set1_epi8(1), zero = _mm_setzero_si128();
        for (; k < end; k += 4) {
            __m128i a = _mm_packs_epi32(_mm_castps_si128(_mm_cmpneq_ps(_mm_loadu_ps(t + k), vv)), zero);
            uint32_t w = (uint32_t)_mm_cvtsi128_si32(_mm_and_si128(_mm_packs_epi16(a, zero), one));
            memcpy(c + k, &w, 4);
        }
#elif defined(__wasm_simd128__)
        v128_t vv = wasm_f32x4_splat(v), one = wasm_i8x16_splat(1), zero = wasm_i32x4_splat(0);
        for (; k < end; k += 4) {
            v128_t a = wasm_i16x8_narrow_i32x4(wasm_f32x4_ne(wasm_v128_load(t + k), vv), zero);
            uint32_t w = (uint32_t)wasm_i32x4_extract_lane(wasm_v128_and(wasm_i8x16_narrow_i16x8(a, zero), one), 0);
            memcpy(c + k, &w, 4);
        }
#endif
        for (; k < end; k++) c[k] = (uint8_t)(t[k] != v);
    }
    c[m->n_cmp - 1] = 0;
    return bad == 0.0f;
}

/* The comparison form's descent: cmp_sum<D>(m, c) for one row. */
#define ULM__DESCEND16(D) ULM__ONE_ROW(cmp_sum, D, uint16_t, uint8_t, fast16, ULM__CSTEP)
ULM__FOR_DEPTHS(ULM__DESCEND16)

/* Margin of one row over fast16 and its comparison bytes. */
static float cmp_sum(const ulm_churn *m, const uint8_t *c) { ULM__BY_DEPTH(cmp_sum, m, c) }

#ifndef __wasm__
/* Two rows at a time down the same trees (batches, native builds): six trees per step for each row, so each
 * tree's lines are fetched once for both rows (measured 12-17% faster per row than row by row; the wasm
 * builds keep row by row, for size). Each row's leaves are added in tree order, as in cmp_sum. */
#define ULM__PAIR_WAYS 6
#define ULM__DESCEND_PAIR(D)                                                                                     \
    static void cmp_pair##D(const ulm_churn *m, const uint8_t *c0, const uint8_t *c1, float *out) {              \
        const size_t ni = ((size_t)1 << D) - 1;                                                                  \
        const uint16_t *nd = m->fast16;                                                                          \
        const float *lv = m->fast_leaves;                                                                        \
        float s0 = m->base, s1 = m->base;                                                                        \
        uint32_t t = 0;                                                                                          \
        for (; t + ULM__PAIR_WAYS <= m->n_trees;                                                                 \
             t += ULM__PAIR_WAYS, nd += ULM__PAIR_WAYS * ni, lv += ULM__PAIR_WAYS * (ni + 1)) {                  \
            size_t p[ULM__PAIR_WAYS], q[ULM__PAIR_WAYS];                                                         \
            for (uint32_t k = 0; k < ULM__PAIR_WAYS; k++) p[k] = c0[nd[k * ni]], q[k] = c1[nd[k * ni]];          \
            const uint16_t *lvl = nd + 1;                                                                        \
            ULM__UNROLL8 for (uint32_t d = 1; d < D; lvl += (size_t)1 << d, d++)                                 \
                for (uint32_t k = 0; k < ULM__PAIR_WAYS; k++) {                                                  \
                    p[k] = 2 * p[k] + c0[lvl[k * ni + p[k]]];                                                    \
                    q[k] = 2 * q[k] + c1[lvl[k * ni + q[k]]];                                                    \
                }                                                                                                \
            for (uint32_t k = 0; k < ULM__PAIR_WAYS; k++) s0 += lv[k * (ni + 1) + p[k]], s1 += lv[k * (ni + 1) + q[k]]; \
        }                                                                                                        \
        for (; t < m->n_trees; t++, nd += ni, lv += ni + 1) {                                                    \
            size_t p = 0, q = 0;                                                                                 \
            const uint16_t *lvl = nd;                                                                            \
            for (uint32_t d = 0; d < D; lvl += (size_t)1 << d, d++) p = 2 * p + c0[lvl[p]], q = 2 * q + c1[lvl[q]]; \
            s0 += lv[p];                                                                                         \
            s1 += lv[q];                                                                                         \
        }                                                                                                        \
        out[0] = s0;                                                                                             \
        out[1] = s1;                                                                                             \
    }
ULM__FOR_DEPTHS(ULM__DESCEND_PAIR)

/* Margins of two rows over fast16 and their comparison bytes into out[0], out[1]. */
static void cmp_pair(const ulm_churn *m, const uint8_t *c0, const uint8_t *c1, float *out) {
    switch (m->fast_depth) {
    case 1: cmp_pair1(m, c0, c1, out); break;
    case 2: cmp_pair2(m, c0, c1, out); break;
    case 3: cmp_pair3(m, c0, c1, out); break;
    case 4: cmp_pair4(m, c0, c1, out); break;
    case 5: cmp_pair5(m, c0, c1, out); break;
    case 6: cmp_pair6(m, c0, c1, out); break;
    case 7: cmp_pair7(m, c0, c1, out); break;
    default: cmp_pair8(m, c0, c1, out); break;
    }
}
#endif

float ulm__churn_margin1(const ulm_churn *m, const float *x) {
    if (m->family == ULM_CHURN_LOGREG) {
        float s = m->bias;
        for (uint32_t f = 0; f < m->n_features; f++) s += ulm__linear_term(m, f, x[f]);
        return s;
    }
    float s;
    if (m->lane_nodes) {
        if (ulm__churn_lanes_sum(m, x, &s)) return s;
    } else if (m->fast16) {
        uint8_t c[ULM__CMP_MAX];
        if (cmp_row(m, x, c)) return cmp_sum(m, c);
    } else if (m->fast_depth) {
        if (ulm__churn_bin_sum(m, x, &s)) return s;
    }
    return ulm__churn_walk_sum(m, x);
}

/* Margins of n rows: through the comparison form two rows at a time (native) or row by row (wasm; both
 * measured faster than tree-major blocks of rows), else blocks of binned rows through the scoring layout when
 * it exists. */
static void margins(const ulm_churn *m, const float *x, size_t n, float *out) {
    if (m->fast_depth && !m->fast16 && n > 1) {
        ulm__churn_bin_margins(m, x, n, out);
        return;
    }
    size_t r = 0;
#ifndef __wasm__
    if (m->family == ULM_CHURN_GBDT && m->fast16) {
        uint8_t c[2][ULM__CMP_MAX];
        for (; r + 2 <= n; r += 2) {
            const float *x0 = x + r * m->n_features, *x1 = x0 + m->n_features;
            bool ok0 = cmp_row(m, x0, c[0]), ok1 = cmp_row(m, x1, c[1]);
            if (ok0 && ok1) {
                cmp_pair(m, c[0], c[1], out + r);
                continue;
            }
            out[r] = ok0 ? cmp_sum(m, c[0]) : ulm__churn_walk_sum(m, x0); /* NaN rows: the node walk */
            out[r + 1] = ok1 ? cmp_sum(m, c[1]) : ulm__churn_walk_sum(m, x1);
        }
    }
#endif
    for (; r < n; r++) out[r] = ulm__churn_margin1(m, x + r * m->n_features);
}

void ulm_churn_margin(const ulm_churn *m, const float *x, size_t n, float *out) { margins(m, x, n, out); }

float ulm_churn_calibrate(const ulm_churn *m, float margin) {
    if (m->calib == ULM_CALIB_PLATT) return 1.0f / (1.0f + expf(-(m->platt_a * margin + m->platt_b)));
    if (m->calib == ULM_CALIB_ISOTONIC && m->n_iso) {
        const float *xs = m->iso_x, *ys = m->iso_y;
        uint32_t n = m->n_iso;
        if (!(margin > xs[0])) return ys[0];
        if (margin >= xs[n - 1]) return ys[n - 1];
        uint32_t lo = 0, hi = n - 1; /* xs[lo] < margin <= xs[hi] */
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (xs[mid] < margin) lo = mid;
            else hi = mid;
        }
        float t = (margin - xs[lo]) / (xs[hi] - xs[lo]);
        return ys[lo] + t * (ys[hi] - ys[lo]);
    }
    return 1.0f / (1.0f + expf(-margin));
}

void ulm_churn_predict(const ulm_churn *m, const float *x, size_t n, float *out) {
    if (n == 1) {
        out[0] = ulm_churn_calibrate(m, ulm__churn_margin1(m, x));
        return;
    }
    margins(m, x, n, out);
    for (size_t r = 0; r < n; r++) out[r] = ulm_churn_calibrate(m, out[r]);
}
