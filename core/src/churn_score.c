/* churn_score.c: churn models in memory: the scoring layouts built from the trees, the binned form of a row
 * (models too large for the comparison form), the node walk, explanations (TreeSHAP). The hot one-row and
 * batch paths are in churn_fast.c. */
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

static void drop_fast(ulm_churn *m);

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
    drop_fast(m);
    ulm__free(a, m->iso_x, 0);
    ulm__free(a, m->iso_y, 0);
    ulm__free(a, m, sizeof *m);
}

uint32_t ulm_churn_n_features(const ulm_churn *m) { return m->n_features; }
uint32_t ulm_churn_family(const ulm_churn *m) { return m->family; }
uint32_t ulm_churn_n_trees(const ulm_churn *m) { return m->family == ULM_CHURN_GBDT ? m->n_trees : 0; }

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

/* Number of the n sorted thresholds t that are <= v: the bin of v (branch-free binary search). */
static inline uint32_t bin_of(const float *t, uint32_t n, float v) {
    if (!n) return 0;
    uint32_t lo = 0;
    while (n > 1) {
        uint32_t h = n / 2;
        lo = t[lo + h] <= v ? lo + h : lo;
        n -= h;
    }
    return lo + (t[lo] <= v);
}

/* Fills the complete-tree position pos (depth d of D) from model node src (UINT32_MAX: a padding
 * subtree under a leaf of value v, which sends everything left into copies of v). */
static void fill_fast(const ulm_churn *m, uint32_t *nodes, float *leaves, uint32_t D, uint32_t pos, uint32_t d,
                      uint32_t src, float v) {
    uint32_t ni = (1u << D) - 1;
    if (d == D) {
        leaves[pos - ni] = src == UINT32_MAX ? v : m->nodes[src].u.value;
        return;
    }
    const ulm__tnode *n = src == UINT32_MAX ? NULL : &m->nodes[src];
    if (!n || (n->feat & ULM__TN_LEAF)) {
        if (n) v = n->u.value;
        nodes[pos] = 0xFFFFu << 16; /* no bin is above 0xFFFF: always left */
        fill_fast(m, nodes, leaves, D, 2 * pos + 1, d + 1, UINT32_MAX, v);
        fill_fast(m, nodes, leaves, D, 2 * pos + 2, d + 1, UINT32_MAX, v);
        return;
    }
    uint32_t f = n->feat & ULM__TN_FEAT;
    if (n->feat & ULM__TN_CAT) {
        nodes[pos] = ext_index(m, f, split_category(m, n)); /* bin 0: has the category (left), 1: not */
    } else {
        const float *t = m->bin_thr + m->bin_off[f];
        uint32_t k = bin_of(t, m->bin_off[f + 1] - m->bin_off[f], n->u.thr) - 1; /* thr is t[k] */
        nodes[pos] = k << 16 | f;
    }
    fill_fast(m, nodes, leaves, D, 2 * pos + 1, d + 1, n->left, 0);
    fill_fast(m, nodes, leaves, D, 2 * pos + 2, d + 1, n->right, 0);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_f32(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Drops the scoring layout (the model then scores by the node walk). */
static void drop_fast(ulm_churn *m) {
    ulm__free(m->alloc, m->fast_nodes, 0);
    ulm__free(m->alloc, m->fast_leaves, 0);
    ulm__free(m->alloc, m->ext_pair, 0);
    ulm__free(m->alloc, m->bin_off, 0);
    ulm__free(m->alloc, m->bin_thr, 0);
    ulm__free(m->alloc, m->plan_feat, 0);
    ulm__free(m->alloc, m->plan_off, 0);
    ulm__free(m->alloc, m->bin_pad, 0);
    ulm__free(m->alloc, m->fast16, 0);
    ulm__free(m->alloc, m->cmp_start, 0);
    ulm__free(m->alloc, m->cat_feat, 0);
    ulm__free(m->alloc, m->cat_start, 0);
    ulm__free(m->alloc, m->cmp_thr, 0);
    ulm__free(m->alloc, m->lane_nodes, 0);
    ulm__free(m->alloc, m->lane_thr, 0);
    ulm__free(m->alloc, m->lane_thr_off, 0);
    m->lane_thr = NULL;
    m->lane_thr_off = NULL;
    m->lane_nodes = NULL;
    m->lane_tables = 0;
    m->cmp_start = m->cat_feat = m->cat_start = NULL;
    m->cmp_thr = NULL;
    m->n_cat_blocks = 0;
    m->plan_feat = m->plan_off = NULL;
    m->bin_pad = NULL;
    m->fast16 = NULL;
    m->n_cmp = 0;
    m->fast_nodes = NULL;
    m->fast_leaves = NULL;
    m->ext_pair = NULL;
    m->bin_off = NULL;
    m->bin_thr = NULL;
    m->fast_depth = 0;
    m->n_ext = 0;
}

/* The sorted distinct split thresholds of every numeric feature (bin_off, bin_thr over n_ext features);
 * false when a feature has more than 65534 (its bins would not fit 16 bits). */
static ulm_status build_bins(ulm_churn *m, bool *fits) {
    uint32_t n_thr = 0;
    *fits = false;
    m->bin_off = ulm__calloc(m->alloc, (size_t)m->n_ext + 2, sizeof *m->bin_off);
    if (!m->bin_off) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < m->n_nodes; i++) { /* counting sort of the thresholds by feature */
        const ulm__tnode *n = &m->nodes[i];
        if (!(n->feat & (ULM__TN_LEAF | ULM__TN_CAT))) m->bin_off[(n->feat & ULM__TN_FEAT) + 2]++, n_thr++;
    }
    for (uint32_t j = 2; j < m->n_ext + 2; j++) m->bin_off[j] += m->bin_off[j - 1];
    m->bin_thr = ulm__alloc(m->alloc, ((size_t)n_thr + 1) * sizeof *m->bin_thr);
    if (!m->bin_thr) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const ulm__tnode *n = &m->nodes[i];
        if (!(n->feat & (ULM__TN_LEAF | ULM__TN_CAT))) m->bin_thr[m->bin_off[(n->feat & ULM__TN_FEAT) + 1]++] = n->u.thr;
    }
    uint32_t w = 0, start = 0; /* sort and deduplicate each feature's range, compacting */
    for (uint32_t j = 0; j < m->n_ext; j++) {
        uint32_t end = m->bin_off[j + 1];
        qsort(m->bin_thr + start, end - start, sizeof *m->bin_thr, cmp_f32);
        m->bin_off[j] = w;
        for (uint32_t i = start; i < end; i++)
            if (i == start || m->bin_thr[i] != m->bin_thr[w - 1]) m->bin_thr[w++] = m->bin_thr[i];
        if (w - m->bin_off[j] > 0xFFFE) return ULM_OK;
        start = end;
    }
    m->bin_off[m->n_ext] = w;
    *fits = true;
    return ULM_OK;
}

uint32_t ulm__churn_pack_split(const ulm_churn *m, const ulm__tnode *n) {
    uint32_t f = n->feat & ULM__TN_FEAT;
    if (n->feat & ULM__TN_CAT) return ext_index(m, f, split_category(m, n)) << 16; /* bin 0 */
    const float *t = m->bin_thr + m->bin_off[f];
    return f << 16 | (bin_of(t, m->bin_off[f + 1] - m->bin_off[f], n->u.thr) - 1); /* thr is t[k] */
}

/* The categorical features with one-category splits (cat_feat, n_cat_blocks), in ext_pair's order: the
 * comparison form's category blocks and the lane form's category slots, one per feature. */
static ulm_status list_cat_features(ulm_churn *m) {
    uint32_t np = m->n_ext - m->n_features, nb = 0;
    for (uint32_t q = 0; q < np; q++) nb += q == 0 || m->ext_pair[q] >> 16 != m->ext_pair[q - 1] >> 16;
    m->cat_feat = ulm__alloc(m->alloc, ((size_t)nb + 1) * sizeof *m->cat_feat);
    if (!m->cat_feat) return ULM_ERR_NOMEM;
    for (uint32_t q = 0, b = 0; q < np; q++)
        if (q == 0 || m->ext_pair[q] >> 16 != m->ext_pair[q - 1] >> 16) m->cat_feat[b++] = m->ext_pair[q] >> 16;
    m->n_cat_blocks = nb;
    return ULM_OK;
}

/* The comparison form (fast16, cmp_start, cmp_thr) of the complete trees, when the row's comparisons fit
 * ULM__CMP_MAX: each used feature's thresholds padded with +inf to a multiple of ULM__CMP_LANES. */
static ulm_status build_cmp(ulm_churn *m) {
    uint32_t nf = m->n_features, ne = m->bin_class[16], np = m->n_ext - nf, P = 0, Q, nb = m->n_cat_blocks;
    uint32_t L = ULM__CMP_LANES;
    for (uint32_t e = 0; e < ne; e++) P += (m->bin_off[m->plan_feat[e] + 1] - m->bin_off[m->plan_feat[e]] + L - 1) / L * L;
    Q = P;
    for (uint32_t p = 0, q; p < np; p = q) { /* the pairs of one feature are adjacent (ext_pair is sorted) */
        for (q = p; q < np && m->ext_pair[q] >> 16 == m->ext_pair[p] >> 16; q++) {}
        Q += (q - p + L - 1) / L * L;
    }
    uint32_t n_cmp = Q + 1;
    if (n_cmp > ULM__CMP_MAX) return ULM_OK;
    m->cmp_start = ulm__alloc(m->alloc, ((size_t)ne + 1) * sizeof *m->cmp_start);
    m->cat_start = ulm__alloc(m->alloc, ((size_t)nb + 1) * sizeof *m->cat_start);
    m->cmp_thr = ulm__alloc(m->alloc, ((size_t)Q + 1) * sizeof *m->cmp_thr);
    uint32_t *base = ulm__alloc(m->alloc, ((size_t)nf + np + 1) * sizeof *base); /* extended feature -> its first compare */
    m->fast16 = ulm__alloc(m->alloc, (size_t)m->n_trees * ((1u << m->fast_depth) - 1) * sizeof *m->fast16);
    if (!m->cmp_start || !m->cat_start || !m->cmp_thr || !base || !m->fast16) {
        ulm__free(m->alloc, base, 0);
        return ULM_ERR_NOMEM; /* the others are freed with the model */
    }
    for (uint32_t e = 0, g = 0; e < ne; e++) {
        uint32_t f = m->plan_feat[e], n = m->bin_off[f + 1] - m->bin_off[f];
        m->cmp_start[e] = base[f] = g;
        for (uint32_t k = 0; k < (n + L - 1) / L * L; k++) m->cmp_thr[g + k] = k < n ? m->bin_thr[m->bin_off[f] + k] : INFINITY;
        g += (n + L - 1) / L * L;
    }
    m->cmp_start[ne] = P;
    for (uint32_t p = 0, q, b = 0, g = P; p < np; p = q, b++) { /* category codes as floats, padded with -1 */
        for (q = p; q < np && m->ext_pair[q] >> 16 == m->ext_pair[p] >> 16; q++) {
            base[nf + q] = g + (q - p);
            m->cmp_thr[g + (q - p)] = (float)(m->ext_pair[q] & 0xFFFF);
        }
        for (uint32_t k = q - p; k < (q - p + L - 1) / L * L; k++) m->cmp_thr[g + k] = -1.0f;
        m->cat_start[b] = g; /* feature cat_feat[b]: the same grouping as list_cat_features */
        g += (q - p + L - 1) / L * L;
    }
    m->cat_start[nb] = Q;
    for (size_t i = 0; i < (size_t)m->n_trees * ((1u << m->fast_depth) - 1); i++) {
        uint32_t w = m->fast_nodes[i], j = w & 0xFFFF, k = w >> 16;
        m->fast16[i] = (uint16_t)(k == 0xFFFF ? n_cmp - 1 : j < nf ? base[j] + k : base[j]);
    }
    ulm__free(m->alloc, base, 0);
    m->n_cmp = n_cmp;
    return ULM_OK;
}

ulm_status ulm__churn_fill_fast(ulm_churn *m) {
    if (m->max_depth > 8 || m->n_features > 1024 || m->n_ext > 2048) {
        drop_fast(m);
        return ULM_OK;
    }
    /* the binning plan: used numeric features by class, thresholds padded to 2^L - 1 */
    uint32_t nf = m->n_features, n_pad = 0, e = 0;
    memset(m->bin_class, 0, sizeof m->bin_class);
    for (uint32_t f = 0; f < nf; f++) {
        uint32_t n = m->bin_off[f + 1] - m->bin_off[f], L = 0;
        while ((1u << L) <= n) L++; /* n <= 65534: L <= 16 */
        if (n) m->bin_class[L]++, n_pad += (1u << L) - 1;
    }
    for (uint32_t L = 1; L <= 16; L++) m->bin_class[L] += m->bin_class[L - 1];
    m->plan_feat = ulm__alloc(m->alloc, ((size_t)m->bin_class[16] + 1) * sizeof *m->plan_feat);
    m->plan_off = ulm__alloc(m->alloc, ((size_t)m->bin_class[16] + 1) * sizeof *m->plan_off);
    m->bin_pad = ulm__alloc(m->alloc, ((size_t)n_pad + 1) * sizeof *m->bin_pad);
    if (!m->plan_feat || !m->plan_off || !m->bin_pad) return ULM_ERR_NOMEM; /* freed with the model */
    for (uint32_t L = 1, pad = 0; L <= 16; L++)
        for (uint32_t f = 0; f < nf; f++) {
            uint32_t n = m->bin_off[f + 1] - m->bin_off[f];
            if (!n || n >= (1u << L) || n < (1u << (L - 1))) continue;
            m->plan_feat[e] = f;
            m->plan_off[e++] = pad;
            for (uint32_t k = 0; k < (1u << L) - 1; k++) m->bin_pad[pad + k] = k < n ? m->bin_thr[m->bin_off[f] + k] : INFINITY;
            pad += (1u << L) - 1;
        }
    uint32_t D = m->max_depth ? m->max_depth : 1, ni = (1u << D) - 1;
    m->fast_nodes = ulm__alloc(m->alloc, (size_t)m->n_trees * ni * sizeof *m->fast_nodes);
    m->fast_leaves = ulm__alloc(m->alloc, (size_t)m->n_trees * (ni + 1) * sizeof *m->fast_leaves);
    if (!m->fast_nodes || !m->fast_leaves) return ULM_ERR_NOMEM; /* freed with the model */
    for (uint32_t t = 0; t < m->n_trees; t++)
        fill_fast(m, m->fast_nodes + (size_t)t * ni, m->fast_leaves + (size_t)t * (ni + 1), D, 0, 0, m->roots[t], 0);
    m->fast_depth = D;
    ulm_status st = list_cat_features(m);
    if (st == ULM_OK) st = build_cmp(m);
    return st == ULM_OK ? ulm__churn_lanes_build(m) : st;
}

ulm_status ulm__churn_prepare(ulm_churn *m) {
    drop_fast(m);
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
    bool fits;
    ulm_status st = m->n_ext > 2048 ? ULM_OK : build_bins(m, &fits);
    if (st != ULM_OK || m->n_ext > 2048 || !fits) {
        drop_fast(m);
        return st;
    }
    return ulm__churn_fill_fast(m);
}

/* Writes the bins of row x (one per extended feature) into xb; false when a feature some split uses holds
 * a NaN or an infinity (those rows take the node walk, which knows each node's default direction; a value
 * no split reads cannot change the sum). Out-of-range category codes count as missing. */
static bool bin_row(const ulm_churn *m, const float *x, uint32_t *xb) {
    uint32_t nf = m->n_features;
    float bad = 0.0f;
    if (m->bin_class[16] < nf) memset(xb, 0, nf * sizeof *xb); /* features no split uses read as bin 0 */
    /* used features class by class: every search of a class takes the same L steps over thresholds padded
     * with +inf (never <= a finite value), so the loop branches are predictable and the steps branch-free */
    for (uint32_t e = 0; e < m->bin_class[1]; e++) { /* one threshold (one-hot columns, flags) */
        uint32_t f = m->plan_feat[e];
        float v = x[f];
        bad += v * 0.0f; /* NaN (or inf) poisons the sum */
        xb[f] = (uint32_t)(m->bin_pad[m->plan_off[e]] <= v) << 16;
    }
    for (uint32_t L = 2; L <= 16; L++) {
        uint32_t e = m->bin_class[L - 1], end = m->bin_class[L];
        for (; e < end; e++) {
            uint32_t f = m->plan_feat[e], b = 0;
            const float *t = m->bin_pad + m->plan_off[e];
            float v = x[f];
            bad += v * 0.0f;
            for (uint32_t h = 1u << (L - 1); h; h >>= 1) b += (uint32_t)(t[b + h - 1] <= v) * h;
            xb[f] = b << 16;
        }
    }
    for (uint32_t k = 0; k < m->n_ext - nf; k++) {
        uint32_t f = m->ext_pair[k] >> 16, c = m->ext_pair[k] & 0xFFFF;
        float v = x[f];
        if (!(v >= 0.0f && v < (float)m->n_cats[f])) return false;
        xb[nf + k] = (uint32_t)v == c ? 0 : 1u << 16;
    }
    return bad == 0.0f;
}

/* Branch-free descent of complete trees of depth D over binned rows (children of i at 2i + 1 and 2i + 2,
 * leaves from 2^D - 1 at lv[i - (2^D - 1)]): one row (fast_sum) and blocks of rows (fast_block). Leaf values
 * are added to each row's sum in tree order, starting from the base margin: the same float additions as the
 * node walk. */
#define ULM__DESCEND(D)                                                                                          \
    ULM__ONE_ROW(fast_sum, D, uint32_t, uint32_t, fast_nodes, ULM__STEP)                                         \
    /* nr binned rows (stride apart), tree-major: each tree stays in L1 while 8 rows at a time go down it */    \
    static void fast_block##D(const ulm_churn *m, const uint32_t *xb, uint32_t stride, uint32_t nr, float *acc) { \
        const size_t ni = ((size_t)1 << D) - 1;                                                                  \
        const uint32_t *nd = m->fast_nodes;                                                                      \
        const float *lv = m->fast_leaves;                                                                        \
        for (uint32_t t = 0; t < m->n_trees; t++, nd += ni, lv += ni + 1) {                                      \
            uint32_t r = 0;                                                                                      \
            for (; r + 8 <= nr; r += 8) {                                                                        \
                size_t i[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                          \
                const uint32_t *x0 = xb + (size_t)r * stride;                                                    \
                for (uint32_t d = 0; d < D; d++)                                                                 \
                    for (uint32_t k = 0; k < 8; k++) i[k] = 2 * i[k] + 1 + ULM__STEP(nd[i[k]], x0 + k * stride); \
                for (uint32_t k = 0; k < 8; k++) acc[r + k] += lv[i[k] - ni];                              \
            }                                                                                                    \
            for (; r < nr; r++) {                                                                                \
                size_t i = 0;                                                                                    \
                for (uint32_t d = 0; d < D; d++) i = 2 * i + 1 + ULM__STEP(nd[i], xb + (size_t)r * stride);   \
                acc[r] += lv[i - ni];                                                                      \
            }                                                                                                    \
        }                                                                                                        \
    }
ULM__FOR_DEPTHS(ULM__DESCEND)

/* Margin of one binned row over the scoring layout. */
static float fast_sum(const ulm_churn *m, const uint32_t *xb) { ULM__BY_DEPTH(fast_sum, m, xb) }

/* Adds the trees' leaves to nr binned rows' sums. */
static void fast_block(const ulm_churn *m, const uint32_t *xb, uint32_t stride, uint32_t nr, float *acc) {
    switch (m->fast_depth) {
    case 1: fast_block1(m, xb, stride, nr, acc); break;
    case 2: fast_block2(m, xb, stride, nr, acc); break;
    case 3: fast_block3(m, xb, stride, nr, acc); break;
    case 4: fast_block4(m, xb, stride, nr, acc); break;
    case 5: fast_block5(m, xb, stride, nr, acc); break;
    case 6: fast_block6(m, xb, stride, nr, acc); break;
    case 7: fast_block7(m, xb, stride, nr, acc); break;
    default: fast_block8(m, xb, stride, nr, acc); break;
    }
}

float ulm__churn_walk_sum(const ulm_churn *m, const float *x) {
    float s = m->base;
    for (uint32_t t = 0; t < m->n_trees; t++) s += tree_value(m, m->roots[t], x);
    return s;
}

bool ulm__churn_bin_sum(const ulm_churn *m, const float *x, float *s) {
    uint32_t xb[2048];
    if (!bin_row(m, x, xb)) return false;
    *s = fast_sum(m, xb);
    return true;
}

void ulm__churn_bin_margins(const ulm_churn *m, const float *x, size_t n, float *out) {
    enum { BLOCK = 64, CAP = 4096 }; /* 16 KB of bins on the stack */
    size_t map[BLOCK];
    float acc[BLOCK];
    uint32_t xb[CAP];
    uint32_t block = CAP / m->n_ext < BLOCK ? CAP / m->n_ext : BLOCK; /* n_ext <= 2048: at least 2 */
    for (size_t r0 = 0; r0 < n; r0 += block) {
        size_t end = r0 + block < n ? r0 + block : n;
        uint32_t k = 0;
        for (size_t r = r0; r < end; r++) {
            const float *xr = x + r * m->n_features;
            if (bin_row(m, xr, xb + (size_t)k * m->n_ext)) {
                map[k] = r;
                acc[k++] = m->base;
            } else {
                out[r] = ulm__churn_walk_sum(m, xr);
            }
        }
        fast_block(m, xb, m->n_ext, k, acc);
        for (uint32_t i = 0; i < k; i++) out[map[i]] = acc[i];
    }
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
        for (uint32_t f = 0; f < m->n_features; f++) phi[f] = ulm__linear_term(m, f, x[f]);
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
