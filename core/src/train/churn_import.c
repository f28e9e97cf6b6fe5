/* churn_import.c: a boosted-tree churn model from trees in XGBoost's array form (ulm_churn_train.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn_impl.h"
#include "ulm/ulm_churn_train.h"

ulm_status ulm_churn_from_trees(uint32_t n_features, float base_margin, const ulm_xgb_tree *trees, uint32_t n_trees,
                                ulm_churn **out, ulm_diag *diag) {
    if (diag) memset(diag, 0, sizeof *diag);
    if (!out || (!trees && n_trees) || n_features == 0 || n_features > ULM__TN_FEAT) return ULM_ERR_MISUSE;
    *out = NULL;
    if (!isfinite(base_margin)) return ulm__fail(diag, ULM_ERR_FORMAT, NULL, 0, "base margin is not finite");
    uint64_t total = 0;
    uint32_t biggest = 0;
    for (uint32_t t = 0; t < n_trees; t++) {
        if (trees[t].n_nodes == 0) return ulm__fail(diag, ULM_ERR_FORMAT, NULL, 0, "tree %u has no nodes", t);
        total += trees[t].n_nodes;
        if (trees[t].n_nodes > biggest) biggest = trees[t].n_nodes;
    }
    if (total >= UINT32_MAX / 2) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "too many tree nodes");
    ulm_churn *m = ulm__churn_new(NULL, ULM_CHURN_GBDT, n_features);
    uint32_t *order = malloc(((size_t)biggest + 1) * sizeof *order), *newid = malloc(((size_t)biggest + 1) * sizeof *newid);
    ulm_status st = ULM_OK;
    if (!m || !order || !newid || ulm__churn_alloc_trees(m, n_trees, (uint32_t)total, 0) != ULM_OK) {
        st = ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        goto done;
    }
    m->base = base_margin;
    uint32_t at = 0;
    for (uint32_t t = 0; t < n_trees && st == ULM_OK; t++) {
        const ulm_xgb_tree *tr = &trees[t];
        uint32_t nn = tr->n_nodes;
        m->roots[t] = at;
        /* preorder from the root: a stack of ids in order[]; newid[] marks the nodes seen */
        for (uint32_t i = 0; i < nn; i++) newid[i] = UINT32_MAX;
        uint32_t sp = 0, count = 0;
        order[sp++] = 0;
        while (sp && st == ULM_OK) {
            uint32_t i = order[--sp];
            if (newid[i] != UINT32_MAX) {
                st = ulm__fail(diag, ULM_ERR_FORMAT, NULL, 0, "tree %u: node %u is reached twice", t, i);
                break;
            }
            newid[i] = at + count++;
            if (tr->left[i] < 0) continue;
            if (tr->left[i] >= (int32_t)nn || tr->right[i] < 0 || tr->right[i] >= (int32_t)nn) {
                st = ulm__fail(diag, ULM_ERR_FORMAT, NULL, 0, "tree %u: node %u has children out of range", t, i);
                break;
            }
            if (sp + 2 > nn + 1) {
                st = ulm__fail(diag, ULM_ERR_FORMAT, NULL, 0, "tree %u: node %u is reached twice", t, i);
                break;
            }
            order[sp++] = (uint32_t)tr->right[i];
            order[sp++] = (uint32_t)tr->left[i];
        }
        if (st != ULM_OK) break;
        for (uint32_t i = 0; i < nn; i++) {
            if (newid[i] == UINT32_MAX) continue; /* unreachable (deleted) node */
            ulm__tnode *n = &m->nodes[newid[i]];
            float c = tr->cond[i];
            m->cover[newid[i]] = tr->hess ? tr->hess[i] : 1.0f;
            if (!isfinite(c) || !isfinite(m->cover[newid[i]]) || m->cover[newid[i]] < 0) {
                st = ulm__fail(diag, ULM_ERR_FORMAT, NULL, 0, "tree %u: node %u holds a value that is not finite", t, i);
                break;
            }
            if (tr->left[i] < 0) {
                n->feat = ULM__TN_LEAF;
                n->u.value = c;
                continue;
            }
            if (tr->feature[i] < 0 || (uint32_t)tr->feature[i] >= n_features) {
                st = ulm__fail(diag, ULM_ERR_FORMAT, NULL, 0, "tree %u: node %u splits on feature %d of %u", t, i,
                               tr->feature[i], n_features);
                break;
            }
            n->feat = (uint32_t)tr->feature[i] | (tr->default_left && tr->default_left[i] ? ULM__TN_DLEFT : 0);
            n->u.thr = c;
            n->left = newid[tr->left[i]];
            n->right = newid[tr->right[i]];
        }
        at += count;
    }
    if (st != ULM_OK) goto done;
    m->n_nodes = at;
    m->roots[n_trees] = at;
    /* the decoder is the one place that checks a model; encode and decode to get its verdict and the
     * scoring layout */
    uint8_t *blob = NULL;
    size_t len = 0;
    if ((st = ulm_churn_encode(m, &blob, &len)) != ULM_OK) {
        st = ulm__fail(diag, st, NULL, 0, "encoding the imported model failed");
        goto done;
    }
    st = ulm_churn_decode(blob, len, NULL, out, diag);
    free(blob);
done:
    ulm_churn_free(m);
    free(order);
    free(newid);
    return st;
}
