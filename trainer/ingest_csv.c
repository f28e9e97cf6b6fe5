/* ingest_csv.c: a CSV/TSV row cursor over one in-memory buffer (RFC 4180).
 * Fields are slices into the buffer; a quoted field with "" pairs is flagged so the caller
 * decodes it only if it uses it. Physical line numbers are tracked through embedded newlines. */
#include <string.h>

#include "ingest.h"

void ulm_csv_init(ulm_csv *c, const char *buf, size_t len, char delim) {
    c->buf = buf;
    c->len = len;
    c->pos = 0;
    c->line = 1;
    c->delim = delim;
}

/* Moves the cursor to the line after the one starting at start: how a broken row is skipped. */
static void resume_after_line(ulm_csv *c, size_t start, uint64_t start_line) {
    const char *nl = memchr(c->buf + start, '\n', c->len - start);
    c->pos = nl ? (size_t)(nl - c->buf) + 1 : c->len;
    c->line = start_line + 1;
}

bool ulm_csv_next(ulm_csv *c, ulm_fieldv *f, uint32_t cap, uint32_t *nf, uint64_t *line, ulm_row_err *err) {
    const char *b = c->buf;
    const size_t len = c->len;
    const char delim = c->delim;
    size_t pos = c->pos;
    /* Blank lines (LF or CRLF) are not rows. */
    for (;;) {
        if (pos >= len) {
            c->pos = len;
            return false;
        }
        if (b[pos] == '\n') {
            pos++;
            c->line++;
        } else if (b[pos] == '\r' && pos + 1 < len && b[pos + 1] == '\n') {
            pos += 2;
            c->line++;
        } else {
            break;
        }
    }
    const size_t row_start = pos;
    const uint64_t row_line = c->line;
    uint64_t extra_lines = 0;
    uint32_t n = 0;
    *line = row_line;
    *err = ULM_ROW_OK;
    for (;;) {
        const char *fp;
        uint32_t flen;
        uint8_t kind = ULM_FV_PLAIN;
        if (pos < len && b[pos] == '"') {
            size_t p = pos + 1;
            bool esc = false;
            for (;;) {
                while (p < len && b[p] != '"') {
                    extra_lines += b[p] == '\n';
                    p++;
                }
                if (p >= len) {
                    *err = ULM_ROW_UNTERMINATED_QUOTE;
                    *nf = n;
                    resume_after_line(c, row_start, row_line);
                    return true;
                }
                if (p + 1 < len && b[p + 1] == '"') {
                    esc = true;
                    p += 2;
                    continue;
                }
                break;
            }
            fp = b + pos + 1;
            flen = (uint32_t)(p - pos - 1);
            kind = esc ? ULM_FV_CSV_ESC : ULM_FV_PLAIN;
            pos = p + 1;
            if (n < cap) f[n] = (ulm_fieldv){fp, flen, kind};
            n++;
            if (pos >= len) break;
            if (b[pos] == delim) {
                pos++;
                continue;
            }
            if (b[pos] == '\n') {
                pos++;
                break;
            }
            if (b[pos] == '\r' && pos + 1 < len && b[pos + 1] == '\n') {
                pos += 2;
                break;
            }
            /* Text after a closing quote: the row is malformed; skip to the end of this line. */
            *err = ULM_ROW_BAD_QUOTE;
            *nf = n;
            const char *nl = memchr(b + pos, '\n', len - pos);
            c->pos = nl ? (size_t)(nl - b) + 1 : len;
            c->line = row_line + extra_lines + 1;
            return true;
        }
        size_t s = pos;
        while (pos < len && b[pos] != delim && b[pos] != '\n')
            pos++;
        size_t e = pos;
        bool end_row = pos >= len || b[pos] == '\n';
        if (end_row && e > s && b[e - 1] == '\r') e--;
        if (n < cap) f[n] = (ulm_fieldv){b + s, (uint32_t)(e - s), ULM_FV_PLAIN};
        n++;
        if (pos < len) pos++;
        if (end_row) break;
    }
    c->pos = pos;
    c->line = row_line + extra_lines + 1;
    *nf = n;
    return true;
}
