/* ulm_churn.h: churn risk scoring: L2 logistic regression and gradient-boosted trees over a row of
 * numeric and categorical features, with optional probability calibration (Platt or isotonic).
 *
 * A feature row is float[n_features]: numeric features as their value, categorical features as
 * the category code (0, 1, 2, ... as float), NaN for missing (and for categories unseen in
 * training). Models are built by the training half (ulm_churn_train.h) or loaded from a bundle.
 * Scoring never allocates and is thread-safe on a shared model.
 *
 *     ulm_churn *m = ...;                         // ulm_churn_fit(...) or ulm_churn_decode(...)
 *     float x[19] = {...}, p;
 *     ulm_churn_predict(m, x, 1, &p);             // calibrated P(churn)
 *     ulm_churn_contrib c[5]; uint32_t n;
 *     ulm_churn_explain(m, x, c, 5, &n);          // top contributions to the margin (TreeSHAP / coef x value)
 *     ulm_churn_free(m);
 */
#ifndef ULM_CHURN_H
#define ULM_CHURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Feature kinds (on-disk values, frozen). */
#define ULM_FEAT_NUM 0u /* a number; NaN = missing */
#define ULM_FEAT_CAT 1u /* a category code 0..n_cats-1 as float; NaN = missing or unseen */

/* Model families (on-disk values, frozen). */
#define ULM_CHURN_LOGREG 1u
#define ULM_CHURN_GBDT 2u

/* Calibration kinds (on-disk values, frozen). */
#define ULM_CALIB_NONE 0u
#define ULM_CALIB_PLATT 1u
#define ULM_CALIB_ISOTONIC 2u

/* A trained churn model (one family plus its calibration). */
typedef struct ulm_churn ulm_churn;

/* One feature's contribution to a row's margin (log-odds), for explanations. */
typedef struct ulm_churn_contrib {
    uint32_t feature; /* feature index */
    float value;      /* contribution in log-odds: > 0 raises the risk */
} ulm_churn_contrib;

/* Frees a model. NULL is a no-op. @since 0.2 */
ULM_API void ulm_churn_free(ulm_churn *m);
/* Number of input features a row must have. @since 0.2 */
ULM_API uint32_t ulm_churn_n_features(const ulm_churn *m);
/* ULM_CHURN_LOGREG or ULM_CHURN_GBDT. @since 0.2 */
ULM_API uint32_t ulm_churn_family(const ulm_churn *m);
/* Number of trees (0 for logistic regression). @since 0.2 */
ULM_API uint32_t ulm_churn_n_trees(const ulm_churn *m);
/* Raw margins (log-odds before calibration) of n rows x[n * n_features] into out[n]. Never allocates. @since 0.2 */
ULM_API void ulm_churn_margin(const ulm_churn *m, const float *x, size_t n, float *out);
/* Calibrated probabilities of n rows into out[n]. Never allocates. @since 0.2 */
ULM_API void ulm_churn_predict(const ulm_churn *m, const float *x, size_t n, float *out);
/* Probability of one margin after the model's calibration. @since 0.2 */
ULM_API float ulm_churn_calibrate(const ulm_churn *m, float margin);
/* Per-feature contributions to the margin of one row: exact TreeSHAP (Lundberg et al. 2018, Algorithm 2)
 * for trees, coefficient x standardised value for the linear model. They sum, with the model's expected
 * margin (*base, may be NULL), to the row's margin. Writes all n_features values to phi[n_features];
 * scratch must hold ulm_churn_explain_scratch(m) floats. Never allocates. @since 0.2 */
ULM_API ulm_status ulm_churn_shap(const ulm_churn *m, const float *x, float *phi, float *base, float *scratch);
/* Floats of scratch ulm_churn_shap needs. @since 0.2 */
ULM_API size_t ulm_churn_explain_scratch(const ulm_churn *m);
/* The k largest contributions by absolute value, largest first (ties: lower feature index), into out[k];
 * *n gets how many (min(k, n_features)). scratch as for ulm_churn_shap plus 2 * n_features. @since 0.2 */
ULM_API ulm_status ulm_churn_top_contrib(const ulm_churn *m, const float *x, ulm_churn_contrib *out, uint32_t k,
                                         uint32_t *n, float *scratch);

/* Serialised form (docs/format.md, section CHRN): one little-endian byte blob, written by ulm_churn_encode
 * (training half) and read here. Validates every count, index (tree children in range and acyclic, feature
 * ids < n_features) and value (finite) before use; on failure *out is NULL, diag says where. Copies what it
 * needs: data may be freed afterwards. Allocates (alloc may be NULL). @since 0.2 */
ULM_API ulm_status ulm_churn_decode(const void *data, size_t size, const ulm_allocator *alloc, ulm_churn **out,
                                    ulm_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
