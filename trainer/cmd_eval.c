/* cmd_eval.c: `ulm eval TASK`: dispatches to the task's own evaluation (cmd_eval_*.c). */
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char usage[] =
    "usage: ulm eval TASK [options]    (ulm eval TASK --help for the task's options)\n\n"
    "tasks:\n"
    "  churn   train churn models on one tabular CSV and measure AUC, PR-AUC, log-loss, accuracy on another\n"
    "  recs    offline ranking metrics of a recommender (precision, recall, NDCG, MAP, hit rate, coverage)\n";

int ulm_cmd_eval(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "churn") == 0) return ulm_cmd_eval_churn(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "recs") == 0) return ulm_cmd_eval_recs(argc, argv);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return ULM_EXIT_OK;
    }
    if (argc >= 2) fprintf(stderr, "ulm eval: unknown task '%s'\n\n", argv[1]);
    fputs(usage, stderr);
    return ULM_EXIT_USAGE;
}
