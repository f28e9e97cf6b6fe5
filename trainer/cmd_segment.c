/* cmd_segment.c: `ulm segment STORE --out FILE`: RFM segments, k-means segments, lifecycle stages
 * and lifetime value per customer, with a summary per segment (docs/segments.md). */
#include <math.h>
#include <string.h>

#include "civil.h"
#include "commands.h"
#include "profile_state.h"
#include "store.h"

static const char usage[] =
    "usage: ulm segment STORE --out FILE [options]\n\n"
    "Trains the profiler on the events before --as-of (RFM quintile cut points, k-means++ on standardised\n"
    "profile features with k chosen by silhouette, lifecycle stage rules, BG/NBD, Pareto/NBD and\n"
    "Gamma-Gamma) and writes one row per customer: every profile feature, RFM scores and named segment,\n"
    "k-means segment and its description, stage, P(alive), expected purchases, expected spend and CLV.\n"
    "Prints a summary per segment (size, revenue share, mean CLV). Definitions: docs/segments.md.\n\n"
    "  --out FILE        assignment rows (atomically; required)\n"
    "  --as-of DATE      YYYY-MM-DD or ISO time (default: just after the last event)\n"
    "  --k K             k-means k (default: the best silhouette for k = 2..8)\n"
    "  --seed S          k-means++ seed (default 42)\n"
    "  --model FILE      score with the profiler of this bundle (from `ulm train`) instead of fitting\n"
    "  --histories FILE  also write each customer's events as JSON Lines (the JS API's input)\n"
    "  --state-out FILE  with --model: keep each customer's event aggregates in FILE for the next run\n"
    "  --state FILE      with --model: update the aggregates of FILE from only the new events (any\n"
    "                    mismatch: computed in full, said in the summary; docs/profile.md)\n"
    "  --json            JSON Lines rows and a JSON summary on stdout\n";

/* Summary accumulators of one group. */
typedef struct group {
    double size, revenue, clv_sum, clv_n;
} group;

static void add(group *g, const ulm_profile *pr) {
    g->size++;
    g->revenue += pr->f[ULM_PF_MONETARY];
    if (!isnan(pr->f[ULM_PF_CLV])) g->clv_sum += pr->f[ULM_PF_CLV], g->clv_n++;
}

static void print_group(ulm_sb *b, bool json, bool *first, const char *kind, int id, const char *name, size_t nlen,
                        const group *g, double total) {
    double share = total != 0 ? g->revenue / total : 0, mclv = g->clv_n ? g->clv_sum / g->clv_n : NAN;
    if (json) {
        ulm_sb_printf(b, "%s{", *first ? "" : ",");
        if (id >= 0) ulm_sb_printf(b, "\"segment\":%d,\"description\":", id);
        else ulm_sb_printf(b, "\"name\":");
        ulm_sb_json_str(b, name, nlen);
        ulm_sb_printf(b, ",\"size\":%.0f,\"revenue\":%.2f,\"revenue_share\":%.6f,\"mean_clv\":", g->size, g->revenue, share);
        if (isnan(mclv)) ulm_sb_printf(b, "null}");
        else ulm_sb_printf(b, "%.4f}", mclv);
    } else {
        char label[64];
        if (id >= 0) snprintf(label, sizeof label, "%s %d", kind, id);
        else snprintf(label, sizeof label, "%.*s", (int)nlen, name);
        ulm_sb_printf(b, "  %-20s %7.0f %9.1f%%  %10.2f", label, g->size, 100 * share, mclv);
        if (id >= 0) ulm_sb_printf(b, "  %.*s", (int)nlen, name);
        ulm_sb_printf(b, "\n");
    }
    *first = false;
}

/* Loads the profiler of a bundle file; the model owns it. */
static ulm_status load_model(const char *path, ulm_model **m, ulm_diag *d) {
    char *buf;
    size_t len;
    ulm_status s = ulm_file_read(path, false, &buf, &len, d);
    if (s != ULM_OK) return s;
    s = ulm_model_load(buf, len, NULL, m, d);
    free(buf);
    if (s == ULM_OK && !ulm_model_profiler(*m)) {
        ulm_model_free(*m);
        *m = NULL;
        snprintf(d->message, sizeof d->message, "%s has no profiler sections (train it with `ulm train`)", path);
        return d->status = ULM_ERR_NOT_FOUND;
    }
    return s;
}

int ulm_cmd_segment(int argc, char **argv) {
    ulm_opt opts[] = {{"out", true, NULL},   {"as-of", true, NULL},     {"k", true, NULL},    {"seed", true, NULL},
                      {"model", true, NULL}, {"histories", true, NULL}, {"json", false, NULL},
                      {"state", true, NULL}, {"state-out", true, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int rc = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (rc) return rc == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *out = ulm_opt_get(opts, no, "out"), *aso = ulm_opt_get(opts, no, "as-of");
    const char *model = ulm_opt_get(opts, no, "model");
    if (a.npos != 1 || !out) {
        fprintf(stderr, "ulm segment: expected STORE and --out FILE\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    ulm_profiler_params pp = ulm_profiler_params_init();
    uint64_t k = 0, seed = 42;
    if (!ulm_opt_u64(opts, no, "k", 0, &k) || !ulm_opt_u64(opts, no, "seed", 42, &seed)) return ULM_EXIT_USAGE;
    if (ulm_opt_get(opts, no, "k") && (k < 1 || k > 16)) {
        ulm_errorf("segment", "--k must be between 1 and 16");
        return ULM_EXIT_USAGE;
    }
    pp.k = (uint32_t)k;
    pp.seed = seed;
    if (!ulm_profile_as_of_opt("segment", aso, &pp.as_of)) return ULM_EXIT_USAGE;
    if (model && (ulm_opt_get(opts, no, "k") || ulm_opt_get(opts, no, "seed"))) {
        ulm_errorf("segment", "--k and --seed are for fitting; --model scores with a trained profiler");
        return ULM_EXIT_USAGE;
    }
    const char *st_in = ulm_opt_get(opts, no, "state"), *st_out = ulm_opt_get(opts, no, "state-out");
    if ((st_in || st_out) && !model) {
        ulm_errorf("segment", "--state and --state-out need --model (a fitted profiler changes every run)");
        return ULM_EXIT_USAGE;
    }
    ulm_profile_state_report srep;
    memset(&srep, 0, sizeof srep);
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    double t0 = ulm_now();
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_status s = ULM_OK;
    if (!ulm_store_load("segment", a.pos[0], &ev)) return ULM_EXIT_FAIL;
    ulm_model *m = NULL;
    double tp = 0; /* seconds of the profiles with --model (with the state's read and write) */
    ulm_profiler *own = NULL;
    const ulm_profiler *p = NULL;
    ulm_profile_set set = {0};
    ulm_profiler_report rep;
    memset(&rep, 0, sizeof rep);
    ulm_profiler_info info;
    if (model) {
        s = load_model(model, &m, &d);
        if (s == ULM_OK) {
            p = ulm_model_profiler(m);
            ulm_profiler_get_info(p, &info);
            if (info.n_items != ev.items.n) {
                snprintf(d.message, sizeof d.message, "%s knows %u items, the store %u: train it on this store", model,
                         info.n_items, ev.items.n);
                s = d.status = ULM_ERR_RANGE;
            }
        }
        tp = ulm_now();
        if (s == ULM_OK && (st_in || st_out))
            s = ulm_profile_run_state(&ev, p, aso ? pp.as_of : info.as_of, st_in, st_out, &set, &srep, &d);
        else if (s == ULM_OK) s = ulm_profile_run(&ev, p, aso ? pp.as_of : info.as_of, &set, &d);
        tp = ulm_now() - tp;
    } else {
        s = ulm_profile_train(&ev, &pp, &own, &set, &rep, &d);
        p = own;
    }
    const char *hist = ulm_opt_get(opts, no, "histories");
    if (s == ULM_OK && hist) s = ulm_profile_write_histories(hist, &ev, &set, &d);
    ulm_sb b = {0};
    if (s == ULM_OK) {
        ulm_profiler_get_info(p, &info);
        if (!json) ulm_profile_csv_header(&b, true);
        for (size_t i = 0; i < set.n; i++) {
            uint32_t len;
            const char *id = ulm_dict_str(&ev.users, set.user[i], &len);
            ulm_profile_row(&b, p, id, len, &set.pr[i], json, true);
        }
        if (b.oom) s = ULM_ERR_NOMEM;
        if (s == ULM_OK) s = ulm_file_write_atomic(out, b.s ? b.s : "", b.len, &d);
    }
    ulm_sb_free(&b);
    int ret = ULM_EXIT_OK;
    if (s != ULM_OK) {
        ulm_errorf("segment", "%s: %s", ulm_status_name(s), d.message[0] ? d.message : ulm_status_str(s));
        ret = ULM_EXIT_FAIL;
        goto done;
    }
    group rfm[ULM_RFM_COUNT] = {{0}}, km[16] = {{0}}, st[ULM_STAGE_COUNT] = {{0}}, all = {0};
    for (size_t i = 0; i < set.n; i++) {
        const ulm_profile *pr = &set.pr[i];
        if (!(pr->f[ULM_PF_PURCHASE_DAYS] >= 1)) continue;
        add(&all, pr);
        if (pr->rfm_segment >= 0) add(&rfm[pr->rfm_segment], pr);
        if (pr->segment >= 0 && pr->segment < 16) add(&km[pr->segment], pr);
        if (pr->stage >= 0) add(&st[pr->stage], pr);
    }
    char when[48];
    ulm_format_time(info.as_of, when);
    ulm_sb o = {0};
    bool first = true;
    if (json) {
        ulm_sb_printf(&o, "{\"store\":");
        ulm_sb_json_str(&o, a.pos[0], strlen(a.pos[0]));
        ulm_sb_printf(&o, ",\"out\":");
        ulm_sb_json_str(&o, out, strlen(out));
        ulm_sb_printf(&o, ",\"as_of\":\"%s\",\"customers\":%zu,\"buyers\":%.0f,\"revenue\":%.2f,\"k\":%u", when, set.n,
                      all.size, all.revenue, info.k);
        if (!model) {
            ulm_sb_printf(&o, ",\"silhouette\":{");
            bool f1 = true;
            for (int kk = 0; kk < 17; kk++)
                if (!isnan(rep.silhouette[kk])) {
                    ulm_sb_printf(&o, "%s\"%d\":%.6f", f1 ? "" : ",", kk, rep.silhouette[kk]);
                    f1 = false;
                }
            ulm_sb_printf(&o, "}");
        }
        ulm_sb_printf(&o, ",\"clv\":");
        if (info.has_clv)
            ulm_sb_printf(&o, "{\"time_unit_days\":%g,\"horizon\":%g,\"bgnbd\":{\"r\":%.10g,\"alpha\":%.10g,\"a\":%.10g,\"b\":%.10g},"
                              "\"pnbd\":{\"r\":%.10g,\"alpha\":%.10g,\"s\":%.10g,\"beta\":%.10g}",
                          info.unit_days, info.horizon, info.clv.bg.r, info.clv.bg.alpha, info.clv.bg.a, info.clv.bg.b,
                          info.clv.pn.r, info.clv.pn.alpha, info.clv.pn.s, info.clv.pn.beta);
        else ulm_sb_printf(&o, "null");
        if (info.has_clv && info.has_gg)
            ulm_sb_printf(&o, ",\"gamma_gamma\":{\"p\":%.10g,\"q\":%.10g,\"gamma\":%.10g}}", info.clv.gg.p, info.clv.gg.q,
                          info.clv.gg.gamma);
        else if (info.has_clv) ulm_sb_printf(&o, ",\"gamma_gamma\":null}");
        ulm_sb_printf(&o, ",\"rfm_cuts\":{\"recency_days\":[%g,%g,%g,%g],\"orders\":[%g,%g,%g,%g],\"monetary\":[%g,%g,%g,%g]}",
                      info.rfm_cuts[0][0], info.rfm_cuts[0][1], info.rfm_cuts[0][2], info.rfm_cuts[0][3],
                      info.rfm_cuts[1][0], info.rfm_cuts[1][1], info.rfm_cuts[1][2], info.rfm_cuts[1][3],
                      info.rfm_cuts[2][0], info.rfm_cuts[2][1], info.rfm_cuts[2][2], info.rfm_cuts[2][3]);
        if (srep.mode) {
            ulm_sb_printf(&o, ",\"state\":{\"mode\":\"%s\",\"reason\":", srep.mode);
            ulm_sb_json_str(&o, srep.reason, strlen(srep.reason));
            ulm_sb_printf(&o, ",\"kept\":%zu,\"appended\":%zu,\"recomputed\":%zu,\"added\":%zu,\"items_changed\":%zu,\"words_new\":%zu,\"bytes\":%zu}",
                          srep.kept, srep.appended, srep.recomputed, srep.added, srep.items_changed, srep.words_new,
                          srep.state_bytes);
        }
        ulm_sb_printf(&o, ",\"rfm\":[");
    } else {
        ulm_sb_printf(&o, "%zu customers, %.0f with purchases before %s; k-means k = %u\n", set.n, all.size, when, info.k);
        if (info.has_clv)
            ulm_sb_printf(&o, "CLV: BG/NBD r %.4g alpha %.4g a %.4g b %.4g; Gamma-Gamma %s; horizon %g x %g days\n",
                          info.clv.bg.r, info.clv.bg.alpha, info.clv.bg.a, info.clv.bg.b, info.has_gg ? "fitted" : "not fitted",
                          info.horizon, info.unit_days);
        if (srep.mode)
            ulm_sb_printf(&o, "profiles %s%s%s: %zu kept, %zu appended, %zu recomputed, %zu new\n", srep.mode,
                          srep.reason[0] ? ": " : "", srep.reason, srep.kept, srep.appended, srep.recomputed, srep.added);
        ulm_sb_printf(&o, "\n  %-20s %7s %10s  %10s\n", "RFM segment", "size", "revenue", "mean CLV");
    }
    for (int r = 0; r < ULM_RFM_COUNT; r++) {
        const char *nm = ulm_rfm_segment_name(r);
        print_group(&o, json, &first, "", -1, nm, strlen(nm), &rfm[r], all.revenue);
    }
    first = true;
    if (json) ulm_sb_printf(&o, "],\"segments\":[");
    else ulm_sb_printf(&o, "\n  %-20s %7s %10s  %10s  %s\n", "k-means segment", "size", "revenue", "mean CLV", "description");
    for (uint32_t s2 = 0; s2 < info.k && s2 < 16; s2++) {
        uint32_t len;
        const char *ds = ulm_profiler_segment_description(p, s2, &len);
        print_group(&o, json, &first, "segment", (int)s2, ds, len, &km[s2], all.revenue);
    }
    first = true;
    if (json) ulm_sb_printf(&o, "],\"stages\":[");
    else ulm_sb_printf(&o, "\n  %-20s %7s %10s  %10s\n", "stage", "size", "revenue", "mean CLV");
    for (int s3 = 0; s3 < ULM_STAGE_COUNT; s3++) {
        const char *nm = ulm_stage_name(s3);
        print_group(&o, json, &first, "", -1, nm, strlen(nm), &st[s3], all.revenue);
    }
    if (json && model) ulm_sb_printf(&o, "],\"profile_seconds\":%.3f,\"seconds\":%.3f}\n", tp, ulm_now() - t0);
    else if (json) ulm_sb_printf(&o, "],\"seconds\":%.3f}\n", ulm_now() - t0);
    else ulm_sb_printf(&o, "\nwrote %zu rows to %s in %.2f s\n", set.n, out, ulm_now() - t0);
    if (o.s) fputs(o.s, stdout);
    ulm_sb_free(&o);
    if (!model && !rep.clv_ok) fprintf(stderr, "ulm segment: warning: CLV not fitted: %s\n", rep.clv_message);
done:
    ulm_profile_set_free(&set);
    ulm_profiler_free(own);
    ulm_model_free(m);
    ulm_events_free(&ev);
    return ret;
}
