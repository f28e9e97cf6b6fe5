/* quant.c: half floats, int8 rows and the int8 x int16 dot product (quant.h). */
#include "quant.h"

#include "ulm_impl.h"

#include <math.h>
#include <string.h>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

/* The scorer's wasm builds compile this file for speed (-O3: the per-row loops below); the functions
 * that run once per bundle or per call over f values are marked COLD there and kept small (-Oz's
 * choices for them), as are leftover loops behind SIMD ones (NOVEC: no vectorised copy). */
#if defined(__wasm__) && defined(__clang__)
#define COLD __attribute__((minsize))
#define NOVEC _Pragma("clang loop vectorize(disable)")
#else
#define COLD
#define NOVEC
#endif

COLD uint16_t ulm__f16_from_f32(float v) {
    uint32_t x;
    memcpy(&x, &v, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to infinity */
    uint32_t h, rem, half;
    if (ax < 0x38800000u) { /* below 2^-14: a subnormal half, in units of 2^-24 */
        uint32_t e = ax >> 23;
        if (e < 102) return sign; /* below 2^-25 */
        uint32_t m = (ax & 0x7fffffu) | 0x800000u, sh = 126 - e;
        h = m >> sh, rem = m & ((1u << sh) - 1), half = 1u << (sh - 1);
    } else {
        uint32_t r = ax - 0x38000000u; /* exponent bias 127 -> 15 */
        h = r >> 13, rem = r & 0x1fffu, half = 0x1000u;
    }
    if (rem > half || (rem == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

COLD float ulm__f16_to_f32(uint16_t h) {
    uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    if (e == 0) {
        float v = (float)m * 5.9604644775390625e-8f; /* m * 2^-24, exact */
        return s ? -v : v;
    }
    bits = e == 31 ? (s | 0x7f800000u | (m << 13)) : (s | ((e + 112) << 23) | (m << 13));
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

/* Nearest integer to v, ties away from zero, in every build alike. */
static inline int32_t round_away(float v) { return v >= 0 ? (int32_t)(v + 0.5f) : -(int32_t)(-v + 0.5f); }

COLD float ulm__q8_row(const float *y, size_t f, size_t stride, int8_t *q) {
    float mx = 0;
    for (size_t t = 0; t < f; t++) mx = fabsf(y[t]) > mx ? fabsf(y[t]) : mx;
    memset(q, 0, stride);
    if (!(mx > 0) || !isfinite(mx)) return 0.0f;
    float inv = 127.0f / mx;
    for (size_t t = 0; t < f; t++) {
        int32_t v = round_away(y[t] * inv);
        q[t] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
    }
    return mx / 127.0f;
}

COLD float ulm__quant_i16(const float *x, size_t f, size_t stride, int16_t *xq) {
    /* |q| <= 128, so stride * 128 * top must stay below 2^31. */
    int32_t top = (int32_t)(2147483647u / (128u * (uint32_t)(stride ? stride : 1)));
    if (top > 32767) top = 32767;
    float mx = 0;
    for (size_t t = 0; t < f; t++) mx = fabsf(x[t]) > mx ? fabsf(x[t]) : mx;
    for (size_t t = 0; t < stride; t++) xq[t] = 0;
    if (!(mx > 0) || !isfinite(mx)) return 0.0f;
    float inv = (float)top / mx;
    for (size_t t = 0; t < f; t++) {
        int32_t v = round_away(x[t] * inv);
        xq[t] = (int16_t)(v > top ? top : v < -top ? -top : v);
    }
    return mx / (float)top;
}

int32_t ulm__dot_q8(const int8_t *q, const int16_t *x, size_t stride) {
#if defined(__wasm_simd128__)
    v128_t acc = wasm_i32x4_splat(0);
    for (size_t t = 0; t < stride; t += 16) { /* dot16 below */
        acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(q + t), wasm_v128_load(x + t)));
        acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(q + t + 8), wasm_v128_load(x + t + 8)));
    }
    return wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) + wasm_i32x4_extract_lane(acc, 2) +
           wasm_i32x4_extract_lane(acc, 3);
#else
    int32_t acc = 0; /* no overflow (ulm__quant_i16 bounds x), so any summation order is exact */
    for (size_t t = 0; t < stride; t++) acc += (int32_t)q[t] * (int32_t)x[t];
    return acc;
#endif
}

#if defined(__wasm_simd128__)
/* The four lanes of a (products of 8 int8 x int16 pairs, pairwise summed) for 16 elements. Each half of
 * the row is loaded already widened (`i16x8.load8x8_s`: one x64 pmovsxbw from memory) rather than loaded
 * once and widened twice (the high half takes two instructions): 38-39 -> 32 µs for an unpruned scan of
 * 10,000 x 64 in a micro-benchmark (emcc -O3, Node 20), the same integers. */
static inline __attribute__((always_inline)) v128_t dot16(const int8_t *q, const int16_t *x) {
    return wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(q), wasm_v128_load(x)),
                          wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(q + 8), wasm_v128_load(x + 8)));
}
#endif

#if defined(__wasm_simd128__)
/* The int32 dots of the four rows at r (stride bytes apart) with x, in one vector: their partial-sum
 * vectors, transposed and added. */
static inline __attribute__((always_inline)) v128_t dot4(const int8_t *r, const int16_t *x, size_t stride) {
    v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (size_t u = 0; u < stride; u += 16) {
        const int16_t *xt = x + u;
        a0 = wasm_i32x4_add(a0, dot16(r + u, xt));
        a1 = wasm_i32x4_add(a1, dot16(r + stride + u, xt));
        a2 = wasm_i32x4_add(a2, dot16(r + 2 * stride + u, xt));
        a3 = wasm_i32x4_add(a3, dot16(r + 3 * stride + u, xt));
    }
    v128_t s01 = wasm_i32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
    v128_t s23 = wasm_i32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
}
#endif

/* An upper bound on sqrt(ss) with room (2^-20 relative) for three float roundings: the bounds
 * below stay above every score they bound (see ulm__q8_next). */
static float norm_up(int64_t ss) { return (float)(sqrt((double)ss) * (1.0 + 0x1p-20)); }

COLD float ulm__q8_norm(const int8_t *q, size_t stride) {
    int64_t ss = 0;
    for (size_t t = 0; t < stride; t++) ss += (int32_t)q[t] * q[t];
    return norm_up(ss);
}

COLD void ulm__q8_chunks(const float *norm, const float *scale, const float *bias, uint32_t n, float *c) {
    for (uint32_t g = 0; g * (uint32_t)ULM__Q8_CHUNK < n; g++) {
        float mn = 0, ms = 0, mb = bias ? -INFINITY : 0.0f;
        for (uint32_t i = g * ULM__Q8_CHUNK; i < n && i < (g + 1) * ULM__Q8_CHUNK; i++) {
            mn = norm[i] > mn ? norm[i] : mn;
            ms = scale[i] > ms ? scale[i] : ms;
            if (bias) mb = bias[i] > mb ? bias[i] : mb; /* a NaN bias never enters top-K */
        }
        c[3 * g] = mn, c[3 * g + 1] = ms, c[3 * g + 2] = mb;
    }
}

COLD void ulm__q8_scan_init(ulm__q8_scan *sc, const int8_t *q, size_t stride, uint32_t n, const int16_t *x, float xs,
                       const float *scale, const float *norm, const float *bias, const float *chunk) {
    int64_t ss = 0;
    for (size_t t = 0; t < stride; t++) ss += (int32_t)x[t] * x[t];
    sc->q = q, sc->stride = stride, sc->n = n, sc->x = x, sc->xs = xs, sc->xn = norm_up(ss);
    sc->scale = scale, sc->norm = norm, sc->bias = bias, sc->chunk = chunk, sc->j = 0, sc->checked = 0, sc->skipped = 0;
    sc->buf_from = sc->buf_to = 0;
}

/* Why skipping is exact: with c = xs * scale_j (a float >= 0) a row scores fl(fl(d) * c) (+ b_j),
 * d the int32 dot; B = fl(norm_j * xn) >= ||q_j|| ||x|| >= |d| (Cauchy-Schwarz; both norms carry
 * 2^-20 of room), so fl(d) <= B, and rounding is monotone: fl(fl(d) * c) <= fl(B * c), and the
 * same after adding b_j. A row whose bound is below t has no score >= t. */
static inline bool bound_passes(const ulm__q8_scan *sc, uint32_t j, float t) {
    float ub = (sc->norm[j] * sc->xn) * (sc->xs * sc->scale[j]);
    return (sc->bias ? ub + sc->bias[j] : ub) >= t;
}

#if defined(__wasm_simd128__)
/* Rows b..b+3 of q (stride bytes each) scored into s (the scalar expression lane by lane); true when
 * one is >= t. */
static inline __attribute__((always_inline)) bool score4(const int8_t *q, size_t stride, const int16_t *x,
                                                          const float *scale, const float *bias, uint32_t b,
                                                          v128_t vxs, v128_t vt, float *s) {
    v128_t d = dot4(q + (size_t)b * stride, x, stride);
    v128_t v = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(d), wasm_f32x4_mul(vxs, wasm_v128_load(scale + b)));
    if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + b));
    if (!wasm_i32x4_bitmask(wasm_f32x4_ge(v, vt))) return false;
    wasm_v128_store(s, v);
    return true;
}
#endif

uint32_t ulm__q8_next(ulm__q8_scan *sc, float t, uint32_t idx[4], float s[4]) {
    const uint32_t n = sc->n;
#if defined(__wasm_simd128__)
    /* Four rows at a time: their bounds, then (when one passes) their dots. Queueing only the rows
     * that pass and scoring them four at a time was tried: it halves the speed when few rows are
     * skipped (the ALS fold-in's user vectors here, whose bounds are far above the k-th best), as
     * does a branch per block; the bounds are off without biases, and stop being checked when
     * they skip too little. */
    const int8_t *q = sc->q;
    const int16_t *x = sc->x;
    const size_t stride = sc->stride;
    const float *scale = sc->scale, *norm = sc->norm, *bias = sc->bias;
    v128_t vxs = wasm_f32x4_splat(sc->xs), vxn = wasm_f32x4_splat(sc->xn), vt = wasm_f32x4_splat(t);
    uint32_t j = sc->j, n4 = n & ~3u;
    while (j < n4) {
        /* The bounds of up to 32 blocks into one mask (no branch per block), then the dots of the
         * blocks in it, with nothing else live in the registers the dot loop uses. */
        uint32_t end = (j / ULM__Q8_CHUNK + 1) * ULM__Q8_CHUNK, mask = 0, nb;
        end = end < n4 ? end : n4, nb = (end - j) / 4;
        /* Without biases (ALS) the bounds are not checked at all: the fold-in's user vectors leave
         * them far above the k-th best (the bench's and MovieLens's ALS skip almost nothing), and
         * the 512 blocks it took to find that out cost 7-10% of the ALS call. With biases (BPR),
         * once top-K's heap is full (t > -inf), 512 blocks decide whether the bounds are worth it. */
        bool check = bias && (sc->checked < 512 || sc->skipped * 8 >= sc->checked), count = t > -INFINITY;
        if (!check) {
            /* They skipped under 1/8 of those blocks: every block is scored, a chunk at a time into
             * buf (no branch per block), and the chunk is then searched for a score >= t. */
            if (j < sc->buf_from || j >= sc->buf_to) {
                for (uint32_t b = j; b < end; b += 4) {
                    v128_t d = dot4(q + (size_t)b * stride, x, stride);
                    v128_t c = wasm_f32x4_mul(vxs, wasm_v128_load(scale + b));
                    v128_t v = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(d), c);
                    if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + b));
                    wasm_v128_store(sc->buf + (b - j), v);
                }
                sc->buf_from = j, sc->buf_to = end;
            }
            end = sc->buf_to;
            for (uint32_t b = j; b < end; b += 4) {
                v128_t v = wasm_v128_load(sc->buf + (b - sc->buf_from));
                if (wasm_i32x4_bitmask(wasm_f32x4_ge(v, vt))) {
                    wasm_v128_store(s, v);
                    for (uint32_t l = 0; l < 4; l++) idx[l] = b + l;
                    sc->j = b + 4;
                    return 4;
                }
            }
            j = end;
            continue;
        }
        if (sc->chunk) { /* the chunk's largest norm, scale and bias bound its rows (rounding is monotone) */
            const float *c = sc->chunk + 3 * (j / ULM__Q8_CHUNK);
            if ((c[0] * sc->xn) * (sc->xs * c[1]) + c[2] < t) {
                if (count) sc->checked += nb, sc->skipped += nb;
                j = end;
                continue;
            }
        }
        for (uint32_t b = j, bit = 1; b < end; b += 4, bit <<= 1) {
            v128_t ub = wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(norm + b), vxn),
                                       wasm_f32x4_mul(vxs, wasm_v128_load(scale + b)));
            if (bias) ub = wasm_f32x4_add(ub, wasm_v128_load(bias + b));
            mask |= wasm_i32x4_bitmask(wasm_f32x4_ge(ub, vt)) ? bit : 0;
        }
        for (uint32_t b = j; b < end; b += 4) { /* in order: no ctz chain */
            if (!((mask >> ((b - j) / 4)) & 1)) continue;
            if (score4(q, stride, x, scale, bias, b, vxs, vt, s)) {
                for (uint32_t l = 0; l < 4; l++) idx[l] = b + l;
                sc->j = b + 4; /* the rest of this chunk's mask is redone against the new t */
                if (count) { /* the blocks up to b: b's own bound passed */
                    uint32_t done = (b - j) / 4 + 1;
                    sc->checked += done;
                    uint32_t seen = done == 32 ? mask : mask & ((1u << done) - 1);
                    sc->skipped += done - (uint32_t)__builtin_popcount(seen);
                }
                return 4;
            }
        }
        if (count) sc->checked += nb, sc->skipped += nb - (uint32_t)__builtin_popcount(mask);
        j = end;
    }
    sc->j = j;
#endif
    for (uint32_t i = sc->j; i < n; i++) { /* row by row: the build without SIMD, and the last n % 4 rows */
        if (sc->bias && !bound_passes(sc, i, t)) continue; /* no biases (ALS): no bounds, as above */
        float v = (float)ulm__dot_q8(sc->q + (size_t)i * sc->stride, sc->x, sc->stride) * (sc->xs * sc->scale[i]);
        if (sc->bias) v += sc->bias[i];
        if (v >= t) {
            sc->j = i + 1;
            idx[0] = i, s[0] = v;
            return 1;
        }
    }
    sc->j = n;
    return 0;
}

uint32_t ulm__first_ge(const float *s, uint32_t j, uint32_t n, float t) {
#if defined(__wasm_simd128__)
    v128_t vt = wasm_f32x4_splat(t); /* eight at a time until some lane is >= t (NaN never is) */
    for (; j + 8 <= n; j += 8)
        if (wasm_v128_any_true(wasm_v128_or(wasm_f32x4_ge(wasm_v128_load(s + j), vt),
                                            wasm_f32x4_ge(wasm_v128_load(s + j + 4), vt))))
            break;
#endif
    for (; j < n; j++)
        if (s[j] >= t) return j;
    return n;
}

void ulm__score_f32(const float *y, size_t f, uint32_t n, const float *x, const float *bias, float *out) {
    uint32_t j = 0;
#if defined(__wasm_simd128__)
    /* ulm__dot8's eight partial sums are lanes 0-3 (lo) and 4-7 (hi); its final order,
     * ((s0+s4)+(s1+s5)) + ((s2+s6)+(s3+s7)), is v = lo + hi, then (v0+v1) + (v2+v3), done for
     * four rows at once by two transposing shuffles. */
    if (f % 8 == 0) {
        for (; j + 4 <= n; j += 4) {
            const float *r = y + (size_t)j * f;
            v128_t v[4];
            for (int q = 0; q < 4; q++) {
                v128_t lo = wasm_f32x4_splat(0), hi = lo;
                const float *rq = r + (size_t)q * f;
                for (size_t t = 0; t < f; t += 8) {
                    lo = wasm_f32x4_add(lo, wasm_f32x4_mul(wasm_v128_load(x + t), wasm_v128_load(rq + t)));
                    hi = wasm_f32x4_add(hi, wasm_f32x4_mul(wasm_v128_load(x + t + 4), wasm_v128_load(rq + t + 4)));
                }
                v[q] = wasm_f32x4_add(lo, hi);
            }
            v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(v[0], v[1], 0, 4, 2, 6), wasm_i32x4_shuffle(v[0], v[1], 1, 5, 3, 7));
            v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(v[2], v[3], 0, 4, 2, 6), wasm_i32x4_shuffle(v[2], v[3], 1, 5, 3, 7));
            v128_t s4 = wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
            wasm_v128_store(out + j, wasm_f32x4_add(s4, bias ? wasm_v128_load(bias + j) : wasm_f32x4_splat(0.0f)));
        }
    }
#endif
    for (; j < n; j++) out[j] = ulm__dot8(x, y + (size_t)j * f, f) + (bias ? bias[j] : 0.0f);
}

void ulm__gram_update(float *a, const float *g, const float *y, size_t nh, float c, size_t f, float *cy) {
    for (size_t i = 0; i < f; i++) {
        float *row = a + i * f;
        const float *gr = g + i * f;
        for (size_t h = 0; h < nh; h++) cy[h] = c * y[h * f + i];
        size_t j = 0;
#if defined(__wasm_simd128__)
        /* Each entry's sum is a chain of nh additions: four chains (16 entries) at a time hide their latency. */
        size_t end = f % 4 == 0 ? (i + 4) & ~(size_t)3 : 0;
        for (; j + 16 <= end; j += 16) {
            v128_t v0 = wasm_v128_load(gr + j), v1 = wasm_v128_load(gr + j + 4), v2 = wasm_v128_load(gr + j + 8),
                   v3 = wasm_v128_load(gr + j + 12);
            for (size_t h = 0; h < nh; h++) {
                v128_t ch = wasm_f32x4_splat(cy[h]);
                const float *yh = y + h * f + j;
                v0 = wasm_f32x4_add(v0, wasm_f32x4_mul(ch, wasm_v128_load(yh)));
                v1 = wasm_f32x4_add(v1, wasm_f32x4_mul(ch, wasm_v128_load(yh + 4)));
                v2 = wasm_f32x4_add(v2, wasm_f32x4_mul(ch, wasm_v128_load(yh + 8)));
                v3 = wasm_f32x4_add(v3, wasm_f32x4_mul(ch, wasm_v128_load(yh + 12)));
            }
            wasm_v128_store(row + j, v0), wasm_v128_store(row + j + 4, v1);
            wasm_v128_store(row + j + 8, v2), wasm_v128_store(row + j + 12, v3);
        }
        for (; j + 8 <= end; j += 8) {
            v128_t v0 = wasm_v128_load(gr + j), v1 = wasm_v128_load(gr + j + 4);
            for (size_t h = 0; h < nh; h++) {
                v128_t ch = wasm_f32x4_splat(cy[h]);
                v0 = wasm_f32x4_add(v0, wasm_f32x4_mul(ch, wasm_v128_load(y + h * f + j)));
                v1 = wasm_f32x4_add(v1, wasm_f32x4_mul(ch, wasm_v128_load(y + h * f + j + 4)));
            }
            wasm_v128_store(row + j, v0), wasm_v128_store(row + j + 4, v1);
        }
        for (; j < end; j += 4) {
            v128_t v = wasm_v128_load(gr + j);
            for (size_t h = 0; h < nh; h++)
                v = wasm_f32x4_add(v, wasm_f32x4_mul(wasm_f32x4_splat(cy[h]), wasm_v128_load(y + h * f + j)));
            wasm_v128_store(row + j, v);
        }
#endif
        NOVEC /* the leftover entries (all of them without SIMD): kept small */
        for (; j <= i; j++) {
            float v = gr[j];
            for (size_t h = 0; h < nh; h++) v += cy[h] * y[h * f + j];
            row[j] = v;
        }
    }
}
