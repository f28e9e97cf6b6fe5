/* ulm_recommend.h: recommendations from the bundle's trained recommender, with explanations.
 *
 * `ulm train --recs ALGO` stores a recommender next to the popularity fallback (sections RCHD,
 * RCIF, RCGR, RCIB, RCNO/RCNI/RCNW, RCCO/RCCI/RCCW, RCPP; docs/format.md). ulm_recommend scores
 * a purchase history with it: item-kNN, content and EASE add the history items' stored
 * neighbour rows; ALS folds the history in (Hu, Koren & Volinsky 2008: one f x f Cholesky
 * solve against the stored item Gram matrix) and scores every item's factors; BPR averages the
 * history's item factors; the hybrid blends item-kNN, content and popularity (content and
 * popularity lead for users with fewer than cold_events items). An empty history, a bundle
 * without a recommender, or items the model gives equal scores fall back to the popularity
 * order (POPR). Items in the history and on the deny list (ITDN) are never recommended, except
 * (business rules, docs/recs.md) a history item whose last purchase (opts.hist_time) is at least
 * its learned repurchase cycle (RCRP) before opts.now; opts.allow and opts.categories narrow the
 * candidates further; the deny list always wins.
 *
 * Explanations ("because you bought X"): for each recommended item, up to `explain` of the
 * history's items with the largest positive contribution to its score: the neighbour weight
 * for neighbour models, c_h * y_j^T W y_h for ALS (W the user's solved system, as implicit's
 * `explain`), y_h . y_j / n for BPR.
 *
 * The hot path never allocates: the caller passes a scratch buffer of
 * ulm_recommend_scratch_size() bytes (4-byte aligned), reusable across calls and histories of
 * up to the size it was computed for. The result does not depend on the history's order or
 * repeats (it is sorted and deduplicated in the scratch), so every build ranks alike.
 *
 *     ulm_recommend_opts o = ulm_recommend_opts_init();      // k 10, explain 3
 *     size_t sz = ulm_recommend_scratch_size(m, &o, n_hist);
 *     void *scratch = malloc(sz);
 *     uint32_t items[10], because[10 * 3], n; float scores[10];
 *     ulm_recommend(m, hist, n_hist, &o, scratch, sz, items, scores, because, NULL, &n);
 *     // because[i * 3 + r] is the r-th reason for items[i], or ULM_NONE
 */
#ifndef ULM_RECOMMEND_H
#define ULM_RECOMMEND_H

#include <stddef.h>
#include <stdint.h>

#include "ulm_events.h" /* ULM_NONE */
#include "ulm_model.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ULM_RECOMMEND_MAX_EXPLAIN 16u   /* the most reasons per recommended item */
#define ULM_RECOMMEND_POPULARITY 0x1u   /* flag: ignore the trained recommender, rank by POPR */
#define ULM_RECOMMEND_NOT_CATEGORIES 0x2u /* flag: categories[] lists categories to leave out, not the only ones */

typedef struct ulm_recommend_opts {
    uint32_t struct_size; /* sizeof(ulm_recommend_opts), set by ulm_recommend_opts_init */
    uint32_t k;           /* how many items */
    uint32_t explain;     /* reasons per item, 0..ULM_RECOMMEND_MAX_EXPLAIN */
    uint32_t flags;       /* ULM_RECOMMEND_* */
    /* Business rules (docs/recs.md), all optional; ulm_recommend_opts_init leaves them off. */
    const int64_t *hist_time;   /* NULL, or [n_hist]: when each hist entry was bought (Unix seconds) */
    int64_t now;                /* with hist_time: an item whose last purchase is >= its repurchase cycle
                                 * (RCRP) before now may be recommended again */
    const uint8_t *allow;       /* NULL, or [n_items]: only items with allow[i] != 0 (e.g. in stock) */
    const uint32_t *categories; /* NULL (no filter), or [n_categories] category indices: only items in
                                 * them (or, with ULM_RECOMMEND_NOT_CATEGORIES, only items not in them) */
    uint32_t n_categories;
} ulm_recommend_opts;

/* Defaults: k 10, explain 3, no flags. @since 0.2 */
ULM_API ulm_recommend_opts ulm_recommend_opts_init(void);
/* The trained recommender's name: "pop", "itemknn", "als", "bpr", "ease", "content", "hybrid".
 * Never NULL. @since 0.2 */
ULM_API const char *ulm_model_recs_algo(const ulm_model *m);
/* Bytes of scratch ulm_recommend needs for o and histories of up to n_hist items. @since 0.2 */
ULM_API size_t ulm_recommend_scratch_size(const ulm_model *m, const ulm_recommend_opts *o, size_t n_hist);
/* Writes up to o->k items (best first) into items[]/scores[] and their number into *n_out;
 * because (room for k * explain, may be NULL when explain is 0) gets each item's reasons
 * (history item indices, best first, ULM_NONE-padded) and because_w (may be NULL) their
 * contributions. hist indices out of range are ignored. o may be NULL (defaults). Never
 * allocates; ULM_ERR_MISUSE when scratch is too small or misaligned. Thread-safe on a shared
 * model with one scratch per thread. @since 0.2 */
ULM_API ulm_status ulm_recommend(const ulm_model *m, const uint32_t *hist, size_t n_hist,
                                 const ulm_recommend_opts *o, void *scratch, size_t scratch_size, uint32_t *items,
                                 float *scores, uint32_t *because, float *because_w, uint32_t *n_out);

/* Learned repurchase cycle of item i in days (RCRP), 0 when it has none. @since 0.4 */
ULM_API float ulm_model_repurchase_days(const ulm_model *m, uint32_t i);
/* Number of item categories (the profiler's PFCN; 0 without a profiler). @since 0.4 */
ULM_API uint32_t ulm_model_category_count(const ulm_model *m);
/* Index of the category named name[0..len) into *c; ULM_ERR_NOT_FOUND when absent. @since 0.4 */
ULM_API ulm_status ulm_model_category_find(const ulm_model *m, const char *name, size_t len, uint32_t *c);
/* Category of item i, ULM_NONE when it has none (or the bundle has no categories). @since 0.4 */
ULM_API uint32_t ulm_model_item_category(const ulm_model *m, uint32_t i);

#ifdef __cplusplus
}
#endif
#endif
