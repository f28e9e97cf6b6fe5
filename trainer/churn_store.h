/* churn_store.h: churn models from an event store: cutoff dates, the default horizon (the shop's
 * purchase rhythm), labelled rows, fitting, the bundle sections (CHRN, CHFN, CHCT) and metrics
 * (AUC, top-decile lift, the recency-only baseline). Used by `ulm train --churn`, `ulm eval churn
 * --store`, `ulm predict churn` and `ulm import xgboost`.
 *
 *     ulm_churn_job j; ulm_churn_job_init(&j);
 *     j.algo = "auto"; j.cutoffs = "2011-06-11,2011-09-09"; j.horizon = NULL;   // NULL: from the rhythm
 *     if (ulm_churn_job_fit(&ev, &j, "train") != 0) return 1;                  // prints errors itself
 *     ulm_churn_sections_add(w, j.model, &j.names, ...);
 */
#ifndef ULM_TRAINER_CHURN_STORE_H
#define ULM_TRAINER_CHURN_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "ulm/ulm.h"
#include "ulm/ulm_churn_train.h"

#define ULM_MAX_CUTOFFS 64

/* Default horizon: this quantile of the gaps between a customer's consecutive purchase days. */
#define ULM_CHURN_HORIZON_QUANTILE 0.9

typedef struct ulm_churn_job {
    /* input */
    const char *algo;    /* "logreg", "gbdt", "auto" */
    const char *cutoffs; /* comma-separated YYYY-MM-DD dates */
    const char *horizon; /* days, or NULL for the default */
    uint32_t threads;
    ulm_churn_params params; /* fitting parameters (family and seed are set from algo / the caller) */
    /* results */
    int64_t cut[ULM_MAX_CUTOFFS];
    uint32_t n_cut;
    double horizon_days;
    bool horizon_default; /* taken from the purchase rhythm */
    size_t rhythm_gaps;   /* gaps the default was computed from */
    ulm_churn_rows rows;
    double churn_rate;
    ulm_churn *model;
    ulm_churn_report rep;
} ulm_churn_job;

void ulm_churn_job_init(ulm_churn_job *j);
void ulm_churn_job_free(ulm_churn_job *j);
/* Parses cutoffs and horizon, builds the labelled rows and fits j->algo. On failure prints an error
 * prefixed with cmd and returns an exit code (1 data, 2 usage); 0 on success. */
int ulm_churn_job_fit(const ulm_events *ev, ulm_churn_job *j, const char *cmd);
/* Fits j->algo on the given rows of customer-v1 features (j->model, j->rep); same return convention. */
int ulm_churn_job_fit_rows(ulm_churn_job *j, const float *x, const float *y, uint32_t n, const char *cmd);
/* Parses and checks cutoffs and horizon against the store's time range and builds the labelled rows
 * (no fitting); same return convention. */
int ulm_churn_job_rows(const ulm_events *ev, ulm_churn_job *j, const char *cmd);

/* The export hook (export.h) adding a fitted job's model as the bundle's churn sections. */
ulm_status ulm_churn_job_sections(ulm_writer *w, void *job);
/* Appends what the job did: a JSON object, or a line of text. */
void ulm_churn_job_report(const ulm_churn_job *j, ulm_sb *b, bool json);


/* Adds the churn sections to a bundle being written: CHRN (the model), CHFN (names[n_features]),
 * CHCT (cats: every categorical feature's category texts in feature order, or NULL when none) and
 * META churn.* (features = "customer-v1" or "table", plus the key/value pairs in meta, NULL-terminated). */
ulm_status ulm_churn_sections_add(ulm_writer *w, const ulm_churn *m, const char *const *names,
                                  const char *const *cats, bool customer_set, const char *const *meta);

/* Top-decile lift: churn rate among the 10% highest-risk rows over the overall churn rate. */
double ulm_churn_lift10(const float *p, const float *y, size_t n);

/* Writes rows as CSV (customer id, cutoff date, the features, and churned when labelled) to path. */
ulm_status ulm_churn_rows_csv(const char *path, const ulm_events *ev, const ulm_churn_job *j, ulm_diag *diag);

/* The scoring date of alerts, predict and campaign: --as-of VALUE (YYYY-MM-DD) when given, else the
 * start of the day after the last event. Prints an error naming cmd and returns false on a bad date. */
bool ulm_churn_as_of(const char *cmd, const char *value, const ulm_events *ev, int64_t *as_of);

/* Value at risk of a customer-v1 feature row x with churn risk p: p x the annual spend rate
 * (spend x 365 / max(tenure, 30 days)); what `ulm alerts` reports and the dashboard ranks by. */
float ulm_churn_value_at_risk(float p, const float *x);

/* Loads the bundle at path for command cmd, which must carry a churn model trained from an event
 * log (customer features); prints why not and returns NULL otherwise. Free with ulm_model_free. */
ulm_model *ulm_churn_model_open(const char *cmd, const char *path);

#endif
