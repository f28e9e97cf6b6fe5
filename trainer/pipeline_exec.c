/* pipeline_exec.c: running the steps of one `ulm pipeline` run: argument vectors, child steps recorded in the
 * manifest and the log, in-process steps, reading the steps' JSON outputs and the live run's manifest. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "pipeline_run.h"

void pipe_add(argv_b *a, const char *s) {
    if (a->n < 95) a->v[a->n++] = (char *)s, a->v[a->n] = NULL;
}
const char *pipe_fmt(argv_b *a, const char *fmt, ...) {
    char *s = a->own[a->n_own < 15 ? a->n_own++ : 15];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, 4096, fmt, ap);
    va_end(ap);
    pipe_add(a, s);
    return s;
}


/* RUN/name into out. */
const char *pipe_path(const pipe_ctx *x, const char *name, char out[4096]) {
    snprintf(out, 4096, "%s/%s", x->r.dir, name);
    return out;
}

/* Runs one step, records it in the manifest and the log; on failure sets *reason. */
bool pipe_step(pipe_ctx *x, const char *name, argv_b *a, const char *out_file, char *reason, size_t rlen) {
    char outp[4096], logp[4096], lname[64];
    snprintf(lname, sizeof lname, "logs/%s.log", name);
    /* On a terminal: the running step, steps done, rate and ETA, until the step's log line replaces it. */
    snprintf(x->label, sizeof x->label, "ulm pipeline: running %s; steps", name);
    x->lg.bar.label = x->label;
    x->lg.bar.last = 0;
    ulm_progress_update(&x->lg.bar, x->lg.done);
    ulm_pipe_step st;
    bool ok = ulm_pipe_run_child(name, a->v, out_file ? pipe_path(x, out_file, outp) : NULL, pipe_path(x, lname, logp), &st);
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
void pipe_inline_status(pipe_ctx *x, const char *name, const char *status, double t0, const char *msg) {
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

void pipe_inline(pipe_ctx *x, const char *name, double t0, const char *msg) { pipe_inline_status(x, name, "ok", t0, msg); }

void pipe_argv(pipe_ctx *x, argv_b *a, const char *cmd) {
    a->n = a->n_own = 0;
    pipe_add(a, x->exe);
    pipe_add(a, cmd);
}

/* A number from a JSON file of the run (a step's --json output), NAN when absent. */
double pipe_json_num(const pipe_ctx *x, const char *file, const char *key) {
    char p[4096], *text = NULL;
    size_t len = 0;
    ulm_diag d;
    double v = NAN;
    if (ulm_file_read(pipe_path(x, file, p), false, &text, &len, &d) != ULM_OK) return v;
    cJSON *o = cJSON_ParseWithLength(text, len);
    const cJSON *first = cJSON_IsArray(o) ? o->child : o; /* [algo, baseline]: the first */
    const cJSON *it = first ? cJSON_GetObjectItemCaseSensitive(first, key) : NULL;
    if (cJSON_IsNumber(it)) v = it->valuedouble;
    cJSON_Delete(o);
    free(text);
    return v;
}

/* A number from the live manifest's object obj (NAN when absent). */
double pipe_live_num(const pipe_ctx *x, const char *obj, const char *key) {
    const cJSON *o = x->r.live ? cJSON_GetObjectItemCaseSensitive(x->r.live, obj) : NULL;
    const cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

void pipe_day(int64_t unix_s, int64_t minus_days, char out[16]) {
    int64_t day = (unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400)) - minus_days;
    ulm_format_date(day * 86400, out);
}

bool pipe_json_join(const pipe_ctx *x, const char *file, const char *other) {
    char p[4096], q[4096], *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    ulm_diag d;
    bool ok = ulm_file_read(pipe_path(x, file, p), false, &a, &la, &d) == ULM_OK &&
              ulm_file_read(pipe_path(x, other, q), false, &b, &lb, &d) == ULM_OK;
    while (ok && la && (a[la - 1] == '\n' || a[la - 1] == ' ')) la--;
    while (ok && lb && (b[lb - 1] == '\n' || b[lb - 1] == ' ')) lb--;
    ulm_sb s = {0};
    if (ok) {
        ulm_sb_append(&s, "[", 1), ulm_sb_append(&s, a, la), ulm_sb_append(&s, ",", 1), ulm_sb_append(&s, b, lb);
        ulm_sb_append(&s, "]\n", 2);
        ok = !s.oom && ulm_file_write_atomic(p, s.s, s.len, &d) == ULM_OK;
    }
    ulm_sb_free(&s);
    free(a), free(b);
    return ok;
}

/* Copies the object key of the run's JSON file into the last recorded step (e.g. the profile step's
 * "state": incremental or full, and why). */
void pipe_step_attach(pipe_ctx *x, const char *file, const char *key) {
    char p[4096], *text = NULL;
    size_t len = 0;
    ulm_diag d;
    if (ulm_file_read(pipe_path(x, file, p), false, &text, &len, &d) != ULM_OK) return;
    cJSON *o = cJSON_ParseWithLength(text, len);
    cJSON *it = o ? cJSON_DetachItemFromObjectCaseSensitive(o, key) : NULL;
    cJSON *last = cJSON_GetArrayItem(x->steps, cJSON_GetArraySize(x->steps) - 1);
    if (it && last) cJSON_AddItemToObject(last, key, it);
    else cJSON_Delete(it);
    cJSON_Delete(o);
    free(text);
}
