/* clv_fit.c: maximum-likelihood fits of BG/NBD, Pareto/NBD and Gamma-Gamma on log-parameters.
 * Customers are grouped by distinct (x, t_x, T) so the likelihood is a weighted sum over triples;
 * for BG/NBD the terms that depend on x alone (ln Gamma, digamma) are computed once per x. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../clv_impl.h"
#include "../ulm_impl.h"
#include "optim.h"

typedef struct triple {
    double x, t_x, T;
} triple;

/* Orders triples by x, then t_x, then T (total order on finite doubles). */
static int cmp_triple(const void *pa, const void *pb) {
    const triple *a = pa, *b = pb;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    if (a->t_x != b->t_x) return a->t_x < b->t_x ? -1 : 1;
    if (a->T != b->T) return a->T < b->T ? -1 : 1;
    return 0;
}

/* A triple and its count; the triple comes first so cmp_triple orders these too. */
typedef struct triple_w {
    triple t;
    double w;
} triple_w;

/* Mixes the bit patterns of a triple (splitmix64 finaliser over a running combination). */
static size_t triple_hash(const triple *t) {
    uint64_t h = 0x9e3779b97f4a7c15u;
    const double v[3] = {t->x, t->t_x, t->T};
    for (int i = 0; i < 3; i++) {
        uint64_t b;
        memcpy(&b, &v[i], sizeof b);
        h ^= b + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
        h ^= h >> 30, h *= 0xbf58476d1ce4e5b9u, h ^= h >> 27, h *= 0x94d049bb133111ebu, h ^= h >> 31;
    }
    return (size_t)h;
}

void ulm_clv_groups_free(ulm_clv_groups *g) {
    if (!g) return;
    free(g->x);
    free(g->t_x);
    free(g->T);
    free(g->w);
    g->x = g->t_x = g->T = g->w = NULL;
    g->n = g->n_customers = 0;
}

/* One slot of the grouping table: a distinct triple and its count (0: empty). 32 bytes, so a lookup
 * touches one cache line. */
typedef struct group_slot {
    triple t;
    double w;
} group_slot;

/* Adds triple t with hash h to the table (cap slots, linear probing); returns 1 when it was new. */
static int group_add(group_slot *tab, size_t cap, size_t h, const triple *t) {
    for (h &= cap - 1; tab[h].w != 0; h = (h + 1) & (cap - 1))
        if (tab[h].t.x == t->x && tab[h].t.t_x == t->t_x && tab[h].t.T == t->T) {
            tab[h].w += 1;
            return 0;
        }
    tab[h].t = *t;
    tab[h].w = 1;
    return 1;
}

/* A slot of the distinct-value table: a value and its index in c->val (UINT32_MAX: empty). */
typedef struct value_slot {
    double v;
    uint32_t i;
} value_slot;

/* Index of v in the table (cap slots), adding it as value number *k of val when new; UINT32_MAX when
 * the table is full. */
static uint32_t value_index(value_slot *tab, size_t cap, double *val, size_t *k, double v) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    size_t h = (size_t)((b * 0x9e3779b97f4a7c15u) >> 32) & (cap - 1);
    for (; tab[h].i != UINT32_MAX; h = (h + 1) & (cap - 1))
        if (tab[h].v == v) return tab[h].i;
    if (2 * (*k + 1) > cap) return UINT32_MAX;
    tab[h].v = v;
    tab[h].i = (uint32_t)*k;
    val[*k] = v;
    return (uint32_t)(*k)++;
}

/* Orders doubles ascending. */
static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* Component c (0: x, 1: t_x, 2: T) of a counted triple. */
static inline double component(const triple_w *r, int c) { return c == 0 ? r->t.x : c == 1 ? r->t.t_x : r->t.T; }

/* Sorts k counted triples in cmp_triple's order into tmp (k records) when no component has more than
 * 65,536 distinct values (day-granular data has a few hundred): each component is replaced by its rank
 * among its distinct values (a hash table, then a sort of the distinct values only), and three stable
 * counting sorts by the ranks of T, t_x and x order the triples. Returns tmp, or NULL (too many distinct
 * values, or out of memory: the caller then sorts by bytes). */
static triple_w *rank_sort_triples(const triple_w *a, triple_w *tmp, size_t k) {
    enum { MAXV = 65536 };
    size_t cap = 1024, nd[3] = {0, 0, 0}; /* the table doubles when a component fills it */
    value_slot *tab = malloc(cap * sizeof *tab);
    double *val = malloc((MAXV + 2) * sizeof *val), *sorted = (double *)(void *)tmp; /* tmp holds 4k doubles */
    uint32_t *rank = malloc(3 * k * sizeof *rank), *map = malloc((MAXV + 2) * sizeof *map);
    uint32_t *ord = malloc(2 * k * sizeof *ord), *cnt = malloc((MAXV + 2) * sizeof *cnt);
    bool ok = tab && val && rank && map && ord && cnt;
    for (int c = 0; ok && c < 3; c++) {
        size_t nv = 0, i = 0;
        for (size_t j = 0; j < cap; j++) tab[j].i = UINT32_MAX;
        for (; i < k && nv <= MAXV; i++)
            if ((rank[c * k + i] = value_index(tab, cap, val, &nv, component(&a[i], c))) == UINT32_MAX) break;
        if (i < k && nv <= MAXV) { /* the table is full: double it and redo this component */
            value_slot *nt = realloc(tab, 2 * cap * sizeof *tab);
            ok = nt != NULL;
            if (ok) tab = nt, cap *= 2, c--;
            continue;
        }
        ok = nv <= MAXV;
        if (!ok) break;
        memcpy(sorted, val, nv * sizeof *val);
        qsort(sorted, nv, sizeof *sorted, cmp_double);
        for (size_t id = 0; id < nv; id++) { /* first-appearance id -> rank */
            size_t lo = 0, hi = nv;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (sorted[mid] < val[id]) lo = mid + 1;
                else hi = mid;
            }
            map[id] = (uint32_t)lo;
        }
        for (i = 0; i < k; i++) rank[c * k + i] = map[rank[c * k + i]];
        nd[c] = nv;
    }
    if (ok) {
        uint32_t *src = ord, *dst = ord + k;
        for (size_t i = 0; i < k; i++) src[i] = (uint32_t)i;
        for (int c = 2; c >= 0; c--) { /* least significant component first; each pass is stable */
            const uint32_t *rk = rank + (size_t)c * k;
            memset(cnt, 0, (nd[c] + 1) * sizeof *cnt);
            for (size_t i = 0; i < k; i++) cnt[rk[i] + 1]++;
            for (size_t v = 1; v <= nd[c]; v++) cnt[v] += cnt[v - 1];
            for (size_t i = 0; i < k; i++) dst[cnt[rk[src[i]]]++] = src[i];
            uint32_t *t = src;
            src = dst;
            dst = t;
        }
        for (size_t i = 0; i < k; i++) tmp[i] = a[src[i]];
    }
    free(tab), free(val), free(rank), free(map), free(ord), free(cnt);
    return ok ? tmp : NULL;
}

/* Byte d (0 = least significant) of the sort key of a counted triple: T, then t_x, then x, each a
 * non-negative double whose bit pattern orders as an unsigned integer does. */
static inline unsigned key_byte(const triple_w *r, int d) {
    const double v = d < 8 ? r->t.T : d < 16 ? r->t.t_x : r->t.x;
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return (unsigned)(b >> (8 * (d & 7))) & 0xFF;
}

/* Sorts k counted triples in cmp_triple's order (all values >= +0): LSD radix sort by bytes, skipping
 * the bytes every key shares (integer counts and day-granular times leave most of them constant).
 * tmp holds k records. Returns the sorted array (a or tmp). */
static triple_w *radix_sort_triples(triple_w *a, triple_w *tmp, size_t k) {
    size_t (*hist)[256] = calloc(24, sizeof *hist);
    if (!hist) {
        qsort(a, k, sizeof *a, cmp_triple);
        return a;
    }
    for (size_t i = 0; i < k; i++)
        for (int d = 0; d < 24; d++) hist[d][key_byte(&a[i], d)]++;
    triple_w *src = a, *dst = tmp;
    for (int d = 0; d < 24; d++) {
        if (hist[d][key_byte(&src[0], d)] == k) continue; /* one value of this byte: nothing moves */
        size_t pos = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = hist[d][b];
            hist[d][b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < k; i++) dst[hist[d][key_byte(&src[i], d)]++] = src[i];
        triple_w *t = src;
        src = dst;
        dst = t;
    }
    free(hist);
    return src;
}

ulm_status ulm_clv_groups_build(const double *x, const double *t_x, const double *T, size_t n, ulm_clv_groups *out,
                                ulm_diag *diag) {
    if (!out || (n && (!x || !t_x || !T))) return ulm__fail(diag, ULM_ERR_MISUSE, "", 0, "NULL argument");
    out->x = out->t_x = out->T = out->w = NULL;
    out->n = out->n_customers = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(isfinite(x[i]) && isfinite(t_x[i]) && isfinite(T[i]) && x[i] >= 0 && t_x[i] >= 0 && t_x[i] <= T[i]))
            return ulm__fail(diag, ULM_ERR_RANGE, "", i,
                             "customer %zu has an impossible history (x %g, t_x %g, T %g)", i, x[i], t_x[i], T[i]);
    }
    /* Distinct triples counted in an open-addressing hash table holding the triples themselves (linear
     * probing, at most half full), each customer's slot prefetched 32 customers before it is used so
     * the cache misses overlap; then only the distinct triples are sorted. Same groups, order and weights
     * as sorting all n, in O(n + k log k). */
    enum { AHEAD = 32 }; /* a power of two */
    size_t cap = 4096, k = 0, hs[AHEAD];
    triple ts[AHEAD];
    group_slot *tab = calloc(cap, sizeof *tab);
    if (!tab) goto nomem;
    for (size_t i = 0; i < n + AHEAD; i++) {
        size_t q = i & (AHEAD - 1);
        if (i >= AHEAD) { /* customer i - AHEAD: its slot was prefetched AHEAD customers ago */
            k += (size_t)group_add(tab, cap, hs[q], &ts[q]);
            if (2 * k > cap) { /* grow and rehash */
                group_slot *nt = calloc(2 * cap, sizeof *nt);
                if (!nt) goto nomem;
                for (size_t s = 0; s < cap; s++)
                    if (tab[s].w != 0) {
                        size_t h = triple_hash(&tab[s].t) & (2 * cap - 1);
                        while (nt[h].w != 0) h = (h + 1) & (2 * cap - 1);
                        nt[h] = tab[s];
                    }
                free(tab);
                tab = nt;
                cap *= 2;
            }
        }
        if (i < n) {
            ts[q] = (triple){x[i] + 0.0, t_x[i] + 0.0, T[i] + 0.0}; /* + 0.0: -0 and 0 are one value */
            hs[q] = triple_hash(&ts[q]);
            __builtin_prefetch(&tab[hs[q] & (cap - 1)]);
        }
    }
    /* Sort the distinct triples, carrying their counts. */
    size_t kk = k ? k : 1, j = 0;
    out->x = malloc(kk * sizeof(double));
    out->t_x = malloc(kk * sizeof(double));
    out->T = malloc(kk * sizeof(double));
    out->w = malloc(kk * sizeof(double));
    triple_w *tw = malloc(2 * kk * sizeof *tw), *sorted;
    if (!out->x || !out->t_x || !out->T || !out->w || !tw) {
        free(tw);
        goto nomem;
    }
    for (size_t s = 0; s < cap; s++)
        if (tab[s].w != 0) tw[j++] = (triple_w){tab[s].t, tab[s].w};
    free(tab);
    tab = NULL;
    sorted = k ? rank_sort_triples(tw, tw + kk, k) : tw;
    if (!sorted) sorted = radix_sort_triples(tw, tw + kk, k);
    for (j = 0; j < k; j++) {
        out->x[j] = sorted[j].t.x;
        out->t_x[j] = sorted[j].t.t_x;
        out->T[j] = sorted[j].t.T;
        out->w[j] = sorted[j].w;
    }
    out->n = k;
    out->n_customers = n;
    free(tw);
    return ULM_OK;
nomem:
    free(tab);
    ulm_clv_groups_free(out);
    return ulm__fail(diag, ULM_ERR_NOMEM, "", 0, "out of memory grouping %zu customers", n);
}

ulm_fit_params ulm_fit_params_init(void) {
    ulm_fit_params p = {sizeof(ulm_fit_params), 400, 1e-9, 3, NULL, NULL};
    return p;
}

/* Runs Newton's method (when fnh, the objective with its Hessian, is given) or BFGS from each start
 * (log-parameters) and keeps the best end point; a Newton run that does not converge is finished by BFGS. */
static ulm_status fit_multi(int dim, ulm__objective fn, ulm__objective_h fnh, void *ud, const double starts[][4],
                            int n_starts, const ulm_fit_params *fp, double *best, ulm_fit_report *rep,
                            ulm_diag *diag, const char *what) {
    double best_f = INFINITY;
    int any = 0;
    ulm__bfgs_result br, bestr = {0};
    for (int k = 0; k < n_starts; k++) {
        double th[4];
        for (int i = 0; i < dim; i++) th[i] = starts[k][i];
        if (fnh) {
            if (ulm__newton(dim, th, fnh, ud, fp->max_iter, fp->grad_tol, 3.0, &br) != 0) continue;
            if (!br.converged) {
                int used = br.iterations;
                if (ulm__bfgs(dim, th, fn, ud, fp->max_iter, fp->grad_tol, 3.0, &br) != 0) continue;
                br.iterations += used;
            }
        } else if (ulm__bfgs(dim, th, fn, ud, fp->max_iter, fp->grad_tol, 3.0, &br) != 0) {
            continue;
        }
        if (br.f < best_f) {
            best_f = br.f;
            bestr = br;
            for (int i = 0; i < dim; i++) best[i] = th[i];
            any = 1;
        }
        if (br.converged) break; /* later starts are for fits that stall */
    }
    if (!any) return ulm__fail(diag, ULM_ERR_RANGE, "", 0, "%s: the likelihood cannot be evaluated at any start", what);
    rep->grad_norm = bestr.gmax;
    rep->iterations = bestr.iterations;
    rep->converged = bestr.converged;
    return ULM_OK;
}

static int fit_starts(const ulm_fit_params *fp) {
    int n = fp && fp->n_starts > 0 ? fp->n_starts : 3;
    return n > 3 ? 3 : n;
}

/* ---- BG/NBD ---------------------------------------------------------------------------------- */

/* The BG/NBD sum over groups runs in this many fixed chunks (contiguous group ranges), each
 * with its own partial sums, added in chunk order: the same result for any number of threads. */
#define BG_CHUNKS 16

typedef struct bg_part {
    double ll, dr, dal, da, db;
    double h[10]; /* Hessian of lnL on (r, alpha, a, b): rr, r.al, ra, rb, al.al, al.a, al.b, aa, ab, bb */
} bg_part;

typedef struct bg_ctx {
    const ulm_clv_groups *g;
    double wsum;
    /* Optional: the distinct values of t_x and T (day-granular data has few) with, per group, the
     * index of its t_x and T there, so each evaluation takes one log per distinct value. */
    size_t nv;
    const double *val;
    const uint32_t *itx, *iT;
    double *lv, *iv; /* scratch: log(alpha + v), 1/(alpha + v) */
    ulm_parallel_fn parallel;
    void *parallel_ctx;
    /* Per evaluation: the parameters, the x-free constants and the chunks' partial sums. */
    double r, al, a, b, lal, la, lgr, lgab, lgb, psr, psab, psb;
    bool want_h;              /* also the Hessian (Newton) */
    double tgr, tgab, tgb;    /* trigamma of r, a + b, b */
    bg_part part[BG_CHUNKS];
} bg_ctx;

/* Chunk t of the groups: its partial sums of lnL and of the gradient on (r, alpha, a, b). The x-only
 * terms (ln Gamma, digamma) are taken once per run of equal x within the chunk. */
static void bg_chunk(void *ud, uint32_t t) {
    bg_ctx *c = ud;
    const ulm_clv_groups *g = c->g;
    double r = c->r, al = c->al, a = c->a, b = c->b, lal = c->lal, la = c->la;
    double ll = 0, dr = 0, dal = 0, da = 0, db = 0, h[10] = {0};
    const bool want_h = c->want_h;
    size_t i = g->n * t / BG_CHUNKS, end = g->n * (t + 1) / BG_CHUNKS;
    while (i < end) {
        double x = g->x[i];
        double c0 = ulm_lgamma(r + x) - c->lgr + r * lal + c->lgab + ulm_lgamma(b + x) - c->lgb - ulm_lgamma(a + b + x);
        double pr = ulm_digamma(r + x) - c->psr + lal, pab = c->psab - ulm_digamma(a + b + x);
        double pb = pab + ulm_digamma(b + x) - c->psb, lbx = x > 0 ? log(b + x - 1) : 0;
        /* Sums over the run of this x: weights, and the log-sum-exp parts. */
        double W = 0, L = 0, Sr = 0, Sal = 0, S4 = 0;
        /* For the Hessian: sum w (w3 iT^2 + w4 it^2), and with q = w3 w4, Dr = lt - lT, e = iT - it:
         * sums of w q, w q Dr, w q e, w q Dr^2, w q Dr e, w q e^2. */
        double Sal2 = 0, Q = 0, QR = 0, QE = 0, QRR = 0, QRE = 0, QEE = 0;
        for (; i < end && g->x[i] == x; i++) {
            double w = g->w[i], lT, iT, lt = 0, it = 0;
            if (c->nv) {
                lT = c->lv[c->iT[i]], iT = c->iv[c->iT[i]];
                if (x > 0) lt = c->lv[c->itx[i]], it = c->iv[c->itx[i]];
            } else {
                lT = log(al + g->T[i]), iT = 1 / (al + g->T[i]);
                if (x > 0) lt = log(al + g->t_x[i]), it = 1 / (al + g->t_x[i]);
            }
            double u = -(r + x) * lT;
            W += w;
            if (x > 0) {
                /* l = log(e^u + e^v); w3 = e^(u-l), w4 = 1 - w3, with one exp, one log and one
                 * division. log(1 + e) for e in (0, 1] is within 1.2e-16 of log1p(e) (absolute),
                 * far below the rounding of l itself, and several times cheaper. */
                double v = la - lbx - (r + x) * lt, d = v - u, e = exp(-fabs(d)), q = 1 / (1 + e);
                double l = (d > 0 ? v : u) - log(q), w3 = d > 0 ? e * q : q, w4 = 1 - w3;
                L += w * l;
                Sr += w * (w3 * lT + w4 * lt);
                Sal += w * (w3 * iT + w4 * it);
                S4 += w * w4;
                if (want_h) {
                    double wq = w * w3 * w4, Dr = lt - lT, de = iT - it;
                    Sal2 += w * (w3 * iT * iT + w4 * it * it);
                    Q += wq, QR += wq * Dr, QE += wq * de;
                    QRR += wq * Dr * Dr, QRE += wq * Dr * de, QEE += wq * de * de;
                }
            } else {
                L += w * u;
                Sr += w * lT;
                Sal += w * iT;
                Sal2 += w * iT * iT;
            }
        }
        ll += W * c0 + L;
        dr += W * pr - Sr;
        dal += W * r / al - (r + x) * Sal;
        da += W * pab + (x > 0 ? S4 / a : 0);
        db += W * pb - (x > 0 ? S4 / (b + x - 1) : 0);
        if (want_h) { /* lnL'' = c0'' + w3 u'' + w4 v'' + w3 w4 (u' - v')(u' - v')' per customer */
            double rx = r + x, ib = x > 0 ? 1 / (b + x - 1) : 0, ia = 1 / a;
            double cab = x > 0 ? c->tgab - ulm__trigamma(a + b + x) : 0;
            h[0] += (x > 0 ? W * (ulm__trigamma(r + x) - c->tgr) : 0) + QRR;
            h[1] += W / al - Sal - rx * QRE;
            h[2] += -ia * QR;
            h[3] += ib * QR;
            h[4] += -W * r / (al * al) + rx * Sal2 + rx * rx * QEE;
            h[5] += rx * ia * QE;
            h[6] += -rx * ib * QE;
            h[7] += W * cab + (Q - S4) * ia * ia;
            h[8] += W * cab - ib * ia * Q;
            h[9] += W * (cab + (x > 0 ? ulm__trigamma(b + x) - c->tgb : 0)) + (S4 + Q) * ib * ib;
        }
    }
    c->part[t] = (bg_part){ll, dr, dal, da, db, {0}};
    memcpy(c->part[t].h, h, sizeof h);
}

/* -lnL / N, its gradient and (when hess is not NULL) its Hessian on (ln r, ln alpha, ln a, ln b). */
static int bg_objective_h(void *ud, const double *th, double *f, double *grad, double *hess) {
    bg_ctx *c = ud;
    double r = exp(th[0]), al = exp(th[1]), a = exp(th[2]), b = exp(th[3]);
    if (!(r > 0 && al > 0 && a > 0 && b > 0 && isfinite(r) && isfinite(al) && isfinite(a) && isfinite(b))) return 1;
    for (size_t k = 0; k < c->nv; k++) {
        c->lv[k] = log(al + c->val[k]);
        c->iv[k] = 1 / (al + c->val[k]);
    }
    c->r = r, c->al = al, c->a = a, c->b = b, c->lal = log(al), c->la = log(a);
    c->lgr = ulm_lgamma(r), c->lgab = ulm_lgamma(a + b), c->lgb = ulm_lgamma(b);
    c->psr = ulm_digamma(r), c->psab = ulm_digamma(a + b), c->psb = ulm_digamma(b);
    c->want_h = hess != NULL;
    if (hess) c->tgr = ulm__trigamma(r), c->tgab = ulm__trigamma(a + b), c->tgb = ulm__trigamma(b);
    if (c->parallel && c->g->n >= 4096) {
        c->parallel(c->parallel_ctx, BG_CHUNKS, bg_chunk, c);
    } else {
        for (uint32_t t = 0; t < BG_CHUNKS; t++) bg_chunk(c, t);
    }
    double ll = 0, dr = 0, dal = 0, da = 0, db = 0, h[10] = {0};
    for (int t = 0; t < BG_CHUNKS; t++) {
        ll += c->part[t].ll, dr += c->part[t].dr, dal += c->part[t].dal;
        da += c->part[t].da, db += c->part[t].db;
        for (int k = 0; k < 10; k++) h[k] += c->part[t].h[k];
    }
    *f = -ll / c->wsum;
    grad[0] = -dr * r / c->wsum;
    grad[1] = -dal * al / c->wsum;
    grad[2] = -da * a / c->wsum;
    grad[3] = -db * b / c->wsum;
    if (hess) { /* d2f/dth_i dth_j = -(p_i p_j H_ij + [i = j] p_i g_i) / N for p = exp(th) */
        static const int idx[4][4] = {{0, 1, 2, 3}, {1, 4, 5, 6}, {2, 5, 7, 8}, {3, 6, 8, 9}};
        const double p[4] = {r, al, a, b}, gl[4] = {dr, dal, da, db};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                hess[i * 4 + j] = -(p[i] * p[j] * h[idx[i][j]] + (i == j ? p[i] * gl[i] : 0)) / c->wsum;
                if (!isfinite(hess[i * 4 + j])) return 1;
            }
    }
    return isfinite(*f) && isfinite(grad[0]) && isfinite(grad[1]) && isfinite(grad[2]) && isfinite(grad[3]) ? 0 : 1;
}

/* -lnL / N and its gradient (BFGS). */
static int bg_objective(void *ud, const double *th, double *f, double *grad) {
    return bg_objective_h(ud, th, f, grad, NULL);
}

int ulm__bgnbd_objective(const ulm_clv_groups *g, const double th[4], double *f, double grad[4], double hess[16]) {
    bg_ctx c = {.g = g};
    for (size_t i = 0; i < g->n; i++) c.wsum += g->w[i];
    return bg_objective_h(&c, th, f, grad, hess);
}

/* Fills c's distinct-value cache when the t_x and T values repeat enough to pay (fewer distinct
 * values than a quarter of the groups): the values in order of first appearance, found through a
 * hash table; on any allocation failure leaves c without it. */
static void distinct_values(const ulm_clv_groups *g, double **val, uint32_t **idx, double **scratch, bg_ctx *c) {
    size_t n = g->n, cap = 16, k = 0;
    if (n < 64) return;
    while (cap < n / 2 + 2) cap *= 2; /* room for n / 4 values at most half full */
    value_slot *tab = malloc(cap * sizeof *tab);
    double *v = malloc((n / 4 + 3) * sizeof *v), *sc = malloc(2 * (n / 4 + 3) * sizeof *sc); /* 2 past the limit */
    uint32_t *ix = malloc(2 * n * sizeof *ix);
    bool ok = tab && v && sc && ix;
    for (size_t i = 0; ok && i < cap; i++) tab[i].i = UINT32_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        ix[i] = value_index(tab, cap, v, &k, g->t_x[i]);
        ix[n + i] = value_index(tab, cap, v, &k, g->T[i]);
        ok = ix[i] != UINT32_MAX && ix[n + i] != UINT32_MAX && k * 4 <= n;
    }
    free(tab);
    if (!ok) {
        free(v), free(ix), free(sc);
        return;
    }
    *val = v, *idx = ix, *scratch = sc;
    c->nv = k, c->val = v, c->itx = ix, c->iT = ix + n, c->lv = sc, c->iv = sc + k;
}

/* Sums of weights, w x, w T over the groups; fails when there is nothing to fit. */
static ulm_status group_stats(const ulm_clv_groups *g, double *W, double *X, double *TT, ulm_diag *diag) {
    *W = *X = *TT = 0;
    if (!g || g->n == 0) return ulm__fail(diag, ULM_ERR_RANGE, "", 0, "no customers to fit");
    for (size_t i = 0; i < g->n; i++) {
        *W += g->w[i];
        *X += g->w[i] * g->x[i];
        *TT += g->w[i] * g->T[i];
    }
    if (!(*TT > 0)) return ulm__fail(diag, ULM_ERR_RANGE, "", 0, "every customer has T = 0 (time unit too coarse?)");
    if (!(*X > 0)) return ulm__fail(diag, ULM_ERR_RANGE, "", 0, "no customer has a repeat purchase: the model is not identified");
    return ULM_OK;
}

/* The start shared by the BG/NBD and Pareto/NBD fits: defaults for fp and rep, the output checked,
 * the report cleared and the group sums (weights W, purchases X, time TT). */
static ulm_status fit_begin(const ulm_clv_groups *g, const ulm_fit_params **fp, ulm_fit_params *def,
                            ulm_fit_report **rep, ulm_fit_report *dummy, const void *out, double *W, double *X,
                            double *TT, ulm_diag *diag) {
    *def = ulm_fit_params_init();
    if (!*fp) *fp = def;
    if (!*rep) *rep = dummy;
    *W = *X = *TT = 0;
    if (!out) return ulm__fail(diag, ULM_ERR_MISUSE, "", 0, "NULL output");
    **rep = (ulm_fit_report){0};
    return group_stats(g, W, X, TT, diag);
}

ulm_status ulm_bgnbd_fit(const ulm_clv_groups *g, const ulm_fit_params *fp, ulm_bgnbd *out, ulm_fit_report *rep,
                         ulm_diag *diag) {
    ulm_fit_params def;
    ulm_fit_report dummy;
    double W, X, TT;
    ulm_status s = fit_begin(g, &fp, &def, &rep, &dummy, out, &W, &X, &TT, diag);
    if (s != ULM_OK) return s;
    bg_ctx c = {.g = g, .wsum = W};
    if (fp->struct_size >= offsetof(ulm_fit_params, parallel_ctx) + sizeof(void *))
        c.parallel = fp->parallel, c.parallel_ctx = fp->parallel_ctx;
    double *val = NULL, *scratch = NULL;
    uint32_t *idx = NULL;
    distinct_values(g, &val, &idx, &scratch, &c);
    /* alpha is a time scale: the mean purchase rate r/alpha starts at sum x / sum T. */
    double la = log(TT / X);
    const double starts[3][4] = {{0, la, 0, 0}, {log(0.3), la + log(0.3), log(0.8), log(2.5)},
                                 {log(3.0), la + log(3.0), log(2.0), log(8.0)}};
    double th[4];
    s = fit_multi(4, bg_objective, bg_objective_h, &c, starts, fit_starts(fp), fp, th, rep, diag, "BG/NBD");
    double f = NAN, gr[4];
    if (s == ULM_OK) bg_objective(&c, th, &f, gr);
    free(val), free(idx), free(scratch);
    if (s != ULM_OK) return s;
    *out = (ulm_bgnbd){exp(th[0]), exp(th[1]), exp(th[2]), exp(th[3])};
    rep->loglik = -f * W;
    rep->n_used = g->n_customers;
    return ULM_OK;
}

/* ---- Pareto/NBD ------------------------------------------------------------------------------ */

static int pn_objective(void *ud, const double *th, double *f, double *grad) {
    const bg_ctx *c = ud;
    const ulm_clv_groups *g = c->g;
    ulm_pnbd m = {exp(th[0]), exp(th[1]), exp(th[2]), exp(th[3])};
    double ll = 0, gs[4] = {0};
    for (size_t i = 0; i < g->n; i++) {
        double l, gi[4];
        if (ulm_pnbd_loglik(&m, g->x[i], g->t_x[i], g->T[i], &l, gi) != ULM_OK) return 1;
        ll += g->w[i] * l;
        for (int k = 0; k < 4; k++) gs[k] += g->w[i] * gi[k];
    }
    *f = -ll / c->wsum;
    for (int k = 0; k < 4; k++) grad[k] = -gs[k] / c->wsum;
    return isfinite(*f) ? 0 : 1;
}

ulm_status ulm_pnbd_fit(const ulm_clv_groups *g, const ulm_fit_params *fp, ulm_pnbd *out, ulm_fit_report *rep,
                        ulm_diag *diag) {
    ulm_fit_params def;
    ulm_fit_report dummy;
    double W, X, TT;
    ulm_status s = fit_begin(g, &fp, &def, &rep, &dummy, out, &W, &X, &TT, diag);
    if (s != ULM_OK) return s;
    bg_ctx c = {.g = g, .wsum = W};
    double la = log(TT / X), lb = log(TT / W);
    const double starts[3][4] = {{0, la, 0, lb}, {log(0.5), la + log(0.5), log(0.5), lb},
                                 {log(2.0), la + log(2.0), log(2.0), lb + log(2.0)}};
    double th[4];
    s = fit_multi(4, pn_objective, NULL, &c, starts, fit_starts(fp), fp, th, rep, diag, "Pareto/NBD");
    if (s != ULM_OK) return s;
    *out = (ulm_pnbd){exp(th[0]), exp(th[1]), exp(th[2]), exp(th[3])};
    double f, gr[4];
    pn_objective(&c, th, &f, gr);
    rep->loglik = -f * W;
    rep->n_used = g->n_customers;
    return ULM_OK;
}

/* ---- Gamma-Gamma ----------------------------------------------------------------------------- */

typedef struct gg_ctx {
    const double *x, *z;
    size_t n;
    double wsum;
} gg_ctx;

static int gg_objective(void *ud, const double *th, double *f, double *grad) {
    const gg_ctx *c = ud;
    ulm_gg m = {exp(th[0]), exp(th[1]), exp(th[2])};
    double ll = 0, gs[3] = {0};
    for (size_t i = 0; i < c->n; i++) {
        if (!(c->x[i] >= 1 && c->z[i] > 0 && isfinite(c->z[i]))) continue;
        double l, gi[3];
        if (ulm_gg_loglik(&m, c->x[i], c->z[i], &l, gi) != ULM_OK) return 1;
        ll += l;
        for (int k = 0; k < 3; k++) gs[k] += gi[k];
    }
    *f = -ll / c->wsum;
    for (int k = 0; k < 3; k++) grad[k] = -gs[k] / c->wsum;
    return isfinite(*f) ? 0 : 1;
}

ulm_status ulm_gg_fit(const double *x, const double *zbar, size_t n, const ulm_fit_params *fp, ulm_gg *out,
                      ulm_fit_report *rep, ulm_diag *diag) {
    ulm_fit_params def = ulm_fit_params_init();
    ulm_fit_report dummy;
    if (!fp) fp = &def;
    if (!rep) rep = &dummy;
    if (!out || (n && (!x || !zbar))) return ulm__fail(diag, ULM_ERR_MISUSE, "", 0, "NULL argument");
    *rep = (ulm_fit_report){0};
    size_t used = 0;
    double zs = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] >= 1 && zbar[i] > 0 && isfinite(zbar[i]) && isfinite(x[i])) {
            used++;
            zs += zbar[i];
        }
    }
    rep->n_used = used;
    rep->n_excluded = n - used;
    if (used < 2)
        return ulm__fail(diag, ULM_ERR_RANGE, "", 0, "Gamma-Gamma needs at least 2 repeat buyers with positive spend (%zu)",
                         used);
    gg_ctx c = {x, zbar, n, (double)used};
    double lz = log(zs / (double)used);
    /* E[M] = p gamma / (q - 1): every start matches the mean spend. */
    const double starts[3][4] = {{log(2.0), log(3.0), lz}, {log(6.0), log(4.0), lz + log(0.5)},
                                 {log(1.0), log(2.0), lz - log(1.0)}};
    double th[4];
    ulm_status s = fit_multi(3, gg_objective, NULL, &c, starts, fit_starts(fp), fp, th, rep, diag, "Gamma-Gamma");
    if (s != ULM_OK) return s;
    *out = (ulm_gg){exp(th[0]), exp(th[1]), exp(th[2])};
    double f, gr[3];
    gg_objective(&c, th, &f, gr);
    rep->loglik = -f * (double)used;
    return ULM_OK;
}
