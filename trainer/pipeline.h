/* pipeline.h: `ulm pipeline`, the automated run: configuration, run folders, child steps, manifest.
 *
 * One run = one folder RUNS/<run-id>/ written by child processes of this binary, a manifest.json
 * written last, then the `current` symlink switched atomically. Layout and rules: docs/pipeline.md.
 *
 *     ulm_pipe_cfg c;
 *     if (!ulm_pipe_cfg_read("ulm.json", &c)) return ULM_PIPE_EXIT_USAGE;  // message names the key
 *     ... ulm_pipe_cfg_free(&c);
 */
#ifndef ULM_TRAINER_PIPELINE_H
#define ULM_TRAINER_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* Exit codes of `ulm pipeline` (documented in docs/pipeline.md; frozen). */
enum {
    ULM_PIPE_EXIT_OK = 0,      /* published, or nothing new to do */
    ULM_PIPE_EXIT_FAIL = 1,    /* the pipeline itself failed (its own I/O, out of memory) */
    ULM_PIPE_EXIT_USAGE = 2,   /* bad option or malformed config */
    ULM_PIPE_EXIT_GATE = 3,    /* a quality gate refused the new model: the live run stays */
    ULM_PIPE_EXIT_INPUT = 4,   /* missing inbox, an unreadable or refused event file */
    ULM_PIPE_EXIT_STEP = 5,    /* a step (training, evaluation, a write: full disk) failed */
    ULM_PIPE_EXIT_LOCKED = 6,  /* another run holds the lock */
};

/* The parsed configuration; every path is absolute or relative to the config file's folder (resolved). */
typedef struct ulm_pipe_cfg {
    char *path;        /* the config file */
    char *runs;        /* folder of run folders and the `current` link */
    char *inbox;       /* folder scanned for event files (NULL when files[] is used) */
    char **files;      /* explicit event files */
    size_t n_files;
    char *ingest_format, *ingest_map; /* passed to `ulm ingest` (NULL = auto) */
    char *deny;        /* item ids kept out of recommendations */
    char *recs_algo;   /* `ulm train --recs` and `ulm eval recs --algo` */
    char **recs_opts;  /* "--name", "value" pairs shared by train and eval recs */
    size_t n_recs_opts;
    char *churn_algo;  /* logreg, gbdt, auto; NULL = no churn model */
    double churn_horizon_days, clv_holdout_days;
    uint64_t seed, threads;
    uint64_t k;        /* k-means k of the profiler (0 = chosen by silhouette) */
    double recs_every_days, churn_every_days; /* schedules, in days of data time */
    uint64_t retrain_min_new_events;          /* retrain earlier when this many new events arrived (0 = off) */
    bool eval_recs, eval_churn, eval_clv;
    bool gates;
    double ndcg_max_drop, auc_max_drop, clv_mae_max_rise; /* absolute, absolute, relative */
    bool alerts;
    double alerts_threshold;
    bool campaign;
    char *offers;
    bool dashboard;
    char *dashboard_assets; /* `ulm dashboard --assets` (NULL: its default beside the binary) */
    uint64_t keep_runs, lock_wait_s;
    char *json;        /* the config as canonical JSON (for the manifest) */
} ulm_pipe_cfg;

/* Reads and checks the config file (JSON; // starts a comment outside strings, to the end of the line).
 * On failure prints "ulm pipeline: FILE: KEY.PATH: what was expected" and returns false. */
bool ulm_pipe_cfg_read(const char *path, ulm_pipe_cfg *c);
/* Frees everything c owns and zeroes it. */
void ulm_pipe_cfg_free(ulm_pipe_cfg *c);

/* ---- files and folders (pipeline_fs.c) ---- */

/* Size and CRC32C of a regular file's bytes. Returns false with a message in err (a directory, unreadable). */
bool ulm_pipe_file_sum(const char *path, uint64_t *size, uint32_t *crc, char *err, size_t errlen);
/* fsync of a folder (so a rename or a new entry in it survives a power cut). */
bool ulm_pipe_fsync_dir(const char *dir);
/* Removes a folder tree (files, links, subfolders). Returns false on the first failure. */
bool ulm_pipe_rmtree(const char *dir);
/* Points link (in folder dir) at target atomically: a temporary symlink renamed over it, then the folder fsynced. */
bool ulm_pipe_switch_link(const char *dir, const char *link, const char *target);
/* Hard-links src to dst, copying when links are impossible (another file system). */
bool ulm_pipe_link_or_copy(const char *src, const char *dst);
/* Takes the exclusive lock RUNS/.lock, waiting up to wait_s seconds; returns the fd or -1. */
int ulm_pipe_lock(const char *runs, uint64_t wait_s);
/* malloc'd "a/b". */
char *ulm_pipe_join(const char *a, const char *b);

/* ---- child steps (pipeline_step.c) ---- */

/* How the run talks to people and schedulers. */
typedef struct ulm_pipe_log {
    bool json;          /* one JSON object per line on stderr */
    const char *run_id;
    ulm_progress bar;   /* steps done of total, with rate and ETA on a terminal */
    uint64_t done;
} ulm_pipe_log;

/* One step's record for the manifest. */
typedef struct ulm_pipe_step {
    char name[32];
    double seconds;
    int exit_code;      /* the child's, or 128+signal */
    char reason[512];   /* last line of the child's stderr when it failed */
} ulm_pipe_step;

/* Runs `ulm ARGV...` (this executable) as a child with stdout to out_path (NULL: /dev/null) and stderr
 * appended to log_path; fills st. The child dies with the pipeline (PR_SET_PDEATHSIG). Returns true
 * when it exited 0. */
bool ulm_pipe_run_child(const char *name, char *const *argv, const char *out_path, const char *log_path,
                        ulm_pipe_step *st);
/* Logs one line (text or JSON) about a step or an event; extra_json (may be NULL) is appended to the object. */
void ulm_pipe_logf(ulm_pipe_log *lg, const char *step, const char *status, double seconds, const char *extra_json,
                   const char *fmt, ...);

#endif
