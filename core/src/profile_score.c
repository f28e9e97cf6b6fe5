/* profile_score.c: one customer's profile, segments, stage and lifetime value from a profiler
 * (docs/profile.md, docs/segments.md). Scoring half: never allocates; scratch comes from the caller. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "profile_impl.h"
#include "ulm/ulm_events.h"

static const char *const feature_names[ULM_PF_COUNT] = {
    "recency_days", "tenure_days", "purchase_days", "orders", "monetary", "gross_spend", "returned_value",
    "ipt_mean_days", "ipt_var_days", "basket_units", "basket_lines", "basket_value", "distinct_items",
    "distinct_categories", "return_rate", "discount_share", "weekend_share", "night_share", "morning_share",
    "afternoon_share", "evening_share", "peak_hour", "peak_weekday", "events", "views", "carts", "searches",
    "purchase_lines", "return_lines", "clv_x", "clv_t_x", "clv_T", "clv_zbar", "p_alive", "expected_purchases",
    "expected_spend", "clv", "rfm_r", "rfm_f", "rfm_m"};

static const char *const rfm_names[ULM_RFM_COUNT] = {
    "Champions",     "Loyal",           "Potential loyalist", "New",         "Promising", "Need attention",
    "About to sleep", "At risk",        "Cannot lose them",   "Hibernating", "Lost"};

static const char *const stage_names[ULM_STAGE_COUNT] = {"new",     "active",  "at risk",
                                                         "dormant", "churned", "reactivated"};

const char *ulm_profile_feature_name(int f) { return f >= 0 && f < ULM_PF_COUNT ? feature_names[f] : NULL; }

const char *ulm_rfm_segment_name(int s) {
    if (s == ULM_RFM_NONE) return "";
    return s >= 0 && s < ULM_RFM_COUNT ? rfm_names[s] : NULL;
}

const char *ulm_stage_name(int s) {
    if (s == ULM_STAGE_NONE) return "";
    return s >= 0 && s < ULM_STAGE_COUNT ? stage_names[s] : NULL;
}

/* ---- tokens ------------------------------------------------------------------------------------ */

/* Words too common in shop texts to describe anyone (English function words and pack sizes). */
static const char *const stop_words[] = {"and", "the", "for", "with", "set", "pack", "from", "of", "in", "per",
                                         "pcs", "assorted", "design", "colour", "color", NULL};

static int is_stop(const char *t, size_t n) {
    for (int i = 0; stop_words[i]; i++)
        if (strlen(stop_words[i]) == n && memcmp(stop_words[i], t, n) == 0) return 1;
    return 0;
}

void ulm_profile_tokens(const char *text, size_t len, void (*fn)(void *ud, const char *tok, size_t n), void *ud) {
    char buf[64];
    size_t i = 0;
    while (i < len) {
        size_t n = 0;
        int digits = 1;
        while (i < len) {
            unsigned char c = (unsigned char)text[i];
            char o;
            if (c >= 'A' && c <= 'Z') o = (char)(c - 'A' + 'a');
            else if ((c >= 'a' && c <= 'z') || c >= 0x80) o = (char)c;
            else if (c >= '0' && c <= '9') o = (char)c;
            else break;
            if (!(c >= '0' && c <= '9')) digits = 0;
            if (n < sizeof buf) buf[n] = o;
            n++, i++;
        }
        /* Tokens longer than the buffer are cut at a UTF-8 boundary. */
        if (n > sizeof buf) {
            n = sizeof buf;
            while (n > 0 && ((unsigned char)buf[n - 1] & 0xC0) == 0x80) n--;
            if (n > 0 && (unsigned char)buf[n - 1] >= 0xC0) n--;
        }
        if (n >= 3 && !digits && !is_stop(buf, n)) fn(ud, buf, n);
        while (i < len) {
            unsigned char c = (unsigned char)text[i];
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) break;
            i++;
        }
    }
}

/* ---- sorting without allocation (heap sorts; no qsort context globals) -------------------------- */

typedef struct ev_key {
    int64_t t;
    uint32_t i;
} ev_key;
typedef struct ord_key {
    int64_t key;
    int64_t t;
    uint32_t kind; /* 0 = order id, 1 = time as key */
} ord_key;

static int ev_lt(const ev_key *a, const ev_key *b) { return a->t < b->t || (a->t == b->t && a->i < b->i); }
static int ord_lt(const ord_key *a, const ord_key *b) {
    if (a->kind != b->kind) return a->kind < b->kind;
    if (a->key != b->key) return a->key < b->key;
    return a->t < b->t;
}
static int u32_lt(const uint32_t *a, const uint32_t *b) { return *a < *b; }

#define ULM__HEAPSORT(name, T, LT)                                                                                     \
    static void name(T *a, size_t n) {                                                                                 \
        size_t sorted = 1;                                                                                             \
        while (sorted < n && !LT(&a[sorted], &a[sorted - 1])) sorted++;                                               \
        if (sorted >= n) return; /* logs are mostly in time order already */                                         \
        for (size_t s = n / 2; s-- > 0;) {                                                                             \
            size_t r = s;                                                                                              \
            for (size_t c; (c = 2 * r + 1) < n; r = c) {                                                               \
                if (c + 1 < n && LT(&a[c], &a[c + 1])) c++;                                                            \
                if (!LT(&a[r], &a[c])) break;                                                                          \
                T t = a[r]; a[r] = a[c]; a[c] = t;                                                                     \
            }                                                                                                          \
        }                                                                                                              \
        for (size_t e = n; e-- > 1;) {                                                                                 \
            T t = a[0]; a[0] = a[e]; a[e] = t;                                                                         \
            size_t r = 0;                                                                                              \
            for (size_t c; (c = 2 * r + 1) < e; r = c) {                                                               \
                if (c + 1 < e && LT(&a[c], &a[c + 1])) c++;                                                            \
                if (!LT(&a[r], &a[c])) break;                                                                          \
                T u = a[r]; a[r] = a[c]; a[c] = u;                                                                     \
            }                                                                                                          \
        }                                                                                                              \
    }
ULM__HEAPSORT(sort_ev, ev_key, ev_lt)
ULM__HEAPSORT(sort_ord, ord_key, ord_lt)
ULM__HEAPSORT(sort_u32, uint32_t, u32_lt)

/* ---- scratch layout ------------------------------------------------------------------------------- */

/* Upper bound of keyword tokens in a query of len bytes (tokens are >= 3 bytes plus a separator). */
static size_t query_tokens_max(uint32_t len) { return (size_t)len / 4 + 1; }

static size_t words_bound(const ulm_profiler *p, const ulm_profile_event *ev, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type == ULM_EV_PURCHASE && p && ev[i].item < p->n_items)
            w += p->word_off[ev[i].item + 1] - p->word_off[ev[i].item];
        else if (ev[i].type == ULM_EV_SEARCH && ev[i].query) w += query_tokens_max(ev[i].query_len);
    }
    return w;
}

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

/* Size of the count array in the scratch: the largest id space it serves. */
static size_t count_cap(const ulm_profiler *p) {
    size_t c = p ? p->vocab.n : 0;
    if (p && p->n_items > c) c = p->n_items;
    if (p && p->cats.n > c) c = p->cats.n;
    return c;
}

size_t ulm_profile_work_size(const ulm_profiler *p, const ulm_profile_event *ev, size_t n) {
    size_t w = words_bound(p, ev, n);
    return ALIGN8(n * sizeof(ev_key)) + ALIGN8(n * sizeof(ord_key)) + 2 * ALIGN8(n * sizeof(int64_t)) +
           2 * ALIGN8(n * sizeof(double)) + 2 * ALIGN8(n * sizeof(uint32_t)) + ALIGN8(w * sizeof(uint32_t)) +
           ALIGN8(count_cap(p) * sizeof(uint32_t)) + 64;
}

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Collects the vocabulary ids of a query's tokens. */
typedef struct word_sink {
    const ulm_profiler *p;
    uint32_t *w;
    size_t n, cap;
} word_sink;

static void sink_token(void *ud, const char *tok, size_t n) {
    word_sink *s = ud;
    uint32_t id = ulm_dict_find(&s->p->vocab, tok, n);
    if (id != ULM_NONE && s->n < s->cap) s->w[s->n++] = id;
}

void ulm__profile_zvec(const ulm_profiler *p, const double *f, double *z) {
    for (uint32_t j = 0; j < p->d; j++) {
        double v = f[p->feat[j]];
        if (isnan(v)) {
            z[j] = 0;
            continue;
        }
        if (p->logt[j]) v = log1p(v > 0 ? v : 0);
        z[j] = (v - p->mean[j]) / p->sd[j];
    }
}

/* R x F map (docs/segments.md); lost is the lowest R and F cell, split from hibernating. */
static int rfm_map(int r, int f) {
    if (r <= 2) {
        if (f <= 2) return r == 1 && f == 1 ? ULM_RFM_LOST : ULM_RFM_HIBERNATING;
        return f == 5 ? ULM_RFM_CANNOT_LOSE : ULM_RFM_AT_RISK;
    }
    if (r == 3) {
        if (f <= 2) return ULM_RFM_ABOUT_TO_SLEEP;
        return f == 3 ? ULM_RFM_NEED_ATTENTION : ULM_RFM_LOYAL;
    }
    if (f == 1) return r == 4 ? ULM_RFM_PROMISING : ULM_RFM_NEW;
    if (f <= 3) return ULM_RFM_POTENTIAL_LOYALIST;
    return r == 5 ? ULM_RFM_CHAMPIONS : ULM_RFM_LOYAL;
}

static int count_above(double v, const double c[4]) {
    int k = 0;
    for (int j = 0; j < 4; j++) k += v > c[j];
    return k;
}

/* Number of distinct values in v[0..n) (ids below range): by sorting when n is small against the
 * range, else with a bit per id in count[] (room for range / 32 + 1 words). */
static double distinct(uint32_t *v, size_t n, size_t range, uint32_t *count, size_t cap) {
    double d = 0;
    if (n * 16 < range || range / 32 + 1 > cap) {
        sort_u32(v, n);
        for (size_t a = 0; a < n; a++) d += a == 0 || v[a] != v[a - 1];
        return d;
    }
    memset(count, 0, (range / 32 + 1) * sizeof *count);
    for (size_t a = 0; a < n; a++) {
        uint32_t bit = 1u << (v[a] & 31);
        if (!(count[v[a] >> 5] & bit)) count[v[a] >> 5] |= bit, d++;
    }
    return d;
}

/* Offers word w with tf-idf weight wt to the top list (weight descending, ties to the lower id, i.e.
 * the bytewise earlier word); returns wt squared for the norm. */
double ulm__profile_keyword_offer(ulm_profile *out, uint32_t w, double wt) {
    uint32_t nk = out->n_keywords, pos = nk;
    while (pos > 0 && (out->keyword_weight[pos - 1] < wt || (out->keyword_weight[pos - 1] == wt && out->keyword[pos - 1] > w)))
        pos--;
    if (pos < ULM_PROFILE_MAX_KEYWORDS) {
        uint32_t last = nk < ULM_PROFILE_MAX_KEYWORDS ? nk : ULM_PROFILE_MAX_KEYWORDS - 1;
        for (uint32_t j = last; j > pos; j--) {
            out->keyword[j] = out->keyword[j - 1];
            out->keyword_weight[j] = out->keyword_weight[j - 1];
        }
        out->keyword[pos] = w;
        out->keyword_weight[pos] = wt;
        if (nk < ULM_PROFILE_MAX_KEYWORDS) out->n_keywords++;
    }
    return wt * wt;
}

void ulm__profile_clear(ulm_profile *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < ULM_PF_COUNT; i++) out->f[i] = NAN;
    out->rfm_segment = ULM_RFM_NONE;
    out->segment = -1;
    out->stage = ULM_STAGE_NONE;
}

static int64_t day_of_array(const void *days, size_t i) { return ((const int64_t *)days)[i]; }

void ulm__profile_finish(const ulm_profiler *p, size_t nd, int64_t (*day)(const void *days, size_t i), const void *days,
                         double zs, int64_t cal_day, ulm_profile *out) {
    double *f = out->f;
    if (nd == 0) return; /* no purchase: the rest is undefined */
    int64_t d0 = day(days, 0), dl = day(days, nd - 1);
    f[ULM_PF_RECENCY_DAYS] = (double)(cal_day - dl);
    f[ULM_PF_TENURE_DAYS] = (double)(cal_day - d0);
    if (nd >= 2) {
        double mean = (double)(dl - d0) / (double)(nd - 1), ss = 0;
        for (size_t d = 1; d < nd; d++) {
            double g = (double)(day(days, d) - day(days, d - 1)) - mean;
            ss += g * g;
        }
        f[ULM_PF_IPT_MEAN] = mean;
        if (nd >= 3) f[ULM_PF_IPT_VAR] = ss / (double)(nd - 2);
    }
    /* Lifetime value (docs/clv.md data rules: distinct purchase days). */
    const double *c = p->clvp;
    if (c[ULM__CLVP_UNIT] > 0) {
        double unit = c[ULM__CLVP_UNIT], x = (double)(nd - 1);
        f[ULM_PF_CLV_X] = x;
        f[ULM_PF_CLV_TX] = (double)(dl - d0) / unit;
        f[ULM_PF_CLV_T] = (double)(cal_day - d0) / unit;
        f[ULM_PF_CLV_ZBAR] = x > 0 ? zs / x : 0;
    }
    if (c[ULM__CLVP_HAS_CLV] != 0) {
        double x = f[ULM_PF_CLV_X];
        ulm_clv_model cm;
        cm.kind = (int)c[ULM__CLVP_KIND];
        cm.bg = (ulm_bgnbd){c[ULM__CLVP_BG_R], c[ULM__CLVP_BG_ALPHA], c[ULM__CLVP_BG_A], c[ULM__CLVP_BG_B]};
        cm.pn = (ulm_pnbd){c[ULM__CLVP_PN_R], c[ULM__CLVP_PN_ALPHA], c[ULM__CLVP_PN_S], c[ULM__CLVP_PN_BETA]};
        int gg = c[ULM__CLVP_HAS_GG] != 0;
        cm.gg = gg ? (ulm_gg){c[ULM__CLVP_GG_P], c[ULM__CLVP_GG_Q], c[ULM__CLVP_GG_GAMMA]} : (ulm_gg){1, 2, 1};
        ulm_clv_pred pr;
        if (ulm_clv_predict(&cm, x, f[ULM_PF_CLV_TX], f[ULM_PF_CLV_T], gg ? f[ULM_PF_CLV_ZBAR] : 0,
                            c[ULM__CLVP_HORIZON], c[ULM__CLVP_PERIOD], c[ULM__CLVP_DISCOUNT], &pr) == ULM_OK &&
            isfinite(pr.p_alive) && isfinite(pr.expected_purchases)) {
            f[ULM_PF_P_ALIVE] = pr.p_alive;
            f[ULM_PF_EXPECTED_PURCHASES] = pr.expected_purchases;
            if (gg && isfinite(pr.expected_spend) && isfinite(pr.clv)) {
                f[ULM_PF_EXPECTED_SPEND] = pr.expected_spend;
                f[ULM_PF_CLV] = pr.clv;
            }
        }
    }
    if (p->has_rfm) {
        int r = 5 - count_above(f[ULM_PF_RECENCY_DAYS], p->rfm_cuts[0]);
        int fq = 1 + count_above(f[ULM_PF_ORDERS], p->rfm_cuts[1]);
        int mq = 1 + count_above(f[ULM_PF_MONETARY], p->rfm_cuts[2]);
        f[ULM_PF_RFM_R] = r, f[ULM_PF_RFM_F] = fq, f[ULM_PF_RFM_M] = mq;
        out->rfm_segment = rfm_map(r, fq);
    }
    if (p->k > 0) {
        double z[ULM__KM_MAX_D], best = INFINITY;
        ulm__profile_zvec(p, f, z);
        for (uint32_t s = 0; s < p->k; s++) {
            double d2 = 0;
            for (uint32_t j = 0; j < p->d; j++) {
                double t = z[j] - p->cent[s * p->d + j];
                d2 += t * t;
            }
            if (d2 < best) best = d2, out->segment = (int32_t)s;
        }
    }
    if (p->has_stage) {
        const double *st = p->stage;
        double rec = f[ULM_PF_RECENCY_DAYS];
        double rhythm = nd >= 2 ? f[ULM_PF_IPT_MEAN] : st[ULM__ST_RHYTHM];
        if (rhythm < 1) rhythm = 1;
        double ratio = rec / rhythm;
        if (nd == 1 && rec <= st[ULM__ST_NEW_DAYS]) out->stage = ULM_STAGE_NEW;
        else if (ratio <= st[ULM__ST_ACTIVE]) {
            out->stage = ULM_STAGE_ACTIVE;
            if (nd >= 2) {
                double last_gap = (double)(dl - day(days, nd - 2));
                double before = nd >= 3 ? (double)(day(days, nd - 2) - d0) / (double)(nd - 2) : st[ULM__ST_RHYTHM];
                if (before < 1) before = 1;
                if (last_gap / before > st[ULM__ST_REACT]) out->stage = ULM_STAGE_REACTIVATED;
            }
        } else if (ratio <= st[ULM__ST_AT_RISK]) out->stage = ULM_STAGE_AT_RISK;
        else if (ratio <= st[ULM__ST_DORMANT]) out->stage = ULM_STAGE_DORMANT;
        else out->stage = ULM_STAGE_CHURNED;
    }
}

ulm_status ulm_profile_compute(const ulm_profiler *p, const ulm_profile_event *ev, size_t n, int64_t as_of,
                               void *work, size_t work_len, ulm_profile *out) {
    if (!p || !out || (n && (!ev || !work))) return ULM_ERR_MISUSE;
    size_t wb = words_bound(p, ev, n);
    if (work_len < ulm_profile_work_size(p, ev, n)) return ULM_ERR_RANGE;
    uint8_t *wp = (uint8_t *)(((uintptr_t)work + 7) & ~(uintptr_t)7);
    ev_key *ek = (ev_key *)wp;
    wp += ALIGN8(n * sizeof(ev_key));
    ord_key *ok = (ord_key *)wp;
    wp += ALIGN8(n * sizeof(ord_key));
    int64_t *days = (int64_t *)wp;
    wp += ALIGN8(n * sizeof(int64_t));
    wp += ALIGN8(n * sizeof(int64_t)); /* reserved */
    double *dval = (double *)wp;
    wp += ALIGN8(n * sizeof(double));
    wp += ALIGN8(n * sizeof(double)); /* reserved */
    uint32_t *items = (uint32_t *)wp;
    wp += ALIGN8(n * sizeof(uint32_t));
    uint32_t *cats = (uint32_t *)wp;
    wp += ALIGN8(n * sizeof(uint32_t));
    uint32_t *words = (uint32_t *)wp;
    wp += ALIGN8(wb * sizeof(uint32_t));
    uint32_t *wcount = (uint32_t *)wp; /* [max(vocab, items, categories)], for customers with many words or items */
    size_t wcap = count_cap(p);

    ulm__profile_clear(out);
    double *f = out->f;

    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].time < as_of) ek[m++] = (ev_key){ev[i].time, (uint32_t)i};
    sort_ev(ek, m);
    int64_t cal_day = floor_div(as_of - 1, 86400);
    size_t nd = 0, no = 0, ni = 0, nc = 0;
    word_sink ws = {p, words, 0, wb};
    double cnt[ULM_EV__COUNT] = {0};
    double gross = 0, returned = 0, units = 0, ret_units = 0, elig = 0, disc = 0;
    for (size_t k = 0; k < m; k++) {
        const ulm_profile_event *e = &ev[ek[k].i];
        if (e->type < ULM_EV__COUNT) cnt[e->type]++;
        double v = isnan(e->price) ? 0 : (double)e->qty * e->price;
        int64_t day = floor_div(e->time, 86400);
        if (e->type == ULM_EV_PURCHASE) {
            gross += v;
            units += e->qty;
            if (nd == 0 || days[nd - 1] != day) {
                days[nd] = day;
                dval[nd++] = 0;
            }
            dval[nd - 1] += v;
            ok[no++] = e->order != ULM_NONE ? (ord_key){e->order, e->time, 0} : (ord_key){e->time, e->time, 1};
            if (e->item < p->n_items) {
                items[ni++] = e->item;
                if (p->item_cat[e->item] != ULM_NONE) cats[nc++] = p->item_cat[e->item];
                for (uint32_t w = p->word_off[e->item]; w < p->word_off[e->item + 1] && ws.n < ws.cap; w++)
                    words[ws.n++] = p->word_ids[w];
                double ref = p->item_ref[e->item];
                if (ref > 0 && e->price > 0) {
                    elig++;
                    disc += e->price < 0.99 * ref;
                }
            }
        } else if (e->type == ULM_EV_RETURN) {
            returned += v;
            ret_units += fabs((double)e->qty);
        } else if (e->type == ULM_EV_SEARCH && e->query && e->query_len) {
            ulm_profile_tokens(e->query, e->query_len, sink_token, &ws);
        }
    }
    /* A return on a purchase day lowers that day's value (as the CLV data rules do). */
    for (size_t k = 0, d = 0; k < m && nd; k++) {
        const ulm_profile_event *e = &ev[ek[k].i];
        if (e->type != ULM_EV_RETURN) continue;
        int64_t day = floor_div(e->time, 86400);
        while (d < nd && days[d] < day) d++;
        if (d < nd && days[d] == day) dval[d] -= isnan(e->price) ? 0 : (double)e->qty * e->price;
    }
    f[ULM_PF_EVENTS] = (double)m;
    f[ULM_PF_VIEWS] = cnt[ULM_EV_VIEW];
    f[ULM_PF_CARTS] = cnt[ULM_EV_CART];
    f[ULM_PF_SEARCHES] = cnt[ULM_EV_SEARCH];
    f[ULM_PF_PURCHASE_LINES] = cnt[ULM_EV_PURCHASE];
    f[ULM_PF_RETURN_LINES] = cnt[ULM_EV_RETURN];
    f[ULM_PF_GROSS] = gross;
    f[ULM_PF_RETURNED] = returned;
    f[ULM_PF_MONETARY] = gross - returned;
    f[ULM_PF_PURCHASE_DAYS] = (double)nd;

    /* Keywords: tf-idf over the words of bought items and searches. Counted with a sort for few
     * words, with a vocabulary-sized count array for many (the result is the same). */
    double norm = 0;
    uint32_t nw = p->vocab.n;
    if (ws.n * 8 < nw) {
        sort_u32(words, ws.n);
        for (size_t a = 0; a < ws.n;) {
            size_t b = a;
            while (b < ws.n && words[b] == words[a]) b++;
            norm += ulm__profile_keyword_offer(out, words[a], (double)(b - a) * p->idf[words[a]]);
            a = b;
        }
    } else {
        memset(wcount, 0, nw * sizeof *wcount);
        for (size_t a = 0; a < ws.n; a++) wcount[words[a]]++;
        for (uint32_t w = 0; w < nw; w++)
            if (wcount[w]) norm += ulm__profile_keyword_offer(out, w, (double)wcount[w] * p->idf[w]);
    }
    if (norm > 0)
        for (uint32_t j = 0; j < out->n_keywords; j++) out->keyword_weight[j] /= sqrt(norm);

    if (nd == 0) return ULM_OK; /* no purchase: the rest is undefined */

    /* Orders: distinct keys, each placed at its earliest time. */
    sort_ord(ok, no);

    double orders = 0, wkend = 0, part[4] = {0}, hours[24] = {0}, wdays[7] = {0};
    for (size_t a = 0; a < no;) {
        size_t b = a + 1;
        while (b < no && ok[b].kind == ok[a].kind && ok[b].key == ok[a].key) b++;
        int64_t t = ok[a].t, day = floor_div(t, 86400);
        int hour = (int)((t - day * 86400) / 3600);
        int wd = (int)(((day + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; 0 = Monday */
        orders++;
        wkend += wd >= 5;
        part[hour / 6]++;
        hours[hour]++;
        wdays[wd]++;
        a = b;
    }
    f[ULM_PF_ORDERS] = orders;
    f[ULM_PF_BASKET_UNITS] = units / orders;
    f[ULM_PF_BASKET_LINES] = cnt[ULM_EV_PURCHASE] / orders;
    f[ULM_PF_BASKET_VALUE] = gross / orders;
    f[ULM_PF_WEEKEND_SHARE] = wkend / orders;
    f[ULM_PF_NIGHT_SHARE] = part[0] / orders;
    f[ULM_PF_MORNING_SHARE] = part[1] / orders;
    f[ULM_PF_AFTERNOON_SHARE] = part[2] / orders;
    f[ULM_PF_EVENING_SHARE] = part[3] / orders;
    int ph = 0, pw = 0;
    for (int h = 1; h < 24; h++)
        if (hours[h] > hours[ph]) ph = h;
    for (int w = 1; w < 7; w++)
        if (wdays[w] > wdays[pw]) pw = w;
    f[ULM_PF_PEAK_HOUR] = ph;
    f[ULM_PF_PEAK_WEEKDAY] = pw;
    double di = distinct(items, ni, p->n_items, wcount, wcap), dc = distinct(cats, nc, p->cats.n, wcount, wcap);
    f[ULM_PF_DISTINCT_ITEMS] = di;
    f[ULM_PF_DISTINCT_CATEGORIES] = dc;
    if (units > 0) f[ULM_PF_RETURN_RATE] = ret_units / units;
    if (elig > 0) f[ULM_PF_DISCOUNT_SHARE] = disc / elig;

    double zs = 0; /* day values after the first (docs/clv.md data rules: net of that day's returns) */
    for (size_t d = 1; d < nd; d++) zs += dval[d];
    ulm__profile_finish(p, nd, day_of_array, days, zs, cal_day, out);
    return ULM_OK;
}

void ulm_profiler_get_info(const ulm_profiler *p, ulm_profiler_info *o) {
    memset(o, 0, sizeof *o);
    if (!p) return;
    o->n_items = p->n_items;
    o->n_words = p->vocab.n;
    o->n_categories = p->cats.n;
    o->k = p->k;
    o->n_features = p->d;
    o->has_rfm = p->has_rfm;
    const double *c = p->clvp;
    o->has_clv = c[ULM__CLVP_HAS_CLV] != 0;
    o->has_gg = c[ULM__CLVP_HAS_GG] != 0;
    o->as_of = p->as_of;
    o->unit_days = c[ULM__CLVP_UNIT];
    o->horizon = c[ULM__CLVP_HORIZON];
    o->period = c[ULM__CLVP_PERIOD];
    o->discount = c[ULM__CLVP_DISCOUNT];
    memcpy(o->rfm_cuts, p->rfm_cuts, sizeof o->rfm_cuts);
    o->clv.kind = (int)c[ULM__CLVP_KIND];
    o->clv.bg = (ulm_bgnbd){c[ULM__CLVP_BG_R], c[ULM__CLVP_BG_ALPHA], c[ULM__CLVP_BG_A], c[ULM__CLVP_BG_B]};
    o->clv.pn = (ulm_pnbd){c[ULM__CLVP_PN_R], c[ULM__CLVP_PN_ALPHA], c[ULM__CLVP_PN_S], c[ULM__CLVP_PN_BETA]};
    o->clv.gg = (ulm_gg){c[ULM__CLVP_GG_P], c[ULM__CLVP_GG_Q], c[ULM__CLVP_GG_GAMMA]};
}

const char *ulm_profiler_word(const ulm_profiler *p, uint32_t i, uint32_t *len) {
    if (!p || i >= p->vocab.n) return NULL;
    return ulm_dict_str(&p->vocab, i, len);
}

const char *ulm_profiler_category(const ulm_profiler *p, uint32_t c, uint32_t *len) {
    if (!p || c >= p->cats.n) return NULL;
    return ulm_dict_str(&p->cats, c, len);
}

const char *ulm_profiler_segment_description(const ulm_profiler *p, uint32_t s, uint32_t *len) {
    if (!p || s >= p->k || !p->desc) return NULL;
    if (len) *len = p->desc_off[s + 1] - p->desc_off[s];
    return p->desc + p->desc_off[s];
}
