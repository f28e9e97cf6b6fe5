/* churn_score.c: scoring of churn models: tree and linear margins, calibration, explanations. */
#include <math.h>
#include <stdlib.h>

#include "churn_impl.h"

ulm_churn *ulm__churn_new(const ulm_allocator *a, uint32_t family, uint32_t n_features) {
    ulm_churn *m = ulm__calloc(a, 1, sizeof *m);
    if (!m) return NULL;
    m->alloc = a;
    m->family = family;
    m->n_features = n_features;
    m->kind = ulm__calloc(a, (size_t)n_features + 1, sizeof *m->kind);
    m->n_cats = ulm__calloc(a, (size_t)n_features + 1, sizeof *m->n_cats);
    if (!m->kind || !m->n_cats) {
        ulm_churn_free(m);
        return NULL;
    }
    return m;
}

ulm_status ulm__churn_alloc_trees(ulm_churn *m, uint32_t n_trees, uint32_t n_nodes, uint32_t n_cat_words) {
    m->n_trees = n_trees;
    m->n_nodes = n_nodes;
    m->n_cat_words = n_cat_words;
    m->roots = ulm__calloc(m->alloc, (size_t)n_trees + 1, sizeof *m->roots);
    m->nodes = ulm__calloc(m->alloc, (size_t)n_nodes + 1, sizeof *m->nodes);
    m->cover = ulm__calloc(m->alloc, (size_t)n_nodes + 1, sizeof *m->cover);
    m->cat_bits = ulm__calloc(m->alloc, (size_t)n_cat_words + 1, sizeof *m->cat_bits);
    return m->roots && m->nodes && m->cover && m->cat_bits ? ULM_OK : ULM_ERR_NOMEM;
}

ulm_status ulm__churn_alloc_linear(ulm_churn *m) {
    size_t n = m->n_features;
    m->mean = ulm__calloc(m->alloc, n + 1, sizeof *m->mean);
    m->scale = ulm__calloc(m->alloc, n + 1, sizeof *m->scale);
    m->coef = ulm__calloc(m->alloc, n + 1, sizeof *m->coef);
    m->cat_off = ulm__calloc(m->alloc, n + 1, sizeof *m->cat_off);
    if (!m->mean || !m->scale || !m->coef || !m->cat_off) return ULM_ERR_NOMEM;
    uint32_t total = 0;
    for (size_t f = 0; f < n; f++) {
        m->cat_off[f] = total;
        if (m->kind[f] == ULM_FEAT_CAT) total += m->n_cats[f];
    }
    m->n_cat_coef = total;
    m->cat_coef = ulm__calloc(m->alloc, (size_t)total + 1, sizeof *m->cat_coef);
    return m->cat_coef ? ULM_OK : ULM_ERR_NOMEM;
}

void ulm_churn_free(ulm_churn *m) {
    if (!m) return;
    const ulm_allocator *a = m->alloc;
    ulm__free(a, m->kind, 0);
    ulm__free(a, m->n_cats, 0);
    ulm__free(a, m->mean, 0);
    ulm__free(a, m->scale, 0);
    ulm__free(a, m->coef, 0);
    ulm__free(a, m->cat_off, 0);
    ulm__free(a, m->cat_coef, 0);
    ulm__free(a, m->roots, 0);
    ulm__free(a, m->nodes, 0);
    ulm__free(a, m->cover, 0);
    ulm__free(a, m->cat_bits, 0);
    ulm__free(a, m->iso_x, 0);
    ulm__free(a, m->iso_y, 0);
    ulm__free(a, m, sizeof *m);
}

uint32_t ulm_churn_n_features(const ulm_churn *m) { return m->n_features; }
uint32_t ulm_churn_family(const ulm_churn *m) { return m->family; }
uint32_t ulm_churn_n_trees(const ulm_churn *m) { return m->family == ULM_CHURN_GBDT ? m->n_trees : 0; }

/* The linear model's standardised contribution of numeric feature f (0 when missing). */
static inline float linear_term(const ulm_churn *m, uint32_t f, float v) {
    if (m->kind[f] == ULM_FEAT_CAT) {
        if (!(v >= 0.0f) || v >= (float)m->n_cats[f]) return 0.0f; /* missing or unseen: the baseline */
        return m->cat_coef[m->cat_off[f] + (uint32_t)v];
    }
    if (v != v) return 0.0f; /* missing: imputed with the training mean */
    return m->coef[f] * (v - m->mean[f]) * m->scale[f];
}

/* Sum of one tree's leaf for row x, walking from its root. */
static inline float tree_value(const ulm_churn *m, uint32_t root, const float *x) {
    const ulm__tnode *nodes = m->nodes;
    uint32_t i = root;
    while (!(nodes[i].feat & ULM__TN_LEAF)) i = ulm__tnode_left(m, &nodes[i], x) ? nodes[i].left : nodes[i].right;
    return nodes[i].u.value;
}

float ulm__churn_margin1(const ulm_churn *m, const float *x) {
    if (m->family == ULM_CHURN_LOGREG) {
        float s = m->bias;
        for (uint32_t f = 0; f < m->n_features; f++) s += linear_term(m, f, x[f]);
        return s;
    }
    float s = m->base;
    for (uint32_t t = 0; t < m->n_trees; t++) s += tree_value(m, m->roots[t], x);
    return s;
}

void ulm_churn_margin(const ulm_churn *m, const float *x, size_t n, float *out) {
    for (size_t r = 0; r < n; r++) out[r] = ulm__churn_margin1(m, x + r * m->n_features);
}

float ulm_churn_calibrate(const ulm_churn *m, float margin) {
    if (m->calib == ULM_CALIB_PLATT) return 1.0f / (1.0f + expf(-(m->platt_a * margin + m->platt_b)));
    if (m->calib == ULM_CALIB_ISOTONIC && m->n_iso) {
        const float *xs = m->iso_x, *ys = m->iso_y;
        uint32_t n = m->n_iso;
        if (!(margin > xs[0])) return ys[0];
        if (margin >= xs[n - 1]) return ys[n - 1];
        uint32_t lo = 0, hi = n - 1; /* xs[lo] < margin <= xs[hi] */
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (xs[mid] < margin) lo = mid;
            else hi = mid;
        }
        float t = (margin - xs[lo]) / (xs[hi] - xs[lo]);
        return ys[lo] + t * (ys[hi] - ys[lo]);
    }
    return 1.0f / (1.0f + expf(-margin));
}

void ulm_churn_predict(const ulm_churn *m, const float *x, size_t n, float *out) {
    for (size_t r = 0; r < n; r++) out[r] = ulm_churn_calibrate(m, ulm__churn_margin1(m, x + r * m->n_features));
}

/* ---- TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized feature attribution for tree
 * ensembles", Algorithm 2): exact Shapley values of the tree's cover-weighted conditional expectation. ---- */
typedef struct shap_elem {
    int32_t feature;
    float zero, one, weight;
} shap_elem;

/* Extends the path by a feature with its zero and one fractions (EXTEND in the paper). */
static void shap_extend(shap_elem *p, uint32_t depth, float zero, float one, int32_t feature) {
    p[depth].feature = feature;
    p[depth].zero = zero;
    p[depth].one = one;
    p[depth].weight = depth == 0 ? 1.0f : 0.0f;
    for (int i = (int)depth - 1; i >= 0; i--) {
        p[i + 1].weight += one * p[i].weight * (float)(i + 1) / (float)(depth + 1);
        p[i].weight = zero * p[i].weight * (float)(depth - i) / (float)(depth + 1);
    }
}

/* Removes element idx from the path, undoing its EXTEND (UNWIND in the paper). */
static void shap_unwind(shap_elem *p, uint32_t depth, uint32_t idx) {
    float one = p[idx].one, zero = p[idx].zero, next = p[depth].weight;
    for (int i = (int)depth - 1; i >= 0; i--) {
        if (one != 0.0f) {
            float tmp = p[i].weight;
            p[i].weight = next * (float)(depth + 1) / ((float)(i + 1) * one);
            next = tmp - p[i].weight * zero * (float)(depth - i) / (float)(depth + 1);
        } else {
            p[i].weight = p[i].weight * (float)(depth + 1) / (zero * (float)(depth - i));
        }
    }
    for (uint32_t i = idx; i < depth; i++) {
        p[i].feature = p[i + 1].feature;
        p[i].zero = p[i + 1].zero;
        p[i].one = p[i + 1].one;
    }
}

/* Total weight of the path with element idx unwound, without modifying it. */
static float shap_unwound_sum(const shap_elem *p, uint32_t depth, uint32_t idx) {
    float one = p[idx].one, zero = p[idx].zero, next = p[depth].weight, total = 0.0f;
    for (int i = (int)depth - 1; i >= 0; i--) {
        if (one != 0.0f) {
            float tmp = next * (float)(depth + 1) / ((float)(i + 1) * one);
            total += tmp;
            next = p[i].weight - tmp * zero * ((float)(depth - i) / (float)(depth + 1));
        } else if (zero != 0.0f) {
            total += (p[i].weight / zero) / ((float)(depth - i) / (float)(depth + 1));
        }
    }
    return total;
}

/* RECURSE of Algorithm 2: parent is the parent's path (depth+1 used entries); this node's path
 * is written right after it. */
static void shap_recurse(const ulm_churn *m, const float *x, float *phi, uint32_t node, uint32_t depth,
                         shap_elem *parent, float zero, float one, int32_t feature) {
    shap_elem *p = parent + depth + 1;
    if (depth) memcpy(p, parent, depth * sizeof *p);
    shap_extend(p, depth, zero, one, feature);
    const ulm__tnode *n = &m->nodes[node];
    if (n->feat & ULM__TN_LEAF) {
        for (uint32_t i = 1; i <= depth; i++) {
            float w = shap_unwound_sum(p, depth, i);
            phi[p[i].feature] += w * (p[i].one - p[i].zero) * n->u.value;
        }
        return;
    }
    uint32_t hot = ulm__tnode_left(m, n, x) ? n->left : n->right;
    uint32_t cold = hot == n->left ? n->right : n->left;
    float cover = m->cover[node];
    float hot_zero = cover > 0 ? m->cover[hot] / cover : 0.5f, cold_zero = cover > 0 ? m->cover[cold] / cover : 0.5f;
    float in_zero = 1.0f, in_one = 1.0f;
    int32_t split = (int32_t)(n->feat & ULM__TN_FEAT);
    uint32_t k = 0;
    for (; k <= depth; k++)
        if (p[k].feature == split) break;
    if (k != depth + 1) {
        in_zero = p[k].zero;
        in_one = p[k].one;
        shap_unwind(p, depth, k);
        depth--;
    }
    shap_recurse(m, x, phi, hot, depth + 1, p, hot_zero * in_zero, in_one, split);
    shap_recurse(m, x, phi, cold, depth + 1, p, cold_zero * in_zero, 0.0f, split);
}

size_t ulm_churn_explain_scratch(const ulm_churn *m) {
    size_t d = (size_t)m->max_depth + 3;
    return (d * (d + 1) / 2) * (sizeof(shap_elem) / sizeof(float)) + 4;
}

ulm_status ulm_churn_shap(const ulm_churn *m, const float *x, float *phi, float *base, float *scratch) {
    if (!m || !x || !phi) return ULM_ERR_MISUSE;
    for (uint32_t f = 0; f < m->n_features; f++) phi[f] = 0.0f;
    float margin = ulm__churn_margin1(m, x), sum = 0.0f;
    if (m->family == ULM_CHURN_LOGREG) {
        for (uint32_t f = 0; f < m->n_features; f++) phi[f] = linear_term(m, f, x[f]);
    } else {
        if (!scratch) return ULM_ERR_MISUSE;
        /* shap_elem is 16 bytes of 4-byte fields, so float scratch is suitably aligned */
        shap_elem *path = (shap_elem *)(void *)scratch;
        for (uint32_t t = 0; t < m->n_trees; t++) shap_recurse(m, x, phi, m->roots[t], 0, path, 1.0f, 1.0f, -1);
    }
    for (uint32_t f = 0; f < m->n_features; f++) sum += phi[f];
    if (base) *base = margin - sum;
    return ULM_OK;
}

ulm_status ulm_churn_top_contrib(const ulm_churn *m, const float *x, ulm_churn_contrib *out, uint32_t k, uint32_t *n,
                                 float *scratch) {
    if (!m || !x || !out || !n || !scratch) return ULM_ERR_MISUSE;
    float *phi = scratch + ulm_churn_explain_scratch(m);
    ulm_status s = ulm_churn_shap(m, x, phi, NULL, scratch);
    if (s != ULM_OK) return s;
    uint32_t cnt = k < m->n_features ? k : m->n_features;
    /* selection of the cnt largest |phi| (n_features is small) */
    uint32_t taken = 0;
    uint8_t *used = (uint8_t *)(phi + m->n_features); /* n_features bytes of the extra scratch */
    memset(used, 0, m->n_features);
    for (; taken < cnt; taken++) {
        uint32_t best = UINT32_MAX;
        for (uint32_t f = 0; f < m->n_features; f++)
            if (!used[f] && (best == UINT32_MAX || fabsf(phi[f]) > fabsf(phi[best]))) best = f;
        used[best] = 1;
        out[taken].feature = best;
        out[taken].value = phi[best];
    }
    *n = cnt;
    return ULM_OK;
}
