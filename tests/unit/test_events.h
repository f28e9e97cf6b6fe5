/* test_events.h: one event into a test's ulm_events by names (header-only, for the unit tests). */
#ifndef ULM_TEST_EVENTS_H
#define ULM_TEST_EVENTS_H

#include <string.h>

#include "ulm/ulm_events.h"

/* Adds one event to ev: user, item and order by name ("" = no item / order), the item's text when not
 * NULL, and the search query when not NULL. */
static inline void ulm_test_push(ulm_events *ev, const char *user, const char *item, const char *order, int type,
                                 int64_t t, float qty, double price, const char *text, const char *query) {
    ulm_event e = {ULM_NONE, ULM_NONE, ULM_NONE, ULM_NONE, t, (uint8_t)type, qty, price};
    e.user = ulm_dict_intern(&ev->users, user, strlen(user), NULL);
    if (*item) {
        e.item = ulm_dict_intern(&ev->items, item, strlen(item), NULL);
        if (text) ulm_events_set_item_text(ev, e.item, text, strlen(text), false);
    }
    if (*order) e.order = ulm_dict_intern(&ev->orders, order, strlen(order), NULL);
    ulm_events_push(ev, &e);
    if (query) ev->query[ev->n - 1] = ulm_dict_intern(&ev->queries, query, strlen(query), NULL);
}

#endif
