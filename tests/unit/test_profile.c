/* test_profile.c: profiles against values worked out by hand here, the as-of cut, the RFM map of
 * docs/segments.md, k-means++/silhouette on separated groups, determinism, stages against the
 * customer's own rhythm, and the bundle round trip with damaged sections. */
#include <stdlib.h>

#include "export.h"
#include "profile_impl.h"
#include "profile_run.h"
#include "test_damage.h"
#include "test_events.h"
#include "ulm/ulm.h"
#include "ulm_test.h"

#define DAY 86400LL
#define T0 1293840000LL /* 2011-01-01 00:00 UTC, a Saturday */

/* Adds one event to ev (item and order by name; "" = none), without a query. */
static void push(ulm_events *ev, const char *user, const char *item, const char *order, int type, int64_t t, float qty,
                 double price, const char *text) {
    ulm_test_push(ev, user, item, order, type, t, qty, price, text, NULL);
}

/* A small shop: customer A buys on three days (one return), B once, C searches. */
static void small_shop(ulm_events *ev) {
    ulm_events_init(ev);
    push(ev, "A", "mug", "o1", ULM_EV_PURCHASE, T0 + 10 * 3600, 2, 5.0, "RED SPOTTY MUG");         /* Sat 10:00 */
    push(ev, "A", "bag", "o1", ULM_EV_PURCHASE, T0 + 10 * 3600, 1, 3.0, "JUMBO BAG RED");
    push(ev, "A", "mug", "o2", ULM_EV_PURCHASE, T0 + 4 * DAY + 15 * 3600, 4, 4.0, NULL);          /* Wed 15:00, discounted */
    push(ev, "A", "mug", "c2", ULM_EV_RETURN, T0 + 4 * DAY + 16 * 3600, 1, 4.0, NULL);
    push(ev, "A", "lamp", "o3", ULM_EV_PURCHASE, T0 + 10 * DAY + 20 * 3600, 1, 20.0, "GLASS LAMP"); /* Tue 20:00 */
    push(ev, "B", "mug", "o4", ULM_EV_PURCHASE, T0 + 2 * DAY + 9 * 3600, 1, 5.0, NULL);
    push(ev, "B", "mug", "o5", ULM_EV_PURCHASE, T0 + 3 * DAY + 9 * 3600, 1, 5.0, NULL);
    push(ev, "C", "", "", ULM_EV_SEARCH, T0 + 5 * DAY, 1, NAN, NULL);
    ev->query[ev->n - 1] = ulm_dict_intern(&ev->queries, "glass lamp", 10, NULL);
}

/* Word i of the profiler equals w (dictionary strings are not NUL-terminated). */
static int word_is(const ulm_profiler *p, uint32_t i, const char *w) {
    uint32_t len;
    const char *s = ulm_profiler_word(p, i, &len);
    return s && len == strlen(w) && memcmp(s, w, len) == 0;
}

static const ulm_profile *find(const ulm_profile_set *set, const ulm_events *ev, const char *user) {
    uint32_t u = ulm_dict_find(&ev->users, user, strlen(user));
    for (size_t i = 0; i < set->n; i++)
        if (set->user[i] == u) return &set->pr[i];
    return NULL;
}

ULM_TEST(profile_features_by_hand) {
    ulm_events ev;
    small_shop(&ev);
    ulm_profiler_params pp = ulm_profiler_params_init();
    pp.as_of = T0 + 12 * DAY; /* 2011-01-13 00:00: the as-of day is the 12th */
    ulm_profiler *p;
    ulm_diag d;
    ASSERT_STATUS(ulm_profiler_build(&ev, &pp, &p, &d), ULM_OK);
    ulm_profile_set set;
    ASSERT_STATUS(ulm_profile_run(&ev, p, pp.as_of, &set, &d), ULM_OK);
    ASSERT_EQ_INT(set.n, 3);
    const ulm_profile *a = find(&set, &ev, "A");
    ASSERT_TRUE(a);
    const double *f = a->f;
    ASSERT_NEAR(f[ULM_PF_RECENCY_DAYS], 1, 0); /* as-of day: 11 (the day of the last second before as-of); last purchase day 10 */
    ASSERT_NEAR(f[ULM_PF_TENURE_DAYS], 11, 0);
    ASSERT_NEAR(f[ULM_PF_PURCHASE_DAYS], 3, 0);
    ASSERT_NEAR(f[ULM_PF_ORDERS], 3, 0);
    ASSERT_NEAR(f[ULM_PF_GROSS], 2 * 5.0 + 3.0 + 4 * 4.0 + 20.0, 1e-12);
    ASSERT_NEAR(f[ULM_PF_RETURNED], 4.0, 1e-12);
    ASSERT_NEAR(f[ULM_PF_MONETARY], 49.0 - 4.0, 1e-12);
    ASSERT_NEAR(f[ULM_PF_IPT_MEAN], 5, 1e-12);                  /* gaps 4 and 6 */
    ASSERT_NEAR(f[ULM_PF_IPT_VAR], 2, 1e-12);                   /* ((4-5)^2 + (6-5)^2) / 1 */
    ASSERT_NEAR(f[ULM_PF_BASKET_UNITS], 8.0 / 3, 1e-12);
    ASSERT_NEAR(f[ULM_PF_BASKET_LINES], 4.0 / 3, 1e-12);
    ASSERT_NEAR(f[ULM_PF_BASKET_VALUE], 49.0 / 3, 1e-12);
    ASSERT_NEAR(f[ULM_PF_DISTINCT_ITEMS], 3, 0);
    ASSERT_NEAR(f[ULM_PF_DISTINCT_CATEGORIES], 3, 0);          /* mug, red (last word of "JUMBO BAG RED"), lamp */
    ASSERT_NEAR(f[ULM_PF_RETURN_RATE], 1.0 / 8, 1e-12);
    /* mug's reference price is 5 (3 lines at 5, 1 at 4): one of four priced lines is discounted. */
    ASSERT_NEAR(f[ULM_PF_DISCOUNT_SHARE], 0.25, 1e-12);
    ASSERT_NEAR(f[ULM_PF_WEEKEND_SHARE], 1.0 / 3, 1e-12);
    ASSERT_NEAR(f[ULM_PF_MORNING_SHARE], 1.0 / 3, 1e-12);
    ASSERT_NEAR(f[ULM_PF_AFTERNOON_SHARE], 1.0 / 3, 1e-12);
    ASSERT_NEAR(f[ULM_PF_EVENING_SHARE], 1.0 / 3, 1e-12);
    ASSERT_NEAR(f[ULM_PF_PEAK_HOUR], 10, 0);                   /* three hours tie: the earliest */
    ASSERT_NEAR(f[ULM_PF_PEAK_WEEKDAY], 1, 0);                 /* Tue, Wed, Sat tie: Tuesday */
    ASSERT_NEAR(f[ULM_PF_EVENTS], 5, 0);
    ASSERT_NEAR(f[ULM_PF_CLV_X], 2, 0);
    ASSERT_NEAR(f[ULM_PF_CLV_TX], 10.0 / 7, 1e-12);
    ASSERT_NEAR(f[ULM_PF_CLV_T], 11.0 / 7, 1e-12);
    ASSERT_NEAR(f[ULM_PF_CLV_ZBAR], ((16.0 - 4.0) + 20.0) / 2, 1e-12); /* repeat days, net of that day's return */
    /* Keywords: A's purchase lines give red x3 (mug twice, bag), mug x2, spotty x2, jumbo, bag, glass, lamp.
     * Documents (customers with an event before as-of): A, B (mug: red, spotty, mug), C (glass, lamp): N = 3,
     * so idf = ln(4/3) + 1 for words in two documents and ln(4/2) + 1 for words in one. */
    double i2 = log(4.0 / 3) + 1, i1 = log(4.0 / 2) + 1;
    double norm = sqrt(9 * i2 * i2 + 2 * 4 * i2 * i2 + 2 * i1 * i1 + 2 * i2 * i2);
    ASSERT_EQ_INT(a->n_keywords, 5);
    const char *want[5] = {"red", "mug", "spotty", "bag", "jumbo"}; /* ties: bytewise order */
    double wantw[5] = {3 * i2, 2 * i2, 2 * i2, i1, i1};
    for (int k = 0; k < 5; k++) {
        ASSERT_TRUE(word_is(p, a->keyword[k], want[k]));
        ASSERT_NEAR(a->keyword_weight[k], wantw[k] / norm, 1e-12);
    }
    const ulm_profile *c = find(&set, &ev, "C");
    ASSERT_TRUE(c && isnan(c->f[ULM_PF_RECENCY_DAYS]) && c->f[ULM_PF_SEARCHES] == 1 && c->n_keywords == 2);
    ASSERT_TRUE(word_is(p, c->keyword[0], "glass"));
    ASSERT_TRUE(c->stage == ULM_STAGE_NONE && c->rfm_segment == ULM_RFM_NONE);
    const ulm_profile *b = find(&set, &ev, "B");
    ASSERT_TRUE(b && isnan(b->f[ULM_PF_IPT_VAR]) && b->f[ULM_PF_IPT_MEAN] == 1 && b->f[ULM_PF_DISCOUNT_SHARE] == 0);
    ulm_profile_set_free(&set);
    ulm_profiler_free(p);
    ulm_events_free(&ev);
    return 0;
}

/* Compares two profiles bit for bit (NaN equal to NaN). */
static int same_profile(const ulm_profile *x, const ulm_profile *y) {
    return memcmp(x->f, y->f, sizeof x->f) == 0 && x->n_keywords == y->n_keywords &&
           memcmp(x->keyword, y->keyword, sizeof x->keyword) == 0 &&
           memcmp(x->keyword_weight, y->keyword_weight, sizeof x->keyword_weight) == 0 && x->stage == y->stage &&
           x->segment == y->segment && x->rfm_segment == y->rfm_segment;
}

ULM_TEST(profile_ignores_events_after_as_of) {
    ulm_events ev, ev2;
    small_shop(&ev);
    small_shop(&ev2);
    /* ev2: every event on or after as-of changed, plus new ones (a new item, a new search word). */
    int64_t as_of = T0 + 4 * DAY + 15 * 3600;
    for (size_t i = 0; i < ev2.n; i++)
        if (ev2.time[i] >= as_of) ev2.price[i] *= 7, ev2.qty[i] += 3, ev2.type[i] = ULM_EV_PURCHASE;
    push(&ev2, "A", "mug", "o9", ULM_EV_PURCHASE, as_of, 9, 1.0, NULL);
    push(&ev2, "B", "sofa", "o9", ULM_EV_PURCHASE, as_of + DAY, 1, 900.0, "VELVET SOFA");
    ulm_profiler_params pp = ulm_profiler_params_init();
    pp.as_of = as_of;
    ulm_profiler *p, *p2;
    ulm_diag d;
    ASSERT_STATUS(ulm_profiler_build(&ev, &pp, &p, &d), ULM_OK);
    ASSERT_STATUS(ulm_profiler_build(&ev2, &pp, &p2, &d), ULM_OK);
    ulm_profile_set s1, s2;
    ASSERT_STATUS(ulm_profile_run(&ev, p, as_of, &s1, &d), ULM_OK);
    ASSERT_STATUS(ulm_profile_run(&ev2, p2, as_of, &s2, &d), ULM_OK);
    ASSERT_EQ_INT(s1.n, s2.n);
    for (size_t i = 0; i < s1.n; i++) {
        ASSERT_EQ_INT(s1.user[i], s2.user[i]);
        /* Word ids may differ (the vocabulary holds every item's words); compare the words themselves. */
        ulm_profile x = s1.pr[i], y = s2.pr[i];
        for (uint32_t k = 0; k < x.n_keywords; k++) {
            uint32_t l1, l2;
            const char *w1 = ulm_profiler_word(p, x.keyword[k], &l1), *w2 = ulm_profiler_word(p2, y.keyword[k], &l2);
            ASSERT_TRUE(l1 == l2 && memcmp(w1, w2, l1) == 0);
            x.keyword[k] = y.keyword[k] = 0;
        }
        ASSERT_TRUE(same_profile(&x, &y));
    }
    ulm_profile_set_free(&s1), ulm_profile_set_free(&s2);
    ulm_profiler_free(p), ulm_profiler_free(p2);
    ulm_events_free(&ev), ulm_events_free(&ev2);
    return 0;
}

ULM_TEST(profile_rfm_map_is_total_and_documented) {
    /* docs/segments.md, rows R = 5..1, columns F = 1..5. */
    static const int map[5][5] = {
        {ULM_RFM_NEW, ULM_RFM_POTENTIAL_LOYALIST, ULM_RFM_POTENTIAL_LOYALIST, ULM_RFM_CHAMPIONS, ULM_RFM_CHAMPIONS},
        {ULM_RFM_PROMISING, ULM_RFM_POTENTIAL_LOYALIST, ULM_RFM_POTENTIAL_LOYALIST, ULM_RFM_LOYAL, ULM_RFM_LOYAL},
        {ULM_RFM_ABOUT_TO_SLEEP, ULM_RFM_ABOUT_TO_SLEEP, ULM_RFM_NEED_ATTENTION, ULM_RFM_LOYAL, ULM_RFM_LOYAL},
        {ULM_RFM_HIBERNATING, ULM_RFM_HIBERNATING, ULM_RFM_AT_RISK, ULM_RFM_AT_RISK, ULM_RFM_CANNOT_LOSE},
        {ULM_RFM_LOST, ULM_RFM_HIBERNATING, ULM_RFM_AT_RISK, ULM_RFM_AT_RISK, ULM_RFM_CANNOT_LOSE}};
    /* A profiler whose cut points are 1.5, 2.5, 3.5, 4.5 (R on days so that recency r scores 6 - r). */
    ulm_profiler p;
    memset(&p, 0, sizeof p);
    ulm_dict_init(&p.vocab);
    ulm_dict_init(&p.cats);
    p.has_rfm = 1;
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < 4; j++) p.rfm_cuts[r][j] = 1.5 + j;
    int used[ULM_RFM_COUNT] = {0};
    for (int R = 1; R <= 5; R++)
        for (int F = 1; F <= 5; F++) {
            /* One customer: last purchase 6 - R days before as-of, F orders on F days. */
            ulm_profile_event e[5];
            int64_t as_of = T0 + 100 * DAY;
            for (int k = 0; k < F; k++)
                e[k] = (ulm_profile_event){as_of - (6 - R) * DAY - 1 - k * 2 * DAY, 1.0, 1, ULM_NONE, (uint32_t)k,
                                           ULM_EV_PURCHASE, NULL, 0};
            uint8_t work[4096];
            ulm_profile pr;
            ASSERT_STATUS(ulm_profile_compute(&p, e, (size_t)F, as_of, work, sizeof work, &pr), ULM_OK);
            ASSERT_EQ_INT(pr.f[ULM_PF_RFM_R], R);
            ASSERT_EQ_INT(pr.f[ULM_PF_RFM_F], F);
            ASSERT_EQ_INT(pr.rfm_segment, map[5 - R][F - 1]);
            used[pr.rfm_segment]++;
        }
    for (int s = 0; s < ULM_RFM_COUNT; s++) ASSERT_TRUE(used[s] > 0); /* all eleven names are reachable */
    ASSERT_STR_EQ(ulm_rfm_segment_name(ULM_RFM_CANNOT_LOSE), "Cannot lose them");
    return 0;
}

/* Synthetic profiles: three groups far apart in recency, frequency and spend. */
static ulm_profile *three_groups(size_t n, uint64_t seed) {
    ulm_profile *pr = calloc(n, sizeof *pr);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(seed >> 11) / 9007199254740992.0;
        int g = (int)(i % 3);
        for (int f = 0; f < ULM_PF_COUNT; f++) pr[i].f[f] = NAN;
        double rec[3] = {3, 60, 300}, days[3] = {40, 6, 1}, money[3] = {8000, 900, 60};
        pr[i].f[ULM_PF_RECENCY_DAYS] = rec[g] * (0.9 + 0.2 * u);
        pr[i].f[ULM_PF_PURCHASE_DAYS] = days[g] * (0.9 + 0.2 * u);
        pr[i].f[ULM_PF_ORDERS] = pr[i].f[ULM_PF_PURCHASE_DAYS];
        pr[i].f[ULM_PF_MONETARY] = money[g] * (0.9 + 0.2 * u);
        pr[i].f[ULM_PF_TENURE_DAYS] = 350;
        pr[i].f[ULM_PF_BASKET_VALUE] = 50;
        pr[i].f[ULM_PF_DISTINCT_ITEMS] = 10;
        pr[i].f[ULM_PF_RETURN_RATE] = 0;
        pr[i].f[ULM_PF_CLV_X] = floor(pr[i].f[ULM_PF_PURCHASE_DAYS]) - 1 > 0 ? floor(pr[i].f[ULM_PF_PURCHASE_DAYS]) - 1 : 0;
        pr[i].f[ULM_PF_CLV_T] = 50;
        pr[i].f[ULM_PF_CLV_TX] = pr[i].f[ULM_PF_CLV_X] > 0 ? 50 - pr[i].f[ULM_PF_RECENCY_DAYS] / 7 : 0;
        pr[i].f[ULM_PF_CLV_ZBAR] = pr[i].f[ULM_PF_CLV_X] > 0 ? 50 : 0;
        if (pr[i].f[ULM_PF_PURCHASE_DAYS] < 1) pr[i].f[ULM_PF_PURCHASE_DAYS] = 1;
    }
    return pr;
}

ULM_TEST(profile_kmeans_finds_separated_groups_deterministically) {
    size_t n = 600;
    ulm_profile *pr = three_groups(n, 7);
    ulm_profiler *p1 = calloc(1, sizeof *p1), *p2 = calloc(1, sizeof *p2);
    ulm_dict_init(&p1->vocab), ulm_dict_init(&p1->cats), ulm_dict_init(&p2->vocab), ulm_dict_init(&p2->cats);
    p1->clvp[ULM__CLVP_UNIT] = p2->clvp[ULM__CLVP_UNIT] = 7;
    ulm_profiler_params pp = ulm_profiler_params_init();
    ulm_profiler_report rep;
    ulm_diag d;
    ASSERT_STATUS(ulm_profiler_fit(p1, pr, n, &pp, &rep, &d), ULM_OK);
    ASSERT_EQ_INT(rep.k, 3); /* the silhouette picks the true number of groups */
    ASSERT_TRUE(rep.silhouette[3] > 0.8 && rep.silhouette[3] > rep.silhouette[2] && rep.silhouette[3] > rep.silhouette[4]);
    /* Every group lands in one segment; segment 0 is the big spenders (centroids ordered by spend). */
    int seg_of[3] = {-1, -1, -1};
    for (size_t i = 0; i < n; i++) {
        double z[ULM__KM_MAX_D], best = INFINITY;
        int s = -1;
        ulm__profile_zvec(p1, pr[i].f, z);
        for (uint32_t m = 0; m < p1->k; m++) {
            double t = 0;
            for (uint32_t j = 0; j < p1->d; j++) t += (z[j] - p1->cent[m * p1->d + j]) * (z[j] - p1->cent[m * p1->d + j]);
            if (t < best) best = t, s = (int)m;
        }
        if (seg_of[i % 3] < 0) seg_of[i % 3] = s;
        ASSERT_EQ_INT(s, seg_of[i % 3]);
    }
    ASSERT_EQ_INT(seg_of[0], 0);
    ASSERT_TRUE(seg_of[1] != seg_of[2] && seg_of[1] > 0 && seg_of[2] > 0);
    uint32_t len;
    const char *ds = ulm_profiler_segment_description(p1, 0, &len);
    char desc[512];
    ASSERT_TRUE(ds && len < sizeof desc);
    memcpy(desc, ds, len);
    desc[len] = 0;
    ASSERT_TRUE(strstr(desc, "recent") && strstr(desc, "frequent") && strstr(desc, "high-value"));
    /* Money is skewed: it is log-transformed; tenure is constant: sd falls back to 1. */
    for (uint32_t j = 0; j < p1->d; j++) {
        if (p1->feat[j] == ULM_PF_TENURE_DAYS) ASSERT_NEAR(p1->sd[j], 1, 0);
    }
    /* Same seed, same bytes. */
    ASSERT_STATUS(ulm_profiler_fit(p2, pr, n, &pp, &rep, &d), ULM_OK);
    ASSERT_TRUE(p1->k == p2->k && memcmp(p1->cent, p2->cent, p1->k * p1->d * sizeof(double)) == 0);
    ASSERT_TRUE(memcmp(p1->rfm_cuts, p2->rfm_cuts, sizeof p1->rfm_cuts) == 0);
    ASSERT_TRUE(memcmp(p1->clvp, p2->clvp, sizeof p1->clvp) == 0 && p1->clvp[ULM__CLVP_HAS_CLV] == 1);
    /* RFM cut points are the type-7 quantiles (NumPy's default) at 20, 40, 60, 80%: recomputed here. */
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = pr[i].f[ULM_PF_MONETARY];
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1], v[j - 1] = t;
        }
    for (int q = 1; q <= 4; q++) {
        double h = (double)(n - 1) * 0.2 * q;
        size_t lo = (size_t)h;
        ASSERT_NEAR(p1->rfm_cuts[2][q - 1], v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]), 1e-9);
    }
    free(v);
    ulm_profiler_free(p1), ulm_profiler_free(p2);
    free(pr);
    return 0;
}

ULM_TEST(profile_stage_follows_own_rhythm) {
    ulm_profiler p;
    memset(&p, 0, sizeof p);
    ulm_dict_init(&p.vocab), ulm_dict_init(&p.cats);
    p.has_stage = 1;
    p.stage[ULM__ST_ACTIVE] = 1.5, p.stage[ULM__ST_AT_RISK] = 3, p.stage[ULM__ST_DORMANT] = 6, p.stage[ULM__ST_REACT] = 3;
    p.stage[ULM__ST_RHYTHM] = 20, p.stage[ULM__ST_NEW_DAYS] = 30;
    int64_t as_of = T0 + 400 * DAY;
    /* (gap between purchases in days, purchases, days since the last) -> stage */
    struct { int gap, n, since, stage; } cases[] = {
        {0, 1, 10, ULM_STAGE_NEW},        {0, 1, 40, ULM_STAGE_AT_RISK},   /* 40 / population rhythm 20 = 2 */
        {7, 6, 9, ULM_STAGE_ACTIVE},      {7, 6, 15, ULM_STAGE_AT_RISK},   {7, 6, 30, ULM_STAGE_DORMANT},
        {7, 6, 50, ULM_STAGE_CHURNED},    {60, 4, 50, ULM_STAGE_ACTIVE},   /* a slow buyer 50 days out is on rhythm */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ulm_profile_event e[8];
        for (int k = 0; k < cases[c].n; k++)
            e[k] = (ulm_profile_event){as_of - (int64_t)(cases[c].since + k * cases[c].gap) * DAY - 1, 1, 1, ULM_NONE,
                                       ULM_NONE, ULM_EV_PURCHASE, NULL, 0};
        uint8_t work[4096];
        ulm_profile pr;
        ASSERT_STATUS(ulm_profile_compute(&p, e, (size_t)cases[c].n, as_of, work, sizeof work, &pr), ULM_OK);
        if (pr.stage != cases[c].stage) fprintf(stderr, "case %zu: stage %d\n", c, pr.stage);
        ASSERT_EQ_INT(pr.stage, cases[c].stage);
    }
    /* Weekly for ten weeks, silent for 20 weeks, bought again 3 days ago: reactivated. */
    ulm_profile_event e[12];
    for (int k = 0; k < 10; k++)
        e[k] = (ulm_profile_event){as_of - (3 + 140 + 7 * k) * DAY, 1, 1, ULM_NONE, ULM_NONE, ULM_EV_PURCHASE, NULL, 0};
    e[10] = (ulm_profile_event){as_of - 3 * DAY, 1, 1, ULM_NONE, ULM_NONE, ULM_EV_PURCHASE, NULL, 0};
    uint8_t work[4096];
    ulm_profile pr;
    ASSERT_STATUS(ulm_profile_compute(&p, e, 11, as_of, work, sizeof work, &pr), ULM_OK);
    ASSERT_EQ_INT(pr.stage, ULM_STAGE_REACTIVATED);
    /* Too little scratch is refused, not overrun. */
    ASSERT_STATUS(ulm_profile_compute(&p, e, 11, as_of, work, 16, &pr), ULM_ERR_RANGE);
    return 0;
}

/* Trains the small shop into a bundle (with the profiler) and returns its bytes. */
static uint8_t *small_bundle(size_t *len, ulm_events *ev, ulm_profiler **p, ulm_profile_set *set) {
    small_shop(ev);
    /* More customers so that the fit has something to fit. */
    char u[16];
    for (int i = 0; i < 40; i++) {
        snprintf(u, sizeof u, "U%d", i);
        for (int k = 0; k <= i % 5; k++)
            push(ev, u, k % 2 ? "mug" : "lamp", "", ULM_EV_PURCHASE, T0 + (i + 9 * k) * 3600 * 7, 1 + k, 5.0 + i, NULL);
    }
    ulm_profiler_params pp = ulm_profiler_params_init();
    ulm_profiler_report rep;
    ulm_diag d;
    if (ulm_profile_train(ev, &pp, p, set, &rep, &d) != ULM_OK) return NULL;
    ulm_export_opts eo = {.user_table = false, .half_life_days = 30, .as_of = INT64_MIN, .profiler = *p};
    ulm_export_info info;
    uint8_t *buf = NULL;
    if (ulm_export_bundle(ev, &eo, &buf, len, &info, &d) != ULM_OK) return NULL;
    return buf;
}

ULM_TEST(profile_bundle_round_trip_and_damage) {
    ulm_events ev;
    ulm_profiler *p;
    ulm_profile_set set;
    size_t len;
    uint8_t *buf = small_bundle(&len, &ev, &p, &set);
    ASSERT_TRUE(buf);
    ulm_model *m;
    ulm_diag d;
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_OK);
    const ulm_profiler *q = ulm_model_profiler(m);
    ASSERT_TRUE(q);
    ulm_profile_set set2;
    ulm_profiler_info info;
    ulm_profiler_get_info(q, &info);
    ASSERT_TRUE(info.has_rfm && info.k >= 1 && info.has_clv);
    ASSERT_STATUS(ulm_profile_run(&ev, q, info.as_of, &set2, &d), ULM_OK);
    ASSERT_EQ_INT(set.n, set2.n);
    for (size_t i = 0; i < set.n; i++) ASSERT_TRUE(same_profile(&set.pr[i], &set2.pr[i])); /* loaded == trained */
    ulm_model_free(m);
    /* Damage that passes the checksums must still be refused by the semantic checks. */
    struct { const char *tag; size_t off; double v; uint32_t u; int is_u32; } bad[] = {
        {"KMNS", 0, NAN, 0, 0}, {"KMSC", 8, 0.0, 0, 0}, {"CLVP", 8 * ULM__CLVP_UNIT, -7, 0, 0},
        {"CLVP", 8 * ULM__CLVP_BG_R, 0, 0, 0}, {"RFMQ", 8, -1e9, 0, 0}, {"LCST", 8 * ULM__ST_ACTIVE, 99, 0, 0},
        {"PFID", 0, INFINITY, 0, 0}, {"PFWI", 0, 0, 99999, 1}, {"PFCT", 0, 0, 5000, 1}, {"KMFT", 0, 0, ULM_PF_CLV, 1},
        {"PFWO", 0, 0, 3, 1},
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        uint8_t *b2 = malloc(len);
        memcpy(b2, buf, len);
        if (bad[c].is_u32) ASSERT_TRUE(patch(b2, len, bad[c].tag, bad[c].off, &bad[c].u, 4) == 0);
        else ASSERT_TRUE(patch(b2, len, bad[c].tag, bad[c].off, &bad[c].v, 8) == 0);
        ulm_status s = ulm_model_load(b2, len, NULL, &m, &d);
        if (s != ULM_ERR_FORMAT) fprintf(stderr, "damage %zu (%s) gave %s\n", c, bad[c].tag, ulm_status_name(s));
        ASSERT_STATUS(s, ULM_ERR_FORMAT);
        ASSERT_TRUE(m == NULL && strcmp(d.section, bad[c].tag) == 0);
        free(b2);
    }
    free(buf);
    ulm_profile_set_free(&set), ulm_profile_set_free(&set2);
    ulm_profiler_free(p);
    ulm_events_free(&ev);
    return 0;
}
