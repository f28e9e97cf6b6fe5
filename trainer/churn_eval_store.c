/* churn_eval_store.c: `ulm eval churn --store STORE --cutoff DATES --horizon DAYS [--test-cutoff DATE]`:
 * a churn model from an event log, measured out of time (or on held-out customers) next to the
 * recency-only baseline. */
#include <math.h>
#include <string.h>

#include "churn_store.h"
#include "cli.h"
#include "store.h"

static const char usage[] =
    "usage: ulm eval churn --store STORE --cutoff DATES [--horizon DAYS] [--test-cutoff DATE]\n"
    "                      [--algo logreg|gbdt|auto] [--threads N] [--seed S] [--json]\n\n"
    "Builds churn labels from an event store (features from events before each cutoff; a customer with no\n"
    "purchase in the horizon after it churned), trains a churn model and measures it:\n"
    "  with --test-cutoff, on every customer active before that later date (out of time: train on\n"
    "  --cutoff 2011-06-11, test at 2011-09-09); otherwise on a quarter of the customers, chosen by a\n"
    "  seeded hash of the customer, held out of training.\n"
    "Prints AUC, PR AUC, logloss, the lift in the top decile of risk, and the same for the recency-only\n"
    "baseline (risk = days since the last purchase).\n\n"
    "  --horizon DAYS   label window (default: the 90th percentile of the gaps between purchase days)\n"
    "  --depth N        gradient-boosted trees' depth (1..8, default 4; as ulm train --churn-depth)\n"
    "  --json           one JSON object on stdout\n";

/* Deterministic customer hash (splitmix64 of user index and seed) for the held-out quarter. */
static bool held_out(uint32_t user, uint64_t seed) {
    uint64_t z = (uint64_t)user + seed * 0x9E3779B97F4A7C15ull + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z % 4 == 0;
}

/* Metrics of probabilities p on labels y, into JSON or text under a name. */
static void report(ulm_sb *o, const char *name, const float *p, const float *y, size_t n, bool json) {
    ulm_binary_metrics bm;
    memset(&bm, 0, sizeof bm);
    ulm_binary_metrics_compute(p, y, n, &bm);
    double lift = ulm_churn_lift10(p, y, n);
    if (json)
        ulm_sb_printf(o, ",\"%s\":{\"auc\":%.6f,\"pr_auc\":%.6f,\"lift_top10\":%.4f}", name, bm.auc, bm.pr_auc, lift);
    else
        ulm_sb_printf(o, "%-18s AUC %.4f  PR AUC %.4f  top-decile lift %.2f\n", name, bm.auc, bm.pr_auc, lift);
}

int ulm_churn_eval_store(int argc, char **argv) {
    ulm_opt opts[] = {{"store", true, NULL}, {"cutoff", true, NULL}, {"horizon", true, NULL}, {"test-cutoff", true, NULL},
                      {"algo", true, NULL},  {"threads", true, NULL}, {"seed", true, NULL},   {"json", false, NULL},
                      {"depth", true, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *store = ulm_opt_get(opts, no, "store");
    if (a.npos != 1 || strcmp(a.pos[0], "churn") != 0 || !store) {
        fprintf(stderr, "ulm eval: expected 'churn --store STORE'\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    uint64_t threads, seed, depth;
    if (!ulm_opt_u64(opts, no, "threads", 1, &threads) || !ulm_opt_u64(opts, no, "seed", 42, &seed) || threads < 1 ||
        threads > 256 || !ulm_opt_u64(opts, no, "depth", 4, &depth))
        return ULM_EXIT_USAGE;
    if (depth < 1 || depth > 8) {
        ulm_errorf("eval", "--depth must be 1..8");
        return ULM_EXIT_USAGE;
    }
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    ulm_events ev;
    ulm_events_init(&ev);
    if (!ulm_store_load("eval", store, &ev)) return ULM_EXIT_FAIL;
    ulm_churn_job j, t;
    ulm_churn_job_init(&j);
    ulm_churn_job_init(&t);
    j.algo = ulm_opt_get(opts, no, "algo");
    j.cutoffs = ulm_opt_get(opts, no, "cutoff");
    j.horizon = ulm_opt_get(opts, no, "horizon");
    j.threads = (uint32_t)threads;
    j.params.seed = seed;
    j.params.gbdt.max_depth = (uint32_t)depth;
    const char *test_cut = ulm_opt_get(opts, no, "test-cutoff");
    float *xtr = NULL, *ytr = NULL, *p = NULL, *base = NULL;
    const float *xte, *yte;
    uint32_t ntr = 0, nte = 0;
    int rc = ulm_churn_job_rows(&ev, &j, "eval");
    double t0 = ulm_now();
    if (rc) goto done;
    rc = ULM_EXIT_FAIL;
    if (test_cut) {
        char h[32];
        snprintf(h, sizeof h, "%.17g", j.horizon_days);
        t.cutoffs = test_cut;
        t.horizon = h;
        if ((rc = ulm_churn_job_rows(&ev, &t, "eval")) != 0) goto done;
        for (uint32_t c = 0; c < j.n_cut; c++)
            if (j.cut[c] + (int64_t)llround(j.horizon_days * 86400) > t.cut[0])
                fprintf(stderr, "ulm eval: note: a training label window ends after the test cutoff\n");
        if ((rc = ulm_churn_job_fit_rows(&j, j.rows.x, j.rows.y, j.rows.n_rows, "eval")) != 0) goto done;
        ntr = j.rows.n_rows;
        xte = t.rows.x, yte = t.rows.y, nte = t.rows.n_rows;
    } else {
        uint32_t n = j.rows.n_rows;
        xtr = malloc(((size_t)n + 1) * ULM_CF_COUNT * sizeof *xtr);
        ytr = malloc(((size_t)n + 1) * sizeof *ytr);
        float *xt = malloc(((size_t)n + 1) * ULM_CF_COUNT * sizeof *xt), *yt = malloc(((size_t)n + 1) * sizeof *yt);
        if (!xtr || !ytr || !xt || !yt) {
            free(xt), free(yt);
            ulm_errorf("eval", "out of memory");
            goto done;
        }
        for (uint32_t i = 0; i < n; i++) {
            bool te = held_out(j.rows.user[i], seed);
            float *dx = te ? xt + (size_t)nte * ULM_CF_COUNT : xtr + (size_t)ntr * ULM_CF_COUNT;
            memcpy(dx, j.rows.x + (size_t)i * ULM_CF_COUNT, ULM_CF_COUNT * sizeof *dx);
            if (te) yt[nte++] = j.rows.y[i];
            else ytr[ntr++] = j.rows.y[i];
        }
        /* the test rows take the place of the job's rows (freed with it) */
        free(j.rows.x), free(j.rows.y);
        j.rows.x = xt, j.rows.y = yt;
        j.rows.n_rows = nte;
        if ((rc = ulm_churn_job_fit_rows(&j, xtr, ytr, ntr, "eval")) != 0) goto done;
        xte = xt, yte = yt;
        rc = ULM_EXIT_FAIL;
    }
    double secs = ulm_now() - t0;
    p = malloc(((size_t)nte + 1) * sizeof *p);
    base = malloc(((size_t)nte + 1) * sizeof *base);
    if (!p || !base) goto done;
    ulm_churn_predict(j.model, xte, nte, p);
    for (uint32_t i = 0; i < nte; i++) base[i] = xte[(size_t)i * ULM_CF_COUNT + ULM_CF_RECENCY];
    ulm_sb o = {0};
    double rate = 0;
    for (uint32_t i = 0; i < nte; i++) rate += yte[i];
    rate /= nte ? nte : 1;
    const char *fam = j.rep.family == ULM_CHURN_GBDT ? "gbdt" : "logreg";
    if (json) {
        ulm_sb_printf(&o, "{\"task\":\"churn\",\"source\":\"store\",\"algo\":\"%s\",\"cutoffs\":\"%s\",\"test\":\"%s\","
                          "\"horizon_days\":%g,\"horizon_source\":\"%s\",\"train_rows\":%u,\"test_rows\":%u,"
                          "\"test_churn_rate\":%.6f,\"train_seconds\":%.3f",
                      fam, j.cutoffs, test_cut ? test_cut : "held-out customers", j.horizon_days,
                      j.horizon_default ? "purchase-rhythm-p90" : "given", ntr, nte, rate, secs);
        report(&o, "model", p, yte, nte, true);
        report(&o, "recency_baseline", base, yte, nte, true);
        ulm_binary_metrics bm;
        ulm_binary_metrics_compute(p, yte, nte, &bm);
        ulm_sb_printf(&o, ",\"auc\":%.6f,\"pr_auc\":%.6f,\"logloss\":%.6f,\"accuracy\":%.6f,\"lift_top10\":%.4f}\n",
                      bm.auc, bm.pr_auc, bm.logloss, bm.accuracy, ulm_churn_lift10(p, yte, nte));
    } else {
        ulm_sb_printf(&o, "churn model: %s trained on %u rows (cutoffs %s, horizon %g days%s) in %.2f s\n", fam, ntr,
                      j.cutoffs, j.horizon_days, j.horizon_default ? ", from the purchase rhythm" : "", secs);
        ulm_sb_printf(&o, "test: %s, %u customers, churn rate %.3f\n", test_cut ? test_cut : "held-out customers", nte, rate);
        report(&o, "model", p, yte, nte, false);
        report(&o, "recency baseline", base, yte, nte, false);
    }
    fputs(o.s ? o.s : "", stdout);
    ulm_sb_free(&o);
    rc = ULM_EXIT_OK;
done:
    free(xtr), free(ytr), free(p), free(base);
    ulm_churn_job_free(&j);
    ulm_churn_job_free(&t);
    ulm_events_free(&ev);
    return rc;
}
