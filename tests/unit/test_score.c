/* test_score.c: ulm_score edge cases and agreement with the parts it is made of: an empty history is
 * the popularity cold start, k <= 0 and huge k, unknown ids counted, bought items excluded, a bundle
 * without a model leaves that part out, churn equals the churn model on features computed here from the
 * sorted history, the offer is the brute-force best net value (or none), the control group and
 * anonymous visitors, a too-small work area and bad event types refused, damaged offer sections refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn_store.h"
#include "ulm/ulm_churn_train.h"
#include "ulm/ulm_score.h"
#include "test_catalogue.h"
#include "test_damage.h"
#include "ulm_test.h"

#define NI 6
static const char *const item_ids[NI] = {"a", "b", "c", "d", "e", "f"};
static const float pop[NI] = {1, 6, 3, 5, 2, 4}; /* popularity order: b d f c e a */

/* A churn model over the customer-v1 features where risk grows with recency. */
static ulm_churn *risk_model(void) {
    enum { N = 300 };
    static float x[N * ULM_CF_COUNT], y[N];
    static const uint32_t kind[ULM_CF_COUNT] = {0}, nc[ULM_CF_COUNT] = {0};
    uint64_t r = 11;
    for (int i = 0; i < N; i++) {
        for (int f = 0; f < ULM_CF_COUNT; f++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            x[i * ULM_CF_COUNT + f] = (float)((r >> 40) % 1000) / 5.0f;
        }
        y[i] = x[i * ULM_CF_COUNT + ULM_CF_RECENCY] > 100 ? 1.0f : 0.0f;
    }
    ulm_churn_data d = {N, ULM_CF_COUNT, x, y, kind, nc};
    ulm_churn_params p = ulm_churn_params_init();
    p.family = ULM_CHURN_LOGREG;
    ulm_churn *m = NULL;
    ulm_diag dg;
    return ulm_churn_fit(&d, &p, &m, NULL, &dg) == ULM_OK ? m : NULL;
}

typedef struct offers_cfg {
    size_t k;
    const char *ids[3];
    ulm_nba_offer of[3];
    double share;
} offers_cfg;

/* A bundle with the catalogue and popularity, optionally a churn model and offers; nbao_patch, when not
 * NULL, overwrites 8 bytes of the NBAO body at nbao_at (a damaged section with a valid checksum). */
static ulm_status build(const ulm_churn *c, const offers_cfg *oc, uint8_t **buf, size_t *len) {
    uint32_t lens[NI];
    for (int i = 0; i < NI; i++) lens[i] = 1;
    ulm_writer *w;
    ulm_status s = ulm_writer_new(ULM_KIND_MODEL, NULL, &w);
    if (s == ULM_OK) s = ulm_test_catalogue(w, item_ids, lens, NI, pop);
    const char *names[ULM_CF_COUNT];
    for (uint32_t f = 0; f < ULM_CF_COUNT; f++) names[f] = ulm_cust_feature_name(f);
    if (s == ULM_OK && c) s = ulm_churn_sections_add(w, c, names, NULL, true, NULL);
    double prior[3] = {0, 0, 0};
    int camp[3] = {0, 0, 0};
    if (s == ULM_OK && oc) s = ulm_offers_write(w, oc->k, oc->ids, oc->of, prior, camp, oc->share, 5);
    if (s == ULM_OK) s = ulm_writer_finish(w, buf, len);
    ulm_writer_free(w);
    return s;
}

static ulm_model *load(const uint8_t *buf, size_t len) {
    ulm_model *m = NULL;
    ulm_diag d;
    return ulm_model_load(buf, len, NULL, &m, &d) == ULM_OK ? m : NULL;
}

/* Scores with a work area of exactly the size asked for. */
static ulm_status run(const ulm_model *m, const ulm_score_event *ev, size_t n, const ulm_score_opts *o, ulm_score_result *r,
                      void **work) {
    size_t need = ulm_score_work_size(m, o, ev, n);
    free(*work);
    *work = malloc(need);
    return ulm_score(m, ev, n, o, *work, need, r);
}

static ulm_score_event buy(const char *item, int64_t t, double price, float qty, uint32_t order) {
    ulm_score_event e = {.time = t, .price = price, .qty = qty, .order = order, .type = ULM_EV_PURCHASE, .item = item,
                         .item_len = item ? (uint32_t)strlen(item) : 0};
    return e;
}

ULM_TEST(score_popularity_bundle_edges) {
    uint8_t *buf;
    size_t len;
    ASSERT_STATUS(build(NULL, NULL, &buf, &len), ULM_OK);
    ulm_model *m = load(buf, len);
    ASSERT_TRUE(m != NULL);
    ulm_score_opts o = ulm_score_opts_init();
    o.now = 1000000;
    ulm_score_result r;
    void *work = NULL;
    /* empty history: the popularity order, and only the items part */
    o.k = 3;
    ASSERT_STATUS(run(m, NULL, 0, &o, &r, &work), ULM_OK);
    ASSERT_EQ_INT(r.parts, ULM_SCORE_ITEMS);
    ASSERT_EQ_INT(r.n_items, 3);
    ASSERT_EQ_INT(r.items[0], 1);
    ASSERT_EQ_INT(r.items[1], 3);
    ASSERT_EQ_INT(r.items[2], 5);
    ASSERT_TRUE(r.scores[0] == 6 && r.scores[2] == 4);
    ASSERT_TRUE(isnan(r.clv) && r.offer == -1 && r.stage == -1);
    /* k <= 0: no items; huge k: every item not bought */
    o.k = 0;
    ASSERT_STATUS(run(m, NULL, 0, &o, &r, &work), ULM_OK);
    ASSERT_EQ_INT(r.n_items, 0);
    o.k = -5;
    ASSERT_STATUS(run(m, NULL, 0, &o, &r, &work), ULM_OK);
    ASSERT_EQ_INT(r.n_items, 0);
    ulm_score_event ev[3] = {buy("b", 100, 1, 1, ULM_NONE), buy("zz", 200, 1, 1, ULM_NONE), buy("d", 50, 2, 1, ULM_NONE)};
    o.k = 2000000000;
    ASSERT_STATUS(run(m, ev, 3, &o, &r, &work), ULM_OK);
    ASSERT_EQ_INT(r.unknown_items, 1);
    ASSERT_EQ_INT(r.n_items, NI - 2); /* b and d are bought */
    for (uint32_t i = 0; i < r.n_items; i++) ASSERT_TRUE(r.items[i] != 1 && r.items[i] != 3);
    /* a work area one byte short, an event type out of range */
    size_t need = ulm_score_work_size(m, &o, ev, 3);
    ASSERT_STATUS(ulm_score(m, ev, 3, &o, work, need - 1, &r), ULM_ERR_MISUSE);
    ev[1].type = ULM_EV__COUNT;
    ASSERT_STATUS(ulm_score(m, ev, 3, &o, work, need, &r), ULM_ERR_RANGE);
    ASSERT_STATUS(ulm_score(m, ev, 3, NULL, work, need, &r), ULM_ERR_MISUSE);
    free(work);
    ulm_model_free(m);
    free(buf);
    return 0;
}

static const offers_cfg three_offers = {3, {"coupon", "ship", "remind"}, {{2.5, 0.08}, {1.2, 0.05}, {0.05, 0.02}}, 0};

ULM_TEST(score_churn_and_offer_match_the_parts) {
    ulm_churn *c = risk_model();
    ASSERT_TRUE(c != NULL);
    offers_cfg oc = {3, {"coupon", "ship", "remind"}, {{2.5, 0.08}, {1.2, 0.05}, {0.05, 0.02}}, 0};
    uint8_t *buf;
    size_t len;
    ASSERT_STATUS(build(c, &oc, &buf, &len), ULM_OK);
    ulm_model *m = load(buf, len);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ_INT(ulm_model_offer_count(m), 3);
    uint32_t il;
    const char *id = ulm_model_offer_id(m, 1, &il);
    ASSERT_TRUE(il == 4 && memcmp(id, "ship", 4) == 0);
    /* a history given out of order; the features below read it sorted */
    const int64_t day = 86400, t0 = 1300000000;
    ulm_score_event ev[5] = {buy("c", t0 + 40 * day, 9.5, 3, 2), buy("a", t0, 4.0, 10, 1), buy("b", t0 + 40 * day, 20, 1, 2),
                             buy("e", t0 + 90 * day, 3.0, 30, 3), buy("a", t0, 1.0, 2, 1)};
    ulm_cust_event sorted[5] = {{t0, 1, ULM_EV_PURCHASE, 10, 4.0f}, {t0, 1, ULM_EV_PURCHASE, 2, 1.0f},
                                {t0 + 40 * day, 2, ULM_EV_PURCHASE, 3, 9.5f}, {t0 + 40 * day, 2, ULM_EV_PURCHASE, 1, 20},
                                {t0 + 90 * day, 3, ULM_EV_PURCHASE, 30, 3.0f}};
    void *work = NULL;
    ulm_score_result r;
    float x[ULM_CF_COUNT], p, *scratch = malloc((ulm_model_churn_scratch(m) + 1) * sizeof *scratch);
    ulm_churn_reason why[3];
    uint32_t nw;
    /* three as-of times: a recent customer (an offer), one long gone, and one day after the last purchase */
    const int64_t nows[3] = {t0 + 100 * day, t0 + 900 * day, t0 + 91 * day};
    int picked = 0;
    for (int t = 0; t < 3; t++) {
        ulm_score_opts o = ulm_score_opts_init();
        o.now = nows[t];
        ASSERT_STATUS(run(m, ev, 5, &o, &r, &work), ULM_OK);
        ASSERT_EQ_INT(r.parts, ULM_SCORE_ITEMS | ULM_SCORE_CHURN | ULM_SCORE_OFFER);
        ASSERT_STATUS(ulm_cust_features(sorted, 5, o.now, x), ULM_OK);
        ASSERT_STATUS(ulm_model_churn_score(m, x, &p, why, 3, &nw, scratch), ULM_OK);
        ASSERT_TRUE(p == r.p_churn);
        ASSERT_EQ_INT(r.n_reasons, nw);
        ASSERT_STR_EQ(r.reasons[0].text, why[0].text);
        /* value: no profiler, so the annual spend rate: spend x 365 / max(tenure, 30) */
        double spend = 10 * 4.0 + 2 * 1.0 + 3 * 9.5 + 1 * 20 + 30 * 3.0, tenure = (double)(o.now - t0) / day;
        ASSERT_NEAR(r.value, spend * 365 / (tenure > 30 ? tenure : 30), 1e-3 * r.value);
        ASSERT_EQ_INT(r.value_from_clv, 0);
        /* brute force: the best positive net value, ties to the offer listed first */
        int best = -1;
        double best_net = 0;
        for (int k = 0; k < 3; k++) {
            double net = (double)p * r.value * oc.of[k].uplift - oc.of[k].cost;
            if (net > best_net) best = k, best_net = net;
        }
        ASSERT_EQ_INT(r.offer, best);
        picked += best >= 0;
        ASSERT_TRUE(best < 0 || r.offer_net == best_net);
        ASSERT_EQ_INT(r.control, 0);
    }
    ASSERT_TRUE(picked >= 1);
    /* share 0: an identified customer is never held out */
    ulm_score_opts o = ulm_score_opts_init();
    o.now = nows[0];
    o.user = "17850";
    o.user_len = 5;
    ASSERT_STATUS(run(m, ev, 5, &o, &r, &work), ULM_OK);
    ASSERT_EQ_INT(r.control, 0);
    ulm_model_free(m);
    free(buf);
    /* share 1: every identified customer is held out with no offer; an anonymous visitor never is */
    oc.share = 1;
    ASSERT_STATUS(build(c, &oc, &buf, &len), ULM_OK);
    m = load(buf, len);
    ASSERT_TRUE(m != NULL);
    ASSERT_STATUS(run(m, ev, 5, &o, &r, &work), ULM_OK);
    ASSERT_TRUE(r.control == 1 && r.offer == -1);
    o.user = NULL;
    ASSERT_STATUS(run(m, ev, 5, &o, &r, &work), ULM_OK);
    ASSERT_EQ_INT(r.control, 0);
    ulm_model_free(m);
    free(buf);
    free(work);
    free(scratch);
    ulm_churn_free(c);
    return 0;
}

ULM_TEST(score_offer_sections_validated) {
    ulm_churn *c = risk_model();
    offers_cfg oc = {2, {"coupon", "ship"}, {{2.5, 0.08}, {1.2, 0.05}}, 0.1};
    uint8_t *buf;
    size_t len;
    struct {
        size_t at;
        double v;
    } bad[] = {{32, NAN}, {32, -1}, {40, 1.5}, {48, -2}, {8, 2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_STATUS(build(c, &oc, &buf, &len), ULM_OK);
        ASSERT_TRUE(patch(buf, len, "NBAO", bad[i].at, &bad[i].v, 8) == 0);
        ulm_model *m = NULL;
        ulm_diag d;
        ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_ERR_FORMAT);
        ASSERT_STR_EQ(d.section, "NBAO");
        free(buf);
    }
    uint32_t k0 = 0, k9 = 9;
    ASSERT_STATUS(build(c, &oc, &buf, &len), ULM_OK);
    ASSERT_TRUE(patch(buf, len, "NBAO", 0, &k0, 4) == 0);
    ulm_model *m = NULL;
    ulm_diag d;
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_ERR_FORMAT);
    free(buf);
    ASSERT_STATUS(build(c, &oc, &buf, &len), ULM_OK);
    ASSERT_TRUE(patch(buf, len, "NBAO", 0, &k9, 4) == 0);
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_ERR_FORMAT);
    free(buf);
    ulm_churn_free(c);
    return 0;
}

/* ulm_score_ix on events resolved here (indices, ULM_NONE, ULM_SCORE_UNKNOWN_ITEM and any index past the
 * catalogue) gives ulm_score's result field for field: the path model.score() takes in the wasm builds. */
ULM_TEST(score_ix_matches_score) {
    ulm_churn *c = risk_model();
    ASSERT_TRUE(c != NULL);
    uint8_t *buf;
    size_t len;
    ASSERT_STATUS(build(c, &three_offers, &buf, &len), ULM_OK);
    ulm_model *m = load(buf, len);
    ASSERT_TRUE(m != NULL);
    const int64_t day = 86400, t0 = 1300000000;
    ulm_score_event ev[6] = {buy("c", t0 + 40 * day, 9.5, 3, 2), buy("zz", t0, 4.0, 10, 1), buy("b", t0 + 40 * day, 20, 1, 2),
                             buy(NULL, t0 + 90 * day, 3.0, 30, 3), buy("a", t0, 1.0, 2, 1), buy("qq", t0 + 9 * day, 2, 1, 4)};
    ev[3].type = ULM_EV_VIEW;
    ulm_profile_event pev[6];
    for (int i = 0; i < 6; i++) {
        uint32_t idx = ULM_NONE;
        if (ev[i].item && ulm_model_item_find(m, ev[i].item, ev[i].item_len, &idx) != ULM_OK)
            idx = i == 1 ? ULM_SCORE_UNKNOWN_ITEM : NI + 7; /* both count as unknown ids */
        pev[i] = (ulm_profile_event){.time = ev[i].time, .price = ev[i].price, .qty = ev[i].qty, .item = idx,
                                     .order = ev[i].order, .type = (uint8_t)ev[i].type};
    }
    ulm_score_opts o = ulm_score_opts_init();
    o.now = t0 + 200 * day;
    o.user = "17850", o.user_len = 5;
    for (int k = -1; k <= 7; k += 4) {
        o.k = k;
        ulm_score_result a, b;
        void *work = NULL;
        ASSERT_STATUS(run(m, ev, 6, &o, &a, &work), ULM_OK);
        size_t need = ulm_score_ix_work_size(m, &o, pev, 6);
        void *w2 = malloc(need);
        ASSERT_STATUS(ulm_score_ix(m, pev, 6, &o, w2, need - 1, &b), ULM_ERR_MISUSE);
        ASSERT_STATUS(ulm_score_ix(m, pev, 6, &o, w2, need, &b), ULM_OK);
        ASSERT_EQ_INT(a.unknown_items, 2);
        ASSERT_EQ_INT(b.unknown_items, 2);
        ASSERT_EQ_INT(b.parts, a.parts);
        ASSERT_TRUE(a.parts & ULM_SCORE_OFFER);
        ASSERT_EQ_INT(b.n_items, a.n_items);
        for (uint32_t i = 0; i < a.n_items; i++) ASSERT_TRUE(a.items[i] == b.items[i] && a.scores[i] == b.scores[i]);
        ASSERT_TRUE(a.p_churn == b.p_churn && a.n_reasons == b.n_reasons && a.offer == b.offer &&
                    a.control == b.control && a.value == b.value && a.offer_net == b.offer_net);
        for (uint32_t i = 0; i < a.n_reasons; i++)
            ASSERT_TRUE(a.reasons[i].feature == b.reasons[i].feature && a.reasons[i].effect == b.reasons[i].effect);
        free(work);
        free(w2);
    }
    ulm_model_free(m);
    free(buf);
    ulm_churn_free(c);
    return 0;
}
