/* cmd_train.c: placeholder until the command lands. */
#include "cli.h"
#include "commands.h"
int ulm_cmd_train(int argc, char **argv) { ulm_errorf("train", "not built yet"); return ULM_EXIT_FAIL; }
