/* churn_encode.c: writes a churn model in the CHRN byte layout (docs/format.md). */
#include <stdlib.h>

#include "churn_impl.h"
#include "ulm/ulm_churn_train.h"

typedef struct wr {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} wr;

static void wr_u32(wr *w, uint32_t v) {
    if (w->oom) return;
    if (w->len + 4 > w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 1024;
        uint8_t *np = realloc(w->p, nc);
        if (!np) {
            w->oom = true;
            return;
        }
        w->p = np;
        w->cap = nc;
    }
    ulm__wr32(w->p + w->len, v);
    w->len += 4;
}
static void wr_f32(wr *w, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    wr_u32(w, u);
}

ulm_status ulm_churn_encode(const ulm_churn *m, uint8_t **buf, size_t *len) {
    if (!m || !buf || !len) return ULM_ERR_MISUSE;
    wr w = {0};
    uint32_t nf = m->n_features;
    wr_u32(&w, m->family);
    wr_u32(&w, nf);
    wr_u32(&w, m->calib);
    wr_u32(&w, m->calib == ULM_CALIB_ISOTONIC ? m->n_iso : 0);
    wr_f32(&w, m->platt_a);
    wr_f32(&w, m->platt_b);
    wr_f32(&w, m->family == ULM_CHURN_LOGREG ? m->bias : m->base);
    wr_u32(&w, 0);
    for (uint32_t f = 0; f < nf; f++) wr_u32(&w, m->kind[f]);
    for (uint32_t f = 0; f < nf; f++) wr_u32(&w, m->n_cats[f]);
    if (m->calib == ULM_CALIB_ISOTONIC) {
        for (uint32_t i = 0; i < m->n_iso; i++) wr_f32(&w, m->iso_x[i]);
        for (uint32_t i = 0; i < m->n_iso; i++) wr_f32(&w, m->iso_y[i]);
    }
    if (m->family == ULM_CHURN_LOGREG) {
        for (uint32_t f = 0; f < nf; f++) wr_f32(&w, m->mean[f]);
        for (uint32_t f = 0; f < nf; f++) wr_f32(&w, m->scale[f]);
        for (uint32_t f = 0; f < nf; f++) wr_f32(&w, m->coef[f]);
        wr_u32(&w, m->n_cat_coef);
        for (uint32_t i = 0; i < m->n_cat_coef; i++) wr_f32(&w, m->cat_coef[i]);
    } else {
        wr_u32(&w, m->n_trees);
        wr_u32(&w, m->n_nodes);
        wr_u32(&w, m->n_cat_words);
        for (uint32_t t = 0; t <= m->n_trees; t++) wr_u32(&w, m->roots[t]);
        for (uint32_t i = 0; i < m->n_nodes; i++) {
            wr_u32(&w, m->nodes[i].feat);
            wr_u32(&w, m->nodes[i].u.cat_off);
            wr_u32(&w, m->nodes[i].left);
            wr_u32(&w, m->nodes[i].right);
        }
        for (uint32_t i = 0; i < m->n_nodes; i++) wr_f32(&w, m->cover[i]);
        for (uint32_t i = 0; i < m->n_cat_words; i++) wr_u32(&w, m->cat_bits[i]);
    }
    if (w.oom) {
        free(w.p);
        return ULM_ERR_NOMEM;
    }
    *buf = w.p;
    *len = w.len;
    return ULM_OK;
}
