/* recs_ease.c: EASE (Steck 2019): B = I - P diag(1/diag(P)), P = (X^T X + lambda I)^-1, diag(B) = 0.
 *
 * The Gram matrix is a sparse product (sum over users of the outer product of their rows),
 * built in float32 by item-row ranges on threads; the inverse is the table's SPD inverse
 * (OpenBLAS spotrf + spotri natively: a third of a general inverse's flops, half the bytes). */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm_rectrain.h"
#include "../ulm_impl.h"
#include "recs_impl.h"

typedef struct gram_ctx {
    const ulm_imatrix *x;
    float *g;
    const uint32_t *bounds;
} gram_ctx;

/* G rows [bounds[t], bounds[t+1]): G[i][j] = sum over users u of x_ui x_uj. */
static void gram_task(void *arg, unsigned t) {
    const gram_ctx *c = arg;
    const ulm_imatrix *x = c->x;
    size_t n = x->n_items;
    for (uint32_t i = c->bounds[t]; i < c->bounds[t + 1]; i++) {
        float *row = c->g + (size_t)i * n;
        for (size_t k = x->t_indptr[i]; k < x->t_indptr[i + 1]; k++) {
            uint32_t u = x->t_indices[k];
            float xi = x->t_data[k];
            for (size_t q = x->indptr[u]; q < x->indptr[u + 1]; q++) row[x->indices[q]] += xi * x->data[q];
        }
    }
}

ulm_status ulm__train_ease(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                           ulm_diag *diag) {
    size_t n = x->n_items;
    if (n > ULM_EASE_MAX_ITEMS)
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0,
                         "EASE needs a dense %zu x %zu inverse; catalogues above %u items are refused "
                         "(use als or itemknn)",
                         n, n, ULM_EASE_MAX_ITEMS);
    float *g = calloc(n * n + 1, sizeof *g);
    size_t *cost = malloc((n + 1) * sizeof *cost);
    uint32_t *bounds = malloc((p->threads + 1) * sizeof *bounds);
    if (!g || !cost || !bounds) {
        free(g);
        free(cost);
        free(bounds);
        return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory for the %zu x %zu Gram matrix", n, n);
    }
    cost[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        for (size_t k = x->t_indptr[i]; k < x->t_indptr[i + 1]; k++) {
            uint32_t u = x->t_indices[k];
            c += x->indptr[u + 1] - x->indptr[u];
        }
        cost[i + 1] = cost[i] + c;
    }
    ulm__partition_rows(cost, (uint32_t)n, 0, p->threads, bounds);
    gram_ctx c = {x, g, bounds};
    la->run(la->ud, p->threads, gram_task, &c);
    free(cost);
    free(bounds);
    for (size_t i = 0; i < n; i++) g[i * n + i] += p->lambda;
    if (la->spd_inverse(la->ud, g, n) != 0) {
        free(g);
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "the regularised Gram matrix is not positive definite");
    }
    /* B[i][j] = -P[i][j] / P[j][j] off the diagonal, 0 on it. */
    float *inv_diag = malloc((n + 1) * sizeof *inv_diag);
    if (!inv_diag) {
        free(g);
        return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    }
    for (size_t j = 0; j < n; j++) inv_diag[j] = -1.0f / g[j * n + j];
    for (size_t i = 0; i < n; i++) {
        float *row = g + i * n;
        for (size_t j = 0; j < n; j++) row[j] *= inv_diag[j];
        row[i] = 0;
    }
    free(inv_diag);
    for (size_t k = 0; k < n * n; k++)
        if (!isfinite(g[k])) {
            free(g);
            return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "EASE weights are not finite (lambda too small?)");
        }
    m->dense = g;
    return ULM_OK;
}
