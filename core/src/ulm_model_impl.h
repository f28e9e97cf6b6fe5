/* ulm_model_impl.h: the loaded model's layout, shared by model.c and the scorers (recs.c). */
#ifndef ULM_MODEL_IMPL_H
#define ULM_MODEL_IMPL_H

#include "ulm/ulm_bundle.h"
#include "ulm/ulm_dict.h"
#include "ulm/ulm_model.h"

/* The lookup index of an id string table: open addressing over the strings where they lie in
 * the bundle (no copy), slot = index + 1, 0 = empty, load at most 1/2 (model.c). */
typedef struct ulm__id_index {
    uint32_t *slots;
    uint32_t mask; /* slots - 1 */
} ulm__id_index;

struct ulm_model {
    const ulm_allocator *alloc;
    uint8_t *owned; /* the copy of the bundle bytes, unless borrowed */
    size_t owned_len;
    ulm_bundle *bundle;
    uint32_t n_items, n_users;
    ulm_strtab item_ids, item_names, user_ids;
    bool has_names;
    const uint8_t *prices;  /* f32[n_items] little-endian or NULL */
    const uint8_t *pop;     /* f32[n_items] */
    const uint8_t *deny;    /* u8[n_items], non-zero = never recommend; or NULL */
    float *pop_score;       /* decoded popularity scores */
    uint32_t *pop_order;    /* item indices, best first */
    const uint8_t *user_off;/* u32[n_users+1] */
    uint32_t *user_items;   /* decoded, ascending per user */
    ulm__id_index item_index, user_index; /* over item_ids, user_ids */
    /* churn (core/src/churn_model.c) */
    struct ulm_churn *churn;    /* NULL when the bundle has no CHRN section */
    uint32_t churn_set;         /* ULM_CHURN_SET_* */
    ulm_strtab churn_names, churn_cats;
    uint32_t *churn_cat_off;    /* per feature: its first category text in churn_cats */
    struct ulm_profiler *profile; /* profiles, segments, stages, CLV (profile_load.c), or NULL */
    struct ulm__recs *recs; /* the trained recommender (recs_load.c), NULL = popularity only */
    float *cycle;           /* [n_items] repurchase cycle in days, 0 = none (RCRP, recs_rules.c), or NULL */
    struct ulm__offers *offers; /* retention offers (NBAO/NBAI, offers_load.c), or NULL */
    uint8_t *ids_image;         /* ITIC decoded to a STRTAB image that item_ids views (model_ids.c), or NULL */
    size_t ids_image_len;
};

/* Decodes the front-coded ids of ITIC into m->ids_image; *image gets s with the image as its data. */
ulm_status ulm__ids_decode(ulm_model *m, const ulm_section *s, ulm_section *image, ulm_diag *diag);

/* Loads and checks the churn sections (churn_model.c); frees what it loaded. */
ulm_status ulm__churn_load_parts(ulm_model *m, uint32_t flags, ulm_diag *diag);
void ulm__churn_model_free(ulm_model *m);

/* Loads RCHD and its sections when present (recs_load.c); frees them (NULL-safe). */
ulm_status ulm__recs_load(ulm_model *m, uint32_t flags, ulm_diag *diag);
void ulm__recs_free(ulm_model *m);
ulm_status ulm__offers_load(ulm_model *m, ulm_diag *diag);
void ulm__offers_free(ulm_model *m);
/* Loads and checks RCRP when present (recs_rules.c); frees it (NULL-safe). */
ulm_status ulm__recs_rules_load(ulm_model *m, uint32_t flags, ulm_diag *diag);
void ulm__recs_rules_free(ulm_model *m);

/* What a loader expects of a section: dtype (or alt; ULM_NONE = no alternative), rows and cols
 * (ULM_NONE = any). The container has already checked that its size fits its dtype and shape. */
typedef struct ulm__want {
    uint32_t dtype, alt, rows, cols;
} ulm__want;

/* Finds section tag and checks it against w (section_need.c). Absent: ERR_FORMAT "<needed_by> needs
 * section <tag>" when needed_by is not NULL, else ULM_OK with *s zeroed; *found (when not NULL) says
 * which. A section of another dtype or shape is ERR_FORMAT naming both. */
ulm_status ulm__section_need(const ulm_bundle *b, const char *tag, ulm__want w, const char *needed_by, ulm_section *s,
                             int *found, ulm_diag *diag);

#endif
