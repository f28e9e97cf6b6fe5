/* test_profile_state.c: incremental profiles (trainer/profile_state.h). On a random shop (shared orders
 * across days, returns on purchase days, searches, same-second events), the aggregates folded in one go
 * and folded from a state in parts finish to profiles bit-identical to the core's ulm_profile_compute
 * (ulm_profile_run); the inter-purchase variance of the merge equals a two-pass reference computed here;
 * a fold that would land on the customer's last day is refused (the caller recomputes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "profile_impl.h"
#include "profile_state.h"
#include "test_events.h"
#include "ulm/ulm.h"
#include "ulm_test.h"

#define DAY 86400LL
#define T0 1293840000LL /* 2011-01-01 00:00 UTC */

static uint64_t rnd(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* 40 customers over 120 days, in time order (as a log is appended). */
static void random_shop(ulm_events *ev) {
    static const char *const texts[] = {"RED SPOTTY MUG", "JUMBO BAG RED", "GLASS LAMP", "HEART CANDLE HOLDER",
                                        "WOODEN STAR", "LUNCH BOX SPACEBOY", "TEA SET ROSE", "PAPER CHAIN KIT"};
    static const char *const queries[] = {"red mug", "glass lamp lights", "tea", "jumbo bag spaceboy"};
    uint64_t s = 7;
    ulm_events_init(ev);
    for (int64_t day = 0; day < 120; day++)
        for (int k = 0; k < 12; k++) {
            char user[16], item[16], order[24];
            int u = (int)(rnd(&s) % 40), it = (int)(rnd(&s) % 8);
            if (u % 7 == 0 && day % 3) continue; /* some customers come rarely */
            snprintf(user, sizeof user, "u%d", u);
            snprintf(item, sizeof item, "i%d", it);
            /* An order id shared by a customer's lines across two days now and then. */
            snprintf(order, sizeof order, "o%d-%lld", u, (long long)(day / (u % 3 ? 1 : 2)));
            int64_t t = T0 + day * DAY + (int64_t)(rnd(&s) % 24) * 3600 + (k % 3 ? 0 : 1800);
            int r = (int)(rnd(&s) % 10);
            double price = 1.0 + (double)(rnd(&s) % 400) / 100.0;
            float qty = (float)(1 + rnd(&s) % 6);
            if (r < 5) {
                ulm_test_push(ev, user, item, order, ULM_EV_PURCHASE, t, qty, price, texts[it], NULL);
                if (r == 0) ulm_test_push(ev, user, item, order, ULM_EV_PURCHASE, t, 1, price, texts[it], NULL); /* same second */
            } else if (r == 5) {
                ulm_test_push(ev, user, item, "", ULM_EV_PURCHASE, t, qty, price, texts[it], NULL); /* no order id */
            } else if (r == 6) {
                ulm_test_push(ev, user, item, order, ULM_EV_RETURN, t + 60, 1, price, NULL, NULL);
            } else if (r == 7) {
                ulm_test_push(ev, user, "", "", ULM_EV_SEARCH, t, 1, NAN, NULL, queries[rnd(&s) % 4]);
            } else {
                ulm_test_push(ev, user, item, "", r == 8 ? ULM_EV_VIEW : ULM_EV_CART, t, 1, NAN, texts[it], NULL);
            }
        }
    /* u1 buys early and late on day 61 (the second as-of falls between: recomputed), out of table order. */
    ulm_test_push(ev, "u1", "i2", "late1", ULM_EV_PURCHASE, T0 + 61 * DAY + 3600, 2, 3.5, texts[2], NULL);
    ulm_test_push(ev, "u1", "i3", "late2", ULM_EV_PURCHASE, T0 + 61 * DAY + 23 * 3600, 1, 2.5, texts[3], NULL);
}

static int same_profile(const ulm_profile *x, const ulm_profile *y) {
    for (int f = 0; f < ULM_PF_COUNT; f++)
        if (memcmp(&x->f[f], &y->f[f], sizeof x->f[f]) != 0 && !(isnan(x->f[f]) && isnan(y->f[f]))) return 0;
    return x->n_keywords == y->n_keywords && memcmp(x->keyword, y->keyword, sizeof x->keyword) == 0 &&
           memcmp(x->keyword_weight, y->keyword_weight, sizeof x->keyword_weight) == 0 && x->stage == y->stage &&
           x->segment == y->segment && x->rfm_segment == y->rfm_segment;
}

static int same_set(const ulm_profile_set *a, const ulm_profile_set *b) {
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->user[i] != b->user[i] || !same_profile(&a->pr[i], &b->pr[i])) return 0;
    return 1;
}

ULM_TEST(profile_state_equals_full_computation) {
    ulm_events ev;
    random_shop(&ev);
    ulm_profiler_params pp = ulm_profiler_params_init();
    pp.k = 3;
    ulm_profiler *p;
    ulm_profile_set fitted;
    ulm_profiler_report rep;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ASSERT_STATUS(ulm_profile_train(&ev, &pp, &p, &fitted, &rep, &d), ULM_OK);
    ulm_profile_set_free(&fitted);
    char path1[64], path2[64];
    snprintf(path1, sizeof path1, "/tmp/ulm_pstate_%d_1", (int)getpid());
    snprintf(path2, sizeof path2, "/tmp/ulm_pstate_%d_2", (int)getpid());
    /* States at day 30 -> 61 (a mid-day as-of: same-day events recompute) -> 90 -> 121, each against the full run. */
    const int64_t as_of[4] = {T0 + 30 * DAY, T0 + 61 * DAY + 12 * 3600, T0 + 90 * DAY, T0 + 121 * DAY};
    ulm_profile_state_report r;
    ulm_profile_set full, inc;
    ASSERT_STATUS(ulm_profile_run_state(&ev, p, as_of[0], NULL, path1, &inc, &r, &d), ULM_OK);
    ASSERT_STATUS(ulm_profile_run(&ev, p, as_of[0], &full, &d), ULM_OK);
    ASSERT_TRUE(strcmp(r.mode, "full") == 0 && r.recomputed == inc.n);
    ASSERT_TRUE(same_set(&full, &inc));
    ulm_profile_set_free(&full), ulm_profile_set_free(&inc);
    size_t appended = 0, recomputed = 0;
    for (int k = 1; k < 4; k++) {
        const char *in = k % 2 ? path1 : path2, *out = k % 2 ? path2 : path1;
        ASSERT_STATUS(ulm_profile_run_state(&ev, p, as_of[k], in, out, &inc, &r, &d), ULM_OK);
        ASSERT_STATUS(ulm_profile_run(&ev, p, as_of[k], &full, &d), ULM_OK);
        ASSERT_TRUE(strcmp(r.mode, "incremental") == 0);
        ASSERT_EQ_INT(r.kept + r.appended + r.recomputed + r.added, inc.n);
        appended += r.appended, recomputed += r.recomputed;
        ASSERT_TRUE(same_set(&full, &inc));
        ulm_profile_set_free(&full), ulm_profile_set_free(&inc);
    }
    ASSERT_TRUE(appended > 80 && recomputed > 0); /* both paths taken */
    remove(path1), remove(path2);
    ulm_profiler_free(p);
    ulm_events_free(&ev);
    return 0;
}

ULM_TEST(profile_state_merge_of_variance_is_exact) {
    /* One customer buying on days with irregular gaps; folded in three parts vs once. */
    ulm_events ev;
    ulm_events_init(&ev);
    const int days[] = {0, 3, 4, 11, 30, 31, 47, 90, 91, 200};
    const int nd = (int)(sizeof days / sizeof days[0]);
    for (int i = 0; i < nd; i++) {
        char order[16];
        snprintf(order, sizeof order, "o%d", i);
        ulm_test_push(&ev, "A", i % 2 ? "mug" : "lamp", order, ULM_EV_PURCHASE, T0 + days[i] * DAY + 3600 * (i % 20), 1 + i,
             0.1 * (i + 1), i % 2 ? "RED MUG" : "GLASS LAMP", NULL);
        if (i % 3 == 0) ulm_test_push(&ev, "A", "mug", order, ULM_EV_RETURN, T0 + days[i] * DAY + 3600 * 21, 1, 0.3, NULL, NULL);
    }
    ulm_test_push(&ev, "B", "mug", "x", ULM_EV_PURCHASE, T0, 1, 1.0, NULL, NULL);
    ulm_profiler_params pp = ulm_profiler_params_init();
    pp.as_of = T0 + 201 * DAY;
    ulm_profiler *p;
    ulm_diag d;
    ASSERT_STATUS(ulm_profiler_build(&ev, &pp, &p, &d), ULM_OK);
    uint32_t all[64], n = 0;
    for (size_t i = 0; i < ev.n; i++)
        if (ev.user[i] == 0) all[n++] = (uint32_t)i;
    ulm_pstate one = {0}, parts = {0};
    ulm_pstate_cust c1, c2;
    memset(&c1, 0, sizeof c1), memset(&c2, 0, sizeof c2);
    ulm_status st;
    ASSERT_TRUE(ulm_pstate_fold(p, &ev, all, n, &c1, NULL, &one, &st));
    /* Parts: events of days 0..11, 30..47, 90..200 (each part after the previous part's last day). */
    uint32_t cut[3] = {0, 0, 0};
    for (uint32_t k = 0; k < n; k++) {
        int64_t day = (ev.time[all[k]] - T0) / DAY;
        if (day <= 11) cut[0] = k + 1;
        if (day <= 47) cut[1] = k + 1;
    }
    cut[2] = n;
    uint32_t from = 0;
    for (int part = 0; part < 3; part++) {
        ulm_pstate next = {0};
        const uint32_t *src = parts.pool ? parts.pool + c2.off : NULL;
        ASSERT_TRUE(ulm_pstate_fold(p, &ev, all + from, cut[part] - from, &c2, src, &next, &st));
        ulm_pstate_free(&parts);
        parts = next;
        from = cut[part];
    }
    ulm_profile a, b, ref;
    ulm_pstate_finish(p, &c1, one.pool + c1.off, pp.as_of, &a);
    ulm_pstate_finish(p, &c2, parts.pool + c2.off, pp.as_of, &b);
    ASSERT_TRUE(same_profile(&a, &b));
    /* The core's own computation, and a two-pass variance of the gaps worked out here. */
    ulm_profile_set set;
    ASSERT_STATUS(ulm_profile_run(&ev, p, pp.as_of, &set, &d), ULM_OK);
    ref = set.pr[0];
    ASSERT_TRUE(same_profile(&a, &ref));
    double mean = (double)(days[nd - 1] - days[0]) / (nd - 1), ss = 0;
    for (int i = 1; i < nd; i++) ss += ((days[i] - days[i - 1]) - mean) * ((days[i] - days[i - 1]) - mean);
    ASSERT_NEAR(b.f[ULM_PF_IPT_VAR], ss / (nd - 2), 1e-9);
    ASSERT_NEAR(b.f[ULM_PF_IPT_MEAN], mean, 0);
    ASSERT_NEAR(b.f[ULM_PF_PURCHASE_DAYS], nd, 0);
    /* A fold onto the last event's day is refused and leaves the aggregates as they were. */
    uint32_t last = all[n - 1];
    ulm_pstate_cust before = c2;
    ulm_pstate sink = {0};
    ASSERT_TRUE(!ulm_pstate_fold(p, &ev, &last, 1, &c2, parts.pool + c2.off, &sink, &st) && st == ULM_OK);
    ASSERT_TRUE(memcmp(&before, &c2, sizeof c2) == 0);
    ulm_pstate_free(&sink);
    ulm_profile_set_free(&set);
    ulm_pstate_free(&one), ulm_pstate_free(&parts);
    ulm_profiler_free(p);
    ulm_events_free(&ev);
    return 0;
}
