/* test_clv_parallel.c: the hashed grouping of (x, t_x, T) against a plain sort (day-granular times, sorted
 * by ranks; continuous times, sorted by bytes), and a BG/NBD fit that is bit-identical with and without
 * the task hook (the chunks run in a different order). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm.h"
#include "ulm_test.h"

/* Runs the tasks backwards: a different order than the calling-thread loop. */
static void reverse_tasks(void *ctx, uint32_t n, ulm_task_fn fn, void *arg) {
    int *calls = ctx;
    ++*calls;
    for (uint32_t t = n; t-- > 0;) fn(arg, t);
}

static int cmp3(const void *pa, const void *pb) {
    const double *a = pa, *b = pb;
    for (int k = 0; k < 3; k++)
        if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* Checks g against a plain sort of the n triples tr (3 doubles each; sorted here): the distinct triples in
 * order, each weighted by its count times mult. Returns 0 when they agree (ULM_TEST assertion style). */
static int check_groups(const ulm_clv_groups *g, double *tr, size_t n, double mult) {
    qsort(tr, n, 3 * sizeof(double), cmp3);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && cmp3(&tr[3 * i], &tr[3 * (i - 1)]) == 0) continue;
        size_t j = i;
        while (j < n && cmp3(&tr[3 * j], &tr[3 * i]) == 0) j++;
        ASSERT_TRUE(k < g->n);
        ASSERT_TRUE(g->x[k] == tr[3 * i] && g->t_x[k] == tr[3 * i + 1] && g->T[k] == tr[3 * i + 2]);
        ASSERT_TRUE(g->w[k] == mult * (double)(j - i));
        k++;
    }
    ASSERT_EQ_INT(k, g->n);
    return 0;
}

ULM_TEST(clv_groups_and_parallel_fit) {
    enum { N = 60000 };
    double *x = malloc(N * sizeof(double)), *tx = malloc(N * sizeof(double)), *T = malloc(N * sizeof(double));
    double *tr = malloc(3 * N * sizeof(double));
    ASSERT_TRUE(x && tx && T && tr);
    uint64_t s = 12345;
    for (size_t i = 0; i < N; i++) { /* day-granular histories in weeks, as the benchmark's */
        s = s * 6364136223846793005u + 1442695040888963407u;
        uint32_t u = (uint32_t)(s >> 33);
        int days = 189 + (int)(u % 84), k = (int)((u >> 8) % 64);
        x[i] = k < 36 ? 0 : k < 48 ? 1 : k < 56 ? 2 : (double)(k - 53);
        int last = x[i] > 0 ? (int)((u >> 16) % (uint32_t)(days + 1)) : 0;
        tx[i] = last / 7.0, T[i] = days / 7.0;
        tr[3 * i] = x[i], tr[3 * i + 1] = tx[i], tr[3 * i + 2] = T[i];
    }
    ulm_clv_groups g;
    ulm_diag d;
    ASSERT_STATUS(ulm_clv_groups_build(x, tx, T, N, &g, &d), ULM_OK);
    /* Reference: sort all triples, count runs. */
    ASSERT_TRUE(check_groups(&g, tr, N, 1.0) == 0);
    ASSERT_EQ_INT(g.n_customers, N);
    ASSERT_TRUE(g.n >= 4096); /* large enough for the hook to be used */

    ulm_fit_params fp = ulm_fit_params_init();
    ulm_fit_report r1, r2;
    ulm_bgnbd b1, b2;
    ASSERT_STATUS(ulm_bgnbd_fit(&g, &fp, &b1, &r1, &d), ULM_OK);
    int calls = 0;
    fp.parallel = reverse_tasks, fp.parallel_ctx = &calls;
    ASSERT_STATUS(ulm_bgnbd_fit(&g, &fp, &b2, &r2, &d), ULM_OK);
    ASSERT_TRUE(calls > 0);
    ASSERT_TRUE(memcmp(&b1, &b2, sizeof b1) == 0);
    ASSERT_TRUE(r1.loglik == r2.loglik && r1.iterations == r2.iterations);
    ASSERT_TRUE(r1.iterations < 100); /* a and b run off to infinity on this data: the fit stops when flat */
    ASSERT_TRUE(isfinite(r1.loglik) && b1.r > 0 && b1.alpha > 0 && b1.a > 0 && b1.b > 0);
    ulm_clv_groups_free(&g);
    free(x), free(tx), free(T), free(tr);
    return 0;
}

ULM_TEST(clv_groups_sorted_with_many_distinct_times) {
    /* continuous times: more than 65,536 distinct T values, so the grouping sorts by bytes instead of by
     * ranks; the groups must still come in (x, t_x, T) order with their counts (every customer twice) */
    enum { N = 70000 };
    double *x = malloc(2 * N * sizeof(double)), *tx = malloc(2 * N * sizeof(double));
    double *T = malloc(2 * N * sizeof(double)), *tr = malloc(3 * N * sizeof(double));
    ASSERT_TRUE(x && tx && T && tr);
    uint64_t s = 7;
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        x[i] = x[N + i] = (double)(s >> 60);
        T[i] = T[N + i] = 1 + (double)(s >> 11) * 0x1p-50;
        tx[i] = tx[N + i] = x[i] > 0 ? T[i] * (double)((s >> 20) & 1023) / 1024.0 : 0;
        tr[3 * i] = x[i], tr[3 * i + 1] = tx[i], tr[3 * i + 2] = T[i];
    }
    ulm_clv_groups g;
    ASSERT_STATUS(ulm_clv_groups_build(x, tx, T, 2 * N, &g, NULL), ULM_OK);
    ASSERT_TRUE(check_groups(&g, tr, N, 2.0) == 0);
    ASSERT_TRUE(g.n > 65536);
    ulm_clv_groups_free(&g);
    free(x), free(tx), free(T), free(tr);
    return 0;
}
