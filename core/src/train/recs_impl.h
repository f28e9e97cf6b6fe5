/* recs_impl.h: helpers shared by the recommender training files (internal). */
#ifndef ULM_RECS_IMPL_H
#define ULM_RECS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../ulm_impl.h"
#include "ulm/ulm_rectrain.h"

/* splitmix64: a seeded stream per (seed, stream) so results do not depend on thread scheduling. */
static inline uint64_t ulm__rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline uint64_t ulm__rng_seed(uint64_t seed, uint64_t stream) {
    uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
    ulm__rng_next(&s);
    return s;
}
/* Uniform float in [0, 1). */
static inline float ulm__rng_unit(uint64_t *s) { return (float)(ulm__rng_next(s) >> 40) * (1.0f / 16777216.0f); }

/* y += a * x. */
static inline void ulm__axpy(float *y, float a, const float *x, size_t n) {
    for (size_t j = 0; j < n; j++) y[j] += a * x[j];
}

/* Partitions rows 0..n_rows into n_parts ranges of about equal cost (nnz + base per row);
 * bounds[0..n_parts] with bounds[0] = 0 and bounds[n_parts] = n_rows. Deterministic. */
void ulm__partition_rows(const size_t *indptr, uint32_t n_rows, size_t base, unsigned n_parts, uint32_t *bounds);

/* Keeps the k largest (score, index) pairs in a min-heap: heap_s[0] is the k-th best so far.
 * Ties are broken by the lower index ranking higher. Returns the new size. */
uint32_t ulm__heap_push(float *heap_s, uint32_t *heap_i, uint32_t size, uint32_t k, float s, uint32_t i);
/* Sorts a heap of size n into best-first order in place. */
void ulm__heap_sort(float *heap_s, uint32_t *heap_i, uint32_t n);

/* Solves A x = b for symmetric positive definite A (n x n, row-major; overwritten by its
 * Cholesky factor). Returns 0, or non-zero when A is not positive definite. */
int ulm__chol_solve(float *a, float *b, size_t n);

/* The linalg table with every NULL member replaced by the reference. */
void ulm__linalg_fill(const ulm_linalg *la, ulm_linalg *out);

/* Per-algorithm trainers (recs_*.c). */
ulm_status ulm__train_ease(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                           ulm_diag *diag);
ulm_status ulm__train_als(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                          ulm_diag *diag);
ulm_status ulm__train_knn(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                          ulm_diag *diag);
ulm_status ulm__train_bpr(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                          ulm_diag *diag);
ulm_status ulm__train_content(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la,
                              ulm_rec_model *m, ulm_diag *diag);
/* ulm__train_als with its AVX2 row loop allowed or not (both give the same bytes; tests check). */
ulm_status ulm__train_als_isa(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                              ulm_diag *diag, bool allow_avx2);
/* ALS fold-in: the user row x (factors) from a history, given the item factors (see recs_als.c). */
ulm_status ulm__als_fold_in(const ulm_rec_model *m, const uint32_t *items, const float *w, size_t n, float *x,
                            float *scratch);

#endif
