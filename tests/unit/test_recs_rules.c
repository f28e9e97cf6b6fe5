/* test_recs_rules.c: the recommender's business rules. Repurchase cycles learned from purchases
 * (median over repeat buyers of each customer's mean gap between distinct purchase days), the
 * RCRP section's validation, and scoring with them: a consumable whose last purchase is a cycle
 * old comes back, one not yet due does not, a non-consumable never does; allow lists and category
 * filters (the profiler's categories) keep exactly the unfiltered ranking's allowed items in
 * order; the deny list wins over both. */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm.h"
#include "ulm/ulm_profile.h"
#include "ulm/ulm_reccycle.h"
#include "ulm/ulm_recommend.h"
#include "ulm/ulm_rectrain.h"
#include "test_catalogue.h"
#include "ulm_test.h"

#define DAY 86400
static const int64_t T0 = 1293840000; /* 2011-01-01 */

static void buy(ulm_events *ev, const char *user, const char *item, const char *text, int type, int64_t day) {
    ulm_event e = {ULM_NONE, ULM_NONE, ULM_NONE, ULM_NONE, T0 + day * DAY + 3600 * (day % 7), (uint8_t)type, 1, 2.0};
    if (*user) e.user = ulm_dict_intern(&ev->users, user, strlen(user), NULL);
    e.item = ulm_dict_intern(&ev->items, item, strlen(item), NULL);
    ulm_events_set_item_text(ev, e.item, text, strlen(text), false);
    ulm_events_push(ev, &e);
}

/* Soap: five repeat buyers with gaps 10 (days 0,10,20), 14, 7 (a same-day repeat counts once),
 * 30 (0,30,60,90), 12; a one-time buyer, a guest and a return that must not count. Lamp: two
 * repeat buyers (gaps 20 and 40). Every other item: bought once per customer. */
static void shop(ulm_events *ev) {
    ulm_events_init(ev);
    static const char *other[][2] = {{"mug1", "red spotty mug"}, {"mug2", "blue mug"}, {"bag1", "jumbo bag"},
                                     {"bag2", "lunch bag"}, {"bag3", "charlotte bag"}, {"tin1", "cake tin"},
                                     {"tin2", "biscuit tin"}};
    const int64_t u1[] = {0, 10, 20}, u2[] = {5, 19}, u3[] = {3, 3, 10}, u4[] = {0, 30, 60, 90}, u5[] = {40, 52};
    const int64_t *days[] = {u1, u2, u3, u4, u5};
    const size_t nd[] = {3, 2, 3, 4, 2};
    char u[8];
    for (int c = 0; c < 5; c++)
        for (size_t k = 0; k < nd[c]; k++) snprintf(u, sizeof u, "c%d", c), buy(ev, u, "soap", "lavender soap", ULM_EV_PURCHASE, days[c][k]);
    buy(ev, "c5", "soap", "lavender soap", ULM_EV_PURCHASE, 1);
    buy(ev, "", "soap", "lavender soap", ULM_EV_PURCHASE, 2);
    buy(ev, "", "soap", "lavender soap", ULM_EV_PURCHASE, 3);
    buy(ev, "c1", "soap", "lavender soap", ULM_EV_RETURN, 25);
    buy(ev, "c0", "lamp", "desk lamp", ULM_EV_PURCHASE, 0), buy(ev, "c0", "lamp", "desk lamp", ULM_EV_PURCHASE, 20);
    buy(ev, "c1", "lamp", "desk lamp", ULM_EV_PURCHASE, 0), buy(ev, "c1", "lamp", "desk lamp", ULM_EV_PURCHASE, 40);
    for (int c = 0; c < 12; c++)
        for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
            if ((c + i) % 3 != 0) snprintf(u, sizeof u, "c%d", c), buy(ev, u, other[i][0], other[i][1], ULM_EV_PURCHASE, 60 + c);
}

static double median(double *a, size_t n) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && a[j] < a[j - 1]; j--) {
            double t = a[j];
            a[j] = a[j - 1], a[j - 1] = t;
        }
    return n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

ULM_TEST(recs_rules_cycles_learned) {
    ulm_events ev;
    shop(&ev);
    float *days = malloc(ev.items.n * sizeof *days);
    uint32_t n_with;
    ASSERT_STATUS(ulm_repurchase_cycles(&ev, 5, days, &n_with), ULM_OK);
    uint32_t soap = ulm_dict_find(&ev.items, "soap", 4), lamp = ulm_dict_find(&ev.items, "lamp", 4);
    double gaps[] = {10, 14, 7, 30, 12};
    ASSERT_EQ_INT(n_with, 1);
    ASSERT_NEAR(days[soap], median(gaps, 5), 0);
    ASSERT_NEAR(days[lamp], 0, 0); /* two repeat buyers < 5 */
    ASSERT_STATUS(ulm_repurchase_cycles(&ev, 2, days, &n_with), ULM_OK);
    ASSERT_EQ_INT(n_with, 2);
    ASSERT_NEAR(days[lamp], 30, 0); /* median of 20 and 40 */
    ASSERT_STATUS(ulm_repurchase_cycles(&ev, 0, days, &n_with), ULM_OK);
    ASSERT_EQ_INT(n_with, 0);
    ASSERT_NEAR(days[soap], 0, 0);
    free(days);
    ulm_events_free(&ev);
    return 0;
}

/* A bundle: catalogue, POPR, an item-kNN recommender, RCRP (min 5 buyers), the profiler's
 * categories, and deny flags for the items named in deny (NULL = none). */
static int make_bundle(const ulm_events *ev, const char *deny, uint8_t **buf, size_t *len) {
    ulm_imatrix x;
    if (ulm_imatrix_from_events(ev, NULL, &x, NULL) != ULM_OK) return 1;
    ulm_rec_params p = ulm_rec_params_init(ULM_REC_ITEMKNN);
    p.neighbours = 10;
    ulm_rec_model rm;
    ulm_status s = ulm_rec_train(&x, &p, ulm_linalg_ref(), &rm, NULL);
    ulm_imatrix_free(&x);
    if (s != ULM_OK) return 1;
    uint32_t ni = ev->items.n;
    const char *strs[64];
    uint32_t lens[64];
    for (uint32_t i = 0; i < ni; i++) strs[i] = ulm_dict_str(&ev->items, i, &lens[i]);
    ulm_writer *w;
    ulm_profiler_params pp = ulm_profiler_params_init();
    pp.as_of = T0 + 200 * DAY;
    ulm_profiler *prof = NULL;
    float days[64];
    uint8_t dn[64] = {0};
    uint32_t n_with;
    if (deny) dn[ulm_dict_find(&ev->items, deny, strlen(deny))] = 1;
    s = ulm_writer_new(ULM_KIND_MODEL, NULL, &w);
    if (s == ULM_OK) s = ulm_test_catalogue(w, strs, lens, ni, rm.pop);
    if (s == ULM_OK) s = ulm_rec_model_export(&rm, 4.0f, 100, w, NULL);
    if (s == ULM_OK) s = ulm_repurchase_cycles(ev, 5, days, &n_with);
    if (s == ULM_OK) s = ulm_repurchase_cycles_write(days, ni, w);
    if (s == ULM_OK) s = ulm_profiler_build(ev, &pp, &prof, NULL);
    if (s == ULM_OK) s = ulm_profiler_write(prof, w);
    if (s == ULM_OK && deny) s = ulm_writer_section(w, "ITDN", ULM_DT_U8, ni, 0, 1, 0, dn, ni);
    if (s == ULM_OK) s = ulm_writer_meta(w, "model.kind", "ulm-model");
    if (s == ULM_OK) s = ulm_writer_finish(w, buf, len);
    ulm_writer_free(w);
    ulm_profiler_free(prof);
    ulm_rec_model_free(&rm);
    return s != ULM_OK;
}

static uint32_t item(const ulm_model *m, const char *id) {
    uint32_t i = ULM_NONE;
    ulm_model_item_find(m, id, strlen(id), &i);
    return i;
}

static bool has(const uint32_t *items, uint32_t n, uint32_t it) {
    for (uint32_t q = 0; q < n; q++)
        if (items[q] == it) return true;
    return false;
}

ULM_TEST(recs_rules_scoring) {
    ulm_events ev;
    shop(&ev);
    uint8_t *buf;
    size_t len;
    ASSERT_TRUE(make_bundle(&ev, NULL, &buf, &len) == 0);
    ulm_model *m;
    ulm_diag d;
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_OK);
    uint32_t ni = ulm_model_item_count(m), soap = item(m, "soap"), lamp = item(m, "lamp"), mug = item(m, "mug1");
    ASSERT_NEAR(ulm_model_repurchase_days(m, soap), 12, 0);
    ASSERT_NEAR(ulm_model_repurchase_days(m, lamp), 0, 0);
    uint32_t items[64], base[64], n, nb;
    float scores[64], bs[64];
    ulm_recommend_opts o = ulm_recommend_opts_init();
    o.k = ni;
    o.explain = 0;
    const uint32_t h[] = {soap, mug, lamp, soap};
    int64_t t[] = {T0 + 100 * DAY, T0, T0, T0 + 100 * DAY};
    size_t sz = ulm_recommend_scratch_size(m, &o, 4);
    void *scratch = malloc(sz);
    /* Without times: nothing bought comes back. */
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o, scratch, sz, base, bs, NULL, NULL, &nb), ULM_OK);
    ASSERT_EQ_INT(nb, ni - 3);
    ASSERT_TRUE(!has(base, nb, soap) && !has(base, nb, mug) && !has(base, nb, lamp));
    /* Soap bought on day 100, cycle 12 days: due exactly at day 112, not a second before. */
    o.hist_time = t;
    o.now = T0 + 112 * DAY - 1;
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_EQ_INT(n, ni - 3);
    ASSERT_TRUE(!has(items, n, soap));
    o.now = T0 + 112 * DAY;
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_EQ_INT(n, ni - 2);
    ASSERT_TRUE(has(items, n, soap) && !has(items, n, mug) && !has(items, n, lamp)); /* no cycle: never */
    /* The other items keep their order and scores. */
    for (uint32_t q = 0, r = 0; q < n; q++) {
        if (items[q] == soap) continue;
        ASSERT_EQ_INT(items[q], base[r]);
        ASSERT_TRUE(scores[q] == bs[r]);
        r++;
    }
    /* The last purchase decides: an old soap entry next to a recent one is not due. */
    t[0] = T0;
    t[3] = T0 + 111 * DAY;
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_TRUE(!has(items, n, soap));
    t[3] = T0;
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_TRUE(has(items, n, soap));
    o.hist_time = NULL;

    /* Allow list: exactly the unfiltered ranking's allowed items, in order. */
    uint8_t allow[64] = {0};
    allow[item(m, "bag2")] = allow[item(m, "tin1")] = allow[mug] = allow[item(m, "mug2")] = 1;
    o.allow = allow;
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_EQ_INT(n, 3); /* mug1 was bought */
    for (uint32_t q = 0, r = 0; q < n; q++, r++) {
        while (!allow[base[r]]) r++;
        ASSERT_EQ_INT(items[q], base[r]);
    }
    o.allow = NULL;

    /* Categories: the profiler's (last keyword of the text). */
    uint32_t cbag, ctin;
    ASSERT_STATUS(ulm_model_category_find(m, "bag", 3, &cbag), ULM_OK);
    ASSERT_STATUS(ulm_model_category_find(m, "tin", 3, &ctin), ULM_OK);
    ASSERT_STATUS(ulm_model_category_find(m, "sofa", 4, &ctin), ULM_ERR_NOT_FOUND);
    ASSERT_STATUS(ulm_model_category_find(m, "tin", 3, &ctin), ULM_OK);
    ASSERT_EQ_INT(ulm_model_item_category(m, item(m, "bag3")), cbag);
    uint32_t cats[] = {cbag, ctin};
    o.categories = cats;
    o.n_categories = 2;
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    uint32_t want = 0;
    for (uint32_t r = 0; r < nb; r++) {
        uint32_t c = ulm_model_item_category(m, base[r]);
        if (c != cbag && c != ctin) continue;
        ASSERT_TRUE(want < n);
        ASSERT_EQ_INT(items[want], base[r]);
        want++;
    }
    ASSERT_EQ_INT(n, want);
    ASSERT_EQ_INT(n, 5);
    o.flags |= ULM_RECOMMEND_NOT_CATEGORIES;
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_EQ_INT(n, nb - 5);
    for (uint32_t q = 0; q < n; q++) {
        uint32_t c = ulm_model_item_category(m, items[q]);
        ASSERT_TRUE(c != cbag && c != ctin);
    }
    /* Popularity path (empty history) applies the filters too. */
    ASSERT_STATUS(ulm_recommend(m, NULL, 0, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_EQ_INT(n, ni - 5);
    free(scratch);
    ulm_model_free(m);
    free(buf);

    /* The deny list wins over the allow list, the categories and a due consumable. */
    ASSERT_TRUE(make_bundle(&ev, "bag2", &buf, &len) == 0);
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_OK);
    ulm_recommend_opts o2 = ulm_recommend_opts_init();
    o2.k = ni;
    o2.explain = 0;
    o2.allow = allow;
    o2.categories = cats;
    o2.n_categories = 1; /* bag */
    sz = ulm_recommend_scratch_size(m, &o2, 4);
    scratch = malloc(sz);
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o2, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_EQ_INT(n, 0); /* bag2 is the only allowed bag, and it is denied */
    free(scratch);
    ulm_model_free(m);
    free(buf);
    ASSERT_TRUE(make_bundle(&ev, "soap", &buf, &len) == 0);
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_OK);
    o2 = ulm_recommend_opts_init();
    o2.k = ni;
    o2.explain = 0;
    o2.hist_time = t; /* soap due (both entries at T0) */
    o2.now = T0 + 200 * DAY;
    sz = ulm_recommend_scratch_size(m, &o2, 4);
    scratch = malloc(sz);
    ASSERT_STATUS(ulm_recommend(m, h, 4, &o2, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_EQ_INT(n, ni - 3);
    ASSERT_TRUE(!has(items, n, soap));
    free(scratch);
    ulm_model_free(m);
    free(buf);
    ulm_events_free(&ev);
    return 0;
}

/* A catalogue of three items with an RCRP section of rows values (F32, or U32 when as_u32). */
static ulm_status load_rcrp(const float *v, uint32_t rows, bool as_u32, ulm_diag *d) {
    const char *ids[] = {"a", "b", "c"};
    const uint32_t lens[] = {1, 1, 1};
    const float pop[] = {3, 2, 1};
    uint8_t *buf = NULL;
    size_t len = 0;
    ulm_writer *w;
    ulm_status s = ulm_writer_new(ULM_KIND_MODEL, NULL, &w);
    if (s == ULM_OK) s = ulm_test_catalogue(w, ids, lens, 3, pop);
    if (s == ULM_OK) s = ulm_writer_section(w, "RCRP", as_u32 ? ULM_DT_U32 : ULM_DT_F32, rows, 1, 1, 0, v, 4 * rows);
    if (s == ULM_OK) s = ulm_writer_finish(w, &buf, &len);
    ulm_writer_free(w);
    ulm_model *m = NULL;
    if (s == ULM_OK) s = ulm_model_load(buf, len, NULL, &m, d);
    ulm_model_free(m);
    free(buf);
    return s;
}

ULM_TEST(recs_rules_rcrp_validated) {
    ulm_diag d;
    const float good[] = {0, 7.5f, 1}, nan3[] = {0, NAN, 1}, neg[] = {-1, 0, 0}, half[] = {0.5f, 0, 0},
                inf[] = {INFINITY, 0, 0};
    ASSERT_STATUS(load_rcrp(good, 3, false, &d), ULM_OK);
    ASSERT_STATUS(load_rcrp(nan3, 3, false, &d), ULM_ERR_FORMAT);
    ASSERT_STR_EQ(d.section, "RCRP");
    ASSERT_TRUE(strstr(d.message, "item 1") != NULL);
    ASSERT_STATUS(load_rcrp(neg, 3, false, &d), ULM_ERR_FORMAT);
    ASSERT_STATUS(load_rcrp(half, 3, false, &d), ULM_ERR_FORMAT);
    ASSERT_STATUS(load_rcrp(inf, 3, false, &d), ULM_ERR_FORMAT);
    ASSERT_STATUS(load_rcrp(good, 2, false, &d), ULM_ERR_FORMAT); /* one row per item */
    ASSERT_STATUS(load_rcrp(good, 3, true, &d), ULM_ERR_FORMAT);  /* dtype */
    return 0;
}
