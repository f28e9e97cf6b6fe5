/* status.c: names and descriptions of status codes, from the one list in ulm_status.h. */
#include <stdio.h>

#include "ulm_impl.h"
#include "ulm/ulm_status.h"

const char *ulm_status_name(int status) {
    switch (status) {
#define ULM__STATUS_NAME(name, value, text) case value: return #name;
        ULM_STATUS_LIST(ULM__STATUS_NAME)
#undef ULM__STATUS_NAME
    }
    return "UNKNOWN";
}

const char *ulm_status_str(int status) {
    switch (status) {
#define ULM__STATUS_TEXT(name, value, text) case value: return text;
        ULM_STATUS_LIST(ULM__STATUS_TEXT)
#undef ULM__STATUS_TEXT
    }
    return "unknown status";
}

ulm_status ulm_diag_set(ulm_diag *diag, ulm_status status, const char *section, uint64_t offset, const char *fmt,
                        ...) {
    if (!diag) return status;
    diag->status = (int)status;
    diag->offset = offset;
    diag->section[0] = 0;
    if (section) {
        size_t i = 0;
        for (; i < 4 && section[i]; i++) diag->section[i] = (section[i] >= 32 && section[i] < 127) ? section[i] : '?';
        diag->section[i] = 0;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diag->message, sizeof diag->message, fmt, ap);
    va_end(ap);
    return status;
}

/* Default allocation goes to libc; a caller-supplied allocator replaces all three calls. */
#include <stdlib.h>
void *ulm__alloc(const ulm_allocator *a, size_t size) {
    if (a && a->alloc) return a->alloc(a->ud, size);
    return malloc(size ? size : 1);
}
void *ulm__calloc(const ulm_allocator *a, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = ulm__alloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}
void *ulm__realloc(const ulm_allocator *a, void *p, size_t old_size, size_t new_size) {
    if (a && a->realloc) return a->realloc(a->ud, p, old_size, new_size);
    if (a && a->alloc) {
        void *q = a->alloc(a->ud, new_size);
        if (q && p) memcpy(q, p, old_size < new_size ? old_size : new_size);
        if (q) ulm__free(a, p, old_size);
        return q;
    }
    return realloc(p, new_size ? new_size : 1);
}
void ulm__free(const ulm_allocator *a, void *p, size_t size) {
    if (!p) return;
    if (a && a->free) a->free(a->ud, p, size);
    else free(p);
}
