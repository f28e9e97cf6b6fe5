/* store.h: the event store file (a ulm container of kind ULM_KIND_STORE) read and written.
 *
 * The store holds one ulm_events table as columns plus its dictionaries, and the list of
 * source files ingested so far (META "store.sources"). Writing is atomic (temp + rename).
 * Layout: docs/store.md.
 *
 *     ulm_events ev; ulm_events_init(&ev); ulm_diag d;
 *     if (ulm_store_read("shop.store", &ev, &d) != ULM_OK) fail(d.message);
 *     ... ulm_store_write("shop.store", &ev, NULL, &d);
 */
#ifndef ULM_TRAINER_STORE_H
#define ULM_TRAINER_STORE_H

#include "ulm/ulm.h"

/* Reads path into ev (which must be freshly initialised). Validates every column length
 * against the header and every index against its dictionary. */
ulm_status ulm_store_read(const char *path, ulm_events *ev, ulm_diag *diag);
/* Writes ev to path atomically. extra_meta is a NULL-terminated key,value,key,value list or NULL. */
ulm_status ulm_store_write(const char *path, const ulm_events *ev, const char *const *extra_meta, ulm_diag *diag);

#endif
