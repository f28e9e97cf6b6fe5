/* main.c: the `ulm` command: dispatches to one subcommand per file (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"ingest", ulm_cmd_ingest, "read CSV/TSV/JSON Lines event logs (plain or .gz) into an event store"},
    {"synth", ulm_cmd_synth, "write a realistic synthetic event log with its ground truth"},
    {"train", ulm_cmd_train, "train models from an event store and export a model bundle (.ulm)"},
    {"recommend", ulm_cmd_recommend, "top-K recommendations for a user from a model bundle"},
    {"predict", ulm_cmd_predict, "churn probabilities and reasons per customer or CSV row (ulm predict churn)"},
    {"profile", ulm_cmd_profile, "one row of profile features per customer (events before --as-of only)"},
    {"segment", ulm_cmd_segment, "RFM and k-means segments, lifecycle stages and CLV per customer, with a summary"},
    {"clv", ulm_cmd_clv, "customer lifetime value: BG/NBD, Pareto/NBD, Gamma-Gamma fit, predict, holdout eval"},
    {"eval", ulm_cmd_eval, "measure a model offline: `ulm eval churn` (tabular CSV), `ulm eval recs` (ranking)"},
    {"tune", ulm_cmd_tune, "choose a recommender's parameters on a validation split (`ulm tune recs`)"},
    {"alerts", ulm_cmd_alerts, "customers whose churn risk crossed a threshold, optionally POSTed to a webhook"},
    {"campaign", ulm_cmd_campaign, "retention offers per customer under a budget with a control group; measured lift"},
    {"dashboard", ulm_cmd_dashboard, "the operations dashboard of a run: a static page with its data (data.json)"},
    {"score", ulm_cmd_score, "one visitor history in: items, churn, CLV, segment, stage and offer out (as model.score)"},
    {"import", ulm_cmd_import, "convert an XGBoost JSON model into a bundle's churn model (ulm import xgboost)"},
    {"pipeline", ulm_cmd_pipeline, "one automated run: ingest new files, retrain on schedule, gate, publish (docs/pipeline.md)"},
    {"inspect", ulm_cmd_inspect, "list a bundle's or store's sections and metadata, verify checksums"},
    {"version", ulm_cmd_version, "print the version and the compute backends of this build"},
};

static void usage(FILE *f) {
    fprintf(f, "ulm %s: a user-lifecycle engine for online shops\n\n"
               "usage: ulm <command> [options]    (ulm <command> --help for details)\n\ncommands:\n",
            ULM_VERSION_STRING);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return ULM_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return ULM_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) return ulm_cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ulm: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return ULM_EXIT_USAGE;
}
