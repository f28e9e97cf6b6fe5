/* civil.h: calendar dates <-> day numbers (days since 1970-01-01, UTC), and ISO-8601 formatting. */
#ifndef ULM_TRAINER_CIVIL_H
#define ULM_TRAINER_CIVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Day number of y-m-d (m 1..12, d 1..31) in the proleptic Gregorian calendar. */
int64_t ulm_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The inverse: year, month (1..12) and day (1..31) of day number z. */
void ulm_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* Parses exactly "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (a real calendar date) into Unix seconds. */
bool ulm_parse_date(const char *s, size_t n, int64_t *out);
/* Formats Unix seconds as "YYYY-MM-DD" (the day, UTC) into out. */
void ulm_format_date(int64_t t, char out[16]);
/* Formats Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into out. */
void ulm_format_time(int64_t t, char out[48]);

#endif
