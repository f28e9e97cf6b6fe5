/* shim.c: the raw export layer of both wasm builds (Emscripten and the WASI reactor).
 *
 * Every export takes and returns plain 32-bit integers and pointers into wasm memory, so
 * ulm.mjs can call it the same way on either runtime. Nothing here keeps global state:
 * a load reports its status and diagnostic through a caller-owned ulm_wasm_diag, and every
 * other call is answered through its return value or caller-owned out-pointers.
 *
 * The export list is wasm/exports.txt (one name per line); CMake turns it into
 * EXPORTED_FUNCTIONS for Emscripten and -Wl,--export=... for WASI.
 *
 * Conventions: a function returning ulm_status (int32) writes its result through an
 * out-pointer only on ULM_OK. String results are (pointer, length) pairs into the model,
 * valid until ulm_wasm_free; ulm_wasm_meta returns a NUL-terminated string.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm_model.h"
#include "ulm/ulm_recs.h"
#include "ulm/ulm_status.h"
#include "shim.h"

/* What a load reports back, at fixed offsets that ulm.mjs reads (DIAG_* there):
 *
 * | Off | Size | Field                                         |
 * |-----|------|-----------------------------------------------|
 * | 0   | 4    | i32 status (0 = OK)                           |
 * | 4   | 4    | u32 byte offset at fault, low half            |
 * | 8   | 4    | u32 byte offset at fault, high half           |
 * | 12  | 8    | section tag, NUL-terminated ("" when none)    |
 * | 20  | 200  | message, NUL-terminated UTF-8                 |
 */
typedef struct ulm_wasm_diag {
    int32_t status;
    uint32_t offset_lo;
    uint32_t offset_hi;
    char section[8];
    char message[200];
} ulm_wasm_diag;

_Static_assert(offsetof(ulm_wasm_diag, offset_lo) == 4, "ulm.mjs reads offset_lo at 4");
_Static_assert(offsetof(ulm_wasm_diag, section) == 12, "ulm.mjs reads section at 12");
_Static_assert(offsetof(ulm_wasm_diag, message) == 20, "ulm.mjs reads message at 20");
_Static_assert(sizeof(ulm_wasm_diag) == 220, "ulm.mjs allocates 220 bytes");


/* Bounded copy that always NUL-terminates, for the fixed-size diag fields. */
static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Writes a load outcome into the caller's struct (which may be NULL). */
static void report(ulm_wasm_diag *out, ulm_status s, const ulm_diag *d) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->status = (int32_t)s;
    if (s == ULM_OK) return;
    if (d) {
        out->offset_lo = (uint32_t)d->offset;
        out->offset_hi = (uint32_t)(d->offset >> 32);
        copy_str(out->section, sizeof out->section, d->section);
        copy_str(out->message, sizeof out->message, d->message);
    }
    if (!out->message[0]) copy_str(out->message, sizeof out->message, ulm_status_str((int)s));
}

/* Size of the struct that ulm_wasm_load fills, so JS can check the layout it assumes. */
uint32_t ulm_wasm_diag_size(void) { return (uint32_t)sizeof(ulm_wasm_diag); }

/* Allocates len bytes aligned to the bundle alignment (64), for a bundle to hand to
 * ulm_wasm_load; rows inside then keep the alignment the format promises. 0 on failure.
 * A plain malloc with room to align, the shift (1..64) kept in the byte before the returned address
 * for bytes_free: emmalloc's aligned_alloc grows the heap by twice a large block when the heap's top is
 * not aligned (linear memory 2x the bundle instead of 1.35x, depending on the size of static data). */
void *ulm_wasm_bytes_alloc(uint32_t len) {
    size_t n = ((size_t)len + 63) & ~(size_t)63;
    uint8_t *p = malloc(n + 64);
    if (!p) return NULL;
    uint8_t *a = (uint8_t *)(((uintptr_t)p + 64) & ~(uintptr_t)63);
    a[-1] = (uint8_t)(a - p);
    return a;
}

/* Frees what ulm_wasm_bytes_alloc returned (NULL is a no-op). */
static void bytes_free(void *bytes) {
    if (bytes) free((uint8_t *)bytes - ((uint8_t *)bytes)[-1]);
}

/* Loads a bundle from bytes[0..len), which must come from ulm_wasm_bytes_alloc: the model takes them over
 * (it borrows them instead of copying, and frees them with the model); on failure they are
 * freed at once. Deep checks are on. Returns the handle, or 0 with out->status != 0. */
ulm_wasm_model *ulm_wasm_load(void *bytes, uint32_t len, ulm_wasm_diag *out) {
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_wasm_model *h = malloc(sizeof *h);
    if (!h) {
        bytes_free(bytes);
        report(out, ULM_ERR_NOMEM, NULL);
        return NULL;
    }
    ulm_load_opts o = ulm_load_opts_init();
    o.flags |= ULM_LOAD_DEEP | ULM_LOAD_BORROW;
    ulm_status s = bytes ? ulm_model_load(bytes, len, &o, &h->model, &d) : ULM_ERR_MISUSE;
    if (s != ULM_OK) {
        bytes_free(bytes);
        free(h);
        report(out, s, bytes ? &d : NULL);
        return NULL;
    }
    h->bytes = bytes;
    report(out, ULM_OK, NULL);
    return h;
}

/* Frees the model and its bytes. 0 is a no-op. */
void ulm_wasm_free(ulm_wasm_model *h) {
    if (!h) return;
    ulm_model_free(h->model);
    bytes_free(h->bytes);
    free(h);
}

uint32_t ulm_wasm_item_count(const ulm_wasm_model *h) { return h ? ulm_model_item_count(h->model) : 0; }
uint32_t ulm_wasm_user_count(const ulm_wasm_model *h) { return h ? ulm_model_user_count(h->model) : 0; }

/* Item id of index idx; its byte length goes to *len. 0 when out of range. */
const char *ulm_wasm_item_id(const ulm_wasm_model *h, uint32_t idx, uint32_t *len) {
    if (!h || !len) return NULL;
    return ulm_model_item_id(h->model, idx, len);
}

/* Item name of index idx (length in *len), or 0 when the bundle has no names. */
const char *ulm_wasm_item_name(const ulm_wasm_model *h, uint32_t idx, uint32_t *len) {
    if (!h || !len) return NULL;
    return ulm_model_item_name(h->model, idx, len);
}

/* User id of index idx (length in *len), 0 when out of range. */
const char *ulm_wasm_user_id(const ulm_wasm_model *h, uint32_t idx, uint32_t *len) {
    if (!h || !len) return NULL;
    return ulm_model_user_id(h->model, idx, len);
}

/* Looks an item up by its id bytes id[0..len); the index goes to *idx. */
int32_t ulm_wasm_item_find(const ulm_wasm_model *h, const char *id, uint32_t len, uint32_t *idx) {
    if (!h || !idx || (!id && len)) return ULM_ERR_MISUSE;
    return (int32_t)ulm_model_item_find(h->model, id ? id : "", len, idx);
}

/* Maps n item ids, packed back to back in ids[] with byte lengths lens[0..n), to item indices
 * in out[] (room for n), skipping unknown ids; returns how many were found. One call per
 * history instead of one per id. */
uint32_t ulm_wasm_items_find(const ulm_wasm_model *h, const char *ids, const uint32_t *lens, uint32_t n,
                             uint32_t *out) {
    if (!h || !lens || !out) return 0;
    uint32_t found = 0;
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (lens[i] && !ids) return found;
        if (ulm_model_item_find(h->model, lens[i] ? ids + at : "", lens[i], &out[found]) == ULM_OK) found++;
        at += lens[i];
    }
    return found;
}

/* Looks a user up by id bytes; the index goes to *idx. ULM_ERR_NOT_FOUND without a user table. */
int32_t ulm_wasm_user_find(const ulm_wasm_model *h, const char *id, uint32_t len, uint32_t *idx) {
    if (!h || !idx || (!id && len)) return ULM_ERR_MISUSE;
    return (int32_t)ulm_model_user_find(h->model, id ? id : "", len, idx);
}

/* The history (ascending item indices) of user idx; the count goes to *n. May be passed
 * straight to ulm_wasm_topk. 0 with *n == 0 when idx is out of range. */
const uint32_t *ulm_wasm_user_history(const ulm_wasm_model *h, uint32_t idx, uint32_t *n) {
    if (!n) return NULL;
    *n = 0;
    if (!h || idx >= ulm_model_user_count(h->model)) return NULL;
    return ulm_model_user_history(h->model, idx, n);
}

/* Metadata value for the NUL-terminated key, or 0 when absent. */
const char *ulm_wasm_meta(const ulm_wasm_model *h, const char *key) {
    if (!h || !key) return NULL;
    return ulm_model_meta(h->model, key);
}

/* Top-k items not in hist[0..n_hist) into items[]/scores[] (caller-owned, room for k
 * each), their number into *n_out. Never allocates. */
int32_t ulm_wasm_topk(const ulm_wasm_model *h, const uint32_t *hist, uint32_t n_hist, uint32_t k, uint32_t *items,
                      float *scores, uint32_t *n_out) {
    if (!h || !n_out || (!hist && n_hist) || (k && (!items || !scores))) return ULM_ERR_MISUSE;
    return (int32_t)ulm_recs_topk(h->model, hist, n_hist, k, items, scores, n_out);
}
