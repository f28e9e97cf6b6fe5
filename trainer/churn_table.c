/* churn_table.c: reads tabular CSV files for churn models (see churn_table.h). */
#include "churn_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "ingest.h"

/* Cells read as missing. */
static bool is_missing(const char *s, uint32_t n) {
    static const char *const na[] = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"};
    for (size_t i = 0; i < sizeof na / sizeof na[0]; i++)
        if (strlen(na[i]) == n && memcmp(na[i], s, n) == 0) return true;
    return false;
}

static char *dup_n(const char *s, size_t n) {
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = 0;
    }
    return r;
}

/* A CSV file split into rows of decoded fields (kept for a second pass). */
typedef struct csv_file {
    char *buf, *scratch;
    size_t len;
    ulm_csv cur;
    uint32_t n_cols;
    char **header;
    ulm_fieldv *f;
    uint32_t cap;
} csv_file;

static void csv_close(csv_file *c) {
    for (uint32_t i = 0; c->header && i < c->n_cols; i++) free(c->header[i]);
    free(c->header), free(c->buf), free(c->scratch), free(c->f);
    memset(c, 0, sizeof *c);
}

/* Opens path, reads the header. */
static ulm_status csv_open(const char *path, csv_file *c, ulm_diag *d) {
    memset(c, 0, sizeof *c);
    ulm_status s = ulm_file_read(path, true, &c->buf, &c->len, d);
    if (s != ULM_OK) return s;
    c->scratch = malloc(c->len + 16);
    c->cap = 4096;
    c->f = malloc(c->cap * sizeof *c->f);
    if (!c->scratch || !c->f) return ulm_diag_set(d, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    char delim = ulm_format_sniff(c->buf, c->len) == ULM_FMT_TSV ? '\t' : ',';
    ulm_csv_init(&c->cur, c->buf, c->len, delim);
    uint32_t nf;
    uint64_t line;
    ulm_row_err e;
    if (!ulm_csv_next(&c->cur, c->f, c->cap, &nf, &line, &e))
        return ulm_diag_set(d, ULM_ERR_PARSE, NULL, 0, "%s: empty file (a header row is needed)", path);
    if (e != ULM_ROW_OK || nf > c->cap) return ulm_diag_set(d, ULM_ERR_PARSE, NULL, 0, "%s:1: unreadable header", path);
    c->n_cols = nf;
    c->header = calloc(nf, sizeof *c->header);
    if (!c->header) return ulm_diag_set(d, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    for (uint32_t i = 0; i < nf; i++) {
        size_t used = 0;
        uint32_t n;
        const char *t = ulm_fieldv_text(&c->f[i], c->scratch, &used, &n);
        c->header[i] = dup_n(t ? t : "", t ? n : 0);
        if (!c->header[i]) return ulm_diag_set(d, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(c->header[i], c->header[j]) == 0)
                return ulm_diag_set(d, ULM_ERR_PARSE, NULL, 0, "%s:1: column '%s' appears twice", path, c->header[i]);
    }
    return ULM_OK;
}

/* Next data row: fills text[i], len[i] for each column; false at the end. Tokenizer errors and wrong
 * field counts are errors naming the line. */
static bool csv_row(csv_file *c, const char *path, const char **text, uint32_t *len, uint64_t *line, ulm_status *st,
                    ulm_diag *d) {
    uint32_t nf;
    ulm_row_err e;
    *st = ULM_OK;
    if (!ulm_csv_next(&c->cur, c->f, c->cap, &nf, line, &e)) return false;
    if (e != ULM_ROW_OK || nf != c->n_cols) {
        *st = ulm_diag_set(d, ULM_ERR_PARSE, NULL, *line, "%s:%llu: %s", path, (unsigned long long)*line,
                        e != ULM_ROW_OK ? "malformed quoting" : "wrong number of fields");
        if (e == ULM_ROW_OK)
            snprintf(d->message + strlen(d->message), sizeof d->message - strlen(d->message), " (%u, header has %u)", nf,
                     c->n_cols);
        return false;
    }
    size_t used = 0;
    for (uint32_t i = 0; i < nf; i++) {
        text[i] = ulm_fieldv_text(&c->f[i], c->scratch, &used, &len[i]);
        if (!text[i]) text[i] = "", len[i] = 0;
    }
    return true;
}

static int find_col(const csv_file *c, const char *name) {
    for (uint32_t i = 0; i < c->n_cols; i++)
        if (strcmp(c->header[i], name) == 0) return (int)i;
    return -1;
}

/* Maps a label cell to 0/1 with the schema's values; -1 when it is neither. */
static int label_of(const ulm_ctab_schema *s, const char *t, uint32_t n) {
    if (strlen(s->positive) == n && memcmp(s->positive, t, n) == 0) return 1;
    if (strlen(s->negative) == n && memcmp(s->negative, t, n) == 0) return 0;
    return -1;
}

typedef struct col_stats {
    bool non_numeric;
    uint64_t missing, present;
    double first;
    bool varies;
} col_stats;

ulm_status ulm_ctab_read_train(const char *path, const char *label, const char *positive, ulm_ctab_schema *s,
                               ulm_ctab *t, ulm_diag *d) {
    memset(s, 0, sizeof *s);
    memset(t, 0, sizeof *t);
    csv_file c;
    ulm_status st = csv_open(path, &c, d);
    const char **text = NULL;
    uint32_t *len = NULL;
    col_stats *cs = NULL;
    ulm_dict labels, *raw = NULL;
    ulm_dict_init(&labels);
    uint64_t *freq = NULL;
    uint32_t *remap = NULL;
    int *col_of = NULL;
    if (st != ULM_OK) goto done;
    int lc = find_col(&c, label);
    if (lc < 0) {
        st = ulm_diag_set(d, ULM_ERR_PARSE, NULL, 0, "%s: no label column '%s' in the header", path, label);
        goto done;
    }
    text = calloc(c.n_cols, sizeof *text);
    len = calloc(c.n_cols, sizeof *len);
    cs = calloc(c.n_cols, sizeof *cs);
    raw = calloc(c.n_cols, sizeof *raw);
    if (!text || !len || !cs || !raw) goto nomem;
    for (uint32_t j = 0; j < c.n_cols; j++) ulm_dict_init(&raw[j]);
    /* pass 1: kinds, label values, raw categories, constant columns */
    uint64_t line;
    uint32_t rows = 0;
    size_t first_pos = c.cur.pos;
    uint64_t first_line = c.cur.line;
    while (csv_row(&c, path, text, len, &line, &st, d)) {
        rows++;
        if (is_missing(text[lc], len[lc])) {
            st = ulm_diag_set(d, ULM_ERR_PARSE, NULL, line, "%s:%llu: the label '%s' is missing", path,
                           (unsigned long long)line, label);
            goto done;
        }
        if (ulm_dict_intern(&labels, text[lc], len[lc], NULL) == ULM_NONE) goto nomem;
        for (uint32_t j = 0; j < c.n_cols; j++) {
            if ((int)j == lc) continue;
            col_stats *k = &cs[j];
            if (is_missing(text[j], len[j])) {
                k->missing++;
                continue;
            }
            double v;
            if (!k->non_numeric && !ulm_parse_number(text[j], len[j], &v)) k->non_numeric = true;
            if (ulm_dict_intern(&raw[j], text[j], len[j], NULL) == ULM_NONE) goto nomem;
            k->present++;
        }
    }
    if (st != ULM_OK) goto done;
    if (rows == 0) {
        st = ulm_diag_set(d, ULM_ERR_PARSE, NULL, 0, "%s: no data rows", path);
        goto done;
    }
    /* the label: exactly two values; the positive one named or implied */
    if (labels.n == 1) {
        uint32_t n;
        const char *v = ulm_dict_str(&labels, 0, &n);
        st = ulm_diag_set(d, ULM_ERR_RANGE, NULL, 0, "%s: label '%s' has one class only ('%.*s'); churn needs two", path,
                       label, (int)n, v);
        goto done;
    }
    if (labels.n > 2) {
        char list[120] = "";
        for (uint32_t i = 0; i < labels.n && i < 5; i++) {
            uint32_t n;
            const char *v = ulm_dict_str(&labels, i, &n);
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%.*s'", i ? ", " : "", (int)(n < 20 ? n : 20), v);
        }
        st = ulm_diag_set(d, ULM_ERR_RANGE, NULL, 0, "%s: label '%s' has %u distinct values (%s%s); expected two", path,
                       label, labels.n, list, labels.n > 5 ? ", ..." : "");
        goto done;
    }
    uint32_t n0, n1;
    const char *v0 = ulm_dict_str(&labels, 0, &n0), *v1 = ulm_dict_str(&labels, 1, &n1);
    int pos_id = -1;
    if (positive) {
        pos_id = (int)ulm_dict_find(&labels, positive, strlen(positive));
        if (pos_id == (int)ULM_NONE) {
            st = ulm_diag_set(d, ULM_ERR_RANGE, NULL, 0, "%s: --positive '%s' is not a value of '%s' (values: '%.*s', '%.*s')",
                           path, positive, label, (int)n0, v0, (int)n1, v1);
            goto done;
        }
    } else {
        static const char *const implied[] = {"1", "yes", "true", "Yes", "True", "TRUE", "YES", "Y", "y"};
        for (size_t i = 0; i < sizeof implied / sizeof implied[0] && pos_id < 0; i++) {
            uint32_t id = ulm_dict_find(&labels, implied[i], strlen(implied[i]));
            if (id != ULM_NONE) pos_id = (int)id;
        }
        if (pos_id < 0) {
            st = ulm_diag_set(d, ULM_ERR_RANGE, NULL, 0,
                           "%s: say which value of '%s' means churn with --positive ('%.*s' or '%.*s')", path, label,
                           (int)n0, v0, (int)n1, v1);
            goto done;
        }
    }
    s->label = dup_n(label, strlen(label));
    s->positive = pos_id == 0 ? dup_n(v0, n0) : dup_n(v1, n1);
    s->negative = pos_id == 0 ? dup_n(v1, n1) : dup_n(v0, n0);
    /* columns kept: not the label, not all-missing, not a single value everywhere */
    s->names = calloc(c.n_cols, sizeof *s->names);
    s->kind = calloc(c.n_cols, sizeof *s->kind);
    s->n_cats = calloc(c.n_cols, sizeof *s->n_cats);
    s->cats = calloc(c.n_cols, sizeof *s->cats);
    s->dropped = calloc(c.n_cols, sizeof *s->dropped);
    col_of = malloc(c.n_cols * sizeof *col_of);
    if (!s->label || !s->positive || !s->negative || !s->names || !s->kind || !s->n_cats || !s->cats || !s->dropped ||
        !col_of)
        goto nomem;
    for (uint32_t j = 0; j < c.n_cols; j++) {
        col_of[j] = -1;
        if ((int)j == lc) continue;
        const char *why = NULL;
        if (cs[j].present == 0) why = "all missing";
        else if (raw[j].n == 1 && cs[j].missing == 0) why = "constant";
        if (why) {
            size_t n = strlen(c.header[j]) + strlen(why) + 4;
            s->dropped[s->n_dropped] = malloc(n);
            if (!s->dropped[s->n_dropped]) goto nomem;
            snprintf(s->dropped[s->n_dropped++], n, "%s (%s)", c.header[j], why);
            continue;
        }
        uint32_t f = s->n_features++;
        col_of[j] = (int)f;
        s->names[f] = dup_n(c.header[j], strlen(c.header[j]));
        if (!s->names[f]) goto nomem;
        s->kind[f] = cs[j].non_numeric ? ULM_FEAT_CAT : ULM_FEAT_NUM;
        ulm_dict_init(&s->cats[f]);
    }
    /* categories: codes in order of first appearance, at most ULM_CTAB_MAX_CATS (the most frequent) */
    t->n_rows = rows;
    t->n_features = s->n_features;
    t->x = malloc(((size_t)rows * s->n_features + 1) * sizeof *t->x);
    t->y = malloc(((size_t)rows + 1) * sizeof *t->y);
    if (!t->x || !t->y) goto nomem;
    uint32_t max_raw = 0;
    for (uint32_t j = 0; j < c.n_cols; j++)
        if (raw[j].n > max_raw) max_raw = raw[j].n;
    freq = calloc((size_t)max_raw + 1, sizeof *freq);
    remap = malloc(((size_t)max_raw + 1) * sizeof *remap);
    if (!freq || !remap) goto nomem;
    for (uint32_t j = 0; j < c.n_cols; j++) {
        int f = col_of[j];
        if (f < 0 || s->kind[f] != ULM_FEAT_CAT) continue;
        uint32_t n = raw[j].n;
        if (n > ULM_CTAB_MAX_CATS) {
            /* count frequencies with a pass over the file for this column */
            memset(freq, 0, n * sizeof *freq);
            c.cur.pos = first_pos;
            c.cur.line = first_line;
            while (csv_row(&c, path, text, len, &line, &st, d))
                if (!is_missing(text[j], len[j])) freq[ulm_dict_find(&raw[j], text[j], len[j])]++;
            for (uint32_t k = 0; k < n; k++) {
                uint32_t rank = 0; /* categories more frequent, or as frequent and seen earlier */
                for (uint32_t q = 0; q < n; q++) rank += freq[q] > freq[k] || (freq[q] == freq[k] && q < k);
                remap[k] = rank < ULM_CTAB_MAX_CATS ? 0 : ULM_NONE;
            }
            s->rare_grouped += n - ULM_CTAB_MAX_CATS;
        } else {
            for (uint32_t k = 0; k < n; k++) remap[k] = 0;
        }
        for (uint32_t k = 0; k < n; k++) {
            if (remap[k] == ULM_NONE) continue;
            uint32_t sl;
            const char *str = ulm_dict_str(&raw[j], k, &sl);
            if (ulm_dict_intern(&s->cats[f], str, sl, NULL) == ULM_NONE) goto nomem;
        }
        s->n_cats[f] = s->cats[f].n;
    }
    /* pass 2: values */
    c.cur.pos = first_pos;
    c.cur.line = first_line;
    uint32_t r = 0;
    while (csv_row(&c, path, text, len, &line, &st, d)) {
        t->y[r] = (float)label_of(s, text[lc], len[lc]);
        float *xr = t->x + (size_t)r * s->n_features;
        for (uint32_t j = 0; j < c.n_cols; j++) {
            int f = col_of[j];
            if (f < 0) continue;
            if (is_missing(text[j], len[j])) {
                xr[f] = NAN;
            } else if (s->kind[f] == ULM_FEAT_CAT) {
                uint32_t code = ulm_dict_find(&s->cats[f], text[j], len[j]);
                xr[f] = code == ULM_NONE ? NAN : (float)code;
            } else {
                double v;
                ulm_parse_number(text[j], len[j], &v);
                xr[f] = (float)v;
            }
        }
        r++;
    }
    if (st != ULM_OK) goto done;
    st = ULM_OK;
    goto done;
nomem:
    st = ulm_diag_set(d, ULM_ERR_NOMEM, NULL, 0, "out of memory");
done:
    for (uint32_t j = 0; raw && j < c.n_cols; j++) ulm_dict_free(&raw[j]);
    free(raw), free(text), free(len), free(cs), free(freq), free(remap), free(col_of);
    ulm_dict_free(&labels);
    csv_close(&c);
    if (st != ULM_OK) {
        ulm_ctab_free(t);
        ulm_ctab_schema_free(s);
    }
    return st;
}

ulm_status ulm_ctab_read_apply(const char *path, const ulm_ctab_schema *s, bool need_label, ulm_ctab *t,
                               ulm_diag *d) {
    memset(t, 0, sizeof *t);
    csv_file c;
    ulm_status st = csv_open(path, &c, d);
    const char **text = NULL;
    uint32_t *len = NULL;
    int *col = NULL;
    if (st != ULM_OK) goto done;
    int lc = s->label ? find_col(&c, s->label) : -1;
    if (need_label && lc < 0) {
        st = ulm_diag_set(d, ULM_ERR_PARSE, NULL, 0, "%s: no label column '%s' in the header", path, s->label);
        goto done;
    }
    col = malloc(((size_t)s->n_features + 1) * sizeof *col);
    text = calloc(c.n_cols, sizeof *text);
    len = calloc(c.n_cols, sizeof *len);
    if (!col || !text || !len) goto nomem;
    for (uint32_t f = 0; f < s->n_features; f++) {
        col[f] = find_col(&c, s->names[f]);
        if (col[f] < 0) {
            st = ulm_diag_set(d, ULM_ERR_PARSE, NULL, 0, "%s: column '%s' used by the model is missing", path, s->names[f]);
            goto done;
        }
    }
    t->n_extra = c.n_cols - s->n_features - (lc >= 0);
    /* count rows first */
    size_t first_pos = c.cur.pos;
    uint64_t first_line = c.cur.line, line;
    uint32_t rows = 0;
    while (csv_row(&c, path, text, len, &line, &st, d)) rows++;
    if (st != ULM_OK) goto done;
    t->n_rows = rows;
    t->n_features = s->n_features;
    t->x = malloc(((size_t)rows * s->n_features + 1) * sizeof *t->x);
    if (lc >= 0) t->y = malloc(((size_t)rows + 1) * sizeof *t->y);
    if (!t->x || (lc >= 0 && !t->y)) goto nomem;
    c.cur.pos = first_pos;
    c.cur.line = first_line;
    uint32_t r = 0;
    while (csv_row(&c, path, text, len, &line, &st, d)) {
        if (lc >= 0) {
            int y = label_of(s, text[lc], len[lc]);
            if (y < 0) {
                st = ulm_diag_set(d, ULM_ERR_RANGE, NULL, line, "%s:%llu: label '%.*s' is neither '%s' nor '%s'", path,
                               (unsigned long long)line, (int)(len[lc] < 40 ? len[lc] : 40), text[lc], s->positive,
                               s->negative);
                goto done;
            }
            t->y[r] = (float)y;
        }
        float *xr = t->x + (size_t)r * s->n_features;
        for (uint32_t f = 0; f < s->n_features; f++) {
            int j = col[f];
            if (is_missing(text[j], len[j])) {
                xr[f] = NAN;
            } else if (s->kind[f] == ULM_FEAT_CAT) {
                uint32_t code = ulm_dict_find(&s->cats[f], text[j], len[j]);
                if (code == ULM_NONE) t->unseen++;
                xr[f] = code == ULM_NONE ? NAN : (float)code;
            } else {
                double v;
                if (!ulm_parse_number(text[j], len[j], &v) || !isfinite(v)) {
                    st = ulm_diag_set(d, ULM_ERR_PARSE, NULL, line, "%s:%llu: column '%s' expects a number, got '%.*s'", path,
                                   (unsigned long long)line, s->names[f], (int)(len[j] < 40 ? len[j] : 40), text[j]);
                    goto done;
                }
                xr[f] = (float)v;
            }
        }
        r++;
    }
    goto done;
nomem:
    st = ulm_diag_set(d, ULM_ERR_NOMEM, NULL, 0, "out of memory");
done:
    free(col), free(text), free(len);
    csv_close(&c);
    if (st != ULM_OK) ulm_ctab_free(t);
    return st;
}

void ulm_ctab_free(ulm_ctab *t) {
    free(t->x), free(t->y);
    memset(t, 0, sizeof *t);
}

void ulm_ctab_schema_free(ulm_ctab_schema *s) {
    for (uint32_t f = 0; f < s->n_features; f++) {
        free(s->names[f]);
        if (s->cats) ulm_dict_free(&s->cats[f]);
    }
    for (uint32_t i = 0; i < s->n_dropped; i++) free(s->dropped[i]);
    free(s->names), free(s->kind), free(s->n_cats), free(s->cats), free(s->dropped);
    free(s->label), free(s->positive), free(s->negative);
    memset(s, 0, sizeof *s);
}
