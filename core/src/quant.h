/* quant.h: compact number formats of the bundle (docs/format.md): IEEE half floats (F16) and
 * int8 rows with a per-row f32 scale (Q8_ROW), and the integer dot product the recommender
 * scores int8 item rows with. Internal; shared by the scorer (recs_load.c, recs_score.c) and
 * the trainer's writer (train/recs_export.c).
 *
 *   int16_t xq[stride]; float xs = ulm__quant_i16(x, f, stride, xq);   // once per user
 *   float s_j = (float)ulm__dot_q8(row_j, xq, stride) * (xs * scale_j);   // per item, exact integers
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

/* out[j] = (float)dot(q_j, x) * (xs * scale[j]) (+ bias[j] when bias) for the n rows of q (stride
 * bytes each): the scorer's hot loop, four rows at a time with SIMD; every build gives the same floats. */
void ulm__score_q8(const int8_t *q, size_t stride, uint32_t n, const int16_t *x, float xs, const float *scale,
                   const float *bias, float *out);

/* out[j] = ulm__dot8(x, y_j, f) + (bias ? bias[j] : 0) for the n rows of y (f floats each): the f32
 * scorer's hot loop, bit for bit ulm__dot8's sums (SIMD four rows at a time when f % 8 == 0). */
void ulm__score_f32(const float *y, size_t f, uint32_t n, const float *x, const float *bias, float *out);

/* Lower triangle of a[f x f] += c * y y^T (a[i][j] += (c * y[i]) * y[j], j <= i): ALS fold-in's rank-one update,
 * kept with the other per-call loops so the scorer's -Oz builds still vectorise it. */
void ulm__rank1_update(float *a, const float *y, float c, size_t f);
/* The first index i in [j, n) with s[i] >= t (never a NaN), or n: top-K's skip over the items
 * below the current k-th best. */
uint32_t ulm__first_ge(const float *s, uint32_t j, uint32_t n, float t);

#endif
