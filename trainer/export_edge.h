/* export_edge.h: the edge bundle's restricted catalogue and compact sections (`ulm train --edge`).
 *
 *     uint32_t dropped;
 *     if (ulm_edge_restrict_catalogue(&ev, 1, &dropped) != ULM_OK) fail();   // before any training
 *     bool c; ulm_edge_put_ids(w, &ev.items, &c); if (!c) add the STRTAB ITID instead;
 */
#ifndef ULM_TRAINER_EXPORT_EDGE_H
#define ULM_TRAINER_EXPORT_EDGE_H

#include "ulm/ulm.h"
#include "ulm/ulm_bundle.h"
#include "ulm/ulm_events.h"

/* Keeps only the items at least min_buyers (>= 1) identified customers purchased, renumbered in bytewise
 * id order; events on the others stay with item ULM_NONE. *dropped gets how many items left. */
ulm_status ulm_edge_restrict_catalogue(ulm_events *ev, uint32_t min_buyers, uint32_t *dropped);
/* Writes the item ids front-coded (ITIC, required); *compact = false (nothing written) when an id
 * is longer than 255 bytes. */
ulm_status ulm_edge_put_ids(ulm_writer *w, const ulm_dict *d, bool *compact);
/* Writes POPR as F16 when that ranks the items exactly as the f32 scores do (ties to the lower index);
 * *compact = false (nothing written) otherwise. */
ulm_status ulm_edge_put_pop(ulm_writer *w, const float *pop, uint32_t n, bool *compact);
/* Writes the repurchase cycles sparsely (RCRS: a bit per item, then the f32 days of the items with a
 * cycle). No section when no item has one. */
ulm_status ulm_edge_put_cycles(ulm_writer *w, const float *days, uint32_t n);

#endif
