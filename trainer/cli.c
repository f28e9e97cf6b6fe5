/* cli.c: option parsing, messages, growable strings and progress for the ulm command. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Finds the option named name[0..len) in opts, or NULL. */
static ulm_opt *find_opt(ulm_opt *opts, size_t nopts, const char *name, size_t len) {
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0) return &opts[i];
    return NULL;
}

int ulm_args_parse(ulm_args *a, int argc, char **argv, ulm_opt *opts, size_t nopts, const char *usage) {
    a->npos = 0;
    for (size_t i = 0; i < nopts; i++) opts[i].value = NULL;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_pos && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
            fputs(usage, stdout);
            return 1;
        }
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (!only_pos && arg[0] == '-' && arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            ulm_opt *o = find_opt(opts, nopts, name, len);
            if (!o) {
                fprintf(stderr, "ulm %s: unknown option '--%.*s'\n\n%s", argv[0], (int)len, name, usage);
                return 2;
            }
            if (o->takes_value) {
                if (eq) o->value = eq + 1;
                else if (i + 1 < argc) o->value = argv[++i];
                else {
                    fprintf(stderr, "ulm %s: option '--%s' needs a value\n\n%s", argv[0], o->name, usage);
                    return 2;
                }
            } else {
                if (eq) {
                    fprintf(stderr, "ulm %s: option '--%s' takes no value\n", argv[0], o->name);
                    return 2;
                }
                o->value = "1";
            }
            continue;
        }
        if (a->npos >= ULM_MAX_POSITIONAL) {
            fprintf(stderr, "ulm %s: too many arguments (at most %d)\n", argv[0], ULM_MAX_POSITIONAL);
            return 2;
        }
        a->pos[a->npos++] = arg;
    }
    return 0;
}

const char *ulm_opt_get(const ulm_opt *opts, size_t nopts, const char *name) {
    for (size_t i = 0; i < nopts; i++)
        if (strcmp(opts[i].name, name) == 0) return opts[i].value;
    return NULL;
}

bool ulm_opt_u64(const ulm_opt *opts, size_t nopts, const char *name, uint64_t def, uint64_t *out) {
    const char *v = ulm_opt_get(opts, nopts, name);
    *out = def;
    if (!v) return true;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-') {
        fprintf(stderr, "ulm: --%s expects a whole number >= 0, got '%s'\n", name, v);
        return false;
    }
    *out = x;
    return true;
}

bool ulm_opt_f64(const ulm_opt *opts, size_t nopts, const char *name, double def, double *out) {
    const char *v = ulm_opt_get(opts, nopts, name);
    *out = def;
    if (!v) return true;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(x)) {
        fprintf(stderr, "ulm: --%s expects a number, got '%s'\n", name, v);
        return false;
    }
    *out = x;
    return true;
}

void ulm_errorf(const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "ulm %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Ensures room for extra more bytes plus a NUL. */
static bool sb_reserve(ulm_sb *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + extra + 1) nc *= 2;
    char *p = realloc(b->s, nc);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->s = p;
    b->cap = nc;
    return true;
}

void ulm_sb_append(ulm_sb *b, const char *s, size_t len) {
    if (!sb_reserve(b, len)) return;
    memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len] = 0;
}

void ulm_sb_printf(ulm_sb *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0 && sb_reserve(b, (size_t)n)) {
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void ulm_sb_json_str(ulm_sb *b, const char *s, size_t len) {
    ulm_sb_append(b, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        ulm_sb_append(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': ulm_sb_append(b, "\\\"", 2); break;
        case '\\': ulm_sb_append(b, "\\\\", 2); break;
        case '\n': ulm_sb_append(b, "\\n", 2); break;
        case '\r': ulm_sb_append(b, "\\r", 2); break;
        case '\t': ulm_sb_append(b, "\\t", 2); break;
        default: ulm_sb_printf(b, "\\u%04x", c);
        }
    }
    ulm_sb_append(b, s + start, len - start);
    ulm_sb_append(b, "\"", 1);
}

void ulm_sb_free(ulm_sb *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

double ulm_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void ulm_progress_start(ulm_progress *p, const char *label, uint64_t total) {
    p->label = label;
    p->total = total;
    p->start = p->last = ulm_now();
    p->tty = isatty(2);
}

void ulm_progress_update(ulm_progress *p, uint64_t done) {
    if (!p->tty) return;
    double now = ulm_now();
    if (now - p->last < 0.2) return;
    p->last = now;
    double rate = done / (now - p->start + 1e-9);
    if (p->total) {
        double eta = rate > 0 ? (p->total - (done < p->total ? done : p->total)) / rate : 0;
        fprintf(stderr, "\r%s: %5.1f%%  %.0f/s  ETA %.0fs   ", p->label, 100.0 * done / p->total, rate, eta);
    } else {
        fprintf(stderr, "\r%s: %llu  %.0f/s   ", p->label, (unsigned long long)done, rate);
    }
}

void ulm_progress_end(ulm_progress *p) {
    if (p->tty) fprintf(stderr, "\r%*s\r", 60, "");
}
