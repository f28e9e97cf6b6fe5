/* pipeline_models.c: the models of one `ulm pipeline` run: is a training due, train, verify and evaluate
 * (or carry the live model over), and the quality gates against the live run's metrics. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "pipeline_run.h"

/* Is a retraining due (schedules in data time, or enough new events)? Says why in msg. */
static bool training_due(pipe_ctx *x, char *msg, size_t mlen) {
    const ulm_pipe_cfg *c = x->r.cfg;
    double recs_at = pipe_live_num(x, "training", "recs_trained_at"), churn_at = pipe_live_num(x, "training", "churn_trained_at");
    double at_events = pipe_live_num(x, "training", "events_at_training");
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

static void add_recs_opts(pipe_ctx *x, argv_b *a) {
    for (size_t i = 0; i < x->r.cfg->n_recs_opts; i++) pipe_add(a, x->r.cfg->recs_opts[i]);
    pipe_add(a, "--seed");
    pipe_fmt(a, "%llu", (unsigned long long)x->r.cfg->seed);
    pipe_add(a, "--threads");
    pipe_fmt(a, "%llu", (unsigned long long)x->r.cfg->threads);
}

/* Train and evaluate (when due), or carry the live model and metrics over. */
int pipe_models(pipe_ctx *x, char *reason, size_t rlen) {
    const ulm_pipe_cfg *c = x->r.cfg;
    char store[4096], model[4096], cut[16], cal[16], why[256];
    pipe_path(x, "shop.store", store);
    pipe_path(x, "model.ulm", model);
    pipe_day(x->last_event, (int64_t)c->churn_horizon_days, cut);
    pipe_day(x->last_event, (int64_t)c->clv_holdout_days, cal);
    bool due = training_due(x, why, sizeof why);
    x->training = cJSON_AddObjectToObject(x->man, "training");
    cJSON_AddBoolToObject(x->training, "trained", due);
    cJSON_AddStringToObject(x->training, "why", why);
    x->metrics = cJSON_AddObjectToObject(x->man, "metrics");
    if (!due) {
        /* The live model and its metrics carry over unchanged. */
        static const char *const carry[] = {"model.ulm", "train.json", "recs_eval.json", "recs_eval_pop.json", "churn_eval.json",
                                            "clv_eval.json", NULL};
        for (const char *const *n = carry; *n; n++) {
            char src[4096], dst[4096];
            snprintf(src, sizeof src, "%s/%s", x->r.live_dir, *n);
            if (access(src, F_OK) == 0 && !ulm_pipe_link_or_copy(src, pipe_path(x, *n, dst))) {
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
        pipe_inline(x, "train", ulm_now(), why);
        return 0;
    }
    argv_b a;
    pipe_argv(x, &a, "train");
    pipe_add(&a, store), pipe_add(&a, "--out"), pipe_add(&a, model), pipe_add(&a, "--recs"), pipe_add(&a, c->recs_algo);
    add_recs_opts(x, &a);
    if (c->k) pipe_add(&a, "--k"), pipe_fmt(&a, "%llu", (unsigned long long)c->k);
    if (c->deny) pipe_add(&a, "--deny"), pipe_add(&a, c->deny);
    if (c->churn_algo)
        pipe_add(&a, "--churn"), pipe_add(&a, c->churn_algo), pipe_add(&a, "--cutoff"), pipe_add(&a, cut), pipe_add(&a, "--horizon"),
            pipe_fmt(&a, "%g", c->churn_horizon_days);
    /* The campaign's offers ride in the bundle too, so the device picks the same offer (docs/nba.md). */
    if (c->churn_algo && c->campaign && c->offers) pipe_add(&a, "--offers"), pipe_add(&a, c->offers);
    pipe_add(&a, "--json");
    if (!pipe_step(x, "train", &a, "train.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
    pipe_argv(x, &a, "inspect");
    pipe_add(&a, model);
    if (!pipe_step(x, "verify", &a, NULL, reason, rlen)) return ULM_PIPE_EXIT_STEP;
    cJSON_AddNumberToObject(x->training, "recs_trained_at", (double)x->last_event);
    if (c->churn_algo) cJSON_AddNumberToObject(x->training, "churn_trained_at", (double)x->last_event);
    cJSON_AddNumberToObject(x->training, "events_at_training", (double)x->events);
    cJSON_AddStringToObject(x->training, "trained_run", x->r.id);
    if (c->eval_recs) {
        pipe_argv(x, &a, "eval");
        pipe_add(&a, "recs"), pipe_add(&a, store), pipe_add(&a, "--split"), pipe_add(&a, "leave-last"), pipe_add(&a, "--algo"), pipe_add(&a, c->recs_algo);
        add_recs_opts(x, &a);
        pipe_add(&a, "--k"), pipe_add(&a, "10"), pipe_add(&a, "--json");
        if (!pipe_step(x, "eval-recs", &a, "recs_eval.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
        cJSON_AddNumberToObject(x->metrics, "ndcg@10", pipe_json_num(x, "recs_eval.json", "ndcg@10"));
        if (strcmp(c->recs_algo, "pop") != 0) {
            /* The popularity baseline on the same split, for the dashboard: recs_eval.json becomes [algo, pop]. */
            pipe_argv(x, &a, "eval");
            pipe_add(&a, "recs"), pipe_add(&a, store), pipe_add(&a, "--split"), pipe_add(&a, "leave-last");
            pipe_add(&a, "--algo"), pipe_add(&a, "pop"), pipe_add(&a, "--k"), pipe_add(&a, "10"), pipe_add(&a, "--json");
            if (!pipe_step(x, "eval-pop", &a, "recs_eval_pop.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
            cJSON_AddNumberToObject(x->metrics, "ndcg@10_pop", pipe_json_num(x, "recs_eval_pop.json", "ndcg@10"));
            if (!pipe_json_join(x, "recs_eval.json", "recs_eval_pop.json")) {
                snprintf(reason, rlen, "cannot write recs_eval.json with the baseline");
                return ULM_PIPE_EXIT_STEP;
            }
        }
    }
    if (c->eval_churn) {
        pipe_argv(x, &a, "eval");
        pipe_add(&a, "churn"), pipe_add(&a, "--store"), pipe_add(&a, store), pipe_add(&a, "--cutoff"), pipe_add(&a, cut), pipe_add(&a, "--horizon");
        pipe_fmt(&a, "%g", c->churn_horizon_days);
        pipe_add(&a, "--algo"), pipe_add(&a, c->churn_algo), pipe_add(&a, "--seed"), pipe_fmt(&a, "%llu", (unsigned long long)c->seed);
        pipe_add(&a, "--json");
        if (!pipe_step(x, "eval-churn", &a, "churn_eval.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
        cJSON_AddNumberToObject(x->metrics, "churn_auc", pipe_json_num(x, "churn_eval.json", "auc"));
    }
    if (c->eval_clv) {
        pipe_argv(x, &a, "clv");
        pipe_add(&a, "eval"), pipe_add(&a, store), pipe_add(&a, "--calibration-end"), pipe_add(&a, cal), pipe_add(&a, "--json");
        if (!pipe_step(x, "eval-clv", &a, "clv_eval.json", reason, rlen)) return ULM_PIPE_EXIT_STEP;
        cJSON_AddNumberToObject(x->metrics, "clv_mae", pipe_json_num(x, "clv_eval.json", "mae"));
    }
    return 0;
}

/* Compares the new metrics with the live run's; false (with the reason) when one is worse than its margin. */
bool pipe_gates(pipe_ctx *x, char *reason, size_t rlen) {
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
        double now = cJSON_IsNumber(nv) ? nv->valuedouble : NAN, live = pipe_live_num(x, "metrics", g[i].metric);
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
    pipe_inline_status(x, "gates", pass ? "ok" : "refused", t0, pass ? (used ? "passed" : "no live metrics to compare") : reason);
    return pass;
}
