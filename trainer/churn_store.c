/* churn_store.c: churn models from an event store (churn_store.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn_pool.h"
#include "churn_store.h"
#include "civil.h"
#include "ulm/ulm_churn_model.h"

void ulm_churn_job_init(ulm_churn_job *j) {
    memset(j, 0, sizeof *j);
    j->algo = "auto";
    j->threads = 1;
    j->params = ulm_churn_params_init();
    /* a shop has thousands of customers, not hundreds of thousands: shallower, slower trees, stopped on
     * the validation logloss (docs/churn.md has the comparison on Online Retail) */
    j->params.gbdt.max_depth = 4;
    j->params.gbdt.eta = 0.05f;
    j->params.gbdt.n_rounds = 500;
    j->params.gbdt.early_stopping = 50;
    j->params.gbdt.min_child_weight = 5;
    j->params.gbdt.subsample = 0.8f;
    j->params.gbdt.colsample = 0.8f;
}

void ulm_churn_job_free(ulm_churn_job *j) {
    ulm_churn_rows_free(&j->rows);
    ulm_churn_free(j->model);
    j->model = NULL;
}

/* Time range of the store's events. */
static void time_range(const ulm_events *ev, int64_t *lo, int64_t *hi) {
    *lo = INT64_MAX;
    *hi = INT64_MIN;
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->time[i] < *lo) *lo = ev->time[i];
        if (ev->time[i] > *hi) *hi = ev->time[i];
    }
}

int ulm_churn_job_rows(const ulm_events *ev, ulm_churn_job *j, const char *cmd) {
    if (!j->cutoffs || !*j->cutoffs) {
        ulm_errorf(cmd, "--cutoff DATE[,DATE...] is required (YYYY-MM-DD)");
        return ULM_EXIT_USAGE;
    }
    j->n_cut = 0;
    for (const char *p = j->cutoffs; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (j->n_cut == ULM_MAX_CUTOFFS) {
            ulm_errorf(cmd, "--cutoff: at most %d dates", ULM_MAX_CUTOFFS);
            return ULM_EXIT_USAGE;
        }
        if (!ulm_parse_date(p, n, &j->cut[j->n_cut])) {
            ulm_errorf(cmd, "--cutoff: '%.*s' is not a date (YYYY-MM-DD)", (int)(n < 40 ? n : 40), p);
            return ULM_EXIT_USAGE;
        }
        j->n_cut++;
        p += n + (e != NULL);
    }
    int64_t lo, hi;
    time_range(ev, &lo, &hi);
    if (ev->n == 0) {
        ulm_errorf(cmd, "the store has no events");
        return ULM_EXIT_FAIL;
    }
    int64_t first_cut = j->cut[0], last_cut = j->cut[0];
    for (uint32_t c = 1; c < j->n_cut; c++) {
        if (j->cut[c] < first_cut) first_cut = j->cut[c];
        if (j->cut[c] > last_cut) last_cut = j->cut[c];
    }
    if (j->horizon) {
        char *end;
        j->horizon_days = strtod(j->horizon, &end);
        if (*end || !(j->horizon_days >= 1 && j->horizon_days <= 3650)) {
            ulm_errorf(cmd, "--horizon must be a number of days between 1 and 3650, got '%s'", j->horizon);
            return ULM_EXIT_USAGE;
        }
    } else {
        /* the shop's purchase rhythm before the first cutoff: most repeat purchases come sooner */
        double q;
        if (ulm_churn_gap_quantile(ev, first_cut, ULM_CHURN_HORIZON_QUANTILE, &q, &j->rhythm_gaps) != ULM_OK) {
            ulm_errorf(cmd, "out of memory");
            return ULM_EXIT_FAIL;
        }
        if (j->rhythm_gaps < 10) {
            ulm_errorf(cmd, "only %zu repeat-purchase gaps before the first cutoff: give --horizon DAYS", j->rhythm_gaps);
            return ULM_EXIT_FAIL;
        }
        j->horizon_days = ceil(q);
        if (j->horizon_days < 7) j->horizon_days = 7;
        j->horizon_default = true;
    }
    int64_t hs = (int64_t)llround(j->horizon_days * 86400.0);
    char a[16], b[16];
    if (first_cut <= lo) {
        ulm_format_date(first_cut, a);
        ulm_format_date(lo, b);
        ulm_errorf(cmd, "cutoff %s is not after the first event (%s): no history to learn from", a, b);
        return ULM_EXIT_FAIL;
    }
    if (last_cut + hs > hi + 86400) {
        ulm_format_date(last_cut, a);
        ulm_format_date(hi, b);
        ulm_errorf(cmd,
                   "cutoff %s + horizon %g days ends after the last event (%s): the labels would count customers "
                   "as churned for want of data; use an earlier cutoff or a shorter --horizon",
                   a, j->horizon_days, b);
        return ULM_EXIT_FAIL;
    }
    ulm_status s = ulm_churn_rows_build(ev, j->cut, j->n_cut, hs, &j->rows);
    if (s != ULM_OK) {
        ulm_errorf(cmd, "building churn rows: %s", ulm_status_str(s));
        return ULM_EXIT_FAIL;
    }
    double pos = 0;
    for (uint32_t r = 0; r < j->rows.n_rows; r++) pos += j->rows.y[r];
    j->churn_rate = j->rows.n_rows ? pos / j->rows.n_rows : NAN;
    if (pos < 10 || j->rows.n_rows - pos < 10) {
        ulm_errorf(cmd, "%u customer rows with %.0f churners: need at least 10 of each class", j->rows.n_rows, pos);
        return ULM_EXIT_FAIL;
    }
    return ULM_EXIT_OK;
}

int ulm_churn_job_fit_rows(ulm_churn_job *j, const float *x, const float *y, uint32_t n, const char *cmd) {
    uint32_t fam;
    if (!j->algo || strcmp(j->algo, "auto") == 0) fam = 0;
    else if (strcmp(j->algo, "logreg") == 0) fam = ULM_CHURN_LOGREG;
    else if (strcmp(j->algo, "gbdt") == 0) fam = ULM_CHURN_GBDT;
    else {
        ulm_errorf(cmd, "the churn algorithm must be logreg, gbdt or auto, got '%s'", j->algo);
        return ULM_EXIT_USAGE;
    }
    static const uint32_t kinds[ULM_CF_COUNT] = {0}, ncats[ULM_CF_COUNT] = {0};
    ulm_churn_data d = {n, ULM_CF_COUNT, x, y, kinds, ncats};
    j->params.family = fam;
    ulm_pool *pool = NULL;
    if (j->threads > 1 && (pool = ulm_pool_new(j->threads)) != NULL) {
        j->params.gbdt.parallel = ulm_pool_parallel;
        j->params.gbdt.parallel_ctx = pool;
    }
    ulm_diag dg;
    memset(&dg, 0, sizeof dg);
    ulm_churn_free(j->model);
    j->model = NULL;
    ulm_status s = ulm_churn_fit(&d, &j->params, &j->model, &j->rep, &dg);
    ulm_pool_free(pool);
    j->params.gbdt.parallel = NULL;
    j->params.gbdt.parallel_ctx = NULL;
    if (s != ULM_OK) {
        ulm_errorf(cmd, "churn model: %s: %s", ulm_status_name(s), dg.message);
        return ULM_EXIT_FAIL;
    }
    return ULM_EXIT_OK;
}

int ulm_churn_job_fit(const ulm_events *ev, ulm_churn_job *j, const char *cmd) {
    if (j->algo && strcmp(j->algo, "auto") && strcmp(j->algo, "logreg") && strcmp(j->algo, "gbdt")) {
        ulm_errorf(cmd, "--churn must be logreg, gbdt or auto, got '%s'", j->algo);
        return ULM_EXIT_USAGE;
    }
    int rc = ulm_churn_job_rows(ev, j, cmd);
    return rc ? rc : ulm_churn_job_fit_rows(j, j->rows.x, j->rows.y, j->rows.n_rows, cmd);
}

/* Adds a STRTAB section of n strings. */
static ulm_status add_strtab(ulm_writer *w, const char *tag, const char *const *strs, uint32_t n) {
    uint32_t *lens = malloc(((size_t)n + 1) * sizeof *lens);
    if (!lens) return ULM_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) lens[i] = (uint32_t)strlen(strs[i]);
    uint8_t *tab;
    size_t len;
    ulm_status s = ulm_strtab_build((const char **)strs, lens, n, &tab, &len);
    if (s == ULM_OK) {
        s = ulm_writer_section(w, tag, ULM_DT_STRTAB, n, 0, 1, 0, tab, len);
        free(tab);
    }
    free(lens);
    return s;
}

ulm_status ulm_churn_sections_add(ulm_writer *w, const ulm_churn *m, const char *const *names, const char *const *cats,
                                  bool customer_set, const char *const *meta) {
    uint8_t *blob;
    size_t len;
    ulm_status s = ulm_churn_encode(m, &blob, &len);
    if (s != ULM_OK) return s;
    s = ulm_writer_section(w, "CHRN", ULM_DT_BYTES, 1, 0, 1, 0, blob, len);
    free(blob);
    uint32_t nf = ulm_churn_n_features(m), total = 0;
    if (s == ULM_OK) s = add_strtab(w, "CHFN", names, nf);
    if (cats)
        for (uint32_t i = 0; cats[i]; i++) total++;
    if (s == ULM_OK && total) s = add_strtab(w, "CHCT", cats, total);
    if (s == ULM_OK) s = ulm_writer_meta(w, "churn.features", customer_set ? "customer-v1" : "table");
    for (uint32_t i = 0; s == ULM_OK && meta && meta[i] && meta[i + 1]; i += 2) s = ulm_writer_meta(w, meta[i], meta[i + 1]);
    return s;
}

/* Sorts indices by descending score (ties by index) without a global comparator context. */
static void sort_desc(const float *p, uint32_t *idx, size_t n) {
    /* shell sort: deterministic, in place, no context needed */
    for (size_t gap = n / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < n; i++) {
            uint32_t t = idx[i];
            size_t k = i;
            while (k >= gap && (p[idx[k - gap]] < p[t] || (p[idx[k - gap]] == p[t] && idx[k - gap] > t))) {
                idx[k] = idx[k - gap];
                k -= gap;
            }
            idx[k] = t;
        }
}

double ulm_churn_lift10(const float *p, const float *y, size_t n) {
    if (n < 10) return NAN;
    uint32_t *idx = malloc(n * sizeof *idx);
    if (!idx) return NAN;
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    sort_desc(p, idx, n);
    size_t top = (n + 9) / 10;
    double pos_top = 0, pos = 0;
    for (size_t i = 0; i < n; i++) {
        pos += y[idx[i]];
        if (i < top) pos_top += y[idx[i]];
    }
    free(idx);
    return pos > 0 ? (pos_top / top) / (pos / n) : NAN;
}

/* Appends a CSV field, quoted (quotes doubled) when it holds a comma, a quote or a line break. */
static void csv_field(ulm_sb *b, const char *s, size_t n) {
    bool q = false;
    for (size_t i = 0; i < n; i++) q |= s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!q) {
        ulm_sb_append(b, s, n);
        return;
    }
    ulm_sb_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') ulm_sb_append(b, "\"", 1);
        ulm_sb_append(b, s + i, 1);
    }
    ulm_sb_append(b, "\"", 1);
}

ulm_status ulm_churn_rows_csv(const char *path, const ulm_events *ev, const ulm_churn_job *j, ulm_diag *diag) {
    ulm_sb b = {0};
    ulm_sb_printf(&b, "customer,cutoff");
    for (uint32_t f = 0; f < ULM_CF_COUNT; f++) ulm_sb_printf(&b, ",%s", ulm_cust_feature_name(f));
    ulm_sb_printf(&b, j->rows.y ? ",churned\n" : "\n");
    for (uint32_t r = 0; r < j->rows.n_rows; r++) {
        uint32_t len;
        const char *id = ulm_dict_str(&ev->users, j->rows.user[r], &len);
        csv_field(&b, id, len);
        char day[16];
        ulm_format_date(j->cut[j->rows.cut[r]], day);
        ulm_sb_printf(&b, ",%s", day);
        for (uint32_t f = 0; f < ULM_CF_COUNT; f++) {
            float v = j->rows.x[(size_t)r * ULM_CF_COUNT + f];
            if (v != v) ulm_sb_printf(&b, ",");
            else ulm_sb_printf(&b, ",%.9g", (double)v);
        }
        if (j->rows.y) ulm_sb_printf(&b, ",%d", (int)j->rows.y[r]);
        ulm_sb_printf(&b, "\n");
    }
    if (b.oom) {
        ulm_sb_free(&b);
        return ULM_ERR_NOMEM;
    }
    ulm_status s = ulm_file_write_atomic(path, b.s, b.len, diag);
    ulm_sb_free(&b);
    return s;
}

static const char *family_name(uint32_t f) { return f == ULM_CHURN_GBDT ? "gbdt" : "logreg"; }

/* The cutoffs as a comma-separated list of dates. */
static void cutoff_list(const ulm_churn_job *j, char *out, size_t cap) {
    size_t at = 0;
    out[0] = 0;
    for (uint32_t c = 0; c < j->n_cut && at + 12 < cap; c++) {
        char d[16];
        ulm_format_date(j->cut[c], d);
        at += (size_t)snprintf(out + at, cap - at, "%s%s", c ? "," : "", d);
    }
}

ulm_status ulm_churn_job_sections(ulm_writer *w, void *ctx) {
    const ulm_churn_job *j = ctx;
    const char *names[ULM_CF_COUNT];
    for (uint32_t f = 0; f < ULM_CF_COUNT; f++) names[f] = ulm_cust_feature_name(f);
    char horizon[32], cuts[ULM_MAX_CUTOFFS * 12 + 1], auc[32], rate[32];
    snprintf(horizon, sizeof horizon, "%g", j->horizon_days);
    cutoff_list(j, cuts, sizeof cuts);
    double va = j->rep.family == ULM_CHURN_GBDT ? j->rep.valid_auc_gbdt : j->rep.valid_auc_logreg;
    snprintf(auc, sizeof auc, "%.6f", va);
    snprintf(rate, sizeof rate, "%.6f", j->churn_rate);
    const char *meta[] = {"churn.algo", family_name(j->rep.family), "churn.horizon_days", horizon,
                          "churn.horizon_source", j->horizon_default ? "purchase-rhythm-p90" : "given",
                          "churn.cutoffs", cuts, "churn.valid_auc", auc, "churn.train_churn_rate", rate, NULL};
    return ulm_churn_sections_add(w, j->model, names, NULL, true, meta);
}

void ulm_churn_job_report(const ulm_churn_job *j, ulm_sb *b, bool json) {
    char cuts[ULM_MAX_CUTOFFS * 12 + 1];
    cutoff_list(j, cuts, sizeof cuts);
    double va = j->rep.family == ULM_CHURN_GBDT ? j->rep.valid_auc_gbdt : j->rep.valid_auc_logreg;
    if (json) {
        ulm_sb_printf(b, "{\"algo\":\"%s\",\"cutoffs\":\"%s\",\"horizon_days\":%g,\"horizon_source\":\"%s\",", family_name(j->rep.family),
                      cuts, j->horizon_days, j->horizon_default ? "purchase-rhythm-p90" : "given");
        ulm_sb_printf(b, "\"rows\":%u,\"churn_rate\":%.6f,\"valid_auc\":%.6f", j->rows.n_rows, j->churn_rate, va);
        if (j->rep.valid_auc_logreg == j->rep.valid_auc_logreg) ulm_sb_printf(b, ",\"valid_auc_logreg\":%.6f", j->rep.valid_auc_logreg);
        if (j->rep.valid_auc_gbdt == j->rep.valid_auc_gbdt) ulm_sb_printf(b, ",\"valid_auc_gbdt\":%.6f", j->rep.valid_auc_gbdt);
        ulm_sb_printf(b, "}");
    } else {
        ulm_sb_printf(b, "churn: %s on %u customer rows (cutoffs %s, horizon %g days%s), churn rate %.3f, validation AUC %.4f\n",
                      family_name(j->rep.family), j->rows.n_rows, cuts, j->horizon_days,
                      j->horizon_default ? ": the 90th percentile of the gaps between purchase days" : "", j->churn_rate, va);
    }
}

bool ulm_churn_as_of(const char *cmd, const char *value, const ulm_events *ev, int64_t *as_of) {
    if (value) {
        if (ulm_parse_date(value, strlen(value), as_of)) return true;
        ulm_errorf(cmd, "--as-of: '%s' is not a date (YYYY-MM-DD)", value);
        return false;
    }
    /* Default: the start of the day after the last event, so that every event counts. */
    int64_t last = INT64_MIN;
    for (size_t i = 0; i < ev->n; i++)
        if (ev->time[i] > last) last = ev->time[i];
    *as_of = ev->n ? (last >= 0 ? last / 86400 + 1 : -((-last) / 86400)) * 86400 : 0;
    return true;
}

ulm_model *ulm_churn_model_open(const char *cmd, const char *path) {
    char *bytes = NULL;
    size_t len = 0;
    ulm_model *m = NULL;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_status s = ulm_file_read(path, false, &bytes, &len, &d);
    if (s == ULM_OK) s = ulm_model_load(bytes, len, NULL, &m, &d);
    free(bytes);
    if (s != ULM_OK) {
        ulm_errorf(cmd, "%s: %s: %s", path, ulm_status_name(s), d.message);
        return NULL;
    }
    if (!ulm_model_churn(m) || ulm_model_churn_set(m) != ULM_CHURN_SET_CUSTOMER) {
        ulm_errorf(cmd, "%s has no churn model trained from an event log (ulm train --churn)", path);
        ulm_model_free(m);
        return NULL;
    }
    return m;
}

float ulm_churn_value_at_risk(float p, const float *x) {
    float tenure = x[ULM_CF_TENURE] > 30 ? x[ULM_CF_TENURE] : 30;
    return p * (x[ULM_CF_SPEND] > 0 ? x[ULM_CF_SPEND] : 0) * 365.0f / tenure;
}
