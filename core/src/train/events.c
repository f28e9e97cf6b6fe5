/* events.c: the columnar event table (grow, push, read back, item texts). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm_events.h"

static const char *const type_names[ULM_EV__COUNT] = {"view", "cart", "purchase", "return", "search"};

const char *ulm_event_type_name(int type) { return (type >= 0 && type < ULM_EV__COUNT) ? type_names[type] : NULL; }

void ulm_events_init(ulm_events *ev) {
    memset(ev, 0, sizeof *ev);
    ulm_dict_init(&ev->users);
    ulm_dict_init(&ev->items);
    ulm_dict_init(&ev->orders);
    ulm_dict_init(&ev->queries);
    ulm_dict_init(&ev->texts);
}

void ulm_events_free(ulm_events *ev) {
    if (!ev) return;
    free(ev->user);
    free(ev->item);
    free(ev->order);
    free(ev->query);
    free(ev->time);
    free(ev->type);
    free(ev->qty);
    free(ev->price);
    free(ev->item_text);
    ulm_dict_free(&ev->users);
    ulm_dict_free(&ev->items);
    ulm_dict_free(&ev->orders);
    ulm_dict_free(&ev->queries);
    ulm_dict_free(&ev->texts);
    memset(ev, 0, sizeof *ev);
}

/* Reallocates one column to cap elements; returns 0 on failure leaving the old one intact. */
static int grow_col(void **col, size_t elem, size_t cap) {
    void *p = realloc(*col, cap * elem);
    if (!p) return 0;
    *col = p;
    return 1;
}

ulm_status ulm_events_push(ulm_events *ev, const ulm_event *e) {
    if (ev->n == ev->cap) {
        size_t nc = ev->cap ? ev->cap * 2 : 1024;
        if (!grow_col((void **)&ev->user, 4, nc) || !grow_col((void **)&ev->item, 4, nc) ||
            !grow_col((void **)&ev->order, 4, nc) || !grow_col((void **)&ev->query, 4, nc) ||
            !grow_col((void **)&ev->time, 8, nc) || !grow_col((void **)&ev->type, 1, nc) ||
            !grow_col((void **)&ev->qty, 4, nc) || !grow_col((void **)&ev->price, 8, nc))
            return ULM_ERR_NOMEM;
        ev->cap = nc;
    }
    size_t i = ev->n++;
    ev->user[i] = e->user;
    ev->item[i] = e->item;
    ev->order[i] = e->order;
    ev->query[i] = e->query;
    ev->time[i] = e->time;
    ev->type[i] = e->type;
    ev->qty[i] = e->qty;
    ev->price[i] = e->price;
    return ULM_OK;
}

void ulm_events_get(const ulm_events *ev, size_t i, ulm_event *e) {
    e->user = ev->user[i];
    e->item = ev->item[i];
    e->order = ev->order[i];
    e->query = ev->query[i];
    e->time = ev->time[i];
    e->type = ev->type[i];
    e->qty = ev->qty[i];
    e->price = ev->price[i];
}

ulm_status ulm_events_set_item_text(ulm_events *ev, uint32_t item, const char *text, size_t len, bool replace) {
    if (item == ULM_NONE) return ULM_ERR_MISUSE;
    if (item >= ev->item_text_cap) {
        size_t nc = ev->item_text_cap ? ev->item_text_cap : 256;
        while (nc <= item) nc *= 2;
        uint32_t *p = realloc(ev->item_text, nc * sizeof *p);
        if (!p) return ULM_ERR_NOMEM;
        for (size_t k = ev->item_text_cap; k < nc; k++) p[k] = ULM_NONE;
        ev->item_text = p;
        ev->item_text_cap = nc;
    }
    if (len == 0 || (!replace && ev->item_text[item] != ULM_NONE)) return ULM_OK;
    uint32_t t = ulm_dict_intern(&ev->texts, text, len, NULL);
    if (t == ULM_NONE) return ULM_ERR_NOMEM;
    ev->item_text[item] = t;
    return ULM_OK;
}

const char *ulm_events_item_text(const ulm_events *ev, uint32_t item, uint32_t *len) {
    if (item >= ev->item_text_cap || ev->item_text[item] == ULM_NONE) {
        if (len) *len = 0;
        return NULL;
    }
    return ulm_dict_str(&ev->texts, ev->item_text[item], len);
}
