/* recs_knn.c: item-kNN over the interaction matrix (cosine, TF-IDF or BM25 weighted), and the
 * content recommender (TF-IDF over item text), both as top-N neighbour lists per item.
 *
 * Weighting follows the information-retrieval reading used by the implicit library's
 * TFIDF/BM25 recommenders: items are documents, users are terms. TF-IDF: sqrt(r) * idf(u);
 * BM25: r (k1 + 1) / (r + k1 (1 - b + b len_i / avg_len)) * idf(u), idf(u) = log(n_items) -
 * log(1 + df_u). Similarity is the cosine of raw or TF-IDF weighted item vectors, and the plain
 * dot product of BM25 weighted ones (BM25 normalises lengths itself),
 * optionally shrunk as s * n / (n + shrink) by the co-occurrence count n. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm_dict.h"
#include "ulm/ulm_rectrain.h"
#include "../ulm_impl.h"
#include "recs_impl.h"

typedef struct knn_ctx {
    const ulm_imatrix *x; /* "users" x items; data and t_data hold the weighted values */
    uint32_t n_nb;
    float shrink;
    const uint32_t *bounds;
    uint32_t *out_idx; /* [n_items x n_nb] */
    float *out_w;
    uint32_t *out_n;   /* [n_items] */
    float *acc;        /* per task: n_items floats, zero between items */
    uint32_t *cnt;     /* per task: n_items co-occurrence counts (only with shrink) */
    uint32_t *touched; /* per task: n_items */
} knn_ctx;

/* Neighbours of items [bounds[t], bounds[t+1]): accumulate one similarity row sparsely, keep the top N. */
static void knn_task(void *arg, unsigned t) {
    const knn_ctx *c = arg;
    const ulm_imatrix *x = c->x;
    size_t ni = x->n_items;
    float *acc = c->acc + t * ni;
    uint32_t *cnt = c->cnt ? c->cnt + t * ni : NULL, *touched = c->touched + t * ni;
    for (uint32_t i = c->bounds[t]; i < c->bounds[t + 1]; i++) {
        uint32_t nt = 0;
        for (size_t k = x->t_indptr[i]; k < x->t_indptr[i + 1]; k++) {
            uint32_t u = x->t_indices[k];
            float wi = x->t_data[k];
            for (size_t q = x->indptr[u]; q < x->indptr[u + 1]; q++) {
                uint32_t j = x->indices[q];
                if (j == i) continue;
                if (acc[j] == 0 && (!cnt || cnt[j] == 0)) touched[nt++] = j;
                acc[j] += wi * x->data[q];
                if (cnt) cnt[j]++;
                if (acc[j] == 0 && !cnt) acc[j] = 1e-30f; /* keep it marked as touched */
            }
        }
        float *hs = c->out_w + (size_t)i * c->n_nb;
        uint32_t *hi = c->out_idx + (size_t)i * c->n_nb, size = 0;
        for (uint32_t q = 0; q < nt; q++) {
            uint32_t j = touched[q];
            float s = acc[j];
            if (cnt) s = s * (float)cnt[j] / ((float)cnt[j] + c->shrink), cnt[j] = 0;
            acc[j] = 0;
            if (s > 0) size = ulm__heap_push(hs, hi, size, c->n_nb, s, j);
        }
        ulm__heap_sort(hs, hi, size);
        c->out_n[i] = size;
    }
}

/* Top-N neighbours for every item of x (data already weighted) into m->nb_*. */
static ulm_status knn_engine(const ulm_imatrix *x, uint32_t n_nb, float shrink, unsigned T, const ulm_linalg *la,
                             ulm_rec_model *m, ulm_diag *diag) {
    size_t ni = x->n_items;
    if (n_nb > ni) n_nb = ni ? (uint32_t)ni : 1;
    knn_ctx c = {.x = x, .n_nb = n_nb, .shrink = shrink};
    size_t *cost = malloc((ni + 1) * sizeof *cost);
    uint32_t *bounds = malloc((T + 1) * sizeof *bounds);
    c.out_idx = malloc((ni * n_nb + 1) * sizeof *c.out_idx);
    c.out_w = malloc((ni * n_nb + 1) * sizeof *c.out_w);
    c.out_n = malloc((ni + 1) * sizeof *c.out_n);
    c.acc = calloc(ni * T + 1, sizeof *c.acc);
    c.touched = malloc((ni * T + 1) * sizeof *c.touched);
    if (shrink > 0) c.cnt = calloc(ni * T + 1, sizeof *c.cnt);
    m->nb_ptr = malloc((ni + 1) * sizeof *m->nb_ptr);
    ulm_status s = ULM_ERR_NOMEM;
    if (!cost || !bounds || !c.out_idx || !c.out_w || !c.out_n || !c.acc || !c.touched || (shrink > 0 && !c.cnt) ||
        !m->nb_ptr)
        goto done;
    cost[0] = 0;
    for (size_t i = 0; i < ni; i++) {
        size_t w = 0;
        for (size_t k = x->t_indptr[i]; k < x->t_indptr[i + 1]; k++) {
            uint32_t u = x->t_indices[k];
            w += x->indptr[u + 1] - x->indptr[u];
        }
        cost[i + 1] = cost[i] + w;
    }
    ulm__partition_rows(cost, (uint32_t)ni, 1, T, bounds);
    c.bounds = bounds;
    la->run(la->ud, T, knn_task, &c);
    m->nb_ptr[0] = 0;
    for (size_t i = 0; i < ni; i++) m->nb_ptr[i + 1] = m->nb_ptr[i] + c.out_n[i];
    size_t total = m->nb_ptr[ni];
    m->nb_idx = malloc((total + 1) * sizeof *m->nb_idx);
    m->nb_w = malloc((total + 1) * sizeof *m->nb_w);
    if (!m->nb_idx || !m->nb_w) goto done;
    for (size_t i = 0; i < ni; i++) {
        memcpy(m->nb_idx + m->nb_ptr[i], c.out_idx + i * n_nb, c.out_n[i] * sizeof *m->nb_idx);
        memcpy(m->nb_w + m->nb_ptr[i], c.out_w + i * n_nb, c.out_n[i] * sizeof *m->nb_w);
    }
    s = ULM_OK;
done:
    free(cost);
    free(bounds);
    free(c.out_idx);
    free(c.out_w);
    free(c.out_n);
    free(c.acc);
    free(c.touched);
    free(c.cnt);
    if (s != ULM_OK) ulm__fail(diag, s, NULL, 0, "out of memory for %u neighbours per item", n_nb);
    return s;
}

/* A copy of x's structure with its own data arrays (so weighting never touches the caller's). */
static ulm_status weighted_copy(const ulm_imatrix *x, ulm_imatrix *w) {
    *w = *x;
    w->time = NULL;
    w->data = malloc((x->nnz + 1) * sizeof *w->data);
    w->t_data = malloc((x->nnz + 1) * sizeof *w->t_data);
    if (!w->data || !w->t_data) {
        free(w->data);
        free(w->t_data);
        return ULM_ERR_NOMEM;
    }
    return ULM_OK;
}

/* Recomputes t_data from data (same order as the transpose built it). */
static void refresh_t_data(ulm_imatrix *w) {
    size_t *pos = malloc(((size_t)w->n_items + 1) * sizeof *pos);
    if (!pos) return;
    memcpy(pos, w->t_indptr, (size_t)w->n_items * sizeof *pos);
    for (uint32_t u = 0; u < w->n_users; u++)
        for (size_t k = w->indptr[u]; k < w->indptr[u + 1]; k++) w->t_data[pos[w->indices[k]]++] = w->data[k];
    free(pos);
}

/* Scales each item column to unit length (cosine). */
static void normalise_columns(ulm_imatrix *w) {
    float *inv = calloc((size_t)w->n_items + 1, sizeof *inv);
    if (!inv) return;
    for (uint32_t i = 0; i < w->n_items; i++) {
        double s = 0;
        for (size_t k = w->t_indptr[i]; k < w->t_indptr[i + 1]; k++) s += (double)w->t_data[k] * w->t_data[k];
        inv[i] = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
    }
    for (size_t k = 0; k < w->nnz; k++) w->data[k] *= inv[w->indices[k]];
    free(inv);
    refresh_t_data(w);
}

ulm_status ulm__train_knn(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la, ulm_rec_model *m,
                          ulm_diag *diag) {
    ulm_imatrix w;
    if (weighted_copy(x, &w) != ULM_OK) return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    double log_n = log((double)(x->n_items ? x->n_items : 1));
    double total = 0;
    uint32_t nonempty = 0;
    for (uint32_t i = 0; i < x->n_items; i++) {
        double s = 0;
        for (size_t k = x->t_indptr[i]; k < x->t_indptr[i + 1]; k++) s += x->t_data[k];
        total += s;
        nonempty += x->t_indptr[i + 1] > x->t_indptr[i];
    }
    double avg_len = nonempty ? total / nonempty : 1.0;
    for (uint32_t u = 0; u < x->n_users; u++) { /* BM25 is filled below, once item lengths are known */
        size_t a = x->indptr[u], b = x->indptr[u + 1];
        float idf = (float)(log_n - log1p((double)(b - a)));
        for (size_t k = a; k < b; k++)
            w.data[k] = p->weighting == ULM_KNN_TFIDF ? sqrtf(x->data[k]) * idf : x->data[k];
    }
    if (p->weighting == ULM_KNN_BM25) {
        float *norm = malloc(((size_t)x->n_items + 1) * sizeof *norm);
        if (!norm) {
            free(w.data);
            free(w.t_data);
            return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        }
        for (uint32_t i = 0; i < x->n_items; i++) {
            double s = 0;
            for (size_t k = x->t_indptr[i]; k < x->t_indptr[i + 1]; k++) s += x->t_data[k];
            norm[i] = (float)(p->bm25_k1 * ((1.0 - p->bm25_b) + p->bm25_b * s / avg_len));
        }
        for (uint32_t u = 0; u < x->n_users; u++) {
            size_t a = x->indptr[u], b = x->indptr[u + 1];
            float idf = (float)(log_n - log1p((double)(b - a)));
            for (size_t k = a; k < b; k++) {
                float r = x->data[k];
                w.data[k] = r * (p->bm25_k1 + 1.0f) / (r + norm[x->indices[k]]) * idf;
            }
        }
        free(norm);
    }
    refresh_t_data(&w);
    if (p->weighting != ULM_KNN_BM25) normalise_columns(&w); /* cosine over raw or TF-IDF weights */
    ulm_status s = knn_engine(&w, p->neighbours, p->shrink, p->threads, la, m, diag);
    free(w.data);
    free(w.t_data);
    return s;
}

/* ---- content: TF-IDF over item text ---------------------------------------------------- */

/* Splits text into lower-case ASCII alphanumeric tokens of >= 2 bytes (bytes >= 0x80 are kept
 * as part of a token, so UTF-8 words survive) and interns them. */
static ulm_status tokenize(const char *s, size_t len, ulm_dict *terms, uint32_t **out, size_t *n, size_t *cap) {
    char buf[64];
    size_t bl = 0;
    for (size_t k = 0; k <= len; k++) {
        unsigned char ch = k < len ? (unsigned char)s[k] : ' ';
        if (isalnum(ch) || ch >= 0x80) {
            if (bl < sizeof buf) buf[bl++] = (char)tolower(ch);
            continue;
        }
        if (bl >= 2) {
            uint32_t id = ulm_dict_intern(terms, buf, bl, NULL);
            if (id == ULM_NONE) return ULM_ERR_NOMEM;
            if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 1024;
                uint32_t *g = realloc(*out, nc * sizeof *g);
                if (!g) return ULM_ERR_NOMEM;
                *out = g;
                *cap = nc;
            }
            (*out)[(*n)++] = id;
        }
        bl = 0;
    }
    return ULM_OK;
}

ulm_status ulm__train_content(const ulm_imatrix *x, const ulm_rec_params *p, const ulm_linalg *la,
                              ulm_rec_model *m, ulm_diag *diag) {
    uint32_t ni = x->n_items;
    ulm_dict terms;
    ulm_dict_init(&terms);
    uint32_t *tok = NULL, *tu = NULL, *ti = NULL;
    float *tw = NULL;
    size_t n = 0, cap = 0;
    size_t *start = malloc(((size_t)ni + 1) * sizeof *start);
    ulm_status s = start ? ULM_OK : ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < ni && s == ULM_OK; i++) {
        start[i] = n;
        if (p->item_text && p->item_text[i])
            s = tokenize(p->item_text[i], p->item_text_len ? p->item_text_len[i] : strlen(p->item_text[i]), &terms,
                         &tok, &n, &cap);
    }
    if (s == ULM_OK) start[ni] = n;
    ulm_imatrix tm;
    memset(&tm, 0, sizeof tm);
    if (s == ULM_OK) {
        /* Triplets (term, item, tf-idf); the matrix sums repeated terms within an item. */
        uint32_t *df = calloc((size_t)terms.n + 1, sizeof *df);
        uint8_t *seen = calloc((size_t)terms.n + 1, 1);
        tu = malloc((n + 1) * sizeof *tu);
        ti = malloc((n + 1) * sizeof *ti);
        tw = malloc((n + 1) * sizeof *tw);
        if (!df || !seen || !tu || !ti || !tw) s = ULM_ERR_NOMEM;
        for (uint32_t i = 0; i < ni && s == ULM_OK; i++) {
            for (size_t k = start[i]; k < start[i + 1]; k++)
                if (!seen[tok[k]]) seen[tok[k]] = 1, df[tok[k]]++;
            for (size_t k = start[i]; k < start[i + 1]; k++) seen[tok[k]] = 0;
        }
        size_t nt = 0;
        for (uint32_t i = 0; i < ni && s == ULM_OK; i++)
            for (size_t k = start[i]; k < start[i + 1]; k++) {
                uint32_t t = tok[k];
                if (df[t] * 2 > ni && ni > 10) continue; /* terms in most items say nothing (and cost most) */
                tu[nt] = t;
                ti[nt] = i;
                tw[nt] = (float)log((double)ni / df[t]);
                nt++;
            }
        if (s == ULM_OK) s = ulm_imatrix_from_triplets(terms.n, ni, nt, tu, ti, tw, NULL, &tm, diag);
        free(df);
        free(seen);
        if (s == ULM_OK) {
            ulm_imatrix w;
            s = weighted_copy(&tm, &w);
            if (s == ULM_OK) {
                memcpy(w.data, tm.data, tm.nnz * sizeof *w.data);
                memcpy(w.t_data, tm.t_data, tm.nnz * sizeof *w.t_data);
                normalise_columns(&w);
                s = knn_engine(&w, p->neighbours, 0.0f, p->threads, la, m, diag);
                free(w.data);
                free(w.t_data);
            }
        }
    }
    if (s == ULM_ERR_NOMEM) ulm__fail(diag, s, NULL, 0, "out of memory building the item text index");
    ulm_imatrix_free(&tm);
    ulm_dict_free(&terms);
    free(start);
    free(tok);
    free(tu);
    free(ti);
    free(tw);
    return s;
}
