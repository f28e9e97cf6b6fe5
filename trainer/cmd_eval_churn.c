/* cmd_eval_churn.c: `ulm eval churn`: train a churn model on one CSV (or an event store) and measure it on another. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "churn_pool.h"
#include "churn_table.h"
#include "cli.h"
#include "commands.h"
#include "ulm/ulm_churn_train.h"

static const char usage[] =
    "usage: ulm eval churn --train FILE --test FILE --label COLUMN [--positive VALUE]\n"
    "                      [--algo logreg|gbdt|auto] [--json] [options]\n"
    "       ulm eval churn --store STORE --cutoff DATES ... (from an event log; --store --help)\n\n"
    "Trains a churn model on a CSV file with a header (numeric columns are numbers; any other column\n"
    "is categorical; empty, NA, NaN, null are missing) and reports ROC AUC, PR AUC (average precision),\n"
    "logloss and accuracy on the test file. A fifth of the training rows (stratified) is held out for\n"
    "early stopping, the choice of family (auto) and calibration; the chosen family is then refitted on\n"
    "all training rows. Constant and all-missing columns are dropped (listed); categories not seen in\n"
    "training read as missing (counted); test columns not used by the model are ignored.\n\n"
    "  --positive VALUE        label value meaning churn (default: 1, yes or true when present)\n"
    "  --algo A                logreg, gbdt or auto (default auto: the better on validation AUC)\n"
    "  --calibration C         none, platt (default) or isotonic\n"
    "  --threads N             threads for tree training (default 1; results are identical for any N)\n"
    "  --seed S                split and sampling seed (default 42)\n"
    "  --rounds N --depth N --eta X --subsample X --colsample X --lambda X --alpha X\n"
    "                          tree parameters (defaults 300, 6, 0.1, 1, 1, 1, 0)\n"
    "  --early-stop N          stop trees after N rounds without a better validation logloss and keep the\n"
    "                          best round count (default 0 = off: all --rounds are trained)\n"
    "  --no-refit              keep the model trained without the validation rows\n"
    "  --holdout F             validation fraction (default 0.2); 0 trains --algo logreg|gbdt once on all\n"
    "                          rows, uncalibrated (what the benchmarks time against XGBoost)\n"
    "  --l2 X                  logistic regression L2 penalty (default 1)\n"
    "  --bench                 also time scoring: one row at a time and in batches (one thread; wall\n"
    "                          time and the thread's CPU time)\n"
    "  --json                  one JSON object on stdout\n";

static int parse_algo(const char *s, uint32_t *out) {
    if (!s || strcmp(s, "auto") == 0) *out = 0;
    else if (strcmp(s, "logreg") == 0) *out = ULM_CHURN_LOGREG;
    else if (strcmp(s, "gbdt") == 0) *out = ULM_CHURN_GBDT;
    else return -1;
    return 0;
}

static int parse_calib(const char *s, uint32_t *out) {
    if (!s || strcmp(s, "platt") == 0) *out = ULM_CALIB_PLATT;
    else if (strcmp(s, "none") == 0) *out = ULM_CALIB_NONE;
    else if (strcmp(s, "isotonic") == 0) *out = ULM_CALIB_ISOTONIC;
    else return -1;
    return 0;
}

static const char *family_name(uint32_t f) { return f == ULM_CHURN_GBDT ? "gbdt" : "logreg"; }

/* Prints a double as JSON (null for NaN). */
static void json_num(ulm_sb *b, const char *key, double v, bool comma) {
    if (isnan(v)) ulm_sb_printf(b, "%s\"%s\":null", comma ? "," : "", key);
    else ulm_sb_printf(b, "%s\"%s\":%.6f", comma ? "," : "", key, v);
}

/* CPU time of the calling thread in seconds (what the scorer itself used: robust to other jobs on the machine). */
static double thread_cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Scoring times on the test rows, one thread: one call per row (wall: median of 7 passes, ns per row; CPU:
 * best pass) and one call for all rows (best of 7 passes, rows per second, wall and CPU). */
typedef struct bench_times {
    double single_ns, batch_rps, single_cpu_ns, batch_cpu_rps;
} bench_times;

static void bench_scoring(const ulm_churn *m, const float *x, uint32_t n, float *out, bench_times *bt) {
    double wall[7], cpu_best = INFINITY;
    uint32_t nf = ulm_churn_n_features(m);
    uint32_t reps = n < 20000 ? 20000 / (n ? n : 1) + 1 : 1;
    volatile float sink = 0;
    for (int k = 0; k < 7; k++) {
        double t0 = ulm_now(), c0 = thread_cpu_now();
        for (uint32_t rep = 0; rep < reps; rep++)
            for (uint32_t r = 0; r < n; r++) {
                float pr;
                ulm_churn_predict(m, x + (size_t)r * nf, 1, &pr);
                sink += pr;
            }
        double c = (thread_cpu_now() - c0) * 1e9 / ((double)reps * n);
        wall[k] = (ulm_now() - t0) * 1e9 / ((double)reps * n);
        if (c < cpu_best) cpu_best = c;
    }
    for (int i = 1; i < 7; i++)
        for (int j = i; j > 0 && wall[j - 1] > wall[j]; j--) {
            double t = wall[j];
            wall[j] = wall[j - 1];
            wall[j - 1] = t;
        }
    bt->single_ns = wall[3];
    bt->single_cpu_ns = cpu_best;
    double fastest = INFINITY, fastest_cpu = INFINITY;
    for (int k = 0; k < 7; k++) {
        double t0 = ulm_now(), c0 = thread_cpu_now();
        for (uint32_t rep = 0; rep < reps; rep++) ulm_churn_predict(m, x, n, out);
        double c = (thread_cpu_now() - c0) / reps, t = (ulm_now() - t0) / reps;
        if (t < fastest) fastest = t;
        if (c < fastest_cpu) fastest_cpu = c;
    }
    bt->batch_rps = n / fastest;
    bt->batch_cpu_rps = n / fastest_cpu;
    (void)sink;
}

int ulm_churn_eval_store(int argc, char **argv); /* churn_eval_store.c */

int ulm_cmd_eval_churn(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--store") == 0 || strncmp(argv[i], "--store=", 8) == 0) return ulm_churn_eval_store(argc, argv);
    ulm_opt opts[] = {{"train", true, NULL},      {"test", true, NULL},   {"label", true, NULL},
                      {"positive", true, NULL},   {"algo", true, NULL},   {"calibration", true, NULL},
                      {"threads", true, NULL},    {"seed", true, NULL},   {"rounds", true, NULL},
                      {"depth", true, NULL},      {"eta", true, NULL},    {"subsample", true, NULL},
                      {"colsample", true, NULL},  {"lambda", true, NULL}, {"alpha", true, NULL},
                      {"l2", true, NULL},         {"early-stop", true, NULL}, {"no-refit", false, NULL}, {"bench", false, NULL}, {"holdout", true, NULL},
                      {"json", false, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    if (a.npos != 1 || strcmp(a.pos[0], "churn") != 0) {
        fprintf(stderr, "ulm eval: expected the task 'churn'\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    const char *train = ulm_opt_get(opts, no, "train"), *test = ulm_opt_get(opts, no, "test");
    const char *label = ulm_opt_get(opts, no, "label");
    if (!train || !test || !label) {
        fprintf(stderr, "ulm eval: --train, --test and --label are required\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    ulm_churn_params p = ulm_churn_params_init();
    if (parse_algo(ulm_opt_get(opts, no, "algo"), &p.family) != 0) {
        fprintf(stderr, "ulm eval: --algo must be logreg, gbdt or auto\n");
        return ULM_EXIT_USAGE;
    }
    if (parse_calib(ulm_opt_get(opts, no, "calibration"), &p.calib) != 0) {
        fprintf(stderr, "ulm eval: --calibration must be none, platt or isotonic\n");
        return ULM_EXIT_USAGE;
    }
    uint64_t threads, seed, rounds, depth, early;
    double eta, sub, col, lambda, alpha, l2, holdout;
    if (!ulm_opt_u64(opts, no, "threads", 1, &threads) || !ulm_opt_u64(opts, no, "seed", 42, &seed) ||
        !ulm_opt_u64(opts, no, "rounds", 300, &rounds) || !ulm_opt_u64(opts, no, "depth", 6, &depth) ||
        !ulm_opt_f64(opts, no, "eta", 0.1, &eta) || !ulm_opt_f64(opts, no, "subsample", 1, &sub) ||
        !ulm_opt_f64(opts, no, "colsample", 1, &col) || !ulm_opt_f64(opts, no, "lambda", 1, &lambda) ||
        !ulm_opt_f64(opts, no, "alpha", 0, &alpha) || !ulm_opt_f64(opts, no, "l2", 1, &l2) ||
        !ulm_opt_u64(opts, no, "early-stop", 0, &early) || !ulm_opt_f64(opts, no, "holdout", 0.2, &holdout))
        return ULM_EXIT_USAGE;
    if (threads < 1 || threads > 256 || rounds < 1 || rounds > 100000 || depth < 1 || depth > 30) {
        fprintf(stderr, "ulm eval: --threads 1..256, --rounds 1..100000, --depth 1..30\n");
        return ULM_EXIT_USAGE;
    }
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    p.seed = seed;
    p.gbdt.n_rounds = (uint32_t)rounds;
    p.gbdt.max_depth = (uint32_t)depth;
    p.gbdt.eta = (float)eta;
    p.gbdt.subsample = (float)sub;
    p.gbdt.colsample = (float)col;
    p.gbdt.lambda = (float)lambda;
    p.gbdt.alpha = (float)alpha;
    p.logreg.l2 = l2;
    p.gbdt.early_stopping = (uint32_t)early;
    p.valid_fraction = (float)holdout;
    if (holdout == 0) p.calib = ULM_CALIB_NONE;
    if (!(holdout >= 0 && holdout < 0.9) || (holdout == 0 && p.family == 0)) {
        fprintf(stderr, "ulm eval: --holdout must be in [0, 0.9), and above 0 with --algo auto\n");
        return ULM_EXIT_USAGE;
    }
    p.refit = ulm_opt_get(opts, no, "no-refit") ? 0 : 1;

    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_ctab_schema s;
    ulm_ctab tr, te;
    memset(&te, 0, sizeof te);
    ulm_churn *m = NULL;
    ulm_pool *pool = NULL;
    float *prob = NULL;
    int rc = ULM_EXIT_FAIL;
    ulm_status st = ulm_ctab_read_train(train, label, ulm_opt_get(opts, no, "positive"), &s, &tr, &d);
    if (st != ULM_OK) {
        ulm_errorf("eval", "%s", d.message);
        return ULM_EXIT_FAIL;
    }
    if (s.n_features == 0) {
        ulm_errorf("eval", "%s: no usable feature columns (all constant or missing)", train);
        goto done;
    }
    if ((st = ulm_ctab_read_apply(test, &s, true, &te, &d)) != ULM_OK) {
        ulm_errorf("eval", "%s", d.message);
        goto done;
    }
    if (threads > 1) {
        pool = ulm_pool_new((uint32_t)threads);
        if (!pool) {
            ulm_errorf("eval", "could not start %llu threads", (unsigned long long)threads);
            goto done;
        }
        p.gbdt.parallel = ulm_pool_parallel;
        p.gbdt.parallel_ctx = pool;
    }
    ulm_churn_data cd = {tr.n_rows, tr.n_features, tr.x, tr.y, s.kind, s.n_cats};
    ulm_churn_report rep;
    double t0 = ulm_now();
    st = ulm_churn_fit(&cd, &p, &m, &rep, &d);
    double secs = ulm_now() - t0;
    if (st != ULM_OK) {
        ulm_errorf("eval", "%s: training failed: %s", train, d.message);
        goto done;
    }
    prob = malloc(((size_t)te.n_rows + 1) * sizeof *prob);
    if (!prob) goto done;
    ulm_churn_predict(m, te.x, te.n_rows, prob);
    ulm_binary_metrics bm;
    if (ulm_binary_metrics_compute(prob, te.y, te.n_rows, &bm) != ULM_OK) {
        ulm_errorf("eval", "%s: no test rows", test);
        goto done;
    }
    bench_times bt = {NAN, NAN, NAN, NAN};
    if (ulm_opt_get(opts, no, "bench")) bench_scoring(m, te.x, te.n_rows, prob, &bt);
    if (isnan(bm.auc)) ulm_errorf("eval", "warning: %s has one class only: AUC is undefined", test);
    if (te.unseen)
        ulm_errorf("eval", "note: %llu test values were categories not seen in training (read as missing)",
                   (unsigned long long)te.unseen);
    ulm_sb o = {0};
    if (json) {
        ulm_sb_printf(&o, "{\"task\":\"churn\",\"algo\":\"%s\"", family_name(rep.family));
        json_num(&o, "auc", bm.auc, true);
        json_num(&o, "pr_auc", bm.pr_auc, true);
        json_num(&o, "logloss", bm.logloss, true);
        json_num(&o, "accuracy", bm.accuracy, true);
        json_num(&o, "train_seconds", secs, true);
        if (!isnan(bt.single_ns)) {
            json_num(&o, "score_ns_per_row", bt.single_ns, true);
            json_num(&o, "score_batch_rows_per_s", bt.batch_rps, true);
            json_num(&o, "score_cpu_ns_per_row", bt.single_cpu_ns, true);
            json_num(&o, "score_batch_cpu_rows_per_s", bt.batch_cpu_rps, true);
        }
        ulm_sb_printf(&o, ",\"train_rows\":%u,\"test_rows\":%u,\"features\":%u,\"trees\":%u,\"threads\":%llu",
                      tr.n_rows, te.n_rows, s.n_features, ulm_churn_n_trees(m), (unsigned long long)threads);
        ulm_sb_printf(&o, ",\"valid\":{\"rows\":%u", rep.n_valid);
        json_num(&o, "auc_logreg", rep.valid_auc_logreg, true);
        json_num(&o, "auc_gbdt", rep.valid_auc_gbdt, true);
        ulm_sb_printf(&o, "},\"calibration\":\"%s\",\"positive\":", p.calib == ULM_CALIB_PLATT      ? "platt"
                                                                     : p.calib == ULM_CALIB_ISOTONIC ? "isotonic"
                                                                                                     : "none");
        ulm_sb_json_str(&o, s.positive, strlen(s.positive));
        ulm_sb_printf(&o, ",\"dropped_columns\":[");
        for (uint32_t i = 0; i < s.n_dropped; i++) {
            if (i) ulm_sb_append(&o, ",", 1);
            ulm_sb_json_str(&o, s.dropped[i], strlen(s.dropped[i]));
        }
        ulm_sb_printf(&o, "],\"unseen_categories\":%llu,\"rare_categories_as_missing\":%u,\"ignored_test_columns\":%u}\n",
                      (unsigned long long)te.unseen, s.rare_grouped, te.n_extra);
    } else {
        ulm_sb_printf(&o, "churn model: %s (%u trees), trained on %u rows x %u features in %.3f s\n",
                      family_name(rep.family), ulm_churn_n_trees(m), tr.n_rows, s.n_features, secs);
        ulm_sb_printf(&o, "validation AUC: logreg %.4f, gbdt %.4f (%u held-out rows)\n", rep.valid_auc_logreg,
                      rep.valid_auc_gbdt, rep.n_valid);
        ulm_sb_printf(&o, "test (%u rows): AUC %.4f  PR AUC %.4f  logloss %.4f  accuracy %.4f\n", te.n_rows, bm.auc,
                      bm.pr_auc, bm.logloss, bm.accuracy);
        for (uint32_t i = 0; i < s.n_dropped; i++) ulm_sb_printf(&o, "dropped column: %s\n", s.dropped[i]);
    }
    fputs(o.s ? o.s : "", stdout);
    ulm_sb_free(&o);
    rc = ULM_EXIT_OK;
done:
    free(prob);
    ulm_churn_free(m);
    ulm_pool_free(pool);
    ulm_ctab_free(&tr);
    ulm_ctab_free(&te);
    ulm_ctab_schema_free(&s);
    return rc;
}
