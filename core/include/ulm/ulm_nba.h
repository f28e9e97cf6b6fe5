/* ulm_nba.h: retention offers, the next best action: which offer each customer gets under a budget,
 * a control group held out by a hash of the customer id, and uplift from past campaign outcomes.
 *
 * Expected net value of offer o for customer c: p_churn(c) x value(c) x uplift(o) - cost(o), where
 * uplift(o) is the drop in churn probability the offer buys (a prior from the configuration, or the
 * two-model estimate P(retained | treated, o) - P(retained | control) from a past campaign). The plan
 * is greedy by net value over every (customer, offer) pair with a positive net value, largest first
 * (ties: lower customer index, then lower offer index), taking a pair when its cost fits the budget
 * left and the customer has fewer than max_per_customer offers. Customers in the control group are
 * planned the same way but marked as held out and charge nothing, so they are comparable with the
 * treated ones. Definitions: docs/nba.md.
 *
 *     ulm_nba_offer of[2] = {{.cost = 2.5, .uplift = 0.08}, {.cost = 0.05, .uplift = 0.02}};
 *     ulm_nba_customer cu[n];   // p_churn, value, control = ulm_nba_in_control(id, len, seed, 0.1)
 *     size_t need = ulm_nba_work_size(n, 2);
 *     ulm_nba_pick *picks = malloc(n * sizeof *picks);   // max_per_customer = 1
 *     ulm_nba_totals t;
 *     if (ulm_nba_plan(of, 2, cu, n, 500.0, 1, work, need, picks, &n_picks, &t, &diag) == ULM_OK)
 *         for (size_t i = 0; i < n_picks; i++) ... picks[i].customer gets of[picks[i].offer]
 */
#ifndef ULM_NBA_H
#define ULM_NBA_H

#include <stddef.h>
#include <stdint.h>

#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One configured offer: what it costs per customer and the churn probability reduction it buys. */
typedef struct ulm_nba_offer {
    double cost;   /* >= 0, finite */
    double uplift; /* in [-1, 1]: P(retained | offer) - P(retained | nothing) */
} ulm_nba_offer;

/* One customer: risk, value and whether the hash put them in the control group. */
typedef struct ulm_nba_customer {
    double p_churn; /* in [0, 1] */
    double value;   /* >= 0: lifetime value or recent spend */
    int control;    /* 1: held out (ulm_nba_in_control) */
} ulm_nba_customer;

/* One planned (customer, offer) pair. */
typedef struct ulm_nba_pick {
    uint32_t customer, offer; /* indices into the caller's arrays */
    double net;               /* expected net value p_churn x value x uplift - cost */
    int control;              /* 1: held out (no cost charged, no offer sent) */
} ulm_nba_pick;

/* What a plan spends and expects back (treated picks only). */
typedef struct ulm_nba_totals {
    double spend;          /* sum of the treated picks' costs, <= budget */
    double expected_value; /* sum of p_churn x value x uplift over treated picks: value expected to be retained */
    double expected_net;   /* expected_value - spend */
    size_t treated, control;
} ulm_nba_totals;

/* Bucket 0..9999 of a customer id: 64-bit FNV-1a over the seed's 8 little-endian bytes then the id, mod 10000.
 * Pure, thread-safe. @since 0.4 */
ULM_API uint32_t ulm_nba_bucket(const char *id, size_t len, uint64_t seed);
/* 1 when the id's bucket is below share x 10000 (share in [0, 1]): the customer is held out. @since 0.4 */
ULM_API int ulm_nba_in_control(const char *id, size_t len, uint64_t seed, double share);
/* Bytes of scratch ulm_nba_plan needs for n customers and k offers. @since 0.4 */
ULM_API size_t ulm_nba_work_size(size_t n, size_t k);
/* Plans offers (see above) into picks[0..*n_picks), in acceptance order; picks holds at least
 * n x max_per_customer entries. Checks the inputs (ULM_ERR_RANGE naming the offer or customer in diag).
 * Never allocates; thread-safe for distinct work buffers. @since 0.4 */
ULM_API ulm_status ulm_nba_plan(const ulm_nba_offer *offers, size_t k, const ulm_nba_customer *cust, size_t n,
                                double budget, uint32_t max_per_customer, void *work, size_t work_len,
                                ulm_nba_pick *picks, size_t *n_picks, ulm_nba_totals *totals, ulm_diag *diag);

/* Counts of one offer's past campaign outcomes and the two-model uplift estimate. */
typedef struct ulm_nba_uplift_est {
    uint32_t n_treated, retained_treated; /* rows with this offer and treated = 1 */
    uint32_t n_control, retained_control; /* control rows used: this offer's, or all when it has none */
    double uplift;                        /* retained_treated / n_treated - retained_control / n_control */
    double se;                            /* its standard error (Wald) */
    int ok;                               /* 0: no treated or no control rows, uplift left unset */
} ulm_nba_uplift_est;

/* Two-model uplift per offer from past campaign rows (offer[i] in 0..k-1, treated[i], retained[i] in {0, 1}):
 * P(retained | treated, offer) - P(retained | control), the control rate taken from this offer's control rows
 * when it has any and from all control rows otherwise. est[0..k) are filled. Never allocates. @since 0.4 */
ULM_API ulm_status ulm_nba_uplift(const uint32_t *offer, const uint8_t *treated, const uint8_t *retained, size_t n,
                                  size_t k, ulm_nba_uplift_est *est, ulm_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
