/* profile_state.c: incremental profiles (profile_state.h, docs/profile.md "Incremental profiles").
 * The fold and the finish follow core/src/profile_score.c's ulm_profile_compute step by step, with the
 * same floating-point operations in the same order, so the profiles are the same bytes; the unit test
 * test_profile_state.c checks that against ulm_profile_compute for every customer of the sample. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/src/profile_impl.h" /* read-only use of the profiler's layout: items' words, categories */
#include "profile_state.h"

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    return h ^ (h >> 31);
}

static uint64_t mix_bytes(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return mix(h, n);
}

uint64_t ulm_pstate_fingerprint(const ulm_profiler *p) {
    uint64_t h = mix(0x5053544154450002ull, p->vocab.n);
    for (uint32_t w = 0; w < p->vocab.n; w++) {
        uint32_t len;
        const char *s = ulm_dict_str(&p->vocab, w, &len);
        h = mix_bytes(h, s, len);
    }
    h = mix(h, p->cats.n);
    for (uint32_t c = 0; c < p->cats.n; c++) {
        uint32_t len;
        const char *s = ulm_dict_str(&p->cats, c, &len);
        h = mix_bytes(h, s, len);
    }
    return h;
}

uint64_t ulm_pstate_item_hash(const ulm_profiler *p, uint32_t i) {
    uint64_t ref;
    uint32_t len;
    memcpy(&ref, &p->item_ref[i], sizeof ref);
    uint64_t h = mix(0x4954454Dull, ref);
    if (p->item_cat[i] != ULM_NONE) {
        const char *c = ulm_dict_str(&p->cats, p->item_cat[i], &len);
        h = mix_bytes(h, c, len);
    } else {
        h = mix(h, 0xCA7);
    }
    for (uint32_t w = p->word_off[i]; w < p->word_off[i + 1]; w++) {
        const char *s = ulm_dict_str(&p->vocab, p->word_ids[w], &len);
        h = mix_bytes(h, s, len);
    }
    return mix(h, p->word_off[i + 1] - p->word_off[i]);
}

bool ulm_pstate_set_items(ulm_pstate *s, const ulm_profiler *p) {
    free(s->item_h);
    s->n_items = p->n_items;
    s->item_h = malloc(((size_t)p->n_items + 1) * sizeof *s->item_h);
    if (!s->item_h) return false;
    for (uint32_t i = 0; i < p->n_items; i++) s->item_h[i] = ulm_pstate_item_hash(p, i);
    return true;
}

uint64_t ulm_pstate_event_hash(const ulm_events *ev, size_t i) {
    /* Cheap (one pass over the whole store per run): odd multipliers per field, one final mix. */
    uint64_t pb;
    uint32_t qb;
    memcpy(&pb, &ev->price[i], sizeof pb);
    memcpy(&qb, &ev->qty[i], sizeof qb);
    uint64_t h = (uint64_t)ev->time[i] * 0x9E3779B97F4A7C15ull + ((uint64_t)ev->item[i] << 8 | ev->type[i]) * 0xC2B2AE3D27D4EB4Full +
                 pb * 0x165667B19E3779F9ull + ((uint64_t)qb << 32 | ev->order[i]) * 0xD6E8FEB86659FD93ull +
                 (uint64_t)ev->query[i] * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
    return h * 0xBF58476D1CE4E5B9ull;
}

void ulm_pstate_free(ulm_pstate *s) {
    if (!s) return;
    free(s->c);
    free(s->pool);
    free(s->scr);
    free(s->item_h);
    free(s->stale);
    memset(s, 0, sizeof *s);
}

bool ulm_pstate_reserve(ulm_pstate *s, size_t extra) {
    if (s->pool_len + extra <= s->pool_cap) return true;
    size_t cap = s->pool_cap ? s->pool_cap : 1024;
    while (cap < s->pool_len + extra) cap *= 2;
    uint32_t *np = realloc(s->pool, cap * sizeof *np);
    if (!np) return false;
    s->pool = np;
    s->pool_cap = cap;
    return true;
}

typedef struct tkey {
    int64_t t;
    uint32_t i;
} tkey;
/* qsort with nothing to sort allowed (qsort's pointer must not be null even for 0 elements). */
static void sort_n(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
    if (n > 1) qsort(base, n, size, cmp);
}

static int tkey_cmp(const void *a, const void *b) {
    const tkey *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}
static int u32_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}
typedef struct okey {
    uint32_t kind; /* 0 = order id, 1 = time as key */
    int64_t key, t;
} okey;
static int okey_cmp(const void *a, const void *b) {
    const okey *x = a, *y = b;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* Dedups v[0..n) (ids below the scratch size) with the zeroed scratch scr, sorts the distinct ids,
 * leaves scr zeroed; returns the new length. */
static size_t uniq(uint32_t *v, size_t n, uint32_t *scr) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!scr[v[i]]) scr[v[i]] = 1, v[m++] = v[i];
    for (size_t i = 0; i < m; i++) scr[v[i]] = 0;
    sort_n(v, m, sizeof *v, u32_cmp);
    return m;
}

/* Merges sorted sets a[0..na) and b[0..nb) into out; returns the length. */
static size_t merge_set(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        if (j >= nb || (i < na && a[i] < b[j])) out[k++] = a[i++];
        else if (i >= na || b[j] < a[i]) out[k++] = b[j++];
        else out[k++] = a[i++], j++;
    }
    return k;
}

static bool in_set(const uint32_t *a, size_t n, uint32_t v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && a[lo] == v;
}

/* Vocabulary ids of a customer's words (grown as needed). */
typedef struct word_sink {
    const ulm_profiler *p;
    uint32_t *w;
    size_t n, cap;
    bool oom;
} word_sink;

static void sink_push(word_sink *s, uint32_t id) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint32_t *nw = realloc(s->w, cap * sizeof *nw);
        if (!nw) {
            s->oom = true;
            return;
        }
        s->w = nw, s->cap = cap;
    }
    s->w[s->n++] = id;
}

static void sink_token(void *ud, const char *tok, size_t n) {
    word_sink *s = ud;
    uint32_t id = ulm_dict_find(&s->p->vocab, tok, n);
    if (id != ULM_NONE) sink_push(s, id);
}

bool ulm_pstate_fold(const ulm_profiler *p, const ulm_events *ev, const uint32_t *e, size_t n, ulm_pstate_cust *c,
                     const uint32_t *src, ulm_pstate *dst, ulm_status *st) {
    *st = ULM_OK;
    tkey *k = malloc((n + 1) * sizeof *k);
    int64_t *days = malloc((n + 1) * sizeof *days);
    double *dval = malloc((n + 1) * sizeof *dval);
    okey *ok = malloc((n + 1) * sizeof *ok);
    uint32_t *items = malloc((n + 1) * sizeof *items), *cats = malloc((n + 1) * sizeof *cats);
    word_sink ws = {p, NULL, 0, 0, false};
    ulm_pstate_cust c2 = *c;
    bool done = false;
    if (!k || !days || !dval || !ok || !items || !cats) goto oom;
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        k[i] = (tkey){ev->time[e[i]], (uint32_t)i};
        if (i && k[i].t < k[i - 1].t) sorted = false;
    }
    if (!sorted) sort_n(k, n, sizeof *k, tkey_cmp); /* logs are mostly in time order already */
    size_t need_scr = p->vocab.n;
    if (p->n_items > need_scr) need_scr = p->n_items;
    if (p->cats.n > need_scr) need_scr = p->cats.n;
    if (dst->scr_n < need_scr + 1) {
        free(dst->scr);
        dst->scr = calloc(need_scr + 1, sizeof *dst->scr);
        dst->scr_n = dst->scr ? need_scr + 1 : 0;
        if (!dst->scr) goto oom;
    }
    if (c->events && n && floor_div(k[0].t, 86400) <= floor_div(c->last_time, 86400)) {
        done = false; /* not after the last event's day: recompute */
        goto out;
    }
    size_t nd = 0, no = 0, ni = 0, nc = 0;
    for (size_t a = 0; a < n; a++) {
        uint32_t i = e[k[a].i];
        int type = ev->type[i];
        if (type < ULM_EV__COUNT) c2.cnt[type]++;
        double v = isnan(ev->price[i]) ? 0 : (double)ev->qty[i] * ev->price[i];
        int64_t day = floor_div(ev->time[i], 86400);
        if (type == ULM_EV_PURCHASE) {
            c2.gross += v;
            c2.units += ev->qty[i];
            if (nd == 0 || days[nd - 1] != day) {
                days[nd] = day;
                dval[nd++] = 0;
            }
            dval[nd - 1] += v;
            ok[no++] = ev->order[i] != ULM_NONE ? (okey){0, ev->order[i], ev->time[i]}
                                                : (okey){1, ev->time[i], ev->time[i]};
            uint32_t it = ev->item[i];
            if (it < p->n_items) {
                items[ni++] = it;
                if (p->item_cat[it] != ULM_NONE) cats[nc++] = p->item_cat[it];
                for (uint32_t w = p->word_off[it]; w < p->word_off[it + 1]; w++) sink_push(&ws, p->word_ids[w]);
                double ref = p->item_ref[it], price = ev->price[i];
                if (ref > 0 && price > 0) {
                    c2.elig++;
                    c2.disc += price < 0.99 * ref;
                }
            }
        } else if (type == ULM_EV_RETURN) {
            c2.returned += v;
            c2.ret_units += fabs((double)ev->qty[i]);
        } else if (type == ULM_EV_SEARCH && ev->query[i] != ULM_NONE) {
            uint32_t ql;
            const char *q = ulm_dict_str(&ev->queries, ev->query[i], &ql);
            if (q && ql) ulm_profile_tokens(q, ql, sink_token, &ws);
        }
    }
    if (ws.oom) goto oom;
    for (size_t a = 0, d = 0; a < n && nd; a++) {
        uint32_t i = e[k[a].i];
        if (ev->type[i] != ULM_EV_RETURN) continue;
        int64_t day = floor_div(ev->time[i], 86400);
        while (d < nd && days[d] < day) d++;
        if (d < nd && days[d] == day) dval[d] -= isnan(ev->price[i]) ? 0 : (double)ev->qty[i] * ev->price[i];
    }
    for (size_t d = 0; d < nd; d++)
        if (c->nd + d >= 1) c2.zs += dval[d];
    /* Orders: new keys at their earliest time; an order id seen before keeps its earlier time. */
    const uint32_t *o_days = src, *o_ord = src + 2 * (size_t)c->nd, *o_items = o_ord + c->n_ord,
                   *o_cats = o_items + c->n_items, *o_words = o_cats + c->n_cats;
    sort_n(ok, no, sizeof *ok, okey_cmp);
    uint32_t *nord = malloc((no + 1) * sizeof *nord);
    if (!nord) goto oom;
    size_t n_nord = 0;
    for (size_t a = 0; a < no;) {
        size_t b = a + 1;
        while (b < no && ok[b].kind == ok[a].kind && ok[b].key == ok[a].key) b++;
        bool is_id = ok[a].kind == 0;
        if (!(is_id && c->events && in_set(o_ord, c->n_ord, (uint32_t)ok[a].key))) {
            int64_t t = ok[a].t, day = floor_div(t, 86400);
            int hour = (int)((t - day * 86400) / 3600);
            int wd = (int)(((day + 3) % 7 + 7) % 7);
            c2.orders++;
            c2.wkend += wd >= 5;
            c2.part[hour / 6]++;
            c2.hours[hour]++;
            c2.wdays[wd]++;
            if (is_id) nord[n_nord++] = (uint32_t)ok[a].key;
        }
        a = b;
    }
    ni = uniq(items, ni, dst->scr);
    nc = uniq(cats, nc, dst->scr);
    /* Word counts: distinct ids (sorted) and their counts, through the scratch. */
    size_t nwu = 0;
    uint32_t *scr = dst->scr;
    for (size_t a = 0; a < ws.n; a++)
        if (scr[ws.w[a]]++ == 0) ws.w[nwu++] = ws.w[a]; /* in place: nwu <= a */
    sort_n(ws.w, nwu, sizeof *ws.w, u32_cmp);
    /* New pool data: days, order ids, items, categories, words. */
    size_t need = 2 * ((size_t)c->nd + nd) + c->n_ord + n_nord + c->n_items + ni + c->n_cats + nc +
                  2 * ((size_t)c->n_words + nwu);
    if (!ulm_pstate_reserve(dst, need)) {
        free(nord);
        goto oom;
    }
    uint32_t *w = dst->pool + dst->pool_len;
    c2.off = dst->pool_len;
    if (c->events) memcpy(w, o_days, 2 * (size_t)c->nd * sizeof *w);
    else c2.nd = c2.n_ord = c2.n_items = c2.n_cats = c2.n_words = 0;
    size_t at = 2 * (size_t)c2.nd;
    for (size_t d = 0; d < nd; d++) {
        uint64_t u = (uint64_t)days[d];
        w[at++] = (uint32_t)u, w[at++] = (uint32_t)(u >> 32);
    }
    c2.nd += (uint32_t)nd;
    sort_n(nord, n_nord, sizeof *nord, u32_cmp);
    c2.n_ord = (uint32_t)merge_set(c->events ? o_ord : NULL, c->events ? c->n_ord : 0, nord, n_nord, w + at);
    at += c2.n_ord;
    c2.n_items = (uint32_t)merge_set(c->events ? o_items : NULL, c->events ? c->n_items : 0, items, ni, w + at);
    at += c2.n_items;
    c2.n_cats = (uint32_t)merge_set(c->events ? o_cats : NULL, c->events ? c->n_cats : 0, cats, nc, w + at);
    at += c2.n_cats;
    /* Words: (id, count) pairs, merged. */
    size_t ow = c->events ? c->n_words : 0, i0 = 0, nw2 = 0;
    for (size_t a = 0; a < nwu || i0 < ow;) {
        uint32_t id, cnt;
        if (a < nwu && (i0 >= ow || ws.w[a] <= o_words[2 * i0])) {
            id = ws.w[a], cnt = scr[id];
            scr[id] = 0;
            if (i0 < ow && o_words[2 * i0] == id) cnt += o_words[2 * i0 + 1], i0++;
            a++;
        } else {
            id = o_words[2 * i0], cnt = o_words[2 * i0 + 1];
            i0++;
        }
        w[at++] = id, w[at++] = cnt;
        nw2++;
    }
    c2.n_words = (uint32_t)nw2;
    dst->pool_len += at;
    free(nord);
    for (size_t a = 0; a < n; a++) c2.hsum += ulm_pstate_event_hash(ev, e[a]);
    c2.events += n;
    if (n && (!c->events || k[n - 1].t > c2.last_time)) c2.last_time = k[n - 1].t;
    *c = c2;
    done = true;
    goto out;
oom:
    *st = ULM_ERR_NOMEM;
    done = false;
out:
    free(k), free(days), free(dval), free(ok), free(items), free(cats), free(ws.w);
    return done;
}

/* ---- the finish: as core/src/profile_score.c from "f[ULM_PF_EVENTS]" on -------------------------- */

static int64_t day_at(const void *days, size_t i) {
    const uint32_t *d = days;
    return (int64_t)((uint64_t)d[2 * i] | (uint64_t)d[2 * i + 1] << 32);
}

void ulm_pstate_finish(const ulm_profiler *p, const ulm_pstate_cust *c, const uint32_t *data, int64_t as_of,
                       ulm_profile *out) {
    ulm__profile_clear(out);
    double *f = out->f;
    const uint32_t *dd = data, *words = data + 2 * (size_t)c->nd + c->n_ord + c->n_items + c->n_cats;
    size_t nd = c->nd;
    int64_t cal_day = floor_div(as_of - 1, 86400);
    f[ULM_PF_EVENTS] = (double)c->events;
    f[ULM_PF_VIEWS] = c->cnt[ULM_EV_VIEW];
    f[ULM_PF_CARTS] = c->cnt[ULM_EV_CART];
    f[ULM_PF_SEARCHES] = c->cnt[ULM_EV_SEARCH];
    f[ULM_PF_PURCHASE_LINES] = c->cnt[ULM_EV_PURCHASE];
    f[ULM_PF_RETURN_LINES] = c->cnt[ULM_EV_RETURN];
    f[ULM_PF_GROSS] = c->gross;
    f[ULM_PF_RETURNED] = c->returned;
    f[ULM_PF_MONETARY] = c->gross - c->returned;
    f[ULM_PF_PURCHASE_DAYS] = (double)nd;
    double norm = 0;
    for (uint32_t a = 0; a < c->n_words; a++)
        norm += ulm__profile_keyword_offer(out, words[2 * a], (double)words[2 * a + 1] * p->idf[words[2 * a]]);
    if (norm > 0)
        for (uint32_t j = 0; j < out->n_keywords; j++) out->keyword_weight[j] /= sqrt(norm);
    if (nd == 0) return;
    double orders = c->orders, plines = c->cnt[ULM_EV_PURCHASE];
    f[ULM_PF_ORDERS] = orders;
    f[ULM_PF_BASKET_UNITS] = c->units / orders;
    f[ULM_PF_BASKET_LINES] = plines / orders;
    f[ULM_PF_BASKET_VALUE] = c->gross / orders;
    f[ULM_PF_WEEKEND_SHARE] = (double)c->wkend / orders;
    f[ULM_PF_NIGHT_SHARE] = (double)c->part[0] / orders;
    f[ULM_PF_MORNING_SHARE] = (double)c->part[1] / orders;
    f[ULM_PF_AFTERNOON_SHARE] = (double)c->part[2] / orders;
    f[ULM_PF_EVENING_SHARE] = (double)c->part[3] / orders;
    int ph = 0, pw = 0;
    for (int h = 1; h < 24; h++)
        if (c->hours[h] > c->hours[ph]) ph = h;
    for (int w = 1; w < 7; w++)
        if (c->wdays[w] > c->wdays[pw]) pw = w;
    f[ULM_PF_PEAK_HOUR] = ph;
    f[ULM_PF_PEAK_WEEKDAY] = pw;
    f[ULM_PF_DISTINCT_ITEMS] = c->n_items;
    f[ULM_PF_DISTINCT_CATEGORIES] = c->n_cats;
    if (c->units > 0) f[ULM_PF_RETURN_RATE] = c->ret_units / c->units;
    if (c->elig > 0) f[ULM_PF_DISCOUNT_SHARE] = (double)c->disc / (double)c->elig;
    ulm__profile_finish(p, nd, day_at, dd, c->zs, cal_day, out);
}
