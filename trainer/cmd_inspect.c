/* cmd_inspect.c: `ulm inspect FILE`: header, sections, metadata and checks of a bundle or store. */
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "store.h"

static const char usage[] =
    "usage: ulm inspect FILE [--json]\n\n"
    "Validates a model bundle (.ulm) or an event store: header, section table, alignment, padding,\n"
    "every section's CRC32C and, for bundles, the model's contents. Lists sections and metadata.\n"
    "Exit status 0 when the file is sound, 1 with the error (status, section, byte offset) otherwise.\n\n"
    "  --json   one JSON object on stdout\n";

static const char *dtype_name(uint32_t dt) {
    static const char *const names[] = {"bytes", "u8", "i8", "u16", "u32", "i64", "f32", "f64", "f16", "q8_row", "strtab"};
    return dt < sizeof names / sizeof names[0] ? names[dt] : "unknown";
}

/* Validates the contents beyond the container: a model must load; a store must read back. */
static ulm_status check_contents(const char *path, int kind, const char *buf, size_t len, ulm_diag *d) {
    if (kind == ULM_KIND_MODEL) {
        ulm_model *m;
        ulm_load_opts o = ulm_load_opts_init();
        o.flags |= ULM_LOAD_BORROW;
        ulm_status s = ulm_model_load(buf, len, &o, &m, d);
        ulm_model_free(m);
        return s;
    }
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_status s = ulm_store_read(path, &ev, d);
    ulm_events_free(&ev);
    return s;
}

/* Prints the failure in both output modes and returns the exit code. */
static int fail(bool json, const char *path, const ulm_diag *d, int status) {
    if (json) {
        ulm_sb b = {0};
        ulm_sb_printf(&b, "{\"file\":");
        ulm_sb_json_str(&b, path, strlen(path));
        ulm_sb_printf(&b, ",\"ok\":false,\"status\":\"%s\",\"section\":\"%s\",\"offset\":%llu,\"message\":",
                      ulm_status_name(status), d->section, (unsigned long long)d->offset);
        ulm_sb_json_str(&b, d->message, strlen(d->message));
        ulm_sb_printf(&b, "}\n");
        fputs(b.s, stdout);
        ulm_sb_free(&b);
    }
    ulm_errorf("inspect", "%s: %s: %s%s%s (byte %llu)", path, ulm_status_name(status), d->message,
               d->section[0] ? " in section " : "", d->section, (unsigned long long)d->offset);
    return ULM_EXIT_FAIL;
}

int ulm_cmd_inspect(int argc, char **argv) {
    ulm_opt opts[] = {{"json", false, NULL}};
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, 1, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    if (a.npos != 1) {
        fprintf(stderr, "ulm inspect: expected one FILE\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    bool json = ulm_opt_get(opts, 1, "json") != NULL;
    const char *path = a.pos[0];
    char *buf;
    size_t len;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_status s = ulm_file_read(path, false, &buf, &len, &d);
    if (s != ULM_OK) return fail(json, path, &d, s);
    int kind = len >= 4 && buf[3] == ULM_KIND_STORE ? ULM_KIND_STORE : ULM_KIND_MODEL;
    ulm_bundle *b;
    s = ulm_bundle_open(buf, len, kind, ULM_OPEN_DEEP, NULL, &b, &d);
    if (s == ULM_OK) {
        s = check_contents(path, kind, buf, len, &d);
        if (s != ULM_OK) ulm_bundle_close(b);
    }
    if (s != ULM_OK) {
        free(buf);
        return fail(json, path, &d, s);
    }
    int major, minor;
    ulm_bundle_version(b, &major, &minor);
    ulm_sb o = {0};
    const char *kind_s = kind == ULM_KIND_MODEL ? "model" : "store";
    if (json) {
        ulm_sb_printf(&o, "{\"file\":");
        ulm_sb_json_str(&o, path, strlen(path));
        ulm_sb_printf(&o, ",\"ok\":true,\"kind\":\"%s\",\"version\":\"%d.%d\",\"bytes\":%zu,\"sections\":[", kind_s,
                      major, minor, len);
    } else {
        ulm_sb_printf(&o, "%s: ulm %s, format %d.%d, %zu bytes, all checksums OK\n\nsections:\n", path, kind_s, major,
                      minor, len);
        ulm_sb_printf(&o, "  %-4s  %-6s  %10s  %6s  %12s  %10s  %s\n", "tag", "dtype", "rows", "cols", "bytes", "crc32c",
                      "flags");
    }
    for (uint32_t i = 0; i < ulm_bundle_section_count(b); i++) {
        ulm_section s2;
        ulm_bundle_section_at(b, i, &s2);
        const char *req = (s2.flags & ULM_SECTION_REQUIRED) ? "required" : "optional";
        if (json)
            ulm_sb_printf(&o,
                          "%s{\"tag\":\"%s\",\"dtype\":\"%s\",\"rows\":%u,\"cols\":%u,\"offset\":%llu,\"bytes\":%llu,"
                          "\"version\":%u,\"required\":%s,\"crc32c\":\"%08x\"}",
                          i ? "," : "", s2.tag, dtype_name(s2.dtype), s2.rows, s2.cols, (unsigned long long)s2.offset,
                          (unsigned long long)s2.size, s2.version, (s2.flags & ULM_SECTION_REQUIRED) ? "true" : "false",
                          s2.crc32c);
        else
            ulm_sb_printf(&o, "  %-4s  %-6s  %10u  %6u  %12llu  %08x  %s\n", s2.tag, dtype_name(s2.dtype), s2.rows,
                          s2.cols, (unsigned long long)s2.size, s2.crc32c, req);
    }
    ulm_sb_printf(&o, json ? "],\"meta\":{" : "\nmetadata:\n");
    for (uint32_t i = 0; i < ulm_bundle_meta_count(b); i++) {
        const char *k, *v;
        ulm_bundle_meta_at(b, i, &k, &v);
        if (json) {
            ulm_sb_printf(&o, "%s\"%s\":", i ? "," : "", k); /* keys are [a-z0-9._-] only */
            ulm_sb_json_str(&o, v, strlen(v));
        } else {
            ulm_sb_printf(&o, "  %-28s %s\n", k, v);
        }
    }
    if (json) ulm_sb_printf(&o, "}}\n");
    fputs(o.s, stdout);
    ulm_sb_free(&o);
    ulm_bundle_close(b);
    free(buf);
    return ULM_EXIT_OK;
}
