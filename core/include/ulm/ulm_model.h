/* ulm_model.h: a loaded model bundle (.ulm) and its item catalogue.
 *
 * A bundle carries the item catalogue (ids, optional names and prices), the models the
 * trainer put in it (foundation: a recency-weighted popularity recommender) and, unless
 * the trainer was told to leave it out, a table of known users' purchase histories.
 *
 *     ulm_model *m; ulm_diag d;
 *     ulm_load_opts o = ulm_load_opts_init();
 *     if (ulm_model_load(bytes, len, &o, &m, &d) != ULM_OK) { report(d.message); return; }
 *     uint32_t item;
 *     if (ulm_model_item_find(m, "85123A", 6, &item) == ULM_OK) ...
 *     ulm_model_free(m);
 *
 * Required sections (foundation): META, ITID (STRTAB item ids), POPR (f32 popularity
 * score per item). Optional: ITNM (STRTAB names), ITPR (f32 price), ITDN (u8 per item: never
 * recommend), USID (STRTAB user
 * ids) + USHI (u32 CSR: offsets[n_users+1] then item indices). Layouts: docs/format.md.
 */
#ifndef ULM_MODEL_H
#define ULM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ulm_model ulm_model;

#define ULM_LOAD_DEEP 0x1u   /* check semantics too: finite scores, histories index valid items */
#define ULM_LOAD_BORROW 0x2u /* keep pointers into the caller's buffer instead of copying it */

typedef struct ulm_load_opts {
    uint32_t struct_size; /* sizeof(ulm_load_opts), set by ulm_load_opts_init */
    uint32_t flags;       /* ULM_LOAD_* */
    const ulm_allocator *alloc;
} ulm_load_opts;

/* Defaults: deep checks on, buffer copied, malloc. @since 0.1 */
ULM_API ulm_load_opts ulm_load_opts_init(void);
/* Validates buf[0..len) and loads it. On success *out owns its memory (with ULM_LOAD_BORROW
 * it points into buf, which must outlive it). On failure *out is NULL and diag, if non-NULL,
 * names the section and offset. opts may be NULL (defaults). Allocates. @since 0.1 */
ULM_API ulm_status ulm_model_load(const void *buf, size_t len, const ulm_load_opts *opts, ulm_model **out,
                                  ulm_diag *diag);
/* NULL is a no-op. */
ULM_API void ulm_model_free(ulm_model *m);

/* Metadata value by key ("model.recs", "train.as_of", ...) or NULL. Owned by the model. */
ULM_API const char *ulm_model_meta(const ulm_model *m, const char *key);

/* Catalogue. Item indices are 0..item_count-1. */
ULM_API uint32_t ulm_model_item_count(const ulm_model *m);
/* Item id string (not NUL-terminated) and its length; NULL if idx is out of range. */
ULM_API const char *ulm_model_item_id(const ulm_model *m, uint32_t idx, uint32_t *len);
/* Item name or NULL when the bundle has none. */
ULM_API const char *ulm_model_item_name(const ulm_model *m, uint32_t idx, uint32_t *len);
/* Item price, NaN when unknown. */
ULM_API float ulm_model_item_price(const ulm_model *m, uint32_t idx);
/* Finds an item by id; ULM_ERR_NOT_FOUND if unknown. Never allocates. */
ULM_API ulm_status ulm_model_item_find(const ulm_model *m, const char *id, size_t len, uint32_t *idx);

/* Known users (0 when the bundle has no user table). */
ULM_API uint32_t ulm_model_user_count(const ulm_model *m);
ULM_API const char *ulm_model_user_id(const ulm_model *m, uint32_t idx, uint32_t *len);
ULM_API ulm_status ulm_model_user_find(const ulm_model *m, const char *id, size_t len, uint32_t *idx);
/* The user's purchased items (item indices, ascending), pointer owned by the model. */
ULM_API const uint32_t *ulm_model_user_history(const ulm_model *m, uint32_t idx, uint32_t *n);

#ifdef __cplusplus
}
#endif
#endif
