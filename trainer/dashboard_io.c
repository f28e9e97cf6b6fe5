/* dashboard_io.c: the files `ulm dashboard` reads besides the store and the bundle: the previous run's
 * data.json + stages.tsv, `ulm eval recs --json` output and `ulm campaign plan --json` output. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "dashboard_data.h"

void ulm_dash_prev_init(ulm_dash_prev *p) {
    memset(p, 0, sizeof *p);
    ulm_dict_init(&p->ids);
}

void ulm_dash_prev_free(ulm_dash_prev *p) {
    ulm_dict_free(&p->ids);
    free(p->stage);
    ulm_dash_prev_init(p);
}

/* The flow state of a stage name in stages.tsv, or -1. */
static int stage_of(const char *s, size_t n) {
    for (int k = 0; k < ULM_STAGE_COUNT; k++)
        if (strlen(ulm_stage_name(k)) == n && memcmp(s, ulm_stage_name(k), n) == 0) return k;
    if (n == 11 && memcmp(s, "no purchase", 11) == 0) return ULM_DASH_NO_PURCHASE;
    return -1;
}

ulm_status ulm_dash_prev_read(const char *data_json, ulm_dash_prev *p, ulm_diag *diag) {
    char *text = NULL;
    size_t len = 0;
    ulm_status s = ulm_file_read(data_json, false, &text, &len, diag);
    if (s != ULM_OK) return s;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *aso = cJSON_GetObjectItemCaseSensitive(root, "as_of");
    if (!root) s = ulm_diag_set(diag, ULM_ERR_PARSE, "", 0, "%s: not JSON", data_json);
    else if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, ULM_DASH_FORMAT) != 0)
        s = ulm_diag_set(diag, ULM_ERR_PARSE, "", 0, "%s: \"format\" is not \"%s\"", data_json, ULM_DASH_FORMAT);
    else if (!cJSON_IsNumber(ver) || ver->valuedouble != ULM_DASH_VERSION)
        s = ulm_diag_set(diag, ULM_ERR_VERSION, "", 0, "%s: dashboard data version %g, this ulm reads version %d",
                         data_json, cJSON_IsNumber(ver) ? ver->valuedouble : NAN, ULM_DASH_VERSION);
    else if (!cJSON_IsString(aso) || strlen(aso->valuestring) >= sizeof p->as_of)
        s = ulm_diag_set(diag, ULM_ERR_PARSE, "", 0, "%s: \"as_of\" missing", data_json);
    else snprintf(p->as_of, sizeof p->as_of, "%s", aso->valuestring);
    cJSON_Delete(root);
    if (s != ULM_OK) return s;
    /* stages.tsv beside it */
    char path[4096];
    const char *slash = strrchr(data_json, '/');
    int dl = slash ? (int)(slash - data_json + 1) : 0;
    if (snprintf(path, sizeof path, "%.*sstages.tsv", dl, data_json) >= (int)sizeof path)
        return ulm_diag_set(diag, ULM_ERR_RANGE, "", 0, "%s: path too long", data_json);
    if ((s = ulm_file_read(path, false, &text, &len, diag)) != ULM_OK) return s;
    size_t line = 0;
    for (char *q = text, *end = text + len; q < end && s == ULM_OK;) {
        char *e = memchr(q, '\n', (size_t)(end - q));
        if (!e) e = end;
        line++;
        char *tab = memchr(q, '\t', (size_t)(e - q));
        if (line > 1 && e > q) {
            int st = tab ? stage_of(tab + 1, (size_t)(e - tab - 1)) : -1;
            bool added = false;
            uint32_t k = st < 0 ? ULM_NONE : ulm_dict_intern(&p->ids, q, (size_t)(tab - q), &added);
            if (st < 0) s = ulm_diag_set(diag, ULM_ERR_PARSE, "", line, "%s:%zu: expected customer<TAB>stage", path, line);
            else if (k == ULM_NONE) s = ulm_diag_set(diag, ULM_ERR_NOMEM, "", 0, "out of memory");
            else {
                if (k >= p->cap) {
                    size_t nc = p->cap ? 2 * p->cap : 1024;
                    uint8_t *ns = realloc(p->stage, nc);
                    if (!ns) s = ulm_diag_set(diag, ULM_ERR_NOMEM, "", 0, "out of memory");
                    else p->stage = ns, p->cap = nc;
                }
                if (s == ULM_OK) p->stage[k] = (uint8_t)st;
            }
        }
        q = e + 1;
    }
    free(text);
    if (s == ULM_OK) p->present = true;
    return s;
}

static ulm_status bad(ulm_diag *d, const char *path, const char *what) {
    return ulm_diag_set(d, ULM_ERR_PARSE, "", 0, "%s: %s", path, what);
}

/* Parses path as JSON; NULL with diag set on failure. */
static cJSON *parse_file(const char *path, ulm_diag *diag) {
    char *text = NULL;
    size_t len = 0;
    if (ulm_file_read(path, false, &text, &len, diag) != ULM_OK) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!j) bad(diag, path, "not JSON");
    return j;
}

ulm_status ulm_dash_read_recs_eval(const char *path, char **out, ulm_diag *diag) {
    cJSON *j = parse_file(path, diag);
    if (!j) return diag->status;
    ulm_status s = ULM_OK;
    if (cJSON_IsObject(j)) { /* one object: wrap it */
        cJSON *arr = cJSON_CreateArray();
        if (!arr || !cJSON_AddItemToArray(arr, j)) s = bad(diag, path, "out of memory");
        j = arr;
    } else if (!cJSON_IsArray(j)) s = bad(diag, path, "expected the object of `ulm eval recs --json` or an array of them");
    const cJSON *o;
    cJSON_ArrayForEach(o, j) {
        if (s != ULM_OK) break;
        const cJSON *algo = cJSON_GetObjectItemCaseSensitive(o, "algo");
        const cJSON *ndcg = cJSON_GetObjectItemCaseSensitive(o, "ndcg@10");
        if (!cJSON_IsString(algo) || !cJSON_IsNumber(ndcg))
            s = bad(diag, path, "every result needs \"algo\" and \"ndcg@10\" (ulm eval recs --json with --k 10)");
    }
    if (s == ULM_OK && cJSON_GetArraySize(j) == 0) s = bad(diag, path, "no results");
    if (s == ULM_OK && !(*out = cJSON_PrintUnformatted(j))) s = bad(diag, path, "out of memory");
    cJSON_Delete(j);
    return s;
}

ulm_status ulm_dash_read_campaign(const char *path, char **out, ulm_diag *diag) {
    cJSON *j = parse_file(path, diag);
    if (!j) return diag->status;
    ulm_status s = ULM_OK;
    static const char *const need[] = {"budget", "spend", "treated", "control", "expected_net"};
    if (!cJSON_IsObject(j)) s = bad(diag, path, "expected the object of `ulm campaign plan --json`");
    for (size_t i = 0; s == ULM_OK && i < sizeof need / sizeof need[0]; i++)
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, need[i])) &&
            !(i == 0 && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, need[i]))))
            s = ulm_diag_set(diag, ULM_ERR_PARSE, "", 0, "%s: \"%s\" missing or not a number", path, need[i]);
    if (s == ULM_OK && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "offers")))
        s = bad(diag, path, "\"offers\" missing");
    /* the per-customer rows stay in the plan file */
    if (s == ULM_OK && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "plan"))) cJSON_DeleteItemFromObject(j, "plan");
    if (s == ULM_OK && !(*out = cJSON_PrintUnformatted(j))) s = bad(diag, path, "out of memory");
    cJSON_Delete(j);
    return s;
}
