/* pipeline_config.c: the `ulm pipeline` configuration file (JSON with // comment lines), checked key by key. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "pipeline.h"

/* Where the config is and what is being read, for messages naming the key path. */
typedef struct reader {
    const char *file;
    char *base; /* the config's folder, for relative paths */
} reader;

/* Reports KEY: WHAT; always returns false. */
static bool bad(const reader *r, const char *key, const char *what) {
    ulm_errorf("pipeline", "%s: %s: %s", r->file, key, what);
    return false;
}

/* Checks that every key of object o is in the NULL-terminated list known. */
static bool only_keys(const reader *r, const char *where, const cJSON *o, const char *const *known) {
    for (const cJSON *f = o->child; f; f = f->next) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, f->string) == 0;
        if (!ok) {
            char key[160], what[400];
            snprintf(key, sizeof key, "%s%s%s", where, where[0] ? "." : "", f->string);
            size_t n = (size_t)snprintf(what, sizeof what, "unknown key (expected one of:");
            for (const char *const *k = known; *k && n < sizeof what; k++)
                n += (size_t)snprintf(what + n, sizeof what - n, " %s", *k);
            if (n < sizeof what) snprintf(what + n, sizeof what - n, ")");
            return bad(r, key, what);
        }
    }
    return true;
}

/* The object at o[name] (absent: NULL and true; not an object: false). */
static bool sub(const reader *r, const cJSON *o, const char *name, const cJSON **out) {
    *out = cJSON_GetObjectItemCaseSensitive(o, name);
    if (*out && !cJSON_IsObject(*out)) return bad(r, name, "expected an object {...}");
    return true;
}

/* A string at o[name] into *out (malloc'd); absent keeps *out. */
static bool str(const reader *r, const char *where, const cJSON *o, const char *name, char **out) {
    const cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
    if (!it || cJSON_IsNull(it)) return true;
    char key[160];
    snprintf(key, sizeof key, "%s%s%s", where, where[0] ? "." : "", name);
    if (!cJSON_IsString(it) || !it->valuestring[0]) return bad(r, key, "expected a non-empty string");
    free(*out);
    if (!(*out = strdup(it->valuestring))) return bad(r, key, "out of memory");
    return true;
}

/* A path string resolved against the config's folder. */
static bool path(const reader *r, const char *where, const cJSON *o, const char *name, char **out) {
    char *s = NULL;
    if (!str(r, where, o, name, &s)) return false;
    if (!s) return true;
    free(*out);
    if (s[0] == '/') *out = s;
    else {
        *out = ulm_pipe_join(r->base, s);
        free(s);
    }
    return *out != NULL;
}

/* A number in [lo, hi] at o[name]; absent keeps *out. */
static bool num(const reader *r, const char *where, const cJSON *o, const char *name, double lo, double hi,
                double *out) {
    const cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
    if (!it) return true;
    char key[160], what[128];
    snprintf(key, sizeof key, "%s%s%s", where, where[0] ? "." : "", name);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) return bad(r, key, "expected a number");
    if (!(it->valuedouble >= lo && it->valuedouble <= hi)) {
        snprintf(what, sizeof what, "expected a number in [%g, %g], found %g", lo, hi, it->valuedouble);
        return bad(r, key, what);
    }
    *out = it->valuedouble;
    return true;
}

/* A whole number in [lo, hi]. */
static bool whole(const reader *r, const char *where, const cJSON *o, const char *name, double lo, double hi,
                  uint64_t *out) {
    double v = (double)*out;
    if (!num(r, where, o, name, lo, hi, &v)) return false;
    if (v != floor(v)) {
        char key[160];
        snprintf(key, sizeof key, "%s%s%s", where, where[0] ? "." : "", name);
        return bad(r, key, "expected a whole number");
    }
    *out = (uint64_t)v;
    return true;
}

/* A boolean at o[name]; absent keeps *out. */
static bool flag(const reader *r, const char *where, const cJSON *o, const char *name, bool *out) {
    const cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
    if (!it) return true;
    if (!cJSON_IsBool(it)) {
        char key[160];
        snprintf(key, sizeof key, "%s%s%s", where, where[0] ? "." : "", name);
        return bad(r, key, "expected true or false");
    }
    *out = cJSON_IsTrue(it);
    return true;
}

/* Blanks // comments (outside strings, to the end of the line) so that line numbers stay right. */
static void strip_comments(char *t) {
    bool in_str = false;
    for (char *p = t; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_str = false;
        } else if (*p == '"') {
            in_str = true;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n') *p++ = ' ';
            if (!*p) break;
        }
    }
}

/* inputs: {"inbox": DIR} or {"files": [FILE, ...]}, plus format/map. */
static bool read_inputs(const reader *r, const cJSON *root, ulm_pipe_cfg *c) {
    const cJSON *in;
    if (!sub(r, root, "inputs", &in)) return false;
    if (!in) return bad(r, "inputs", "missing: expected {\"inbox\": \"folder\"} or {\"files\": [\"a.csv\", ...]}");
    static const char *const known[] = {"inbox", "files", "format", "map", NULL};
    if (!only_keys(r, "inputs", in, known)) return false;
    if (!path(r, "inputs", in, "inbox", &c->inbox)) return false;
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(in, "files");
    if (files) {
        if (!cJSON_IsArray(files)) return bad(r, "inputs.files", "expected an array of file names");
        size_t n = (size_t)cJSON_GetArraySize(files);
        if (!(c->files = calloc(n ? n : 1, sizeof *c->files))) return bad(r, "inputs.files", "out of memory");
        size_t i = 0;
        for (const cJSON *f = files->child; f; f = f->next, i++) {
            char key[64];
            snprintf(key, sizeof key, "inputs.files[%zu]", i);
            if (!cJSON_IsString(f) || !f->valuestring[0]) return bad(r, key, "expected a non-empty string");
            c->files[i] = f->valuestring[0] == '/' ? strdup(f->valuestring) : ulm_pipe_join(r->base, f->valuestring);
            c->n_files = i + 1;
            if (!c->files[i]) return bad(r, key, "out of memory");
        }
    }
    if (!!c->inbox == !!files) return bad(r, "inputs", "expected exactly one of \"inbox\" (a folder) and \"files\" (a list)");
    return str(r, "inputs", in, "format", &c->ingest_format) && str(r, "inputs", in, "map", &c->ingest_map);
}

/* train: the models and their schedules. */
static bool read_train(const reader *r, const cJSON *root, ulm_pipe_cfg *c) {
    const cJSON *t, *sch;
    if (!sub(r, root, "train", &t) || !sub(r, root, "schedule", &sch)) return false;
    static const char *const known[] = {"deny", "recs", "recs_options", "churn", "churn_horizon_days",
                                        "clv_holdout_days", "seed", "threads", "k", NULL};
    if (t && !only_keys(r, "train", t, known)) return false;
    if (!str(r, "train", t, "deny", &c->deny) || !str(r, "train", t, "recs", &c->recs_algo) ||
        !num(r, "train", t, "churn_horizon_days", 1, 3650, &c->churn_horizon_days) ||
        !num(r, "train", t, "clv_holdout_days", 1, 3650, &c->clv_holdout_days) ||
        !whole(r, "train", t, "seed", 0, 4294967295.0, &c->seed) || !whole(r, "train", t, "threads", 1, 256, &c->threads) || !whole(r, "train", t, "k", 0, 64, &c->k))
        return false;
    const cJSON *ch = t ? cJSON_GetObjectItemCaseSensitive(t, "churn") : NULL;
    if (cJSON_IsFalse(ch)) {
        free(c->churn_algo);
        c->churn_algo = NULL;
    } else if (ch) {
        if (!cJSON_IsString(ch) || (strcmp(ch->valuestring, "logreg") && strcmp(ch->valuestring, "gbdt") &&
                                    strcmp(ch->valuestring, "auto")))
            return bad(r, "train.churn", "expected \"logreg\", \"gbdt\", \"auto\" or false");
        free(c->churn_algo);
        c->churn_algo = strdup(ch->valuestring);
    }
    static const char *const algos[] = {"pop", "itemknn", "als", "bpr", "ease", "content", "hybrid", NULL};
    bool ok = false;
    for (const char *const *a = algos; *a && !ok; a++) ok = strcmp(*a, c->recs_algo) == 0;
    if (!ok) return bad(r, "train.recs", "expected one of pop, itemknn, als, bpr, ease, content, hybrid");
    const cJSON *ro = t ? cJSON_GetObjectItemCaseSensitive(t, "recs_options") : NULL;
    if (ro) {
        static const char *const ok_opts[] = {"factors", "iters", "reg", "alpha", "cg-steps", "solver", "lambda",
                                              "neighbours", "weighting", "shrink", "lr", "view-weight",
                                              "cart-weight", "purchase-weight", NULL};
        if (!cJSON_IsObject(ro)) return bad(r, "train.recs_options", "expected an object {\"factors\": 32, ...}");
        if (!only_keys(r, "train.recs_options", ro, ok_opts)) return false;
        size_t n = (size_t)cJSON_GetArraySize(ro) * 2;
        if (!(c->recs_opts = calloc(n ? n : 1, sizeof *c->recs_opts))) return false;
        for (const cJSON *o = ro->child; o; o = o->next) {
            char key[96], val[64];
            snprintf(key, sizeof key, "train.recs_options.%s", o->string);
            if (cJSON_IsNumber(o)) snprintf(val, sizeof val, "%.17g", o->valuedouble);
            else if (cJSON_IsString(o) && o->valuestring[0] && strlen(o->valuestring) < sizeof val)
                snprintf(val, sizeof val, "%s", o->valuestring);
            else return bad(r, key, "expected a number or a short string");
            char opt[64];
            snprintf(opt, sizeof opt, "--%s", o->string);
            c->recs_opts[c->n_recs_opts++] = strdup(opt);
            c->recs_opts[c->n_recs_opts++] = strdup(val);
        }
    }
    static const char *const sknown[] = {"recs_every_days", "churn_every_days", "retrain_min_new_events", NULL};
    if (sch && !only_keys(r, "schedule", sch, sknown)) return false;
    return num(r, "schedule", sch, "recs_every_days", 0, 3650, &c->recs_every_days) &&
           num(r, "schedule", sch, "churn_every_days", 0, 3650, &c->churn_every_days) &&
           whole(r, "schedule", sch, "retrain_min_new_events", 0, 1e15, &c->retrain_min_new_events);
}

/* evaluate, gates, alerts, campaign, dashboard. */
static bool read_after(const reader *r, const cJSON *root, ulm_pipe_cfg *c) {
    const cJSON *ev, *g, *al, *ca, *da;
    if (!sub(r, root, "evaluate", &ev) || !sub(r, root, "gates", &g) || !sub(r, root, "alerts", &al) ||
        !sub(r, root, "campaign", &ca) || !sub(r, root, "dashboard", &da))
        return false;
    static const char *const eknown[] = {"recs", "churn", "clv", NULL};
    static const char *const gknown[] = {"enabled", "ndcg_max_drop", "auc_max_drop", "clv_mae_max_rise", NULL};
    static const char *const aknown[] = {"enabled", "threshold", NULL};
    static const char *const cknown[] = {"enabled", "offers", NULL};
    static const char *const dknown[] = {"enabled", "assets", NULL};
    if ((ev && !only_keys(r, "evaluate", ev, eknown)) || (g && !only_keys(r, "gates", g, gknown)) ||
        (al && !only_keys(r, "alerts", al, aknown)) || (ca && !only_keys(r, "campaign", ca, cknown)) ||
        (da && !only_keys(r, "dashboard", da, dknown)))
        return false;
    if (!flag(r, "evaluate", ev, "recs", &c->eval_recs) || !flag(r, "evaluate", ev, "churn", &c->eval_churn) ||
        !flag(r, "evaluate", ev, "clv", &c->eval_clv) || !flag(r, "gates", g, "enabled", &c->gates) ||
        !num(r, "gates", g, "ndcg_max_drop", 0, 1, &c->ndcg_max_drop) ||
        !num(r, "gates", g, "auc_max_drop", 0, 1, &c->auc_max_drop) ||
        !num(r, "gates", g, "clv_mae_max_rise", 0, 1e6, &c->clv_mae_max_rise) ||
        !flag(r, "alerts", al, "enabled", &c->alerts) || !num(r, "alerts", al, "threshold", 0, 1, &c->alerts_threshold) ||
        !flag(r, "campaign", ca, "enabled", &c->campaign) || !path(r, "campaign", ca, "offers", &c->offers) ||
        !flag(r, "dashboard", da, "enabled", &c->dashboard) || !path(r, "dashboard", da, "assets", &c->dashboard_assets))
        return false;
    if (!c->churn_algo) c->eval_churn = c->alerts = c->campaign = false; /* they need a churn model */
    if (c->campaign && !c->offers) return bad(r, "campaign.offers", "missing: the offers file (see examples/offers.json)");
    return true;
}

bool ulm_pipe_cfg_read(const char *file, ulm_pipe_cfg *c) {
    memset(c, 0, sizeof *c);
    reader r = {file, NULL};
    c->recs_algo = strdup("pop");
    c->churn_algo = strdup("auto");
    c->churn_horizon_days = 90, c->clv_holdout_days = 90, c->seed = 42, c->threads = 1;
    c->recs_every_days = 1, c->churn_every_days = 7, c->retrain_min_new_events = 0;
    c->eval_recs = c->eval_churn = c->eval_clv = c->gates = true;
    c->ndcg_max_drop = 0.02, c->auc_max_drop = 0.02, c->clv_mae_max_rise = 0.10;
    c->alerts = c->campaign = c->dashboard = true;
    c->alerts_threshold = 0.5, c->keep_runs = 10, c->lock_wait_s = 60;
    char *text = NULL;
    size_t len = 0;
    ulm_diag d;
    if (ulm_file_read(file, false, &text, &len, &d) != ULM_OK) {
        ulm_errorf("pipeline", "%s", d.message);
        return false;
    }
    strip_comments(text);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    bool ok = false;
    const char *slash = strrchr(file, '/');
    r.base = slash ? strndup(file, (size_t)(slash - file)) : strdup(".");
    c->path = strdup(file);
    if (!root) {
        const char *at = end ? end : cJSON_GetErrorPtr();
        size_t line = 1, col = 1;
        for (const char *p = text; at && p < at && *p; p++) line += *p == '\n', col = *p == '\n' ? 1 : col + 1;
        char m[96];
        snprintf(m, sizeof m, "not valid JSON near line %zu, column %zu", line, col);
        bad(&r, "(file)", m);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        bad(&r, "(top level)", "expected an object {...}");
        goto done;
    }
    static const char *const known[] = {"runs",     "inputs",    "train",     "schedule", "evaluate", "gates",
                                        "alerts",   "campaign",  "dashboard", "keep_runs", "lock_wait_s", NULL};
    if (!only_keys(&r, "", root, known)) goto done;
    if (!path(&r, "", root, "runs", &c->runs)) goto done;
    if (!c->runs) {
        bad(&r, "runs", "missing: the folder that holds the run folders and the `current` link");
        goto done;
    }
    if (!read_inputs(&r, root, c) || !read_train(&r, root, c) || !read_after(&r, root, c) ||
        !whole(&r, "", root, "keep_runs", 1, 100000, &c->keep_runs) ||
        !whole(&r, "", root, "lock_wait_s", 0, 86400, &c->lock_wait_s))
        goto done;
    c->json = cJSON_PrintUnformatted(root);
    ok = c->json != NULL;
done:
    cJSON_Delete(root);
    free(text);
    free(r.base);
    if (!ok) ulm_pipe_cfg_free(c);
    return ok;
}

void ulm_pipe_cfg_free(ulm_pipe_cfg *c) {
    free(c->path), free(c->runs), free(c->inbox), free(c->ingest_format), free(c->ingest_map), free(c->deny);
    free(c->recs_algo), free(c->churn_algo), free(c->offers), free(c->dashboard_assets);
    for (size_t i = 0; i < c->n_files; i++) free(c->files[i]);
    free(c->files);
    for (size_t i = 0; i < c->n_recs_opts; i++) free(c->recs_opts[i]);
    free(c->recs_opts);
    if (c->json) cJSON_free(c->json);
    memset(c, 0, sizeof *c);
}
