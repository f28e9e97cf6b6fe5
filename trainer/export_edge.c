/* export_edge.c: the edge bundle's smaller catalogue and compact layouts (`ulm train --edge`,
 * docs/edge.md): the catalogue restricted to items some identified customer bought, item ids
 * front-coded (ITIC), popularity in F16 when that keeps its order, the ALS Gram matrix as its upper
 * triangle (RCGT). Layouts: docs/format.md; the loaders are core/src/model_ids.c and recs_load.c. */
#include <stdlib.h>
#include <string.h>

#include "export_edge.h"
#include "../core/src/quant.h"     /* the f16 conversion the loader inverts */
#include "../core/src/ulm_impl.h"  /* little-endian writes, the popularity ranking */

typedef struct kept {
    const char *s;
    uint32_t len, old;
} kept;

static int cmp_kept(const void *a, const void *b) {
    const kept *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int cmp_pair(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* keep[i] = 1 for the items at least min_buyers identified customers purchased. */
static ulm_status buyers(const ulm_events *ev, uint32_t min_buyers, uint8_t *keep) {
    size_t np = 0;
    uint64_t *pair = malloc((ev->n + 1) * sizeof *pair);
    uint32_t *cnt = calloc((size_t)ev->items.n + 1, sizeof *cnt);
    if (!pair || !cnt) {
        free(pair), free(cnt);
        return ULM_ERR_NOMEM;
    }
    for (size_t e = 0; e < ev->n; e++)
        if (ev->type[e] == ULM_EV_PURCHASE && ev->user[e] < ev->users.n && ev->item[e] < ev->items.n)
            pair[np++] = (uint64_t)ev->item[e] << 32 | ev->user[e];
    qsort(pair, np, sizeof *pair, cmp_pair);
    for (size_t q = 0; q < np; q++)
        if (q == 0 || pair[q] != pair[q - 1]) cnt[pair[q] >> 32]++;
    for (uint32_t i = 0; i < ev->items.n; i++) keep[i] = cnt[i] >= min_buyers && cnt[i] > 0;
    free(pair), free(cnt);
    return ULM_OK;
}

ulm_status ulm_edge_restrict_catalogue(ulm_events *ev, uint32_t min_buyers, uint32_t *dropped) {
    uint32_t n = ev->items.n;
    *dropped = 0;
    uint8_t *keep = calloc((size_t)n + 1, 1);
    uint32_t *map = malloc(((size_t)n + 1) * sizeof *map);
    kept *k = malloc(((size_t)n + 1) * sizeof *k);
    ulm_status s0 = keep && map && k ? buyers(ev, min_buyers, keep) : ULM_ERR_NOMEM;
    if (s0 != ULM_OK) {
        free(keep), free(map), free(k);
        return s0;
    }
    uint32_t nk = 0;
    for (uint32_t i = 0; i < n; i++) {
        map[i] = ULM_NONE;
        if (keep[i]) k[nk].old = i, k[nk].s = ulm_dict_str(&ev->items, i, &k[nk].len), nk++;
    }
    /* Bytewise id order: neighbours share prefixes, which the front-coded ITIC stores once. */
    qsort(k, nk, sizeof *k, cmp_kept);
    ulm_dict items;
    ulm_dict_init(&items);
    uint32_t *text = malloc(((size_t)nk + 1) * sizeof *text);
    ulm_status s = text ? ULM_OK : ULM_ERR_NOMEM;
    for (uint32_t j = 0; s == ULM_OK && j < nk; j++) {
        bool added;
        if (ulm_dict_intern(&items, k[j].s, k[j].len, &added) != j) s = ULM_ERR_NOMEM;
        map[k[j].old] = j;
        text[j] = k[j].old < ev->item_text_cap ? ev->item_text[k[j].old] : ULM_NONE;
    }
    if (s != ULM_OK) {
        ulm_dict_free(&items);
        free(text), free(keep), free(map), free(k);
        return s;
    }
    /* Events on a dropped item stay (a return or view still counts for the customer) without an item. */
    for (size_t e = 0; e < ev->n; e++)
        if (ev->item[e] < n) ev->item[e] = map[ev->item[e]];
    ulm_dict_free(&ev->items);
    ev->items = items;
    free(ev->item_text);
    ev->item_text = text;
    ev->item_text_cap = nk;
    *dropped = n - nk;
    free(keep), free(map), free(k);
    return ULM_OK;
}

ulm_status ulm_edge_put_ids(ulm_writer *w, const ulm_dict *d, bool *compact) {
    uint32_t n = d->n;
    size_t size = 4;
    *compact = true;
    for (uint32_t i = 0; i < n && *compact; i++) {
        uint32_t len;
        ulm_dict_str(d, i, &len);
        *compact = len <= 255;
        size += 3 + len;
    }
    if (!*compact) return ULM_OK;
    uint8_t *b = malloc(size), *p = b + 4;
    if (!b) return ULM_ERR_NOMEM;
    ulm__wr32(b, n);
    const char *prev = NULL;
    uint32_t plen = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len, pre = 0;
        const char *s = ulm_dict_str(d, i, &len);
        while (prev && pre < len && pre < plen && s[pre] == prev[pre]) pre++;
        uint32_t suf = len - pre;
        if (pre <= 15 && suf <= 15 && (pre < 15 || suf < 15)) {
            *p++ = (uint8_t)(pre << 4 | suf); /* the short form: one byte, two nibbles */
        } else {
            *p++ = 0xFF;
            *p++ = (uint8_t)pre;
            *p++ = (uint8_t)suf;
        }
        memcpy(p, s + pre, len - pre);
        p += len - pre;
        prev = s, plen = len;
    }
    ulm_status st = ulm_writer_section(w, "ITIC", ULM_DT_BYTES, n, 0, 1, ULM_SECTION_REQUIRED, b, (uint64_t)(p - b));
    free(b);
    return st;
}

ulm_status ulm_edge_put_pop(ulm_writer *w, const float *pop, uint32_t n, bool *compact) {
    uint16_t *h = malloc(((size_t)n + 1) * sizeof *h);
    uint32_t *ord = malloc(((size_t)n + 1) * sizeof *ord), *tmp = malloc(((size_t)n + 1) * sizeof *tmp);
    ulm_status s = h && ord && tmp ? ULM_OK : ULM_ERR_NOMEM;
    *compact = s == ULM_OK;
    for (uint32_t i = 0; *compact && i < n; i++) *compact = pop[i] >= 0 && pop[i] <= 65504.0f;
    if (*compact) {
        /* The loader ranks by score, ties to the lower index. F16 rounding is monotone, so the ranking
         * stays the f32 one exactly when every pair it makes equal is already in index order. */
        for (uint32_t i = 0; i < n; i++) ord[i] = i, h[i] = ulm__f16_from_f32(pop[i]);
        ulm__rank_by_score(ord, n, pop, tmp);
        for (uint32_t r = 1; r < n && *compact; r++)
            *compact = h[ord[r - 1]] != h[ord[r]] || ord[r - 1] < ord[r];
    }
    if (*compact) {
        for (uint32_t i = 0; i < n; i++) ulm__wr16((uint8_t *)(h + i), h[i]);
        s = ulm_writer_section(w, "POPR", ULM_DT_F16, n, 0, 1, ULM_SECTION_REQUIRED, h, (uint64_t)n * 2);
    }
    free(h), free(ord), free(tmp);
    return s;
}

ulm_status ulm_edge_put_cycles(ulm_writer *w, const float *days, uint32_t n) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) k += days[i] > 0;
    if (k == 0) return ULM_OK; /* no cycle: no section, as ulm_repurchase_cycles_write */
    size_t at = (((size_t)n + 7) / 8 + 3) & ~(size_t)3, size = at + (size_t)k * 4;
    uint8_t *b = calloc(size, 1);
    if (!b) return ULM_ERR_NOMEM;
    for (uint32_t i = 0, j = 0; i < n; i++)
        if (days[i] > 0) b[i / 8] |= (uint8_t)(1u << (i % 8)), ulm__wrf32(b + at + 4 * (size_t)j++, days[i]);
    ulm_status s = ulm_writer_section(w, "RCRS", ULM_DT_BYTES, k, 0, 1, 0, b, size);
    free(b);
    return s;
}
