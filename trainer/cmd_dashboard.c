/* cmd_dashboard.c: `ulm dashboard STORE --model BUNDLE --out DIR`: the operations dashboard of a run, a static
 * page (web/dashboard, bundled at build time) with its data (data.json, data.js) and the per-customer stages
 * (stages.tsv) the next run's stage flow is computed from. Contract: docs/dashboard.md. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "dashboard_data.h"
#include "store.h"
#include "churn_store.h"

static const char usage[] =
    "usage: ulm dashboard STORE --model BUNDLE --out DIR [--previous FILE] [--recs-eval FILE]\n"
    "                     [--campaign FILE] [--as-of DATE] [--assets DIR] [--threshold P] [--top N] [--json]\n\n"
    "Writes an operations dashboard into DIR: index.html and its bundled scripts and styles (copied from\n"
    "--assets), data.json (the numbers, format ulm-dashboard version 1: docs/dashboard.md), data.js (the same\n"
    "JSON for pages opened from file://) and stages.tsv (each customer's lifecycle stage, for the next run's\n"
    "stage flow). Customers are scored as of --as-of (default the day after the last event) with the bundle's\n"
    "profiler (segments, RFM, stages, CLV) and churn model; panels whose model the bundle lacks are null.\n\n"
    "  --previous FILE   the previous run's DIR/data.json (its stages.tsv beside it): stage flow between runs\n"
    "  --recs-eval FILE  `ulm eval recs --json` output: one object or an array of them (one per algorithm)\n"
    "  --campaign FILE   `ulm campaign plan --json` output\n"
    "  --assets DIR      the built page (default: <dir of ulm>/../dashboard, which ./run build fills)\n"
    "  --threshold P     churn risk counted as at risk (default 0.5, as ulm alerts)\n"
    "  --top N           customers at risk listed, by value at risk (default 20)\n"
    "  --json            a one-line JSON summary on stdout\n";

/* The default asset folder: <dir of the executable>/../dashboard. */
static void default_assets(char *out, size_t cap) {
    char exe[2048];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, cap, "dashboard");
        return;
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    snprintf(out, cap, "%s/../dashboard", exe);
}

/* Copies every regular file of dir (not recursive; sorted names not needed) into out. */
static ulm_status copy_assets(const char *dir, const char *out, size_t *n_files, size_t *bytes, ulm_diag *d) {
    DIR *dh = opendir(dir);
    if (!dh)
        return ulm_diag_set(d, ULM_ERR_IO, "", 0, "%s: %s (the dashboard page: build it with ./run build or pass --assets)",
                            dir, strerror(errno));
    ulm_status s = ULM_OK;
    bool has_index = false;
    struct dirent *e;
    while (s == ULM_OK && (e = readdir(dh))) {
        if (e->d_name[0] == '.') continue;
        char src[4400], dst[4400];
        snprintf(src, sizeof src, "%.4096s/%.255s", dir, e->d_name);
        snprintf(dst, sizeof dst, "%.4096s/%.255s", out, e->d_name);
        struct stat st;
        if (stat(src, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (strcmp(e->d_name, "data.json") == 0 || strcmp(e->d_name, "data.js") == 0) continue;
        char *buf = NULL;
        size_t len = 0;
        if ((s = ulm_file_read(src, false, &buf, &len, d)) == ULM_OK) s = ulm_file_write_atomic(dst, buf, len, d);
        free(buf);
        has_index |= strcmp(e->d_name, "index.html") == 0;
        (*n_files)++;
        *bytes += len;
    }
    closedir(dh);
    if (s == ULM_OK && !has_index)
        s = ulm_diag_set(d, ULM_ERR_NOT_FOUND, "", 0, "%s has no index.html (build the page with ./run build)", dir);
    return s;
}

int ulm_cmd_dashboard(int argc, char **argv) {
    ulm_opt opts[] = {{"model", true, NULL},    {"out", true, NULL},       {"previous", true, NULL},
                      {"recs-eval", true, NULL}, {"campaign", true, NULL}, {"as-of", true, NULL},
                      {"assets", true, NULL},    {"threshold", true, NULL}, {"top", true, NULL},
                      {"json", false, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *model_path = ulm_opt_get(opts, no, "model"), *out = ulm_opt_get(opts, no, "out");
    if (a.npos != 1 || !model_path || !out) {
        fprintf(stderr, "ulm dashboard: expected STORE, --model BUNDLE and --out DIR\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    double thr;
    uint64_t top;
    if (!ulm_opt_f64(opts, no, "threshold", 0.5, &thr) || !ulm_opt_u64(opts, no, "top", 20, &top)) return ULM_EXIT_USAGE;
    if (!(thr > 0 && thr < 1) || top > 1000) {
        ulm_errorf("dashboard", "--threshold must be in (0, 1) and --top at most 1000");
        return ULM_EXIT_USAGE;
    }
    char assets[4096];
    if (ulm_opt_get(opts, no, "assets")) snprintf(assets, sizeof assets, "%s", ulm_opt_get(opts, no, "assets"));
    else default_assets(assets, sizeof assets);
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    double t0 = ulm_now();
    int rc = ULM_EXIT_FAIL;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_model *m = NULL;
    ulm_dash_prev prev;
    ulm_dash_prev_init(&prev);
    char *recs = NULL, *camp = NULL, *bytes = NULL;
    ulm_sb data = {0}, js = {0}, stages = {0};
    ulm_status s;
    const char *f;
    char index[4200];
    snprintf(index, sizeof index, "%.4096s/index.html", assets);
    if (access(index, R_OK) != 0) {
        ulm_errorf("dashboard", "%s: no index.html (the dashboard page: build it with ./run build or pass --assets)",
                   assets);
        goto done;
    }
    if ((f = ulm_opt_get(opts, no, "recs-eval")) && ulm_dash_read_recs_eval(f, &recs, &d) != ULM_OK) goto fail;
    if ((f = ulm_opt_get(opts, no, "campaign")) && ulm_dash_read_campaign(f, &camp, &d) != ULM_OK) goto fail;
    if ((f = ulm_opt_get(opts, no, "previous")) && ulm_dash_prev_read(f, &prev, &d) != ULM_OK) goto fail;
    size_t len = 0;
    if ((s = ulm_file_read(model_path, false, &bytes, &len, &d)) == ULM_OK) s = ulm_model_load(bytes, len, NULL, &m, &d);
    if (s != ULM_OK) {
        ulm_errorf("dashboard", "%s: %s: %s", model_path, ulm_status_name(s), d.message);
        goto done;
    }
    if (!ulm_store_load("dashboard", a.pos[0], &ev)) goto done;
    int64_t as_of = INT64_MIN;
    if (!ulm_churn_as_of("dashboard", ulm_opt_get(opts, no, "as-of"), &ev, &as_of)) {
        rc = ULM_EXIT_USAGE;
        goto done;
    }
    ulm_dash_in in = {.ev = &ev, .model = m, .store_path = a.pos[0], .model_path = model_path, .as_of = as_of,
                      .threshold = thr, .top = (uint32_t)top, .recs_eval = recs, .campaign = camp};
    if (ulm_dash_build(&in, &prev, &data, &stages, &d) != ULM_OK) goto fail;
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        ulm_errorf("dashboard", "%s: cannot create the folder: %s", out, strerror(errno));
        goto done;
    }
    size_t n_files = 0, n_bytes = 0;
    if (copy_assets(assets, out, &n_files, &n_bytes, &d) != ULM_OK) goto fail;
    ulm_sb_printf(&js, "globalThis.ULM_DASHBOARD = ");
    ulm_sb_append(&js, data.s, data.len - 1); /* without the newline */
    ulm_sb_printf(&js, ";\n");
    if (js.oom) goto done;
    static const char *const names[] = {"data.json", "data.js", "stages.tsv"};
    const ulm_sb *bufs[] = {&data, &js, &stages};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", out, names[i]);
        if (ulm_file_write_atomic(path, bufs[i]->s, bufs[i]->len, &d) != ULM_OK) goto fail;
        n_files++;
        n_bytes += bufs[i]->len;
    }
    if (json) {
        ulm_sb o = {0};
        ulm_sb_printf(&o, "{\"out\":");
        ulm_sb_json_str(&o, out, strlen(out));
        ulm_sb_printf(&o, ",\"files\":%zu,\"bytes\":%zu,\"previous\":%s,\"seconds\":%.3f}\n", n_files, n_bytes,
                      prev.present ? "true" : "false", ulm_now() - t0);
        if (o.s) fputs(o.s, stdout);
        ulm_sb_free(&o);
    } else {
        printf("wrote the dashboard to %s/index.html (%zu files, %zu bytes) in %.2f s\n", out, n_files, n_bytes,
               ulm_now() - t0);
    }
    rc = ULM_EXIT_OK;
    goto done;
fail:
    ulm_errorf("dashboard", "%s: %s", ulm_status_name(d.status), d.message);
done:
    free(bytes);
    free(recs);
    free(camp);
    ulm_sb_free(&data);
    ulm_sb_free(&js);
    ulm_sb_free(&stages);
    ulm_dash_prev_free(&prev);
    ulm_model_free(m);
    ulm_events_free(&ev);
    return rc;
}
