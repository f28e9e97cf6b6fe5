/* train_pop.c: recency-weighted popularity (purchases minus returns, exponential decay). */
#include <math.h>

#include "ulm/ulm_train.h"
#include "../ulm_impl.h"

ulm_pop_params ulm_pop_params_init(void) {
    ulm_pop_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.half_life_days = 30.0;
    p.as_of = INT64_MIN;
    return p;
}

ulm_status ulm_pop_train(const ulm_events *ev, const ulm_pop_params *p, double *score, int64_t *as_of_used) {
    if (!ev || !p || (!score && ev->items.n)) return ULM_ERR_MISUSE;
    if (p->struct_size != sizeof *p) return ULM_ERR_MISUSE;
    if (!isfinite(p->half_life_days)) return ULM_ERR_RANGE;
    int64_t as_of = p->as_of;
    if (as_of == INT64_MIN) {
        as_of = 0;
        for (size_t i = 0; i < ev->n; i++)
            if (i == 0 || ev->time[i] > as_of) as_of = ev->time[i];
    }
    if (as_of_used) *as_of_used = as_of;
    for (uint32_t i = 0; i < ev->items.n; i++) score[i] = 0.0;
    double lambda = p->half_life_days > 0 ? log(2.0) / (p->half_life_days * 86400.0) : 0.0;
    for (size_t i = 0; i < ev->n; i++) {
        uint32_t it = ev->item[i];
        if (it >= ev->items.n || ev->time[i] > as_of) continue;
        int t = ev->type[i];
        if (t != ULM_EV_PURCHASE && t != ULM_EV_RETURN) continue;
        double w = exp(-lambda * (double)(as_of - ev->time[i]));
        score[it] += t == ULM_EV_PURCHASE ? w : -w;
    }
    for (uint32_t i = 0; i < ev->items.n; i++)
        if (score[i] < 0) score[i] = 0;
    return ULM_OK;
}
