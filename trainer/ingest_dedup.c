/* ingest_dedup.c: exact-duplicate detection over the event table.
 * The set holds event ids with their 32-bit hash (open addressing, linear probing, load <= 1/2);
 * an event's key is its whole canonical tuple (user, item, time, type, quantity, price, order,
 * text, query), read straight from the columns only when the hashes match: 8 bytes per slot,
 * no copies of the tuple. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

/* Folds one 64-bit word into the running hash (multiply-xorshift; cheap and well mixed). */
static inline uint64_t fold(uint64_t h, uint64_t x) {
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xbf58476d1ce4e5b9ull;
}

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline uint64_t f64_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* Hash of event i's canonical tuple. */
static uint64_t event_hash(const ulm_events *ev, const uint32_t *etext, size_t i) {
    uint64_t h = 0x243f6a8885a308d3ull;
    h = fold(h, (uint64_t)ev->user[i] << 32 | ev->item[i]);
    h = fold(h, (uint64_t)ev->time[i]);
    h = fold(h, (uint64_t)ev->type[i] << 32 | f32_bits(ev->qty[i]));
    h = fold(h, f64_bits(ev->price[i]));
    h = fold(h, (uint64_t)ev->order[i] << 32 | ev->query[i]);
    h = fold(h, etext[i]);
    return h ^ (h >> 31);
}

/* True when events a and b have the same canonical tuple (floats compared bit for bit, so
 * unknown prices, stored as one NaN, are equal to each other). */
static bool event_eq(const ulm_events *ev, const uint32_t *etext, size_t a, size_t b) {
    return ev->item[a] == ev->item[b] && ev->time[a] == ev->time[b] && ev->user[a] == ev->user[b] &&
           ev->type[a] == ev->type[b] && f32_bits(ev->qty[a]) == f32_bits(ev->qty[b]) &&
           f64_bits(ev->price[a]) == f64_bits(ev->price[b]) && ev->order[a] == ev->order[b] &&
           ev->query[a] == ev->query[b] && etext[a] == etext[b];
}

/* Rebuilds the table with nsize slots (a power of two). Slots keep their 32-bit hash, so no
 * event is read again. */
static bool resize(ulm_dedup *s, size_t nsize) {
    if (nsize > 0x80000000u) return false;
    uint64_t *ns = calloc(nsize, sizeof *ns);
    if (!ns) return false;
    uint32_t nmask = (uint32_t)(nsize - 1);
    if (s->slots) {
        for (size_t k = 0; k <= s->mask; k++) {
            uint64_t v = s->slots[k];
            if (!v) continue;
            size_t j = (uint32_t)(v >> 32) & nmask;
            while (ns[j])
                j = (j + 1) & nmask;
            ns[j] = v;
        }
    }
    free(s->slots);
    s->slots = ns;
    s->mask = nmask;
    return true;
}

ulm_status ulm_dedup_add(ulm_dedup *s, const ulm_events *ev, const uint32_t *etext, size_t i, bool *dup) {
    *dup = false;
    if (i >= 0xFFFFFFFEu) return ULM_ERR_RANGE;
    if (!s->slots || (s->n + 1) * 2 > (size_t)s->mask + 1) {
        if (!resize(s, s->slots ? ((size_t)s->mask + 1) * 2 : 1024)) return ULM_ERR_NOMEM;
    }
    uint64_t h = event_hash(ev, etext, i);
    uint32_t h32 = (uint32_t)(h >> 32) ^ (uint32_t)h;
    size_t j = h32 & s->mask;
    for (;;) {
        uint64_t v = s->slots[j];
        if (!v) break;
        /* The stored hash rules out almost every other event without touching its columns. */
        if ((uint32_t)(v >> 32) == h32 && event_eq(ev, etext, (uint32_t)v - 1, i)) {
            *dup = true;
            return ULM_OK;
        }
        j = (j + 1) & s->mask;
    }
    s->slots[j] = (uint64_t)h32 << 32 | ((uint32_t)i + 1);
    s->n++;
    return ULM_OK;
}

ulm_status ulm_dedup_reserve(ulm_dedup *s, size_t n) {
    size_t size = 1024;
    while (size < n * 2) {
        if (size >= 0x80000000u) return ULM_ERR_RANGE;
        size *= 2;
    }
    if (s->slots && size <= (size_t)s->mask + 1) return ULM_OK;
    return resize(s, size) ? ULM_OK : ULM_ERR_NOMEM;
}

void ulm_dedup_free(ulm_dedup *s) {
    free(s->slots);
    memset(s, 0, sizeof *s);
}
