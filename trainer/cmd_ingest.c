/* cmd_ingest.c: placeholder until the command lands. */
#include "cli.h"
#include "commands.h"
int ulm_cmd_ingest(int argc, char **argv) { ulm_errorf("ingest", "not built yet"); return ULM_EXIT_FAIL; }
