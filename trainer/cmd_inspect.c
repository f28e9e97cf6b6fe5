/* cmd_inspect.c: placeholder until the command lands. */
#include "cli.h"
#include "commands.h"
int ulm_cmd_inspect(int argc, char **argv) { ulm_errorf("inspect", "not built yet"); return ULM_EXIT_FAIL; }
