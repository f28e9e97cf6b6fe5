/* churn_decode.c: reads the CHRN byte layout (docs/format.md) into a churn model, validating every
 * count, index and value first. */
#include <math.h>
#include <stdlib.h>

#include "churn_impl.h"

/* A bounds-checked little-endian reader. */
typedef struct rd {
    const uint8_t *p;
    size_t size, pos;
    bool bad;
} rd;

static uint32_t rd_u32(rd *r) {
    if (r->bad || r->size - r->pos < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = ulm__rd32(r->p + r->pos);
    r->pos += 4;
    return v;
}
static float rd_f32(rd *r) {
    uint32_t u = rd_u32(r);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
/* True when n more u32/f32 values are present (guards allocations against huge counts). */
static bool rd_has(const rd *r, uint64_t n) { return !r->bad && (r->size - r->pos) / 4 >= n; }

#define BAD(...) (st = ulm__fail(diag, ULM_ERR_FORMAT, "CHRN", r.pos, __VA_ARGS__))
#define BADP(...) ulm__fail(diag, ULM_ERR_FORMAT, "CHRN", r->pos, __VA_ARGS__)

/* The packed forest (layout 1, docs/churn.md): bin tables, then every tree's nodes in preorder as 4-byte
 * words, covers and leaf values. Checks every count, index, bin and the shape of each tree, rebuilds the node
 * table (for explanations and rows with missing values) and the scoring layout without sorting anything. */
static ulm_status decode_packed(rd *r, ulm_churn *m, ulm_diag *diag) {
    const ulm_allocator *alloc = m->alloc;
    uint32_t nf = m->n_features, nt = rd_u32(r), nn = rd_u32(r), np = rd_u32(r), nthr = rd_u32(r);
    if (r->bad || nt == 0 || nn < nt || np > 2048 || nf + np > 2048 ||
        !rd_has(r, (uint64_t)np + nf + 1 + nthr + nt + 1 + 2 * (uint64_t)nn))
        return BADP("packed forest of %u trees, %u nodes, %u pairs does not fit", nt, nn, np);
    uint64_t words = 0;
    m->ext_pair = ulm__alloc(alloc, ((size_t)np + 1) * sizeof *m->ext_pair);
    m->bin_off = ulm__calloc(alloc, (size_t)nf + np + 2, sizeof *m->bin_off);
    m->bin_thr = ulm__alloc(alloc, ((size_t)nthr + 1) * sizeof *m->bin_thr);
    uint32_t *pair_word = ulm__alloc(alloc, ((size_t)np + 1) * sizeof *pair_word);
    if (!m->ext_pair || !m->bin_off || !m->bin_thr || !pair_word) {
        ulm__free(alloc, pair_word, 0);
        return ulm__fail(diag, ULM_ERR_NOMEM, "CHRN", 0, "out of memory");
    }
    ulm_status st = ULM_OK;
    m->n_ext = nf + np;
    for (uint32_t k = 0; k < np && st == ULM_OK; k++) {
        uint32_t e = m->ext_pair[k] = rd_u32(r), f = e >> 16, c = e & 0xFFFF;
        if (f >= nf || m->kind[f] != ULM_FEAT_CAT || c >= m->n_cats[f] || m->n_cats[f] > 0xFFFF ||
            (k && e <= m->ext_pair[k - 1]))
            st = BADP("category pair %u (feature %u, code %u) is out of range or out of order", k, f, c);
        pair_word[k] = (uint32_t)words;
        words += (m->n_cats[f < nf ? f : 0] + 31) / 32;
    }
    for (uint32_t f = 0; f <= nf && st == ULM_OK; f++) {
        uint32_t o = m->bin_off[f] = rd_u32(r);
        if ((f == 0 && o != 0) || (f && (o < m->bin_off[f - 1] || o - m->bin_off[f - 1] > 0xFFFE ||
                                         (m->kind[f - 1] == ULM_FEAT_CAT && o != m->bin_off[f - 1]))) ||
            (f == nf && o != nthr))
            st = BADP("threshold offsets of feature %u are out of range", f);
    }
    for (uint32_t k = nf + 1; k <= nf + np; k++) m->bin_off[k] = nthr;
    for (uint32_t k = 0; k < nthr; k++) m->bin_thr[k] = rd_f32(r);
    for (uint32_t f = 0; f < nf && st == ULM_OK; f++)
        for (uint32_t k = m->bin_off[f]; k < m->bin_off[f + 1] && st == ULM_OK; k++)
            if (!isfinite(m->bin_thr[k]) || (k > m->bin_off[f] && !(m->bin_thr[k] > m->bin_thr[k - 1])))
                st = BADP("thresholds of feature %u are not finite and ascending", f);
    if (st == ULM_OK && words > ((uint64_t)1 << 24)) st = BADP("category pairs need too many set words");
    if (st != ULM_OK || ulm__churn_alloc_trees(m, nt, nn, (uint32_t)words) != ULM_OK) {
        ulm__free(alloc, pair_word, 0);
        return st != ULM_OK ? st : ulm__fail(diag, ULM_ERR_NOMEM, "CHRN", 0, "out of memory");
    }
    for (uint32_t k = 0; k < np; k++) {
        uint32_t c = m->ext_pair[k] & 0xFFFF;
        m->cat_bits[pair_word[k] + c / 32] |= 1u << (c & 31);
    }
    for (uint32_t t = 0; t <= nt; t++) m->roots[t] = rd_u32(r);
    uint32_t n_leaves = 0;
    for (uint32_t i = 0; i < nn; i++) n_leaves += ((m->nodes[i].feat = rd_u32(r)) & ULM__PK_LEAF) != 0;
    for (uint32_t i = 0; i < nn; i++) m->cover[i] = rd_f32(r);
    if (!rd_has(r, n_leaves)) {
        ulm__free(alloc, pair_word, 0);
        return BADP("packed forest has %u leaves, their values do not fit", n_leaves);
    }
    if (m->roots[0] != 0 || m->roots[nt] != nn) st = BADP("tree offsets do not span the node table");
    uint32_t stack[66], sdepth[66];
    for (uint32_t t = 0; t < nt && st == ULM_OK; t++) {
        uint32_t a = m->roots[t], b = m->roots[t + 1], sp = 0;
        if (b <= a || b > nn) {
            st = BADP("tree %u has no nodes", t);
            break;
        }
        for (uint32_t i = a; i < b && st == ULM_OK; i++) {
            ulm__tnode *n = &m->nodes[i];
            uint32_t w = n->feat, d = 0;
            if (i != a) { /* preorder: the next node is the left child of the innermost open split, else its right */
                if (sp == 0) {
                    st = BADP("tree %u has nodes after its last leaf", t);
                    break;
                }
                uint32_t p = stack[sp - 1];
                d = sdepth[sp - 1] + 1;
                if (m->nodes[p].left == 0) m->nodes[p].left = i;
                else m->nodes[p].right = i, sp--;
            }
            if (!isfinite(m->cover[i]) || m->cover[i] < 0) st = BADP("node %u has a bad cover", i);
            if (st != ULM_OK) break;
            if (d > m->max_depth) m->max_depth = d;
            n->left = n->right = 0;
            if (w & ULM__PK_LEAF) {
                n->u.value = rd_f32(r);
                n->feat = ULM__TN_LEAF;
                if (w != ULM__PK_LEAF || !isfinite(n->u.value)) st = BADP("leaf %u is malformed or not finite", i);
                continue;
            }
            uint32_t j = w >> 16 & 0x3FFF, k = w & 0xFFFF, dl = w & ULM__PK_DLEFT ? ULM__TN_DLEFT : 0;
            if (w & 0x38000000u || j >= nf + np) st = BADP("node %u splits on extended feature %u of %u", i, j, nf + np);
            else if (j < nf && (m->kind[j] != ULM_FEAT_NUM || k >= m->bin_off[j + 1] - m->bin_off[j]))
                st = BADP("node %u: bin %u is not a threshold of feature %u", i, k, j);
            else if (j >= nf && k != 0) st = BADP("node %u: category pair split with bin %u", i, k);
            else if (d >= 64) st = BADP("tree %u is deeper than 64", t);
            if (st != ULM_OK) break;
            if (j < nf) {
                n->feat = j | dl;
                n->u.thr = m->bin_thr[m->bin_off[j] + k];
            } else {
                n->feat = (m->ext_pair[j - nf] >> 16) | ULM__TN_CAT | dl;
                n->u.cat_off = pair_word[j - nf];
            }
            stack[sp] = i, sdepth[sp++] = d;
        }
        if (st == ULM_OK && sp != 0) st = BADP("tree %u is not complete: a split lacks a child", t);
    }
    ulm__free(alloc, pair_word, 0);
    return st;
}

ulm_status ulm_churn_decode(const void *data, size_t size, const ulm_allocator *alloc, ulm_churn **out,
                            ulm_diag *diag) {
    if (diag) memset(diag, 0, sizeof *diag);
    if (!out || (!data && size)) return ULM_ERR_MISUSE;
    *out = NULL;
    rd r = {data, size, 0, false};
    ulm_status st = ULM_OK;
    uint32_t family = rd_u32(&r), nf = rd_u32(&r), calib = rd_u32(&r), n_iso = rd_u32(&r);
    float pa = rd_f32(&r), pb = rd_f32(&r), bias = rd_f32(&r);
    uint32_t layout = rd_u32(&r);
    if (r.bad) return BAD("churn model header truncated");
    if (layout > 1 || (layout == 1 && family != ULM_CHURN_GBDT)) return BAD("unknown churn model layout %u", layout);
    if (family != ULM_CHURN_LOGREG && family != ULM_CHURN_GBDT) return BAD("unknown churn model family %u", family);
    if (nf == 0 || nf > ULM__TN_FEAT || !rd_has(&r, 2 * (uint64_t)nf)) return BAD("bad feature count %u", nf);
    if (calib > ULM_CALIB_ISOTONIC) return BAD("unknown calibration %u", calib);
    if (!isfinite(pa) || !isfinite(pb) || !isfinite(bias)) return BAD("non-finite calibration or bias");
    ulm_churn *m = ulm__churn_new(alloc, family, nf);
    if (!m) return ulm__fail(diag, ULM_ERR_NOMEM, "CHRN", 0, "out of memory");
    m->calib = calib;
    m->platt_a = pa;
    m->platt_b = pb;
    uint64_t total_cats = 0;
    for (uint32_t f = 0; f < nf; f++) {
        m->kind[f] = rd_u32(&r);
        if (m->kind[f] > ULM_FEAT_CAT) {
            BAD("feature %u has unknown kind %u", f, m->kind[f]);
            goto fail;
        }
    }
    for (uint32_t f = 0; f < nf; f++) {
        m->n_cats[f] = rd_u32(&r);
        if ((m->kind[f] == ULM_FEAT_CAT) != (m->n_cats[f] > 0) || m->n_cats[f] > (1u << 24)) {
            BAD("feature %u has %u categories", f, m->n_cats[f]);
            goto fail;
        }
        total_cats += m->n_cats[f];
    }
    if (!rd_has(&r, 2 * (uint64_t)n_iso)) {
        BAD("isotonic table of %u points does not fit", n_iso);
        goto fail;
    }
    if ((calib == ULM_CALIB_ISOTONIC) != (n_iso > 0)) {
        BAD("isotonic points (%u) do not match the calibration kind", n_iso);
        goto fail;
    }
    if (n_iso) {
        m->iso_x = ulm__alloc(alloc, (size_t)n_iso * sizeof *m->iso_x);
        m->iso_y = ulm__alloc(alloc, (size_t)n_iso * sizeof *m->iso_y);
        if (!m->iso_x || !m->iso_y) goto nomem;
        m->n_iso = n_iso;
        for (uint32_t i = 0; i < n_iso; i++) m->iso_x[i] = rd_f32(&r);
        for (uint32_t i = 0; i < n_iso; i++) m->iso_y[i] = rd_f32(&r);
        for (uint32_t i = 0; i < n_iso; i++)
            if (!isfinite(m->iso_x[i]) || !(m->iso_y[i] >= 0 && m->iso_y[i] <= 1) ||
                (i && !(m->iso_x[i] > m->iso_x[i - 1]))) {
                BAD("isotonic point %u is not finite, ascending and within [0, 1]", i);
                goto fail;
            }
    }
    if (family == ULM_CHURN_LOGREG) {
        m->bias = bias;
        if (!rd_has(&r, 3 * (uint64_t)nf + 1)) {
            BAD("linear model truncated");
            goto fail;
        }
        if (ulm__churn_alloc_linear(m) != ULM_OK) goto nomem;
        for (uint32_t f = 0; f < nf; f++) m->mean[f] = rd_f32(&r);
        for (uint32_t f = 0; f < nf; f++) m->scale[f] = rd_f32(&r);
        for (uint32_t f = 0; f < nf; f++) m->coef[f] = rd_f32(&r);
        uint32_t ncc = rd_u32(&r);
        if (ncc != total_cats || ncc != m->n_cat_coef || !rd_has(&r, ncc)) {
            BAD("linear model has %u category weights for %llu categories", ncc, (unsigned long long)total_cats);
            goto fail;
        }
        for (uint32_t i = 0; i < ncc; i++) m->cat_coef[i] = rd_f32(&r);
        for (uint32_t f = 0; f < nf; f++)
            if (!isfinite(m->mean[f]) || !isfinite(m->scale[f]) || !isfinite(m->coef[f])) {
                BAD("linear weights of feature %u are not finite", f);
                goto fail;
            }
        for (uint32_t i = 0; i < ncc; i++)
            if (!isfinite(m->cat_coef[i])) {
                BAD("category weight %u is not finite", i);
                goto fail;
            }
    } else if (layout == 1) {
        m->base = bias;
        if ((st = decode_packed(&r, m, diag)) != ULM_OK) goto fail;
    } else {
        m->base = bias;
        uint32_t nt = rd_u32(&r), nn = rd_u32(&r), nw = rd_u32(&r);
        if (r.bad || nt == 0 || nn < nt || !rd_has(&r, (uint64_t)nt + 1 + 5 * (uint64_t)nn + nw)) {
            BAD("forest of %u trees, %u nodes does not fit", nt, nn);
            goto fail;
        }
        if (ulm__churn_alloc_trees(m, nt, nn, nw) != ULM_OK) goto nomem;
        for (uint32_t t = 0; t <= nt; t++) m->roots[t] = rd_u32(&r);
        for (uint32_t i = 0; i < nn; i++) {
            m->nodes[i].feat = rd_u32(&r);
            m->nodes[i].u.cat_off = rd_u32(&r);
            m->nodes[i].left = rd_u32(&r);
            m->nodes[i].right = rd_u32(&r);
        }
        for (uint32_t i = 0; i < nn; i++) m->cover[i] = rd_f32(&r);
        for (uint32_t i = 0; i < nw; i++) m->cat_bits[i] = rd_u32(&r);
        if (m->roots[0] != 0 || m->roots[nt] != nn) {
            BAD("tree offsets do not span the node table");
            goto fail;
        }
        /* parents[] counts references: every node but a root has exactly one parent, children come after
         * their parent inside the same tree (so no cycles), depth is recomputed */
        uint32_t *depth = ulm__calloc(alloc, (size_t)nn + 1, sizeof *depth);
        uint8_t *refs = ulm__calloc(alloc, (size_t)nn + 1, 1);
        if (!depth || !refs) {
            ulm__free(alloc, depth, 0);
            ulm__free(alloc, refs, 0);
            goto nomem;
        }
        for (uint32_t t = 0; t < nt && st == ULM_OK; t++) {
            uint32_t a = m->roots[t], b = m->roots[t + 1];
            if (b <= a) {
                BAD("tree %u has no nodes", t);
                break;
            }
            for (uint32_t i = a; i < b && st == ULM_OK; i++) {
                const ulm__tnode *n = &m->nodes[i];
                if (i != a && refs[i] != 1) BAD("node %u of tree %u has %u parents", i - a, t, refs[i]);
                else if (!isfinite(m->cover[i]) || m->cover[i] < 0) BAD("node %u has a bad cover", i);
                else if (n->feat & ULM__TN_LEAF) {
                    if (n->feat != ULM__TN_LEAF || !isfinite(n->u.value)) BAD("leaf %u is malformed or not finite", i);
                } else {
                    uint32_t f = n->feat & ULM__TN_FEAT;
                    if (f >= nf) BAD("node %u splits on feature %u of %u", i, f, nf);
                    else if ((n->feat & ULM__TN_CAT) && m->kind[f] != ULM_FEAT_CAT)
                        BAD("node %u: categorical split on numeric feature %u", i, f);
                    else if ((n->feat & ULM__TN_CAT) &&
                             ((uint64_t)n->u.cat_off + (m->n_cats[f] + 31) / 32 > nw))
                        BAD("node %u: category set out of range", i);
                    else if (!(n->feat & ULM__TN_CAT) && m->kind[f] == ULM_FEAT_CAT)
                        BAD("node %u: numeric split on categorical feature %u", i, f);
                    else if (!(n->feat & ULM__TN_CAT) && !isfinite(n->u.thr)) BAD("node %u: threshold not finite", i);
                    else if (n->left <= i || n->left >= b || n->right <= i || n->right >= b || n->left == n->right)
                        BAD("node %u: children out of range or not after their parent", i);
                    else {
                        refs[n->left]++;
                        refs[n->right]++;
                        depth[n->left] = depth[n->right] = depth[i] + 1;
                        if (depth[i] + 1 > m->max_depth) m->max_depth = depth[i] + 1;
                        if (m->max_depth > 64) BAD("tree %u is deeper than 64", t);
                    }
                }
            }
        }
        ulm__free(alloc, depth, 0);
        ulm__free(alloc, refs, 0);
        if (st != ULM_OK) goto fail;
    }
    if (r.bad || r.pos != r.size) {
        BAD("churn model has %zu trailing or missing bytes", r.size - r.pos);
        goto fail;
    }
    if ((layout == 1 ? ulm__churn_fill_fast(m) : ulm__churn_prepare(m)) != ULM_OK) goto nomem;
    *out = m;
    return ULM_OK;
nomem:
    st = ulm__fail(diag, ULM_ERR_NOMEM, "CHRN", 0, "out of memory");
fail:
    ulm_churn_free(m);
    return st;
}
