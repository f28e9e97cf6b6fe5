/* section_need.c: one lookup-and-check of a bundle section for every model loader. */
#include <stdio.h>

#include "ulm/ulm_events.h"
#include "ulm_impl.h"
#include "ulm_model_impl.h"

/* v in decimal, or "any" for ULM_NONE, into buf (12 bytes). */
static const char *dim(uint32_t v, char *buf) {
    if (v == ULM_NONE) return "any";
    snprintf(buf, 12, "%u", v);
    return buf;
}

ulm_status ulm__section_need(const ulm_bundle *b, const char *tag, ulm__want w, const char *needed_by, ulm_section *s,
                             int *found, ulm_diag *diag) {
    int have = ulm_bundle_find(b, tag, s) == ULM_OK;
    if (found) *found = have;
    if (!have) {
        memset(s, 0, sizeof *s);
        return needed_by ? ulm__fail(diag, ULM_ERR_FORMAT, tag, 0, "%s needs section %s", needed_by, tag) : ULM_OK;
    }
    if ((s->dtype == w.dtype || (w.alt != ULM_NONE && s->dtype == w.alt)) && (w.rows == ULM_NONE || s->rows == w.rows) &&
        (w.cols == ULM_NONE || s->cols == w.cols))
        return ULM_OK;
    char r[12], c[12];
    return ulm__fail(diag, ULM_ERR_FORMAT, tag, s->offset, "section %s has dtype %u and shape %u x %u, expected dtype %u and %s x %s",
                     tag, s->dtype, s->rows, s->cols, w.dtype, dim(w.rows, r), dim(w.cols, c));
}
