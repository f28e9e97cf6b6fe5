/* test_churn_lanes.c: the lane form of tree models (churn_lanes.c, AVX2) against the node walk, bit for bit:
 * every depth it takes, one to four slot tables, one-category splits, values exactly on and just below the
 * thresholds, missing values and unknown codes (refused by the lanes, scored by the walk); and the models it
 * must leave to the other forms (too deep, too many slots). On a machine without AVX2 the lane form is
 * never built, which the tests check instead. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn_impl.h"
#include "ulm/ulm_churn_train.h"
#include "ulm_test.h"

static uint64_t lane_rs = 777;
static double lane_rand(void) { return ulm_test_uniform(&lane_rs); }

/* A table of n rows: n_num numeric features (feature 0 missing in a tenth of the rows) and, when cats > 0, one
 * categorical feature with cats categories; labels from a logistic model over all of them. */
typedef struct lane_table {
    uint32_t n, nf;
    float *x, *y;
    uint32_t *kind, *n_cats;
} lane_table;

static lane_table lane_make(uint32_t n, uint32_t n_num, uint32_t cats, uint64_t seed) {
    uint32_t nf = n_num + (cats ? 1 : 0);
    lane_table t = {n, nf, malloc(sizeof(float) * n * nf), malloc(sizeof(float) * n), calloc(nf, 4), calloc(nf, 4)};
    lane_rs = seed;
    if (cats) t.kind[n_num] = ULM_FEAT_CAT, t.n_cats[n_num] = cats;
    for (uint32_t r = 0; r < n; r++) {
        float *x = t.x + (size_t)r * nf;
        double z = 0;
        for (uint32_t f = 0; f < n_num; f++) {
            x[f] = (float)(lane_rand() * 4 - 2);
            z += (f % 3 == 0 ? 1.0 : -0.7) * x[f] / (1 + f / 8);
        }
        if (lane_rand() < 0.1) x[0] = NAN;
        if (cats) {
            x[n_num] = (float)(uint32_t)(lane_rand() * cats);
            z += ((uint32_t)x[n_num] % 5) * 0.6 - 1.2;
        }
        t.y[r] = lane_rand() < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
    }
    return t;
}

static void lane_free(lane_table *t) { free(t->x), free(t->y), free(t->kind), free(t->n_cats); }

static ulm_churn *lane_fit(const lane_table *t, uint32_t rounds, uint32_t depth) {
    ulm_churn_data d = {t->n, t->nf, t->x, t->y, t->kind, t->n_cats};
    ulm_gbdt_params p = ulm_gbdt_params_init();
    p.n_rounds = rounds;
    p.max_depth = depth;
    p.colsample = 0.8f; /* spreads the splits over more features */
    ulm_churn *m = NULL;
    return ulm_gbdt_fit(&d, NULL, &p, &m, NULL, NULL) == ULM_OK ? m : NULL;
}

/* Every row of t, then copies moved onto a threshold and just below it, an unknown code and a NaN: one-row
 * margins (lanes when built, else the other forms) equal the node walk bit for bit; the lane form scores
 * exactly the rows it does not refuse. Returns 0 when all agree. */
static int lanes_agree(const ulm_churn *m, const lane_table *t) {
    float *x = malloc(sizeof(float) * t->nf);
    int bad = 0;
    for (uint32_t r = 0; r < t->n && !bad; r++)
        for (uint32_t v = 0; v < 4 && !bad; v++) {
            memcpy(x, t->x + (size_t)r * t->nf, sizeof(float) * t->nf);
            uint32_t f = r % t->nf;
            if (v == 1 || v == 2) { /* on a threshold of a feature some split reads, or just below it */
                uint32_t n = m->bin_off[f + 1] - m->bin_off[f];
                if (n && t->kind[f] != ULM_FEAT_CAT) {
                    float thr = m->bin_thr[m->bin_off[f] + r % n];
                    x[f] = v == 1 ? thr : nextafterf(thr, -INFINITY);
                }
            } else if (v == 3) {
                x[f] = t->kind[f] == ULM_FEAT_CAT ? (float)t->n_cats[f] + 3 : NAN;
            }
            float want = ulm__churn_walk_sum(m, x), one, lanes;
            ulm_churn_margin(m, x, 1, &one);
            bool took = m->lane_nodes && ulm__churn_lanes_sum(m, x, &lanes);
            bool refuse = false; /* what the lanes must refuse: a NaN or an unknown code some split reads */
            for (uint32_t g = 0; g < t->nf; g++)
                if (m->bin_off[g + 1] > m->bin_off[g] && x[g] != x[g]) refuse = true;
            for (uint32_t c = 0; m->lane_nodes && c < m->n_cat_blocks; c++) {
                uint32_t g = m->cat_feat[c];
                if (!(x[g] >= 0 && x[g] < (float)t->n_cats[g])) refuse = true;
            }
            if (memcmp(&one, &want, sizeof one) != 0) bad = 1;
            if (m->lane_nodes && (took == refuse || (took && memcmp(&lanes, &want, sizeof want) != 0))) bad = 2;
            if (bad) fprintf(stderr, "row %u variant %u: margin %.9g lanes %s %.9g walk %.9g\n", r, v, one,
                             took ? "took" : "refused", took ? lanes : 0.0f, want);
        }
    free(x);
    return bad;
}

ULM_TEST(churn_lanes_match_walk_at_every_depth) {
    /* depths 1-6 take the lane form (AVX2 machines), 7 does not; every row agrees with the walk either way */
    lane_table t = lane_make(1200, 6, 9, 31);
    for (uint32_t depth = 1; depth <= 7; depth++) {
        ulm_churn *m = lane_fit(&t, 40, depth);
        ASSERT_TRUE(m != NULL && m->fast_depth >= 1);
        bool want = ulm__churn_lanes_width() != 0 && m->fast_depth <= ULM__LANES_DEPTH;
        ASSERT_TRUE((m->lane_nodes != NULL) == want);
        if (want) { /* with category pairs once the trees are deep enough to split on the code */
            ASSERT_TRUE(m->lane_tables == 1 && m->n_cat_blocks <= 1 && (depth < 3 || m->n_cat_blocks == 1));
            ASSERT_TRUE(m->n_cat_blocks == 0 || m->cat_feat[0] == 6);
        }
        ASSERT_EQ_INT(lanes_agree(m, &t), 0);
        ulm_churn_free(m);
    }
    lane_free(&t);
    return 0;
}

ULM_TEST(churn_lanes_match_walk_for_one_to_four_tables) {
    /* 10, 24, 40 and 60 features: one to four 16-slot tables (a lane's slot read from the right one) */
    static const uint32_t widths[4] = {10, 24, 40, 60};
    for (uint32_t i = 0; i < 4; i++) {
        lane_table t = lane_make(1500, widths[i], 40, 50 + i);
        ulm_churn *m = lane_fit(&t, 60, 6);
        ASSERT_TRUE(m != NULL);
        if (m->lane_nodes) {
            uint32_t slots = m->bin_class[16] + m->n_cat_blocks;
            ASSERT_EQ_INT(m->lane_tables, (slots + 15) / 16);
            ASSERT_TRUE(slots > 16 * i); /* the features really reach the i-th table */
        } else {
            ASSERT_TRUE(ulm__churn_lanes_width() == 0);
        }
        ASSERT_EQ_INT(lanes_agree(m, &t), 0);
        ulm_churn_free(m);
        lane_free(&t);
    }
    return 0;
}

ULM_TEST(churn_lanes_leave_wide_models_to_the_other_forms) {
    /* 90 features, most of them used: more than 64 slots, so no lane form, and the comparison form scores */
    lane_table t = lane_make(2000, 90, 0, 9);
    ulm_churn *m = lane_fit(&t, 80, 6);
    ASSERT_TRUE(m != NULL && m->bin_class[16] > 64);
    ASSERT_TRUE(m->lane_nodes == NULL && m->fast16 != NULL);
    ASSERT_EQ_INT(lanes_agree(m, &t), 0);
    ulm_churn_free(m);
    lane_free(&t);
    return 0;
}
