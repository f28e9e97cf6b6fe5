/* cmd_eval.c: `ulm eval recs` (offline ranking metrics) and `ulm tune recs` (grid search on a
 * validation split carved from the training data only, then one evaluation on the test data). */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "recs_data.h"
#include "ulm_native.h"

static const char eval_usage[] =
    "usage: ulm eval recs (--train FILE --test FILE | STORE --split SPEC) [options]\n\n"
    "Trains a recommender on the training interactions and ranks every item for each user with test\n"
    "interactions, excluding the user's training items. Prints precision, recall, NDCG, MAP, hit rate\n"
    "and catalogue coverage at each K. Users without test items are skipped and counted; test rows\n"
    "naming users or items absent from the training file are skipped and counted.\n\n"
    "  --train FILE --test FILE  CSV/TSV with a header naming `user` and `item` (optional `weight`, `time`)\n"
    "  STORE --split SPEC        an event store split by random:F (per user), time:YYYY-MM-DD or leave-last\n"
    "  --k LIST                  cut-offs, comma-separated (default 10,20)\n"
    "  --algo NAME               pop, itemknn, als, bpr, ease, content, hybrid (default pop)\n"
    "  --factors N --iters N --reg X --alpha X --cg-steps N --solver cg|cholesky   ALS / BPR\n"
    "  --lambda X                EASE regularisation (default 200)\n"
    "  --neighbours N --weighting bm25|tfidf|cosine --shrink X --bm25-k1 X --bm25-b X   item-kNN\n"
    "  --lr X                    BPR learning rate (adapted per epoch)\n"
    "  --seed N --threads N      split and model seed (default 42), worker threads (default 1)\n"
    "  --view-weight X --cart-weight X --purchase-weight X   event weights for stores (1, 2, 4)\n"
    "  --json                    one JSON object\n";

static const char tune_usage[] =
    "usage: ulm tune recs (--train FILE --test FILE | STORE --split SPEC) --algo NAME [options]\n\n"
    "Carves a validation split (20% of each user's training items, --seed) from the training data,\n"
    "tries a small grid of the algorithm's main parameter(s) on it, picks the best NDCG@10, retrains\n"
    "on all training data and evaluates once on the test data. The test data never guides the choice.\n"
    "Grids: ease lambda 50..3200; als reg 0.1..200 x alpha 0.5..4; itemknn neighbours 10..100 x\n"
    "weighting tfidf|bm25|cosine; bpr lr 0.01..0.1; others: none.\n"
    "Accepts the options of `ulm eval recs`.\n";

/* Parses "10,20" into ks (at most 8, each >= 1). */
static bool parse_ks(const char *s, uint32_t *ks, size_t *n) {
    *n = 0;
    while (s && *s) {
        char *e;
        unsigned long v = strtoul(s, &e, 10);
        if (e == s || v == 0 || v > 100000 || *n == 8) return false;
        ks[(*n)++] = (uint32_t)v;
        if (*e == ',') e++;
        else if (*e) return false;
        s = e;
    }
    return *n > 0;
}

/* Trains p on train and evaluates on test; *secs gets the training time. */
static ulm_status train_eval(const ulm_imatrix *train, const ulm_imatrix *test, const ulm_rec_params *p,
                             const uint32_t *ks, size_t n_ks, ulm_rec_metrics *at, ulm_rec_eval_info *info,
                             double *train_secs, double *eval_secs, ulm_diag *d) {
    ulm_linalg la;
    ulm_linalg_native(&la, p->threads);
    ulm_rec_model m;
    double t0 = ulm_now();
    ulm_status s = ulm_rec_train(train, p, &la, &m, d);
    *train_secs = ulm_now() - t0;
    if (s != ULM_OK) return s;
    t0 = ulm_now();
    s = ulm_rec_evaluate(&m, train, test, ks, n_ks, &la, p->threads, at, info, d);
    *eval_secs = ulm_now() - t0;
    ulm_rec_model_free(&m);
    return s;
}

static void print_result(bool json, const ulm_recs_input *in, const ulm_rec_params *p, const uint32_t *ks, size_t n_ks,
                         const ulm_rec_metrics *at, const ulm_rec_eval_info *info, double tsec, double esec,
                         const char *extra_json) {
    if (json) {
        ulm_sb b = {0};
        ulm_sb_printf(&b, "{\"users\":%u,\"items\":%u,\"train_interactions\":%zu,\"test_interactions\":%zu",
                      in->train.n_users, in->train.n_items, in->train.nnz, info->test_items);
        ulm_recs_params_json(&b, p);
        for (size_t q = 0; q < n_ks; q++) {
            unsigned k = ks[q];
            ulm_sb_printf(&b,
                          ",\"precision@%u\":%.6f,\"recall@%u\":%.6f,\"ndcg@%u\":%.6f,\"map@%u\":%.6f,"
                          "\"hit_rate@%u\":%.6f,\"coverage@%u\":%.6f",
                          k, at[q].precision, k, at[q].recall, k, at[q].ndcg, k, at[q].map, k, at[q].hit_rate, k,
                          at[q].coverage);
        }
        ulm_sb_printf(&b,
                      ",\"users_evaluated\":%u,\"users_cold\":%u,\"users_skipped_no_test\":%u,"
                      "\"users_skipped_unknown\":%u,\"test_rows_skipped_unknown_user\":%zu,"
                      "\"test_rows_skipped_unknown_item\":%zu,\"train_seconds\":%.4f,\"eval_seconds\":%.4f%s}\n",
                      info->users_evaluated, info->users_cold, info->users_no_test, in->test_users_unknown,
                      in->test_rows_unknown_user, in->test_rows_unknown_item, tsec, esec, extra_json ? extra_json : "");
        fputs(b.s, stdout);
        ulm_sb_free(&b);
        return;
    }
    printf("%s on %u users x %u items (%zu training, %zu test interactions): trained in %.3f s\n",
           ulm_rec_algo_name(p->algo), in->train.n_users, in->train.n_items, in->train.nnz, info->test_items, tsec);
    printf("%6s %10s %10s %10s %10s %10s %10s\n", "K", "precision", "recall", "ndcg", "map", "hit_rate", "coverage");
    for (size_t q = 0; q < n_ks; q++)
        printf("%6u %10.4f %10.4f %10.4f %10.4f %10.4f %10.4f\n", ks[q], at[q].precision, at[q].recall, at[q].ndcg,
               at[q].map, at[q].hit_rate, at[q].coverage);
    printf("users evaluated %u (%u without training items); skipped: %u without test items, %u only in the test data\n",
           info->users_evaluated, info->users_cold, info->users_no_test, in->test_users_unknown);
    if (in->test_rows_unknown_user || in->test_rows_unknown_item)
        printf("test rows skipped: %zu with unknown users, %zu with unknown items\n", in->test_rows_unknown_user,
               in->test_rows_unknown_item);
}

/* Shared by eval and tune: parses, loads, runs. */
static int run(int argc, char **argv, bool tune) {
    const char *usage = tune ? tune_usage : eval_usage, *cmd = tune ? "tune" : "eval";
    ulm_opt opts[] = {ULM_RECS_OPTS, {"train", true, NULL}, {"test", true, NULL}, {"split", true, NULL},
                      {"k", true, NULL}, {"json", false, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    if (argc < 2 || strcmp(argv[1], "recs") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            fputs(usage, stdout);
            return ULM_EXIT_OK;
        }
        fprintf(stderr, "ulm %s: expected `recs` as the first argument\n\n%s", cmd, usage);
        return ULM_EXIT_USAGE;
    }
    int r = ulm_args_parse(&a, argc - 1, argv + 1, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    ulm_rec_params p;
    ulm_event_weights w;
    if (!ulm_recs_params_from_opts(cmd, opts, no, "pop", &p, &w)) return ULM_EXIT_USAGE;
    uint32_t ks[8];
    size_t n_ks;
    const char *kspec = ulm_opt_get(opts, no, "k");
    if (!parse_ks(kspec ? kspec : "10,20", ks, &n_ks)) {
        ulm_errorf(cmd, "--k needs a comma-separated list of cut-offs >= 1 (at most 8)");
        return ULM_EXIT_USAGE;
    }
    const char *trf = ulm_opt_get(opts, no, "train"), *tef = ulm_opt_get(opts, no, "test");
    const char *split = ulm_opt_get(opts, no, "split");
    bool files = trf || tef;
    if (files ? (!trf || !tef || a.npos != 0 || split) : (a.npos != 1 || !split)) {
        fprintf(stderr, "ulm %s recs: give --train FILE --test FILE, or STORE --split SPEC\n\n%s", cmd, usage);
        return ULM_EXIT_USAGE;
    }
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    ulm_recs_input in;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_status s = files ? ulm_recs_load_files(trf, tef, &in, &d) : ulm_recs_load_store(a.pos[0], &w, split, p.seed, &in, &d);
    if (s == ULM_OK && in.train.nnz == 0) s = ULM_ERR_RANGE, snprintf(d.message, sizeof d.message, "the training data has no interactions");
    if (s != ULM_OK) {
        ulm_errorf(cmd, "%s: %s", ulm_status_name(s), d.message);
        ulm_recs_input_free(&in);
        return ULM_EXIT_FAIL;
    }
    if (in.item_text) {
        p.item_text = (const char *const *)in.item_text;
        p.item_text_len = in.item_text_len;
    } else if (p.algo == ULM_REC_CONTENT) {
        ulm_errorf(cmd, "the content recommender needs item text: evaluate it on a store");
        ulm_recs_input_free(&in);
        return ULM_EXIT_FAIL;
    }
    ulm_rec_metrics at[8];
    ulm_rec_eval_info info;
    double tsec = 0, esec = 0;
    ulm_sb extra = {0};
    if (tune) {
        /* Validation: 20% of each user's training items; the grid never sees the test data. */
        ulm_imatrix fit, val;
        s = ulm_imatrix_split_random(&in.train, 0.2, p.seed ^ 0x5EED, &fit, &val, &d);
        float grid_a[8] = {0}, grid_b[4] = {0};
        int na = 1, nb = 1;
        switch (p.algo) {
        case ULM_REC_EASE: {
            float g[] = {50, 100, 200, 400, 800, 1600, 3200};
            na = 7;
            memcpy(grid_a, g, sizeof g);
            break;
        }
        case ULM_REC_ALS: {
            float g[] = {0.1f, 1.0f, 10.0f, 50.0f, 200.0f}, h[] = {0.5f, 1, 4};
            na = 5, nb = 3;
            memcpy(grid_a, g, sizeof g);
            memcpy(grid_b, h, sizeof h);
            break;
        }
        case ULM_REC_ITEMKNN: {
            float g[] = {10, 20, 50, 100}, h[] = {ULM_KNN_TFIDF, ULM_KNN_BM25, ULM_KNN_NONE};
            na = 4, nb = 3;
            memcpy(grid_a, g, sizeof g);
            memcpy(grid_b, h, sizeof h);
            break;
        }
        case ULM_REC_HYBRID: {
            float g[] = {20, 50, 100, 200};
            na = 4;
            memcpy(grid_a, g, sizeof g);
            break;
        }
        case ULM_REC_BPR: {
            float g[] = {0.01f, 0.05f, 0.1f};
            na = 3;
            memcpy(grid_a, g, sizeof g);
            break;
        }
        default: break;
        }
        double best = -1;
        ulm_rec_params bestp = p;
        ulm_sb_printf(&extra, ",\"validation\":[");
        for (int ia = 0; ia < na && s == ULM_OK; ia++)
            for (int ib = 0; ib < nb && s == ULM_OK; ib++) {
                ulm_rec_params q = p;
                if (p.algo == ULM_REC_EASE) q.lambda = grid_a[ia];
                if (p.algo == ULM_REC_ALS) q.reg = grid_a[ia], q.alpha = grid_b[ib];
                if (p.algo == ULM_REC_ITEMKNN || p.algo == ULM_REC_HYBRID) q.neighbours = (uint32_t)grid_a[ia];
                if (p.algo == ULM_REC_ITEMKNN) q.weighting = (ulm_knn_weighting)grid_b[ib];
                if (p.algo == ULM_REC_BPR) q.lr = grid_a[ia];
                ulm_rec_metrics vat[1];
                ulm_rec_eval_info vinfo;
                uint32_t k10 = 10;
                double ts, es;
                s = train_eval(&fit, &val, &q, &k10, 1, vat, &vinfo, &ts, &es, &d);
                if (s != ULM_OK) break;
                ulm_sb_printf(&extra, "%s{", ia + ib ? "," : "");
                ulm_sb b2 = {0};
                ulm_recs_params_json(&b2, &q);
                ulm_sb_append(&extra, b2.s + 1, b2.len - 1);
                ulm_sb_free(&b2);
                ulm_sb_printf(&extra, ",\"ndcg@10\":%.6f}", vat[0].ndcg);
                if (!json)
                    fprintf(stderr, "validation: lambda %g reg %g alpha %g neighbours %u lr %g -> ndcg@10 %.4f\n", q.lambda,
                            q.reg, q.alpha, q.neighbours, q.lr, vat[0].ndcg);
                if (vat[0].ndcg > best) best = vat[0].ndcg, bestp = q;
            }
        ulm_sb_printf(&extra, "],\"validation_best_ndcg@10\":%.6f", best);
        ulm_imatrix_free(&fit);
        ulm_imatrix_free(&val);
        p = bestp;
    }
    if (s == ULM_OK) s = train_eval(&in.train, &in.test, &p, ks, n_ks, at, &info, &tsec, &esec, &d);
    if (s != ULM_OK) {
        ulm_errorf(cmd, "%s: %s", ulm_status_name(s), d.message);
        ulm_sb_free(&extra);
        ulm_recs_input_free(&in);
        return ULM_EXIT_FAIL;
    }
    print_result(json, &in, &p, ks, n_ks, at, &info, tsec, esec, extra.s);
    ulm_sb_free(&extra);
    ulm_recs_input_free(&in);
    return ULM_EXIT_OK;
}

int ulm_cmd_eval_recs(int argc, char **argv) { return run(argc, argv, false); }
int ulm_cmd_tune(int argc, char **argv) { return run(argc, argv, true); }
