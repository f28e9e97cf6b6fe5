/* cmd_version.c: `ulm version`: the version and which compute backends this build has. */
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "ulm_native.h"

int ulm_cmd_version(int argc, char **argv) {
    ulm_opt opts[] = {{"json", false, NULL}};
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, 1,
                           "usage: ulm version [--json]\n\nPrints the ulm version and the compute backends of this build.\n");
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    char blas[256], cuda[256];
    bool hb = ulm_blas_describe(blas, sizeof blas), hc = ulm_cuda_describe(cuda, sizeof cuda);
    if (ulm_opt_get(opts, 1, "json")) {
        ulm_sb b = {0};
        ulm_sb_printf(&b, "{\"version\":\"%s\",\"bundle_format\":\"%d.%d\",\"blas\":{\"available\":%s,\"detail\":",
                      ULM_VERSION_STRING, ULM_FORMAT_MAJOR, ULM_FORMAT_MINOR, hb ? "true" : "false");
        ulm_sb_json_str(&b, blas, strlen(blas));
        ulm_sb_printf(&b, "},\"cuda\":{\"available\":%s,\"detail\":", hc ? "true" : "false");
        ulm_sb_json_str(&b, cuda, strlen(cuda));
        ulm_sb_printf(&b, "}}\n");
        fputs(b.s, stdout);
        ulm_sb_free(&b);
    } else {
        printf("ulm %s (bundle format %d.%d)\nblas: %s\ncuda: %s\n", ULM_VERSION_STRING, ULM_FORMAT_MAJOR,
               ULM_FORMAT_MINOR, blas, cuda);
    }
    return ULM_EXIT_OK;
}
