/* ulm_recs.h: top-K recommendations from a loaded model for one user's history.
 *
 * The hot path never allocates: the caller passes the output arrays. The history is a
 * list of item indices the user already bought; those are never recommended again.
 * Items on the bundle's deny list (section ITDN: postage, fees, out-of-stock lines) are never
 * recommended either. Ranking ties are broken by the lower item index, so every build gives the
 * same list.
 *
 *     uint32_t items[10], n; float scores[10];
 *     ulm_recs_topk(m, hist, n_hist, 10, items, scores, &n);
 */
#ifndef ULM_RECS_H
#define ULM_RECS_H

#include <stddef.h>
#include <stdint.h>

#include "ulm_model.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes up to k best items not in hist[0..n_hist) into items[]/scores[] (best first) and their
 * number into *n_out (<= k, fewer when the catalogue runs out). Indices in hist that are out of
 * range are ignored. k == 0 gives *n_out == 0. Thread-safe on a shared model. @since 0.1 */
ULM_API ulm_status ulm_recs_topk(const ulm_model *m, const uint32_t *hist, size_t n_hist, uint32_t k,
                                 uint32_t *items, float *scores, uint32_t *n_out);

#ifdef __cplusplus
}
#endif
#endif
