/* ulm_test.h: the unit-test runner's macros. A test is `ULM_TEST(name) { ...; return 0; }`
 * in any .c file of tests/unit; CMake collects the names into the runner's list, so adding a
 * test needs no registration. ASSERT_* print file:line and the values, then fail the test. */
#ifndef ULM_TEST_H
#define ULM_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ULM_TEST(name) int ulm_test_##name(void)

#define ASSERT_TRUE(c)                                                                                        \
    do {                                                                                                      \
        if (!(c)) {                                                                                           \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);                        \
            return 1;                                                                                         \
        }                                                                                                     \
    } while (0)
#define ASSERT_EQ_INT(a, b)                                                                                   \
    do {                                                                                                      \
        long long ulm_a_ = (long long)(a), ulm_b_ = (long long)(b);                                           \
        if (ulm_a_ != ulm_b_) {                                                                               \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, ulm_a_,     \
                    ulm_b_);                                                                                  \
            return 1;                                                                                         \
        }                                                                                                     \
    } while (0)
#define ASSERT_NEAR(a, b, tol)                                                                                \
    do {                                                                                                      \
        double ulm_a_ = (double)(a), ulm_b_ = (double)(b);                                                    \
        if (!(fabs(ulm_a_ - ulm_b_) <= (tol))) {                                                              \
            fprintf(stderr, "%s:%d: %s ~= %s failed: %.9g vs %.9g\n", __FILE__, __LINE__, #a, #b, ulm_a_,     \
                    ulm_b_);                                                                                  \
            return 1;                                                                                         \
        }                                                                                                     \
    } while (0)
#define ASSERT_STR_EQ(a, b)                                                                                   \
    do {                                                                                                      \
        const char *ulm_a_ = (a), *ulm_b_ = (b);                                                              \
        if (!ulm_a_ || !ulm_b_ || strcmp(ulm_a_, ulm_b_) != 0) {                                              \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b,         \
                    ulm_a_ ? ulm_a_ : "(null)", ulm_b_ ? ulm_b_ : "(null)");                                  \
            return 1;                                                                                         \
        }                                                                                                     \
    } while (0)
/* Expects a ulm_status value. */
#define ASSERT_STATUS(expr, want)                                                                             \
    do {                                                                                                      \
        int ulm_s_ = (int)(expr);                                                                             \
        if (ulm_s_ != (int)(want)) {                                                                          \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, #expr,                \
                    ulm_status_name(ulm_s_), ulm_status_name((int)(want)));                                   \
            return 1;                                                                                         \
        }                                                                                                     \
    } while (0)

/* A uniform draw in [0, 1) from a 64-bit LCG state (Knuth's MMIX constants), for synthetic test data. */
static inline double ulm_test_uniform(uint64_t *state) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*state >> 11) / 9007199254740992.0;
}

#endif
