/* churn_impl.h: the in-memory layout of a churn model, shared by the scorer (churn_score.c),
 * the decoder (churn_decode.c) and the training half (core/src/train/churn_*.c). Internal. */
#ifndef ULM_CHURN_IMPL_H
#define ULM_CHURN_IMPL_H

#include "ulm/ulm_churn.h"
#include "ulm_impl.h"

/* Tree node flags in the high bits of ulm__tnode.feat; the low 29 bits are the feature index. */
#define ULM__TN_LEAF 0x80000000u  /* a leaf: u.value is its margin contribution */
#define ULM__TN_DLEFT 0x40000000u /* missing (NaN) goes left */
#define ULM__TN_CAT 0x20000000u   /* categorical: left when the code's bit is set in cat_bits[u.cat_off..] */
#define ULM__TN_FEAT 0x1FFFFFFFu

/* One tree node, 16 bytes. Numeric split: left when x[f] < u.thr. Children are absolute indices
 * into ulm_churn.nodes, always after their parent and inside the same tree. */
typedef struct ulm__tnode {
    uint32_t feat;
    union {
        float thr;
        float value;
        uint32_t cat_off;
    } u;
    uint32_t left, right;
} ulm__tnode;

struct ulm_churn {
    const ulm_allocator *alloc;
    uint32_t family, n_features;
    uint32_t *kind;   /* ULM_FEAT_* per feature */
    uint32_t *n_cats; /* categories per feature (0 for numeric) */
    /* logistic regression: margin = bias + sum_f coef[f] * (x[f] - mean[f]) * scale[f] (numeric, NaN -> 0)
     * + cat_coef[cat_off[f] + code] (categorical, missing -> 0) */
    float bias;
    float *mean, *scale, *coef;
    uint32_t *cat_off;
    float *cat_coef;
    uint32_t n_cat_coef;
    /* gradient-boosted trees: margin = base + sum of leaf values */
    float base;
    uint32_t n_trees, n_nodes, n_cat_words, max_depth;
    uint32_t *roots;   /* n_trees + 1: tree t owns nodes [roots[t], roots[t+1]) */
    ulm__tnode *nodes;
    float *cover;      /* hessian sum per node (TreeSHAP weights) */
    uint32_t *cat_bits;
    /* the packed scoring layout of the trees (built by ulm__churn_prepare): every tree as a complete binary
     * tree of depth fast_depth, internal nodes breadth-first (children of i at 2i+1, 2i+2), one 4-byte node
     * each: extended feature in the low 16 bits, threshold bin k in the high 16 (right when the row's bin of
     * that feature is > k; padding nodes have k = 0xFFFF and pass everything left into copies of the leaf).
     * Thresholds are quantised exactly: the bin of a value is the number of the feature's distinct split
     * thresholds <= it, so x < thr[k] iff bin <= k. fast_depth is 0 (node walk only) when a tree is deeper
     * than 8, a category set holds more than one category, or a feature has more than 65534 thresholds. */
    uint32_t fast_depth;
    uint32_t *fast_nodes; /* n_trees * (2^fast_depth - 1) */
    float *fast_leaves;   /* n_trees * 2^fast_depth */
    uint32_t n_ext;       /* extended row length: n_features + category pairs */
    uint32_t *ext_pair;   /* per pair: feature << 16 | category code (n_ext - n_features entries) */
    uint32_t *bin_off;    /* n_ext + 1: feature j's sorted distinct thresholds are bin_thr[bin_off[j]..bin_off[j+1]) */
    float *bin_thr;
    /* the binning plan of a row: the numeric features some split uses, grouped by the number of steps of their
     * search (class L: 2^(L-1) <= thresholds < 2^L; plan entries [bin_class[L-1], bin_class[L])); each has its
     * thresholds padded with +inf to 2^L - 1 at bin_pad[plan_off[e]..], so the search is L branch-free steps */
    uint32_t bin_class[17];
    uint32_t *plan_feat, *plan_off;
    float *bin_pad;
    /* the comparison form of the packed nodes (when the comparisons fit ULM__CMP_MAX): node = index g of one
     * comparison byte of the row. The used numeric features' thresholds (plan order) are padded with +inf to
     * a multiple of ULM__CMP_LANES at cmp_thr[cmp_start[e]..cmp_start[e + 1]), cmp[g] = cmp_thr[g] <= x[f]
     * for those g; then, per categorical feature with one-category splits (cat_feat[b]), the codes of its
     * pairs as floats, padded with -1, at cmp_thr[cat_start[b]..cat_start[b + 1]), cmp[g] = cmp_thr[g] !=
     * x[f] (so every feature's compares run in whole SIMD blocks); cmp[n_cmp - 1] = 0 (padding nodes: left).
     * A step goes right when cmp[node] is 1. */
    uint16_t *fast16; /* n_trees * (2^fast_depth - 1), NULL when not built */
    uint32_t n_cmp, n_cat_blocks;
    uint32_t *cmp_start;            /* bin_class[16] + 1 */
    uint32_t *cat_feat, *cat_start; /* n_cat_blocks (also when the comparisons do not fit), n_cat_blocks + 1 */
    float *cmp_thr;                 /* cat_start[n_cat_blocks] */
    /* the lane form of the complete trees (churn_lanes.c; NULL when not built): trees in groups of W = ULM__LANES
     * byte lanes, one lane per tree. A row's slots are the used numeric features' bins (plan order) then the
     * codes of the cat_feat features, in lane_tables 16-byte tables. Per group and node (breadth-first),
     * two rows of W bytes: a, the node's slot (| 64 for a category test), and b, its bin k (left when the
     * slot value is <= k; padding nodes: slot 0, k 255) or category code (left when equal). */
    uint8_t *lane_nodes;
    /* per numeric slot e (plan order) at lane_thr[lane_thr_off[e]..]: 16 pivots (thresholds 15, 31, ..., +inf
     * past the last), then the thresholds padded with +inf to 16 (n / 16 + 1) */
    float *lane_thr;
    uint32_t *lane_thr_off;
    uint32_t lane_tables;
    /* calibration of the margin */
    uint32_t calib;
    float platt_a, platt_b; /* p = 1 / (1 + exp(-(a * margin + b))) */
    uint32_t n_iso;
    float *iso_x, *iso_y;   /* isotonic: ascending margins -> probabilities, linear in between */
};

#define ULM__CMP_MAX 8192 /* comparisons of a row kept on the stack */
#define ULM__CMP_LANES 4 /* each feature's compares are padded to a multiple of this */

#define ULM__LANES_DEPTH 6 /* deepest trees the lane form takes */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ULM__LANES 32 /* the lane form's trees per group (AVX2 bytes), where it is compiled */
#else
#define ULM__LANES 0
#endif
/* Byte lanes one row's trees are scored in: ULM__LANES when the CPU has AVX2 (checked at run time), else 0. */
uint32_t ulm__churn_lanes_width(void);
/* Builds the lane form from the packed nodes and the binning plan when the model and machine allow
 * (churn_lanes_build.c); NOMEM only on allocation failure. */
ulm_status ulm__churn_lanes_build(ulm_churn *m);
/* Margin of one row through the lane form into *s; false as ulm__churn_bin_sum (those rows take the walk). */
bool ulm__churn_lanes_sum(const ulm_churn *m, const float *x, float *s);
/* Builds the scoring layout of a tree model when possible (allocates; NOMEM only on allocation failure). */
ulm_status ulm__churn_prepare(ulm_churn *m);
/* Builds the complete-tree arrays from the node table and the bin tables (ext_pair, bin_off, bin_thr) already
 * set, when the depth allows (else drops the tables: node walk only). NOMEM only on allocation failure. */
ulm_status ulm__churn_fill_fast(ulm_churn *m);
/* The packed form of split node n over the bin tables: extended feature j << 16 | threshold bin k (0 for a
 * category pair). Needs the tables (fast_depth != 0). */
uint32_t ulm__churn_pack_split(const ulm_churn *m, const ulm__tnode *n);
/* Packed (CHRN layout 1) word flags: a leaf is exactly ULM__PK_LEAF; a split is ULM__PK_DLEFT? | j << 16 | k. */
#define ULM__PK_LEAF 0x80000000u
#define ULM__PK_DLEFT 0x40000000u
/* Writes m in the CHRN layout: packed (1) when asked and the model has its bin tables, else the node table (0). */
ulm_status ulm__churn_encode_layout(const ulm_churn *m, bool packed, uint8_t **buf, size_t *len);
/* Allocates an empty model of a family over n_features features (arrays for kinds zeroed). */
ulm_churn *ulm__churn_new(const ulm_allocator *a, uint32_t family, uint32_t n_features);
/* Allocates the gbdt arrays (roots n_trees+1, nodes, cover, cat bits), zeroed. */
ulm_status ulm__churn_alloc_trees(ulm_churn *m, uint32_t n_trees, uint32_t n_nodes, uint32_t n_cat_words);
/* Allocates the logreg arrays from the kinds and n_cats already set. */
ulm_status ulm__churn_alloc_linear(ulm_churn *m);
/* Margin of one row, without calibration. */
float ulm__churn_margin1(const ulm_churn *m, const float *x);
/* Margin of one row by walking the node table (the reference; also rows with NaN or infinity). */
float ulm__churn_walk_sum(const ulm_churn *m, const float *x);
/* Margin of one row through the binned form into *s; false (nothing written) when a feature some split reads is
 * NaN or infinite, or a category code is out of range (those rows take the node walk). Needs fast_depth. */
bool ulm__churn_bin_sum(const ulm_churn *m, const float *x, float *s);
/* Margins of n rows through blocks of binned rows (rows the binned form refuses take the node walk). */
void ulm__churn_bin_margins(const ulm_churn *m, const float *x, size_t n, float *out);
/* The linear model's standardised contribution of numeric feature f (0 when missing). */
static inline float ulm__linear_term(const ulm_churn *m, uint32_t f, float v) {
    if (m->kind[f] == ULM_FEAT_CAT) {
        if (!(v >= 0.0f) || v >= (float)m->n_cats[f]) return 0.0f; /* missing or unseen: the baseline */
        return m->cat_coef[m->cat_off[f] + (uint32_t)v];
    }
    if (v != v) return 0.0f; /* missing: imputed with the training mean */
    return m->coef[f] * (v - m->mean[f]) * m->scale[f];
}


/* Trees one row descends at a time (16 measured faster than 8 natively and in wasm on the MLC model). */
#define ULM__WAYS 16

/* A step's direction down a packed tree: node n = k << 16 | extended feature j, binned row xb[j] = bin << 16,
 * so xb[j] > n (right) exactly when bin > k (the feature bits below cannot tip an equal bin over). */
#define ULM__STEP(n, xb) ((size_t)((xb)[(n)&0xFFFFu] > (n)))

/* A step's direction over comparison bytes (the comparison form, fast16): c[n] is 1 when the row goes right. */
#define ULM__CSTEP(n, c) ((size_t)(c)[n])

/* The one-row descent name<D>(m, row) over node array m->NODES of type NT, rows of type RT, with STEP(node,
 * row) the direction (0 left, 1 right): ULM__WAYS trees at a time (independent chains of loads keep the CPU
 * busy while each waits; 16 measured about 8% faster than 8 on the MLC model), the leaves added to the base
 * margin in tree order. Each tree is walked by its position p within the level (the level's nodes start at
 * 2^d - 1, a constant offset per unrolled level; children of p at 2p and 2p + 1): one step is two loads
 * and one shift-add, measured 10-15% faster than indexing the whole tree (i = 2i + 1 + right). */
#define ULM__ONE_ROW(name, D, NT, RT, NODES, STEP)                                                               \
    static float name##D(const ulm_churn *m, const RT *xb) {                                                   \
        const size_t ni = ((size_t)1 << D) - 1;                                                                  \
        const NT *nd = m->NODES;                                                                                 \
        const float *lv = m->fast_leaves;                                                                        \
        float s = m->base;                                                                                       \
        uint32_t t = 0;                                                                                          \
        for (; t + ULM__WAYS <= m->n_trees; t += ULM__WAYS, nd += ULM__WAYS * ni, lv += ULM__WAYS * (ni + 1)) {  \
            size_t p[ULM__WAYS]; /* the root level sets them (no zeroing: a memset call in the Emscripten build) */ \
            for (uint32_t k = 0; k < ULM__WAYS; k++) p[k] = STEP(nd[k * ni], xb);                                \
            const NT *lvl = nd + 1;                                                                              \
            ULM__UNROLL8 for (uint32_t d = 1; d < D; lvl += (size_t)1 << d, d++)                                 \
                for (uint32_t k = 0; k < ULM__WAYS; k++) p[k] = 2 * p[k] + STEP(lvl[k * ni + p[k]], xb);         \
            for (uint32_t k = 0; k < ULM__WAYS; k++) s += lv[k * (ni + 1) + p[k]];                               \
        }                                                                                                        \
        for (; t < m->n_trees; t++, nd += ni, lv += ni + 1) {                                                    \
            size_t p = 0;                                                                                        \
            const NT *lvl = nd;                                                                                  \
            for (uint32_t d = 0; d < D; lvl += (size_t)1 << d, d++) p = 2 * p + STEP(lvl[p], xb);               \
            s += lv[p];                                                                                          \
        }                                                                                                        \
        return s;                                                                                                \
    }
#if defined(__wasm__)
#define ULM__UNROLL8 /* the levels stay a loop in wasm: unrolled, 3 KB more gzipped for no measured gain */
#elif defined(__clang__)
#define ULM__UNROLL8 _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define ULM__UNROLL8 _Pragma("GCC unroll 8")
#else
#define ULM__UNROLL8
#endif

/* The depths of the scoring layout, and a call of fn<depth>(m, arg) for the model's depth. */
#define ULM__FOR_DEPTHS(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)
#define ULM__BY_DEPTH(fn, m, arg)                                                                                \
    switch ((m)->fast_depth) {                                                                                   \
    case 1: return fn##1(m, arg);                                                                                \
    case 2: return fn##2(m, arg);                                                                                \
    case 3: return fn##3(m, arg);                                                                                \
    case 4: return fn##4(m, arg);                                                                                \
    case 5: return fn##5(m, arg);                                                                                \
    case 6: return fn##6(m, arg);                                                                                \
    case 7: return fn##7(m, arg);                                                                                \
    default: return fn##8(m, arg);                                                                               \
    }

/* Whether row x goes left at split node n. */
static inline int ulm__tnode_left(const ulm_churn *m, const ulm__tnode *n, const float *x) {
    uint32_t f = n->feat & ULM__TN_FEAT;
    float v = x[f];
    if (v != v) return (n->feat & ULM__TN_DLEFT) != 0;
    if (!(n->feat & ULM__TN_CAT)) return v < n->u.thr;
    if (!(v >= 0.0f) || v >= (float)m->n_cats[f]) return (n->feat & ULM__TN_DLEFT) != 0; /* unseen: as missing */
    uint32_t c = (uint32_t)v;
    return (m->cat_bits[n->u.cat_off + (c >> 5)] >> (c & 31)) & 1u;
}

#endif
