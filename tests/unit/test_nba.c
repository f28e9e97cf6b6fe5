/* test_nba.c: the retention-offer policy: budget, ordering, per-customer limits, the hash-based control
 * group (deterministic, close to its share, the FNV-1a reference value) and the two-model uplift. */
#include <stdint.h>
#include <stdlib.h>

#include "ulm/ulm_nba.h"
#include "ulm_test.h"

/* Reference 64-bit FNV-1a (the published offset basis and prime) over seed bytes then id, mod 10000. */
static uint32_t ref_bucket(const char *id, uint64_t seed) {
    unsigned char b[64];
    size_t n = 0;
    for (int i = 0; i < 8; i++) b[n++] = (unsigned char)(seed >> (8 * i));
    for (const char *p = id; *p; p++) b[n++] = (unsigned char)*p;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return (uint32_t)(h % 10000);
}

ULM_TEST(nba_control_hash) {
    char id[32];
    size_t in = 0, total = 20000;
    for (size_t i = 0; i < total; i++) {
        int len = snprintf(id, sizeof id, "C%zu", 10000 + i);
        ASSERT_EQ_INT(ulm_nba_bucket(id, (size_t)len, 42), ref_bucket(id, 42));
        int c = ulm_nba_in_control(id, (size_t)len, 42, 0.1);
        ASSERT_EQ_INT(c, ulm_nba_in_control(id, (size_t)len, 42, 0.1)); /* deterministic */
        in += (size_t)c;
    }
    /* binomial(20000, 0.1): sd = 42.4; allow 4 sd */
    ASSERT_TRUE(in > 2000 - 170 && in < 2000 + 170);
    ASSERT_EQ_INT(ulm_nba_in_control("x", 1, 1, 0), 0);
    ASSERT_EQ_INT(ulm_nba_in_control("x", 1, 1, 1), 1);
    /* another seed draws another group */
    size_t same = 0;
    for (size_t i = 0; i < 2000; i++) {
        int len = snprintf(id, sizeof id, "C%zu", i);
        same += ulm_nba_in_control(id, (size_t)len, 42, 0.5) == ulm_nba_in_control(id, (size_t)len, 7, 0.5);
    }
    ASSERT_TRUE(same > 850 && same < 1150);
    return 0;
}

/* Plans with a scratch buffer of the advertised size. */
static int plan(const ulm_nba_offer *of, size_t k, const ulm_nba_customer *cu, size_t n, double budget, uint32_t maxpc,
                ulm_nba_pick *pk, size_t *np, ulm_nba_totals *t) {
    size_t need = ulm_nba_work_size(n, k);
    void *w = malloc(need);
    ulm_diag d;
    int s = ulm_nba_plan(of, k, cu, n, budget, maxpc, w, need, pk, np, t, &d);
    free(w);
    return s;
}

ULM_TEST(nba_plan_best_offer_and_budget) {
    /* coupon (2.5, 0.08), shipping (1.0, 0.05), reminder (0.05, 0.02), none */
    ulm_nba_offer of[4] = {{2.5, 0.08}, {1.0, 0.05}, {0.05, 0.02}, {0, 0}};
    ulm_nba_customer cu[4] = {{0.9, 200, 0}, {0.5, 50, 0}, {0.1, 10, 0}, {0.01, 1, 0}};
    ulm_nba_pick pk[16];
    size_t np;
    ulm_nba_totals t;
    ASSERT_EQ_INT(plan(of, 4, cu, 4, 1e9, 1, pk, &np, &t), ULM_OK);
    /* by hand: c0 coupon 14.4-2.5 = 11.9 (shipping 8, reminder 3.55); c1 coupon 2-2.5 < 0, shipping 1.25-1 = 0.25,
     * reminder 0.5-0.05 = 0.45 -> reminder; c2 reminder 0.02-0.05 < 0 -> nothing; c3 nothing */
    ASSERT_EQ_INT(np, 2);
    ASSERT_EQ_INT(pk[0].customer, 0);
    ASSERT_EQ_INT(pk[0].offer, 0);
    ASSERT_NEAR(pk[0].net, 0.9 * 200 * 0.08 - 2.5, 1e-12);
    ASSERT_EQ_INT(pk[1].customer, 1);
    ASSERT_EQ_INT(pk[1].offer, 2);
    ASSERT_NEAR(t.spend, 2.55, 1e-12);
    ASSERT_NEAR(t.expected_value, 14.4 + 0.5, 1e-12);
    /* a budget of 2: the coupon no longer fits; greedy goes on to c0's shipping (8 - 1 = 7), then c1's reminder */
    ASSERT_EQ_INT(plan(of, 4, cu, 4, 2.0, 1, pk, &np, &t), ULM_OK);
    ASSERT_EQ_INT(np, 2);
    ASSERT_EQ_INT(pk[0].offer, 1);
    ASSERT_EQ_INT(pk[1].offer, 2);
    ASSERT_TRUE(t.spend <= 2.0);
    /* two offers per customer: c0 gets coupon and shipping and reminder is third, capped at 2 */
    ASSERT_EQ_INT(plan(of, 4, cu, 4, 1e9, 2, pk, &np, &t), ULM_OK);
    size_t c0 = 0;
    for (size_t i = 0; i < np; i++) c0 += pk[i].customer == 0;
    ASSERT_EQ_INT(c0, 2);
    return 0;
}

ULM_TEST(nba_plan_random_budget_order_control) {
    /* random instances: spend <= budget, picks in non-increasing net order, per-customer cap, and control
     * customers charge nothing; each pick is the customer's best offer that fitted (checked against brute force
     * for max 1 with an unlimited budget). */
    uint64_t r = 12345;
    for (int rep = 0; rep < 50; rep++) {
        enum { N = 300, K = 5 };
        ulm_nba_offer of[K];
        ulm_nba_customer cu[N];
        for (int o = 0; o < K; o++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            of[o].cost = (double)(r >> 40) / (1 << 24) * 5;
            of[o].uplift = (double)((r >> 8) & 0xffff) / 65536 * 0.2;
        }
        for (int c = 0; c < N; c++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            cu[c].p_churn = (double)(r >> 40) / (1 << 24);
            cu[c].value = (double)((r >> 8) & 0xffff) / 65536 * 500;
            cu[c].control = (r & 7) == 0;
        }
        static ulm_nba_pick pk[N * 2];
        size_t np;
        ulm_nba_totals t;
        double budget = 20 + rep * 10;
        ASSERT_EQ_INT(plan(of, K, cu, N, budget, 2, pk, &np, &t), ULM_OK);
        ASSERT_TRUE(t.spend <= budget + 1e-9);
        int cnt[N] = {0};
        double spend = 0;
        for (size_t i = 0; i < np; i++) {
            if (i) ASSERT_TRUE(pk[i].net <= pk[i - 1].net);
            ASSERT_TRUE(pk[i].net > 0);
            ASSERT_EQ_INT(pk[i].control, cu[pk[i].customer].control);
            if (!pk[i].control) spend += of[pk[i].offer].cost;
            ASSERT_TRUE(++cnt[pk[i].customer] <= 2);
        }
        ASSERT_NEAR(spend, t.spend, 1e-9);
        ASSERT_EQ_INT(plan(of, K, cu, N, 1e300, 1, pk, &np, &t), ULM_OK);
        for (size_t i = 0; i < np; i++) {
            uint32_t c = pk[i].customer;
            for (int o = 0; o < K; o++)
                ASSERT_TRUE(cu[c].p_churn * cu[c].value * of[o].uplift - of[o].cost <= pk[i].net);
        }
    }
    return 0;
}

ULM_TEST(nba_plan_rejects_bad_input) {
    ulm_nba_offer of[1] = {{-1, 0.1}};
    ulm_nba_customer cu[1] = {{0.5, 10, 0}};
    ulm_nba_pick pk[1];
    size_t np;
    ulm_nba_totals t;
    ASSERT_EQ_INT(plan(of, 1, cu, 1, 10, 1, pk, &np, &t), ULM_ERR_RANGE);
    of[0].cost = 1;
    cu[0].p_churn = 1.5;
    ASSERT_EQ_INT(plan(of, 1, cu, 1, 10, 1, pk, &np, &t), ULM_ERR_RANGE);
    cu[0].p_churn = 0.5;
    ASSERT_EQ_INT(plan(of, 1, cu, 1, -1, 1, pk, &np, &t), ULM_ERR_RANGE);
    char w[8];
    ulm_diag d;
    ASSERT_EQ_INT(ulm_nba_plan(of, 1, cu, 1, 10, 1, w, sizeof w - 8, pk, &np, &t, &d), ULM_ERR_RANGE);
    return 0;
}

ULM_TEST(nba_two_model_uplift) {
    /* constructed campaign: offer 0 treated 1000 (retained 700), control 500 (retained 300): uplift 0.1;
     * offer 1 treated 400 (retained 220) with no control rows of its own: pooled control 300/500 -> -0.05;
     * offer 2 has no treated rows. */
    enum { N = 1000 + 500 + 400 };
    static uint32_t off[N];
    static uint8_t tr[N], re[N];
    size_t n = 0;
    for (int i = 0; i < 1000; i++, n++) off[n] = 0, tr[n] = 1, re[n] = i < 700;
    for (int i = 0; i < 500; i++, n++) off[n] = 0, tr[n] = 0, re[n] = i < 300;
    for (int i = 0; i < 400; i++, n++) off[n] = 1, tr[n] = 1, re[n] = i < 220;
    ulm_nba_uplift_est e[3];
    ulm_diag d;
    ASSERT_EQ_INT(ulm_nba_uplift(off, tr, re, n, 3, e, &d), ULM_OK);
    ASSERT_TRUE(e[0].ok && e[1].ok && !e[2].ok);
    ASSERT_NEAR(e[0].uplift, 0.7 - 0.6, 1e-12);
    ASSERT_NEAR(e[0].se, sqrt(0.7 * 0.3 / 1000 + 0.6 * 0.4 / 500), 1e-12);
    ASSERT_NEAR(e[1].uplift, 0.55 - 0.6, 1e-12);
    ASSERT_EQ_INT(e[1].n_control, 500);
    off[0] = 3;
    ASSERT_EQ_INT(ulm_nba_uplift(off, tr, re, n, 3, e, &d), ULM_ERR_RANGE);
    return 0;
}
