/* dict.c: string interning into dense ids (open addressing, linear probing, FNV-1a). */
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm_dict.h"
#include "ulm/ulm_events.h"

uint64_t ulm_hash64(const void *s, size_t len) {
    const uint8_t *p = (const uint8_t *)s;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    /* Final avalanche so the low bits used for the slot index depend on every byte. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

void ulm_dict_init(ulm_dict *d) { memset(d, 0, sizeof *d); }

void ulm_dict_free(ulm_dict *d) {
    if (!d) return;
    free(d->off);
    free(d->arena);
    free(d->slots);
    free(d->hashes);
    memset(d, 0, sizeof *d);
}

const char *ulm_dict_str(const ulm_dict *d, uint32_t id, uint32_t *len) {
    if (id >= d->n) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = (uint32_t)(d->off[id + 1] - d->off[id]);
    return d->arena + d->off[id];
}

uint32_t ulm_dict_find(const ulm_dict *d, const char *s, size_t len) {
    if (!d->slots) return ULM_NONE;
    uint64_t h = ulm_hash64(s, len);
    uint32_t h32 = (uint32_t)h;
    for (uint32_t i = (uint32_t)(h >> 32) & d->mask;; i = (i + 1) & d->mask) {
        uint32_t v = d->slots[i];
        if (!v) return ULM_NONE;
        uint32_t id = v - 1;
        if (d->hashes[id] == h32 && d->off[id + 1] - d->off[id] == len && memcmp(d->arena + d->off[id], s, len) == 0)
            return id;
    }
}

/* Doubles the slot table and reinserts every id (hashes are kept, so no string is rehashed
 * except for the slot index, which uses the high half: recompute from the stored string). */
static int grow_slots(ulm_dict *d) {
    uint32_t nsize = d->mask ? (d->mask + 1) * 2 : 64;
    uint32_t *ns = calloc(nsize, sizeof *ns);
    if (!ns) return 0;
    for (uint32_t id = 0; id < d->n; id++) {
        uint64_t h = ulm_hash64(d->arena + d->off[id], (size_t)(d->off[id + 1] - d->off[id]));
        uint32_t i = (uint32_t)(h >> 32) & (nsize - 1);
        while (ns[i]) i = (i + 1) & (nsize - 1);
        ns[i] = id + 1;
    }
    free(d->slots);
    d->slots = ns;
    d->mask = nsize - 1;
    return 1;
}

bool ulm_dict_reserve(ulm_dict *d, uint32_t n, uint64_t bytes) {
    if (d->n || d->slots || n > 0x3FFFFFF0u) return false;
    uint32_t size = 64;
    while ((uint64_t)size < 2 * ((uint64_t)n + 1)) size *= 2; /* intern keeps the load at most 1/2 */
    d->slots = calloc(size, sizeof *d->slots);
    d->off = malloc(((size_t)n + 2) * sizeof *d->off);
    d->hashes = malloc(((size_t)n + 2) * sizeof *d->hashes);
    d->arena = bytes ? malloc((size_t)bytes) : NULL;
    if (!d->slots || !d->off || !d->hashes || (bytes && !d->arena)) {
        ulm_dict_free(d);
        return false;
    }
    d->mask = size - 1;
    d->cap_ids = n + 2;
    d->off[0] = 0;
    d->arena_cap = bytes;
    return true;
}

uint32_t ulm_dict_intern(ulm_dict *d, const char *s, size_t len, bool *added) {
    if (added) *added = false;
    uint32_t found = ulm_dict_find(d, s, len);
    if (found != ULM_NONE) return found;
    if (d->n >= 0xFFFFFFF0u) return ULM_NONE;
    /* Keep the load factor at most 1/2. */
    if ((uint64_t)(d->n + 1) * 2 > (uint64_t)d->mask + 1 || !d->slots) {
        if (!grow_slots(d)) return ULM_NONE;
    }
    if (d->n + 2 > d->cap_ids) {
        uint32_t nc = d->cap_ids ? d->cap_ids * 2 : 64;
        uint64_t *no = realloc(d->off, (size_t)nc * sizeof *no);
        if (!no) return ULM_NONE;
        d->off = no;
        uint32_t *nh = realloc(d->hashes, (size_t)nc * sizeof *nh);
        if (!nh) return ULM_NONE;
        d->hashes = nh;
        if (d->cap_ids == 0) d->off[0] = 0;
        d->cap_ids = nc;
    }
    uint64_t used = d->off[d->n];
    if (used + len > d->arena_cap) {
        uint64_t nc = d->arena_cap ? d->arena_cap * 2 : 4096;
        while (nc < used + len) nc *= 2;
        char *na = realloc(d->arena, (size_t)nc);
        if (!na) return ULM_NONE;
        d->arena = na;
        d->arena_cap = nc;
    }
    if (len) memcpy(d->arena + used, s, len);
    uint32_t id = d->n++;
    d->off[id + 1] = used + len;
    uint64_t h = ulm_hash64(s, len);
    d->hashes[id] = (uint32_t)h;
    uint32_t i = (uint32_t)(h >> 32) & d->mask;
    while (d->slots[i]) i = (i + 1) & d->mask;
    d->slots[i] = id + 1;
    if (added) *added = true;
    return id;
}
