/* test_recs_bundle.c: recommenders in the bundle. Each algorithm is trained, exported, loaded and
 * scored from histories by the core (ulm_recommend); the answers are checked against the
 * trainer's own scorer (ulm_rec_score), explanations against contributions recomputed here
 * (neighbour weights; ALS's y_j^T W y_h in double precision), and damaged recommender sections
 * against the exact status and section the loader must report. */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm.h"
#include "ulm/ulm_recommend.h"
#include "ulm/ulm_rectrain.h"
#include "test_catalogue.h"
#include "test_damage.h"
#include "test_planted.h"
#include "ulm_test.h"

enum { NU = 80, NI = 48 };

static char text_buf[NI][32];
static const char *texts[NI];
static uint32_t text_lens[NI];

/* Item texts sharing a word per group, so content neighbours exist. */
static void make_texts(void) {
    static const char *group[] = {"red mug", "blue lamp", "green bag"};
    for (uint32_t i = 0; i < NI; i++) {
        snprintf(text_buf[i], sizeof text_buf[i], "%s n%u", group[i % 3], i % 5);
        texts[i] = text_buf[i];
        text_lens[i] = (uint32_t)strlen(text_buf[i]);
    }
}

/* A bundle with a catalogue of NI items ("i0".."i47"), POPR from m->pop and m's sections. */
static int make_bundle(const ulm_rec_model *m, float hist_w, uint32_t keep, uint8_t **buf, size_t *len) {
    ulm_writer *w;
    if (ulm_writer_new(ULM_KIND_MODEL, NULL, &w) != ULM_OK) return 1;
    char names[NI][8];
    const char *strs[NI];
    uint32_t lens[NI];
    ulm_test_item_names(NI, names, strs, lens);
    ulm_status s = ulm_test_catalogue(w, strs, lens, NI, m->pop);
    if (s == ULM_OK) s = ulm_rec_model_export(m, hist_w, keep, w, NULL);
    if (s == ULM_OK) s = ulm_writer_meta(w, "model.kind", "ulm-model");
    if (s == ULM_OK) s = ulm_writer_finish(w, buf, len);
    ulm_writer_free(w);
    return s != ULM_OK;
}

static int train(ulm_rec_algo algo, const ulm_imatrix *x, ulm_rec_model *m) {
    ulm_rec_params p = ulm_rec_params_init(algo);
    p.factors = 8;
    p.iters = algo == ULM_REC_BPR ? 30 : 10;
    p.reg = 0.5f;
    p.alpha = 2.0f;
    p.neighbours = 10;
    p.lambda = 20;
    p.item_text = texts;
    p.item_text_len = text_lens;
    return ulm_rec_train(x, &p, ulm_linalg_ref(), m, NULL) != ULM_OK;
}

/* For every user's training row as the history: the bundle's top-K equals the trainer's
 * scores (the returned scores match, and nothing left out beats the K-th). */
static int check_against_trainer(ulm_rec_algo algo, const ulm_imatrix *x, const ulm_rec_model *rm,
                                 const ulm_model *m, double tol) {
    enum { K = 8 };
    ulm_recommend_opts o = ulm_recommend_opts_init();
    o.k = K;
    o.explain = 0;
    size_t sz = ulm_recommend_scratch_size(m, &o, NI);
    void *scratch = malloc(sz);
    float *ref = malloc(NI * sizeof *ref), *rs = malloc(ulm_rec_scratch_floats(rm) * sizeof *rs + 4);
    int bad = 0;
    for (uint32_t u = 0; u < NU && !bad; u++) {
        const uint32_t *h = x->indices + x->indptr[u];
        size_t nh = x->indptr[u + 1] - x->indptr[u];
        uint32_t items[K], n;
        float scores[K];
        if (ulm_recommend(m, h, nh, &o, scratch, sz, items, scores, NULL, NULL, &n) != ULM_OK) bad = 1;
        if (nh == 0) continue; /* popularity: covered elsewhere */
        ulm_rec_score(rm, ULM_NONE, h, NULL, nh, ref, rs);
        bool in_h[NI] = {false}, chosen[NI] = {false};
        for (size_t q = 0; q < nh; q++) in_h[h[q]] = true;
        if (n != K) bad = 2;
        for (uint32_t q = 0; q < n && !bad; q++) {
            if (in_h[items[q]]) bad = 3;
            if (fabs(scores[q] - ref[items[q]]) > tol * (1 + fabs(ref[items[q]]))) bad = 4;
            if (q && scores[q] > scores[q - 1]) bad = 5;
            chosen[items[q]] = true;
        }
        for (uint32_t j = 0; j < NI && !bad; j++)
            if (!in_h[j] && !chosen[j] && ref[j] > scores[n - 1] + tol * (1 + fabs(ref[j]))) bad = 6;
        if (bad) fprintf(stderr, "%s: user %u: mismatch %d\n", ulm_rec_algo_name(algo), u, bad);
    }
    free(scratch), free(ref), free(rs);
    return bad;
}

ULM_TEST(recs_bundle_every_algo_scores_like_the_trainer) {
    make_texts();
    ulm_imatrix x;
    ASSERT_TRUE(ulm_test_planted(NU, NI, 3, 0.35, 0.04, 7, 1, &x) == 0);
    const ulm_rec_algo algos[] = {ULM_REC_POP, ULM_REC_ITEMKNN, ULM_REC_ALS, ULM_REC_BPR, ULM_REC_EASE, ULM_REC_CONTENT,
                                  ULM_REC_HYBRID};
    for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
        ulm_rec_model rm;
        ASSERT_TRUE(train(algos[a], &x, &rm) == 0);
        uint8_t *buf;
        size_t len;
        /* ALS folds a history in with r = 1, as the trainer's scorer does with w == NULL; EASE
         * keeps whole rows, so its scores are exact. */
        ASSERT_TRUE(make_bundle(&rm, 1.0f, NI, &buf, &len) == 0);
        ulm_model *m;
        ulm_diag d;
        ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_OK);
        ASSERT_STR_EQ(ulm_model_recs_algo(m), ulm_rec_algo_name(algos[a]));
        if (algos[a] != ULM_REC_POP)
            ASSERT_EQ_INT(check_against_trainer(algos[a], &x, &rm, m, algos[a] == ULM_REC_ALS ? 2e-4 : 1e-6), 0);
        ulm_model_free(m);
        free(buf);
        ulm_rec_model_free(&rm);
    }
    ulm_imatrix_free(&x);
    return 0;
}

/* Recommends for history h with explain = 16 (everything positive), returning n. */
static uint32_t recommend_explained(const ulm_model *m, const uint32_t *h, size_t nh, uint32_t k, uint32_t *items,
                                    float *scores, uint32_t *because, float *bw) {
    ulm_recommend_opts o = ulm_recommend_opts_init();
    o.k = k;
    o.explain = ULM_RECOMMEND_MAX_EXPLAIN;
    size_t sz = ulm_recommend_scratch_size(m, &o, nh);
    void *scratch = malloc(sz);
    uint32_t n = 0;
    if (ulm_recommend(m, h, nh, &o, scratch, sz, items, scores, because, bw, &n) != ULM_OK) n = 0;
    free(scratch);
    return n;
}

ULM_TEST(recs_bundle_explanations) {
    make_texts();
    ulm_imatrix x;
    ASSERT_TRUE(ulm_test_planted(NU, NI, 3, 0.35, 0.04, 7, 1, &x) == 0);
    enum { K = 6, E = ULM_RECOMMEND_MAX_EXPLAIN };
    const uint32_t h[] = {0, 3, 7, 9, 12, 30};
    const size_t nh = sizeof h / sizeof h[0];
    uint32_t items[K], because[K * E], n;
    float scores[K], bw[K * E];
    /* item-kNN: reasons are the history items whose neighbour rows hold the item, by weight,
     * and (all of them being positive here) they add up to the score. */
    ulm_rec_model rm;
    ASSERT_TRUE(train(ULM_REC_ITEMKNN, &x, &rm) == 0);
    uint8_t *buf;
    size_t len;
    ASSERT_TRUE(make_bundle(&rm, 1.0f, NI, &buf, &len) == 0);
    ulm_model *m;
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, NULL), ULM_OK);
    n = recommend_explained(m, h, nh, K, items, scores, because, bw);
    ASSERT_EQ_INT(n, K);
    for (uint32_t q = 0; q < n; q++) {
        double sum = 0;
        uint32_t expect = 0;
        for (size_t r = 0; r < nh; r++)
            for (size_t k = rm.nb_ptr[h[r]]; k < rm.nb_ptr[h[r] + 1]; k++)
                if (rm.nb_idx[k] == items[q] && rm.nb_w[k] > 0) expect++, sum += rm.nb_w[k];
        uint32_t got = 0;
        for (; got < E && because[q * E + got] != ULM_NONE; got++) {
            float w = 0;
            for (size_t k = rm.nb_ptr[because[q * E + got]]; k < rm.nb_ptr[because[q * E + got] + 1]; k++)
                if (rm.nb_idx[k] == items[q]) w = rm.nb_w[k];
            ASSERT_NEAR(bw[q * E + got], w, 0);
            if (got) ASSERT_TRUE(bw[q * E + got] <= bw[q * E + got - 1]);
        }
        ASSERT_EQ_INT(got, expect);
        ASSERT_NEAR(sum, scores[q], 1e-5);
    }
    ulm_model_free(m);
    free(buf);
    ulm_rec_model_free(&rm);

    /* ALS: contribution of h to j is c * y_j^T W y_h with W = (Y^T Y + reg I + sum (c-1) y y^T)^-1,
     * recomputed here in double precision by Gauss-Jordan elimination. */
    ASSERT_TRUE(train(ULM_REC_ALS, &x, &rm) == 0);
    const float hw = 3.0f;
    ASSERT_TRUE(make_bundle(&rm, hw, NI, &buf, &len) == 0);
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, NULL), ULM_OK);
    n = recommend_explained(m, h, nh, K, items, scores, because, bw);
    ASSERT_EQ_INT(n, K);
    enum { F = 8 };
    double A[F][2 * F], c = 1.0 + (double)rm.alpha * hw;
    for (int i = 0; i < F; i++)
        for (int j = 0; j < F; j++) {
            double g = 0.5 * ((double)rm.gram[i * F + j] + rm.gram[j * F + i]) + (i == j ? rm.reg : 0);
            for (size_t r = 0; r < nh; r++) g += (c - 1) * rm.item_f[h[r] * F + i] * rm.item_f[h[r] * F + j];
            A[i][j] = g;
            A[i][F + j] = i == j;
        }
    for (int col = 0; col < F; col++) {
        for (int r = 0; r < F; r++) {
            if (r == col) continue;
            double f = A[r][col] / A[col][col];
            for (int k = 0; k < 2 * F; k++) A[r][k] -= f * A[col][k];
        }
    }
    for (uint32_t q = 0; q < n; q++) {
        double contrib[6], total = 0;
        for (size_t r = 0; r < nh; r++) {
            double s = 0;
            for (int i = 0; i < F; i++)
                for (int j = 0; j < F; j++)
                    s += rm.item_f[items[q] * F + i] * (A[i][F + j] / A[i][i]) * rm.item_f[h[r] * F + j];
            contrib[r] = c * s;
            total += contrib[r];
        }
        ASSERT_NEAR(total, scores[q], 1e-3 * (1 + fabs(total))); /* the decomposition sums to the score */
        for (uint32_t e = 0; e < E && because[q * E + e] != ULM_NONE; e++) {
            size_t r = 0;
            while (h[r] != because[q * E + e]) r++;
            ASSERT_NEAR(bw[q * E + e], contrib[r], 1e-3 * (1 + fabs(contrib[r])));
        }
        uint32_t positive = 0, got = 0;
        for (size_t r = 0; r < nh; r++) positive += contrib[r] > 1e-4;
        while (got < E && because[q * E + got] != ULM_NONE) got++;
        ASSERT_TRUE(got >= positive && got <= nh);
    }
    ulm_model_free(m);
    free(buf);
    ulm_rec_model_free(&rm);
    ulm_imatrix_free(&x);
    return 0;
}

ULM_TEST(recs_bundle_rules_and_fallback) {
    make_texts();
    ulm_imatrix x;
    ASSERT_TRUE(ulm_test_planted(NU, NI, 3, 0.35, 0.04, 7, 1, &x) == 0);
    ulm_rec_model rm;
    ASSERT_TRUE(train(ULM_REC_EASE, &x, &rm) == 0);
    uint8_t *buf;
    size_t len;
    ASSERT_TRUE(make_bundle(&rm, 1.0f, 5, &buf, &len) == 0);
    ulm_model *m;
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, NULL), ULM_OK);
    uint32_t items[NI], n, pop_items[NI], pn;
    float scores[NI], pop_scores[NI];
    ulm_recommend_opts o = ulm_recommend_opts_init();
    o.k = NI;
    o.explain = 0;
    size_t sz = ulm_recommend_scratch_size(m, &o, 8);
    void *scratch = malloc(sz);
    /* Empty history: exactly the popularity ranking of ulm_recs_topk. */
    ASSERT_STATUS(ulm_recommend(m, NULL, 0, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_STATUS(ulm_recs_topk(m, NULL, 0, NI, pop_items, pop_scores, &pn), ULM_OK);
    ASSERT_EQ_INT(n, pn);
    for (uint32_t q = 0; q < n; q++) ASSERT_EQ_INT(items[q], pop_items[q]);
    /* A history (with repeats and an out-of-range index): the whole catalogue minus the history,
     * model-scored items first, the rest (score 0) in popularity order. */
    const uint32_t h[] = {4, 1, 4, 999, 1};
    ASSERT_STATUS(ulm_recommend(m, h, 5, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_OK);
    ASSERT_EQ_INT(n, NI - 2);
    uint32_t first_zero = n;
    for (uint32_t q = 0; q < n; q++) {
        ASSERT_TRUE(items[q] != 1 && items[q] != 4);
        if (scores[q] == 0 && first_zero == n) first_zero = q;
    }
    uint32_t prev = 0;
    for (uint32_t q = first_zero, r = 0; q < n; q++) { /* popularity order among the zeros */
        if (scores[q] != 0) continue;
        while (pop_items[r] != items[q]) r++;
        ASSERT_TRUE(q == first_zero || r > prev);
        prev = r;
    }
    /* Misuse: too little scratch, k without outputs, explain without a because array. */
    ASSERT_STATUS(ulm_recommend(m, h, 5, &o, scratch, 8, items, scores, NULL, NULL, &n), ULM_ERR_MISUSE);
    ASSERT_STATUS(ulm_recommend(m, h, 5, &o, scratch, sz, NULL, scores, NULL, NULL, &n), ULM_ERR_MISUSE);
    o.explain = 2;
    ASSERT_STATUS(ulm_recommend(m, h, 5, &o, scratch, sz, items, scores, NULL, NULL, &n), ULM_ERR_MISUSE);
    free(scratch);
    ulm_model_free(m);
    free(buf);
    ulm_rec_model_free(&rm);
    ulm_imatrix_free(&x);
    return 0;
}

/* ---- damage ----------------------------------------------------------------------------- */

ULM_TEST(recs_bundle_damage) {
    make_texts();
    ulm_imatrix x;
    ASSERT_TRUE(ulm_test_planted(NU, NI, 3, 0.35, 0.04, 7, 1, &x) == 0);
    ulm_rec_model als, knn, hyb;
    ASSERT_TRUE(train(ULM_REC_ALS, &x, &als) == 0);
    ASSERT_TRUE(train(ULM_REC_ITEMKNN, &x, &knn) == 0);
    ASSERT_TRUE(train(ULM_REC_HYBRID, &x, &hyb) == 0);
    uint8_t *a, *k, *h;
    size_t alen, klen, hlen;
    ASSERT_TRUE(make_bundle(&als, 4.0f, 100, &a, &alen) == 0);
    ASSERT_TRUE(make_bundle(&knn, 4.0f, 100, &k, &klen) == 0);
    ASSERT_TRUE(make_bundle(&hyb, 4.0f, 100, &h, &hlen) == 0);
    uint32_t nan_bits = 0x7FC00000u, inf_bits = 0x7F800000u, neg1 = 0xBF800000u;
    /* RCHD fields. */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCHD", 0, 0, false, ULM_ERR_FORMAT, "RCHD"), 0);     /* algo 0 */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCHD", 0, 99, false, ULM_ERR_FORMAT, "RCHD"), 0);    /* unknown algo */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCHD", 4, NI + 1, false, ULM_ERR_FORMAT, "RCHD"), 0); /* item count */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCHD", 8, 0, false, ULM_ERR_FORMAT, "RCHD"), 0);     /* factors 0 */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCHD", 8, 16, false, ULM_ERR_FORMAT, "RCIF"), 0);    /* factors vs RCIF */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCHD", 16, nan_bits, false, ULM_ERR_FORMAT, "RCHD"), 0); /* alpha NaN */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCHD", 20, neg1, false, ULM_ERR_FORMAT, "RCHD"), 0); /* weight < 0 */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCHD", 44, 1, false, ULM_ERR_FORMAT, "RCHD"), 0);    /* reserved */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCHD", 20, 2, true, ULM_ERR_FORMAT, "RCHD"), 0);     /* dtype */
    ASSERT_EQ_INT(expect_damage(k, klen, "RCHD", 0, 2, false, ULM_ERR_FORMAT, "RCHD"), 0);     /* kNN called ALS */
    /* Factor sections: non-finite values, asymmetric or non-positive Gram, a missing section. */
    ASSERT_EQ_INT(expect_damage(a, alen, "RCIF", 4 * 17, inf_bits, false, ULM_ERR_FORMAT, "RCIF"), 0);
    ASSERT_EQ_INT(expect_damage(a, alen, "RCGR", 4 * 1, 0x3F800000u, false, ULM_ERR_FORMAT, "RCGR"), 0);
    ASSERT_EQ_INT(expect_damage(a, alen, "RCGR", 0, neg1, false, ULM_ERR_FORMAT, "RCGR"), 0);
    ASSERT_EQ_INT(expect_damage(a, alen, "RCGR", 16, 'X' | 'X' << 8 | 'X' << 16 | 'X' << 24, true, ULM_ERR_FORMAT, "RCGR"), 0);
    /* Neighbour lists: an index past the catalogue, decreasing offsets, a wrong end, NaN weight. */
    ASSERT_EQ_INT(expect_damage(k, klen, "RCNI", 0, NI, false, ULM_ERR_FORMAT, "RCNI"), 0);
    ASSERT_EQ_INT(expect_damage(k, klen, "RCNO", 4, 0xFFFFu, false, ULM_ERR_FORMAT, "RCNO"), 0);
    ASSERT_EQ_INT(expect_damage(k, klen, "RCNO", 4 * NI, 3, false, ULM_ERR_FORMAT, "RCNO"), 0);
    ASSERT_EQ_INT(expect_damage(k, klen, "RCNW", 8, nan_bits, false, ULM_ERR_FORMAT, "RCNW"), 0);
    ASSERT_EQ_INT(expect_damage(h, hlen, "RCCI", 4, NI + 7, false, ULM_ERR_FORMAT, "RCCI"), 0);
    ASSERT_EQ_INT(expect_damage(h, hlen, "RCPP", 0, neg1, false, ULM_ERR_FORMAT, "RCPP"), 0);
    /* Truncation at every offset and one flipped bit per byte of the recommender sections:
     * always an error, never a crash (the CRCs catch flips). */
    for (size_t cut = 0; cut < alen; cut += 37) {
        ulm_model *m;
        ASSERT_TRUE(ulm_model_load(a, cut, NULL, &m, NULL) != ULM_OK);
    }
    uint8_t *e = entry(a, "RCHD");
    for (uint64_t off = rd64(e); off < alen; off += 3) {
        a[off] ^= 0x10;
        ulm_model *m;
        ulm_status s = ulm_model_load(a, alen, NULL, &m, NULL);
        a[off] ^= 0x10;
        if (s == ULM_OK) { /* padding bytes are zero-checked, data bytes CRC-checked: never OK */
            fprintf(stderr, "flip at %llu loaded\n", (unsigned long long)off);
            return 1;
        }
    }
    free(a), free(k), free(h);
    ulm_rec_model_free(&als), ulm_rec_model_free(&knn), ulm_rec_model_free(&hyb);
    ulm_imatrix_free(&x);
    return 0;
}
