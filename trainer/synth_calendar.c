/* synth_calendar.c: dates and the traffic calendar of `ulm synth` (weekly, yearly, hour-of-day, promotions). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

bool ulm_synth_parse_date(const char *s, int64_t *days) {
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int64_t y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0')), d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > 31) return false;
    int64_t z = ulm_days_from_civil(y, m, d), y2;
    unsigned m2, d2;
    ulm_civil_from_days(z, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d) return false; /* 2023-02-30 and friends */
    *days = z;
    return true;
}

void ulm_synth_format_date(int64_t days, char out[11]) {
    int64_t y;
    unsigned m, d;
    ulm_civil_from_days(days, &y, &m, &d);
    if (y < 0) y = 0;
    if (y > 9999) y = 9999;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = 0;
}

/* Monday..Sunday traffic: weekends browse more. */
static const double weekly_raw[7] = {0.95, 0.93, 0.95, 0.97, 1.00, 1.08, 1.12};
/* Hour-of-day traffic (UTC): a night trough and an evening peak. */
static const double diurnal_raw[24] = {0.35, 0.20, 0.12, 0.10, 0.10, 0.15, 0.30, 0.55, 0.80, 0.95, 1.05, 1.10,
                                       1.20, 1.15, 1.10, 1.10, 1.15, 1.25, 1.40, 1.60, 1.75, 1.70, 1.35, 0.80};

/* Day of week, 0 = Monday (1970-01-01 was a Thursday). */
static unsigned weekday(int64_t days) { return (unsigned)(((days % 7) + 7 + 3) % 7); }

typedef struct day_info {
    double traffic, conv;
    unsigned price_pct;
} day_info;

/* The yearly shape of one calendar day: a mild winter high and summer low, the holiday season,
 * Black Friday to Cyber Monday (traffic x2, prices -20%) and January sales (prices -10%). */
static day_info yearly_raw(int64_t days) {
    int64_t y;
    unsigned m, d;
    ulm_civil_from_days(days, &y, &m, &d);
    double doy = (double)(days - ulm_days_from_civil(y, 1, 1));
    day_info r = {1.0 + 0.08 * cos(6.283185307179586 * (doy - 8.0) / 365.25), 1.0, 100};
    /* Black Friday: the day after the fourth Thursday of November. */
    int64_t nov1 = ulm_days_from_civil(y, 11, 1);
    int64_t thu1 = nov1 + (int64_t)((3 + 7 - weekday(nov1)) % 7);
    int64_t bf = thu1 + 21 + 1;
    if (days >= bf && days <= bf + 3) {
        r.traffic *= 2.0;
        r.conv = 1.3;
        r.price_pct = 80;
    } else if (m == 12 && d <= 20) {
        r.traffic *= 1.3;
    } else if (m == 12 && (d == 24 || d == 25)) {
        r.traffic *= 0.6;
    } else if (m == 1 && d == 1) {
        r.traffic *= 0.7;
    } else if (m == 1 && d <= 15) {
        r.traffic *= 1.1;
        r.price_pct = 90;
    }
    return r;
}

/* Mean of weekly x yearly traffic over calendar year y, so a day factor averages 1 over a year. */
static double year_mean(int64_t y) {
    int64_t a = ulm_days_from_civil(y, 1, 1), b = ulm_days_from_civil(y + 1, 1, 1);
    double s = 0, wmean = 0;
    for (int i = 0; i < 7; i++)
        wmean += weekly_raw[i] / 7;
    for (int64_t z = a; z < b; z++)
        s += weekly_raw[weekday(z)] / wmean * yearly_raw(z).traffic;
    return s / (double)(b - a);
}

ulm_status ulm_synth_calendar_build(ulm_synth_world *w) {
    uint64_t n = w->p.days;
    w->day_factor = malloc(sizeof(float) * n);
    w->conv_factor = malloc(sizeof(float) * n);
    w->price_pct = malloc(n);
    w->day_prefix = malloc(sizeof(*w->day_prefix) * n);
    w->cum_day = malloc(sizeof(double) * (n + 1));
    if (!w->day_factor || !w->conv_factor || !w->price_pct || !w->day_prefix || !w->cum_day) return ULM_ERR_NOMEM;
    double wmean = 0, dmean = 0;
    for (int i = 0; i < 7; i++)
        wmean += weekly_raw[i] / 7;
    for (int h = 0; h < 24; h++)
        dmean += diurnal_raw[h] / 24;
    double hw[24];
    for (int h = 0; h < 24; h++) {
        w->diurnal[h] = (float)(diurnal_raw[h] / dmean);
        hw[h] = w->diurnal[h];
    }
    w->hour_cum[0] = 0;
    for (int h = 0; h < 24; h++)
        w->hour_cum[h + 1] = w->hour_cum[h] + hw[h] / 24.0;
    for (int h = 1; h <= 24; h++)
        w->hour_cum[h] /= w->hour_cum[24];
    int64_t cur_year = INT64_MIN;
    double ymean = 1;
    for (uint64_t i = 0; i < n; i++) {
        int64_t z = w->p.start_day + (int64_t)i, y;
        unsigned m, d;
        ulm_civil_from_days(z, &y, &m, &d);
        if (y != cur_year) {
            cur_year = y;
            ymean = year_mean(y);
        }
        day_info di = yearly_raw(z);
        w->day_factor[i] = (float)(weekly_raw[weekday(z)] / wmean * di.traffic / ymean);
        w->conv_factor[i] = (float)di.conv;
        w->price_pct[i] = (uint8_t)di.price_pct;
        char date[11];
        ulm_synth_format_date(z, date);
        memcpy(w->day_prefix[i], date, 10);
        w->day_prefix[i][10] = 'T';
        w->day_prefix[i][11] = 0;
    }
    w->cum_day[0] = 0;
    for (uint64_t i = 0; i < n; i++)
        w->cum_day[i + 1] = w->cum_day[i] + w->day_factor[i];
    return ulm_alias_build(&w->hour_pick, hw, 24);
}

double ulm_synth_op_time(const ulm_synth_world *w, double t) {
    uint64_t d = (uint64_t)(t / ULM_SYNTH_DAY);
    if (d >= w->p.days) return w->cum_day[w->p.days] + (t / ULM_SYNTH_DAY - (double)w->p.days);
    double x = (t - (double)d * ULM_SYNTH_DAY) / 3600.0;
    unsigned h = (unsigned)x;
    if (h > 23) h = 23;
    double frac = w->hour_cum[h] + (x - h) * (w->hour_cum[h + 1] - w->hour_cum[h]);
    return w->cum_day[d] + w->day_factor[d] * frac;
}

double ulm_synth_op_inverse(const ulm_synth_world *w, double tau, uint32_t from_day) {
    uint64_t n = w->p.days;
    if (tau >= w->cum_day[n]) return (double)n * ULM_SYNTH_DAY + 1.0;
    if (tau < 0) tau = 0;
    /* The day: the last d with cum_day[d] <= tau. Gaps are mostly a few days: walk a little from the
     * hint, then fall back to binary search. */
    uint64_t lo = from_day < n && w->cum_day[from_day] <= tau ? from_day : 0, hi = n;
    for (int step = 0; step < 8 && lo + 1 < n && w->cum_day[lo + 1] <= tau; step++)
        lo++;
    if (lo + 1 < n && w->cum_day[lo + 1] > tau) hi = lo + 1;
    while (hi - lo > 1) {
        uint64_t mid = (lo + hi) / 2;
        if (w->cum_day[mid] <= tau)
            lo = mid;
        else
            hi = mid;
    }
    double r = (tau - w->cum_day[lo]) / w->day_factor[lo];
    unsigned h = 0;
    while (h < 23 && w->hour_cum[h + 1] <= r)
        h++;
    double span = w->hour_cum[h + 1] - w->hour_cum[h];
    double x = span > 0 ? (r - w->hour_cum[h]) / span : 0;
    if (x < 0) x = 0;
    if (x > 1) x = 1;
    double t = (double)lo * ULM_SYNTH_DAY + (h + x) * 3600.0;
    double end = (double)(lo + 1) * ULM_SYNTH_DAY;
    return t < end ? t : end - 0.5; /* rounding must not push it into the next day */
}
