/* ulm_reccycle.h: learning repurchase cycles (the "consumables" business rule) at training time.
 *
 * For each item, every customer with purchases of it on at least two distinct days gives one gap:
 * (last day - first day) / (distinct days - 1), in days. Items with at least min_buyers such
 * customers get the median of their gaps as the cycle; others get 0 (never re-recommended).
 * ulm_recommend allows a bought item again once its last purchase is a cycle old (RCRP section,
 * docs/format.md, docs/recs.md).
 *
 *     float *days = malloc(ev.items.n * sizeof *days);
 *     uint32_t n_cyc;
 *     ulm_repurchase_cycles(&ev, ULM_CYCLE_MIN_BUYERS, days, &n_cyc);
 *     ulm_repurchase_cycles_write(days, ev.items.n, writer);  // RCRP when n_cyc > 0
 */
#ifndef ULM_RECCYCLE_H
#define ULM_RECCYCLE_H

#include <stdint.h>

#include "ulm_bundle.h"
#include "ulm_events.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ULM_CYCLE_MIN_BUYERS 5u /* default: repeat buyers an item needs before it gets a cycle */

/* Learns days[0..ev->items.n) (0 = no cycle) from ev's purchases (guests, returns and other event
 * types ignored); *n_with gets the number of items with a cycle. min_buyers 0 learns none.
 * ULM_ERR_NOMEM on allocation failure. @since 0.4 */
ULM_API ulm_status ulm_repurchase_cycles(const ulm_events *ev, uint32_t min_buyers, float *days, uint32_t *n_with);
/* Writes RCRP (F32, one row per item) when some item has a cycle; nothing otherwise. @since 0.4 */
ULM_API ulm_status ulm_repurchase_cycles_write(const float *days, uint32_t n_items, ulm_writer *w);

#ifdef __cplusplus
}
#endif
#endif
