/* recs_als.c: implicit ALS (Hu, Koren & Volinsky 2008) with a conjugate-gradient solver
 * (Takacs, Pilaszy & Tikk 2011) or exact Cholesky.
 *
 * Confidence c = 1 + alpha * r, preference 1 for every stored entry. Each half-step computes
 * the fixed side's Gram matrix Y^T Y once (one GEMM through the linalg table, outside the
 * threads), then solves (Y^T Y + reg I + Y^T (C_u - I) Y) x_u = Y^T C_u p_u for every row on
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

/* out = G v for the f x f symmetric matrix G, as a sum of G's rows scaled by v (column blocks of
 * 16 kept in registers: no horizontal reductions, which dominate 64-long dot products). */
static inline void gemv_sym(const float *g, const float *v, float *out, uint32_t f) {
    uint32_t c = 0;
    for (; c + 16 <= f; c += 16) {
        float acc[16] = {0};
        for (uint32_t j = 0; j < f; j++) {
            const float *row = g + (size_t)j * f + c;
            float vj = v[j];
            for (int l = 0; l < 16; l++) acc[l] += vj * row[l];
        }
        memcpy(out + c, acc, sizeof acc);
    }
    for (; c < f; c++) {
        float acc = 0;
        for (uint32_t j = 0; j < f; j++) acc += v[j] * g[(size_t)j * f + c];
        out[c] = acc;
    }
}

/* A few CG steps on one row, warm-started from x (Takacs et al. 2011, Algorithm 2). */
static void solve_cg(const als_half *h, size_t a, size_t b, float *x, float *r, float *p, float *ap) {
    uint32_t f = h->f;
    gemv_sym(h->gram, x, r, f);
    for (uint32_t l = 0; l < f; l++) r[l] = -r[l];
    for (size_t k = a; k < b; k++) {
        const float *yi = h->y + (size_t)h->indices[k] * f;
        float c = 1.0f + h->alpha * h->data[k];
        ulm__axpy(r, c - (c - 1.0f) * ulm__dot(yi, x, f), yi, f);
    }
    memcpy(p, r, f * sizeof *p);
    float rs_old = ulm__dot(r, r, f);
    if (rs_old < 1e-20f) return;
    for (unsigned it = 0; it < h->cg_steps; it++) {
        gemv_sym(h->gram, p, ap, f);
        for (size_t k = a; k < b; k++) {
            const float *yi = h->y + (size_t)h->indices[k] * f;
            float c1 = h->alpha * h->data[k];
            ulm__axpy(ap, c1 * ulm__dot(yi, p, f), yi, f);
        }
        float pap = ulm__dot(p, ap, f);
        if (!(pap > 0)) return;
        float step = rs_old / pap;
        ulm__axpy(x, step, p, f);
        ulm__axpy(r, -step, ap, f);
        float rs_new = ulm__dot(r, r, f);
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

/* gram = Y^T Y + reg I for Y with n rows. */
static void gram_of(const ulm_linalg *la, const float *y, size_t n, uint32_t f, float reg, float *gram) {
    la->sgemm(la->ud, true, false, f, f, n, 1.0f, y, f, y, f, 0.0f, gram, f);
    /* Exactly symmetric (a blocked GEMM may round the two triangles differently). */
    for (uint32_t i = 0; i < f; i++)
        for (uint32_t j = i + 1; j < f; j++) {
            float a = 0.5f * (gram[(size_t)i * f + j] + gram[(size_t)j * f + i]);
            gram[(size_t)i * f + j] = gram[(size_t)j * f + i] = a;
        }
    for (uint32_t l = 0; l < f; l++) gram[(size_t)l * f + l] += reg;
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
    uint32_t *ub = malloc((T + 1) * sizeof *ub), *ib = malloc((T + 1) * sizeof *ib);
    if (!m->user_f || !m->item_f || !m->gram || !scratch || !ub || !ib) {
        free(scratch);
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
        gram_of(la, m->item_f, ni, f, p->reg, m->gram);
        h.indptr = x->indptr, h.indices = x->indices, h.data = x->data, h.x = m->user_f, h.y = m->item_f;
        h.bounds = ub;
        la->run(la->ud, T, half_task, &h);
        gram_of(la, m->user_f, nu, f, p->reg, m->gram);
        h.indptr = x->t_indptr, h.indices = x->t_indices, h.data = x->t_data, h.x = m->item_f, h.y = m->user_f;
        h.bounds = ib;
        la->run(la->ud, T, half_task, &h);
    }
    /* Keep the item Gram matrix (without reg) for folding in new users at scoring time. */
    la->sgemm(la->ud, true, false, f, f, ni, 1.0f, m->item_f, f, m->item_f, f, 0.0f, m->gram, f);
    free(scratch);
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
