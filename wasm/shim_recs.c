/* shim_recs.c: the raw export of the bundle's recommender (ulm_recommend) for both wasm builds.
 * Conventions as in shim.c: plain integers and pointers, results through caller-owned memory. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ulm/ulm_events.h"
#include "ulm/ulm_model.h"
#include "ulm/ulm_recommend.h"
#include "ulm/ulm_status.h"

/* The handle shim.c hands out; only its first member, the model, is read here. */
typedef struct ulm_wasm_model {
    ulm_model *model;
    void *bytes;
} ulm_wasm_model;

/* Top-k for hist[0..n_hist) from the bundle's recommender (popularity when it has none) into
 * items[]/scores[] (room for k each) and, when explain > 0, each item's reasons into because[]
 * (room for k * explain item indices, 0xFFFFFFFF-padded); the count goes to *n_out. The scratch
 * is allocated here, per call, so the core's hot path stays allocation-free. */
int32_t ulm_wasm_recommend(const ulm_wasm_model *h, const uint32_t *hist, uint32_t n_hist, uint32_t k, uint32_t explain,
                           uint32_t *items, float *scores, uint32_t *because, uint32_t *n_out) {
    if (!h || !n_out || (!hist && n_hist)) return ULM_ERR_MISUSE;
    ulm_recommend_opts o = ulm_recommend_opts_init();
    o.k = k;
    o.explain = explain;
    size_t sz = ulm_recommend_scratch_size(h->model, &o, n_hist);
    void *scratch = malloc(sz);
    if (!scratch) return ULM_ERR_NOMEM;
    ulm_status s = ulm_recommend(h->model, hist, n_hist, &o, scratch, sz, items, scores, because, NULL, n_out);
    free(scratch);
    return (int32_t)s;
}

/* The recommender's name ("pop", "als", ...), NUL-terminated, owned by the library. */
const char *ulm_wasm_recs_algo(const ulm_wasm_model *h) { return h ? ulm_model_recs_algo(h->model) : "pop"; }

/* ulm_wasm_recommend with the business rules: times (NULL, or [n_hist] Unix seconds of each
 * entry, INT64_MAX = unknown) judged at *now; allow (NULL, or [item count] flags); cats (NULL =
 * no category filter, else [n_cats] category indices, the only ones allowed, or the ones left out
 * when not_cats). */
int32_t ulm_wasm_recommend_rules(const ulm_wasm_model *h, const uint32_t *hist, uint32_t n_hist, const int64_t *times,
                                 const int64_t *now, const uint8_t *allow, const uint32_t *cats, uint32_t n_cats,
                                 uint32_t not_cats, uint32_t k, uint32_t explain, uint32_t *items, float *scores,
                                 uint32_t *because, uint32_t *n_out) {
    if (!h || !n_out || (!hist && n_hist) || (times && !now)) return ULM_ERR_MISUSE;
    ulm_recommend_opts o = ulm_recommend_opts_init();
    o.k = k;
    o.explain = explain;
    o.hist_time = times;
    o.now = now ? *now : 0;
    o.allow = allow;
    o.categories = cats;
    o.n_categories = n_cats;
    if (not_cats) o.flags |= ULM_RECOMMEND_NOT_CATEGORIES;
    size_t sz = ulm_recommend_scratch_size(h->model, &o, n_hist);
    void *scratch = malloc(sz);
    if (!scratch) return ULM_ERR_NOMEM;
    ulm_status s = ulm_recommend(h->model, hist, n_hist, &o, scratch, sz, items, scores, because, NULL, n_out);
    free(scratch);
    return (int32_t)s;
}

/* Looks up n ids (UTF-8 back to back, lengths in lens) into out[0..n), ULM_NONE for unknown ids
 * (positions kept, so per-entry times stay aligned); returns how many were found. */
uint32_t ulm_wasm_items_find_all(const ulm_wasm_model *h, const char *ids, const uint32_t *lens, uint32_t n,
                                 uint32_t *out) {
    if (!h || !lens || !out) return 0;
    uint32_t found = 0;
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        out[i] = ULM_NONE;
        if (lens[i] && !ids) return found;
        if (ulm_model_item_find(h->model, lens[i] ? ids + at : "", lens[i], &out[i]) == ULM_OK) found++;
        else out[i] = ULM_NONE;
        at += lens[i];
    }
    return found;
}

/* Looks a category (the profiler's) up by name bytes; the index goes to *idx. ULM_ERR_NOT_FOUND
 * when the bundle has no such category. */
int32_t ulm_wasm_category_find(const ulm_wasm_model *h, const char *name, uint32_t len, uint32_t *idx) {
    if (!h || !idx || (!name && len)) return ULM_ERR_MISUSE;
    return (int32_t)ulm_model_category_find(h->model, name ? name : "", len, idx);
}
