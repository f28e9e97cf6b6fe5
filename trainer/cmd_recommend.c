/* cmd_recommend.c: placeholder until the command lands. */
#include "cli.h"
#include "commands.h"
int ulm_cmd_recommend(int argc, char **argv) { ulm_errorf("recommend", "not built yet"); return ULM_EXIT_FAIL; }
