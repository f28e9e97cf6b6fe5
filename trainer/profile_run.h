/* profile_run.h: profiles of every customer of an event table, through the core's one-customer
 * ulm_profile_compute (the same code the wasm scorer runs), and their CSV / JSON Lines rows.
 * Used by `ulm profile`, `ulm segment` and `ulm train`. Definitions: docs/profile.md.
 *
 *     ulm_profile_set set; ulm_profiler *p; ulm_profiler_report rep;
 *     if (ulm_profile_train(&ev, &pp, &p, &set, &rep, &d) != ULM_OK) fail(d.message);
 *     for (size_t i = 0; i < set.n; i++) ... set.pr[i] is the profile of user set.user[i]
 *     ulm_profile_set_free(&set); ulm_profiler_free(p);
 */
#ifndef ULM_TRAINER_PROFILE_RUN_H
#define ULM_TRAINER_PROFILE_RUN_H

#include "cli.h"

/* Profiles of the known users with at least one event before as_of, in user-dictionary order. */
typedef struct ulm_profile_set {
    size_t n;
    uint32_t *user;   /* index into ev->users */
    ulm_profile *pr;
    int64_t as_of;
} ulm_profile_set;

/* Computes the profile of every known user with an event before as_of with profiler p. */
ulm_status ulm_profile_run(const ulm_events *ev, const ulm_profiler *p, int64_t as_of, ulm_profile_set *out,
                           ulm_diag *diag);
/* Builds a profiler from ev, profiles everyone, fits segments/stages/CLV and profiles everyone again
 * with the fitted profiler (so set holds the final scores). On success *p and set are the caller's. */
ulm_status ulm_profile_train(const ulm_events *ev, const ulm_profiler_params *pp, ulm_profiler **p,
                             ulm_profile_set *set, ulm_profiler_report *rep, ulm_diag *diag);
void ulm_profile_set_free(ulm_profile_set *s);

/* Appends the CSV header (full: with the segment columns). */
void ulm_profile_csv_header(ulm_sb *b, bool full);
/* Appends one customer's row: CSV (full adds the fitted columns) or one JSON object + newline
 * (JSON always carries every defined value; numbers with 17 significant digits). */
void ulm_profile_row(ulm_sb *b, const ulm_profiler *p, const char *id, size_t idlen, const ulm_profile *pr, bool json,
                     bool full);
/* Writes each user's events as JSON Lines {"customer":..,"history":[{item,type,time,price,qty,order,query}]}
 * (events before as_of only), the input format of the JS API's model.profile(). */
ulm_status ulm_profile_write_histories(const char *path, const ulm_events *ev, const ulm_profile_set *set,
                                       ulm_diag *diag);
/* For `ulm train`: trains the profiler (options k, seed from opts) into *p, or leaves *p NULL with a
 * warning on stderr when the store cannot support one (fewer than 2 buyers). Returns 0, or 2 for a
 * usage error. */
int ulm_train_profiler(const ulm_events *ev, const ulm_opt *opts, size_t no, ulm_profiler **p);
/* Parses a given --as-of (YYYY-MM-DD, midnight UTC, or an ISO time; events strictly before count) into
 * *as_of; NULL leaves *as_of alone. False after printing the usage error as command cmd. */
bool ulm_profile_as_of_opt(const char *cmd, const char *s, int64_t *as_of);

#endif
