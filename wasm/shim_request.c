/* shim_request.c: the scorer as one JSON call, for WASI hosts with no JS glue (edge workers in
 * any language, wasmtime, wasmer): write a request into wasm memory, call ulm_wasm_request,
 * read the response, free it. JSON is parsed and printed with the vendored cJSON.
 *
 * Requests (UTF-8 JSON objects):
 *   {"op":"recommend","history":["85123A","71053"],"k":10}   top-K for a visitor's own history
 *   {"op":"recommend","user":"17850","k":10}                 top-K for a user of the bundle's user table
 *   {"op":"info"}                                            catalogue size, users, metadata
 *   {"op":"score","history":[{"item":"85123A","type":"purchase","time":1323000000}],"k":10}
 *                                     everything ulm_score gives (wasm/shim_score.c, docs/api-js.md)
 * Responses:
 *   {"ok":true,"items":[{"item":"22423","score":12.5,"name":"..."}],"unknown_items":0}
 *   {"ok":true,"items":4070,"users":4372,"meta":{"model.recs":"pop",...}}
 *   {"ok":false,"status":"ERR_NOT_FOUND","message":"..."}
 * Scores are the float32 values widened to double, printed so that they read back exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "score_json.h"
#include "shim.h"
#include "ulm/ulm_bundle.h"
#include "ulm/ulm_recs.h"
#include "ulm/ulm_status.h"

#define ULM_REQUEST_MAX_K 100000u

/* Builds {"ok":false,"status":NAME,"message":msg}. */
static cJSON *error_response(ulm_status s, const char *msg) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "ok", 0);
    cJSON_AddStringToObject(r, "status", ulm_status_name((int)s));
    cJSON_AddStringToObject(r, "message", msg);
    return r;
}

/* {"op":"info"}: sizes and every metadata pair. */
static cJSON *info(const ulm_model *m) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "ok", 1);
    cJSON_AddNumberToObject(r, "items", ulm_model_item_count(m));
    cJSON_AddNumberToObject(r, "users", ulm_model_user_count(m));
    const char *keys[] = {"model.kind", "model.recs", "schema.items", "schema.users", "train.as_of", "created.by"};
    cJSON *meta = cJSON_AddObjectToObject(r, "meta");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = ulm_model_meta(m, keys[i]);
        if (v) cJSON_AddStringToObject(meta, keys[i], v);
    }
    return r;
}

/* {"op":"recommend",...}: resolves the history, runs top-K, lists items with scores and names. */
static cJSON *recommend(const ulm_model *m, const cJSON *req) {
    const cJSON *jk = cJSON_GetObjectItemCaseSensitive(req, "k");
    const cJSON *jhist = cJSON_GetObjectItemCaseSensitive(req, "history");
    const cJSON *juser = cJSON_GetObjectItemCaseSensitive(req, "user");
    double kd = jk ? (cJSON_IsNumber(jk) ? jk->valuedouble : -1) : 10;
    if (!(kd >= 0 && kd <= ULM_REQUEST_MAX_K) || kd != (double)(uint32_t)kd)
        return error_response(ULM_ERR_MISUSE, "\"k\" must be a whole number from 0 to 100000");
    if (!jhist == !juser) return error_response(ULM_ERR_MISUSE, "give exactly one of \"history\" and \"user\"");
    uint32_t k = (uint32_t)kd, n_hist = 0, unknown = 0;
    uint32_t *hist = NULL;
    const uint32_t *h = NULL;
    if (jhist) {
        if (!cJSON_IsArray(jhist)) return error_response(ULM_ERR_MISUSE, "\"history\" must be an array of item ids");
        int n = cJSON_GetArraySize(jhist);
        hist = malloc(((size_t)n + 1) * sizeof *hist);
        if (!hist) return error_response(ULM_ERR_NOMEM, "out of memory");
        const cJSON *e;
        cJSON_ArrayForEach(e, jhist) {
            uint32_t idx;
            if (!cJSON_IsString(e)) {
                free(hist);
                return error_response(ULM_ERR_MISUSE, "\"history\" entries must be strings (item ids)");
            }
            if (ulm_model_item_find(m, e->valuestring, strlen(e->valuestring), &idx) == ULM_OK) hist[n_hist++] = idx;
            else unknown++;
        }
        h = hist;
    } else {
        uint32_t u;
        if (!cJSON_IsString(juser)) return error_response(ULM_ERR_MISUSE, "\"user\" must be a string");
        if (ulm_model_user_find(m, juser->valuestring, strlen(juser->valuestring), &u) != ULM_OK)
            return error_response(ULM_ERR_NOT_FOUND, "unknown user (or the bundle has no user table)");
        h = ulm_model_user_history(m, u, &n_hist);
    }
    uint32_t cap = k < ulm_model_item_count(m) ? k : ulm_model_item_count(m), n = 0;
    uint32_t *items = malloc(((size_t)cap + 1) * sizeof *items);
    float *scores = malloc(((size_t)cap + 1) * sizeof *scores);
    cJSON *r;
    if (!items || !scores) r = error_response(ULM_ERR_NOMEM, "out of memory");
    else {
        ulm_status s = ulm_recs_topk(m, h, n_hist, cap, items, scores, &n);
        if (s != ULM_OK) r = error_response(s, ulm_status_str((int)s));
        else {
            r = cJSON_CreateObject();
            cJSON_AddBoolToObject(r, "ok", 1);
            cJSON *arr = cJSON_AddArrayToObject(r, "items");
            for (uint32_t i = 0; i < n; i++) {
                cJSON *o = cJSON_CreateObject();
                uint32_t len;
                const char *id = ulm_model_item_id(m, items[i], &len);
                ulm_json_add_slice(o, "item", id, len);
                cJSON_AddNumberToObject(o, "score", (double)scores[i]);
                const char *name = ulm_model_item_name(m, items[i], &len);
                if (name && len) ulm_json_add_slice(o, "name", name, len);
                cJSON_AddItemToArray(arr, o);
            }
            cJSON_AddNumberToObject(r, "unknown_items", unknown);
        }
    }
    free(items);
    free(scores);
    free(hist);
    return r;
}

/* {"op":"score",...}: the answer of model.score with "ok":true added, or an error response. */
static cJSON *score(const ulm_model *m, const cJSON *req) {
    ulm_status s;
    char msg[200];
    cJSON *r = ulm_score_json(m, req, &s, msg, sizeof msg);
    if (!r) return error_response(s, msg);
    cJSON_AddBoolToObject(r, "ok", 1);
    return r;
}

/* Answers one JSON request about model h. On return *out points to a NUL-terminated JSON response
 * allocated with malloc (release it with the exported free) and *out_len is its length. Returns
 * ULM_OK when a response was written (which may itself report an error with "ok":false), or
 * ULM_ERR_NOMEM / ULM_ERR_MISUSE when none could be. */
int32_t ulm_wasm_request(const ulm_wasm_model *h, const char *req, uint32_t len, char **out, uint32_t *out_len) {
    if (!out || !out_len || (!req && len)) return ULM_ERR_MISUSE;
    *out = NULL;
    *out_len = 0;
    cJSON *doc = cJSON_ParseWithLength(req, len);
    cJSON *r;
    if (!h) r = error_response(ULM_ERR_MISUSE, "no model (load one first)");
    else if (!doc || !cJSON_IsObject(doc)) r = error_response(ULM_ERR_PARSE, "the request is not a JSON object");
    else {
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(doc, "op");
        if (!cJSON_IsString(op)) r = error_response(ULM_ERR_MISUSE, "the request needs \"op\": \"recommend\", \"score\" or \"info\"");
        else if (strcmp(op->valuestring, "recommend") == 0) r = recommend(h->model, doc);
        else if (strcmp(op->valuestring, "info") == 0) r = info(h->model);
        else if (strcmp(op->valuestring, "score") == 0) r = score(h->model, doc);
        else r = error_response(ULM_ERR_UNSUPPORTED, "unknown \"op\" (known: recommend, score, info)");
    }
    cJSON_Delete(doc);
    char *text = r ? cJSON_PrintUnformatted(r) : NULL;
    cJSON_Delete(r);
    if (!text) return ULM_ERR_NOMEM;
    *out = text;
    *out_len = (uint32_t)strlen(text);
    return ULM_OK;
}
