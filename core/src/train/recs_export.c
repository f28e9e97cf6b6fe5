/* recs_export.c: writes a trained recommender into a bundle (RCHD and the sections its algorithm
 * needs; docs/format.md). The loader is core/src/recs_load.c, the scorer core/src/recs_score.c. */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm_bundle.h"
#include "ulm/ulm_rectrain.h"
#include "../quant.h"
#include "../recs_model_impl.h"
#include "../ulm_impl.h"
#include "recs_impl.h"

/* On-disk code of an in-memory algorithm (they coincide today, but only the former is frozen). */
static uint32_t disk_code(ulm_rec_algo a) {
    switch (a) {
    case ULM_REC_ITEMKNN: return ULM__RC_ITEMKNN;
    case ULM_REC_ALS: return ULM__RC_ALS;
    case ULM_REC_BPR: return ULM__RC_BPR;
    case ULM_REC_EASE: return ULM__RC_EASE;
    case ULM_REC_CONTENT: return ULM__RC_CONTENT;
    case ULM_REC_HYBRID: return ULM__RC_HYBRID;
    default: return 0;
    }
}

/* Writes n ids as U16 (compact, when every id fits) or U32 under tag. */
static ulm_status put_ids(ulm_writer *w, const char *tag, const uint32_t *idx, uint32_t e, uint32_t n_items,
                          bool compact) {
    if (!compact || n_items > 65536) return ulm_writer_section(w, tag, ULM_DT_U32, e, 0, 1, 0, idx, (uint64_t)e * 4);
    uint16_t *b = malloc(((size_t)e + 1) * 2);
    if (!b) return ULM_ERR_NOMEM;
    for (uint32_t k = 0; k < e; k++) ulm__wr16((uint8_t *)(b + k), (uint16_t)idx[k]);
    ulm_status s = ulm_writer_section(w, tag, ULM_DT_U16, e, 0, 1, 0, b, (uint64_t)e * 2);
    free(b);
    return s;
}

/* Writes rows x max(cols,1) floats as F16 (when compact and every value fits) or F32 under tag. */
static ulm_status put_floats(ulm_writer *w, const char *tag, const float *v, uint32_t rows, uint32_t cols,
                             bool compact) {
    size_t n = (size_t)rows * (cols ? cols : 1);
    for (size_t k = 0; compact && k < n; k++) compact = fabsf(v[k]) <= 65504.0f;
    if (!compact) return ulm_writer_section(w, tag, ULM_DT_F32, rows, cols, 1, 0, v, (uint64_t)n * 4);
    uint16_t *b = malloc((n + 1) * 2);
    if (!b) return ULM_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) ulm__wr16((uint8_t *)(b + k), ulm__f16_from_f32(v[k]));
    ulm_status s = ulm_writer_section(w, tag, ULM_DT_F16, rows, cols, 1, 0, b, (uint64_t)n * 2);
    free(b);
    return s;
}

/* RCIF in the format q: F32, F16, or Q8_ROW (int8 rows padded to 64 bytes, then the f32 scales). */
static ulm_status put_factors(ulm_writer *w, const float *y, uint32_t n, uint32_t f, ulm_rec_quant q) {
    if (q != ULM_REC_QUANT_INT8) return put_floats(w, "RCIF", y, n, f, q == ULM_REC_QUANT_FP16);
    size_t stride = ulm__q8_stride(f), size = (size_t)n * (stride + 4);
    uint8_t *b = malloc(size + 1);
    if (!b) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        float sc = ulm__q8_row(y + (size_t)i * f, f, stride, (int8_t *)(b + (size_t)i * stride));
        ulm__wrf32(b + (size_t)n * stride + 4 * (size_t)i, sc);
    }
    ulm_status s = ulm_writer_section(w, "RCIF", ULM_DT_Q8_ROW, n, f, 1, 0, b, size);
    free(b);
    return s;
}

/* Writes one neighbour-list triple from CSR arrays (size_t offsets) under tags to/ti/tw. */
static ulm_status put_nb(ulm_writer *w, const char *to, const char *ti, const char *tw, uint32_t n,
                         const size_t *ptr, const uint32_t *idx, const float *wt, bool compact) {
    if (ptr[n] > UINT32_MAX) return ULM_ERR_RANGE;
    uint32_t *off = malloc(((size_t)n + 1) * sizeof *off);
    if (!off) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i <= n; i++) off[i] = (uint32_t)(ptr[i] - ptr[0]);
    uint32_t e = off[n];
    ulm_status s = ulm_writer_section(w, to, ULM_DT_U32, n + 1, 0, 1, 0, off, ((uint64_t)n + 1) * 4);
    if (s == ULM_OK) s = put_ids(w, ti, idx + ptr[0], e, n, compact);
    if (s == ULM_OK) s = put_floats(w, tw, wt + ptr[0], e, 0, compact);
    free(off);
    return s;
}

/* EASE: the `keep` largest entries of each row of B (non-zero, off the diagonal), best first. */
static ulm_status put_ease(ulm_writer *w, const ulm_rec_model *m, uint32_t keep, bool compact) {
    uint32_t n = m->n_items;
    if (keep > n) keep = n;
    size_t *ptr = malloc(((size_t)n + 1) * sizeof *ptr);
    uint32_t *idx = malloc(((size_t)n * keep + 1) * sizeof *idx);
    float *wt = malloc(((size_t)n * keep + 1) * sizeof *wt);
    float *hs = malloc(((size_t)keep + 1) * sizeof *hs);
    uint32_t *hi = malloc(((size_t)keep + 1) * sizeof *hi);
    ulm_status s = ULM_ERR_NOMEM;
    if (ptr && idx && wt && hs && hi) {
        size_t at = 0;
        for (uint32_t i = 0; i < n; i++) {
            const float *row = m->dense + (size_t)i * n;
            uint32_t size = 0;
            for (uint32_t j = 0; j < n; j++)
                if (j != i && row[j] != 0) size = ulm__heap_push(hs, hi, size, keep, row[j], j);
            ulm__heap_sort(hs, hi, size);
            ptr[i] = at;
            memcpy(idx + at, hi, size * sizeof *hi);
            memcpy(wt + at, hs, size * sizeof *hs);
            at += size;
        }
        ptr[n] = at;
        s = put_nb(w, "RCNO", "RCNI", "RCNW", n, ptr, idx, wt, compact);
    }
    free(ptr), free(idx), free(wt), free(hs), free(hi);
    return s;
}

ulm_status ulm_rec_model_export(const ulm_rec_model *m, float hist_weight, uint32_t ease_keep, ulm_writer *w,
                                ulm_diag *diag) {
    return ulm_rec_model_export_q(m, hist_weight, ease_keep, ULM_REC_QUANT_NONE, w, diag);
}

ulm_status ulm_rec_model_export_q(const ulm_rec_model *m, float hist_weight, uint32_t ease_keep, ulm_rec_quant q,
                                  ulm_writer *w, ulm_diag *diag) {
    return ulm_rec_model_export_c(m, hist_weight, ease_keep, q, false, w, diag);
}

/* The symmetric f x f matrix g as its upper triangle, row by row (RCGT: f(f+1)/2 values). */
static ulm_status put_gram_triangle(ulm_writer *w, const float *g, uint32_t f) {
    size_t n = (size_t)f * (f + 1) / 2, k = 0;
    float *t = malloc((n + 1) * sizeof *t);
    if (!t) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < f; i++)
        for (uint32_t j = i; j < f; j++) t[k++] = g[(size_t)i * f + j];
    ulm_status s = ulm_writer_section(w, "RCGT", ULM_DT_F32, (uint32_t)n, 0, 1, ULM_SECTION_REQUIRED, t, (uint64_t)n * 4);
    free(t);
    return s;
}

ulm_status ulm_rec_model_export_c(const ulm_rec_model *m, float hist_weight, uint32_t ease_keep, ulm_rec_quant q,
                                  bool gram_triangle, ulm_writer *w, ulm_diag *diag) {
    bool compact = q != ULM_REC_QUANT_NONE;
    if (q != ULM_REC_QUANT_NONE && q != ULM_REC_QUANT_INT8 && q != ULM_REC_QUANT_FP16) return ULM_ERR_MISUSE;
    uint32_t code = disk_code(m->algo), n = m->n_items, f = m->factors;
    if (!code) return ULM_OK; /* popularity: POPR is the whole model */
    if (!isfinite(hist_weight) || hist_weight < 0 || ease_keep == 0)
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "history weight must be finite and >= 0, EASE entries >= 1");
    uint8_t hd[ULM__RCHD_SIZE] = {0};
    bool factor_model = m->algo == ULM_REC_ALS || m->algo == ULM_REC_BPR;
    ulm__wr32(hd + ULM__RCHD_ALGO, code);
    ulm__wr32(hd + ULM__RCHD_ITEMS, n);
    ulm__wr32(hd + ULM__RCHD_FACTORS, factor_model ? f : 0);
    ulm__wr32(hd + ULM__RCHD_COLD, m->algo == ULM_REC_HYBRID ? m->cold_events : 0);
    ulm__wrf32(hd + ULM__RCHD_ALPHA, m->algo == ULM_REC_ALS ? m->alpha : 0.0f);
    ulm__wrf32(hd + ULM__RCHD_HIST_W, m->algo == ULM_REC_ALS ? hist_weight : 0.0f);
    if (m->algo == ULM_REC_HYBRID) { /* the blend of ulm_rec_score (recs_common.c) */
        ulm__wrf32(hd + ULM__RCHD_WC_WARM, 0.05f);
        ulm__wrf32(hd + ULM__RCHD_WP_WARM, 0.01f);
        ulm__wrf32(hd + ULM__RCHD_WC_COLD, 0.5f);
        ulm__wrf32(hd + ULM__RCHD_WP_COLD, 0.5f);
    }
    ulm_status s = ulm_writer_section(w, "RCHD", ULM_DT_BYTES, 1, 0, 1, 0, hd, sizeof hd);
    switch (m->algo) {
    case ULM_REC_ALS: {
        float *g = malloc(((size_t)f * f + 1) * sizeof *g);
        if (!g) return ULM_ERR_NOMEM;
        /* Y^T Y + reg I, exactly symmetric (the loader insists). */
        for (uint32_t i = 0; i < f; i++)
            for (uint32_t j = 0; j < f; j++)
                g[(size_t)i * f + j] = 0.5f * (m->gram[(size_t)i * f + j] + m->gram[(size_t)j * f + i]);
        for (uint32_t i = 0; i < f; i++) g[(size_t)i * f + i] += m->reg;
        if (s == ULM_OK) s = put_factors(w, m->item_f, n, f, q);
        if (s == ULM_OK && gram_triangle) s = put_gram_triangle(w, g, f);
        else if (s == ULM_OK) s = ulm_writer_section(w, "RCGR", ULM_DT_F32, f, f, 1, 0, g, (uint64_t)f * f * 4);
        free(g);
        break;
    }
    case ULM_REC_BPR:
        if (s == ULM_OK) s = put_factors(w, m->item_f, n, f, q);
        if (s == ULM_OK) s = ulm_writer_section(w, "RCIB", ULM_DT_F32, n, 0, 1, 0, m->item_bias, (uint64_t)n * 4);
        break;
    case ULM_REC_EASE:
        if (s == ULM_OK) s = put_ease(w, m, ease_keep, compact);
        break;
    case ULM_REC_HYBRID: {
        const ulm_rec_model *a = &m->parts[0], *b = &m->parts[1];
        if (s == ULM_OK) s = put_nb(w, "RCNO", "RCNI", "RCNW", n, a->nb_ptr, a->nb_idx, a->nb_w, compact);
        if (s == ULM_OK) s = put_nb(w, "RCCO", "RCCI", "RCCW", n, b->nb_ptr, b->nb_idx, b->nb_w, compact);
        if (s == ULM_OK) s = ulm_writer_section(w, "RCPP", ULM_DT_F32, n, 0, 1, 0, m->pop, (uint64_t)n * 4);
        break;
    }
    default: /* item-kNN, content */
        if (s == ULM_OK) s = put_nb(w, "RCNO", "RCNI", "RCNW", n, m->nb_ptr, m->nb_idx, m->nb_w, compact);
        break;
    }
    if (s != ULM_OK) return ulm__fail(diag, s, NULL, 0, "writing the recommender failed: %s", ulm_status_str(s));
    return ULM_OK;
}
