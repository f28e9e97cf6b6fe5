/* cmd_train.c: `ulm train STORE --out model.ulm`: train and export a model bundle. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "campaign_offers.h"
#include "churn_store.h"
#include "cli.h"
#include "commands.h"
#include "export.h"
#include "export_edge.h"
#include "profile_run.h"
#include "ulm/ulm_reccycle.h"
#include "ulm/ulm_score.h"
#include "recs_data.h"
#include "store.h"

static const char usage[] =
    "usage: ulm train STORE --out MODEL.ulm [options]\n\n"
    "Trains models from an event store (made by `ulm ingest`) and writes one model bundle atomically.\n"
    "Foundation models: the item catalogue (ids, names, latest prices), a recency-weighted popularity\n"
    "recommender and, unless --no-user-table, the purchase histories of known users.\n\n"
    "  --out FILE          bundle to write (required)\n"
    "  --half-life DAYS    popularity half-life in days (default 30; 0 = no decay)\n"
    "  --no-user-table     leave user histories out (for bundles shipped to browsers)\n"
    "  --deny IDS          comma-separated item ids never to recommend (postage, fees, ...)\n"
    "  --deny-file FILE    the same, one item id per line\n"
    "  --churn ALGO        also train a churn model (logreg, gbdt or auto) from the store (docs/churn.md)\n"
    "  --cutoff DATES      churn: YYYY-MM-DD cutoff(s), comma-separated to stack rows; features use events\n"
    "                      before a cutoff only, a customer who buys nothing in the horizon after it churned\n"
    "  --horizon DAYS      churn: label window (default: the 90th percentile of the gaps between purchase days)\n"
    "  --churn-table FILE  churn: also write the labelled feature rows as CSV\n"
    "  --churn-depth N     churn: depth of the boosted trees (1..8, default 4; smaller trees, smaller bundle)\n"
    "  --offers FILE       retention offers (the `ulm campaign` offers file, docs/nba.md) for the next best\n"
    "                      offer on the device; needs --churn\n"
    "  --uplift-data CSV   with --offers: past campaign outcomes whose two-model uplift replaces the priors\n"
    "  --no-profiles       leave out the profiler (profiles, RFM/k-means segments, stages, CLV)\n"
    "  --k K               k-means k for the profiler (default: chosen by silhouette)\n"
    "  --recs NAME         recommender to store next to popularity: pop (default), itemknn, als, bpr,\n"
    "                      ease, content, hybrid, or auto (best NDCG@10 on a validation split of 20%\n"
    "                      of each user's items among pop, itemknn, als, ease, hybrid)\n"
    "  --factors N --iters N --reg X --alpha X --cg-steps N --solver cg|cholesky --lambda X\n"
    "  --neighbours N --weighting bm25|tfidf|cosine --shrink X --lr X\n"
    "  --view-weight X --cart-weight X --purchase-weight X   as for `ulm eval recs`\n"
    "  --cycle-min-buyers N  repeat buyers an item needs to learn its repurchase cycle (default 5, 0 = none;\n"
    "                      bought items come back once a cycle old: docs/recs.md)\n"
    "  --quantize Q        recommender numbers: int8 (default: int8 factor rows with a per-row scale, u16 ids,\n"
    "                      fp16 weights), fp16, or none (f32 everywhere, as before 0.3; docs/format.md)\n"
    "  --edge              a bundle for browsers and edge workers (docs/edge.md): --catalogue bought\n"
    "                      --names none --prices none --profile-items none --compact --no-user-table\n"
    "  --catalogue all|bought[:N]  bought: only the items some identified customer purchased (bought:N:\n"
    "                      at least N customers), in id order; others are unknown to the bundle (default all)\n"
    "  --names all|none    none: no item names (ITNM); --prices all|none: no latest prices (ITPR)\n"
    "  --profile-items all|none  none: the profiler without item categories, reference prices and\n"
    "                      keywords (segments, stages and CLV stay; k-means then uses no discount share)\n"
    "  --compact           front-coded item ids, popularity and repurchase cycles in F16 where that is\n"
    "                      exact, the ALS Gram matrix as its triangle (older readers: ERR_VERSION)\n"
    "  --seed N            seed of the recommender, k-means and churn splits (default 42)\n"
    "  --threads N         worker threads (default 1; the bundle is the same for a given N)\n"
    "  --json              report as one JSON object\n";

/* Flags the items named in list (comma-separated, or a file of one id per line when is_file) in
 * deny[]. Returns how many ids are not in the catalogue, or -1 when the file cannot be read. */
static int mark_denied(const char *list, bool is_file, const ulm_events *ev, uint8_t *deny) {
    if (!list) return 0;
    char *text = NULL;
    size_t len = strlen(list);
    ulm_diag d;
    if (is_file) {
        if (ulm_file_read(list, true, &text, &len, &d) != ULM_OK) {
            ulm_errorf("train", "--deny-file: %s", d.message);
            return -1;
        }
        list = text;
    }
    char sep = is_file ? '\n' : ',';
    int unknown = 0;
    for (const char *p = list, *end = list + len; p < end;) {
        const char *e = memchr(p, sep, (size_t)(end - p));
        if (!e) e = end;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r') n--;
        if (n) {
            uint32_t it = ulm_dict_find(&ev->items, p, n);
            if (it == ULM_NONE) unknown++;
            else deny[it] = 1;
        }
        p = e + 1;
    }
    free(text);
    return unknown;
}

/* True when option name is "none" (its other value is "all"). */
static bool is_none(const ulm_opt *opts, size_t no, const char *name) {
    const char *v = ulm_opt_get(opts, no, name);
    return v && strcmp(v, "none") == 0;
}

/* The buyers an item needs under --catalogue bought[:N] (0: all items, or a bad value). */
static uint32_t catalogue_min_buyers(const char *v) {
    if (!v || strncmp(v, "bought", 6) != 0) return 0;
    if (!v[6]) return 1;
    char *end;
    unsigned long n = v[6] == ':' && v[7] >= '1' && v[7] <= '9' ? strtoul(v + 7, &end, 10) : 0;
    return n && !*end && n <= UINT32_MAX ? (uint32_t)n : 0;
}

/* --edge sets the edge bundle's options the command line leaves unset; checks their values. */
static int edge_preset(ulm_opt *opts, size_t no) {
    static const char *const preset[][2] = {{"catalogue", "bought"}, {"names", "none"}, {"prices", "none"},
                                            {"profile-items", "none"}, {"compact", "1"}, {"no-user-table", "1"}};
    bool edge = ulm_opt_get(opts, no, "edge") != NULL;
    for (size_t p = 0; p < sizeof preset / sizeof preset[0]; p++)
        for (size_t i = 0; i < no; i++)
            if (!strcmp(opts[i].name, preset[p][0]) && !opts[i].value && edge) opts[i].value = preset[p][1];
    const char *cat = ulm_opt_get(opts, no, "catalogue");
    if (cat && strcmp(cat, "all") && !catalogue_min_buyers(cat)) {
        ulm_errorf("train", "unknown --catalogue '%s' (all, bought, or bought:N with N >= 1 buyers)", cat);
        return 1;
    }
    static const char *const two[] = {"names", "prices", "profile-items"};
    for (size_t t = 0; t < 3; t++) {
        const char *v = ulm_opt_get(opts, no, two[t]);
        if (v && strcmp(v, "all") && strcmp(v, "none")) {
            ulm_errorf("train", "unknown --%s '%s' (all, none)", two[t], v);
            return 1;
        }
    }
    return 0;
}

/* --offers: the offers file's offers (uplift from --uplift-data where it has campaign rows) go into the
 * bundle after the churn sections, for the device-side next best offer (docs/nba.md). */
typedef struct offers_extra {
    ulm_status (*prev)(ulm_writer *w, void *ctx);
    void *prev_ctx;
    ulm_campaign_cfg cfg;
    bool have;
} offers_extra;

static ulm_status offers_sections(ulm_writer *w, void *ctx) {
    offers_extra *x = ctx;
    ulm_status s = x->prev ? x->prev(w, x->prev_ctx) : ULM_OK;
    int from_campaign[ULM_CAMPAIGN_MAX_OFFERS];
    for (size_t o = 0; o < x->cfg.k; o++) from_campaign[o] = x->cfg.est[o].ok;
    if (s == ULM_OK)
        s = ulm_offers_write(w, x->cfg.k, (const char *const *)x->cfg.id, x->cfg.offer, x->cfg.prior, from_campaign,
                             x->cfg.control_share, x->cfg.seed);
    return s;
}

/* Reads --offers (and --uplift-data); returns 0 or an exit code after printing the error. */
static int offers_read(const ulm_opt *opts, size_t no, bool churn, ulm_campaign_cfg *cfg) {
    const char *path = ulm_opt_get(opts, no, "offers"), *updata = ulm_opt_get(opts, no, "uplift-data");
    if (!path || !churn) {
        ulm_errorf("train", "%s", !path ? "--uplift-data needs --offers FILE" : "--offers needs --churn ALGO (the offer policy reads P(churn))");
        return ULM_EXIT_USAGE;
    }
    if (!ulm_campaign_cfg_read(path, cfg)) return ULM_EXIT_FAIL;
    if (updata && !ulm_campaign_uplift_read(updata, cfg)) {
        ulm_campaign_cfg_free(cfg);
        return ULM_EXIT_FAIL;
    }
    return 0;
}

int ulm_cmd_train(int argc, char **argv) {
    ulm_opt opts[] = {{"out", true, NULL}, {"half-life", true, NULL}, {"no-user-table", false, NULL}, {"json", false, NULL},
                      {"deny", true, NULL}, {"deny-file", true, NULL}, {"recs", true, NULL}, ULM_RECS_OPTS,
                      {"churn", true, NULL}, {"cutoff", true, NULL}, {"horizon", true, NULL}, {"churn-table", true, NULL},
                      {"no-profiles", false, NULL}, {"k", true, NULL},
                      {"cycle-min-buyers", true, NULL}, {"offers", true, NULL}, {"uplift-data", true, NULL},
                      {"quantize", true, NULL}, {"edge", false, NULL}, {"catalogue", true, NULL}, {"names", true, NULL},
                      {"prices", true, NULL}, {"profile-items", true, NULL}, {"compact", false, NULL}, {"churn-depth", true, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    if (edge_preset(opts, no) != 0) return ULM_EXIT_USAGE;
    const char *out = ulm_opt_get(opts, no, "out");
    if (a.npos != 1 || !out) {
        fprintf(stderr, "ulm train: expected STORE and --out FILE\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    ulm_export_opts eo = {.user_table = !ulm_opt_get(opts, no, "no-user-table"), .as_of = INT64_MIN};
    eo.no_names = is_none(opts, no, "names"), eo.no_prices = is_none(opts, no, "prices");
    eo.compact = ulm_opt_get(opts, no, "compact") != NULL;
    if (!ulm_opt_f64(opts, no, "half-life", 30.0, &eo.half_life_days)) return ULM_EXIT_USAGE;
    if (eo.half_life_days < 0) {
        ulm_errorf("train", "--half-life must be >= 0 days");
        return ULM_EXIT_USAGE;
    }
    const char *quant = ulm_opt_get(opts, no, "quantize");
    if (!quant || !strcmp(quant, "int8")) eo.recs_quant = ULM_REC_QUANT_INT8, quant = "int8";
    else if (!strcmp(quant, "fp16")) eo.recs_quant = ULM_REC_QUANT_FP16;
    else if (!strcmp(quant, "none")) eo.recs_quant = ULM_REC_QUANT_NONE;
    else {
        ulm_errorf("train", "unknown --quantize '%s' (int8, fp16, none)", quant);
        return ULM_EXIT_USAGE;
    }
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    double t0 = ulm_now();
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_status s = ULM_OK;
    if (!ulm_store_load("train", a.pos[0], &ev)) return ULM_EXIT_FAIL;
    uint32_t dropped = 0, min_buyers = catalogue_min_buyers(ulm_opt_get(opts, no, "catalogue"));
    if (min_buyers && (s = ulm_edge_restrict_catalogue(&ev, min_buyers, &dropped)) != ULM_OK) {
        ulm_errorf("train", "--catalogue bought: %s", ulm_status_name(s));
        ulm_events_free(&ev);
        return ULM_EXIT_FAIL;
    }
    uint8_t *deny = calloc((size_t)ev.items.n + 1, 1);
    int unknown = deny ? mark_denied(ulm_opt_get(opts, no, "deny"), false, &ev, deny) : -1;
    int unknown_f = deny ? mark_denied(ulm_opt_get(opts, no, "deny-file"), true, &ev, deny) : -1;
    if (unknown < 0 || unknown_f < 0) {
        free(deny);
        ulm_events_free(&ev);
        return ULM_EXIT_FAIL;
    }
    if (unknown + unknown_f)
        fprintf(stderr, "ulm train: %d denied item id(s) are not in the catalogue (ignored)\n", unknown + unknown_f);
    eo.deny = deny;
    ulm_churn_job cj;
    ulm_churn_job_init(&cj);
    const char *churn = ulm_opt_get(opts, no, "churn");
    offers_extra ox = {0}; /* read before any training, so a bad offers file fails at once */
    if (ulm_opt_get(opts, no, "offers") || ulm_opt_get(opts, no, "uplift-data")) {
        int rc = offers_read(opts, no, churn != NULL, &ox.cfg);
        if (rc) {
            free(deny);
            ulm_events_free(&ev);
            return rc;
        }
        ox.have = true;
    }
    if (churn || ulm_opt_get(opts, no, "cutoff") || ulm_opt_get(opts, no, "horizon") || ulm_opt_get(opts, no, "churn-depth")) {
        uint64_t th = 1, depth = 4;
        int rc = !churn ? (ulm_errorf("train", "--cutoff, --horizon and --churn-depth need --churn ALGO"), ULM_EXIT_USAGE)
                 : !ulm_opt_u64(opts, no, "threads", 1, &th) || th < 1 || th > 256 ? ULM_EXIT_USAGE : 0;
        if (!rc && (!ulm_opt_u64(opts, no, "churn-depth", 4, &depth) || depth < 1 || depth > 8))
            rc = (ulm_errorf("train", "--churn-depth must be 1..8"), ULM_EXIT_USAGE);
        cj.params.gbdt.max_depth = (uint32_t)depth;
        cj.algo = churn, cj.cutoffs = ulm_opt_get(opts, no, "cutoff"), cj.horizon = ulm_opt_get(opts, no, "horizon");
        cj.threads = (uint32_t)th;
        if (!rc) rc = ulm_churn_job_fit(&ev, &cj, "train");
        const char *table = ulm_opt_get(opts, no, "churn-table");
        if (!rc && table && ulm_churn_rows_csv(table, &ev, &cj, &d) != ULM_OK) {
            ulm_errorf("train", "--churn-table %s: %s", table, d.message);
            rc = ULM_EXIT_FAIL;
        }
        if (rc) {
            ulm_churn_job_free(&cj);
            if (ox.have) ulm_campaign_cfg_free(&ox.cfg);
            free(deny);
            ulm_events_free(&ev);
            return rc;
        }
        eo.extra = ulm_churn_job_sections;
        eo.extra_ctx = &cj;
    }
    if (ox.have) { /* after the churn sections */
        ox.prev = eo.extra, ox.prev_ctx = eo.extra_ctx;
        eo.extra = offers_sections;
        eo.extra_ctx = &ox;
    }
    ulm_profiler *prof = NULL;
    if (!ulm_opt_get(opts, no, "no-profiles") && ulm_train_profiler(&ev, opts, no, &prof) != 0) {
        ulm_churn_job_free(&cj);
        free(deny);
        ulm_events_free(&ev);
        if (ox.have) ulm_campaign_cfg_free(&ox.cfg);
        return ULM_EXIT_USAGE;
    }
    eo.profiler = prof;
    const char *recs = ulm_opt_get(opts, no, "recs");
    ulm_rec_model rm;
    memset(&rm, 0, sizeof rm);
    ulm_sb rj = {0};
    if (recs && strcmp(recs, "pop") != 0) {
        ulm_rec_params rp;
        ulm_event_weights rw;
        double t1 = ulm_now();
        if (!ulm_train_recs(&ev, opts, no, recs, &rm, &rp, &rw, &rj)) {
            ulm_churn_job_free(&cj);
            ulm_profiler_free(prof);
            free(deny);
            ulm_sb_free(&rj);
            ulm_events_free(&ev);
            if (ox.have) ulm_campaign_cfg_free(&ox.cfg);
            return ULM_EXIT_FAIL;
        }
        ulm_sb_printf(&rj, ",\"recs_seconds\":%.3f,\"quantize\":\"%s\"", ulm_now() - t1, quant);
        eo.recs = &rm;
        eo.recs_hist_weight = rw.purchase;
        eo.recs_ease_keep = rp.algo == ULM_REC_EASE ? rp.neighbours : 100;
    }
    const char *recs_name = eo.recs ? ulm_rec_algo_name(rm.algo) : "pop";
    uint8_t *buf = NULL;
    size_t len = 0;
    ulm_export_info info;
    uint64_t cyc_min;
    uint32_t n_cyc = 0;
    float *cycles = malloc(((size_t)ev.items.n + 1) * sizeof *cycles);
    if (!ulm_opt_u64(opts, no, "cycle-min-buyers", ULM_CYCLE_MIN_BUYERS, &cyc_min) || cyc_min > UINT32_MAX) {
        s = ULM_ERR_RANGE;
        snprintf(d.message, sizeof d.message, "--cycle-min-buyers must be a whole number >= 0");
    } else {
        s = cycles ? ulm_repurchase_cycles(&ev, (uint32_t)cyc_min, cycles, &n_cyc) : ULM_ERR_NOMEM;
    }
    eo.cycles = cycles;
    ulm_sb_printf(&rj, ",\"repurchase_cycles\":%u,\"items_dropped\":%u", n_cyc, dropped);
    if (s == ULM_OK) s = ulm_export_bundle(&ev, &eo, &buf, &len, &info, &d);
    free(cycles);
    if (s == ULM_OK) s = ulm_file_write_atomic(out, buf, len, &d);
    free(buf);
    free(deny);
    ulm_profiler_free(prof);
    ulm_rec_model_free(&rm);
    if (s != ULM_OK) {
        ulm_errorf("train", "%s: %s", ulm_status_name(s), d.message);
        ulm_churn_job_free(&cj);
        ulm_sb_free(&rj);
        ulm_events_free(&ev);
        if (ox.have) ulm_campaign_cfg_free(&ox.cfg);
        return ULM_EXIT_FAIL;
    }
    char when[48];
    ulm_format_time(info.as_of, when);
    double secs = ulm_now() - t0;
    if (json) {
        ulm_sb b = {0};
        ulm_sb_printf(&b, "{\"out\":");
        ulm_sb_json_str(&b, out, strlen(out));
        ulm_sb_printf(&b,
                      ",\"bytes\":%zu,\"events\":%zu,\"items\":%u,\"items_with_names\":%u,\"users\":%u,"
                      "\"items_denied\":%u,\"recs\":\"%s\",\"half_life_days\":%g,\"as_of\":\"%s\",\"seconds\":%.3f%s",
                      info.bytes, ev.n, info.items, info.items_with_names, info.users, info.items_denied, recs_name,
                      eo.half_life_days, when, secs, rj.s ? rj.s : "");
        if (eo.compact) ulm_sb_printf(&b, ",\"popularity\":\"%s\"", info.pop_f16 ? "f16" : "f32");
        if (cj.model) {
            ulm_sb_printf(&b, ",\"churn\":");
            ulm_churn_job_report(&cj, &b, true);
        }
        ulm_sb_printf(&b, "}\n");
        fputs(b.s, stdout);
        ulm_sb_free(&b);
    } else {
        printf("trained on %zu events as of %s: %u items (%u named, %u denied), %u users\n"
               "recommender: %s (popularity fallback, half-life %g days)\nwrote %s (%zu bytes) in %.2f s\n",
               ev.n, when, info.items, info.items_with_names, info.items_denied, info.users, recs_name,
               eo.half_life_days, out, info.bytes, secs);
        if (cj.model) {
            ulm_sb b = {0};
            ulm_churn_job_report(&cj, &b, false);
            if (b.s) fputs(b.s, stdout);
            ulm_sb_free(&b);
        }
    }
    ulm_churn_job_free(&cj);
    if (ox.have) ulm_campaign_cfg_free(&ox.cfg);
    ulm_sb_free(&rj);
    ulm_events_free(&ev);
    return ULM_EXIT_OK;
}
