/* bundle_read.c: validates a container before anything touches its contents.
 *
 * Order of checks (each failure has its own status, so a damaged file says how it is damaged):
 * magic (ERR_FORMAT), header size (ERR_TRUNCATED), header CRC (ERR_CHECKSUM), byte-order and float
 * probes (ERR_FORMAT), version and flags (ERR_VERSION), file size (ERR_TRUNCATED / ERR_FORMAT),
 * section table CRC (ERR_CHECKSUM), every entry's bounds, alignment, order and dtype size
 * (ERR_FORMAT), zero padding (ERR_FORMAT), every section's CRC (ERR_CHECKSUM), metadata (ERR_FORMAT). */
#include <stdlib.h>

#include "ulm/ulm_bundle.h"
#include "ulm_impl.h"

typedef struct rmeta {
    char *key, *value;
} rmeta;

struct ulm_bundle {
    const ulm_allocator *alloc;
    const uint8_t *buf;
    size_t len;
    int major, minor;
    uint32_t nsec;
    ulm_section *sec;
    uint32_t nmeta;
    rmeta *meta;
};

static const char *kind_name(int k) {
    return k == ULM_KIND_MODEL ? "model bundle" : k == ULM_KIND_STORE ? "event store" : "unknown ulm file";
}

/* Bytes per element of fixed-size dtypes; 0 for variable layouts (BYTES, STRTAB, Q8_ROW). */
static uint64_t dtype_size(uint32_t dt) {
    switch (dt) {
    case ULM_DT_U8: case ULM_DT_I8: return 1;
    case ULM_DT_U16: case ULM_DT_F16: return 2;
    case ULM_DT_U32: case ULM_DT_F32: return 4;
    case ULM_DT_I64: case ULM_DT_F64: return 8;
    default: return 0;
    }
}

/* Checks that a section's size matches its dtype and shape (rows x max(cols,1) elements). */
static int shape_ok(const ulm_section *s) {
    uint64_t cols = s->cols ? s->cols : 1;
    uint64_t es = dtype_size(s->dtype);
    if (es) return (uint64_t)s->rows * cols * es == s->size; /* rows, cols < 2^32: no overflow */
    if (s->dtype == ULM_DT_Q8_ROW) {
        uint64_t stride = (cols + 63) & ~(uint64_t)63;
        return (uint64_t)s->rows * (stride + 4) == s->size;
    }
    if (s->dtype == ULM_DT_STRTAB) return s->size >= 8 && ulm__rd32(s->data) == s->rows;
    return s->dtype == ULM_DT_BYTES;
}

/* Parses META: u32 count, then count x (u32 klen, u32 vlen, key, value), keys strictly sorted. */
static ulm_status parse_meta(ulm_bundle *b, const ulm_section *s, ulm_diag *diag) {
    const uint8_t *p = s->data;
    uint64_t n = s->size, at = 4;
    if (n < 4) return ulm__fail(diag, ULM_ERR_FORMAT, "META", s->offset, "metadata section is shorter than its count");
    uint32_t count = ulm__rd32(p);
    if (count > (n - 4) / 8 || count != s->rows)
        return ulm__fail(diag, ULM_ERR_FORMAT, "META", s->offset, "metadata count %u does not fit the section", count);
    b->meta = ulm__calloc(b->alloc, count ? count : 1, sizeof *b->meta);
    if (!b->meta) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < count; i++) {
        if (n - at < 8) return ulm__fail(diag, ULM_ERR_FORMAT, "META", s->offset + at, "metadata entry %u is cut off", i);
        uint32_t kl = ulm__rd32(p + at), vl = ulm__rd32(p + at + 4);
        at += 8;
        if (kl == 0 || kl > 255 || (uint64_t)kl + vl > n - at)
            return ulm__fail(diag, ULM_ERR_FORMAT, "META", s->offset + at, "metadata entry %u has bad lengths", i);
        const char *k = (const char *)p + at, *v = k + kl;
        for (uint32_t c = 0; c < kl; c++) {
            char ch = k[c];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
                return ulm__fail(diag, ULM_ERR_FORMAT, "META", s->offset + at, "metadata key %u has a bad character", i);
        }
        if (!ulm_utf8_valid(v, vl))
            return ulm__fail(diag, ULM_ERR_FORMAT, "META", s->offset + at + kl, "metadata value %u is not UTF-8", i);
        rmeta *m = &b->meta[i];
        m->key = ulm__alloc(b->alloc, kl + 1);
        m->value = ulm__alloc(b->alloc, (size_t)vl + 1);
        b->nmeta = i + 1;
        if (!m->key || !m->value) return ULM_ERR_NOMEM;
        memcpy(m->key, k, kl);
        m->key[kl] = 0;
        memcpy(m->value, v, vl);
        m->value[vl] = 0;
        if (i > 0 && strcmp(b->meta[i - 1].key, m->key) >= 0)
            return ulm__fail(diag, ULM_ERR_FORMAT, "META", s->offset + at, "metadata keys are not sorted and unique");
        at += (uint64_t)kl + vl;
    }
    if (at != n) return ulm__fail(diag, ULM_ERR_FORMAT, "META", s->offset + at, "metadata has trailing bytes");
    return ULM_OK;
}

/* Returns 1 when buf[from..to) is all zero bytes. */
static int zeros(const uint8_t *buf, uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; i++)
        if (buf[i]) return 0;
    return 1;
}

/* The checks of the header and table; fills b->sec. */
static ulm_status validate(ulm_bundle *b, int kind, uint32_t flags, ulm_diag *diag) {
    const uint8_t *p = b->buf;
    size_t len = b->len;
    static const uint8_t magic[8] = {0x89, 'U', 'L', 0, 0x0D, 0x0A, 0x1A, 0x0A};
    if (len < 8 || memcmp(p, magic, 3) != 0 || memcmp(p + 4, magic + 4, 4) != 0)
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, 0, "not a ulm file (bad magic bytes)");
    if (p[3] != kind)
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, 3, "this is a %s, not a %s", kind_name(p[3]), kind_name(kind));
    if (len < ULM_HEADER_SIZE)
        return ulm__fail(diag, ULM_ERR_TRUNCATED, NULL, len, "file is %zu bytes, shorter than the 64-byte header", len);
    if (ulm_crc32c(0, p, ULM__H_CRC) != ulm__rd32(p + ULM__H_CRC))
        return ulm__fail(diag, ULM_ERR_CHECKSUM, NULL, ULM__H_CRC, "header checksum mismatch (the header is damaged)");
    if (ulm__rd32(p + ULM__H_U32_PROBE) != ULM__U32_PROBE)
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, ULM__H_U32_PROBE, "byte-order probe mismatch (byte-swapped file)");
    if (ulm__rdf32(p + ULM__H_F32_PROBE) != ULM__F32_PROBE)
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, ULM__H_F32_PROBE, "float probe mismatch (foreign float encoding)");
    b->major = ulm__rd16(p + ULM__H_MAJOR);
    b->minor = ulm__rd16(p + ULM__H_MINOR);
    if (b->major > ULM_FORMAT_MAJOR)
        return ulm__fail(diag, ULM_ERR_VERSION, NULL, ULM__H_MAJOR,
                         "format version %d.%d is newer than this reader (%d.x): upgrade ulm", b->major, b->minor,
                         ULM_FORMAT_MAJOR);
    if (b->major < 1) return ulm__fail(diag, ULM_ERR_FORMAT, NULL, ULM__H_MAJOR, "format major version 0 is invalid");
    if (ulm__rd32(p + ULM__H_FLAGS) != 0)
        return ulm__fail(diag, ULM_ERR_VERSION, NULL, ULM__H_FLAGS, "unknown header flags 0x%x",
                         ulm__rd32(p + ULM__H_FLAGS));
    if (ulm__rd32(p + ULM__H_QUANT_VERSION) > ULM__QUANT_VERSION)
        return ulm__fail(diag, ULM_ERR_VERSION, NULL, ULM__H_QUANT_VERSION, "quantisation version %u is newer than %u",
                         ulm__rd32(p + ULM__H_QUANT_VERSION), ULM__QUANT_VERSION);
    uint32_t header_size = ulm__rd32(p + ULM__H_HEADER_SIZE);
    uint64_t file_size = ulm__rd64(p + ULM__H_FILE_SIZE);
    if (header_size < ULM_HEADER_SIZE || header_size % 8 || header_size > file_size)
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, ULM__H_HEADER_SIZE, "bad header size %u", header_size);
    if ((uint64_t)len < file_size)
        return ulm__fail(diag, ULM_ERR_TRUNCATED, NULL, len, "file is truncated: %zu of %llu bytes present", len,
                         (unsigned long long)file_size);
    if ((uint64_t)len > file_size)
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, file_size, "%llu unexpected bytes after the end of the file",
                         (unsigned long long)(len - file_size));
    uint32_t align = ulm__rd32(p + ULM__H_ALIGNMENT);
    if (align < 64 || align > (1u << 20) || (align & (align - 1)))
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, ULM__H_ALIGNMENT, "bad alignment %u", align);
    uint64_t table = ulm__rd64(p + ULM__H_TABLE_OFFSET);
    uint32_t count = ulm__rd32(p + ULM__H_SECTION_COUNT);
    if (table < header_size || table > file_size || count == 0 || count > (file_size - table) / ULM_SECTION_ENTRY_SIZE)
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, ULM__H_TABLE_OFFSET, "section table (%u entries) out of bounds", count);
    uint64_t table_end = table + (uint64_t)count * ULM_SECTION_ENTRY_SIZE;
    if (ulm_crc32c(0, p + table, (size_t)(table_end - table)) != ulm__rd32(p + ULM__H_TABLE_CRC))
        return ulm__fail(diag, ULM_ERR_CHECKSUM, NULL, table, "section table checksum mismatch");
    if (!zeros(p, ULM_HEADER_SIZE, header_size) || !zeros(p, header_size, table))
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, ULM_HEADER_SIZE, "non-zero bytes between header and section table");
    b->sec = ulm__calloc(b->alloc, count, sizeof *b->sec);
    if (!b->sec) return ULM_ERR_NOMEM;
    uint64_t prev_end = table_end;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + table + (uint64_t)i * ULM_SECTION_ENTRY_SIZE;
        ulm_section *s = &b->sec[i];
        memcpy(s->tag, e + ULM__S_TAG, 4);
        s->tag[4] = 0;
        for (int c = 0; c < 4; c++)
            if (!((s->tag[c] >= 'A' && s->tag[c] <= 'Z') || (s->tag[c] >= '0' && s->tag[c] <= '9')))
                return ulm__fail(diag, ULM_ERR_FORMAT, NULL, e - p + ULM__S_TAG, "section %u has an invalid tag", i);
        s->offset = ulm__rd64(e + ULM__S_OFFSET);
        s->size = ulm__rd64(e + ULM__S_SIZE);
        s->dtype = ulm__rd32(e + ULM__S_DTYPE);
        s->rows = ulm__rd32(e + ULM__S_ROWS);
        s->cols = ulm__rd32(e + ULM__S_COLS);
        s->version = ulm__rd16(e + ULM__S_VERSION);
        s->flags = ulm__rd16(e + ULM__S_FLAGS);
        s->crc32c = ulm__rd32(e + ULM__S_CRC);
        if (s->offset % align)
            return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "section is not aligned to %u bytes", align);
        if (s->offset < prev_end || s->offset > file_size || s->size > file_size - s->offset)
            return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "section overlaps another or runs past the end");
        if (!zeros(p, prev_end, s->offset))
            return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, prev_end, "non-zero padding before the section");
        prev_end = s->offset + s->size;
        if (s->flags & ~(uint16_t)ULM_SECTION_REQUIRED)
            return ulm__fail(diag, ULM_ERR_VERSION, s->tag, e - p + ULM__S_FLAGS, "unknown section flags 0x%x", s->flags);
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(b->sec[j].tag, s->tag, 4) == 0)
                return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "section tag appears twice");
        s->data = p + s->offset;
    }
    if (!zeros(p, prev_end, file_size))
        return ulm__fail(diag, ULM_ERR_FORMAT, NULL, prev_end, "non-zero bytes after the last section");
    for (uint32_t i = 0; i < count; i++) {
        ulm_section *s = &b->sec[i];
        if (ulm_crc32c(0, s->data, (size_t)s->size) != s->crc32c)
            return ulm__fail(diag, ULM_ERR_CHECKSUM, s->tag, s->offset, "section %s checksum mismatch (damaged data)", s->tag);
        if (s->dtype > ULM_DT_STRTAB) {
            if (s->flags & ULM_SECTION_REQUIRED)
                return ulm__fail(diag, ULM_ERR_VERSION, s->tag, s->offset, "required section has unknown dtype %u", s->dtype);
            continue;
        }
        if (!shape_ok(s))
            return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "section size %llu does not match its type and shape",
                             (unsigned long long)s->size);
        if (s->dtype == ULM_DT_STRTAB && (flags & ULM_OPEN_DEEP)) {
            ulm_strtab t;
            if (ulm_strtab_view(s->data, s->size, &t) != ULM_OK)
                return ulm__fail(diag, ULM_ERR_FORMAT, s->tag, s->offset, "malformed string table");
        }
    }
    b->nsec = count;
    if (memcmp(b->sec[0].tag, "META", 4) != 0 || b->sec[0].dtype != ULM_DT_BYTES)
        return ulm__fail(diag, ULM_ERR_FORMAT, b->sec[0].tag, b->sec[0].offset, "the first section must be META");
    return parse_meta(b, &b->sec[0], diag);
}

ulm_status ulm_bundle_open(const void *buf, size_t len, int kind, uint32_t flags, const ulm_allocator *alloc,
                           ulm_bundle **out, ulm_diag *diag) {
    if (diag) memset(diag, 0, sizeof *diag);
    if (!out) return ULM_ERR_MISUSE;
    *out = NULL;
    if (!buf && len) return ulm__fail(diag, ULM_ERR_MISUSE, NULL, 0, "NULL buffer");
    ulm_bundle *b = ulm__calloc(alloc, 1, sizeof *b);
    if (!b) return ulm__fail(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    b->alloc = alloc;
    b->buf = buf;
    b->len = len;
    ulm_status s = validate(b, kind, flags, diag);
    if (s != ULM_OK) {
        if (s == ULM_ERR_NOMEM) ulm__fail(diag, s, NULL, 0, "out of memory");
        ulm_bundle_close(b);
        return s;
    }
    *out = b;
    return ULM_OK;
}

void ulm_bundle_close(ulm_bundle *b) {
    if (!b) return;
    for (uint32_t i = 0; i < b->nmeta; i++) {
        ulm__free(b->alloc, b->meta[i].key, 0);
        ulm__free(b->alloc, b->meta[i].value, 0);
    }
    ulm__free(b->alloc, b->meta, 0);
    ulm__free(b->alloc, b->sec, 0);
    ulm__free(b->alloc, b, sizeof *b);
}

void ulm_bundle_version(const ulm_bundle *b, int *major, int *minor) {
    if (major) *major = b->major;
    if (minor) *minor = b->minor;
}

uint32_t ulm_bundle_section_count(const ulm_bundle *b) { return b->nsec; }

ulm_status ulm_bundle_section_at(const ulm_bundle *b, uint32_t i, ulm_section *out) {
    if (i >= b->nsec) return ULM_ERR_RANGE;
    *out = b->sec[i];
    return ULM_OK;
}

ulm_status ulm_bundle_find(const ulm_bundle *b, const char *tag, ulm_section *out) {
    for (uint32_t i = 0; i < b->nsec; i++)
        if (strncmp(b->sec[i].tag, tag, 4) == 0 && strlen(tag) == 4) {
            if (out) *out = b->sec[i];
            return ULM_OK;
        }
    return ULM_ERR_NOT_FOUND;
}

ulm_status ulm_bundle_check_known(const ulm_bundle *b, const char *const *known, ulm_diag *diag) {
    for (uint32_t i = 0; i < b->nsec; i++) {
        if (!(b->sec[i].flags & ULM_SECTION_REQUIRED)) continue;
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++) ok = strncmp(*k, b->sec[i].tag, 4) == 0;
        if (!ok)
            return ulm__fail(diag, ULM_ERR_VERSION, b->sec[i].tag, b->sec[i].offset,
                             "required section %s is unknown to this reader: upgrade ulm", b->sec[i].tag);
    }
    return ULM_OK;
}

uint32_t ulm_bundle_meta_count(const ulm_bundle *b) { return b->nmeta; }

void ulm_bundle_meta_at(const ulm_bundle *b, uint32_t i, const char **key, const char **value) {
    *key = i < b->nmeta ? b->meta[i].key : NULL;
    *value = i < b->nmeta ? b->meta[i].value : NULL;
}

const char *ulm_bundle_meta(const ulm_bundle *b, const char *key) {
    /* Keys are sorted: binary search. */
    uint32_t lo = 0, hi = b->nmeta;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->meta[mid].key, key);
        if (c == 0) return b->meta[mid].value;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
