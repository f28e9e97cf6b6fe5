/* ingest_run.c: one ingestion run: files in, rows checked and interned into one event table,
 * duplicates dropped, every row counted as kept, duplicate or rejected (with its reason). */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ingest.h"

static const char *const reason_names[ULM_R__COUNT] = {
    [ULM_R_TOO_FEW] = "too few fields",
    [ULM_R_TOO_MANY] = "too many fields",
    [ULM_R_UNTERMINATED] = "unterminated quote",
    [ULM_R_BAD_QUOTE] = "text after closing quote",
    [ULM_R_BAD_JSON] = "bad JSON",
    [ULM_R_BAD_UTF8] = "invalid UTF-8",
    [ULM_R_NOT_SCALAR] = "not a scalar value",
    [ULM_R_MISSING_ITEM] = "missing item",
    [ULM_R_MISSING_TIME] = "missing time",
    [ULM_R_BAD_TIME] = "bad time",
    [ULM_R_BAD_NUMBER] = "bad number",
    [ULM_R_UNKNOWN_TYPE] = "unknown event type",
    [ULM_R_NEG_QTY] = "negative quantity",
};

const char *ulm_reason_name(int r) { return r >= 0 && r < ULM_R__COUNT ? reason_names[r] : "?"; }

void ulm_ingest_init(ulm_ingest *ing, const ulm_ingest_opts *opts) {
    memset(ing, 0, sizeof *ing);
    for (int f = 0; f < ULM_F__COUNT; f++)
        ing->last_id[f] = ULM_NONE;
    if (opts)
        ing->opts = *opts;
    else
        ing->opts.format = -1;
    ulm_events_init(&ing->ev);
}

/* Frees one file report's strings. */
static void file_report_free(ulm_ingest_file_report *fr) {
    free(fr->path);
    for (uint32_t c = 0; c < fr->ncols; c++)
        free(fr->colname[c]);
    free(fr->colname);
    free(fr->used);
}

void ulm_ingest_free(ulm_ingest *ing) {
    ulm_events_free(&ing->ev);
    free(ing->etext);
    ulm_dedup_free(&ing->set);
    for (uint32_t i = 0; i < ing->nfiles; i++)
        file_report_free(&ing->files[i]);
    free(ing->files);
    free(ing->scratch);
    memset(ing, 0, sizeof *ing);
}

/* Copies ing->msg into diag (cut to its size) and returns st. */
static ulm_status msg_to_diag(ulm_ingest *ing, ulm_diag *diag, ulm_status st) {
    if (diag) {
        memset(diag, 0, sizeof *diag);
        diag->status = st;
        size_t n = strlen(ing->msg);
        if (n >= sizeof diag->message) n = sizeof diag->message - 1; /* the full text stays in ing->msg */
        memcpy(diag->message, ing->msg, n);
        diag->message[n] = 0;
    }
    return st;
}

/* Sets ing->msg (and diag) and returns status: every fatal exit of a file goes through here. */
static ulm_status fatal(ulm_ingest *ing, ulm_diag *diag, ulm_status st, const char *fmt, ...) {
    char tmp[sizeof ing->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap); /* via tmp: callers may pass ing->msg itself as an argument */
    va_end(ap);
    memcpy(ing->msg, tmp, sizeof tmp);
    return msg_to_diag(ing, diag, st);
}

/* Makes sure the scratch buffer holds need bytes (only between rows: decoded fields point into it). */
static bool scratch_reserve(ulm_ingest *ing, size_t need) {
    if (need <= ing->scratch_cap) return true;
    size_t nc = ing->scratch_cap ? ing->scratch_cap : 4096;
    while (nc < need)
        nc *= 2;
    char *p = realloc(ing->scratch, nc);
    if (!p) return false;
    ing->scratch = p;
    ing->scratch_cap = nc;
    return true;
}

/* ---- --map ---- */

/* Splits a --map value into per-field column names (slices into map). */
static ulm_status parse_map(const char *map, const char *names[ULM_F__COUNT], size_t lens[ULM_F__COUNT], char *msg,
                            size_t msgcap) {
    for (int f = 0; f < ULM_F__COUNT; f++)
        names[f] = NULL, lens[f] = 0;
    if (!map) return ULM_OK;
    const char *p = map;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n > 0) {
            if (!eq || eq == p || eq == p + n - 1) {
                snprintf(msg, msgcap, "--map: '%.*s' is not field=column", (int)n, p);
                return ULM_ERR_MISUSE;
            }
            int f = ulm_field_from_name(p, (size_t)(eq - p));
            if (f < 0) {
                snprintf(msg, msgcap,
                         "--map: unknown field '%.*s' (fields: user, item, time, type, quantity, price, order, "
                         "text, query)",
                         (int)(eq - p), p);
                return ULM_ERR_MISUSE;
            }
            if (names[f]) {
                snprintf(msg, msgcap, "--map: field '%s' is mapped twice", ulm_field_name(f));
                return ULM_ERR_MISUSE;
            }
            names[f] = eq + 1;
            lens[f] = n - (size_t)(eq + 1 - p);
        }
        if (!end) break;
        p = end + 1;
    }
    return ULM_OK;
}

ulm_status ulm_ingest_check_map(const char *map, ulm_diag *diag) {
    const char *names[ULM_F__COUNT];
    size_t lens[ULM_F__COUNT];
    char msg[200];
    ulm_status s = parse_map(map, names, lens, msg, sizeof msg);
    if (s != ULM_OK && diag) {
        memset(diag, 0, sizeof *diag);
        diag->status = s;
        snprintf(diag->message, sizeof diag->message, "%s", msg);
    }
    return s;
}

/* True when header name a equals b ignoring case, '_', '-' and spaces. */
static bool loose_eq(const char *a, size_t al, const char *b, size_t bl) {
    size_t i = 0, j = 0;
    for (;;) {
        while (i < al && (a[i] == '_' || a[i] == '-' || a[i] == ' '))
            i++;
        while (j < bl && (b[j] == '_' || b[j] == '-' || b[j] == ' '))
            j++;
        if (i == al || j == bl) return i == al && j == bl;
        char x = a[i], y = b[j];
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return false;
        i++, j++;
    }
}

/* Lists the header's columns into out ("a, b, c"), for messages that suggest --map. */
static void list_columns(const ulm_ingest_file_report *fr, char *out, size_t cap) {
    size_t o = 0;
    out[0] = 0;
    for (uint32_t c = 0; c < fr->ncols && o + 8 < cap; c++) {
        int n = snprintf(out + o, cap - o, "%s'%s'", c ? ", " : "", fr->colname[c]);
        if (n < 0 || (size_t)n >= cap - o) {
            snprintf(out + (o < cap - 5 ? o : cap - 5), 5, " ...");
            return;
        }
        o += (size_t)n;
    }
}

/* Maps header columns to canonical fields: --map first, then recognised names. */
static ulm_status resolve_columns(ulm_ingest *ing, ulm_ingest_file_report *fr, ulm_diag *diag) {
    const char *names[ULM_F__COUNT];
    size_t lens[ULM_F__COUNT];
    char cols[700];
    ulm_status s = parse_map(ing->opts.map, names, lens, ing->msg, sizeof ing->msg);
    if (s != ULM_OK) return msg_to_diag(ing, diag, s);
    int rank[ULM_F__COUNT];
    for (int f = 0; f < ULM_F__COUNT; f++)
        fr->col[f] = -1, rank[f] = 1 << 30;
    for (int f = 0; f < ULM_F__COUNT; f++) {
        if (!names[f]) continue;
        int found = -1;
        for (uint32_t c = 0; c < fr->ncols && found < 0; c++)
            if (strlen(fr->colname[c]) == lens[f] && memcmp(fr->colname[c], names[f], lens[f]) == 0) found = (int)c;
        for (uint32_t c = 0; c < fr->ncols && found < 0; c++)
            if (loose_eq(fr->colname[c], strlen(fr->colname[c]), names[f], lens[f])) found = (int)c;
        if (found < 0) {
            list_columns(fr, cols, sizeof cols);
            return fatal(ing, diag, ULM_ERR_MISUSE,
                         "--map: column '%.*s' (for %s) is not in the header of %s (columns: %s)", (int)lens[f],
                         names[f], ulm_field_name(f), fr->path, cols);
        }
        fr->col[f] = found;
        fr->used[found] = true;
    }
    for (uint32_t c = 0; c < fr->ncols; c++) {
        if (fr->used[c]) continue;
        int r;
        int f = ulm_field_detect(fr->colname[c], strlen(fr->colname[c]), &r);
        if (f < 0 || names[f] || r >= rank[f]) continue;
        fr->col[f] = (int)c;
        rank[f] = r;
    }
    for (int f = 0; f < ULM_F__COUNT; f++)
        if (fr->col[f] >= 0) fr->used[fr->col[f]] = true;
    if (fr->col[ULM_F_ITEM] < 0 || fr->col[ULM_F_TIME] < 0) {
        list_columns(fr, cols, sizeof cols);
        bool both = fr->col[ULM_F_ITEM] < 0 && fr->col[ULM_F_TIME] < 0;
        const char *what = both ? "item and time columns" : fr->col[ULM_F_ITEM] < 0 ? "item column" : "time column";
        const char *hint = both ? "item=COLUMN,time=COLUMN" : fr->col[ULM_F_ITEM] < 0 ? "item=COLUMN" : "time=COLUMN";
        return fatal(ing, diag, ULM_ERR_PARSE, "%s: no %s found among the columns %s; name %s with --map %s", fr->path,
                     what, cols, both ? "them" : "it", hint);
    }
    return ULM_OK;
}

/* A column name made safe to print: invalid UTF-8 and control bytes become '?'. */
static char *display_name(const char *s, uint32_t len) {
    char *out = malloc((size_t)len + 1);
    if (!out) return NULL;
    memcpy(out, s, len);
    out[len] = 0;
    if (!ulm_utf8_valid(s, len))
        for (uint32_t i = 0; i < len; i++)
            if ((unsigned char)out[i] >= 0x80 || out[i] == 0) out[i] = '?';
    for (uint32_t i = 0; i < len; i++)
        if ((unsigned char)out[i] < 0x20) out[i] = '?';
    return out;
}

/* Adds the file's report entry (the header is filled in later). */
static ulm_ingest_file_report *add_file(ulm_ingest *ing, const char *path, uint64_t bytes) {
    if (ing->nfiles == ing->files_cap) {
        uint32_t nc = ing->files_cap ? ing->files_cap * 2 : 4;
        ulm_ingest_file_report *p = realloc(ing->files, nc * sizeof *p);
        if (!p) return NULL;
        ing->files = p;
        ing->files_cap = nc;
    }
    ulm_ingest_file_report *fr = &ing->files[ing->nfiles];
    memset(fr, 0, sizeof *fr);
    fr->path = strdup(path);
    if (!fr->path) return NULL;
    fr->bytes = bytes;
    ing->nfiles++;
    return fr;
}

/* Copies header names into fr (with a used[] flag per column). */
static bool set_columns(ulm_ingest_file_report *fr, const char *const *names, const uint32_t *lens, uint32_t n) {
    fr->colname = calloc(n ? n : 1, sizeof *fr->colname);
    fr->used = calloc(n ? n : 1, sizeof *fr->used);
    if (!fr->colname || !fr->used) return false;
    for (uint32_t c = 0; c < n; c++) {
        fr->colname[c] = display_name(names[c], lens[c]);
        if (!fr->colname[c]) return false;
        fr->ncols = c + 1;
    }
    fr->ncols = n;
    return true;
}

/* ---- rows ---- */

/* Counts a rejected row; under --strict, formats the message and asks the caller to stop. */
static bool reject(ulm_ingest *ing, ulm_ingest_file_report *fr, uint64_t line, int reason, int column) {
    ing->rejected++;
    fr->rejected++;
    ing->reason_count[reason]++;
    if (ing->reason_nfirst[reason] < ULM_INGEST_FIRST_LINES) {
        ulm_reason_site *s = &ing->reason_first[reason][ing->reason_nfirst[reason]++];
        s->file = (uint32_t)(fr - ing->files);
        s->line = line;
        s->column = column;
    }
    if (!ing->opts.strict) return false;
    if (column >= 0 && (uint32_t)column < fr->ncols)
        snprintf(ing->msg, sizeof ing->msg, "%s:%llu: column '%s': %s", fr->path, (unsigned long long)line,
                 fr->colname[column], reason_names[reason]);
    else
        snprintf(ing->msg, sizeof ing->msg, "%s:%llu: %s", fr->path, (unsigned long long)line, reason_names[reason]);
    return true;
}

/* Row outcomes besides a reason code. */
enum { ROW_KEPT = -1, ROW_NOMEM = -2 };

/* Grows the per-event text column alongside the event table. */
static bool etext_reserve(ulm_ingest *ing, size_t n) {
    if (n <= ing->etext_cap) return true;
    size_t nc = ing->etext_cap ? ing->etext_cap * 2 : 4096;
    while (nc < n)
        nc *= 2;
    uint32_t *p = realloc(ing->etext, nc * sizeof *p);
    if (!p) return false;
    ing->etext = p;
    ing->etext_cap = nc;
    return true;
}

/* Interns s[0..len) or gives ULM_NONE for an empty value; *oom is set when interning fails.
 * *last remembers the previous row's id for this field: logs repeat the user, order and time
 * of consecutive lines (one invoice), and one memcmp is cheaper than a hash lookup. */
static uint32_t intern_opt(ulm_dict *d, const char *s, uint32_t len, uint32_t *last, bool *oom) {
    if (!len) return ULM_NONE;
    if (*last < d->n) {
        uint32_t pl;
        const char *p = ulm_dict_str(d, *last, &pl);
        if (pl == len && memcmp(p, s, len) == 0) return *last;
    }
    uint32_t id = ulm_dict_intern(d, s, len, NULL);
    if (id == ULM_NONE) *oom = true;
    *last = id;
    return id;
}

/* Checks, parses and stores one tokenized row (fields indexed by header column). Returns
 * ROW_KEPT (kept or duplicate, counted here), ROW_NOMEM, or a reason with *bad_col set. */
static int row_to_event(ulm_ingest *ing, ulm_ingest_file_report *fr, const ulm_fieldv *fv, int *bad_col) {
    const char *t[ULM_F__COUNT];
    uint32_t tl[ULM_F__COUNT];
    size_t need = 0;
    for (int f = 0; f < ULM_F__COUNT; f++) {
        int c = fr->col[f];
        if (c >= 0 && (fv[c].kind == ULM_FV_CSV_ESC || fv[c].kind == ULM_FV_JSON_ESC)) need += fv[c].len;
    }
    if (need && !scratch_reserve(ing, need)) return ROW_NOMEM;
    size_t used = 0;
    for (int f = 0; f < ULM_F__COUNT; f++) {
        int c = fr->col[f];
        t[f] = NULL;
        tl[f] = 0;
        if (c < 0) continue;
        *bad_col = c;
        if (fv[c].kind == ULM_FV_NESTED) return ULM_R_NOT_SCALAR;
        t[f] = ulm_fieldv_text(&fv[c], ing->scratch, &used, &tl[f]);
        if (!t[f]) return ULM_R_BAD_JSON;
        if (tl[f] && !ulm_utf8_valid(t[f], tl[f])) return ULM_R_BAD_UTF8;
    }
    ulm_event e;
    *bad_col = fr->col[ULM_F_TIME];
    if (!tl[ULM_F_TIME]) return ULM_R_MISSING_TIME;
    if (!ulm_parse_time(t[ULM_F_TIME], tl[ULM_F_TIME], &e.time)) return ULM_R_BAD_TIME;
    int type = ULM_EV_PURCHASE;
    if (fr->col[ULM_F_TYPE] >= 0) {
        *bad_col = fr->col[ULM_F_TYPE];
        type = ulm_event_type_parse(t[ULM_F_TYPE], tl[ULM_F_TYPE]);
        if (type < 0) return ULM_R_UNKNOWN_TYPE;
    }
    double q = 1, price = NAN;
    if (tl[ULM_F_QTY]) {
        *bad_col = fr->col[ULM_F_QTY];
        if (!ulm_parse_number(t[ULM_F_QTY], tl[ULM_F_QTY], &q) || fabs(q) > FLT_MAX) return ULM_R_BAD_NUMBER;
    }
    if (tl[ULM_F_PRICE]) {
        *bad_col = fr->col[ULM_F_PRICE];
        if (!ulm_parse_number(t[ULM_F_PRICE], tl[ULM_F_PRICE], &price)) return ULM_R_BAD_NUMBER;
    }
    if (!tl[ULM_F_ITEM] && !(type == ULM_EV_SEARCH && tl[ULM_F_QUERY])) {
        *bad_col = fr->col[ULM_F_ITEM];
        return ULM_R_MISSING_ITEM;
    }
    /* Online Retail convention: invoice "C536379" cancels; a negative purchase is a return. */
    const char *ord = t[ULM_F_ORDER];
    bool cancelled = tl[ULM_F_ORDER] >= 2 && ord[0] == 'C' && ord[1] >= '0' && ord[1] <= '9';
    if (type == ULM_EV_PURCHASE && (cancelled || q < 0)) type = ULM_EV_RETURN;
    if (q < 0) {
        if (type != ULM_EV_RETURN) {
            *bad_col = fr->col[ULM_F_QTY];
            return ULM_R_NEG_QTY;
        }
        q = -q;
    }
    if (q == 0) q = 0; /* one zero: -0 and 0 are the same quantity */
    if (price == 0) price = 0;
    e.type = (uint8_t)type;
    e.qty = (float)q;
    e.price = price;
    bool oom = false;
    uint32_t *last = ing->last_id;
    e.user = intern_opt(&ing->ev.users, t[ULM_F_USER], tl[ULM_F_USER], &last[ULM_F_USER], &oom);
    e.item = intern_opt(&ing->ev.items, t[ULM_F_ITEM], tl[ULM_F_ITEM], &last[ULM_F_ITEM], &oom);
    e.order = intern_opt(&ing->ev.orders, t[ULM_F_ORDER], tl[ULM_F_ORDER], &last[ULM_F_ORDER], &oom);
    e.query = intern_opt(&ing->ev.queries, t[ULM_F_QUERY], tl[ULM_F_QUERY], &last[ULM_F_QUERY], &oom);
    uint32_t text = intern_opt(&ing->ev.texts, t[ULM_F_TEXT], tl[ULM_F_TEXT], &last[ULM_F_TEXT], &oom);
    if (oom || !etext_reserve(ing, ing->ev.n + 1) || ulm_events_push(&ing->ev, &e) != ULM_OK) return ROW_NOMEM;
    size_t i = ing->ev.n - 1;
    ing->etext[i] = text;
    bool dup;
    if (ulm_dedup_add(&ing->set, &ing->ev, ing->etext, i, &dup) != ULM_OK) return ROW_NOMEM;
    if (dup) {
        ing->ev.n--;
        ing->duplicates++;
        fr->duplicates++;
        return ROW_KEPT;
    }
    ing->kept++;
    fr->kept++;
    ing->kept_by_type[type]++;
    if (e.user == ULM_NONE) {
        ing->guests++;
        fr->guests++;
    }
    if (e.item != ULM_NONE && text != ULM_NONE &&
        (e.item >= ing->ev.item_text_cap || ing->ev.item_text[e.item] == ULM_NONE)) {
        if (ulm_events_set_item_text(&ing->ev, e.item, t[ULM_F_TEXT], tl[ULM_F_TEXT], false) != ULM_OK)
            return ROW_NOMEM;
    }
    return ROW_KEPT;
}

/* Handles one row's outcome; returns a status to stop on (strict, out of memory) or ULM_OK. */
static ulm_status finish_row(ulm_ingest *ing, ulm_ingest_file_report *fr, uint64_t line, int r, int col,
                             ulm_diag *diag) {
    if (r == ROW_KEPT) return ULM_OK;
    if (r == ROW_NOMEM)
        return fatal(ing, diag, ULM_ERR_NOMEM, "%s:%llu: out of memory", fr->path, (unsigned long long)line);
    if (reject(ing, fr, line, r, col)) return msg_to_diag(ing, diag, ULM_ERR_PARSE);
    return ULM_OK;
}

/* Maps a tokenizer error to its reject reason. */
static int row_err_reason(ulm_row_err e) {
    switch (e) {
    case ULM_ROW_TOO_FEW: return ULM_R_TOO_FEW;
    case ULM_ROW_TOO_MANY: return ULM_R_TOO_MANY;
    case ULM_ROW_UNTERMINATED_QUOTE: return ULM_R_UNTERMINATED;
    case ULM_ROW_BAD_QUOTE: return ULM_R_BAD_QUOTE;
    default: return ULM_R_BAD_JSON;
    }
}

/* Sizes the duplicate set for the rows still to come, estimated from the bytes per row so
 * far, so a big file does not rehash the set a dozen times. Only a hint: failure is ignored. */
static void reserve_for_rest(ulm_ingest *ing, const ulm_ingest_file_report *fr, size_t pos, size_t len) {
    if (!pos || pos >= len) return;
    double per_row = (double)pos / (double)fr->rows_read;
    double rest = (double)(len - pos) / per_row * 1.05;
    if (rest > 1e9) return;
    (void)ulm_dedup_reserve(&ing->set, ing->ev.n + (size_t)rest);
}

/* CSV/TSV body: header, column mapping, then every row. */
static ulm_status ingest_csv(ulm_ingest *ing, ulm_ingest_file_report *fr, const char *buf, size_t len, char delim,
                             ulm_diag *diag) {
    ulm_csv c;
    ulm_csv_init(&c, buf, len, delim);
    enum { MAX_COLS = 4096 };
    ulm_fieldv *fv = malloc((MAX_COLS + 1) * sizeof *fv);
    const char **names = malloc(MAX_COLS * sizeof *names);
    uint32_t *lens = malloc(MAX_COLS * sizeof *lens);
    ulm_status st = ULM_OK;
    uint32_t nf;
    uint64_t line;
    ulm_row_err err;
    if (!fv || !names || !lens) {
        st = fatal(ing, diag, ULM_ERR_NOMEM, "%s: out of memory", fr->path);
        goto done;
    }
    if (!ulm_csv_next(&c, fv, MAX_COLS + 1, &nf, &line, &err)) {
        st = fatal(ing, diag, ULM_ERR_PARSE, "%s: empty file", fr->path);
        goto done;
    }
    if (err != ULM_ROW_OK || nf > MAX_COLS) {
        st = fatal(ing, diag, ULM_ERR_PARSE, "%s:%llu: cannot read the header line: %s", fr->path,
                   (unsigned long long)line,
                   err != ULM_ROW_OK ? reason_names[row_err_reason(err)] : "more than 4096 columns");
        goto done;
    }
    size_t need = 0;
    for (uint32_t k = 0; k < nf; k++)
        need += fv[k].len;
    if (!scratch_reserve(ing, need + 1)) {
        st = fatal(ing, diag, ULM_ERR_NOMEM, "%s: out of memory", fr->path);
        goto done;
    }
    size_t used = 0;
    for (uint32_t k = 0; k < nf; k++)
        names[k] = ulm_fieldv_text(&fv[k], ing->scratch, &used, &lens[k]);
    if (!set_columns(fr, names, lens, nf)) {
        st = fatal(ing, diag, ULM_ERR_NOMEM, "%s: out of memory", fr->path);
        goto done;
    }
    if ((st = resolve_columns(ing, fr, diag)) != ULM_OK) goto done;
    const uint32_t ncols = fr->ncols;
    ulm_progress prog;
    ulm_progress_start(&prog, fr->path, len);
    bool any = false;
    while (ulm_csv_next(&c, fv, ncols + 1, &nf, &line, &err)) {
        any = true;
        ing->rows_read++;
        fr->rows_read++;
        if (ing->opts.progress && (fr->rows_read & 0xFFFF) == 0) ulm_progress_update(&prog, c.pos);
        if (fr->rows_read == 4096) reserve_for_rest(ing, fr, c.pos, len);
        int r, col = -1;
        if (err != ULM_ROW_OK)
            r = row_err_reason(err);
        else if (nf < ncols)
            r = ULM_R_TOO_FEW;
        else if (nf > ncols)
            r = ULM_R_TOO_MANY;
        else
            r = row_to_event(ing, fr, fv, &col);
        if ((st = finish_row(ing, fr, line, r, col, diag)) != ULM_OK) break;
    }
    if (ing->opts.progress) ulm_progress_end(&prog);
    if (st == ULM_OK && !any) st = fatal(ing, diag, ULM_ERR_PARSE, "%s: header only, no data rows", fr->path);
done:
    free(fv);
    free(names);
    free(lens);
    return st;
}

/* Next non-blank line of buf at *pos: its slice and physical line number; false at the end. */
static bool next_line(const char *buf, size_t len, size_t *pos, uint64_t *lineno, const char **s, size_t *n) {
    while (*pos < len) {
        const char *start = buf + *pos;
        const char *nl = memchr(start, '\n', len - *pos);
        size_t l = nl ? (size_t)(nl - start) : len - *pos;
        *pos += l + (nl ? 1 : 0);
        (*lineno)++;
        bool blank = true;
        for (size_t i = 0; i < l && blank; i++)
            blank = start[i] == ' ' || start[i] == '\t' || start[i] == '\r';
        if (blank) continue;
        *s = start;
        *n = l;
        return true;
    }
    return false;
}

/* JSON Lines body: one pass to collect the keys (the "header"), one to read the rows. */
static ulm_status ingest_jsonl(ulm_ingest *ing, ulm_ingest_file_report *fr, const char *buf, size_t len,
                               ulm_diag *diag) {
    ulm_jkeys keys = {0};
    ulm_fieldv *fv = NULL;
    ulm_status st = ULM_OK;
    size_t pos = 0;
    uint64_t lineno = 0;
    const char *s;
    size_t n;
    while (next_line(buf, len, &pos, &lineno, &s, &n))
        (void)ulm_json_line(s, n, &keys, true, NULL, 0);
    if (keys.n == 0) {
        st = fatal(ing, diag, ULM_ERR_PARSE, "%s: no JSON object with any field (expected one object per line)",
                   fr->path);
        goto done;
    }
    fv = malloc(keys.n * sizeof *fv);
    if (!fv || !set_columns(fr, (const char *const *)keys.name, keys.len, keys.n)) {
        st = fatal(ing, diag, ULM_ERR_NOMEM, "%s: out of memory", fr->path);
        goto done;
    }
    if ((st = resolve_columns(ing, fr, diag)) != ULM_OK) goto done;
    ulm_progress prog;
    ulm_progress_start(&prog, fr->path, len);
    pos = 0;
    lineno = 0;
    while (next_line(buf, len, &pos, &lineno, &s, &n)) {
        ing->rows_read++;
        fr->rows_read++;
        if (ing->opts.progress && (fr->rows_read & 0xFFFF) == 0) ulm_progress_update(&prog, pos);
        if (fr->rows_read == 4096) reserve_for_rest(ing, fr, pos, len);
        int r, col = -1;
        if (ulm_json_line(s, n, &keys, false, fv, keys.n) != ULM_ROW_OK)
            r = ULM_R_BAD_JSON;
        else
            r = row_to_event(ing, fr, fv, &col);
        if ((st = finish_row(ing, fr, lineno, r, col, diag)) != ULM_OK) break;
    }
    if (ing->opts.progress) ulm_progress_end(&prog);
done:
    free(fv);
    ulm_jkeys_free(&keys);
    return st;
}

ulm_status ulm_ingest_buffer(ulm_ingest *ing, const char *path, const char *buf, size_t len, uint64_t disk_bytes,
                             ulm_diag *diag) {
    ulm_ingest_file_report *fr = add_file(ing, path, disk_bytes);
    if (!fr) return fatal(ing, diag, ULM_ERR_NOMEM, "%s: out of memory", path);
    if (memchr(buf, 0, len < 65536 ? len : 65536))
        return fatal(ing, diag, ULM_ERR_PARSE, "%s: binary data, not a text event log (NUL bytes in the first 64 KiB)",
                     path);
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) buf += 3, len -= 3;
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i == len) return fatal(ing, diag, ULM_ERR_PARSE, "%s: empty file", path);
    int fmt = ing->opts.format >= 0 ? ing->opts.format : ulm_format_from_path(path);
    if (fmt < 0) fmt = ulm_format_sniff(buf, len);
    fr->format = fmt;
    if (fmt == ULM_FMT_JSONL && buf[i] == '[')
        return fatal(ing, diag, ULM_ERR_PARSE, "%s: a JSON array, not JSON Lines (write one object per line)", path);
    uint64_t r0 = ing->rows_read, k0 = ing->kept, d0 = ing->duplicates, j0 = ing->rejected;
    ulm_status st = fmt == ULM_FMT_JSONL ? ingest_jsonl(ing, fr, buf, len, diag)
                                         : ingest_csv(ing, fr, buf, len, fmt == ULM_FMT_TSV ? '\t' : ',', diag);
    if (st != ULM_OK) return st;
    /* Every row read is kept, a duplicate or rejected: checked here, not just promised. */
    if ((ing->kept - k0) + (ing->duplicates - d0) + (ing->rejected - j0) != ing->rows_read - r0 ||
        fr->kept + fr->duplicates + fr->rejected != fr->rows_read)
        return fatal(ing, diag, ULM_ERR_MISUSE, "%s: internal error: row counts do not add up", path);
    return ULM_OK;
}

ulm_status ulm_ingest_file(ulm_ingest *ing, const char *path, ulm_diag *diag) {
    struct stat st;
    uint64_t disk = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    char *buf = NULL;
    size_t len = 0;
    ulm_diag d;
    ulm_status s = ulm_file_read(path, true, &buf, &len, &d);
    if (s != ULM_OK) {
        if (!d.message[0]) snprintf(d.message, sizeof d.message, "%s: %s", path, ulm_status_str(s));
        return fatal(ing, diag, s, "%s", d.message);
    }
    s = ulm_ingest_buffer(ing, path, buf, len, disk, diag);
    free(buf);
    return s;
}

ulm_status ulm_ingest_adopt(ulm_ingest *ing, ulm_events *ev, uint32_t *event_text, ulm_diag *diag) {
    ulm_events_free(&ing->ev);
    ing->ev = *ev;
    ulm_events_init(ev);
    free(ing->etext);
    ing->etext = event_text;
    ing->etext_cap = event_text ? ing->ev.n : 0;
    if (!event_text) {
        if (!etext_reserve(ing, ing->ev.n + 1)) return fatal(ing, diag, ULM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < ing->ev.n; i++) {
            uint32_t it = ing->ev.item[i];
            ing->etext[i] = it != ULM_NONE && it < ing->ev.item_text_cap ? ing->ev.item_text[it] : ULM_NONE;
        }
    }
    ing->n_existing = ing->ev.n;
    for (size_t i = 0; i < ing->ev.n; i++) {
        bool dup;
        if (ulm_dedup_add(&ing->set, &ing->ev, ing->etext, i, &dup) != ULM_OK)
            return fatal(ing, diag, ULM_ERR_NOMEM, "out of memory");
    }
    return ULM_OK;
}
