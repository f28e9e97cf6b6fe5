/* cmd_import.c: `ulm import xgboost MODEL.json --into MODEL.ulm`: an XGBoost binary:logistic model as the
 * bundle's churn model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cJSON.h"
#include "churn_store.h"
#include "cli.h"
#include "commands.h"

static const char usage[] =
    "usage: ulm import xgboost MODEL.json --into MODEL.ulm [--json]\n\n"
    "Converts an XGBoost model saved as JSON (Booster.save_model('model.json'); objective binary:logistic,\n"
    "booster gbtree, numeric features) into the churn model of a bundle: predictions match XGBoost's.\n"
    "When MODEL.ulm exists its other sections are kept and its churn model (if any) is replaced; otherwise a\n"
    "bundle holding only the churn model (and an empty catalogue) is written. Feature names come from the\n"
    "model (feature_names) or are f0, f1, ...; `ulm predict churn MODEL.ulm --input FILE.csv` reads the CSV\n"
    "columns of those names. Categorical splits, other objectives and other boosters are refused.\n\n"
    "  --json   report as one JSON object\n";

/* A string member of an object, or NULL. */
static const char *str_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Reads a numeric JSON array of exactly n entries into ints or floats; false on a wrong shape. */
static bool read_array(const cJSON *o, const char *key, uint32_t n, int32_t *iv, float *fv, uint8_t *bv) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(a) || (uint32_t)cJSON_GetArraySize(a) != n) return false;
    uint32_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e)) return false;
        if (iv) iv[i] = (int32_t)e->valuedouble;
        if (fv) fv[i] = (float)e->valuedouble;
        if (bv) bv[i] = e->valuedouble != 0;
        i++;
    }
    return true;
}

/* Copies every section and metadata key of an existing bundle except the churn ones into w. */
static ulm_status copy_bundle(const char *path, ulm_writer *w, bool *had_churn, ulm_diag *d) {
    char *buf = NULL;
    size_t len = 0;
    ulm_status s = ulm_file_read(path, false, &buf, &len, d);
    if (s != ULM_OK) return s;
    ulm_bundle *b = NULL;
    s = ulm_bundle_open(buf, len, ULM_KIND_MODEL, ULM_OPEN_DEEP, NULL, &b, d);
    for (uint32_t i = 0; s == ULM_OK && i < ulm_bundle_section_count(b); i++) {
        ulm_section sec;
        ulm_bundle_section_at(b, i, &sec);
        if (strcmp(sec.tag, "META") == 0) continue;
        if (!strcmp(sec.tag, "CHRN") || !strcmp(sec.tag, "CHFN") || !strcmp(sec.tag, "CHCT")) {
            *had_churn = true;
            continue;
        }
        s = ulm_writer_section(w, sec.tag, (ulm_dtype)sec.dtype, sec.rows, sec.cols, sec.version, sec.flags, sec.data,
                               sec.size);
    }
    for (uint32_t i = 0; s == ULM_OK && i < ulm_bundle_meta_count(b); i++) {
        const char *k, *v;
        ulm_bundle_meta_at(b, i, &k, &v);
        if (strncmp(k, "churn.", 6) != 0) s = ulm_writer_meta(w, k, v);
    }
    ulm_bundle_close(b);
    free(buf);
    return s;
}

int ulm_cmd_import(int argc, char **argv) {
    ulm_opt opts[] = {{"into", true, NULL}, {"json", false, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *into = ulm_opt_get(opts, no, "into");
    if (a.npos != 2 || strcmp(a.pos[0], "xgboost") != 0 || !into) {
        fprintf(stderr, "ulm import: expected 'xgboost MODEL.json --into MODEL.ulm'\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    const char *src = a.pos[1];
    ulm_diag d;
    memset(&d, 0, sizeof d);
    char *text = NULL;
    size_t len = 0;
    if (ulm_file_read(src, true, &text, &len, &d) != ULM_OK) {
        ulm_errorf("import", "%s", d.message);
        return ULM_EXIT_FAIL;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    int rc = ULM_EXIT_FAIL;
    ulm_xgb_tree *trees = NULL;
    void **mem = NULL;
    uint32_t n_trees = 0, nf = 0;
    char **names = NULL;
    ulm_churn *m = NULL;
    ulm_writer *w = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
#define BAD(...) do { ulm_errorf("import", __VA_ARGS__); goto done; } while (0)
    if (!root) BAD("%s: not valid JSON (an XGBoost model saved with save_model('model.json') is expected)", src);
    const cJSON *learner = cJSON_GetObjectItemCaseSensitive(root, "learner");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(learner, "objective");
    const cJSON *gb = cJSON_GetObjectItemCaseSensitive(learner, "gradient_booster");
    const cJSON *lmp = cJSON_GetObjectItemCaseSensitive(learner, "learner_model_param");
    if (!learner || !obj || !gb || !lmp) BAD("%s: not an XGBoost JSON model (no learner/objective/gradient_booster)", src);
    const char *objective = str_of(obj, "name");
    if (!objective || strcmp(objective, "binary:logistic") != 0)
        BAD("%s: objective '%s' is not supported: only binary:logistic (a churn probability)", src,
            objective ? objective : "?");
    const char *booster = str_of(gb, "name");
    if (!booster || strcmp(booster, "gbtree") != 0)
        BAD("%s: booster '%s' is not supported: only gbtree", src, booster ? booster : "?");
    const char *ncls = str_of(lmp, "num_class"), *nfs = str_of(lmp, "num_feature"), *bss = str_of(lmp, "base_score");
    if (ncls && atoi(ncls) > 1) BAD("%s: a %s-class model is not supported", src, ncls);
    if (!nfs || atoi(nfs) <= 0 || atoi(nfs) > 1000000) BAD("%s: learner_model_param.num_feature is missing or bad", src);
    nf = (uint32_t)atoi(nfs);
    char *end = NULL;
    float base_score = bss ? strtof(bss, &end) : NAN;
    if (!bss || *end || !(base_score > 0 && base_score < 1)) BAD("%s: base_score '%s' is not a probability", src, bss ? bss : "?");
    /* XGBoost turns the base score into a margin in float: -log(1/p - 1) */
    float base_margin = -logf(1.0f / base_score - 1.0f);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(gb, "model");
    const cJSON *tarr = cJSON_GetObjectItemCaseSensitive(model, "trees");
    if (!cJSON_IsArray(tarr)) BAD("%s: no gradient_booster.model.trees array", src);
    n_trees = (uint32_t)cJSON_GetArraySize(tarr);
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(model, "tree_info");
    const cJSON *e;
    cJSON_ArrayForEach(e, info) if (!cJSON_IsNumber(e) || e->valuedouble != 0) BAD("%s: trees of several classes", src);
    trees = calloc((size_t)n_trees + 1, sizeof *trees);
    mem = calloc((size_t)n_trees * 6 + 1, sizeof *mem);
    if (!trees || !mem) BAD("out of memory");
    uint32_t t = 0;
    cJSON_ArrayForEach(e, tarr) {
        const cJSON *tp = cJSON_GetObjectItemCaseSensitive(e, "tree_param");
        const char *nns = str_of(tp, "num_nodes");
        int nn = nns ? atoi(nns) : 0;
        if (nn <= 0 || nn > (1 << 24)) BAD("%s: tree %u has no valid num_nodes", src, t);
        int32_t *left = malloc(sizeof(int32_t) * nn), *right = malloc(sizeof(int32_t) * nn),
                *feat = malloc(sizeof(int32_t) * nn), *stype = malloc(sizeof(int32_t) * nn);
        float *cond = malloc(sizeof(float) * nn), *hess = malloc(sizeof(float) * nn);
        uint8_t *dl = malloc((size_t)nn);
        mem[6 * t] = left, mem[6 * t + 1] = right, mem[6 * t + 2] = feat, mem[6 * t + 3] = cond, mem[6 * t + 4] = hess,
        mem[6 * t + 5] = dl;
        if (!left || !right || !feat || !cond || !hess || !dl || !stype) {
            free(stype);
            BAD("out of memory");
        }
        bool ok = read_array(e, "left_children", (uint32_t)nn, left, NULL, NULL) &&
                  read_array(e, "right_children", (uint32_t)nn, right, NULL, NULL) &&
                  read_array(e, "split_indices", (uint32_t)nn, feat, NULL, NULL) &&
                  read_array(e, "split_conditions", (uint32_t)nn, NULL, cond, NULL) &&
                  read_array(e, "default_left", (uint32_t)nn, NULL, NULL, dl) &&
                  read_array(e, "sum_hessian", (uint32_t)nn, NULL, hess, NULL);
        bool cat = false;
        if (ok && read_array(e, "split_type", (uint32_t)nn, stype, NULL, NULL))
            for (int i = 0; i < nn; i++) cat |= stype[i] != 0 && left[i] >= 0;
        free(stype);
        if (!ok) BAD("%s: tree %u: node arrays missing or not of num_nodes (%d) numbers", src, t, nn);
        if (cat) BAD("%s: tree %u has categorical splits, which are not supported (one-hot encode instead)", src, t);
        trees[t] = (ulm_xgb_tree){(uint32_t)nn, left, right, feat, cond, dl, hess};
        t++;
    }
    ulm_status s = ulm_churn_from_trees(nf, base_margin, trees, n_trees, &m, &d);
    if (s != ULM_OK) BAD("%s: %s: %s", src, ulm_status_name(s), d.message);
    names = calloc((size_t)nf + 1, sizeof *names);
    if (!names) BAD("out of memory");
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(learner, "feature_names");
    if (cJSON_IsArray(fn) && cJSON_GetArraySize(fn) > 0 && (uint32_t)cJSON_GetArraySize(fn) != nf)
        BAD("%s: %d feature names for %u features", src, cJSON_GetArraySize(fn), nf);
    for (uint32_t f = 0; f < nf; f++) {
        const cJSON *v = cJSON_IsArray(fn) ? cJSON_GetArrayItem(fn, (int)f) : NULL;
        char tmp[24];
        snprintf(tmp, sizeof tmp, "f%u", f);
        names[f] = strdup(cJSON_IsString(v) ? v->valuestring : tmp);
        if (!names[f]) BAD("out of memory");
        for (uint32_t g = 0; g < f; g++)
            if (strcmp(names[g], names[f]) == 0) BAD("%s: feature name '%s' appears twice", src, names[f]);
    }
    const cJSON *ft = cJSON_GetObjectItemCaseSensitive(learner, "feature_types");
    cJSON_ArrayForEach(e, ft) if (cJSON_IsString(e) && strcmp(e->valuestring, "c") == 0)
        BAD("%s: categorical features are not supported (one-hot encode instead)", src);
    struct stat stt;
    bool existed = stat(into, &stt) == 0, had_churn = false;
    if (ulm_writer_new(ULM_KIND_MODEL, NULL, &w) != ULM_OK) BAD("out of memory");
    if (existed) {
        if ((s = copy_bundle(into, w, &had_churn, &d)) != ULM_OK) BAD("%s: %s: %s", into, ulm_status_name(s), d.message);
    } else {
        /* a churn-only bundle: the foundation's required sections, empty */
        uint8_t *tab = NULL;
        size_t tl = 0;
        s = ulm_strtab_build(NULL, NULL, 0, &tab, &tl);
        if (s == ULM_OK) s = ulm_writer_section(w, "ITID", ULM_DT_STRTAB, 0, 0, 1, ULM_SECTION_REQUIRED, tab, tl);
        free(tab);
        if (s == ULM_OK) s = ulm_writer_section(w, "POPR", ULM_DT_F32, 0, 0, 1, ULM_SECTION_REQUIRED, NULL, 0);
        if (s == ULM_OK) s = ulm_writer_meta(w, "model.kind", "ulm-model");
        if (s == ULM_OK) s = ulm_writer_meta(w, "created.by", "ulm " ULM_VERSION_STRING);
        if (s != ULM_OK) BAD("writing the bundle: %s", ulm_status_str(s));
    }
    char ntree[16];
    snprintf(ntree, sizeof ntree, "%u", n_trees);
    const char *meta[] = {"churn.algo", "gbdt", "churn.source", "xgboost", "churn.xgboost.trees", ntree, NULL};
    if ((s = ulm_churn_sections_add(w, m, (const char *const *)names, NULL, false, meta)) != ULM_OK ||
        (s = ulm_writer_finish(w, &out, &out_len)) != ULM_OK)
        BAD("writing the bundle: %s", ulm_status_str(s));
    if ((s = ulm_file_write_atomic(into, out, out_len, &d)) != ULM_OK) BAD("%s", d.message);
    if (ulm_opt_get(opts, no, "json")) {
        printf("{\"into\":");
        ulm_sb b = {0};
        ulm_sb_json_str(&b, into, strlen(into));
        printf("%s,\"trees\":%u,\"features\":%u,\"base_score\":%.9g,\"bytes\":%zu,\"kept_bundle\":%s,\"replaced_churn\":%s}\n",
               b.s, n_trees, nf, (double)base_score, out_len, existed ? "true" : "false", had_churn ? "true" : "false");
        ulm_sb_free(&b);
    } else {
        printf("imported %u trees over %u features (base score %g) into %s (%zu bytes%s)\n", n_trees, nf,
               (double)base_score, into, out_len, existed ? (had_churn ? ", churn model replaced" : ", other sections kept") : "");
    }
    rc = ULM_EXIT_OK;
#undef BAD
done:
    if (w && out) ulm_writer_buffer_free(w, out, out_len);
    ulm_writer_free(w);
    for (uint32_t i = 0; mem && i < n_trees * 6; i++) free(mem[i]);
    free(mem);
    free(trees);
    for (uint32_t f = 0; names && f < nf; f++) free(names[f]);
    free(names);
    ulm_churn_free(m);
    cJSON_Delete(root);
    return rc;
}
