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

/* Writes the manifest (status, reason, exit code, files) atomically and fsyncs the run folder. */
static bool write_manifest(pipe_ctx *x, const char *status, const char *reason, int code) {
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
                                        "train.json", "recs_eval.json", "recs_eval_pop.json", "churn_eval.json", "clv_eval.json",
                                        "alerts.json", "alerts.state", "profile.state", "campaign.json", "campaign.csv",
                                        "dashboard/data.json", "dashboard/index.html", NULL};
    cJSON *files = cJSON_AddArrayToObject(m, "files");
    for (const char *const *n = names; *n; n++) {
        char p[4096], err[256];
        uint64_t sz;
        uint32_t crc;
        if (access(pipe_path(x, *n, p), F_OK) != 0 || !ulm_pipe_file_sum(p, &sz, &crc, err, sizeof err)) continue;
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
    bool ok = text && ulm_file_write_atomic(pipe_path(x, "manifest.json", p), text, strlen(text), &d) == ULM_OK;
    if (!ok) ulm_errorf("pipeline", "cannot write the manifest: %s", text ? d.message : "out of memory");
    cJSON_free(text);
    return ok && ulm_pipe_fsync_dir(x->r.dir) && ulm_pipe_fsync_dir(x->r.cfg->runs);
}

/* Ends a run that does not publish: manifest with the reason, `current` untouched. */
static int stop(pipe_ctx *x, const char *status, int code, const char *reason) {
    ulm_progress_end(&x->lg.bar);
    ulm_pipe_logf(&x->lg, "run", status, ulm_now() - x->t0, NULL, "%s (the live run %s stays)", reason,
                  x->r.live_id ? x->r.live_id : "(none)");
    if (!write_manifest(x, status, reason, code)) return ULM_PIPE_EXIT_FAIL;
    return code;
}

/* The ingest step: the live store hard-linked into the run, then the new files appended to it. */
static int do_ingest(pipe_ctx *x, char *reason, size_t rlen) {
    char store[4096], live_store[4096];
    pipe_path(x, "shop.store", store);
    if (x->r.live_dir) {
        snprintf(live_store, sizeof live_store, "%s/shop.store", x->r.live_dir);
        if (!ulm_pipe_link_or_copy(live_store, store)) {
            snprintf(reason, rlen, "cannot link or copy the live store %.600s: %s", live_store, strerror(errno));
            return ULM_PIPE_EXIT_STEP;
        }
    }
    cJSON *inputs = cJSON_AddArrayToObject(x->man, "inputs"), *fresh = cJSON_AddArrayToObject(x->man, "new_inputs");
    argv_b a;
    pipe_argv(x, &a, "ingest");
    for (size_t i = 0; i < x->r.n_inputs; i++) {
        const pipe_input *in = &x->r.inputs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", in->name);
        cJSON_AddStringToObject(o, "path", in->path);
        cJSON_AddNumberToObject(o, "size", (double)in->size);
        cJSON_AddNumberToObject(o, "crc32c", in->crc);
        cJSON_AddItemToArray(in->is_new ? fresh : inputs, o);
        if (in->is_new) pipe_add(&a, in->path);
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
        pipe_add(&a, "--out");
        pipe_add(&a, store);
        pipe_add(&a, "--json");
        if (x->r.cfg->ingest_format) pipe_add(&a, "--format"), pipe_add(&a, x->r.cfg->ingest_format);
        if (x->r.cfg->ingest_map) pipe_add(&a, "--map"), pipe_add(&a, x->r.cfg->ingest_map);
        if (!pipe_step(x, "ingest", &a, "ingest.json", reason, rlen))
            /* A store that cannot be written (full disk, file-size limit) is not the inputs' fault. */
            return strstr(reason, "cannot write") || strstr(reason, "cannot flush") || strstr(reason, "cannot create")
                       ? ULM_PIPE_EXIT_STEP
                       : ULM_PIPE_EXIT_INPUT;
        double kept = pipe_json_num(x, "ingest.json", "kept");
        x->new_events = isnan(kept) ? 0 : (uint64_t)kept;
    } else {
        pipe_inline(x, "ingest", ulm_now(), "no new files: the live store is reused");
    }
    char err[512];
    double t0 = ulm_now();
    if (!ulm_pipe_store_time(store, &x->last_event, &x->events, &x->items, err, sizeof err)) {
        snprintf(reason, rlen, "%s", err);
        return ULM_PIPE_EXIT_STEP;
    }
    char ts[48];
    ulm_format_time(x->last_event, ts);
    x->data = cJSON_AddObjectToObject(x->man, "data");
    cJSON_AddNumberToObject(x->data, "events", (double)x->events);
    cJSON_AddNumberToObject(x->data, "new_events", (double)x->new_events);
    cJSON_AddNumberToObject(x->data, "items", (double)x->items);
    cJSON_AddStringToObject(x->data, "last_event", ts);
    cJSON_AddNumberToObject(x->data, "last_event_unix", (double)x->last_event);
    pipe_inline(x, "data-time", t0, ts);
    return 0;
}

/* Alerts, campaign plan and dashboard on the new store and model. */
static int do_outputs(pipe_ctx *x, char *reason, size_t rlen) {
    const ulm_pipe_cfg *c = x->r.cfg;
    char store[4096], model[4096], p[4096], src[4096];
    pipe_path(x, "shop.store", store);
    pipe_path(x, "model.ulm", model);
    argv_b a;
    if (c->alerts) {
        /* Who was already alerted carries over from the live run, so each crossing is reported once. */
        snprintf(src, sizeof src, "%s/alerts.state", x->r.live_dir ? x->r.live_dir : "");
        if (x->r.live_dir && access(src, F_OK) == 0 && !ulm_pipe_link_or_copy(src, pipe_path(x, "alerts.state", p))) {
            snprintf(reason, rlen, "cannot carry alerts.state over from the live run");
            return ULM_PIPE_EXIT_STEP;
        }
        pipe_argv(x, &a, "alerts");
        pipe_add(&a, store), pipe_add(&a, "--model"), pipe_add(&a, model), pipe_add(&a, "--threshold"), pipe_fmt(&a, "%g", c->alerts_threshold);
        pipe_add(&a, "--state"), pipe_fmt(&a, "%s/alerts.state", x->r.dir), pipe_add(&a, "--json");
        if (!pipe_step(x, "alerts", &a, "alerts.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
    }
    if (c->campaign) {
        pipe_argv(x, &a, "campaign");
        pipe_add(&a, "plan"), pipe_add(&a, store), pipe_add(&a, "--model"), pipe_add(&a, model), pipe_add(&a, "--offers"), pipe_add(&a, c->offers);
        pipe_add(&a, "--out"), pipe_fmt(&a, "%s/campaign.csv", x->r.dir), pipe_add(&a, "--json");
        if (!pipe_step(x, "campaign", &a, "campaign.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
    }
    if (c->dashboard) {
        pipe_argv(x, &a, "dashboard");
        pipe_add(&a, store), pipe_add(&a, "--model"), pipe_add(&a, model), pipe_add(&a, "--out"), pipe_fmt(&a, "%s/dashboard", x->r.dir);
        if (access(pipe_path(x, "recs_eval.json", p), F_OK) == 0) pipe_add(&a, "--recs-eval"), pipe_fmt(&a, "%s", p);
        if (access(pipe_path(x, "campaign.json", p), F_OK) == 0) pipe_add(&a, "--campaign"), pipe_fmt(&a, "%s", p);
        snprintf(src, sizeof src, "%s/dashboard/data.json", x->r.live_dir ? x->r.live_dir : "");
        if (x->r.live_dir && access(src, F_OK) == 0) pipe_add(&a, "--previous"), pipe_fmt(&a, "%s", src);
        if (c->dashboard_assets) pipe_add(&a, "--assets"), pipe_add(&a, c->dashboard_assets);
        pipe_add(&a, "--json");
        if (!pipe_step(x, "dashboard", &a, "dashboard.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
    }
    return 0;
}

/* The whole run after the lock is held and the inputs are known. */
static int run(pipe_ctx *x) {
    const ulm_pipe_cfg *c = x->r.cfg;
    char reason[1024] = "", p[4096];
    int code;
    if ((code = do_ingest(x, reason, sizeof reason))) return stop(x, "failed", code, reason);
    if ((code = pipe_models(x, reason, sizeof reason))) return stop(x, "failed", code, reason);
    if (c->gates && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x->training, "trained")) &&
        !pipe_gates(x, reason, sizeof reason))
        return stop(x, "refused", ULM_PIPE_EXIT_GATE, reason);
    /* Every customer's profile, segments, stage and CLV on all events, scored with the bundle's profiler (no
     * second fit) unless the bundle is carried over and the store has items it does not know. */
    argv_b a;
    pipe_argv(x, &a, "segment");
    pipe_add(&a, pipe_path(x, "shop.store", p));
    bool trained = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x->training, "trained"));
    if (trained || pipe_json_num(x, "train.json", "items") == (double)x->items) {
        pipe_add(&a, "--model"), pipe_fmt(&a, "%s/model.ulm", x->r.dir);
        char ts[48];
        ulm_format_time(x->last_event + 1, ts); /* a carried-over bundle's as-of is older than the data */
        pipe_add(&a, "--as-of"), pipe_fmt(&a, "%s", ts);
        /* Incremental profiles: the live run's per-customer aggregates, updated from the new events only. */
        pipe_add(&a, "--state-out"), pipe_fmt(&a, "%s/profile.state", x->r.dir);
        char src[4096];
        snprintf(src, sizeof src, "%s/profile.state", x->r.live_dir ? x->r.live_dir : "");
        if (x->r.live_dir && access(src, F_OK) == 0) pipe_add(&a, "--state"), pipe_fmt(&a, "%s", src);
    } else { /* a carried-over bundle that does not know the new items cannot score: fit on this store */
        pipe_add(&a, "--seed"), pipe_fmt(&a, "%llu", (unsigned long long)c->seed);
        if (c->k) pipe_add(&a, "--k"), pipe_fmt(&a, "%llu", (unsigned long long)c->k);
    }
    pipe_add(&a, "--out"), pipe_fmt(&a, "%s/segments.csv", x->r.dir), pipe_add(&a, "--json");
    if (!pipe_step(x, "profile", &a, "profile.json", reason, sizeof reason)) return stop(x, "failed", ULM_PIPE_EXIT_STEP, reason);
    pipe_step_attach(x, "profile.json", "state");
    if ((code = do_outputs(x, reason, sizeof reason))) return stop(x, "failed", code, reason);
    /* Publish: manifest (fsynced), then `current` renamed over, then the runs folder fsynced. */
    double t0 = ulm_now();
    pipe_inline(x, "publish", t0, x->r.id);
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
static bool open_run(pipe_ctx *x) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(x->r.id, sizeof x->r.id, "%06llu-%s", (unsigned long long)x->r.seq, stamp);
    x->lg.run_id = x->r.id;
    x->r.dir = ulm_pipe_join(x->r.cfg->runs, x->r.id);
    char logs[4096];
    if (!x->r.dir || mkdir(x->r.dir, 0755) != 0 || mkdir(pipe_path(x, "logs", logs), 0755) != 0) {
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
    pipe_ctx x;
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
