/* ulm_churn_train.h: training churn models (native builds; the wasm scorers do not link this half).
 *
 * Families: L2-regularised logistic regression (Newton's method on standardised numeric features and
 * one-hot categories) and histogram gradient-boosted trees with second-order gains (Chen & Guestrin 2016,
 * XGBoost; Ke et al. 2017, LightGBM): quantile bins (<= 256 per feature, one reserved for missing),
 * depth-wise growth with depth and leaf limits, shrinkage, L1/L2 on leaf weights, row and column
 * subsampling, learned default directions for missing values, many-vs-many categorical splits, early
 * stopping on a validation set. ulm_churn_fit holds out a stratified validation split, trains the family
 * asked for (or both, choosing by validation AUC), and calibrates (Platt or isotonic) on that split.
 *
 *     ulm_churn_data d = {n_rows, n_features, x, y, kind, n_cats};
 *     ulm_churn_params p = ulm_churn_params_init();   // auto family, Platt calibration, seed 42
 *     ulm_churn *m; ulm_churn_report rep;
 *     if (ulm_churn_fit(&d, &p, &m, &rep, &diag) == ULM_OK) { ...; ulm_churn_free(m); }
 *
 * Training is deterministic for a seed. Histogram building and split search run feature by feature
 * through an optional parallel-for hook (the trainer supplies a pthread pool); every feature's work is
 * done by one task in a fixed order, so the model is identical for any number of threads.
 */
#ifndef ULM_CHURN_TRAIN_H
#define ULM_CHURN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ulm_churn.h"
#include "ulm_churn_features.h"
#include "ulm_events.h"
#include "ulm_parallel.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A training table: row-major features (NaN = missing; categorical = code as float) and 0/1 labels. */
typedef struct ulm_churn_data {
    uint32_t n_rows, n_features;
    const float *x;         /* n_rows * n_features */
    const float *y;         /* n_rows labels, 0 or 1 */
    const uint32_t *kind;   /* n_features: ULM_FEAT_NUM or ULM_FEAT_CAT */
    const uint32_t *n_cats; /* n_features: categories of a categorical feature (codes < n_cats), else 0 */
} ulm_churn_data;

/* Early-stopping metrics. */
#define ULM_ES_LOGLOSS 0u
#define ULM_ES_AUC 1u


typedef struct ulm_gbdt_params {
    uint32_t struct_size;
    uint32_t n_rounds;        /* boosting rounds (trees); default 300 */
    uint32_t max_depth;       /* default 6, at most 30 */
    uint32_t max_leaves;      /* 0 = no limit beyond depth */
    uint32_t max_bins;        /* value bins per numeric feature, 2..255 (one more bin holds missing); default 255 */
    float eta;                /* shrinkage; default 0.1 */
    float lambda, alpha;      /* L2 and L1 on leaf weights; defaults 1, 0 */
    float gamma;              /* minimum gain (loss reduction) to split; default 0 */
    float min_child_weight;   /* minimum hessian sum per child; default 1 */
    float subsample;          /* row fraction per tree; default 1 */
    float colsample;          /* feature fraction per tree; default 1 */
    float cat_smooth;         /* categorical split ordering: G / (H + cat_smooth); default 10 */
    float cat_l2;             /* extra L2 for categorical splits' gain; default 10 */
    uint32_t max_cat_onehot;  /* categorical features with at most this many categories use one-vs-rest splits
                                 (what one-hot encoding gives); more use sorted partitions; default 64 */
    uint32_t early_stopping;  /* stop after this many rounds without a better validation metric; 0 = off */
    uint32_t es_metric;       /* early-stopping metric: ULM_ES_LOGLOSS (default) or ULM_ES_AUC */
    uint64_t seed;
    ulm_parallel_fn parallel; /* NULL = run tasks in the calling thread */
    void *parallel_ctx;
} ulm_gbdt_params;

typedef struct ulm_logreg_params {
    uint32_t struct_size;
    double l2;         /* penalty l2/2 * |w|^2 on the standardised weights (not the intercept); default 1 (= sklearn C=1) */
    uint32_t max_iter; /* Newton iterations; default 100 */
    double tol;        /* stop when the largest Newton step is below this; default 1e-10 */
} ulm_logreg_params;

typedef struct ulm_churn_params {
    uint32_t struct_size;
    uint32_t family;        /* ULM_CHURN_LOGREG, ULM_CHURN_GBDT, or 0 = auto (choose on validation AUC) */
    uint32_t calib;         /* ULM_CALIB_NONE, _PLATT (default) or _ISOTONIC, fitted on the validation split */
    float valid_fraction;   /* stratified hold-out for early stopping, the choice and calibration; default 0.2;
                               0: train the given family on all rows, uncalibrated */
    uint32_t refit;         /* 1 (default): retrain the chosen family on all rows (trees: the early-stopped round count) */
    uint64_t seed;          /* default 42 */
    ulm_gbdt_params gbdt;
    ulm_logreg_params logreg;
} ulm_churn_params;

/* What ulm_churn_fit did. */
typedef struct ulm_churn_report {
    uint32_t family;                  /* the family chosen */
    double valid_auc_logreg;          /* validation AUC of each family trained (NaN when not trained) */
    double valid_auc_gbdt;
    uint32_t gbdt_rounds;             /* trees kept (after early stopping) */
    uint32_t n_train, n_valid;        /* rows used for fitting and for validation */
} ulm_churn_report;

/* Defaults (see each field). @since 0.2 */
ULM_API ulm_gbdt_params ulm_gbdt_params_init(void);
ULM_API ulm_logreg_params ulm_logreg_params_init(void);
ULM_API ulm_churn_params ulm_churn_params_init(void);

/* Trains boosted trees on d; with valid (may be NULL) and p->early_stopping, keeps the rounds up to the best
 * validation metric. *rounds_used (may be NULL) gets the number of trees kept. Allocates *out. @since 0.2 */
ULM_API ulm_status ulm_gbdt_fit(const ulm_churn_data *d, const ulm_churn_data *valid, const ulm_gbdt_params *p,
                                ulm_churn **out, uint32_t *rounds_used, ulm_diag *diag);
/* Trains L2 logistic regression on d. Allocates *out. @since 0.2 */
ULM_API ulm_status ulm_logreg_fit(const ulm_churn_data *d, const ulm_logreg_params *p, ulm_churn **out,
                                  ulm_diag *diag);
/* Fits calibration kind on (margin, y) pairs and stores it in m. Allocates (isotonic). @since 0.2 */
ULM_API ulm_status ulm_churn_calibrate_fit(ulm_churn *m, uint32_t kind, const float *margin, const float *y,
                                           size_t n);
/* The whole pipeline: split, train, choose, calibrate (see the top of this header). @since 0.2 */
ULM_API ulm_status ulm_churn_fit(const ulm_churn_data *d, const ulm_churn_params *p, ulm_churn **out,
                                 ulm_churn_report *rep, ulm_diag *diag);

/* Binary classification metrics of probabilities p against 0/1 labels y. */
typedef struct ulm_binary_metrics {
    double auc;      /* ROC AUC, ties counted half (Mann-Whitney) */
    double pr_auc;   /* average precision: sum over positives of precision at their rank (ties grouped) */
    double logloss;  /* mean negative log-likelihood, p clipped to [1e-15, 1 - 1e-15] */
    double accuracy; /* fraction with (p >= 0.5) == y */
} ulm_binary_metrics;
/* Computes the metrics; NaN for AUC/PR AUC when only one class is present. Allocates scratch. @since 0.2 */
ULM_API ulm_status ulm_binary_metrics_compute(const float *p, const float *y, size_t n, ulm_binary_metrics *out);

/* Stratified split: marks about fraction of each class as validation (valid[i] = 1), deterministically
 * for a seed. @since 0.2 */
ULM_API ulm_status ulm_stratified_split(const float *y, size_t n, double fraction, uint64_t seed, uint8_t *valid);

/* Serialises m into one new malloc'd buffer (the CHRN layout of docs/format.md). @since 0.2 */
ULM_API ulm_status ulm_churn_encode(const ulm_churn *m, uint8_t **buf, size_t *len);


/* Training rows of the customer-v1 features (ulm_churn_features.h) from an event table: one row per
 * (cutoff, customer with a purchase before that cutoff), features from the customer's events before the
 * cutoff only, label 1 (churned) when the customer makes no purchase in [cutoff, cutoff + horizon). */
typedef struct ulm_churn_rows {
    uint32_t n_rows;
    float *x;       /* n_rows * ULM_CF_COUNT */
    float *y;       /* n_rows labels; NULL when built without a horizon */
    uint32_t *user; /* the row's customer (index into ev->users) */
    uint32_t *cut;  /* the row's cutoff (index into cutoffs) */
} ulm_churn_rows;

/* Builds the rows for cutoffs[0..n_cutoffs) (Unix seconds, any order); horizon_s > 0 adds labels, 0 builds
 * feature rows only (for scoring as of cutoffs[0]). Guest events (user ULM_NONE) are skipped. Allocates
 * (free with ulm_churn_rows_free). @since 0.2 */
ULM_API ulm_status ulm_churn_rows_build(const ulm_events *ev, const int64_t *cutoffs, uint32_t n_cutoffs,
                                        int64_t horizon_s, ulm_churn_rows *out);
/* Frees the rows' arrays and zeroes r. @since 0.2 */
ULM_API void ulm_churn_rows_free(ulm_churn_rows *r);
/* The shop's purchase rhythm: quantile q (0..1, linear between order statistics) of the gaps in days between
 * consecutive purchase days of each customer, counting purchases before `before` only; *n_gaps gets how many
 * gaps there were (the quantile is NaN when none). Allocates scratch. @since 0.2 */
ULM_API ulm_status ulm_churn_gap_quantile(const ulm_events *ev, int64_t before, double q, double *days,
                                          size_t *n_gaps);


/* One regression tree in XGBoost's array form (the "trees" of its JSON model), for importing. */
typedef struct ulm_xgb_tree {
    uint32_t n_nodes;
    const int32_t *left, *right;  /* child node ids; -1 marks a leaf */
    const int32_t *feature;       /* split feature (ignored for leaves) */
    const float *cond;            /* split threshold (left when x < cond), or the leaf value */
    const uint8_t *default_left;  /* missing values go left */
    const float *hess;            /* sum of hessians per node (TreeSHAP cover); may be NULL (covers of 1) */
} ulm_xgb_tree;

/* Builds a boosted-tree churn model over n_features numeric features: margin = base_margin + the sum of
 * the trees' leaves, uncalibrated (P = sigmoid(margin), as XGBoost's binary:logistic). Nodes are renumbered
 * from each root (unreachable nodes are dropped); a reference outside the tree, a cycle, a node reached
 * twice, a feature >= n_features or a non-finite value is ULM_ERR_FORMAT naming tree and node. The result
 * is checked again by a round trip through the CHRN decoder. Allocates *out. @since 0.2 */
ULM_API ulm_status ulm_churn_from_trees(uint32_t n_features, float base_margin, const ulm_xgb_tree *trees,
                                        uint32_t n_trees, ulm_churn **out, ulm_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
