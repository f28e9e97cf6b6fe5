/* cmd_pipeline.c: `ulm pipeline --config ulm.json`: ingest new files, profile, train on schedule, evaluate,
 * gate, alert, plan, publish into a new run folder and switch `current` atomically (docs/pipeline.md). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "pipeline_run.h"

static const char usage[] =
    "usage: ulm pipeline --config ulm.json [--log-format text|json] [--json] [--force]\n\n"
    "One automated run: ingests the event files not seen before (inbox folder or list), retrains the models\n"
    "when their schedule is due (days of data time) or enough new events arrived, evaluates them (NDCG@10 on\n"
    "a leave-last split, churn AUC on held-out customers, CLV holdout MAE), refuses a model worse than the\n"
    "live one by more than the configured margins, writes profiles, segments and CLV per customer, alerts,\n"
    "a campaign plan and the dashboard, and publishes: RUNS/<run-id>/ with manifest.json, then `current`\n"
    "switched atomically. Nothing new to read: no run, exit 0. Config and rules: docs/pipeline.md.\n\n"
    "  --config FILE       the configuration (JSON; // comment lines allowed)\n"
    "  --log-format F      text (default) or json: one JSON object per step on stderr\n"
    "  --json              print a one-line JSON summary of the run on stdout\n"
    "  --force             run even when no input is new (retrains and re-evaluates)\n\n"
    "exit codes: 0 published or up to date, 1 internal failure, 2 usage or malformed config, 3 a quality gate\n"
    "refused the new model (the live run stays), 4 input error (missing inbox, unreadable or refused event\n"
    "file), 5 a step failed (training, evaluation, a full disk), 6 another run holds the lock\n";

/* The argument vector of one step. */
typedef struct argv_b {
    char *v[96];
    int n;
    char own[16][4096]; /* storage for formatted arguments */
    int n_own;
} argv_b;

static void add(argv_b *a, const char *s) {
    if (a->n < 95) a->v[a->n++] = (char *)s, a->v[a->n] = NULL;
}
static const char *fmt_arg(argv_b *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *fmt_arg(argv_b *a, const char *fmt, ...) {
    char *s = a->own[a->n_own < 15 ? a->n_own++ : 15];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, 4096, fmt, ap);
    va_end(ap);
    add(a, s);
    return s;
}

/* Everything the run has done so far, for the manifest. */
typedef struct ctx {
    pipe_run r;
    ulm_pipe_log lg;
    cJSON *man, *steps, *metrics, *gates, *training, *data;
    const char *exe;
    bool force;
    int64_t last_event;
    uint64_t events, new_events;
    double t0;
    char label[64];
} ctx;

/* RUN/name into out. */
static const char *rp(const ctx *x, const char *name, char out[4096]) {
    snprintf(out, 4096, "%s/%s", x->r.dir, name);
    return out;
}

/* Runs one step, records it in the manifest and the log; on failure sets *reason. */
static bool step(ctx *x, const char *name, argv_b *a, const char *out_file, char *reason, size_t rlen) {
    char outp[4096], logp[4096], lname[64];
    snprintf(lname, sizeof lname, "logs/%s.log", name);
    /* On a terminal: the running step, steps done, rate and ETA, until the step's log line replaces it. */
    snprintf(x->label, sizeof x->label, "ulm pipeline: running %s; steps", name);
    x->lg.bar.label = x->label;
    x->lg.bar.last = 0;
    ulm_progress_update(&x->lg.bar, x->lg.done);
    ulm_pipe_step st;
    bool ok = ulm_pipe_run_child(name, a->v, out_file ? rp(x, out_file, outp) : NULL, rp(x, lname, logp), &st);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "name", name);
    cJSON_AddNumberToObject(s, "seconds", round(st.seconds * 1000) / 1000);
    cJSON_AddNumberToObject(s, "exit", st.exit_code);
    cJSON *av = cJSON_AddArrayToObject(s, "argv");
    for (int i = 1; i < a->n; i++) cJSON_AddItemToArray(av, cJSON_CreateString(a->v[i]));
    cJSON_AddItemToArray(x->steps, s);
    x->lg.done++;
    if (ok) ulm_pipe_logf(&x->lg, name, "ok", st.seconds, NULL, "%s", out_file ? out_file : "");
    else {
        snprintf(reason, rlen, "%s", st.reason);
        ulm_pipe_logf(&x->lg, name, "failed", st.seconds, NULL, "%s", st.reason);
    }
    ulm_progress_update(&x->lg.bar, x->lg.done);
    return ok;
}

/* A step record for work done in this process (checks, gates, publish). */
static void inline_step_status(ctx *x, const char *name, const char *status, double t0, const char *msg) {
    double s = ulm_now() - t0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "seconds", round(s * 1000) / 1000);
    cJSON_AddNumberToObject(o, "exit", 0);
    cJSON_AddItemToArray(x->steps, o);
    x->lg.done++;
    ulm_pipe_logf(&x->lg, name, status, s, NULL, "%s", msg);
    ulm_progress_update(&x->lg.bar, x->lg.done);
}

static void inline_step(ctx *x, const char *name, double t0, const char *msg) { inline_step_status(x, name, "ok", t0, msg); }

static void start_argv(ctx *x, argv_b *a, const char *cmd) {
    a->n = a->n_own = 0;
    add(a, x->exe);
    add(a, cmd);
}

/* A number from a JSON file of the run (a step's --json output), NAN when absent. */
static double json_num(const ctx *x, const char *file, const char *key) {
    char p[4096], *text = NULL;
    size_t len = 0;
    ulm_diag d;
    double v = NAN;
    if (ulm_file_read(rp(x, file, p), false, &text, &len, &d) != ULM_OK) return v;
    cJSON *o = cJSON_ParseWithLength(text, len);
    const cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (cJSON_IsNumber(it)) v = it->valuedouble;
    cJSON_Delete(o);
    free(text);
    return v;
}

/* A number from the live manifest's object obj (NAN when absent). */
static double live_num(const ctx *x, const char *obj, const char *key) {
    const cJSON *o = x->r.live ? cJSON_GetObjectItemCaseSensitive(x->r.live, obj) : NULL;
    const cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

static void day_str(int64_t unix_s, int64_t minus_days, char out[16]) {
    int64_t day = (unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400)) - minus_days;
    ulm_format_date(day * 86400, out);
}

/* Writes the manifest (status, reason, exit code, files) atomically and fsyncs the run folder. */
static bool write_manifest(ctx *x, const char *status, const char *reason, int code) {
    cJSON *m = x->man;
    char ts[48];
    ulm_format_time((int64_t)time(NULL), ts);
    cJSON_AddStringToObject(m, "finished", ts);
    cJSON_AddNumberToObject(m, "seconds", round((ulm_now() - x->t0) * 1000) / 1000);
    cJSON_AddStringToObject(m, "status", status);
    if (reason && reason[0]) cJSON_AddStringToObject(m, "reason", reason);
    else cJSON_AddNullToObject(m, "reason");
    cJSON_AddNumberToObject(m, "exit_code", code);
    /* The run's files with their sizes and checksums (logs excluded: they are not outputs). */
    static const char *const names[] = {"shop.store", "model.ulm", "ingest.json", "profile.json", "segments.csv",
                                        "train.json", "recs_eval.json", "churn_eval.json", "clv_eval.json",
                                        "alerts.json", "alerts.state", "campaign.json", "campaign.csv",
                                        "dashboard/data.json", "dashboard/index.html", NULL};
    cJSON *files = cJSON_AddArrayToObject(m, "files");
    for (const char *const *n = names; *n; n++) {
        char p[4096], err[256];
        uint64_t sz;
        uint32_t crc;
        if (access(rp(x, *n, p), F_OK) != 0 || !ulm_pipe_file_sum(p, &sz, &crc, err, sizeof err)) continue;
        /* The steps' stdout files were not fsynced by the steps: they must be durable before `current` moves. */
        int fd = open(p, O_RDONLY);
        if (fd >= 0) fsync(fd), close(fd);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", *n);
        cJSON_AddNumberToObject(f, "size", (double)sz);
        cJSON_AddNumberToObject(f, "crc32c", crc);
        cJSON_AddItemToArray(files, f);
    }
    char *text = cJSON_Print(m);
    char p[4096];
    ulm_diag d;
    bool ok = text && ulm_file_write_atomic(rp(x, "manifest.json", p), text, strlen(text), &d) == ULM_OK;
    if (!ok) ulm_errorf("pipeline", "cannot write the manifest: %s", text ? d.message : "out of memory");
    cJSON_free(text);
    return ok && ulm_pipe_fsync_dir(x->r.dir) && ulm_pipe_fsync_dir(x->r.cfg->runs);
}

/* Ends a run that does not publish: manifest with the reason, `current` untouched. */
static int stop(ctx *x, const char *status, int code, const char *reason) {
    ulm_progress_end(&x->lg.bar);
    ulm_pipe_logf(&x->lg, "run", status, ulm_now() - x->t0, NULL, "%s (the live run %s stays)", reason,
                  x->r.live_id ? x->r.live_id : "(none)");
    if (!write_manifest(x, status, reason, code)) return ULM_PIPE_EXIT_FAIL;
    return code;
}

/* The ingest step: the live store hard-linked into the run, then the new files appended to it. */
static int do_ingest(ctx *x, char *reason, size_t rlen) {
    char store[4096], live_store[4096];
    rp(x, "shop.store", store);
    if (x->r.live_dir) {
        snprintf(live_store, sizeof live_store, "%s/shop.store", x->r.live_dir);
        if (!ulm_pipe_link_or_copy(live_store, store)) {
            snprintf(reason, rlen, "cannot link or copy the live store %.600s: %s", live_store, strerror(errno));
            return ULM_PIPE_EXIT_STEP;
        }
    }
    cJSON *inputs = cJSON_AddArrayToObject(x->man, "inputs"), *fresh = cJSON_AddArrayToObject(x->man, "new_inputs");
    argv_b a;
    start_argv(x, &a, "ingest");
    for (size_t i = 0; i < x->r.n_inputs; i++) {
        const pipe_input *in = &x->r.inputs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", in->name);
        cJSON_AddStringToObject(o, "path", in->path);
        cJSON_AddNumberToObject(o, "size", (double)in->size);
        cJSON_AddNumberToObject(o, "crc32c", in->crc);
        cJSON_AddItemToArray(in->is_new ? fresh : inputs, o);
        if (in->is_new) add(&a, in->path);
    }
    /* Files ingested by earlier runs but no longer offered stay recorded (the store holds their events). */
    const cJSON *old = x->r.live ? cJSON_GetObjectItemCaseSensitive(x->r.live, "inputs") : NULL;
    for (const cJSON *e = old ? old->child : NULL; e; e = e->next) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
        bool listed = false;
        for (size_t i = 0; i < x->r.n_inputs && !listed; i++)
            listed = cJSON_IsString(nm) && !x->r.inputs[i].is_new && !strcmp(nm->valuestring, x->r.inputs[i].name);
        if (!listed) cJSON_AddItemToArray(inputs, cJSON_Duplicate(e, true));
    }
    for (const cJSON *e = fresh->child; e; e = e->next) cJSON_AddItemToArray(inputs, cJSON_Duplicate(e, true));
    if (x->r.n_new) {
        add(&a, "--out");
        add(&a, store);
        add(&a, "--json");
        if (x->r.cfg->ingest_format) add(&a, "--format"), add(&a, x->r.cfg->ingest_format);
        if (x->r.cfg->ingest_map) add(&a, "--map"), add(&a, x->r.cfg->ingest_map);
        if (!step(x, "ingest", &a, "ingest.json", reason, rlen))
            /* A store that cannot be written (full disk, file-size limit) is not the inputs' fault. */
            return strstr(reason, "cannot write") || strstr(reason, "cannot flush") || strstr(reason, "cannot create")
                       ? ULM_PIPE_EXIT_STEP
                       : ULM_PIPE_EXIT_INPUT;
        double kept = json_num(x, "ingest.json", "kept");
        x->new_events = isnan(kept) ? 0 : (uint64_t)kept;
    } else {
        inline_step(x, "ingest", ulm_now(), "no new files: the live store is reused");
    }
    char err[512];
    double t0 = ulm_now();
    if (!ulm_pipe_store_time(store, &x->last_event, &x->events, err, sizeof err)) {
        snprintf(reason, rlen, "%s", err);
        return ULM_PIPE_EXIT_STEP;
    }
    char ts[48];
    ulm_format_time(x->last_event, ts);
    x->data = cJSON_AddObjectToObject(x->man, "data");
    cJSON_AddNumberToObject(x->data, "events", (double)x->events);
    cJSON_AddNumberToObject(x->data, "new_events", (double)x->new_events);
    cJSON_AddStringToObject(x->data, "last_event", ts);
    cJSON_AddNumberToObject(x->data, "last_event_unix", (double)x->last_event);
    inline_step(x, "data-time", t0, ts);
    return 0;
}

/* Is a retraining due (schedules in data time, or enough new events)? Says why in msg. */
static bool training_due(ctx *x, char *msg, size_t mlen) {
    const ulm_pipe_cfg *c = x->r.cfg;
    double recs_at = live_num(x, "training", "recs_trained_at"), churn_at = live_num(x, "training", "churn_trained_at");
    double at_events = live_num(x, "training", "events_at_training");
    char p[4096];
    snprintf(p, sizeof p, "%s/model.ulm", x->r.live_dir ? x->r.live_dir : "");
    if (!x->r.live || access(p, F_OK) != 0) return snprintf(msg, mlen, "no live model"), true;
    if (x->force) return snprintf(msg, mlen, "--force"), true;
    /* Whole days between the UTC days of the events, so that daily drops retrain daily. */
    double today = floor((double)x->last_event / 86400);
    double days_recs = today - floor(recs_at / 86400), days_churn = today - floor(churn_at / 86400);
    if (isnan(recs_at) || days_recs >= c->recs_every_days)
        return snprintf(msg, mlen, "recommender due: %.0f days of data since its training (every %g)", days_recs,
                        c->recs_every_days),
               true;
    if (c->churn_algo && (isnan(churn_at) || days_churn >= c->churn_every_days))
        return snprintf(msg, mlen, "churn model due: %.0f days of data since its training (every %g)", days_churn,
                        c->churn_every_days),
               true;
    if (c->retrain_min_new_events && !isnan(at_events) && (double)x->events - at_events >= (double)c->retrain_min_new_events)
        return snprintf(msg, mlen, "%.0f new events since the training (threshold %llu)", (double)x->events - at_events,
                        (unsigned long long)c->retrain_min_new_events),
               true;
    snprintf(msg, mlen, "not due: %.0f days since the recommender's training, %.0f since the churn model's", days_recs,
             days_churn);
    return false;
}

static void add_recs_opts(ctx *x, argv_b *a) {
    for (size_t i = 0; i < x->r.cfg->n_recs_opts; i++) add(a, x->r.cfg->recs_opts[i]);
    add(a, "--seed");
    fmt_arg(a, "%llu", (unsigned long long)x->r.cfg->seed);
    add(a, "--threads");
    fmt_arg(a, "%llu", (unsigned long long)x->r.cfg->threads);
}

/* Train and evaluate (when due), or carry the live model and metrics over. */
static int do_models(ctx *x, char *reason, size_t rlen) {
    const ulm_pipe_cfg *c = x->r.cfg;
    char store[4096], model[4096], cut[16], cal[16], why[256];
    rp(x, "shop.store", store);
    rp(x, "model.ulm", model);
    day_str(x->last_event, (int64_t)c->churn_horizon_days, cut);
    day_str(x->last_event, (int64_t)c->clv_holdout_days, cal);
    bool due = training_due(x, why, sizeof why);
    x->training = cJSON_AddObjectToObject(x->man, "training");
    cJSON_AddBoolToObject(x->training, "trained", due);
    cJSON_AddStringToObject(x->training, "why", why);
    x->metrics = cJSON_AddObjectToObject(x->man, "metrics");
    if (!due) {
        /* The live model and its metrics carry over unchanged. */
        static const char *const carry[] = {"model.ulm", "train.json", "recs_eval.json", "churn_eval.json", "clv_eval.json", NULL};
        for (const char *const *n = carry; *n; n++) {
            char src[4096], dst[4096];
            snprintf(src, sizeof src, "%s/%s", x->r.live_dir, *n);
            if (access(src, F_OK) == 0 && !ulm_pipe_link_or_copy(src, rp(x, *n, dst))) {
                snprintf(reason, rlen, "cannot carry %s over from the live run", *n);
                return ULM_PIPE_EXIT_STEP;
            }
        }
        const cJSON *lt = cJSON_GetObjectItemCaseSensitive(x->r.live, "training");
        static const char *const keys[] = {"recs_trained_at", "churn_trained_at", "events_at_training", "trained_run", NULL};
        for (const char *const *k = keys; *k; k++) {
            const cJSON *it = lt ? cJSON_GetObjectItemCaseSensitive(lt, *k) : NULL;
            if (it) cJSON_AddItemToObject(x->training, *k, cJSON_Duplicate(it, true));
        }
        const cJSON *lm = cJSON_GetObjectItemCaseSensitive(x->r.live, "metrics");
        for (const cJSON *it = lm ? lm->child : NULL; it; it = it->next)
            cJSON_AddItemToObject(x->metrics, it->string, cJSON_Duplicate(it, true));
        inline_step(x, "train", ulm_now(), why);
        return 0;
    }
    argv_b a;
    start_argv(x, &a, "train");
    add(&a, store), add(&a, "--out"), add(&a, model), add(&a, "--recs"), add(&a, c->recs_algo);
    add_recs_opts(x, &a);
    if (c->k) add(&a, "--k"), fmt_arg(&a, "%llu", (unsigned long long)c->k);
    if (c->deny) add(&a, "--deny"), add(&a, c->deny);
    if (c->churn_algo)
        add(&a, "--churn"), add(&a, c->churn_algo), add(&a, "--cutoff"), add(&a, cut), add(&a, "--horizon"),
            fmt_arg(&a, "%g", c->churn_horizon_days);
    add(&a, "--json");
    if (!step(x, "train", &a, "train.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
    start_argv(x, &a, "inspect");
    add(&a, model);
    if (!step(x, "verify", &a, NULL, reason, rlen)) return ULM_PIPE_EXIT_STEP;
    cJSON_AddNumberToObject(x->training, "recs_trained_at", (double)x->last_event);
    if (c->churn_algo) cJSON_AddNumberToObject(x->training, "churn_trained_at", (double)x->last_event);
    cJSON_AddNumberToObject(x->training, "events_at_training", (double)x->events);
    cJSON_AddStringToObject(x->training, "trained_run", x->r.id);
    if (c->eval_recs) {
        start_argv(x, &a, "eval");
        add(&a, "recs"), add(&a, store), add(&a, "--split"), add(&a, "leave-last"), add(&a, "--algo"), add(&a, c->recs_algo);
        add_recs_opts(x, &a);
        add(&a, "--k"), add(&a, "10"), add(&a, "--json");
        if (!step(x, "eval-recs", &a, "recs_eval.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
        cJSON_AddNumberToObject(x->metrics, "ndcg@10", json_num(x, "recs_eval.json", "ndcg@10"));
    }
    if (c->eval_churn) {
        start_argv(x, &a, "eval");
        add(&a, "churn"), add(&a, "--store"), add(&a, store), add(&a, "--cutoff"), add(&a, cut), add(&a, "--horizon");
        fmt_arg(&a, "%g", c->churn_horizon_days);
        add(&a, "--algo"), add(&a, c->churn_algo), add(&a, "--seed"), fmt_arg(&a, "%llu", (unsigned long long)c->seed);
        add(&a, "--json");
        if (!step(x, "eval-churn", &a, "churn_eval.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
        cJSON_AddNumberToObject(x->metrics, "churn_auc", json_num(x, "churn_eval.json", "auc"));
    }
    if (c->eval_clv) {
        start_argv(x, &a, "clv");
        add(&a, "eval"), add(&a, store), add(&a, "--calibration-end"), add(&a, cal), add(&a, "--json");
        if (!step(x, "eval-clv", &a, "clv_eval.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
        cJSON_AddNumberToObject(x->metrics, "clv_mae", json_num(x, "clv_eval.json", "mae"));
    }
    return 0;
}

/* Compares the new metrics with the live run's; false (with the reason) when one is worse than its margin. */
static bool gates_pass(ctx *x, char *reason, size_t rlen) {
    const ulm_pipe_cfg *c = x->r.cfg;
    double t0 = ulm_now();
    x->gates = cJSON_AddArrayToObject(x->man, "gates");
    bool pass = true;
    const struct {
        const char *metric;
        double margin;
        bool higher_better, relative;
    } g[] = {{"ndcg@10", c->ndcg_max_drop, true, false},
             {"churn_auc", c->auc_max_drop, true, false},
             {"clv_mae", c->clv_mae_max_rise, false, true}};
    size_t used = 0;
    for (size_t i = 0; i < 3; i++) {
        const cJSON *nv = cJSON_GetObjectItemCaseSensitive(x->metrics, g[i].metric);
        double now = cJSON_IsNumber(nv) ? nv->valuedouble : NAN, live = live_num(x, "metrics", g[i].metric);
        if (isnan(now) || isnan(live)) continue;
        double bound = g[i].higher_better ? live - g[i].margin : live * (1 + g[i].margin) + (live == 0 ? g[i].margin : 0);
        bool ok = g[i].higher_better ? now >= bound : now <= bound;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "metric", g[i].metric);
        cJSON_AddNumberToObject(o, "live", live);
        cJSON_AddNumberToObject(o, "new", now);
        cJSON_AddNumberToObject(o, "margin", g[i].margin);
        cJSON_AddStringToObject(o, "rule", g[i].higher_better ? "new >= live - margin" : "new <= live x (1 + margin)");
        cJSON_AddBoolToObject(o, "pass", ok);
        cJSON_AddItemToArray(x->gates, o);
        used++;
        if (!ok && pass) {
            snprintf(reason, rlen, "quality gate: %s %.6f is worse than the live run's %.6f by more than the margin %g",
                     g[i].metric, now, live, g[i].margin);
            pass = false;
        }
    }
    inline_step_status(x, "gates", pass ? "ok" : "refused", t0, pass ? (used ? "passed" : "no live metrics to compare") : reason);
    return pass;
}

/* Alerts, campaign plan and dashboard on the new store and model. */
static int do_outputs(ctx *x, char *reason, size_t rlen) {
    const ulm_pipe_cfg *c = x->r.cfg;
    char store[4096], model[4096], p[4096], src[4096];
    rp(x, "shop.store", store);
    rp(x, "model.ulm", model);
    argv_b a;
    if (c->alerts) {
        /* Who was already alerted carries over from the live run, so each crossing is reported once. */
        snprintf(src, sizeof src, "%s/alerts.state", x->r.live_dir ? x->r.live_dir : "");
        if (x->r.live_dir && access(src, F_OK) == 0 && !ulm_pipe_link_or_copy(src, rp(x, "alerts.state", p))) {
            snprintf(reason, rlen, "cannot carry alerts.state over from the live run");
            return ULM_PIPE_EXIT_STEP;
        }
        start_argv(x, &a, "alerts");
        add(&a, store), add(&a, "--model"), add(&a, model), add(&a, "--threshold"), fmt_arg(&a, "%g", c->alerts_threshold);
        add(&a, "--state"), fmt_arg(&a, "%s/alerts.state", x->r.dir), add(&a, "--json");
        if (!step(x, "alerts", &a, "alerts.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
    }
    if (c->campaign) {
        start_argv(x, &a, "campaign");
        add(&a, "plan"), add(&a, store), add(&a, "--model"), add(&a, model), add(&a, "--offers"), add(&a, c->offers);
        add(&a, "--out"), fmt_arg(&a, "%s/campaign.csv", x->r.dir), add(&a, "--json");
        if (!step(x, "campaign", &a, "campaign.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
    }
    if (c->dashboard) {
        start_argv(x, &a, "dashboard");
        add(&a, store), add(&a, "--model"), add(&a, model), add(&a, "--out"), fmt_arg(&a, "%s/dashboard", x->r.dir);
        if (access(rp(x, "recs_eval.json", p), F_OK) == 0) add(&a, "--recs-eval"), fmt_arg(&a, "%s", p);
        if (access(rp(x, "campaign.json", p), F_OK) == 0) add(&a, "--campaign"), fmt_arg(&a, "%s", p);
        snprintf(src, sizeof src, "%s/dashboard/data.json", x->r.live_dir ? x->r.live_dir : "");
        if (x->r.live_dir && access(src, F_OK) == 0) add(&a, "--previous"), fmt_arg(&a, "%s", src);
        add(&a, "--json");
        if (!step(x, "dashboard", &a, "dashboard.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
    }
    return 0;
}

/* The whole run after the lock is held and the inputs are known. */
static int run(ctx *x) {
    const ulm_pipe_cfg *c = x->r.cfg;
    char reason[1024] = "", p[4096];
    int code;
    if ((code = do_ingest(x, reason, sizeof reason))) return stop(x, "failed", code, reason);
    if ((code = do_models(x, reason, sizeof reason))) return stop(x, "failed", code, reason);
    if (c->gates && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x->training, "trained")) &&
        !gates_pass(x, reason, sizeof reason))
        return stop(x, "refused", ULM_PIPE_EXIT_GATE, reason);
    /* Every customer's profile, segments, stage and CLV on all events, scored with the bundle's profiler:
     * the global fits (RFM cut points, k-means, BG/NBD) are redone when the models are retrained. */
    argv_b a;
    start_argv(x, &a, "segment");
    add(&a, rp(x, "shop.store", p)), add(&a, "--model"), fmt_arg(&a, "%s/model.ulm", x->r.dir), add(&a, "--out");
    fmt_arg(&a, "%s/segments.csv", x->r.dir), add(&a, "--json");
    if (!step(x, "profile", &a, "profile.json", reason, sizeof reason)) return stop(x, "failed", ULM_PIPE_EXIT_STEP, reason);
    if ((code = do_outputs(x, reason, sizeof reason))) return stop(x, "failed", code, reason);
    /* Publish: manifest (fsynced), then `current` renamed over, then the runs folder fsynced. */
    double t0 = ulm_now();
    inline_step(x, "publish", t0, x->r.id);
    ulm_progress_end(&x->lg.bar);
    if (!write_manifest(x, "ok", NULL, 0)) return ULM_PIPE_EXIT_FAIL;
    if (!ulm_pipe_switch_link(c->runs, "current", x->r.id)) {
        ulm_errorf("pipeline", "cannot switch %s/current to %s: %s", c->runs, x->r.id, strerror(errno));
        return ULM_PIPE_EXIT_FAIL;
    }
    ulm_pipe_runs_prune(&x->r);
    ulm_pipe_logf(&x->lg, "run", "published", ulm_now() - x->t0, NULL, "%s is now current", x->r.id);
    return ULM_PIPE_EXIT_OK;
}

/* Creates RUNS/<id>/ and RUNS/<id>/logs and starts the manifest. */
static bool open_run(ctx *x) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(x->r.id, sizeof x->r.id, "%06llu-%s", (unsigned long long)x->r.seq, stamp);
    x->lg.run_id = x->r.id;
    x->r.dir = ulm_pipe_join(x->r.cfg->runs, x->r.id);
    char logs[4096];
    if (!x->r.dir || mkdir(x->r.dir, 0755) != 0 || mkdir(rp(x, "logs", logs), 0755) != 0) {
        ulm_errorf("pipeline", "cannot create the run folder %s: %s", x->r.dir ? x->r.dir : "", strerror(errno));
        return false;
    }
    x->man = cJSON_CreateObject();
    x->steps = cJSON_CreateArray();
    cJSON_AddStringToObject(x->man, "format", "ulm-pipeline-run");
    cJSON_AddNumberToObject(x->man, "version", 1);
    cJSON_AddStringToObject(x->man, "run", x->r.id);
    if (x->r.live_id) cJSON_AddStringToObject(x->man, "previous_run", x->r.live_id);
    else cJSON_AddNullToObject(x->man, "previous_run");
    char ts[48];
    ulm_format_time((int64_t)now, ts);
    cJSON_AddStringToObject(x->man, "started", ts);
    cJSON_AddStringToObject(x->man, "ulm_version", ULM_VERSION_STRING);
    cJSON_AddStringToObject(x->man, "config_file", x->r.cfg->path);
    cJSON_AddItemToObject(x->man, "config", cJSON_Parse(x->r.cfg->json));
    cJSON_AddItemToObject(x->man, "steps", x->steps);
    return true;
}

int ulm_cmd_pipeline(int argc, char **argv) {
    ulm_opt opts[] = {{"config", true, NULL}, {"log-format", true, NULL}, {"json", false, NULL}, {"force", false, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int rc = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (rc) return rc == 1 ? ULM_EXIT_OK : ULM_PIPE_EXIT_USAGE;
    const char *cfgp = ulm_opt_get(opts, no, "config"), *lf = ulm_opt_get(opts, no, "log-format");
    if (a.npos != 0 || !cfgp || (lf && strcmp(lf, "text") && strcmp(lf, "json"))) {
        fprintf(stderr, "ulm pipeline: expected --config FILE [--log-format text|json]\n\n%s", usage);
        return ULM_PIPE_EXIT_USAGE;
    }
    ulm_pipe_cfg cfg;
    if (!ulm_pipe_cfg_read(cfgp, &cfg)) return ULM_PIPE_EXIT_USAGE;
    /* A full disk or a file-size limit must fail writes with an error, not kill the steps. */
    signal(SIGXFSZ, SIG_IGN);
    ctx x;
    memset(&x, 0, sizeof x);
    x.r.cfg = &cfg;
    x.lg.json = lf && !strcmp(lf, "json");
    x.force = ulm_opt_get(opts, no, "force") != NULL;
    x.t0 = ulm_now();
    /* argv[0] of the steps: this binary's path (commands that find files beside themselves use it). */
    char exe[4096];
    ssize_t en = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[en > 0 ? en : 0] = 0;
    x.exe = en > 0 ? exe : "ulm";
    int code = ULM_PIPE_EXIT_FAIL, lock = -1;
    char err[1024] = "";
    if (mkdir(cfg.runs, 0755) != 0 && errno != EEXIST) {
        ulm_errorf("pipeline", "cannot create the runs folder %s: %s", cfg.runs, strerror(errno));
        code = ULM_PIPE_EXIT_INPUT;
        goto done;
    }
    if ((lock = ulm_pipe_lock(cfg.runs, cfg.lock_wait_s)) < 0) {
        ulm_errorf("pipeline", "%s/.lock: another run is in progress (waited %llu s)", cfg.runs,
                   (unsigned long long)cfg.lock_wait_s);
        code = ULM_PIPE_EXIT_LOCKED;
        goto done;
    }
    if (!ulm_pipe_runs_prepare(&x.r)) goto done;
    bool scanned = ulm_pipe_inputs_scan(&x.r, err, sizeof err);
    if (scanned && x.r.n_new == 0 && !x.force) {
        ulm_pipe_logf(&x.lg, "run", "up-to-date", ulm_now() - x.t0, NULL, "no new input: %s stays current",
                      x.r.live_id ? x.r.live_id : "(none)");
        code = ULM_PIPE_EXIT_OK;
        if (ulm_opt_get(opts, no, "json"))
            printf("{\"run\":null,\"status\":\"up-to-date\",\"exit_code\":0,\"current\":\"%s\"}\n", x.r.live_id ? x.r.live_id : "");
        goto done;
    }
    if (!open_run(&x)) goto done;
    int total = 10;
    ulm_progress_start(&x.lg.bar, "ulm pipeline: steps", (uint64_t)total);
    if (!scanned) code = stop(&x, "failed", ULM_PIPE_EXIT_INPUT, err);
    else code = run(&x);
    if (ulm_opt_get(opts, no, "json")) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(x.man, "status"), *re = cJSON_GetObjectItemCaseSensitive(x.man, "reason");
        ulm_sb b = {0};
        ulm_sb_printf(&b, "{\"run\":\"%s\",\"status\":\"%s\",\"exit_code\":%d,\"current\":\"%s\",\"reason\":", x.r.id,
                      cJSON_IsString(st) ? st->valuestring : "failed", code,
                      code == 0 ? x.r.id : (x.r.live_id ? x.r.live_id : ""));
        if (cJSON_IsString(re)) ulm_sb_json_str(&b, re->valuestring, strlen(re->valuestring));
        else ulm_sb_printf(&b, "null");
        char *metrics = x.metrics ? cJSON_PrintUnformatted(x.metrics) : NULL;
        ulm_sb_printf(&b, ",\"metrics\":%s}\n", metrics ? metrics : "null");
        cJSON_free(metrics);
        if (b.s) fputs(b.s, stdout);
        ulm_sb_free(&b);
    }
done:
    if (lock >= 0) close(lock);
    cJSON_Delete(x.man);
    cJSON_Delete(x.r.live);
    for (size_t i = 0; i < x.r.n_inputs; i++) free(x.r.inputs[i].path);
    free(x.r.inputs), free(x.r.dir), free(x.r.live_id), free(x.r.live_dir);
    ulm_pipe_cfg_free(&cfg);
    return code;
}
