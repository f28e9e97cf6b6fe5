/* pipeline_run.h: one run of `ulm pipeline` (internal to cmd_pipeline.c and pipeline_*.c). */
#ifndef ULM_TRAINER_PIPELINE_RUN_H
#define ULM_TRAINER_PIPELINE_RUN_H

#include <cjson/cJSON.h>

#include "pipeline.h"

/* One event file offered to the run. */
typedef struct pipe_input {
    char *path;
    const char *name; /* the base name (points into path) */
    uint64_t size;
    uint32_t crc;     /* CRC32C of the bytes: change detection, not security */
    bool is_new;      /* not in the live run's manifest under this name, size and checksum */
} pipe_input;

/* The run being made. */
typedef struct pipe_run {
    const ulm_pipe_cfg *cfg;
    uint64_t seq;
    char id[64];
    char *dir;                  /* RUNS/<id> */
    char *live_id, *live_dir;   /* the run `current` points at (NULL on the first run) */
    cJSON *live;                /* its manifest */
    pipe_input *inputs;
    size_t n_inputs, n_new;
    unsigned removed_unfinished;
} pipe_run;

/* Reads the live run (`current`), removes folders of killed runs, picks the next sequence number. */
bool ulm_pipe_runs_prepare(pipe_run *r);
/* Removes the oldest run folders beyond keep_runs (never this run or the live one). */
void ulm_pipe_runs_prune(pipe_run *r);
/* Lists the inputs (inbox or files), sums each and marks the new ones; false with err on a bad input. */
bool ulm_pipe_inputs_scan(pipe_run *r, char *err, size_t errlen);
/* DIR/manifest.json parsed, or NULL. */
cJSON *ulm_pipe_manifest_load(const char *dir);
/* The latest event time, the event count and the item count of a store (reads the container, ETIM and META). */
bool ulm_pipe_store_time(const char *store, int64_t *last, uint64_t *events, uint64_t *items, char *err, size_t errlen);

/* The argument vector of one step. */
typedef struct argv_b {
    char *v[96];
    int n;
    char own[16][4096]; /* storage for formatted arguments */
    int n_own;
} argv_b;

/* Everything the run has done so far, for the manifest. */
typedef struct pipe_ctx {
    pipe_run r;
    ulm_pipe_log lg;
    cJSON *man, *steps, *metrics, *gates, *training, *data;
    const char *exe;
    bool force;
    int64_t last_event;
    uint64_t events, new_events, items;
    double t0;
    char label[64];
} pipe_ctx;

/* Appends s (not copied: it must outlive the step) to the argument vector. */
void pipe_add(argv_b *a, const char *s);
/* Appends a formatted argument (stored in a). */
const char *pipe_fmt(argv_b *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts the vector of `ulm CMD ...`. */
void pipe_argv(pipe_ctx *x, argv_b *a, const char *cmd);
/* RUN/name into out. */
const char *pipe_path(const pipe_ctx *x, const char *name, char out[4096]);
/* Runs one child step, records it in the manifest and the log; on failure fills reason. */
bool pipe_step(pipe_ctx *x, const char *name, argv_b *a, const char *out_file, char *reason, size_t rlen);
/* Records an in-process step (status "ok" for pipe_inline) that began at t0. */
void pipe_inline_status(pipe_ctx *x, const char *name, const char *status, double t0, const char *msg);
void pipe_inline(pipe_ctx *x, const char *name, double t0, const char *msg);
/* A number from the run's JSON file (a step's --json output; of an array, its first object), NAN when absent. */
double pipe_json_num(const pipe_ctx *x, const char *file, const char *key);
/* Copies the object key of the run's JSON file into the last recorded step of the manifest. */
void pipe_step_attach(pipe_ctx *x, const char *file, const char *key);
/* Rewrites the run's JSON file as the array [file's object, other's object]. */
bool pipe_json_join(const pipe_ctx *x, const char *file, const char *other);
/* A number from the live manifest's object obj, NAN when absent. */
double pipe_live_num(const pipe_ctx *x, const char *obj, const char *key);
/* The UTC day of unix_s minus minus_days, as YYYY-MM-DD. */
void pipe_day(int64_t unix_s, int64_t minus_days, char out[16]);
/* Trains and evaluates when due, or carries the live model over; returns 0 or an exit code. */
int pipe_models(pipe_ctx *x, char *reason, size_t rlen);
/* The quality gates: false (with the reason) when a metric is worse than the live one by more than its margin. */
bool pipe_gates(pipe_ctx *x, char *reason, size_t rlen);

#endif
