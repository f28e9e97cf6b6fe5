/* cuda_als_check.c: CUDA ALS against the CPU trainer on the same data and starting factors.
 *
 * usage: ulm_cuda_als_check TRAIN.tsv TEST.tsv [factors=64] [iters=15] [threads=2] [reg] [alpha]
 * (files as written by bench/recs_split.py: header, then user, item, weight per line)
 *
 * Trains implicit ALS (CG, 3 steps) on the CPU (ulm_rec_train, `threads` threads) and on the GPU
 * (ulm_cuda_als_train) from identical initial factors, then prints one table row per device:
 * ms per iteration, NDCG@10 / recall@20 on TEST, and how far the GPU's scores x_u . y_i are from
 * the CPU's (relative to the CPU scores' RMS). Without a GPU the GPU row says why. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recs_impl.h"
#include "ulm/ulm_dict.h"
#include "ulm/ulm_rectrain.h"
#include "ulm_cuda_als.h"
#include "ulm_native.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Reads "user<TAB>item[<TAB>weight]" lines after a header into x, interning ids in us/is
 * (test files: unknown ids are skipped). */
static int read_tsv(const char *path, ulm_dict *us, ulm_dict *is, bool intern, ulm_imatrix *x) {
    FILE *f = fopen(path, "r");
    if (!f) return perror(path), 1;
    char line[4096];
    size_t n = 0, cap = 1 << 16;
    uint32_t *u = malloc(cap * 4), *it = malloc(cap * 4);
    float *w = malloc(cap * 4);
    if (!fgets(line, sizeof line, f)) return fclose(f), 1;
    while (fgets(line, sizeof line, f)) {
        char *a = strtok(line, "\t\r\n"), *b = strtok(NULL, "\t\r\n"), *c = strtok(NULL, "\t\r\n");
        if (!a || !b) continue;
        uint32_t ui = intern ? ulm_dict_intern(us, a, strlen(a), NULL) : ulm_dict_find(us, a, strlen(a));
        uint32_t ii = intern ? ulm_dict_intern(is, b, strlen(b), NULL) : ulm_dict_find(is, b, strlen(b));
        if (ui == ULM_NONE || ii == ULM_NONE) continue;
        if (n == cap) cap *= 2, u = realloc(u, cap * 4), it = realloc(it, cap * 4), w = realloc(w, cap * 4);
        u[n] = ui, it[n] = ii, w[n] = c ? strtof(c, NULL) : 1.0f, n++;
    }
    fclose(f);
    ulm_status s = ulm_imatrix_from_triplets(us->n, is->n, n, u, it, w, NULL, x, NULL);
    free(u), free(it), free(w);
    return s != ULM_OK;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s TRAIN.tsv TEST.tsv [factors] [iters] [threads] [reg] [alpha]\n", argv[0]);
        return 2;
    }
    ulm_rec_params p = ulm_rec_params_init(ULM_REC_ALS);
    if (argc > 3) p.factors = (uint32_t)atoi(argv[3]);
    if (argc > 4) p.iters = (uint32_t)atoi(argv[4]);
    if (argc > 5) p.threads = (uint32_t)atoi(argv[5]);
    if (argc > 6) p.reg = strtof(argv[6], NULL);
    if (argc > 7) p.alpha = strtof(argv[7], NULL);
    ulm_dict us, is;
    ulm_dict_init(&us), ulm_dict_init(&is);
    ulm_imatrix train, test;
    if (read_tsv(argv[1], &us, &is, true, &train) || read_tsv(argv[2], &us, &is, false, &test)) return 1;
    /* The test matrix must have the training shape. */
    if (test.n_users != train.n_users || test.n_items != train.n_items) {
        fprintf(stderr, "shape mismatch\n");
        return 1;
    }
    uint32_t f = p.factors, ks[2] = {10, 20};
    ulm_linalg la;
    ulm_linalg_native(&la, p.threads);
    char dev[160];
    ulm_cuda_describe(dev, sizeof dev);
    printf("data: %u users x %u items, %zu interactions; ALS %u factors, %u iterations, CG 3 steps, reg %g, alpha %g\n",
           train.n_users, train.n_items, train.nnz, f, p.iters, p.reg, p.alpha);
    printf("GPU: %s\n\n", dev);
    printf("| device | ms/iteration | ndcg@10 | recall@20 | score RMS diff vs CPU |\n|---|---|---|---|---|\n");

    ulm_rec_model cpu;
    double t0 = now();
    if (ulm_rec_train(&train, &p, &la, &cpu, NULL) != ULM_OK) return 1;
    double cpu_ms = (now() - t0) * 1000 / p.iters;
    ulm_rec_metrics at[2];
    ulm_rec_eval_info info;
    ulm_rec_evaluate(&cpu, &train, &test, ks, 2, &la, p.threads, at, &info, NULL);
    printf("| CPU, %u threads | %.1f | %.4f | %.4f | 0 |\n", p.threads, cpu_ms, at[0].ndcg, at[1].recall);

    /* The GPU starts from the CPU trainer's initial factors (same seed and stream). */
    ulm_rec_model gpu = {0};
    gpu.algo = ULM_REC_ALS, gpu.n_users = train.n_users, gpu.n_items = train.n_items, gpu.factors = f;
    gpu.reg = p.reg, gpu.alpha = p.alpha;
    gpu.user_f = malloc(((size_t)train.n_users * f + 1) * 4);
    gpu.item_f = malloc(((size_t)train.n_items * f + 1) * 4);
    gpu.pop = calloc(train.n_items + 1, 4);
    uint64_t rng = ulm__rng_seed(p.seed, 1);
    for (size_t k = 0; k < (size_t)train.n_users * f; k++) gpu.user_f[k] = ulm__rng_unit(&rng) * 0.01f;
    for (size_t k = 0; k < (size_t)train.n_items * f; k++) gpu.item_f[k] = ulm__rng_unit(&rng) * 0.01f;
    char msg[160];
    /* One warm-up sweep on a copy would change the factors; time the whole run instead. */
    t0 = now();
    ulm_status s = ulm_cuda_als_train(&train, f, p.iters, p.reg, p.alpha, p.cg_steps, gpu.user_f, gpu.item_f, msg,
                                      sizeof msg);
    double gpu_ms = (now() - t0) * 1000 / p.iters;
    int rc = 0;
    if (s != ULM_OK) {
        printf("| GPU | - | - | - | not run: %s (%s) |\n", msg, ulm_status_name(s));
        rc = s == ULM_ERR_UNSUPPORTED ? 0 : 1;
    } else {
        ulm_rec_evaluate(&gpu, &train, &test, ks, 2, &la, p.threads, at, &info, NULL);
        double d2 = 0, c2 = 0;
        uint64_t r2 = 7;
        for (int q = 0; q < 100000; q++) {
            uint32_t u = (uint32_t)(ulm__rng_next(&r2) % train.n_users), i = (uint32_t)(ulm__rng_next(&r2) % train.n_items);
            double a = ulm__dot(cpu.user_f + (size_t)u * f, cpu.item_f + (size_t)i * f, f);
            double b = ulm__dot(gpu.user_f + (size_t)u * f, gpu.item_f + (size_t)i * f, f);
            d2 += (a - b) * (a - b), c2 += a * a;
        }
        double rel = sqrt(d2 / (c2 > 0 ? c2 : 1));
        printf("| GPU | %.1f (incl. transfers) | %.4f | %.4f | %.2e |\n", gpu_ms, at[0].ndcg, at[1].recall, rel);
        printf("\nGPU / CPU time per iteration: %.3fx\n", gpu_ms / cpu_ms);
        if (rel > 0.05) {
            printf("FAIL: GPU scores differ from the CPU's by %.1f%% RMS\n", 100 * rel);
            rc = 1;
        }
    }
    ulm_rec_model_free(&cpu), ulm_rec_model_free(&gpu);
    ulm_imatrix_free(&train), ulm_imatrix_free(&test);
    ulm_dict_free(&us), ulm_dict_free(&is);
    return rc;
}
