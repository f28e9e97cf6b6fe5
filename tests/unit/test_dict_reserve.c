/* test_dict_reserve.c: ulm_dict_reserve sizes a dictionary once: interning the reserved strings
 * moves no array (no doubling), every id is found again, and a non-empty dictionary is refused. */
#include <stdio.h>
#include <string.h>

#include "ulm/ulm_dict.h"
#include "ulm/ulm_events.h"
#include "ulm_test.h"

ULM_TEST(dict_reserve_allocates_once) {
    enum { N = 5000 };
    char buf[16];
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < N; i++) bytes += (uint64_t)snprintf(buf, sizeof buf, "item-%u", i);
    ulm_dict d;
    ulm_dict_init(&d);
    ASSERT_TRUE(ulm_dict_reserve(&d, N, bytes));
    const void *off = d.off, *arena = d.arena, *slots = d.slots, *hashes = d.hashes;
    for (uint32_t i = 0; i < N; i++) {
        int len = snprintf(buf, sizeof buf, "item-%u", i);
        bool added;
        ASSERT_EQ_INT(ulm_dict_intern(&d, buf, (size_t)len, &added), i);
        ASSERT_TRUE(added);
    }
    ASSERT_TRUE(d.off == off && d.arena == arena && d.slots == slots && d.hashes == hashes);
    for (uint32_t i = 0; i < N; i += 7) {
        int len = snprintf(buf, sizeof buf, "item-%u", i);
        ASSERT_EQ_INT(ulm_dict_find(&d, buf, (size_t)len), i);
        uint32_t l;
        const char *s = ulm_dict_str(&d, i, &l);
        ASSERT_TRUE(l == (uint32_t)len && memcmp(s, buf, l) == 0);
    }
    ASSERT_EQ_INT(ulm_dict_find(&d, "item-5000", 9), ULM_NONE);
    ASSERT_TRUE(!ulm_dict_reserve(&d, 10, 10)); /* not empty */
    bool added;
    ASSERT_EQ_INT(ulm_dict_intern(&d, "more", 4, &added), N); /* grows past the reservation as before */
    ASSERT_TRUE(added);
    ulm_dict_free(&d);
    return 0;
}
