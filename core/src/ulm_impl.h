/* ulm_impl.h: internal helpers shared by core sources; not installed, not public. */
#ifndef ULM_IMPL_H
#define ULM_IMPL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ulm/ulm_dict.h"
#include "ulm/ulm_status.h"

/* Allocation through an optional ulm_allocator (NULL = libc). */
void *ulm__alloc(const ulm_allocator *a, size_t size);
void *ulm__calloc(const ulm_allocator *a, size_t n, size_t size);
void *ulm__realloc(const ulm_allocator *a, void *p, size_t old_size, size_t new_size);
void ulm__free(const ulm_allocator *a, void *p, size_t size);

/* Fills diag (when non-NULL) and returns status, so callers can `return ulm__fail(...)`. */
#define ulm__fail ulm_diag_set

/* Little-endian loads and stores that are safe on unaligned addresses. */
static inline uint16_t ulm__rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t ulm__rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t ulm__rd64(const uint8_t *p) { return (uint64_t)ulm__rd32(p) | ((uint64_t)ulm__rd32(p + 4) << 32); }
static inline float ulm__rdf32(const uint8_t *p) {
    uint32_t u = ulm__rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline void ulm__wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void ulm__wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void ulm__wr64(uint8_t *p, uint64_t v) { ulm__wr32(p, (uint32_t)v); ulm__wr32(p + 4, (uint32_t)(v >> 32)); }
static inline void ulm__wrf32(uint8_t *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    ulm__wr32(p, u);
}

/* Header field offsets (docs/format.md). */
enum {
    ULM__H_MAGIC = 0, ULM__H_MAJOR = 8, ULM__H_MINOR = 10, ULM__H_U32_PROBE = 12, ULM__H_F32_PROBE = 16,
    ULM__H_HEADER_SIZE = 20, ULM__H_FILE_SIZE = 24, ULM__H_TABLE_OFFSET = 32, ULM__H_SECTION_COUNT = 40,
    ULM__H_ALIGNMENT = 44, ULM__H_FLAGS = 48, ULM__H_QUANT_VERSION = 52, ULM__H_TABLE_CRC = 56, ULM__H_CRC = 60
};
#define ULM__U32_PROBE 0x0A0B0C0Du
#define ULM__F32_PROBE 1234.5678f
#define ULM__QUANT_VERSION 1u
/* Section table entry field offsets. */
enum {
    ULM__S_OFFSET = 0, ULM__S_SIZE = 8, ULM__S_TAG = 16, ULM__S_DTYPE = 20, ULM__S_ROWS = 24, ULM__S_COLS = 28,
    ULM__S_VERSION = 32, ULM__S_FLAGS = 34, ULM__S_CRC = 36
};


/* Stable merge sort of idx[0..n) by before(ctx, a, b) (a goes first); tmp holds n entries. No allocation. */
void ulm__merge_order(uint32_t *idx, size_t n, uint32_t *tmp, int (*before)(const void *ctx, uint32_t a, uint32_t b),
                      const void *ctx);
/* Sorts idx[0..n) by score[idx] descending, ties by lower index; tmp holds n entries. */
void ulm__rank_by_score(uint32_t *idx, size_t n, const float *score, uint32_t *tmp);

/* Dot product with eight independent partial sums, added in a fixed order: vectorisable without
 * -ffast-math, and the same result in every build (native, Emscripten, WASI) and for the trainer's
 * and the bundle's scorers alike. */
static inline float ulm__dot8(const float *a, const float *b, size_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[j + l] * b[j + l];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; j < n; j++) s += a[j] * b[j];
    return s;
}

/* Cholesky factor of the SPD n x n row-major matrix a (only its lower triangle is read): L in the
 * lower triangle, L^T in the upper; 0, or 1 when a is not (numerically) positive definite. */
int ulm__chol_factor(float *a, size_t n);
/* Solves L L^T x = b in place with a factor from ulm__chol_factor. */
void ulm__chol_subst(const float *a, float *b, size_t n);
/* Its two halves: b = L^-1 b (forward), b = L^-T b (backward). */
void ulm__chol_fwd(const float *a, float *b, size_t n);
void ulm__chol_bwd(const float *a, float *b, size_t n);
/* X = L^-1 Y^T for the m rows of y (m x n, row-major) into x (n x m, row-major), L from ulm__chol_factor;
 * m is 1 (then ulm__chol_fwd itself) or a multiple of 4. Each entry's sum in a fixed order (every build
 * gives the same bits; wasm SIMD: two rows and up to sixteen columns at a time). */
void ulm__chol_cols(const float *l, size_t n, const float *y, size_t m, float *x);

#endif
