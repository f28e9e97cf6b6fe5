/* recs_score.c: top-K from the bundle's trained recommender for one history, with explanations.
 * Never allocates: everything lives in the caller's scratch (layout in carve()). The arithmetic
 * order is fixed (history sorted, eight-lane dot products, no contraction), so native and wasm
 * builds give the same floats. */
#include <math.h>

#include "quant.h"
#include "recs_model_impl.h"
#include "ulm/ulm_recommend.h"
#include "ulm_impl.h"
#include "ulm_model_impl.h"

static const char *const algo_names[ULM__RC__END] = {"pop", "itemknn", "als", "bpr", "ease", "content", "hybrid"};

ulm_recommend_opts ulm_recommend_opts_init(void) {
    ulm_recommend_opts o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.k = 10;
    o.explain = 3;
    return o;
}

const char *ulm_model_recs_algo(const ulm_model *m) { return m && m->recs ? algo_names[m->recs->algo] : "pop"; }

/* History rows the ALS fold-in adds to its system per ulm__gram_update call (the scratch they take
 * stays bounded however long the history). */
enum { FOLD_BATCH = 64 };

/* The scratch, carved into 4-byte-unit arrays. */
typedef struct layout {
    uint32_t *hist;   /* [n_hist] sorted, unique, in range */
    uint32_t *due;    /* [n_hist] history items with an entry bought >= one repurchase cycle before now */
    uint32_t *nd;     /* [n_hist] history items with an entry bought more recently (not due) */
    float *s, *s2;    /* [n_items] scores (none with int8 rows: top_q8); [n_items] hybrid content part */
    float *a, *x, *v; /* ALS: [f x f] system / Cholesky factor, [f] user factors, [f] W y_j */
    float *y, *y2;    /* [f] each: item rows decoded from int8 */
    float *yh, *cy;   /* ALS: [FOLD_BATCH x f] history rows, [FOLD_BATCH] one column of them scaled */
    int16_t *xq;      /* [q8_stride] the user factors quantised for the int8 dot */
    float *hs;        /* [k] heap scores */
    uint32_t *hi;     /* [k] heap items */
    size_t units;
} layout;

static void carve(const ulm_model *m, uint32_t k, size_t n_hist, void *base, layout *l) {
    size_t at = 0, ni = m->n_items, f = m->recs ? m->recs->factors : 0, qs = m->recs ? m->recs->q8_stride : 0;
    float *fb = base;
    uint32_t *ub = base;
#define TAKE(n) (at += (n), at - (n))
    size_t o_h = TAKE(n_hist), o_due = TAKE(n_hist), o_nd = TAKE(n_hist);
    size_t o_s = TAKE(m->recs && !m->recs->q8 ? ni : 0);
    size_t o_s2 = TAKE(m->recs && m->recs->algo == ULM__RC_HYBRID ? ni : 0);
    size_t o_a = TAKE(f * f), o_x = TAKE(f), o_v = TAKE(f), o_hs = TAKE(k), o_hi = TAKE(k);
    size_t o_y = TAKE(f), o_y2 = TAKE(f), o_xq = TAKE(qs / 2);
    bool als = m->recs && m->recs->algo == ULM__RC_ALS;
    size_t nb = als ? ((n_hist + 3) & ~(size_t)3) : 0; /* Woodbury pads the history to four rows */
    nb = nb < FOLD_BATCH ? nb : FOLD_BATCH;
    size_t o_yh = TAKE(nb * f), o_cy = TAKE(nb);
#undef TAKE
    l->units = at;
    if (!base) return;
    l->hist = ub + o_h, l->due = ub + o_due, l->nd = ub + o_nd;
    l->s = fb + o_s, l->s2 = fb + o_s2, l->a = fb + o_a, l->x = fb + o_x, l->v = fb + o_v, l->hs = fb + o_hs;
    l->hi = ub + o_hi, l->y = fb + o_y, l->y2 = fb + o_y2, l->xq = (int16_t *)(void *)(ub + o_xq);
    l->yh = fb + o_yh, l->cy = fb + o_cy;
}

/* Item i's factor row as floats: the stored row, or the int8 row decoded into buf. */
static const float *item_row(const ulm__recs *r, uint32_t i, float *buf) {
    if (!r->q8) return r->item_f + (size_t)i * r->factors;
    const int8_t *q = r->q8 + (size_t)i * r->q8_stride;
    float sc = r->q8_scale[i];
    for (uint32_t t = 0; t < r->factors; t++) buf[t] = (float)q[t] * sc;
    return buf;
}

size_t ulm_recommend_scratch_size(const ulm_model *m, const ulm_recommend_opts *o, size_t n_hist) {
    if (!m) return 0;
    ulm_recommend_opts d = ulm_recommend_opts_init();
    if (!o) o = &d;
    layout l;
    carve(m, o->k < m->n_items ? o->k : m->n_items, n_hist, NULL, &l);
    return 4 * (l.units + 1);
}

/* Moves a[root] down to its place in the max-heap a[0..n). */
static void sift(uint32_t *a, size_t root, size_t n) {
    uint32_t v = a[root];
    for (size_t c; (c = 2 * root + 1) < n; root = c) {
        if (c + 1 < n && a[c + 1] > a[c]) c++;
        if (a[c] <= v) break;
        a[root] = a[c];
    }
    a[root] = v;
}

/* Sorts a[0..n) ascending in place (heapsort: no allocation, O(n log n)). */
static void sort_u32(uint32_t *a, size_t n) {
    for (size_t i = n / 2; i-- > 0;) sift(a, i, n);
    for (size_t end = n; end-- > 1;) {
        uint32_t t = a[0];
        a[0] = a[end], a[end] = t;
        sift(a, 0, end);
    }
}

/* True when item is in the sorted list h[0..n). */
static bool in_sorted(const uint32_t *h, size_t n, uint32_t item) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h[mid] < item) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && h[lo] == item;
}

/* Adds the history items' neighbour rows of nb into s (zeroed first). */
static void add_neighbours(const ulm__nblist *nb, uint32_t ni, const uint32_t *h, size_t nh, float *s) {
    for (uint32_t j = 0; j < ni; j++) s[j] = 0;
    for (size_t q = 0; q < nh; q++)
        for (uint32_t k = nb->off[h[q]]; k < nb->off[h[q] + 1]; k++) s[nb->idx[k]] += nb->w[k];
}

/* The weight of j in item i's neighbour row (0 when absent). */
static float neighbour_weight(const ulm__nblist *nb, uint32_t i, uint32_t j) {
    for (uint32_t k = nb->off[i]; k < nb->off[i + 1]; k++)
        if (nb->idx[k] == j) return nb->w[k];
    return 0.0f;
}

/* Divides s by its largest absolute value (as the trainer's hybrid does); returns that value. */
static float normalise(float *s, uint32_t n) {
    float mx = 0;
    for (uint32_t j = 0; j < n; j++) mx = fabsf(s[j]) > mx ? fabsf(s[j]) : mx;
    if (mx > 0)
        for (uint32_t j = 0; j < n; j++) s[j] /= mx;
    return mx;
}

ulm_status ulm__recs_gram_chol(const ulm_model *m, ulm__recs *r) {
    size_t f = r->factors;
    r->gram_chol = ulm__alloc(m->alloc, (f * f + 1) * sizeof *r->gram_chol);
    if (!r->gram_chol) return ULM_ERR_NOMEM;
    memcpy(r->gram_chol, r->gram, f * f * sizeof *r->gram_chol);
    if (ulm__chol_factor(r->gram_chol, f) != 0) {
        ulm__free(m->alloc, r->gram_chol, 0);
        r->gram_chol = NULL;
    }
    return ULM_OK;
}

/* How the fold-in went (explanations depend on it). */
enum { ALS_FAILED, ALS_FACTORED, ALS_WOODBURY };

/* ALS fold-in (Hu, Koren & Volinsky 2008, eq. 4 for one user): A = G + sum (c-1) y y^T,
 * x = A^-1 sum c y, with c = 1 + alpha * r for every history item.
 * Short histories (up to f/2 rows; from two on, padded with zero rows to m, a multiple of four), with G = L L^T
 * factored at load: Woodbury's push-through identity A^-1 Y^T = L^-T W S^-1, W = L^-1 Y^T (f x m) and
 * S = I + (c-1) W^T W (m x m), so x = c L^-T W S^-1 1 (no f x f factorisation, no cancellation; for
 * one event it is Sherman-Morrison). ALS_WOODBURY: W in l->a, S's factor after it.
 * Otherwise A is built and factored: ALS_FACTORED with A's Cholesky factor in l->a, ALS_FAILED (x = 0)
 * when A is not positive definite. */
static int als_fold_in(const ulm_model *m, const uint32_t *h, size_t nh, const layout *l) {
    const ulm__recs *r = m->recs;
    size_t f = r->factors, mp = nh == 1 ? 1 : (nh + 3) & ~(size_t)3;
    float c = 1.0f + r->alpha * r->hist_weight;
    if (r->gram_chol && 2 * mp <= f && mp <= FOLD_BATCH) {
        float *w = l->a, *s = w + f * mp, *z = l->y2;
        for (size_t q = 0; q < mp; q++) { /* Y, with zero rows up to mp */
            float *yq = l->yh + q * f;
            const float *y = q < nh ? item_row(r, h[q], yq) : NULL;
            if (!y) memset(yq, 0, f * sizeof *yq);
            else if (y != yq) memcpy(yq, y, f * sizeof *yq);
        }
        ulm__chol_cols(r->gram_chol, f, l->yh, mp, w);
        memset(s, 0, mp * mp * sizeof *s);
        for (size_t q = 0; q < mp; q++) s[q * mp + q] = 1;
        ulm__gram_update(s, s, w, f, c - 1.0f, mp, l->v);
        if (ulm__chol_factor(s, mp) == 0) {
            for (size_t q = 0; q < mp; q++) z[q] = 1;
            ulm__chol_subst(s, z, mp);
            ulm__score_f32(w, mp, f, z, NULL, l->x);
            for (size_t i = 0; i < f; i++) l->x[i] *= c;
            ulm__chol_bwd(r->gram_chol, l->x, f);
            return ALS_WOODBURY;
        }
    }
    for (size_t j = 0; j < f; j++) l->x[j] = 0;
    if (!nh) memcpy(l->a, r->gram, f * f * sizeof *l->a);
    for (size_t q0 = 0; q0 < nh; q0 += FOLD_BATCH) { /* each entry's sum goes on in history order */
        size_t nq = nh - q0 < FOLD_BATCH ? nh - q0 : FOLD_BATCH;
        for (size_t q = 0; q < nq; q++) {
            float *yq = l->yh + q * f;
            const float *y = item_row(r, h[q0 + q], yq);
            if (y != yq) memcpy(yq, y, f * sizeof *yq);
            for (size_t j = 0; j < f; j++) l->x[j] += c * y[j];
        }
        ulm__gram_update(l->a, q0 ? l->a : r->gram, l->yh, nq, c - 1.0f, f, l->cy);
    }
    if (ulm__chol_factor(l->a, f) != 0) {
        for (size_t j = 0; j < f; j++) l->x[j] = 0;
        return ALS_FAILED;
    }
    ulm__chol_subst(l->a, l->x, f);
    return ALS_FACTORED;
}

/* Fills l->s with the model's score of every item for the history h[0..nh) (nh >= 1); with int8
 * rows only the user vector, quantised into l->xq with its scale in *xs (top_q8 scores the rows). */
static void score_all(const ulm_model *m, const uint32_t *h, size_t nh, const layout *l, float *norm_a,
                      float *norm_b, int *als_ok, float *xs) {
    const ulm__recs *r = m->recs;
    uint32_t ni = m->n_items, f = r->factors;
    switch (r->algo) {
    case ULM__RC_ALS:
    case ULM__RC_BPR:
        if (r->algo == ULM__RC_ALS) {
            *als_ok = als_fold_in(m, h, nh, l);
        } else {
            for (uint32_t j = 0; j < f; j++) l->x[j] = 0;
            float inv = 1.0f / (float)nh;
            for (size_t q = 0; q < nh; q++) {
                const float *y = item_row(r, h[q], l->y);
                for (uint32_t j = 0; j < f; j++) l->x[j] += inv * y[j];
            }
        }
        if (r->q8) { /* exact integer dots: every build ranks alike */
            *xs = ulm__quant_i16(l->x, f, r->q8_stride, l->xq);
            return;
        }
        ulm__score_f32(r->item_f, f, ni, l->x, r->bias, l->s);
        return;
    case ULM__RC_HYBRID: {
        add_neighbours(&r->nb, ni, h, nh, l->s);
        add_neighbours(&r->cn, ni, h, nh, l->s2);
        *norm_a = normalise(l->s, ni);
        *norm_b = normalise(l->s2, ni);
        bool cold = nh < r->cold_events;
        float wc = cold ? r->wc_cold : r->wc_warm, wp = cold ? r->wp_cold : r->wp_warm;
        for (uint32_t j = 0; j < ni; j++) l->s[j] = l->s[j] + wc * l->s2[j] + wp * r->rpop[j] * r->rpop_inv;
        return;
    }
    default: /* item-kNN, content, EASE: stored neighbour rows */
        add_neighbours(&r->nb, ni, h, nh, l->s);
        return;
    }
}

/* Contribution of history item hi to recommended item j's score. */
static float contribution(const ulm_model *m, uint32_t hi, uint32_t j, size_t nh, const layout *l, float norm_a,
                          float norm_b) {
    const ulm__recs *r = m->recs;
    size_t f = r->factors;
    switch (r->algo) {
    case ULM__RC_ALS: /* c_h * y_j^T A^-1 y_h, with A^-1 y_j solved once per j into l->v */
        return (1.0f + r->alpha * r->hist_weight) * ulm__dot8(l->v, item_row(r, hi, l->y), f);
    case ULM__RC_BPR:
        return ulm__dot8(item_row(r, hi, l->y), item_row(r, j, l->y2), f) / (float)nh;
    case ULM__RC_HYBRID: {
        bool cold = nh < r->cold_events;
        float wc = cold ? r->wc_cold : r->wc_warm, c = 0;
        if (norm_a > 0) c += neighbour_weight(&r->nb, hi, j) / norm_a;
        if (norm_b > 0) c += wc * (neighbour_weight(&r->cn, hi, j) / norm_b);
        return c;
    }
    default:
        return neighbour_weight(&r->nb, hi, j);
    }
}

/* True when (s1, i1) ranks above (s2, i2): higher score, then earlier in the POPR order (higher
 * popularity score, then lower index: the order ulm__rank_by_score gives pop_order). */
static inline bool better(const float *pop, float s1, uint32_t i1, float s2, uint32_t i2) {
    return s1 > s2 || (s1 == s2 && (pop[i1] > pop[i2] || (pop[i1] == pop[i2] && i1 < i2)));
}

/* Min-heap of the k best: hs[0] is the k-th best so far. Returns the new size. */
static uint32_t heap_push(const float *pop, float *hs, uint32_t *hi, uint32_t size, uint32_t k, float s,
                          uint32_t i) {
    uint32_t c;
    if (size < k) {
        for (c = size++; c > 0;) {
            uint32_t p = (c - 1) / 2;
            if (!better(pop, hs[p], hi[p], s, i)) break;
            hs[c] = hs[p], hi[c] = hi[p], c = p;
        }
    } else {
        if (!better(pop, s, i, hs[0], hi[0])) return size;
        for (c = 0;;) {
            uint32_t lc = 2 * c + 1, rc = lc + 1, w = c;
            float ws = s;
            uint32_t wi = i;
            if (lc < size && better(pop, ws, wi, hs[lc], hi[lc])) w = lc, ws = hs[lc], wi = hi[lc];
            if (rc < size && better(pop, ws, wi, hs[rc], hi[rc])) w = rc;
            if (w == c) break;
            hs[c] = hs[w], hi[c] = hi[w], c = w;
        }
    }
    hs[c] = s, hi[c] = i;
    return size;
}

/* Sorts the heap best first in place. */
static void heap_sort(const float *pop, float *hs, uint32_t *hi, uint32_t n) {
    for (uint32_t end = n; end > 1; end--) {
        float s = hs[end - 1];
        uint32_t i = hi[end - 1], size = end - 1, c = 0;
        hs[end - 1] = hs[0], hi[end - 1] = hi[0];
        for (;;) {
            uint32_t lc = 2 * c + 1, rc = lc + 1, w = c;
            float ws = s;
            uint32_t wi = i;
            if (lc < size && better(pop, ws, wi, hs[lc], hi[lc])) w = lc, ws = hs[lc], wi = hi[lc];
            if (rc < size && better(pop, ws, wi, hs[rc], hi[rc])) w = rc;
            if (w == c) break;
            hs[c] = hs[w], hi[c] = hi[w], c = w;
        }
        hs[c] = s, hi[c] = i;
    }
}

/* The up-to-e history items with the largest positive contribution to item j, best first
 * (ties: lower item index), into because[0..e) / bw[0..e). */
static void explain_item(const ulm_model *m, uint32_t j, const uint32_t *h, size_t nh, const layout *l, float na,
                         float nbn, int als_ok, uint32_t e, uint32_t *because, float *bw) {
    float cw[ULM_RECOMMEND_MAX_EXPLAIN];
    uint32_t ci[ULM_RECOMMEND_MAX_EXPLAIN], n = 0;
    const ulm__recs *r = m->recs;
    if (r->algo == ULM__RC_ALS) {
        if (als_ok == ALS_FAILED) goto done;
        size_t f = r->factors, mp = nh == 1 ? 1 : (nh + 3) & ~(size_t)3;
        memcpy(l->v, item_row(r, j, l->y), f * sizeof *l->v);
        if (als_ok == ALS_FACTORED) {
            ulm__chol_subst(l->a, l->v, f);
        } else { /* y_j^T A^-1 Y^T = (L^-1 y_j)^T W S^-1: every history row's at once into l->y2 */
            ulm__chol_fwd(r->gram_chol, l->v, f);
            for (size_t q = 0; q < mp; q++) l->y2[q] = 0;
            for (size_t t = 0; t < f; t++)
                for (size_t q = 0; q < mp; q++) l->y2[q] += l->a[t * mp + q] * l->v[t];
            ulm__chol_subst(l->a + f * mp, l->y2, mp);
        }
    }
    for (size_t q = 0; q < nh; q++) {
        float c = als_ok == ALS_WOODBURY ? (1.0f + r->alpha * r->hist_weight) * l->y2[q]
                                         : contribution(m, h[q], j, nh, l, na, nbn);
        if (!(c > 0)) continue;
        uint32_t at;
        if (n < e) {
            at = n++;
        } else {
            if (!(c > cw[e - 1])) continue;
            at = e - 1;
        }
        while (at > 0 && c > cw[at - 1]) cw[at] = cw[at - 1], ci[at] = ci[at - 1], at--;
        cw[at] = c, ci[at] = h[q];
    }
done:
    for (uint32_t q = 0; q < e; q++) {
        because[q] = q < n ? ci[q] : ULM_NONE;
        if (bw) bw[q] = q < n ? cw[q] : 0.0f;
    }
}

/* Sorts and deduplicates a[0..n) in place; returns the new length. */
static size_t sort_unique(uint32_t *a, size_t n) {
    sort_u32(a, n);
    size_t u = 0;
    for (size_t q = 0; q < n; q++)
        if (q == 0 || a[q] != a[q - 1]) a[u++] = a[q];
    return u;
}

/* The request's filters: false when item j may not be recommended at all (deny list, allow
 * list, category filter). The deny list always wins. */
static bool blocked(const ulm_model *m, const ulm_recommend_opts *o, uint32_t j) {
    if (m->deny && m->deny[j]) return true;
    if (o->allow && !o->allow[j]) return true;
    if (o->categories) {
        uint32_t c = ulm_model_item_category(m, j);
        bool in = false;
        for (uint32_t q = 0; c != ULM_NONE && q < o->n_categories && !in; q++) in = o->categories[q] == c;
        if (in == ((o->flags & ULM_RECOMMEND_NOT_CATEGORIES) != 0)) return true;
    }
    return false;
}

/* True when history item j was bought and may not come back: it is not a consumable whose last
 * purchase is at least one learned repurchase cycle before now. */
static bool excluded_bought(const layout *l, size_t nh, size_t n_due, size_t n_nd, uint32_t j) {
    if (!in_sorted(l->hist, nh, j)) return false;
    return !(in_sorted(l->due, n_due, j) && !in_sorted(l->nd, n_nd, j));
}

/* Top-K over int8 rows, scored and selected in one pass (ulm__q8_next): only rows that may score
 * at least the k-th best so far come back here, four at a time, and rows whose bound is below it
 * are not scored at all. The filters run only on those rows; the order is better()'s, and the
 * heap's result does not depend on the order items are offered. Returns the heap's size. */
static uint32_t top_q8(const ulm_model *m, const ulm_recommend_opts *o, const layout *l, size_t nh, size_t n_due,
                       size_t n_nd, float xs, uint32_t k) {
    const ulm__recs *r = m->recs;
    const float *pop = m->pop_score;
    uint32_t n = 0, got, idx[4];
    ulm__q8_scan sc;
    ulm__q8_scan_init(&sc, r->q8, r->q8_stride, m->n_items, l->xq, xs, r->q8_scale, r->q8_norm, r->bias,
                      r->q8_chunk);
    float s4[4];
    while ((got = ulm__q8_next(&sc, n == k ? l->hs[0] : -INFINITY, idx, s4)) > 0)
        for (uint32_t q = 0; q < got; q++) {
            float s = s4[q];
            uint32_t j = idx[q];
            if (s == -INFINITY || s != s || (n == k && s < l->hs[0]) || blocked(m, o, j) ||
                excluded_bought(l, nh, n_due, n_nd, j))
                continue;
            n = heap_push(pop, l->hs, l->hi, n, k, s, j);
        }
    return n;
}

ulm_status ulm_recommend(const ulm_model *m, const uint32_t *hist, size_t n_hist, const ulm_recommend_opts *o,
                         void *scratch, size_t scratch_size, uint32_t *items, float *scores, uint32_t *because,
                         float *because_w, uint32_t *n_out) {
    ulm_recommend_opts d = ulm_recommend_opts_init();
    if (!o) o = &d;
    if (!m || !n_out || (n_hist && !hist) || o->struct_size < sizeof *o || o->explain > ULM_RECOMMEND_MAX_EXPLAIN)
        return ULM_ERR_MISUSE;
    *n_out = 0;
    uint32_t ni = m->n_items, k = o->k < ni ? o->k : ni, e = o->explain;
    if (k && (!items || !scores || (e && !because))) return ULM_ERR_MISUSE;
    if (!scratch || ((uintptr_t)scratch & 3) || scratch_size < ulm_recommend_scratch_size(m, o, n_hist))
        return ULM_ERR_MISUSE;
    layout l;
    carve(m, k, n_hist, scratch, &l);
    size_t nh = 0, n_due = 0, n_nd = 0;
    for (size_t q = 0; q < n_hist; q++) {
        if (hist[q] >= ni) continue;
        l.hist[nh++] = hist[q];
        if (!o->hist_time || !m->cycle || !(m->cycle[hist[q]] > 0)) continue;
        /* Due when now - bought >= cycle days; compared in seconds, in double (exact for any
         * realistic time), so every build decides alike. */
        double age = (double)o->now - (double)o->hist_time[q];
        if (age >= (double)m->cycle[hist[q]] * 86400.0) l.due[n_due++] = hist[q];
        else l.nd[n_nd++] = hist[q];
    }
    nh = sort_unique(l.hist, nh);
    n_due = sort_unique(l.due, n_due);
    n_nd = sort_unique(l.nd, n_nd);
    uint32_t n = 0;
    if (!m->recs || (o->flags & ULM_RECOMMEND_POPULARITY) || nh == 0) {
        /* Popularity: the POPR order, skipping denied and bought items. */
        for (uint32_t r = 0; r < ni && n < k; r++) {
            uint32_t it = m->pop_order[r];
            if (blocked(m, o, it) || excluded_bought(&l, nh, n_due, n_nd, it)) continue;
            items[n] = it;
            scores[n] = m->pop_score[it];
            for (uint32_t q = 0; q < e; q++) {
                because[n * e + q] = ULM_NONE;
                if (because_w) because_w[n * e + q] = 0;
            }
            n++;
        }
        *n_out = n;
        return ULM_OK;
    }
    float na = 0, nbn = 0, xs = 0;
    int als_ok = ALS_FAILED;
    score_all(m, l.hist, nh, &l, &na, &nbn, &als_ok, &xs);
    const float *pop = m->pop_score;
    if (m->recs->q8) {
        n = k ? top_q8(m, o, &l, nh, n_due, n_nd, xs, k) : 0;
    } else {
        for (size_t q = 0; q < nh; q++)
            if (excluded_bought(&l, nh, n_due, n_nd, l.hist[q])) l.s[l.hist[q]] = -INFINITY;
        for (uint32_t j = 0; k && j < ni; j++) {
            /* Once the heap is full only a score at least the k-th best can enter (NaN never): the
             * items below it are skipped eight at a time. */
            if (n == k && (j = ulm__first_ge(l.s, j, ni, l.hs[0])) == ni) break;
            float s = l.s[j];
            if (s == -INFINITY || s != s || blocked(m, o, j)) continue;
            n = heap_push(pop, l.hs, l.hi, n, k, s, j);
        }
    }
    heap_sort(pop, l.hs, l.hi, n);
    for (uint32_t q = 0; q < n; q++) {
        items[q] = l.hi[q];
        scores[q] = l.hs[q];
    }
    for (uint32_t q = 0; e && q < n; q++)
        explain_item(m, items[q], l.hist, nh, &l, na, nbn, als_ok, e, because + (size_t)q * e,
                     because_w ? because_w + (size_t)q * e : NULL);
    *n_out = n;
    return ULM_OK;
}
