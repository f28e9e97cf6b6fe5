/* test_churn_features.c: the customer-v1 features against values worked out by hand, labels without
 * leakage (every event after the cutoff changed, the features stay bit for bit), the purchase-rhythm
 * quantile against a direct computation, and the sentences for people. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ulm/ulm_churn_train.h"
#include "ulm_test.h"

#define D 86400

ULM_TEST(churn_features_by_hand) {
    /* as of day 100: purchases on days 10 (order 1: 2 lines), 40 (order 2), 70 (orders 3 and 4 on one day),
     * a return on day 41, a view on day 95, a cart on day 20 (older than 30 days). */
    const float nan = NAN;
    ulm_cust_event h[] = {
        {10 * D + 3600, 1, 2, 2, 5.0f},  {10 * D + 3600, 1, 2, 1, 10.0f}, {20 * D, 0xFFFFFFFFu, 1, 1, nan},
        {40 * D, 2, 2, 3, 1.0f},         {41 * D, 2, 3, 1, 1.0f},         {70 * D, 3, 2, 1, 100.0f},
        {70 * D + 60, 4, 2, 1, nan},     {95 * D, 0xFFFFFFFFu, 0, 1, nan},
        {100 * D, 5, 2, 50, 50.0f}, /* at as_of: not read */
    };
    float x[ULM_CF_COUNT];
    ASSERT_STATUS(ulm_cust_features(h, sizeof h / sizeof h[0], 100 * D, x), ULM_OK);
    ASSERT_NEAR(x[ULM_CF_RECENCY], 30.0 - 60.0 / D, 1e-4);
    ASSERT_NEAR(x[ULM_CF_TENURE], 90.0 - 1.0 / 24, 1e-4);
    ASSERT_EQ_INT(x[ULM_CF_ORDERS], 4);
    ASSERT_EQ_INT(x[ULM_CF_ORDERS_30], 2);     /* order 3 is exactly 30 days old (windows include their end) */
    ASSERT_EQ_INT(x[ULM_CF_ORDERS_90], 4);     /* order 1 is 90 days less an hour old */
    ASSERT_EQ_INT(x[ULM_CF_ORDERS_365], 4);
    ASSERT_NEAR(x[ULM_CF_SPEND], 10 + 10 + 3 + 100, 1e-4);
    ASSERT_NEAR(x[ULM_CF_SPEND_90], 123, 1e-4);
    ASSERT_NEAR(x[ULM_CF_AOV], 123.0 / 4, 1e-4);
    ASSERT_EQ_INT(x[ULM_CF_PURCHASE_DAYS], 3);
    ASSERT_NEAR(x[ULM_CF_MEAN_GAP], 30, 1e-6);  /* gaps 30 and 30 */
    ASSERT_NEAR(x[ULM_CF_GAP_SD], 0, 1e-6);
    ASSERT_NEAR(x[ULM_CF_LAST_GAP], 30, 1e-6);
    ASSERT_NEAR(x[ULM_CF_OVERDUE], x[ULM_CF_RECENCY] / 30, 1e-5);
    ASSERT_NEAR(x[ULM_CF_LINES_PER_ORDER], 5.0 / 4, 1e-6);
    ASSERT_NEAR(x[ULM_CF_RETURN_RATE], 1.0 / 5, 1e-6);
    ASSERT_EQ_INT(x[ULM_CF_VIEWS_30], 1);
    ASSERT_EQ_INT(x[ULM_CF_CARTS_30], 0);
    char text[112];
    ulm_cust_feature_phrase(ULM_CF_RECENCY, x, text, sizeof text);
    ASSERT_STR_EQ(text, "no purchase for 29 days, usually every 30");
    ulm_cust_feature_phrase(ULM_CF_RETURN_RATE, x, text, sizeof text);
    ASSERT_STR_EQ(text, "returned 20% of lines bought");
    ASSERT_EQ_INT(ulm_cust_feature_phrase(ULM_CF_ORDERS, x, text, 4), 17); /* "4 orders in total", truncated */
    ASSERT_STR_EQ(text, "4 o");
    /* uneven gaps: days 0, 10, 40 -> gaps 10 and 30: mean 20, population sd 10 */
    ulm_cust_event g[] = {{0, 1, 2, 1, 1}, {10 * D, 2, 2, 1, 1}, {40 * D, 3, 2, 1, 1}};
    ASSERT_STATUS(ulm_cust_features(g, 3, 134 * D, x), ULM_OK);
    ASSERT_NEAR(x[ULM_CF_MEAN_GAP], 20, 1e-6);
    ASSERT_NEAR(x[ULM_CF_GAP_SD], 10, 1e-5);
    ASSERT_NEAR(x[ULM_CF_LAST_GAP], 30, 1e-6);
    ulm_cust_feature_phrase(ULM_CF_OVERDUE, x, text, sizeof text);
    ASSERT_STR_EQ(text, "no purchase for 94 days, usually every 20");
    /* no purchase before as_of: NaN purchase features, zero counts */
    ASSERT_STATUS(ulm_cust_features(g, 3, 0, x), ULM_OK);
    ASSERT_TRUE(isnan(x[ULM_CF_RECENCY]) && x[ULM_CF_ORDERS] == 0);
    ulm_cust_feature_phrase(ULM_CF_RECENCY, x, text, sizeof text);
    ASSERT_STR_EQ(text, "never bought");
    /* unsorted histories are refused */
    ulm_cust_event u[] = {{10, 1, 2, 1, 1}, {5, 2, 2, 1, 1}};
    ASSERT_STATUS(ulm_cust_features(u, 2, 100, x), ULM_ERR_MISUSE);
    return 0;
}

static uint64_t ls = 99;
static uint32_t lrand(uint32_t n) {
    ls = ls * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((ls >> 33) % n);
}

/* A random shop: 60 customers, 1500 events over 400 days, in random order. */
static void random_shop(ulm_events *ev) {
    char id[16];
    for (int u = 0; u < 60; u++) {
        int n = snprintf(id, sizeof id, "c%d", u);
        ulm_dict_intern(&ev->users, id, (size_t)n, NULL);
    }
    ulm_dict_intern(&ev->items, "i", 1, NULL);
    for (int i = 0; i < 1500; i++) {
        ulm_event e = {lrand(60), 0, lrand(300), ULM_NONE, (int64_t)lrand(400 * D), (uint8_t)lrand(4),
                       (float)(1 + lrand(5)), 0.5 + lrand(40)};
        ulm_events_push(ev, &e);
    }
}

ULM_TEST(churn_labels_do_not_leak) {
    ulm_events ev;
    ulm_events_init(&ev);
    random_shop(&ev);
    const int64_t cut[2] = {200 * D, 300 * D}, horizon = 60 * D;
    ulm_churn_rows a, b;
    ASSERT_STATUS(ulm_churn_rows_build(&ev, cut, 2, horizon, &a), ULM_OK);
    ASSERT_TRUE(a.n_rows > 60); /* both cutoffs contribute */
    /* change every event at or after the later cutoff beyond recognition (all of them are also after the
     * first cutoff) */
    for (size_t i = 0; i < ev.n; i++)
        if (ev.time[i] >= cut[1]) {
            ev.type[i] = ev.type[i] == ULM_EV_PURCHASE ? ULM_EV_VIEW : ULM_EV_PURCHASE;
            ev.qty[i] *= 7;
            ev.price[i] = 1000 - ev.price[i];
            ev.order[i] = lrand(300);
            ev.time[i] += lrand(30 * D);
        }
    for (int i = 0; i < 300; i++) { /* and add more after it */
        ulm_event e = {lrand(60), 0, lrand(300), ULM_NONE, cut[1] + (int64_t)lrand(90 * D), ULM_EV_PURCHASE, 2, 9};
        ulm_events_push(&ev, &e);
    }
    ASSERT_STATUS(ulm_churn_rows_build(&ev, cut, 2, horizon, &b), ULM_OK);
    ASSERT_EQ_INT(a.n_rows, b.n_rows);
    uint32_t label_changes = 0;
    for (uint32_t r = 0; r < a.n_rows; r++) {
        ASSERT_EQ_INT(a.user[r], b.user[r]);
        ASSERT_EQ_INT(a.cut[r], b.cut[r]);
        /* features as of either cutoff read nothing at or after it: bit for bit the same (NaN included) */
        ASSERT_TRUE(memcmp(a.x + (size_t)r * ULM_CF_COUNT, b.x + (size_t)r * ULM_CF_COUNT, ULM_CF_COUNT * sizeof(float)) == 0);
        if (a.cut[r] == 1) label_changes += a.y[r] != b.y[r];
        else ASSERT_TRUE(a.y[r] == b.y[r]); /* the first cutoff's window [200, 260) was not touched */
    }
    ASSERT_TRUE(label_changes > 0); /* the change was real: later labels moved */
    /* labels by a direct scan: churned = no purchase in [cut, cut + horizon) */
    for (uint32_t r = 0; r < b.n_rows; r++) {
        int bought = 0, before = 0;
        for (size_t i = 0; i < ev.n; i++) {
            if (ev.user[i] != b.user[r] || ev.type[i] != ULM_EV_PURCHASE) continue;
            int64_t c = cut[b.cut[r]];
            bought |= ev.time[i] >= c && ev.time[i] < c + horizon;
            before |= ev.time[i] < c;
        }
        ASSERT_TRUE(before);
        ASSERT_EQ_INT(b.y[r], bought ? 0 : 1);
    }
    ulm_churn_rows_free(&a);
    ulm_churn_rows_free(&b);
    ulm_events_free(&ev);
    return 0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

ULM_TEST(churn_rhythm_quantile_direct) {
    ulm_events ev;
    ulm_events_init(&ev);
    ls = 5;
    random_shop(&ev);
    double q;
    size_t n;
    ASSERT_STATUS(ulm_churn_gap_quantile(&ev, 250 * D, 0.9, &q, &n), ULM_OK);
    /* direct: per customer, sorted distinct purchase days before day 250, consecutive differences */
    double gaps[2000];
    size_t k = 0;
    for (uint32_t u = 0; u < 60; u++) {
        int days[400], nd = 0;
        for (int d = 0; d < 250; d++) {
            int any = 0;
            for (size_t i = 0; i < ev.n && !any; i++)
                any = ev.user[i] == u && ev.type[i] == ULM_EV_PURCHASE && ev.time[i] / D == d;
            if (any) days[nd++] = d;
        }
        for (int i = 1; i < nd; i++) gaps[k++] = days[i] - days[i - 1];
    }
    ASSERT_EQ_INT(n, k);
    qsort(gaps, k, sizeof *gaps, cmp_d);
    double pos = 0.9 * (double)(k - 1);
    size_t lo = (size_t)pos;
    ASSERT_NEAR(q, gaps[lo] + (pos - (double)lo) * (gaps[lo + 1] - gaps[lo]), 1e-9);
    ulm_events_free(&ev);
    return 0;
}
