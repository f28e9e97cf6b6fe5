/* cmd_campaign.c: `ulm campaign plan` (retention offers per customer under a budget, with a hash-based control
 * group) and `ulm campaign report` (measured lift of treated over control from the outcomes). Policy: ulm_nba.h,
 * definitions: docs/nba.md. */
#include <math.h>
#include <string.h>

#include "campaign_offers.h"
#include "churn_store.h"
#include "cli.h"
#include "commands.h"
#include "profile_run.h"
#include "store.h"
#include "ulm/ulm_churn_model.h"
#include "ulm/ulm_churn_train.h"
#include "ulm/ulm_profile.h"
#include "ulm/ulm_score.h"

static const char usage[] =
    "usage: ulm campaign plan STORE --model MODEL.ulm --offers OFFERS.json [--uplift-data CSV] [--as-of DATE]\n"
    "                         [--out PLAN.csv] [--json]\n"
    "       ulm campaign report --plan PLAN.csv --outcomes OUTCOMES.csv [--json]\n\n"
    "plan: scores every customer with the bundle's churn model (as of --as-of, default the day after the last\n"
    "event), values them by the bundle's lifetime value (the profiler's CLV) or, without one, by the annual spend\n"
    "rate (spend x 365 / max(tenure, 30 days)), and gives each the offer with the largest expected net value\n"
    "P(churn) x value x uplift - cost, greedily by net value under the file's budget and max_per_customer. A\n"
    "control group (FNV-1a of seed + customer id, mod 10000, below control_share x 10000) is planned the same\n"
    "way but held out: control = 1 in the plan, no cost. Same inputs, same bytes.\n"
    "  --offers FILE       offers, budget, max_per_customer, control_share, seed (docs/nba.md, examples/offers.json)\n"
    "  --uplift-data CSV   past campaign outcomes customer,offer,treated,retained: each offer's uplift becomes\n"
    "                      P(retained | treated) - P(retained | control) when it has treated and control rows\n"
    "  --out FILE          the plan as CSV, written atomically (default: CSV on stdout, or in the JSON)\n"
    "  --json              a JSON summary (with the plan rows when there is no --out)\n\n"
    "report: joins a plan with outcomes (CSV customer,retained) and measures the retention rate of the treated\n"
    "and of the control customers, the lift (difference) with a 95% confidence interval, overall and per offer.\n";

typedef struct row_info {
    double p, value;
    int clv; /* value from the CLV */
    ulm_churn_reason why[3];
    uint32_t n_why;
} row_info;

/* Finite numbers only, %.6f; NaN never reaches here (checked by the policy). */
static void csv_reasons(ulm_sb *b, const row_info *r) {
    ulm_sb_append(b, "\"", 1);
    for (uint32_t j = 0; j < r->n_why; j++) {
        if (j) ulm_sb_append(b, "; ", 2);
        for (const char *t = r->why[j].text; *t; t++) ulm_sb_append(b, *t == '"' ? "\"\"" : t, *t == '"' ? 2 : 1);
    }
    ulm_sb_append(b, "\"", 1);
}

static int cmd_plan(int argc, char **argv) {
    ulm_opt opts[] = {{"model", true, NULL},       {"offers", true, NULL}, {"uplift-data", true, NULL},
                      {"as-of", true, NULL},       {"out", true, NULL},    {"json", false, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *model_path = ulm_opt_get(opts, no, "model"), *offers_path = ulm_opt_get(opts, no, "offers");
    if (a.npos != 1 || !model_path || !offers_path) {
        fprintf(stderr, "ulm campaign plan: expected STORE, --model MODEL.ulm and --offers OFFERS.json\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    const char *store = a.pos[0], *out = ulm_opt_get(opts, no, "out"), *updata = ulm_opt_get(opts, no, "uplift-data");
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    ulm_campaign_cfg cfg;
    if (!ulm_campaign_cfg_read(offers_path, &cfg)) return ULM_EXIT_FAIL;
    if (updata && !ulm_campaign_uplift_read(updata, &cfg)) {
        ulm_campaign_cfg_free(&cfg);
        return ULM_EXIT_FAIL;
    }
    ulm_diag d;
    memset(&d, 0, sizeof d);
    int rc = ULM_EXIT_FAIL;
    ulm_model *m = NULL;
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_churn_rows rows;
    memset(&rows, 0, sizeof rows);
    ulm_profile_set set;
    memset(&set, 0, sizeof set);
    row_info *info = NULL;
    ulm_nba_customer *cu = NULL;
    ulm_nba_pick *pk = NULL;
    float *scratch = NULL;
    void *work = NULL;
    double *clv = NULL;
    ulm_sb csv = {0}, js = {0};
    ulm_status s = ULM_OK;
    if (!(m = ulm_churn_model_open("campaign", model_path))) goto done;
    if (!ulm_store_load("campaign", store, &ev)) goto done;
    int64_t as_of = INT64_MIN;
    if (!ulm_churn_as_of("campaign", ulm_opt_get(opts, no, "as-of"), &ev, &as_of)) {
        rc = ULM_EXIT_USAGE;
        goto done;
    }
    if ((s = ulm_churn_rows_build(&ev, &as_of, 1, 0, &rows)) != ULM_OK) {
        ulm_errorf("campaign", "%s: %s", store, ulm_status_name(s));
        goto done;
    }
    const ulm_profiler *prof = ulm_model_profiler(m);
    clv = malloc((ev.users.n + 1) * sizeof *clv);
    if (!clv) goto done;
    for (uint32_t u = 0; u < ev.users.n; u++) clv[u] = NAN;
    if (prof) {
        if ((s = ulm_profile_run(&ev, prof, as_of, &set, &d)) != ULM_OK) {
            ulm_errorf("campaign", "profiles: %s", d.message);
            goto done;
        }
        for (size_t i = 0; i < set.n; i++) clv[set.user[i]] = set.pr[i].f[ULM_PF_CLV];
    }
    size_t n = rows.n_rows;
    info = calloc(n + 1, sizeof *info);
    cu = calloc(n + 1, sizeof *cu);
    pk = calloc(n * cfg.max_per_customer + 1, sizeof *pk);
    scratch = malloc((ulm_model_churn_scratch(m) + 1) * sizeof *scratch);
    size_t need = ulm_nba_work_size(n, cfg.k);
    work = malloc(need + 1);
    if (!info || !cu || !pk || !scratch || !work) goto done;
    size_t n_clv = 0;
    for (size_t i = 0; i < n; i++) {
        const float *x = rows.x + i * ULM_CF_COUNT;
        float p;
        ulm_model_churn_score(m, x, &p, info[i].why, 3, &info[i].n_why, scratch);
        double v = ulm_nba_customer_value(x, clv[rows.user[i]], &info[i].clv); /* as on the device */
        n_clv += (size_t)info[i].clv;
        info[i].p = isfinite(p) ? p : 0;
        info[i].value = v;
        cu[i].p_churn = info[i].p;
        cu[i].value = v;
        uint32_t il;
        const char *id = ulm_dict_str(&ev.users, rows.user[i], &il);
        cu[i].control = ulm_nba_in_control(id, il, cfg.seed, cfg.control_share);
    }
    size_t np = 0;
    ulm_nba_totals t;
    if ((s = ulm_nba_plan(cfg.offer, cfg.k, cu, n, cfg.budget, cfg.max_per_customer, work, need, pk, &np, &t, &d)) !=
        ULM_OK) {
        ulm_errorf("campaign", "plan: %s", d.message);
        goto done;
    }
    ulm_sb_printf(&csv, "customer,offer,control,p_churn,value,value_basis,uplift,cost,net_value,reasons\n");
    for (size_t i = 0; i < np; i++) {
        uint32_t c = pk[i].customer, o = pk[i].offer, il;
        const char *id = ulm_dict_str(&ev.users, rows.user[c], &il);
        bool quote = memchr(id, ',', il) || memchr(id, '"', il);
        if (quote) ulm_sb_append(&csv, "\"", 1);
        for (uint32_t j = 0; j < il; j++) ulm_sb_append(&csv, id[j] == '"' ? "\"\"" : id + j, id[j] == '"' ? 2 : 1);
        if (quote) ulm_sb_append(&csv, "\"", 1);
        ulm_sb_printf(&csv, ",%s,%d,%.6f,%.2f,%s,%.6f,%.2f,%.4f,", cfg.id[o], pk[i].control, info[c].p, info[c].value,
                      info[c].clv ? "clv" : "annual_spend_rate", cfg.offer[o].uplift, cfg.offer[o].cost, pk[i].net);
        csv_reasons(&csv, &info[c]);
        ulm_sb_append(&csv, "\n", 1);
    }
    if (csv.oom) goto done;
    if (out && ulm_file_write_atomic(out, csv.s, csv.len, &d) != ULM_OK) {
        ulm_errorf("campaign", "%s", d.message);
        goto done;
    }
    char day[16];
    ulm_format_date(as_of, day);
    if (json) {
        ulm_sb_printf(&js, "{\"as_of\":\"%s\",\"customers\":%zu,\"valued_by_clv\":%zu,", day, n, n_clv);
        if (isfinite(cfg.budget)) ulm_sb_printf(&js, "\"budget\":%.2f,", cfg.budget);
        else ulm_sb_printf(&js, "\"budget\":null,");
        ulm_sb_printf(&js,
                      "\"max_per_customer\":%u,\"control_share\":%g,\"seed\":%llu,\"treated\":%zu,\"control\":%zu,"
                      "\"spend\":%.2f,\"expected_retained_value\":%.2f,\"expected_net\":%.2f,\"offers\":[",
                      cfg.max_per_customer, cfg.control_share, (unsigned long long)cfg.seed, t.treated, t.control,
                      t.spend, t.expected_value, t.expected_net);
        for (size_t o = 0; o < cfg.k; o++) {
            size_t nt = 0, nc = 0;
            for (size_t i = 0; i < np; i++)
                if (pk[i].offer == o) *(pk[i].control ? &nc : &nt) += 1;
            ulm_sb_printf(&js, "%s{\"id\":", o ? "," : "");
            ulm_sb_json_str(&js, cfg.id[o], strlen(cfg.id[o]));
            ulm_sb_printf(&js, ",\"cost\":%g,\"uplift\":%.6f,\"uplift_prior\":%g,\"uplift_source\":\"%s\"", cfg.offer[o].cost,
                          cfg.offer[o].uplift, cfg.prior[o], cfg.est[o].ok ? "campaign data" : "prior");
            if (cfg.est[o].ok)
                ulm_sb_printf(&js, ",\"uplift_se\":%.6f,\"n_treated\":%u,\"n_control\":%u", cfg.est[o].se,
                              cfg.est[o].n_treated, cfg.est[o].n_control);
            ulm_sb_printf(&js, ",\"treated\":%zu,\"control\":%zu}", nt, nc);
        }
        ulm_sb_printf(&js, "]");
        if (out) {
            ulm_sb_printf(&js, ",\"plan\":");
            ulm_sb_json_str(&js, out, strlen(out));
        } else {
            ulm_sb_printf(&js, ",\"plan_csv\":");
            ulm_sb_json_str(&js, csv.s, csv.len);
        }
        ulm_sb_printf(&js, "}\n");
        if (js.oom) goto done;
        fputs(js.s, stdout);
    } else if (!out) {
        fwrite(csv.s, 1, csv.len, stdout);
    } else {
        printf("%zu customers as of %s (%zu valued by CLV): %zu offers planned, %zu held out as control\n", n, day, n_clv,
               t.treated, t.control);
        char bud[48];
        if (isfinite(cfg.budget)) snprintf(bud, sizeof bud, "%.2f", cfg.budget);
        else snprintf(bud, sizeof bud, "no limit");
        printf("spend %.2f (budget %s), expected retained value %.2f, expected net %.2f; plan in %s\n", t.spend, bud,
               t.expected_value, t.expected_net, out);
    }
    rc = ULM_EXIT_OK;
done:
    ulm_sb_free(&csv);
    ulm_sb_free(&js);
    free(info);
    free(cu);
    free(pk);
    free(scratch);
    free(work);
    free(clv);
    ulm_profile_set_free(&set);
    ulm_churn_rows_free(&rows);
    ulm_events_free(&ev);
    ulm_model_free(m);
    ulm_campaign_cfg_free(&cfg);
    return rc;
}

/* Treated and control counts of one group of plan rows. */
typedef struct tally {
    char offer[64];
    size_t nt, rt, nc, rc;
} tally;

/* Appends one tally's rates, lift and 95% Wald interval, JSON or text. */
static void put_tally(ulm_sb *b, const tally *t, bool json, bool first) {
    double pt = t->nt ? (double)t->rt / t->nt : NAN, pc = t->nc ? (double)t->rc / t->nc : NAN;
    double lift = pt - pc, se = sqrt(pt * (1 - pt) / t->nt + pc * (1 - pc) / t->nc);
    bool ok = t->nt && t->nc;
    if (json) {
        ulm_sb_printf(b, "%s{\"offer\":", first ? "" : ",");
        ulm_sb_json_str(b, t->offer, strlen(t->offer));
        ulm_sb_printf(b, ",\"treated\":%zu,\"treated_retained\":%zu,\"control\":%zu,\"control_retained\":%zu", t->nt,
                      t->rt, t->nc, t->rc);
        if (ok)
            ulm_sb_printf(b, ",\"rate_treated\":%.6f,\"rate_control\":%.6f,\"lift\":%.6f,\"ci95\":[%.6f,%.6f]}", pt, pc,
                          lift, lift - 1.959964 * se, lift + 1.959964 * se);
        else
            ulm_sb_printf(b, ",\"lift\":null}");
    } else if (ok) {
        ulm_sb_printf(b, "  %-16s treated %6zu retained %6.2f%%  control %6zu retained %6.2f%%  lift %+6.2f pp [%+.2f, %+.2f]\n",
                      t->offer, t->nt, 100 * pt, t->nc, 100 * pc, 100 * lift, 100 * (lift - 1.959964 * se),
                      100 * (lift + 1.959964 * se));
    } else {
        ulm_sb_printf(b, "  %-16s treated %6zu  control %6zu  (no lift: a group is empty)\n", t->offer, t->nt, t->nc);
    }
}

/* Reads a CSV file into lines; returns the text (caller frees) or NULL after printing an error. */
static char *read_text(const char *path, size_t *len) {
    char *text = NULL;
    ulm_diag d;
    if (ulm_file_read(path, true, &text, len, &d) != ULM_OK) {
        ulm_errorf("campaign", "%s", d.message);
        return NULL;
    }
    return text;
}

/* Next line of text[*pos..len) NUL-terminated (CR stripped), or NULL at the end. */
static char *next_line(char *text, size_t len, size_t *pos) {
    if (*pos >= len) return NULL;
    char *p = text + *pos, *e = memchr(p, '\n', len - *pos);
    if (!e) e = text + len;
    *e = 0;
    if (e > p && e[-1] == '\r') e[-1] = 0;
    *pos = (size_t)(e - text) + 1;
    return p;
}

static int cmd_report(int argc, char **argv) {
    ulm_opt opts[] = {{"plan", true, NULL}, {"outcomes", true, NULL}, {"json", false, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *plan = ulm_opt_get(opts, no, "plan"), *outc = ulm_opt_get(opts, no, "outcomes");
    if (a.npos != 0 || !plan || !outc) {
        fprintf(stderr, "ulm campaign report: expected --plan PLAN.csv and --outcomes OUTCOMES.csv\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    int rc = ULM_EXIT_FAIL;
    size_t plen = 0, olen = 0, pos = 0, line = 0;
    char *ptext = read_text(plan, &plen), *otext = ptext ? read_text(outc, &olen) : NULL;
    ulm_dict ids;
    ulm_dict_init(&ids);
    uint8_t *ret = NULL;
    tally *ts = NULL;
    size_t nts = 0;
    ulm_sb b = {0};
    if (!ptext || !otext) goto done;
    /* outcomes: customer,retained */
    size_t cap = 1;
    for (size_t i = 0; i < olen; i++) cap += otext[i] == '\n';
    ret = malloc(cap);
    ts = calloc(ULM_CAMPAIGN_MAX_OFFERS + 1, sizeof *ts);
    if (!ret || !ts) goto done;
    for (char *l; (l = next_line(otext, olen, &pos));) {
        char *f[3];
        line++;
        if (!*l) continue;
        size_t nf = ulm_campaign_csv_split(l, f, 2);
        if (line == 1) {
            if (nf != 2 || strcmp(f[0], "customer") || strcmp(f[1], "retained")) {
                ulm_errorf("campaign", "%s:1: header must be customer,retained", outc);
                goto done;
            }
            continue;
        }
        if (nf != 2 || !((f[1][0] == '0' || f[1][0] == '1') && !f[1][1])) {
            ulm_errorf("campaign", "%s:%zu: retained: expected 2 fields with retained 0 or 1", outc, line);
            goto done;
        }
        uint32_t before = ids.n, k = ulm_dict_intern(&ids, f[0], strlen(f[0]), NULL);
        if (k == ULM_NONE) goto done;
        if (ids.n == before) {
            ulm_errorf("campaign", "%s:%zu: customer: '%s' appears twice", outc, line, f[0]);
            goto done;
        }
        ret[k] = (uint8_t)(f[1][0] - '0');
    }
    /* plan rows: customer,offer,control,... ; the overall tally is ts[0] */
    snprintf(ts[0].offer, sizeof ts[0].offer, "all");
    nts = 1;
    size_t missing = 0, rows = 0;
    pos = line = 0;
    for (char *l; (l = next_line(ptext, plen, &pos));) {
        char *f[11];
        line++;
        if (!*l) continue;
        size_t nf = ulm_campaign_csv_split(l, f, 10);
        if (line == 1) {
            if (nf < 3 || strcmp(f[0], "customer") || strcmp(f[1], "offer") || strcmp(f[2], "control")) {
                ulm_errorf("campaign", "%s:1: not a plan (header customer,offer,control,...)", plan);
                goto done;
            }
            continue;
        }
        if (nf < 3 || !((f[2][0] == '0' || f[2][0] == '1') && !f[2][1])) {
            ulm_errorf("campaign", "%s:%zu: control: expected 0 or 1", plan, line);
            goto done;
        }
        rows++;
        uint32_t k = ulm_dict_find(&ids, f[0], strlen(f[0]));
        if (k == ULM_NONE) {
            missing++;
            continue;
        }
        size_t o = 1;
        while (o < nts && strcmp(ts[o].offer, f[1])) o++;
        if (o == nts) {
            if (nts > ULM_CAMPAIGN_MAX_OFFERS) {
                ulm_errorf("campaign", "%s:%zu: offer: more than 64 offers", plan, line);
                goto done;
            }
            snprintf(ts[nts++].offer, sizeof ts[0].offer, "%s", f[1]);
        }
        bool ctl = f[2][0] == '1';
        tally *g[2] = {&ts[0], &ts[o]};
        for (int j = 0; j < 2; j++) {
            if (ctl) g[j]->nc++, g[j]->rc += ret[k];
            else g[j]->nt++, g[j]->rt += ret[k];
        }
    }
    if (json) {
        ulm_sb_printf(&b, "{\"plan_rows\":%zu,\"without_outcome\":%zu,\"overall\":", rows, missing);
        put_tally(&b, &ts[0], true, true);
        ulm_sb_printf(&b, ",\"by_offer\":[");
        for (size_t o = 1; o < nts; o++) put_tally(&b, &ts[o], true, o == 1);
        ulm_sb_printf(&b, "]}\n");
    } else {
        ulm_sb_printf(&b, "%zu plan rows, %zu without an outcome (left out); retention treated vs control:\n", rows,
                      missing);
        for (size_t o = 0; o < nts; o++) put_tally(&b, &ts[o], false, false);
    }
    if (b.oom) goto done;
    fputs(b.s, stdout);
    rc = ULM_EXIT_OK;
done:
    ulm_sb_free(&b);
    free(ret);
    free(ts);
    ulm_dict_free(&ids);
    free(ptext);
    free(otext);
    return rc;
}

int ulm_cmd_campaign(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "plan")) return cmd_plan(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "report")) return cmd_report(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return ULM_EXIT_OK;
    }
    fprintf(stderr, "ulm campaign: expected plan or report\n\n%s", usage);
    return ULM_EXIT_USAGE;
}
