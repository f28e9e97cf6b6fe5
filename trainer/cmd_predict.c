/* cmd_predict.c: `ulm predict churn MODEL.ulm --input FILE`: churn probabilities (and reasons) per customer
 * of an event store, or per row of a CSV file with the model's feature columns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn_store.h"
#include "churn_table.h"
#include "cli.h"
#include "commands.h"
#include "store.h"
#include "ulm/ulm_churn_model.h"

static const char usage[] =
    "usage: ulm predict churn MODEL.ulm --input FILE [--out FILE] [--as-of DATE] [--reasons K] [--json]\n\n"
    "Scores the bundle's churn model (ulm train --churn, or ulm import xgboost).\n"
    "  --input FILE   an event store (ulm ingest): one row per customer with a purchase before --as-of,\n"
    "                 features from the events before it; or a CSV file with a header holding the model's\n"
    "                 feature columns (matched by name; other columns are ignored): one row per input row\n"
    "  --as-of DATE   event stores: YYYY-MM-DD (default: the day after the store's last event)\n"
    "  --reasons K    the K strongest reasons per row, phrased for people (default 3; 0 = none)\n"
    "  --out FILE     write there (atomically) instead of stdout\n"
    "  --json         JSON Lines {\"customer\"|\"row\", \"p_churn\", \"reasons\": [{\"text\", \"feature\", \"effect\"}]}\n"
    "                 instead of CSV (customer|row, p_churn, reason_1..reason_K)\n";

/* A ctab schema that reads CSV files through the bundle's feature names, kinds and categories. */
static ulm_status schema_from_model(const ulm_model *m, ulm_ctab_schema *s) {
    memset(s, 0, sizeof *s);
    const ulm_churn *c = ulm_model_churn(m);
    uint32_t nf = ulm_churn_n_features(c);
    s->n_features = nf;
    s->names = calloc((size_t)nf + 1, sizeof *s->names);
    s->kind = calloc((size_t)nf + 1, sizeof *s->kind);
    s->n_cats = calloc((size_t)nf + 1, sizeof *s->n_cats);
    s->cats = calloc((size_t)nf + 1, sizeof *s->cats);
    if (!s->names || !s->kind || !s->n_cats || !s->cats) return ULM_ERR_NOMEM;
    for (uint32_t f = 0; f < nf; f++) ulm_dict_init(&s->cats[f]);
    for (uint32_t f = 0; f < nf; f++) {
        uint32_t len;
        const char *name = ulm_model_churn_feature(m, f, &len);
        s->names[f] = malloc((size_t)len + 1);
        if (!s->names[f]) return ULM_ERR_NOMEM;
        memcpy(s->names[f], name, len);
        s->names[f][len] = 0;
        const char *cat;
        for (uint32_t k = 0; (cat = ulm_model_churn_category(m, f, k, &len)) != NULL; k++) {
            s->kind[f] = ULM_FEAT_CAT;
            if (ulm_dict_intern(&s->cats[f], cat, len, NULL) == ULM_NONE) return ULM_ERR_NOMEM;
        }
        s->n_cats[f] = s->cats[f].n;
    }
    return ULM_OK;
}

/* One output row: id, probability, reasons. */
static void emit(ulm_sb *o, bool json, bool customer, const char *id, uint32_t idlen, float p, const ulm_churn_reason *why,
                 uint32_t n, uint32_t k) {
    if (json) {
        ulm_sb_printf(o, "{\"%s\":", customer ? "customer" : "row");
        ulm_sb_json_str(o, id, idlen);
        ulm_sb_printf(o, ",\"p_churn\":%.9g,\"reasons\":[", (double)p);
        for (uint32_t i = 0; i < n; i++) {
            ulm_sb_printf(o, "%s{\"text\":", i ? "," : "");
            ulm_sb_json_str(o, why[i].text, strlen(why[i].text));
            ulm_sb_printf(o, ",\"feature\":%u,\"effect\":%.9g}", why[i].feature, (double)why[i].effect);
        }
        ulm_sb_printf(o, "]}\n");
        return;
    }
    /* CSV: ids and sentences quoted when needed */
    bool q = memchr(id, ',', idlen) || memchr(id, '"', idlen);
    if (q) ulm_sb_append(o, "\"", 1);
    for (uint32_t i = 0; i < idlen; i++) {
        if (id[i] == '"') ulm_sb_append(o, "\"", 1);
        ulm_sb_append(o, id + i, 1);
    }
    if (q) ulm_sb_append(o, "\"", 1);
    ulm_sb_printf(o, ",%.9g", (double)p);
    for (uint32_t i = 0; i < k; i++) {
        ulm_sb_append(o, ",", 1);
        if (i < n) {
            ulm_sb_append(o, "\"", 1);
            ulm_sb_append(o, why[i].text, strlen(why[i].text)); /* sentences hold no quotes */
            ulm_sb_append(o, "\"", 1);
        }
    }
    ulm_sb_append(o, "\n", 1);
}

int ulm_cmd_predict(int argc, char **argv) {
    ulm_opt opts[] = {{"input", true, NULL}, {"out", true, NULL}, {"as-of", true, NULL}, {"reasons", true, NULL},
                      {"json", false, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *input = ulm_opt_get(opts, no, "input"), *out = ulm_opt_get(opts, no, "out");
    if (a.npos != 2 || strcmp(a.pos[0], "churn") != 0 || !input) {
        fprintf(stderr, "ulm predict: expected 'churn MODEL.ulm --input FILE'\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    uint64_t k;
    if (!ulm_opt_u64(opts, no, "reasons", 3, &k) || k > 16) {
        ulm_errorf("predict", "--reasons must be 0..16");
        return ULM_EXIT_USAGE;
    }
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    char *bytes = NULL, *in = NULL;
    size_t len = 0, in_len = 0;
    ulm_model *m = NULL;
    int rc = ULM_EXIT_FAIL;
    ulm_status s = ulm_file_read(a.pos[1], false, &bytes, &len, &d);
    if (s == ULM_OK) s = ulm_model_load(bytes, len, NULL, &m, &d);
    free(bytes);
    if (s != ULM_OK) {
        ulm_errorf("predict", "%s: %s: %s", a.pos[1], ulm_status_name(s), d.message);
        return ULM_EXIT_FAIL;
    }
    if (!ulm_model_churn(m)) {
        ulm_errorf("predict", "%s has no churn model (train with --churn, or ulm import xgboost)", a.pos[1]);
        ulm_model_free(m);
        return ULM_EXIT_FAIL;
    }
    const ulm_churn *c = ulm_model_churn(m);
    uint32_t nf = ulm_churn_n_features(c);
    float *scratch = malloc((ulm_model_churn_scratch(m) + 1) * sizeof *scratch);
    ulm_churn_reason why[16];
    ulm_sb o = {0};
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_churn_rows rows;
    memset(&rows, 0, sizeof rows);
    ulm_ctab_schema sc;
    memset(&sc, 0, sizeof sc);
    ulm_ctab t;
    memset(&t, 0, sizeof t);
    if (!scratch) goto done;
    if (ulm_file_read(input, true, &in, &in_len, &d) != ULM_OK) {
        ulm_errorf("predict", "%s", d.message);
        goto done;
    }
    bool is_store = in_len >= 4 && (uint8_t)in[0] == 0x89 && in[1] == 'U' && in[2] == 'L' && in[3] == 'S';
    if (!json) {
        ulm_sb_printf(&o, "%s,p_churn", is_store ? "customer" : "row");
        for (uint32_t i = 0; i < k; i++) ulm_sb_printf(&o, ",reason_%u", i + 1);
        ulm_sb_printf(&o, "\n");
    }
    if (is_store) {
        if (ulm_model_churn_set(m) != ULM_CHURN_SET_CUSTOMER) {
            ulm_errorf("predict", "%s: the churn model reads table columns, not customer histories: give a CSV file", a.pos[1]);
            goto done;
        }
        if ((s = ulm_store_decode(in, in_len, &ev, NULL, &d)) != ULM_OK) {
            ulm_errorf("predict", "%s: %s: %s", input, ulm_status_name(s), d.message);
            goto done;
        }
        int64_t as_of = INT64_MIN;
        if (!ulm_churn_as_of("predict", ulm_opt_get(opts, no, "as-of"), &ev, &as_of)) {
            rc = ULM_EXIT_USAGE;
            goto done;
        }
        if ((s = ulm_churn_rows_build(&ev, &as_of, 1, 0, &rows)) != ULM_OK) {
            ulm_errorf("predict", "%s", ulm_status_str(s));
            goto done;
        }
        for (uint32_t i = 0; i < rows.n_rows; i++) {
            float p;
            uint32_t n = 0, idlen;
            ulm_model_churn_score(m, rows.x + (size_t)i * ULM_CF_COUNT, &p, why, (uint32_t)k, &n, scratch);
            const char *id = ulm_dict_str(&ev.users, rows.user[i], &idlen);
            emit(&o, json, true, id, idlen, p, why, n, (uint32_t)k);
        }
        char day[16];
        ulm_format_date(as_of, day);
        fprintf(stderr, "ulm predict: %u customers scored as of %s\n", rows.n_rows, day);
    } else {
        free(in);
        in = NULL;
        if ((s = schema_from_model(m, &sc)) != ULM_OK) goto done;
        if ((s = ulm_ctab_read_apply(input, &sc, false, &t, &d)) != ULM_OK) {
            ulm_errorf("predict", "%s", d.message);
            goto done;
        }
        for (uint32_t i = 0; i < t.n_rows; i++) {
            float p;
            uint32_t n = 0;
            char id[16];
            int idlen = snprintf(id, sizeof id, "%u", i + 1);
            ulm_model_churn_score(m, t.x + (size_t)i * nf, &p, why, (uint32_t)k, &n, scratch);
            emit(&o, json, false, id, (uint32_t)idlen, p, why, n, (uint32_t)k);
        }
        if (t.unseen)
            fprintf(stderr, "ulm predict: note: %llu values were categories the model never saw (read as missing)\n",
                    (unsigned long long)t.unseen);
    }
    if (o.oom) goto done;
    if (out) {
        if (ulm_file_write_atomic(out, o.s ? o.s : "", o.len, &d) != ULM_OK) {
            ulm_errorf("predict", "%s", d.message);
            goto done;
        }
    } else {
        fwrite(o.s ? o.s : "", 1, o.len, stdout);
    }
    rc = ULM_EXIT_OK;
done:
    if (rc == ULM_EXIT_FAIL && !scratch) ulm_errorf("predict", "out of memory");
    free(in);
    free(scratch);
    ulm_sb_free(&o);
    ulm_churn_rows_free(&rows);
    ulm_events_free(&ev);
    ulm_ctab_free(&t);
    ulm_ctab_schema_free(&sc);
    ulm_model_free(m);
    return rc;
}
