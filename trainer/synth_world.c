/* synth_world.c: builds the world of `ulm synth`: parameters, catalogue (categories, items, prices,
 * popularity) and users (tastes, rates, signup, lifetime). Model and defaults: docs/synth.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

/* Stream ids: 0 is the catalogue; user u draws from stream 1 + u. */
#define STREAM_CATALOG 0u

ulm_synth_params ulm_synth_params_init(void) {
    ulm_synth_params p;
    memset(&p, 0, sizeof p);
    p.users = 10000;
    p.items = 2000;
    p.days = 365;
    p.seed = 1;
    p.start_day = ulm_days_from_civil(2024, 1, 1);
    p.threads = 0;
    p.zipf = 1.0;
    p.sessions_per_day = 0.12;
    p.session_sigma = 0.9;
    p.views_per_session = 5.0;
    p.p_search = 0.3;
    p.p_cart = 0.08;
    p.p_buy = 0.45;
    p.existing_share = 0.5;
    p.mean_lifetime_days = 600;
    p.oneoff_share = 0.3;
    p.oneoff_lifetime_days = 30;
    p.repurchase_prob = 0.7;
    p.session_stay = 0.8;
    return p;
}

/* Fills diag and returns ULM_ERR_RANGE: argument checks share one message shape. */
static ulm_status bad(ulm_diag *diag, const char *msg) {
    if (diag) {
        memset(diag, 0, sizeof *diag);
        snprintf(diag->message, sizeof diag->message, "%s", msg);
        diag->status = ULM_ERR_RANGE;
    }
    return ULM_ERR_RANGE;
}

/* Checks every parameter before anything is allocated. */
static ulm_status validate(const ulm_synth_params *p, ulm_diag *diag) {
    if (p->users == 0 || p->users > ULM_SYNTH_MAX_USERS) return bad(diag, "--users must be between 1 and 50000000");
    if (p->items == 0 || p->items > ULM_SYNTH_MAX_ITEMS) return bad(diag, "--items must be between 1 and 50000000");
    if (p->days == 0 || p->days > ULM_SYNTH_MAX_DAYS) return bad(diag, "--days must be between 1 and 10000");
    if (p->start_day < ulm_days_from_civil(1970, 1, 1) ||
        p->start_day + (int64_t)p->days > ulm_days_from_civil(9999, 12, 31))
        return bad(diag, "--start must lie between 1970-01-01 and 9999-12-31 together with --days");
    if (!(p->zipf >= 0 && p->zipf <= 5)) return bad(diag, "--zipf must be between 0 and 5");
    if (!(p->sessions_per_day > 0 && p->sessions_per_day <= 50))
        return bad(diag, "--sessions must be above 0 and at most 50 per day");
    if (p->categories > ulm_synth_nbases * ulm_synth_nquals) {
        char m[120];
        snprintf(m, sizeof m, "--categories must be at most %u", ulm_synth_nbases * ulm_synth_nquals);
        return bad(diag, m);
    }
    if (p->threads > 64) return bad(diag, "--threads must be at most 64");
    if (!(p->views_per_session >= 1 && p->views_per_session <= 100))
        return bad(diag, "views per session must be between 1 and 100");
    return ULM_OK;
}

/* Log-normal draw with the given median and sigma. */
static double lognormal(ulm_rng *r, double median, double sigma) { return median * exp(sigma * ulm_rng_normal(r)); }

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* Retail-looking price: whole units ending in .99 above 10, else rounded to 5 cents. */
static uint32_t shop_price(double price) {
    if (price >= 10) return (uint32_t)floor(price) * 100 + 99 - 100;
    uint32_t c = (uint32_t)lround(price * 20) * 5;
    return c < 49 ? 49 : c;
}

/* Categories: shuffled nouns, then qualified passes ("kids shoes"); each with price level and cycle. */
static ulm_status build_categories(ulm_synth_world *w, ulm_rng *r) {
    const ulm_synth_params *p = &w->p;
    uint32_t ncat = p->categories;
    if (ncat == 0) {
        double a = sqrt((double)p->items) / 3.0;
        ncat = (uint32_t)clampd(floor(a + 0.5), 4, (double)(ulm_synth_nbases * ulm_synth_nquals));
    }
    if (ncat > p->items) ncat = (uint32_t)p->items;
    w->ncat = ncat;
    w->cats = calloc(ncat, sizeof *w->cats);
    if (!w->cats) return ULM_ERR_NOMEM;
    uint32_t order[64];
    for (uint32_t i = 0; i < ulm_synth_nbases; i++)
        order[i] = i;
    for (uint32_t i = ulm_synth_nbases - 1; i > 0; i--) {
        uint32_t j = ulm_rng_below(r, i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint32_t c = 0; c < ncat; c++) {
        ulm_synth_category *cat = &w->cats[c];
        uint32_t base = order[c % ulm_synth_nbases], q = c / ulm_synth_nbases;
        const ulm_synth_base *b = &ulm_synth_bases[base];
        cat->noun = (uint8_t)ulm_synth_noun_word(base);
        cat->qual = q ? (uint8_t)ulm_synth_qual_word(q) : 0;
        if (q)
            snprintf(cat->name, sizeof cat->name, "%s %s", ulm_synth_quals[q].word, b->noun);
        else
            snprintf(cat->name, sizeof cat->name, "%s", b->noun);
        cat->cycle_days = b->cycle_days ? (uint16_t)lround(b->cycle_days * (0.8 + 0.4 * ulm_rng_unif(r))) : 0;
        cat->median_price = (float)lognormal(r, b->median_price * ulm_synth_quals[q].price_mult, 0.25);
        cat->price_sigma = (float)(0.35 + 0.2 * ulm_rng_unif(r));
        cat->return_rate = (float)(b->return_rate * (0.8 + 0.4 * ulm_rng_unif(r)));
    }
    return ULM_OK;
}

/* Items: category sizes skewed (a few big categories), popularity rank a random permutation,
 * price log-normal around the category level, name from an adjective and a colour/material. */
static ulm_status build_items(ulm_synth_world *w, ulm_rng *r) {
    uint32_t n = (uint32_t)w->p.items, ncat = w->ncat;
    w->items = calloc(n, sizeof *w->items);
    w->members = malloc(sizeof(uint32_t) * n);
    double *cw = malloc(sizeof(double) * ncat);
    uint32_t *count = calloc(ncat, sizeof(uint32_t));
    if (!w->items || !w->members || !cw || !count) {
        free(cw);
        free(count);
        return ULM_ERR_NOMEM;
    }
    for (uint32_t c = 0; c < ncat; c++)
        cw[c] = pow(c + 1.0, -0.6);
    ulm_alias size_pick;
    ulm_status s = ulm_alias_build(&size_pick, cw, ncat);
    if (s != ULM_OK) {
        free(cw);
        free(count);
        return s;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = i < ncat ? i : ulm_alias_sample(&size_pick, r);
        w->items[i].cat = (uint16_t)c;
        w->items[i].serial = ++count[c];
    }
    ulm_alias_free(&size_pick);
    /* Ranks: a Fisher-Yates permutation of 1..n. */
    for (uint32_t i = 0; i < n; i++)
        w->items[i].rank = i + 1;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = ulm_rng_below(r, i + 1), t = w->items[i].rank;
        w->items[i].rank = w->items[j].rank;
        w->items[j].rank = t;
    }
    for (uint32_t i = 0; i < n; i++) {
        ulm_synth_item *it = &w->items[i];
        const ulm_synth_category *cat = &w->cats[it->cat];
        it->price_cents = shop_price(lognormal(r, cat->median_price, cat->price_sigma));
        it->adj = (uint8_t)ulm_synth_adj_word(ulm_rng_below(r, ULM_SYNTH_NADJ));
        it->mat = (uint8_t)ulm_synth_mat_word(ulm_rng_below(r, ULM_SYNTH_NMAT));
        if (cat->cycle_days) {
            double cyc = lognormal(r, cat->cycle_days, 0.2);
            it->cycle_days = (uint16_t)clampd(floor(cyc + 0.5), 5, 365);
        }
    }
    /* Members grouped by category, most popular first (walking items in rank order). */
    uint32_t off = 0;
    for (uint32_t c = 0; c < ncat; c++) {
        w->cats[c].first = off;
        w->cats[c].count = 0;
        off += count[c];
    }
    uint32_t *by_rank = malloc(sizeof(uint32_t) * n);
    double *iw = malloc(sizeof(double) * n);
    if (!by_rank || !iw) {
        free(by_rank);
        free(iw);
        free(cw);
        free(count);
        return ULM_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        by_rank[w->items[i].rank - 1] = i;
    for (uint32_t k = 0; k < n; k++) {
        ulm_synth_category *cat = &w->cats[w->items[by_rank[k]].cat];
        w->members[cat->first + cat->count++] = by_rank[k];
    }
    free(by_rank);
    double total = 0;
    for (uint32_t i = 0; i < n; i++)
        iw[i] = pow((double)w->items[w->members[i]].rank, -w->p.zipf);
    /* Bands of doubling size per category (256, 256, 512, ...), each with its own alias table, and a
     * small alias table over the bands: the head bands take most draws and stay in cache, where one
     * table over all items would spread draws uniformly over its slots. */
    uint32_t nbands = 0;
    for (uint32_t c = 0; c < ncat; c++)
        for (uint32_t start = 0; start < w->cats[c].count; start += start ? start : ULM_SYNTH_BAND0)
            nbands++;
    w->picks = malloc(sizeof *w->picks * n);
    w->bands = malloc(sizeof *w->bands * (nbands ? nbands : 1));
    w->price_cents = malloc(sizeof *w->price_cents * n);
    if (!w->picks || !w->bands || !w->price_cents) s = ULM_ERR_NOMEM;
    for (uint32_t i = 0; s == ULM_OK && i < n; i++)
        w->price_cents[i] = w->items[i].price_cents;
    uint32_t band_at = 0;
    for (uint32_t c = 0; c < ncat && s == ULM_OK; c++) {
        ulm_synth_category *cat = &w->cats[c];
        double m = 0, bmass[40];
        cat->band_first = band_at;
        cat->nbands = 0;
        for (uint32_t start = 0; start < cat->count && s == ULM_OK;) {
            uint32_t len = start == 0 ? ULM_SYNTH_BAND0 : start;
            if (len > cat->count - start) len = cat->count - start;
            ulm_synth_band *bd = &w->bands[band_at + cat->nbands];
            bd->start = start;
            bd->count = len;
            double bm = 0;
            for (uint32_t k = 0; k < len; k++)
                bm += iw[cat->first + start + k];
            bmass[cat->nbands++] = bm;
            m += bm;
            ulm_alias a;
            s = ulm_alias_build(&a, iw + cat->first + start, len);
            for (uint32_t k = 0; s == ULM_OK && k < len; k++) {
                ulm_synth_pick *pk = &w->picks[cat->first + start + k];
                pk->prob = a.slot[k].prob;
                pk->item = w->members[cat->first + start + k];
                pk->alias = w->members[cat->first + start + a.slot[k].alias];
                pk->pad = 0;
            }
            ulm_alias_free(&a);
            start += len;
        }
        if (s == ULM_OK) {
            ulm_alias a;
            s = ulm_alias_build(&a, bmass, cat->nbands);
            for (uint32_t b = 0; s == ULM_OK && b < cat->nbands; b++) {
                w->bands[band_at + b].prob = a.slot[b].prob;
                w->bands[band_at + b].alias = a.slot[b].alias;
            }
            ulm_alias_free(&a);
        }
        band_at += cat->nbands;
        cat->share = m;
        total += m;
    }
    w->zipf_norm = total;
    for (uint32_t c = 0; c < ncat; c++) {
        w->cats[c].share /= total;
        cw[c] = w->cats[c].share;
    }
    if (s == ULM_OK) s = ulm_alias_build(&w->cat_pick, cw, ncat);
    free(iw);
    free(cw);
    free(count);
    return s;
}

/* One user: taste mixture, rates and lifetime, all from the user's own stream. */
static void init_user(ulm_synth_world *w, uint32_t u) {
    const ulm_synth_params *p = &w->p;
    ulm_synth_user *usr = &w->users[u];
    memset(usr, 0, sizeof *usr);
    ulm_rng *r = &usr->rng;
    ulm_rng_seed(r, p->seed, 1 + (uint64_t)u);
    const double day = ULM_SYNTH_DAY;
    /* Taste: 1-3 favourite categories (drawn by popularity) with Dirichlet(1) weights, plus an
     * exploration share spread over all categories by popularity. */
    double pick = ulm_rng_unif(r);
    uint32_t k = pick < 0.3 ? 1 : pick < 0.7 ? 2 : 3;
    if (k > w->ncat) k = w->ncat;
    double wt[ULM_SYNTH_MAX_TASTE], sum = 0;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t c = 0;
        for (int tries = 0; tries < 16; tries++) {
            c = ulm_alias_sample(&w->cat_pick, r);
            bool dup = false;
            for (uint32_t j = 0; j < i; j++)
                dup |= usr->cats[j] == c;
            if (!dup) break;
            if (tries == 15) c = (usr->cats[i - 1] + 1) % w->ncat; /* tiny catalogues: take the next one */
        }
        usr->cats[i] = (uint16_t)c;
        wt[i] = ulm_rng_exp(r) + 1e-9;
        sum += wt[i];
    }
    usr->ntaste = (uint8_t)k;
    usr->explore = (float)(0.05 + 0.15 * ulm_rng_unif(r));
    double acc = 0;
    for (uint32_t i = 0; i < k; i++) {
        acc += wt[i] / sum * (1.0 - usr->explore);
        usr->cum[i] = (float)acc;
    }
    /* Rates. */
    usr->lambda = (float)clampd(lognormal(r, p->sessions_per_day, p->session_sigma), 0.002, 20);
    usr->p_cart = (float)clampd(lognormal(r, p->p_cart, 0.4) * exp(-0.08), 0.005, 0.6);
    usr->p_buy = (float)clampd(lognormal(r, p->p_buy, 0.3) * exp(-0.045), 0.05, 0.95);
    /* Signup and lifetime: existing customers signed up within two years before the start and have
     * an exponential remaining lifetime (memoryless); new ones sign up on a uniform day. */
    double mean_life = p->mean_lifetime_days * exp(0.5 * ulm_rng_normal(r) - 0.125);
    if (ulm_rng_bern(r, p->existing_share)) {
        int64_t sd = -1 - (int64_t)ulm_rng_below(r, 730);
        usr->signup_t = sd * (int64_t)day + (int64_t)ulm_rng_below(r, ULM_SYNTH_DAY);
        usr->end_t = (int64_t)(ulm_rng_exp(r) * mean_life * day);
        usr->tau = ulm_rng_exp(r) / usr->lambda;
        usr->next_t = ulm_synth_op_inverse(w, usr->tau, 0);
    } else {
        int64_t sd = (int64_t)ulm_rng_below(r, (uint32_t)p->days);
        uint32_t hour = ulm_alias_sample(&w->hour_pick, r);
        usr->signup_t = sd * (int64_t)day + hour * 3600 + ulm_rng_below(r, 3600);
        if (ulm_rng_bern(r, p->oneoff_share)) mean_life = p->oneoff_lifetime_days;
        usr->end_t = usr->signup_t + (int64_t)(ulm_rng_exp(r) * mean_life * day);
        usr->next_t = (double)usr->signup_t;
        usr->tau = ulm_synth_op_time(w, usr->next_t);
        usr->first_session = 1;
    }
    /* Churn is day-granular: the user is gone from 00:00 of the day its lifetime ends, but always
     * lives through its signup day. */
    int64_t end_day = usr->end_t / (int64_t)day, signup_day = usr->signup_t >= 0 ? usr->signup_t / (int64_t)day : -1;
    if (end_day <= signup_day) end_day = signup_day + 1;
    if (end_day < 1) end_day = 1;
    if (end_day > 100000) end_day = 100000;
    usr->end_t = end_day * (int64_t)day;
    w->wake[u] = usr->next_t < (double)usr->end_t && usr->next_t < 4.0e9 ? (uint32_t)usr->next_t : UINT32_MAX;
}

ulm_status ulm_synth_world_build(ulm_synth_world *w, const ulm_synth_params *p, ulm_diag *diag) {
    memset(w, 0, sizeof *w);
    w->p = *p;
    ulm_status s = validate(p, diag);
    if (s != ULM_OK) return s;
    ulm_rng r;
    ulm_rng_seed(&r, p->seed, STREAM_CATALOG);
    w->views_neg_log_q = -log1p(-1.0 / p->views_per_session);
    s = ulm_synth_calendar_build(w);
    if (s == ULM_OK) s = build_categories(w, &r);
    if (s == ULM_OK) s = build_items(w, &r);
    if (s == ULM_OK) {
        w->users = malloc(sizeof *w->users * p->users);
        w->wake = malloc(sizeof *w->wake * p->users);
        if (!w->users || !w->wake) s = ULM_ERR_NOMEM;
    }
    if (s == ULM_OK)
        for (uint32_t u = 0; u < p->users; u++)
            init_user(w, u);
    if (s != ULM_OK && diag) {
        memset(diag, 0, sizeof *diag);
        diag->status = s;
        snprintf(diag->message, sizeof diag->message, "%s",
                 s == ULM_ERR_NOMEM ? "out of memory building the synthetic world (try fewer users or items)"
                                    : "could not build the synthetic world");
    }
    return s;
}

void ulm_synth_world_free(ulm_synth_world *w) {
    free(w->cats);
    free(w->picks);
    free(w->bands);
    free(w->price_cents);
    free(w->items);
    free(w->members);
    ulm_alias_free(&w->cat_pick);
    ulm_alias_free(&w->hour_pick);
    free(w->users);
    free(w->wake);
    free(w->day_factor);
    free(w->conv_factor);
    free(w->price_pct);
    free(w->day_prefix);
    free(w->cum_day);
    memset(w, 0, sizeof *w);
}
