/* cmd_train.c: `ulm train STORE --out model.ulm`: train and export a model bundle. */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "export.h"
#include "store.h"

static const char usage[] =
    "usage: ulm train STORE --out MODEL.ulm [options]\n\n"
    "Trains models from an event store (made by `ulm ingest`) and writes one model bundle atomically.\n"
    "Foundation models: the item catalogue (ids, names, latest prices), a recency-weighted popularity\n"
    "recommender and, unless --no-user-table, the purchase histories of known users.\n\n"
    "  --out FILE          bundle to write (required)\n"
    "  --half-life DAYS    popularity half-life in days (default 30; 0 = no decay)\n"
    "  --no-user-table     leave user histories out (for bundles shipped to browsers)\n"
    "  --json              report as one JSON object\n";

int ulm_cmd_train(int argc, char **argv) {
    ulm_opt opts[] = {{"out", true, NULL}, {"half-life", true, NULL}, {"no-user-table", false, NULL}, {"json", false, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *out = ulm_opt_get(opts, no, "out");
    if (a.npos != 1 || !out) {
        fprintf(stderr, "ulm train: expected STORE and --out FILE\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    ulm_export_opts eo = {.user_table = !ulm_opt_get(opts, no, "no-user-table"), .as_of = INT64_MIN};
    if (!ulm_opt_f64(opts, no, "half-life", 30.0, &eo.half_life_days)) return ULM_EXIT_USAGE;
    if (eo.half_life_days < 0) {
        ulm_errorf("train", "--half-life must be >= 0 days");
        return ULM_EXIT_USAGE;
    }
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    double t0 = ulm_now();
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_status s = ulm_store_read(a.pos[0], &ev, &d);
    if (s != ULM_OK) {
        ulm_errorf("train", "%s: %s: %s", a.pos[0], ulm_status_name(s), d.message);
        ulm_events_free(&ev);
        return ULM_EXIT_FAIL;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    ulm_export_info info;
    s = ulm_export_bundle(&ev, &eo, &buf, &len, &info, &d);
    if (s == ULM_OK) s = ulm_file_write_atomic(out, buf, len, &d);
    free(buf);
    if (s != ULM_OK) {
        ulm_errorf("train", "%s: %s", ulm_status_name(s), d.message);
        ulm_events_free(&ev);
        return ULM_EXIT_FAIL;
    }
    char when[48];
    ulm_format_time(info.as_of, when);
    double secs = ulm_now() - t0;
    if (json) {
        ulm_sb b = {0};
        ulm_sb_printf(&b, "{\"out\":");
        ulm_sb_json_str(&b, out, strlen(out));
        ulm_sb_printf(&b,
                      ",\"bytes\":%zu,\"events\":%zu,\"items\":%u,\"items_with_names\":%u,\"users\":%u,"
                      "\"recs\":\"pop\",\"half_life_days\":%g,\"as_of\":\"%s\",\"seconds\":%.3f}\n",
                      info.bytes, ev.n, info.items, info.items_with_names, info.users, eo.half_life_days, when, secs);
        fputs(b.s, stdout);
        ulm_sb_free(&b);
    } else {
        printf("trained on %zu events as of %s: %u items (%u named), %u users\n"
               "recommender: popularity, half-life %g days\nwrote %s (%zu bytes) in %.2f s\n",
               ev.n, when, info.items, info.items_with_names, info.users, eo.half_life_days, out, info.bytes, secs);
    }
    ulm_events_free(&ev);
    return ULM_EXIT_OK;
}
