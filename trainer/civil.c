/* civil.c: proleptic Gregorian calendar arithmetic (after H. Hinnant's "chrono-compatible low-level
 * date algorithms"), shared by ingestion, the generator and every report that prints a date. */
#include <stdio.h>

#include "civil.h"

int64_t ulm_days_from_civil(int64_t y, unsigned m, unsigned d) {
    /* Shift the year to start in March so the leap day is the last day of the "year";
     * then count whole 400-year eras (146097 days each) and days within the era. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                            /* 0..399 */
    int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* 0..146096 */
    return era * 146097 + doe - 719468;
}

void ulm_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void ulm_format_time(int64_t t, char out[48]) {
    int64_t days = t / 86400, sec = t % 86400;
    if (sec < 0) {
        sec += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    ulm_civil_from_days(days, &y, &m, &d);
    snprintf(out, 48, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, (int)(sec / 3600), (int)(sec / 60 % 60),
             (int)(sec % 60));
}

/* Reads exactly n decimal digits at s into *v. */
static bool digits(const char *s, int n, unsigned *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return true;
}

bool ulm_parse_date(const char *s, size_t n, int64_t *out) {
    unsigned y, m, d, hh = 0, mm = 0, ss = 0;
    if (!s || (n != 10 && n != 20)) return false;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' || !digits(s + 8, 2, &d)) return false;
    if (n == 20 && (s[10] != 'T' || !digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) ||
                    s[16] != ':' || !digits(s + 17, 2, &ss) || s[19] != 'Z'))
        return false;
    if (m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 59) return false;
    int64_t z = ulm_days_from_civil(y, m, d), yy;
    unsigned m2, d2;
    ulm_civil_from_days(z, &yy, &m2, &d2);
    if (m2 != m || d2 != d) return false; /* 2011-02-30 */
    *out = z * 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60 + ss;
    return true;
}

void ulm_format_date(int64_t t, char out[16]) {
    int64_t z = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), y;
    unsigned m, d;
    ulm_civil_from_days(z, &y, &m, &d);
    snprintf(out, 16, "%04d-%02u-%02u", (int)(y % 10000), m % 100u, d % 100u); /* years 0..9999 */
}
