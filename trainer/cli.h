/* cli.h: what every `ulm` subcommand shares: option parsing, messages, JSON output, files.
 *
 * Exit codes: 0 success, 1 failure (bad data, I/O, a refused file), 2 usage error.
 *
 *     ulm_args a;
 *     if (ulm_args_parse(&a, argc, argv, spec, usage) != 0) return 2;  // --help prints usage, returns -1 -> exit 0
 */
#ifndef ULM_TRAINER_CLI_H
#define ULM_TRAINER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "civil.h"
#include "ulm/ulm.h"

enum { ULM_EXIT_OK = 0, ULM_EXIT_FAIL = 1, ULM_EXIT_USAGE = 2 };

/* One option a command accepts: "--name" with or without a value. */
typedef struct ulm_opt {
    const char *name;  /* without the dashes: "out" */
    bool takes_value;
    const char *value; /* filled by parsing: the value, or "1" for a flag; NULL when absent */
} ulm_opt;

#define ULM_MAX_POSITIONAL 64
typedef struct ulm_args {
    int npos;
    const char *pos[ULM_MAX_POSITIONAL];
} ulm_args;

/* Parses argv[1..argc) (argv[0] is the subcommand name) against opts[0..nopts).
 * "--name value" and "--name=value" both work; "-h"/"--help" prints usage to stdout and
 * returns 1 (caller exits 0); an unknown option or missing value prints a message and usage
 * to stderr and returns 2; success returns 0. */
int ulm_args_parse(ulm_args *a, int argc, char **argv, ulm_opt *opts, size_t nopts, const char *usage);
/* Value of option name, or NULL. */
const char *ulm_opt_get(const ulm_opt *opts, size_t nopts, const char *name);
/* Parses an integer/double option strictly (whole string); prints an error naming the option on failure. */
bool ulm_opt_u64(const ulm_opt *opts, size_t nopts, const char *name, uint64_t def, uint64_t *out);
bool ulm_opt_f64(const ulm_opt *opts, size_t nopts, const char *name, double def, double *out);

/* "ulm <cmd>: message\n" on stderr. */
void ulm_errorf(const char *cmd, const char *fmt, ...);

/* Reads a whole file into a new malloc'd buffer (NUL-terminated past len). Transparently
 * inflates gzip (by magic bytes, multi-member). On failure returns ULM_ERR_IO / ULM_ERR_PARSE
 * (corrupt gzip) with a message in diag. */
ulm_status ulm_file_read(const char *path, bool gunzip, char **buf, size_t *len, ulm_diag *diag);
/* Writes buf to path atomically: path.tmp.<pid> in the same folder, fsync, rename. */
ulm_status ulm_file_write_atomic(const char *path, const void *buf, size_t len, ulm_diag *diag);

/* A growable string buffer for building text and JSON output. */
typedef struct ulm_sb {
    char *s;
    size_t len, cap;
    bool oom;
} ulm_sb;
void ulm_sb_printf(ulm_sb *b, const char *fmt, ...);
void ulm_sb_append(ulm_sb *b, const char *s, size_t len);
/* Appends s[0..len) as a JSON string literal, quotes included (escapes control chars, ", \). */
void ulm_sb_json_str(ulm_sb *b, const char *s, size_t len);
void ulm_sb_free(ulm_sb *b);

/* Progress on stderr for long work: only when stderr is a terminal; rate-limited to ~5/s. */
typedef struct ulm_progress {
    const char *label;
    uint64_t total;  /* 0 = unknown */
    double start, last;
    bool tty;
} ulm_progress;
void ulm_progress_start(ulm_progress *p, const char *label, uint64_t total);
void ulm_progress_update(ulm_progress *p, uint64_t done);
void ulm_progress_end(ulm_progress *p);
double ulm_now(void); /* monotonic seconds */

#endif
