/* export.c: builds the sections of a model bundle (catalogue, popularity, user table). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_edge.h"
#include "ulm/ulm_reccycle.h"
#include "ulm/ulm_train.h"

/* Adds a STRTAB section holding every string of dict d (in id order). */
static ulm_status add_dict(ulm_writer *w, const char *tag, const ulm_dict *d, uint16_t flags) {
    const char **strs = malloc(((size_t)d->n + 1) * sizeof *strs);
    uint32_t *lens = malloc(((size_t)d->n + 1) * sizeof *lens);
    if (!strs || !lens) {
        free(strs);
        free(lens);
        return ULM_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < d->n; i++) strs[i] = ulm_dict_str(d, i, &lens[i]);
    uint8_t *tab;
    size_t len;
    ulm_status s = ulm_strtab_build(strs, lens, d->n, &tab, &len);
    if (s == ULM_OK) {
        s = ulm_writer_section(w, tag, ULM_DT_STRTAB, d->n, 0, 1, flags, tab, len);
        free(tab);
    }
    free(strs);
    free(lens);
    return s;
}

/* Adds ITNM (item names) when at least one item has a text; returns how many do. */
static ulm_status add_names(ulm_writer *w, const ulm_events *ev, uint32_t *with_names) {
    uint32_t n = ev->items.n, have = 0;
    const char **strs = malloc(((size_t)n + 1) * sizeof *strs);
    uint32_t *lens = malloc(((size_t)n + 1) * sizeof *lens);
    if (!strs || !lens) {
        free(strs);
        free(lens);
        return ULM_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        strs[i] = ulm_events_item_text(ev, i, &lens[i]);
        if (!strs[i]) strs[i] = "";
        have += lens[i] > 0;
    }
    ulm_status s = ULM_OK;
    if (have) {
        uint8_t *tab;
        size_t len;
        s = ulm_strtab_build(strs, lens, n, &tab, &len);
        if (s == ULM_OK) {
            s = ulm_writer_section(w, "ITNM", ULM_DT_STRTAB, n, 0, 1, 0, tab, len);
            free(tab);
        }
    }
    *with_names = have;
    free(strs);
    free(lens);
    return s;
}

/* Adds ITPR: each item's most recent positive purchase price (NaN when none). */
static ulm_status add_prices(ulm_writer *w, const ulm_events *ev) {
    uint32_t n = ev->items.n;
    float *price = malloc(((size_t)n + 1) * sizeof *price);
    int64_t *when = malloc(((size_t)n + 1) * sizeof *when);
    if (!price || !when) {
        free(price);
        free(when);
        return ULM_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        price[i] = NAN;
        when[i] = INT64_MIN;
    }
    for (size_t e = 0; e < ev->n; e++) {
        uint32_t it = ev->item[e];
        if (it >= n || ev->type[e] != ULM_EV_PURCHASE || !(ev->price[e] > 0)) continue;
        if (ev->time[e] >= when[it]) {
            when[it] = ev->time[e];
            price[it] = (float)ev->price[e];
        }
    }
    ulm_status s = ulm_writer_section(w, "ITPR", ULM_DT_F32, n, 0, 1, 0, price, (uint64_t)n * 4);
    free(price);
    free(when);
    return s;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Adds USID/USOF/USIT: every known user and the distinct items they purchased (ascending). */
static ulm_status add_users(ulm_writer *w, const ulm_events *ev) {
    uint32_t nu = ev->users.n;
    uint32_t *off = calloc((size_t)nu + 1, sizeof *off);
    if (!off) return ULM_ERR_NOMEM;
    for (size_t e = 0; e < ev->n; e++)
        if (ev->user[e] < nu && ev->item[e] < ev->items.n && ev->type[e] == ULM_EV_PURCHASE) off[ev->user[e] + 1]++;
    for (uint32_t u = 0; u < nu; u++) off[u + 1] += off[u];
    uint32_t *items = malloc(((size_t)off[nu] + 1) * sizeof *items), *fill = malloc(((size_t)nu + 1) * sizeof *fill);
    if (!items || !fill) {
        free(off);
        free(items);
        free(fill);
        return ULM_ERR_NOMEM;
    }
    memcpy(fill, off, (size_t)nu * sizeof *fill);
    for (size_t e = 0; e < ev->n; e++)
        if (ev->user[e] < nu && ev->item[e] < ev->items.n && ev->type[e] == ULM_EV_PURCHASE)
            items[fill[ev->user[e]]++] = ev->item[e];
    /* Sort and deduplicate each user's list in place, compacting the CSR as we go. */
    uint32_t out = 0;
    for (uint32_t u = 0; u < nu; u++) {
        uint32_t a = off[u], b = off[u + 1];
        qsort(items + a, b - a, sizeof *items, cmp_u32);
        off[u] = out;
        for (uint32_t k = a; k < b; k++)
            if (k == a || items[k] != items[k - 1]) items[out++] = items[k];
    }
    off[nu] = out;
    ulm_status s = add_dict(w, "USID", &ev->users, 0);
    if (s == ULM_OK) s = ulm_writer_section(w, "USOF", ULM_DT_U32, nu + 1, 0, 1, 0, off, ((uint64_t)nu + 1) * 4);
    if (s == ULM_OK) s = ulm_writer_section(w, "USIT", ULM_DT_U32, out, 0, 1, 0, items, (uint64_t)out * 4);
    free(off);
    free(items);
    free(fill);
    return s;
}

/* Trains popularity and adds POPR. */
static ulm_status add_popularity(ulm_writer *w, const ulm_events *ev, const ulm_export_opts *o, int64_t *as_of,
                                 bool *f16) {
    uint32_t n = ev->items.n;
    double *score = malloc(((size_t)n + 1) * sizeof *score);
    float *f = malloc(((size_t)n + 1) * sizeof *f);
    if (!score || !f) {
        free(score);
        free(f);
        return ULM_ERR_NOMEM;
    }
    ulm_pop_params p = ulm_pop_params_init();
    p.half_life_days = o->half_life_days;
    p.as_of = o->as_of;
    ulm_status s = ulm_pop_train(ev, &p, score, as_of);
    for (uint32_t i = 0; s == ULM_OK && i < n; i++) f[i] = (float)score[i];
    bool done = false;
    if (s == ULM_OK && o->compact) s = ulm_edge_put_pop(w, f, n, &done);
    *f16 = done;
    if (s == ULM_OK && !done) s = ulm_writer_section(w, "POPR", ULM_DT_F32, n, 0, 1, ULM_SECTION_REQUIRED, f, (uint64_t)n * 4);
    free(score);
    free(f);
    return s;
}

ulm_status ulm_export_bundle(const ulm_events *ev, const ulm_export_opts *o, uint8_t **buf, size_t *len,
                             ulm_export_info *info, ulm_diag *diag) {
    memset(info, 0, sizeof *info);
    if (ev->items.n == 0) {
        snprintf(diag->message, sizeof diag->message, "the store has no items: nothing to train on");
        return diag->status = ULM_ERR_RANGE;
    }
    ulm_writer *w;
    ulm_status s = ulm_writer_new(ULM_KIND_MODEL, NULL, &w);
    if (s != ULM_OK) return s;
    bool ids_done = false;
    if (o->compact) s = ulm_edge_put_ids(w, &ev->items, &ids_done);
    if (s == ULM_OK && !ids_done) s = add_dict(w, "ITID", &ev->items, ULM_SECTION_REQUIRED);
    if (s == ULM_OK && !o->no_names) s = add_names(w, ev, &info->items_with_names);
    if (s == ULM_OK && !o->no_prices) s = add_prices(w, ev);
    if (s == ULM_OK) s = add_popularity(w, ev, o, &info->as_of, &info->pop_f16);
    if (s == ULM_OK && o->user_table) s = add_users(w, ev);
    if (s == ULM_OK && o->recs)
        s = ulm_rec_model_export_c(o->recs, o->recs_hist_weight, o->recs_ease_keep, o->recs_quant, o->compact, w, diag);
    if (s == ULM_OK && o->cycles && o->compact) s = ulm_edge_put_cycles(w, o->cycles, ev->items.n);
    else if (s == ULM_OK && o->cycles) s = ulm_repurchase_cycles_write(o->cycles, ev->items.n, w);
    for (uint32_t i = 0; o->deny && i < ev->items.n; i++) info->items_denied += o->deny[i] != 0;
    if (s == ULM_OK && info->items_denied)
        s = ulm_writer_section(w, "ITDN", ULM_DT_U8, ev->items.n, 0, 1, 0, o->deny, ev->items.n);
    if (s == ULM_OK && o->profiler) s = ulm_profiler_write(o->profiler, w);
    char num[64], when[48];
    ulm_format_time(info->as_of, when);
    if (s == ULM_OK) s = ulm_writer_meta(w, "created.by", "ulm " ULM_VERSION_STRING);
    if (s == ULM_OK) s = ulm_writer_meta(w, "model.kind", "ulm-model");
    if (s == ULM_OK) s = ulm_writer_meta(w, "model.recs", o->recs ? ulm_rec_algo_name(o->recs->algo) : "pop");
    snprintf(num, sizeof num, "%u", ev->items.n);
    if (s == ULM_OK) s = ulm_writer_meta(w, "schema.items", num);
    snprintf(num, sizeof num, "%u", o->user_table ? ev->users.n : 0);
    if (s == ULM_OK) s = ulm_writer_meta(w, "schema.users", num);
    snprintf(num, sizeof num, "%zu", ev->n);
    if (s == ULM_OK) s = ulm_writer_meta(w, "train.events", num);
    snprintf(num, sizeof num, "%g", o->half_life_days);
    if (s == ULM_OK) s = ulm_writer_meta(w, "train.pop.half_life_days", num);
    if (s == ULM_OK) s = ulm_writer_meta(w, "train.as_of", when);
    if (s == ULM_OK && o->extra) s = o->extra(w, o->extra_ctx);
    if (s == ULM_OK) s = ulm_writer_finish(w, buf, len);
    ulm_writer_free(w);
    if (s != ULM_OK) {
        snprintf(diag->message, sizeof diag->message, "building the bundle failed: %s", ulm_status_str(s));
        return diag->status = s;
    }
    info->items = ev->items.n;
    info->users = o->user_table ? ev->users.n : 0;
    info->bytes = *len;
    return ULM_OK;
}
