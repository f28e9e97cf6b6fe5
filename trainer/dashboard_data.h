/* dashboard_data.h: the numbers of `ulm dashboard`'s data.json (schema: docs/dashboard.md), computed from an
 * event store and a model bundle with the library's own scoring (profiles, segments, stages and CLV from
 * the bundle's profiler; churn risk and reasons from its churn model, as `ulm alerts` scores them).
 *
 *     ulm_dash_in in = {.ev = &ev, .model = m, .as_of = as_of, .threshold = 0.5, .top = 20};
 *     ulm_dash_prev prev; ulm_dash_prev_init(&prev);          // or read with ulm_dash_prev_read
 *     ulm_sb json = {0}, stages = {0};
 *     if (ulm_dash_build(&in, &prev, &json, &stages, &d) != ULM_OK) fail(d.message);
 */
#ifndef ULM_TRAINER_DASHBOARD_DATA_H
#define ULM_TRAINER_DASHBOARD_DATA_H

#include "cli.h"

#define ULM_DASH_FORMAT "ulm-dashboard"
#define ULM_DASH_VERSION 1

/* Stage-flow rows/columns: the six lifecycle stages, then these two. */
#define ULM_DASH_NO_PURCHASE 6 /* known customer without a purchase before the as-of date */
#define ULM_DASH_ABSENT 7      /* not a customer of that run */
#define ULM_DASH_FLOW_N 8

/* The previous run: its stages per customer (from DIR/stages.tsv beside its data.json). */
typedef struct ulm_dash_prev {
    bool present;       /* a previous run was given and read */
    char as_of[16];     /* its as-of date */
    ulm_dict ids;       /* customer ids */
    uint8_t *stage;     /* per id: 0..5 or ULM_DASH_NO_PURCHASE */
    size_t cap;
} ulm_dash_prev;

void ulm_dash_prev_init(ulm_dash_prev *p);
void ulm_dash_prev_free(ulm_dash_prev *p);
/* Reads a previous run's data.json (must be format ulm-dashboard, version 1) and the stages.tsv beside it.
 * On failure returns an error status with a message naming the file in diag. */
ulm_status ulm_dash_prev_read(const char *data_json, ulm_dash_prev *p, ulm_diag *diag);

typedef struct ulm_dash_in {
    const ulm_events *ev;
    const ulm_model *model;
    const char *store_path, *model_path;
    int64_t as_of;        /* scoring date (Unix seconds) */
    double threshold;     /* churn risk counted as "at risk" */
    uint32_t top;         /* at-risk customers listed */
    const char *recs_eval;   /* JSON text already checked (object or array of objects), or NULL */
    const char *campaign;    /* JSON object text already checked, or NULL */
} ulm_dash_in;

/* Appends data.json's object to json and the per-customer stages (TSV: customer, stage) to stages. */
ulm_status ulm_dash_build(const ulm_dash_in *in, const ulm_dash_prev *prev, ulm_sb *json, ulm_sb *stages,
                          ulm_diag *diag);

/* Reads --recs-eval FILE (one `ulm eval recs --json` object or an array of them) into a compact JSON array
 * in *out (malloc'd); --campaign FILE (`ulm campaign plan --json`) into a compact object without plan rows.
 * On a bad file returns ULM_ERR_PARSE with "FILE: problem" in diag. */
ulm_status ulm_dash_read_recs_eval(const char *path, char **out, ulm_diag *diag);
ulm_status ulm_dash_read_campaign(const char *path, char **out, ulm_diag *diag);

#endif
