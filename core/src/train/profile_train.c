/* profile_train.c: trains a profiler: item categories, reference prices, keyword vocabulary and idf
 * (ulm_profiler_build), then RFM cut points, k-means++ segments chosen by silhouette, stage rules and
 * the CLV models (ulm_profiler_fit), and writes its bundle sections (docs/format.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../profile_impl.h"
#include "../ulm_impl.h"
#include "ulm/ulm_bundle.h"
#include "ulm/ulm_events.h"

ulm_profiler_params ulm_profiler_params_init(void) {
    ulm_profiler_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.as_of = INT64_MIN;
    p.k_min = 2;
    p.k_max = 8;
    p.seed = 42;
    p.n_init = 4;
    p.unit_days = 7;
    p.horizon = 52;
    p.period = 4;
    p.discount = 0.01;
    p.fit_pnbd = 1;
    return p;
}

void ulm_profiler_free(ulm_profiler *p) { ulm__profiler_destroy(p); }

/* ---- build: items, vocabulary, idf --------------------------------------------------------------- */

typedef struct tok_ctx {
    ulm_dict *d;
    uint32_t *ids;   /* collected ids (may be NULL) */
    size_t n, cap;
    uint32_t last;   /* id of the last token, ULM_NONE when none */
    int oom;
} tok_ctx;

static void tok_intern(void *ud, const char *t, size_t n) {
    tok_ctx *c = ud;
    uint32_t id = ulm_dict_intern(c->d, t, n, NULL);
    if (id == ULM_NONE) {
        c->oom = 1;
        return;
    }
    c->last = id;
    if (c->ids) {
        if (c->n == c->cap) {
            size_t nc = c->cap ? 2 * c->cap : 16;
            uint32_t *q = realloc(c->ids, nc * sizeof *q);
            if (!q) {
                c->oom = 1;
                return;
            }
            c->ids = q, c->cap = nc;
        }
        c->ids[c->n++] = id;
    }
}

/* Bytewise order of two dictionary strings (shorter prefix first). */
typedef struct word_ref {
    const char *s;
    uint32_t len, id;
} word_ref;
static int cmp_word(const void *pa, const void *pb) {
    const word_ref *a = pa, *b = pb;
    int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
    if (c) return c;
    return (a->len > b->len) - (a->len < b->len);
}
static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}
static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static ulm_status build(const ulm_events *ev, const ulm_profiler_params *pp, ulm_profiler *p, ulm_diag *diag) {
    int64_t as_of = pp->as_of;
    if (as_of == INT64_MIN) {
        as_of = INT64_MIN + 1;
        for (size_t i = 0; i < ev->n; i++)
            if (ev->time[i] >= as_of) as_of = ev->time[i] + 1;
        if (ev->n == 0) as_of = 0;
    }
    p->as_of = as_of;
    uint32_t ni = ev->items.n;
    p->n_items = ni;
    p->clvp[ULM__CLVP_AS_OF] = (double)as_of;
    p->clvp[ULM__CLVP_UNIT] = pp->unit_days;
    p->clvp[ULM__CLVP_HORIZON] = pp->horizon;
    p->clvp[ULM__CLVP_PERIOD] = pp->period;
    p->clvp[ULM__CLVP_DISCOUNT] = pp->discount;
    p->clvp[ULM__CLVP_KIND] = ULM_CLV_BGNBD;
    /* Tokens of every item text and of the queries searched before as_of, in a scratch dictionary. */
    ulm_dict tmp;
    ulm_dict_init(&tmp);
    uint32_t *ioff = calloc((size_t)ni + 1, sizeof *ioff), *icat = malloc(((size_t)ni + 1) * sizeof *icat);
    tok_ctx tc = {&tmp, NULL, 0, 0, ULM_NONE, 0};
    uint32_t *iw = NULL;
    size_t niw = 0, ciw = 0;
    ulm_status s = ULM_OK;
    if (!ioff || !icat) s = ULM_ERR_NOMEM;
    tc.ids = malloc(16 * sizeof *tc.ids);
    tc.cap = 16;
    if (!tc.ids) s = ULM_ERR_NOMEM;
    for (uint32_t i = 0; s == ULM_OK && i < ni; i++) {
        uint32_t len = 0;
        const char *t = ulm_events_item_text(ev, i, &len);
        tc.n = 0, tc.last = ULM_NONE;
        if (t) ulm_profile_tokens(t, len, tok_intern, &tc);
        icat[i] = tc.last;
        /* Distinct tokens of the item, in first-seen order. */
        size_t start = niw;
        for (size_t k = 0; k < tc.n; k++) {
            int dup = 0;
            for (size_t j = start; j < niw && !dup; j++) dup = iw[j] == tc.ids[k];
            if (dup) continue;
            if (niw == ciw) {
                size_t nc = ciw ? 2 * ciw : 4096;
                uint32_t *q = realloc(iw, nc * sizeof *q);
                if (!q) {
                    s = ULM_ERR_NOMEM;
                    break;
                }
                iw = q, ciw = nc;
            }
            iw[niw++] = tc.ids[k];
        }
        ioff[i + 1] = (uint32_t)niw;
    }
    for (size_t e = 0; s == ULM_OK && e < ev->n; e++) {
        if (ev->type[e] != ULM_EV_SEARCH || ev->query[e] == ULM_NONE || ev->time[e] >= as_of) continue;
        uint32_t len;
        const char *q = ulm_dict_str(&ev->queries, ev->query[e], &len);
        size_t keep = tc.n;
        ulm_profile_tokens(q, len, tok_intern, &tc);
        tc.n = keep;
    }
    if (tc.oom) s = ULM_ERR_NOMEM;
    /* The vocabulary in bytewise order, so ids compare as words do. */
    uint32_t nw = tmp.n;
    word_ref *refs = malloc(((size_t)nw + 1) * sizeof *refs);
    uint32_t *remap = malloc(((size_t)nw + 1) * sizeof *remap);
    if (s == ULM_OK && (!refs || !remap)) s = ULM_ERR_NOMEM;
    for (uint32_t w = 0; s == ULM_OK && w < nw; w++) {
        refs[w].s = ulm_dict_str(&tmp, w, &refs[w].len);
        refs[w].id = w;
    }
    if (s == ULM_OK) qsort(refs, nw, sizeof *refs, cmp_word);
    for (uint32_t w = 0; s == ULM_OK && w < nw; w++) {
        remap[refs[w].id] = w;
        if (ulm_dict_intern(&p->vocab, refs[w].s, refs[w].len, NULL) == ULM_NONE) s = ULM_ERR_NOMEM;
    }
    /* Items: word lists (ascending ids), categories (the last token), reference prices. */
    p->word_off = ioff, ioff = NULL;
    p->word_ids = malloc((niw + 1) * sizeof *p->word_ids);
    p->item_cat = malloc(((size_t)ni + 1) * sizeof *p->item_cat);
    p->item_ref = malloc(((size_t)ni + 1) * sizeof *p->item_ref);
    p->idf = malloc(((size_t)nw + 1) * sizeof *p->idf);
    if (s == ULM_OK && (!p->word_ids || !p->item_cat || !p->item_ref || !p->idf)) s = ULM_ERR_NOMEM;
    for (uint32_t i = 0; s == ULM_OK && i < ni; i++) {
        for (uint32_t k = p->word_off[i]; k < p->word_off[i + 1]; k++) p->word_ids[k] = remap[iw[k]];
        qsort(p->word_ids + p->word_off[i], p->word_off[i + 1] - p->word_off[i], sizeof *p->word_ids, cmp_u32);
        p->item_cat[i] = ULM_NONE;
        if (icat[i] != ULM_NONE) {
            uint32_t len;
            const char *cs = ulm_dict_str(&tmp, icat[i], &len);
            p->item_cat[i] = ulm_dict_intern(&p->cats, cs, len, NULL);
            if (p->item_cat[i] == ULM_NONE) s = ULM_ERR_NOMEM;
        }
        p->item_ref[i] = NAN;
    }
    /* Reference price: each item's most frequent positive purchase price before as_of (ties: the higher).
     * Prices are bucketed by item (counting sort), then each item's few prices are sorted. */
    double *ip = NULL;
    uint32_t *poff = NULL;
    if (s == ULM_OK) {
        poff = calloc((size_t)ni + 2, sizeof *poff);
        if (!poff) s = ULM_ERR_NOMEM;
    }
    if (s == ULM_OK) {
        size_t nip = 0;
        for (size_t e = 0; e < ev->n; e++)
            if (ev->type[e] == ULM_EV_PURCHASE && ev->item[e] < ni && ev->price[e] > 0 && ev->time[e] < as_of)
                poff[ev->item[e] + 2]++, nip++;
        for (uint32_t i = 0; i < ni; i++) poff[i + 2] += poff[i + 1];
        ip = malloc((nip + 1) * sizeof *ip);
        if (!ip) s = ULM_ERR_NOMEM;
        for (size_t e = 0; s == ULM_OK && e < ev->n; e++)
            if (ev->type[e] == ULM_EV_PURCHASE && ev->item[e] < ni && ev->price[e] > 0 && ev->time[e] < as_of)
                ip[poff[ev->item[e] + 1]++] = ev->price[e];
        for (uint32_t i = 0; s == ULM_OK && i < ni; i++) {
            size_t lo = poff[i], hi = poff[i + 1], best = 0;
            qsort(ip + lo, hi - lo, sizeof *ip, cmp_dbl);
            for (size_t a = lo; a < hi;) {
                size_t b = a;
                while (b < hi && ip[b] == ip[a]) b++;
                if (b - a >= best) best = b - a, p->item_ref[i] = ip[a];
                a = b;
            }
        }
    }
    free(poff);
    free(ip);
    /* idf over customers (known users with an event before as_of): ln((1 + N) / (1 + df)) + 1. */
    if (s == ULM_OK) {
        uint32_t nu = ev->users.n;
        uint32_t *lastu = malloc(((size_t)nw + 1) * sizeof *lastu), *df = calloc((size_t)nw + 1, sizeof *df);
        uint8_t *seen = calloc((size_t)nu + 1, 1);
        if (!lastu || !df || !seen) s = ULM_ERR_NOMEM;
        double N = 0;
        for (uint32_t w = 0; s == ULM_OK && w < nw; w++) lastu[w] = ULM_NONE;
        tok_ctx qc = {&tmp, NULL, 0, 0, ULM_NONE, 0};
        for (size_t e = 0; s == ULM_OK && e < ev->n; e++) {
            uint32_t u = ev->user[e];
            if (u >= nu || ev->time[e] >= as_of) continue;
            if (!seen[u]) seen[u] = 1, N++;
            if (ev->type[e] == ULM_EV_PURCHASE && ev->item[e] < ni) {
                for (uint32_t k = p->word_off[ev->item[e]]; k < p->word_off[ev->item[e] + 1]; k++) {
                    uint32_t w = p->word_ids[k];
                    if (lastu[w] != u) lastu[w] = u, df[w]++;
                }
            } else if (ev->type[e] == ULM_EV_SEARCH && ev->query[e] != ULM_NONE) {
                uint32_t len;
                const char *q = ulm_dict_str(&ev->queries, ev->query[e], &len);
                qc.ids = tc.ids, qc.cap = tc.cap, qc.n = 0;
                ulm_profile_tokens(q, len, tok_intern, &qc);
                tc.ids = qc.ids, tc.cap = qc.cap;
                for (size_t k = 0; k < qc.n; k++) {
                    uint32_t w = remap[qc.ids[k]];
                    if (lastu[w] != u) lastu[w] = u, df[w]++;
                }
                if (qc.oom) s = ULM_ERR_NOMEM;
            }
        }
        for (uint32_t w = 0; s == ULM_OK && w < nw; w++) p->idf[w] = log((1 + N) / (1 + (double)df[w])) + 1;
        free(lastu), free(df), free(seen);
    }
    free(refs), free(remap), free(iw), free(icat), free(ioff), free(tc.ids);
    ulm_dict_free(&tmp);
    if (s != ULM_OK) return ulm__fail(diag, s, NULL, 0, "building the profiler: %s", ulm_status_str(s));
    return ULM_OK;
}

ulm_status ulm_profiler_build(const ulm_events *ev, const ulm_profiler_params *pp, ulm_profiler **out,
                              ulm_diag *diag) {
    if (!ev || !out) return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "NULL argument");
    *out = NULL;
    ulm_profiler_params def = ulm_profiler_params_init();
    if (!pp) pp = &def;
    if (!(pp->unit_days > 0) || !(pp->horizon >= 0) || !(pp->period > 0) || !(pp->discount > -1) ||
        pp->horizon / pp->period > 1e5)
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "CLV settings out of range (unit, horizon, period, discount)");
    ulm_profiler *p = calloc(1, sizeof *p);
    if (!p) return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    ulm_dict_init(&p->cats);
    ulm_dict_init(&p->vocab);
    ulm_status s = build(ev, pp, p, diag);
    if (s == ULM_OK && pp->struct_size >= sizeof *pp && pp->no_item_data) s = ulm__profiler_drop_item_data(p);
    if (s != ULM_OK) {
        ulm__profiler_destroy(p);
        return s;
    }
    *out = p;
    return ULM_OK;
}

/* ---- fit: RFM, k-means, stages, CLV ----------------------------------------------------------------- */

/* Quantile q of sorted v[0..n) with linear interpolation (Hyndman & Fan type 7, NumPy's default). */
static double quantile(const double *v, size_t n, double q) {
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* splitmix64: the k-means++ random stream (deterministic for a seed). */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }

static double dist2(const double *a, const double *b, uint32_t d) {
    double s = 0;
    for (uint32_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

/* One k-means run: k-means++ seeding (Arthur & Vassilvitskii 2007) then Lloyd iterations until the
 * assignment is stable (at most 300). An emptied cluster takes the point farthest from its centre.
 * Returns the inertia; c gets k*d centres, a the assignment. */
static double kmeans_run(const double *X, size_t n, uint32_t d, uint32_t k, uint64_t seed, double *c, uint32_t *a,
                         double *dmin, double *sum, size_t *cnt) {
    uint64_t st = seed;
    size_t first = (size_t)(rng_unit(&st) * (double)n);
    if (first >= n) first = n - 1;
    memcpy(c, X + first * d, d * sizeof *c);
    double tot = 0;
    for (size_t i = 0; i < n; i++) tot += dmin[i] = dist2(X + i * d, c, d);
    for (uint32_t m = 1; m < k; m++) {
        size_t pick = n - 1;
        if (tot > 0) {
            double r = rng_unit(&st) * tot, acc = 0;
            for (size_t i = 0; i < n; i++) {
                acc += dmin[i];
                if (acc > r) {
                    pick = i;
                    break;
                }
            }
        } else {
            pick = (size_t)(rng_unit(&st) * (double)n) % n;
        }
        memcpy(c + (size_t)m * d, X + pick * d, d * sizeof *c);
        tot = 0;
        for (size_t i = 0; i < n; i++) {
            double t = dist2(X + i * d, c + (size_t)m * d, d);
            if (t < dmin[i]) dmin[i] = t;
            tot += dmin[i];
        }
    }
    for (size_t i = 0; i < n; i++) a[i] = ULM_NONE;
    double inertia = 0;
    for (int it = 0; it < 300; it++) {
        int changed = 0;
        inertia = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t best = 0;
            double bd = INFINITY;
            for (uint32_t m = 0; m < k; m++) {
                double t = dist2(X + i * d, c + (size_t)m * d, d);
                if (t < bd) bd = t, best = m;
            }
            dmin[i] = bd;
            inertia += bd;
            if (a[i] != best) a[i] = best, changed = 1;
        }
        if (!changed) break;
        memset(sum, 0, (size_t)k * d * sizeof *sum);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t i = 0; i < n; i++) {
            cnt[a[i]]++;
            for (uint32_t j = 0; j < d; j++) sum[(size_t)a[i] * d + j] += X[i * d + j];
        }
        for (uint32_t m = 0; m < k; m++) {
            if (cnt[m] == 0) { /* re-seed an empty cluster with the worst-served point */
                size_t far = 0;
                for (size_t i = 1; i < n; i++)
                    if (dmin[i] > dmin[far]) far = i;
                memcpy(c + (size_t)m * d, X + far * d, d * sizeof *c);
                dmin[far] = 0;
                continue;
            }
            for (uint32_t j = 0; j < d; j++) c[(size_t)m * d + j] = sum[(size_t)m * d + j] / (double)cnt[m];
        }
    }
    return inertia;
}

/* Mean silhouette (Rousseeuw 1987) of the sample points S[0..ns) under assignment a. */
static double silhouette(const double *X, const size_t *S, size_t ns, const uint32_t *a, uint32_t d, uint32_t k,
                         double *acc, size_t *cnt) {
    double tot = 0;
    for (size_t u = 0; u < ns; u++) {
        size_t i = S[u];
        memset(acc, 0, k * sizeof *acc);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t v = 0; v < ns; v++) {
            size_t j = S[v];
            if (j == i) continue;
            acc[a[j]] += sqrt(dist2(X + i * d, X + j * d, d));
            cnt[a[j]]++;
        }
        if (cnt[a[i]] == 0) continue; /* a singleton's silhouette is 0 */
        double ai = acc[a[i]] / (double)cnt[a[i]], bi = INFINITY;
        for (uint32_t m = 0; m < k; m++)
            if (m != a[i] && cnt[m]) bi = fmin(bi, acc[m] / (double)cnt[m]);
        if (!isfinite(bi)) continue;
        double mx = fmax(ai, bi);
        tot += mx > 0 ? (bi - ai) / mx : 0;
    }
    return ns ? tot / (double)ns : 0;
}

/* Words for a centroid coordinate (z in standard deviations) of each k-means feature. */
typedef struct feat_words {
    int feature;
    const char *low, *high;
} feat_words;
static const feat_words describe[] = {
    {ULM_PF_RECENCY_DAYS, "recent", "lapsed"},          {ULM_PF_PURCHASE_DAYS, "infrequent", "frequent"},
    {ULM_PF_MONETARY, "low-value", "high-value"},       {ULM_PF_TENURE_DAYS, "new", "long-standing"},
    {ULM_PF_BASKET_VALUE, "small baskets", "big baskets"}, {ULM_PF_DISTINCT_ITEMS, "narrow range", "broad range"},
    {ULM_PF_RETURN_RATE, "rarely returns", "returns often"}, {ULM_PF_DISCOUNT_SHARE, "pays full price", "bargain hunter"}};

static ulm_status fit_kmeans(ulm_profiler *p, const ulm_profile *pr, size_t n, const size_t *cust, size_t nc,
                             const ulm_profiler_params *pp, ulm_profiler_report *rep) {
    /* Features: those defined for at least half of the customers. */
    uint32_t d = 0;
    for (size_t t = 0; t < sizeof describe / sizeof describe[0]; t++) {
        size_t def = 0;
        for (size_t u = 0; u < nc; u++) def += !isnan(pr[cust[u]].f[describe[t].feature]);
        if (2 * def >= nc && d < ULM__KM_MAX_D) p->feat[d++] = (uint32_t)describe[t].feature;
    }
    (void)n;
    p->d = d;
    double *v = malloc((nc + 1) * sizeof *v), *X = malloc((nc * d + 1) * sizeof *X);
    if (!v || !X) {
        free(v), free(X);
        return ULM_ERR_NOMEM;
    }
    for (uint32_t j = 0; j < d; j++) {
        /* Skewness of the defined values; log1p(max(0, v)) when it is above 1. */
        size_t m = 0;
        double mu = 0, m2 = 0, m3 = 0;
        for (size_t u = 0; u < nc; u++) {
            double x = pr[cust[u]].f[p->feat[j]];
            if (!isnan(x)) v[m++] = x, mu += x;
        }
        mu /= (double)(m ? m : 1);
        for (size_t i = 0; i < m; i++) {
            double t = v[i] - mu;
            m2 += t * t, m3 += t * t * t;
        }
        m2 /= (double)(m ? m : 1), m3 /= (double)(m ? m : 1);
        p->logt[j] = m2 > 0 && m3 / pow(m2, 1.5) > 1;
        double s1 = 0, s2 = 0;
        for (size_t i = 0; i < m; i++) {
            double x = p->logt[j] ? log1p(v[i] > 0 ? v[i] : 0) : v[i];
            s1 += x;
        }
        p->mean[j] = s1 / (double)(m ? m : 1);
        for (size_t i = 0; i < m; i++) {
            double x = (p->logt[j] ? log1p(v[i] > 0 ? v[i] : 0) : v[i]) - p->mean[j];
            s2 += x * x;
        }
        p->sd[j] = m > 1 && s2 > 0 ? sqrt(s2 / (double)(m - 1)) : 1;
    }
    for (size_t u = 0; u < nc; u++) ulm__profile_zvec(p, pr[cust[u]].f, X + u * d);
    free(v);
    uint32_t kmax = pp->k ? pp->k : pp->k_max, kmin = pp->k ? pp->k : pp->k_min;
    if (kmax > ULM__KM_MAX_K) kmax = ULM__KM_MAX_K;
    if (kmin < 1) kmin = 1;
    if (kmax > nc) kmax = (uint32_t)nc;
    if (kmin > kmax) kmin = kmax;
    size_t ns = nc < 2000 ? nc : 2000, step = (nc + ns - 1) / (ns ? ns : 1);
    double *c = malloc(((size_t)ULM__KM_MAX_K * d + 1) * sizeof *c), *bc = malloc(((size_t)ULM__KM_MAX_K * d + 1) * sizeof *bc);
    double *kc = malloc(((size_t)ULM__KM_MAX_K * d + 1) * sizeof *kc);
    uint32_t *a = malloc((nc + 1) * sizeof *a), *ba = malloc((nc + 1) * sizeof *ba);
    double *dmin = malloc((nc + 1) * sizeof *dmin), *sum = malloc(((size_t)ULM__KM_MAX_K * d + 1) * sizeof *sum);
    size_t *cnt = malloc((ULM__KM_MAX_K + 1) * sizeof *cnt), *S = malloc((ns + 1) * sizeof *S);
    double *acc = malloc((ULM__KM_MAX_K + 1) * sizeof *acc);
    ulm_status s = ULM_OK;
    if (!c || !bc || !kc || !a || !ba || !dmin || !sum || !cnt || !S || !acc) s = ULM_ERR_NOMEM;
    ns = 0;
    for (size_t u = 0; s == ULM_OK && u < nc; u += step) S[ns++] = u;
    double best_sil = -INFINITY;
    uint32_t best_k = 0;
    for (uint32_t k = kmin; s == ULM_OK && k <= kmax; k++) {
        double best_in = INFINITY;
        for (uint32_t r = 0; r < (pp->n_init ? pp->n_init : 1); r++) {
            double in = kmeans_run(X, nc, d, k, pp->seed * 1000003u + k * 97u + r, c, a, dmin, sum, cnt);
            if (in < best_in) {
                best_in = in;
                memcpy(kc, c, (size_t)k * d * sizeof *c);
            }
        }
        /* Assignment of the best run, for the silhouette. */
        for (size_t i = 0; i < nc; i++) {
            double bd = INFINITY;
            for (uint32_t m = 0; m < k; m++) {
                double t = dist2(X + i * d, kc + (size_t)m * d, d);
                if (t < bd) bd = t, a[i] = m;
            }
        }
        double sil = k > 1 ? silhouette(X, S, ns, a, d, k, acc, cnt) : 0;
        if (rep && k < 17) rep->silhouette[k] = sil;
        if (sil > best_sil || best_k == 0) {
            best_sil = sil, best_k = k;
            memcpy(bc, kc, (size_t)k * d * sizeof *kc);
            memcpy(ba, a, nc * sizeof *a);
        }
    }
    if (s == ULM_OK && best_k) {
        uint32_t k = best_k;
        /* Segment order: by centroid monetary value, highest first (segment 0 is the most valuable). */
        uint32_t jm = 0;
        for (uint32_t j = 0; j < d; j++)
            if (p->feat[j] == ULM_PF_MONETARY) jm = j;
        uint32_t ord[ULM__KM_MAX_K];
        for (uint32_t m = 0; m < k; m++) ord[m] = m;
        for (uint32_t x = 1; x < k; x++)
            for (uint32_t y = x; y > 0 && bc[(size_t)ord[y] * d + jm] > bc[(size_t)ord[y - 1] * d + jm]; y--) {
                uint32_t t = ord[y];
                ord[y] = ord[y - 1], ord[y - 1] = t;
            }
        p->cent = malloc((size_t)k * d * sizeof *p->cent);
        if (!p->cent) s = ULM_ERR_NOMEM;
        uint32_t inv[ULM__KM_MAX_K];
        for (uint32_t m = 0; s == ULM_OK && m < k; m++) {
            memcpy(p->cent + (size_t)m * d, bc + (size_t)ord[m] * d, d * sizeof *bc);
            inv[ord[m]] = m;
        }
        /* Descriptions: the adjectives of coordinates beyond half a standard deviation, then the three
         * words with the highest summed keyword weight among the segment's customers. */
        size_t cap = 0, len = 0;
        char *buf = NULL;
        double *ww = calloc((size_t)p->vocab.n + 1, sizeof *ww);
        if (!ww) s = ULM_ERR_NOMEM;
        for (uint32_t m = 0; s == ULM_OK && m < k; m++) {
            char line[512];
            size_t L = 0;
            line[0] = 0;
            for (uint32_t j = 0; j < d; j++) {
                double z = p->cent[(size_t)m * d + j];
                const char *w = NULL;
                for (size_t t = 0; t < sizeof describe / sizeof describe[0]; t++)
                    if ((uint32_t)describe[t].feature == p->feat[j]) w = z > 0.5 ? describe[t].high : z < -0.5 ? describe[t].low : NULL;
                if (w) L += (size_t)snprintf(line + L, sizeof line - L, "%s%s", L ? ", " : "", w);
                if (L >= sizeof line) L = sizeof line - 1;
            }
            if (!L) L = (size_t)snprintf(line, sizeof line, "average");
            memset(ww, 0, ((size_t)p->vocab.n + 1) * sizeof *ww);
            for (size_t u = 0; u < nc; u++) {
                if (inv[ba[u]] != m) continue;
                const ulm_profile *q = &pr[cust[u]];
                for (uint32_t t = 0; t < q->n_keywords; t++) ww[q->keyword[t]] += q->keyword_weight[t];
            }
            for (int t = 0; t < 3; t++) {
                uint32_t bw = ULM_NONE;
                for (uint32_t w = 0; w < p->vocab.n; w++)
                    if (ww[w] > 0 && (bw == ULM_NONE || ww[w] > ww[bw])) bw = w;
                if (bw == ULM_NONE) break;
                uint32_t wl;
                const char *ws = ulm_dict_str(&p->vocab, bw, &wl);
                L += (size_t)snprintf(line + L, sizeof line - L, "%s%.*s", t ? ", " : "; buys ", (int)wl, ws);
                if (L >= sizeof line) L = sizeof line - 1;
                ww[bw] = 0;
            }
            if (len + L + 1 > cap) {
                cap = 2 * (len + L + 1);
                char *nb = realloc(buf, cap);
                if (!nb) {
                    s = ULM_ERR_NOMEM;
                    break;
                }
                buf = nb;
            }
            memcpy(buf + len, line, L);
            buf[len + L] = 0; /* keeps the text NUL-terminated after the last description */
            p->desc_off[m] = (uint32_t)len;
            len += L;
            p->desc_off[m + 1] = (uint32_t)len;
        }
        free(ww);
        p->desc = buf;
        if (s == ULM_OK) p->k = k;
        if (rep) rep->k = k;
    }
    free(c), free(bc), free(kc), free(a), free(ba), free(dmin), free(sum), free(cnt), free(S), free(acc), free(X);
    return s;
}

ulm_status ulm_profiler_fit(ulm_profiler *p, const ulm_profile *pr, size_t n, const ulm_profiler_params *pp,
                            ulm_profiler_report *rep, ulm_diag *diag) {
    ulm_profiler_params def = ulm_profiler_params_init();
    if (!pp) pp = &def;
    ulm_profiler_report dummy;
    if (!rep) rep = &dummy;
    memset(rep, 0, sizeof *rep);
    for (int k = 0; k < 17; k++) rep->silhouette[k] = NAN;
    if (!p || (n && !pr)) return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "NULL argument");
    size_t *cust = malloc((n + 1) * sizeof *cust);
    if (!cust) return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        if (pr[i].f[ULM_PF_PURCHASE_DAYS] >= 1) cust[nc++] = i;
    rep->customers = nc;
    if (nc < 2) {
        free(cust);
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "%zu customer(s) with a purchase before as-of: need at least 2", nc);
    }
    double *v = malloc((nc + 1) * sizeof *v);
    ulm_status s = v ? ULM_OK : ULM_ERR_NOMEM;
    /* RFM quintile cut points. */
    static const int rfm_feat[3] = {ULM_PF_RECENCY_DAYS, ULM_PF_ORDERS, ULM_PF_MONETARY};
    for (int r = 0; s == ULM_OK && r < 3; r++) {
        for (size_t u = 0; u < nc; u++) v[u] = pr[cust[u]].f[rfm_feat[r]];
        qsort(v, nc, sizeof *v, cmp_dbl);
        for (int j = 0; j < 4; j++) p->rfm_cuts[r][j] = quantile(v, nc, 0.2 * (j + 1));
    }
    p->has_rfm = s == ULM_OK;
    /* Stage rules: multiples of the customer's rhythm; one-day customers take the median rhythm. */
    if (s == ULM_OK) {
        size_t m = 0;
        for (size_t u = 0; u < nc; u++)
            if (!isnan(pr[cust[u]].f[ULM_PF_IPT_MEAN])) v[m++] = pr[cust[u]].f[ULM_PF_IPT_MEAN];
        qsort(v, m, sizeof *v, cmp_dbl);
        double rhythm = m ? quantile(v, m, 0.5) : 30;
        p->stage[ULM__ST_ACTIVE] = 1.5;
        p->stage[ULM__ST_AT_RISK] = 3;
        p->stage[ULM__ST_DORMANT] = 6;
        p->stage[ULM__ST_REACT] = 3;
        p->stage[ULM__ST_RHYTHM] = rhythm;
        p->stage[ULM__ST_NEW_DAYS] = 1.5 * rhythm;
        p->has_stage = 1;
    }
    free(v);
    if (s == ULM_OK) s = fit_kmeans(p, pr, n, cust, nc, pp, rep);
    /* Lifetime value: BG/NBD (and Pareto/NBD) on (x, t_x, T), Gamma-Gamma on (x, zbar). */
    double *x = malloc((nc + 1) * sizeof *x), *tx = malloc((nc + 1) * sizeof *tx), *T = malloc((nc + 1) * sizeof *T),
           *z = malloc((nc + 1) * sizeof *z);
    if (s == ULM_OK && (!x || !tx || !T || !z)) s = ULM_ERR_NOMEM;
    if (s == ULM_OK) {
        for (size_t u = 0; u < nc; u++) {
            const double *f = pr[cust[u]].f;
            x[u] = f[ULM_PF_CLV_X], tx[u] = f[ULM_PF_CLV_TX], T[u] = f[ULM_PF_CLV_T], z[u] = f[ULM_PF_CLV_ZBAR];
        }
        ulm_clv_groups g;
        ulm_diag d2;
        memset(&d2, 0, sizeof d2);
        ulm_fit_params fp = ulm_fit_params_init();
        ulm_bgnbd bg;
        ulm_pnbd pn = {1, 1, 1, 1};
        ulm_gg gg;
        ulm_status cs = ulm_clv_groups_build(x, tx, T, nc, &g, &d2);
        if (cs == ULM_OK) cs = ulm_bgnbd_fit(&g, &fp, &bg, &rep->bg, &d2);
        if (cs == ULM_OK && pp->fit_pnbd && ulm_pnbd_fit(&g, &fp, &pn, &rep->pn, &d2) != ULM_OK) pn = (ulm_pnbd){1, 1, 1, 1};
        ulm_clv_groups_free(&g);
        double *c = p->clvp;
        if (cs == ULM_OK && bg.r > 0 && bg.alpha > 0 && bg.a > 0 && bg.b > 0 && isfinite(bg.r + bg.alpha + bg.a + bg.b)) {
            c[ULM__CLVP_HAS_CLV] = 1;
            c[ULM__CLVP_BG_R] = bg.r, c[ULM__CLVP_BG_ALPHA] = bg.alpha, c[ULM__CLVP_BG_A] = bg.a, c[ULM__CLVP_BG_B] = bg.b;
            int pn_ok = pn.r > 0 && pn.alpha > 0 && pn.s > 0 && pn.beta > 0 && isfinite(pn.r + pn.alpha + pn.s + pn.beta);
            if (!pn_ok) pn = (ulm_pnbd){1, 1, 1, 1};
            c[ULM__CLVP_PN_R] = pn.r, c[ULM__CLVP_PN_ALPHA] = pn.alpha, c[ULM__CLVP_PN_S] = pn.s, c[ULM__CLVP_PN_BETA] = pn.beta;
            rep->clv_ok = 1;
            if (ulm_gg_fit(x, z, nc, &fp, &gg, &rep->gg, &d2) == ULM_OK && gg.p > 0 && gg.q > 1 && gg.gamma > 0 &&
                isfinite(gg.p + gg.q + gg.gamma)) {
                c[ULM__CLVP_HAS_GG] = 1;
                c[ULM__CLVP_GG_P] = gg.p, c[ULM__CLVP_GG_Q] = gg.q, c[ULM__CLVP_GG_GAMMA] = gg.gamma;
                rep->gg_ok = 1;
            }
        } else {
            snprintf(rep->clv_message, sizeof rep->clv_message, "%.150s", d2.message[0] ? d2.message : "BG/NBD fit failed");
        }
    }
    free(x), free(tx), free(T), free(z), free(cust);
    if (s != ULM_OK) return ulm__fail(diag, s, NULL, 0, "fitting the profiler: %s", ulm_status_str(s));
    return ULM_OK;
}

/* ---- sections ------------------------------------------------------------------------------------- */

static ulm_status dict_section(ulm_writer *w, const char *tag, const ulm_dict *d) {
    const char **strs = malloc(((size_t)d->n + 1) * sizeof *strs);
    uint32_t *lens = malloc(((size_t)d->n + 1) * sizeof *lens);
    ulm_status s = strs && lens ? ULM_OK : ULM_ERR_NOMEM;
    for (uint32_t i = 0; s == ULM_OK && i < d->n; i++) strs[i] = ulm_dict_str(d, i, &lens[i]);
    uint8_t *tab = NULL;
    size_t len = 0;
    if (s == ULM_OK) s = ulm_strtab_build(strs, lens, d->n, &tab, &len);
    if (s == ULM_OK) s = ulm_writer_section(w, tag, ULM_DT_STRTAB, d->n, 0, 1, 0, tab, len);
    free(tab), free(strs), free(lens);
    return s;
}

/* An f64 section (the writer copies host bytes; ulm, like export.c, assumes a little-endian host). */
static ulm_status f64_section(ulm_writer *w, const char *tag, const double *v, uint32_t rows, uint32_t cols) {
    return ulm_writer_section(w, tag, ULM_DT_F64, rows, cols, 1, 0, v, (uint64_t)rows * (cols ? cols : 1) * 8);
}

/* PFCT..PFWI: the per-item categories, reference prices and keyword index. */
static ulm_status write_item_data(const ulm_profiler *p, ulm_writer *w) {
    uint32_t ni = p->n_items;
    ulm_status s = ulm_writer_section(w, "PFCT", ULM_DT_U32, ni, 1, 1, 0, p->item_cat, (uint64_t)ni * 4);
    if (s == ULM_OK) s = dict_section(w, "PFCN", &p->cats);
    if (s == ULM_OK) s = f64_section(w, "PFRP", p->item_ref, ni, 1);
    if (s == ULM_OK) s = dict_section(w, "PFVO", &p->vocab);
    if (s == ULM_OK) s = f64_section(w, "PFID", p->idf, p->vocab.n, 1);
    if (s == ULM_OK) s = ulm_writer_section(w, "PFWO", ULM_DT_U32, ni + 1, 1, 1, 0, p->word_off, ((uint64_t)ni + 1) * 4);
    if (s == ULM_OK)
        s = ulm_writer_section(w, "PFWI", ULM_DT_U32, p->word_off[ni], 1, 1, 0, p->word_ids, (uint64_t)p->word_off[ni] * 4);
    return s;
}

ulm_status ulm_profiler_write(const ulm_profiler *p, ulm_writer *w) {
    if (!p || !w) return ULM_ERR_MISUSE;
    ulm_status s = ULM_OK;
    if (!p->no_item_data) s = write_item_data(p, w);
    if (s == ULM_OK) s = f64_section(w, "CLVP", p->clvp, ULM__CLVP_N, 1);
    if (s == ULM_OK && p->has_rfm) s = f64_section(w, "RFMQ", &p->rfm_cuts[0][0], 3, 4);
    if (s == ULM_OK && p->has_stage) s = f64_section(w, "LCST", p->stage, ULM__ST_N, 1);
    if (s == ULM_OK && p->k) {
        uint32_t ft[2 * ULM__KM_MAX_D];
        double sc[2 * ULM__KM_MAX_D];
        for (uint32_t j = 0; j < p->d; j++) ft[2 * j] = p->feat[j], ft[2 * j + 1] = p->logt[j], sc[2 * j] = p->mean[j], sc[2 * j + 1] = p->sd[j];
        s = ulm_writer_section(w, "KMFT", ULM_DT_U32, p->d, 2, 1, 0, ft, (uint64_t)p->d * 8);
        if (s == ULM_OK) s = f64_section(w, "KMSC", sc, p->d, 2);
        if (s == ULM_OK) s = f64_section(w, "KMNS", p->cent, p->k, p->d);
        const char *strs[ULM__KM_MAX_K];
        uint32_t lens[ULM__KM_MAX_K];
        for (uint32_t m = 0; m < p->k; m++) strs[m] = p->desc + p->desc_off[m], lens[m] = p->desc_off[m + 1] - p->desc_off[m];
        uint8_t *tab = NULL;
        size_t len = 0;
        if (s == ULM_OK) s = ulm_strtab_build(strs, lens, p->k, &tab, &len);
        if (s == ULM_OK) s = ulm_writer_section(w, "KMDS", ULM_DT_STRTAB, p->k, 0, 1, 0, tab, len);
        free(tab);
    }
    return s;
}
