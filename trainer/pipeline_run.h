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
/* The latest event time and the event count of a store (reads only the container and ETIM). */
bool ulm_pipe_store_time(const char *store, int64_t *last, uint64_t *events, char *err, size_t errlen);

#endif
