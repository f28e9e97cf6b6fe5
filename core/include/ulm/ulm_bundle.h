/* ulm_bundle.h: the ulm container file (model bundles and event stores), read and write.
 *
 * A container is a 64-byte header, aligned sections and a section table, each section
 * with its own CRC32C (byte layout: docs/format.md). Model bundles ('.ulm', kind
 * ULM_KIND_MODEL) and event stores (kind ULM_KIND_STORE) share this container; the
 * kind byte in the magic keeps one from being read as the other.
 *
 *     ulm_bundle *b; ulm_diag d;
 *     if (ulm_bundle_open(buf, len, ULM_KIND_MODEL, 0, &b, &d) != ULM_OK) return d.status;
 *     ulm_section s;
 *     if (ulm_bundle_find(b, "POPR", &s) == ULM_OK) use(s.data, s.size);
 *     const char *v = ulm_bundle_meta(b, "model.recs");
 *     ulm_bundle_close(b);
 *
 * Writing: ulm_writer_new, ulm_writer_meta / ulm_writer_section, ulm_writer_finish.
 * Output is deterministic: sorted metadata, zeroed padding, no clock.
 */
#ifndef ULM_BUNDLE_H
#define ULM_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fourth magic byte: what the container holds. */
#define ULM_KIND_MODEL 'M'
#define ULM_KIND_STORE 'S'

/* Container format version written by this library (per kind, see docs/format.md). */
#define ULM_FORMAT_MAJOR 1
#define ULM_FORMAT_MINOR 0

#define ULM_HEADER_SIZE 64
#define ULM_SECTION_ENTRY_SIZE 40
#define ULM_ALIGNMENT 64

/* On-disk section flags. */
#define ULM_SECTION_REQUIRED 0x1u

/* On-disk dtypes (frozen). */
typedef enum ulm_dtype {
    ULM_DT_BYTES = 0,  /* opaque bytes, layout defined by the tag */
    ULM_DT_U8 = 1,
    ULM_DT_I8 = 2,
    ULM_DT_U16 = 3,
    ULM_DT_U32 = 4,
    ULM_DT_I64 = 5,
    ULM_DT_F32 = 6,
    ULM_DT_F64 = 7,
    ULM_DT_F16 = 8,
    ULM_DT_Q8_ROW = 9, /* int8 rows, stride padded to 64 bytes, f32 scale per row */
    ULM_DT_STRTAB = 10 /* u32 count, u32 offsets[count+1], UTF-8 bytes */
} ulm_dtype;

/* Open flags. */
#define ULM_OPEN_DEEP 0x1u /* also check section semantics the container knows (string tables) */

typedef struct ulm_bundle ulm_bundle;

/* A section as found in an open container. data points into the caller's buffer. */
typedef struct ulm_section {
    char tag[5];        /* NUL-terminated */
    uint32_t dtype;     /* ulm_dtype */
    uint32_t rows, cols;
    uint16_t version, flags;
    uint32_t crc32c;
    uint64_t offset, size;
    const uint8_t *data;
} ulm_section;

/* Validates buf[0..len) as a container of the given kind: header, probes, version, section
 * table bounds, alignment, ordering, zero padding, header and section CRC32C, metadata.
 * Unknown optional sections are kept (listed) but not interpreted; an unknown REQUIRED
 * section fails with ULM_ERR_VERSION only when the caller asks via ulm_bundle_check_known.
 * The handle borrows buf: buf must outlive it. On failure *out is NULL and diag says why.
 * Allocates the handle (alloc may be NULL). Thread-safe for distinct handles. @since 0.1 */
ULM_API ulm_status ulm_bundle_open(const void *buf, size_t len, int kind, uint32_t flags,
                                   const ulm_allocator *alloc, ulm_bundle **out, ulm_diag *diag);
/* Frees the handle, not the buffer. NULL is a no-op. @since 0.1 */
ULM_API void ulm_bundle_close(ulm_bundle *b);

/* Version numbers from the header. @since 0.1 */
ULM_API void ulm_bundle_version(const ulm_bundle *b, int *major, int *minor);
/* Number of sections. @since 0.1 */
ULM_API uint32_t ulm_bundle_section_count(const ulm_bundle *b);
/* Fills *out with section i (0-based, in file order). ULM_ERR_RANGE past the end. @since 0.1 */
ULM_API ulm_status ulm_bundle_section_at(const ulm_bundle *b, uint32_t i, ulm_section *out);
/* Finds the first section with this 4-character tag; ULM_ERR_NOT_FOUND if none. @since 0.1 */
ULM_API ulm_status ulm_bundle_find(const ulm_bundle *b, const char *tag, ulm_section *out);
/* Fails with ULM_ERR_VERSION (diag names the tag) if a REQUIRED section's tag is not in the
 * NULL-terminated list known[]: a newer writer added something this reader cannot ignore. @since 0.1 */
ULM_API ulm_status ulm_bundle_check_known(const ulm_bundle *b, const char *const *known, ulm_diag *diag);

/* Metadata (section META): number of key/value pairs, pair i, or a value by key.
 * Strings are NUL-terminated copies owned by the handle. NULL when absent. @since 0.1 */
ULM_API uint32_t ulm_bundle_meta_count(const ulm_bundle *b);
ULM_API void ulm_bundle_meta_at(const ulm_bundle *b, uint32_t i, const char **key, const char **value);
ULM_API const char *ulm_bundle_meta(const ulm_bundle *b, const char *key);

/* A string table section (dtype STRTAB), validated by ulm_strtab_view. */
typedef struct ulm_strtab {
    uint32_t count;
    const uint8_t *offsets; /* count+1 little-endian u32, unaligned-safe access via ulm_strtab_get */
    const char *bytes;
    uint32_t bytes_len;
} ulm_strtab;
/* Checks that data[0..size) is a well-formed string table (monotonic offsets in bounds,
 * valid UTF-8) and fills *out pointing into data. @since 0.1 */
ULM_API ulm_status ulm_strtab_view(const void *data, uint64_t size, ulm_strtab *out);
/* String i of a viewed table (not NUL-terminated); *len gets its length. @since 0.1 */
ULM_API const char *ulm_strtab_get(const ulm_strtab *t, uint32_t i, uint32_t *len);

/* ---- writing ---- */
typedef struct ulm_writer ulm_writer;

/* Starts a container of the given kind. Allocates. @since 0.1 */
ULM_API ulm_status ulm_writer_new(int kind, const ulm_allocator *alloc, ulm_writer **out);
/* Sets metadata key (ASCII, no NUL) to value (UTF-8); replaces an earlier value. Copies both. */
ULM_API ulm_status ulm_writer_meta(ulm_writer *w, const char *key, const char *value);
/* Appends a section; copies data[0..size). tag is exactly 4 ASCII characters, unique. */
ULM_API ulm_status ulm_writer_section(ulm_writer *w, const char *tag, ulm_dtype dtype, uint32_t rows,
                                      uint32_t cols, uint16_t version, uint16_t flags, const void *data,
                                      uint64_t size);
/* Overrides the header version numbers (tests write "future" files with this). */
ULM_API void ulm_writer_set_version(ulm_writer *w, uint16_t major, uint16_t minor);
/* Serialises everything into one new buffer (*buf, *len), owned by the caller and released
 * with ulm_writer_buffer_free. The writer stays valid and can be freed afterwards. @since 0.1 */
ULM_API ulm_status ulm_writer_finish(ulm_writer *w, uint8_t **buf, size_t *len);
ULM_API void ulm_writer_buffer_free(ulm_writer *w, uint8_t *buf, size_t len);
/* NULL is a no-op. */
ULM_API void ulm_writer_free(ulm_writer *w);

/* Builds a STRTAB section body from n strings (lens[i] bytes each) into one new buffer owned by
 * the caller (free()). Used by writers of item/user id tables. @since 0.1 */
ULM_API ulm_status ulm_strtab_build(const char *const *strs, const uint32_t *lens, uint32_t n,
                                    uint8_t **buf, size_t *len);

/* CRC32C (Castagnoli) of data, continuing from crc (start with 0). @since 0.1 */
ULM_API uint32_t ulm_crc32c(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
