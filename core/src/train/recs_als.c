/* recs_als.c: implicit ALS (Hu, Koren & Volinsky 2008) with a conjugate-gradient solver
 * (Takacs, Pilaszy & Tikk 2011) or exact Cholesky.
 *
 * Confidence c = 1 + alpha * r, preference 1 for every stored entry. Each half-step computes
 * the fixed side's Gram matrix Y^T Y once (on the same tasks, in fixed row chunks, so any thread
 * count gives the same sums), then solves (Y^T Y + reg I + Y^T (C_u - I) Y) x_u = Y^T C_u p_u for every row on
 * `threads` tasks with static, nnz-balanced row ranges and per-task scratch. CG starts from the
 * previous x_u (warm start), so a few steps per sweep suffice. Each row's arithmetic is fixed,
 * so results do not depend on the thread count. */
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
} als_half;

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

/* ---- per-row CG kernels ----------------------------------------------------------------------
 *
 * The hot loops run on 8-float vectors (GCC/Clang vector extensions: two SSE2 registers each in
 * the baseline x86-64 build, one AVX2 register in the AVX2 build of the row loop, picked once
 * per run on CPUs that have it; plain loops elsewhere). Every output element is summed in the
 * same order by every build (no FMA contraction: products round before the sums), so all
 * builds give the same bits. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__EMSCRIPTEN__)
#define ALS_X86 1
#else
#define ALS_X86 0
#endif
#if defined(__GNUC__)
#define ALS_INLINE static inline __attribute__((always_inline))
typedef float als_v8 __attribute__((vector_size(32)));
/* An unaligned load (a macro: a function returning a vector would warn about the AVX ABI). */
#define ALS_LD(p) (__extension__({                                                                                     \
    als_v8 v_;                                                                                                         \
    memcpy(&v_, (p), sizeof v_);                                                                                       \
    v_;                                                                                                                \
}))
/* acc[q] (q < NV, 8 floats each) = sum over the G rows then the factor rows, columns [c, c + 8 NV). */
#define ALS_COMBO_COLS(NV)                                                                                             \
    do {                                                                                                               \
        als_v8 acc[NV];                                                                                                \
        for (int q = 0; q < (NV); q++) acc[q] = (als_v8){0};                                                           \
        for (uint32_t j = 0; j < f; j++) {                                                                             \
            const float *row = g + (size_t)j * f + c;                                                                  \
            als_v8 aj = (als_v8){0} + a[j];                                                                            \
            for (int q = 0; q < (NV); q++) acc[q] += aj * ALS_LD(row + 8 * q);                                         \
        }                                                                                                              \
        for (size_t k = 0; k < n; k++) {                                                                               \
            const float *row = y + (size_t)idx[k] * f + c;                                                             \
            als_v8 sk = (als_v8){0} + s[k];                                                                            \
            for (int q = 0; q < (NV); q++) acc[q] += sk * ALS_LD(row + 8 * q);                                         \
        }                                                                                                              \
        memcpy(out + c, acc, sizeof acc);                                                                              \
    } while (0)
#else
#define ALS_INLINE static inline
#endif

/* out = G a + sum_k s_k y[idx_k] for the f x f symmetric G (G a as the sum of G's rows scaled by
 * a): per column block one pass over G's rows and the row's factor rows, accumulators in
 * registers (64 columns on AVX2, 32 on SSE2), out written once. */
ALS_INLINE void combo(float *out, const float *g, const float *a, uint32_t f, const float *y, const uint32_t *idx,
                      const float *s, size_t n, int wide) {
    uint32_t c = 0;
#if defined(__GNUC__)
    if (wide)
        for (; c + 64 <= f; c += 64) ALS_COMBO_COLS(8);
    for (; c + 32 <= f; c += 32) ALS_COMBO_COLS(4);
    for (; c + 8 <= f; c += 8) ALS_COMBO_COLS(1);
#endif
    for (; c < f; c++) {
        float acc = 0;
        for (uint32_t j = 0; j < f; j++) acc += a[j] * g[(size_t)j * f + c];
        for (size_t k = 0; k < n; k++) acc += s[k] * y[(size_t)idx[k] * f + c];
        out[c] = acc;
    }
}

/* t[k] = y[idx_k] . v for k < n, each exactly as dot16 sums it. */
ALS_INLINE void dots(float *t, const float *y, const uint32_t *idx, size_t n, const float *v, uint32_t f) {
    size_t k = 0;
#if defined(__GNUC__)
    uint32_t f16 = f & ~15u;
    for (; k + 2 <= n; k += 2) {
        const float *a = y + (size_t)idx[k] * f, *b = y + (size_t)idx[k + 1] * f;
        als_v8 a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
        for (uint32_t j = 0; j < f16; j += 16) {
            als_v8 v0 = ALS_LD(v + j), v1 = ALS_LD(v + j + 8);
            a0 += ALS_LD(a + j) * v0, a1 += ALS_LD(a + j + 8) * v1;
            b0 += ALS_LD(b + j) * v0, b1 += ALS_LD(b + j + 8) * v1;
        }
        als_v8 ea = a0 + a1, eb = b0 + b1;
        float sa = ((ea[0] + ea[4]) + (ea[1] + ea[5])) + ((ea[2] + ea[6]) + (ea[3] + ea[7]));
        float sb = ((eb[0] + eb[4]) + (eb[1] + eb[5])) + ((eb[2] + eb[6]) + (eb[3] + eb[7]));
        for (uint32_t j = f16; j < f; j++) sa += a[j] * v[j], sb += b[j] * v[j];
        t[k] = sa, t[k + 1] = sb;
    }
#endif
    for (; k < n; k++) t[k] = dot16(y + (size_t)idx[k] * f, v, f);
}

/* A few CG steps on one row, warm-started from x (Takacs et al. 2011, Algorithm 2). s holds
 * 4 f + 2 n floats. */
ALS_INLINE void solve_cg(const als_half *h, size_t a, size_t b, float *x, float *s, int wide) {
    uint32_t f = h->f;
    size_t n = b - a;
    const uint32_t *idx = h->indices + a;
    const float *d = h->data + a, *y = h->y;
    float *r = s, *p = r + f, *ap = p + f, *nx = ap + f, *t = nx + f, *w = t + n;
    /* r = b - A x = sum_k (c_k - (c_k - 1) y_k.x) y_k - G x, with c_k = 1 + alpha d_k. */
    dots(t, y, idx, n, x, f);
    for (size_t k = 0; k < n; k++) {
        float c1 = h->alpha * d[k];
        w[k] = (1.0f + c1) - c1 * t[k];
    }
    for (uint32_t l = 0; l < f; l++) nx[l] = -x[l];
    combo(r, h->gram, nx, f, y, idx, w, n, wide);
    memcpy(p, r, f * sizeof *p);
    float rs_old = ulm__dot8(r, r, f);
    if (rs_old < 1e-20f) return;
    for (unsigned it = 0; it < h->cg_steps; it++) {
        /* ap = A p = G p + sum_k (c_k - 1) (y_k.p) y_k */
        dots(t, y, idx, n, p, f);
        for (size_t k = 0; k < n; k++) w[k] = h->alpha * d[k] * t[k];
        combo(ap, h->gram, p, f, y, idx, w, n, wide);
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

ALS_INLINE void half_rows(const als_half *h, unsigned t, int wide) {
    uint32_t f = h->f;
    float *s = h->scratch + t * h->scratch_per;
    for (uint32_t u = h->bounds[t]; u < h->bounds[t + 1]; u++) {
        float *x = h->x + (size_t)u * f;
        size_t a = h->indptr[u], b = h->indptr[u + 1];
        if (a == b) {
            for (uint32_t l = 0; l < f; l++) x[l] = 0;
            continue;
        }
        if (h->cg_steps) {
            solve_cg(h, a, b, x, s, wide);
        } else {
            float *A = s, *rhs = s + (size_t)f * f;
            normal_equations(h->gram, h->y, h->indices + a, h->data + a, b - a, h->alpha, f, A, rhs);
            if (ulm__chol_solve(A, rhs, f) == 0) memcpy(x, rhs, f * sizeof *x);
        }
    }
}

static void half_rows_base(const als_half *h, unsigned t) { half_rows(h, t, 0); }
#if ALS_X86
/* The same code compiled for AVX2 (no FMA: products and sums round as in the baseline). */
__attribute__((target("avx2"))) static void half_rows_avx2(const als_half *h, unsigned t) { half_rows(h, t, 1); }
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
    if (!m->user_f || !m->item_f || !m->gram || !scratch || !partial || !ub || !ib) {
        free(scratch);
        free(partial);
        free(ub);
        free(ib);
        return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory for %u factors", f);
    }
    uint64_t rng = ulm__rng_seed(p->seed, 1);
    for (size_t k = 0; k < nu * f; k++) m->user_f[k] = ulm__rng_unit(&rng) * 0.01f;
    for (size_t k = 0; k < ni * f; k++) m->item_f[k] = ulm__rng_unit(&rng) * 0.01f;
    ulm__partition_rows(x->indptr, (uint32_t)nu, f / 2 + 1, T, ub);
    ulm__partition_rows(x->t_indptr, (uint32_t)ni, f / 2 + 1, T, ib);
    als_half h = {.f = f, .alpha = p->alpha, .cg_steps = p->cg_steps, .gram = m->gram, .scratch = scratch,
                  .scratch_per = per};
#if ALS_X86
    h.avx2 = __builtin_cpu_supports("avx2") != 0;
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
