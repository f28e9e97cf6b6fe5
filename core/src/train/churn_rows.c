/* churn_rows.c: churn training rows from an event table (labels without leakage) and the shop's
 * purchase rhythm (ulm_churn_train.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm_churn_train.h"

/* One event with its position in the table, so ties in time sort the same way every run. */
typedef struct keyed {
    ulm_cust_event e;
    uint32_t idx;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->e.time != y->e.time) return x->e.time < y->e.time ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Customers' histories: the events of user u are hist[off[u] .. off[u+1]), sorted by time. */
typedef struct histories {
    uint32_t n_users;
    size_t *off;
    ulm_cust_event *hist;
} histories;

static void histories_free(histories *h) {
    free(h->off);
    free(h->hist);
    memset(h, 0, sizeof *h);
}

/* Groups the known users' view, cart, purchase and return events by user, each sorted by time. */
static ulm_status histories_build(const ulm_events *ev, histories *h) {
    memset(h, 0, sizeof *h);
    uint32_t nu = ev->users.n;
    h->n_users = nu;
    h->off = calloc((size_t)nu + 2, sizeof *h->off);
    if (!h->off) return ULM_ERR_NOMEM;
    for (size_t i = 0; i < ev->n; i++)
        if (ev->user[i] < nu && ev->type[i] <= ULM_EV_RETURN) h->off[ev->user[i] + 1]++;
    for (uint32_t u = 0; u < nu; u++) h->off[u + 1] += h->off[u];
    size_t total = h->off[nu];
    keyed *k = malloc((total + 1) * sizeof *k);
    size_t *fill = malloc(((size_t)nu + 1) * sizeof *fill);
    h->hist = malloc((total + 1) * sizeof *h->hist);
    if (!k || !fill || !h->hist) {
        free(k);
        free(fill);
        histories_free(h);
        return ULM_ERR_NOMEM;
    }
    memcpy(fill, h->off, (size_t)nu * sizeof *fill);
    for (size_t i = 0; i < ev->n; i++) {
        uint32_t u = ev->user[i];
        if (u >= nu || ev->type[i] > ULM_EV_RETURN) continue;
        keyed *t = &k[fill[u]++];
        t->e.time = ev->time[i];
        t->e.order = ev->order[i];
        t->e.type = ev->type[i];
        t->e.qty = ev->qty[i];
        t->e.price = (float)ev->price[i];
        t->idx = (uint32_t)i;
    }
    for (uint32_t u = 0; u < nu; u++) {
        size_t a = h->off[u], b = h->off[u + 1];
        qsort(k + a, b - a, sizeof *k, cmp_keyed);
        for (size_t j = a; j < b; j++) h->hist[j] = k[j].e;
    }
    free(k);
    free(fill);
    return ULM_OK;
}

void ulm_churn_rows_free(ulm_churn_rows *r) {
    if (!r) return;
    free(r->x);
    free(r->y);
    free(r->user);
    free(r->cut);
    memset(r, 0, sizeof *r);
}

/* Whether the sorted history h[0..n) has a purchase with from <= time < to. */
static int bought_between(const ulm_cust_event *h, size_t n, int64_t from, int64_t to) {
    for (size_t i = 0; i < n; i++)
        if (h[i].type == ULM_EV_PURCHASE && h[i].time >= from && h[i].time < to) return 1;
    return 0;
}

ulm_status ulm_churn_rows_build(const ulm_events *ev, const int64_t *cutoffs, uint32_t n_cutoffs, int64_t horizon_s,
                                ulm_churn_rows *out) {
    if (!ev || !out || !cutoffs || !n_cutoffs || horizon_s < 0) return ULM_ERR_MISUSE;
    memset(out, 0, sizeof *out);
    histories h;
    ulm_status s = histories_build(ev, &h);
    if (s != ULM_OK) return s;
    /* Count the rows first: a customer counts at a cutoff when one purchase precedes it. */
    size_t n = 0;
    for (uint32_t c = 0; c < n_cutoffs; c++)
        for (uint32_t u = 0; u < h.n_users; u++)
            n += bought_between(h.hist + h.off[u], h.off[u + 1] - h.off[u], INT64_MIN, cutoffs[c]);
    if (n > UINT32_MAX / ULM_CF_COUNT) {
        histories_free(&h);
        return ULM_ERR_RANGE;
    }
    out->x = malloc((n + 1) * ULM_CF_COUNT * sizeof *out->x);
    out->y = horizon_s > 0 ? malloc((n + 1) * sizeof *out->y) : NULL;
    out->user = malloc((n + 1) * sizeof *out->user);
    out->cut = malloc((n + 1) * sizeof *out->cut);
    if (!out->x || (horizon_s > 0 && !out->y) || !out->user || !out->cut) {
        histories_free(&h);
        ulm_churn_rows_free(out);
        return ULM_ERR_NOMEM;
    }
    size_t r = 0;
    for (uint32_t c = 0; c < n_cutoffs && s == ULM_OK; c++)
        for (uint32_t u = 0; u < h.n_users && s == ULM_OK; u++) {
            const ulm_cust_event *hu = h.hist + h.off[u];
            size_t nu = h.off[u + 1] - h.off[u];
            if (!bought_between(hu, nu, INT64_MIN, cutoffs[c])) continue;
            s = ulm_cust_features(hu, nu, cutoffs[c], out->x + r * ULM_CF_COUNT);
            if (out->y) {
                int64_t end = cutoffs[c] > INT64_MAX - horizon_s ? INT64_MAX : cutoffs[c] + horizon_s;
                out->y[r] = bought_between(hu, nu, cutoffs[c], end) ? 0.0f : 1.0f;
            }
            out->user[r] = u;
            out->cut[r] = c;
            r++;
        }
    histories_free(&h);
    if (s != ULM_OK) {
        ulm_churn_rows_free(out);
        return s;
    }
    out->n_rows = (uint32_t)r;
    return ULM_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

ulm_status ulm_churn_gap_quantile(const ulm_events *ev, int64_t before, double q, double *days, size_t *n_gaps) {
    if (!ev || !days || !(q >= 0 && q <= 1)) return ULM_ERR_MISUSE;
    *days = NAN;
    if (n_gaps) *n_gaps = 0;
    histories h;
    ulm_status s = histories_build(ev, &h);
    if (s != ULM_OK) return s;
    double *g = malloc((h.off[h.n_users] + 1) * sizeof *g);
    if (!g) {
        histories_free(&h);
        return ULM_ERR_NOMEM;
    }
    size_t n = 0;
    for (uint32_t u = 0; u < h.n_users; u++) {
        int64_t prev = INT64_MIN;
        for (size_t j = h.off[u]; j < h.off[u + 1]; j++) {
            const ulm_cust_event *e = &h.hist[j];
            if (e->type != ULM_EV_PURCHASE || e->time >= before) continue;
            int64_t d = e->time >= 0 ? e->time / 86400 : -((-e->time + 86399) / 86400);
            if (prev != INT64_MIN && d != prev) g[n++] = (double)(d - prev);
            prev = d;
        }
    }
    if (n) {
        qsort(g, n, sizeof *g, cmp_double);
        double pos = q * (double)(n - 1);
        size_t lo = (size_t)floor(pos);
        size_t hi = lo + 1 < n ? lo + 1 : lo;
        *days = g[lo] + (pos - (double)lo) * (g[hi] - g[lo]);
    }
    if (n_gaps) *n_gaps = n;
    free(g);
    histories_free(&h);
    return ULM_OK;
}
