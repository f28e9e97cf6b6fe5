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
    ulm__free(a, m->fast_nodes, 0);
    ulm__free(a, m->fast_leaves, 0);
    ulm__free(a, m->ext_pair, 0);
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

/* Index in the extended row of the pair (feature f, category c), or UINT32_MAX. */
static uint32_t ext_index(const ulm_churn *m, uint32_t f, uint32_t c) {
    uint32_t key = f << 16 | c, lo = 0, hi = m->n_ext - m->n_features;
    while (lo < hi) { /* ext_pair is sorted */
        uint32_t mid = (lo + hi) / 2;
        if (m->ext_pair[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo < m->n_ext - m->n_features && m->ext_pair[lo] == key ? m->n_features + lo : UINT32_MAX;
}

/* The one category of a one-category split node. */
static uint32_t split_category(const ulm_churn *m, const ulm__tnode *n) {
    uint32_t f = n->feat & ULM__TN_FEAT, words = (m->n_cats[f] + 31) / 32;
    for (uint32_t w = 0; w < words; w++)
        if (m->cat_bits[n->u.cat_off + w]) return w * 32 + (uint32_t)__builtin_ctz(m->cat_bits[n->u.cat_off + w]);
    return 0;
}

/* Fills the complete-tree position pos (depth d of D) from model node src (UINT32_MAX: a padding
 * subtree under a leaf of value v, which sends everything left into copies of v). */
static void fill_fast(const ulm_churn *m, ulm__fnode *nodes, float *leaves, uint32_t D, uint32_t pos, uint32_t d,
                      uint32_t src, float v) {
    uint32_t ni = (1u << D) - 1;
    if (d == D) {
        leaves[pos - ni] = src == UINT32_MAX ? v : m->nodes[src].u.value;
        return;
    }
    const ulm__tnode *n = src == UINT32_MAX ? NULL : &m->nodes[src];
    if (!n || (n->feat & ULM__TN_LEAF)) {
        if (n) v = n->u.value;
        nodes[pos] = (ulm__fnode){INFINITY, 0};
        fill_fast(m, nodes, leaves, D, 2 * pos + 1, d + 1, UINT32_MAX, v);
        fill_fast(m, nodes, leaves, D, 2 * pos + 2, d + 1, UINT32_MAX, v);
        return;
    }
    uint32_t f = n->feat & ULM__TN_FEAT;
    if (n->feat & ULM__TN_CAT) nodes[pos] = (ulm__fnode){0.5f, ext_index(m, f, split_category(m, n))};
    else nodes[pos] = (ulm__fnode){n->u.thr, f};
    fill_fast(m, nodes, leaves, D, 2 * pos + 1, d + 1, n->left, 0);
    fill_fast(m, nodes, leaves, D, 2 * pos + 2, d + 1, n->right, 0);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

ulm_status ulm__churn_prepare(ulm_churn *m) {
    ulm__free(m->alloc, m->fast_nodes, 0);
    ulm__free(m->alloc, m->fast_leaves, 0);
    ulm__free(m->alloc, m->ext_pair, 0);
    m->fast_nodes = NULL;
    m->fast_leaves = NULL;
    m->ext_pair = NULL;
    m->fast_depth = 0;
    m->n_ext = 0;
    if (m->family != ULM_CHURN_GBDT || m->n_trees == 0 || m->max_depth > 8 || m->n_features > 1024) return ULM_OK;
    uint32_t np = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const ulm__tnode *n = &m->nodes[i];
        if ((n->feat & ULM__TN_LEAF) || !(n->feat & ULM__TN_CAT)) continue;
        uint32_t f = n->feat & ULM__TN_FEAT, words = (m->n_cats[f] + 31) / 32, bits = 0;
        for (uint32_t w = 0; w < words; w++) bits += (uint32_t)__builtin_popcount(m->cat_bits[n->u.cat_off + w]);
        if (bits != 1 || m->n_cats[f] > 0xFFFF) return ULM_OK; /* many-category sets: node walk */
        np++;
    }
    m->ext_pair = ulm__alloc(m->alloc, ((size_t)np + 1) * sizeof *m->ext_pair);
    if (!m->ext_pair) return ULM_ERR_NOMEM;
    np = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const ulm__tnode *n = &m->nodes[i];
        if (!(n->feat & ULM__TN_LEAF) && (n->feat & ULM__TN_CAT))
            m->ext_pair[np++] = (n->feat & ULM__TN_FEAT) << 16 | split_category(m, n);
    }
    qsort(m->ext_pair, np, sizeof *m->ext_pair, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < np; i++)
        if (u == 0 || m->ext_pair[i] != m->ext_pair[u - 1]) m->ext_pair[u++] = m->ext_pair[i];
    m->n_ext = m->n_features + u;
    if (m->n_ext > 2048) {
        m->n_ext = 0;
        return ULM_OK;
    }
    uint32_t D = m->max_depth ? m->max_depth : 1, ni = (1u << D) - 1;
    m->fast_nodes = ulm__alloc(m->alloc, (size_t)m->n_trees * ni * sizeof *m->fast_nodes);
    m->fast_leaves = ulm__alloc(m->alloc, (size_t)m->n_trees * (ni + 1) * sizeof *m->fast_leaves);
    if (!m->fast_nodes || !m->fast_leaves) return ULM_ERR_NOMEM; /* freed with the model */
    for (uint32_t t = 0; t < m->n_trees; t++)
        fill_fast(m, m->fast_nodes + (size_t)t * ni, m->fast_leaves + (size_t)t * (ni + 1), D, 0, 0, m->roots[t], 0);
    m->fast_depth = D;
    return ULM_OK;
}

/* Writes the extended row of x into xe; false when it holds a NaN (missing values take the node walk,
 * which knows each node's default direction). Out-of-range category codes count as missing. */
static bool extend_row(const ulm_churn *m, const float *x, float *xe) {
    uint32_t nf = m->n_features;
    float bad = 0.0f;
    for (uint32_t f = 0; f < nf; f++) {
        xe[f] = x[f];
        bad += x[f] * 0.0f; /* NaN (or inf) poisons the sum */
    }
    for (uint32_t k = 0; k < m->n_ext - nf; k++) {
        uint32_t f = m->ext_pair[k] >> 16, c = m->ext_pair[k] & 0xFFFF;
        float v = x[f];
        if (!(v >= 0.0f && v < (float)m->n_cats[f])) return false;
        xe[nf + k] = (uint32_t)v == c ? 0.0f : 1.0f;
    }
    return bad == 0.0f;
}

/* Branch-free descent of one complete tree of depth D over an extended row. */
#define ULM__DESCEND(D)                                                                                          \
    static inline float descend##D(const ulm__fnode *nd, const float *lv, const float *x) {                     \
        uint32_t i = 0;                                                                                          \
        for (uint32_t d = 0; d < D; d++) i = 2 * i + 2 - (uint32_t)(x[nd[i].feat] < nd[i].thr);                 \
        return lv[i - ((1u << D) - 1)];                                                                          \
    }                                                                                                            \
    static float fast_sum##D(const ulm_churn *m, const float *x) {                                             \
        const uint32_t ni = (1u << D) - 1;                                                                       \
        const ulm__fnode *nd = m->fast_nodes;                                                                    \
        const float *lv = m->fast_leaves;                                                                        \
        /* eight trees at a time: eight independent chains of loads keep the CPU busy while each waits */      \
        float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                                   \
        uint32_t t = 0;                                                                                          \
        for (; t + 8 <= m->n_trees; t += 8, nd += 8 * ni, lv += 8 * (ni + 1)) {                                  \
            uint32_t i[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                            \
            for (uint32_t d = 0; d < D; d++)                                                                     \
                for (uint32_t k = 0; k < 8; k++) {                                                               \
                    const ulm__fnode *n = nd + k * ni + i[k];                                                    \
                    i[k] = 2 * i[k] + 2 - (uint32_t)(x[n->feat] < n->thr);                                       \
                }                                                                                                \
            for (uint32_t k = 0; k < 8; k++) s[k] += lv[k * (ni + 1) + i[k] - ni];                               \
        }                                                                                                        \
        for (; t < m->n_trees; t++, nd += ni, lv += ni + 1) s[t & 7] += descend##D(nd, lv, x);                   \
        return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));                                \
    }                                                                                                            \
    static void fast_block##D(const ulm_churn *m, const float *xe, uint32_t stride, uint32_t nr, float *out) {  \
        const uint32_t ni = (1u << D) - 1;                                                                       \
        const ulm__fnode *nd = m->fast_nodes;                                                                    \
        const float *lv = m->fast_leaves;                                                                        \
        uint32_t idx[16];                                                                                        \
        for (uint32_t t = 0; t < m->n_trees; t++, nd += ni, lv += ni + 1) {                                      \
            for (uint32_t r = 0; r < nr; r++) idx[r] = 0;                                                        \
            for (uint32_t d = 0; d < D; d++) /* rows are independent chains: the CPU overlaps them */            \
                for (uint32_t r = 0; r < nr; r++) {                                                              \
                    const ulm__fnode *n = nd + idx[r];                                                           \
                    idx[r] = 2 * idx[r] + 2 - (uint32_t)(xe[(size_t)r * stride + n->feat] < n->thr);             \
                }                                                                                                \
            for (uint32_t r = 0; r < nr; r++) out[r] += lv[idx[r] - ni];                                         \
        }                                                                                                        \
    }
ULM__DESCEND(1)
ULM__DESCEND(2)
ULM__DESCEND(3)
ULM__DESCEND(4)
ULM__DESCEND(5)
ULM__DESCEND(6)
ULM__DESCEND(7)
ULM__DESCEND(8)

/* Sum of the trees over the scoring layout for one extended row. */
static float fast_sum(const ulm_churn *m, const float *xe) {
    switch (m->fast_depth) {
    case 1: return fast_sum1(m, xe);
    case 2: return fast_sum2(m, xe);
    case 3: return fast_sum3(m, xe);
    case 4: return fast_sum4(m, xe);
    case 5: return fast_sum5(m, xe);
    case 6: return fast_sum6(m, xe);
    case 7: return fast_sum7(m, xe);
    default: return fast_sum8(m, xe);
    }
}

/* Adds the trees' sums for nr extended rows (tree-major: each tree stays in cache for the block). */
static void fast_block(const ulm_churn *m, const float *xe, uint32_t stride, uint32_t nr, float *out) {
    switch (m->fast_depth) {
    case 1: fast_block1(m, xe, stride, nr, out); break;
    case 2: fast_block2(m, xe, stride, nr, out); break;
    case 3: fast_block3(m, xe, stride, nr, out); break;
    case 4: fast_block4(m, xe, stride, nr, out); break;
    case 5: fast_block5(m, xe, stride, nr, out); break;
    case 6: fast_block6(m, xe, stride, nr, out); break;
    case 7: fast_block7(m, xe, stride, nr, out); break;
    default: fast_block8(m, xe, stride, nr, out); break;
    }
}

float ulm__churn_margin1(const ulm_churn *m, const float *x) {
    if (m->family == ULM_CHURN_LOGREG) {
        float s = m->bias;
        for (uint32_t f = 0; f < m->n_features; f++) s += linear_term(m, f, x[f]);
        return s;
    }
    if (m->fast_depth) {
        float xe[2048];
        if (extend_row(m, x, xe)) return m->base + fast_sum(m, xe);
    }
    float s = m->base;
    for (uint32_t t = 0; t < m->n_trees; t++) s += tree_value(m, m->roots[t], x);
    return s;
}

/* Margins of n rows: blocks of rows through the scoring layout when it exists. */
static void margins(const ulm_churn *m, const float *x, size_t n, float *out) {
    enum { BLOCK = 16 };
    if (!m->fast_depth || m->n_ext > 256) {
        for (size_t r = 0; r < n; r++) out[r] = ulm__churn_margin1(m, x + r * m->n_features);
        return;
    }
    float xe[BLOCK * 256];
    size_t map[BLOCK];
    float acc[BLOCK];
    for (size_t r0 = 0; r0 < n; r0 += BLOCK) {
        size_t end = r0 + BLOCK < n ? r0 + BLOCK : n;
        uint32_t k = 0;
        for (size_t r = r0; r < end; r++) {
            const float *xr = x + r * m->n_features;
            if (extend_row(m, xr, xe + (size_t)k * m->n_ext)) {
                map[k] = r;
                acc[k++] = m->base;
            } else {
                out[r] = ulm__churn_margin1(m, xr);
            }
        }
        fast_block(m, xe, m->n_ext, k, acc);
        for (uint32_t i = 0; i < k; i++) out[map[i]] = acc[i];
    }
}

void ulm_churn_margin(const ulm_churn *m, const float *x, size_t n, float *out) { margins(m, x, n, out); }

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
    if (n == 1) {
        out[0] = ulm_churn_calibrate(m, ulm__churn_margin1(m, x));
        return;
    }
    margins(m, x, n, out);
    for (size_t r = 0; r < n; r++) out[r] = ulm_churn_calibrate(m, out[r]);
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
