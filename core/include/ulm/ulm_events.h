/* ulm_events.h: the in-memory event table shared by ingestion, the event store and training.
 *
 * Events are columns (struct of arrays). Users, items, orders and search queries are
 * dense indices into string dictionaries (ulm_dict); ULM_NONE marks a missing value
 * (a guest order has user == ULM_NONE, a search event may have item == ULM_NONE).
 *
 *     ulm_events ev; ulm_events_init(&ev);
 *     uint32_t u = ulm_dict_intern(&ev.users, "17850", 5, NULL);
 *     ulm_event e = { .user = u, .item = i, .time = t, .type = ULM_EV_PURCHASE, .qty = 6, .price = 2.55 };
 *     ulm_events_push(&ev, &e);
 *     ulm_events_free(&ev);
 */
#ifndef ULM_EVENTS_H
#define ULM_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ulm_dict.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ULM_NONE 0xFFFFFFFFu

/* Event types. These values are stored on disk: frozen. */
typedef enum ulm_event_type {
    ULM_EV_VIEW = 0,
    ULM_EV_CART = 1,
    ULM_EV_PURCHASE = 2,
    ULM_EV_RETURN = 3,
    ULM_EV_SEARCH = 4,
    ULM_EV__COUNT = 5
} ulm_event_type;

/* "view", "cart", "purchase", "return", "search"; NULL for anything else. */
ULM_API const char *ulm_event_type_name(int type);

/* One event, as pushed. Indices refer to the dictionaries of the table it is pushed into. */
typedef struct ulm_event {
    uint32_t user, item, order, query;
    int64_t time; /* Unix seconds, UTC */
    uint8_t type; /* ulm_event_type */
    float qty;    /* units; 1 when the source has no quantity */
    double price; /* unit price; NaN when unknown */
} ulm_event;

/* The table. Owns its columns and dictionaries. */
typedef struct ulm_events {
    size_t n, cap;
    uint32_t *user, *item, *order, *query;
    int64_t *time;
    uint8_t *type;
    float *qty;
    double *price;
    ulm_dict users, items, orders, queries;
    /* Item text (name/description), one entry per item: an index into texts, or ULM_NONE. */
    uint32_t *item_text;
    size_t item_text_cap;
    ulm_dict texts;
} ulm_events;

ULM_API void ulm_events_init(ulm_events *ev);
ULM_API void ulm_events_free(ulm_events *ev);
/* Appends one event; grows the columns geometrically. ULM_ERR_NOMEM on failure. */
ULM_API ulm_status ulm_events_push(ulm_events *ev, const ulm_event *e);
/* Reads event i back. */
ULM_API void ulm_events_get(const ulm_events *ev, size_t i, ulm_event *e);
/* Sets the text of item (first non-empty text wins unless replace). Grows item_text as needed. */
ULM_API ulm_status ulm_events_set_item_text(ulm_events *ev, uint32_t item, const char *text, size_t len,
                                            bool replace);
/* Text of item or NULL; *len gets the length. */
ULM_API const char *ulm_events_item_text(const ulm_events *ev, uint32_t item, uint32_t *len);

#ifdef __cplusplus
}
#endif
#endif
