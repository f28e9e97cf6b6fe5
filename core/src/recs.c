/* recs.c: top-K from the popularity ranking, skipping the user's history. Never allocates. */
#include "ulm/ulm_recs.h"
#include "ulm_impl.h"
#include "ulm_model_impl.h"

/* True when item is in hist[0..n). Histories are short next to the catalogue, and the ranking
 * walk visits at most k + n candidates, so a linear scan keeps this allocation-free. */
static int in_history(const uint32_t *hist, size_t n, uint32_t item) {
    for (size_t i = 0; i < n; i++)
        if (hist[i] == item) return 1;
    return 0;
}

ulm_status ulm_recs_topk(const ulm_model *m, const uint32_t *hist, size_t n_hist, uint32_t k, uint32_t *items,
                         float *scores, uint32_t *n_out) {
    if (!m || !n_out || (n_hist && !hist) || (k && (!items || !scores))) return ULM_ERR_MISUSE;
    uint32_t n = 0;
    for (uint32_t r = 0; r < m->n_items && n < k; r++) {
        uint32_t it = m->pop_order[r];
        if ((m->deny && m->deny[it]) || in_history(hist, n_hist, it)) continue;
        items[n] = it;
        scores[n] = m->pop_score[it];
        n++;
    }
    *n_out = n;
    return ULM_OK;
}
