/* ulm_dict.h: a string dictionary that interns byte strings into dense ids 0..n-1.
 *
 * Used for user, item, order and query ids during ingestion, and as the item-id index
 * of a loaded model. Strings are copied into one growing arena; lookups hash once
 * (FNV-1a 64) into an open-addressing table of ids.
 *
 *     ulm_dict d; ulm_dict_init(&d);
 *     bool added; uint32_t id = ulm_dict_intern(&d, "85123A", 6, &added);
 *     uint32_t len; const char *s = ulm_dict_str(&d, id, &len);
 *     ulm_dict_free(&d);
 */
#ifndef ULM_DICT_H
#define ULM_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ulm_dict {
    uint32_t n;       /* number of strings */
    uint32_t cap_ids; /* capacity of off[] */
    uint64_t *off;    /* off[i]: start of string i in arena; off[n] = used */
    char *arena;
    uint64_t arena_cap;
    uint32_t *slots; /* hash table: id+1, 0 = empty */
    uint32_t *hashes;/* low 32 bits of each string's hash, by id (speeds up probing) */
    uint32_t mask;   /* slots size - 1 */
} ulm_dict;

ULM_API void ulm_dict_init(ulm_dict *d);
ULM_API void ulm_dict_free(ulm_dict *d);
/* Returns the id of s[0..len), adding it if new (*added says which, may be NULL).
 * Returns ULM_NONE (0xFFFFFFFF) only when out of memory. */
ULM_API uint32_t ulm_dict_intern(ulm_dict *d, const char *s, size_t len, bool *added);
/* Sizes an empty d for n strings of bytes bytes in all, so interning them allocates nothing more
 * (no doubling: less peak memory and fragmentation). false when out of memory or d is not empty.
 * @since 0.3 */
ULM_API bool ulm_dict_reserve(ulm_dict *d, uint32_t n, uint64_t bytes);
/* Returns the id of s[0..len) or ULM_NONE (0xFFFFFFFF) if absent. Never allocates. */
ULM_API uint32_t ulm_dict_find(const ulm_dict *d, const char *s, size_t len);
/* String id (not NUL-terminated); *len gets its length (len may be NULL). */
ULM_API const char *ulm_dict_str(const ulm_dict *d, uint32_t id, uint32_t *len);
/* True when s[0..len) is valid UTF-8 without NUL bytes (no overlongs, surrogates or code points
 * past U+10FFFF). Never allocates. @since 0.1 */
ULM_API bool ulm_utf8_valid(const char *s, size_t len);
/* 64-bit FNV-1a of s[0..len). */
ULM_API uint64_t ulm_hash64(const void *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
