/* test_recs_train.c: the interaction matrix, splits, metrics and the recommender trainers,
 * each against an independent computation done here (closed forms, brute force, hand-worked
 * rankings). */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm.h"
#include "ulm/ulm_rectrain.h"
#include "train/recs_impl.h"
#include "ulm_native.h"
#include "test_planted.h"
#include "ulm_test.h"

ULM_TEST(recs_matrix_triplets) {
    /* user 0: item 2 twice (sums), item 1 with a cancelling negative; user 1: item 0. */
    uint32_t u[] = {0, 1, 0, 0, 0}, it[] = {2, 0, 2, 1, 1};
    float w[] = {1.5f, 2.0f, 1.0f, 4.0f, -4.0f};
    int64_t t[] = {50, 10, 40, 5, 6};
    ulm_imatrix x;
    ASSERT_STATUS(ulm_imatrix_from_triplets(2, 3, 5, u, it, w, t, &x, NULL), ULM_OK);
    ASSERT_EQ_INT(x.nnz, 2);
    ASSERT_EQ_INT(x.indptr[1], 1);
    ASSERT_EQ_INT(x.indices[0], 2);
    ASSERT_NEAR(x.data[0], 2.5, 0);
    ASSERT_EQ_INT(x.time[0], 40); /* the first time the user met the item */
    ASSERT_EQ_INT(x.indices[1], 0);
    /* CSC agrees. */
    ASSERT_EQ_INT(x.t_indptr[1] - x.t_indptr[0], 1);
    ASSERT_EQ_INT(x.t_indices[x.t_indptr[2]], 0);
    ASSERT_NEAR(x.t_data[x.t_indptr[2]], 2.5, 0);
    ulm_imatrix_free(&x);
    float bad[] = {1, NAN};
    ulm_diag d;
    ASSERT_STATUS(ulm_imatrix_from_triplets(2, 3, 2, u, it, bad, NULL, &x, &d), ULM_ERR_RANGE);
    ASSERT_TRUE(strstr(d.message, "non-finite") != NULL);
    uint32_t big[] = {7};
    ASSERT_STATUS(ulm_imatrix_from_triplets(2, 3, 1, big, it, w, NULL, &x, &d), ULM_ERR_RANGE);
    return 0;
}

ULM_TEST(recs_matrix_events) {
    ulm_events ev;
    ulm_events_init(&ev);
    uint32_t a = ulm_dict_intern(&ev.users, "a", 1, NULL), b = ulm_dict_intern(&ev.users, "b", 1, NULL);
    uint32_t i0 = ulm_dict_intern(&ev.items, "x", 1, NULL), i1 = ulm_dict_intern(&ev.items, "y", 1, NULL);
    ulm_event e = {.order = ULM_NONE, .query = ULM_NONE, .qty = 1, .price = NAN};
    /* a: views x, carts x, buys y and returns it; b: buys x; a guest buys y. */
    int types[] = {ULM_EV_VIEW, ULM_EV_CART, ULM_EV_PURCHASE, ULM_EV_RETURN, ULM_EV_PURCHASE, ULM_EV_PURCHASE};
    uint32_t us[] = {a, a, a, a, b, ULM_NONE}, is[] = {i0, i0, i1, i1, i0, i1};
    for (int k = 0; k < 6; k++) {
        e.user = us[k], e.item = is[k], e.type = (uint8_t)types[k], e.time = 100 + k;
        ASSERT_STATUS(ulm_events_push(&ev, &e), ULM_OK);
    }
    ulm_imatrix x;
    ulm_event_weights w = ulm_event_weights_init();
    ASSERT_TRUE(w.purchase > w.cart && w.cart > w.view);
    ASSERT_STATUS(ulm_imatrix_from_events(&ev, &w, &x, NULL), ULM_OK);
    ASSERT_EQ_INT(x.nnz, 2); /* a-x (view + cart), b-x; a-y cancelled by the return; guest skipped */
    ASSERT_NEAR(x.data[0], w.view + w.cart, 0);
    ASSERT_NEAR(x.data[1], w.purchase, 0);
    ulm_imatrix_free(&x);
    w.view = -1;
    ASSERT_STATUS(ulm_imatrix_from_events(&ev, &w, &x, NULL), ULM_ERR_RANGE);
    ulm_events_free(&ev);
    return 0;
}

ULM_TEST(recs_splits) {
    ulm_imatrix x, tr, te;
    ASSERT_EQ_INT(ulm_test_planted(40, 30, 2, 0.5, 0.1, 7, 0, &x), 0);
    ASSERT_STATUS(ulm_imatrix_split_random(&x, 0.2, 42, &tr, &te, NULL), ULM_OK);
    for (uint32_t u = 0; u < x.n_users; u++) {
        size_t n = x.indptr[u + 1] - x.indptr[u], h = te.indptr[u + 1] - te.indptr[u];
        size_t want = (size_t)floor(0.2 * n + 0.5);
        if (want >= n) want = n ? n - 1 : 0;
        ASSERT_EQ_INT(h, want);
        ASSERT_EQ_INT(tr.indptr[u + 1] - tr.indptr[u], n - h);
        /* Disjoint: every test item is absent from the user's training row. */
        for (size_t k = te.indptr[u]; k < te.indptr[u + 1]; k++)
            for (size_t q = tr.indptr[u]; q < tr.indptr[u + 1]; q++) ASSERT_TRUE(tr.indices[q] != te.indices[k]);
    }
    ulm_imatrix tr2, te2; /* same seed, same split */
    ASSERT_STATUS(ulm_imatrix_split_random(&x, 0.2, 42, &tr2, &te2, NULL), ULM_OK);
    ASSERT_TRUE(memcmp(te.indices, te2.indices, te.nnz * sizeof *te.indices) == 0);
    ulm_imatrix_free(&tr), ulm_imatrix_free(&te), ulm_imatrix_free(&tr2), ulm_imatrix_free(&te2);
    ASSERT_STATUS(ulm_imatrix_split_last(&x, &tr, &te, NULL), ULM_ERR_MISUSE); /* no times */
    ulm_imatrix_free(&x);
    /* Leave-last and time splits on timed entries. */
    uint32_t u[] = {0, 0, 0, 1}, it[] = {0, 1, 2, 1};
    float w[] = {1, 1, 1, 1};
    int64_t t[] = {30, 10, 20, 5};
    ASSERT_STATUS(ulm_imatrix_from_triplets(2, 3, 4, u, it, w, t, &x, NULL), ULM_OK);
    ASSERT_STATUS(ulm_imatrix_split_last(&x, &tr, &te, NULL), ULM_OK);
    ASSERT_EQ_INT(te.nnz, 1);
    ASSERT_EQ_INT(te.indices[0], 0); /* user 0's latest item; user 1 has one item and keeps it */
    ulm_imatrix_free(&tr), ulm_imatrix_free(&te);
    ASSERT_STATUS(ulm_imatrix_split_time(&x, 20, &tr, &te, NULL), ULM_OK);
    ASSERT_EQ_INT(te.nnz, 2);
    ulm_imatrix_free(&tr), ulm_imatrix_free(&te), ulm_imatrix_free(&x);
    return 0;
}

ULM_TEST(recs_metrics_hand_worked) {
    /* One user; popularity 5,4,3,2,1 over items 0..4; train {0}, test {2, 4}. Ranking without
     * the training item: 1, 2, 3, 4. At K = 2: one hit at rank 2. */
    uint32_t u0[] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    uint32_t i0[] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4};
    float w[15];
    for (int k = 0; k < 15; k++) w[k] = 1;
    /* user 1 only shapes popularity (4 x item 0 + user 0's = 5, 4, 3, 2, 1) and has no test items. */
    ulm_imatrix tr, te;
    ASSERT_STATUS(ulm_imatrix_from_triplets(2, 5, 15, u0, i0, w, NULL, &tr, NULL), ULM_OK);
    uint32_t tu[] = {0, 0}, ti[] = {2, 4};
    ASSERT_STATUS(ulm_imatrix_from_triplets(2, 5, 2, tu, ti, w, NULL, &te, NULL), ULM_OK);
    ulm_rec_params p = ulm_rec_params_init(ULM_REC_POP);
    ulm_rec_model m;
    ASSERT_STATUS(ulm_rec_train(&tr, &p, NULL, &m, NULL), ULM_OK);
    uint32_t ks[] = {2, 10};
    ulm_rec_metrics at[2];
    ulm_rec_eval_info info;
    ASSERT_STATUS(ulm_rec_evaluate(&m, &tr, &te, ks, 2, NULL, 1, at, &info, NULL), ULM_OK);
    ASSERT_EQ_INT(info.users_evaluated, 1);
    ASSERT_EQ_INT(info.users_no_test, 1);
    ASSERT_NEAR(at[0].precision, 0.5, 1e-12);
    ASSERT_NEAR(at[0].recall, 0.5, 1e-12);
    ASSERT_NEAR(at[0].ndcg, (1 / log2(3.0)) / (1 + 1 / log2(3.0)), 1e-12);
    ASSERT_NEAR(at[0].map, 0.5 / 2, 1e-12);
    ASSERT_NEAR(at[0].hit_rate, 1, 0);
    ASSERT_NEAR(at[0].coverage, 2.0 / 5, 1e-12);
    /* K = 10 is larger than the 4 rankable items: hits at ranks 2 and 4. */
    ASSERT_NEAR(at[1].precision, 2.0 / 10, 1e-12);
    ASSERT_NEAR(at[1].recall, 1, 1e-12);
    ASSERT_NEAR(at[1].ndcg, (1 / log2(3.0) + 1 / log2(5.0)) / (1 + 1 / log2(3.0)), 1e-12);
    ASSERT_NEAR(at[1].map, (1.0 / 2 + 2.0 / 4) / 2, 1e-12);
    ASSERT_NEAR(at[1].coverage, 4.0 / 5, 1e-12);
    ulm_rec_model_free(&m), ulm_imatrix_free(&tr), ulm_imatrix_free(&te);
    return 0;
}

/* EASE's closed form computed here in double: G = X^T X + lambda I, P = G^-1 (Gauss-Jordan),
 * B = -P / diag(P), diag 0. */
static void ease_reference(const ulm_imatrix *x, double lambda, double *b) {
    size_t n = x->n_items;
    double *g = calloc(n * 2 * n, sizeof *g);
    for (uint32_t u = 0; u < x->n_users; u++)
        for (size_t k = x->indptr[u]; k < x->indptr[u + 1]; k++)
            for (size_t q = x->indptr[u]; q < x->indptr[u + 1]; q++)
                g[x->indices[k] * 2 * n + x->indices[q]] += (double)x->data[k] * x->data[q];
    for (size_t i = 0; i < n; i++) g[i * 2 * n + i] += lambda, g[i * 2 * n + n + i] = 1;
    for (size_t c = 0; c < n; c++) {
        double piv = g[c * 2 * n + c];
        for (size_t j = 0; j < 2 * n; j++) g[c * 2 * n + j] /= piv;
        for (size_t r = 0; r < n; r++) {
            if (r == c) continue;
            double f = g[r * 2 * n + c];
            for (size_t j = 0; j < 2 * n; j++) g[r * 2 * n + j] -= f * g[c * 2 * n + j];
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) b[i * n + j] = i == j ? 0 : -g[i * 2 * n + n + j] / g[j * 2 * n + n + j];
    free(g);
}

ULM_TEST(recs_ease_closed_form) {
    ulm_imatrix x;
    ASSERT_EQ_INT(ulm_test_planted(60, 25, 2, 0.4, 0.1, 11, 0, &x), 0);
    double *want = malloc(25 * 25 * sizeof *want);
    ease_reference(&x, 7.5, want);
    ulm_linalg nat;
    ulm_linalg_native(&nat, 2);
    const ulm_linalg *tables[] = {NULL, ulm_linalg_ref(), &nat};
    for (int t = 0; t < 3; t++) {
        ulm_rec_params p = ulm_rec_params_init(ULM_REC_EASE);
        p.lambda = 7.5f;
        p.threads = 2;
        ulm_rec_model m;
        ASSERT_STATUS(ulm_rec_train(&x, &p, tables[t], &m, NULL), ULM_OK);
        double err = 0, norm = 0;
        for (int k = 0; k < 25 * 25; k++) err += (m.dense[k] - want[k]) * (m.dense[k] - want[k]), norm += want[k] * want[k];
        ASSERT_TRUE(err / norm < 1e-9);
        ulm_rec_model_free(&m);
    }
    free(want);
    /* Refusals: lambda <= 0, a catalogue over the limit (before any allocation), no data. */
    ulm_rec_params p = ulm_rec_params_init(ULM_REC_EASE);
    ulm_rec_model m;
    ulm_diag d;
    p.lambda = 0;
    ASSERT_STATUS(ulm_rec_train(&x, &p, NULL, &m, &d), ULM_ERR_RANGE);
    ulm_imatrix_free(&x);
    uint32_t u = 0, i = ULM_EASE_MAX_ITEMS;
    float w = 1;
    ASSERT_STATUS(ulm_imatrix_from_triplets(1, ULM_EASE_MAX_ITEMS + 1, 1, &u, &i, &w, NULL, &x, NULL), ULM_OK);
    p.lambda = 100;
    ASSERT_STATUS(ulm_rec_train(&x, &p, NULL, &m, &d), ULM_ERR_RANGE);
    ASSERT_TRUE(strstr(d.message, "refused") != NULL);
    ulm_imatrix_free(&x);
    ASSERT_STATUS(ulm_imatrix_from_triplets(3, 3, 0, NULL, NULL, NULL, NULL, &x, NULL), ULM_OK);
    ASSERT_STATUS(ulm_rec_train(&x, &p, NULL, &m, &d), ULM_ERR_RANGE);
    ulm_imatrix_free(&x);
    return 0;
}

/* Max relative residual of the item rows' normal equations (Hu et al. 2008, eq. 4) given the
 * final user factors, computed in double: (X^T X + X^T (C_i - I) X + reg I) y_i = X^T C_i p_i. */
static double als_item_residual(const ulm_imatrix *x, const ulm_rec_model *m) {
    uint32_t f = m->factors;
    double worst = 0, *a = malloc(f * f * sizeof *a), *b = malloc(f * sizeof *b);
    for (uint32_t i = 0; i < x->n_items; i++) {
        for (uint32_t r = 0; r < f; r++) {
            b[r] = 0;
            for (uint32_t c = 0; c < f; c++) {
                double s = r == c ? m->reg : 0;
                for (uint32_t u = 0; u < x->n_users; u++) s += (double)m->user_f[u * f + r] * m->user_f[u * f + c];
                a[r * f + c] = s;
            }
        }
        for (size_t k = x->t_indptr[i]; k < x->t_indptr[i + 1]; k++) {
            const float *xu = m->user_f + (size_t)x->t_indices[k] * f;
            double c = 1 + m->alpha * x->t_data[k];
            for (uint32_t r = 0; r < f; r++) {
                b[r] += c * xu[r];
                for (uint32_t q = 0; q < f; q++) a[r * f + q] += (c - 1) * xu[r] * xu[q];
            }
        }
        double rn = 0, bn = 0;
        for (uint32_t r = 0; r < f; r++) {
            double s = -b[r];
            for (uint32_t q = 0; q < f; q++) s += a[r * f + q] * m->item_f[(size_t)i * f + q];
            rn += s * s, bn += b[r] * b[r];
        }
        if (bn > 0 && sqrt(rn / bn) > worst) worst = sqrt(rn / bn);
    }
    free(a), free(b);
    return worst;
}

ULM_TEST(recs_als_normal_equations) {
    ulm_imatrix x;
    ASSERT_EQ_INT(ulm_test_planted(80, 40, 2, 0.3, 0.05, 3, 0, &x), 0);
    ulm_rec_params p = ulm_rec_params_init(ULM_REC_ALS);
    p.factors = 8, p.iters = 5, p.reg = 0.1f, p.alpha = 5;
    p.cg_steps = 0; /* exact: the last half-step solves the item rows exactly */
    ulm_rec_model m;
    ASSERT_STATUS(ulm_rec_train(&x, &p, NULL, &m, NULL), ULM_OK);
    ASSERT_TRUE(als_item_residual(&x, &m) < 1e-4);
    ulm_rec_model_free(&m);
    p.cg_steps = 3; /* CG, 3 steps warm-started: close, not exact */
    ASSERT_STATUS(ulm_rec_train(&x, &p, NULL, &m, NULL), ULM_OK);
    ASSERT_TRUE(als_item_residual(&x, &m) < 0.05);
    ulm_rec_model_free(&m);
    p.cg_steps = 16; /* enough CG steps for 8 factors: exact up to rounding */
    ASSERT_STATUS(ulm_rec_train(&x, &p, NULL, &m, NULL), ULM_OK);
    ASSERT_TRUE(als_item_residual(&x, &m) < 1e-3);
    /* Same seed: native with 1 thread and with 3 threads give identical bytes (each row's
     * arithmetic is fixed; OpenBLAS splits the Gram product by output blocks, not the sum). */
    ulm_linalg nat1, nat;
    ulm_linalg_native(&nat1, 1);
    ulm_linalg_native(&nat, 3);
    ulm_rec_model_free(&m);
    ASSERT_STATUS(ulm_rec_train(&x, &p, &nat1, &m, NULL), ULM_OK);
    ulm_rec_model m3;
    p.threads = 3;
    ASSERT_STATUS(ulm_rec_train(&x, &p, &nat, &m3, NULL), ULM_OK);
    ASSERT_TRUE(memcmp(m.item_f, m3.item_f, (size_t)x.n_items * p.factors * sizeof(float)) == 0);
    ASSERT_TRUE(memcmp(m.user_f, m3.user_f, (size_t)x.n_users * p.factors * sizeof(float)) == 0);
    /* Fold-in of a known user's history lands near the trained row's ranking. */
    float *sc = malloc(x.n_items * sizeof *sc), *sf = malloc(x.n_items * sizeof *sf);
    float *scratch = malloc(ulm_rec_scratch_floats(&m) * sizeof *scratch);
    ASSERT_STATUS(ulm_rec_score(&m, 0, x.indices, x.data, x.indptr[1], sc, scratch), ULM_OK);
    ASSERT_STATUS(ulm_rec_score(&m, ULM_NONE, x.indices, x.data, x.indptr[1], sf, scratch), ULM_OK);
    double dot = 0, n1 = 0, n2 = 0;
    for (uint32_t i = 0; i < x.n_items; i++) dot += sc[i] * sf[i], n1 += sc[i] * sc[i], n2 += sf[i] * sf[i];
    ASSERT_TRUE(dot / sqrt(n1 * n2) > 0.95);
    free(sc), free(sf), free(scratch);
    ulm_rec_model_free(&m), ulm_rec_model_free(&m3);
    p.factors = 0;
    ASSERT_STATUS(ulm_rec_train(&x, &p, NULL, &m, NULL), ULM_ERR_RANGE);
    ulm_imatrix_free(&x);
    return 0;
}

/* The CG kernels work on column blocks of 64 (AVX2), 32 and 8 plus single columns: factor
 * counts that use every block size still solve the normal equations (enough CG steps: exact up
 * to rounding, checked in double precision) and give the same bytes on 1 and 3 threads and
 * with the baseline or the AVX2 row loop. */
ULM_TEST(recs_als_cg_block_sizes) {
    ulm_imatrix x;
    /* 300 users: item rows have about 90 entries, so the item half-steps take the gathered path
     * (rows of 64 entries or more are copied together first) and the user ones the indexed path. */
    ASSERT_EQ_INT(ulm_test_planted(300, 50, 2, 0.5, 0.1, 7, 0, &x), 0);
    static const uint32_t sizes[] = {13, 40, 75};
    for (size_t q = 0; q < sizeof sizes / sizeof *sizes; q++) {
        ulm_rec_params p = ulm_rec_params_init(ULM_REC_ALS);
        p.factors = sizes[q], p.iters = 3, p.reg = 1.0f, p.alpha = 5, p.cg_steps = 2 * sizes[q];
        ulm_linalg nat1, nat3;
        ulm_linalg_native(&nat1, 1);
        ulm_linalg_native(&nat3, 3);
        ulm_rec_model m1, m3;
        ASSERT_STATUS(ulm_rec_train(&x, &p, &nat1, &m1, NULL), ULM_OK);
        ASSERT_TRUE(als_item_residual(&x, &m1) < 2e-3);
        p.threads = 3;
        ASSERT_STATUS(ulm_rec_train(&x, &p, &nat3, &m3, NULL), ULM_OK);
        ASSERT_TRUE(memcmp(m1.item_f, m3.item_f, (size_t)x.n_items * p.factors * sizeof(float)) == 0);
        ASSERT_TRUE(memcmp(m1.user_f, m3.user_f, (size_t)x.n_users * p.factors * sizeof(float)) == 0);
        ulm_rec_model_free(&m3);
        /* The baseline (SSE2) row loop and the AVX2 one (where the CPU has it) agree bit for bit. */
        ASSERT_STATUS(ulm__train_als_isa(&x, &p, &nat3, &m3, NULL, false), ULM_OK);
        ASSERT_TRUE(memcmp(m1.item_f, m3.item_f, (size_t)x.n_items * p.factors * sizeof(float)) == 0);
        ASSERT_TRUE(memcmp(m1.user_f, m3.user_f, (size_t)x.n_users * p.factors * sizeof(float)) == 0);
        ulm_rec_model_free(&m1), ulm_rec_model_free(&m3);
    }
    ulm_imatrix_free(&x);
    return 0;
}

ULM_TEST(recs_knn_cosine_brute_force) {
    ulm_imatrix x;
    ASSERT_EQ_INT(ulm_test_planted(50, 20, 2, 0.4, 0.1, 5, 0, &x), 0);
    ulm_rec_params p = ulm_rec_params_init(ULM_REC_ITEMKNN);
    p.weighting = ULM_KNN_NONE;
    p.neighbours = 5;
    p.threads = 2;
    ulm_linalg nat;
    ulm_linalg_native(&nat, 2);
    ulm_rec_model m;
    ASSERT_STATUS(ulm_rec_train(&x, &p, &nat, &m, NULL), ULM_OK);
    for (uint32_t i = 0; i < x.n_items; i++) {
        double sim[20], ni = 0;
        for (size_t k = x.t_indptr[i]; k < x.t_indptr[i + 1]; k++) ni += 1;
        for (uint32_t j = 0; j < x.n_items; j++) {
            double dot = 0, nj = x.t_indptr[j + 1] - x.t_indptr[j];
            for (size_t a = x.t_indptr[i]; a < x.t_indptr[i + 1]; a++)
                for (size_t b = x.t_indptr[j]; b < x.t_indptr[j + 1]; b++) dot += x.t_indices[a] == x.t_indices[b];
            sim[j] = (i == j || ni == 0 || nj == 0) ? -1 : dot / sqrt(ni * nj);
        }
        /* The stored list is the 5 most similar (best first, ties by lower index). */
        ASSERT_EQ_INT(m.nb_ptr[i + 1] - m.nb_ptr[i], 5);
        for (size_t k = m.nb_ptr[i]; k < m.nb_ptr[i + 1]; k++) {
            uint32_t j = m.nb_idx[k];
            ASSERT_NEAR(m.nb_w[k], sim[j], 1e-5);
            int better = 0;
            for (uint32_t q = 0; q < x.n_items; q++) better += sim[q] > sim[j] + 1e-6;
            ASSERT_TRUE(better < 5);
        }
    }
    ulm_rec_model_free(&m);
    ulm_imatrix_free(&x);
    return 0;
}

ULM_TEST(recs_models_beat_popularity_on_planted_data) {
    /* Two taste groups: every personalised model must find them, popularity cannot. */
    ulm_imatrix x, tr, te;
    ASSERT_EQ_INT(ulm_test_planted(200, 60, 2, 0.3, 0.03, 9, 0, &x), 0);
    ASSERT_STATUS(ulm_imatrix_split_random(&x, 0.2, 1, &tr, &te, NULL), ULM_OK);
    uint32_t k = 10;
    double ndcg[ULM_REC__COUNT];
    const char *texts[60];
    char buf[60][32];
    for (int i = 0; i < 60; i++) snprintf(buf[i], 32, "%s thing %d", (i & 1) ? "red" : "blue", i), texts[i] = buf[i];
    for (int a = 0; a < ULM_REC__COUNT; a++) {
        ulm_rec_params p = ulm_rec_params_init((ulm_rec_algo)a);
        p.factors = 8, p.neighbours = 20, p.lambda = 20, p.iters = a == ULM_REC_BPR ? 50 : 10;
        p.item_text = texts;
        ulm_rec_model m;
        ASSERT_STATUS(ulm_rec_train(&tr, &p, NULL, &m, NULL), ULM_OK);
        ulm_rec_metrics at;
        ulm_rec_eval_info info;
        ASSERT_STATUS(ulm_rec_evaluate(&m, &tr, &te, &k, 1, NULL, 1, &at, &info, NULL), ULM_OK);
        ndcg[a] = at.ndcg;
        ulm_rec_model_free(&m);
    }
    for (int a = 1; a < ULM_REC__COUNT; a++) {
        if (!(ndcg[a] > ndcg[ULM_REC_POP] + 0.05))
            fprintf(stderr, "%s ndcg@10 %.4f vs pop %.4f\n", ulm_rec_algo_name(a), ndcg[a], ndcg[ULM_REC_POP]);
        ASSERT_TRUE(ndcg[a] > ndcg[ULM_REC_POP] + 0.05);
    }
    ulm_imatrix_free(&x), ulm_imatrix_free(&tr), ulm_imatrix_free(&te);
    return 0;
}
