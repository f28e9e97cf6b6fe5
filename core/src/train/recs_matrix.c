/* recs_matrix.c: the user x item interaction matrix (CSR + CSC), built from events or triplets, and splits. */
#include <math.h>
#include <stdlib.h>

#include "ulm/ulm_rectrain.h"
#include "../ulm_impl.h"
#include "recs_impl.h"

ulm_event_weights ulm_event_weights_init(void) {
    ulm_event_weights w;
    memset(&w, 0, sizeof w);
    w.struct_size = sizeof w;
    w.view = 1.0f;
    w.cart = 2.0f;
    w.purchase = 4.0f;
    w.before = INT64_MAX;
    return w;
}

void ulm_imatrix_free(ulm_imatrix *m) {
    if (!m) return;
    free(m->indptr);
    free(m->indices);
    free(m->data);
    free(m->time);
    free(m->t_indptr);
    free(m->t_indices);
    free(m->t_data);
    memset(m, 0, sizeof *m);
}

/* Fills the CSC arrays from the CSR ones (counting sort by column keeps rows ascending). */
static ulm_status transpose(ulm_imatrix *m) {
    m->t_indptr = calloc((size_t)m->n_items + 1, sizeof *m->t_indptr);
    m->t_indices = malloc((m->nnz + 1) * sizeof *m->t_indices);
    m->t_data = malloc((m->nnz + 1) * sizeof *m->t_data);
    if (!m->t_indptr || !m->t_indices || !m->t_data) return ULM_ERR_NOMEM;
    for (size_t k = 0; k < m->nnz; k++) m->t_indptr[m->indices[k] + 1]++;
    for (uint32_t i = 0; i < m->n_items; i++) m->t_indptr[i + 1] += m->t_indptr[i];
    size_t *pos = malloc(((size_t)m->n_items + 1) * sizeof *pos);
    if (!pos) return ULM_ERR_NOMEM;
    memcpy(pos, m->t_indptr, (size_t)m->n_items * sizeof *pos);
    for (uint32_t u = 0; u < m->n_users; u++)
        for (size_t k = m->indptr[u]; k < m->indptr[u + 1]; k++) {
            size_t d = pos[m->indices[k]]++;
            m->t_indices[d] = u;
            m->t_data[d] = m->data[k];
        }
    free(pos);
    return ULM_OK;
}

/* Allocates the CSR arrays for nnz entries (time only when with_time). */
static ulm_status alloc_csr(ulm_imatrix *m, uint32_t n_users, uint32_t n_items, size_t nnz, bool with_time) {
    memset(m, 0, sizeof *m);
    m->n_users = n_users;
    m->n_items = n_items;
    m->nnz = nnz;
    m->indptr = calloc((size_t)n_users + 1, sizeof *m->indptr);
    m->indices = malloc((nnz + 1) * sizeof *m->indices);
    m->data = malloc((nnz + 1) * sizeof *m->data);
    if (with_time) m->time = malloc((nnz + 1) * sizeof *m->time);
    if (!m->indptr || !m->indices || !m->data || (with_time && !m->time)) return ULM_ERR_NOMEM;
    return ULM_OK;
}

typedef struct item_key {
    uint32_t item;
    uint32_t k; /* triplet index: ties keep input order, so sums are deterministic */
} item_key;

static int cmp_item_key(const void *a, const void *b) {
    const item_key *x = a, *y = b;
    if (x->item != y->item) return x->item < y->item ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

ulm_status ulm_imatrix_from_triplets(uint32_t n_users, uint32_t n_items, size_t n, const uint32_t *u,
                                     const uint32_t *i, const float *w, const int64_t *time, ulm_imatrix *out,
                                     ulm_diag *diag) {
    if (!out || (n && (!u || !i || !w))) return ULM_ERR_MISUSE;
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < n; k++) {
        if (u[k] >= n_users || i[k] >= n_items)
            return ulm__fail(diag, ULM_ERR_RANGE, NULL, k, "interaction %zu names user %u / item %u of %u / %u", k,
                             u[k], i[k], n_users, n_items);
        if (!isfinite(w[k]))
            return ulm__fail(diag, ULM_ERR_RANGE, NULL, k, "interaction %zu has a non-finite weight", k);
    }
    if (n > UINT32_MAX)
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "%zu interactions: at most 4,294,967,295 fit", n);
    size_t *start = calloc((size_t)n_users + 2, sizeof *start);
    item_key *keys = malloc((n + 1) * sizeof *keys);
    ulm_status s = ULM_ERR_NOMEM;
    if (!start || !keys) goto done;
    for (size_t k = 0; k < n; k++) start[u[k] + 2]++;
    for (uint32_t x = 0; x < n_users; x++) start[x + 2] += start[x + 1];
    for (size_t k = 0; k < n; k++) {
        item_key *e = &keys[start[u[k] + 1]++];
        e->item = i[k];
        e->k = (uint32_t)k;
    }
    /* start[x] is now the beginning of user x's keys; count the distinct positive sums first. */
    size_t nnz = 0;
    for (uint32_t x = 0; x < n_users; x++) {
        size_t a = start[x], b = start[x + 1];
        qsort(keys + a, b - a, sizeof *keys, cmp_item_key);
        for (size_t p = a; p < b;) {
            size_t q = p;
            double sum = 0;
            while (q < b && keys[q].item == keys[p].item) sum += w[keys[q++].k];
            nnz += sum > 0;
            p = q;
        }
    }
    if ((s = alloc_csr(out, n_users, n_items, nnz, time != NULL)) != ULM_OK) goto done;
    size_t d = 0;
    for (uint32_t x = 0; x < n_users; x++) {
        size_t a = start[x], b = start[x + 1];
        for (size_t p = a; p < b;) {
            size_t q = p;
            double sum = 0;
            int64_t t = INT64_MAX;
            for (; q < b && keys[q].item == keys[p].item; q++) {
                sum += w[keys[q].k];
                if (time && time[keys[q].k] < t) t = time[keys[q].k];
            }
            if (sum > 0) {
                out->indices[d] = keys[p].item;
                out->data[d] = (float)sum;
                if (time) out->time[d] = t;
                d++;
            }
            p = q;
        }
        out->indptr[x + 1] = d;
    }
    s = transpose(out);
done:
    free(start);
    free(keys);
    if (s != ULM_OK) {
        ulm_imatrix_free(out);
        if (s == ULM_ERR_NOMEM) ulm__fail(diag, s, NULL, 0, "out of memory building the interaction matrix");
    }
    return s;
}

ulm_status ulm_imatrix_from_events(const ulm_events *ev, const ulm_event_weights *wp, ulm_imatrix *out,
                                   ulm_diag *diag) {
    if (!ev || !out) return ULM_ERR_MISUSE;
    ulm_event_weights w = wp ? *wp : ulm_event_weights_init();
    if (w.struct_size != sizeof w) return ULM_ERR_MISUSE;
    if (!isfinite(w.view) || !isfinite(w.cart) || !isfinite(w.purchase) || w.view < 0 || w.cart < 0 || w.purchase < 0)
        return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "event weights must be finite and >= 0");
    size_t n = 0;
    uint32_t *u = malloc((ev->n + 1) * sizeof *u), *it = malloc((ev->n + 1) * sizeof *it);
    float *wt = malloc((ev->n + 1) * sizeof *wt);
    int64_t *tm = malloc((ev->n + 1) * sizeof *tm);
    ulm_status s = ULM_ERR_NOMEM;
    if (!u || !it || !wt || !tm) {
        ulm__fail(diag, s, NULL, 0, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < ev->n; k++) {
        if (ev->user[k] >= ev->users.n || ev->item[k] >= ev->items.n || ev->time[k] >= w.before) continue;
        float x;
        switch (ev->type[k]) {
        case ULM_EV_VIEW: x = w.view; break;
        case ULM_EV_CART: x = w.cart; break;
        case ULM_EV_PURCHASE: x = w.purchase; break;
        case ULM_EV_RETURN: x = -w.purchase; break;
        default: continue;
        }
        if (x == 0) continue;
        u[n] = ev->user[k];
        it[n] = ev->item[k];
        wt[n] = x;
        tm[n] = ev->time[k];
        n++;
    }
    s = ulm_imatrix_from_triplets(ev->users.n, ev->items.n, n, u, it, wt, tm, out, diag);
done:
    free(u);
    free(it);
    free(wt);
    free(tm);
    return s;
}

/* Splits m by test_mask (one flag per CSR entry) into train and test of the same shape. */
static ulm_status split_by_mask(const ulm_imatrix *m, const uint8_t *mask, ulm_imatrix *train, ulm_imatrix *test,
                                ulm_diag *diag) {
    size_t n_test = 0;
    for (size_t k = 0; k < m->nnz; k++) n_test += mask[k] != 0;
    ulm_imatrix *outs[2] = {train, test};
    size_t sizes[2] = {m->nnz - n_test, n_test};
    ulm_status s = ULM_OK;
    for (int o = 0; o < 2 && s == ULM_OK; o++) {
        ulm_imatrix *r = outs[o];
        if ((s = alloc_csr(r, m->n_users, m->n_items, sizes[o], m->time != NULL)) != ULM_OK) break;
        size_t d = 0;
        for (uint32_t x = 0; x < m->n_users; x++) {
            for (size_t k = m->indptr[x]; k < m->indptr[x + 1]; k++) {
                if ((mask[k] != 0) != (o == 1)) continue;
                r->indices[d] = m->indices[k];
                r->data[d] = m->data[k];
                if (m->time) r->time[d] = m->time[k];
                d++;
            }
            r->indptr[x + 1] = d;
        }
        s = transpose(r);
    }
    if (s != ULM_OK) {
        ulm_imatrix_free(train);
        ulm_imatrix_free(test);
        ulm__fail(diag, s, NULL, 0, "out of memory splitting the interaction matrix");
    }
    return s;
}

ulm_status ulm_imatrix_split_random(const ulm_imatrix *m, double frac, uint64_t seed, ulm_imatrix *train,
                                    ulm_imatrix *test, ulm_diag *diag) {
    if (!m || !train || !test) return ULM_ERR_MISUSE;
    if (!(frac > 0 && frac < 1)) return ulm__fail(diag, ULM_ERR_RANGE, NULL, 0, "test fraction must be in (0, 1)");
    uint8_t *mask = calloc(m->nnz + 1, 1);
    size_t maxrow = 0;
    for (uint32_t x = 0; x < m->n_users; x++)
        if (m->indptr[x + 1] - m->indptr[x] > maxrow) maxrow = m->indptr[x + 1] - m->indptr[x];
    size_t *perm = malloc((maxrow + 1) * sizeof *perm);
    if (!mask || !perm) {
        free(mask);
        free(perm);
        return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    }
    for (uint32_t x = 0; x < m->n_users; x++) {
        size_t a = m->indptr[x], n = m->indptr[x + 1] - a;
        size_t h = (size_t)floor(frac * (double)n + 0.5);
        if (h >= n) h = n ? n - 1 : 0;
        uint64_t rng = ulm__rng_seed(seed, x);
        for (size_t k = 0; k < n; k++) perm[k] = k;
        for (size_t k = 0; k < h; k++) { /* partial Fisher-Yates: the first h picks go to test */
            size_t j = k + (size_t)(ulm__rng_next(&rng) % (n - k));
            size_t t = perm[k];
            perm[k] = perm[j];
            perm[j] = t;
            mask[a + perm[k]] = 1;
        }
    }
    free(perm);
    ulm_status s = split_by_mask(m, mask, train, test, diag);
    free(mask);
    return s;
}

ulm_status ulm_imatrix_split_time(const ulm_imatrix *m, int64_t cutoff, ulm_imatrix *train, ulm_imatrix *test,
                                  ulm_diag *diag) {
    if (!m || !train || !test) return ULM_ERR_MISUSE;
    if (!m->time) return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "a time split needs interaction times");
    uint8_t *mask = calloc(m->nnz + 1, 1);
    if (!mask) return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    for (size_t k = 0; k < m->nnz; k++) mask[k] = m->time[k] >= cutoff;
    ulm_status s = split_by_mask(m, mask, train, test, diag);
    free(mask);
    return s;
}

ulm_status ulm_imatrix_split_last(const ulm_imatrix *m, ulm_imatrix *train, ulm_imatrix *test, ulm_diag *diag) {
    if (!m || !train || !test) return ULM_ERR_MISUSE;
    if (!m->time) return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "a leave-last split needs interaction times");
    uint8_t *mask = calloc(m->nnz + 1, 1);
    if (!mask) return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    for (uint32_t x = 0; x < m->n_users; x++) {
        size_t a = m->indptr[x], b = m->indptr[x + 1];
        if (b - a < 2) continue;
        size_t best = a;
        for (size_t k = a + 1; k < b; k++)
            if (m->time[k] >= m->time[best]) best = k;
        mask[best] = 1;
    }
    ulm_status s = split_by_mask(m, mask, train, test, diag);
    free(mask);
    return s;
}
