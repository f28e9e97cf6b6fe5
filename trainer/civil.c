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
