/* recs_als.c: implicit ALS (Hu, Koren & Volinsky 2008) with a conjugate-gradient solver
 * (Takacs, Pilaszy & Tikk 2011) or exact Cholesky.
 *
 * Confidence c = 1 + alpha * r, preference 1 for every stored entry. Each half-step computes
 * the fixed side's Gram matrix Y^T Y once (on the same tasks, in fixed row chunks, so any thread
 * count gives the same sums), then solves (Y^T Y + reg I + Y^T (C_u - I) Y) x_u = Y^T C_u p_u for every row on
 * `threads` tasks with static, nnz-balanced row ranges and per-task scratch. CG starts from the
 * previous x_u (warm start), so a few steps per sweep suffice. Each row's arithmetic is fixed,
 * so results do not depend on the thread count.
 *
 * Per CG step a row costs one f x f product and two passes over its entries' factor rows; the
 * product and the second pass are fused (recs_als_rows.h: A p = G p + sum_k w_k y_k summed into
 * register accumulators, written once), the dot products run two rows at a time, rows with many
 * entries copy their factor rows together first, and the row loop is built twice, for baseline
 * x86-64 (SSE2) and for AVX2 (picked at run time), with the same summation order: same bits. */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm_rectrain.h"
#include "../ulm_impl.h"
#include "recs_impl.h"

typedef struct als_half {
    const size_t *indptr;
    const uint32_t *indices;
    const float *data;
    float *x;         /* rows solved [n_rows x f] */
    const float *y;   /* fixed side [.. x f] */
    const float *gram;/* f x f: Y^T Y + reg I */
    uint32_t f;
    float alpha;
    unsigned cg_steps;
    int avx2;         /* run the AVX2 build of the row loop (x86-64 CPUs that have it) */
    const uint32_t *bounds;
    float *scratch;   /* per task: scratch_per floats */
    size_t scratch_per;
    float *gather;    /* per task: gather_cap x f floats, a row's fixed-side rows copied together */
    size_t gather_cap;
    const uint32_t *iota; /* 0, 1, ..., gather_cap - 1 */
} als_half;

/* Rows with at least this many entries (and at most gather_cap) are gathered before CG; shorter
 * ones stay in L1 after the first pass anyway. */
#define ALS_GATHER_MIN 64
/* At most this many floats of gather buffer per task (16 MiB). */
#define ALS_GATHER_FLOATS ((size_t)1 << 22)

/* Dot product with sixteen partial sums in a fixed order (two vector chains on AVX2). */
static inline float dot16(const float *a, const float *b, size_t n) {
    float acc[16] = {0};
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++) acc[l] += a[j + l] * b[j + l];
    for (int l = 0; l < 8; l++) acc[l] += acc[l + 8];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; j < n; j++) s += a[j] * b[j];
    return s;
}

/* Builds A = gram + sum (c-1) y y^T and b = sum c y for entries [a, b) into A and rhs. */
static void normal_equations(const float *gram, const float *y, const uint32_t *idx, const float *val, size_t n,
                             float alpha, uint32_t f, float *A, float *rhs) {
    memcpy(A, gram, (size_t)f * f * sizeof *A);
    for (uint32_t l = 0; l < f; l++) rhs[l] = 0;
    for (size_t k = 0; k < n; k++) {
        const float *yi = y + (size_t)idx[k] * f;
        float r = val ? val[k] : 1.0f, c = 1.0f + alpha * r;
        for (uint32_t i = 0; i < f; i++) ulm__axpy(A + (size_t)i * f, (c - 1.0f) * yi[i], yi, f);
        ulm__axpy(rhs, c, yi, f);
    }
}

/* The row loop, once per vector type (recs_als_rows.h): the baseline build, and on x86-64 an
 * AVX2 build picked at run time on CPUs that have it. Both sum in the same order: same bits. */
#if defined(__GNUC__)
typedef float als_v4 __attribute__((vector_size(16)));
#define ALS_V als_v4
#define ALS_L 4
#define ALS_SPLAT(x) ((als_v4){(x), (x), (x), (x)})
#else
#define ALS_V float
#define ALS_L 1
#define ALS_SPLAT(x) (x)
#endif
#define ALS_FN(name) name##_base
#define ALS_ATTR
#include "recs_als_rows.h"
#undef ALS_V
#undef ALS_L
#undef ALS_SPLAT
#undef ALS_FN
#undef ALS_ATTR
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__EMSCRIPTEN__)
#define ALS_X86 1
typedef float als_v8 __attribute__((vector_size(32)));
#define ALS_V als_v8
#define ALS_L 8
#define ALS_SPLAT(x) ((als_v8){(x), (x), (x), (x), (x), (x), (x), (x)})
#define ALS_FN(name) name##_avx2
#define ALS_ATTR __attribute__((target("avx2")))
#include "recs_als_rows.h"
#else
#define ALS_X86 0
#endif

static void half_task(void *arg, unsigned t) {
    const als_half *h = arg;
#if ALS_X86
    if (h->avx2) {
        half_rows_avx2(h, t);
        return;
    }
#endif
    half_rows_base(h, t);
}

/* The Gram matrix Y^T Y in fixed chunks of rows: each chunk's partial sum is computed on some
 * thread, the partials are added in chunk order, and the chunk size depends on n alone, so the
 * result is the same for any thread count. Own code rather than a BLAS call: OpenBLAS's worker
 * threads keep spinning after a product and then compete with the row tasks for the cores. */
typedef struct gram_ctx {
    const float *y;
    size_t n, chunk, n_chunks;
    uint32_t f;
    unsigned tasks;
    float *partial; /* [n_chunks x f x f], upper triangles (8-column blocks from the diagonal) */
} gram_ctx;

/* Adds the outer products of rows y[0..m) into the upper blocks of out (f x f), four rows at a
 * time so each pass over out carries four products. */
static void gram_rows(const float *y, size_t m, uint32_t f, float *out) {
    size_t r = 0;
    for (; r + 4 <= m; r += 4) {
        const float *a = y + r * f, *b = a + f, *c = b + f, *d = c + f;
        for (uint32_t i = 0; i < f; i++) {
            float ai = a[i], bi = b[i], ci = c[i], di = d[i];
            float *o = out + (size_t)i * f;
            for (uint32_t j = i & ~7u; j < f; j++) o[j] += ((ai * a[j] + bi * b[j]) + (ci * c[j] + di * d[j]));
        }
    }
    for (; r < m; r++) {
        const float *a = y + r * f;
        for (uint32_t i = 0; i < f; i++) {
            float ai = a[i];
            float *o = out + (size_t)i * f;
            for (uint32_t j = i & ~7u; j < f; j++) o[j] += ai * a[j];
        }
    }
}

static void gram_task(void *arg, unsigned t) {
    const gram_ctx *g = arg;
    size_t ff = (size_t)g->f * g->f;
    for (size_t c = t; c < g->n_chunks; c += g->tasks) {
        float *out = g->partial + c * ff;
        memset(out, 0, ff * sizeof *out);
        size_t a = c * g->chunk, b = a + g->chunk < g->n ? a + g->chunk : g->n;
        gram_rows(g->y + a * g->f, b - a, g->f, out);
    }
}

/* gram = Y^T Y + reg I for Y with n rows, exactly symmetric; partial holds 64 f x f blocks. */
static void gram_of(const ulm_linalg *la, unsigned tasks, const float *y, size_t n, uint32_t f, float reg,
                    float *partial, float *gram) {
    size_t chunk = (n + 63) / 64;
    if (chunk < 256) chunk = 256;
    gram_ctx g = {.y = y, .n = n, .chunk = chunk, .n_chunks = (n + chunk - 1) / chunk, .f = f, .tasks = tasks,
                  .partial = partial};
    if (g.n_chunks == 0) g.n_chunks = 1, g.chunk = 1;
    la->run(la->ud, tasks, gram_task, &g);
    size_t ff = (size_t)f * f;
    if (n == 0) memset(partial, 0, ff * sizeof *partial);
    memcpy(gram, partial, ff * sizeof *gram);
    for (size_t c = 1; c < g.n_chunks; c++)
        for (size_t k = 0; k < ff; k++) gram[k] += partial[c * ff + k];
    for (uint32_t i = 0; i < f; i++) {
        for (uint32_t j = 0; j < i; j++) gram[(size_t)i * f + j] = gram[(size_t)j * f + i];
        gram[(size_t)i * f + i] += reg;
    }
}

ulm_status ulm__train_als(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                          ulm_diag *diag) {
    return ulm__train_als_isa(x, p, la, m, diag, true);
}

ulm_status ulm__train_als_isa(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                              ulm_diag *diag, bool allow_avx2) {
    uint32_t f = p->factors, T = p->threads;
    size_t nu = x->n_users, ni = x->n_items;
    size_t maxrow = 0;
    for (size_t u = 0; u < nu; u++)
        if (x->indptr[u + 1] - x->indptr[u] > maxrow) maxrow = x->indptr[u + 1] - x->indptr[u];
    for (size_t i = 0; i < ni; i++)
        if (x->t_indptr[i + 1] - x->t_indptr[i] > maxrow) maxrow = x->t_indptr[i + 1] - x->t_indptr[i];
    size_t per = p->cg_steps ? 4 * (size_t)f + 2 * maxrow : (size_t)f * f + f;
    m->factors = f;
    m->reg = p->reg;
    m->alpha = p->alpha;
    m->user_f = malloc((nu * f + 1) * sizeof *m->user_f);
    m->item_f = malloc((ni * f + 1) * sizeof *m->item_f);
    m->gram = malloc(((size_t)f * f + 1) * sizeof *m->gram);
    float *scratch = malloc((per * T + 1) * sizeof *scratch);
    float *partial = malloc((64 * (size_t)f * f + 1) * sizeof *partial);
    uint32_t *ub = malloc((T + 1) * sizeof *ub), *ib = malloc((T + 1) * sizeof *ib);
    size_t gcap = ALS_GATHER_FLOATS / f < maxrow ? ALS_GATHER_FLOATS / f : maxrow;
    if (!p->cg_steps || gcap < ALS_GATHER_MIN) gcap = 0;
    float *gather = malloc((gcap * f * T + 1) * sizeof *gather);
    uint32_t *iota = malloc((gcap + 1) * sizeof *iota);
    if (!m->user_f || !m->item_f || !m->gram || !scratch || !partial || !ub || !ib || !gather || !iota) {
        free(scratch);
        free(partial);
        free(ub);
        free(ib);
        free(gather);
        free(iota);
        return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory for %u factors", f);
    }
    uint64_t rng = ulm__rng_seed(p->seed, 1);
    for (size_t k = 0; k < nu * f; k++) m->user_f[k] = ulm__rng_unit(&rng) * 0.01f;
    for (size_t k = 0; k < ni * f; k++) m->item_f[k] = ulm__rng_unit(&rng) * 0.01f;
    ulm__partition_rows(x->indptr, (uint32_t)nu, f / 2 + 1, T, ub);
    ulm__partition_rows(x->t_indptr, (uint32_t)ni, f / 2 + 1, T, ib);
    als_half h = {.f = f, .alpha = p->alpha, .cg_steps = p->cg_steps, .gram = m->gram, .scratch = scratch,
                  .scratch_per = per, .gather = gather, .gather_cap = gcap, .iota = iota};
    for (size_t k = 0; k < gcap; k++) iota[k] = (uint32_t)k;
    (void)allow_avx2;
#if ALS_X86
    h.avx2 = allow_avx2 && __builtin_cpu_supports("avx2");
#endif
    for (uint32_t it = 0; it < p->iters; it++) {
        gram_of(la, T, m->item_f, ni, f, p->reg, partial, m->gram);
        h.indptr = x->indptr, h.indices = x->indices, h.data = x->data, h.x = m->user_f, h.y = m->item_f;
        h.bounds = ub;
        la->run(la->ud, T, half_task, &h);
        gram_of(la, T, m->user_f, nu, f, p->reg, partial, m->gram);
        h.indptr = x->t_indptr, h.indices = x->t_indices, h.data = x->t_data, h.x = m->item_f, h.y = m->user_f;
        h.bounds = ib;
        la->run(la->ud, T, half_task, &h);
    }
    /* Keep the item Gram matrix (without reg) for folding in new users at scoring time. */
    gram_of(la, T, m->item_f, ni, f, 0.0f, partial, m->gram);
    free(scratch);
    free(partial);
    free(ub);
    free(ib);
    free(gather);
    free(iota);
    for (size_t k = 0; k < ni * f; k++)
        if (!isfinite(m->item_f[k])) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "ALS diverged (non-finite factors)");
    return ULM_OK;
}

ulm_status ulm__als_fold_in(const ulm_rec_model *m, const uint32_t *items, const float *w, size_t n, float *x,
                            float *scratch) {
    uint32_t f = m->factors;
    float *A = scratch, *rhs = scratch + (size_t)f * f;
    memcpy(A, m->gram, (size_t)f * f * sizeof *A);
    for (uint32_t l = 0; l < f; l++) A[(size_t)l * f + l] += m->reg;
    for (uint32_t l = 0; l < f; l++) rhs[l] = 0;
    for (size_t k = 0; k < n; k++) {
        if (items[k] >= m->n_items) continue;
        const float *yi = m->item_f + (size_t)items[k] * f;
        float r = w ? w[k] : 1.0f, c = 1.0f + m->alpha * r;
        for (uint32_t i = 0; i < f; i++) ulm__axpy(A + (size_t)i * f, (c - 1.0f) * yi[i], yi, f);
        ulm__axpy(rhs, c, yi, f);
    }
    if (ulm__chol_solve(A, rhs, f) != 0) {
        for (uint32_t l = 0; l < f; l++) x[l] = 0;
        return ULM_OK;
    }
    memcpy(x, rhs, f * sizeof *x);
    return ULM_OK;
}
