/* churn_gbdt.c: histogram gradient-boosted trees for binary logloss (second-order gains as in
 * Chen & Guestrin 2016, section 2.2; quantile bins and the histogram subtraction trick as in
 * Ke et al. 2017; categorical splits by sorting categories on G / (H + smooth) as in LightGBM). */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "churn_impl.h"
#include "ulm/ulm_churn_train.h"

ulm_gbdt_params ulm_gbdt_params_init(void) {
    ulm_gbdt_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.n_rounds = 300;
    p.max_depth = 6;
    p.max_bins = 255;
    p.eta = 0.1f;
    p.lambda = 1.0f;
    p.min_child_weight = 1.0f;
    p.subsample = 1.0f;
    p.colsample = 1.0f;
    p.cat_smooth = 10.0f;
    p.cat_l2 = 10.0f;
    p.max_cat_onehot = 64;
    p.seed = 42;
    return p;
}

/* splitmix64: a small, well-mixed deterministic generator for sampling. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }

typedef struct ghsum {
    double g, h;
} ghsum;

/* One feature's binning: bin 0 holds missing values; numeric value bins 1..n_bins-1 are separated by
 * cuts (bin k+1 starts at cuts[k]); categorical bin c+1 holds code c. */
typedef struct gb_feat {
    uint32_t kind, n_bins, off, n_cats;
    float *cuts;
} gb_feat;

/* The best split of one node on one feature. */
typedef struct gb_cand {
    double gain, gl, hl;
    uint32_t bin; /* numeric: bins 1..bin go left */
    uint32_t feat; /* set when chosen as a node's best */
    uint8_t dleft, valid;
    uint32_t cats[8]; /* categorical: codes going left */
} gb_cand;

/* A node being expanded in the current level. */
typedef struct gb_node {
    uint32_t begin, end, tnode; /* rows row_idx[begin..end), index in the model's node array */
    uint32_t parent_slot;       /* slot of the parent's histogram in the previous level, or UINT32_MAX */
    uint32_t sibling;           /* index in the level of the sibling, or UINT32_MAX */
    uint8_t build;              /* 1: build from rows; 0: parent minus sibling */
    double G, H;
    gb_cand best;
} gb_node;

typedef struct gb_ctx {
    const ulm_gbdt_params *p;
    uint32_t n_rows, n_features, total_bins;
    gb_feat *feat;
    uint8_t *bins; /* column-major: bins[f * n_rows + r] */
    float *g, *h;
    uint32_t *row_idx;
    uint8_t *fmask; /* features sampled for this tree */
    gb_node *level;
    uint32_t n_level;
    ghsum *hist, *prev_hist; /* per level: slot i at i * total_bins */
    gb_cand *cand;           /* n_level * n_features */
    uint32_t *order;         /* per task scratch for categorical sorting: n_features * 256 */
    double *keys;            /* same size */
} gb_ctx;

static double thr_l1(double g, double alpha) {
    if (g > alpha) return g - alpha;
    if (g < -alpha) return g + alpha;
    return 0.0;
}
static double score(double g, double h, double lambda, double alpha) {
    double t = thr_l1(g, alpha);
    return t * t / (h + lambda);
}

/* qsort order of floats (no NaN here). */
static int cmp(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Quantile cuts of one numeric feature: every distinct value when there are few, else values at
 * evenly spaced ranks (deduplicated). Returns the number of value bins. */
static ulm_status bin_numeric(const ulm_churn_data *d, uint32_t f, uint32_t max_bins, gb_feat *gf, float *tmp) {
    uint32_t n = 0;
    for (uint32_t r = 0; r < d->n_rows; r++) {
        float v = d->x[(size_t)r * d->n_features + f];
        if (v == v) tmp[n++] = v;
    }
    qsort(tmp, n, sizeof *tmp, cmp);
    uint32_t distinct = 0;
    for (uint32_t i = 0; i < n; i++)
        if (i == 0 || tmp[i] != tmp[distinct - 1]) tmp[distinct++] = tmp[i];
    gf->cuts = malloc(((size_t)max_bins + 1) * sizeof *gf->cuts);
    if (!gf->cuts) return ULM_ERR_NOMEM;
    uint32_t nc = 0;
    if (distinct <= max_bins) {
        for (uint32_t i = 1; i < distinct; i++) gf->cuts[nc++] = tmp[i];
    } else {
        /* rebuild the sorted multiset (the dedup above overwrote it) */
        n = 0;
        for (uint32_t r = 0; r < d->n_rows; r++) {
            float v = d->x[(size_t)r * d->n_features + f];
            if (v == v) tmp[n++] = v;
        }
        qsort(tmp, n, sizeof *tmp, cmp);
        for (uint32_t j = 1; j < max_bins; j++) {
            float c = tmp[(size_t)j * n / max_bins];
            if (c > tmp[0] && (nc == 0 || c > gf->cuts[nc - 1])) gf->cuts[nc++] = c;
        }
    }
    gf->n_bins = nc + 2; /* missing + nc + 1 value bins */
    return ULM_OK;
}


/* Bin of value v of feature gf (binary search over the cuts). */
static uint8_t bin_of(const gb_feat *gf, float v) {
    if (v != v) return 0;
    if (gf->kind == ULM_FEAT_CAT) {
        if (!(v >= 0.0f) || v >= (float)gf->n_cats) return 0;
        return (uint8_t)((uint32_t)v + 1);
    }
    uint32_t lo = 0, hi = gf->n_bins - 2; /* number of cuts <= v */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (gf->cuts[mid] <= v) lo = mid + 1;
        else hi = mid;
    }
    return (uint8_t)(lo + 1);
}

/* Tries a split (left sums gl, hl) and keeps it in c when better. */
static void try_split(const gb_ctx *c, const gb_node *n, gb_cand *best, double gl, double hl, double lambda,
                      uint32_t bin, uint8_t dleft, const uint32_t *cats) {
    const ulm_gbdt_params *p = c->p;
    double gr = n->G - gl, hr = n->H - hl;
    if (hl < p->min_child_weight || hr < p->min_child_weight) return;
    double gain = 0.5 * (score(gl, hl, lambda, p->alpha) + score(gr, hr, lambda, p->alpha) -
                         score(n->G, n->H, p->lambda, p->alpha)) - p->gamma;
    if (!(gain > 1e-12) || (best->valid && !(gain > best->gain))) return;
    best->valid = 1;
    best->gain = gain;
    best->gl = gl;
    best->hl = hl;
    best->bin = bin;
    best->dleft = dleft;
    if (cats) memcpy(best->cats, cats, sizeof best->cats);
}

/* Best split of node n on numeric feature f from its histogram. */
static void split_numeric(const gb_ctx *c, const gb_node *n, const ghsum *hf, uint32_t nb, gb_cand *best) {
    double gm = hf[0].g, hm = hf[0].h, gl = 0, hl = 0;
    for (uint32_t k = 1; k + 1 < nb; k++) {
        if (hf[k].h == 0 && hf[k].g == 0) continue; /* empty bin: same partition as the previous cut */
        gl += hf[k].g;
        hl += hf[k].h;
        if (hl < c->p->min_child_weight && hl + hm < c->p->min_child_weight) continue;
        if (n->H - hl - hm < c->p->min_child_weight && n->H - hl < c->p->min_child_weight) break;
        if (hm > 0) {
            try_split(c, n, best, gl, hl, c->p->lambda, k, 0, NULL);
            try_split(c, n, best, gl + gm, hl + hm, c->p->lambda, k, 1, NULL);
        } else {
            /* no missing values here: send future ones to the heavier side */
            try_split(c, n, best, gl, hl, c->p->lambda, k, hl >= n->H - hl, NULL);
        }
    }
}

/* Best split of node n on categorical feature f: one-vs-rest for few categories, else prefixes of the
 * categories sorted by G / (H + cat_smooth). */
static void split_categorical(const gb_ctx *c, const gb_node *n, const ghsum *hf, uint32_t nb, gb_cand *best,
                              uint32_t *order, double *keys) {
    const ulm_gbdt_params *p = c->p;
    double lambda = (double)p->lambda + (nb - 1 > p->max_cat_onehot ? p->cat_l2 : 0.0);
    double gm = hf[0].g, hm = hf[0].h;
    uint32_t cats[8];
    uint32_t m = 0;
    for (uint32_t k = 1; k < nb; k++)
        if (hf[k].h > 0) order[m++] = k;
    if (m < 2 && !(m == 1 && hm > 0)) return;
    if (nb - 1 <= p->max_cat_onehot) {
        for (uint32_t i = 0; i < m; i++) {
            uint32_t k = order[i];
            memset(cats, 0, sizeof cats);
            cats[(k - 1) >> 5] |= 1u << ((k - 1) & 31);
            try_split(c, n, best, hf[k].g, hf[k].h, lambda, 0, 0, cats);
            if (hm > 0) try_split(c, n, best, hf[k].g + gm, hf[k].h + hm, lambda, 0, 1, cats);
        }
        return;
    }
    for (uint32_t i = 0; i < m; i++) keys[order[i]] = hf[order[i]].g / (hf[order[i]].h + p->cat_smooth);
    /* insertion sort by key, ties by bin (m <= 255) */
    for (uint32_t i = 1; i < m; i++) {
        uint32_t v = order[i];
        uint32_t j = i;
        while (j > 0 && (keys[order[j - 1]] > keys[v] || (keys[order[j - 1]] == keys[v] && order[j - 1] > v))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    memset(cats, 0, sizeof cats);
    double gl = 0, hl = 0;
    for (uint32_t i = 0; i + 1 < m || (i + 1 == m && hm > 0); i++) {
        uint32_t k = order[i];
        gl += hf[k].g;
        hl += hf[k].h;
        cats[(k - 1) >> 5] |= 1u << ((k - 1) & 31);
        if (i + 1 < m) try_split(c, n, best, gl, hl, lambda, 0, 0, cats);
        if (hm > 0) try_split(c, n, best, gl + gm, hl + hm, lambda, 0, 1, cats);
    }
}

/* One task: feature f's histograms for every node of the level (built, or parent minus sibling),
 * then its best split per node. */
static void level_task(void *arg, uint32_t f) {
    gb_ctx *c = arg;
    const gb_feat *gf = &c->feat[f];
    for (uint32_t i = 0; i < c->n_level; i++) c->cand[(size_t)i * c->n_features + f].valid = 0;
    if (!c->fmask[f]) return;
    const uint8_t *bcol = c->bins + (size_t)f * c->n_rows;
    for (uint32_t pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < c->n_level; i++) {
            gb_node *n = &c->level[i];
            if ((pass == 0) != (n->build != 0)) continue;
            ghsum *hf = c->hist + (size_t)i * c->total_bins + gf->off;
            memset(hf, 0, gf->n_bins * sizeof *hf);
            if (n->build) {
                const uint32_t *rows = c->row_idx;
                for (uint32_t j = n->begin; j < n->end; j++) {
                    uint32_t r = rows[j];
                    ghsum *e = &hf[bcol[r]];
                    e->g += c->g[r];
                    e->h += c->h[r];
                }
            } else {
                const ghsum *ph = c->prev_hist + (size_t)n->parent_slot * c->total_bins + gf->off;
                const ghsum *sh = c->hist + (size_t)n->sibling * c->total_bins + gf->off;
                for (uint32_t k = 0; k < gf->n_bins; k++) {
                    hf[k].g = ph[k].g - sh[k].g;
                    hf[k].h = ph[k].h - sh[k].h;
                    if (hf[k].h < 0) hf[k].h = 0;
                }
            }
        }
    }
    for (uint32_t i = 0; i < c->n_level; i++) {
        gb_cand *best = &c->cand[(size_t)i * c->n_features + f];
        const ghsum *hf = c->hist + (size_t)i * c->total_bins + gf->off;
        if (gf->kind == ULM_FEAT_CAT)
            split_categorical(c, &c->level[i], hf, gf->n_bins, best, c->order + (size_t)f * 256, c->keys + (size_t)f * 256);
        else
            split_numeric(c, &c->level[i], hf, gf->n_bins, best);
    }
}

static void run_tasks(const ulm_gbdt_params *p, uint32_t n, ulm_task_fn fn, void *arg) {
    if (p->parallel) p->parallel(p->parallel_ctx, n, fn, arg);
    else
        for (uint32_t i = 0; i < n; i++) fn(arg, i);
}

/* The growing model: appends nodes and category bitsets. */
typedef struct gb_model {
    ulm_churn *m;
    uint32_t cap_nodes, cap_words, cap_trees;
} gb_model;

static uint32_t add_node(gb_model *gm) {
    ulm_churn *m = gm->m;
    if (m->n_nodes == gm->cap_nodes) {
        uint32_t nc = gm->cap_nodes ? gm->cap_nodes * 2 : 1024;
        ulm__tnode *nn = realloc(m->nodes, (size_t)nc * sizeof *nn);
        if (!nn) return UINT32_MAX;
        m->nodes = nn;
        float *cv = realloc(m->cover, (size_t)nc * sizeof *cv);
        if (!cv) return UINT32_MAX;
        m->cover = cv;
        gm->cap_nodes = nc;
    }
    memset(&m->nodes[m->n_nodes], 0, sizeof m->nodes[0]);
    m->cover[m->n_nodes] = 0;
    return m->n_nodes++;
}

static uint32_t add_words(gb_model *gm, uint32_t n) {
    ulm_churn *m = gm->m;
    if (m->n_cat_words + n > gm->cap_words) {
        uint32_t nc = gm->cap_words ? gm->cap_words * 2 : 256;
        while (nc < m->n_cat_words + n) nc *= 2;
        uint32_t *nb = realloc(m->cat_bits, (size_t)nc * sizeof *nb);
        if (!nb) return UINT32_MAX;
        m->cat_bits = nb;
        gm->cap_words = nc;
    }
    uint32_t off = m->n_cat_words;
    memset(m->cat_bits + off, 0, n * sizeof *m->cat_bits);
    m->n_cat_words += n;
    return off;
}

/* Whether binned row r goes left at candidate split (feature f, cand). */
static int goes_left(const gb_ctx *c, uint32_t f, const gb_cand *cd, uint32_t r) {
    uint8_t b = c->bins[(size_t)f * c->n_rows + r];
    if (b == 0) return cd->dleft;
    if (c->feat[f].kind == ULM_FEAT_CAT) return (cd->cats[(b - 1) >> 5] >> ((b - 1) & 31)) & 1u;
    return b <= cd->bin;
}

/* Grows one tree depth-wise over all rows (unsampled rows carry zero gradients) and adds its leaf
 * values to margin. */
static ulm_status grow_tree(gb_ctx *c, gb_model *gm, double *margin, uint32_t *tmp_rows, uint32_t *depth_out) {
    const ulm_gbdt_params *p = c->p;
    ulm_churn *m = gm->m;
    uint32_t root = add_node(gm);
    if (root == UINT32_MAX) return ULM_ERR_NOMEM;
    double G = 0, H = 0;
    for (uint32_t r = 0; r < c->n_rows; r++) {
        c->row_idx[r] = r;
        G += c->g[r];
        H += c->h[r];
    }
    c->n_level = 1;
    c->level[0] = (gb_node){0, c->n_rows, root, UINT32_MAX, UINT32_MAX, 1, G, H, {.gain = 0}};
    uint32_t leaves = 1, depth = 0;
    gb_node *next = c->level + (c->n_rows + 1); /* second half of the level buffer */
    for (;;) {
        uint32_t n_next = 0;
        if (depth < p->max_depth) {
            run_tasks(p, c->n_features, level_task, c);
            for (uint32_t i = 0; i < c->n_level; i++) {
                gb_node *n = &c->level[i];
                n->best.valid = 0;
                for (uint32_t f = 0; f < c->n_features; f++) {
                    const gb_cand *cd = &c->cand[(size_t)i * c->n_features + f];
                    if (cd->valid && (!n->best.valid || cd->gain > n->best.gain)) {
                        n->best = *cd;
                        n->best.feat = f;
                    }
                }
            }
            /* leaf limit: accept the best gains first */
            if (p->max_leaves) {
                uint32_t want = 0;
                for (uint32_t i = 0; i < c->n_level; i++) want += c->level[i].best.valid;
                while (leaves + want > p->max_leaves && want) {
                    uint32_t worst = UINT32_MAX;
                    for (uint32_t i = 0; i < c->n_level; i++)
                        if (c->level[i].best.valid &&
                            (worst == UINT32_MAX || c->level[i].best.gain <= c->level[worst].best.gain))
                            worst = i;
                    c->level[worst].best.valid = 0;
                    want--;
                }
            }
        } else {
            for (uint32_t i = 0; i < c->n_level; i++) c->level[i].best.valid = 0;
        }
        /* apply: splits become internal nodes with two children, the rest become leaves */
        for (uint32_t i = 0; i < c->n_level; i++) {
            gb_node *n = &c->level[i];
            m->cover[n->tnode] = (float)n->H;
            if (!n->best.valid) {
                double w = -thr_l1(n->G, p->alpha) / (n->H + p->lambda) * p->eta;
                m->nodes[n->tnode].feat = ULM__TN_LEAF;
                m->nodes[n->tnode].u.value = (float)w;
                for (uint32_t j = n->begin; j < n->end; j++) margin[c->row_idx[j]] += (float)w;
                continue;
            }
            uint32_t f = n->best.feat;
            const gb_cand *cd = &n->best;
            uint32_t l = add_node(gm), r = add_node(gm);
            if (l == UINT32_MAX || r == UINT32_MAX) return ULM_ERR_NOMEM;
            ulm__tnode *tn = &m->nodes[n->tnode];
            tn->feat = f | (cd->dleft ? ULM__TN_DLEFT : 0);
            tn->left = l;
            tn->right = r;
            if (c->feat[f].kind == ULM_FEAT_CAT) {
                uint32_t words = (c->feat[f].n_cats + 31) / 32;
                uint32_t off = add_words(gm, words);
                if (off == UINT32_MAX) return ULM_ERR_NOMEM;
                tn = &m->nodes[n->tnode];
                tn->feat |= ULM__TN_CAT;
                tn->u.cat_off = off;
                for (uint32_t w = 0; w < words && w < 8; w++) m->cat_bits[off + w] = cd->cats[w];
            } else {
                tn->u.thr = c->feat[f].cuts[cd->bin - 1];
            }
            /* stable partition of the node's rows */
            uint32_t nl = 0, nr = 0;
            for (uint32_t j = n->begin; j < n->end; j++) {
                uint32_t row = c->row_idx[j];
                if (goes_left(c, f, cd, row)) c->row_idx[n->begin + nl++] = row;
                else tmp_rows[nr++] = row;
            }
            memcpy(c->row_idx + n->begin + nl, tmp_rows, nr * sizeof *tmp_rows);
            double hl = cd->hl, hr = n->H - cd->hl;
            gb_node L = {n->begin, n->begin + nl, l, i, UINT32_MAX, 0, cd->gl, hl, {.gain = 0}};
            gb_node R = {n->begin + nl, n->end, r, i, UINT32_MAX, 0, n->G - cd->gl, hr, {.gain = 0}};
            /* build the child with fewer rows, subtract for the other */
            if (nl <= nr) L.build = 1;
            else R.build = 1;
            next[n_next] = L;
            next[n_next + 1] = R;
            next[n_next].sibling = n_next + 1;
            next[n_next + 1].sibling = n_next;
            n_next += 2;
            leaves++;
        }
        if (!n_next) break;
        depth++;
        /* swap level buffers and histogram pools */
        memcpy(c->level, next, n_next * sizeof *next);
        c->n_level = n_next;
        ghsum *t = c->prev_hist;
        c->prev_hist = c->hist;
        c->hist = t;
    }
    if (depth > m->max_depth) m->max_depth = depth;
    *depth_out = depth;
    return ULM_OK;
}

/* Mean binary logloss of margins against labels. */
static double logloss_margin(const double *margin, const float *y, uint32_t n) {
    double s = 0;
    for (uint32_t i = 0; i < n; i++) {
        double z = margin[i];
        /* log(1 + e^-z) for y = 1, log(1 + e^z) for y = 0, computed stably */
        double a = y[i] > 0.5f ? -z : z;
        s += a > 0 ? a + log1p(exp(-a)) : log1p(exp(a));
    }
    return n ? s / n : 0;
}

ulm_status ulm_gbdt_fit(const ulm_churn_data *d, const ulm_churn_data *valid, const ulm_gbdt_params *pp,
                        ulm_churn **out, uint32_t *rounds_used, ulm_diag *diag) {
    if (diag) memset(diag, 0, sizeof *diag);
    if (!d || !out || !d->x || !d->y || !d->kind) return ULM_ERR_MISUSE;
    *out = NULL;
    ulm_gbdt_params p = ulm_gbdt_params_init();
    if (pp) {
        if (pp->struct_size < 8 || pp->struct_size > sizeof p)
            return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "ulm_gbdt_params.struct_size is %u", pp->struct_size);
        memcpy(&p, pp, pp->struct_size);
    }
    if (p.max_depth < 1 || p.max_depth > 30 || p.max_bins < 2 || p.max_bins > 255 || !(p.eta > 0) ||
        !(p.lambda >= 0) || !(p.alpha >= 0) || !(p.subsample > 0 && p.subsample <= 1) ||
        !(p.colsample > 0 && p.colsample <= 1) || !(p.min_child_weight >= 0) || !(p.gamma >= 0))
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "gbdt parameter out of range");
    uint32_t n = d->n_rows, nf = d->n_features;
    if (n < 2 || nf < 1) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "need at least 2 rows and 1 feature");
    for (uint32_t f = 0; f < nf; f++)
        if (d->kind[f] == ULM_FEAT_CAT && (d->n_cats[f] < 1 || d->n_cats[f] > 255))
            return ulm__fail(diag, ULM_ERR_UNSUPPORTED, NULL, 0,
                             "categorical feature %u has %u categories; trees take 1 to 255", f, d->n_cats[f]);
    double pos = 0;
    for (uint32_t r = 0; r < n; r++) pos += d->y[r] > 0.5f;
    if (pos == 0 || pos == n) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "labels have one class only");

    ulm_status st = ULM_ERR_NOMEM;
    gb_ctx c;
    memset(&c, 0, sizeof c);
    c.p = &p;
    c.n_rows = n;
    c.n_features = nf;
    ulm_churn *m = ulm__churn_new(NULL, ULM_CHURN_GBDT, nf);
    gb_model gm = {m, 0, 0, 0};
    double *margin = NULL, *vmargin = NULL, *best_vm = NULL;
    float *tmpf = NULL, *vm32 = NULL;
    uint32_t *tmp_rows = NULL, *tree_roots = NULL;
    c.feat = calloc(nf, sizeof *c.feat);
    c.bins = malloc((size_t)nf * n);
    c.g = malloc(n * sizeof *c.g);
    c.h = malloc(n * sizeof *c.h);
    c.row_idx = malloc(n * sizeof *c.row_idx);
    c.fmask = malloc(nf);
    c.level = malloc(2 * ((size_t)n + 1) * sizeof *c.level);
    c.order = malloc((size_t)nf * 256 * sizeof *c.order);
    c.keys = malloc((size_t)nf * 256 * sizeof *c.keys);
    margin = malloc(n * sizeof *margin);
    tmpf = malloc(n * sizeof *tmpf);
    tmp_rows = malloc(n * sizeof *tmp_rows);
    tree_roots = malloc(((size_t)p.n_rounds + 1) * sizeof *tree_roots);
    if (valid && valid->n_rows) {
        vmargin = malloc(valid->n_rows * sizeof *vmargin);
        vm32 = malloc(valid->n_rows * sizeof *vm32);
        if (!vmargin || !vm32) goto done;
    }
    if (!m || !c.feat || !c.bins || !c.g || !c.h || !c.row_idx || !c.fmask || !c.level || !c.order || !c.keys ||
        !margin || !tmpf || !tmp_rows || !tree_roots)
        goto done;
    for (uint32_t f = 0; f < nf; f++) {
        m->kind[f] = d->kind[f];
        m->n_cats[f] = d->kind[f] == ULM_FEAT_CAT ? d->n_cats[f] : 0;
        gb_feat *gf = &c.feat[f];
        gf->kind = d->kind[f];
        gf->off = c.total_bins;
        if (gf->kind == ULM_FEAT_CAT) {
            gf->n_cats = d->n_cats[f];
            gf->n_bins = gf->n_cats + 1;
        } else if ((st = bin_numeric(d, f, p.max_bins, gf, tmpf)) != ULM_OK) {
            goto done;
        }
        c.total_bins += gf->n_bins;
        for (uint32_t r = 0; r < n; r++) c.bins[(size_t)f * n + r] = bin_of(gf, d->x[(size_t)r * nf + f]);
    }
    st = ULM_ERR_NOMEM;
    /* histogram pools: at most one slot per row per level */
    uint32_t max_level = n < (1u << (p.max_depth < 20 ? p.max_depth : 20)) ? n : (1u << (p.max_depth < 20 ? p.max_depth : 20));
    c.hist = malloc((size_t)max_level * c.total_bins * sizeof *c.hist);
    c.prev_hist = malloc((size_t)max_level * c.total_bins * sizeof *c.prev_hist);
    c.cand = malloc((size_t)max_level * nf * sizeof *c.cand);
    if (!c.hist || !c.prev_hist || !c.cand) goto done;

    double base = log(pos / (n - pos));
    m->base = (float)base;
    for (uint32_t r = 0; r < n; r++) margin[r] = m->base;
    uint32_t nv = valid ? valid->n_rows : 0;
    for (uint32_t r = 0; r < nv; r++) vmargin[r] = m->base;
    double best_loss = INFINITY;
    uint32_t best_round = 0, rounds = 0;
    uint64_t rng = p.seed ^ 0x5EED5EEDull;
    uint32_t n_cols = (uint32_t)ceil(p.colsample * nf);
    if (n_cols < 1) n_cols = 1;
    for (uint32_t t = 0; t < p.n_rounds; t++) {
        for (uint32_t r = 0; r < n; r++) {
            double pr = 1.0 / (1.0 + exp(-margin[r]));
            double hh = pr * (1.0 - pr);
            c.g[r] = (float)(pr - d->y[r]);
            c.h[r] = (float)(hh > 1e-16 ? hh : 1e-16);
        }
        if (p.subsample < 1)
            for (uint32_t r = 0; r < n; r++)
                if (rng_unit(&rng) >= p.subsample) c.g[r] = c.h[r] = 0;
        memset(c.fmask, n_cols >= nf, nf);
        if (n_cols < nf) {
            /* partial Fisher-Yates over feature ids; the first n_cols are kept */
            uint32_t *ids = tmp_rows;
            for (uint32_t f = 0; f < nf; f++) ids[f] = f;
            for (uint32_t i = 0; i < n_cols; i++) {
                uint32_t j = i + (uint32_t)(rng_next(&rng) % (nf - i));
                uint32_t tv = ids[i];
                ids[i] = ids[j];
                ids[j] = tv;
                c.fmask[ids[i]] = 1;
            }
        }
        tree_roots[t] = m->n_nodes;
        uint32_t depth;
        if ((st = grow_tree(&c, &gm, margin, tmp_rows, &depth)) != ULM_OK) goto done;
        rounds = t + 1;
        if (nv) {
            for (uint32_t r = 0; r < nv; r++) {
                const float *x = valid->x + (size_t)r * nf;
                uint32_t i = tree_roots[t];
                while (!(m->nodes[i].feat & ULM__TN_LEAF))
                    i = ulm__tnode_left(m, &m->nodes[i], x) ? m->nodes[i].left : m->nodes[i].right;
                vmargin[r] += m->nodes[i].u.value;
            }
            double loss;
            if (p.es_metric == ULM_ES_AUC) {
                ulm_binary_metrics bm;
                for (uint32_t r = 0; r < nv; r++) vm32[r] = (float)vmargin[r];
                if ((st = ulm_binary_metrics_compute(vm32, valid->y, nv, &bm)) != ULM_OK) goto done;
                loss = isnan(bm.auc) ? 0 : -bm.auc;
            } else {
                loss = logloss_margin(vmargin, valid->y, nv);
            }
            if (loss < best_loss - 1e-12) {
                best_loss = loss;
                best_round = rounds;
            } else if (p.early_stopping && rounds - best_round >= p.early_stopping) {
                break;
            }
        }
    }
    uint32_t keep = (nv && p.early_stopping) ? best_round : rounds;
    if (keep < 1) keep = 1;
    /* move into exact-size arrays; trees after keep are dropped */
    uint32_t n_nodes = keep < rounds ? tree_roots[keep] : m->n_nodes;
    ulm__tnode *nodes = m->nodes;
    float *cover = m->cover;
    uint32_t *bits = m->cat_bits, n_words = m->n_cat_words, max_depth = m->max_depth;
    m->nodes = NULL;
    m->cover = NULL;
    m->cat_bits = NULL;
    if ((st = ulm__churn_alloc_trees(m, keep, n_nodes, n_words)) != ULM_OK) {
        free(nodes), free(cover), free(bits);
        goto done;
    }
    memcpy(m->nodes, nodes, n_nodes * sizeof *nodes);
    memcpy(m->cover, cover, n_nodes * sizeof *cover);
    if (n_words) memcpy(m->cat_bits, bits, n_words * sizeof *bits);
    memcpy(m->roots, tree_roots, keep * sizeof *tree_roots);
    m->roots[keep] = n_nodes;
    m->max_depth = max_depth;
    free(nodes), free(cover), free(bits);
    if ((st = ulm__churn_prepare(m)) != ULM_OK) goto done;
    if (rounds_used) *rounds_used = keep;
    *out = m;
    m = NULL;
    st = ULM_OK;
done:
    if (st == ULM_ERR_NOMEM) ulm__fail(diag, st, NULL, 0, "out of memory");
    ulm_churn_free(m);
    for (uint32_t f = 0; c.feat && f < nf; f++) free(c.feat[f].cuts);
    free(c.feat), free(c.bins), free(c.g), free(c.h), free(c.row_idx), free(c.fmask), free(c.level);
    free(c.order), free(c.keys), free(c.hist), free(c.prev_hist), free(c.cand);
    free(margin), free(vmargin), free(vm32), free(best_vm), free(tmpf), free(tmp_rows), free(tree_roots);
    return st;
}
