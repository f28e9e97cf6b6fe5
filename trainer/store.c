/* store.c: the event store: a ULM_KIND_STORE container with one section per event column,
 * string tables for the dictionaries, and metadata (docs/store.md). The reader trusts nothing:
 * every column length is checked against the event count and every index against its
 * dictionary before the table is handed out. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "store.h"

/* Column sections: tag, dtype, element size. Order here is the order in the file. */
enum { C_USR, C_ITM, C_TIM, C_TYP, C_QTY, C_PRC, C_ORD, C_QRY, C_TXT, C__N };
static const struct {
    const char *tag;
    ulm_dtype dtype;
    unsigned size;
} cols[C__N] = {
    [C_USR] = {"EUSR", ULM_DT_U32, 4}, [C_ITM] = {"EITM", ULM_DT_U32, 4}, [C_TIM] = {"ETIM", ULM_DT_I64, 8},
    [C_TYP] = {"ETYP", ULM_DT_U8, 1},  [C_QTY] = {"EQTY", ULM_DT_F32, 4}, [C_PRC] = {"EPRC", ULM_DT_F64, 8},
    [C_ORD] = {"EORD", ULM_DT_U32, 4}, [C_QRY] = {"EQRY", ULM_DT_U32, 4}, [C_TXT] = {"ETXT", ULM_DT_U32, 4},
};
/* Dictionary sections. */
enum { D_USR, D_ITM, D_ORD, D_QRY, D_TXT, D__N };
static const char *const dict_tags[D__N] = {"DUSR", "DITM", "DORD", "DQRY", "DTXT"};

void ulm_store_extra_free(ulm_store_extra *x) {
    if (!x) return;
    free(x->event_text);
    free(x->sources);
    x->event_text = NULL;
    x->sources = NULL;
}

/* ---- writing ---- */

/* The dictionary d as an array of the ulm_dict's dictionaries by D_* index. */
static const ulm_dict *dict_of(const ulm_events *ev, int d) {
    switch (d) {
    case D_USR: return &ev->users;
    case D_ITM: return &ev->items;
    case D_ORD: return &ev->orders;
    case D_QRY: return &ev->queries;
    default: return &ev->texts;
    }
}

/* Adds dictionary d as a STRTAB section. */
static ulm_status put_dict(ulm_writer *w, const ulm_dict *d, const char *tag) {
    uint32_t n = d->n;
    const char **strs = malloc((n ? n : 1) * sizeof *strs);
    uint32_t *lens = malloc((n ? n : 1) * sizeof *lens);
    ulm_status s = ULM_ERR_NOMEM;
    if (strs && lens) {
        for (uint32_t i = 0; i < n; i++)
            strs[i] = ulm_dict_str(d, i, &lens[i]);
        uint8_t *buf;
        size_t len;
        s = ulm_strtab_build(strs, lens, n, &buf, &len);
        if (s == ULM_OK) {
            s = ulm_writer_section(w, tag, ULM_DT_STRTAB, n, 0, 1, ULM_SECTION_REQUIRED, buf, len);
            free(buf);
        }
    }
    free(strs);
    free(lens);
    return s;
}

/* Serialises column c of ev (little-endian) into tmp (room for n * 8 bytes). */
static void encode_column(const ulm_events *ev, const uint32_t *etext, int c, uint8_t *tmp) {
    size_t n = ev->n;
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        switch (c) {
        case C_USR: v = ev->user[i]; break;
        case C_ITM: v = ev->item[i]; break;
        case C_TIM: v = (uint64_t)ev->time[i]; break;
        case C_TYP: v = ev->type[i]; break;
        case C_QTY: {
            uint32_t u;
            memcpy(&u, &ev->qty[i], 4);
            v = u;
            break;
        }
        case C_PRC: memcpy(&v, &ev->price[i], 8); break;
        case C_ORD: v = ev->order[i]; break;
        case C_QRY: v = ev->query[i]; break;
        default: {
            uint32_t it = ev->item[i];
            v = etext ? etext[i] : (it != ULM_NONE && it < ev->item_text_cap ? ev->item_text[it] : ULM_NONE);
        }
        }
        uint8_t *p = tmp + i * cols[c].size;
        for (unsigned b = 0; b < cols[c].size; b++)
            p[b] = (uint8_t)(v >> (8 * b));
    }
}

ulm_status ulm_store_encode(const ulm_events *ev, const uint32_t *event_text, const char *sources,
                            const char *const *extra_meta, uint8_t **out, size_t *out_len, ulm_diag *diag) {
    *out = NULL;
    *out_len = 0;
    if (ev->n > 0xFFFFFFFEu) return ulm_diag_set(diag, ULM_ERR_RANGE, NULL, 0, "too many events for one store (%zu)", ev->n);
    ulm_writer *w;
    ulm_status s = ulm_writer_new(ULM_KIND_STORE, NULL, &w);
    if (s != ULM_OK) return ulm_diag_set(diag, s, NULL, 0, "cannot start the store: %s", ulm_status_str(s));
    uint8_t *tmp = malloc(ev->n ? ev->n * 8 : 8);
    uint32_t *itxt = malloc((ev->items.n ? ev->items.n : 1) * sizeof *itxt);
    char num[32];
    const char *failed = "META";
    if (!tmp || !itxt) {
        s = ULM_ERR_NOMEM;
        goto done;
    }
    snprintf(num, sizeof num, "%zu", ev->n);
    if ((s = ulm_writer_meta(w, "store.events", num)) != ULM_OK) goto done;
    snprintf(num, sizeof num, "%u", ev->users.n);
    if ((s = ulm_writer_meta(w, "store.users", num)) != ULM_OK) goto done;
    snprintf(num, sizeof num, "%u", ev->items.n);
    if ((s = ulm_writer_meta(w, "store.items", num)) != ULM_OK) goto done;
    if ((s = ulm_writer_meta(w, "store.sources", sources ? sources : "[]")) != ULM_OK) goto done;
    if ((s = ulm_writer_meta(w, "created.by", "ulm " ULM_VERSION_STRING)) != ULM_OK) goto done;
    for (size_t k = 0; extra_meta && extra_meta[k] && extra_meta[k + 1]; k += 2)
        if ((s = ulm_writer_meta(w, extra_meta[k], extra_meta[k + 1])) != ULM_OK) goto done;
    for (int c = 0; c < C__N; c++) {
        failed = cols[c].tag;
        encode_column(ev, event_text, c, tmp);
        s = ulm_writer_section(w, cols[c].tag, cols[c].dtype, (uint32_t)ev->n, 1, 1, ULM_SECTION_REQUIRED, tmp,
                               (uint64_t)ev->n * cols[c].size);
        if (s != ULM_OK) goto done;
    }
    for (int d = 0; d < D__N; d++) {
        failed = dict_tags[d];
        if ((s = put_dict(w, dict_of(ev, d), dict_tags[d])) != ULM_OK) goto done;
    }
    failed = "ITXT";
    for (uint32_t i = 0; i < ev->items.n; i++) {
        uint32_t t = i < ev->item_text_cap ? ev->item_text[i] : ULM_NONE;
        uint8_t *p = (uint8_t *)&itxt[i];
        for (unsigned b = 0; b < 4; b++)
            p[b] = (uint8_t)(t >> (8 * b));
    }
    s = ulm_writer_section(w, "ITXT", ULM_DT_U32, ev->items.n, 1, 1, ULM_SECTION_REQUIRED, itxt,
                           (uint64_t)ev->items.n * 4);
    if (s != ULM_OK) goto done;
    failed = NULL;
    uint8_t *buf;
    size_t len;
    if ((s = ulm_writer_finish(w, &buf, &len)) != ULM_OK) goto done;
    *out = buf; /* allocated by the default allocator: free() releases it */
    *out_len = len;
done:
    free(tmp);
    free(itxt);
    ulm_writer_free(w);
    if (s != ULM_OK)
        return ulm_diag_set(diag, s, failed, 0, "cannot encode the store%s%s: %s", failed ? " section " : "",
                          failed ? failed : "", ulm_status_str(s));
    return ULM_OK;
}

ulm_status ulm_store_write_ex(const char *path, const ulm_events *ev, const uint32_t *event_text, const char *sources,
                              const char *const *extra_meta, uint64_t *bytes, ulm_diag *diag) {
    uint8_t *buf;
    size_t len;
    ulm_status s = ulm_store_encode(ev, event_text, sources, extra_meta, &buf, &len, diag);
    if (s != ULM_OK) return s;
    ulm_diag local;
    memset(&local, 0, sizeof local);
    s = ulm_file_write_atomic(path, buf, len, &local);
    free(buf);
    if (s != ULM_OK) return ulm_diag_set(diag, s, NULL, 0, "%s", local.message[0] ? local.message : ulm_status_str(s));
    if (bytes) *bytes = len;
    return ULM_OK;
}

ulm_status ulm_store_write(const char *path, const ulm_events *ev, const char *const *extra_meta, ulm_diag *diag) {
    return ulm_store_write_ex(path, ev, NULL, NULL, extra_meta, NULL, diag);
}

/* ---- reading ---- */

/* Parses a META count (decimal, whole string) or fails naming the key. */
static ulm_status meta_count(const ulm_bundle *b, const char *key, uint64_t *out, ulm_diag *diag) {
    const char *v = ulm_bundle_meta(b, key);
    if (!v || !*v) return ulm_diag_set(diag, ULM_ERR_FORMAT, "META", 0, "metadata key %s is missing", key);
    uint64_t x = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || x > 0xFFFFFFFFull)
            return ulm_diag_set(diag, ULM_ERR_FORMAT, "META", 0, "metadata %s is not a count: '%.40s'", key, v);
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (x > 0xFFFFFFFFull) return ulm_diag_set(diag, ULM_ERR_FORMAT, "META", 0, "metadata %s is too large", key);
    *out = x;
    return ULM_OK;
}

/* Loads a STRTAB section into dictionary d; duplicate strings are corruption (ids would shift). */
static ulm_status load_dict(const ulm_bundle *b, const char *tag, ulm_dict *d, ulm_diag *diag) {
    ulm_section s;
    if (ulm_bundle_find(b, tag, &s) != ULM_OK)
        return ulm_diag_set(diag, ULM_ERR_FORMAT, tag, 0, "section %s is missing", tag);
    ulm_strtab t;
    if (s.dtype != ULM_DT_STRTAB || ulm_strtab_view(s.data, s.size, &t) != ULM_OK || t.count != s.rows)
        return ulm_diag_set(diag, ULM_ERR_FORMAT, tag, 0, "section %s is not a well-formed string table", tag);
    for (uint32_t i = 0; i < t.count; i++) {
        uint32_t len;
        const char *str = ulm_strtab_get(&t, i, &len);
        bool added;
        if (!str || len > t.bytes_len)
            return ulm_diag_set(diag, ULM_ERR_FORMAT, tag, 0, "string %u of %s is out of bounds", i, tag);
        uint32_t id = ulm_dict_intern(d, str, len, &added);
        if (id == ULM_NONE) return ulm_diag_set(diag, ULM_ERR_NOMEM, tag, 0, "out of memory reading %s", tag);
        if (!added) return ulm_diag_set(diag, ULM_ERR_FORMAT, tag, 0, "string %u of %s is a duplicate", i, tag);
    }
    return ULM_OK;
}

/* Finds column c and checks its dtype and length against n events. */
static ulm_status find_column(const ulm_bundle *b, int c, uint64_t n, ulm_section *s, ulm_diag *diag) {
    const char *tag = cols[c].tag;
    if (ulm_bundle_find(b, tag, s) != ULM_OK)
        return ulm_diag_set(diag, ULM_ERR_FORMAT, tag, 0, "section %s is missing", tag);
    if (s->dtype != (uint32_t)cols[c].dtype || s->rows != n || s->size != n * cols[c].size)
        return ulm_diag_set(diag, ULM_ERR_FORMAT, tag, 0,
                          "section %s has %u rows of dtype %u, expected %llu rows of dtype %u", tag, s->rows, s->dtype,
                          (unsigned long long)n, (unsigned)cols[c].dtype);
    return ULM_OK;
}

/* Reads little-endian u32 i of p. */
static inline uint32_t rd32(const uint8_t *p, size_t i) {
    p += i * 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads an index column into out, checking each value is below limit or ULM_NONE (when allowed). */
static ulm_status read_index(const ulm_section *s, size_t n, uint32_t limit, bool none_ok, uint32_t *out,
                             ulm_diag *diag, const char *what) {
    for (size_t i = 0; i < n; i++) {
        uint32_t v = rd32(s->data, i);
        if (v >= limit && !(none_ok && v == ULM_NONE))
            return ulm_diag_set(diag, ULM_ERR_FORMAT, s->tag, 0, "section %s: event %zu has %s %u, but there are only %u",
                              s->tag, i, what, v, limit);
        out[i] = v;
    }
    return ULM_OK;
}

/* Allocates every column of ev for n events. */
static bool alloc_columns(ulm_events *ev, size_t n) {
    size_t c = n ? n : 1;
    ev->user = malloc(c * 4);
    ev->item = malloc(c * 4);
    ev->order = malloc(c * 4);
    ev->query = malloc(c * 4);
    ev->time = malloc(c * 8);
    ev->type = malloc(c);
    ev->qty = malloc(c * 4);
    ev->price = malloc(c * 8);
    ev->cap = c;
    return ev->user && ev->item && ev->order && ev->query && ev->time && ev->type && ev->qty && ev->price;
}

/* The body of ulm_store_decode, with an open container. */
static ulm_status decode(const ulm_bundle *b, ulm_events *ev, ulm_store_extra *extra, ulm_diag *diag) {
    static const char *const known[] = {"META", ULM_STORE_SECTION_TAGS, NULL};
    ulm_status s = ulm_bundle_check_known(b, known, diag);
    if (s != ULM_OK) return s;
    uint64_t n, nu, ni;
    if ((s = meta_count(b, "store.events", &n, diag)) != ULM_OK) return s;
    if ((s = meta_count(b, "store.users", &nu, diag)) != ULM_OK) return s;
    if ((s = meta_count(b, "store.items", &ni, diag)) != ULM_OK) return s;
    ulm_dict *dicts[D__N] = {&ev->users, &ev->items, &ev->orders, &ev->queries, &ev->texts};
    for (int d = 0; d < D__N; d++)
        if ((s = load_dict(b, dict_tags[d], dicts[d], diag)) != ULM_OK) return s;
    if (ev->users.n != nu || ev->items.n != ni)
        return ulm_diag_set(diag, ULM_ERR_FORMAT, "META", 0,
                          "store.users/store.items (%llu/%llu) disagree with DUSR/DITM (%u/%u)", (unsigned long long)nu,
                          (unsigned long long)ni, ev->users.n, ev->items.n);
    ulm_section sec[C__N];
    for (int c = 0; c < C__N; c++)
        if ((s = find_column(b, c, n, &sec[c], diag)) != ULM_OK) return s;
    if (!alloc_columns(ev, (size_t)n))
        return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory for %llu events", (unsigned long long)n);
    uint32_t *etext = malloc(n ? n * 4 : 4);
    if (!etext) return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    if ((s = read_index(&sec[C_USR], n, ev->users.n, true, ev->user, diag, "user")) != ULM_OK ||
        (s = read_index(&sec[C_ITM], n, ev->items.n, true, ev->item, diag, "item")) != ULM_OK ||
        (s = read_index(&sec[C_ORD], n, ev->orders.n, true, ev->order, diag, "order")) != ULM_OK ||
        (s = read_index(&sec[C_QRY], n, ev->queries.n, true, ev->query, diag, "query")) != ULM_OK ||
        (s = read_index(&sec[C_TXT], n, ev->texts.n, true, etext, diag, "text")) != ULM_OK) {
        free(etext);
        return s;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *t = sec[C_TIM].data + i * 8;
        uint64_t tv = (uint64_t)rd32(t, 0) | (uint64_t)rd32(t, 1) << 32;
        ev->time[i] = (int64_t)tv;
        uint8_t ty = sec[C_TYP].data[i];
        if (ty >= ULM_EV__COUNT) {
            free(etext);
            return ulm_diag_set(diag, ULM_ERR_FORMAT, "ETYP", 0, "section ETYP: event %zu has unknown type %u", i, ty);
        }
        ev->type[i] = ty;
        uint32_t q = rd32(sec[C_QTY].data, i);
        memcpy(&ev->qty[i], &q, 4);
        const uint8_t *pp = sec[C_PRC].data + i * 8;
        uint64_t pv = (uint64_t)rd32(pp, 0) | (uint64_t)rd32(pp, 1) << 32;
        memcpy(&ev->price[i], &pv, 8);
    }
    ev->n = (size_t)n;
    ulm_section it;
    if (ulm_bundle_find(b, "ITXT", &it) != ULM_OK || it.dtype != ULM_DT_U32 || it.rows != ev->items.n ||
        it.size != (uint64_t)ev->items.n * 4) {
        free(etext);
        return ulm_diag_set(diag, ULM_ERR_FORMAT, "ITXT", 0, "section ITXT is missing or does not have one entry per item");
    }
    size_t cap = ev->items.n ? ev->items.n : 1;
    ev->item_text = malloc(cap * sizeof *ev->item_text);
    if (!ev->item_text) {
        free(etext);
        return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    }
    ev->item_text_cap = cap;
    ev->item_text[0] = ULM_NONE;
    if ((s = read_index(&it, ev->items.n, ev->texts.n, true, ev->item_text, diag, "text")) != ULM_OK) {
        free(etext);
        return s;
    }
    if (extra) {
        extra->event_text = etext;
        const char *src = ulm_bundle_meta(b, "store.sources");
        extra->sources = src ? strdup(src) : NULL;
        if (src && !extra->sources) return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    } else {
        free(etext);
    }
    return ULM_OK;
}

ulm_status ulm_store_decode(const void *buf, size_t len, ulm_events *ev, ulm_store_extra *extra, ulm_diag *diag) {
    if (extra) extra->event_text = NULL, extra->sources = NULL;
    ulm_bundle *b;
    ulm_diag local;
    ulm_status s = ulm_bundle_open(buf, len, ULM_KIND_STORE, ULM_OPEN_DEEP, NULL, &b, diag ? diag : &local);
    if (s != ULM_OK) return s;
    s = decode(b, ev, extra, diag);
    ulm_bundle_close(b);
    if (s != ULM_OK) {
        ulm_store_extra_free(extra);
        ulm_events_free(ev);
        ulm_events_init(ev);
    }
    return s;
}

ulm_status ulm_store_read_ex(const char *path, ulm_events *ev, ulm_store_extra *extra, ulm_diag *diag) {
    char *buf;
    size_t len;
    ulm_diag local;
    ulm_status s = ulm_file_read(path, false, &buf, &len, diag ? diag : &local);
    if (s != ULM_OK) return s;
    s = ulm_store_decode(buf, len, ev, extra, diag);
    free(buf);
    return s;
}

ulm_status ulm_store_read(const char *path, ulm_events *ev, ulm_diag *diag) {
    return ulm_store_read_ex(path, ev, NULL, diag);
}

bool ulm_store_load(const char *cmd, const char *path, ulm_events *ev) {
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_status s = ulm_store_read(path, ev, &d);
    if (s == ULM_OK) return true;
    ulm_errorf(cmd, "%s: %s: %s", path, ulm_status_name(s), d.message);
    ulm_events_free(ev);
    ulm_events_init(ev);
    return false;
}
