/* cmd_profile.c: `ulm profile STORE --out FILE`: one row of profile features per customer, from
 * the events before --as-of only (docs/profile.md). */
#include <string.h>

#include "civil.h"
#include "commands.h"
#include "profile_run.h"
#include "store.h"

static const char usage[] =
    "usage: ulm profile STORE --out FILE [--as-of DATE] [--json]\n\n"
    "One row per customer (known users with an event before --as-of): recency, tenure, purchase days,\n"
    "orders, monetary value net of returns, inter-purchase time (mean, variance), basket size, distinct\n"
    "items and categories (category = the last keyword of the item's name), return rate, share of\n"
    "discounted purchase lines, weekday/time-of-day habits, event counts and the top tf-idf keywords of\n"
    "the items bought and the queries searched. Only events strictly before --as-of are read, so the\n"
    "rows can feed churn labels without leakage. Definitions: docs/profile.md.\n\n"
    "  --out FILE     where to write the rows (atomically; required)\n"
    "  --as-of DATE   YYYY-MM-DD (midnight UTC) or an ISO time (default: just after the last event)\n"
    "  --json         JSON Lines instead of CSV (undefined values are null)\n"
    "  --stats        print timing and counts as JSON on stdout\n";

int ulm_cmd_profile(int argc, char **argv) {
    ulm_opt opts[] = {{"out", true, NULL}, {"as-of", true, NULL}, {"json", false, NULL}, {"stats", false, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int rc = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (rc) return rc == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *out = ulm_opt_get(opts, no, "out"), *aso = ulm_opt_get(opts, no, "as-of");
    if (a.npos != 1 || !out) {
        fprintf(stderr, "ulm profile: expected STORE and --out FILE\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    ulm_profiler_params pp = ulm_profiler_params_init();
    if (!ulm_profile_as_of_opt("profile", aso, &pp.as_of)) return ULM_EXIT_USAGE;
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    double t0 = ulm_now();
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_status s = ULM_OK;
    if (!ulm_store_load("profile", a.pos[0], &ev)) return ULM_EXIT_FAIL;
    double t1 = ulm_now();
    ulm_profiler *p = NULL;
    ulm_profile_set set = {0};
    s = ulm_profiler_build(&ev, &pp, &p, &d);
    ulm_profiler_info info;
    ulm_profiler_get_info(p, &info);
    if (s == ULM_OK) s = ulm_profile_run(&ev, p, info.as_of, &set, &d);
    double t2 = ulm_now();
    ulm_sb b = {0};
    if (s == ULM_OK) {
        if (!json) ulm_profile_csv_header(&b, false);
        for (size_t i = 0; i < set.n; i++) {
            uint32_t len;
            const char *id = ulm_dict_str(&ev.users, set.user[i], &len);
            ulm_profile_row(&b, p, id, len, &set.pr[i], json, false);
        }
        if (b.oom) s = ULM_ERR_NOMEM;
        if (s == ULM_OK) s = ulm_file_write_atomic(out, b.s ? b.s : "", b.len, &d);
    }
    double t3 = ulm_now();
    int ret = ULM_EXIT_OK;
    if (s != ULM_OK) {
        ulm_errorf("profile", "%s: %s", ulm_status_name(s), d.message[0] ? d.message : ulm_status_str(s));
        ret = ULM_EXIT_FAIL;
    } else {
        size_t buyers = 0;
        for (size_t i = 0; i < set.n; i++) buyers += set.pr[i].f[ULM_PF_PURCHASE_DAYS] >= 1;
        char when[48];
        ulm_format_time(info.as_of, when);
        if (ulm_opt_get(opts, no, "stats"))
            printf("{\"customers\":%zu,\"buyers\":%zu,\"events\":%zu,\"as_of\":\"%s\",\"vocabulary\":%u,\"categories\":%u,"
                   "\"read_seconds\":%.3f,\"profile_seconds\":%.3f,\"write_seconds\":%.3f,\"seconds\":%.3f}\n",
                   set.n, buyers, ev.n, when, info.n_words, info.n_categories, t1 - t0, t2 - t1, t3 - t2, t3 - t0);
        else
            fprintf(stderr, "wrote %zu customer profiles (%zu with purchases, as of %s) to %s in %.2f s\n", set.n, buyers,
                    when, out, t3 - t0);
    }
    ulm_sb_free(&b);
    ulm_profile_set_free(&set);
    ulm_profiler_free(p);
    ulm_events_free(&ev);
    return ret;
}
