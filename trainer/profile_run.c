/* profile_run.c: every customer's profile through the core's one-customer ulm_profile_compute, the
 * profiler training sequence, and the output rows (docs/profile.md). */
#include <math.h>
#include <string.h>

#include "ingest.h"
#include "profile_run.h"

void ulm_profile_set_free(ulm_profile_set *s) {
    if (!s) return;
    free(s->user);
    free(s->pr);
    memset(s, 0, sizeof *s);
}

bool ulm_profile_as_of_opt(const char *cmd, const char *s, int64_t *as_of) {
    if (!s || ulm_parse_time(s, strlen(s), as_of)) return true;
    ulm_errorf(cmd, "--as-of: cannot read the date '%s' (YYYY-MM-DD or an ISO time)", s);
    return false;
}

ulm_status ulm_profile_run(const ulm_events *ev, const ulm_profiler *p, int64_t as_of, ulm_profile_set *out,
                           ulm_diag *diag) {
    memset(out, 0, sizeof *out);
    out->as_of = as_of;
    uint32_t nu = ev->users.n;
    /* Events grouped by user (counting sort, table order within a user), before as_of only. */
    uint32_t *off = calloc((size_t)nu + 2, sizeof *off);
    if (!off) return ULM_ERR_NOMEM;
    for (size_t i = 0; i < ev->n; i++)
        if (ev->user[i] < nu && ev->time[i] < as_of) off[ev->user[i] + 2]++;
    for (uint32_t u = 0; u < nu; u++) off[u + 2] += off[u + 1];
    size_t total = off[nu + 1];
    uint32_t *idx = malloc((total + 1) * sizeof *idx);
    size_t users = 0;
    for (uint32_t u = 0; u < nu; u++) users += off[u + 2] > off[u + 1];
    out->user = malloc((users + 1) * sizeof *out->user);
    out->pr = malloc((users + 1) * sizeof *out->pr);
    ulm_profile_event *pe = NULL;
    void *work = NULL;
    size_t work_cap = 0, pe_cap = 0;
    ulm_status s = idx && out->user && out->pr ? ULM_OK : ULM_ERR_NOMEM;
    for (size_t i = 0; s == ULM_OK && i < ev->n; i++)
        if (ev->user[i] < nu && ev->time[i] < as_of) idx[off[ev->user[i] + 1]++] = (uint32_t)i;
    /* off[u] .. off[u + 1] now spans user u. */
    for (uint32_t u = 0; s == ULM_OK && u < nu; u++) {
        size_t a = off[u], b = off[u + 1], n = b - a;
        if (!n) continue;
        if (n > pe_cap) {
            free(pe);
            pe_cap = 2 * n;
            pe = malloc(pe_cap * sizeof *pe);
            if (!pe) {
                s = ULM_ERR_NOMEM;
                break;
            }
        }
        for (size_t k = 0; k < n; k++) {
            uint32_t e = idx[a + k];
            ulm_profile_event *q = &pe[k];
            q->time = ev->time[e];
            q->price = ev->price[e];
            q->qty = ev->qty[e];
            q->item = ev->item[e];
            q->order = ev->order[e];
            q->type = ev->type[e];
            q->query = NULL;
            q->query_len = 0;
            if (ev->query[e] != ULM_NONE) q->query = ulm_dict_str(&ev->queries, ev->query[e], &q->query_len);
        }
        size_t need = ulm_profile_work_size(p, pe, n);
        if (need > work_cap) {
            free(work);
            work_cap = 2 * need;
            work = malloc(work_cap);
            if (!work) {
                s = ULM_ERR_NOMEM;
                break;
            }
        }
        s = ulm_profile_compute(p, pe, n, as_of, work, work_cap, &out->pr[out->n]);
        out->user[out->n++] = u;
    }
    free(pe), free(work), free(idx), free(off);
    if (s != ULM_OK) {
        ulm_profile_set_free(out);
        snprintf(diag->message, sizeof diag->message, "computing profiles: %s", ulm_status_str(s));
        return diag->status = s;
    }
    return ULM_OK;
}

ulm_status ulm_profile_train(const ulm_events *ev, const ulm_profiler_params *pp, ulm_profiler **pout,
                             ulm_profile_set *set, ulm_profiler_report *rep, ulm_diag *diag) {
    *pout = NULL;
    memset(set, 0, sizeof *set);
    ulm_profiler *p;
    ulm_status s = ulm_profiler_build(ev, pp, &p, diag);
    if (s != ULM_OK) return s;
    ulm_profiler_info info;
    ulm_profiler_get_info(p, &info);
    ulm_profile_set first;
    s = ulm_profile_run(ev, p, info.as_of, &first, diag);
    if (s == ULM_OK) s = ulm_profiler_fit(p, first.pr, first.n, pp, rep, diag);
    ulm_profile_set_free(&first);
    if (s == ULM_OK) s = ulm_profile_run(ev, p, info.as_of, set, diag);
    if (s != ULM_OK) {
        ulm_profiler_free(p);
        return s;
    }
    *pout = p;
    return ULM_OK;
}

/* Features printed by `ulm profile` (every basic feature) and the extra columns of `ulm segment`. */
void ulm_profile_csv_header(ulm_sb *b, bool full) {
    ulm_sb_printf(b, "customer");
    for (int f = 0; f < (full ? ULM_PF_COUNT : ULM_PF_N_BASIC); f++) ulm_sb_printf(b, ",%s", ulm_profile_feature_name(f));
    ulm_sb_printf(b, ",keywords");
    if (full) ulm_sb_printf(b, ",rfm_segment,segment,segment_description,stage");
    ulm_sb_printf(b, "\n");
}

/* A number: empty (CSV) / null (JSON) when undefined; integers without a fraction. */
static void num(ulm_sb *b, double v, bool json) {
    if (isnan(v) || !isfinite(v)) {
        if (json) ulm_sb_printf(b, "null");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) ulm_sb_printf(b, "%.0f", v);
    else ulm_sb_printf(b, json ? "%.17g" : "%.10g", v);
}

void ulm_profile_row(ulm_sb *b, const ulm_profiler *p, const char *id, size_t idlen, const ulm_profile *pr, bool json,
                     bool full) {
    int nf = full ? ULM_PF_COUNT : ULM_PF_N_BASIC;
    if (json) {
        ulm_sb_printf(b, "{\"customer\":");
        ulm_sb_json_str(b, id, idlen);
        for (int f = 0; f < nf; f++) {
            ulm_sb_printf(b, ",\"%s\":", ulm_profile_feature_name(f));
            num(b, pr->f[f], true);
        }
        ulm_sb_printf(b, ",\"keywords\":[");
        for (uint32_t k = 0; k < pr->n_keywords; k++) {
            uint32_t len;
            const char *w = ulm_profiler_word(p, pr->keyword[k], &len);
            ulm_sb_printf(b, "%s{\"word\":", k ? "," : "");
            ulm_sb_json_str(b, w, len);
            ulm_sb_printf(b, ",\"weight\":%.17g}", pr->keyword_weight[k]);
        }
        ulm_sb_printf(b, "]");
        if (full) {
            const char *rs = ulm_rfm_segment_name(pr->rfm_segment), *st = ulm_stage_name(pr->stage);
            ulm_sb_printf(b, ",\"rfm_segment\":");
            if (pr->rfm_segment >= 0) ulm_sb_json_str(b, rs, strlen(rs));
            else ulm_sb_printf(b, "null");
            ulm_sb_printf(b, ",\"segment\":");
            if (pr->segment >= 0) {
                uint32_t len;
                const char *ds = ulm_profiler_segment_description(p, (uint32_t)pr->segment, &len);
                ulm_sb_printf(b, "%d,\"segment_description\":", pr->segment);
                ulm_sb_json_str(b, ds, len);
            } else {
                ulm_sb_printf(b, "null,\"segment_description\":null");
            }
            ulm_sb_printf(b, ",\"stage\":");
            if (pr->stage >= 0) ulm_sb_json_str(b, st, strlen(st));
            else ulm_sb_printf(b, "null");
        }
        ulm_sb_printf(b, "}\n");
        return;
    }
    ulm_sb_json_str(b, id, idlen); /* quoted: ids may hold commas */
    for (int f = 0; f < nf; f++) {
        ulm_sb_append(b, ",", 1);
        num(b, pr->f[f], false);
    }
    ulm_sb_append(b, ",", 1);
    for (uint32_t k = 0; k < pr->n_keywords; k++) {
        uint32_t len;
        const char *w = ulm_profiler_word(p, pr->keyword[k], &len);
        if (k) ulm_sb_append(b, " ", 1);
        ulm_sb_append(b, w, len);
    }
    if (full) {
        ulm_sb_printf(b, ",%s,", ulm_rfm_segment_name(pr->rfm_segment));
        if (pr->segment >= 0) {
            uint32_t len;
            const char *ds = ulm_profiler_segment_description(p, (uint32_t)pr->segment, &len);
            ulm_sb_printf(b, "%d,", pr->segment);
            ulm_sb_json_str(b, ds, len); /* quoted: descriptions hold commas */
        } else {
            ulm_sb_append(b, ",", 1);
        }
        ulm_sb_printf(b, ",%s", ulm_stage_name(pr->stage));
    }
    ulm_sb_append(b, "\n", 1);
}

ulm_status ulm_profile_write_histories(const char *path, const ulm_events *ev, const ulm_profile_set *set,
                                       ulm_diag *diag) {
    uint32_t nu = ev->users.n;
    uint32_t *off = calloc((size_t)nu + 2, sizeof *off);
    uint32_t *idx = malloc((ev->n + 1) * sizeof *idx);
    if (!off || !idx) {
        free(off), free(idx);
        return ULM_ERR_NOMEM;
    }
    for (size_t i = 0; i < ev->n; i++)
        if (ev->user[i] < nu && ev->time[i] < set->as_of) off[ev->user[i] + 2]++;
    for (uint32_t u = 0; u < nu; u++) off[u + 2] += off[u + 1];
    for (size_t i = 0; i < ev->n; i++)
        if (ev->user[i] < nu && ev->time[i] < set->as_of) idx[off[ev->user[i] + 1]++] = (uint32_t)i;
    ulm_sb b = {0};
    for (size_t k = 0; k < set->n; k++) {
        uint32_t u = set->user[k], len;
        const char *id = ulm_dict_str(&ev->users, u, &len);
        ulm_sb_printf(&b, "{\"customer\":");
        ulm_sb_json_str(&b, id, len);
        ulm_sb_printf(&b, ",\"history\":[");
        for (uint32_t j = off[u]; j < off[u + 1]; j++) {
            uint32_t e = idx[j];
            ulm_sb_printf(&b, "%s{\"type\":\"%s\",\"time\":%lld", j > off[u] ? "," : "", ulm_event_type_name(ev->type[e]),
                          (long long)ev->time[e]);
            if (ev->item[e] != ULM_NONE) {
                const char *it = ulm_dict_str(&ev->items, ev->item[e], &len);
                ulm_sb_printf(&b, ",\"item\":");
                ulm_sb_json_str(&b, it, len);
            }
            if (!isnan(ev->price[e])) ulm_sb_printf(&b, ",\"price\":%.17g", ev->price[e]);
            ulm_sb_printf(&b, ",\"qty\":%.9g", (double)ev->qty[e]);
            if (ev->order[e] != ULM_NONE) {
                const char *o = ulm_dict_str(&ev->orders, ev->order[e], &len);
                ulm_sb_printf(&b, ",\"order\":");
                ulm_sb_json_str(&b, o, len);
            }
            if (ev->query[e] != ULM_NONE) {
                const char *q = ulm_dict_str(&ev->queries, ev->query[e], &len);
                ulm_sb_printf(&b, ",\"query\":");
                ulm_sb_json_str(&b, q, len);
            }
            ulm_sb_printf(&b, "}");
        }
        ulm_sb_printf(&b, "]}\n");
    }
    free(off), free(idx);
    ulm_status s = b.oom ? ULM_ERR_NOMEM : ulm_file_write_atomic(path, b.s ? b.s : "", b.len, diag);
    ulm_sb_free(&b);
    return s;
}

int ulm_train_profiler(const ulm_events *ev, const ulm_opt *opts, size_t no, ulm_profiler **p) {
    *p = NULL;
    ulm_profiler_params pp = ulm_profiler_params_init();
    uint64_t k = 0, seed = 42;
    if (!ulm_opt_u64(opts, no, "k", 0, &k) || !ulm_opt_u64(opts, no, "seed", 42, &seed)) return ULM_EXIT_USAGE;
    if (ulm_opt_get(opts, no, "k") && (k < 1 || k > 16)) {
        ulm_errorf("train", "--k must be between 1 and 16");
        return ULM_EXIT_USAGE;
    }
    pp.k = (uint32_t)k;
    pp.seed = seed;
    const char *pi = ulm_opt_get(opts, no, "profile-items");
    pp.no_item_data = pi && strcmp(pi, "none") == 0;
    ulm_profile_set set;
    ulm_profiler_report rep;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    if (ulm_profile_train(ev, &pp, p, &set, &rep, &d) != ULM_OK) {
        fprintf(stderr, "ulm train: warning: no profiler in the bundle: %s\n", d.message);
        *p = NULL;
        return 0;
    }
    ulm_profile_set_free(&set);
    if (!rep.clv_ok) fprintf(stderr, "ulm train: warning: CLV not fitted: %s\n", rep.clv_message);
    return 0;
}
