/* test_synth.c: the random streams, samplers, calendar and catalogue of `ulm synth`. Statistical
 * checks use fixed seeds and tolerances of several standard errors, so they cannot flake. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"
#include "ulm_test.h"

ULM_TEST(synth_rng_streams_are_reproducible_and_distinct) {
    ulm_rng a, b, c;
    ulm_rng_seed(&a, 42, 7);
    ulm_rng_seed(&b, 42, 7);
    ulm_rng_seed(&c, 42, 8);
    int same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = ulm_rng_next(&a), y = ulm_rng_next(&b), z = ulm_rng_next(&c);
        ASSERT_TRUE(x == y);
        same_ac += x == z;
    }
    ASSERT_EQ_INT(same_ac, 0);
    ulm_rng d;
    ulm_rng_seed(&d, 43, 7); /* another seed, same stream id */
    ulm_rng_seed(&a, 42, 7);
    ASSERT_TRUE(ulm_rng_next(&a) != ulm_rng_next(&d));
    return 0;
}

ULM_TEST(synth_uniform_and_below_stay_in_range) {
    ulm_rng r;
    ulm_rng_seed(&r, 1, 1);
    double sum = 0;
    uint32_t hits[7] = {0};
    const int n = 700000;
    for (int i = 0; i < n; i++) {
        double u = ulm_rng_unif(&r);
        ASSERT_TRUE(u >= 0.0 && u < 1.0);
        sum += u;
        uint32_t k = ulm_rng_below(&r, 7);
        ASSERT_TRUE(k < 7);
        hits[k]++;
    }
    ASSERT_NEAR(sum / n, 0.5, 5 * sqrt(1.0 / 12 / n));
    for (int k = 0; k < 7; k++)
        ASSERT_NEAR(hits[k], n / 7.0, 5 * sqrt(n / 7.0));
    return 0;
}

ULM_TEST(synth_exponential_normal_geometric_moments) {
    ulm_rng r;
    ulm_rng_seed(&r, 2, 3);
    const int n = 400000;
    double se = 0, sn = 0, sn2 = 0, sg = 0;
    for (int i = 0; i < n; i++) {
        double e = ulm_rng_exp(&r);
        ASSERT_TRUE(e >= 0 && isfinite(e));
        se += e;
        double z = ulm_rng_normal(&r);
        sn += z;
        sn2 += z * z;
        sg += ulm_rng_geometric(&r, 0.25);
    }
    ASSERT_NEAR(se / n, 1.0, 5 / sqrt(n)); /* Exp(1): sd 1 */
    ASSERT_NEAR(sn / n, 0.0, 5 / sqrt(n));
    ASSERT_NEAR(sn2 / n, 1.0, 5 * sqrt(2.0 / n));
    ASSERT_NEAR(sg / n, 3.0, 5 * sqrt(0.75 / 0.0625 / n)); /* mean (1-p)/p, variance (1-p)/p^2 */
    ASSERT_EQ_INT(ulm_rng_geometric(&r, 1.0), 0);
    return 0;
}

ULM_TEST(synth_alias_zipf_frequencies_match_weights) {
    enum { N = 100, DRAWS = 1000000 };
    double w[N], sum = 0;
    for (int k = 0; k < N; k++)
        sum += w[k] = 1.0 / (k + 1); /* Zipf s = 1 */
    ulm_alias a;
    ASSERT_STATUS(ulm_alias_build(&a, w, N), ULM_OK);
    ulm_rng r;
    ulm_rng_seed(&r, 99, 0);
    static uint32_t hits[N];
    memset(hits, 0, sizeof hits);
    for (int i = 0; i < DRAWS; i++) {
        uint32_t k = ulm_alias_sample(&a, &r);
        ASSERT_TRUE(k < N);
        hits[k]++;
    }
    for (int k = 0; k < N; k++) {
        double p = w[k] / sum, sd = sqrt(DRAWS * p * (1 - p));
        ASSERT_NEAR(hits[k], DRAWS * p, 5 * sd + 1);
    }
    /* Rank 1 is drawn about twice as often as rank 2 and ten times as often as rank 10. */
    ASSERT_NEAR((double)hits[0] / hits[1], 2.0, 0.05);
    ASSERT_NEAR((double)hits[0] / hits[9], 10.0, 0.5);
    ulm_alias_free(&a);
    ulm_alias_free(&a); /* a freed table frees again as a no-op */
    return 0;
}

ULM_TEST(synth_alias_rejects_bad_weights) {
    ulm_alias a;
    double neg[2] = {1, -1}, zero[3] = {0, 0, 0}, nan_w[2] = {1, NAN}, one[1] = {5};
    ASSERT_STATUS(ulm_alias_build(&a, neg, 2), ULM_ERR_MISUSE);
    ASSERT_STATUS(ulm_alias_build(&a, zero, 3), ULM_ERR_MISUSE);
    ASSERT_STATUS(ulm_alias_build(&a, nan_w, 2), ULM_ERR_MISUSE);
    ASSERT_STATUS(ulm_alias_build(&a, one, 0), ULM_ERR_MISUSE);
    ASSERT_STATUS(ulm_alias_build(&a, one, 1), ULM_OK);
    ulm_rng r;
    ulm_rng_seed(&r, 1, 1);
    for (int i = 0; i < 100; i++)
        ASSERT_EQ_INT(ulm_alias_sample(&a, &r), 0);
    ulm_alias_free(&a);
    return 0;
}

ULM_TEST(synth_dates_round_trip_and_reject_bad_ones) {
    ASSERT_EQ_INT(ulm_days_from_civil(1970, 1, 1), 0);
    ASSERT_EQ_INT(ulm_days_from_civil(2024, 1, 1), 19723);
    int64_t d;
    ASSERT_TRUE(ulm_synth_parse_date("2024-02-29", &d));
    char s[11];
    ulm_synth_format_date(d, s);
    ASSERT_STR_EQ(s, "2024-02-29");
    ulm_synth_format_date(d + 1, s);
    ASSERT_STR_EQ(s, "2024-03-01");
    ASSERT_TRUE(!ulm_synth_parse_date("2023-02-29", &d));
    ASSERT_TRUE(!ulm_synth_parse_date("2024-13-01", &d));
    ASSERT_TRUE(!ulm_synth_parse_date("2024-1-01", &d));
    ASSERT_TRUE(!ulm_synth_parse_date("yesterday", &d));
    for (int64_t z = -800; z < 80000; z += 37) {
        int64_t y;
        unsigned m, dd;
        ulm_civil_from_days(z, &y, &m, &dd);
        ASSERT_EQ_INT(ulm_days_from_civil(y, m, dd), z);
    }
    return 0;
}

/* A small world for the catalogue and calendar tests. */
static int small_world(ulm_synth_world *w, uint64_t users, uint64_t items, uint64_t days) {
    ulm_synth_params p = ulm_synth_params_init();
    p.users = users;
    p.items = items;
    p.days = days;
    p.seed = 5;
    ulm_diag d;
    return ulm_synth_world_build(w, &p, &d) == ULM_OK;
}

ULM_TEST(synth_calendar_averages_one_and_marks_black_friday) {
    ulm_synth_world w;
    ASSERT_TRUE(small_world(&w, 10, 10, 366)); /* 2024 is a leap year: the whole calendar year */
    double sum = 0;
    for (int d = 0; d < 366; d++)
        sum += w.day_factor[d];
    ASSERT_NEAR(sum / 366, 1.0, 1e-4);
    double h = 0;
    for (int k = 0; k < 24; k++)
        h += w.diurnal[k];
    ASSERT_NEAR(h / 24, 1.0, 1e-5);
    /* Black Friday 2024 was 29 November: day 333; a 20% price cut and double traffic. */
    ASSERT_EQ_INT(w.price_pct[333], 80);
    ASSERT_EQ_INT(w.price_pct[332], 100);
    ASSERT_TRUE(w.day_factor[333] > 1.8 * w.day_factor[333 - 7]);
    ASSERT_STR_EQ(w.day_prefix[333], "2024-11-29T");
    ulm_synth_world_free(&w);
    return 0;
}

ULM_TEST(synth_operational_time_inverts) {
    ulm_synth_world w;
    ASSERT_TRUE(small_world(&w, 10, 10, 400));
    ulm_rng r;
    ulm_rng_seed(&r, 3, 3);
    double prev = -1;
    for (int i = 0; i < 20000; i++) {
        double tau = ulm_rng_unif(&r) * w.cum_day[400];
        double t = ulm_synth_op_inverse(&w, tau, (uint32_t)ulm_rng_below(&r, 400));
        ASSERT_TRUE(t >= 0 && t < 400.0 * ULM_SYNTH_DAY);
        ASSERT_NEAR(ulm_synth_op_time(&w, t), tau, 1e-6);
        (void)prev;
    }
    /* Monotone, and past the end of the period it says so. */
    for (double tau = 0; tau < w.cum_day[400]; tau += 0.37) {
        double t = ulm_synth_op_inverse(&w, tau, 0);
        ASSERT_TRUE(t >= prev);
        prev = t;
    }
    ASSERT_TRUE(ulm_synth_op_inverse(&w, w.cum_day[400] + 1, 0) >= 400.0 * ULM_SYNTH_DAY);
    ulm_synth_world_free(&w);
    return 0;
}

ULM_TEST(synth_users_taste_mixtures_sum_to_one) {
    ulm_synth_world w;
    ASSERT_TRUE(small_world(&w, 3000, 800, 90));
    for (uint32_t u = 0; u < 3000; u++) {
        const ulm_synth_user *usr = &w.users[u];
        ASSERT_TRUE(usr->ntaste >= 1 && usr->ntaste <= ULM_SYNTH_MAX_TASTE);
        float prev = 0;
        for (uint32_t i = 0; i < usr->ntaste; i++) {
            ASSERT_TRUE(usr->cats[i] < w.ncat);
            ASSERT_TRUE(usr->cum[i] > prev); /* every favourite has a positive weight */
            for (uint32_t j = 0; j < i; j++)
                ASSERT_TRUE(usr->cats[j] != usr->cats[i]);
            prev = usr->cum[i];
        }
        ASSERT_NEAR(usr->cum[usr->ntaste - 1] + usr->explore, 1.0, 1e-5);
        ASSERT_TRUE(usr->explore >= 0.05f && usr->explore <= 0.2f);
        ASSERT_TRUE(usr->end_t % ULM_SYNTH_DAY == 0); /* churn is day-granular */
        ASSERT_TRUE(usr->end_t > usr->signup_t);
    }
    /* Categories' shares sum to 1 and their item ranges tile the catalogue. */
    double share = 0;
    uint32_t items = 0;
    for (uint32_t c = 0; c < w.ncat; c++) {
        ASSERT_EQ_INT(w.cats[c].first, items);
        ASSERT_TRUE(w.cats[c].count >= 1);
        items += w.cats[c].count;
        share += w.cats[c].share;
    }
    ASSERT_EQ_INT(items, 800);
    ASSERT_NEAR(share, 1.0, 1e-9);
    ulm_synth_world_free(&w);
    return 0;
}

ULM_TEST(synth_item_draws_follow_popularity_within_category) {
    ulm_synth_world w;
    ASSERT_TRUE(small_world(&w, 10, 3000, 30)); /* 18 categories, the largest spans several bands */
    uint32_t c = 0;
    for (uint32_t k = 1; k < w.ncat; k++)
        if (w.cats[k].count > w.cats[c].count) c = k;
    const ulm_synth_category *cat = &w.cats[c];
    ASSERT_TRUE(cat->nbands >= 2);
    double total = 0;
    for (uint32_t k = 0; k < cat->count; k++)
        total += pow(w.items[w.members[cat->first + k]].rank, -w.p.zipf);
    uint32_t *hits = calloc(w.p.items, sizeof *hits);
    ASSERT_TRUE(hits != NULL);
    ulm_rng r;
    ulm_rng_seed(&r, 11, 11);
    const int n = 2000000;
    for (int i = 0; i < n; i++) {
        uint32_t it = ulm_synth_pick_item(&w, c, &r);
        ASSERT_EQ_INT(w.items[it].cat, c);
        hits[it]++;
    }
    /* Members are ordered by popularity; the top 20 and a few deep in the tail match their weights. */
    uint32_t check[24];
    int nc = 0;
    for (uint32_t k = 0; k < 20; k++)
        check[nc++] = k;
    check[nc++] = cat->count / 2;
    check[nc++] = cat->count - 1;
    for (int j = 0; j < nc; j++) {
        uint32_t it = w.members[cat->first + check[j]];
        double p = pow(w.items[it].rank, -w.p.zipf) / total, sd = sqrt(n * p * (1 - p));
        ASSERT_NEAR(hits[it], n * p, 5 * sd + 2);
    }
    for (uint32_t k = 1; k < cat->count; k++)
        ASSERT_TRUE(w.items[w.members[cat->first + k]].rank > w.items[w.members[cat->first + k - 1]].rank);
    free(hits);
    ulm_synth_world_free(&w);
    return 0;
}

ULM_TEST(synth_format_writes_exact_lines) {
    ulm_synth_world w;
    ASSERT_TRUE(small_world(&w, 10, 10, 400));
    ulm_synth_ev ev[5] = {
        {ULM_SYNTH_KEY(3661, ULM_EV_VIEW, 0), 0, 4, 0},
        {ULM_SYNTH_KEY(86399, ULM_EV_PURCHASE, 2), 9, 0, 12},
        {ULM_SYNTH_KEY(0, ULM_EV_SEARCH, 0), 2, ulm_synth_adj_word(0) | ulm_synth_noun_word(0) << 8, 0},
        {ULM_SYNTH_KEY(59, ULM_EV_RETURN, 1), 3, 9, 4 | 100u << ULM_SYNTH_ORDER_BITS},
        {ULM_SYNTH_KEY(60, ULM_EV_RETURN, 3), 3, 4, 5 | 80u << ULM_SYNTH_ORDER_BITS}, /* bought on Black Friday */
    };
    char buf[5 * ULM_SYNTH_LINE_MAX], want[1024];
    uint32_t p4 = w.price_cents[4], p0 = w.price_cents[0], p9 = w.price_cents[9];
    uint32_t p4bf = (uint32_t)((p4 * 80ull + 50) / 100);
    snprintf(want, sizeof want,
             "u1,i5,2024-01-01T01:01:01Z,view,,%u.%02u,,\n"
             "u10,i1,2024-01-01T23:59:59Z,purchase,2,%u.%02u,o10-12,\n"
             "u3,,2024-01-01T00:00:00Z,search,,,,classic %s\n"
             "u4,i10,2024-01-01T00:00:59Z,return,1,%u.%02u,o4-4,\n"
             "u4,i5,2024-01-01T00:01:00Z,return,3,%u.%02u,o4-5,\n",
             p4 / 100, p4 % 100, p0 / 100, p0 % 100, ulm_synth_bases[0].noun, p9 / 100, p9 % 100, p4bf / 100,
             p4bf % 100);
    size_t n = ulm_synth_format(&w, 0, ev, 5, buf);
    buf[n] = 0;
    ASSERT_STR_EQ(buf, want);
    /* On Black Friday (day 333) prices are 80%, rounded to the cent. */
    n = ulm_synth_format(&w, 333, ev, 1, buf);
    buf[n] = 0;
    uint32_t bf = (uint32_t)((p4 * 80ull + 50) / 100);
    snprintf(want, sizeof want, "u1,i5,2024-11-29T01:01:01Z,view,,%u.%02u,,\n", bf / 100, bf % 100);
    ASSERT_STR_EQ(buf, want);
    ulm_synth_world_free(&w);
    return 0;
}

ULM_TEST(synth_world_rejects_bad_parameters) {
    ulm_synth_params p = ulm_synth_params_init();
    ulm_synth_world w;
    ulm_diag d;
    p.users = 0;
    ASSERT_STATUS(ulm_synth_world_build(&w, &p, &d), ULM_ERR_RANGE);
    ASSERT_TRUE(strstr(d.message, "--users") != NULL);
    ulm_synth_world_free(&w);
    p = ulm_synth_params_init();
    p.items = 0;
    ASSERT_STATUS(ulm_synth_world_build(&w, &p, &d), ULM_ERR_RANGE);
    ulm_synth_world_free(&w);
    p = ulm_synth_params_init();
    p.days = 0;
    ASSERT_STATUS(ulm_synth_world_build(&w, &p, &d), ULM_ERR_RANGE);
    ulm_synth_world_free(&w);
    p = ulm_synth_params_init();
    p.zipf = -1;
    ASSERT_STATUS(ulm_synth_world_build(&w, &p, &d), ULM_ERR_RANGE);
    ulm_synth_world_free(&w);
    return 0;
}

ULM_TEST(synth_users_stop_at_churn_and_start_at_signup) {
    ulm_synth_world w;
    ASSERT_TRUE(small_world(&w, 400, 300, 120));
    static ulm_synth_evbuf buf;
    memset(&buf, 0, sizeof buf);
    uint64_t events = 0;
    for (uint32_t d = 0; d < 120; d++) {
        buf.n = 0;
        for (uint32_t u = 0; u < 400; u++)
            if (w.wake[u] < (d + 1) * ULM_SYNTH_DAY) ulm_synth_user_day(&w, u, d, &buf);
        ASSERT_TRUE(!buf.oom);
        for (size_t i = 0; i < buf.n; i++) {
            const ulm_synth_user *usr = &w.users[buf.ev[i].user];
            int64_t t = (int64_t)d * ULM_SYNTH_DAY + (buf.ev[i].key & 0x1FFFF);
            ASSERT_TRUE(t < usr->end_t);
            ASSERT_TRUE(usr->signup_t < 0 || t >= usr->signup_t);
            ASSERT_TRUE(((buf.ev[i].key >> 17) & 7) < 5);
        }
        events += buf.n;
    }
    ASSERT_TRUE(events > 1000);
    free(buf.ev);
    ulm_synth_world_free(&w);
    return 0;
}
