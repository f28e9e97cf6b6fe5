/* bundle_write.c: serialises a container (header, section table, aligned sections, metadata).
 * Deterministic: metadata sorted by key, sections in the order added, zero padding, no clock. */
#include <stdlib.h>

#include "ulm/ulm_bundle.h"
#include "../ulm_impl.h"

typedef struct wsection {
    char tag[4];
    uint32_t dtype, rows, cols;
    uint16_t version, flags;
    uint8_t *data;
    uint64_t size;
} wsection;

typedef struct wmeta {
    char *key, *value;
} wmeta;

struct ulm_writer {
    const ulm_allocator *alloc;
    int kind;
    uint16_t major, minor;
    wsection *sec;
    uint32_t nsec, capsec;
    wmeta *meta;
    uint32_t nmeta, capmeta;
};

ulm_status ulm_writer_new(int kind, const ulm_allocator *alloc, ulm_writer **out) {
    *out = NULL;
    if (kind != ULM_KIND_MODEL && kind != ULM_KIND_STORE) return ULM_ERR_MISUSE;
    ulm_writer *w = ulm__calloc(alloc, 1, sizeof *w);
    if (!w) return ULM_ERR_NOMEM;
    w->alloc = alloc;
    w->kind = kind;
    w->major = ULM_FORMAT_MAJOR;
    w->minor = ULM_FORMAT_MINOR;
    *out = w;
    return ULM_OK;
}

void ulm_writer_set_version(ulm_writer *w, uint16_t major, uint16_t minor) {
    w->major = major;
    w->minor = minor;
}

/* Copies s into a new NUL-terminated string from the writer's allocator. */
static char *dup_str(const ulm_allocator *a, const char *s) {
    size_t n = strlen(s);
    char *p = ulm__alloc(a, n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

/* A metadata key is 1..255 characters of [a-z0-9._-]; keeping keys this plain makes them safe
 * to print, sort bytewise and use as JSON keys without escaping. */
static int key_ok(const char *k) {
    size_t n = strlen(k);
    if (n == 0 || n > 255) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return 0;
    }
    return 1;
}

ulm_status ulm_writer_meta(ulm_writer *w, const char *key, const char *value) {
    if (!w || !key || !value || !key_ok(key) || !ulm_utf8_valid(value, strlen(value))) return ULM_ERR_MISUSE;
    for (uint32_t i = 0; i < w->nmeta; i++) {
        if (strcmp(w->meta[i].key, key) == 0) {
            char *v = dup_str(w->alloc, value);
            if (!v) return ULM_ERR_NOMEM;
            ulm__free(w->alloc, w->meta[i].value, strlen(w->meta[i].value) + 1);
            w->meta[i].value = v;
            return ULM_OK;
        }
    }
    if (w->nmeta == w->capmeta) {
        uint32_t nc = w->capmeta ? w->capmeta * 2 : 16;
        wmeta *m = ulm__realloc(w->alloc, w->meta, w->capmeta * sizeof *m, nc * sizeof *m);
        if (!m) return ULM_ERR_NOMEM;
        w->meta = m;
        w->capmeta = nc;
    }
    char *k = dup_str(w->alloc, key), *v = dup_str(w->alloc, value);
    if (!k || !v) {
        ulm__free(w->alloc, k, 0);
        ulm__free(w->alloc, v, 0);
        return ULM_ERR_NOMEM;
    }
    w->meta[w->nmeta].key = k;
    w->meta[w->nmeta].value = v;
    w->nmeta++;
    return ULM_OK;
}

ulm_status ulm_writer_section(ulm_writer *w, const char *tag, ulm_dtype dtype, uint32_t rows, uint32_t cols,
                              uint16_t version, uint16_t flags, const void *data, uint64_t size) {
    if (!w || !tag || strlen(tag) != 4 || (size && !data) || size > SIZE_MAX) return ULM_ERR_MISUSE;
    for (int i = 0; i < 4; i++)
        if (!((tag[i] >= 'A' && tag[i] <= 'Z') || (tag[i] >= '0' && tag[i] <= '9'))) return ULM_ERR_MISUSE;
    if (strcmp(tag, "META") == 0) return ULM_ERR_MISUSE; /* written from ulm_writer_meta */
    for (uint32_t i = 0; i < w->nsec; i++)
        if (memcmp(w->sec[i].tag, tag, 4) == 0) return ULM_ERR_MISUSE;
    if (w->nsec == w->capsec) {
        uint32_t nc = w->capsec ? w->capsec * 2 : 16;
        wsection *s = ulm__realloc(w->alloc, w->sec, w->capsec * sizeof *s, nc * sizeof *s);
        if (!s) return ULM_ERR_NOMEM;
        w->sec = s;
        w->capsec = nc;
    }
    wsection *s = &w->sec[w->nsec];
    memset(s, 0, sizeof *s);
    memcpy(s->tag, tag, 4);
    s->dtype = (uint32_t)dtype;
    s->rows = rows;
    s->cols = cols;
    s->version = version;
    s->flags = flags;
    s->size = size;
    if (size) {
        s->data = ulm__alloc(w->alloc, (size_t)size);
        if (!s->data) return ULM_ERR_NOMEM;
        memcpy(s->data, data, (size_t)size);
    }
    w->nsec++;
    return ULM_OK;
}

static int cmp_meta(const void *a, const void *b) {
    return strcmp(((const wmeta *)a)->key, ((const wmeta *)b)->key);
}

/* Encodes the metadata pairs (sorted) into the META section body. */
static ulm_status encode_meta(ulm_writer *w, uint8_t **out, uint64_t *size) {
    if (w->nmeta > 1) qsort(w->meta, w->nmeta, sizeof *w->meta, cmp_meta);
    uint64_t n = 4;
    for (uint32_t i = 0; i < w->nmeta; i++) n += 8 + strlen(w->meta[i].key) + strlen(w->meta[i].value);
    uint8_t *p = ulm__alloc(w->alloc, (size_t)n);
    if (!p) return ULM_ERR_NOMEM;
    ulm__wr32(p, w->nmeta);
    uint64_t at = 4;
    for (uint32_t i = 0; i < w->nmeta; i++) {
        uint32_t kl = (uint32_t)strlen(w->meta[i].key), vl = (uint32_t)strlen(w->meta[i].value);
        ulm__wr32(p + at, kl);
        ulm__wr32(p + at + 4, vl);
        memcpy(p + at + 8, w->meta[i].key, kl);
        memcpy(p + at + 8 + kl, w->meta[i].value, vl);
        at += 8 + kl + vl;
    }
    *out = p;
    *size = n;
    return ULM_OK;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

ulm_status ulm_writer_finish(ulm_writer *w, uint8_t **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    uint8_t *meta;
    uint64_t meta_size;
    ulm_status s = encode_meta(w, &meta, &meta_size);
    if (s != ULM_OK) return s;
    /* META is section 0, then the sections in the order they were added. */
    uint32_t count = w->nsec + 1;
    uint64_t table_off = ULM_HEADER_SIZE;
    uint64_t at = align_up(table_off + (uint64_t)count * ULM_SECTION_ENTRY_SIZE, ULM_ALIGNMENT);
    uint64_t *offs = ulm__alloc(w->alloc, count * sizeof *offs);
    if (!offs) {
        ulm__free(w->alloc, meta, (size_t)meta_size);
        return ULM_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < count; i++) {
        offs[i] = at;
        at = align_up(at + (i == 0 ? meta_size : w->sec[i - 1].size), ULM_ALIGNMENT);
    }
    uint64_t file_size = at;
    if (file_size > SIZE_MAX) {
        ulm__free(w->alloc, offs, 0);
        ulm__free(w->alloc, meta, (size_t)meta_size);
        return ULM_ERR_RANGE;
    }
    uint8_t *p = ulm__calloc(w->alloc, 1, (size_t)file_size);
    if (!p) {
        ulm__free(w->alloc, offs, 0);
        ulm__free(w->alloc, meta, (size_t)meta_size);
        return ULM_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = p + table_off + (uint64_t)i * ULM_SECTION_ENTRY_SIZE;
        const uint8_t *data = i == 0 ? meta : w->sec[i - 1].data;
        uint64_t size = i == 0 ? meta_size : w->sec[i - 1].size;
        if (size) memcpy(p + offs[i], data, (size_t)size);
        ulm__wr64(e + ULM__S_OFFSET, offs[i]);
        ulm__wr64(e + ULM__S_SIZE, size);
        memcpy(e + ULM__S_TAG, i == 0 ? "META" : w->sec[i - 1].tag, 4);
        ulm__wr32(e + ULM__S_DTYPE, i == 0 ? ULM_DT_BYTES : w->sec[i - 1].dtype);
        ulm__wr32(e + ULM__S_ROWS, i == 0 ? w->nmeta : w->sec[i - 1].rows);
        ulm__wr32(e + ULM__S_COLS, i == 0 ? 0 : w->sec[i - 1].cols);
        ulm__wr16(e + ULM__S_VERSION, i == 0 ? 1 : w->sec[i - 1].version);
        ulm__wr16(e + ULM__S_FLAGS, i == 0 ? ULM_SECTION_REQUIRED : w->sec[i - 1].flags);
        ulm__wr32(e + ULM__S_CRC, ulm_crc32c(0, data, (size_t)size));
    }
    static const uint8_t magic[8] = {0x89, 'U', 'L', 0, 0x0D, 0x0A, 0x1A, 0x0A};
    memcpy(p, magic, 8);
    p[3] = (uint8_t)w->kind;
    ulm__wr16(p + ULM__H_MAJOR, w->major);
    ulm__wr16(p + ULM__H_MINOR, w->minor);
    ulm__wr32(p + ULM__H_U32_PROBE, ULM__U32_PROBE);
    ulm__wrf32(p + ULM__H_F32_PROBE, ULM__F32_PROBE);
    ulm__wr32(p + ULM__H_HEADER_SIZE, ULM_HEADER_SIZE);
    ulm__wr64(p + ULM__H_FILE_SIZE, file_size);
    ulm__wr64(p + ULM__H_TABLE_OFFSET, table_off);
    ulm__wr32(p + ULM__H_SECTION_COUNT, count);
    ulm__wr32(p + ULM__H_ALIGNMENT, ULM_ALIGNMENT);
    ulm__wr32(p + ULM__H_FLAGS, 0);
    ulm__wr32(p + ULM__H_QUANT_VERSION, ULM__QUANT_VERSION);
    ulm__wr32(p + ULM__H_TABLE_CRC, ulm_crc32c(0, p + table_off, (size_t)count * ULM_SECTION_ENTRY_SIZE));
    ulm__wr32(p + ULM__H_CRC, ulm_crc32c(0, p, ULM__H_CRC));
    ulm__free(w->alloc, offs, 0);
    ulm__free(w->alloc, meta, (size_t)meta_size);
    *buf = p;
    *len = (size_t)file_size;
    return ULM_OK;
}

void ulm_writer_buffer_free(ulm_writer *w, uint8_t *buf, size_t len) { ulm__free(w ? w->alloc : NULL, buf, len); }

void ulm_writer_free(ulm_writer *w) {
    if (!w) return;
    for (uint32_t i = 0; i < w->nsec; i++) ulm__free(w->alloc, w->sec[i].data, (size_t)w->sec[i].size);
    for (uint32_t i = 0; i < w->nmeta; i++) {
        ulm__free(w->alloc, w->meta[i].key, 0);
        ulm__free(w->alloc, w->meta[i].value, 0);
    }
    ulm__free(w->alloc, w->sec, 0);
    ulm__free(w->alloc, w->meta, 0);
    ulm__free(w->alloc, w, sizeof *w);
}
