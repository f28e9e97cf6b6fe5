/* profile_items.c: a profiler without per-item data (edge bundles: `ulm train --profile-items none`
 * leaves PFCT..PFWI out). Every item has no category, no reference price and no keywords, so the
 * profile features that need them (distinct categories, discount share, keywords) stay undefined. */
#include <math.h>

#include "profile_impl.h"
#include "ulm/ulm_events.h"
#include "ulm_impl.h"

void ulm__profiler_free_item_data(ulm_profiler *p) {
    const ulm_allocator *a = p->alloc;
    ulm__free(a, p->item_cat, 0);
    ulm__free(a, p->item_ref, 0);
    ulm__free(a, p->word_off, 0);
    ulm__free(a, p->word_ids, 0);
    ulm__free(a, p->idf, 0);
    p->item_cat = NULL, p->item_ref = NULL, p->word_off = NULL, p->word_ids = NULL, p->idf = NULL;
    ulm_dict_free(&p->cats);
    ulm_dict_free(&p->vocab);
}

ulm_status ulm__profiler_drop_item_data(ulm_profiler *p) {
    const ulm_allocator *a = p->alloc;
    uint32_t ni = p->n_items;
    ulm__profiler_free_item_data(p);
    ulm_dict_init(&p->cats);
    ulm_dict_init(&p->vocab);
    p->item_cat = ulm__alloc(a, ((size_t)ni + 1) * sizeof *p->item_cat);
    p->item_ref = ulm__alloc(a, ((size_t)ni + 1) * sizeof *p->item_ref);
    p->word_off = ulm__calloc(a, (size_t)ni + 1, sizeof *p->word_off);
    p->word_ids = ulm__alloc(a, sizeof *p->word_ids);
    p->idf = ulm__alloc(a, sizeof *p->idf);
    if (!p->item_cat || !p->item_ref || !p->word_off || !p->word_ids || !p->idf) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < ni; i++) p->item_cat[i] = ULM_NONE, p->item_ref[i] = NAN;
    p->no_item_data = 1;
    return ULM_OK;
}
