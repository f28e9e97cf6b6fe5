/* model_ids.c: the front-coded item ids of an edge bundle (ITIC, `ulm train --edge`; layout in
 * docs/format.md), decoded into an owned string table image that the model views like ITID. */
#include "ulm_impl.h"
#include "ulm_model_impl.h"

/* Walks ITIC's entries, checking every bound; with out (the image's byte area) also writes them.
 * *total gets the decoded bytes. */
static ulm_status walk(const ulm_section *s, uint32_t count, uint8_t *offsets, uint8_t *out, uint64_t *total,
                       ulm_diag *diag) {
    uint64_t at = 4, sum = 0;
    uint32_t prev = 0;
    for (uint32_t i = 0; i < count; i++) {
        /* 0xFF, prefix, suffix; or one byte: prefix << 4 | suffix. */
        uint64_t h = at < s->size && s->data[at] == 0xFF ? 3 : 1;
        if (at >= s->size || s->size - at < h)
            return ulm__fail(diag, ULM_ERR_FORMAT, "ITIC", s->offset + at, "id %u of %u runs past the section", i, count);
        uint32_t pre = h == 3 ? s->data[at + 1] : s->data[at] >> 4u, suf = h == 3 ? s->data[at + 2] : s->data[at] & 15u;
        if (pre > prev || pre + suf > 255 || s->size - at - h < suf)
            return ulm__fail(diag, ULM_ERR_FORMAT, "ITIC", s->offset + at,
                             "id %u shares %u bytes with an id of %u and adds %u: out of bounds", i, pre, prev, suf);
        if (out) {
            if (pre) memcpy(out + sum, out + sum - prev, pre);
            memcpy(out + sum + pre, s->data + at + h, suf);
            ulm__wr32(offsets + 4 * ((uint64_t)i + 1), (uint32_t)(sum + pre + suf));
        }
        at += h + suf;
        sum += pre + suf;
        prev = pre + suf;
    }
    if (at != s->size)
        return ulm__fail(diag, ULM_ERR_FORMAT, "ITIC", s->offset + at, "%llu bytes after the last id",
                         (unsigned long long)(s->size - at));
    *total = sum;
    return ULM_OK;
}

ulm_status ulm__ids_decode(ulm_model *m, const ulm_section *s, ulm_section *image, ulm_diag *diag) {
    if (s->dtype != ULM_DT_BYTES || s->size < 4 || ulm__rd32(s->data) != s->rows || s->rows > s->size - 4)
        return ulm__fail(diag, ULM_ERR_FORMAT, "ITIC", s->offset, "section ITIC has dtype %u, %u rows, %llu bytes",
                         s->dtype, s->rows, (unsigned long long)s->size);
    uint32_t count = s->rows;
    uint64_t total;
    ulm_status st = walk(s, count, NULL, NULL, &total, diag);
    if (st != ULM_OK) return st;
    size_t len = 4 + 4 * ((size_t)count + 1) + (size_t)total;
    m->ids_image = ulm__alloc(m->alloc, len);
    if (!m->ids_image) return ULM_ERR_NOMEM;
    m->ids_image_len = len;
    ulm__wr32(m->ids_image, count);
    ulm__wr32(m->ids_image + 4, 0);
    if ((st = walk(s, count, m->ids_image + 4, m->ids_image + 8 + 4 * (size_t)count, &total, diag)) != ULM_OK) return st;
    *image = *s;
    image->data = m->ids_image;
    image->size = len;
    return ULM_OK;
}
