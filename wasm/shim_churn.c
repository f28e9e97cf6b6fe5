/* shim_churn.c: the raw churn exports of both wasm builds (list: wasm/exports_churn.txt), used by
 * Model#churn in ulm.mjs. Same conventions as shim.c: plain integers, doubles and pointers into wasm
 * memory, no global state; buffers are the caller's (JS allocates them once per model). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ulm/ulm_churn_model.h"

/* The handle of shim.c; only its first member (the model) is read here. */
typedef struct ulm_wasm_model {
    ulm_model *model;
    void *bytes;
} ulm_wasm_model;

/* ulm.mjs writes histories as ulm_cust_event records and reads ulm_churn_reason records at these offsets. */
_Static_assert(sizeof(ulm_cust_event) == 24, "ulm.mjs writes 24-byte events");
_Static_assert(offsetof(ulm_cust_event, order) == 8 && offsetof(ulm_cust_event, type) == 12, "event layout");
_Static_assert(offsetof(ulm_cust_event, qty) == 16 && offsetof(ulm_cust_event, price) == 20, "event layout");
_Static_assert(sizeof(ulm_churn_reason) == 120 && offsetof(ulm_churn_reason, text) == 8, "reason layout");

/* What the bundle's churn model is: out[0] = 1 when there is one, out[1] = features, out[2] = feature set
 * (ULM_CHURN_SET_*), out[3] = floats of scratch ulm_wasm_churn_score needs, out[4] = family. */
int32_t ulm_wasm_churn_info(const ulm_wasm_model *h, uint32_t *out) {
    if (!h || !out) return ULM_ERR_MISUSE;
    const ulm_churn *c = ulm_model_churn(h->model);
    out[0] = c != NULL;
    out[1] = c ? ulm_churn_n_features(c) : 0;
    out[2] = ulm_model_churn_set(h->model);
    out[3] = (uint32_t)ulm_model_churn_scratch(h->model);
    out[4] = c ? ulm_churn_family(c) : 0;
    return ULM_OK;
}

/* Name of churn feature f (length in *len), or 0. */
const char *ulm_wasm_churn_feature(const ulm_wasm_model *h, uint32_t f, uint32_t *len) {
    if (!h || !len) return NULL;
    return ulm_model_churn_feature(h->model, f, len);
}

/* The customer-v1 features of ev[0..n) (sorted by time) as of as_of (Unix seconds, a whole number) into
 * x[ULM_CF_COUNT]. */
int32_t ulm_wasm_churn_features(const ulm_cust_event *ev, uint32_t n, double as_of, float *x) {
    if (!(as_of == floor(as_of)) || fabs(as_of) > 9.0e15) return ULM_ERR_MISUSE;
    return (int32_t)ulm_cust_features(ev, n, (int64_t)as_of, x);
}

/* P(churn) of feature row x into *p and up to k reasons into why[] (their number into *n_why); scratch
 * holds the floats ulm_wasm_churn_info reports. Never allocates. */
int32_t ulm_wasm_churn_score(const ulm_wasm_model *h, const float *x, float *p, ulm_churn_reason *why, uint32_t k,
                             uint32_t *n_why, float *scratch) {
    if (!h) return ULM_ERR_MISUSE;
    return (int32_t)ulm_model_churn_score(h->model, x, p, why, k, n_why, scratch);
}

/* P(churn) of n feature rows x[n * features] into p[n], without reasons (the batch scorer; the same values
 * as ulm_wasm_churn_score row by row). Never allocates. */
int32_t ulm_wasm_churn_predict(const ulm_wasm_model *h, const float *x, uint32_t n, float *p) {
    if (!h || (n && (!x || !p))) return ULM_ERR_MISUSE;
    const ulm_churn *c = ulm_model_churn(h->model);
    if (!c) return ULM_ERR_NOT_FOUND;
    ulm_churn_predict(c, x, n, p);
    return ULM_OK;
}
