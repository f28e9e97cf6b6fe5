/* test_churn.c: churn models against references computed here: metrics by pair counting, logistic
 * regression by its optimality conditions, boosting by the closed-form leaf weights, TreeSHAP by
 * brute-force Shapley values, the CHRN layout by round trips and damage, thread-count determinism. */
#include <math.h>
#include <stdlib.h>

#include "churn_impl.h"
#include "churn_pool.h"
#include "ulm/ulm_churn_train.h"
#include "ulm_test.h"

static uint64_t rs = 12345;
static double urand(void) { return ulm_test_uniform(&rs); }

/* A synthetic table: 3 numeric features (one with missing values) and one categorical (5 categories),
 * labels drawn from a known logistic model. */
typedef struct synth {
    uint32_t n, nf;
    float *x, *y;
    uint32_t kind[4], n_cats[4];
} synth;
static synth make_synth(uint32_t n, uint64_t seed) {
    synth s = {n, 4, malloc(sizeof(float) * n * 4), malloc(sizeof(float) * n), {0, 0, 0, 1}, {0, 0, 0, 5}};
    rs = seed;
    static const double catw[5] = {-1.0, 0.0, 0.5, 1.5, -0.5};
    for (uint32_t r = 0; r < n; r++) {
        float *x = s.x + (size_t)r * 4;
        x[0] = (float)(urand() * 4 - 2);
        x[1] = (float)(urand() * 10);
        x[2] = urand() < 0.2 ? NAN : (float)(urand() * 2 - 1);
        x[3] = (float)(uint32_t)(urand() * 5);
        double z = 1.2 * x[0] - 0.3 * (x[1] - 5) + (x[2] == x[2] ? 0.8 * x[2] : 1.0) + catw[(int)x[3]];
        s.y[r] = urand() < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
    }
    return s;
}
static ulm_churn_data as_data(const synth *s) { return (ulm_churn_data){s->n, s->nf, s->x, s->y, s->kind, s->n_cats}; }

ULM_TEST(churn_metrics_match_pair_counting) {
    rs = 7;
    enum { N = 300 };
    float p[N], y[N];
    for (int i = 0; i < N; i++) {
        y[i] = urand() < 0.3 ? 1.0f : 0.0f;
        p[i] = (float)((int)((urand() * 0.6 + 0.4 * y[i]) * 20) / 20.0); /* coarse: many ties */
    }
    double num = 0, P = 0, Nn = 0;
    for (int i = 0; i < N; i++) {
        if (y[i] > 0.5f) P++;
        else Nn++;
        for (int j = 0; j < N; j++)
            if (y[i] > 0.5f && y[j] < 0.5f) num += p[i] > p[j] ? 1.0 : p[i] == p[j] ? 0.5 : 0.0;
    }
    /* average precision: over positives, precision at the threshold of its score (ties included) */
    double ap = 0;
    for (int i = 0; i < N; i++) {
        if (y[i] < 0.5f) continue;
        double tp = 0, all = 0;
        for (int j = 0; j < N; j++)
            if (p[j] >= p[i]) all++, tp += y[j] > 0.5f;
        ap += tp / all / P;
    }
    ulm_binary_metrics m;
    ASSERT_STATUS(ulm_binary_metrics_compute(p, y, N, &m), ULM_OK);
    ASSERT_NEAR(m.auc, num / (P * Nn), 1e-12);
    ASSERT_NEAR(m.pr_auc, ap, 1e-12);
    float one[3] = {0.2f, 0.4f, 0.9f}, ones[3] = {1, 1, 1};
    ASSERT_STATUS(ulm_binary_metrics_compute(one, ones, 3, &m), ULM_OK);
    ASSERT_TRUE(isnan(m.auc));
    ASSERT_NEAR(m.logloss, -(log(0.2) + log(0.4) + log(0.9)) / 3, 1e-6);
    return 0;
}

ULM_TEST(churn_logreg_is_optimal) {
    synth s = make_synth(2000, 11);
    ulm_churn_data d = as_data(&s);
    ulm_logreg_params p = ulm_logreg_params_init();
    p.l2 = 3.0;
    ulm_churn *m;
    ASSERT_STATUS(ulm_logreg_fit(&d, &p, &m, NULL), ULM_OK);
    /* gradient of sum logloss + l2/2 |w|^2 over the standardised design: zero at the optimum */
    double g[1 + 3 + 5] = {0};
    for (uint32_t r = 0; r < s.n; r++) {
        const float *x = s.x + (size_t)r * 4;
        float mg;
        ulm_churn_margin(m, x, 1, &mg);
        double e = 1 / (1 + exp(-(double)mg)) - s.y[r];
        g[0] += e;
        for (int f = 0; f < 3; f++)
            if (x[f] == x[f]) g[1 + f] += e * (x[f] - m->mean[f]) * m->scale[f];
        g[4 + (int)x[3]] += e;
    }
    for (int f = 0; f < 3; f++) g[1 + f] += p.l2 * m->coef[f];
    for (int c = 0; c < 5; c++) g[4 + c] += p.l2 * m->cat_coef[c];
    for (int j = 0; j < 9; j++) ASSERT_NEAR(g[j], 0, 2e-3);
    /* the signs of the generating model are recovered */
    ASSERT_TRUE(m->coef[0] > 0.5f && m->coef[1] < -0.3f && m->coef[2] > 0);
    ASSERT_TRUE(m->cat_coef[3] > m->cat_coef[2] && m->cat_coef[2] > m->cat_coef[0]);
    ulm_churn_free(m);
    free(s.x), free(s.y);
    return 0;
}

ULM_TEST(churn_gbdt_stump_closed_form) {
    /* one numeric feature, one round, depth 1, eta 1: the split separates x < 5 from x >= 5 and each leaf is
     * -G / (H + lambda) with g = p0 - y, h = p0 (1 - p0) at the prior p0 */
    enum { N = 40 };
    float x[N], y[N];
    uint32_t kind = 0, nc = 0;
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i % 10);
        y[i] = x[i] >= 5 ? (i % 7 != 0) : (i % 5 == 0);
    }
    ulm_churn_data d = {N, 1, x, y, &kind, &nc};
    ulm_gbdt_params p = ulm_gbdt_params_init();
    p.n_rounds = 1;
    p.max_depth = 1;
    p.eta = 1;
    p.lambda = 2;
    ulm_churn *m;
    ASSERT_STATUS(ulm_gbdt_fit(&d, NULL, &p, &m, NULL, NULL), ULM_OK);
    ASSERT_EQ_INT(m->n_trees, 1);
    ASSERT_EQ_INT(m->n_nodes, 3);
    ASSERT_NEAR(m->nodes[0].u.thr, 5.0, 0);
    double pos = 0;
    for (int i = 0; i < N; i++) pos += y[i];
    double p0 = pos / N, h = p0 * (1 - p0);
    double gl = 0, hl = 0, gr = 0, hr = 0;
    for (int i = 0; i < N; i++) {
        if (x[i] < 5) gl += p0 - y[i], hl += h;
        else gr += p0 - y[i], hr += h;
    }
    ASSERT_NEAR(m->base, log(p0 / (1 - p0)), 1e-6);
    ASSERT_NEAR(m->nodes[m->nodes[0].left].u.value, -gl / (hl + 2), 1e-5);
    ASSERT_NEAR(m->nodes[m->nodes[0].right].u.value, -gr / (hr + 2), 1e-5);
    ASSERT_NEAR(m->cover[0], hl + hr, 1e-4);
    ulm_churn_free(m);
    return 0;
}

ULM_TEST(churn_gbdt_learns_missing_direction_and_categories) {
    /* rows with a missing value are mostly positive: the learned default direction sends NaN with the
     * high-risk side; category 2 alone is risky: a one-vs-rest split isolates it */
    enum { N = 400 };
    float x[N * 2], y[N];
    uint32_t kind[2] = {0, 1}, nc[2] = {0, 4};
    rs = 3;
    for (int i = 0; i < N; i++) {
        bool miss = i % 4 == 0;
        x[i * 2] = miss ? NAN : (float)(urand() * 10);
        x[i * 2 + 1] = (float)(i % 4 == 1 ? 2 : (i / 4) % 3 == 0 ? 0 : (i / 4) % 3 == 1 ? 1 : 3);
        y[i] = miss ? (urand() < 0.9) : (x[i * 2 + 1] == 2 ? urand() < 0.8 : urand() < (x[i * 2] > 7 ? 0.5 : 0.05));
    }
    ulm_churn_data d = {N, 2, x, y, kind, nc};
    ulm_gbdt_params p = ulm_gbdt_params_init();
    p.n_rounds = 30;
    p.max_depth = 3;
    ulm_churn *m;
    ASSERT_STATUS(ulm_gbdt_fit(&d, NULL, &p, &m, NULL, NULL), ULM_OK);
    float miss_row[2] = {NAN, 0}, low_row[2] = {2, 0}, cat2[2] = {2, 2}, unseen[2] = {2, 9}, pr[4];
    ulm_churn_predict(m, miss_row, 1, &pr[0]);
    ulm_churn_predict(m, low_row, 1, &pr[1]);
    ulm_churn_predict(m, cat2, 1, &pr[2]);
    ulm_churn_predict(m, unseen, 1, &pr[3]);
    ASSERT_TRUE(pr[0] > 0.6f && pr[1] < 0.2f && pr[2] > 0.5f);
    ASSERT_TRUE(isfinite(pr[3]) && pr[3] > 0 && pr[3] < 1); /* an unknown code is read as missing, never a crash */
    bool has_cat = false;
    for (uint32_t i = 0; i < m->n_nodes; i++) has_cat |= (m->nodes[i].feat & ULM__TN_CAT) != 0;
    ASSERT_TRUE(has_cat);
    ulm_churn_free(m);
    return 0;
}

/* Cover-weighted expectation of tree t given the features in mask (Algorithm 1 of Lundberg et al.). */
static double exp_value(const ulm_churn *m, uint32_t node, const float *x, uint32_t mask) {
    const ulm__tnode *n = &m->nodes[node];
    if (n->feat & ULM__TN_LEAF) return n->u.value;
    uint32_t f = n->feat & ULM__TN_FEAT;
    if (mask & (1u << f)) return exp_value(m, ulm__tnode_left(m, n, x) ? n->left : n->right, x, mask);
    return (m->cover[n->left] * exp_value(m, n->left, x, mask) + m->cover[n->right] * exp_value(m, n->right, x, mask)) /
           m->cover[node];
}

ULM_TEST(churn_treeshap_matches_brute_force) {
    synth s = make_synth(600, 5);
    ulm_churn_data d = as_data(&s);
    ulm_gbdt_params p = ulm_gbdt_params_init();
    p.n_rounds = 8;
    p.max_depth = 4;
    ulm_churn *m;
    ASSERT_STATUS(ulm_gbdt_fit(&d, NULL, &p, &m, NULL, NULL), ULM_OK);
    float *scratch = malloc((ulm_churn_explain_scratch(m) + 16) * sizeof *scratch);
    double fact[5] = {1, 1, 2, 6, 24};
    for (int row = 0; row < 20; row++) {
        const float *x = s.x + (size_t)row * 4;
        float phi[4], base;
        ASSERT_STATUS(ulm_churn_shap(m, x, phi, &base, scratch), ULM_OK);
        for (uint32_t f = 0; f < 4; f++) {
            double want = 0;
            for (uint32_t S = 0; S < 16; S++) {
                if (S & (1u << f)) continue;
                int k = __builtin_popcount(S);
                double w = fact[k] * fact[4 - k - 1] / fact[4], diff = 0;
                for (uint32_t t = 0; t < m->n_trees; t++)
                    diff += exp_value(m, m->roots[t], x, S | (1u << f)) - exp_value(m, m->roots[t], x, S);
                want += w * diff;
            }
            ASSERT_NEAR(phi[f], want, 1e-4);
        }
        float mg;
        ulm_churn_margin(m, x, 1, &mg);
        ASSERT_NEAR(base + phi[0] + phi[1] + phi[2] + phi[3], mg, 1e-4);
    }
    ulm_churn_contrib top[2];
    uint32_t n;
    float *sc2 = malloc((ulm_churn_explain_scratch(m) + 16) * sizeof *sc2);
    ASSERT_STATUS(ulm_churn_top_contrib(m, s.x, top, 2, &n, sc2), ULM_OK);
    ASSERT_EQ_INT(n, 2);
    ASSERT_TRUE(fabsf(top[0].value) >= fabsf(top[1].value));
    free(scratch), free(sc2);
    ulm_churn_free(m);
    free(s.x), free(s.y);
    return 0;
}

ULM_TEST(churn_gbdt_same_model_for_any_thread_count) {
    synth s = make_synth(3000, 21);
    ulm_churn_data d = as_data(&s);
    ulm_gbdt_params p = ulm_gbdt_params_init();
    p.n_rounds = 40;
    p.subsample = 0.8f;
    p.colsample = 0.75f;
    uint8_t *b[3];
    size_t len[3];
    for (int k = 0; k < 3; k++) {
        ulm_pool *pool = k ? ulm_pool_new(k == 1 ? 2 : 4) : NULL;
        p.parallel = k ? ulm_pool_parallel : NULL;
        p.parallel_ctx = pool;
        ulm_churn *m;
        ASSERT_STATUS(ulm_gbdt_fit(&d, NULL, &p, &m, NULL, NULL), ULM_OK);
        ASSERT_STATUS(ulm_churn_encode(m, &b[k], &len[k]), ULM_OK);
        ulm_churn_free(m);
        ulm_pool_free(pool);
    }
    ASSERT_TRUE(len[0] == len[1] && len[0] == len[2]);
    ASSERT_TRUE(memcmp(b[0], b[1], len[0]) == 0 && memcmp(b[0], b[2], len[0]) == 0);
    for (int k = 0; k < 3; k++) free(b[k]);
    free(s.x), free(s.y);
    return 0;
}

ULM_TEST(churn_encode_decode_and_damage) {
    synth s = make_synth(1000, 8);
    ulm_churn_data d = as_data(&s);
    for (uint32_t fam = 0; fam < 3; fam++) { /* logreg, trees packed (layout 1), trees as a node table (layout 0) */
        ulm_churn_params p = ulm_churn_params_init();
        p.family = fam ? ULM_CHURN_GBDT : ULM_CHURN_LOGREG;
        p.calib = fam ? ULM_CALIB_ISOTONIC : ULM_CALIB_PLATT;
        p.gbdt.n_rounds = 20;
        ulm_churn *m, *m2;
        ASSERT_STATUS(ulm_churn_fit(&d, &p, &m, NULL, NULL), ULM_OK);
        uint8_t *buf;
        size_t len;
        ASSERT_STATUS(ulm__churn_encode_layout(m, fam != 2, &buf, &len), ULM_OK);
        ASSERT_EQ_INT(ulm__rd32(buf + 28), fam == 1 ? 1 : 0);
        ulm_diag dg;
        ASSERT_STATUS(ulm_churn_decode(buf, len, NULL, &m2, &dg), ULM_OK);
        for (uint32_t r = 0; r < 200; r++) {
            float a, b2;
            ulm_churn_predict(m, s.x + r * 4, 1, &a);
            ulm_churn_predict(m2, s.x + r * 4, 1, &b2);
            ASSERT_TRUE(a == b2);
        }
        ulm_churn_free(m2);
        /* every truncation fails cleanly */
        for (size_t cut = 0; cut < len; cut += (fam ? 7 : 1)) {
            ASSERT_TRUE(ulm_churn_decode(buf, cut, NULL, &m2, &dg) != ULM_OK);
            ASSERT_TRUE(m2 == NULL);
        }
        /* every single-word damage either fails with a status or gives finite scores */
        for (size_t off = 0; off + 4 <= len; off += 4) {
            uint8_t save[4];
            memcpy(save, buf + off, 4);
            ulm__wr32(buf + off, ulm__rd32(buf + off) ^ 0x40000001u);
            if (ulm_churn_decode(buf, len, NULL, &m2, &dg) == ULM_OK) {
                float pr;
                for (uint32_t r = 0; r < 20; r++) {
                    ulm_churn_predict(m2, s.x + r * 4, 1, &pr);
                    ASSERT_TRUE(pr >= 0 && pr <= 1);
                }
                ulm_churn_free(m2);
            } else {
                ASSERT_TRUE(m2 == NULL);
            }
            memcpy(buf + off, save, 4);
        }
        if (fam == 2) {
            /* a child pointing back at the root is a cycle: rejected with a message */
            size_t node0 = 32 + 8 * 4 + 8 * m->n_iso + 12 + 4 * (m->n_trees + 1);
            ulm__wr32(buf + node0 + 8, 0);
            ASSERT_STATUS(ulm_churn_decode(buf, len, NULL, &m2, &dg), ULM_ERR_FORMAT);
            ASSERT_TRUE(strstr(dg.message, "children") != NULL);
        }
        free(buf);
        ulm_churn_free(m);
    }
    free(s.x), free(s.y);
    return 0;
}

ULM_TEST(churn_calibration) {
    /* margins drawn with y ~ Bernoulli(sigmoid(2 m - 1)): Platt recovers a = 2, b = -1 */
    enum { N = 20000 };
    float *mg = malloc(N * sizeof *mg), *y = malloc(N * sizeof *y);
    rs = 99;
    for (int i = 0; i < N; i++) {
        mg[i] = (float)(urand() * 6 - 3);
        y[i] = urand() < 1 / (1 + exp(-(2.0 * mg[i] - 1))) ? 1.0f : 0.0f;
    }
    ulm_churn *m = ulm__churn_new(NULL, ULM_CHURN_LOGREG, 1);
    ASSERT_STATUS(ulm_churn_calibrate_fit(m, ULM_CALIB_PLATT, mg, y, N), ULM_OK);
    ASSERT_NEAR(m->platt_a, 2.0, 0.1);
    ASSERT_NEAR(m->platt_b, -1.0, 0.1);
    /* isotonic: pool-adjacent-violators on a hand example: (1,0) (2,1) (3,0) (4,1) -> 0, .5, .5, 1 */
    float m4[4] = {1, 2, 3, 4}, y4[4] = {0, 1, 0, 1};
    ASSERT_STATUS(ulm_churn_calibrate_fit(m, ULM_CALIB_ISOTONIC, m4, y4, 4), ULM_OK);
    ASSERT_NEAR(ulm_churn_calibrate(m, 1), 0, 1e-7);
    ASSERT_NEAR(ulm_churn_calibrate(m, 2), 0.5, 1e-7);
    ASSERT_NEAR(ulm_churn_calibrate(m, 3), 0.5, 1e-7);
    ASSERT_NEAR(ulm_churn_calibrate(m, 4), 1, 1e-7);
    ASSERT_NEAR(ulm_churn_calibrate(m, 1.5f), 0.25, 1e-6);
    ASSERT_NEAR(ulm_churn_calibrate(m, -10), 0, 1e-7);
    ulm_churn_free(m);
    free(mg), free(y);
    return 0;
}

ULM_TEST(churn_fit_refuses_one_class) {
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {1, 1, 1, 1, 1, 1};
    uint32_t kind = 0, nc = 0;
    ulm_churn_data d = {6, 1, x, y, &kind, &nc};
    ulm_churn *m;
    ulm_diag dg;
    ASSERT_STATUS(ulm_churn_fit(&d, NULL, &m, NULL, &dg), ULM_ERR_RANGE);
    ASSERT_TRUE(m == NULL && strstr(dg.message, "each class") != NULL);
    ASSERT_STATUS(ulm_gbdt_fit(&d, NULL, NULL, &m, NULL, &dg), ULM_ERR_RANGE);
    ASSERT_STATUS(ulm_logreg_fit(&d, NULL, &m, &dg), ULM_ERR_RANGE);
    return 0;
}

/* Node-walk reference of a tree model's margin. */
static float walk_margin(const ulm_churn *m, const float *x) {
    float s = m->base;
    for (uint32_t t = 0; t < m->n_trees; t++) {
        uint32_t i = m->roots[t];
        while (!(m->nodes[i].feat & ULM__TN_LEAF)) i = ulm__tnode_left(m, &m->nodes[i], x) ? m->nodes[i].left : m->nodes[i].right;
        s += m->nodes[i].u.value;
    }
    return s;
}

/* 60 depth-6 rounds over 2,500 synthetic rows: the scoring layout with category pairs. */
static ulm_churn *layout_model(synth *s) {
    *s = make_synth(2500, 17);
    ulm_churn_data d = as_data(s);
    ulm_gbdt_params p = ulm_gbdt_params_init();
    p.n_rounds = 60;
    ulm_churn *m = NULL;
    return ulm_gbdt_fit(&d, NULL, &p, &m, NULL, NULL) == ULM_OK ? m : NULL;
}

/* Unknown category codes and missing values in some rows (after fitting). */
static void damage_rows(synth *s) {
    for (uint32_t r = 0; r < 2500; r += 50) s->x[(size_t)r * 4 + 3] = 7;
    for (uint32_t r = 0; r < 2500; r += 70) s->x[(size_t)r * 4 + 3] = NAN;
}

ULM_TEST(churn_scoring_layout_matches_node_walk) {
    /* one-category splits, missing values, out-of-range codes: single rows and batches agree with the walk */
    synth s;
    ulm_churn *m = layout_model(&s);
    ASSERT_TRUE(m && m->fast_depth == 6 && m->n_ext > m->n_features); /* the layout is in use, with category pairs */
    /* and the comparison form: each feature's thresholds, then each categorical feature's pair codes, padded to
     * a multiple of 4, then the zero byte */
    ASSERT_TRUE(m->fast16 != NULL && m->n_cat_blocks >= 1 && m->cat_start[m->n_cat_blocks] + 1 == m->n_cmp);
    uint32_t num_end = m->cmp_start[m->bin_class[16]], pairs = m->cat_start[m->n_cat_blocks] - m->cat_start[0];
    ASSERT_TRUE(num_end == m->cat_start[0] && num_end % 4 == 0 && pairs % 4 == 0);
    ASSERT_TRUE(num_end >= m->bin_off[4] && num_end < m->bin_off[4] + 4 * 4);
    ASSERT_TRUE(pairs >= m->n_ext - 4 && pairs < m->n_ext - 4 + 4 * m->n_cat_blocks);
    damage_rows(&s);
    float *batch = malloc(2500 * sizeof *batch);
    ulm_churn_margin(m, s.x, 2500, batch);
    float *pb = malloc(2500 * sizeof *pb);
    ulm_churn_predict(m, s.x, 2500, pb);
    for (uint32_t r = 0; r < 2500; r++) {
        /* the same float additions in the same order: bit for bit */
        float one, p1, want = walk_margin(m, s.x + (size_t)r * 4);
        ulm_churn_margin(m, s.x + (size_t)r * 4, 1, &one);
        ulm_churn_predict(m, s.x + (size_t)r * 4, 1, &p1);
        ASSERT_TRUE(memcmp(&one, &want, sizeof one) == 0);
        ASSERT_TRUE(memcmp(&batch[r], &want, sizeof one) == 0);
        ASSERT_TRUE(memcmp(&p1, &pb[r], sizeof p1) == 0);
        /* single rows also through the comparison form (what the lane form leaves, and the wasm builds) and
         * the binned form (what models with more than ULM__CMP_MAX comparisons use) */
        uint8_t *lanes = m->lane_nodes;
        m->lane_nodes = NULL;
        ulm_churn_margin(m, s.x + (size_t)r * 4, 1, &one);
        ASSERT_TRUE(memcmp(&one, &want, sizeof one) == 0);
        uint16_t *keep = m->fast16;
        m->fast16 = NULL;
        ulm_churn_margin(m, s.x + (size_t)r * 4, 1, &one);
        m->fast16 = keep;
        m->lane_nodes = lanes;
        ASSERT_TRUE(memcmp(&one, &want, sizeof one) == 0);
    }
    /* batches through the binned form too */
    uint16_t *keep = m->fast16;
    m->fast16 = NULL;
    ulm_churn_margin(m, s.x, 2500, batch);
    m->fast16 = keep;
    for (uint32_t r = 0; r < 2500; r++) {
        float want = walk_margin(m, s.x + (size_t)r * 4);
        ASSERT_TRUE(memcmp(&batch[r], &want, sizeof want) == 0);
    }
    /* the packed nodes' bins reproduce every numeric split: x < thr exactly when bin <= k */
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const ulm__tnode *n = &m->nodes[i];
        if (n->feat & (ULM__TN_LEAF | ULM__TN_CAT)) continue;
        uint32_t f = n->feat & ULM__TN_FEAT, lo = m->bin_off[f], hi = m->bin_off[f + 1], k = lo;
        while (k < hi && m->bin_thr[k] != n->u.thr) k++;
        ASSERT_TRUE(k < hi);
        for (uint32_t j = lo + 1; j < hi; j++) ASSERT_TRUE(m->bin_thr[j - 1] < m->bin_thr[j]);
    }
    free(batch), free(pb);
    ulm_churn_free(m);
    free(s.x), free(s.y);
    return 0;
}

/* Decodes buf after setting the u32 at off to v; expects a format error whose message holds want. */
static int refused_with(uint8_t *buf, size_t len, size_t off, uint32_t v, const char *want) {
    uint32_t save = ulm__rd32(buf + off);
    ulm__wr32(buf + off, v);
    ulm_churn *m2 = NULL;
    ulm_diag dg;
    ulm_status st = ulm_churn_decode(buf, len, NULL, &m2, &dg);
    ulm__wr32(buf + off, save);
    ulm_churn_free(m2);
    if (st != ULM_ERR_FORMAT || !strstr(dg.message, want)) {
        fprintf(stderr, "word at %zu = %08x: status %d, '%s' (wanted '%s')\n", off, v, (int)st, dg.message, want);
        return 1;
    }
    return 0;
}

ULM_TEST(churn_packed_layout_matches_node_table) {
    /* one-category splits, missing values, unknown codes: the packed form (layout 1) and the node table
     * (layout 0) decode to models that score and explain bit for bit like the fitted one; the packed form is
     * smaller; damaged feature indices, bins, threshold order and tree shapes are refused by name */
    synth s;
    ulm_churn *m = layout_model(&s), *mp, *mn;
    ASSERT_TRUE(m && m->fast_depth == 6 && m->n_ext > m->n_features);
    uint8_t *bp, *bn;
    size_t lp, ln;
    ASSERT_STATUS(ulm__churn_encode_layout(m, true, &bp, &lp), ULM_OK);
    ASSERT_STATUS(ulm__churn_encode_layout(m, false, &bn, &ln), ULM_OK);
    ASSERT_TRUE(lp * 10 < ln * 6); /* 4-byte words and no child indices: well under 60% */
    ulm_diag dg;
    ASSERT_STATUS(ulm_churn_decode(bp, lp, NULL, &mp, &dg), ULM_OK);
    ASSERT_STATUS(ulm_churn_decode(bn, ln, NULL, &mn, &dg), ULM_OK);
    ASSERT_TRUE(mp->fast_depth == 6 && mp->max_depth == m->max_depth && mp->n_ext == m->n_ext);
    damage_rows(&s);
    float *scratch = malloc((ulm_churn_explain_scratch(m) + 16) * sizeof *scratch);
    for (uint32_t r = 0; r < 2500; r++) {
        const float *x = s.x + (size_t)r * 4;
        float a, b, c, want = walk_margin(m, x);
        ulm_churn_margin(m, x, 1, &a);
        ulm_churn_margin(mp, x, 1, &b);
        ulm_churn_margin(mn, x, 1, &c);
        ASSERT_TRUE(memcmp(&a, &want, 4) == 0 && memcmp(&b, &want, 4) == 0 && memcmp(&c, &want, 4) == 0);
        ASSERT_TRUE(memcmp(&want, &(float){walk_margin(mp, x)}, 4) == 0);
        if (r % 25) continue;
        float phi[3][4], base[3];
        ASSERT_STATUS(ulm_churn_shap(m, x, phi[0], &base[0], scratch), ULM_OK);
        ASSERT_STATUS(ulm_churn_shap(mp, x, phi[1], &base[1], scratch), ULM_OK);
        ASSERT_STATUS(ulm_churn_shap(mn, x, phi[2], &base[2], scratch), ULM_OK);
        ASSERT_TRUE(memcmp(phi[0], phi[1], sizeof phi[0]) == 0 && memcmp(phi[0], phi[2], sizeof phi[0]) == 0);
        ASSERT_TRUE(memcmp(base, base + 1, 4) == 0);
    }
    /* a second round trip of the decoded packed model gives the same bytes */
    uint8_t *b2;
    size_t l2;
    ASSERT_STATUS(ulm_churn_encode(mp, &b2, &l2), ULM_OK);
    ASSERT_TRUE(l2 == lp && memcmp(b2, bp, lp) == 0);
    free(b2);
    /* offsets of the packed parts: header, kinds, category counts, forest counts, pairs, threshold offsets,
     * thresholds, tree offsets, node words */
    uint32_t nf = 4, np = ulm__rd32(bp + 32 + 8 * nf + 8), nthr = ulm__rd32(bp + 32 + 8 * nf + 12);
    ASSERT_EQ_INT(ulm__rd32(bp + 28), 1);
    size_t pairs = 32 + 8 * nf + 16, offs = pairs + 4 * np, thr = offs + 4 * (nf + 1), roots = thr + 4 * nthr;
    size_t words = roots + 4 * (m->n_trees + 1);
    uint32_t root = ulm__rd32(bp + words), t0_end = ulm__rd32(bp + roots + 4);
    ASSERT_TRUE(!(root & ULM__PK_LEAF));
    uint32_t j = root >> 16 & 0x3FFF;
    int bad = 0;
    bad += refused_with(bp, lp, words, (root & ~0x3FFF0000u) | (nf + np) << 16, "extended feature");
    if (j < nf) bad += refused_with(bp, lp, words, (root & ~0xFFFFu) | (ulm__rd32(bp + offs + 4 * (j + 1)) - ulm__rd32(bp + offs + 4 * j)), "bin");
    bad += refused_with(bp, lp, words + 4 * (t0_end - 1), root, "not complete"); /* the last leaf made a split */
    bad += refused_with(bp, lp, words + 4, ULM__PK_LEAF, ""); /* the root's left subtree cut to a leaf: one leaf value too few */
    bad += refused_with(bp, lp, pairs, ulm__rd32(bp + pairs) | 0xFF0000u, "category pair");
    bad += refused_with(bp, lp, offs + 4 * nf, nthr + 1, "threshold offsets");
    for (uint32_t f = 0; f < nf; f++) /* two thresholds swapped */
        if (ulm__rd32(bp + offs + 4 * (f + 1)) - ulm__rd32(bp + offs + 4 * f) >= 2) {
            size_t o = thr + 4 * ulm__rd32(bp + offs + 4 * f);
            bad += refused_with(bp, lp, o, ulm__rd32(bp + o + 4), "ascending");
            break;
        }
    bad += refused_with(bp, lp, 28, 2, "layout");
    ASSERT_EQ_INT(bad, 0);
    free(scratch), free(bp), free(bn);
    ulm_churn_free(m), ulm_churn_free(mp), ulm_churn_free(mn);
    free(s.x), free(s.y);
    return 0;
}
