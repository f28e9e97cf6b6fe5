/* shim_profile.c: raw exports for profiles, segments, stages and CLV (ulm_profile.h) in both wasm
 * builds. ulm.mjs packs a customer's events into fixed 48-byte records plus one UTF-8 string blob;
 * this file resolves item ids against the catalogue and calls ulm_profile_compute, the same code
 * the native `ulm segment` runs. Export list: wasm/exports_profile.txt. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm_events.h"
#include "ulm/ulm_model.h"
#include "ulm/ulm_profile.h"
#include "ulm/ulm_status.h"

/* Same layout as in shim.c (a model plus the bytes it borrows). */
typedef struct ulm_wasm_model {
    ulm_model *model;
    void *bytes;
} ulm_wasm_model;

/* One event record as ulm.mjs writes it (PROFILE_REC_* there):
 *
 * | Off | Size | Field                                                    |
 * |-----|------|----------------------------------------------------------|
 * | 0   | 8    | f64 time, Unix seconds (floored)                         |
 * | 8   | 8    | f64 unit price, NaN when unknown                         |
 * | 16  | 4    | f32 quantity                                             |
 * | 20  | 4    | u32 event type (ulm_event_type)                          |
 * | 24  | 4    | u32 order key, 0xFFFFFFFF when none                      |
 * | 28  | 4    | u32 item id: byte offset into the string blob            |
 * | 32  | 4    | u32 item id: byte length, 0xFFFFFFFF when no item        |
 * | 36  | 4    | u32 query: byte offset into the string blob              |
 * | 40  | 4    | u32 query: byte length (0 = none)                        |
 * | 44  | 4    | padding                                                  |
 */
typedef struct ulm_wasm_prec {
    double time, price;
    float qty;
    uint32_t type, order, item_off, item_len, query_off, query_len, pad;
} ulm_wasm_prec;
_Static_assert(sizeof(ulm_wasm_prec) == 48, "ulm.mjs writes 48-byte records");
_Static_assert(offsetof(ulm_wasm_prec, qty) == 16 && offsetof(ulm_wasm_prec, query_len) == 40, "record layout");

/* Number of doubles in a profile result (ULM_PF_COUNT). */
uint32_t ulm_wasm_profile_feature_count(void) { return ULM_PF_COUNT; }

/* 1 when the model carries a profiler, 0 otherwise. */
uint32_t ulm_wasm_profile_available(const ulm_wasm_model *h) { return h && ulm_model_profiler(h->model) ? 1 : 0; }

/* k-means segment count of the model's profiler (0 when none). */
uint32_t ulm_wasm_profile_segments(const ulm_wasm_model *h) {
    ulm_profiler_info info;
    ulm_profiler_get_info(h ? ulm_model_profiler(h->model) : NULL, &info);
    return info.k;
}

/* Trained-as-of time of the profiler (Unix seconds), 0 when none. */
double ulm_wasm_profile_as_of(const ulm_wasm_model *h) {
    ulm_profiler_info info;
    ulm_profiler_get_info(h ? ulm_model_profiler(h->model) : NULL, &info);
    return (double)info.as_of;
}

/* Vocabulary word i (length in *len), 0 when out of range. */
const char *ulm_wasm_profile_word(const ulm_wasm_model *h, uint32_t i, uint32_t *len) {
    if (!h || !len) return NULL;
    return ulm_profiler_word(ulm_model_profiler(h->model), i, len);
}

/* Description of k-means segment s (length in *len), 0 when out of range. */
const char *ulm_wasm_profile_segment_description(const ulm_wasm_model *h, uint32_t s, uint32_t *len) {
    if (!h || !len) return NULL;
    return ulm_profiler_segment_description(ulm_model_profiler(h->model), s, len);
}

/* Profile of one customer: recs[0..n) records (layout above) with strings in blob; as_of in Unix
 * seconds. Writes out_f[ULM_PF_COUNT] feature values (NaN = undefined) then 5 keyword weights, and
 * out_i[9]: rfm segment, k-means segment, stage, keyword count, 5 keyword word indices. Unknown item
 * ids count as items outside the catalogue. Allocates scratch for the call and frees it. */
int32_t ulm_wasm_profile(const ulm_wasm_model *h, const ulm_wasm_prec *recs, uint32_t n, const char *blob,
                         uint32_t blob_len, double as_of, double *out_f, int32_t *out_i) {
    if (!h || !out_f || !out_i || (n && !recs) || !(fabs(as_of) < 9e15)) return ULM_ERR_MISUSE;
    const ulm_profiler *p = ulm_model_profiler(h->model);
    if (!p) return ULM_ERR_UNSUPPORTED;
    ulm_profile_event *ev = malloc(((size_t)n + 1) * sizeof *ev);
    if (!ev) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        const ulm_wasm_prec *r = &recs[i];
        ulm_profile_event *e = &ev[i];
        if (!(fabs(r->time) < 9e15) || r->type >= ULM_EV__COUNT ||
            (r->item_len != 0xFFFFFFFFu && (uint64_t)r->item_off + r->item_len > blob_len) ||
            (uint64_t)r->query_off + r->query_len > blob_len) {
            free(ev);
            return ULM_ERR_MISUSE;
        }
        e->time = (int64_t)floor(r->time);
        e->price = r->price;
        e->qty = r->qty;
        e->type = (uint8_t)r->type;
        e->order = r->order;
        e->item = ULM_NONE;
        if (r->item_len != 0xFFFFFFFFu) {
            uint32_t idx;
            if (ulm_model_item_find(h->model, blob + r->item_off, r->item_len, &idx) == ULM_OK) e->item = idx;
        }
        e->query = r->query_len ? blob + r->query_off : NULL;
        e->query_len = r->query_len;
    }
    size_t need = ulm_profile_work_size(p, ev, n);
    void *work = malloc(need ? need : 1);
    ulm_profile pr;
    ulm_status s = work ? ulm_profile_compute(p, ev, n, (int64_t)floor(as_of), work, need, &pr) : ULM_ERR_NOMEM;
    free(work);
    free(ev);
    if (s != ULM_OK) return (int32_t)s;
    memcpy(out_f, pr.f, sizeof pr.f);
    for (int k = 0; k < ULM_PROFILE_MAX_KEYWORDS; k++) {
        out_f[ULM_PF_COUNT + k] = k < (int)pr.n_keywords ? pr.keyword_weight[k] : 0;
        out_i[4 + k] = k < (int)pr.n_keywords ? (int32_t)pr.keyword[k] : -1;
    }
    out_i[0] = pr.rfm_segment;
    out_i[1] = pr.segment;
    out_i[2] = pr.stage;
    out_i[3] = (int32_t)pr.n_keywords;
    return ULM_OK;
}
