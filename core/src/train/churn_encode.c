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

/* Tree t's nodes from model node i in preorder: one pass writes the packed words (what 0), the covers (1) or
 * the leaf values (2). */
static void wr_pre(wr *w, const ulm_churn *m, uint32_t i, int what) {
    const ulm__tnode *n = &m->nodes[i];
    bool leaf = (n->feat & ULM__TN_LEAF) != 0;
    if (what == 0)
        wr_u32(w, leaf ? ULM__PK_LEAF : ((n->feat & ULM__TN_DLEFT) ? ULM__PK_DLEFT : 0) | ulm__churn_pack_split(m, n));
    else if (what == 1) wr_f32(w, m->cover[i]);
    else if (leaf) wr_f32(w, n->u.value);
    if (leaf) return;
    wr_pre(w, m, n->left, what);
    wr_pre(w, m, n->right, what);
}

ulm_status ulm__churn_encode_layout(const ulm_churn *m, bool packed, uint8_t **buf, size_t *len) {
    if (!m || !buf || !len) return ULM_ERR_MISUSE;
    wr w = {0};
    uint32_t nf = m->n_features;
    packed = packed && m->family == ULM_CHURN_GBDT && m->fast_depth != 0;
    wr_u32(&w, m->family);
    wr_u32(&w, nf);
    wr_u32(&w, m->calib);
    wr_u32(&w, m->calib == ULM_CALIB_ISOTONIC ? m->n_iso : 0);
    wr_f32(&w, m->platt_a);
    wr_f32(&w, m->platt_b);
    wr_f32(&w, m->family == ULM_CHURN_LOGREG ? m->bias : m->base);
    wr_u32(&w, packed ? 1 : 0); /* layout */
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
    } else if (packed) {
        uint32_t np = m->n_ext - nf, nthr = m->bin_off[nf];
        wr_u32(&w, m->n_trees);
        wr_u32(&w, m->n_nodes);
        wr_u32(&w, np);
        wr_u32(&w, nthr);
        for (uint32_t k = 0; k < np; k++) wr_u32(&w, m->ext_pair[k]);
        for (uint32_t f = 0; f <= nf; f++) wr_u32(&w, m->bin_off[f]);
        for (uint32_t k = 0; k < nthr; k++) wr_f32(&w, m->bin_thr[k]);
        for (uint32_t t = 0; t <= m->n_trees; t++) wr_u32(&w, m->roots[t]); /* every node of a tree is reachable */
        for (int what = 0; what < 3; what++)
            for (uint32_t t = 0; t < m->n_trees; t++) wr_pre(&w, m, m->roots[t], what);
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

ulm_status ulm_churn_encode(const ulm_churn *m, uint8_t **buf, size_t *len) {
    return ulm__churn_encode_layout(m, true, buf, len);
}
