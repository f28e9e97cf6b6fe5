/* store.h: the event store file (a ulm container of kind ULM_KIND_STORE) read and written.
 *
 * The store holds one ulm_events table as columns plus its dictionaries, the text of each
 * event (so that re-ingesting finds exact duplicates), and the list of source files ingested
 * so far (META "store.sources"). Writing is atomic (temp + rename). Layout: docs/store.md.
 *
 *     ulm_events ev; ulm_events_init(&ev); ulm_diag d;
 *     if (ulm_store_read("shop.store", &ev, &d) != ULM_OK) fail(d.message);
 *     ... ulm_store_write("shop.store", &ev, NULL, &d);
 */
#ifndef ULM_TRAINER_STORE_H
#define ULM_TRAINER_STORE_H

#include "ulm/ulm.h"

/* Store sections (all REQUIRED; rows = event count for E*, string count for D*). */
#define ULM_STORE_SECTION_TAGS                                                                                         \
    "EUSR", "EITM", "ETIM", "ETYP", "EQTY", "EPRC", "EORD", "EQRY", "ETXT", "DUSR", "DITM", "DORD", "DQRY", "DTXT",    \
        "ITXT"

/* Reads path into ev (which must be freshly initialised). Validates every column length
 * against the event count and every index against its dictionary. On failure ev is left
 * empty (initialised) and diag names the section. */
ulm_status ulm_store_read(const char *path, ulm_events *ev, ulm_diag *diag);
/* Reads path into ev for command cmd; on failure prints "ulm CMD: PATH: STATUS: message" to stderr,
 * leaves ev empty (still initialised) and returns false. */
bool ulm_store_load(const char *cmd, const char *path, ulm_events *ev);
/* Writes ev to path atomically. extra_meta is a NULL-terminated key,value,key,value list or NULL.
 * Each event's text is taken to be its item's text. */
ulm_status ulm_store_write(const char *path, const ulm_events *ev, const char *const *extra_meta, ulm_diag *diag);

/* What a store holds besides the event table. */
typedef struct ulm_store_extra {
    uint32_t *event_text; /* per event: index into ev->texts or ULM_NONE; malloc'd */
    char *sources;        /* META "store.sources" (a JSON list); malloc'd; NULL when absent */
} ulm_store_extra;
/* Frees both members (NULL members are fine) and zeroes x. */
void ulm_store_extra_free(ulm_store_extra *x);

/* Decodes a store from buf[0..len) (the buffer may be freed afterwards). extra may be NULL. */
ulm_status ulm_store_decode(const void *buf, size_t len, ulm_events *ev, ulm_store_extra *extra, ulm_diag *diag);
/* Like ulm_store_read, also returning the extras (extra may be NULL). */
ulm_status ulm_store_read_ex(const char *path, ulm_events *ev, ulm_store_extra *extra, ulm_diag *diag);
/* Encodes ev into a new buffer (*buf, released with free()). event_text (per event, may be NULL:
 * item texts are used) and sources (a JSON list, may be NULL: "[]") fill ETXT and store.sources. */
ulm_status ulm_store_encode(const ulm_events *ev, const uint32_t *event_text, const char *sources,
                            const char *const *extra_meta, uint8_t **buf, size_t *len, ulm_diag *diag);
/* Encodes and writes atomically; *bytes (may be NULL) gets the file size. */
ulm_status ulm_store_write_ex(const char *path, const ulm_events *ev, const uint32_t *event_text, const char *sources,
                              const char *const *extra_meta, uint64_t *bytes, ulm_diag *diag);

#endif
