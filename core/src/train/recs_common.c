/* recs_common.c: the reference linalg table, shared helpers, parameters, training dispatch and scoring. */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm_rectrain.h"
#include "../ulm_impl.h"
#include "recs_impl.h"

/* ---- reference linalg ------------------------------------------------------------------- */

static void ref_sgemm(void *ud, bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float *a,
                      size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc) {
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t l = 0; l < k; l++)
                s += (double)(ta ? a[l * lda + i] : a[i * lda + l]) * (tb ? b[j * ldb + l] : b[l * ldb + j]);
            c[i * ldc + j] = (float)(alpha * s + (beta != 0 ? beta * c[i * ldc + j] : 0));
        }
}

/* Cholesky factor (lower, in place), then the inverse from L^-1: A^-1 = L^-T L^-1. */
static int ref_spd_inverse(void *ud, float *a, size_t n) {
    for (size_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (size_t l = 0; l < j; l++) d -= (double)a[j * n + l] * a[j * n + l];
        if (!(d > 0)) return 1;
        d = sqrt(d);
        a[j * n + j] = (float)d;
        for (size_t i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (size_t l = 0; l < j; l++) s -= (double)a[i * n + l] * a[j * n + l];
            a[i * n + j] = (float)(s / d);
        }
    }
    /* Invert L in place (lower triangle). */
    for (size_t j = 0; j < n; j++) {
        a[j * n + j] = 1.0f / a[j * n + j];
        for (size_t i = j + 1; i < n; i++) {
            double s = 0;
            for (size_t l = j; l < i; l++) s += (double)a[i * n + l] * a[l * n + j];
            a[i * n + j] = (float)(-s / a[i * n + i]);
        }
    }
    /* A^-1[i][j] = sum_{l >= max(i,j)} Linv[l][i] * Linv[l][j]; fill the upper triangle first, then mirror. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            double s = 0;
            for (size_t l = j; l < n; l++) s += (double)a[l * n + i] * a[l * n + j];
            a[i * n + j] = (float)s; /* upper triangle: Linv entries read are on or below the diagonal */
        }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) a[i * n + j] = a[j * n + i];
    return 0;
}

static void ref_run(void *ud, unsigned n_tasks, ulm_task_fn fn, void *ctx) {
    for (unsigned t = 0; t < n_tasks; t++) fn(ctx, t);
}

static const ulm_linalg ref_table = {"reference", NULL, ref_sgemm, ref_spd_inverse, ref_run};

const ulm_linalg *ulm_linalg_ref(void) { return &ref_table; }

void ulm__linalg_fill(const ulm_linalg *la, ulm_linalg *out) {
    *out = la ? *la : ref_table;
    if (!out->sgemm) out->sgemm = ref_sgemm;
    if (!out->spd_inverse) out->spd_inverse = ref_spd_inverse;
    if (!out->run) out->run = ref_run;
}

/* ---- helpers ----------------------------------------------------------------------------- */

void ulm__partition_rows(const size_t *indptr, uint32_t n_rows, size_t base, unsigned n_parts, uint32_t *bounds) {
    double total = (double)(indptr[n_rows] - indptr[0]) + (double)base * n_rows;
    uint32_t r = 0;
    bounds[0] = 0;
    for (unsigned p = 1; p < n_parts; p++) {
        double target = total * p / n_parts;
        while (r < n_rows && (double)(indptr[r] - indptr[0]) + (double)base * r < target) r++;
        bounds[p] = r;
    }
    bounds[n_parts] = n_rows;
}

/* True when (s1, i1) ranks above (s2, i2). */
static inline int better(float s1, uint32_t i1, float s2, uint32_t i2) { return s1 > s2 || (s1 == s2 && i1 < i2); }

/* Puts (s, i) at the root of the min-heap hs/hi[0..size) and moves it down to its place (the
 * weakest entry stays at the root). */
static void sift_down(float *hs, uint32_t *hi, uint32_t size, float s, uint32_t i) {
    uint32_t c = 0;
    for (;;) {
        uint32_t l = 2 * c + 1, r = l + 1, w = c;
        float ws = s;
        uint32_t wi = i;
        if (l < size && better(ws, wi, hs[l], hi[l])) { w = l; ws = hs[l]; wi = hi[l]; }
        if (r < size && better(ws, wi, hs[r], hi[r])) w = r;
        if (w == c) break;
        hs[c] = hs[w];
        hi[c] = hi[w];
        c = w;
    }
    hs[c] = s;
    hi[c] = i;
}

uint32_t ulm__heap_push(float *hs, uint32_t *hi, uint32_t size, uint32_t k, float s, uint32_t i) {
    if (k == 0) return 0;
    if (size < k) {
        uint32_t c = size++;
        while (c > 0) {
            uint32_t p = (c - 1) / 2;
            if (!better(hs[p], hi[p], s, i)) break;
            hs[c] = hs[p];
            hi[c] = hi[p];
            c = p;
        }
        hs[c] = s;
        hi[c] = i;
        return size;
    }
    if (!better(s, i, hs[0], hi[0])) return size;
    sift_down(hs, hi, size, s, i);
    return size;
}

void ulm__heap_sort(float *hs, uint32_t *hi, uint32_t n) {
    /* Repeatedly move the worst (root) to the end: the array ends up best first. */
    for (uint32_t end = n; end > 1; end--) {
        float s = hs[end - 1];
        uint32_t i = hi[end - 1];
        hs[end - 1] = hs[0];
        hi[end - 1] = hi[0];
        sift_down(hs, hi, end - 1, s, i);
    }
}

int ulm__chol_solve(float *a, float *b, size_t n) {
    if (ulm__chol_factor(a, n) != 0) return 1;
    ulm__chol_subst(a, b, n);
    return 0;
}

/* ---- parameters and dispatch --------------------------------------------------------------- */

static const char *const algo_names[ULM_REC__COUNT] = {"pop", "itemknn", "als", "bpr", "ease", "content", "hybrid"};

const char *ulm_rec_algo_name(int algo) { return algo >= 0 && algo < ULM_REC__COUNT ? algo_names[algo] : NULL; }

int ulm_rec_algo_parse(const char *s) {
    for (int a = 0; s && a < ULM_REC__COUNT; a++)
        if (strcmp(s, algo_names[a]) == 0) return a;
    return -1;
}

ulm_rec_params ulm_rec_params_init(ulm_rec_algo algo) {
    ulm_rec_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.algo = algo;
    p.threads = 1;
    p.seed = 42;
    p.factors = 64;
    p.iters = algo == ULM_REC_BPR ? 100 : 15;
    p.reg = 0.01f;
    p.alpha = 10.0f;
    p.cg_steps = 3;
    p.lambda = 200.0f;
    p.neighbours = algo == ULM_REC_EASE ? 100 : 20;
    p.weighting = ULM_KNN_TFIDF; /* best single choice on MovieLens and Online Retail (docs/recs.md) */
    p.bm25_k1 = 1.2f;
    p.bm25_b = 0.75f;
    p.lr = 0.05f;
    p.cold_events = 3;
    return p;
}

void ulm_rec_model_free(ulm_rec_model *m) {
    if (!m) return;
    free(m->pop);
    free(m->user_f);
    free(m->item_f);
    free(m->item_bias);
    free(m->gram);
    free(m->nb_ptr);
    free(m->nb_idx);
    free(m->nb_w);
    free(m->dense);
    for (uint32_t i = 0; m->parts && i < m->n_parts; i++) ulm_rec_model_free(&m->parts[i]);
    free(m->parts);
    memset(m, 0, sizeof *m);
}

/* Checks the parameters the chosen algorithm reads. */
static ulm_status check_params(const ulm_rec_params *p, ulm_diag *diag) {
    if (p->threads < 1 || p->threads > 256) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "threads must be 1..256");
    switch (p->algo) {
    case ULM_REC_ALS:
    case ULM_REC_BPR:
        if (p->factors == 0 || p->factors > 1024)
            return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "factors must be 1..1024 (got %u)", p->factors);
        if (!isfinite(p->reg) || p->reg < 0) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "reg must be finite and >= 0");
        if (p->algo == ULM_REC_ALS && (!isfinite(p->alpha) || p->alpha < 0))
            return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "alpha must be finite and >= 0");
        if (p->algo == ULM_REC_BPR && (!isfinite(p->lr) || p->lr <= 0))
            return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "lr must be finite and > 0");
        break;
    case ULM_REC_EASE:
        if (!isfinite(p->lambda) || p->lambda <= 0)
            return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "lambda must be finite and > 0");
        break;
    case ULM_REC_ITEMKNN:
    case ULM_REC_CONTENT:
    case ULM_REC_HYBRID:
        if (p->neighbours == 0) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "neighbours must be >= 1");
        if (!isfinite(p->bm25_k1) || !isfinite(p->bm25_b) || !isfinite(p->shrink) || p->shrink < 0)
            return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "kNN weighting parameters must be finite");
        break;
    case ULM_REC_POP:
        break;
    default:
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "unknown algorithm %d", (int)p->algo);
    }
    return ULM_OK;
}

ulm_status ulm_rec_train(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                         ulm_diag *diag) {
    if (!x || !p || !m || p->struct_size != sizeof *p) return ULM_ERR_MISUSE;
    memset(m, 0, sizeof *m);
    ulm_status s = check_params(p, diag);
    if (s != ULM_OK) return s;
    if (x->nnz == 0 && p->algo != ULM_REC_CONTENT)
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "no interactions to train on");
    ulm_linalg L;
    ulm__linalg_fill(la, &L);
    m->algo = p->algo;
    m->n_users = x->n_users;
    m->n_items = x->n_items;
    m->pop = calloc((size_t)x->n_items + 1, sizeof *m->pop);
    if (!m->pop) return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    for (uint32_t i = 0; i < x->n_items; i++) {
        double sum = 0;
        for (size_t k = x->t_indptr[i]; k < x->t_indptr[i + 1]; k++) sum += x->t_data[k];
        m->pop[i] = (float)sum;
    }
    switch (p->algo) {
    case ULM_REC_POP: break;
    case ULM_REC_EASE: s = ulm__train_ease(x, p, &L, m, diag); break;
    case ULM_REC_ALS: s = ulm__train_als(x, p, &L, m, diag); break;
    case ULM_REC_ITEMKNN: s = ulm__train_knn(x, p, &L, m, diag); break;
    case ULM_REC_BPR: s = ulm__train_bpr(x, p, &L, m, diag); break;
    case ULM_REC_CONTENT: s = ulm__train_content(x, p, &L, m, diag); break;
    case ULM_REC_HYBRID: {
        m->parts = calloc(2, sizeof *m->parts);
        if (!m->parts) {
            s = ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
            break;
        }
        m->n_parts = 2;
        m->cold_events = p->cold_events;
        ulm_rec_params q = *p;
        q.algo = ULM_REC_ITEMKNN;
        s = ulm_rec_train(x, &q, la, &m->parts[0], diag);
        q.algo = ULM_REC_CONTENT;
        if (s == ULM_OK) s = ulm_rec_train(x, &q, la, &m->parts[1], diag);
        break;
    }
    default: s = ULM_ERR_RANGE; break;
    }
    if (s != ULM_OK) ulm_rec_model_free(m);
    return s;
}

/* ---- scoring ----------------------------------------------------------------------------- */

size_t ulm_rec_scratch_floats(const ulm_rec_model *m) {
    size_t a = (size_t)m->factors * (m->factors + 4), b = m->algo == ULM_REC_HYBRID ? 2 * (size_t)m->n_items : 0;
    return a > b ? a : b;
}

/* Adds w * neighbour rows of the history items to scores. */
static void score_neighbours(const ulm_rec_model *m, const uint32_t *items, const float *w, size_t n, float *scores) {
    for (uint32_t j = 0; j < m->n_items; j++) scores[j] = 0;
    for (size_t h = 0; h < n; h++) {
        uint32_t i = items[h];
        if (i >= m->n_items) continue;
        float wi = w ? w[h] : 1.0f;
        for (size_t k = m->nb_ptr[i]; k < m->nb_ptr[i + 1]; k++) scores[m->nb_idx[k]] += wi * m->nb_w[k];
    }
}

/* Scales scores so that the largest absolute value is 1 (all-zero stays zero). */
static void normalise(float *s, uint32_t n) {
    float mx = 0;
    for (uint32_t j = 0; j < n; j++) mx = fabsf(s[j]) > mx ? fabsf(s[j]) : mx;
    if (mx > 0)
        for (uint32_t j = 0; j < n; j++) s[j] /= mx;
}

ulm_status ulm_rec_score(const ulm_rec_model *m, uint32_t user, const uint32_t *items, const float *w, size_t n,
                         float *scores, float *scratch) {
    if (!m || !scores || (n && !items)) return ULM_ERR_MISUSE;
    uint32_t ni = m->n_items, f = m->factors;
    switch (m->algo) {
    case ULM_REC_POP:
        memcpy(scores, m->pop, (size_t)ni * sizeof *scores);
        return ULM_OK;
    case ULM_REC_ITEMKNN:
    case ULM_REC_CONTENT:
        score_neighbours(m, items, w, n, scores);
        return ULM_OK;
    case ULM_REC_EASE:
        for (uint32_t j = 0; j < ni; j++) scores[j] = 0;
        for (size_t h = 0; h < n; h++)
            if (items[h] < ni) ulm__axpy(scores, w ? w[h] : 1.0f, m->dense + (size_t)items[h] * ni, ni);
        return ULM_OK;
    case ULM_REC_ALS:
    case ULM_REC_BPR: {
        const float *x;
        if (user < m->n_users && m->user_f) {
            x = m->user_f + (size_t)user * f;
        } else {
            if (!scratch) return ULM_ERR_MISUSE;
            if (m->algo == ULM_REC_ALS) {
                ulm_status s = ulm__als_fold_in(m, items, w, n, scratch, scratch + f);
                if (s != ULM_OK) return s;
            } else { /* BPR: the mean of the history's item factors */
                for (uint32_t l = 0; l < f; l++) scratch[l] = 0;
                for (size_t h = 0; h < n; h++)
                    if (items[h] < ni) ulm__axpy(scratch, 1.0f / (float)n, m->item_f + (size_t)items[h] * f, f);
            }
            x = scratch;
        }
        for (uint32_t j = 0; j < ni; j++)
            scores[j] = ulm__dot8(x, m->item_f + (size_t)j * f, f) + (m->item_bias ? m->item_bias[j] : 0.0f);
        return ULM_OK;
    }
    case ULM_REC_HYBRID: {
        if (!scratch) return ULM_ERR_MISUSE;
        float *a = scratch, *b = scratch + ni;
        score_neighbours(&m->parts[0], items, w, n, a);
        score_neighbours(&m->parts[1], items, w, n, b);
        normalise(a, ni);
        normalise(b, ni);
        /* Warm users: co-purchase neighbours lead, content breaks ties; cold users: content and
         * popularity carry the ranking. */
        bool cold = n < m->cold_events;
        float wc = cold ? 0.5f : 0.05f, wp = cold ? 0.5f : 0.01f, pmax = 0;
        for (uint32_t j = 0; j < ni; j++) pmax = m->pop[j] > pmax ? m->pop[j] : pmax;
        float pinv = pmax > 0 ? 1.0f / pmax : 0.0f;
        for (uint32_t j = 0; j < ni; j++) scores[j] = a[j] + wc * b[j] + wp * m->pop[j] * pinv;
        return ULM_OK;
    }
    default:
        return ULM_ERR_MISUSE;
    }
}
