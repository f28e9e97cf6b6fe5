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
    /* Distinct triples through an open-addressing hash table (linear probing, kept at most half
     * full), counted as they come; then only the distinct ones are sorted. Same groups, same order
     * and same weights as sorting all n, in O(n + k log k). */
    size_t cap = 4096, k = 0, kcap = 1024;
    uint32_t *slot = malloc(cap * sizeof *slot);
    triple *tr = malloc(kcap * sizeof *tr);
    double *cnt = malloc(kcap * sizeof *cnt);
    if (!slot || !tr || !cnt) goto nomem;
    for (size_t h = 0; h < cap; h++) slot[h] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        triple t = {x[i] + 0.0, t_x[i] + 0.0, T[i] + 0.0}; /* + 0.0: -0 and 0 are one value, as in cmp_triple */
        size_t h = triple_hash(&t) & (cap - 1);
        while (slot[h] != UINT32_MAX && cmp_triple(&tr[slot[h]], &t) != 0) h = (h + 1) & (cap - 1);
        if (slot[h] != UINT32_MAX) {
            cnt[slot[h]] += 1;
            continue;
        }
        if (k == kcap) {
            kcap *= 2;
            triple *nt = realloc(tr, kcap * sizeof *tr);
            if (nt) tr = nt;
            double *nc = realloc(cnt, kcap * sizeof *cnt);
            if (nc) cnt = nc;
            if (!nt || !nc) goto nomem;
        }
        tr[k] = t, cnt[k] = 1, slot[h] = (uint32_t)k++;
        if (2 * k > cap) { /* grow and rehash */
            free(slot);
            cap *= 2;
            slot = malloc(cap * sizeof *slot);
            if (!slot) goto nomem;
            for (size_t j = 0; j < cap; j++) slot[j] = UINT32_MAX;
            for (size_t j = 0; j < k; j++) {
                size_t g = triple_hash(&tr[j]) & (cap - 1);
                while (slot[g] != UINT32_MAX) g = (g + 1) & (cap - 1);
                slot[g] = (uint32_t)j;
            }
        }
    }
    free(slot);
    slot = NULL;
    /* Sort the distinct triples, carrying their counts: sort indices by triple. */
    size_t kk = k ? k : 1;
    out->x = malloc(kk * sizeof(double));
    out->t_x = malloc(kk * sizeof(double));
    out->T = malloc(kk * sizeof(double));
    out->w = malloc(kk * sizeof(double));
    triple_w *tw = malloc(kk * sizeof *tw);
    if (!out->x || !out->t_x || !out->T || !out->w || !tw) {
        free(tw);
        goto nomem;
    }
    for (size_t j = 0; j < k; j++) tw[j] = (triple_w){tr[j], cnt[j]};
    qsort(tw, k, sizeof *tw, cmp_triple);
    for (size_t j = 0; j < k; j++) {
        out->x[j] = tw[j].t.x;
        out->t_x[j] = tw[j].t.t_x;
        out->T[j] = tw[j].t.T;
        out->w[j] = tw[j].w;
    }
    out->n = k;
    out->n_customers = n;
    free(tw), free(tr), free(cnt);
    return ULM_OK;
nomem:
    free(slot), free(tr), free(cnt);
    ulm_clv_groups_free(out);
    return ulm__fail(diag, ULM_ERR_NOMEM, "", 0, "out of memory grouping %zu customers", n);
}

ulm_fit_params ulm_fit_params_init(void) {
    ulm_fit_params p = {sizeof(ulm_fit_params), 400, 1e-9, 3, NULL, NULL};
    return p;
}

/* Runs BFGS from each start (log-parameters) and keeps the best end point. */
static ulm_status fit_multi(int dim, ulm__objective fn, void *ud, const double starts[][4], int n_starts,
                            const ulm_fit_params *fp, double *best, ulm_fit_report *rep, ulm_diag *diag,
                            const char *what) {
    double best_f = INFINITY;
    int any = 0;
    ulm__bfgs_result br, bestr = {0};
    for (int k = 0; k < n_starts; k++) {
        double th[4];
        for (int i = 0; i < dim; i++) th[i] = starts[k][i];
        if (ulm__bfgs(dim, th, fn, ud, fp->max_iter, fp->grad_tol, 3.0, &br) != 0) continue;
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
    bg_part part[BG_CHUNKS];
} bg_ctx;

/* Chunk t of the groups: its partial sums of lnL and of the gradient on (r, alpha, a, b). The x-only
 * terms (ln Gamma, digamma) are taken once per run of equal x within the chunk. */
static void bg_chunk(void *ud, uint32_t t) {
    bg_ctx *c = ud;
    const ulm_clv_groups *g = c->g;
    double r = c->r, al = c->al, a = c->a, b = c->b, lal = c->lal, la = c->la;
    double ll = 0, dr = 0, dal = 0, da = 0, db = 0;
    size_t i = g->n * t / BG_CHUNKS, end = g->n * (t + 1) / BG_CHUNKS;
    while (i < end) {
        double x = g->x[i];
        double c0 = ulm_lgamma(r + x) - c->lgr + r * lal + c->lgab + ulm_lgamma(b + x) - c->lgb - ulm_lgamma(a + b + x);
        double pr = ulm_digamma(r + x) - c->psr + lal, pab = c->psab - ulm_digamma(a + b + x);
        double pb = pab + ulm_digamma(b + x) - c->psb, lbx = x > 0 ? log(b + x - 1) : 0;
        /* Sums over the run of this x: weights, and the log-sum-exp parts. */
        double W = 0, L = 0, Sr = 0, Sal = 0, S4 = 0;
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
            } else {
                L += w * u;
                Sr += w * lT;
                Sal += w * iT;
            }
        }
        ll += W * c0 + L;
        dr += W * pr - Sr;
        dal += W * r / al - (r + x) * Sal;
        da += W * pab + (x > 0 ? S4 / a : 0);
        db += W * pb - (x > 0 ? S4 / (b + x - 1) : 0);
    }
    c->part[t] = (bg_part){ll, dr, dal, da, db};
}

/* -lnL / N and its gradient on (ln r, ln alpha, ln a, ln b). */
static int bg_objective(void *ud, const double *th, double *f, double *grad) {
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
    if (c->parallel && c->g->n >= 4096) {
        c->parallel(c->parallel_ctx, BG_CHUNKS, bg_chunk, c);
    } else {
        for (uint32_t t = 0; t < BG_CHUNKS; t++) bg_chunk(c, t);
    }
    double ll = 0, dr = 0, dal = 0, da = 0, db = 0;
    for (int t = 0; t < BG_CHUNKS; t++) {
        ll += c->part[t].ll, dr += c->part[t].dr, dal += c->part[t].dal;
        da += c->part[t].da, db += c->part[t].db;
    }
    *f = -ll / c->wsum;
    grad[0] = -dr * r / c->wsum;
    grad[1] = -dal * al / c->wsum;
    grad[2] = -da * a / c->wsum;
    grad[3] = -db * b / c->wsum;
    return isfinite(*f) && isfinite(grad[0]) && isfinite(grad[1]) && isfinite(grad[2]) && isfinite(grad[3]) ? 0 : 1;
}

/* Orders doubles ascending. */
static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* Binary search for v in the sorted distinct values. */
static uint32_t find_value(const double *val, size_t n, double v) {
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (val[mid] <= v) lo = mid;
        else hi = mid;
    }
    return (uint32_t)lo;
}

/* Fills c's distinct-value cache when the t_x and T values repeat enough to pay (fewer distinct
 * values than a quarter of the groups); on any allocation failure leaves c without it. */
static void distinct_values(const ulm_clv_groups *g, double **val, uint32_t **idx, double **scratch, bg_ctx *c) {
    size_t n = g->n;
    if (n < 64) return;
    double *v = malloc(2 * n * sizeof *v);
    if (!v) return;
    for (size_t i = 0; i < n; i++) v[i] = g->t_x[i], v[n + i] = g->T[i];
    qsort(v, 2 * n, sizeof *v, cmp_double);
    size_t k = 0;
    for (size_t i = 0; i < 2 * n; i++)
        if (k == 0 || v[i] != v[k - 1]) v[k++] = v[i];
    uint32_t *ix = malloc(2 * n * sizeof *ix);
    double *sc = malloc(2 * k * sizeof *sc);
    if (k * 4 > n || !ix || !sc) {
        free(v), free(ix), free(sc);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ix[i] = find_value(v, k, g->t_x[i]);
        ix[n + i] = find_value(v, k, g->T[i]);
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

ulm_status ulm_bgnbd_fit(const ulm_clv_groups *g, const ulm_fit_params *fp, ulm_bgnbd *out, ulm_fit_report *rep,
                         ulm_diag *diag) {
    ulm_fit_params def = ulm_fit_params_init();
    ulm_fit_report dummy;
    if (!fp) fp = &def;
    if (!rep) rep = &dummy;
    if (!out) return ulm__fail(diag, ULM_ERR_MISUSE, "", 0, "NULL output");
    *rep = (ulm_fit_report){0};
    double W, X, TT;
    ulm_status s = group_stats(g, &W, &X, &TT, diag);
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
    s = fit_multi(4, bg_objective, &c, starts, fit_starts(fp), fp, th, rep, diag, "BG/NBD");
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
    ulm_fit_params def = ulm_fit_params_init();
    ulm_fit_report dummy;
    if (!fp) fp = &def;
    if (!rep) rep = &dummy;
    if (!out) return ulm__fail(diag, ULM_ERR_MISUSE, "", 0, "NULL output");
    *rep = (ulm_fit_report){0};
    double W, X, TT;
    ulm_status s = group_stats(g, &W, &X, &TT, diag);
    if (s != ULM_OK) return s;
    bg_ctx c = {.g = g, .wsum = W};
    double la = log(TT / X), lb = log(TT / W);
    const double starts[3][4] = {{0, la, 0, lb}, {log(0.5), la + log(0.5), log(0.5), lb},
                                 {log(2.0), la + log(2.0), log(2.0), lb + log(2.0)}};
    double th[4];
    s = fit_multi(4, pn_objective, &c, starts, fit_starts(fp), fp, th, rep, diag, "Pareto/NBD");
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
    ulm_status s = fit_multi(3, gg_objective, &c, starts, fit_starts(fp), fp, th, rep, diag, "Gamma-Gamma");
    if (s != ULM_OK) return s;
    *out = (ulm_gg){exp(th[0]), exp(th[1]), exp(th[2])};
    double f, gr[3];
    gg_objective(&c, th, &f, gr);
    rep->loglik = -f * (double)used;
    return ULM_OK;
}
