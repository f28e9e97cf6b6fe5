/* recs_rules.c: the data behind the recommender's business rules: learned repurchase cycles
 * (RCRP, docs/format.md) and item categories (the profiler's PFCT/PFCN). Scoring applies them in
 * recs_score.c. */
#include <math.h>

#include "profile_impl.h"
#include "ulm/ulm_bundle.h"
#include "ulm/ulm_dict.h"
#include "ulm/ulm_recommend.h"
#include "ulm_impl.h"
#include "ulm_model_impl.h"

/* RCRS (`ulm train --compact`): a bit per item (bit i % 8 of byte i / 8; set = the item has a cycle),
 * zero padding to four bytes, then the f32 days of the set items in item order; the rest have none. */
static ulm_status load_sparse(ulm_model *m, const ulm_section *s, ulm_diag *diag) {
    uint64_t n = m->n_items, k = s->rows, at = ((n + 7) / 8 + 3) & ~(uint64_t)3;
    if (s->dtype != ULM_DT_BYTES || k > n || s->size != at + 4 * k)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCRS", s->offset, "section RCRS has dtype %u, %u rows and %llu bytes",
                         s->dtype, s->rows, (unsigned long long)s->size);
    uint64_t set = 0;
    for (uint64_t b = 0; b < at; b++) {
        uint8_t v = s->data[b];
        if (b * 8 + 8 > n && (v >> (n > b * 8 ? n - b * 8 : 0)))
            return ulm__fail(diag, ULM_ERR_FORMAT, "RCRS", s->offset + b, "bits set past the last item");
        for (; v; v &= (uint8_t)(v - 1)) set++;
    }
    if (set != k)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCRS", s->offset, "%llu items flagged, %llu cycles stored",
                         (unsigned long long)set, (unsigned long long)k);
    m->cycle = ulm__calloc(m->alloc, (size_t)n + 1, sizeof *m->cycle);
    if (!m->cycle) return ULM_ERR_NOMEM;
    for (uint64_t i = 0, j = 0; i < n; i++) {
        if (!(s->data[i / 8] >> (i % 8) & 1)) continue;
        float c = ulm__rdf32(s->data + at + 4 * j);
        if (!isfinite(c) || c < 1.0f)
            return ulm__fail(diag, ULM_ERR_FORMAT, "RCRS", s->offset + at + 4 * j,
                             "item %llu has repurchase cycle %g days: expected a finite value >= 1", (unsigned long long)i,
                             (double)c);
        m->cycle[i] = c;
        j++;
    }
    return ULM_OK;
}

ulm_status ulm__recs_rules_load(ulm_model *m, uint32_t flags, ulm_diag *diag) {
    (void)flags;
    ulm_section s;
    bool sparse = ulm_bundle_find(m->bundle, "RCRS", &s) == ULM_OK;
    if (sparse && ulm_bundle_find(m->bundle, "RCRP", &s) == ULM_OK)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCRS", s.offset, "the bundle has both RCRP and RCRS");
    if (sparse) return load_sparse(m, &s, diag);
    if (ulm_bundle_find(m->bundle, "RCRP", &s) != ULM_OK) return ULM_OK;
    if (s.dtype != ULM_DT_F32 || s.rows != m->n_items || s.cols > 1)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCRP", s.offset,
                         "section RCRP has dtype %u and shape %u x %u, expected F32 and %u x 1", s.dtype, s.rows, s.cols,
                         m->n_items);
    m->cycle = ulm__alloc(m->alloc, ((size_t)m->n_items + 1) * sizeof *m->cycle);
    if (!m->cycle) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < m->n_items; i++) {
        float c = ulm__rdf32(s.data + 4 * (uint64_t)i);
        /* Always checked (not only under ULM_LOAD_DEEP): a NaN would silently disable the rule. */
        if (!isfinite(c) || c < 0 || (c > 0 && c < 1.0f))
            return ulm__fail(diag, ULM_ERR_FORMAT, "RCRP", s.offset + 4 * (uint64_t)i,
                             "item %u has repurchase cycle %g days: expected 0 (none) or a finite value >= 1", i,
                             (double)c);
        m->cycle[i] = c;
    }
    return ULM_OK;
}

void ulm__recs_rules_free(ulm_model *m) {
    ulm__free(m->alloc, m->cycle, 0);
    m->cycle = NULL;
}

float ulm_model_repurchase_days(const ulm_model *m, uint32_t i) {
    return m && m->cycle && i < m->n_items ? m->cycle[i] : 0.0f;
}

uint32_t ulm_model_category_count(const ulm_model *m) {
    return m && m->profile ? m->profile->cats.n : 0;
}

ulm_status ulm_model_category_find(const ulm_model *m, const char *name, size_t len, uint32_t *c) {
    if (!m || !c || (!name && len)) return ULM_ERR_MISUSE;
    *c = ULM_NONE;
    if (!m->profile) return ULM_ERR_NOT_FOUND;
    uint32_t f = ulm_dict_find(&m->profile->cats, name ? name : "", len);
    if (f == ULM_NONE) return ULM_ERR_NOT_FOUND;
    *c = f;
    return ULM_OK;
}

uint32_t ulm_model_item_category(const ulm_model *m, uint32_t i) {
    return m && m->profile && i < m->n_items && i < m->profile->n_items ? m->profile->item_cat[i] : ULM_NONE;
}
