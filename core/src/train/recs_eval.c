/* recs_eval.c: offline ranking metrics at K (precision, recall, NDCG, MAP, hit rate, coverage). */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm_rectrain.h"
#include "../ulm_impl.h"
#include "recs_impl.h"

#define MAX_KS 8

typedef struct eval_ctx {
    const ulm_rec_model *m;
    const ulm_imatrix *train, *test;
    const uint32_t *ks;
    size_t n_ks;
    uint32_t kmax;
    const uint32_t *bounds;
    size_t scratch_per;     /* floats per task: scores + model scratch + heap */
    float *scratch;
    uint8_t *excluded;      /* per task: n_items */
    uint8_t *covered;       /* per task: n_ks x n_items */
    double *sums;           /* per task: n_ks x 5 */
    uint32_t *counts;       /* per task: evaluated, cold */
    ulm_status *status;     /* per task */
} eval_ctx;

/* True when item is in the sorted list a[0..n). */
static int contains(const uint32_t *a, size_t n, uint32_t item) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < item) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && a[lo] == item;
}

static void eval_task(void *arg, unsigned t) {
    const eval_ctx *c = arg;
    const ulm_imatrix *tr = c->train, *te = c->test;
    uint32_t ni = c->m->n_items;
    float *scores = c->scratch + t * c->scratch_per, *ms = scores + ni, *hs = ms + ulm_rec_scratch_floats(c->m);
    uint32_t *hi = (uint32_t *)(hs + c->kmax);
    uint8_t *excl = c->excluded + (size_t)t * ni, *cov = c->covered + (size_t)t * ni * c->n_ks;
    double *sums = c->sums + t * c->n_ks * 5;
    uint32_t *cnt = c->counts + 2 * t;
    for (uint32_t u = c->bounds[t]; u < c->bounds[t + 1]; u++) {
        const uint32_t *test_items = te->indices + te->indptr[u];
        size_t n_test = te->indptr[u + 1] - te->indptr[u];
        if (!n_test) continue;
        size_t a = tr->indptr[u], b = tr->indptr[u + 1];
        ulm_status s = ulm_rec_score(c->m, u, tr->indices + a, tr->data + a, b - a, scores, ms);
        if (s != ULM_OK) {
            c->status[t] = s;
            return;
        }
        for (size_t k = a; k < b; k++) excl[tr->indices[k]] = 1;
        uint32_t size = 0;
        for (uint32_t j = 0; j < ni; j++)
            if (!excl[j]) size = ulm__heap_push(hs, hi, size, c->kmax, scores[j], j);
        for (size_t k = a; k < b; k++) excl[tr->indices[k]] = 0;
        ulm__heap_sort(hs, hi, size);
        cnt[0]++;
        cnt[1] += a == b;
        for (size_t q = 0; q < c->n_ks; q++) {
            uint32_t k = c->ks[q], n = size < k ? size : k;
            double hits = 0, dcg = 0, idcg = 0, ap = 0;
            for (uint32_t r = 0; r < n; r++) {
                cov[q * ni + hi[r]] = 1;
                if (contains(test_items, n_test, hi[r])) {
                    hits++;
                    dcg += 1.0 / log2(r + 2.0);
                    ap += hits / (r + 1.0);
                }
            }
            size_t ideal = n_test < k ? n_test : k;
            for (size_t r = 0; r < ideal; r++) idcg += 1.0 / log2(r + 2.0);
            double *sm = sums + q * 5;
            sm[0] += hits / k;
            sm[1] += hits / (double)n_test;
            sm[2] += dcg / idcg;
            sm[3] += ap / (double)ideal;
            sm[4] += hits > 0;
        }
    }
}

ulm_status ulm_rec_evaluate(const ulm_rec_model *m, const ulm_imatrix *train, const ulm_imatrix *test,
                            const uint32_t *ks, size_t n_ks, const ulm_linalg *la, unsigned threads,
                            ulm_rec_metrics *out, ulm_rec_eval_info *info, ulm_diag *diag) {
    if (!m || !train || !test || !ks || !out || !info || n_ks == 0 || n_ks > MAX_KS) return ULM_ERR_MISUSE;
    if (train->n_users != test->n_users || train->n_items != test->n_items || train->n_items != m->n_items)
        return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "train, test and model disagree on the matrix shape");
    if (threads < 1) threads = 1;
    uint32_t kmax = 0;
    for (size_t q = 0; q < n_ks; q++) {
        if (ks[q] == 0) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "K must be >= 1");
        if (ks[q] > kmax) kmax = ks[q];
    }
    ulm_linalg L;
    ulm__linalg_fill(la, &L);
    uint32_t ni = m->n_items, nu = train->n_users;
    if (kmax > ni) kmax = ni ? ni : 1;
    eval_ctx c = {.m = m, .train = train, .test = test, .ks = ks, .n_ks = n_ks, .kmax = kmax};
    c.scratch_per = (size_t)ni + ulm_rec_scratch_floats(m) + 2 * (size_t)kmax + 16;
    c.scratch = malloc(c.scratch_per * threads * sizeof *c.scratch);
    c.excluded = calloc((size_t)ni * threads + 1, 1);
    c.covered = calloc((size_t)ni * threads * n_ks + 1, 1);
    c.sums = calloc(n_ks * 5 * threads, sizeof *c.sums);
    c.counts = calloc(2 * threads, sizeof *c.counts);
    c.status = calloc(threads, sizeof *c.status);
    uint32_t *bounds = malloc((threads + 1) * sizeof *bounds);
    ulm_status s = ULM_OK;
    if (!c.scratch || !c.excluded || !c.covered || !c.sums || !c.counts || !c.status || !bounds) {
        s = ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        goto done;
    }
    ulm__partition_rows(test->indptr, nu, 8, threads, bounds);
    c.bounds = bounds;
    L.run(L.ud, threads, eval_task, &c);
    for (unsigned t = 0; t < threads; t++)
        if (c.status[t] != ULM_OK) {
            s = ulm__fail(diag, c.status[t], NULL, 0, "scoring failed");
            goto done;
        }
    memset(info, 0, sizeof *info);
    for (unsigned t = 0; t < threads; t++) info->users_evaluated += c.counts[2 * t], info->users_cold += c.counts[2 * t + 1];
    for (uint32_t u = 0; u < nu; u++) {
        size_t nt = test->indptr[u + 1] - test->indptr[u];
        info->test_items += nt;
        info->users_no_test += nt == 0 && train->indptr[u + 1] > train->indptr[u];
    }
    for (size_t q = 0; q < n_ks; q++) {
        double sm[5] = {0, 0, 0, 0, 0};
        for (unsigned t = 0; t < threads; t++)
            for (int v = 0; v < 5; v++) sm[v] += c.sums[(t * n_ks + q) * 5 + v];
        double d = info->users_evaluated ? info->users_evaluated : 1;
        size_t covered = 0;
        for (uint32_t j = 0; j < ni; j++) {
            int any = 0;
            for (unsigned t = 0; t < threads && !any; t++) any = c.covered[((size_t)t * n_ks + q) * ni + j];
            covered += any;
        }
        out[q] = (ulm_rec_metrics){.k = ks[q], .precision = sm[0] / d, .recall = sm[1] / d, .ndcg = sm[2] / d,
                                   .map = sm[3] / d, .hit_rate = sm[4] / d,
                                   .coverage = ni ? (double)covered / ni : 0};
    }
done:
    free(c.scratch);
    free(c.excluded);
    free(c.covered);
    free(c.sums);
    free(c.counts);
    free(c.status);
    free(bounds);
    return s;
}
