/* recs_model_impl.h: the trained recommender of a loaded bundle (recs_load.c), scored by
 * recs_score.c. Internal. */
#ifndef ULM_RECS_MODEL_IMPL_H
#define ULM_RECS_MODEL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "ulm/ulm_events.h"

/* On-disk recommender codes (RCHD offset 0), frozen. */
enum { ULM__RC_ITEMKNN = 1, ULM__RC_ALS = 2, ULM__RC_BPR = 3, ULM__RC_EASE = 4, ULM__RC_CONTENT = 5,
       ULM__RC_HYBRID = 6, ULM__RC__END = 7 };

/* RCHD byte offsets (docs/format.md). */
enum { ULM__RCHD_ALGO = 0, ULM__RCHD_ITEMS = 4, ULM__RCHD_FACTORS = 8, ULM__RCHD_COLD = 12, ULM__RCHD_ALPHA = 16,
       ULM__RCHD_HIST_W = 20, ULM__RCHD_WC_WARM = 24, ULM__RCHD_WP_WARM = 28, ULM__RCHD_WC_COLD = 32,
       ULM__RCHD_WP_COLD = 36, ULM__RCHD_SIZE = 64 };

/* Neighbour lists: CSR over items, decoded. */
typedef struct ulm__nblist {
    uint32_t *off; /* [n_items + 1] */
    uint32_t *idx; /* [off[n_items]] */
    float *w;
} ulm__nblist;

typedef struct ulm__recs {
    uint32_t algo, factors, cold_events;
    float alpha, hist_weight, wc_warm, wp_warm, wc_cold, wp_cold;
    float *item_f;     /* ALS, BPR: [n_items x factors] (F32 or F16 RCIF), or NULL when q8 is set */
    const int8_t *q8;  /* ALS, BPR with a Q8_ROW RCIF: [n_items x q8_stride] int8 rows inside the bundle */
    float *q8_scale;   /* [n_items] the rows' scales: item j is q8[j] * q8_scale[j] */
    float *q8_norm;    /* [n_items] ulm__q8_norm of each int8 row: top-K skips rows that cannot enter */
    float *q8_chunk;   /* ulm__q8_chunks of the int8 rows (with the BPR biases): top-K skips whole chunks */
    uint32_t q8_stride;/* bytes per int8 row: factors rounded up to 64 */
    float *gram;       /* ALS: [factors x factors], Y^T Y + reg I */
    float *bias;       /* BPR: [n_items] */
    float *rpop;       /* hybrid: [n_items] popularity the hybrid blends */
    float rpop_inv;    /* 1 / max(rpop), 0 when all zero */
    ulm__nblist nb;    /* item-kNN, content, EASE, hybrid's item-kNN part */
    ulm__nblist cn;    /* hybrid's content part */
    float *gram_chol;  /* ALS: [factors x factors] ulm__chol_factor of gram (one-event fold-in), or NULL */
} ulm__recs;

struct ulm_model;

/* Sets r->gram_chol to the Cholesky factor of r->gram (left NULL when it is not positive definite:
 * the fold-in then factors every system); ULM_ERR_NOMEM when out of memory. */
ulm_status ulm__recs_gram_chol(const struct ulm_model *m, ulm__recs *r);

#endif
