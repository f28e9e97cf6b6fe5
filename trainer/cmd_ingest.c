/* cmd_ingest.c: `ulm ingest`: event logs (CSV, TSV, JSON Lines; plain or gzip) into an event
 * store, appending to it when it exists. The work is in ingest_*.c and store.c; this file
 * parses the options, orders the steps and makes sure a failure leaves the store untouched. */
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "ingest.h"
#include "store.h"

static const char usage[] =
    "usage: ulm ingest INPUT... --out STORE [--map field=column,...] [--strict] [--json] [--format csv|tsv|jsonl]\n"
    "\n"
    "Reads event logs (CSV, TSV or JSON Lines, plain or .gz) into the event store STORE, appending\n"
    "when it exists. Columns are recognised by name (user_id, CustomerID, StockCode, InvoiceDate, ...);\n"
    "--map names them explicitly. Every row is counted as kept, duplicate or rejected (with a reason).\n"
    "\n"
    "options:\n"
    "  --out STORE        event store to create or append to (written atomically, only on success)\n"
    "  --map F=COL,...    column for a field; fields: user, item, time, type, quantity, price, order,\n"
    "                     text, query (e.g. --map user=visitor,item=sku)\n"
    "  --strict           stop at the first bad row: exit 1 with FILE:LINE: column 'X': reason\n"
    "  --format FMT       csv, tsv or jsonl for every input (default: by extension, else by content)\n"
    "  --json             print the report as one JSON object\n"
    "\n"
    "Details: docs/ingest.md. Exit codes: 0 ok, 1 failure (bad file, strict row, I/O), 2 usage.\n";

/* Maps a --format value to ulm_format, or -1. */
static int parse_format(const char *v) {
    if (strcmp(v, "csv") == 0) return ULM_FMT_CSV;
    if (strcmp(v, "tsv") == 0) return ULM_FMT_TSV;
    if (strcmp(v, "jsonl") == 0 || strcmp(v, "ndjson") == 0 || strcmp(v, "json") == 0) return ULM_FMT_JSONL;
    return -1;
}

int ulm_cmd_ingest(int argc, char **argv) {
    ulm_opt opts[] = {{"out", true, NULL},
                      {"map", true, NULL},
                      {"strict", false, NULL},
                      {"json", false, NULL},
                      {"format", true, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    ulm_args a;
    int rc = ulm_args_parse(&a, argc, argv, opts, nopts, usage);
    if (rc == 1) return ULM_EXIT_OK;
    if (rc != 0) return ULM_EXIT_USAGE;
    const char *out = ulm_opt_get(opts, nopts, "out");
    const char *fmt = ulm_opt_get(opts, nopts, "format");
    ulm_ingest_opts io = {.map = ulm_opt_get(opts, nopts, "map"),
                          .strict = ulm_opt_get(opts, nopts, "strict") != NULL,
                          .format = -1,
                          .progress = true};
    bool json = ulm_opt_get(opts, nopts, "json") != NULL;
    if (a.npos == 0 || !out) {
        ulm_errorf("ingest", "%s\n\n%s", a.npos == 0 ? "no input files given" : "--out STORE is required", usage);
        return ULM_EXIT_USAGE;
    }
    if (fmt && (io.format = parse_format(fmt)) < 0) {
        ulm_errorf("ingest", "--format must be csv, tsv or jsonl, not '%s'", fmt);
        return ULM_EXIT_USAGE;
    }
    ulm_diag d;
    if (ulm_ingest_check_map(io.map, &d) != ULM_OK) {
        ulm_errorf("ingest", "%s", d.message);
        return ULM_EXIT_USAGE;
    }
    double t0 = ulm_now();
    ulm_ingest ing;
    ulm_ingest_init(&ing, &io);
    ulm_store_extra extra = {0};
    ulm_sb sources = {0}, report = {0};
    int exit_code = ULM_EXIT_FAIL;
    bool appended = access(out, F_OK) == 0;
    if (appended) {
        ulm_events old;
        ulm_events_init(&old);
        if (ulm_store_read_ex(out, &old, &extra, &d) != ULM_OK) {
            ulm_errorf("ingest", "cannot append to %s: %s (%s)", out, d.message, ulm_status_name(d.status));
            goto done;
        }
        uint32_t *et = extra.event_text;
        extra.event_text = NULL; /* now owned by ing */
        if (ulm_ingest_adopt(&ing, &old, et, &d) != ULM_OK) {
            ulm_errorf("ingest", "%s", ing.msg);
            goto done;
        }
    }
    for (int i = 0; i < a.npos; i++) {
        ulm_status s = ulm_ingest_file(&ing, a.pos[i], &d);
        if (s != ULM_OK) {
            ulm_errorf("ingest", "%s", ing.msg[0] ? ing.msg : d.message);
            if (s == ULM_ERR_MISUSE) exit_code = ULM_EXIT_USAGE;
            fprintf(stderr, "ulm ingest: nothing written to %s\n", out);
            goto done;
        }
    }
    ulm_ingest_sources_json(&ing, extra.sources, &sources);
    uint64_t bytes = 0;
    if (sources.oom || ulm_store_write_ex(out, &ing.ev, ing.etext, sources.s, NULL, &bytes, &d) != ULM_OK) {
        ulm_errorf("ingest", "cannot write %s: %s", out, sources.oom ? "out of memory" : d.message);
        goto done;
    }
    ulm_store_summary st = {.path = out,
                            .events = ing.ev.n,
                            .users = ing.ev.users.n,
                            .items = ing.ev.items.n,
                            .bytes = bytes,
                            .appended = appended};
    double secs = ulm_now() - t0;
    if (json)
        ulm_ingest_report_json(&ing, &st, secs, &report);
    else
        ulm_ingest_report_text(&ing, &st, secs, &report);
    if (report.s) fputs(report.s, stdout);
    exit_code = ULM_EXIT_OK;
done:
    ulm_sb_free(&sources);
    ulm_sb_free(&report);
    ulm_store_extra_free(&extra);
    ulm_ingest_free(&ing);
    return exit_code;
}
