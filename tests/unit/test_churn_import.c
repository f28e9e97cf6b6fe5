/* test_churn_import.c: trees in XGBoost's array form become a churn model that scores as a direct walk of
 * those arrays; malformed trees (cycles, shared nodes, children or features out of range, non-finite
 * values) are refused. */
#include <math.h>

#include "ulm/ulm_churn_train.h"
#include "ulm_test.h"

/* The margin by walking XGBoost's arrays directly (left when x < cond, missing by default_left). */
static float walk(const ulm_xgb_tree *t, const float *x) {
    int32_t i = 0;
    while (t->left[i] >= 0) {
        float v = x[t->feature[i]];
        i = v != v ? (t->default_left[i] ? t->left[i] : t->right[i]) : v < t->cond[i] ? t->left[i] : t->right[i];
    }
    return t->cond[i];
}

ULM_TEST(churn_import_trees_score_as_walked) {
    /* tree 0: node 0 splits f0 < 0.5 -> 1 (leaf .3) | 2, node 2 splits f1 < 2 (missing right) -> 3 (-.2) | 4 (.7);
     * node ids deliberately out of preorder (children 4 and 3 swapped), plus a deleted node 5 */
    int32_t l0[] = {1, -1, 4, -1, -1, -1}, r0[] = {2, -1, 3, -1, -1, -1}, f0[] = {0, 0, 1, 0, 0, 0};
    float c0[] = {0.5f, 0.3f, 2.0f, 0.7f, -0.2f, 9.0f}, h0[] = {10, 4, 6, 3, 3, 0};
    uint8_t d0[] = {1, 0, 0, 0, 0, 0};
    int32_t l1[] = {-1}, r1[] = {-1}, f1[] = {0};
    float c1[] = {-0.05f}, h1[] = {10};
    uint8_t d1[] = {0};
    ulm_xgb_tree t[2] = {{6, l0, r0, f0, c0, d0, h0}, {1, l1, r1, f1, c1, d1, h1}};
    ulm_churn *m;
    ulm_diag d;
    ASSERT_STATUS(ulm_churn_from_trees(2, 0.25f, t, 2, &m, &d), ULM_OK);
    const float rows[][2] = {{0, 0}, {1, 1}, {1, 3}, {NAN, 3}, {1, NAN}, {NAN, NAN}, {0.5f, 2}};
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        float mg, p;
        ulm_churn_margin(m, rows[i], 1, &mg);
        ASSERT_NEAR(mg, 0.25f + walk(&t[0], rows[i]) + walk(&t[1], rows[i]), 1e-6);
        ulm_churn_predict(m, rows[i], 1, &p);
        ASSERT_NEAR(p, 1 / (1 + exp(-(double)mg)), 1e-6); /* uncalibrated: the logistic of the margin */
    }
    ulm_churn_free(m);
    /* damage, one at a time */
    l0[2] = 0; /* a cycle back to the root */
    ASSERT_STATUS(ulm_churn_from_trees(2, 0.25f, t, 2, &m, &d), ULM_ERR_FORMAT);
    l0[2] = 1; /* node 1 shared by two parents */
    ASSERT_STATUS(ulm_churn_from_trees(2, 0.25f, t, 2, &m, &d), ULM_ERR_FORMAT);
    l0[2] = 6; /* out of range */
    ASSERT_STATUS(ulm_churn_from_trees(2, 0.25f, t, 2, &m, &d), ULM_ERR_FORMAT);
    l0[2] = 4;
    f0[2] = 2; /* feature 2 of 2 */
    ASSERT_STATUS(ulm_churn_from_trees(2, 0.25f, t, 2, &m, &d), ULM_ERR_FORMAT);
    f0[2] = 1;
    c0[3] = NAN;
    ASSERT_STATUS(ulm_churn_from_trees(2, 0.25f, t, 2, &m, &d), ULM_ERR_FORMAT);
    c0[3] = 0.7f;
    ASSERT_STATUS(ulm_churn_from_trees(2, NAN, t, 2, &m, &d), ULM_ERR_FORMAT);
    ASSERT_TRUE(m == NULL);
    ASSERT_STATUS(ulm_churn_from_trees(2, 0.25f, t, 2, &m, &d), ULM_OK);
    ulm_churn_free(m);
    return 0;
}
