/* test_ingest_parse.c: the value parsers of ingestion: times, numbers, UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "ulm_test.h"

/* Parses a NUL-terminated time; returns 1 on success. */
static int tparse(const char *s, int64_t *t) { return ulm_parse_time(s, strlen(s), t); }
static int nparse(const char *s, double *v) { return ulm_parse_number(s, strlen(s), v); }

/* Days from 1970-01-01 counted the slow way (whole years, then months, then days). */
static int64_t naive_days(int y, int m, int d) {
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days = 0;
    for (int yy = 1970; yy < y; yy++)
        days += ((yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0) ? 366 : 365;
    for (int yy = y; yy < 1970; yy++)
        days -= ((yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0) ? 366 : 365;
    for (int mm = 1; mm < m; mm++)
        days += dm[mm - 1] + (mm == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return days + d - 1;
}

ULM_TEST(ingest_days_from_civil_matches_counting) {
    for (int y = 1890; y <= 2110; y += 7)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= 28; d += 9)
                ASSERT_EQ_INT(ulm_days_from_civil(y, (unsigned)m, (unsigned)d), naive_days(y, m, d));
    ASSERT_EQ_INT(ulm_days_from_civil(2000, 2, 29), naive_days(2000, 2, 29));
    ASSERT_EQ_INT(ulm_days_from_civil(1970, 1, 1), 0);
    return 0;
}

ULM_TEST(ingest_time_iso_variants) {
    int64_t t, base = naive_days(2010, 12, 1) * 86400 + 8 * 3600 + 26 * 60;
    ASSERT_TRUE(tparse("2010-12-01T08:26:00Z", &t));
    ASSERT_EQ_INT(t, base);
    ASSERT_TRUE(tparse("2010-12-01 08:26:00", &t));
    ASSERT_EQ_INT(t, base);
    ASSERT_TRUE(tparse("2010-12-01T08:26", &t));
    ASSERT_EQ_INT(t, base);
    ASSERT_TRUE(tparse("2010-12-01T08:26:07.250Z", &t));
    ASSERT_EQ_INT(t, base + 7);
    ASSERT_TRUE(tparse("2010-12-01T09:26:00+01:00", &t));
    ASSERT_EQ_INT(t, base);
    ASSERT_TRUE(tparse("2010-12-01T03:26:00-0500", &t));
    ASSERT_EQ_INT(t, base);
    ASSERT_TRUE(tparse("2010-12-01 08:26:00 UTC", &t));
    ASSERT_EQ_INT(t, base);
    ASSERT_TRUE(tparse("2010-12-01", &t));
    ASSERT_EQ_INT(t, naive_days(2010, 12, 1) * 86400);
    ASSERT_TRUE(tparse("2012-02-29", &t));
    /* Out-of-range parts and trailing junk are refused, not wrapped. */
    const char *bad[] = {"2011-02-29",
                         "2010-13-01",
                         "2010-12-32",
                         "2010-12-01T24:00:00",
                         "2010-12-01T08:60",
                         "2010-12-01T08:26:00Zjunk",
                         "2010-12-01T08",
                         "2010-12-1",
                         "2010/12/01",
                         "",
                         "T",
                         "abc",
                         "2010-12-01T08:26:00+25:00",
                         "2010-12-01T08:26:00.",
                         "-5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (tparse(bad[i], &t)) {
            fprintf(stderr, "accepted bad time '%s'\n", bad[i]);
            return 1;
        }
    }
    return 0;
}

ULM_TEST(ingest_time_unix_and_us) {
    int64_t t, base = naive_days(2010, 12, 1) * 86400 + 8 * 3600 + 26 * 60;
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", (long long)base);
    ASSERT_TRUE(tparse(buf, &t));
    ASSERT_EQ_INT(t, base);
    snprintf(buf, sizeof buf, "%lld123", (long long)base); /* milliseconds */
    ASSERT_TRUE(tparse(buf, &t));
    ASSERT_EQ_INT(t, base);
    snprintf(buf, sizeof buf, "%lld.5", (long long)base);
    ASSERT_TRUE(tparse(buf, &t));
    ASSERT_EQ_INT(t, base);
    ASSERT_TRUE(tparse("12/1/2010 8:26", &t));
    ASSERT_EQ_INT(t, base);
    ASSERT_TRUE(tparse("12/01/2010 08:26:09", &t));
    ASSERT_EQ_INT(t, base + 9);
    ASSERT_TRUE(tparse("12/1/2010 8:26 PM", &t));
    ASSERT_EQ_INT(t, base + 12 * 3600);
    ASSERT_TRUE(tparse("12/1/2010 12:26 AM", &t));
    ASSERT_EQ_INT(t, base - 8 * 3600);
    ASSERT_TRUE(tparse("12/1/2010", &t));
    ASSERT_EQ_INT(t, naive_days(2010, 12, 1) * 86400);
    const char *bad[] = {"13/1/2010 8:26",    "2/30/2010",          "12/1/10",     "12/1/2010 8",
                         "12/1/2010 8:26 XM", "12/1/2010 13:26 PM", "1291191960x", "12.5.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (tparse(bad[i], &t)) {
            fprintf(stderr, "accepted bad time '%s'\n", bad[i]);
            return 1;
        }
    }
    return 0;
}

ULM_TEST(ingest_number_strict) {
    double v;
    ASSERT_TRUE(nparse("2.55", &v));
    ASSERT_TRUE(v == 2.55);
    ASSERT_TRUE(nparse("-3", &v));
    ASSERT_TRUE(v == -3);
    ASSERT_TRUE(nparse("+1e3", &v));
    ASSERT_TRUE(v == 1000);
    ASSERT_TRUE(nparse(".5", &v));
    ASSERT_TRUE(v == 0.5);
    ASSERT_TRUE(nparse("5.", &v));
    ASSERT_TRUE(v == 5);
    ASSERT_TRUE(nparse("-11062.06", &v));
    ASSERT_TRUE(v == -11062.06);
    const char *bad[] = {"1,5", "",   "-",  "+",    ".",     "1e",  "1e+",  "abc",  "nan",
                         "inf", " 1", "1 ", "0x10", "1.2.3", "--1", "1e5x", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (nparse(bad[i], &v)) {
            fprintf(stderr, "accepted bad number '%s'\n", bad[i]);
            return 1;
        }
    }
    return 0;
}

ULM_TEST(ingest_number_matches_strtod) {
    /* Random decimals of many shapes must parse to exactly what strtod gives (correct rounding). */
    uint64_t x = 88172645463325252ull;
    char buf[64];
    for (int k = 0; k < 20000; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int shape = (int)(x % 5);
        unsigned long long a = (x >> 8) % (shape == 4 ? 100000000000000000ull : 1000000ull);
        unsigned frac = (unsigned)((x >> 40) % 10000);
        int e = (int)((x >> 20) % 61) - 30;
        switch (shape) {
        case 0: snprintf(buf, sizeof buf, "%llu", a); break;
        case 1: snprintf(buf, sizeof buf, "%llu.%04u", a, frac); break;
        case 2: snprintf(buf, sizeof buf, "-%llu.%u", a, frac); break;
        case 3: snprintf(buf, sizeof buf, "%llu.%ue%d", a, frac, e); break;
        default: snprintf(buf, sizeof buf, "%llu%04u.%u", a, frac, frac); break;
        }
        double v;
        ASSERT_TRUE(nparse(buf, &v));
        double want = strtod(buf, NULL);
        if (memcmp(&v, &want, sizeof v) != 0) {
            fprintf(stderr, "'%s': %.17g vs strtod %.17g\n", buf, v, want);
            return 1;
        }
    }
    return 0;
}

ULM_TEST(ingest_utf8_check) {
    ASSERT_TRUE(ulm_utf8_valid("plain ascii text, long enough for the fast path", 47));
    ASSERT_TRUE(ulm_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    ASSERT_TRUE(!ulm_utf8_valid("\xc0\x80", 2));         /* overlong NUL */
    ASSERT_TRUE(!ulm_utf8_valid("\xe0\x80\xaf", 3));     /* overlong '/' */
    ASSERT_TRUE(!ulm_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    ASSERT_TRUE(!ulm_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    ASSERT_TRUE(!ulm_utf8_valid("ab\xc3", 3));           /* cut off */
    ASSERT_TRUE(!ulm_utf8_valid("abcdefgh\xff", 9));
    ASSERT_TRUE(!ulm_utf8_valid("abcdefgh\0ijk", 12)); /* NUL inside the fast path */
    ASSERT_TRUE(!ulm_utf8_valid("a\0", 2));
    ASSERT_TRUE(ulm_utf8_valid("", 0));
    return 0;
}
