/* cmd_synth.c: placeholder until the command lands. */
#include "cli.h"
#include "commands.h"
int ulm_cmd_synth(int argc, char **argv) { ulm_errorf("synth", "not built yet"); return ULM_EXIT_FAIL; }
