/* recs_bpr.c: Bayesian personalised ranking (Rendle et al. 2009) with lock-free parallel SGD.
 *
 * Each epoch draws nnz (user, positive, negative) triples: the positive is a uniformly drawn
 * stored entry, the negative a uniformly drawn item the user has not met (up to 8 redraws).
 * Tasks update the shared factors without locks (Hogwild: collisions are rare and harmless at
 * this sparsity), so results are reproducible only with one thread. The learning rate adapts
 * per epoch by the bold-driver rule: x1.05 while the share of correctly ordered sampled pairs
 * improves, x0.5 when it drops. */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm_rectrain.h"
#include "../ulm_impl.h"
#include "recs_impl.h"

typedef struct bpr_ctx {
    const ulm_imatrix *x;
    const uint32_t *entry_user; /* per stored entry: its user */
    float *u_f, *i_f, *bias;
    uint32_t f;
    float lr, reg;
    size_t samples;      /* per task */
    uint64_t seed, epoch;
    size_t *correct;     /* per task */
} bpr_ctx;

/* True when item is in the user's (ascending) row. */
static int in_row(const ulm_imatrix *x, uint32_t u, uint32_t item) {
    size_t a = x->indptr[u], b = x->indptr[u + 1];
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (x->indices[mid] < item) a = mid + 1;
        else b = mid;
    }
    return a < x->indptr[u + 1] && x->indices[a] == item;
}

static void bpr_task(void *arg, unsigned t) {
    const bpr_ctx *c = arg;
    const ulm_imatrix *x = c->x;
    uint32_t f = c->f;
    uint64_t rng = ulm__rng_seed(c->seed, (c->epoch << 16) ^ t ^ 0xB9B);
    size_t correct = 0;
    for (size_t s = 0; s < c->samples; s++) {
        size_t e = (size_t)(ulm__rng_next(&rng) % x->nnz);
        uint32_t u = c->entry_user[e], i = x->indices[e], j = 0;
        int ok = 0;
        for (int tries = 0; tries < 8 && !ok; tries++) {
            j = (uint32_t)(ulm__rng_next(&rng) % x->n_items);
            ok = !in_row(x, u, j);
        }
        if (!ok) continue;
        float *wu = c->u_f + (size_t)u * f, *hi = c->i_f + (size_t)i * f, *hj = c->i_f + (size_t)j * f;
        float xuij = c->bias[i] - c->bias[j];
        for (uint32_t l = 0; l < f; l++) xuij += wu[l] * (hi[l] - hj[l]);
        correct += xuij > 0;
        float z = 1.0f / (1.0f + expf(xuij)), lr = c->lr, reg = c->reg;
        c->bias[i] += lr * (z - reg * c->bias[i]);
        c->bias[j] += lr * (-z - reg * c->bias[j]);
        for (uint32_t l = 0; l < f; l++) {
            float w = wu[l], a = hi[l], b = hj[l];
            wu[l] += lr * (z * (a - b) - reg * w);
            hi[l] += lr * (z * w - reg * a);
            hj[l] += lr * (-z * w - reg * b);
        }
    }
    c->correct[t] = correct;
}

ulm_status ulm__train_bpr(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                          ulm_diag *diag) {
    uint32_t f = p->factors, T = p->threads;
    size_t nu = x->n_users, ni = x->n_items;
    m->factors = f;
    m->user_f = malloc((nu * f + 1) * sizeof *m->user_f);
    m->item_f = malloc((ni * f + 1) * sizeof *m->item_f);
    m->item_bias = calloc(ni + 1, sizeof *m->item_bias);
    uint32_t *eu = malloc((x->nnz + 1) * sizeof *eu);
    size_t *correct = calloc(T, sizeof *correct);
    if (!m->user_f || !m->item_f || !m->item_bias || !eu || !correct) {
        free(eu);
        free(correct);
        return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory for %u factors", f);
    }
    for (uint32_t u = 0; u < nu; u++)
        for (size_t k = x->indptr[u]; k < x->indptr[u + 1]; k++) eu[k] = u;
    uint64_t rng = ulm__rng_seed(p->seed, 2);
    for (size_t k = 0; k < nu * f; k++) m->user_f[k] = (ulm__rng_unit(&rng) - 0.5f) / (float)f;
    for (size_t k = 0; k < ni * f; k++) m->item_f[k] = (ulm__rng_unit(&rng) - 0.5f) / (float)f;
    bpr_ctx c = {.x = x, .entry_user = eu, .u_f = m->user_f, .i_f = m->item_f, .bias = m->item_bias, .f = f,
                 .lr = p->lr, .reg = p->reg, .samples = (x->nnz + T - 1) / T, .seed = p->seed, .correct = correct};
    double prev = -1;
    for (uint32_t e = 0; e < p->iters; e++) {
        c.epoch = e;
        la->run(la->ud, T, bpr_task, &c);
        size_t ok = 0;
        for (unsigned t = 0; t < T; t++) ok += correct[t];
        double share = (double)ok / (double)(c.samples * T);
        if (prev >= 0) c.lr *= share >= prev ? 1.05f : 0.5f;
        prev = share;
    }
    free(eu);
    free(correct);
    for (size_t k = 0; k < ni * f; k++)
        if (!isfinite(m->item_f[k])) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "BPR diverged (lower --lr)");
    return ULM_OK;
}
