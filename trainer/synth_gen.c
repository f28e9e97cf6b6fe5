/* synth_gen.c: what one user does on one day in `ulm synth`: due returns and repurchases, then
 * browsing sessions from a Poisson process in calendar-weighted time (search -> views -> carts ->
 * one order). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

#define RETURN_DELAY_MIN_DAYS 2.0
#define RETURN_DELAY_MEAN_DAYS 7.0
#define DECLINE_DAYS 45.0 /* activity fades over the last weeks of a lifetime */
#define DECLINE_FLOOR 0.3
#define MAX_CART 16

/* Appends one event; on allocation failure marks the buffer (the run then stops with an error). */
static void push(ulm_synth_evbuf *b, uint32_t sec, unsigned type, uint32_t qty, uint32_t user, uint32_t item,
                 uint32_t order) {
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 65536;
        ulm_synth_ev *p = realloc(b->ev, nc * sizeof *p);
        if (!p) {
            b->oom = true;
            return;
        }
        b->ev = p;
        b->cap = nc;
    }
    if (sec >= ULM_SYNTH_DAY) sec = ULM_SYNTH_DAY - 1;
    if (qty > ULM_SYNTH_MAX_QTY) qty = ULM_SYNTH_MAX_QTY;
    ulm_synth_ev *e = &b->ev[b->n++];
    e->key = ULM_SYNTH_KEY(sec, type, qty);
    e->user = user;
    e->item = item;
    e->order = order;
    b->hist[sec / 60]++;
    b->by_type[type]++;
}

uint32_t ulm_synth_pick_category(const ulm_synth_world *w, ulm_synth_user *usr) {
    float x = (float)ulm_rng_unif(&usr->rng);
    for (uint32_t i = 0; i < usr->ntaste; i++)
        if (x < usr->cum[i]) return usr->cats[i];
    return ulm_alias_sample(&w->cat_pick, &usr->rng);
}

#define pick_item ulm_synth_pick_item

/* Units in an order line: mostly one; consumables are bought in bulk more often. */
static uint32_t pick_qty(const ulm_synth_item *it, ulm_rng *r) {
    double x = ulm_rng_unif(r);
    double one = it->cycle_days ? 0.65 : 0.85;
    if (x < one) return 1;
    if (x < one + (1 - one) * 0.6) return 2;
    return 3 + ulm_rng_below(r, 4);
}

/* Schedules a future event; when the user already holds the maximum, the new one is dropped. */
static void schedule(ulm_synth_user *usr, unsigned kind, double due, uint32_t item, uint32_t order, uint32_t qty,
                     unsigned price_pct) {
    if (usr->npending >= ULM_SYNTH_MAX_PENDING || due >= (double)usr->end_t || due >= 4.0e9) return;
    ulm_synth_pending *pd = &usr->pending[usr->npending++];
    pd->due = (uint32_t)due;
    pd->item = item;
    pd->order = order;
    pd->qty = (uint16_t)qty;
    pd->kind = (uint8_t)kind;
    pd->price_pct = (uint8_t)price_pct;
}

/* After a purchase line on day d: maybe a later return (refunding the price paid), and for
 * consumables the next due repurchase. */
static void after_purchase(const ulm_synth_world *w, ulm_synth_user *usr, uint32_t d, double t, uint32_t item,
                           uint32_t order, uint32_t qty) {
    const ulm_synth_item *it = &w->items[item];
    ulm_rng *r = &usr->rng;
    if (ulm_rng_bern(r, w->cats[it->cat].return_rate)) {
        double delay = RETURN_DELAY_MIN_DAYS + ulm_rng_exp(r) * RETURN_DELAY_MEAN_DAYS;
        schedule(usr, ULM_SYNTH_RETURN, t + delay * ULM_SYNTH_DAY, item, order, qty, w->price_pct[d]);
    }
    if (it->cycle_days) {
        for (uint32_t i = 0; i < usr->npending; i++)
            if (usr->pending[i].kind == ULM_SYNTH_REPURCHASE && usr->pending[i].item == item) return;
        /* Larger packs last longer. */
        double cycle = it->cycle_days * (0.7 + 0.3 * qty) * exp(0.15 * ulm_rng_normal(r));
        schedule(usr, ULM_SYNTH_REPURCHASE, t + cycle * ULM_SYNTH_DAY, item, 0, qty, 0);
    }
}

/* Query words for item j: its noun always, sometimes its adjective, material and qualifier. */
static uint32_t make_query(const ulm_synth_world *w, uint32_t j, ulm_rng *r) {
    const ulm_synth_item *it = &w->items[j];
    const ulm_synth_category *cat = &w->cats[it->cat];
    uint32_t q = 0, n = 0;
    if (ulm_rng_bern(r, 0.4)) q |= (uint32_t)it->adj << (8 * n++);
    if (ulm_rng_bern(r, 0.35)) q |= (uint32_t)it->mat << (8 * n++);
    if (cat->qual && ulm_rng_bern(r, 0.5)) q |= (uint32_t)cat->qual << (8 * n++);
    q |= (uint32_t)cat->noun << (8 * n);
    return q;
}

/* Seconds between two clicks: a floor plus an exponential reading time. */
static double gap(ulm_rng *r) { return 5.0 + ulm_rng_exp(r) * 35.0; }

/* Emits one event of user u at absolute second t, if t still lies on day d: a session that runs past
 * midnight is cut there (the user leaves), which keeps each day's events on that day. */
static bool emit(ulm_synth_world *w, uint32_t u, uint32_t d, double t, unsigned type, uint32_t qty, uint32_t item,
                 uint32_t order, ulm_synth_evbuf *out) {
    double day_start = (double)d * ULM_SYNTH_DAY;
    if (t >= day_start + ULM_SYNTH_DAY) return false;
    if (t < day_start) t = day_start;
    push(out, (uint32_t)(t - day_start), type, qty, u, item, order);
    ulm_synth_user *usr = &w->users[u];
    usr->events++;
    usr->busy = (uint32_t)t;
    return true;
}

/* Where a new visit of the user can start: not before its last click, so visits never overlap. */
static double free_from(ulm_synth_user *usr, double t) {
    return t >= (double)usr->busy + 1.0 ? t : (double)usr->busy + gap(&usr->rng);
}

/* One browsing session starting at absolute second t of day d: maybe a search, views (mostly in one
 * category), some carts, then one order of the carted lines the user decides to buy. */
static void session(ulm_synth_world *w, uint32_t u, uint32_t d, double t, ulm_synth_evbuf *out) {
    ulm_synth_user *usr = &w->users[u];
    ulm_rng *r = &usr->rng;
    const ulm_synth_params *p = &w->p;
    t = free_from(usr, t);
    uint32_t c = ulm_synth_pick_category(w, usr);
    uint32_t searched = UINT32_MAX;
    if (ulm_rng_bern(r, p->p_search)) {
        searched = pick_item(w, c, r);
        if (!emit(w, u, d, t, ULM_EV_SEARCH, 0, make_query(w, searched, r), 0, out)) return;
        t += gap(r);
    }
    uint32_t views = 1 + ulm_rng_geometric_q(r, w->views_neg_log_q);
    if (views > 200) views = 200;
    uint32_t cart[MAX_CART], cqty[MAX_CART], ncart = 0, last = UINT32_MAX;
    for (uint32_t v = 0; v < views; v++) {
        uint32_t item;
        if (v == 0 && searched != UINT32_MAX && ulm_rng_bern(r, 0.6))
            item = searched;
        else if (ulm_rng_bern(r, p->session_stay))
            item = pick_item(w, c, r);
        else
            item = pick_item(w, ulm_synth_pick_category(w, usr), r);
        /* Going back to the product just seen is not a new view: draw once more. */
        if (item == last && v > 0) item = pick_item(w, c, r);
        last = item;
        if (!emit(w, u, d, t, ULM_EV_VIEW, 0, item, 0, out)) return;
        t += gap(r);
        bool in_cart = false;
        for (uint32_t i = 0; i < ncart; i++)
            in_cart |= cart[i] == item;
        if (!in_cart && ncart < MAX_CART && ulm_rng_bern(r, usr->p_cart)) {
            uint32_t q = pick_qty(&w->items[item], r);
            if (!emit(w, u, d, t, ULM_EV_CART, q, item, 0, out)) return;
            cart[ncart] = item;
            cqty[ncart++] = q;
            t += gap(r);
        }
    }
    /* Checkout: each carted line is kept with the user's buy chance (higher on promotion days);
     * all kept lines form one order, placed a little after the last click. */
    double pb = usr->p_buy * w->conv_factor[d];
    uint32_t keep[MAX_CART], nkeep = 0;
    for (uint32_t i = 0; i < ncart; i++)
        if (ulm_rng_bern(r, pb)) keep[nkeep++] = i;
    if (!nkeep) return;
    t += 30 + ulm_rng_exp(r) * 60;
    if (t >= (double)(d + 1) * ULM_SYNTH_DAY) return; /* midnight came first: the cart is abandoned */
    if (usr->orders >= ULM_SYNTH_ORDER_MASK) return;  /* 16 million orders: the user is done buying */
    uint32_t order = ++usr->orders;
    for (uint32_t k = 0; k < nkeep; k++) {
        uint32_t i = keep[k];
        emit(w, u, d, t, ULM_EV_PURCHASE, cqty[i], cart[i], order, out);
        usr->purchases++;
        after_purchase(w, usr, d, t, cart[i], order, cqty[i]);
    }
}

/* A due repurchase: the user comes back to the item, and most of the time buys it again. */
static void replenish(ulm_synth_world *w, uint32_t u, uint32_t d, const ulm_synth_pending *pd, ulm_synth_evbuf *out) {
    ulm_synth_user *usr = &w->users[u];
    ulm_rng *r = &usr->rng;
    double t = free_from(usr, pd->due);
    if (!emit(w, u, d, t, ULM_EV_VIEW, 0, pd->item, 0, out)) return;
    if (!ulm_rng_bern(r, w->p.repurchase_prob)) return;
    uint32_t q = ulm_rng_bern(r, 0.8) ? pd->qty : pick_qty(&w->items[pd->item], r);
    t += gap(r);
    if (!emit(w, u, d, t, ULM_EV_CART, q, pd->item, 0, out)) return;
    t += 30 + ulm_rng_exp(r) * 60;
    if (t >= (double)(d + 1) * ULM_SYNTH_DAY || usr->orders >= ULM_SYNTH_ORDER_MASK) return;
    uint32_t order = ++usr->orders;
    emit(w, u, d, t, ULM_EV_PURCHASE, q, pd->item, order, out);
    usr->purchases++;
    after_purchase(w, usr, d, t, pd->item, order, q);
}

/* The share of sessions kept at second t: 1, fading to DECLINE_FLOOR over the last weeks of a lifetime. */
/* The share of sessions kept at second t: 1, fading to DECLINE_FLOOR over the last weeks of a lifetime. */
static double keep_prob(const ulm_synth_user *usr, double t) {
    double left = ((double)usr->end_t - t) / (DECLINE_DAYS * ULM_SYNTH_DAY);
    if (left >= 1.0) return 1.0;
    return DECLINE_FLOOR + (1.0 - DECLINE_FLOOR) * (left > 0 ? left : 0);
}

void ulm_synth_user_day(ulm_synth_world *w, uint32_t u, uint32_t d, ulm_synth_evbuf *out) {
    ulm_synth_user *usr = &w->users[u];
    double day_start = (double)d * ULM_SYNTH_DAY, day_end = day_start + ULM_SYNTH_DAY;
    if ((double)usr->end_t <= day_start) {
        w->wake[u] = UINT32_MAX;
        return;
    }
    /* Due returns and repurchases, earliest first. */
    for (;;) {
        int best = -1;
        for (int i = 0; i < usr->npending; i++)
            if (usr->pending[i].due < day_end && (best < 0 || usr->pending[i].due < usr->pending[best].due)) best = i;
        if (best < 0) break;
        ulm_synth_pending pd = usr->pending[best];
        usr->pending[best] = usr->pending[--usr->npending];
        if ((double)pd.due >= (double)usr->end_t) continue;
        if (pd.kind == ULM_SYNTH_RETURN) {
            uint32_t tag = pd.order | (uint32_t)pd.price_pct << ULM_SYNTH_ORDER_BITS;
            emit(w, u, d, free_from(usr, pd.due), ULM_EV_RETURN, pd.qty, pd.item, tag, out);
        } else {
            replenish(w, u, d, &pd, out);
        }
    }
    /* Sessions: a Poisson process of rate lambda in operational time (the calendar's cumulative
     * traffic), mapped back to seconds; near the end of a lifetime some are thinned away. */
    while (usr->next_t < day_end && usr->next_t < (double)usr->end_t) {
        double t = usr->next_t;
        if (usr->first_session) {
            usr->first_session = 0;
            session(w, u, d, t, out);
        } else {
            double keep = keep_prob(usr, t);
            if (keep >= 1.0 || ulm_rng_unif(&usr->rng) < keep) session(w, u, d, t, out);
        }
        usr->tau += ulm_rng_exp(&usr->rng) / usr->lambda;
        usr->next_t = ulm_synth_op_inverse(w, usr->tau, d);
    }
    /* When to look at this user again. */
    double wake = usr->next_t < (double)usr->end_t ? usr->next_t : 1e300;
    for (int i = 0; i < usr->npending; i++)
        if (usr->pending[i].due < wake) wake = usr->pending[i].due;
    w->wake[u] = wake < 4.0e9 ? (uint32_t)wake : UINT32_MAX;
}
