/* churn_lanes.c: one row down 32 trees at once with AVX2, one tree per byte lane (natively on x86-64, chosen at
 * run time). A row's slot values (numeric bins, category codes) sit in up to four 16-byte tables. Per group of
 * 32 trees and per level, byte blends pick each tree's node on its path from the level's node rows (one
 * blend per node above the level), a byte shuffle reads the node's slot value, and three byte operations
 * test it. Measured on the MLC churn model (300 trees, depth 6): 0.71-0.73 us per row against 1.00-1.04 for the
 * comparison form's sixteen-way descent, results bit for bit the same. The wasm builds keep the comparison
 * form: with 16 lanes and a 3-instruction v128.bitselect (V8 has no byte blend outside relaxed SIMD) this
 * form measured no faster there, for 1.6 KB more gzipped. Layout: see churn_impl.h (lane_nodes); built by
 * churn_lanes_build.c. */
#include <string.h>

#include "churn_impl.h"

#if ULM__LANES
#include <immintrin.h>
#define LANES ULM__LANES
#define LANES_TARGET __attribute__((target("avx2")))
typedef __m256i vec;
#define V_TABLE(p) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define V_LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define V_STORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), v)
#define V_SPLAT(b) _mm256_set1_epi8((char)(b))
#define V_SEL(m, a, b) _mm256_blendv_epi8(b, a, m) /* m ? a : b, m all-ones or zero per byte */
#if defined(__clang__)
#define LANES_UNROLL _Pragma("clang loop unroll(full)")
#else
#define LANES_UNROLL _Pragma("GCC unroll 32")
#endif

uint32_t ulm__churn_lanes_width(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? LANES : 0;
}

/* The number of the 16 floats at t that are <= v (NaN: none). */
static inline LANES_TARGET uint32_t count16(const float *t, float v) {
    __m256 vv = _mm256_set1_ps(v);
    uint32_t lo = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(t), vv, _CMP_LE_OQ));
    uint32_t hi = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(t + 8), vv, _CMP_LE_OQ));
    return (uint32_t)__builtin_popcount(lo | hi << 8);
}

/* The row's slot values into tab (zeroed to 64 bytes first): the bin of each used numeric feature (the
 * number of its thresholds <= x: how many of its 16 block pivots are <= x gives the block, 16 compares in
 * the block the rest; see lane_thr), then the code of each categorical feature some split tests. False for a
 * NaN or infinity a split reads or a code out of range (the node walk takes those rows, as in the other
 * forms). */
static LANES_TARGET bool slot_row(const ulm_churn *m, const float *x, uint8_t *tab) {
    float bad = 0.0f;
    memset(tab, 0, 64);
    for (uint32_t e = 0; e < m->bin_class[16]; e++) {
        const float *t = m->lane_thr + m->lane_thr_off[e];
        float v = x[m->plan_feat[e]];
        bad += v * 0.0f; /* NaN (or inf) poisons the sum */
        uint32_t block = count16(t, v);
        tab[e] = (uint8_t)(16 * block + count16(t + 16 + 16 * block, v));
    }
    for (uint32_t c = 0, s = m->bin_class[16]; c < m->n_cat_blocks; c++, s++) {
        uint32_t f = m->cat_feat[c];
        float v = x[f];
        if (!(v >= 0.0f && v < (float)m->n_cats[f])) return false;
        tab[s] = (uint8_t)(uint32_t)v;
    }
    return bad == 0.0f;
}

/* A node's two rows (LANES bytes each): a = its slot (bit 6 set for a category test), b = its bin k (numeric:
 * left when the slot value <= k; padding nodes have k 255) or category code (left when equal). */
#define NODE (2 * LANES)

/* PICKk(r, s, j): a row's value at the node on each lane's path among 2^k nodes s bytes apart from r, whose
 * positions' bits are the turns left[j - k + 1] (highest) .. left[j] (lowest): the newest turn, left[j],
 * chooses between the even and the odd positions, each picked the same way from the older turns, so only one
 * byte blend waits on the newest turn (2^k - 1 blends in all). */
#define PICK0(r, s, j) V_LOAD(r)
#define PICK1(r, s, j) V_SEL(left[j], PICK0(r, 2 * (s), (j)-1), PICK0((r) + (s), 2 * (s), (j)-1))
#define PICK2(r, s, j) V_SEL(left[j], PICK1(r, 2 * (s), (j)-1), PICK1((r) + (s), 2 * (s), (j)-1))
#define PICK3(r, s, j) V_SEL(left[j], PICK2(r, 2 * (s), (j)-1), PICK2((r) + (s), 2 * (s), (j)-1))
#define PICK4(r, s, j) V_SEL(left[j], PICK3(r, 2 * (s), (j)-1), PICK3((r) + (s), 2 * (s), (j)-1))
#define PICK5(r, s, j) V_SEL(left[j], PICK4(r, 2 * (s), (j)-1), PICK4((r) + (s), 2 * (s), (j)-1))

/* A row's value at the level-d node on each lane's path (r: the row in the level's first node). */
static inline __attribute__((always_inline)) LANES_TARGET vec pick(const uint8_t *r, uint32_t d, const vec *left) {
    switch (d) {
    case 0: return PICK0(r, NODE, -1);
    case 1: return PICK1(r, NODE, 0);
    case 2: return PICK2(r, NODE, 1);
    case 3: return PICK3(r, NODE, 2);
    case 4: return PICK4(r, NODE, 3);
    default: return PICK5(r, NODE, 4);
    }
}

/* Adds the leaves of every tree (depth D, T slot tables tb) to the base margin: per lane group and level, the
 * node on each tree's path (its two rows picked by pick()), the slot's value from the tables and the node's
 * test (left: v <= k, zero saturating difference v - k; or v == code for a category test, zero v xor code).
 * Leaves are added in tree order, as every other form does, one group behind the vector work: added right
 * after the group's own store, the byte loads waited on it (and, in one loop with the leaf loads folded into
 * the additions, the sum ran at half speed). */
static inline __attribute__((always_inline)) LANES_TARGET float lanes_trees(const ulm_churn *m, const vec *tb,
                                                                           uint32_t D, uint32_t T) {
    const uint32_t ni = (1u << D) - 1;
    const uint8_t *nd = m->lane_nodes;
    const float *lk = m->fast_leaves;
    float s = m->base;
    uint8_t p[2][LANES];
    uint32_t prev = 0; /* trees in the previous group, whose leaves are added after this group's vector work */
    for (uint32_t g = 0; g * LANES < m->n_trees; g++, nd += (size_t)ni * NODE) {
        vec left[ULM__LANES_DEPTH], path = V_SPLAT(0);
        ULM__UNROLL8 for (uint32_t d = 0; d < D; d++) {
            const uint8_t *r = nd + ((1u << d) - 1) * NODE;
            vec a = pick(r, d, left), b = pick(r + LANES, d, left), slot = _mm256_and_si256(a, V_SPLAT(63));
            vec v = _mm256_shuffle_epi8(tb[0], slot); /* pshufb reads an index's low 4 bits */
            for (uint32_t t = 1; t < T; t++) /* table t for the slots from 16t */
                v = V_SEL(_mm256_cmpgt_epi8(slot, V_SPLAT(16 * t - 1)), _mm256_shuffle_epi8(tb[t], slot), v);
            vec cat = _mm256_cmpgt_epi8(a, V_SPLAT(63)); /* zero exactly when the row goes left: */
            vec over = V_SEL(cat, _mm256_xor_si256(v, b), _mm256_subs_epu8(v, b)); /* v != code, v > k */
            left[d] = _mm256_cmpeq_epi8(over, V_SPLAT(0));
            path = _mm256_or_si256(path, _mm256_andnot_si256(left[d], V_SPLAT(1u << (D - 1 - d))));
        }
        V_STORE(p[g & 1], path);
        const uint8_t *q = p[(g & 1) ^ 1];
        if (prev == LANES) { /* unrolled: a byte load and an addition per tree (a loop spent six instructions) */
            LANES_UNROLL for (uint32_t k = 0; k < LANES; k++) s += lk[k * (ni + 1) + q[k]];
            lk += LANES * (ni + 1);
        } else {
            for (uint32_t k = 0; k < prev; k++, lk += ni + 1) s += lk[q[k]];
        }
        prev = m->n_trees - g * LANES < LANES ? m->n_trees - g * LANES : LANES;
    }
    const uint8_t *q = p[((m->n_trees - 1) / LANES) & 1];
    for (uint32_t k = 0; k < prev; k++, lk += ni + 1) s += lk[q[k]];
    return s;
}

/* lanes_trees with the depth and table count as constants (three tables read as four: the fourth is zeros). */
LANES_TARGET static float lanes_sum(const ulm_churn *m, const uint8_t *tab) {
    vec tb[4] = {V_TABLE(tab), V_TABLE(tab + 16), V_TABLE(tab + 32), V_TABLE(tab + 48)};
    uint32_t T = m->lane_tables;
#define ULM__LANES_T(D)                                                                                          \
    case D:                                                                                                      \
        return T == 1 ? lanes_trees(m, tb, D, 1) : T == 2 ? lanes_trees(m, tb, D, 2) : lanes_trees(m, tb, D, 4);
    switch (m->fast_depth) {
        ULM__LANES_T(1) ULM__LANES_T(2) ULM__LANES_T(3) ULM__LANES_T(4) ULM__LANES_T(5)
    default: return T == 1 ? lanes_trees(m, tb, 6, 1) : T == 2 ? lanes_trees(m, tb, 6, 2) : lanes_trees(m, tb, 6, 4);
    }
}

bool ulm__churn_lanes_sum(const ulm_churn *m, const float *x, float *s) {
    uint8_t tab[64];
    if (!slot_row(m, x, tab)) return false;
    *s = lanes_sum(m, tab);
    return true;
}
#else /* other machines and the wasm builds: the comparison form */
uint32_t ulm__churn_lanes_width(void) { return 0; }

bool ulm__churn_lanes_sum(const ulm_churn *m, const float *x, float *s) {
    (void)m, (void)x, (void)s;
    return false;
}
#endif
