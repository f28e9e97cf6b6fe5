/* ingest.h: the pieces of `ulm ingest` (internal to the trainer; tests call them directly).
 *
 * Flow: a file is read whole (gzip inflated) into one buffer; its format is detected; a
 * tokenizer (CSV/TSV or JSON Lines) yields one row at a time as field slices pointing into
 * that buffer; the header's columns are mapped to canonical fields; each row is parsed
 * (time, numbers, event type), validated and interned into a ulm_events table; exact
 * duplicates are dropped with an open-addressing set of event ids. Nothing here allocates
 * per field: slices point into the buffer and unescaping uses one growing scratch buffer.
 *
 *     ulm_ingest ing; ulm_ingest_init(&ing, &opts);
 *     for each file: ulm_ingest_file(&ing, path, &diag);     // fatal problems return an error
 *     ulm_ingest_report_json(&ing, &sb);  ulm_ingest_free(&ing);
 *
 * Layout of the store this feeds: docs/store.md; behaviour and report: docs/ingest.md.
 */
#ifndef ULM_TRAINER_INGEST_H
#define ULM_TRAINER_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "ulm/ulm.h"
#include "civil.h"

/* ---- canonical fields ---- */
typedef enum ulm_field {
    ULM_F_USER = 0,
    ULM_F_ITEM,
    ULM_F_TIME,
    ULM_F_TYPE,
    ULM_F_QTY,
    ULM_F_PRICE,
    ULM_F_ORDER,
    ULM_F_TEXT,
    ULM_F_QUERY,
    ULM_F__COUNT
} ulm_field;

/* "user", "item", "time", "type", "quantity", "price", "order", "text", "query". */
const char *ulm_field_name(int f);
/* Field id for a --map field name ("quantity" and "qty" both work), or -1. */
int ulm_field_from_name(const char *s, size_t len);
/* Field a header column name is recognised as without --map (case-insensitive, ignoring '_',
 * '-' and spaces), or -1. *rank gets its position in that field's list of names (lower wins). */
int ulm_field_detect(const char *name, size_t len, int *rank);
/* Event type of a value ("page_view" -> VIEW, "Add-To-Cart" -> CART, ...), or -1. */
int ulm_event_type_parse(const char *s, size_t len);

/* ---- value parsers (whole field must match; no allocation, no locale) ---- */
/* Days since 1970-01-01 of a proleptic Gregorian date (y any, m 1..12, d 1..31). */
/* Parses ISO-8601 (date, optional time with T or space, optional seconds/fraction, Z or
 * +hh:mm/+hhmm/+hh), all-digit Unix seconds or milliseconds (> 1e11 = ms), or M/D/YYYY
 * [H:MM[:SS]] [AM|PM], into Unix seconds UTC. false on anything else or out-of-range parts. */
bool ulm_parse_time(const char *s, size_t len, int64_t *out);
/* Parses a decimal number ([+-]digits[.digits][e[+-]digits]) with nothing else in the field. */
bool ulm_parse_number(const char *s, size_t len, double *out);

/* ---- tokenizers ---- */
typedef enum ulm_format { ULM_FMT_CSV = 0, ULM_FMT_TSV = 1, ULM_FMT_JSONL = 2 } ulm_format;
/* "csv", "tsv", "jsonl". */
const char *ulm_format_name(int fmt);
/* Format from a file name's extension (.gz ignored), or -1 when it says nothing. */
int ulm_format_from_path(const char *path);
/* Format from content: first non-space '{' = JSON Lines; else tabs vs commas in the first line. */
int ulm_format_sniff(const char *buf, size_t len);

/* Field value kinds: how the slice must be decoded before use. */
enum {
    ULM_FV_PLAIN = 0,    /* bytes as they are */
    ULM_FV_CSV_ESC = 1,  /* quoted CSV field containing "" pairs */
    ULM_FV_JSON_ESC = 2, /* JSON string containing backslash escapes */
    ULM_FV_ABSENT = 3,   /* JSON null or missing key: empty */
    ULM_FV_NESTED = 4    /* JSON object or array: not a scalar */
};
typedef struct ulm_fieldv {
    const char *p;
    uint32_t len;
    uint8_t kind;
} ulm_fieldv;

/* Why a row could not be tokenized. */
typedef enum ulm_row_err {
    ULM_ROW_OK = 0,
    ULM_ROW_TOO_FEW,
    ULM_ROW_TOO_MANY,
    ULM_ROW_UNTERMINATED_QUOTE,
    ULM_ROW_BAD_QUOTE,
    ULM_ROW_BAD_JSON
} ulm_row_err;

/* A CSV/TSV cursor over buf[0..len) (RFC 4180: quoted fields, "" escapes, embedded newlines,
 * CRLF or LF). Blank lines are skipped. */
typedef struct ulm_csv {
    const char *buf;
    size_t len, pos;
    uint64_t line; /* physical line number (1-based) of the next row's start */
    char delim;
} ulm_csv;
void ulm_csv_init(ulm_csv *c, const char *buf, size_t len, char delim);
/* Reads the next row into f[0..cap): returns false at end of input. *nf gets the number of
 * fields (counted even past cap), *line the row's first physical line, *err a tokenizer
 * error (the row is then skipped: after an unterminated quote, reading resumes on the line
 * after the row's start). */
bool ulm_csv_next(ulm_csv *c, ulm_fieldv *f, uint32_t cap, uint32_t *nf, uint64_t *line, ulm_row_err *err);

/* JSON Lines: the keys of one object line, in a key table shared by all lines of a file. */
typedef struct ulm_jkeys {
    uint32_t n, cap;
    char **name; /* malloc'd, unescaped */
    uint32_t *len;
} ulm_jkeys;
void ulm_jkeys_free(ulm_jkeys *k);
/* Index of key s[0..len) (unescaped), adding it when add is true; -1 if absent (or on OOM). */
int ulm_jkeys_index(ulm_jkeys *k, const char *s, size_t len, bool add);
/* Parses one line (no newline) as a flat JSON object. Values go to f[key index] (fields not in
 * the object stay ULM_FV_ABSENT; f must have room for k->n entries, or pass f = NULL to only
 * collect keys with add_keys). scratch is used to unescape keys. Returns ULM_ROW_OK or ULM_ROW_BAD_JSON. */
ulm_row_err ulm_json_line(const char *s, size_t len, ulm_jkeys *k, bool add_keys, ulm_fieldv *f, uint32_t nf);

/* Decodes a field value into text: plain slices are returned as-is; escaped ones are decoded
 * into scratch + *used (the caller guarantees room for f->len more bytes: decoding never
 * grows text) and *used advances. Leading/trailing spaces and tabs are trimmed. Returns NULL
 * when a JSON escape is invalid (a bad \u sequence or lone surrogate). */
const char *ulm_fieldv_text(const ulm_fieldv *f, char *scratch, size_t *used, uint32_t *len);

/* ---- the run ---- */
typedef struct ulm_ingest_opts {
    const char *map; /* --map value or NULL */
    bool strict;     /* stop at the first bad row */
    int format;      /* forced ulm_format or -1 */
    bool progress;   /* progress on stderr (when it is a terminal) */
} ulm_ingest_opts;

/* Reasons a row is rejected (report keys; order is the report's tie-break). */
typedef enum ulm_reason {
    ULM_R_TOO_FEW = 0,
    ULM_R_TOO_MANY,
    ULM_R_UNTERMINATED,
    ULM_R_BAD_QUOTE,
    ULM_R_BAD_JSON,
    ULM_R_BAD_UTF8,
    ULM_R_NOT_SCALAR,
    ULM_R_MISSING_ITEM,
    ULM_R_MISSING_TIME,
    ULM_R_BAD_TIME,
    ULM_R_BAD_NUMBER,
    ULM_R_UNKNOWN_TYPE,
    ULM_R_NEG_QTY,
    ULM_R__COUNT
} ulm_reason;
const char *ulm_reason_name(int r);

#define ULM_INGEST_FIRST_LINES 5
typedef struct ulm_reason_site {
    uint32_t file; /* index into files */
    uint64_t line;
    int column; /* header column index, or -1 for the whole row */
} ulm_reason_site;

typedef struct ulm_ingest_file_report {
    char *path;
    int format;
    uint64_t bytes; /* size on disk */
    uint64_t rows_read, kept, duplicates, rejected, guests;
    int col[ULM_F__COUNT]; /* header column per field, -1 = none */
    uint32_t ncols;
    char **colname; /* header names (sanitised for display) */
    bool *used;     /* per column */
} ulm_ingest_file_report;

/* The dedup set: open addressing over events (hash32 << 32 | id+1, 0 = empty). */
typedef struct ulm_dedup {
    uint64_t *slots;
    uint32_t mask;
    size_t n;
} ulm_dedup;

/* Adds event i of ev (with per-event text ids etext) to the set unless an event with the same
 * canonical tuple is already in it; *dup says which. Grows the set as needed. */
ulm_status ulm_dedup_add(ulm_dedup *s, const ulm_events *ev, const uint32_t *etext, size_t i, bool *dup);
/* Grows the set so that n events fit without rehashing (a hint; the set grows anyway). */
ulm_status ulm_dedup_reserve(ulm_dedup *s, size_t n);
void ulm_dedup_free(ulm_dedup *s);

typedef struct ulm_ingest {
    ulm_ingest_opts opts;
    ulm_events ev;
    uint32_t *etext; /* per event: index into ev.texts or ULM_NONE (part of the dedup tuple) */
    size_t etext_cap;
    ulm_dedup set;
    size_t n_existing;              /* events that came from an existing store */
    uint32_t last_id[ULM_F__COUNT]; /* previous row's dictionary id per field (an interning shortcut) */
    /* counters for this run */
    uint64_t rows_read, kept, duplicates, rejected, guests;
    uint64_t kept_by_type[ULM_EV__COUNT];
    uint64_t reason_count[ULM_R__COUNT];
    ulm_reason_site reason_first[ULM_R__COUNT][ULM_INGEST_FIRST_LINES];
    uint32_t reason_nfirst[ULM_R__COUNT];
    ulm_ingest_file_report *files;
    uint32_t nfiles, files_cap;
    /* scratch for decoding escaped fields */
    char *scratch;
    size_t scratch_cap;
    /* why the run stopped (longer than a diag's message): a fatal file problem, a --map column
     * not in a header (listing the header), or the --strict row "FILE:LINE: column 'X': reason" */
    char msg[1024];
} ulm_ingest;

void ulm_ingest_init(ulm_ingest *ing, const ulm_ingest_opts *opts);
void ulm_ingest_free(ulm_ingest *ing);
/* Checks a --map value before any file is read: ULM_ERR_MISUSE naming an unknown field. */
ulm_status ulm_ingest_check_map(const char *map, ulm_diag *diag);
/* Takes over the events of an existing store (moved into ing; ev is left empty) and indexes
 * them for duplicate detection. event_text may be NULL (then derived from item texts). */
ulm_status ulm_ingest_adopt(ulm_ingest *ing, ulm_events *ev, uint32_t *event_text, ulm_diag *diag);
/* Ingests one file. Fatal problems (unreadable, binary, empty, header only, no item/time
 * column, --strict row) return an error with diag.message set; ULM_ERR_MISUSE means a usage
 * error (a --map column not in the header). */
ulm_status ulm_ingest_file(ulm_ingest *ing, const char *path, ulm_diag *diag);
/* Ingests an in-memory buffer (takes no ownership) as if read from path (tests use this). */
ulm_status ulm_ingest_buffer(ulm_ingest *ing, const char *path, const char *buf, size_t len, uint64_t disk_bytes,
                             ulm_diag *diag);

/* Report of the whole run. store_* describe the written store; seconds the wall time. */
typedef struct ulm_store_summary {
    const char *path;
    uint64_t events, users, items, bytes;
    bool appended;
} ulm_store_summary;
void ulm_ingest_report_json(const ulm_ingest *ing, const ulm_store_summary *st, double seconds, ulm_sb *out);
void ulm_ingest_report_text(const ulm_ingest *ing, const ulm_store_summary *st, double seconds, ulm_sb *out);
/* JSON list of source files ({"path","bytes","rows"}), appended to an earlier list (may be NULL). */
void ulm_ingest_sources_json(const ulm_ingest *ing, const char *earlier, ulm_sb *out);

#endif
