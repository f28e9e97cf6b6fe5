/* score_json.h: ulm_score as JSON in and JSON out (wasm/shim_score.c), shared by both wasm builds
 * (model.score in ulm.mjs, {"op":"score"} of ulm_wasm_request) and the native `ulm score`, so that all
 * three read the same request and print the same keys. */
#ifndef ULM_WASM_SCORE_JSON_H
#define ULM_WASM_SCORE_JSON_H

#include <stdint.h>

#include "cJSON.h"
#include "ulm/ulm_model.h"
#include "ulm/ulm_status.h"

/* Scores one request object (keys: docs/api-js.md, score) against m. Returns the result object, or NULL
 * with *status set and msg[0..cap) holding a sentence. Allocates (cJSON, the work area). */
cJSON *ulm_score_json(const ulm_model *m, const cJSON *req, ulm_status *status, char *msg, size_t cap);

/* Adds s[0..len) (not NUL-terminated) to object o under key; shim_request.c uses it too. */
void ulm_json_add_slice(cJSON *o, const char *key, const char *s, uint32_t len);

#endif
