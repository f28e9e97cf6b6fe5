/* ulm_churn_model.h: the churn model stored in a model bundle (sections CHRN, CHFN, CHCT; docs/format.md),
 * scored with reasons phrased for people.
 *
 * A bundle's churn model reads one of two feature sets: ULM_CHURN_SET_CUSTOMER (the customer-v1 vector of
 * ulm_churn_features.h, computed from a customer's history; `ulm train STORE --churn ...`) or
 * ULM_CHURN_SET_TABLE (named CSV columns, numeric or categorical; `ulm import xgboost`).
 *
 *     const ulm_churn *c = ulm_model_churn(model);            // NULL: the bundle has no churn model
 *     float x[ULM_CF_COUNT], p, *scratch = malloc(ulm_model_churn_scratch(model) * sizeof(float));
 *     ulm_cust_features(history, n, as_of, x);
 *     ulm_churn_reason why[3]; uint32_t nw;
 *     ulm_model_churn_score(model, x, &p, why, 3, &nw, scratch);   // why[0].text: "no purchase for 94 days, usually every 21"
 *
 * Scoring never allocates; thread-safe on a shared model with one scratch per thread.
 */
#ifndef ULM_CHURN_MODEL_H
#define ULM_CHURN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ulm_churn.h"
#include "ulm_churn_features.h"
#include "ulm_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Feature sets (META churn.features: "table" or "customer-v1"). */
#define ULM_CHURN_SET_TABLE 0u
#define ULM_CHURN_SET_CUSTOMER 1u

/* One reason for a risk: a feature, its contribution and a sentence. */
typedef struct ulm_churn_reason {
    uint32_t feature; /* feature index */
    float effect;     /* contribution to the margin in log-odds: > 0 raises the risk */
    char text[112];   /* NUL-terminated UTF-8 sentence */
} ulm_churn_reason;

/* The bundle's churn model, or NULL when it has none. Owned by m. @since 0.2 */
ULM_API const ulm_churn *ulm_model_churn(const ulm_model *m);
/* ULM_CHURN_SET_TABLE or ULM_CHURN_SET_CUSTOMER. @since 0.2 */
ULM_API uint32_t ulm_model_churn_set(const ulm_model *m);
/* Name of feature f (length in *len), or NULL when out of range. @since 0.2 */
ULM_API const char *ulm_model_churn_feature(const ulm_model *m, uint32_t f, uint32_t *len);
/* Text of category code of categorical feature f (length in *len), or NULL. @since 0.2 */
ULM_API const char *ulm_model_churn_category(const ulm_model *m, uint32_t f, uint32_t code, uint32_t *len);
/* Floats of scratch ulm_model_churn_score needs. @since 0.2 */
ULM_API size_t ulm_model_churn_scratch(const ulm_model *m);
/* P(churn) of feature row x into *p and, when k > 0, up to k reasons (largest |effect| first; features
 * whose sentences coincide are merged, effects summed) into why[0..*n_why). Never allocates.
 * ULM_ERR_NOT_FOUND when the bundle has no churn model. @since 0.2 */
ULM_API ulm_status ulm_model_churn_score(const ulm_model *m, const float *x, float *p, ulm_churn_reason *why,
                                         uint32_t k, uint32_t *n_why, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
