/* recs_als_speed.c: ulm's implicit ALS trainer timed alone (no evaluation), per iteration.
 *
 * usage: ulm_recs_als_speed FILE [factors=64] [iters=10] [threads=2] [reps=3] [base]
 *   base: the baseline x86-64 (SSE2) row loop even where the CPU has AVX2
 *   FILE: "user<TAB>item" lines after a header (bench/recs_split.py's train.tsv: every pair
 *   weight 1), or an `ulm synth` event log (CSV, .gz ok; view 1, cart 2, purchase 4, a return
 *   subtracts 4, searches skipped: ulm's default event weights).
 *
 * Each rep trains once with 1 iteration and once with 1 + iters iterations from the same seed
 * and reports (T(1 + iters) - T(1)) / iters, so the set-up (random start, final Gram matrix)
 * is not counted; wall time and process CPU time (getrusage: on a loaded machine wall time
 * overstates, CPU time / threads is what an idle machine would show). Prints one JSON line per
 * rep and a summary line with the best and median wall ms/iteration, and the peak resident
 * memory (VmHWM) after reading the data, after building the matrix and at the end. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#include "recs_impl.h"
#include "ulm/ulm_dict.h"
#include "ulm/ulm_rectrain.h"
#include "ulm_native.h"

static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec * 1e-6;
}

/* Peak resident set so far in MiB (VmHWM), or -1. */
static double peak_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = strtod(line + 6, NULL);
    if (f) fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

/* Splits line at sep into up to max fields (in place); returns the count. */
static int fields(char *line, char sep, char **out, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        out[n++] = p;
        char *q = strchr(p, sep);
        if (!q) break;
        *q = 0;
        p = q + 1;
    }
    char *e = out[n - 1] + strcspn(out[n - 1], "\r\n");
    *e = 0;
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [factors] [iters] [threads] [reps]\n", argv[0]);
        return 2;
    }
    ulm_rec_params p = ulm_rec_params_init(ULM_REC_ALS);
    p.factors = argc > 2 ? (uint32_t)atoi(argv[2]) : 64;
    uint32_t iters = argc > 3 ? (uint32_t)atoi(argv[3]) : 10;
    p.threads = argc > 4 ? (uint32_t)atoi(argv[4]) : 2;
    int reps = argc > 5 ? atoi(argv[5]) : 3;
    bool base = argc > 6 && strcmp(argv[6], "base") == 0;
    if (p.factors == 0 || iters == 0 || p.threads == 0 || reps < 1) return fprintf(stderr, "bad arguments\n"), 2;

    gzFile gz = gzopen(argv[1], "rb");
    if (!gz) return perror(argv[1]), 1;
    gzbuffer(gz, 1 << 20);
    char line[8192], *f[8];
    if (!gzgets(gz, line, sizeof line)) return fprintf(stderr, "%s: empty\n", argv[1]), 1;
    int synth = strchr(line, ',') != NULL; /* the synth log is CSV with an `event` column */
    ulm_dict us, is;
    ulm_dict_init(&us), ulm_dict_init(&is);
    size_t n = 0, cap = 1 << 20;
    uint32_t *u = malloc(cap * sizeof *u), *it = malloc(cap * sizeof *it);
    float *w = malloc(cap * sizeof *w);
    double t0 = wall();
    while (gzgets(gz, line, sizeof line)) {
        int nf = fields(line, synth ? ',' : '\t', f, 8);
        float x = 1;
        if (synth) {
            if (nf < 4 || !f[0][0] || !f[1][0]) continue;
            const char *e = f[3];
            x = strcmp(e, "view") == 0       ? 1.0f
                : strcmp(e, "cart") == 0     ? 2.0f
                : strcmp(e, "purchase") == 0 ? 4.0f
                : strcmp(e, "return") == 0   ? -4.0f
                                             : 0.0f;
            if (x == 0) continue;
        } else if (nf < 2) {
            continue;
        }
        if (n == cap) {
            cap *= 2;
            u = realloc(u, cap * sizeof *u), it = realloc(it, cap * sizeof *it), w = realloc(w, cap * sizeof *w);
            if (!u || !it || !w) return fprintf(stderr, "out of memory\n"), 1;
        }
        u[n] = ulm_dict_intern(&us, f[0], strlen(f[0]), NULL);
        it[n] = ulm_dict_intern(&is, f[1], strlen(f[1]), NULL);
        w[n++] = x;
    }
    gzclose(gz);
    double read_s = wall() - t0, mib_read = peak_mib();
    ulm_imatrix m;
    ulm_diag d;
    t0 = wall();
    if (ulm_imatrix_from_triplets(us.n, is.n, n, u, it, w, NULL, &m, &d) != ULM_OK)
        return fprintf(stderr, "matrix: %s\n", d.message), 1;
    double build_s = wall() - t0, mib_matrix = peak_mib();
    free(u), free(it), free(w);
    ulm_dict_free(&us), ulm_dict_free(&is);
    printf("{\"file\":\"%s\",\"rows\":%zu,\"users\":%u,\"items\":%u,\"nnz\":%zu,\"read_seconds\":%.2f,"
           "\"matrix_seconds\":%.2f,\"factors\":%u,\"threads\":%u,\"iters\":%u,\"row_loop\":\"%s\"}\n",
           argv[1], n, m.n_users, m.n_items, m.nnz, read_s, build_s, p.factors, p.threads, iters,
           base ? "baseline" : "best for this CPU");
    fflush(stdout);

    ulm_linalg la;
    ulm_linalg_native(&la, p.threads);
    double *ms = malloc(reps * sizeof *ms);
    for (int r = 0; r < reps; r++) {
        double tw[2], tc[2];
        for (int pass = 0; pass < 2; pass++) {
            ulm_rec_model model;
            memset(&model, 0, sizeof model);
            p.iters = pass ? 1 + iters : 1;
            double w0 = wall(), c0 = cpu();
            ulm_status s = base ? ulm__train_als_isa(&m, &p, &la, &model, &d, false)
                                : ulm_rec_train(&m, &p, &la, &model, &d);
            if (s != ULM_OK) return fprintf(stderr, "train: %s\n", d.message), 1;
            tw[pass] = wall() - w0, tc[pass] = cpu() - c0;
            ulm_rec_model_free(&model);
        }
        ms[r] = (tw[1] - tw[0]) * 1000 / iters;
        printf("{\"rep\":%d,\"wall_ms_per_iter\":%.2f,\"cpu_ms_per_iter\":%.2f}\n", r + 1, ms[r],
               (tc[1] - tc[0]) * 1000 / iters);
        fflush(stdout);
    }
    qsort(ms, reps, sizeof *ms, cmp_double);
    printf("{\"best_ms_per_iter\":%.2f,\"median_ms_per_iter\":%.2f,\"peak_mib_read\":%.0f,\"peak_mib_matrix\":%.0f,"
           "\"peak_mib\":%.0f}\n",
           ms[0], ms[reps / 2], mib_read, mib_matrix, peak_mib());
    free(ms);
    ulm_imatrix_free(&m);
    return 0;
}
