/* score.c: ulm_score, one call for everything the bundle can say about a visitor's own history
 * (ulm_score.h): the recommender, churn, profile/CLV and the next best offer, each through its own
 * public entry point, with every buffer carved from the caller's work area. */
#include <math.h>
#include <string.h>

#include "ulm/ulm_events.h"
#include "ulm/ulm_profile.h"
#include "ulm/ulm_recommend.h"
#include "ulm/ulm_score.h"
#include "ulm_impl.h"

#define A8(x) (((x) + 7) & ~(size_t)7)

ulm_score_opts ulm_score_opts_init(void) {
    ulm_score_opts o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.k = 10;
    o.explain = 3;
    o.reasons = 3;
    return o;
}

double ulm_nba_customer_value(const float *x, double clv, int *from_clv) {
    if (isfinite(clv) && clv >= 0) {
        if (from_clv) *from_clv = 1;
        return clv;
    }
    if (from_clv) *from_clv = 0;
    float tenure = x[ULM_CF_TENURE] > 30 ? x[ULM_CF_TENURE] : 30;
    return (x[ULM_CF_SPEND] > 0 ? x[ULM_CF_SPEND] : 0) * 365.0 / tenure;
}

/* Items returned: k <= 0 none, else clamped to ULM_SCORE_MAX_K and the catalogue. */
static uint32_t want_k(const ulm_model *m, const ulm_score_opts *o) {
    if (o->k <= 0) return 0;
    uint32_t k = (uint32_t)o->k, ni = ulm_model_item_count(m);
    if (k > ULM_SCORE_MAX_K) k = ULM_SCORE_MAX_K;
    return k < ni ? k : ni;
}

static uint32_t clamp16(uint32_t v) { return v < ULM_SCORE_MAX_REASONS ? v : ULM_SCORE_MAX_REASONS; }

/* The profile event of score event e (item resolved against the catalogue, ULM_NONE when unknown). */
static void to_profile_event(const ulm_model *m, const ulm_score_event *e, ulm_profile_event *pe) {
    uint32_t idx;
    pe->time = e->time;
    pe->price = e->price;
    pe->qty = e->qty;
    pe->order = e->order;
    pe->type = (uint8_t)e->type;
    pe->item = e->item && ulm_model_item_find(m, e->item, e->item_len, &idx) == ULM_OK ? idx : ULM_NONE;
    pe->query = e->query_len ? e->query : NULL;
    pe->query_len = e->query ? e->query_len : 0;
}

/* The recommender's options for o (business rules passed through, hist_time set by the caller). */
static ulm_recommend_opts rec_opts(const ulm_model *m, const ulm_score_opts *o) {
    ulm_recommend_opts r = ulm_recommend_opts_init();
    r.k = want_k(m, o);
    r.explain = clamp16(o->explain);
    r.now = o->now;
    r.allow = o->allow;
    r.categories = o->categories;
    r.n_categories = o->n_categories;
    r.flags = o->flags & ULM_RECOMMEND_NOT_CATEGORIES;
    return r;
}

/* Byte sizes of the work area's parts, in carving order (pev: the resolved events, ulm_score only). */
typedef struct layout {
    size_t pev, order, tmp, cust, hist, htime, x, cscratch, reasons, items, scores, because, rec, prof, nba, total;
} layout;

/* The layout for n events whose profile needs prof bytes of work (pev left 0). */
static void plan(const ulm_model *m, const ulm_score_opts *o, size_t n, size_t prof, layout *l) {
    ulm_recommend_opts ro = rec_opts(m, o);
    l->pev = 0;
    l->order = l->tmp = l->hist = A8(n * sizeof(uint32_t));
    l->cust = A8(n * sizeof(ulm_cust_event));
    l->htime = A8(n * sizeof(int64_t));
    l->x = A8(ULM_CF_COUNT * sizeof(float));
    l->cscratch = A8(ulm_model_churn_scratch(m) * sizeof(float));
    l->reasons = A8(clamp16(o->reasons) * sizeof(ulm_churn_reason));
    l->items = l->scores = A8(ro.k * sizeof(uint32_t));
    l->because = A8((size_t)ro.k * ro.explain * sizeof(uint32_t));
    l->rec = A8(ulm_recommend_scratch_size(m, &ro, n));
    l->prof = A8(prof);
    l->nba = A8(ulm_nba_work_size(1, ulm_model_offer_count(m)));
    l->total = l->order + l->tmp + l->cust + l->hist + l->htime + l->x + l->cscratch + l->reasons + l->items +
               l->scores + l->because + l->rec + l->prof + l->nba + 8;
}

/* Profile work for string events: ulm_profile_work_size is a sum of per-event terms (each rounded up)
 * and a constant part, so the sum of one-event sizes bounds it without resolving all events at once. */
static size_t prof_bound(const ulm_model *m, const ulm_score_event *ev, size_t n) {
    const ulm_profiler *p = ulm_model_profiler(m);
    if (!p) return 0;
    size_t base = ulm_profile_work_size(p, NULL, 0), sum = base;
    for (size_t i = 0; i < n; i++) {
        ulm_profile_event pe;
        to_profile_event(m, &ev[i], &pe);
        sum += ulm_profile_work_size(p, &pe, 1) - base;
    }
    return sum;
}

size_t ulm_score_work_size(const ulm_model *m, const ulm_score_opts *o, const ulm_score_event *ev, size_t n) {
    if (!m || (n && !ev)) return 0;
    ulm_score_opts d = ulm_score_opts_init();
    layout l;
    plan(m, o ? o : &d, n, prof_bound(m, ev, n), &l);
    return A8(n * sizeof(ulm_profile_event)) + l.total + 8;
}

size_t ulm_score_ix_work_size(const ulm_model *m, const ulm_score_opts *o, const ulm_profile_event *ev, size_t n) {
    if (!m || (n && !ev)) return 0;
    ulm_score_opts d = ulm_score_opts_init();
    const ulm_profiler *p = ulm_model_profiler(m);
    layout l;
    plan(m, o ? o : &d, n, p ? ulm_profile_work_size(p, ev, n) : 0, &l);
    return l.total;
}

/* a goes before b: the earlier event (the sort is stable: ties keep the caller's order). */
static int earlier(const void *ctx, uint32_t a, uint32_t b) {
    const ulm_profile_event *ev = ctx;
    return ev[a].time < ev[b].time;
}

/* Takes the next bytes of the work area. */
static void *take(uint8_t **wp, size_t size) {
    void *p = *wp;
    *wp += size;
    return p;
}

static void *align8(void *p) { return (void *)(((uintptr_t)p + 7) & ~(uintptr_t)7); }

static void result_init(ulm_score_result *out) {
    memset(out, 0, sizeof *out);
    out->rfm_segment = out->segment = out->stage = out->offer = -1;
    out->p_alive = out->expected_purchases = out->clv = NAN;
}

ulm_status ulm_score(const ulm_model *m, const ulm_score_event *ev, size_t n, const ulm_score_opts *o, void *work,
                     size_t work_len, ulm_score_result *out) {
    if (!m || !o || !out || (n && !ev) || !work || n > UINT32_MAX) return ULM_ERR_MISUSE;
    result_init(out);
    for (size_t i = 0; i < n; i++)
        if (ev[i].type >= ULM_EV__COUNT) return ULM_ERR_RANGE;
    size_t head = A8(n * sizeof(ulm_profile_event)), used = (size_t)((uint8_t *)align8(work) - (uint8_t *)work);
    if (work_len < ulm_score_work_size(m, o, ev, n)) return ULM_ERR_MISUSE;
    /* Items resolved once: unknown ids become ULM_SCORE_UNKNOWN_ITEM (counted, outside the catalogue). */
    ulm_profile_event *pev = align8(work);
    for (size_t i = 0; i < n; i++) {
        to_profile_event(m, &ev[i], &pev[i]);
        if (ev[i].item && pev[i].item == ULM_NONE) pev[i].item = ULM_SCORE_UNKNOWN_ITEM;
    }
    return ulm_score_ix(m, pev, n, o, (uint8_t *)work + used + head, work_len - used - head, out);
}

ulm_status ulm_score_ix(const ulm_model *m, const ulm_profile_event *pev, size_t n, const ulm_score_opts *o,
                        void *work, size_t work_len, ulm_score_result *out) {
    if (!m || !o || !out || (n && !pev) || !work || n > UINT32_MAX) return ULM_ERR_MISUSE;
    result_init(out);
    for (size_t i = 0; i < n; i++)
        if (pev[i].type >= ULM_EV__COUNT) return ULM_ERR_RANGE;
    const ulm_profiler *p = ulm_model_profiler(m);
    layout l;
    plan(m, o, n, p ? ulm_profile_work_size(p, pev, n) : 0, &l);
    if (work_len < l.total) return ULM_ERR_MISUSE;
    uint8_t *wp = align8(work);
    uint32_t *order = take(&wp, l.order), *tmp = take(&wp, l.tmp);
    ulm_cust_event *cust = take(&wp, l.cust);
    uint32_t *hist = take(&wp, l.hist);
    int64_t *htime = take(&wp, l.htime);
    float *x = take(&wp, l.x), *cscratch = take(&wp, l.cscratch);
    ulm_churn_reason *reasons = take(&wp, l.reasons);
    uint32_t *items = take(&wp, l.items);
    float *scores = take(&wp, l.scores);
    uint32_t *because = take(&wp, l.because);
    void *rec = take(&wp, l.rec), *prof = take(&wp, l.prof), *nba = take(&wp, l.nba);
    uint32_t ni = ulm_model_item_count(m);

    /* The recommender reads the purchases, or, for a visitor who has bought nothing yet, the items
     * viewed or put in the cart. */
    size_t n_buy = 0;
    for (size_t i = 0; i < n; i++) {
        if (pev[i].item != ULM_NONE && pev[i].item >= ni) out->unknown_items++;
        n_buy += pev[i].item < ni && pev[i].type == ULM_EV_PURCHASE;
    }
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t t = pev[i].type;
        if (pev[i].item >= ni || (n_buy ? t != ULM_EV_PURCHASE : t != ULM_EV_VIEW && t != ULM_EV_CART)) continue;
        hist[nh] = pev[i].item;
        htime[nh++] = pev[i].time;
    }
    ulm_recommend_opts ro = rec_opts(m, o);
    ro.hist_time = htime;
    if (ro.k) {
        ulm_status s = ulm_recommend(m, hist, nh, &ro, rec, l.rec, items, scores, because, NULL, &out->n_items);
        if (s != ULM_OK) return s;
    }
    out->parts |= ULM_SCORE_ITEMS;
    out->items = items;
    out->scores = scores;
    out->because = because;
    out->explain = ro.explain;

    /* Customer-v1 features (churn and the spend-rate value): view, cart, purchase, return by time. */
    for (uint32_t i = 0; i < (uint32_t)n; i++) order[i] = i;
    ulm__merge_order(order, n, tmp, earlier, pev);
    size_t nc = 0;
    for (size_t j = 0; j < n; j++) {
        const ulm_profile_event *e = &pev[order[j]];
        if (e->type > ULM_EV_RETURN) continue;
        cust[nc++] = (ulm_cust_event){.time = e->time, .order = e->order, .type = e->type, .qty = e->qty,
                                      .price = (float)e->price};
    }
    ulm_status s = ulm_cust_features(cust, nc, o->now, x);
    if (s != ULM_OK) return s;
    if (ulm_model_churn(m) && ulm_model_churn_set(m) == ULM_CHURN_SET_CUSTOMER) {
        s = ulm_model_churn_score(m, x, &out->p_churn, reasons, clamp16(o->reasons), &out->n_reasons, cscratch);
        if (s != ULM_OK) return s;
        out->reasons = reasons;
        out->parts |= ULM_SCORE_CHURN;
    }

    if (p) {
        ulm_profile pr;
        if ((s = ulm_profile_compute(p, pev, n, o->now, prof, l.prof, &pr)) != ULM_OK) return s;
        ulm_profiler_info info;
        ulm_profiler_get_info(p, &info);
        out->parts |= ULM_SCORE_PROFILE;
        out->rfm_segment = pr.rfm_segment;
        out->segment = pr.segment;
        out->stage = pr.stage;
        if (info.has_clv) {
            out->parts |= ULM_SCORE_CLV;
            out->p_alive = pr.f[ULM_PF_P_ALIVE];
            out->expected_purchases = pr.f[ULM_PF_EXPECTED_PURCHASES];
            out->clv = pr.f[ULM_PF_CLV];
        }
    }

    /* The next best offer: the planner with one customer, no budget, one offer at most. */
    uint32_t k_off = ulm_model_offer_count(m);
    if (k_off && (out->parts & ULM_SCORE_CHURN)) {
        int from_clv = 0;
        double share;
        uint64_t seed;
        ulm_model_offer_control(m, &share, &seed);
        ulm_nba_customer cu = {.p_churn = isfinite(out->p_churn) ? out->p_churn : 0,
                               .value = ulm_nba_customer_value(x, out->clv, &from_clv)};
        cu.control = o->user ? ulm_nba_in_control(o->user, o->user_len, seed, share) : 0;
        out->parts |= ULM_SCORE_OFFER;
        out->value = cu.value;
        out->value_from_clv = from_clv;
        out->control = cu.control;
        if (!cu.control) {
            ulm_nba_pick pick;
            ulm_nba_totals t;
            size_t np = 0;
            s = ulm_nba_plan(ulm_model_offers(m), k_off, &cu, 1, INFINITY, 1, nba, l.nba, &pick, &np, &t, NULL);
            if (s != ULM_OK) return s;
            if (np) {
                out->offer = (int32_t)pick.offer;
                out->offer_net = pick.net;
            }
        }
    }
    return ULM_OK;
}
