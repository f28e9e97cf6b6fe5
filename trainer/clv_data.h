/* clv_data.h: transactions for the CLV commands: read from an event store or a plain table
 * (customer, date, value), aggregated to one row per customer and purchase day, and summarised
 * per customer as (x, t_x, T, zbar) for a calibration end date. Rules: docs/clv.md.
 *
 *     ulm_clv_tx tx; ulm_diag d;
 *     if (ulm_clv_tx_load(path, map, no_header, &tx, &d) != ULM_OK) fail(d.message);
 *     ulm_clv_summary s;
 *     ulm_clv_summarise(&tx, cal_end_day, end_day, 7, &s);
 *     ... ulm_clv_summary_free(&s); ulm_clv_tx_free(&tx);
 */
#ifndef ULM_TRAINER_CLV_DATA_H
#define ULM_TRAINER_CLV_DATA_H

#include "cli.h"

/* Customer-days sorted by customer (first appearance order), then day. */
typedef struct ulm_clv_tx {
    size_t n;
    uint32_t *cust;   /* index into names */
    int64_t *day;     /* days since 1970-01-01 (UTC) */
    double *value;    /* the day's spend, net of returns that day */
    ulm_dict names;   /* customer ids */
    int64_t first_day, last_day;
    /* What was left out on the way (reported). */
    size_t rows, guest_rows, return_only_days, nonpositive_days, bad_rows;
    bool from_store;
} ulm_clv_tx;

/* Reads path: an event store (by its magic bytes) or a CSV/TSV/whitespace table with a header
 * naming customer/date/value columns (map "customer=COL,date=COL,value=COL" overrides; COL is a
 * name, or a 1-based index when no_header). Dates: YYYY-MM-DD[...], YYYYMMDD, M/D/YYYY, ISO. */
ulm_status ulm_clv_tx_load(const char *path, const char *map, bool no_header, ulm_clv_tx *tx, ulm_diag *diag);
void ulm_clv_tx_free(ulm_clv_tx *tx);

/* Per-customer summary for calibration days <= cal_end and holdout days in (cal_end, end]. */
typedef struct ulm_clv_summary {
    size_t n;             /* customers whose first purchase is on or before cal_end */
    uint32_t *cust;       /* their ids (index into tx->names) */
    double *x, *t_x, *T;  /* repeat purchase days, last and end of calibration from the first, in units */
    double *zbar;         /* mean spend of the repeat days (0 when x = 0) */
    double *first;        /* first purchase, in units since tx->first_day */
    double *holdout;      /* purchase days in the holdout */
    size_t later;         /* customers whose first purchase is after cal_end (left out) */
    double unit_days;
} ulm_clv_summary;
ulm_status ulm_clv_summarise(const ulm_clv_tx *tx, int64_t cal_end, int64_t end, double unit_days,
                             ulm_clv_summary *s, ulm_diag *diag);
void ulm_clv_summary_free(ulm_clv_summary *s);
/* Reads a ready summary table (header: [ID|customer,] x|frequency, t_x|recency, T[, zbar|monetary_value],
 * already in the model's time unit), as the CDNOW summary files are. Ids go into names (none: row numbers). */
ulm_status ulm_clv_summary_load(const char *path, ulm_clv_summary *s, ulm_dict *names, ulm_diag *diag);

/* Parses a date (the formats above) into days since 1970-01-01. */
bool ulm_clv_parse_day(const char *s, size_t len, int64_t *day);
/* Writes YYYY-MM-DD. */
void ulm_clv_format_day(int64_t day, char out[16]);

#endif
