/* shim_recs.c: the raw export of the bundle's recommender (ulm_recommend) for both wasm builds.
 * Conventions as in shim.c: plain integers and pointers, results through caller-owned memory. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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
