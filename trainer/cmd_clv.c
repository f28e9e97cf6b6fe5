/* cmd_clv.c: `ulm clv fit|predict|eval`: BG/NBD, Pareto/NBD and Gamma-Gamma from an event store
 * or a transaction table. Maths in core (ulm_clv.h); data rules in clv_data.c; docs/clv.md. */
#include <math.h>
#include <string.h>

#include "churn_pool.h"
#include "clv_data.h"
#include "commands.h"

static const char usage[] =
    "usage: ulm clv fit|predict|eval STORE|TRANSACTIONS [options]\n\n"
    "Customer lifetime value with BG/NBD (Fader, Hardie & Lee 2005), Pareto/NBD and the Gamma-Gamma\n"
    "spend model. Input: an event store (purchases net of returns per customer-day; guests excluded)\n"
    "or a CSV/TSV/whitespace table with customer, date and value columns (one row per transaction;\n"
    "rows of one customer-day are summed). Repeat purchases are distinct purchase days after the first.\n\n"
    "  fit       print the fitted parameters and log-likelihoods\n"
    "  predict   per customer: P(alive), expected purchases over --horizon, expected spend, discounted CLV\n"
    "  eval      fit on the calibration period and compare with the holdout (MAE, correlation, buckets,\n"
    "            cumulative repeat purchases) next to the naive baseline (past rate x horizon)\n\n"
    "  --calibration-end DATE   last day of the calibration period (fit/predict default: the last day)\n"
    "  --holdout-end DATE       eval: last day of the holdout (default: the last day of the data)\n"
    "  --time-unit day|week     unit of t_x, T and the parameters (default week)\n"
    "  --model bgnbd|pnbd|both  purchase model (fit default: both; predict/eval default: bgnbd)\n"
    "  --horizon T              predict: horizon in time units (default 52 weeks or 364 days)\n"
    "  --period P               predict: discounting period in time units (default 4 weeks or 28 days)\n"
    "  --discount D             predict: discount rate per period (default 0.01)\n"
    "  --out FILE               predict: write the rows here (default stdout)\n"
    "  --map customer=COL,date=COL,value=COL   column names (or 1-based indices with --no-header)\n"
    "  --no-header              the table has no header line\n"
    "  --summary                the input is a ready per-customer table (x, t_x, T[, zbar]) in its own unit\n"
    "  --strict                 exit 1 when an optimiser does not converge\n"
    "  --threads N              threads for the BG/NBD likelihood (default 2; results are identical for any N)\n"
    "  --json                   JSON output (predict: JSON Lines)\n";

typedef struct clv_run {
    ulm_clv_tx tx;
    ulm_clv_summary s;
    ulm_clv_groups g;
    int64_t cal_end, end;
    double unit;
    bool json, strict, fit_bg, fit_pn;
    ulm_bgnbd bg;
    ulm_pnbd pn;
    ulm_gg gg;
    ulm_fit_report rbg, rpn, rgg;
    bool has_gg;
    ulm_sb warn; /* JSON list items of warnings */
    int nwarn;
    size_t single;
    bool summary; /* input was a ready (x, t_x, T) table */
    uint64_t threads;
    double group_seconds, bg_seconds; /* wall time of grouping and of the BG/NBD fit (benchmarks) */
} clv_run;

/* Records a warning: on stderr now, and for the JSON "warnings" list. */
static void warn(clv_run *r, const char *msg) {
    fprintf(stderr, "ulm clv: warning: %s\n", msg);
    if (r->nwarn++) ulm_sb_append(&r->warn, ",", 1);
    ulm_sb_json_str(&r->warn, msg, strlen(msg));
}

static void run_free(clv_run *r) {
    ulm_clv_groups_free(&r->g);
    ulm_clv_summary_free(&r->s);
    ulm_clv_tx_free(&r->tx);
    ulm_sb_free(&r->warn);
}

/* Loads, checks the dates, summarises and fits. Returns an exit code (0 = go on). */
static int prepare(clv_run *r, const char *sub, const char *path, ulm_opt *opts, size_t no) {
    ulm_diag d;
    memset(&d, 0, sizeof d);
    const char *unit = ulm_opt_get(opts, no, "time-unit");
    if (!unit || strcmp(unit, "week") == 0) r->unit = 7;
    else if (strcmp(unit, "day") == 0) r->unit = 1;
    else {
        ulm_errorf("clv", "--time-unit must be day or week, not '%s'", unit);
        return ULM_EXIT_USAGE;
    }
    const char *model = ulm_opt_get(opts, no, "model");
    bool fit = strcmp(sub, "fit") == 0;
    if (!model) model = fit ? "both" : "bgnbd";
    r->fit_bg = strcmp(model, "bgnbd") == 0 || strcmp(model, "both") == 0;
    r->fit_pn = strcmp(model, "pnbd") == 0 || strcmp(model, "both") == 0;
    if (!r->fit_bg && !r->fit_pn) {
        ulm_errorf("clv", "--model must be bgnbd, pnbd or both, not '%s'", model);
        return ULM_EXIT_USAGE;
    }
    if (!fit && r->fit_bg && r->fit_pn) {
        ulm_errorf("clv", "%s takes one model: --model bgnbd or --model pnbd", sub);
        return ULM_EXIT_USAGE;
    }
    const char *ce = ulm_opt_get(opts, no, "calibration-end"), *he = ulm_opt_get(opts, no, "holdout-end");
    if (strcmp(sub, "eval") == 0 && !ce) {
        ulm_errorf("clv", "eval needs --calibration-end DATE");
        return ULM_EXIT_USAGE;
    }
    int64_t ced = 0, hed = 0;
    if (ce && !ulm_clv_parse_day(ce, strlen(ce), &ced)) {
        ulm_errorf("clv", "--calibration-end: cannot read the date '%s' (YYYY-MM-DD)", ce);
        return ULM_EXIT_USAGE;
    }
    if (he && !ulm_clv_parse_day(he, strlen(he), &hed)) {
        ulm_errorf("clv", "--holdout-end: cannot read the date '%s' (YYYY-MM-DD)", he);
        return ULM_EXIT_USAGE;
    }
    ulm_status s;
    if (ulm_opt_get(opts, no, "summary")) {
        if (strcmp(sub, "eval") == 0 || ce || he) {
            ulm_errorf("clv", "--summary input has no dates: fit or predict only, without --calibration-end");
            return ULM_EXIT_USAGE;
        }
        ulm_dict_init(&r->tx.names);
        s = ulm_clv_summary_load(path, &r->s, &r->tx.names, &d);
        r->summary = true;
        r->unit = 1; /* the table's own unit */
        r->tx.first_day = r->tx.last_day = r->cal_end = r->end = 0;
        if (s == ULM_OK) goto fit;
    } else {
        s = ulm_clv_tx_load(path, ulm_opt_get(opts, no, "map"), ulm_opt_get(opts, no, "no-header") != NULL, &r->tx, &d);
    }
    if (s != ULM_OK) {
        ulm_errorf("clv", "%s", d.message);
        return ULM_EXIT_FAIL;
    }
    char f0[16], f1[16], c0[16];
    ulm_clv_format_day(r->tx.first_day, f0);
    ulm_clv_format_day(r->tx.last_day, f1);
    r->cal_end = ce ? ced : r->tx.last_day;
    r->end = he ? hed : r->tx.last_day;
    ulm_clv_format_day(r->cal_end, c0);
    if (r->cal_end < r->tx.first_day) {
        ulm_errorf("clv", "calibration end %s is before the first purchase in the data (%s)", c0, f0);
        return ULM_EXIT_FAIL;
    }
    if (strcmp(sub, "eval") == 0 && r->cal_end >= r->end) {
        ulm_errorf("clv", "calibration end %s leaves no holdout: the data ends on %s", c0, f1);
        return ULM_EXIT_FAIL;
    }
    if (r->cal_end > r->tx.last_day) {
        char m[200];
        snprintf(m, sizeof m, "calibration end %s is after the last purchase (%s): T includes time without data", c0, f1);
        warn(r, m);
    }
    s = ulm_clv_summarise(&r->tx, r->cal_end, r->end, r->unit, &r->s, &d);
fit:
    double t0 = ulm_now();
    if (s == ULM_OK) s = ulm_clv_groups_build(r->s.x, r->s.t_x, r->s.T, r->s.n, &r->g, &d);
    r->group_seconds = ulm_now() - t0;
    if (s != ULM_OK) {
        ulm_errorf("clv", "%s", d.message);
        return ULM_EXIT_FAIL;
    }
    for (size_t i = 0; i < r->s.n; i++) r->single += r->s.x[i] == 0;
    ulm_fit_params fp = ulm_fit_params_init();
    if (r->fit_bg) {
        ulm_pool *pool = r->threads > 1 ? ulm_pool_new((uint32_t)r->threads) : NULL;
        fp.parallel = pool ? ulm_pool_parallel : NULL;
        fp.parallel_ctx = pool;
        t0 = ulm_now();
        s = ulm_bgnbd_fit(&r->g, &fp, &r->bg, &r->rbg, &d);
        r->bg_seconds = ulm_now() - t0;
        ulm_pool_free(pool);
        fp.parallel = NULL, fp.parallel_ctx = NULL;
        if (s != ULM_OK) {
            ulm_errorf("clv", "BG/NBD: %s", d.message);
            return ULM_EXIT_FAIL;
        }
        if (!r->rbg.converged) warn(r, "BG/NBD: the optimiser stopped before convergence; the best point is reported");
    }
    if (r->fit_pn) {
        s = ulm_pnbd_fit(&r->g, &fp, &r->pn, &r->rpn, &d);
        if (s != ULM_OK) {
            ulm_errorf("clv", "Pareto/NBD: %s", d.message);
            return ULM_EXIT_FAIL;
        }
        if (!r->rpn.converged) warn(r, "Pareto/NBD: the optimiser stopped before convergence; the best point is reported");
    }
    bool any_spend = false;
    for (size_t i = 0; i < r->s.n && !any_spend; i++) any_spend = r->s.zbar[i] != 0;
    if (r->summary && !any_spend) return 0; /* a summary without spend: no Gamma-Gamma, nothing to warn about */
    s = ulm_gg_fit(r->s.x, r->s.zbar, r->s.n, &fp, &r->gg, &r->rgg, &d);
    if (s == ULM_OK) {
        r->has_gg = true;
        if (!r->rgg.converged) warn(r, "Gamma-Gamma: the optimiser stopped before convergence; the best point is reported");
        if (r->gg.q <= 1) warn(r, "Gamma-Gamma: q <= 1, the population mean spend is infinite");
    } else {
        char m[240];
        snprintf(m, sizeof m, "Gamma-Gamma not fitted: %s", d.message);
        warn(r, m);
    }
    if (r->rgg.n_excluded > r->single) {
        char m[200];
        snprintf(m, sizeof m, "%zu repeat buyer(s) with zero or negative mean spend left out of Gamma-Gamma",
                 r->rgg.n_excluded - r->single);
        warn(r, m);
    }
    return 0;
}

static bool any_unconverged(const clv_run *r) {
    return (r->fit_bg && !r->rbg.converged) || (r->fit_pn && !r->rpn.converged) || (r->has_gg && !r->rgg.converged);
}

/* The "bgnbd"/"pnbd"/"gamma_gamma" members, shared by fit and eval. */
static void json_params(ulm_sb *b, const clv_run *r) {
    if (r->fit_bg)
        ulm_sb_printf(b, ",\"bgnbd\":{\"r\":%.10g,\"alpha\":%.10g,\"a\":%.10g,\"b\":%.10g,\"loglik\":%.10g,"
                         "\"converged\":%s,\"iterations\":%d,\"grad_norm\":%.3g,\"seconds\":%.4f}",
                      r->bg.r, r->bg.alpha, r->bg.a, r->bg.b, r->rbg.loglik, r->rbg.converged ? "true" : "false",
                      r->rbg.iterations, r->rbg.grad_norm, r->bg_seconds);
    if (r->fit_pn)
        ulm_sb_printf(b, ",\"pnbd\":{\"r\":%.10g,\"alpha\":%.10g,\"s\":%.10g,\"beta\":%.10g,\"loglik\":%.10g,"
                         "\"converged\":%s,\"iterations\":%d,\"grad_norm\":%.3g}",
                      r->pn.r, r->pn.alpha, r->pn.s, r->pn.beta, r->rpn.loglik, r->rpn.converged ? "true" : "false",
                      r->rpn.iterations, r->rpn.grad_norm);
    if (r->has_gg)
        ulm_sb_printf(b, ",\"gamma_gamma\":{\"p\":%.10g,\"q\":%.10g,\"gamma\":%.10g,\"loglik\":%.10g,\"customers\":%zu,"
                         "\"excluded\":%zu,\"converged\":%s}",
                      r->gg.p, r->gg.q, r->gg.gamma, r->rgg.loglik, r->rgg.n_used, r->rgg.n_excluded,
                      r->rgg.converged ? "true" : "false");
    else
        ulm_sb_printf(b, ",\"gamma_gamma\":null");
}

static void json_head(ulm_sb *b, const clv_run *r, const char *path) {
    char c0[16], f0[16], f1[16];
    ulm_clv_format_day(r->cal_end, c0);
    ulm_clv_format_day(r->tx.first_day, f0);
    ulm_clv_format_day(r->tx.last_day, f1);
    ulm_sb_printf(b, "{\"input\":");
    ulm_sb_json_str(b, path, strlen(path));
    ulm_sb_printf(b,
                  ",\"source\":\"%s\",\"rows\":%zu,\"guest_rows\":%zu,\"customer_days\":%zu,\"nonpositive_days\":%zu,"
                  "\"return_only_days\":%zu,\"first_day\":\"%s\",\"last_day\":\"%s\",\"calibration_end\":\"%s\","
                  "\"time_unit\":\"%s\",\"customers\":%zu,\"distinct_histories\":%zu,\"single_purchase_customers\":%zu,"
                  "\"customers_after_calibration\":%zu,\"group_seconds\":%.4f",
                  r->tx.from_store ? "store" : "table", r->tx.rows, r->tx.guest_rows, r->tx.n, r->tx.nonpositive_days,
                  r->tx.return_only_days, f0, f1, c0, r->unit == 7 ? "week" : "day", r->s.n, r->g.n, r->single,
                  r->s.later, r->group_seconds);
}

static void text_params(const clv_run *r) {
    char c0[16];
    ulm_clv_format_day(r->cal_end, c0);
    if (r->summary)
        printf("%zu customers (summary table; %zu distinct histories, %zu single-purchase)\n", r->s.n, r->g.n, r->single);
    else
        printf("%zu customers (calibration to %s, unit %s; %zu distinct histories, %zu single-purchase)\n", r->s.n, c0,
               r->unit == 7 ? "week" : "day", r->g.n, r->single);
    if (r->fit_bg)
        printf("BG/NBD      r %.4f  alpha %.4f  a %.4f  b %.4f  LL %.2f%s\n", r->bg.r, r->bg.alpha, r->bg.a, r->bg.b,
               r->rbg.loglik, r->rbg.converged ? "" : "  (not converged)");
    if (r->fit_pn)
        printf("Pareto/NBD  r %.4f  alpha %.4f  s %.4f  beta %.4f  LL %.2f%s\n", r->pn.r, r->pn.alpha, r->pn.s,
               r->pn.beta, r->rpn.loglik, r->rpn.converged ? "" : "  (not converged)");
    if (r->has_gg)
        printf("Gamma-Gamma p %.4f  q %.4f  gamma %.4f  LL %.2f  (%zu repeat buyers, %zu excluded)\n", r->gg.p, r->gg.q,
               r->gg.gamma, r->rgg.loglik, r->rgg.n_used, r->rgg.n_excluded);
}

static int do_fit(clv_run *r, const char *path) {
    if (r->json) {
        ulm_sb b = {0};
        json_head(&b, r, path);
        json_params(&b, r);
        ulm_sb_printf(&b, ",\"warnings\":[%s]}\n", r->warn.s ? r->warn.s : "");
        fputs(b.s, stdout);
        ulm_sb_free(&b);
    } else {
        text_params(r);
    }
    return r->strict && any_unconverged(r) ? ULM_EXIT_FAIL : ULM_EXIT_OK;
}

static ulm_clv_model model_of(const clv_run *r) {
    ulm_clv_model m = {r->fit_pn ? ULM_CLV_PNBD : ULM_CLV_BGNBD, r->bg, r->pn, r->gg};
    return m;
}

static int do_predict(clv_run *r, ulm_opt *opts, size_t no) {
    double horizon, period, disc;
    if (!ulm_opt_f64(opts, no, "horizon", r->unit == 7 ? 52 : 364, &horizon) ||
        !ulm_opt_f64(opts, no, "period", r->unit == 7 ? 4 : 28, &period) ||
        !ulm_opt_f64(opts, no, "discount", 0.01, &disc))
        return ULM_EXIT_USAGE;
    if (!(horizon >= 0) || !(period > 0) || !(disc > -1) || horizon / period > 1e5) {
        ulm_errorf("clv", "need --horizon >= 0, --period > 0, --discount > -1 (and at most 1e5 periods)");
        return ULM_EXIT_USAGE;
    }
    ulm_clv_model m = model_of(r);
    if (!r->has_gg) { /* no spend model: CLV in purchases (E[M] = 1) */
        m.gg = (ulm_gg){1, 2, 1}; /* with zbar passed as 0: E[M] = p gamma / (q - 1) = 1 */
        warn(r, "no spend model: expected_spend and clv are reported as 1 and expected purchases");
    }
    ulm_sb b = {0};
    if (!r->json) ulm_sb_printf(&b, "customer,x,t_x,T,zbar,p_alive,expected_purchases,expected_spend,clv\n");
    size_t failed = 0;
    for (size_t i = 0; i < r->s.n; i++) {
        ulm_clv_pred p;
        uint32_t len;
        char rowid[24];
        const char *id = rowid;
        if (r->tx.names.n) id = ulm_dict_str(&r->tx.names, r->s.cust[i], &len);
        else len = (uint32_t)snprintf(rowid, sizeof rowid, "%zu", i + 1);
        if (ulm_clv_predict(&m, r->s.x[i], r->s.t_x[i], r->s.T[i], r->has_gg ? r->s.zbar[i] : 0, horizon, period, disc,
                            &p) != ULM_OK) {
            failed++;
            continue;
        }
        if (r->json) {
            ulm_sb_printf(&b, "{\"customer\":");
            ulm_sb_json_str(&b, id, len);
            ulm_sb_printf(&b, ",\"x\":%g,\"t_x\":%.6g,\"T\":%.6g,\"zbar\":%.6g,\"p_alive\":%.6g,"
                              "\"expected_purchases\":%.6g,\"expected_spend\":%.6g,\"clv\":%.6g}\n",
                          r->s.x[i], r->s.t_x[i], r->s.T[i], r->s.zbar[i], p.p_alive, p.expected_purchases,
                          p.expected_spend, p.clv);
        } else {
            ulm_sb_json_str(&b, id, len); /* quoted: ids may hold commas */
            ulm_sb_printf(&b, ",%g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", r->s.x[i], r->s.t_x[i], r->s.T[i],
                          r->s.zbar[i], p.p_alive, p.expected_purchases, p.expected_spend, p.clv);
        }
    }
    if (failed) {
        char msg[120];
        snprintf(msg, sizeof msg, "%zu customer(s) could not be scored (numerical range) and are left out", failed);
        warn(r, msg);
    }
    const char *out = ulm_opt_get(opts, no, "out");
    int rc = ULM_EXIT_OK;
    if (b.oom) {
        ulm_errorf("clv", "out of memory");
        rc = ULM_EXIT_FAIL;
    } else if (out) {
        ulm_diag d;
        if (ulm_file_write_atomic(out, b.s ? b.s : "", b.len, &d) != ULM_OK) {
            ulm_errorf("clv", "%s", d.message);
            rc = ULM_EXIT_FAIL;
        } else {
            fprintf(stderr, "wrote %zu customers to %s\n", r->s.n - failed, out);
        }
    } else if (b.s) {
        fwrite(b.s, 1, b.len, stdout);
    }
    ulm_sb_free(&b);
    if (rc == ULM_EXIT_OK && r->strict && any_unconverged(r)) rc = ULM_EXIT_FAIL;
    return rc;
}

/* Pearson correlation of a and b (0 when either is constant). */
static double corr(const double *a, const double *b, size_t n) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) ma += a[i], mb += b[i];
    ma /= (double)n, mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

static int do_eval(clv_run *r, const char *path) {
    size_t n = r->s.n;
    double th = (double)(r->end - r->cal_end) / r->unit;
    double *pred = malloc((n ? n : 1) * sizeof *pred), *naive = malloc((n ? n : 1) * sizeof *naive);
    if (!pred || !naive) {
        free(pred), free(naive);
        ulm_errorf("clv", "out of memory");
        return ULM_EXIT_FAIL;
    }
    ulm_clv_model m = model_of(r);
    double tot_a = 0, tot_p = 0, tot_n = 0, mae = 0, mae_n = 0, rmse = 0, rmse_n = 0;
    enum { NB = 8 };
    double bn[NB] = {0}, ba[NB] = {0}, bp[NB] = {0}, bnv[NB] = {0};
    for (size_t i = 0; i < n; i++) {
        double e = 0;
        ulm_status s = m.kind == ULM_CLV_PNBD ? ulm_pnbd_expected(&m.pn, r->s.x[i], r->s.t_x[i], r->s.T[i], th, &e)
                                              : ulm_bgnbd_expected(&m.bg, r->s.x[i], r->s.t_x[i], r->s.T[i], th, &e);
        if (s != ULM_OK || !isfinite(e)) e = 0;
        pred[i] = e;
        naive[i] = r->s.T[i] > 0 ? r->s.x[i] / r->s.T[i] * th : 0;
        double a = r->s.holdout[i];
        tot_a += a, tot_p += e, tot_n += naive[i];
        mae += fabs(e - a), mae_n += fabs(naive[i] - a);
        rmse += (e - a) * (e - a), rmse_n += (naive[i] - a) * (naive[i] - a);
        int k = r->s.x[i] >= NB - 1 ? NB - 1 : (int)r->s.x[i];
        bn[k]++, ba[k] += a, bp[k] += e, bnv[k] += naive[i];
    }
    double dn = n ? (double)n : 1;
    double c_m = corr(pred, r->s.holdout, n), c_n = corr(naive, r->s.holdout, n);
    /* Cumulative repeat purchases by week since the first day of the data: actual vs the model's
     * sum over customers of E[X(t - first_i)] (a cache by day offset: at most one value per day). */
    int64_t span = r->end - r->tx.first_day + 1;
    size_t weeks = (size_t)((span + 6) / 7);
    double *act = calloc(weeks ? weeks : 1, sizeof *act), *ex = malloc((size_t)(span + 1) * sizeof *ex);
    double *pc = calloc(weeks ? weeks : 1, sizeof *pc);
    int rc = ULM_EXIT_OK;
    if (!act || !ex || !pc) {
        ulm_errorf("clv", "out of memory");
        rc = ULM_EXIT_FAIL;
        goto done;
    }
    for (int64_t dd = 0; dd <= span; dd++) {
        double v = 0;
        ulm_status s = m.kind == ULM_CLV_PNBD ? ulm_pnbd_expected_new(&m.pn, (double)dd / r->unit, &v)
                                              : ulm_bgnbd_expected_new(&m.bg, (double)dd / r->unit, &v);
        ex[dd] = s == ULM_OK && isfinite(v) ? v : 0;
    }
    {
        size_t k = 0, i = 0;
        while (i < r->tx.n) {
            uint32_t c = r->tx.cust[i];
            int64_t first = r->tx.day[i];
            bool in = first <= r->cal_end;
            for (i++; i < r->tx.n && r->tx.cust[i] == c; i++)
                if (in && r->tx.day[i] <= r->end) act[(size_t)((r->tx.day[i] - r->tx.first_day) / 7)]++;
            if (!in) continue;
            for (size_t w = 0; w < weeks; w++) {
                int64_t last_day = r->tx.first_day + (int64_t)(7 * w + 6);
                if (last_day > r->end) last_day = r->end;
                if (last_day > first) pc[w] += ex[last_day - first];
            }
            k++;
        }
        (void)k;
    }
    for (size_t w = 1; w < weeks; w++) act[w] += act[w - 1];
    if (r->json) {
        ulm_sb b = {0};
        json_head(&b, r, path);
        char h0[16];
        ulm_clv_format_day(r->end, h0);
        ulm_sb_printf(&b, ",\"model\":\"%s\"", m.kind == ULM_CLV_PNBD ? "pnbd" : "bgnbd");
        json_params(&b, r);
        ulm_sb_printf(&b,
                      ",\"holdout_end\":\"%s\",\"holdout_length\":%.6g,\"actual_total\":%.0f,\"predicted_total\":%.2f,"
                      "\"naive_total\":%.2f,\"mae\":%.6f,\"naive_mae\":%.6f,\"rmse\":%.6f,\"naive_rmse\":%.6f,"
                      "\"correlation\":%.6f,\"naive_correlation\":%.6f,\"buckets\":[",
                      h0, th, tot_a, tot_p, tot_n, mae / dn, mae_n / dn, sqrt(rmse / dn), sqrt(rmse_n / dn), c_m, c_n);
        for (int k = 0; k < NB; k++) {
            double q = bn[k] ? bn[k] : 1;
            ulm_sb_printf(&b, "%s{\"x\":\"%d%s\",\"customers\":%.0f,\"actual\":%.4f,\"predicted\":%.4f,\"naive\":%.4f}",
                          k ? "," : "", k, k == NB - 1 ? "+" : "", bn[k], ba[k] / q, bp[k] / q, bnv[k] / q);
        }
        ulm_sb_printf(&b, "],\"cumulative\":[");
        for (size_t w = 0; w < weeks; w++)
            ulm_sb_printf(&b, "%s{\"week\":%zu,\"actual\":%.0f,\"predicted\":%.2f}", w ? "," : "", w + 1, act[w], pc[w]);
        ulm_sb_printf(&b, "],\"warnings\":[%s]}\n", r->warn.s ? r->warn.s : "");
        fputs(b.s, stdout);
        ulm_sb_free(&b);
    } else {
        text_params(r);
        printf("holdout %.4g %ss: actual %.0f repeat purchases, model %.1f, naive %.1f\n", th,
               r->unit == 7 ? "week" : "day", tot_a, tot_p, tot_n);
        printf("per customer   MAE %.4f (naive %.4f)  RMSE %.4f (naive %.4f)  correlation %.4f (naive %.4f)\n",
               mae / dn, mae_n / dn, sqrt(rmse / dn), sqrt(rmse_n / dn), c_m, c_n);
        printf("\ncalibration x  customers  actual  model  naive   (mean holdout purchases)\n");
        for (int k = 0; k < NB; k++) {
            double q = bn[k] ? bn[k] : 1;
            printf("%12d%s %10.0f %7.3f %6.3f %6.3f\n", k, k == NB - 1 ? "+" : " ", bn[k], ba[k] / q, bp[k] / q,
                   bnv[k] / q);
        }
        printf("\nweek  cumulative repeat purchases: actual  model\n");
        for (size_t w = 0; w < weeks; w++)
            if ((w + 1) % 4 == 0 || w + 1 == weeks) printf("%4zu %38.0f %6.0f\n", w + 1, act[w], pc[w]);
    }
    if (r->strict && any_unconverged(r)) rc = ULM_EXIT_FAIL;
done:
    free(pred), free(naive), free(act), free(ex), free(pc);
    return rc;
}

int ulm_cmd_clv(int argc, char **argv) {
    ulm_opt opts[] = {{"calibration-end", true, NULL}, {"holdout-end", true, NULL}, {"time-unit", true, NULL},
                      {"model", true, NULL},           {"horizon", true, NULL},     {"period", true, NULL},
                      {"discount", true, NULL},        {"out", true, NULL},         {"map", true, NULL},
                      {"no-header", false, NULL},      {"strict", false, NULL},     {"json", false, NULL},
                      {"summary", false, NULL},        {"threads", true, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int rc = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (rc) return rc == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    if (a.npos != 2 || (strcmp(a.pos[0], "fit") && strcmp(a.pos[0], "predict") && strcmp(a.pos[0], "eval"))) {
        fprintf(stderr, "ulm clv: expected fit|predict|eval and one input\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    const char *sub = a.pos[0];
    if (ulm_opt_get(opts, no, "out") && strcmp(sub, "predict") != 0) {
        ulm_errorf("clv", "--out is for predict");
        return ULM_EXIT_USAGE;
    }
    clv_run r;
    memset(&r, 0, sizeof r);
    r.json = ulm_opt_get(opts, no, "json") != NULL;
    r.strict = ulm_opt_get(opts, no, "strict") != NULL;
    if (!ulm_opt_u64(opts, no, "threads", 2, &r.threads) || r.threads < 1 || r.threads > 256) {
        ulm_errorf("clv", "--threads: expected 1..256");
        return ULM_EXIT_USAGE;
    }
    rc = prepare(&r, sub, a.pos[1], opts, no);
    if (rc == 0) {
        if (strcmp(sub, "fit") == 0) rc = do_fit(&r, a.pos[1]);
        else if (strcmp(sub, "predict") == 0) rc = do_predict(&r, opts, no);
        else rc = do_eval(&r, a.pos[1]);
    }
    run_free(&r);
    return rc;
}
