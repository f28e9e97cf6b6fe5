/* churn_model.c: the churn sections of a model bundle (CHRN model, CHFN feature names, CHCT category
 * texts) loaded and checked, and scoring with reasons phrased for people (ulm_churn_model.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "churn_impl.h"
#include "ulm/ulm_bundle.h"
#include "ulm/ulm_churn_model.h"
#include "ulm_model_impl.h"

ulm_status ulm__churn_load_parts(ulm_model *m, uint32_t flags, ulm_diag *diag) {
    (void)flags; /* the churn model is always checked deeply: its decoder validates everything */
    ulm_section c, names, cats;
    if (ulm_bundle_find(m->bundle, "CHRN", &c) != ULM_OK) return ULM_OK;
    if (c.dtype != ULM_DT_BYTES)
        return ulm__fail(diag, ULM_ERR_FORMAT, "CHRN", c.offset, "section CHRN has dtype %u, expected bytes", c.dtype);
    ulm_status s = ulm_churn_decode(c.data, c.size, m->alloc, &m->churn, diag);
    if (s != ULM_OK) {
        if (diag) diag->offset += c.offset;
        return s;
    }
    uint32_t nf = ulm_churn_n_features(m->churn);
    if (ulm_bundle_find(m->bundle, "CHFN", &names) != ULM_OK)
        return ulm__fail(diag, ULM_ERR_FORMAT, "CHFN", 0, "the churn model has no feature names (CHFN)");
    if (names.dtype != ULM_DT_STRTAB || ulm_strtab_view(names.data, names.size, &m->churn_names) != ULM_OK ||
        m->churn_names.count != nf)
        return ulm__fail(diag, ULM_ERR_FORMAT, "CHFN", names.offset, "CHFN must be a string table of %u names", nf);
    const char *set = ulm_bundle_meta(m->bundle, "churn.features");
    m->churn_set = set && strcmp(set, "customer-v1") == 0 ? ULM_CHURN_SET_CUSTOMER : ULM_CHURN_SET_TABLE;
    if (set && m->churn_set == ULM_CHURN_SET_TABLE && strcmp(set, "table") != 0)
        return ulm__fail(diag, ULM_ERR_VERSION, "META", 0, "unknown churn feature set '%.40s'", set);
    uint32_t total = 0;
    m->churn_cat_off = ulm__calloc(m->alloc, (size_t)nf + 1, sizeof *m->churn_cat_off);
    if (!m->churn_cat_off) return ULM_ERR_NOMEM;
    for (uint32_t f = 0; f < nf; f++) {
        uint32_t len;
        const char *name = ulm_strtab_get(&m->churn_names, f, &len);
        if (m->churn_set == ULM_CHURN_SET_CUSTOMER) {
            const char *want = ulm_cust_feature_name(f);
            if (nf != ULM_CF_COUNT || m->churn->kind[f] != ULM_FEAT_NUM || !want || strlen(want) != len ||
                memcmp(want, name, len) != 0)
                return ulm__fail(diag, ULM_ERR_FORMAT, "CHFN", names.offset,
                                 "feature %u of a customer-v1 churn model must be the number '%s'", f, want ? want : "");
        }
        m->churn_cat_off[f] = total;
        total += m->churn->n_cats[f];
    }
    m->churn_cat_off[nf] = total;
    if (total == 0) return ULM_OK;
    if (ulm_bundle_find(m->bundle, "CHCT", &cats) != ULM_OK || cats.dtype != ULM_DT_STRTAB ||
        ulm_strtab_view(cats.data, cats.size, &m->churn_cats) != ULM_OK || m->churn_cats.count != total)
        return ulm__fail(diag, ULM_ERR_FORMAT, "CHCT", cats.data ? cats.offset : 0,
                         "the churn model needs a CHCT string table of %u category texts", total);
    return ULM_OK;
}

void ulm__churn_model_free(ulm_model *m) {
    if (m->churn_cat_off)
        ulm__free(m->alloc, m->churn_cat_off, ((size_t)ulm_churn_n_features(m->churn) + 1) * sizeof *m->churn_cat_off);
    ulm_churn_free(m->churn);
    m->churn = NULL;
    m->churn_cat_off = NULL;
}

const ulm_churn *ulm_model_churn(const ulm_model *m) { return m ? m->churn : NULL; }
uint32_t ulm_model_churn_set(const ulm_model *m) { return m && m->churn ? m->churn_set : ULM_CHURN_SET_TABLE; }

const char *ulm_model_churn_feature(const ulm_model *m, uint32_t f, uint32_t *len) {
    if (!m || !m->churn || f >= ulm_churn_n_features(m->churn)) return NULL;
    return ulm_strtab_get(&m->churn_names, f, len);
}

const char *ulm_model_churn_category(const ulm_model *m, uint32_t f, uint32_t code, uint32_t *len) {
    if (!m || !m->churn || f >= ulm_churn_n_features(m->churn) || code >= m->churn->n_cats[f]) return NULL;
    return ulm_strtab_get(&m->churn_cats, m->churn_cat_off[f] + code, len);
}

size_t ulm_model_churn_scratch(const ulm_model *m) {
    if (!m || !m->churn) return 0;
    /* ulm_churn_top_contrib's (TreeSHAP path, phi, one flag byte per feature), then one contribution
     * (two floats) per feature */
    return ulm_churn_explain_scratch(m->churn) + 4 * (size_t)ulm_churn_n_features(m->churn) + 8;
}

/* The sentence for a table feature: "name is 265.1", "name is yes", "name is missing". */
static void table_phrase(const ulm_model *m, uint32_t f, float v, char *buf, size_t cap) {
    uint32_t nl = 0, cl = 0;
    const char *name = ulm_model_churn_feature(m, f, &nl);
    if (nl > 48) nl = 48;
    if (v != v) {
        snprintf(buf, cap, "%.*s is missing", (int)nl, name ? name : "");
    } else if (m->churn->kind[f] == ULM_FEAT_CAT) {
        const char *cat = v >= 0 ? ulm_model_churn_category(m, f, (uint32_t)v, &cl) : NULL;
        if (cl > 48) cl = 48;
        if (cat) snprintf(buf, cap, "%.*s is %.*s", (int)nl, name, (int)cl, cat);
        else snprintf(buf, cap, "%.*s is an unknown category", (int)nl, name);
    } else {
        snprintf(buf, cap, "%.*s is %.6g", (int)nl, name, (double)v);
    }
}

ulm_status ulm_model_churn_score(const ulm_model *m, const float *x, float *p, ulm_churn_reason *why, uint32_t k,
                                 uint32_t *n_why, float *scratch) {
    if (n_why) *n_why = 0;
    if (!m || !x || !p || (k && (!why || !n_why || !scratch))) return ULM_ERR_MISUSE;
    if (!m->churn) return ULM_ERR_NOT_FOUND;
    ulm_churn_predict(m->churn, x, 1, p);
    if (!k) return ULM_OK;
    uint32_t nf = ulm_churn_n_features(m->churn);
    ulm_churn_contrib *all = (ulm_churn_contrib *)(void *)(scratch + ulm_churn_explain_scratch(m->churn) + 2 * (size_t)nf + 4);
    /* contributions of every feature, largest |effect| first */
    uint32_t got = 0;
    ulm_status s = ulm_churn_top_contrib(m->churn, x, all, nf, &got, scratch);
    if (s != ULM_OK) return s;
    uint32_t n = 0;
    for (uint32_t i = 0; i < got && n < k; i++) {
        char text[sizeof why->text];
        uint32_t f = all[i].feature;
        if (m->churn_set == ULM_CHURN_SET_CUSTOMER) ulm_cust_feature_phrase(f, x, text, sizeof text);
        else table_phrase(m, f, x[f], text, sizeof text);
        uint32_t j = 0;
        while (j < n && strcmp(why[j].text, text) != 0) j++;
        if (j < n) {
            why[j].effect += all[i].value;
            continue;
        }
        why[n].feature = f;
        why[n].effect = all[i].value;
        memcpy(why[n].text, text, sizeof text);
        n++;
    }
    *n_why = n;
    return ULM_OK;
}
