/* ingest_report.c: what `ulm ingest` says about a run, as one JSON object or a few lines of
 * text, and the store's list of source files. Both reports state the same counts, and both
 * make kept + duplicates + rejected == rows_read visible. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

/* Reasons with a non-zero count, most frequent first (ties in enum order). */
static int sorted_reasons(const ulm_ingest *ing, int *out) {
    int n = 0;
    for (int r = 0; r < ULM_R__COUNT; r++)
        if (ing->reason_count[r]) out[n++] = r;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && ing->reason_count[out[j]] > ing->reason_count[out[j - 1]]; j--) {
            int t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

static void json_cstr(ulm_sb *b, const char *s) { ulm_sb_json_str(b, s, strlen(s)); }

void ulm_ingest_report_json(const ulm_ingest *ing, const ulm_store_summary *st, double seconds, ulm_sb *b) {
    ulm_sb_printf(b, "{\"rows_read\": %llu, \"kept\": %llu, \"kept_by_type\": {", (unsigned long long)ing->rows_read,
                  (unsigned long long)ing->kept);
    for (int t = 0; t < ULM_EV__COUNT; t++)
        ulm_sb_printf(b, "%s\"%s\": %llu", t ? ", " : "", ulm_event_type_name(t),
                      (unsigned long long)ing->kept_by_type[t]);
    ulm_sb_printf(b, "}, \"guest_rows\": %llu, \"duplicates\": %llu, \"rejected\": %llu, \"rejected_by_reason\": [",
                  (unsigned long long)ing->guests, (unsigned long long)ing->duplicates,
                  (unsigned long long)ing->rejected);
    int order[ULM_R__COUNT];
    int nr = sorted_reasons(ing, order);
    for (int k = 0; k < nr; k++) {
        int r = order[k];
        ulm_sb_printf(b, "%s{\"reason\": \"%s\", \"count\": %llu, \"first_lines\": [", k ? ", " : "",
                      ulm_reason_name(r), (unsigned long long)ing->reason_count[r]);
        for (uint32_t i = 0; i < ing->reason_nfirst[r]; i++) {
            const ulm_reason_site *s = &ing->reason_first[r][i];
            const ulm_ingest_file_report *fr = &ing->files[s->file];
            ulm_sb_printf(b, "%s{\"file\": ", i ? ", " : "");
            json_cstr(b, fr->path);
            ulm_sb_printf(b, ", \"line\": %llu, \"column\": ", (unsigned long long)s->line);
            if (s->column >= 0 && (uint32_t)s->column < fr->ncols)
                json_cstr(b, fr->colname[s->column]);
            else
                ulm_sb_printf(b, "null");
            ulm_sb_printf(b, "}");
        }
        ulm_sb_printf(b, "]}");
    }
    ulm_sb_printf(b, "], \"files\": [");
    for (uint32_t i = 0; i < ing->nfiles; i++) {
        const ulm_ingest_file_report *fr = &ing->files[i];
        ulm_sb_printf(b, "%s{\"path\": ", i ? ", " : "");
        json_cstr(b, fr->path);
        ulm_sb_printf(b,
                      ", \"format\": \"%s\", \"bytes\": %llu, \"rows_read\": %llu, \"kept\": %llu, \"duplicates\": "
                      "%llu, \"rejected\": %llu, \"guest_rows\": %llu, \"columns_used\": {",
                      ulm_format_name(fr->format), (unsigned long long)fr->bytes, (unsigned long long)fr->rows_read,
                      (unsigned long long)fr->kept, (unsigned long long)fr->duplicates,
                      (unsigned long long)fr->rejected, (unsigned long long)fr->guests);
        int first = 1;
        for (int f = 0; f < ULM_F__COUNT; f++) {
            if (fr->col[f] < 0) continue;
            ulm_sb_printf(b, "%s\"%s\": ", first ? "" : ", ", ulm_field_name(f));
            json_cstr(b, fr->colname[fr->col[f]]);
            first = 0;
        }
        ulm_sb_printf(b, "}, \"columns_ignored\": [");
        first = 1;
        for (uint32_t c = 0; c < fr->ncols; c++) {
            if (fr->used[c]) continue;
            if (!first) ulm_sb_printf(b, ", ");
            json_cstr(b, fr->colname[c]);
            first = 0;
        }
        ulm_sb_printf(b, "]}");
    }
    ulm_sb_printf(b, "], \"store\": {\"path\": ");
    json_cstr(b, st->path);
    ulm_sb_printf(b,
                  ", \"events\": %llu, \"events_before\": %llu, \"users\": %llu, \"items\": %llu, \"bytes\": %llu, "
                  "\"appended\": %s}, \"seconds\": %.3f}\n",
                  (unsigned long long)st->events, (unsigned long long)ing->n_existing, (unsigned long long)st->users,
                  (unsigned long long)st->items, (unsigned long long)st->bytes, st->appended ? "true" : "false",
                  seconds);
}

void ulm_ingest_report_text(const ulm_ingest *ing, const ulm_store_summary *st, double seconds, ulm_sb *b) {
    ulm_sb_printf(b, "read %llu rows from %u file%s in %.2f s\n", (unsigned long long)ing->rows_read, ing->nfiles,
                  ing->nfiles == 1 ? "" : "s", seconds);
    ulm_sb_printf(b, "  kept        %llu (", (unsigned long long)ing->kept);
    for (int t = 0; t < ULM_EV__COUNT; t++)
        ulm_sb_printf(b, "%s%s %llu", t ? ", " : "", ulm_event_type_name(t), (unsigned long long)ing->kept_by_type[t]);
    ulm_sb_printf(b, "); %llu of them guests (no user)\n", (unsigned long long)ing->guests);
    ulm_sb_printf(b, "  duplicates  %llu (exact copies of an earlier row or stored event, dropped)\n",
                  (unsigned long long)ing->duplicates);
    ulm_sb_printf(b, "  rejected    %llu\n", (unsigned long long)ing->rejected);
    ulm_sb_printf(b, "  kept + duplicates + rejected = %llu + %llu + %llu = %llu = rows read\n",
                  (unsigned long long)ing->kept, (unsigned long long)ing->duplicates, (unsigned long long)ing->rejected,
                  (unsigned long long)(ing->kept + ing->duplicates + ing->rejected));
    int order[ULM_R__COUNT];
    int nr = sorted_reasons(ing, order);
    if (nr) ulm_sb_printf(b, "rejected rows by reason:\n");
    for (int k = 0; k < nr; k++) {
        int r = order[k];
        ulm_sb_printf(b, "  %-26s %llu  e.g. ", ulm_reason_name(r), (unsigned long long)ing->reason_count[r]);
        for (uint32_t i = 0; i < ing->reason_nfirst[r]; i++) {
            const ulm_reason_site *s = &ing->reason_first[r][i];
            const ulm_ingest_file_report *fr = &ing->files[s->file];
            ulm_sb_printf(b, "%s%s:%llu", i ? ", " : "", fr->path, (unsigned long long)s->line);
            if (s->column >= 0 && (uint32_t)s->column < fr->ncols) ulm_sb_printf(b, " ('%s')", fr->colname[s->column]);
        }
        ulm_sb_printf(b, "\n");
    }
    for (uint32_t i = 0; i < ing->nfiles; i++) {
        const ulm_ingest_file_report *fr = &ing->files[i];
        ulm_sb_printf(b, "file %s (%s): %llu rows; columns", fr->path, ulm_format_name(fr->format),
                      (unsigned long long)fr->rows_read);
        for (int f = 0; f < ULM_F__COUNT; f++)
            if (fr->col[f] >= 0) ulm_sb_printf(b, " %s=%s", ulm_field_name(f), fr->colname[fr->col[f]]);
        int first = 1;
        for (uint32_t c = 0; c < fr->ncols; c++) {
            if (fr->used[c]) continue;
            ulm_sb_printf(b, "%s%s", first ? "; ignored " : ", ", fr->colname[c]);
            first = 0;
        }
        ulm_sb_printf(b, "\n");
    }
    ulm_sb_printf(b, "store %s: %llu events (%llu before), %llu users, %llu items, %llu bytes%s\n", st->path,
                  (unsigned long long)st->events, (unsigned long long)ing->n_existing, (unsigned long long)st->users,
                  (unsigned long long)st->items, (unsigned long long)st->bytes, st->appended ? ", appended" : ", new");
}

void ulm_ingest_sources_json(const ulm_ingest *ing, const char *earlier, ulm_sb *b) {
    /* Keep an earlier list only when it looks like one: "[ ... ]". */
    size_t el = earlier ? strlen(earlier) : 0;
    while (el && (earlier[el - 1] == ' ' || earlier[el - 1] == '\n'))
        el--;
    bool keep = el >= 2 && earlier[0] == '[' && earlier[el - 1] == ']';
    bool empty = true;
    if (keep) {
        ulm_sb_append(b, earlier, el - 1);
        for (size_t i = 1; i + 1 < el && empty; i++)
            empty = earlier[i] == ' ' || earlier[i] == '\n';
    } else {
        ulm_sb_append(b, "[", 1);
    }
    for (uint32_t i = 0; i < ing->nfiles; i++) {
        const ulm_ingest_file_report *fr = &ing->files[i];
        ulm_sb_printf(b, "%s{\"path\": ", empty ? "" : ", ");
        ulm_sb_json_str(b, fr->path, strlen(fr->path));
        ulm_sb_printf(b, ", \"size\": %llu, \"rows\": %llu}", (unsigned long long)fr->bytes,
                      (unsigned long long)fr->rows_read);
        empty = false;
    }
    ulm_sb_append(b, "]", 1);
}
