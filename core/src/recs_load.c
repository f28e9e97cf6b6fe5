/* recs_load.c: loads and validates the trained recommender of a bundle (RCHD and the sections
 * it names; layouts in docs/format.md). Every index is checked before it is used, every float
 * is checked finite under ULM_LOAD_DEEP, and the decoded arrays are owned by the model. */
#include <math.h>

#include "quant.h"
#include "recs_model_impl.h"
#include "ulm/ulm_bundle.h"
#include "ulm/ulm_dict.h"
#include "ulm_impl.h"
#include "ulm_model_impl.h"

/* Finds an optional or required section with dtype (or alt, when not ULM_NONE), rows and cols (ULM_NONE = any). */
static ulm_status find2(const ulm_model *m, const char *tag, uint32_t dtype, uint32_t alt, uint32_t rows,
                        uint32_t cols, bool required, ulm_section *s, ulm_diag *diag) {
    return ulm__section_need(m->bundle, tag, (ulm__want){dtype, alt, rows, cols}, required ? "the recommender" : NULL, s,
                             NULL, diag);
}

static ulm_status find(const ulm_model *m, const char *tag, uint32_t dtype, uint32_t rows, uint32_t cols,
                       bool required, ulm_section *s, ulm_diag *diag) {
    return find2(m, tag, dtype, ULM_NONE, rows, cols, required, s, diag);
}

/* Decodes n f32 values of s into a new array, checking finiteness under deep. */
static ulm_status load_f32(const ulm_model *m, const ulm_section *s, size_t n, bool deep, float **out,
                           ulm_diag *diag) {
    *out = ulm__alloc(m->alloc, (n + 1) * sizeof **out);
    if (!*out) return ULM_ERR_NOMEM;
    unsigned es = s->dtype == ULM_DT_F16 ? 2 : 4; /* F16 or F32 */
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = es == 2 ? ulm__f16_to_f32(ulm__rd16(s->data + 2 * (uint64_t)i)) : ulm__rdf32(s->data + 4 * (uint64_t)i);
        if (deep && !isfinite((*out)[i]))
            return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset + es * (uint64_t)i, "value %zu is not finite", i);
    }
    return ULM_OK;
}

/* Loads one neighbour-list triple (offsets, indices, weights: tags o, i, w) into nb. Indices are
 * U32 or U16, weights F32 or F16 (the compact form of `ulm train --quantize int8|fp16`). */
static ulm_status load_nb(const ulm_model *m, const char *to, const char *ti, const char *tw, bool deep,
                          ulm__nblist *nb, ulm_diag *diag) {
    ulm_section so, si, sw;
    ulm_status s;
    uint32_t n = m->n_items;
    if ((s = find(m, to, ULM_DT_U32, n + 1, 0, true, &so, diag)) != ULM_OK) return s;
    if ((s = find2(m, ti, ULM_DT_U32, ULM_DT_U16, ULM_NONE, 0, true, &si, diag)) != ULM_OK) return s;
    if ((s = find2(m, tw, ULM_DT_F32, ULM_DT_F16, si.rows, 0, true, &sw, diag)) != ULM_OK) return s;
    nb->off = ulm__alloc(m->alloc, ((size_t)n + 1) * sizeof *nb->off);
    if (!nb->off) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i <= n; i++) {
        nb->off[i] = ulm__rd32(so.data + 4 * (uint64_t)i);
        if ((i == 0 && nb->off[0] != 0) || (i > 0 && nb->off[i] < nb->off[i - 1]) || nb->off[i] > si.rows)
            return ulm__fail(diag, ULM_ERR_FORMAT, to, so.offset + 4 * (uint64_t)i,
                             "neighbour offsets must rise from 0 to %u", si.rows);
    }
    if (nb->off[n] != si.rows)
        return ulm__fail(diag, ULM_ERR_FORMAT, to, so.offset, "neighbour offsets end at %u, not %u", nb->off[n], si.rows);
    nb->idx = ulm__alloc(m->alloc, ((size_t)si.rows + 1) * sizeof *nb->idx);
    if (!nb->idx) return ULM_ERR_NOMEM;
    for (uint32_t k = 0; k < si.rows; k++) {
        unsigned es = si.dtype == ULM_DT_U16 ? 2 : 4;
        nb->idx[k] = es == 2 ? ulm__rd16(si.data + 2 * (uint64_t)k) : ulm__rd32(si.data + 4 * (uint64_t)k);
        if (nb->idx[k] >= n)
            return ulm__fail(diag, ULM_ERR_FORMAT, ti, si.offset + es * (uint64_t)k, "neighbour %u names item %u of %u",
                             k, nb->idx[k], n);
    }
    return load_f32(m, &sw, si.rows, deep, &nb->w, diag);
}

static void free_nb(const ulm_model *m, ulm__nblist *nb) {
    ulm__free(m->alloc, nb->off, 0);
    ulm__free(m->alloc, nb->idx, 0);
    ulm__free(m->alloc, nb->w, 0);
}

void ulm__recs_free(ulm_model *m) {
    ulm__recs_rules_free(m);
    ulm__recs *r = m->recs;
    if (!r) return;
    ulm__free(m->alloc, r->item_f, 0);
    ulm__free(m->alloc, r->q8_scale, 0);
    ulm__free(m->alloc, r->q8_norm, 0);
    ulm__free(m->alloc, r->q8_chunk, 0);
    ulm__free(m->alloc, r->gram, 0);
    ulm__free(m->alloc, r->gram_chol, 0);
    ulm__free(m->alloc, r->bias, 0);
    ulm__free(m->alloc, r->rpop, 0);
    free_nb(m, &r->nb);
    free_nb(m, &r->cn);
    ulm__free(m->alloc, r, sizeof *r);
    m->recs = NULL;
}

/* Reads RCHD's fixed fields and checks them against the catalogue. */
static ulm_status load_header(ulm_model *m, const ulm_section *h, ulm__recs *r, ulm_diag *diag) {
    if (h->size != ULM__RCHD_SIZE)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCHD", h->offset, "RCHD is %llu bytes, expected %d",
                         (unsigned long long)h->size, ULM__RCHD_SIZE);
    const uint8_t *d = h->data;
    r->algo = ulm__rd32(d + ULM__RCHD_ALGO);
    r->factors = ulm__rd32(d + ULM__RCHD_FACTORS);
    r->cold_events = ulm__rd32(d + ULM__RCHD_COLD);
    r->alpha = ulm__rdf32(d + ULM__RCHD_ALPHA);
    r->hist_weight = ulm__rdf32(d + ULM__RCHD_HIST_W);
    r->wc_warm = ulm__rdf32(d + ULM__RCHD_WC_WARM);
    r->wp_warm = ulm__rdf32(d + ULM__RCHD_WP_WARM);
    r->wc_cold = ulm__rdf32(d + ULM__RCHD_WC_COLD);
    r->wp_cold = ulm__rdf32(d + ULM__RCHD_WP_COLD);
    if (r->algo == 0 || r->algo >= ULM__RC__END)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCHD", h->offset, "unknown recommender code %u", r->algo);
    if (ulm__rd32(d + ULM__RCHD_ITEMS) != m->n_items)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCHD", h->offset + ULM__RCHD_ITEMS, "recommender covers %u items, catalogue has %u",
                         ulm__rd32(d + ULM__RCHD_ITEMS), m->n_items);
    bool factor_model = r->algo == ULM__RC_ALS || r->algo == ULM__RC_BPR;
    if (factor_model ? (r->factors == 0 || r->factors > 1024) : r->factors != 0)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCHD", h->offset + ULM__RCHD_FACTORS, "bad factor count %u for this recommender",
                         r->factors);
    const float fs[] = {r->alpha, r->hist_weight, r->wc_warm, r->wp_warm, r->wc_cold, r->wp_cold};
    for (int i = 0; i < 6; i++)
        if (!isfinite(fs[i]) || fs[i] < 0)
            return ulm__fail(diag, ULM_ERR_FORMAT, "RCHD", h->offset + ULM__RCHD_ALPHA + 4 * (uint64_t)i,
                             "parameter at offset %d is negative or not finite", ULM__RCHD_ALPHA + 4 * i);
    for (uint32_t o = 40; o < ULM__RCHD_SIZE; o++)
        if (d[o]) return ulm__fail(diag, ULM_ERR_FORMAT, "RCHD", h->offset + o, "reserved byte %u is not zero", o);
    return ULM_OK;
}

/* RCIF: F32 or F16 rows decoded to floats; Q8_ROW rows used in place (their scales decoded and
 * checked finite and >= 0 on every load; the int8 values need no check). */
static ulm_status load_factors(const ulm_model *m, ulm__recs *r, bool deep, ulm_diag *diag) {
    ulm_section sec;
    ulm_status s;
    uint32_t n = m->n_items, f = r->factors;
    if (ulm_bundle_find(m->bundle, "RCIF", &sec) == ULM_OK && sec.dtype == ULM_DT_Q8_ROW) {
        if ((s = find(m, "RCIF", ULM_DT_Q8_ROW, n, f, true, &sec, diag)) != ULM_OK) return s;
        size_t stride = ulm__q8_stride(f);
        r->q8 = (const int8_t *)sec.data;
        r->q8_stride = (uint32_t)stride;
        r->q8_scale = ulm__alloc(m->alloc, ((size_t)n + 1) * sizeof *r->q8_scale);
        r->q8_norm = ulm__alloc(m->alloc, ((size_t)n + 1) * sizeof *r->q8_norm);
        if (!r->q8_scale || !r->q8_norm) return ULM_ERR_NOMEM;
        for (uint32_t i = 0; i < n; i++) {
            r->q8_norm[i] = ulm__q8_norm(r->q8 + (size_t)i * stride, stride);
            uint64_t at = (uint64_t)n * stride + 4 * (uint64_t)i;
            r->q8_scale[i] = ulm__rdf32(sec.data + at);
            if (!isfinite(r->q8_scale[i]) || r->q8_scale[i] < 0)
                return ulm__fail(diag, ULM_ERR_FORMAT, "RCIF", sec.offset + at, "row scale %u is negative or not finite", i);
        }
        return ULM_OK;
    }
    if ((s = find2(m, "RCIF", ULM_DT_F32, ULM_DT_F16, n, f, true, &sec, diag)) != ULM_OK) return s;
    return load_f32(m, &sec, (size_t)n * f, deep, &r->item_f, diag);
}

/* RCGT (`ulm train --edge`): the Gram matrix's upper triangle, row by row, mirrored into r->gram. */
static ulm_status load_gram_triangle(const ulm_model *m, ulm__recs *r, const ulm_section *sec, bool deep,
                                     ulm_diag *diag) {
    uint32_t f = r->factors;
    uint64_t n = (uint64_t)f * (f + 1) / 2;
    if (sec->dtype != ULM_DT_F32 || sec->rows != n || sec->cols != 0)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCGT", sec->offset,
                         "section RCGT has dtype %u and shape %u x %u, expected F32 and %llu x 0 for %u factors",
                         sec->dtype, sec->rows, sec->cols, (unsigned long long)n, f);
    float *t;
    ulm_status s = load_f32(m, sec, (size_t)n, deep, &t, diag);
    if (s == ULM_OK) {
        r->gram = ulm__alloc(m->alloc, ((size_t)f * f + 1) * sizeof *r->gram);
        if (!r->gram) s = ULM_ERR_NOMEM;
    }
    for (uint32_t i = 0, k = 0; s == ULM_OK && i < f; i++)
        for (uint32_t j = i; j < f; j++, k++) {
            if (j == i && !(t[k] > 0))
                s = ulm__fail(diag, ULM_ERR_FORMAT, "RCGT", sec->offset + 4 * (uint64_t)k,
                              "Gram matrix diagonal %u is not positive", i);
            r->gram[(size_t)i * f + j] = r->gram[(size_t)j * f + i] = t[k];
        }
    ulm__free(m->alloc, t, 0);
    return s;
}

/* The sections each recommender needs, after RCHD. */
static ulm_status load_body(ulm_model *m, ulm__recs *r, bool deep, ulm_diag *diag) {
    ulm_status s = ULM_OK;
    ulm_section sec;
    uint32_t n = m->n_items, f = r->factors;
    switch (r->algo) {
    case ULM__RC_ALS:
    case ULM__RC_BPR:
        if ((s = load_factors(m, r, deep, diag)) != ULM_OK) return s;
        if (r->algo == ULM__RC_BPR) {
            if ((s = find(m, "RCIB", ULM_DT_F32, n, 0, true, &sec, diag)) != ULM_OK) return s;
            return load_f32(m, &sec, n, deep, &r->bias, diag);
        }
        if (ulm_bundle_find(m->bundle, "RCGT", &sec) == ULM_OK) {
            ulm_section full;
            if (ulm_bundle_find(m->bundle, "RCGR", &full) == ULM_OK)
                return ulm__fail(diag, ULM_ERR_FORMAT, "RCGT", sec.offset, "the bundle has both RCGR and RCGT");
            if ((s = load_gram_triangle(m, r, &sec, deep, diag)) != ULM_OK) return s;
        } else {
            if ((s = find(m, "RCGR", ULM_DT_F32, f, f, true, &sec, diag)) != ULM_OK) return s;
            if ((s = load_f32(m, &sec, (size_t)f * f, deep, &r->gram, diag)) != ULM_OK) return s;
        }
        /* Symmetric with a positive diagonal, or the fold-in's Cholesky solve is meaningless. */
        for (uint32_t i = 0; i < f; i++) {
            if (!(r->gram[(size_t)i * f + i] > 0))
                return ulm__fail(diag, ULM_ERR_FORMAT, "RCGR", sec.offset + 4 * ((uint64_t)i * f + i),
                                 "Gram diagonal entry %u is not positive", i);
            for (uint32_t j = 0; j < i; j++)
                if (r->gram[(size_t)i * f + j] != r->gram[(size_t)j * f + i])
                    return ulm__fail(diag, ULM_ERR_FORMAT, "RCGR", sec.offset + 4 * ((uint64_t)i * f + j),
                                     "Gram matrix is not symmetric at (%u, %u)", i, j);
        }
        return ulm__recs_gram_chol(m, r);
    case ULM__RC_HYBRID:
        if ((s = load_nb(m, "RCCO", "RCCI", "RCCW", deep, &r->cn, diag)) != ULM_OK) return s;
        if ((s = find(m, "RCPP", ULM_DT_F32, n, 0, true, &sec, diag)) != ULM_OK) return s;
        if ((s = load_f32(m, &sec, n, true, &r->rpop, diag)) != ULM_OK) return s;
        float mx = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (r->rpop[i] < 0)
                return ulm__fail(diag, ULM_ERR_FORMAT, "RCPP", sec.offset + 4 * (uint64_t)i, "popularity %u is negative", i);
            mx = r->rpop[i] > mx ? r->rpop[i] : mx;
        }
        r->rpop_inv = mx > 0 ? 1.0f / mx : 0.0f;
        if (!isfinite(r->rpop_inv)) r->rpop_inv = 0;
        return load_nb(m, "RCNO", "RCNI", "RCNW", deep, &r->nb, diag); /* the item-kNN part */
    default:
        return load_nb(m, "RCNO", "RCNI", "RCNW", deep, &r->nb, diag);
    }
}

ulm_status ulm__recs_load(ulm_model *m, uint32_t flags, ulm_diag *diag) {
    ulm_section h;
    ulm_status rs = ulm__recs_rules_load(m, flags, diag);
    if (rs != ULM_OK) {
        ulm__recs_rules_free(m);
        return rs;
    }
    if (ulm_bundle_find(m->bundle, "RCHD", &h) != ULM_OK) return ULM_OK; /* popularity only */
    if (h.dtype != ULM_DT_BYTES)
        return ulm__fail(diag, ULM_ERR_FORMAT, "RCHD", h.offset, "RCHD has dtype %u, expected BYTES", h.dtype);
    ulm__recs *r = ulm__calloc(m->alloc, 1, sizeof *r);
    if (!r) return ULM_ERR_NOMEM;
    m->recs = r;
    ulm_status s = load_header(m, &h, r, diag);
    if (s == ULM_OK) s = load_body(m, r, (flags & ULM_LOAD_DEEP) != 0, diag);
    if (s == ULM_OK && r->q8) { /* after the biases: the chunks' bounds include them */
        size_t chunks = ((size_t)m->n_items + ULM__Q8_CHUNK - 1) / ULM__Q8_CHUNK;
        r->q8_chunk = ulm__alloc(m->alloc, (3 * chunks + 1) * sizeof *r->q8_chunk);
        if (!r->q8_chunk) s = ULM_ERR_NOMEM;
        else ulm__q8_chunks(r->q8_norm, r->q8_scale, r->bias, m->n_items, r->q8_chunk);
    }
    if (s != ULM_OK) ulm__recs_free(m);
    return s;
}
