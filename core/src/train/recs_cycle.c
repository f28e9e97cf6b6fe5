/* recs_cycle.c: repurchase cycles per item from purchase events (ulm_reccycle.h). */
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm_reccycle.h"
#include "ulm_impl.h"

typedef struct buy {
    uint32_t item, user;
    int64_t day;
} buy;

static int cmp_buy(const void *a, const void *b) {
    const buy *x = a, *y = b;
    if (x->item != y->item) return x->item < y->item ? -1 : 1;
    if (x->user != y->user) return x->user < y->user ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Day number of Unix seconds t (floor division). */
static int64_t day_of(int64_t t) { return t >= 0 ? t / 86400 : -((-t + 86399) / 86400); }

ulm_status ulm_repurchase_cycles(const ulm_events *ev, uint32_t min_buyers, float *days, uint32_t *n_with) {
    if (!ev || (!days && ev->items.n) || !n_with) return ULM_ERR_MISUSE;
    *n_with = 0;
    for (uint32_t i = 0; i < ev->items.n; i++) days[i] = 0;
    if (min_buyers == 0) return ULM_OK;
    size_t n = 0;
    for (size_t k = 0; k < ev->n; k++)
        n += ev->type[k] == ULM_EV_PURCHASE && ev->user[k] < ev->users.n && ev->item[k] < ev->items.n;
    buy *b = malloc((n + 1) * sizeof *b);
    double *gaps = malloc((n + 1) * sizeof *gaps);
    if (!b || !gaps) {
        free(b);
        free(gaps);
        return ULM_ERR_NOMEM;
    }
    n = 0;
    for (size_t k = 0; k < ev->n; k++)
        if (ev->type[k] == ULM_EV_PURCHASE && ev->user[k] < ev->users.n && ev->item[k] < ev->items.n)
            b[n++] = (buy){ev->item[k], ev->user[k], day_of(ev->time[k])};
    qsort(b, n, sizeof *b, cmp_buy);
    for (size_t a = 0; a < n;) {
        uint32_t item = b[a].item;
        size_t ng = 0;
        while (a < n && b[a].item == item) {
            size_t s = a;
            int64_t first = b[a].day, last = first;
            uint32_t distinct = 0;
            for (; a < n && b[a].item == item && b[a].user == b[s].user; a++)
                if (a == s || b[a].day != b[a - 1].day) distinct++, last = b[a].day;
            if (distinct >= 2) gaps[ng++] = (double)(last - first) / (double)(distinct - 1);
        }
        if (ng >= min_buyers) {
            qsort(gaps, ng, sizeof *gaps, cmp_double);
            double med = ng % 2 ? gaps[ng / 2] : 0.5 * (gaps[ng / 2 - 1] + gaps[ng / 2]);
            days[item] = (float)med; /* >= 1: the days of one customer's purchases are distinct */
            (*n_with)++;
        }
    }
    free(b);
    free(gaps);
    return ULM_OK;
}

ulm_status ulm_repurchase_cycles_write(const float *days, uint32_t n_items, ulm_writer *w) {
    bool any = false;
    for (uint32_t i = 0; i < n_items && !any; i++) any = days[i] > 0;
    if (!any) return ULM_OK;
    uint8_t *le = malloc((size_t)n_items * 4 + 1);
    if (!le) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < n_items; i++) ulm__wrf32(le + 4 * (size_t)i, days[i]);
    ulm_status s = ulm_writer_section(w, "RCRP", ULM_DT_F32, n_items, 1, 1, 0, le, (uint64_t)n_items * 4);
    free(le);
    return s;
}
