/* cmd_score.c: `ulm score MODEL --input FILE.jsonl`: every visitor history in the file scored by
 * ulm_score (core/include/ulm/ulm_score.h) through the same JSON code as model.score in the wasm builds
 * (wasm/shim_score.c), one JSON answer per input line with the same keys (docs/api-js.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "civil.h"
#include "cli.h"
#include "commands.h"
#include "score_json.h"
#include "ulm/ulm_model.h"

static const char usage[] =
    "usage: ulm score MODEL.ulm --input FILE.jsonl [--k N] [--now DATE] [--out FILE] [--json]\n\n"
    "Scores each line of FILE.jsonl, a JSON object such as\n"
    "  {\"history\":[{\"item\":\"85123A\",\"type\":\"purchase\",\"time\":1323000000,\"price\":2.55,\"qty\":6}],\n"
    "   \"user\":\"17850\",\"queries\":[\"mug\"],\"k\":10,\"now\":1323500000}\n"
    "into one JSON line with the top-K items and their reasons, churn risk with reasons, P(alive), expected\n"
    "purchases and CLV, RFM and k-means segment, lifecycle stage and the next best offer: each part the\n"
    "bundle has a model for, the same answer as model.score() in the browser (docs/api-js.md).\n"
    "  --input FILE   JSON Lines of requests ('-' for standard input)\n"
    "  --k N          items per answer when a line gives no \"k\" (default 10)\n"
    "  --now DATE     YYYY-MM-DD or Unix seconds, for lines without \"now\" (default: one second after the\n"
    "                 line's latest event)\n"
    "  --out FILE     write the answers there (atomically) instead of standard output\n"
    "  --json         with --out: print a JSON summary\n";

static char *read_all(const char *path, size_t *len) {
    if (strcmp(path, "-") != 0) {
        char *text = NULL;
        ulm_diag d;
        if (ulm_file_read(path, true, &text, len, &d) != ULM_OK) {
            ulm_errorf("score", "%s", d.message);
            return NULL;
        }
        return text;
    }
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (size_t got; b && (got = fread(b + n, 1, cap - n - 1, stdin)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) free(b);
            b = nb;
        }
    }
    if (b) b[n] = 0;
    *len = n;
    return b;
}

int ulm_cmd_score(int argc, char **argv) {
    ulm_opt opts[] = {{"input", true, NULL}, {"k", true, NULL}, {"now", true, NULL}, {"out", true, NULL}, {"json", false, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *input = ulm_opt_get(opts, no, "input"), *out = ulm_opt_get(opts, no, "out"), *now_s = ulm_opt_get(opts, no, "now");
    if (a.npos != 1 || !input) {
        fprintf(stderr, "ulm score: expected MODEL.ulm and --input FILE.jsonl\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    uint64_t k;
    if (!ulm_opt_u64(opts, no, "k", 10, &k) || k > 100000) {
        ulm_errorf("score", "--k must be a whole number 0..100000");
        return ULM_EXIT_USAGE;
    }
    int64_t now = 0;
    if (now_s) {
        char *end;
        long long v = strtoll(now_s, &end, 10);
        if (!*end && end != now_s) now = v;
        else if (!ulm_parse_date(now_s, strlen(now_s), &now)) {
            ulm_errorf("score", "--now '%s' is not YYYY-MM-DD or Unix seconds", now_s);
            return ULM_EXIT_USAGE;
        }
    }
    double t0 = ulm_now();
    char *buf;
    size_t len;
    ulm_diag d;
    ulm_model *m = NULL;
    ulm_status s = ulm_file_read(a.pos[0], false, &buf, &len, &d);
    if (s == ULM_OK) {
        s = ulm_model_load(buf, len, NULL, &m, &d);
        free(buf);
    }
    if (s != ULM_OK) {
        ulm_errorf("score", "%s: %s: %s", a.pos[0], ulm_status_name(s), d.message);
        return ULM_EXIT_FAIL;
    }
    size_t tlen = 0, lines = 0, line = 0;
    char *text = read_all(input, &tlen);
    int rc = ULM_EXIT_FAIL;
    ulm_sb b = {0};
    if (!text) goto done;
    for (char *p = text, *end = text + tlen; p < end;) {
        char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        *e = 0;
        line++;
        char *l = p;
        p = e + 1;
        while (*l == ' ' || *l == '\t' || *l == '\r') l++;
        if (!*l) continue;
        cJSON *req = cJSON_Parse(l);
        if (!cJSON_IsObject(req)) {
            ulm_errorf("score", "%s:%zu: not a JSON object", input, line);
            cJSON_Delete(req);
            goto done;
        }
        if (!cJSON_GetObjectItemCaseSensitive(req, "k")) cJSON_AddNumberToObject(req, "k", (double)k);
        if (now_s && !cJSON_GetObjectItemCaseSensitive(req, "now")) cJSON_AddNumberToObject(req, "now", (double)now);
        ulm_status st;
        char msg[200];
        cJSON *res = ulm_score_json(m, req, &st, msg, sizeof msg);
        cJSON_Delete(req);
        if (!res) {
            ulm_errorf("score", "%s:%zu: %s: %s", input, line, ulm_status_name(st), msg);
            goto done;
        }
        char *js = cJSON_PrintUnformatted(res);
        cJSON_Delete(res);
        if (!js) goto done;
        ulm_sb_printf(&b, "%s\n", js);
        cJSON_free(js);
        lines++;
    }
    if (b.oom) goto done;
    if (out) {
        if (ulm_file_write_atomic(out, b.s ? b.s : "", b.len, &d) != ULM_OK) {
            ulm_errorf("score", "%s", d.message);
            goto done;
        }
        if (ulm_opt_get(opts, no, "json")) {
            ulm_sb j = {0};
            ulm_sb_printf(&j, "{\"lines\":%zu,\"out\":", lines);
            ulm_sb_json_str(&j, out, strlen(out));
            ulm_sb_printf(&j, ",\"seconds\":%.3f}\n", ulm_now() - t0);
            if (j.s) fputs(j.s, stdout);
            ulm_sb_free(&j);
        } else {
            printf("scored %zu histories into %s\n", lines, out);
        }
    } else if (b.s) {
        fwrite(b.s, 1, b.len, stdout);
    }
    rc = ULM_EXIT_OK;
done:
    ulm_sb_free(&b);
    free(text);
    ulm_model_free(m);
    return rc;
}
