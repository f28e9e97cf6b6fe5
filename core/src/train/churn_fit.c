/* churn_fit.c: L2 logistic regression (Newton), calibration (Platt, isotonic), metrics, the stratified
 * split and the train-choose-calibrate pipeline behind `--algo auto`. */
#include <math.h>
#include <stdlib.h>

#include "churn_impl.h"
#include "ulm/ulm_churn_train.h"

ulm_logreg_params ulm_logreg_params_init(void) {
    ulm_logreg_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.l2 = 1.0;
    p.max_iter = 100;
    p.tol = 1e-10;
    return p;
}

ulm_churn_params ulm_churn_params_init(void) {
    ulm_churn_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.family = 0;
    p.calib = ULM_CALIB_PLATT;
    p.valid_fraction = 0.2f;
    p.refit = 1;
    p.seed = 42;
    p.gbdt = ulm_gbdt_params_init();
    p.logreg = ulm_logreg_params_init();
    return p;
}

/* log(1 + e^a), stable for large |a|. */
static double softplus(double a) { return a > 0 ? a + log1p(exp(-a)) : log1p(exp(a)); }

/* Expanded design row of the linear model: 1, standardised numerics, one-hot categories. */
static void design_row(const ulm_churn *m, const float *x, const uint32_t *col, double *z, uint32_t dim) {
    memset(z, 0, dim * sizeof *z);
    z[0] = 1.0;
    for (uint32_t f = 0; f < m->n_features; f++) {
        float v = x[f];
        if (m->kind[f] == ULM_FEAT_CAT) {
            if (v >= 0.0f && v < (float)m->n_cats[f]) z[col[f] + (uint32_t)v] = 1.0;
        } else if (v == v) {
            z[col[f]] = ((double)v - m->mean[f]) * m->scale[f];
        }
    }
}

/* Solves A x = b in place (A symmetric positive definite, dim x dim) by Cholesky; false if not SPD. */
static bool cholesky_solve(double *A, double *b, uint32_t n) {
    for (uint32_t j = 0; j < n; j++) {
        double s = A[(size_t)j * n + j];
        for (uint32_t k = 0; k < j; k++) s -= A[(size_t)j * n + k] * A[(size_t)j * n + k];
        if (!(s > 0)) return false;
        double l = sqrt(s);
        A[(size_t)j * n + j] = l;
        for (uint32_t i = j + 1; i < n; i++) {
            double t = A[(size_t)i * n + j];
            for (uint32_t k = 0; k < j; k++) t -= A[(size_t)i * n + k] * A[(size_t)j * n + k];
            A[(size_t)i * n + j] = t / l;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        double t = b[i];
        for (uint32_t k = 0; k < i; k++) t -= A[(size_t)i * n + k] * b[k];
        b[i] = t / A[(size_t)i * n + i];
    }
    for (uint32_t i = n; i-- > 0;) {
        double t = b[i];
        for (uint32_t k = i + 1; k < n; k++) t -= A[(size_t)k * n + i] * b[k];
        b[i] = t / A[(size_t)i * n + i];
    }
    return true;
}

/* Penalised loss of weights w over the data. */
static double lr_loss(const ulm_churn *m, const ulm_churn_data *d, const uint32_t *col, const double *w, double *z,
                      uint32_t dim, double l2) {
    double s = 0;
    for (uint32_t r = 0; r < d->n_rows; r++) {
        design_row(m, d->x + (size_t)r * d->n_features, col, z, dim);
        double t = 0;
        for (uint32_t j = 0; j < dim; j++) t += z[j] * w[j];
        s += softplus(d->y[r] > 0.5f ? -t : t);
    }
    for (uint32_t j = 1; j < dim; j++) s += 0.5 * l2 * w[j] * w[j];
    return s;
}

ulm_status ulm_logreg_fit(const ulm_churn_data *d, const ulm_logreg_params *pp, ulm_churn **out, ulm_diag *diag) {
    if (diag) memset(diag, 0, sizeof *diag);
    if (!d || !out || !d->x || !d->y || !d->kind) return ULM_ERR_MISUSE;
    *out = NULL;
    ulm_logreg_params p = ulm_logreg_params_init();
    if (pp) {
        if (pp->struct_size < 8 || pp->struct_size > sizeof p)
            return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "ulm_logreg_params.struct_size is %u", pp->struct_size);
        memcpy(&p, pp, pp->struct_size);
    }
    if (!(p.l2 > 0)) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "logreg l2 must be > 0");
    uint32_t n = d->n_rows, nf = d->n_features;
    double pos = 0;
    for (uint32_t r = 0; r < n; r++) pos += d->y[r] > 0.5f;
    if (pos == 0 || pos == n) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "labels have one class only");
    ulm_churn *m = ulm__churn_new(NULL, ULM_CHURN_LOGREG, nf);
    if (!m) return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    for (uint32_t f = 0; f < nf; f++) {
        m->kind[f] = d->kind[f];
        m->n_cats[f] = d->kind[f] == ULM_FEAT_CAT ? d->n_cats[f] : 0;
    }
    ulm_status st = ulm__churn_alloc_linear(m);
    uint32_t *col = malloc(((size_t)nf + 1) * sizeof *col);
    if (st != ULM_OK || !col) {
        free(col);
        ulm_churn_free(m);
        return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    }
    /* standardisation (population standard deviation, as scikit-learn's StandardScaler) and columns */
    uint32_t dim = 1;
    for (uint32_t f = 0; f < nf; f++) {
        col[f] = dim;
        if (m->kind[f] == ULM_FEAT_CAT) {
            dim += m->n_cats[f];
            continue;
        }
        double s = 0, s2 = 0, cnt = 0;
        for (uint32_t r = 0; r < n; r++) {
            float v = d->x[(size_t)r * nf + f];
            if (v == v) s += v, cnt++;
        }
        double mean = cnt ? s / cnt : 0;
        for (uint32_t r = 0; r < n; r++) {
            float v = d->x[(size_t)r * nf + f];
            if (v == v) s2 += (v - mean) * (v - mean);
        }
        double sd = cnt ? sqrt(s2 / cnt) : 0;
        m->mean[f] = (float)mean;
        m->scale[f] = sd > 0 ? (float)(1.0 / sd) : 0.0f;
        dim++;
    }
    double *w = calloc(dim, sizeof *w), *wn = calloc(dim, sizeof *wn), *gr = calloc(dim, sizeof *gr);
    double *H = calloc((size_t)dim * dim, sizeof *H), *z = calloc(dim, sizeof *z);
    if (!w || !wn || !gr || !H || !z) {
        st = ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        goto done;
    }
    w[0] = log(pos / (n - pos));
    double loss = lr_loss(m, d, col, w, z, dim, p.l2);
    for (uint32_t it = 0; it < p.max_iter; it++) {
        memset(gr, 0, dim * sizeof *gr);
        memset(H, 0, (size_t)dim * dim * sizeof *H);
        for (uint32_t r = 0; r < n; r++) {
            design_row(m, d->x + (size_t)r * nf, col, z, dim);
            double t = 0;
            for (uint32_t j = 0; j < dim; j++) t += z[j] * w[j];
            double pr = 1.0 / (1.0 + exp(-t)), e = pr - (d->y[r] > 0.5f), h = pr * (1 - pr);
            for (uint32_t j = 0; j < dim; j++) {
                if (z[j] == 0) continue;
                gr[j] += e * z[j];
                double hz = h * z[j];
                double *Hj = H + (size_t)j * dim;
                for (uint32_t k = 0; k <= j; k++) Hj[k] += hz * z[k];
            }
        }
        for (uint32_t j = 1; j < dim; j++) {
            gr[j] += p.l2 * w[j];
            H[(size_t)j * dim + j] += p.l2;
        }
        H[0] += 1e-12;
        for (uint32_t j = 0; j < dim; j++)
            for (uint32_t k = j + 1; k < dim; k++) H[(size_t)j * dim + k] = H[(size_t)k * dim + j];
        if (!cholesky_solve(H, gr, dim)) {
            st = ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "logistic regression Hessian is singular");
            goto done;
        }
        /* damped Newton step: halve until the penalised loss does not increase */
        double step = 1.0, nl = loss, maxstep = 0;
        for (int k = 0; k < 30; k++, step *= 0.5) {
            for (uint32_t j = 0; j < dim; j++) wn[j] = w[j] - step * gr[j];
            nl = lr_loss(m, d, col, wn, z, dim, p.l2);
            if (nl <= loss + 1e-12 * fabs(loss)) break;
        }
        for (uint32_t j = 0; j < dim; j++) {
            double dj = fabs(wn[j] - w[j]);
            if (dj > maxstep) maxstep = dj;
            w[j] = wn[j];
        }
        loss = nl;
        if (maxstep < p.tol) break;
    }
    m->bias = (float)w[0];
    for (uint32_t f = 0; f < nf; f++) {
        if (m->kind[f] == ULM_FEAT_CAT)
            for (uint32_t c = 0; c < m->n_cats[f]; c++) m->cat_coef[m->cat_off[f] + c] = (float)w[col[f] + c];
        else
            m->coef[f] = (float)w[col[f]];
    }
    *out = m;
    m = NULL;
    st = ULM_OK;
done:
    ulm_churn_free(m);
    free(col), free(w), free(wn), free(gr), free(H), free(z);
    return st;
}

/* ---- calibration ---- */

/* Platt (1999) scaling: a, b minimising the logloss of sigmoid(a * margin + b) against the smoothed
 * targets (N+ + 1) / (N+ + 2) and 1 / (N- + 2); Newton's method with step halving. */
static void platt_fit(const float *mg, const float *y, size_t n, float *a_out, float *b_out) {
    double np = 0;
    for (size_t i = 0; i < n; i++) np += y[i] > 0.5f;
    double nn = (double)n - np, tp = (np + 1) / (np + 2), tn = 1 / (nn + 2);
    double a = 1, b = 0;
    for (int it = 0; it < 100; it++) {
        double ga = 0, gb = 0, haa = 1e-12, hab = 0, hbb = 1e-12, loss = 0;
        for (size_t i = 0; i < n; i++) {
            double t = y[i] > 0.5f ? tp : tn, z = a * mg[i] + b, p = 1 / (1 + exp(-z)), h = p * (1 - p);
            ga += (p - t) * mg[i];
            gb += p - t;
            haa += h * mg[i] * mg[i];
            hab += h * mg[i];
            hbb += h;
            loss += t * softplus(-z) + (1 - t) * softplus(z);
        }
        double det = haa * hbb - hab * hab;
        if (!(det > 0)) break;
        double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
        double step = 1;
        for (int k = 0; k < 30; k++, step *= 0.5) {
            double na = a - step * da, nb = b - step * db, nl = 0;
            for (size_t i = 0; i < n; i++) {
                double t = y[i] > 0.5f ? tp : tn, z = na * mg[i] + nb;
                nl += t * softplus(-z) + (1 - t) * softplus(z);
            }
            if (nl <= loss + 1e-12) break;
        }
        a -= step * da;
        b -= step * db;
        if (fabs(step * da) < 1e-10 && fabs(step * db) < 1e-10) break;
    }
    *a_out = (float)a;
    *b_out = (float)b;
}

typedef struct mg_pair {
    float m, y;
} mg_pair;
static int cmp_pair(const void *a, const void *b) {
    const mg_pair *x = a, *y = b;
    return (x->m > y->m) - (x->m < y->m);
}

ulm_status ulm_churn_calibrate_fit(ulm_churn *m, uint32_t kind, const float *margin, const float *y, size_t n) {
    if (!m || (n && (!margin || !y)) || kind > ULM_CALIB_ISOTONIC) return ULM_ERR_MISUSE;
    free(m->iso_x), free(m->iso_y);
    m->iso_x = m->iso_y = NULL;
    m->n_iso = 0;
    m->calib = ULM_CALIB_NONE;
    if (kind == ULM_CALIB_NONE || n < 2) return ULM_OK;
    if (kind == ULM_CALIB_PLATT) {
        platt_fit(margin, y, n, &m->platt_a, &m->platt_b);
        m->calib = ULM_CALIB_PLATT;
        return ULM_OK;
    }
    /* isotonic: pool-adjacent-violators over margins sorted ascending, equal margins pooled first;
     * each block contributes its lowest and highest margin at the block's mean */
    mg_pair *v = malloc(n * sizeof *v);
    double *bs = malloc(n * sizeof *bs), *bw = malloc(n * sizeof *bw);
    float *blo = malloc(n * sizeof *blo), *bhi = malloc(n * sizeof *bhi);
    float *xs = malloc(2 * n * sizeof *xs), *ys = malloc(2 * n * sizeof *ys);
    if (!v || !bs || !bw || !blo || !bhi || !xs || !ys) {
        free(v), free(bs), free(bw), free(blo), free(bhi), free(xs), free(ys);
        return ULM_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) v[i] = (mg_pair){margin[i], y[i] > 0.5f ? 1.0f : 0.0f};
    qsort(v, n, sizeof *v, cmp_pair);
    size_t nb = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double s = 0;
        while (j < n && v[j].m == v[i].m) s += v[j++].y;
        bs[nb] = s;
        bw[nb] = (double)(j - i);
        blo[nb] = bhi[nb] = v[i].m;
        nb++;
        while (nb > 1 && bs[nb - 2] / bw[nb - 2] >= bs[nb - 1] / bw[nb - 1]) {
            bs[nb - 2] += bs[nb - 1];
            bw[nb - 2] += bw[nb - 1];
            bhi[nb - 2] = bhi[nb - 1];
            nb--;
        }
        i = j;
    }
    uint32_t k = 0;
    for (size_t b = 0; b < nb; b++) {
        float val = (float)(bs[b] / bw[b]);
        xs[k] = blo[b], ys[k++] = val;
        if (bhi[b] > blo[b]) xs[k] = bhi[b], ys[k++] = val;
    }
    free(v), free(bs), free(bw), free(blo), free(bhi);
    m->iso_x = xs;
    m->iso_y = ys;
    m->n_iso = k;
    m->calib = ULM_CALIB_ISOTONIC;
    return ULM_OK;
}

/* ---- metrics ---- */

typedef struct score_lab {
    float p, y;
} score_lab;
static int cmp_desc(const void *a, const void *b) {
    const score_lab *x = a, *y = b;
    return (x->p < y->p) - (x->p > y->p);
}

ulm_status ulm_binary_metrics_compute(const float *p, const float *y, size_t n, ulm_binary_metrics *out) {
    if (!out || (n && (!p || !y))) return ULM_ERR_MISUSE;
    memset(out, 0, sizeof *out);
    if (!n) return ULM_ERR_RANGE;
    score_lab *v = malloc(n * sizeof *v);
    if (!v) return ULM_ERR_NOMEM;
    double P = 0, ll = 0, acc = 0;
    for (size_t i = 0; i < n; i++) {
        double yi = y[i] > 0.5f, pi = p[i];
        v[i] = (score_lab){p[i], (float)yi};
        P += yi;
        double pc = pi < 1e-15 ? 1e-15 : pi > 1 - 1e-15 ? 1 - 1e-15 : pi;
        ll -= yi ? log(pc) : log(1 - pc);
        acc += (pi >= 0.5) == (yi > 0);
    }
    double N = (double)n - P;
    out->logloss = ll / n;
    out->accuracy = acc / n;
    if (P == 0 || N == 0) {
        out->auc = out->pr_auc = NAN;
        free(v);
        return ULM_OK;
    }
    qsort(v, n, sizeof *v, cmp_desc);
    /* walk tie groups from the highest score down */
    double tp = 0, fp = 0, auc = 0, ap = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0, gn = 0;
        while (j < n && v[j].p == v[i].p) {
            if (v[j].y > 0.5f) gp++;
            else gn++;
            j++;
        }
        auc += gn * (tp + 0.5 * gp); /* negatives in the group rank below tp positives, tie with gp */
        tp += gp;
        fp += gn;
        if (gp > 0) ap += (gp / P) * (tp / (tp + fp));
        i = j;
    }
    out->auc = auc / (P * N);
    out->pr_auc = ap;
    free(v);
    return ULM_OK;
}

ulm_status ulm_stratified_split(const float *y, size_t n, double fraction, uint64_t seed, uint8_t *valid) {
    if (!y || !valid || !(fraction >= 0 && fraction < 1)) return ULM_ERR_MISUSE;
    uint32_t *idx = malloc((n + 1) * sizeof *idx);
    if (!idx) return ULM_ERR_NOMEM;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    memset(valid, 0, n);
    for (int cls = 0; cls < 2; cls++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if ((y[i] > 0.5f) == cls) idx[k++] = (uint32_t)i;
        /* Fisher-Yates with splitmix64 */
        for (size_t i = k; i > 1; i--) {
            uint64_t z = (s += 0x9E3779B97F4A7C15ull);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z ^= z >> 31;
            size_t j = (size_t)(z % i);
            uint32_t t = idx[i - 1];
            idx[i - 1] = idx[j];
            idx[j] = t;
        }
        size_t nv = (size_t)floor(fraction * (double)k + 0.5);
        for (size_t i = 0; i < nv; i++) valid[idx[i]] = 1;
    }
    free(idx);
    return ULM_OK;
}

/* ---- the pipeline ---- */

/* Copies the rows with sel[r] == want into a new table (x and y owned by the caller). */
static bool subset(const ulm_churn_data *d, const uint8_t *sel, uint8_t want, ulm_churn_data *o, float **xo,
                   float **yo) {
    uint32_t k = 0;
    for (uint32_t r = 0; r < d->n_rows; r++) k += sel[r] == want;
    *xo = malloc(((size_t)k * d->n_features + 1) * sizeof **xo);
    *yo = malloc(((size_t)k + 1) * sizeof **yo);
    if (!*xo || !*yo) return false;
    *o = *d;
    o->n_rows = k;
    k = 0;
    for (uint32_t r = 0; r < d->n_rows; r++) {
        if (sel[r] != want) continue;
        memcpy(*xo + (size_t)k * d->n_features, d->x + (size_t)r * d->n_features, d->n_features * sizeof **xo);
        (*yo)[k++] = d->y[r];
    }
    o->x = *xo;
    o->y = *yo;
    return true;
}

/* Validation AUC of model m, with its margins left in mg. */
static double valid_auc(const ulm_churn *m, const ulm_churn_data *v, float *mg) {
    ulm_churn_margin(m, v->x, v->n_rows, mg);
    ulm_binary_metrics bm;
    if (ulm_binary_metrics_compute(mg, v->y, v->n_rows, &bm) != ULM_OK) return NAN;
    return bm.auc;
}

ulm_status ulm_churn_fit(const ulm_churn_data *d, const ulm_churn_params *pp, ulm_churn **out, ulm_churn_report *rep,
                         ulm_diag *diag) {
    if (diag) memset(diag, 0, sizeof *diag);
    if (!d || !out || !d->x || !d->y) return ULM_ERR_MISUSE;
    *out = NULL;
    ulm_churn_params p = ulm_churn_params_init();
    if (pp) {
        if (pp->struct_size < 8 || pp->struct_size > sizeof p)
            return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "ulm_churn_params.struct_size is %u", pp->struct_size);
        memcpy(&p, pp, pp->struct_size);
    }
    if (p.family > ULM_CHURN_GBDT || p.calib > ULM_CALIB_ISOTONIC || !(p.valid_fraction >= 0 && p.valid_fraction < 0.9f))
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "churn parameter out of range");
    if (p.valid_fraction == 0) {
        /* no hold-out: one family on all rows, uncalibrated */
        if (!p.family) return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "automatic choice needs a validation fraction > 0");
        ulm_churn_report r0;
        memset(&r0, 0, sizeof r0);
        r0.family = p.family;
        r0.valid_auc_logreg = r0.valid_auc_gbdt = NAN;
        r0.n_train = d->n_rows;
        ulm_gbdt_params gp0 = p.gbdt;
        gp0.seed = p.seed;
        ulm_status s0 = p.family == ULM_CHURN_GBDT ? ulm_gbdt_fit(d, NULL, &gp0, out, &r0.gbdt_rounds, diag)
                                                   : ulm_logreg_fit(d, &p.logreg, out, diag);
        if (s0 == ULM_OK && rep) *rep = r0;
        return s0;
    }
    ulm_churn_report r;
    memset(&r, 0, sizeof r);
    r.valid_auc_logreg = r.valid_auc_gbdt = NAN;
    uint32_t np = 0;
    for (uint32_t i = 0; i < d->n_rows; i++) np += d->y[i] > 0.5f;
    if (np < 2 || d->n_rows - np < 2)
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "need at least 2 rows of each class (have %u positive, %u negative)",
                         np, d->n_rows - np);
    ulm_status st = ULM_ERR_NOMEM;
    uint8_t *sel = malloc((size_t)d->n_rows + 1);
    float *xt = NULL, *yt = NULL, *xv = NULL, *yv = NULL, *mg_lr = NULL, *mg_gb = NULL;
    ulm_churn *lr = NULL, *gb = NULL, *chosen = NULL;
    ulm_churn_data tr, va;
    if (!sel || ulm_stratified_split(d->y, d->n_rows, p.valid_fraction, p.seed, sel) != ULM_OK) goto nomem;
    if (!subset(d, sel, 0, &tr, &xt, &yt) || !subset(d, sel, 1, &va, &xv, &yv)) goto nomem;
    mg_lr = malloc(((size_t)va.n_rows + 1) * sizeof *mg_lr);
    mg_gb = malloc(((size_t)va.n_rows + 1) * sizeof *mg_gb);
    if (!mg_lr || !mg_gb) goto nomem;
    r.n_train = tr.n_rows;
    r.n_valid = va.n_rows;
    ulm_gbdt_params gp = p.gbdt;
    gp.seed = p.seed;
    if (p.family != ULM_CHURN_GBDT) {
        if ((st = ulm_logreg_fit(&tr, &p.logreg, &lr, diag)) != ULM_OK) goto done;
        r.valid_auc_logreg = valid_auc(lr, &va, mg_lr);
    }
    if (p.family != ULM_CHURN_LOGREG) {
        if ((st = ulm_gbdt_fit(&tr, &va, &gp, &gb, &r.gbdt_rounds, diag)) != ULM_OK) goto done;
        r.valid_auc_gbdt = valid_auc(gb, &va, mg_gb);
    }
    if (p.family) r.family = p.family;
    else r.family = r.valid_auc_gbdt > r.valid_auc_logreg ? ULM_CHURN_GBDT : ULM_CHURN_LOGREG;
    const float *mg = r.family == ULM_CHURN_GBDT ? mg_gb : mg_lr;
    if (p.refit) {
        if (r.family == ULM_CHURN_GBDT) {
            gp.n_rounds = r.gbdt_rounds;
            gp.early_stopping = 0;
            st = ulm_gbdt_fit(d, NULL, &gp, &chosen, &r.gbdt_rounds, diag);
        } else {
            st = ulm_logreg_fit(d, &p.logreg, &chosen, diag);
        }
        if (st != ULM_OK) goto done;
    } else if (r.family == ULM_CHURN_GBDT) {
        chosen = gb, gb = NULL;
    } else {
        chosen = lr, lr = NULL;
    }
    /* calibration from the held-out margins of the model trained without them */
    if ((st = ulm_churn_calibrate_fit(chosen, p.calib, mg, va.y, va.n_rows)) != ULM_OK) goto done;
    *out = chosen;
    chosen = NULL;
    if (rep) *rep = r;
    st = ULM_OK;
    goto done;
nomem:
    st = ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
done:
    ulm_churn_free(lr), ulm_churn_free(gb), ulm_churn_free(chosen);
    free(sel), free(xt), free(yt), free(xv), free(yv), free(mg_lr), free(mg_gb);
    return st;
}
