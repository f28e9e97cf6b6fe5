/* clv_data.c: transactions for the CLV commands, from a store or a plain table, aggregated to
 * customer-days, and the per-customer (x, t_x, T, zbar) summaries. */
#include "clv_data.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "export.h"
#include "ingest.h"
#include "store.h"

typedef struct cday {
    uint32_t cust;
    int64_t day;
    double value;
    int purchase; /* 1 when the day holds a purchase (not only returns) */
} cday;

/* Orders by customer then day. */
static int cmp_cday(const void *pa, const void *pb) {
    const cday *a = pa, *b = pb;
    if (a->cust != b->cust) return a->cust < b->cust ? -1 : 1;
    if (a->day != b->day) return a->day < b->day ? -1 : 1;
    return 0;
}

bool ulm_clv_parse_day(const char *s, size_t len, int64_t *day) {
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (len == 8) { /* YYYYMMDD (CDNOW): checked before Unix seconds, which it would also parse as */
        bool digits = true;
        for (size_t i = 0; i < 8; i++) digits &= isdigit((unsigned char)s[i]) != 0;
        if (digits) {
            unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
            unsigned m = (unsigned)((s[4] - '0') * 10 + (s[5] - '0')), d = (unsigned)((s[6] - '0') * 10 + (s[7] - '0'));
            if (y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
                *day = ulm_days_from_civil(y, m, d);
                return true;
            }
        }
    }
    int64_t t;
    if (!ulm_parse_time(s, len, &t)) return false;
    *day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    return true;
}

void ulm_clv_format_day(int64_t day, char out[16]) {
    char buf[48];
    ulm_format_time(day * 86400, buf);
    memcpy(out, buf, 10);
    out[10] = 0;
}

void ulm_clv_tx_free(ulm_clv_tx *tx) {
    if (!tx) return;
    free(tx->cust);
    free(tx->day);
    free(tx->value);
    ulm_dict_free(&tx->names);
    memset(tx, 0, sizeof *tx);
}

/* Sorts the raw customer-day rows, merges equal (customer, day) and fills tx. Takes rows. */
static ulm_status finish(cday *rows, size_t n, ulm_clv_tx *tx, ulm_diag *diag) {
    qsort(rows, n, sizeof *rows, cmp_cday);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && rows[k - 1].cust == rows[i].cust && rows[k - 1].day == rows[i].day) {
            rows[k - 1].value += rows[i].value;
            rows[k - 1].purchase |= rows[i].purchase;
        } else {
            rows[k++] = rows[i];
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (!rows[i].purchase) tx->return_only_days++;
        else rows[m++] = rows[i];
    }
    tx->cust = malloc((m ? m : 1) * sizeof *tx->cust);
    tx->day = malloc((m ? m : 1) * sizeof *tx->day);
    tx->value = malloc((m ? m : 1) * sizeof *tx->value);
    if (!tx->cust || !tx->day || !tx->value) {
        free(rows);
        return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    }
    tx->first_day = INT64_MAX;
    tx->last_day = INT64_MIN;
    for (size_t i = 0; i < m; i++) {
        tx->cust[i] = rows[i].cust;
        tx->day[i] = rows[i].day;
        tx->value[i] = rows[i].value;
        if (!(rows[i].value > 0)) tx->nonpositive_days++;
        if (rows[i].day < tx->first_day) tx->first_day = rows[i].day;
        if (rows[i].day > tx->last_day) tx->last_day = rows[i].day;
    }
    tx->n = m;
    free(rows);
    if (!m) return ulm_diag_set(diag, ULM_ERR_RANGE, NULL, 0, "no purchases by known customers");
    return ULM_OK;
}

/* Appends one row to a growable array. */
static bool push(cday **rows, size_t *n, size_t *cap, cday r) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4096;
        cday *p = realloc(*rows, nc * sizeof *p);
        if (!p) return false;
        *rows = p;
        *cap = nc;
    }
    (*rows)[(*n)++] = r;
    return true;
}

static ulm_status load_store(const char *path, ulm_clv_tx *tx, ulm_diag *diag) {
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_status s = ulm_store_read(path, &ev, diag);
    if (s != ULM_OK) return s;
    tx->from_store = true;
    cday *rows = NULL;
    size_t n = 0, cap = 0;
    uint32_t *map = malloc(((size_t)ev.users.n + 1) * sizeof *map);
    if (!map) {
        ulm_events_free(&ev);
        return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    }
    for (uint32_t u = 0; u < ev.users.n; u++) map[u] = ULM_NONE;
    for (size_t i = 0; i < ev.n; i++) {
        int ty = ev.type[i];
        if (ty != ULM_EV_PURCHASE && ty != ULM_EV_RETURN) continue;
        tx->rows++;
        if (ev.user[i] == ULM_NONE) {
            tx->guest_rows++;
            continue;
        }
        uint32_t u = ev.user[i];
        if (map[u] == ULM_NONE) {
            uint32_t len;
            const char *nm = ulm_dict_str(&ev.users, u, &len);
            map[u] = ulm_dict_intern(&tx->names, nm, len, NULL);
        }
        double v = isnan(ev.price[i]) ? 0 : (double)ev.qty[i] * ev.price[i];
        int64_t t = ev.time[i];
        cday r = {map[u], t >= 0 ? t / 86400 : -((-t + 86399) / 86400), ty == ULM_EV_RETURN ? -v : v,
                  ty == ULM_EV_PURCHASE};
        if (!push(&rows, &n, &cap, r)) {
            free(rows), free(map), ulm_events_free(&ev);
            return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        }
    }
    free(map);
    ulm_events_free(&ev);
    return finish(rows, n, tx, diag);
}

/* Splits one line into fields: by delim, or by runs of blanks when delim is ' '. */
static int split(char *line, char delim, char **f, size_t *fl, int cap) {
    int k = 0;
    char *p = line;
    if (delim == ' ') {
        while (*p && k < cap) {
            while (*p == ' ' || *p == '\t') p++;
            if (!*p) break;
            f[k] = p;
            while (*p && *p != ' ' && *p != '\t') p++;
            fl[k] = (size_t)(p - f[k]);
            k++;
        }
        return k;
    }
    while (k < cap) {
        f[k] = p;
        char *e = strchr(p, delim);
        fl[k] = e ? (size_t)(e - p) : strlen(p);
        /* Plain quoted fields ("a") lose their quotes; embedded delimiters are not supported here. */
        if (fl[k] >= 2 && f[k][0] == '"' && f[k][fl[k] - 1] == '"') f[k]++, fl[k] -= 2;
        k++;
        if (!e) break;
        p = e + 1;
    }
    return k;
}

/* Case-insensitive equality of a field and a name. */
static bool same(const char *a, size_t n, const char *b) {
    if (strlen(b) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return false;
    return true;
}

static ulm_status load_table(const char *path, const char *map, bool no_header, ulm_clv_tx *tx, ulm_diag *diag) {
    char *buf;
    size_t len;
    ulm_status s = ulm_file_read(path, true, &buf, &len, diag);
    if (s != ULM_OK) return s;
    char *line = buf, *end = buf + len;
    char *nl = memchr(line, '\n', len);
    size_t l0 = nl ? (size_t)(nl - line) : len;
    char delim = memchr(line, ',', l0) ? ',' : memchr(line, '\t', l0) ? '\t' : memchr(line, ';', l0) ? ';' : ' ';
    static const char *names[3][8] = {
        {"customer", "customer_id", "customerid", "cust", "user", "user_id", "id", NULL},
        {"date", "day", "time", "timestamp", "invoicedate", "order_date", "datetime", NULL},
        {"value", "amount", "spend", "revenue", "sales", "dollar_value", "price", NULL}};
    const char *fields[3] = {"customer", "date", "value"};
    int col[3] = {-1, -1, -1};
    const char *want[3] = {NULL, NULL, NULL};
    size_t wantl[3] = {0, 0, 0};
    /* --map customer=COL,date=COL,value=COL */
    for (const char *p = map; p && *p;) {
        const char *e = strchr(p, ','), *eq = strchr(p, '=');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!eq || eq > p + n) {
            free(buf);
            return ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "--map: expected field=column, got '%.*s'", (int)n, p);
        }
        int k = -1;
        for (int j = 0; j < 3; j++)
            if (same(p, (size_t)(eq - p), fields[j])) k = j;
        if (k < 0) {
            free(buf);
            return ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "--map: unknown field '%.*s' (customer, date, value)",
                             (int)(eq - p), p);
        }
        want[k] = eq + 1;
        wantl[k] = (size_t)(p + n - (eq + 1));
        p = e ? e + 1 : p + n;
    }
    char *f[64];
    size_t fl[64];
    int lineno = 0;
    if (!no_header) {
        if (nl) *nl = 0;
        if (l0 && line[l0 - 1] == '\r') line[l0 - 1] = 0;
        int nf = split(line, delim, f, fl, 64);
        for (int k = 0; k < 3; k++) {
            for (int c = 0; c < nf && col[k] < 0; c++) {
                if (want[k]) {
                    if (fl[c] == wantl[k] && memcmp(f[c], want[k], wantl[k]) == 0) col[k] = c;
                } else {
                    for (int j = 0; names[k][j] && col[k] < 0; j++)
                        if (same(f[c], fl[c], names[k][j])) col[k] = c;
                }
            }
        }
        line = nl ? nl + 1 : end;
        lineno = 1;
    } else {
        for (int k = 0; k < 3; k++) {
            char tmp[16] = {0};
            if (want[k] && wantl[k] < sizeof tmp) memcpy(tmp, want[k], wantl[k]);
            char *e;
            long c = want[k] ? strtol(tmp, &e, 10) : 0;
            if (want[k] && *e == 0 && c >= 1 && c <= 64) col[k] = (int)c - 1;
        }
    }
    for (int k = 0; k < 3; k++) {
        if (col[k] < 0) {
            free(buf);
            return ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0,
                             no_header ? "%s: no column for '%s' (with --no-header, --map %s=N with a 1-based index)"
                                       : "%s: no column for '%s' in the header (use --map %s=COLUMN)",
                             path, fields[k], fields[k]);
        }
    }
    cday *rows = NULL;
    size_t n = 0, cap = 0;
    while (line < end) {
        char *e = memchr(line, '\n', (size_t)(end - line));
        if (!e) e = end;
        *e = 0;
        lineno++;
        size_t ll = (size_t)(e - line);
        if (ll && line[ll - 1] == '\r') line[--ll] = 0;
        char *cur = line;
        line = e + 1;
        if (ll == 0) continue;
        int nf = split(cur, delim, f, fl, 64);
        tx->rows++;
        int mx = col[0] > col[1] ? col[0] : col[1];
        if (col[2] > mx) mx = col[2];
        int64_t day;
        double v;
        int bad = nf <= mx ? 3 : fl[col[0]] == 0 ? 0 : !ulm_clv_parse_day(f[col[1]], fl[col[1]], &day) ? 1
                : !ulm_parse_number(f[col[2]], fl[col[2]], &v) || !isfinite(v) ? 2 : -1;
        if (bad >= 0) {
            tx->bad_rows++;
            free(buf), free(rows);
            if (bad == 3)
                return ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "%s:%d: %d fields, the columns need %d", path, lineno, nf, mx + 1);
            return ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "%s:%d: field '%s' (column %d): cannot read '%.*s'", path, lineno,
                         fields[bad], col[bad] + 1, (int)(fl[col[bad]] > 40 ? 40 : fl[col[bad]]), f[col[bad]]);
        }
        uint32_t c = ulm_dict_intern(&tx->names, f[col[0]], fl[col[0]], NULL);
        if (c == ULM_NONE || !push(&rows, &n, &cap, (cday){c, day, v, 1})) {
            free(buf), free(rows);
            return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        }
    }
    free(buf);
    return finish(rows, n, tx, diag);
}

ulm_status ulm_clv_tx_load(const char *path, const char *map, bool no_header, ulm_clv_tx *tx, ulm_diag *diag) {
    memset(tx, 0, sizeof *tx);
    ulm_dict_init(&tx->names);
    FILE *fp = fopen(path, "rb");
    if (!fp) return ulm_diag_set(diag, ULM_ERR_IO, NULL, 0, "%s: cannot open", path);
    unsigned char magic[4] = {0};
    size_t got = fread(magic, 1, 4, fp);
    fclose(fp);
    /* A store container: 0x89 "ULS" (ulm_bundle.h: the fourth byte is the kind). */
    ulm_status s = got == 4 && magic[0] == 0x89 && magic[1] == 'U' && magic[2] == 'L' && magic[3] == 'S'
                       ? load_store(path, tx, diag)
                       : load_table(path, map, no_header, tx, diag);
    if (s != ULM_OK) ulm_clv_tx_free(tx);
    return s;
}

void ulm_clv_summary_free(ulm_clv_summary *s) {
    if (!s) return;
    free(s->cust), free(s->x), free(s->t_x), free(s->T), free(s->zbar), free(s->first), free(s->holdout);
    memset(s, 0, sizeof *s);
}

ulm_status ulm_clv_summarise(const ulm_clv_tx *tx, int64_t cal_end, int64_t end, double unit, ulm_clv_summary *s,
                             ulm_diag *diag) {
    memset(s, 0, sizeof *s);
    s->unit_days = unit;
    size_t nc = tx->names.n ? tx->names.n : 1;
    s->cust = malloc(nc * sizeof *s->cust);
    double **cols[] = {&s->x, &s->t_x, &s->T, &s->zbar, &s->first, &s->holdout};
    for (int k = 0; k < 6; k++) *cols[k] = malloc(nc * sizeof(double));
    for (int k = 0; k < 6; k++)
        if (!*cols[k] || !s->cust) {
            ulm_clv_summary_free(s);
            return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        }
    size_t i = 0;
    while (i < tx->n) {
        uint32_t c = tx->cust[i];
        int64_t first = tx->day[i], last = first;
        double x = 0, spend = 0, hold = 0;
        for (; i < tx->n && tx->cust[i] == c; i++) {
            int64_t d = tx->day[i];
            if (d <= cal_end) {
                if (d != first) {
                    x++;
                    spend += tx->value[i];
                    last = d;
                }
            } else if (d <= end) {
                hold++;
            }
        }
        if (first > cal_end) {
            s->later++;
            continue;
        }
        size_t k = s->n++;
        s->cust[k] = c;
        s->x[k] = x;
        s->t_x[k] = (double)(last - first) / unit;
        s->T[k] = (double)(cal_end - first) / unit;
        s->zbar[k] = x > 0 ? spend / x : 0;
        s->first[k] = (double)(first - tx->first_day) / unit;
        s->holdout[k] = hold;
    }
    return ULM_OK;
}

ulm_status ulm_clv_summary_load(const char *path, ulm_clv_summary *s, ulm_dict *names, ulm_diag *diag) {
    memset(s, 0, sizeof *s);
    char *buf;
    size_t len;
    ulm_status st = ulm_file_read(path, true, &buf, &len, diag);
    if (st != ULM_OK) return st;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    s->cust = malloc(lines * sizeof *s->cust);
    double **cols[] = {&s->x, &s->t_x, &s->T, &s->zbar, &s->first, &s->holdout};
    for (int k = 0; k < 6; k++) *cols[k] = calloc(lines, sizeof(double));
    for (int k = 0; k < 6; k++)
        if (!*cols[k] || !s->cust) {
            free(buf);
            ulm_clv_summary_free(s);
            return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        }
    char *line = buf, *end = buf + len, *f[64];
    size_t fl[64];
    char *nl = memchr(line, '\n', len);
    size_t l0 = nl ? (size_t)(nl - line) : len;
    char delim = memchr(line, ',', l0) ? ',' : memchr(line, '\t', l0) ? '\t' : ' ';
    if (nl) *nl = 0;
    if (l0 && line[l0 - 1] == '\r') line[l0 - 1] = 0;
    int nf = split(line, delim, f, fl, 64), col[5] = {-1, -1, -1, -1, -1};
    static const char *names_[5][4] = {{"id", "customer", "customer_id", NULL}, {"x", "frequency", NULL, NULL},
                                       {"t_x", "recency", NULL, NULL}, {"t", NULL, NULL, NULL},
                                       {"zbar", "monetary_value", NULL, NULL}};
    for (int k = 0; k < 5; k++)
        for (int c = 0; c < nf && col[k] < 0; c++)
            for (int j = 0; names_[k][j] && col[k] < 0; j++)
                if (same(f[c], fl[c], names_[k][j])) col[k] = c;
    if (col[1] < 0 || col[2] < 0 || col[3] < 0) {
        free(buf);
        ulm_clv_summary_free(s);
        return ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "%s: a summary needs columns x (or frequency), t_x (or recency) and T", path);
    }
    line = nl ? nl + 1 : end;
    int lineno = 1;
    while (line < end) {
        char *e = memchr(line, '\n', (size_t)(end - line));
        if (!e) e = end;
        *e = 0;
        lineno++;
        size_t ll = (size_t)(e - line);
        if (ll && line[ll - 1] == '\r') line[--ll] = 0;
        char *cur = line;
        line = e + 1;
        if (!ll) continue;
        nf = split(cur, delim, f, fl, 64);
        double v[5] = {0};
        for (int k = 1; k < 5; k++) {
            if (col[k] < 0) continue;
            if (col[k] >= nf || !ulm_parse_number(f[col[k]], fl[col[k]], &v[k])) {
                free(buf);
                ulm_clv_summary_free(s);
                return ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "%s:%d: cannot read column %d", path, lineno, col[k] + 1);
            }
        }
        size_t i = s->n++;
        /* Without an id column, customers are their row numbers (1-based) and names stays empty. */
        s->cust[i] = col[0] >= 0 && col[0] < nf ? ulm_dict_intern(names, f[col[0]], fl[col[0]], NULL) : (uint32_t)i;
        s->x[i] = v[1], s->t_x[i] = v[2], s->T[i] = v[3], s->zbar[i] = v[4];
    }
    free(buf);
    return ULM_OK;
}
