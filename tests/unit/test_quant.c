/* test_quant.c: the compact recommender formats (ulm train --quantize). Half floats against their
 * IEEE definition (every one of the 65,536 codes round-trips; rounding ties to even), the int8 x
 * int16 dot against a 64-bit reference at the overflow bounds, and int8 / fp16 bundles: section
 * sizes (the item table at most 0.27 of f32), BPR scores recomputed here in double from the
 * bundle's own int8 rows, and ALS / EASE / item-kNN within the quantisation error of the trainer. */
#include <math.h>
#include <stdlib.h>

#include "quant.h"
#include "ulm_impl.h"
#include "ulm/ulm.h"
#include "ulm/ulm_recommend.h"
#include "ulm/ulm_rectrain.h"
#include "test_catalogue.h"
#include "test_planted.h"
#include "ulm_test.h"

ULM_TEST(quant_f16_exact) {
    /* Known encodings, including subnormals, the largest half, overflow and ties to even. */
    const struct { float f; uint16_t h; } k[] = {
        {1.0f, 0x3c00}, {-2.0f, 0xc000}, {65504.0f, 0x7bff}, {65520.0f, 0x7c00}, {65519.0f, 0x7bff},
        {5.9604644775390625e-8f, 0x0001}, {2.98023223876953125e-8f, 0x0000}, {4.4703483581542969e-8f, 0x0001},
        {6.103515625e-5f, 0x0400}, {0.1f, 0x2e66}, {1.00048828125f, 0x3c00}, {1.00146484375f, 0x3c02},
        {-0.0f, 0x8000}, {INFINITY, 0x7c00}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) ASSERT_EQ_INT(ulm__f16_from_f32(k[i].f), k[i].h);
    ASSERT_TRUE(isnan(ulm__f16_to_f32(ulm__f16_from_f32(NAN))));
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ulm__f16_to_f32((uint16_t)h);
        uint32_t e = (h >> 10) & 31, m = h & 1023;
        double want = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, (int)e - 25);
        if (h & 0x8000) want = -want;
        if (isnan(want)) {
            ASSERT_TRUE(isnan(f));
            continue;
        }
        ASSERT_TRUE((double)f == want);
        ASSERT_EQ_INT(ulm__f16_from_f32(f), h);
    }
    return 0;
}

ULM_TEST(quant_q8_rows_and_dot) {
    uint32_t s = 12345;
    for (size_t f = 1; f <= 1024; f = f * 3 + 1) {
        size_t stride = ulm__q8_stride(f);
        float *y = malloc(f * sizeof *y), *x = malloc(f * sizeof *x);
        int8_t *q = malloc(stride);
        int16_t *xq = malloc(stride * sizeof *xq);
        for (size_t t = 0; t < f; t++) {
            s = s * 1664525u + 1013904223u;
            y[t] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 3.0f;
            s = s * 1664525u + 1013904223u;
            x[t] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 7.0f;
        }
        float sc = ulm__q8_row(y, f, stride, q), xs = ulm__quant_i16(x, f, stride, xq);
        int maxq = 0;
        for (size_t t = 0; t < f; t++) {
            ASSERT_TRUE(fabs(q[t] * (double)sc - y[t]) <= 0.51 * sc); /* rounding error at most half a step */
            ASSERT_TRUE(fabs(xq[t] * (double)xs - x[t]) <= 0.51 * xs);
            maxq = abs(q[t]) > maxq ? abs(q[t]) : maxq;
        }
        ASSERT_EQ_INT(maxq, 127);
        for (size_t t = f; t < stride; t++) ASSERT_TRUE(q[t] == 0 && xq[t] == 0);
        int64_t want = 0;
        for (size_t t = 0; t < stride; t++) want += (int64_t)q[t] * xq[t];
        ASSERT_TRUE(ulm__dot_q8(q, xq, stride) == want);
        /* The worst case: every product at its largest magnitude stays inside int32. */
        for (size_t t = 0; t < stride; t++) q[t] = -128, x[t < f ? t : 0] = -1.0f;
        xs = ulm__quant_i16(x, f, stride, xq);
        for (size_t t = 0; t < f; t++) xq[t] = xq[0];
        for (size_t t = f; t < stride; t++) xq[t] = xq[0];
        want = (int64_t)stride * -128 * xq[0];
        ASSERT_TRUE(want <= INT32_MAX && ulm__dot_q8(q, xq, stride) == want);
        free(y), free(x), free(q), free(xq);
    }
    return 0;
}

/* ulm__q8_next against the full scan: for rows (103: not a multiple of four) scored one by one with
 * the scorer's expression, a scan at a fixed threshold t returns, in ascending order, every row
 * scoring >= t with its exact score, for every score as t, with and without biases; a scan whose t
 * rises as a top-K heap's would (to the largest score seen) still returns every row scoring >= the
 * final t. Rows proportional to x (Cauchy-Schwarz with equality: the tightest bound) are never skipped. */
ULM_TEST(quant_q8_fused_scan_skips_exactly) {
    enum { N = 103, F = 64 };
    static int8_t q[N * F];
    static int16_t xq[F];
    float scale[N], norm[N], bias[N], full[N], s4[4], chunk[3 * ((N + ULM__Q8_CHUNK - 1) / ULM__Q8_CHUNK)];
    uint32_t s = 777, idx[4];
    for (int round = 0; round < 4; round++) {
        bool tight = round >= 2, biased = round & 1;
        for (int t = 0; t < F; t++) {
            s = s * 1664525u + 1013904223u;
            xq[t] = (int16_t)(258 * ((int)(s >> 24) % 255 - 127)); /* |x| <= 32766 */
        }
        for (uint32_t j = 0; j < N; j++) {
            for (int t = 0; t < F; t++) {
                s = s * 1664525u + 1013904223u;
                q[j * F + t] = tight && j % 5 == 0 ? (int8_t)(xq[t] / 258) : (int8_t)((int)(s >> 24) % 255 - 127);
            }
            s = s * 1664525u + 1013904223u;
            scale[j] = (float)(s >> 8) / 16777216.0f * 0.01f;
            bias[j] = biased ? ((float)(s & 255) - 128.0f) * 0.003f : 0.0f;
            norm[j] = ulm__q8_norm(q + j * F, F);
        }
        float xs = 1.0f / 32766.0f;
        for (uint32_t j = 0; j < N; j++) {
            float v = (float)ulm__dot_q8(q + j * F, xq, F) * (xs * scale[j]);
            full[j] = biased ? v + bias[j] : v;
        }
        for (uint32_t probe = 0; probe <= N + 1; probe++) {
            bool rising = probe == N + 1;
            float t = probe < N ? full[probe] : -INFINITY; /* every score as a threshold, exactly */
            bool seen[N] = {false};
            int64_t last = -1;
            uint32_t m;
            ulm__q8_scan sc;
            ulm__q8_chunks(norm, scale, biased ? bias : NULL, N, chunk);
            ulm__q8_scan_init(&sc, q, F, N, xq, xs, scale, norm, biased ? bias : NULL, chunk);
            while ((m = ulm__q8_next(&sc, t, idx, s4)) > 0) {
                bool any = false;
                for (uint32_t r = 0; r < m; r++) {
                    ASSERT_TRUE(idx[r] < N && (int64_t)idx[r] > last);
                    last = idx[r];
                    ASSERT_TRUE(s4[r] == full[idx[r]]);
                    seen[idx[r]] = true;
                    any = any || s4[r] >= t;
                }
                ASSERT_TRUE(any);
                for (uint32_t r = 0; rising && r < m; r++) t = s4[r] > t ? s4[r] : t;
            }
            for (uint32_t j = 0; j < N; j++)
                if (full[j] >= t) ASSERT_TRUE(seen[j]);
        }
    }
    return 0;
}

/* ulm__chol_cols (the Woodbury fold-in's W = L^-1 Y^T, all history rows at once): for one row
 * ulm__chol_fwd bit for bit, for more (multiples of four) each entry's sum in t order, bit for bit,
 * and every entry against a forward substitution in double, for n odd and even. */
ULM_TEST(quant_chol_cols_is_forward_substitution) {
    enum { NM = 64, MM = 20 };
    static float a[NM * NM], y[MM * NM], x[NM * MM], v[NM];
    uint32_t s = 7;
    const size_t ns[] = {13, NM}, ms[] = {1, 4, 8, MM};
    for (int ni = 0; ni < 2; ni++) {
        size_t n = ns[ni];
        for (size_t k = 0; k < MM * n; k++) {
            s = s * 1664525u + 1013904223u;
            y[k] = (float)(s >> 8) / 16777216.0f - 0.5f;
        }
        for (size_t i = 0; i < n; i++) /* a = I + sum of the rows' outer products: SPD */
            for (size_t j = 0; j < n; j++) {
                double e = i == j;
                for (size_t q = 0; q < MM; q++) e += (double)y[q * n + i] * y[q * n + j];
                a[i * n + j] = (float)e;
            }
        ASSERT_EQ_INT(ulm__chol_factor(a, n), 0);
        for (int mi = 0; mi < 4; mi++) {
            size_t m = ms[mi];
            ulm__chol_cols(a, n, y, m, x);
            for (size_t q = 0; q < m; q++) {
                double ref[NM];
                for (size_t i = 0; i < n; i++) {
                    double e = y[q * n + i];
                    for (size_t t = 0; t < i; t++) e -= (double)a[i * n + t] * ref[t];
                    ref[i] = e / a[i * n + i];
                    float f = 0; /* the same sum in float, in t order */
                    for (size_t t = 0; t < i; t++) f += a[i * n + t] * v[t];
                    v[i] = (y[q * n + i] - f) / a[i * n + i];
                }
                if (m == 1) {
                    for (size_t i = 0; i < n; i++) v[i] = y[i];
                    ulm__chol_fwd(a, v, n);
                }
                for (size_t i = 0; i < n; i++) {
                    ASSERT_TRUE(x[i * m + q] == v[i]);
                    ASSERT_NEAR(x[i * m + q], ref[i], 1e-4 * (1 + fabs(ref[i])));
                }
            }
        }
    }
    return 0;
}

/* ulm__gram_update against nh rank-one updates done one after the other, entry by entry (the
 * fold-in's definition): the lower triangles are equal bit for bit, for f with and without a
 * multiple of four, for an empty history (G itself) and in two batches. */
ULM_TEST(quant_gram_update_is_sequential_rank_one_updates) {
    enum { FM = 13, HM = 7 };
    static float g[64 * 64], a[64 * 64], ref[64 * 64], y[HM * 64], cy[HM];
    uint32_t s = 99;
    const size_t fs[] = {FM, 64};
    for (int fi = 0; fi < 2; fi++) {
        size_t f = fs[fi];
        for (size_t k = 0; k < f * f; k++) {
            s = s * 1664525u + 1013904223u;
            g[k] = (float)(s >> 8) / 16777216.0f - 0.5f;
        }
        for (size_t k = 0; k < HM * f; k++) {
            s = s * 1664525u + 1013904223u;
            y[k] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 3.0f;
        }
        for (size_t nh = 0; nh <= HM; nh++) {
            for (size_t k = 0; k < f * f; k++) ref[k] = g[k];
            for (size_t h = 0; h < nh; h++)
                for (size_t i = 0; i < f; i++) {
                    float ci = 1.7f * y[h * f + i];
                    for (size_t j = 0; j <= i; j++) ref[i * f + j] += ci * y[h * f + j];
                }
            ulm__gram_update(a, g, y, nh, 1.7f, f, cy);
            for (size_t i = 0; i < f; i++)
                for (size_t j = 0; j <= i; j++) ASSERT_TRUE(a[i * f + j] == ref[i * f + j]);
            /* In two batches, the second continuing in place (g = a): the same sums. */
            ulm__gram_update(a, g, y, nh / 2, 1.7f, f, cy);
            ulm__gram_update(a, a, y + nh / 2 * f, nh - nh / 2, 1.7f, f, cy);
            for (size_t i = 0; i < f; i++)
                for (size_t j = 0; j <= i; j++) ASSERT_TRUE(a[i * f + j] == ref[i * f + j]);
        }
    }
    return 0;
}

enum { NU = 120, NI = 300, NF = 64, K = 10 };

/* A bundle of NI items ("i0"...) with POPR and m exported in format q. */
static int bundle(const ulm_rec_model *m, ulm_rec_quant q, uint8_t **buf, size_t *len) {
    ulm_writer *w;
    if (ulm_writer_new(ULM_KIND_MODEL, NULL, &w) != ULM_OK) return 1;
    static char names[NI][8];
    const char *strs[NI];
    uint32_t lens[NI];
    ulm_test_item_names(NI, names, strs, lens);
    ulm_status s = ulm_test_catalogue(w, strs, lens, NI, m->pop);
    if (s == ULM_OK) s = ulm_rec_model_export_q(m, 1.0f, NI, q, w, NULL) /* EASE: whole rows */;
    if (s == ULM_OK) s = ulm_writer_meta(w, "model.kind", "ulm-model");
    if (s == ULM_OK) s = ulm_writer_finish(w, buf, len);
    ulm_writer_free(w);
    return s != ULM_OK;
}

/* Section tag's dtype and size in buf. */
static int section(const uint8_t *buf, size_t len, const char *tag, uint32_t *dtype, uint64_t *size) {
    ulm_bundle *b;
    ulm_section s;
    if (ulm_bundle_open(buf, len, ULM_KIND_MODEL, 0, NULL, &b, NULL) != ULM_OK) return 1;
    int bad = ulm_bundle_find(b, tag, &s) != ULM_OK;
    if (!bad) *dtype = s.dtype, *size = s.size;
    ulm_bundle_close(b);
    return bad;
}

/* Top-K of user u's training row as the history. */
static uint32_t top(const ulm_model *m, const ulm_imatrix *x, uint32_t u, uint32_t *items, float *scores) {
    ulm_recommend_opts o = ulm_recommend_opts_init();
    o.k = K;
    o.explain = 0;
    size_t nh = x->indptr[u + 1] - x->indptr[u], sz = ulm_recommend_scratch_size(m, &o, nh);
    void *scratch = malloc(sz);
    uint32_t n = 0;
    if (ulm_recommend(m, x->indices + x->indptr[u], nh, &o, scratch, sz, items, scores, NULL, NULL, &n) != ULM_OK) n = 0;
    free(scratch);
    return n;
}

/* Every user's top-K from m against ref[j] (the score of every item): the K scores match within
 * tol (relative to the largest |ref|) and no item left out beats the K-th by more than tol. */
static int check(const ulm_model *m, const ulm_imatrix *x, uint32_t u, const double *ref, double tol) {
    uint32_t items[K];
    float scores[K];
    uint32_t n = top(m, x, u, items, scores);
    double mx = 0;
    bool out[NI] = {false};
    for (uint32_t j = 0; j < NI; j++) mx = fabs(ref[j]) > mx ? fabs(ref[j]) : mx;
    for (uint32_t k = x->indptr[u]; k < x->indptr[u + 1]; k++) out[x->indices[k]] = true;
    if (n != K) return 1;
    for (uint32_t q = 0; q < n; q++) {
        if (fabs(scores[q] - ref[items[q]]) > tol * mx) {
            fprintf(stderr, "user %u rank %u item %u: %g, reference %g\n", u, q, items[q], scores[q], ref[items[q]]);
            return 2;
        }
        out[items[q]] = true;
    }
    for (uint32_t j = 0; j < NI; j++)
        if (!out[j] && ref[j] > scores[n - 1] + tol * mx) return 3;
    return 0;
}

ULM_TEST(quant_bundles_score_within_quantisation_error) {
    ulm_imatrix x;
    ASSERT_TRUE(ulm_test_planted(NU, NI, 5, 0.2, 0.02, 11, 1, &x) == 0);
    const ulm_rec_algo algos[] = {ULM_REC_BPR, ULM_REC_ALS, ULM_REC_EASE, ULM_REC_ITEMKNN};
    double *ref = malloc(NI * sizeof *ref);
    float *fr = malloc(NI * sizeof *fr);
    for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
        ulm_rec_params p = ulm_rec_params_init(algos[a]);
        p.factors = NF, p.iters = algos[a] == ULM_REC_BPR ? 20 : 6, p.reg = 5.0f, p.alpha = 2.0f;
        p.neighbours = 50, p.lambda = 20;
        ulm_rec_model rm;
        ASSERT_STATUS(ulm_rec_train(&x, &p, ulm_linalg_ref(), &rm, NULL), ULM_OK);
        float *rs = malloc(ulm_rec_scratch_floats(&rm) * sizeof *rs + 4);
        uint8_t *b32, *b8, *b16;
        size_t l32, l8, l16;
        ASSERT_TRUE(bundle(&rm, ULM_REC_QUANT_NONE, &b32, &l32) == 0);
        ASSERT_TRUE(bundle(&rm, ULM_REC_QUANT_INT8, &b8, &l8) == 0);
        ASSERT_TRUE(bundle(&rm, ULM_REC_QUANT_FP16, &b16, &l16) == 0);
        bool factors = algos[a] == ULM_REC_ALS || algos[a] == ULM_REC_BPR;
        uint32_t dt = 0;
        uint64_t z32 = 0, z8 = 0, z16 = 0;
        const char *tag = factors ? "RCIF" : "RCNW";
        ASSERT_TRUE(section(b32, l32, tag, &dt, &z32) == 0 && dt == ULM_DT_F32);
        ASSERT_TRUE(section(b8, l8, tag, &dt, &z8) == 0 && dt == (factors ? ULM_DT_Q8_ROW : ULM_DT_F16));
        ASSERT_TRUE(section(b16, l16, tag, &dt, &z16) == 0 && dt == ULM_DT_F16 && z16 * 2 == z32);
        if (factors) ASSERT_TRUE(z8 * 100 <= z32 * 27); /* 68 of 256 bytes a row */
        else ASSERT_TRUE(section(b8, l8, "RCNI", &dt, &z8) == 0 && dt == ULM_DT_U16);
        ulm_model *m8, *m16, *m32;
        ulm_load_opts lo = ulm_load_opts_init();
        lo.flags = ULM_LOAD_DEEP;
        ASSERT_STATUS(ulm_model_load(b8, l8, &lo, &m8, NULL), ULM_OK);
        ASSERT_STATUS(ulm_model_load(b16, l16, &lo, &m16, NULL), ULM_OK);
        ASSERT_STATUS(ulm_model_load(b32, l32, &lo, &m32, NULL), ULM_OK);
        ulm_bundle *bb;
        ulm_section q8;
        ASSERT_STATUS(ulm_bundle_open(b8, l8, ULM_KIND_MODEL, 0, NULL, &bb, NULL), ULM_OK);
        ulm_bundle_find(bb, "RCIF", &q8);
        for (uint32_t u = 0; u < NU; u++) {
            const uint32_t *h = x.indices + x.indptr[u];
            size_t nh = x.indptr[u + 1] - x.indptr[u];
            if (!nh) continue;
            ulm_rec_score(&rm, ULM_NONE, h, NULL, nh, fr, rs);
            for (uint32_t j = 0; j < NI; j++) ref[j] = fr[j];
            ASSERT_EQ_INT(check(m32, &x, u, ref, algos[a] == ULM_REC_ALS ? 2e-4 : 1e-6), 0);
            /* fp16 rows and weights: 11 significant bits. ALS's fold-in amplifies row error. */
            ASSERT_EQ_INT(check(m16, &x, u, ref, algos[a] == ULM_REC_ALS ? 5e-3 : 2e-3), 0);
            if (algos[a] == ULM_REC_BPR) { /* the int8 rows themselves, in double */
                double xm[NF] = {0};
                for (size_t q = 0; q < nh; q++)
                    for (uint32_t t = 0; t < NF; t++) {
                        float sc;
                        memcpy(&sc, q8.data + (size_t)NI * 64 + 4 * h[q], 4);
                        xm[t] += (double)(int8_t)q8.data[(size_t)h[q] * 64 + t] * sc / (double)nh;
                    }
                for (uint32_t j = 0; j < NI; j++) {
                    float sc;
                    memcpy(&sc, q8.data + (size_t)NI * 64 + 4 * j, 4);
                    ref[j] = rm.item_bias[j];
                    for (uint32_t t = 0; t < NF; t++) ref[j] += xm[t] * (int8_t)q8.data[(size_t)j * 64 + t] * sc;
                }
                ASSERT_EQ_INT(check(m8, &x, u, ref, 1e-4), 0);
            } else {
                ASSERT_EQ_INT(check(m8, &x, u, ref, algos[a] == ULM_REC_ALS ? 3e-2 : 2e-3), 0);
            }
        }
        ulm_bundle_close(bb);
        ulm_model_free(m8), ulm_model_free(m16), ulm_model_free(m32);
        free(b32), free(b8), free(b16), free(rs);
        ulm_rec_model_free(&rm);
    }
    free(ref), free(fr);
    ulm_imatrix_free(&x);
    return 0;
}

/* Solves A v = b in double for the SPD a[n x n] (Cholesky; a is overwritten with the factor). */
static void solve_spd(double *a, double *b, int n) {
    for (int j = 0; j < n; j++) {
        for (int k = 0; k < j; k++) a[j * n + j] -= a[j * n + k] * a[j * n + k];
        a[j * n + j] = sqrt(a[j * n + j]);
        for (int i = j + 1; i < n; i++) {
            for (int k = 0; k < j; k++) a[i * n + j] -= a[i * n + k] * a[j * n + k];
            a[i * n + j] /= a[j * n + j];
        }
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < i; k++) b[i] -= a[i * n + k] * b[k];
        b[i] /= a[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        for (int k = i + 1; k < n; k++) b[i] -= a[k * n + i] * b[k];
        b[i] /= a[i * n + i];
    }
}

/* ALS fold-in of one event (the scorer's Sherman-Morrison path over G's factor from load) and of
 * longer histories (the factorisation) against the trainer's fold-in (it factors G + (c-1) sum y y^T),
 * for f32 and int8 bundles; on the f32 bundle every explanation weight against c y_j^T A^-1 y_h
 * computed here in double, and the contributions summing to the score. */
ULM_TEST(quant_als_fold_in_matches_the_trainer) {
    enum { E = 4 };
    ulm_imatrix x;
    ASSERT_TRUE(ulm_test_planted(NU, NI, 5, 0.2, 0.02, 11, 1, &x) == 0);
    ulm_rec_params p = ulm_rec_params_init(ULM_REC_ALS);
    p.factors = NF, p.iters = 6, p.reg = 5.0f, p.alpha = 2.0f;
    ulm_rec_model rm;
    ASSERT_STATUS(ulm_rec_train(&x, &p, ulm_linalg_ref(), &rm, NULL), ULM_OK);
    float *rs = malloc(ulm_rec_scratch_floats(&rm) * sizeof *rs + 4), *fr = malloc(NI * sizeof *fr);
    double *a = malloc(NF * NF * sizeof *a), v[NF], c = 1.0 + (double)rm.alpha; /* hist_weight 1 */
    const ulm_rec_quant qs[] = {ULM_REC_QUANT_NONE, ULM_REC_QUANT_INT8};
    const uint32_t lens[] = {1, 2, 5, 20, 32, 33, 40};
    for (int qi = 0; qi < 2; qi++) {
        uint8_t *b;
        size_t len;
        ASSERT_TRUE(bundle(&rm, qs[qi], &b, &len) == 0);
        ulm_model *m;
        ASSERT_STATUS(ulm_model_load(b, len, NULL, &m, NULL), ULM_OK);
        ulm_recommend_opts o = ulm_recommend_opts_init();
        o.k = K, o.explain = E;
        size_t sz = ulm_recommend_scratch_size(m, &o, 40);
        void *scratch = malloc(sz);
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (uint32_t start = 0; start < NI; start += 37) {
                uint32_t nh = lens[li], h[40], items[K], because[K * E], n = 0;
                float scores[K], bw[K * E], mx = 0;
                for (uint32_t q = 0; q < nh; q++) h[q] = (start + 7 * q) % NI;
                ASSERT_STATUS(ulm_recommend(m, h, nh, &o, scratch, sz, items, scores, because, bw, &n), ULM_OK);
                ASSERT_EQ_INT(n, K);
                ulm_rec_score(&rm, ULM_NONE, h, NULL, nh, fr, rs);
                for (uint32_t j = 0; j < NI; j++) mx = fabsf(fr[j]) > mx ? fabsf(fr[j]) : mx;
                double tol = qi ? 3e-2 : 2e-4;
                bool in[NI] = {false};
                for (uint32_t q = 0; q < nh; q++) in[h[q]] = true;
                for (uint32_t q = 0; q < n; q++) {
                    ASSERT_TRUE(!in[items[q]]);
                    ASSERT_NEAR(scores[q], fr[items[q]], tol * mx);
                    in[items[q]] = true;
                }
                for (uint32_t j = 0; j < NI; j++) /* nothing left out beats the K-th */
                    if (!in[j]) ASSERT_TRUE(fr[j] <= scores[n - 1] + tol * mx);
                if (qi) continue;
                for (uint32_t q = 0; q < n; q++) {
                    for (int i = 0; i < NF; i++) {
                        for (int j = 0; j < NF; j++) {
                            double g = 0.5 * ((double)rm.gram[i * NF + j] + rm.gram[j * NF + i]);
                            g += i == j ? rm.reg : 0;
                            for (uint32_t r = 0; r < nh; r++)
                                g += (c - 1) * rm.item_f[h[r] * NF + i] * rm.item_f[h[r] * NF + j];
                            a[i * NF + j] = g;
                        }
                        v[i] = rm.item_f[items[q] * NF + i];
                    }
                    solve_spd(a, v, NF);
                    double total = 0, best = 0;
                    for (uint32_t r = 0; r < nh; r++) {
                        double ct = 0;
                        for (int i = 0; i < NF; i++) ct += c * v[i] * rm.item_f[h[r] * NF + i];
                        total += ct, best = ct > best ? ct : best;
                        for (uint32_t e = 0; e < E; e++)
                            if (because[q * E + e] == h[r]) ASSERT_NEAR(bw[q * E + e], ct, 1e-3 * (1 + fabs(ct)));
                    }
                    ASSERT_NEAR(total, scores[q], 1e-3 * (1 + fabs(total)));
                    if (best > 0) ASSERT_NEAR(bw[q * E], best, 1e-3 * (1 + best));
                }
            }
        free(scratch);
        ulm_model_free(m);
        free(b);
    }
    free(rs), free(fr), free(a);
    ulm_rec_model_free(&rm);
    ulm_imatrix_free(&x);
    return 0;
}

/* A bundle of NI items written section by section: BPR (algo 3, NF factors) with RCIF as given
 * (dtype, bytes) and zero biases, or item-kNN (algo 1) with one neighbour per item (ids and weights
 * as given, in dtypes nb_dt and nw_dt). */
static int raw_bundle(uint32_t algo, uint32_t dt, const void *sec, size_t len, uint32_t nb_dt, const void *nb,
                      uint32_t nw_dt, const void *nw, uint8_t **buf, size_t *blen) {
    ulm_writer *w;
    if (ulm_writer_new(ULM_KIND_MODEL, NULL, &w) != ULM_OK) return 1;
    static char names[NI][8];
    const char *strs[NI];
    uint32_t lens[NI];
    static float pop[NI], bias[NI];
    static uint32_t off[NI + 1];
    ulm_test_item_names(NI, names, strs, lens);
    for (uint32_t i = 0; i < NI; i++) pop[i] = (float)(NI - i), off[i + 1] = i + 1;
    uint8_t hd[64] = {0};
    ulm_status s = ulm_test_catalogue(w, strs, lens, NI, pop);
    hd[0] = (uint8_t)algo, hd[4] = NI & 0xff, hd[5] = NI >> 8, hd[8] = algo == 3 ? NF : 0;
    if (s == ULM_OK) s = ulm_writer_section(w, "RCHD", ULM_DT_BYTES, 1, 0, 1, 0, hd, sizeof hd);
    if (algo == 3) {
        if (s == ULM_OK) s = ulm_writer_section(w, "RCIF", dt, NI, NF, 1, 0, sec, len);
        if (s == ULM_OK) s = ulm_writer_section(w, "RCIB", ULM_DT_F32, NI, 0, 1, 0, bias, NI * 4);
    } else {
        if (s == ULM_OK) s = ulm_writer_section(w, "RCNO", ULM_DT_U32, NI + 1, 0, 1, 0, off, (NI + 1) * 4);
        if (s == ULM_OK) s = ulm_writer_section(w, "RCNI", nb_dt, NI, 0, 1, 0, nb, NI * (nb_dt == ULM_DT_U16 ? 2 : nb_dt == ULM_DT_U8 ? 1 : 4));
        if (s == ULM_OK) s = ulm_writer_section(w, "RCNW", nw_dt, NI, 0, 1, 0, nw, NI * (nw_dt == ULM_DT_F16 ? 2 : 4));
    }
    if (s == ULM_OK) s = ulm_writer_meta(w, "model.kind", "ulm-model");
    if (s == ULM_OK) s = ulm_writer_finish(w, buf, blen);
    ulm_writer_free(w);
    return s != ULM_OK;
}

/* The load status (and the section diag names) of a raw bundle, deep. */
static int load_status(uint8_t *buf, size_t len, const char *want_tag) {
    ulm_model *m = NULL;
    ulm_diag d;
    ulm_load_opts lo = ulm_load_opts_init();
    lo.flags = ULM_LOAD_DEEP;
    ulm_status s = ulm_model_load(buf, len, &lo, &m, &d);
    if (s == ULM_OK) ulm_model_free(m);
    else if (want_tag && strcmp(d.section, want_tag) != 0) s = ULM_ERR_MISUSE; /* wrong section named */
    free(buf);
    return (int)s;
}

ULM_TEST(quant_damaged_sections) {
    enum { STRIDE = 64 };
    static uint8_t q8[NI * (STRIDE + 4)];
    for (size_t i = 0; i < sizeof q8; i++) q8[i] = (uint8_t)(i * 7);
    for (uint32_t i = 0; i < NI; i++) {
        float sc = 0.01f;
        memcpy(q8 + NI * STRIDE + 4 * i, &sc, 4);
    }
    uint8_t *b;
    size_t n;
    ASSERT_TRUE(raw_bundle(3, ULM_DT_Q8_ROW, q8, sizeof q8, 0, NULL, 0, NULL, &b, &n) == 0);
    ASSERT_EQ_INT(load_status(b, n, NULL), ULM_OK);
    const float bad[] = {NAN, INFINITY, -1.0f};
    for (int k = 0; k < 3; k++) { /* a negative or non-finite row scale */
        memcpy(q8 + NI * STRIDE + 4 * 17, &bad[k], 4);
        ASSERT_TRUE(raw_bundle(3, ULM_DT_Q8_ROW, q8, sizeof q8, 0, NULL, 0, NULL, &b, &n) == 0);
        ASSERT_EQ_INT(load_status(b, n, "RCIF"), ULM_ERR_FORMAT);
    }
    /* F16 factors: a NaN is refused on deep loading. */
    static uint16_t h[NI * NF];
    for (size_t i = 0; i < NI * NF; i++) h[i] = 0x3c00;
    ASSERT_TRUE(raw_bundle(3, ULM_DT_F16, h, sizeof h, 0, NULL, 0, NULL, &b, &n) == 0);
    ASSERT_EQ_INT(load_status(b, n, NULL), ULM_OK);
    h[NF * 5 + 3] = 0x7e00;
    ASSERT_TRUE(raw_bundle(3, ULM_DT_F16, h, sizeof h, 0, NULL, 0, NULL, &b, &n) == 0);
    ASSERT_EQ_INT(load_status(b, n, "RCIF"), ULM_ERR_FORMAT);
    /* U16 neighbour ids must name items; F16 weights must be finite. */
    static uint16_t ids[NI], wts[NI];
    for (uint32_t i = 0; i < NI; i++) ids[i] = (uint16_t)((i + 1) % NI), wts[i] = 0x3800;
    ASSERT_TRUE(raw_bundle(1, 0, NULL, 0, ULM_DT_U16, ids, ULM_DT_F16, wts, &b, &n) == 0);
    ASSERT_EQ_INT(load_status(b, n, NULL), ULM_OK);
    ids[40] = NI;
    ASSERT_TRUE(raw_bundle(1, 0, NULL, 0, ULM_DT_U16, ids, ULM_DT_F16, wts, &b, &n) == 0);
    ASSERT_EQ_INT(load_status(b, n, "RCNI"), ULM_ERR_FORMAT);
    ids[40] = 41, wts[7] = 0x7c00;
    ASSERT_TRUE(raw_bundle(1, 0, NULL, 0, ULM_DT_U16, ids, ULM_DT_F16, wts, &b, &n) == 0);
    ASSERT_EQ_INT(load_status(b, n, "RCNW"), ULM_ERR_FORMAT);
    /* An unexpected dtype (U8 ids) is a format error naming the section. */
    ASSERT_TRUE(raw_bundle(1, 0, NULL, 0, ULM_DT_U8, ids, ULM_DT_F16, wts, &b, &n) == 0);
    ASSERT_EQ_INT(load_status(b, n, "RCNI"), ULM_ERR_FORMAT);
    return 0;
}
