/* ulm_train.h: training (native builds; the wasm scorer does not link this half).
 *
 * Foundation: the recency-weighted popularity recommender.
 *
 *     ulm_pop_params p = ulm_pop_params_init();
 *     p.half_life_days = 30;
 *     double *score = malloc(ev.items.n * sizeof *score);
 *     ulm_pop_train(&ev, &p, score, NULL);
 */
#ifndef ULM_TRAIN_H
#define ULM_TRAIN_H

#include <stdint.h>

#include "ulm_events.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ulm_pop_params {
    uint32_t struct_size;
    double half_life_days; /* a purchase this many days before as_of counts half; <= 0: no decay */
    int64_t as_of;         /* Unix seconds; events after it are ignored. INT64_MIN: the last event's time */
} ulm_pop_params;

/* Defaults: 30-day half-life, as_of = last event. @since 0.1 */
ULM_API ulm_pop_params ulm_pop_params_init(void);
/* score[i] for every item i of ev->items: the sum over purchases of item i of 2^(-age/half_life),
 * minus the same for returns, floored at 0 (guests' orders count: this is item statistics).
 * Deterministic: events are summed in table order in double precision. Never allocates.
 * *as_of_used (may be NULL) gets the as_of actually used. @since 0.1 */
ULM_API ulm_status ulm_pop_train(const ulm_events *ev, const ulm_pop_params *p, double *score, int64_t *as_of_used);

#ifdef __cplusplus
}
#endif
#endif
