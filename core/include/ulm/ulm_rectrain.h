/* ulm_rectrain.h: training and offline evaluation of recommenders (native builds only).
 *
 * The interaction matrix (users x items, CSR with its CSC transpose) is built from the event
 * table with one weight per event type (purchases > carts > views; a return cancels a purchase)
 * or from (user, item, weight) triplets. Recommenders: popularity, item-kNN (cosine over
 * raw, TF-IDF or BM25 weighted columns), implicit ALS (Hu, Koren & Volinsky 2008; conjugate
 * gradient after Takacs, Pilaszy & Tikk 2011, or exact Cholesky), BPR (Rendle et al. 2009),
 * EASE (Steck 2019), content (TF-IDF over item text) and a hybrid for cold users.
 * Dense maths and threads go through a ulm_linalg table (ulm_linalg.h).
 *
 *     ulm_imatrix x, train, test;
 *     ulm_imatrix_from_events(&ev, NULL, &x, &d);
 *     ulm_imatrix_split_random(&x, 0.2, 42, &train, &test, &d);
 *     ulm_rec_params p = ulm_rec_params_init(ULM_REC_EASE);
 *     p.lambda = 200;
 *     ulm_rec_model m;
 *     ulm_rec_train(&train, &p, ulm_linalg_ref(), &m, &d);
 *     ulm_rec_metrics at[2]; ulm_rec_eval_info info; uint32_t ks[2] = {10, 20};
 *     ulm_rec_evaluate(&m, &train, &test, ks, 2, ulm_linalg_ref(), 1, at, &info, &d);
 *     ulm_rec_model_free(&m); ulm_imatrix_free(&x); ...
 */
#ifndef ULM_RECTRAIN_H
#define ULM_RECTRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ulm_bundle.h"
#include "ulm_events.h"
#include "ulm_linalg.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the interaction matrix ------------------------------------------------------------- */

/* Users x items, CSR (indptr/indices/data, columns ascending per row) plus its CSC transpose
 * (t_*, rows ascending per column). time[] (per CSR entry, may be NULL) is the first time the
 * user met the item (Unix seconds). All arrays are malloc'd and owned. */
typedef struct ulm_imatrix {
    uint32_t n_users, n_items;
    size_t nnz;
    size_t *indptr;
    uint32_t *indices;
    float *data;
    int64_t *time;
    size_t *t_indptr;
    uint32_t *t_indices;
    float *t_data;
} ulm_imatrix;

/* Weight of one event of each type; a return subtracts `purchase` (it cancels the purchase). */
typedef struct ulm_event_weights {
    uint32_t struct_size;
    float view, cart, purchase; /* finite, >= 0 */
    int64_t before;             /* only events with time < before count (INT64_MAX: all) */
} ulm_event_weights;

/* Defaults: view 1, cart 2, purchase 4, all events. @since 0.2 */
ULM_API ulm_event_weights ulm_event_weights_init(void);
/* Builds the matrix over all users and items of ev (guests and item-less events are skipped;
 * per (user, item) the weights are summed and entries with a sum <= 0 dropped). w may be NULL
 * (defaults). Allocates; on failure *out is zeroed. @since 0.2 */
ULM_API ulm_status ulm_imatrix_from_events(const ulm_events *ev, const ulm_event_weights *w, ulm_imatrix *out,
                                           ulm_diag *diag);
/* Builds the matrix from n triplets (u[k] < n_users, i[k] < n_items, finite w[k]; time may be
 * NULL). Duplicates are summed (earliest time kept); sums <= 0 are dropped. @since 0.2 */
ULM_API ulm_status ulm_imatrix_from_triplets(uint32_t n_users, uint32_t n_items, size_t n, const uint32_t *u,
                                             const uint32_t *i, const float *w, const int64_t *time,
                                             ulm_imatrix *out, ulm_diag *diag);
/* Frees the arrays; NULL or zeroed matrices are fine. */
ULM_API void ulm_imatrix_free(ulm_imatrix *m);

/* Per user, a seeded random fraction frac (0 < frac < 1) of the user's items goes to test
 * (round(frac * n), at most n - 1: every user keeps one training item). Same shape for both. */
ULM_API ulm_status ulm_imatrix_split_random(const ulm_imatrix *m, double frac, uint64_t seed, ulm_imatrix *train,
                                            ulm_imatrix *test, ulm_diag *diag);
/* Entries first met at time >= cutoff go to test. Needs m->time. */
ULM_API ulm_status ulm_imatrix_split_time(const ulm_imatrix *m, int64_t cutoff, ulm_imatrix *train,
                                          ulm_imatrix *test, ulm_diag *diag);
/* Each user with >= 2 items gives its most recently met item (ties: higher index) to test. Needs m->time. */
ULM_API ulm_status ulm_imatrix_split_last(const ulm_imatrix *m, ulm_imatrix *train, ulm_imatrix *test,
                                          ulm_diag *diag);

/* ---- recommenders ----------------------------------------------------------------------- */

typedef enum ulm_rec_algo {
    ULM_REC_POP = 0,
    ULM_REC_ITEMKNN = 1,
    ULM_REC_ALS = 2,
    ULM_REC_BPR = 3,
    ULM_REC_EASE = 4,
    ULM_REC_CONTENT = 5,
    ULM_REC_HYBRID = 6,
    ULM_REC__COUNT = 7
} ulm_rec_algo;

/* Column weighting for item-kNN. */
typedef enum ulm_knn_weighting { ULM_KNN_NONE = 0, ULM_KNN_TFIDF = 1, ULM_KNN_BM25 = 2 } ulm_knn_weighting;

/* The largest catalogue EASE accepts (its n x n dense inverse). */
#define ULM_EASE_MAX_ITEMS 20000u

typedef struct ulm_rec_params {
    uint32_t struct_size;
    ulm_rec_algo algo;
    uint32_t threads;    /* >= 1 */
    uint64_t seed;
    uint32_t factors;    /* ALS, BPR: > 0 */
    uint32_t iters;      /* ALS sweeps; BPR epochs */
    float reg;           /* ALS, BPR L2 */
    float alpha;         /* ALS confidence 1 + alpha * r */
    uint32_t cg_steps;   /* ALS CG steps per solve (0: exact Cholesky) */
    float lambda;        /* EASE L2 */
    uint32_t neighbours; /* item-kNN, content: top-N per item; EASE: entries kept per item in bundles */
    ulm_knn_weighting weighting;
    float bm25_k1, bm25_b;
    float shrink;        /* item-kNN similarity shrinkage (0: none) */
    float lr;            /* BPR learning rate */
    /* content/hybrid: per-item text (names, genres); NULL entries are empty. */
    const char *const *item_text;
    const uint32_t *item_text_len;
    uint32_t cold_events; /* hybrid: users with fewer training items get the cold blend */
} ulm_rec_params;

/* Defaults for algo: 64 factors, 15 iterations (BPR: 100 epochs), reg 0.01, alpha 10, 3 CG steps,
 * lambda 200, 20 neighbours (EASE: 100 kept per item), cosine (BM25 k1 1.2, b 0.75 when
 * chosen), lr 0.05, seed 42, 1 thread. @since 0.2 */
ULM_API ulm_rec_params ulm_rec_params_init(ulm_rec_algo algo);
/* "pop", "itemknn", "als", "bpr", "ease", "content", "hybrid"; NULL for anything else. */
ULM_API const char *ulm_rec_algo_name(int algo);
/* The algorithm named s, or -1. */
ULM_API int ulm_rec_algo_parse(const char *s);

/* A trained recommender. Which members are set depends on algo; all malloc'd and owned. */
typedef struct ulm_rec_model {
    ulm_rec_algo algo;
    uint32_t n_users, n_items;
    float *pop;            /* [n_items] popularity (sum of weights); always set */
    uint32_t factors;      /* ALS, BPR */
    float *user_f, *item_f;/* [n_users x factors], [n_items x factors] */
    float *item_bias;      /* BPR: [n_items] */
    float reg, alpha;      /* ALS: kept for fold-in */
    float *gram;           /* ALS: [factors x factors] item Gram matrix Y^T Y, for fold-in */
    size_t *nb_ptr;        /* item-kNN, content, hybrid: CSR over items, neighbours best first */
    uint32_t *nb_idx;
    float *nb_w;
    float *dense;          /* EASE: B [n_items x n_items] row-major, zero diagonal */
    struct ulm_rec_model *parts; /* hybrid: [0] main (item-kNN), [1] content; n_parts = 2 */
    uint32_t n_parts, cold_events;
    double train_seconds;  /* set by the caller if it times training */
} ulm_rec_model;

/* Trains p->algo on x. la may be NULL (reference). Errors: ULM_ERR_RANGE for bad parameters
 * (factors 0, NaN, lambda <= 0, catalogue too large for EASE, no interactions)
 * with diag saying which. Deterministic for (x, p) including p->threads, except BPR with more
 * than one thread (lock-free updates race by design). Allocates; on failure *out is zeroed. @since 0.2 */
ULM_API ulm_status ulm_rec_train(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la,
                                 ulm_rec_model *out, ulm_diag *diag);
/* Frees everything m owns and zeroes it. */
ULM_API void ulm_rec_model_free(ulm_rec_model *m);
/* scores[0..n_items) for a user (user < n_users, or ULM_NONE for an unknown one) whose history
 * is items[0..n) with weights w (w may be NULL: all 1). Never allocates for pop, item-kNN,
 * EASE, content; ALS/BPR use the trained user row, ALS folds in unknown users into scratch,
 * which needs factors * (factors + 4) floats (scratch may be NULL otherwise). @since 0.2 */
ULM_API ulm_status ulm_rec_score(const ulm_rec_model *m, uint32_t user, const uint32_t *items, const float *w,
                                 size_t n, float *scores, float *scratch);

/* Floats of scratch ulm_rec_score needs for m (0 when it needs none). */
ULM_API size_t ulm_rec_scratch_floats(const ulm_rec_model *m);

/* Writes m into a model bundle under construction (sections RCHD and what the algorithm needs:
 * RCIF/RCGR for ALS, RCIF/RCIB for BPR, RCNO/RCNI/RCNW neighbour lists for item-kNN, content and
 * EASE (the ease_keep largest entries of each row of B), plus RCCO/RCCI/RCCW and RCPP for the
 * hybrid; layouts in docs/format.md). hist_weight is the interaction weight a history item counts
 * as when ALS folds a history in (the purchase weight). Popularity writes nothing (POPR is the
 * model). The bundle's items must be m's items. @since 0.2 */
ULM_API ulm_status ulm_rec_model_export(const ulm_rec_model *m, float hist_weight, uint32_t ease_keep,
                                        ulm_writer *w, ulm_diag *diag);

/* How ulm_rec_model_export_q stores numbers (docs/format.md, "Compact recommender sections"). */
typedef enum ulm_rec_quant {
    ULM_REC_QUANT_NONE = 0, /* F32 factors, U32 neighbour ids, F32 weights (ulm_rec_model_export) */
    ULM_REC_QUANT_INT8 = 1, /* Q8_ROW factors (int8 + per-row scale); U16 ids (<= 65536 items), F16 weights */
    ULM_REC_QUANT_FP16 = 2  /* F16 factors; U16 ids (<= 65536 items), F16 weights */
} ulm_rec_quant;

/* ulm_rec_model_export with the number format q; the Gram matrix, biases and popularity stay F32,
 * and weights a half float cannot hold (|w| > 65504) stay F32. @since 0.3 */
ULM_API ulm_status ulm_rec_model_export_q(const ulm_rec_model *m, float hist_weight, uint32_t ease_keep,
                                          ulm_rec_quant q, ulm_writer *w, ulm_diag *diag);
/* ulm_rec_model_export_q; with gram_triangle, ALS stores its Gram matrix as the upper triangle (RCGT,
 * required: a reader that predates it refuses the bundle with ULM_ERR_VERSION). @since 0.4 */
ULM_API ulm_status ulm_rec_model_export_c(const ulm_rec_model *m, float hist_weight, uint32_t ease_keep,
                                          ulm_rec_quant q, bool gram_triangle, ulm_writer *w, ulm_diag *diag);

/* ---- evaluation ------------------------------------------------------------------------- */

typedef struct ulm_rec_metrics {
    uint32_t k;
    double precision, recall, ndcg, map, hit_rate; /* means over evaluated users */
    double coverage;                               /* distinct recommended items / n_items */
} ulm_rec_metrics;

typedef struct ulm_rec_eval_info {
    uint32_t users_evaluated;   /* users with >= 1 test item */
    uint32_t users_no_test;     /* users with training items but no test item (skipped) */
    uint32_t users_cold;        /* evaluated users with no training item */
    size_t test_items;          /* test entries used */
} ulm_rec_eval_info;

/* Ranks every item for each user with test items, excluding the user's training items, and
 * averages the metrics at each k in ks[0..n_ks) (k >= 1; k larger than the catalogue ranks what
 * there is). NDCG uses binary relevance and log2(rank + 1) discounts; MAP@k divides by
 * min(k, test items); recall@k by the number of test items. Runs on `threads` tasks. @since 0.2 */
ULM_API ulm_status ulm_rec_evaluate(const ulm_rec_model *m, const ulm_imatrix *train, const ulm_imatrix *test,
                                    const uint32_t *ks, size_t n_ks, const ulm_linalg *la, unsigned threads,
                                    ulm_rec_metrics *out, ulm_rec_eval_info *info, ulm_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
