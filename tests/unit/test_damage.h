/* test_damage.h: damaging one field of a bundle with every CRC repaired, so that only the loader's
 * semantic checks can catch it (header-only, for the unit tests). */
#ifndef ULM_TEST_DAMAGE_H
#define ULM_TEST_DAMAGE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm.h"
#include "ulm/ulm_bundle.h"

static inline uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static inline void wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* Recomputes every section CRC, the table CRC and the header CRC, so only semantic checks remain. */
static inline void repair(uint8_t *b) {
    uint64_t table = rd64(b + 32);
    uint32_t count = rd32(b + 40);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = b + table + 40ull * i;
        wr32(e + 36, ulm_crc32c(0, b + rd64(e), (size_t)rd64(e + 8)));
    }
    wr32(b + 56, ulm_crc32c(0, b + table, 40ull * count));
    wr32(b + 60, ulm_crc32c(0, b, 60));
}

/* Section `tag`'s table entry in b (NULL if absent). */
static inline uint8_t *entry(uint8_t *b, const char *tag) {
    uint64_t table = rd64(b + 32);
    for (uint32_t i = 0; i < rd32(b + 40); i++)
        if (memcmp(b + table + 40ull * i + 16, tag, 4) == 0) return b + table + 40ull * i;
    return NULL;
}

/* Overwrites n bytes at offset at of section tag's body and repairs the CRCs; non-zero when the bundle
 * has no such section or it ends before at + n. */
static inline int patch(uint8_t *b, size_t len, const char *tag, uint64_t at, const void *v, size_t n) {
    uint8_t *e = entry(b, tag);
    if (!e || rd64(e) + at + n > len || at + n > rd64(e + 8)) return 1;
    memcpy(b + rd64(e) + at, v, n);
    repair(b);
    return 0;
}

/* Applies one change to a copy, repairs the CRCs and expects status `want` naming section `sec`. */
static inline int expect_damage(const uint8_t *buf, size_t len, const char *tag, uint64_t at, uint32_t value, bool in_entry,
                         ulm_status want, const char *sec) {
    uint8_t *c = malloc(len);
    memcpy(c, buf, len);
    uint8_t *e = entry(c, tag);
    if (!e) return 1;
    wr32(in_entry ? e + at : c + rd64(e) + at, value);
    repair(c);
    ulm_model *m = (ulm_model *)1;
    ulm_diag d;
    ulm_status s = ulm_model_load(c, len, NULL, &m, &d);
    free(c);
    if (s != want || m != NULL || (sec && strcmp(d.section, sec) != 0)) {
        fprintf(stderr, "damage %s+%llu=%u: got %s in '%s' (%s), want %s in '%s'\n", tag, (unsigned long long)at, value,
                ulm_status_name(s), d.section, d.message, ulm_status_name(want), sec ? sec : "");
        return 1;
    }
    return 0;
}

#endif
