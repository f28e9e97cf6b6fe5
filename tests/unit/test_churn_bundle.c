/* test_churn_bundle.c: churn sections in a model bundle: a round trip scores as the model did, reasons
 * merge coinciding sentences, and damaged or inconsistent churn sections are refused (never a crash). */
#include <math.h>
#include <stdlib.h>

#include "churn_store.h"
#include "ulm/ulm_churn_model.h"
#include "test_catalogue.h"
#include "ulm_test.h"

/* A small tree model over the 18 customer features: recency and overdue ratio both matter. */
static ulm_churn *small_model(void) {
    enum { N = 400 };
    static float x[N * ULM_CF_COUNT], y[N];
    static const uint32_t kind[ULM_CF_COUNT] = {0}, nc[ULM_CF_COUNT] = {0};
    uint64_t r = 3;
    for (int i = 0; i < N; i++) {
        for (int f = 0; f < ULM_CF_COUNT; f++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            x[i * ULM_CF_COUNT + f] = (float)((r >> 40) % 1000) / 10.0f;
        }
        y[i] = x[i * ULM_CF_COUNT + ULM_CF_RECENCY] + 0.5f * x[i * ULM_CF_COUNT + ULM_CF_OVERDUE] > 70 ? 1.0f : 0.0f;
    }
    ulm_churn_data d = {N, ULM_CF_COUNT, x, y, kind, nc};
    ulm_churn_params p = ulm_churn_params_init();
    p.family = ULM_CHURN_GBDT;
    p.gbdt.n_rounds = 20;
    p.gbdt.max_depth = 3;
    ulm_churn *m = NULL;
    ulm_diag dg;
    return ulm_churn_fit(&d, &p, &m, NULL, &dg) == ULM_OK ? m : NULL;
}

/* A bundle: empty catalogue plus the churn sections; names may be altered, blob damaged at one word. */
static ulm_status make_bundle(const ulm_churn *c, const char *const *names, bool customer, uint8_t **buf, size_t *len) {
    ulm_writer *w;
    ulm_status s = ulm_writer_new(ULM_KIND_MODEL, NULL, &w);
    if (s == ULM_OK) s = ulm_test_catalogue(w, NULL, NULL, 0, NULL);
    if (s == ULM_OK) s = ulm_churn_sections_add(w, c, names, NULL, customer, NULL);
    if (s == ULM_OK) s = ulm_writer_finish(w, buf, len);
    ulm_writer_free(w);
    return s;
}

ULM_TEST(churn_bundle_round_trip_and_damage) {
    ulm_churn *c = small_model();
    ASSERT_TRUE(c != NULL);
    const char *names[ULM_CF_COUNT];
    for (uint32_t f = 0; f < ULM_CF_COUNT; f++) names[f] = ulm_cust_feature_name(f);
    uint8_t *buf;
    size_t len;
    ASSERT_STATUS(make_bundle(c, names, true, &buf, &len), ULM_OK);
    ulm_model *m;
    ulm_diag d;
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_OK);
    ASSERT_EQ_INT(ulm_model_churn_set(m), ULM_CHURN_SET_CUSTOMER);
    float x[ULM_CF_COUNT] = {80, 200, 3, 0, 0, 3, 50, 0, 16, 3, 20, 5, 30, 4, 2, 0, 0, 0}, p, q;
    float *scratch = malloc(ulm_model_churn_scratch(m) * sizeof *scratch);
    ulm_churn_reason why[4];
    uint32_t n;
    ASSERT_STATUS(ulm_model_churn_score(m, x, &p, why, 4, &n, scratch), ULM_OK);
    ulm_churn_predict(c, x, 1, &q);
    ASSERT_TRUE(p == q);
    ASSERT_TRUE(n >= 1 && n <= 4);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < i; j++) ASSERT_TRUE(strcmp(why[i].text, why[j].text) != 0); /* merged */
    ASSERT_STR_EQ(why[0].text, "no purchase for 80 days, usually every 20");
    free(scratch);
    ulm_model_free(m);
    free(buf);
    /* a customer-v1 bundle whose names are not the customer features is refused */
    names[3] = "something_else";
    ASSERT_STATUS(make_bundle(c, names, true, &buf, &len), ULM_OK);
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_ERR_FORMAT);
    ASSERT_STR_EQ(d.section, "CHFN");
    free(buf);
    /* as a table model the same names are fine */
    ASSERT_STATUS(make_bundle(c, names, false, &buf, &len), ULM_OK);
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_OK);
    ASSERT_EQ_INT(ulm_model_churn_set(m), ULM_CHURN_SET_TABLE);
    ulm_model_free(m);
    free(buf);
    /* every word of the model blob damaged in turn (checksums recomputed by the writer): refused or valid,
     * never a crash (ASan runs this too) */
    uint8_t *blob;
    size_t bl;
    ASSERT_STATUS(ulm_churn_encode(c, &blob, &bl), ULM_OK);
    uint32_t refused = 0;
    for (size_t off = 0; off + 4 <= bl; off += 4) {
        ulm_churn *dc = NULL;
        uint8_t save[4];
        memcpy(save, blob + off, 4);
        blob[off] ^= 0x5A, blob[off + 3] ^= 0x81;
        ulm_status s = ulm_churn_decode(blob, bl, NULL, &dc, &d);
        if (s == ULM_OK) {
            float v[ULM_CF_COUNT] = {0};
            ulm_churn_predict(dc, v, 1, &q); /* a decoded model must score without faults */
        } else {
            ASSERT_TRUE(dc == NULL);
            refused++;
        }
        ulm_churn_free(dc);
        memcpy(blob + off, save, 4);
    }
    ASSERT_TRUE(refused > bl / 16);
    free(blob);
    ulm_churn_free(c);
    return 0;
}
