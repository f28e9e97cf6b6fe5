/* profile_load.c: the profiler sections of a model bundle (PF*, RFMQ, KM*, LCST, CLVP; layouts in
 * docs/format.md), decoded and validated into a ulm_profiler owned by the model. */
#include <math.h>
#include <stdlib.h>

#include "profile_impl.h"
#include "ulm/ulm_events.h"
#include "ulm_impl.h"
#include "ulm_model_impl.h"

static double rdf64(const uint8_t *p) {
    uint64_t u = ulm__rd64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

void ulm__profiler_destroy(ulm_profiler *p) {
    if (!p) return;
    const ulm_allocator *a = p->alloc;
    ulm__profiler_free_item_data(p);
    ulm__free(a, p->cent, 0);
    ulm__free(a, p->desc, 0);
    ulm__free(a, p, sizeof *p);
}

const ulm_profiler *ulm_model_profiler(const ulm_model *m) { return m ? m->profile : NULL; }

/* Finds an optional section; checks dtype, rows and cols (ULM_NONE = any). *found = 0 when absent. */
static ulm_status sect(const ulm_bundle *b, const char *tag, uint32_t dtype, uint32_t rows, uint32_t cols,
                       ulm_section *s, int *found, ulm_diag *diag) {
    return ulm__section_need(b, tag, (ulm__want){dtype, ULM_NONE, rows, cols}, NULL, s, found, diag);
}

/* A section every profiler has (the bundle has profile sections, so a missing one is damage). */
static ulm_status need(const ulm_bundle *b, const char *tag, uint32_t dtype, uint32_t rows, uint32_t cols,
                       ulm_section *s, ulm_diag *diag) {
    return ulm__section_need(b, tag, (ulm__want){dtype, ULM_NONE, rows, cols}, "the profiler", s, NULL, diag);
}

/* Decodes n f64 values, all finite unless nan_ok (then NaN is allowed too). */
static ulm_status f64s(const ulm_section *s, double *out, size_t n, int nan_ok, ulm_diag *diag) {
    for (size_t i = 0; i < n; i++) {
        out[i] = rdf64(s->data + 8 * i);
        if (!isfinite(out[i]) && !(nan_ok && isnan(out[i])))
            return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset + 8 * i, "value %zu of %s is not finite", i, s->tag);
    }
    return ULM_OK;
}

/* Interns a string table into d; duplicates are a format error. */
static ulm_status strtab_dict(const ulm_section *s, ulm_dict *d, int ascending, ulm_diag *diag) {
    ulm_strtab t;
    if (ulm_strtab_view(s->data, s->size, &t) != ULM_OK || t.count != s->rows)
        return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "malformed string table");
    const char *prev = NULL;
    uint32_t plen = 0;
    for (uint32_t i = 0; i < t.count; i++) {
        uint32_t len;
        const char *str = ulm_strtab_get(&t, i, &len);
        if (ascending && prev) {
            int c = memcmp(prev, str, plen < len ? plen : len);
            if (c > 0 || (c == 0 && plen >= len))
                return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "word %u is not after word %u", i, i - 1);
        }
        prev = str, plen = len;
        bool added;
        if (ulm_dict_intern(d, str, len, &added) == ULM_NONE) return ULM_ERR_NOMEM;
        if (!added) return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "string %u appears twice", i);
    }
    return ULM_OK;
}

static ulm_status load_fitted(ulm_model *m, ulm_profiler *p, ulm_diag *diag);

static ulm_status load(ulm_model *m, ulm_profiler *p, ulm_diag *diag) {
    const ulm_bundle *b = m->bundle;
    uint32_t ni = m->n_items;
    ulm_section ct, cn, rp, vo, id, wo, wi;
    ulm_status s;
    if (ulm_bundle_find(b, "PFCT", &ct) != ULM_OK) { /* no per-item data (ulm train --profile-items none) */
        p->n_items = ni;
        if ((s = ulm__profiler_drop_item_data(p)) != ULM_OK) return s;
        return load_fitted(m, p, diag);
    }
    if ((s = need(b, "PFCT", ULM_DT_U32, ni, ULM_NONE, &ct, diag)) != ULM_OK) return s;
    if ((s = need(b, "PFCN", ULM_DT_STRTAB, ULM_NONE, ULM_NONE, &cn, diag)) != ULM_OK) return s;
    if ((s = need(b, "PFRP", ULM_DT_F64, ni, ULM_NONE, &rp, diag)) != ULM_OK) return s;
    if ((s = need(b, "PFVO", ULM_DT_STRTAB, ULM_NONE, ULM_NONE, &vo, diag)) != ULM_OK) return s;
    if ((s = need(b, "PFID", ULM_DT_F64, vo.rows, ULM_NONE, &id, diag)) != ULM_OK) return s;
    if ((s = need(b, "PFWO", ULM_DT_U32, ni + 1, ULM_NONE, &wo, diag)) != ULM_OK) return s;
    if ((s = need(b, "PFWI", ULM_DT_U32, ULM_NONE, ULM_NONE, &wi, diag)) != ULM_OK) return s;
    if ((s = strtab_dict(&cn, &p->cats, 0, diag)) != ULM_OK) return s;
    if ((s = strtab_dict(&vo, &p->vocab, 1, diag)) != ULM_OK) return s;
    p->n_items = ni;
    size_t nw = vo.rows;
    p->item_cat = ulm__alloc(p->alloc, ((size_t)ni + 1) * 4);
    p->item_ref = ulm__alloc(p->alloc, ((size_t)ni + 1) * 8);
    p->word_off = ulm__alloc(p->alloc, ((size_t)ni + 1) * 4);
    p->word_ids = ulm__alloc(p->alloc, ((size_t)wi.rows + 1) * 4);
    p->idf = ulm__alloc(p->alloc, (nw + 1) * 8);
    if (!p->item_cat || !p->item_ref || !p->word_off || !p->word_ids || !p->idf) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < ni; i++) {
        p->item_cat[i] = ulm__rd32(ct.data + 4 * (uint64_t)i);
        if (p->item_cat[i] != ULM_NONE && p->item_cat[i] >= p->cats.n)
            return ulm__fail(diag, ULM_ERR_FORMAT, "PFCT", ct.offset + 4 * (uint64_t)i, "item %u has category %u of %u", i,
                             p->item_cat[i], p->cats.n);
    }
    if ((s = f64s(&rp, p->item_ref, ni, 1, diag)) != ULM_OK) return s;
    for (uint32_t i = 0; i < ni; i++)
        if (!isnan(p->item_ref[i]) && !(p->item_ref[i] > 0))
            return ulm__fail(diag, ULM_ERR_FORMAT, "PFRP", rp.offset + 8 * (uint64_t)i, "reference price of item %u is not positive", i);
    if ((s = f64s(&id, p->idf, nw, 0, diag)) != ULM_OK) return s;
    for (size_t i = 0; i < nw; i++)
        if (!(p->idf[i] > 0)) return ulm__fail(diag, ULM_ERR_FORMAT, "PFID", id.offset + 8 * i, "idf %zu is not positive", i);
    for (uint32_t i = 0; i <= ni; i++) {
        p->word_off[i] = ulm__rd32(wo.data + 4 * (uint64_t)i);
        if ((i == 0 && p->word_off[0] != 0) || (i > 0 && p->word_off[i] < p->word_off[i - 1]) || p->word_off[i] > wi.rows)
            return ulm__fail(diag, ULM_ERR_FORMAT, "PFWO", wo.offset + 4 * (uint64_t)i, "word offsets do not rise within the word list");
    }
    if (p->word_off[ni] != wi.rows)
        return ulm__fail(diag, ULM_ERR_FORMAT, "PFWO", wo.offset, "word offsets end at %u, the list has %u", p->word_off[ni], wi.rows);
    for (uint32_t i = 0; i < wi.rows; i++) {
        p->word_ids[i] = ulm__rd32(wi.data + 4 * (uint64_t)i);
        if (p->word_ids[i] >= nw)
            return ulm__fail(diag, ULM_ERR_FORMAT, "PFWI", wi.offset + 4 * (uint64_t)i, "word %u of %zu", p->word_ids[i], nw);
    }
    return load_fitted(m, p, diag);
}

/* CLVP, RFMQ, LCST and the k-means sections: what the profiler fitted on customers. */
static ulm_status load_fitted(ulm_model *m, ulm_profiler *p, ulm_diag *diag) {
    const ulm_bundle *b = m->bundle;
    ulm_section cp;
    ulm_status s;
    if ((s = need(b, "CLVP", ULM_DT_F64, ULM__CLVP_N, ULM_NONE, &cp, diag)) != ULM_OK) return s;
    /* CLV parameters. */
    double *c = p->clvp;
    if ((s = f64s(&cp, c, ULM__CLVP_N, 0, diag)) != ULM_OK) return s;
    p->as_of = (int64_t)c[ULM__CLVP_AS_OF];
    int bad = !(fabs(c[ULM__CLVP_AS_OF]) < 9e15) || !(c[ULM__CLVP_UNIT] > 0) || !(c[ULM__CLVP_HORIZON] >= 0) ||
              !(c[ULM__CLVP_PERIOD] > 0) || !(c[ULM__CLVP_DISCOUNT] > -1) || c[ULM__CLVP_HORIZON] / c[ULM__CLVP_PERIOD] > 1e5;
    bad |= (c[ULM__CLVP_HAS_CLV] != 0 && c[ULM__CLVP_HAS_CLV] != 1) || (c[ULM__CLVP_HAS_GG] != 0 && c[ULM__CLVP_HAS_GG] != 1);
    bad |= c[ULM__CLVP_KIND] != ULM_CLV_BGNBD && c[ULM__CLVP_KIND] != ULM_CLV_PNBD;
    if (c[ULM__CLVP_HAS_CLV] != 0)
        for (int j = ULM__CLVP_BG_R; j <= ULM__CLVP_PN_BETA; j++) bad |= !(c[j] > 0);
    if (c[ULM__CLVP_HAS_GG] != 0)
        for (int j = ULM__CLVP_GG_P; j <= ULM__CLVP_GG_GAMMA; j++) bad |= !(c[j] > 0);
    if (bad) return ulm__fail(diag, ULM_ERR_FORMAT, "CLVP", cp.offset, "CLV parameters out of range");
    /* RFM cut points: finite, non-decreasing. */
    ulm_section rq;
    int found;
    if ((s = sect(b, "RFMQ", ULM_DT_F64, 3, 4, &rq, &found, diag)) != ULM_OK) return s;
    if (found) {
        if ((s = f64s(&rq, &p->rfm_cuts[0][0], 12, 0, diag)) != ULM_OK) return s;
        for (int r = 0; r < 3; r++)
            for (int j = 1; j < 4; j++)
                if (p->rfm_cuts[r][j] < p->rfm_cuts[r][j - 1])
                    return ulm__fail(diag, ULM_ERR_FORMAT, "RFMQ", rq.offset, "RFM cut points of row %d decrease", r);
        p->has_rfm = 1;
    }
    /* Lifecycle stage rules. */
    ulm_section lc;
    if ((s = sect(b, "LCST", ULM_DT_F64, ULM__ST_N, ULM_NONE, &lc, &found, diag)) != ULM_OK) return s;
    if (found) {
        if ((s = f64s(&lc, p->stage, ULM__ST_N, 0, diag)) != ULM_OK) return s;
        const double *st = p->stage;
        for (int j = 0; j < ULM__ST_N; j++)
            if (!(st[j] >= 0)) return ulm__fail(diag, ULM_ERR_FORMAT, "LCST", lc.offset + 8 * (uint64_t)j, "negative stage rule");
        if (!(st[ULM__ST_ACTIVE] <= st[ULM__ST_AT_RISK] && st[ULM__ST_AT_RISK] <= st[ULM__ST_DORMANT]))
            return ulm__fail(diag, ULM_ERR_FORMAT, "LCST", lc.offset, "stage thresholds are not ordered");
        p->has_stage = 1;
    }
    /* k-means: features, scaling, centroids, descriptions. */
    ulm_section ft, sc, ce, ds;
    if ((s = sect(b, "KMNS", ULM_DT_F64, ULM_NONE, ULM_NONE, &ce, &found, diag)) != ULM_OK) return s;
    if (!found) return ULM_OK;
    uint32_t k = ce.rows, d = ce.cols;
    if (k < 1 || k > ULM__KM_MAX_K || d < 1 || d > ULM__KM_MAX_D)
        return ulm__fail(diag, ULM_ERR_FORMAT, "KMNS", ce.offset, "%u centroids of %u dimensions (at most %d x %d)", k, d,
                         ULM__KM_MAX_K, ULM__KM_MAX_D);
    if ((s = need(b, "KMFT", ULM_DT_U32, d, 2, &ft, diag)) != ULM_OK) return s;
    if ((s = need(b, "KMSC", ULM_DT_F64, d, 2, &sc, diag)) != ULM_OK) return s;
    if ((s = need(b, "KMDS", ULM_DT_STRTAB, k, ULM_NONE, &ds, diag)) != ULM_OK) return s;
    for (uint32_t j = 0; j < d; j++) {
        p->feat[j] = ulm__rd32(ft.data + 8 * (uint64_t)j);
        p->logt[j] = ulm__rd32(ft.data + 8 * (uint64_t)j + 4);
        if (p->feat[j] >= ULM_PF_N_BASIC || p->logt[j] > 1)
            return ulm__fail(diag, ULM_ERR_FORMAT, "KMFT", ft.offset + 8 * (uint64_t)j, "feature %u / transform %u out of range",
                             p->feat[j], p->logt[j]);
        p->mean[j] = rdf64(sc.data + 16 * (uint64_t)j);
        p->sd[j] = rdf64(sc.data + 16 * (uint64_t)j + 8);
        if (!isfinite(p->mean[j]) || !(p->sd[j] > 0) || !isfinite(p->sd[j]))
            return ulm__fail(diag, ULM_ERR_FORMAT, "KMSC", sc.offset + 16 * (uint64_t)j, "scaling of feature %u is not finite and positive", j);
    }
    p->cent = ulm__alloc(p->alloc, (size_t)k * d * 8);
    if (!p->cent) return ULM_ERR_NOMEM;
    if ((s = f64s(&ce, p->cent, (size_t)k * d, 0, diag)) != ULM_OK) return s;
    ulm_strtab t;
    if (ulm_strtab_view(ds.data, ds.size, &t) != ULM_OK || t.count != k)
        return ulm__fail(diag, ULM_ERR_FORMAT, "KMDS", ds.offset, "malformed string table");
    size_t tot = 0;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t len;
        ulm_strtab_get(&t, i, &len);
        tot += len;
    }
    p->desc = ulm__alloc(p->alloc, tot + 1);
    if (!p->desc) return ULM_ERR_NOMEM;
    p->desc_off[0] = 0;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t len;
        const char *str = ulm_strtab_get(&t, i, &len);
        memcpy(p->desc + p->desc_off[i], str, len);
        p->desc_off[i + 1] = p->desc_off[i] + len;
    }
    p->k = k, p->d = d;
    return ULM_OK;
}

ulm_status ulm__profile_load(ulm_model *m, uint32_t flags, ulm_diag *diag) {
    (void)flags;
    ulm_section s0;
    if (ulm_bundle_find(m->bundle, "PFCT", &s0) != ULM_OK && ulm_bundle_find(m->bundle, "CLVP", &s0) != ULM_OK)
        return ULM_OK; /* no profiler in this bundle */
    ulm_profiler *p = ulm__calloc(m->alloc, 1, sizeof *p);
    if (!p) return ULM_ERR_NOMEM;
    p->alloc = m->alloc;
    ulm_dict_init(&p->cats);
    ulm_dict_init(&p->vocab);
    ulm_status s = load(m, p, diag);
    if (s != ULM_OK) {
        ulm__profiler_destroy(p);
        return s;
    }
    m->profile = p;
    return ULM_OK;
}
