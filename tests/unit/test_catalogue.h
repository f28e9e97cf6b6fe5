/* test_catalogue.h: the catalogue sections every test bundle starts with (header-only, for the unit tests). */
#ifndef ULM_TEST_CATALOGUE_H
#define ULM_TEST_CATALOGUE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm_bundle.h"

/* Writes ITID (the n ids strs[i] of lens[i] bytes) and POPR (pop[0..n)) into w. */
static inline ulm_status ulm_test_catalogue(ulm_writer *w, const char *const *strs, const uint32_t *lens, uint32_t n,
                                            const float *pop) {
    uint8_t *tab;
    size_t tlen;
    ulm_status s = ulm_strtab_build(strs, lens, n, &tab, &tlen);
    if (s != ULM_OK) return s;
    s = ulm_writer_section(w, "ITID", ULM_DT_STRTAB, n, 0, 1, ULM_SECTION_REQUIRED, tab, tlen);
    free(tab);
    if (s == ULM_OK) s = ulm_writer_section(w, "POPR", ULM_DT_F32, n, 0, 1, ULM_SECTION_REQUIRED, pop, (size_t)n * 4);
    return s;
}

/* The ids "i0".."i<n-1>" in names (8 bytes each), with strs and lens pointing at them. */
static inline void ulm_test_item_names(uint32_t n, char (*names)[8], const char **strs, uint32_t *lens) {
    for (uint32_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "i%u", i);
        strs[i] = names[i], lens[i] = (uint32_t)strlen(names[i]);
    }
}

#endif
