/* nba.c: the retention-offer policy (ulm_nba.h): hash-based control group, greedy budgeted plan,
 * two-model uplift from past campaigns. Portable, no allocation. */
#include <math.h>
#include <string.h>

#include "ulm/ulm_nba.h"
#include "ulm_impl.h"

uint32_t ulm_nba_bucket(const char *id, size_t len, uint64_t seed) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 8; i++) h = (h ^ (uint8_t)(seed >> (8 * i))) * 0x100000001b3ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)id[i]) * 0x100000001b3ull;
    return (uint32_t)(h % 10000u);
}

int ulm_nba_in_control(const char *id, size_t len, uint64_t seed, double share) {
    if (!(share > 0)) return 0;
    return (double)ulm_nba_bucket(id, len, seed) < share * 10000.0;
}

size_t ulm_nba_work_size(size_t n, size_t k) {
    /* candidate ids and merge buffer (uint32 each), net values (double), per-customer counts (uint32) */
    return n * k * (2 * sizeof(uint32_t) + sizeof(double)) + n * sizeof(uint32_t) + 16;
}

/* a ranks before b: larger net value first, then the lower candidate index (customer, then offer). */
static int before(const void *ctx, uint32_t a, uint32_t b) {
    const double *net = ctx;
    return net[a] > net[b] || (net[a] == net[b] && a < b);
}

ulm_status ulm_nba_plan(const ulm_nba_offer *offers, size_t k, const ulm_nba_customer *cust, size_t n,
                        double budget, uint32_t max_per_customer, void *work, size_t work_len, ulm_nba_pick *picks,
                        size_t *n_picks, ulm_nba_totals *totals, ulm_diag *diag) {
    if (n_picks) *n_picks = 0;
    if (totals) memset(totals, 0, sizeof *totals);
    if ((!offers && k) || (!cust && n) || !n_picks || !totals || (!picks && n) || (!work && n && k))
        return ulm__fail(diag, ULM_ERR_MISUSE, "", 0, "ulm_nba_plan: NULL argument");
    if (n * k > UINT32_MAX) return ulm__fail(diag, ULM_ERR_RANGE, "", 0, "%zu customers x %zu offers is too many", n, k);
    if (work_len < ulm_nba_work_size(n, k))
        return ulm__fail(diag, ULM_ERR_RANGE, "", 0, "work buffer of %zu bytes, %zu needed", work_len,
                         ulm_nba_work_size(n, k));
    if (!(budget >= 0)) /* NaN too; +inf means no budget */
        return ulm__fail(diag, ULM_ERR_RANGE, "", 0, "budget %g is not >= 0", budget);
    for (size_t o = 0; o < k; o++)
        if (!(offers[o].cost >= 0 && isfinite(offers[o].cost)) || !(offers[o].uplift >= -1 && offers[o].uplift <= 1))
            return ulm__fail(diag, ULM_ERR_RANGE, "", o, "offer %zu: cost %g must be finite and >= 0, uplift %g in [-1, 1]",
                             o, offers[o].cost, offers[o].uplift);
    for (size_t c = 0; c < n; c++)
        if (!(cust[c].p_churn >= 0 && cust[c].p_churn <= 1) || !(cust[c].value >= 0 && isfinite(cust[c].value)))
            return ulm__fail(diag, ULM_ERR_RANGE, "", c, "customer %zu: p_churn %g must be in [0, 1], value %g finite and >= 0",
                             c, cust[c].p_churn, cust[c].value);
    /* carve the scratch: doubles first for alignment */
    double *net = work;
    uint32_t *idx = (uint32_t *)(net + n * k), *tmp = idx + n * k, *count = tmp + n * k;
    size_t m = 0;
    for (size_t c = 0; c < n; c++) {
        count[c] = 0;
        for (size_t o = 0; o < k; o++) {
            size_t j = c * k + o;
            net[j] = cust[c].p_churn * cust[c].value * offers[o].uplift - offers[o].cost;
            if (net[j] > 0) idx[m++] = (uint32_t)j;
        }
    }
    ulm__merge_order(idx, m, tmp, before, net);
    double left = budget;
    size_t np = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t j = idx[i], c = j / (uint32_t)k, o = j % (uint32_t)k;
        if (count[c] >= max_per_customer) continue;
        if (offers[o].cost > left) continue;
        ulm_nba_pick *p = &picks[np++];
        p->customer = c;
        p->offer = o;
        p->net = net[j];
        p->control = cust[c].control ? 1 : 0;
        count[c]++;
        if (p->control) {
            totals->control++;
            continue;
        }
        left -= offers[o].cost;
        totals->treated++;
        totals->spend += offers[o].cost;
        totals->expected_value += cust[c].p_churn * cust[c].value * offers[o].uplift;
    }
    totals->expected_net = totals->expected_value - totals->spend;
    *n_picks = np;
    return ULM_OK;
}

ulm_status ulm_nba_uplift(const uint32_t *offer, const uint8_t *treated, const uint8_t *retained, size_t n, size_t k,
                          ulm_nba_uplift_est *est, ulm_diag *diag) {
    if ((n && (!offer || !treated || !retained)) || (k && !est))
        return ulm__fail(diag, ULM_ERR_MISUSE, "", 0, "ulm_nba_uplift: NULL argument");
    memset(est, 0, k * sizeof *est);
    uint32_t all_c = 0, all_cr = 0;
    for (size_t i = 0; i < n; i++) {
        if (offer[i] >= k || treated[i] > 1 || retained[i] > 1)
            return ulm__fail(diag, ULM_ERR_RANGE, "", i, "row %zu: offer %u of %zu, treated %u, retained %u", i,
                             (unsigned)offer[i], k, (unsigned)treated[i], (unsigned)retained[i]);
        ulm_nba_uplift_est *e = &est[offer[i]];
        if (treated[i]) {
            e->n_treated++;
            e->retained_treated += retained[i];
        } else {
            e->n_control++;
            e->retained_control += retained[i];
            all_c++;
            all_cr += retained[i];
        }
    }
    for (size_t o = 0; o < k; o++) {
        ulm_nba_uplift_est *e = &est[o];
        if (!e->n_control) {
            e->n_control = all_c;
            e->retained_control = all_cr;
        }
        if (!e->n_treated || !e->n_control) continue;
        double pt = (double)e->retained_treated / e->n_treated, pc = (double)e->retained_control / e->n_control;
        e->uplift = pt - pc;
        e->se = sqrt(pt * (1 - pt) / e->n_treated + pc * (1 - pc) / e->n_control);
        e->ok = 1;
    }
    return ULM_OK;
}
