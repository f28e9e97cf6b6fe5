/* quant.h: compact number formats of the bundle (docs/format.md): IEEE half floats (F16) and
 * int8 rows with a per-row f32 scale (Q8_ROW), and the integer dot product the recommender
 * scores int8 item rows with. Internal; shared by the scorer (recs_load.c, recs_score.c) and
 * the trainer's writer (train/recs_export.c).
 *
 *   int16_t xq[stride]; float xs = ulm__quant_i16(x, f, stride, xq);   // once per user
 *   float s_j = (float)ulm__dot_q8(row_j, xq, stride) * (xs * scale_j);   // per item, exact integers
 *   ulm__q8_scan sc; ulm__q8_scan_init(&sc, q, stride, n, xq, xs, scale, norm, NULL, chunk);
 *   while ((m = ulm__q8_next(&sc, kth_best, idx, s4)) > 0) ...   // top-K: up to four rows a step
 */
#ifndef ULM_QUANT_H
#define ULM_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* Row stride of a Q8_ROW section with cols columns: cols rounded up to 64 bytes. */
static inline size_t ulm__q8_stride(size_t cols) { return (cols + 63) & ~(size_t)63; }

/* The half float nearest to v (ties to even; overflow to infinity, NaN stays NaN). */
uint16_t ulm__f16_from_f32(float v);
/* The float a half float stands for (exact). */
float ulm__f16_to_f32(uint16_t h);

/* Quantises y[0..f) to q[0..stride) (q[t] = round(y[t] / scale), |q| <= 127, zero padding);
 * returns scale = max|y| / 127 (0 for a zero row). */
float ulm__q8_row(const float *y, size_t f, size_t stride, int8_t *q);

/* Quantises the user vector x[0..f) to xq[0..stride) (zero padding) with the largest magnitude
 * that keeps an int8 row's dot product inside int32; returns the scale (x[t] ~ xq[t] * scale). */
float ulm__quant_i16(const float *x, size_t f, size_t stride, int16_t *xq);

/* sum q[t] * x[t] over t < stride (a multiple of 16), exactly in integers: the same in every build. */
int32_t ulm__dot_q8(const int8_t *q, const int16_t *x, size_t stride);

/* An upper bound on ||q|| for an int8 row (stride bytes), rounded up with room for the float
 * products that use it: the int8 scorer skips rows whose bound is below the k-th best score. */
float ulm__q8_norm(const int8_t *q, size_t stride);

/* Rows per chunk of ulm__q8_chunks. */
enum { ULM__Q8_CHUNK = 128 };

/* For each chunk of ULM__Q8_CHUNK rows (the last one shorter), the largest norm, scale and bias (0
 * without biases) of its rows into c[3 * chunk ..]: a bound for the whole chunk (c: [3 * chunks]). */
void ulm__q8_chunks(const float *norm, const float *scale, const float *bias, uint32_t n, float *c);

/* One call's int8 scoring of n rows against the quantised user vector: row j scores
 * (float)dot(q_j, x) * (xs * scale[j]) (+ bias[j] when bias), in every build alike. */
typedef struct ulm__q8_scan {
    const int8_t *q;     /* [n x stride] int8 rows */
    size_t stride;       /* bytes per row, a multiple of 64 */
    uint32_t n;          /* rows */
    const int16_t *x;    /* [stride] user vector (ulm__quant_i16) */
    float xs;            /* its scale */
    float xn;            /* bound on ||x||, as ulm__q8_norm's (ulm__q8_scan_init) */
    const float *scale;  /* [n] row scales */
    const float *norm;   /* [n] ulm__q8_norm of each row */
    const float *bias;   /* [n] or NULL */
    const float *chunk;  /* ulm__q8_chunks of the rows, or NULL */
    uint32_t j;          /* the next row whose bound is checked */
    uint32_t checked, skipped; /* blocks whose bounds were checked with the heap full, and skipped (wasm SIMD) */
    uint32_t buf_from, buf_to; /* wasm SIMD, once bounds are off: rows [buf_from, buf_to) scored into buf */
    float buf[128];
} ulm__q8_scan;

/* Starts a scan (j = 0) of the rows named by the arguments (as the fields). */
void ulm__q8_scan_init(ulm__q8_scan *sc, const int8_t *q, size_t stride, uint32_t n, const int16_t *x, float xs,
                       const float *scale, const float *norm, const float *bias, const float *chunk);

/* Scoring fused with top-K's threshold t (the k-th best so far: it may only rise from one call to
 * the next): the next m (1..4) rows, ascending, into idx[0..m) with their scores in s[0..m), of
 * which at least one scores >= t; 0 when no row is left. A row whose bound (norm x xn x xs x scale
 * + bias) is below t when it is reached is never scored (it cannot score >= t, then or later), so
 * every row scoring >= the final t comes back, with the full scan's exact score. Without biases
 * (ALS) no bound is checked: every row is scored. */
uint32_t ulm__q8_next(ulm__q8_scan *sc, float t, uint32_t idx[4], float s[4]);

/* out[j] = ulm__dot8(x, y_j, f) + (bias ? bias[j] : 0) for the n rows of y (f floats each): the f32
 * scorer's hot loop, bit for bit ulm__dot8's sums (SIMD four rows at a time when f % 8 == 0). */
void ulm__score_f32(const float *y, size_t f, uint32_t n, const float *x, const float *bias, float *out);

/* Lower triangle of a[f x f] = g + sum over h < nh of c * y_h y_h^T, added in h order as nh rank-one updates
 * (a[i][j] = g[i][j], then += (c * y_h[i]) * y_h[j]): ALS fold-in's system for the history rows y[nh x f]; g
 * may be a, so a long history is added in batches with the same sums.
 * Row by row, so each entry stays in a register (wasm SIMD: four entries at a time when f % 4 == 0, which
 * also writes some entries above the diagonal; ulm__chol_factor reads only the lower triangle). cy: [nh]
 * scratch. Kept with the other per-call loops so the scorer's -Oz builds still vectorise it. */
void ulm__gram_update(float *a, const float *g, const float *y, size_t nh, float c, size_t f, float *cy);
/* The first index i in [j, n) with s[i] >= t (never a NaN), or n: top-K's skip over the items
 * below the current k-th best. */
uint32_t ulm__first_ge(const float *s, uint32_t j, uint32_t n, float t);

#endif
