/* model.c: loads a model bundle: the catalogue, the popularity recommender, the user table. */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm_events.h"
#include "ulm_impl.h"
#include "ulm_model_impl.h"
#include "profile_impl.h"
#include "quant.h"

/* Sections this reader understands; a REQUIRED section not listed fails with ULM_ERR_VERSION. */
static const char *const known_sections[] = {"META", "ITID", "ITNM", "ITPR", "POPR", "USID", "USOF", "USIT", "ITDN",
                                             "CHRN", "CHFN", "CHCT",
                                             "PFCT", "PFCN", "PFRP", "PFVO", "PFID", "PFWO", "PFWI", "RFMQ",
                                             "KMFT", "KMSC", "KMNS", "KMDS", "LCST", "CLVP",
                                             "RCHD", "RCIF", "RCGR", "RCIB", "RCNO", "RCNI", "RCNW", "RCCO", "RCCI", "RCCW", "RCPP",
                                             "RCRP", "ITIC", "RCGT", "RCRS",
                                             "NBAO", "NBAI",
                                             NULL};

ulm_load_opts ulm_load_opts_init(void) {
    ulm_load_opts o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.flags = ULM_LOAD_DEEP;
    return o;
}

/* Finds a section by tag and checks its dtype and row count (ULM_NONE = any); a missing
 * required section is ERR_FORMAT, a missing optional one leaves *s zeroed. */
static ulm_status need(const ulm_bundle *b, const char *tag, uint32_t dtype, uint32_t rows, bool required,
                       ulm_section *s, ulm_diag *diag) {
    return ulm__section_need(b, tag, (ulm__want){dtype, ULM_NONE, rows, ULM_NONE}, required ? "the model" : NULL, s, NULL,
                             diag);
}

/* Index i of s[0..len) in t through its index x, or ULM_NONE. */
static uint32_t index_find(const ulm__id_index *x, const ulm_strtab *t, const char *s, size_t len) {
    if (!x->slots) return ULM_NONE;
    for (uint32_t i = (uint32_t)(ulm_hash64(s, len) >> 32) & x->mask;; i = (i + 1) & x->mask) {
        uint32_t v = x->slots[i], n;
        if (!v) return ULM_NONE;
        const char *str = ulm_strtab_get(t, v - 1, &n);
        if (n == len && memcmp(str, s, len) == 0) return v - 1;
    }
}

/* Views a STRTAB section into t and, when x is given, builds its lookup index (duplicates are a
 * format error: an id must name one thing). The index references the strings in the bundle. */
static ulm_status load_strtab(ulm_model *m, const ulm_section *s, ulm_strtab *t, ulm__id_index *x, ulm_diag *diag) {
    if (ulm_strtab_view(s->data, s->size, t) != ULM_OK)
        return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "malformed string table");
    if (!x) return ULM_OK;
    if (t->count > 0x3FFFFFF0u) return ULM_ERR_NOMEM;
    uint32_t size = 64;
    while ((uint64_t)size < 2 * ((uint64_t)t->count + 1)) size *= 2;
    x->slots = ulm__calloc(m->alloc, size, sizeof *x->slots);
    if (!x->slots) return ULM_ERR_NOMEM;
    x->mask = size - 1;
    for (uint32_t i = 0; i < t->count; i++) {
        uint32_t len;
        const char *str = ulm_strtab_get(t, i, &len);
        uint32_t at = (uint32_t)(ulm_hash64(str, len) >> 32) & x->mask;
        for (uint32_t v; (v = x->slots[at]) != 0; at = (at + 1) & x->mask) {
            uint32_t n;
            const char *o = ulm_strtab_get(t, v - 1, &n);
            if (n == len && memcmp(o, str, len) == 0)
                return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "id number %u appears twice", i);
        }
        x->slots[at] = i + 1;
    }
    return ULM_OK;
}

/* Decodes the user table (USOF offsets + USIT item indices) and checks it indexes valid items,
 * ascending and without repeats per user. */
static ulm_status load_users(ulm_model *m, const ulm_section *off, const ulm_section *items, ulm_diag *diag) {
    if (off->rows != m->n_users + 1)
        return ulm__fail(diag, ULM_ERR_FORMAT, "USOF", off->offset, "user offsets have %u rows for %u users", off->rows,
                         m->n_users);
    m->user_off = off->data;
    if (ulm__rd32(off->data) != 0 || ulm__rd32(off->data + 4 * (uint64_t)m->n_users) != items->rows)
        return ulm__fail(diag, ULM_ERR_FORMAT, "USOF", off->offset, "user offsets do not span the history table");
    m->user_items = ulm__alloc(m->alloc, ((size_t)items->rows + 1) * sizeof *m->user_items);
    if (!m->user_items) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < items->rows; i++) {
        m->user_items[i] = ulm__rd32(items->data + 4 * (uint64_t)i);
        if (m->user_items[i] >= m->n_items)
            return ulm__fail(diag, ULM_ERR_FORMAT, "USIT", items->offset + 4 * (uint64_t)i, "history names item %u of %u",
                             m->user_items[i], m->n_items);
    }
    for (uint32_t u = 0; u < m->n_users; u++) {
        uint32_t a = ulm__rd32(off->data + 4 * (uint64_t)u), b = ulm__rd32(off->data + 4 * ((uint64_t)u + 1));
        if (b < a || b > items->rows)
            return ulm__fail(diag, ULM_ERR_FORMAT, "USOF", off->offset + 4 * (uint64_t)u, "user offsets decrease");
        for (uint32_t k = a + 1; k < b; k++)
            if (m->user_items[k] <= m->user_items[k - 1])
                return ulm__fail(diag, ULM_ERR_FORMAT, "USIT", items->offset + 4 * (uint64_t)k,
                                 "a user's history is not ascending");
    }
    return ULM_OK;
}

/* Everything after the container checks: sections, semantics, indexes. */
static ulm_status load_parts(ulm_model *m, uint32_t flags, ulm_diag *diag) {
    ulm_status s = ulm_bundle_check_known(m->bundle, known_sections, diag);
    if (s != ULM_OK) return s;
    ulm_section ids, names, prices, pop, uids, uoff, uitems;
    if (ulm_bundle_find(m->bundle, "ITIC", &ids) == ULM_OK) { /* front-coded ids (ulm train --edge) */
        ulm_section other;
        if (ulm_bundle_find(m->bundle, "ITID", &other) == ULM_OK)
            return ulm__fail(diag, ULM_ERR_FORMAT, "ITIC", ids.offset, "the bundle has both ITID and ITIC");
        if ((s = ulm__ids_decode(m, &ids, &ids, diag)) != ULM_OK) return s;
    } else if ((s = need(m->bundle, "ITID", ULM_DT_STRTAB, ULM_NONE, true, &ids, diag)) != ULM_OK) return s;
    if ((s = load_strtab(m, &ids, &m->item_ids, &m->item_index, diag)) != ULM_OK) return s;
    m->n_items = m->item_ids.count;
    uint32_t pop_dt = ulm_bundle_find(m->bundle, "POPR", &pop) == ULM_OK && pop.dtype == ULM_DT_F16 ? ULM_DT_F16 : ULM_DT_F32;
    if ((s = need(m->bundle, "POPR", pop_dt, m->n_items, true, &pop, diag)) != ULM_OK) return s;
    if ((s = need(m->bundle, "ITNM", ULM_DT_STRTAB, m->n_items, false, &names, diag)) != ULM_OK) return s;
    if ((s = need(m->bundle, "ITPR", ULM_DT_F32, m->n_items, false, &prices, diag)) != ULM_OK) return s;
    if (names.data) {
        if ((s = load_strtab(m, &names, &m->item_names, NULL, diag)) != ULM_OK) return s;
        m->has_names = true;
    }
    m->prices = prices.data;
    ulm_section deny;
    if ((s = need(m->bundle, "ITDN", ULM_DT_U8, m->n_items, false, &deny, diag)) != ULM_OK) return s;
    m->deny = deny.data;
    m->pop = pop.data;
    m->pop_score = ulm__alloc(m->alloc, ((size_t)m->n_items + 1) * sizeof *m->pop_score);
    m->pop_order = ulm__alloc(m->alloc, ((size_t)m->n_items + 1) * sizeof *m->pop_order);
    uint32_t *tmp = ulm__alloc(m->alloc, ((size_t)m->n_items + 1) * sizeof *tmp);
    if (!m->pop_score || !m->pop_order || !tmp) {
        ulm__free(m->alloc, tmp, 0);
        return ULM_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < m->n_items; i++) {
        m->pop_score[i] = pop.dtype == ULM_DT_F16 ? ulm__f16_to_f32(ulm__rd16(pop.data + 2 * (uint64_t)i))
                                                  : ulm__rdf32(pop.data + 4 * (uint64_t)i);
        if ((flags & ULM_LOAD_DEEP) && !isfinite(m->pop_score[i])) {
            ulm__free(m->alloc, tmp, 0);
            return ulm__fail(diag, ULM_ERR_FORMAT, "POPR", pop.offset + (pop.dtype == ULM_DT_F16 ? 2 : 4) * (uint64_t)i,
                             "score of item %u is not finite", i);
        }
        m->pop_order[i] = i;
    }
    ulm__rank_by_score(m->pop_order, m->n_items, m->pop_score, tmp);
    ulm__free(m->alloc, tmp, 0);
    if ((s = need(m->bundle, "USID", ULM_DT_STRTAB, ULM_NONE, false, &uids, diag)) != ULM_OK) return s;
    if (uids.data) {
        if ((s = need(m->bundle, "USOF", ULM_DT_U32, ULM_NONE, true, &uoff, diag)) != ULM_OK) return s;
        if ((s = need(m->bundle, "USIT", ULM_DT_U32, ULM_NONE, true, &uitems, diag)) != ULM_OK) return s;
        if ((s = load_strtab(m, &uids, &m->user_ids, &m->user_index, diag)) != ULM_OK) return s;
        m->n_users = m->user_ids.count;
        if ((s = load_users(m, &uoff, &uitems, diag)) != ULM_OK) return s;
    }
    if ((s = ulm__churn_load_parts(m, flags, diag)) != ULM_OK) return s;
    if ((s = ulm__profile_load(m, flags, diag)) != ULM_OK) return s;
    if ((s = ulm__recs_load(m, flags, diag)) != ULM_OK) return s;
    if ((s = ulm__offers_load(m, diag)) != ULM_OK) return s;
    return ULM_OK;
}

ulm_status ulm_model_load(const void *buf, size_t len, const ulm_load_opts *opts, ulm_model **out, ulm_diag *diag) {
    if (diag) memset(diag, 0, sizeof *diag);
    if (!out) return ULM_ERR_MISUSE;
    *out = NULL;
    ulm_load_opts o = ulm_load_opts_init();
    if (opts) {
        if (opts->struct_size < sizeof(uint32_t) * 2 || opts->struct_size > sizeof o)
            return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "ulm_load_opts.struct_size is %u", opts->struct_size);
        memcpy(&o, opts, opts->struct_size);
    }
    ulm_model *m = ulm__calloc(o.alloc, 1, sizeof *m);
    if (!m) return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    m->alloc = o.alloc;
    const void *bytes = buf;
    if (!(o.flags & ULM_LOAD_BORROW) && len) {
        m->owned = ulm__alloc(m->alloc, len);
        if (!m->owned) {
            ulm_model_free(m);
            return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        }
        memcpy(m->owned, buf, len);
        m->owned_len = len;
        bytes = m->owned;
    }
    ulm_status s = ulm_bundle_open(bytes, len, ULM_KIND_MODEL, (o.flags & ULM_LOAD_DEEP) ? ULM_OPEN_DEEP : 0, m->alloc,
                                   &m->bundle, diag);
    if (s == ULM_OK) s = load_parts(m, o.flags, diag);
    if (s != ULM_OK) {
        if (s == ULM_ERR_NOMEM) ulm__fail(diag, s, NULL, 0, "out of memory");
        ulm_model_free(m);
        return s;
    }
    *out = m;
    return ULM_OK;
}

void ulm_model_free(ulm_model *m) {
    if (!m) return;
    ulm__churn_model_free(m);
    ulm__recs_free(m);
    ulm__offers_free(m);
    ulm_bundle_close(m->bundle);
    if (m->item_index.slots) ulm__free(m->alloc, m->item_index.slots, ((size_t)m->item_index.mask + 1) * 4);
    if (m->user_index.slots) ulm__free(m->alloc, m->user_index.slots, ((size_t)m->user_index.mask + 1) * 4);
    ulm__free(m->alloc, m->pop_score, 0);
    ulm__free(m->alloc, m->pop_order, 0);
    ulm__free(m->alloc, m->user_items, 0);
    ulm__free(m->alloc, m->ids_image, m->ids_image_len);
    ulm__profiler_destroy(m->profile);
    ulm__free(m->alloc, m->owned, m->owned_len);
    ulm__free(m->alloc, m, sizeof *m);
}

const char *ulm_model_meta(const ulm_model *m, const char *key) { return ulm_bundle_meta(m->bundle, key); }

uint32_t ulm_model_item_count(const ulm_model *m) { return m->n_items; }

const char *ulm_model_item_id(const ulm_model *m, uint32_t idx, uint32_t *len) {
    return ulm_strtab_get(&m->item_ids, idx, len);
}

const char *ulm_model_item_name(const ulm_model *m, uint32_t idx, uint32_t *len) {
    if (!m->has_names) {
        if (len) *len = 0;
        return NULL;
    }
    return ulm_strtab_get(&m->item_names, idx, len);
}

float ulm_model_item_price(const ulm_model *m, uint32_t idx) {
    if (!m->prices || idx >= m->n_items) return NAN;
    return ulm__rdf32(m->prices + 4 * (uint64_t)idx);
}

ulm_status ulm_model_item_find(const ulm_model *m, const char *id, size_t len, uint32_t *idx) {
    uint32_t i = index_find(&m->item_index, &m->item_ids, id, len);
    if (i == ULM_NONE) return ULM_ERR_NOT_FOUND;
    *idx = i;
    return ULM_OK;
}

uint32_t ulm_model_user_count(const ulm_model *m) { return m->n_users; }

const char *ulm_model_user_id(const ulm_model *m, uint32_t idx, uint32_t *len) {
    return ulm_strtab_get(&m->user_ids, idx, len);
}

ulm_status ulm_model_user_find(const ulm_model *m, const char *id, size_t len, uint32_t *idx) {
    uint32_t i = index_find(&m->user_index, &m->user_ids, id, len);
    if (i == ULM_NONE) return ULM_ERR_NOT_FOUND;
    *idx = i;
    return ULM_OK;
}

const uint32_t *ulm_model_user_history(const ulm_model *m, uint32_t idx, uint32_t *n) {
    if (idx >= m->n_users) {
        *n = 0;
        return NULL;
    }
    uint32_t a = ulm__rd32(m->user_off + 4 * (uint64_t)idx), b = ulm__rd32(m->user_off + 4 * ((uint64_t)idx + 1));
    *n = b - a;
    return m->user_items + a;
}
