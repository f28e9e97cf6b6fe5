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
    const uint32_t *bounds;
    float *scratch;   /* per task: scratch_per floats */
    size_t scratch_per;
} als_half;

/* out = G v for the f x f symmetric matrix G, as a sum of G's rows scaled by v: column blocks
 * of 32 in registers, even and odd rows in separate sums (eight independent vector chains on
 * AVX2, so the loop is bound by FMA throughput, not latency), no horizontal reductions. */
static inline void gemv_sym(const float *g, const float *v, float *out, uint32_t f) {
    uint32_t c = 0;
    for (; c + 32 <= f; c += 32) {
        float e[32] = {0}, o[32] = {0};
        uint32_t j = 0;
        for (; j + 2 <= f; j += 2) {
            const float *r0 = g + (size_t)j * f + c, *r1 = r0 + f;
            float v0 = v[j], v1 = v[j + 1];
            for (int l = 0; l < 32; l++) e[l] += v0 * r0[l];
            for (int l = 0; l < 32; l++) o[l] += v1 * r1[l];
        }
        for (; j < f; j++)
            for (int l = 0; l < 32; l++) e[l] += v[j] * g[(size_t)j * f + c + l];
        for (int l = 0; l < 32; l++) out[c + l] = e[l] + o[l];
    }
    for (; c < f; c++) {
        float acc = 0;
        for (uint32_t j = 0; j < f; j++) acc += v[j] * g[(size_t)j * f + c];
        out[c] = acc;
    }
}

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

/* A few CG steps on one row, warm-started from x (Takacs et al. 2011, Algorithm 2). */
static void solve_cg(const als_half *h, size_t a, size_t b, float *x, float *r, float *p, float *ap) {
    uint32_t f = h->f;
    gemv_sym(h->gram, x, r, f);
    for (uint32_t l = 0; l < f; l++) r[l] = -r[l];
    for (size_t k = a; k < b; k++) {
        const float *yi = h->y + (size_t)h->indices[k] * f;
        float c = 1.0f + h->alpha * h->data[k];
        ulm__axpy(r, c - (c - 1.0f) * dot16(yi, x, f), yi, f);
    }
    memcpy(p, r, f * sizeof *p);
    float rs_old = ulm__dot8(r, r, f);
    if (rs_old < 1e-20f) return;
    for (unsigned it = 0; it < h->cg_steps; it++) {
        gemv_sym(h->gram, p, ap, f);
        for (size_t k = a; k < b; k++) {
            const float *yi = h->y + (size_t)h->indices[k] * f;
            float c1 = h->alpha * h->data[k];
            ulm__axpy(ap, c1 * dot16(yi, p, f), yi, f);
        }
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

static void half_task(void *arg, unsigned t) {
    const als_half *h = arg;
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
            solve_cg(h, a, b, x, s, s + f, s + 2 * f);
        } else {
            float *A = s, *rhs = s + (size_t)f * f;
            normal_equations(h->gram, h->y, h->indices + a, h->data + a, b - a, h->alpha, f, A, rhs);
            if (ulm__chol_solve(A, rhs, f) == 0) memcpy(x, rhs, f * sizeof *x);
        }
    }
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
    size_t per = p->cg_steps ? 3 * (size_t)f : (size_t)f * f + f;
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
