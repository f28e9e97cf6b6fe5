/* strtab.c: string table sections (u32 count, u32 offsets[count+1], bytes): build and validate. */
#include <stdlib.h>

#include "ulm/ulm_bundle.h"
#include "ulm_impl.h"

ulm_status ulm_strtab_view(const void *data, uint64_t size, ulm_strtab *out) {
    const uint8_t *p = (const uint8_t *)data;
    memset(out, 0, sizeof *out);
    if (size < 8) return ULM_ERR_FORMAT;
    uint32_t count = ulm__rd32(p);
    /* Bound the count by the bytes present before multiplying. */
    if ((uint64_t)count + 1 > (size - 4) / 4) return ULM_ERR_FORMAT;
    uint64_t head = 4 + 4 * ((uint64_t)count + 1);
    uint64_t blen = size - head;
    if (blen > 0xFFFFFFFFu) return ULM_ERR_FORMAT;
    const uint8_t *offs = p + 4;
    if (ulm__rd32(offs) != 0 || ulm__rd32(offs + 4 * (uint64_t)count) != blen) return ULM_ERR_FORMAT;
    uint32_t prev = 0;
    for (uint32_t i = 1; i <= count; i++) {
        uint32_t o = ulm__rd32(offs + 4 * (uint64_t)i);
        if (o < prev) return ULM_ERR_FORMAT;
        prev = o;
    }
    if (!ulm_utf8_valid((const char *)p + head, (size_t)blen)) return ULM_ERR_FORMAT;
    out->count = count;
    out->offsets = offs;
    out->bytes = (const char *)p + head;
    out->bytes_len = (uint32_t)blen;
    return ULM_OK;
}

const char *ulm_strtab_get(const ulm_strtab *t, uint32_t i, uint32_t *len) {
    if (i >= t->count) {
        if (len) *len = 0;
        return NULL;
    }
    uint32_t a = ulm__rd32(t->offsets + 4 * (uint64_t)i), b = ulm__rd32(t->offsets + 4 * ((uint64_t)i + 1));
    if (len) *len = b - a;
    return t->bytes + a;
}

ulm_status ulm_strtab_build(const char *const *strs, const uint32_t *lens, uint32_t n, uint8_t **buf, size_t *len) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += lens[i];
    if (total > 0xFFFFFFFFu) return ULM_ERR_RANGE;
    uint64_t size = 4 + 4 * ((uint64_t)n + 1) + total;
    if (size > SIZE_MAX) return ULM_ERR_RANGE;
    uint8_t *p = malloc((size_t)size);
    if (!p) return ULM_ERR_NOMEM;
    ulm__wr32(p, n);
    uint8_t *bytes = p + 4 + 4 * ((uint64_t)n + 1);
    uint32_t at = 0;
    ulm__wr32(p + 4, 0);
    for (uint32_t i = 0; i < n; i++) {
        if (lens[i]) memcpy(bytes + at, strs[i], lens[i]);
        at += lens[i];
        ulm__wr32(p + 4 + 4 * ((uint64_t)i + 1), at);
    }
    *buf = p;
    *len = (size_t)size;
    return ULM_OK;
}
