/* dashboard_data.c: data.json of `ulm dashboard` (docs/dashboard.md): headline, segments, RFM grid, stages
 * and their flow since the previous run, churn risk with the top customers at risk, CLV distribution, and
 * the recommender evaluation and campaign plan passed through. */
#include <math.h>
#include <string.h>

#include "churn_store.h"
#include "dashboard_data.h"
#include "profile_run.h"
#include "ulm/ulm_churn_model.h"
#include "ulm/ulm_churn_train.h"

#define CHURN_BINS 10
#define CLV_BINS 10

static const char *flow_name(int s) {
    if (s < ULM_STAGE_COUNT) return ulm_stage_name(s);
    return s == ULM_DASH_NO_PURCHASE ? "no purchase" : "not a customer";
}

/* A number, or null when not finite. */
static void num(ulm_sb *b, const char *fmt, double v) {
    if (isfinite(v)) ulm_sb_printf(b, fmt, v);
    else ulm_sb_printf(b, "null");
}


typedef struct risk {
    uint32_t row;
    float p;
    double value;
} risk;

/* Keeps top[0..*n) (capacity cap) sorted by value at risk, largest first; ties: lower row first. */
static void keep_top(risk *top, size_t *n, size_t cap, risk r) {
    size_t j = *n < cap ? (*n)++ : cap;
    if (j == cap && (cap == 0 || !(r.value > top[cap - 1].value))) return;
    if (j == cap) j = cap - 1;
    while (j > 0 && top[j - 1].value < r.value) {
        top[j] = top[j - 1];
        j--;
    }
    top[j] = r;
}

/* A "nice" bin width (1, 2 or 5 x 10^k) at least w. */
static double nice(double w) {
    if (!(w > 0)) return 1;
    double e = pow(10, floor(log10(w))), m = w / e;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Headline, segments, RFM grid, stages and CLV from the profiles; stage per user into ustage. */
static void profile_parts(ulm_sb *b, const ulm_profiler *p, bool fitted, const ulm_profile_set *set, uint8_t *ustage,
                          size_t *active, double *clv_out) {
    ulm_profiler_info info;
    ulm_profiler_get_info(p, &info);
    double clv = 0;
    size_t buyers = 0, n_clv = 0, stage_n[ULM_STAGE_COUNT] = {0};
    double rfm_n[ULM_RFM_COUNT] = {0}, rfm_rev[ULM_RFM_COUNT] = {0};
    double km_n[16] = {0}, km_rev[16] = {0}, km_clv[16] = {0}, km_clv_n[16] = {0};
    double grid_n[5][5] = {{0}}, grid_rev[5][5] = {{0}};
    double *clvs = malloc((set->n + 1) * sizeof *clvs);
    for (size_t i = 0; i < set->n; i++) {
        const ulm_profile *pr = &set->pr[i];
        int st = pr->stage >= 0 && pr->stage < ULM_STAGE_COUNT ? pr->stage : ULM_DASH_NO_PURCHASE;
        ustage[set->user[i]] = (uint8_t)st;
        if (!(pr->f[ULM_PF_PURCHASE_DAYS] >= 1)) continue;
        buyers++;
        double m = pr->f[ULM_PF_MONETARY], c = pr->f[ULM_PF_CLV];
        if (st < ULM_STAGE_COUNT) stage_n[st]++;
        if (isfinite(c)) {
            clv += c;
            if (clvs) clvs[n_clv] = c;
            n_clv++;
        }
        if (pr->rfm_segment >= 0 && pr->rfm_segment < ULM_RFM_COUNT) rfm_n[pr->rfm_segment]++, rfm_rev[pr->rfm_segment] += m;
        if (pr->segment >= 0 && pr->segment < 16) {
            km_n[pr->segment]++, km_rev[pr->segment] += m;
            if (isfinite(c)) km_clv[pr->segment] += c, km_clv_n[pr->segment]++;
        }
        double r = pr->f[ULM_PF_RFM_R], f = pr->f[ULM_PF_RFM_F];
        if (r >= 1 && r <= 5 && f >= 1 && f <= 5) grid_n[(int)r - 1][(int)f - 1]++, grid_rev[(int)r - 1][(int)f - 1] += m;
    }
    *active = stage_n[ULM_STAGE_NEW] + stage_n[ULM_STAGE_ACTIVE] + stage_n[ULM_STAGE_REACTIVATED];
    *clv_out = clv;
    ulm_sb_printf(b, "\"segments\":");
    if (!fitted || info.k == 0) ulm_sb_printf(b, "null");
    else {
        ulm_sb_printf(b, "{\"k\":%u,\"kmeans\":[", info.k);
        for (uint32_t s = 0; s < info.k && s < 16; s++) {
            uint32_t len;
            const char *ds = ulm_profiler_segment_description(p, s, &len);
            ulm_sb_printf(b, "%s{\"segment\":%u,\"description\":", s ? "," : "", s);
            ulm_sb_json_str(b, ds ? ds : "", ds ? len : 0);
            ulm_sb_printf(b, ",\"size\":%.0f,\"revenue\":%.2f,\"mean_clv\":", km_n[s], km_rev[s]);
            num(b, "%.2f", km_clv_n[s] ? km_clv[s] / km_clv_n[s] : NAN);
            ulm_sb_printf(b, "}");
        }
        ulm_sb_printf(b, "],\"rfm\":[");
        for (int s = 0; s < ULM_RFM_COUNT; s++) {
            ulm_sb_printf(b, "%s{\"name\":", s ? "," : "");
            ulm_sb_json_str(b, ulm_rfm_segment_name(s), strlen(ulm_rfm_segment_name(s)));
            ulm_sb_printf(b, ",\"size\":%.0f,\"revenue\":%.2f}", rfm_n[s], rfm_rev[s]);
        }
        ulm_sb_printf(b, "]}");
    }
    ulm_sb_printf(b, ",\"rfm_grid\":");
    if (!fitted || !info.has_rfm) ulm_sb_printf(b, "null");
    else {
        ulm_sb_printf(b, "{\"recency_cuts_days\":[%g,%g,%g,%g],\"orders_cuts\":[%g,%g,%g,%g],\"cells\":[",
                      info.rfm_cuts[0][0], info.rfm_cuts[0][1], info.rfm_cuts[0][2], info.rfm_cuts[0][3],
                      info.rfm_cuts[1][0], info.rfm_cuts[1][1], info.rfm_cuts[1][2], info.rfm_cuts[1][3]);
        for (int r = 0; r < 5; r++)
            for (int f = 0; f < 5; f++)
                ulm_sb_printf(b, "%s{\"r\":%d,\"f\":%d,\"customers\":%.0f,\"revenue\":%.2f}", r || f ? "," : "", r + 1,
                              f + 1, grid_n[r][f], grid_rev[r][f]);
        ulm_sb_printf(b, "]}");
    }
    ulm_sb_printf(b, ",\"stages\":");
    if (!fitted) ulm_sb_printf(b, "null");
    else {
        ulm_sb_printf(b, "[");
        for (int s = 0; s < ULM_STAGE_COUNT; s++)
            ulm_sb_printf(b, "%s{\"stage\":\"%s\",\"customers\":%zu}", s ? "," : "", ulm_stage_name(s), stage_n[s]);
        ulm_sb_printf(b, ",{\"stage\":\"no purchase\",\"customers\":%zu}]", set->n - buyers);
    }
    ulm_sb_printf(b, ",\"clv\":");
    if (!fitted || !info.has_clv || n_clv == 0 || !clvs) ulm_sb_printf(b, "null");
    else {
        qsort(clvs, n_clv, sizeof *clvs, cmp_double);
        double p99 = clvs[(size_t)floor(0.99 * (double)(n_clv - 1))];
        double w = nice(p99 / CLV_BINS);
        size_t cnt[CLV_BINS + 1] = {0};
        for (size_t i = 0; i < n_clv; i++) {
            double k = floor(clvs[i] / w);
            cnt[k < 0 ? 0 : k > CLV_BINS ? CLV_BINS : (size_t)k]++;
        }
        ulm_sb_printf(b, "{\"horizon_days\":%g,\"customers\":%zu,\"total\":%.2f,\"mean\":%.2f,\"median\":%.2f,"
                         "\"bin_width\":%g,\"counts\":[",
                      info.horizon * info.unit_days, n_clv, clv, clv / (double)n_clv, clvs[n_clv / 2], w);
        for (int k = 0; k <= CLV_BINS; k++) ulm_sb_printf(b, "%s%zu", k ? "," : "", cnt[k]);
        ulm_sb_printf(b, "]}");
    }
    free(clvs);
}

/* The churn panel; counts customers at or above the threshold into *at_risk. */
static ulm_status churn_part(ulm_sb *b, const ulm_dash_in *in, const uint8_t *ustage, const int32_t *useg,
                             size_t *at_risk, double *var_total) {
    const ulm_model *m = in->model;
    if (!ulm_model_churn(m) || ulm_model_churn_set(m) != ULM_CHURN_SET_CUSTOMER) {
        ulm_sb_printf(b, "null");
        return ULM_OK;
    }
    ulm_churn_rows rows;
    memset(&rows, 0, sizeof rows);
    ulm_status s = ulm_churn_rows_build(in->ev, &in->as_of, 1, 0, &rows);
    if (s != ULM_OK) return s;
    size_t cap = in->top;
    risk *top = malloc((cap + 1) * sizeof *top);
    float *scratch = malloc((ulm_model_churn_scratch(m) + 1) * sizeof *scratch);
    if (!top || !scratch) s = ULM_ERR_NOMEM;
    size_t hist[CHURN_BINS] = {0}, n_top = 0;
    double p_sum = 0;
    *at_risk = 0;
    *var_total = 0;
    for (uint32_t i = 0; s == ULM_OK && i < rows.n_rows; i++) {
        const float *x = rows.x + (size_t)i * ULM_CF_COUNT;
        risk r = {.row = i};
        if ((s = ulm_model_churn_score(m, x, &r.p, NULL, 0, NULL, scratch)) != ULM_OK) break;
        int k = (int)floorf(r.p * CHURN_BINS);
        hist[k < 0 ? 0 : k >= CHURN_BINS ? CHURN_BINS - 1 : k]++;
        p_sum += r.p;
        if (!(r.p >= in->threshold)) continue;
        (*at_risk)++;
        r.value = ulm_churn_value_at_risk(r.p, x);
        *var_total += r.value;
        keep_top(top, &n_top, cap, r);
    }
    if (s == ULM_OK) {
        ulm_sb_printf(b, "{\"threshold\":%g,\"scored\":%u,\"at_risk\":%zu,\"mean_risk\":%.6f,\"value_at_risk\":%.2f,",
                      in->threshold, rows.n_rows, *at_risk, rows.n_rows ? p_sum / rows.n_rows : 0.0, *var_total);
        ulm_sb_printf(b, "\"value_basis\":\"annual spend rate\",\"bins\":%d,\"counts\":[", CHURN_BINS);
        for (int k = 0; k < CHURN_BINS; k++) ulm_sb_printf(b, "%s%zu", k ? "," : "", hist[k]);
        ulm_sb_printf(b, "],\"top\":[");
        for (size_t t = 0; t < n_top; t++) {
            ulm_churn_reason why[3];
            uint32_t n_why = 0;
            float p;
            const float *x = rows.x + (size_t)top[t].row * ULM_CF_COUNT;
            if ((s = ulm_model_churn_score(m, x, &p, why, 3, &n_why, scratch)) != ULM_OK) break;
            uint32_t u = rows.user[top[t].row], il;
            const char *id = ulm_dict_str(&in->ev->users, u, &il);
            ulm_sb_printf(b, "%s{\"customer\":", t ? "," : "");
            ulm_sb_json_str(b, id, il);
            ulm_sb_printf(b, ",\"p_churn\":%.6f,\"value_at_risk\":%.2f,\"stage\":", (double)p, top[t].value);
            if (ustage[u] < ULM_STAGE_COUNT) ulm_sb_printf(b, "\"%s\"", ulm_stage_name(ustage[u]));
            else ulm_sb_printf(b, "null");
            ulm_sb_printf(b, ",\"segment\":");
            if (useg[u] >= 0) ulm_sb_printf(b, "%d", useg[u]);
            else ulm_sb_printf(b, "null");
            ulm_sb_printf(b, ",\"reasons\":[");
            for (uint32_t j = 0; j < n_why; j++) {
                if (j) ulm_sb_append(b, ",", 1);
                ulm_sb_json_str(b, why[j].text, strlen(why[j].text));
            }
            ulm_sb_printf(b, "]}");
        }
        ulm_sb_printf(b, "]}");
    }
    free(top);
    free(scratch);
    ulm_churn_rows_free(&rows);
    return s;
}

/* The stage flow from the previous run to this one, by customer id. */
static void flow_part(ulm_sb *b, const ulm_dash_in *in, const ulm_dash_prev *prev, const uint8_t *ustage) {
    if (!prev->present) {
        ulm_sb_printf(b, "null");
        return;
    }
    double mat[ULM_DASH_FLOW_N][ULM_DASH_FLOW_N] = {{0}};
    const ulm_dict *users = &in->ev->users;
    for (uint32_t u = 0; u < users->n; u++) {
        uint32_t il;
        const char *id = ulm_dict_str(users, u, &il);
        uint32_t k = ulm_dict_find(&prev->ids, id, il);
        int from = k == ULM_NONE ? ULM_DASH_ABSENT : prev->stage[k];
        if (ustage[u] == ULM_DASH_ABSENT && from == ULM_DASH_ABSENT) continue;
        mat[from][ustage[u]]++;
    }
    for (uint32_t k = 0; k < prev->ids.n; k++) { /* in the previous run, not a customer now */
        uint32_t il;
        const char *id = ulm_dict_str(&prev->ids, k, &il);
        uint32_t u = ulm_dict_find(users, id, il);
        if (u == ULM_NONE || ustage[u] == ULM_DASH_ABSENT) mat[prev->stage[k]][ULM_DASH_ABSENT]++;
    }
    ulm_sb_printf(b, "{\"previous_as_of\":\"%s\",\"states\":[", prev->as_of);
    for (int s = 0; s < ULM_DASH_FLOW_N; s++) ulm_sb_printf(b, "%s\"%s\"", s ? "," : "", flow_name(s));
    ulm_sb_printf(b, "],\"matrix\":[");
    for (int f = 0; f < ULM_DASH_FLOW_N; f++) {
        ulm_sb_printf(b, "%s[", f ? "," : "");
        for (int t = 0; t < ULM_DASH_FLOW_N; t++) ulm_sb_printf(b, "%s%.0f", t ? "," : "", mat[f][t]);
        ulm_sb_printf(b, "]");
    }
    ulm_sb_printf(b, "]}");
}

ulm_status ulm_dash_build(const ulm_dash_in *in, const ulm_dash_prev *prev, ulm_sb *json, ulm_sb *stages,
                          ulm_diag *diag) {
    const ulm_events *ev = in->ev;
    const ulm_profiler *p = ulm_model_profiler(in->model);
    ulm_profiler *own = NULL;
    ulm_profile_set set = {0};
    ulm_status s = ULM_OK;
    bool fitted = p != NULL;
    uint8_t *ustage = malloc((size_t)ev->users.n + 1);
    int32_t *useg = malloc(((size_t)ev->users.n + 1) * sizeof *useg);
    if (!ustage || !useg) {
        s = ulm_diag_set(diag, ULM_ERR_NOMEM, "", 0, "out of memory");
        goto done;
    }
    memset(ustage, ULM_DASH_ABSENT, (size_t)ev->users.n + 1);
    for (uint32_t u = 0; u <= ev->users.n; u++) useg[u] = -1;
    if (!p) { /* no profiler in the bundle: the basic profile (revenue, customers) from the store's own */
        ulm_profiler_params pp = ulm_profiler_params_init();
        pp.as_of = in->as_of;
        if ((s = ulm_profiler_build(ev, &pp, &own, diag)) != ULM_OK) goto done;
        p = own;
    }
    if ((s = ulm_profile_run(ev, p, in->as_of, &set, diag)) != ULM_OK) goto done;
    for (size_t i = 0; i < set.n; i++) useg[set.user[i]] = set.pr[i].segment;
    char day[16];
    ulm_format_date(in->as_of, day);
    ulm_sb body = {0};
    size_t active = 0, at_risk = 0;
    double clv = 0, var_total = 0;
    profile_parts(&body, p, fitted, &set, ustage, &active, &clv);
    ulm_sb_printf(&body, ",\"churn\":");
    s = churn_part(&body, in, ustage, useg, &at_risk, &var_total);
    if (s != ULM_OK) {
        ulm_sb_free(&body);
        ulm_diag_set(diag, s, "", 0, "churn scoring failed: %s", ulm_status_str(s));
        goto done;
    }
    bool has_churn = ulm_model_churn(in->model) && ulm_model_churn_set(in->model) == ULM_CHURN_SET_CUSTOMER;
    if (!has_churn && fitted) { /* at risk by the lifecycle stage instead */
        at_risk = 0;
        for (size_t i = 0; i < set.n; i++) at_risk += set.pr[i].stage == ULM_STAGE_AT_RISK;
    }
    ulm_sb_printf(&body, ",\"stage_flow\":");
    if (fitted) flow_part(&body, in, prev, ustage);
    else ulm_sb_printf(&body, "null"); /* no stages without a profiler */
    ulm_sb_printf(&body, ",\"recs\":");
    if (in->recs_eval) ulm_sb_printf(&body, "{\"live\":%s%s%s,\"results\":%s}",
                                     ulm_model_meta(in->model, "model.recs") ? "\"" : "",
                                     ulm_model_meta(in->model, "model.recs") ? ulm_model_meta(in->model, "model.recs") : "null",
                                     ulm_model_meta(in->model, "model.recs") ? "\"" : "", in->recs_eval);
    else ulm_sb_printf(&body, "null");
    ulm_sb_printf(&body, ",\"campaign\":%s", in->campaign ? in->campaign : "null");

    /* the headline first, then the panels */
    size_t buyers = 0;
    double revenue = 0;
    for (size_t i = 0; i < set.n; i++)
        if (set.pr[i].f[ULM_PF_PURCHASE_DAYS] >= 1) buyers++, revenue += set.pr[i].f[ULM_PF_MONETARY];
    ulm_sb_printf(json, "{\"format\":\"%s\",\"version\":%d,\"as_of\":\"%s\",\"store\":", ULM_DASH_FORMAT,
                  ULM_DASH_VERSION, day);
    ulm_sb_json_str(json, in->store_path, strlen(in->store_path));
    ulm_sb_printf(json, ",\"model\":");
    ulm_sb_json_str(json, in->model_path, strlen(in->model_path));
    ulm_sb_printf(json, ",\"headline\":{\"customers\":%zu,\"buyers\":%zu,\"active\":%zu,\"at_risk\":%zu,"
                        "\"at_risk_basis\":\"%s\",\"revenue\":%.2f,\"clv_12m\":%.2f,\"value_at_risk\":%.2f},",
                  set.n, buyers, fitted ? active : 0, at_risk,
                  has_churn ? "churn risk" : fitted ? "lifecycle stage" : "none", revenue, clv, var_total);
    ulm_sb_append(json, body.s ? body.s : "", body.len);
    ulm_sb_printf(json, "}\n");
    bool oom = body.oom;
    ulm_sb_free(&body);
    ulm_sb_printf(stages, "customer\tstage\n");
    for (size_t i = 0; i < set.n; i++) {
        uint32_t il;
        const char *id = ulm_dict_str(&ev->users, set.user[i], &il);
        ulm_sb_append(stages, id, il);
        ulm_sb_printf(stages, "\t%s\n", flow_name(ustage[set.user[i]]));
    }
    if (oom || json->oom || stages->oom) s = ulm_diag_set(diag, ULM_ERR_NOMEM, "", 0, "out of memory");
done:
    ulm_profile_set_free(&set);
    ulm_profiler_free(own);
    free(ustage);
    free(useg);
    return s;
}
