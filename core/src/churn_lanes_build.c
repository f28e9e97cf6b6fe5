/* churn_lanes_build.c: the lane form of the complete trees (lane_nodes, see churn_impl.h), built at load from
 * the packed nodes when the model fits it: depth <= ULM__LANES_DEPTH, every used numeric feature with at most
 * 255 thresholds (bins fit a byte), categories below 256, at most 64 slots, and AVX2 on this machine.
 * Otherwise (and always in the wasm builds) nothing is built and the other forms score. */
#include <math.h>

#include "churn_impl.h"

#if ULM__LANES
ulm_status ulm__churn_lanes_build(ulm_churn *m) {
    uint32_t W = ulm__churn_lanes_width(), nf = m->n_features, D = m->fast_depth;
    uint32_t n_num = m->bin_class[16], n_cat = m->n_cat_blocks;
    if (!W || !D || D > ULM__LANES_DEPTH || m->bin_class[8] != n_num) return ULM_OK;
    for (uint32_t c = 0; c < n_cat; c++) /* the categorical features some split tests: codes fit a byte */
        if (m->n_cats[m->cat_feat[c]] > 256) return ULM_OK;
    uint32_t S = n_num + n_cat, T = S ? (S + 15) / 16 : 1, ni = (1u << D) - 1, groups = (m->n_trees + W - 1) / W;
    if (S > 64) return ULM_OK;
    uint32_t n_thr = 0;
    for (uint32_t e = 0; e < n_num; e++) {
        uint32_t f = m->plan_feat[e];
        n_thr += 16 + 16 * ((m->bin_off[f + 1] - m->bin_off[f]) / 16 + 1);
    }
    m->lane_thr_off = ulm__alloc(m->alloc, ((size_t)n_num + 1) * sizeof *m->lane_thr_off);
    m->lane_thr = ulm__alloc(m->alloc, ((size_t)n_thr + 1) * sizeof *m->lane_thr);
    uint32_t *slot = ulm__alloc(m->alloc, ((size_t)nf + 1) * sizeof *slot); /* feature -> its slot */
    m->lane_nodes = ulm__alloc(m->alloc, (size_t)groups * ni * 2 * W);
    if (!slot || !m->lane_nodes || !m->lane_thr_off || !m->lane_thr) {
        ulm__free(m->alloc, slot, 0);
        return ULM_ERR_NOMEM; /* the others are freed with the model */
    }
    for (uint32_t e = 0, o = 0; e < n_num; e++) { /* pivots, then the thresholds, padded with +inf */
        uint32_t f = m->plan_feat[e], n = m->bin_off[f + 1] - m->bin_off[f], padded = 16 * (n / 16 + 1);
        const float *t = m->bin_thr + m->bin_off[f];
        slot[f] = e;
        m->lane_thr_off[e] = o;
        for (uint32_t j = 0; j < 16; j++) m->lane_thr[o + j] = 16 * j + 15 < n ? t[16 * j + 15] : INFINITY;
        for (uint32_t k = 0; k < padded; k++) m->lane_thr[o + 16 + k] = k < n ? t[k] : INFINITY;
        o += 16 + padded;
    }
    for (uint32_t c = 0; c < n_cat; c++) slot[m->cat_feat[c]] = n_num + c;
    for (uint32_t g = 0; g < groups; g++)
        for (uint32_t i = 0; i < ni; i++) {
            uint8_t *nd = m->lane_nodes + ((size_t)g * ni + i) * 2 * W;
            for (uint32_t lane = 0; lane < W; lane++) { /* lanes past the last tree: padding nodes */
                uint32_t t = g * W + lane, w = t < m->n_trees ? m->fast_nodes[(size_t)t * ni + i] : 0xFFFFu << 16;
                uint32_t j = w & 0xFFFF, k = w >> 16, a = 0, b = 255; /* padding: always left */
                if (k != 0xFFFF && j < nf) a = slot[j], b = k;                   /* left when bin <= k */
                else if (k != 0xFFFF) /* a category pair: left when the code is the pair's */
                    a = slot[m->ext_pair[j - nf] >> 16] | 64, b = m->ext_pair[j - nf] & 0xFFFF;
                nd[lane] = (uint8_t)a;
                nd[W + lane] = (uint8_t)b;
            }
        }
    ulm__free(m->alloc, slot, 0);
    m->lane_tables = T;
    return ULM_OK;
}
#else
ulm_status ulm__churn_lanes_build(ulm_churn *m) {
    (void)m;
    return ULM_OK;
}
#endif
