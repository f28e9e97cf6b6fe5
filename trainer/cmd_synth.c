/* cmd_synth.c: `ulm synth`: arguments and the summary around the generator (synth.h, docs/synth.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "synth.h"

static const char usage[] =
    "usage: ulm synth --out FILE [--users N] [--items M] [--days D] [--seed S] [--start YYYY-MM-DD]\n"
    "                 [--categories C] [--zipf X] [--sessions X] [--threads T] [--json]\n"
    "\n"
    "Writes a realistic synthetic shop event log (CSV: user,item,time,event,quantity,price,order,query;\n"
    "gzip when FILE ends in .gz) in time order, with its ground truth beside it:\n"
    "<FILE without .gz>.truth.json, .truth.users.csv and .truth.items.csv. Same arguments, same bytes.\n"
    "\n"
    "  --out FILE        the event log to write (required)\n"
    "  --users N         users (default 10000)\n"
    "  --items M         items (default 2000)\n"
    "  --days D          days (default 365)\n"
    "  --seed S          random seed (default 1)\n"
    "  --start DATE      first day, UTC (default 2024-01-01)\n"
    "  --categories C    item categories (default: about sqrt(items)/3, at least 4)\n"
    "  --zipf X          popularity exponent: item of rank r has weight r^-X (default 1.0)\n"
    "  --sessions X      median sessions per user per day (default 0.12)\n"
    "  --threads T       worker threads (default: CPU count, at most 8; output does not depend on it)\n"
    "  --json            print the summary as JSON\n"
    "\n"
    "About 6 events per session: 200,000 users x 365 days gives roughly 40 million events.\n"
    "The model and every parameter are described in docs/synth.md.\n";

enum { O_OUT, O_USERS, O_ITEMS, O_DAYS, O_SEED, O_START, O_CATS, O_ZIPF, O_SESSIONS, O_THREADS, O_JSON, O_N };

/* Text summary: counts by type, users, size and speed. */
static void print_text(const char *out, const ulm_synth_world *w, const ulm_synth_result *r, const char *base) {
    printf("wrote %llu events to %s (%.1f MB) in %.2f s, %.2f M events/s\n", (unsigned long long)r->events, out,
           r->bytes / 1e6, r->seconds, r->seconds > 0 ? r->events / r->seconds / 1e6 : 0.0);
    printf("  view %llu  cart %llu  purchase %llu  return %llu  search %llu\n", (unsigned long long)r->by_type[0],
           (unsigned long long)r->by_type[1], (unsigned long long)r->by_type[2], (unsigned long long)r->by_type[3],
           (unsigned long long)r->by_type[4]);
    printf("  users %llu (active %llu, churned within the period %llu), items %llu, days %llu, seed %llu\n",
           (unsigned long long)w->p.users, (unsigned long long)r->active_users, (unsigned long long)r->churned_users,
           (unsigned long long)w->p.items, (unsigned long long)w->p.days, (unsigned long long)w->p.seed);
    printf("  truth: %s.truth.json, %s.truth.users.csv, %s.truth.items.csv\n", base, base, base);
}

/* JSON summary, one object. */
static void print_json(const char *out, const ulm_synth_world *w, const ulm_synth_result *r, const char *base) {
    ulm_sb b = {0};
    ulm_sb_printf(&b, "{\"out\":");
    ulm_sb_json_str(&b, out, strlen(out));
    ulm_sb_printf(&b, ",\"events\":%llu,\"by_type\":{", (unsigned long long)r->events);
    for (int k = 0; k < 5; k++)
        ulm_sb_printf(&b, "%s\"%s\":%llu", k ? "," : "", ulm_event_type_name(k), (unsigned long long)r->by_type[k]);
    ulm_sb_printf(&b,
                  "},\"users\":%llu,\"active_users\":%llu,\"churned_users\":%llu,\"items\":%llu,\"days\":%llu,"
                  "\"seed\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"events_per_second\":%.0f,\"truth\":{",
                  (unsigned long long)w->p.users, (unsigned long long)r->active_users,
                  (unsigned long long)r->churned_users, (unsigned long long)w->p.items, (unsigned long long)w->p.days,
                  (unsigned long long)w->p.seed, (unsigned long long)r->bytes, r->seconds,
                  r->seconds > 0 ? r->events / r->seconds : 0.0);
    static const char *const keys[3] = {"json", "users", "items"};
    static const char *const suffix[3] = {".truth.json", ".truth.users.csv", ".truth.items.csv"};
    for (int i = 0; i < 3; i++) {
        ulm_sb name = {0};
        ulm_sb_printf(&name, "%s%s", base, suffix[i]);
        ulm_sb_printf(&b, "%s\"%s\":", i ? "," : "", keys[i]);
        if (name.s) ulm_sb_json_str(&b, name.s, name.len);
        ulm_sb_free(&name);
    }
    ulm_sb_printf(&b, "}}\n");
    if (b.s) fputs(b.s, stdout);
    ulm_sb_free(&b);
}

int ulm_cmd_synth(int argc, char **argv) {
    ulm_opt opts[O_N] = {
        [O_OUT] = {"out", true, NULL},           [O_USERS] = {"users", true, NULL},
        [O_ITEMS] = {"items", true, NULL},       [O_DAYS] = {"days", true, NULL},
        [O_SEED] = {"seed", true, NULL},         [O_START] = {"start", true, NULL},
        [O_CATS] = {"categories", true, NULL},   [O_ZIPF] = {"zipf", true, NULL},
        [O_SESSIONS] = {"sessions", true, NULL}, [O_THREADS] = {"threads", true, NULL},
        [O_JSON] = {"json", false, NULL},
    };
    ulm_args a;
    int pr = ulm_args_parse(&a, argc, argv, opts, O_N, usage);
    if (pr) return pr == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    if (a.npos) {
        ulm_errorf("synth", "unexpected argument '%s' (the output file goes after --out)", a.pos[0]);
        return ULM_EXIT_USAGE;
    }
    const char *out = opts[O_OUT].value;
    if (!out || !*out) {
        ulm_errorf("synth", "missing --out FILE (where to write the event log)");
        return ULM_EXIT_USAGE;
    }
    ulm_synth_params p = ulm_synth_params_init();
    uint64_t cats, threads;
    if (!ulm_opt_u64(opts, O_N, "users", p.users, &p.users) || !ulm_opt_u64(opts, O_N, "items", p.items, &p.items) ||
        !ulm_opt_u64(opts, O_N, "days", p.days, &p.days) || !ulm_opt_u64(opts, O_N, "seed", p.seed, &p.seed) ||
        !ulm_opt_u64(opts, O_N, "categories", 0, &cats) || !ulm_opt_u64(opts, O_N, "threads", 0, &threads) ||
        !ulm_opt_f64(opts, O_N, "zipf", p.zipf, &p.zipf) ||
        !ulm_opt_f64(opts, O_N, "sessions", p.sessions_per_day, &p.sessions_per_day))
        return ULM_EXIT_USAGE;
    if (cats > 100000 || threads > 1000) {
        ulm_errorf("synth", "%s", cats > 100000 ? "--categories is too large" : "--threads is too large");
        return ULM_EXIT_USAGE;
    }
    p.categories = (uint32_t)cats;
    p.threads = (uint32_t)threads;
    if (opts[O_START].value && !ulm_synth_parse_date(opts[O_START].value, &p.start_day)) {
        ulm_errorf("synth", "--start expects a date YYYY-MM-DD, got '%s'", opts[O_START].value);
        return ULM_EXIT_USAGE;
    }
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        ulm_errorf("synth", "--out %s is a directory; give a file name such as %s/events.csv", out, out);
        return ULM_EXIT_FAIL;
    }
    double t0 = ulm_now();
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_synth_world w;
    ulm_status s = ulm_synth_world_build(&w, &p, &d);
    if (s != ULM_OK) {
        ulm_errorf("synth", "%s", d.message);
        ulm_synth_world_free(&w);
        return s == ULM_ERR_RANGE ? ULM_EXIT_USAGE : ULM_EXIT_FAIL;
    }
    ulm_synth_result r;
    s = ulm_synth_run(&w, out, &r, &d);
    if (s != ULM_OK) {
        ulm_errorf("synth", "%s", d.message[0] ? d.message : ulm_status_str(s));
        ulm_synth_world_free(&w);
        return ULM_EXIT_FAIL;
    }
    r.seconds = ulm_now() - t0; /* the whole command, world building included */
    char *base = ulm_synth_truth_base(out);
    if (opts[O_JSON].value)
        print_json(out, &w, &r, base ? base : out);
    else
        print_text(out, &w, &r, base ? base : out);
    free(base);
    ulm_synth_world_free(&w);
    return ULM_EXIT_OK;
}
