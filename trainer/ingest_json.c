/* ingest_json.c: JSON Lines rows (one flat object per line) and field decoding.
 * Values are slices into the buffer like CSV fields; strings with escapes are decoded only
 * when the field is used. Nested objects/arrays are skipped and marked as not scalar. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

void ulm_jkeys_free(ulm_jkeys *k) {
    for (uint32_t i = 0; i < k->n; i++)
        free(k->name[i]);
    free(k->name);
    free(k->len);
    memset(k, 0, sizeof *k);
}

int ulm_jkeys_index(ulm_jkeys *k, const char *s, size_t len, bool add) {
    for (uint32_t i = 0; i < k->n; i++)
        if (k->len[i] == len && memcmp(k->name[i], s, len) == 0) return (int)i;
    if (!add || k->n >= 4096) return -1;
    if (k->n == k->cap) {
        uint32_t nc = k->cap ? k->cap * 2 : 16;
        char **nn = realloc(k->name, nc * sizeof *nn);
        if (!nn) return -1;
        k->name = nn;
        uint32_t *nl = realloc(k->len, nc * sizeof *nl);
        if (!nl) return -1;
        k->len = nl;
        k->cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = 0;
    k->name[k->n] = copy;
    k->len[k->n] = (uint32_t)len;
    return (int)k->n++;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Scans a JSON string starting after its opening quote; returns the index of the closing
 * quote or -1 (unterminated, raw control character). *esc says whether it has escapes. */
static long scan_string(const char *s, size_t len, size_t i, bool *esc) {
    *esc = false;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') return (long)i;
        if (c == '\\') {
            *esc = true;
            i += 2;
            continue;
        }
        if (c < 0x20) return -1;
        i++;
    }
    return -1;
}

/* Skips a nested object or array starting at s[i] ('{' or '['); returns the index after it or -1. */
static long skip_nested(const char *s, size_t len, size_t i) {
    int depth = 0;
    while (i < len) {
        char c = s[i];
        if (c == '"') {
            bool esc;
            long e = scan_string(s, len, i + 1, &esc);
            if (e < 0) return -1;
            i = (size_t)e + 1;
            continue;
        }
        if (c == '{' || c == '[') {
            if (++depth > 64) return -1;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) return (long)i + 1;
        }
        i++;
    }
    return -1;
}

/* Appends code point cp as UTF-8 at out. */
static size_t put_utf8(char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads 4 hex digits. */
static bool hex4(const char *s, size_t len, size_t i, uint32_t *v) {
    if (i + 4 > len) return false;
    uint32_t x = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[i + k];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return false;
        x = x * 16 + d;
    }
    *v = x;
    return true;
}

/* Decodes JSON escapes of s[0..len) into out (never longer than len); returns the length or -1. */
static long json_unescape(const char *s, size_t len, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        if (i + 1 >= len) return -1;
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (!hex4(s, len, i, &cp)) return -1;
            i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (i + 6 > len || s[i] != '\\' || s[i + 1] != 'u' || !hex4(s, len, i + 2, &lo) || lo < 0xDC00 ||
                    lo > 0xDFFF)
                    return -1;
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += put_utf8(out + o, cp);
            break;
        }
        default: return -1;
        }
    }
    return (long)o;
}

ulm_row_err ulm_json_line(const char *s, size_t len, ulm_jkeys *k, bool add_keys, ulm_fieldv *f, uint32_t nf) {
    if (f)
        for (uint32_t i = 0; i < nf; i++)
            f[i] = (ulm_fieldv){"", 0, ULM_FV_ABSENT};
    size_t i = 0;
    while (i < len && is_ws(s[i]))
        i++;
    if (i >= len || s[i] != '{') return ULM_ROW_BAD_JSON;
    i++;
    while (i < len && is_ws(s[i]))
        i++;
    if (i < len && s[i] == '}') {
        i++;
    } else {
        for (;;) {
            if (i >= len || s[i] != '"') return ULM_ROW_BAD_JSON;
            bool kesc;
            long ke = scan_string(s, len, i + 1, &kesc);
            if (ke < 0) return ULM_ROW_BAD_JSON;
            const char *key = s + i + 1;
            size_t klen = (size_t)ke - i - 1;
            char kbuf[256];
            if (kesc) {
                if (klen > sizeof kbuf) return ULM_ROW_BAD_JSON;
                long kl = json_unescape(key, klen, kbuf);
                if (kl < 0) return ULM_ROW_BAD_JSON;
                key = kbuf;
                klen = (size_t)kl;
            }
            i = (size_t)ke + 1;
            while (i < len && is_ws(s[i]))
                i++;
            if (i >= len || s[i] != ':') return ULM_ROW_BAD_JSON;
            i++;
            while (i < len && is_ws(s[i]))
                i++;
            if (i >= len) return ULM_ROW_BAD_JSON;
            ulm_fieldv v;
            char c = s[i];
            if (c == '"') {
                bool vesc;
                long ve = scan_string(s, len, i + 1, &vesc);
                if (ve < 0) return ULM_ROW_BAD_JSON;
                v = (ulm_fieldv){s + i + 1, (uint32_t)((size_t)ve - i - 1), vesc ? ULM_FV_JSON_ESC : ULM_FV_PLAIN};
                i = (size_t)ve + 1;
            } else if (c == '{' || c == '[') {
                long ve = skip_nested(s, len, i);
                if (ve < 0) return ULM_ROW_BAD_JSON;
                v = (ulm_fieldv){s + i, (uint32_t)((size_t)ve - i), ULM_FV_NESTED};
                i = (size_t)ve;
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                size_t st = i;
                while (i < len && (s[i] == '-' || s[i] == '+' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
                                   (s[i] >= '0' && s[i] <= '9')))
                    i++;
                v = (ulm_fieldv){s + st, (uint32_t)(i - st), ULM_FV_PLAIN};
            } else if (len - i >= 4 && memcmp(s + i, "null", 4) == 0) {
                v = (ulm_fieldv){"", 0, ULM_FV_ABSENT};
                i += 4;
            } else if (len - i >= 4 && memcmp(s + i, "true", 4) == 0) {
                v = (ulm_fieldv){s + i, 4, ULM_FV_PLAIN};
                i += 4;
            } else if (len - i >= 5 && memcmp(s + i, "false", 5) == 0) {
                v = (ulm_fieldv){s + i, 5, ULM_FV_PLAIN};
                i += 5;
            } else {
                return ULM_ROW_BAD_JSON;
            }
            int idx = ulm_jkeys_index(k, key, klen, add_keys);
            if (f && idx >= 0 && (uint32_t)idx < nf) f[idx] = v;
            while (i < len && is_ws(s[i]))
                i++;
            if (i >= len) return ULM_ROW_BAD_JSON;
            if (s[i] == ',') {
                i++;
                while (i < len && is_ws(s[i]))
                    i++;
                continue;
            }
            if (s[i] == '}') {
                i++;
                break;
            }
            return ULM_ROW_BAD_JSON;
        }
    }
    while (i < len && is_ws(s[i]))
        i++;
    return i == len ? ULM_ROW_OK : ULM_ROW_BAD_JSON;
}

const char *ulm_fieldv_text(const ulm_fieldv *f, char *scratch, size_t *used, uint32_t *len) {
    const char *p = f->p;
    size_t n = f->len;
    if (f->kind == ULM_FV_ABSENT) {
        *len = 0;
        return "";
    }
    if (f->kind == ULM_FV_CSV_ESC) {
        char *out = scratch + *used;
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            out[o++] = p[i];
            if (p[i] == '"' && i + 1 < n && p[i + 1] == '"') i++;
        }
        *used += o;
        p = out;
        n = o;
    } else if (f->kind == ULM_FV_JSON_ESC) {
        char *out = scratch + *used;
        long o = json_unescape(p, n, out);
        if (o < 0) return NULL;
        *used += (size_t)o;
        p = out;
        n = (size_t)o;
    }
    while (n && (p[0] == ' ' || p[0] == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    *len = (uint32_t)n;
    return p;
}
