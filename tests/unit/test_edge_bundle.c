/* test_edge_bundle.c: the edge bundle's compact sections (`ulm train --compact`, docs/format.md): a
 * bundle with front-coded ids (ITIC), F16 popularity, the ALS Gram triangle (RCGT) and sparse cycles
 * (RCRS) loads the same ids, Gram matrix and cycles as the plain one (ITID, F32 POPR, RCGR, RCRP),
 * ranks popularity as the f32 scores do when F16 is used (and refuses F16 when it would not), recommends identically from every user's
 * history, and damaged compact sections fail with ERR_FORMAT naming the section. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "export_edge.h"
#include "quant.h"
#include "recs_model_impl.h"
#include "ulm/ulm.h"
#include "ulm/ulm_reccycle.h"
#include "ulm/ulm_recommend.h"
#include "ulm/ulm_rectrain.h"
#include "ulm_model_impl.h"
#include "test_damage.h"
#include "test_planted.h"
#include "ulm_test.h"

enum { NU = 60, NI = 40 };

typedef struct fixture {
    char ids[NI][40];
    const char *strs[NI];
    uint32_t lens[NI];
    ulm_dict dict;
    float pop[NI], cycles[NI];
    ulm_imatrix x;
    ulm_rec_model rm;
} fixture;

/* Ids with shared prefixes, ids longer than 15 bytes (ITIC's escape form) and UTF-8; popularity whose
 * F16 rounding ties neighbours, always in index order (so F16 keeps the ranking); cycles for every
 * third item. */
static int setup(fixture *f) {
    ulm_dict_init(&f->dict);
    for (uint32_t i = 0; i < NI; i++) {
        if (i < 20) snprintf(f->ids[i], sizeof f->ids[i], "SKU-%04u", i * 7);
        else if (i < 30) snprintf(f->ids[i], sizeof f->ids[i], "a-rather-long-product-code-%u", i);
        else snprintf(f->ids[i], sizeof f->ids[i], "caf\xc3\xa9-%c", 'a' + (int)i - 30);
        f->strs[i] = f->ids[i];
        f->lens[i] = (uint32_t)strlen(f->ids[i]);
        bool added;
        if (ulm_dict_intern(&f->dict, f->ids[i], f->lens[i], &added) != i) return 1;
        f->pop[i] = 1000.0f - (float)i * 0.05f - (float)(i / 8) * 3.0f;
        f->cycles[i] = i % 3 == 0 ? 1.0f + 3.25f * (float)i : 0.0f;
    }
    if (ulm_test_planted(NU, NI, 4, 0.4, 0.05, 11, 1, &f->x)) return 1;
    ulm_rec_params p = ulm_rec_params_init(ULM_REC_ALS);
    p.factors = 8, p.iters = 8, p.reg = 0.5f, p.alpha = 2.0f;
    return ulm_rec_train(&f->x, &p, ulm_linalg_ref(), &f->rm, NULL) != ULM_OK;
}

static void teardown(fixture *f) {
    ulm_dict_free(&f->dict);
    ulm_imatrix_free(&f->x);
    ulm_rec_model_free(&f->rm);
}

/* The plain bundle (compact = false) or the compact one. */
static int build(const fixture *f, bool compact, uint8_t **buf, size_t *len) {
    ulm_writer *w;
    if (ulm_writer_new(ULM_KIND_MODEL, NULL, &w) != ULM_OK) return 1;
    ulm_status s = ULM_OK;
    bool done = !compact;
    if (compact) s = ulm_edge_put_ids(w, &f->dict, &done);
    if (s == ULM_OK && !compact) {
        uint8_t *tab;
        size_t tlen;
        s = ulm_strtab_build(f->strs, f->lens, NI, &tab, &tlen);
        if (s == ULM_OK) s = ulm_writer_section(w, "ITID", ULM_DT_STRTAB, NI, 0, 1, ULM_SECTION_REQUIRED, tab, tlen);
        free(tab);
    }
    if (s == ULM_OK && compact) s = ulm_edge_put_pop(w, f->pop, NI, &done);
    if (s == ULM_OK && !compact) s = ulm_writer_section(w, "POPR", ULM_DT_F32, NI, 0, 1, ULM_SECTION_REQUIRED, f->pop, NI * 4);
    if (s == ULM_OK) s = ulm_rec_model_export_c(&f->rm, 1.0f, 10, ULM_REC_QUANT_INT8, compact, w, NULL);
    if (s == ULM_OK) s = compact ? ulm_edge_put_cycles(w, f->cycles, NI) : ulm_repurchase_cycles_write(f->cycles, NI, w);
    if (s == ULM_OK) s = ulm_writer_meta(w, "model.kind", "ulm-model");
    if (s == ULM_OK) s = ulm_writer_finish(w, buf, len);
    ulm_writer_free(w);
    return s != ULM_OK || !done;
}

ULM_TEST(edge_bundle_loads_like_the_plain_one) {
    fixture f;
    ASSERT_TRUE(setup(&f) == 0);
    uint8_t *pb, *cb;
    size_t pl, cl;
    ASSERT_TRUE(build(&f, false, &pb, &pl) == 0);
    ASSERT_TRUE(build(&f, true, &cb, &cl) == 0);
    ASSERT_TRUE(cl < pl);
    ulm_model *p, *c;
    ulm_diag d;
    ASSERT_STATUS(ulm_model_load(pb, pl, NULL, &p, &d), ULM_OK);
    ASSERT_STATUS(ulm_model_load(cb, cl, NULL, &c, &d), ULM_OK);
    ASSERT_EQ_INT(ulm_model_item_count(c), NI);
    for (uint32_t i = 0; i < NI; i++) {
        uint32_t len, at = ULM_NONE;
        const char *id = ulm_model_item_id(c, i, &len);
        ASSERT_TRUE(len == f.lens[i] && memcmp(id, f.ids[i], len) == 0);
        ASSERT_STATUS(ulm_model_item_find(c, f.ids[i], f.lens[i], &at), ULM_OK);
        ASSERT_EQ_INT(at, i);
        ASSERT_TRUE(c->pop_score[i] == ulm__f16_to_f32(ulm__f16_from_f32(f.pop[i])));
        ASSERT_TRUE(ulm_model_repurchase_days(c, i) == f.cycles[i]);
        ASSERT_TRUE(ulm_model_repurchase_days(p, i) == f.cycles[i]);
    }
    /* Popularity order: the f32 one, though F16 made neighbours equal. */
    uint32_t ties = 0;
    for (uint32_t r = 0; r < NI; r++) {
        ASSERT_EQ_INT(c->pop_order[r], p->pop_order[r]);
        ties += r && c->pop_score[c->pop_order[r]] == c->pop_score[c->pop_order[r - 1]];
    }
    ASSERT_TRUE(ties > 5);
    ASSERT_TRUE(memcmp(p->recs->gram, c->recs->gram, 64 * sizeof(float)) == 0);
    /* Every user's history: the same top-K, the same scores. */
    ulm_recommend_opts o = ulm_recommend_opts_init();
    o.k = 8;
    o.explain = 0;
    size_t sz = ulm_recommend_scratch_size(p, &o, NI);
    void *scratch = malloc(sz);
    for (uint32_t u = 0; u < NU; u++) {
        const uint32_t *h = f.x.indices + f.x.indptr[u];
        size_t nh = f.x.indptr[u + 1] - f.x.indptr[u];
        uint32_t ia[8], ib[8], na, nb;
        float sa[8], sb[8];
        ASSERT_STATUS(ulm_recommend(p, h, nh, &o, scratch, sz, ia, sa, NULL, NULL, &na), ULM_OK);
        ASSERT_STATUS(ulm_recommend(c, h, nh, &o, scratch, sz, ib, sb, NULL, NULL, &nb), ULM_OK);
        ASSERT_EQ_INT(na, nb);
        if (nh) {
            ASSERT_TRUE(memcmp(ia, ib, na * sizeof *ia) == 0);
            ASSERT_TRUE(memcmp(sa, sb, na * sizeof *sa) == 0);
        }
    }
    free(scratch);
    ulm_model_free(p);
    ulm_model_free(c);
    free(pb);
    free(cb);
    teardown(&f);
    return 0;
}

ULM_TEST(edge_bundle_popularity_f16_only_when_the_order_stays) {
    float down[NI], up[NI], big[NI];
    for (uint32_t i = 0; i < NI; i++) down[i] = 500.0f - (float)i * 0.01f, up[i] = 500.0f + (float)i * 0.01f, big[i] = 1.0f;
    big[3] = 70000.0f; /* past the largest half float */
    const float *cases[] = {down, up, big};
    const bool want[] = {true, false, false};
    for (int k = 0; k < 3; k++) {
        ulm_writer *w;
        ASSERT_STATUS(ulm_writer_new(ULM_KIND_MODEL, NULL, &w), ULM_OK);
        bool done = !want[k];
        ASSERT_STATUS(ulm_edge_put_pop(w, cases[k], NI, &done), ULM_OK);
        ASSERT_TRUE(done == want[k]);
        ulm_writer_free(w);
    }
    return 0;
}

/* A bundle holding both forms of one thing (ITID + ITIC, RCGR + RCGT, RCRP + RCRS) is refused. */
ULM_TEST(edge_bundle_both_forms_refused) {
    fixture f;
    ASSERT_TRUE(setup(&f) == 0);
    for (int k = 0; k < 3; k++) {
        ulm_writer *w;
        ASSERT_STATUS(ulm_writer_new(ULM_KIND_MODEL, NULL, &w), ULM_OK);
        bool done;
        uint8_t *tab, *buf;
        size_t tlen, len;
        ASSERT_STATUS(ulm_strtab_build(f.strs, f.lens, NI, &tab, &tlen), ULM_OK);
        ASSERT_STATUS(ulm_writer_section(w, "ITID", ULM_DT_STRTAB, NI, 0, 1, ULM_SECTION_REQUIRED, tab, tlen), ULM_OK);
        free(tab);
        if (k == 0) ASSERT_STATUS(ulm_edge_put_ids(w, &f.dict, &done), ULM_OK);
        ASSERT_STATUS(ulm_writer_section(w, "POPR", ULM_DT_F32, NI, 0, 1, ULM_SECTION_REQUIRED, f.pop, NI * 4), ULM_OK);
        ASSERT_STATUS(ulm_rec_model_export_c(&f.rm, 1.0f, 10, ULM_REC_QUANT_INT8, k == 1, w, NULL), ULM_OK);
        if (k == 1) { /* the full Gram matrix next to the triangle */
            float g[64];
            for (int i = 0; i < 64; i++) g[i] = i % 9 == 0 ? 1.0f : 0.0f;
            ASSERT_STATUS(ulm_writer_section(w, "RCGR", ULM_DT_F32, 8, 8, 1, 0, g, sizeof g), ULM_OK);
        }
        ASSERT_STATUS(ulm_repurchase_cycles_write(f.cycles, NI, w), ULM_OK);
        if (k == 2) ASSERT_STATUS(ulm_edge_put_cycles(w, f.cycles, NI), ULM_OK);
        ASSERT_STATUS(ulm_writer_meta(w, "model.kind", "ulm-model"), ULM_OK);
        ASSERT_STATUS(ulm_writer_finish(w, &buf, &len), ULM_OK);
        ulm_writer_free(w);
        ulm_model *m = (ulm_model *)1;
        ulm_diag d;
        ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_ERR_FORMAT);
        ASSERT_STR_EQ(d.section, k == 0 ? "ITIC" : k == 1 ? "RCGT" : "RCRS");
        ASSERT_TRUE(m == NULL);
        free(buf);
    }
    teardown(&f);
    return 0;
}

/* Sets byte `at` of section tag to v (through expect_damage's u32 write, other bytes kept). */
static int damage_byte(const uint8_t *buf, size_t len, const char *tag, uint64_t at, uint8_t v, const char *sec) {
    uint8_t *e = entry((uint8_t *)buf, tag);
    if (!e) return 1;
    uint32_t word = rd32(buf + rd64(e) + at);
    return expect_damage(buf, len, tag, at, (word & ~0xFFu) | v, false, ULM_ERR_FORMAT, sec);
}

ULM_TEST(edge_bundle_damage) {
    fixture f;
    ASSERT_TRUE(setup(&f) == 0);
    uint8_t *b;
    size_t len;
    ASSERT_TRUE(build(&f, true, &b, &len) == 0);
    uint8_t *it = entry(b, "ITIC"), *rs = entry(b, "RCRS"), *po = entry(b, "POPR");
    ASSERT_TRUE(it && rs && po && entry(b, "RCGT") && !entry(b, "RCGR") && !entry(b, "ITID"));
    ASSERT_EQ_INT(rd32(po + 20), ULM_DT_F16);
    ASSERT_EQ_INT(rd32(b + rd64(it) + 4) & 0xFF, 8); /* "SKU-0000": no prefix, 8 bytes */
    ASSERT_EQ_INT(damage_byte(b, len, "ITIC", 4, 0x18, "ITIC"), 0);            /* a prefix with no id before */
    ASSERT_EQ_INT(expect_damage(b, len, "ITIC", 0, NI + 1, false, ULM_ERR_FORMAT, "ITIC"), 0); /* count vs rows */
    ASSERT_EQ_INT(damage_byte(b, len, "ITIC", 4, 0x09, "ITIC"), 0);            /* suffix runs into the next id */
    ASSERT_EQ_INT(expect_damage(b, len, "RCGT", 24, 35, true, ULM_ERR_FORMAT, "RCGT"), 0); /* rows vs factors */
    ASSERT_EQ_INT(expect_damage(b, len, "RCGT", 0, 0, false, ULM_ERR_FORMAT, "RCGT"), 0); /* diagonal 0 */
    uint32_t half;
    memcpy(&half, &(float){0.5f}, 4);
    uint32_t k = rd32(rs + 24);
    ASSERT_EQ_INT(k, (NI + 2) / 3);
    ASSERT_EQ_INT(damage_byte(b, len, "RCRS", 5, 1, "RCRS"), 0);  /* a bit past the last item (padding) */
    ASSERT_EQ_INT(damage_byte(b, len, "RCRS", 0, 0x08, "RCRS"), 0); /* flags and stored cycles disagree */
    ASSERT_EQ_INT(expect_damage(b, len, "RCRS", 8, half, false, ULM_ERR_FORMAT, "RCRS"), 0); /* cycle < 1 day */
    ASSERT_EQ_INT(expect_damage(b, len, "RCRS", 24, k - 1, true, ULM_ERR_FORMAT, "RCRS"), 0); /* size vs rows */
    uint32_t nan_half = (rd32(b + rd64(po)) & 0xFFFF0000u) | 0x7E00u;
    ASSERT_EQ_INT(expect_damage(b, len, "POPR", 0, nan_half, false, ULM_ERR_FORMAT, "POPR"), 0);
    free(b);
    teardown(&f);
    return 0;
}
