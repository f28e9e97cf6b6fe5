/* recs_train.c: the recommender half of `ulm train --recs NAME|auto`: builds the interaction
 * matrix from the store's events, trains the named algorithm (or, for auto, each candidate on a
 * validation split carved from the data and the best NDCG@10 again on everything). */
#include <stdlib.h>
#include <string.h>

#include "recs_data.h"
#include "ulm_native.h"

/* Trains algorithm `name` with the command's flags on x; returns false after printing an error. */
static bool train_one(const char *name, const ulm_opt *opts, size_t no, const ulm_imatrix *x,
                      const char *const *text, const uint32_t *text_len, ulm_rec_params *p, ulm_event_weights *w,
                      ulm_rec_model *out, ulm_diag *d) {
    if (!ulm_recs_params_from_opts("train", opts, no, name, p, w)) return false;
    p->item_text = text;
    p->item_text_len = text_len;
    ulm_linalg la;
    ulm_linalg_native(&la, p->threads);
    ulm_status s = ulm_rec_train(x, p, &la, out, d);
    if (s != ULM_OK) {
        ulm_errorf("train", "--recs %s: %s: %s", name, ulm_status_name(s), d->message);
        return false;
    }
    return true;
}

bool ulm_train_recs(const ulm_events *ev, const ulm_opt *opts, size_t no, const char *recs, ulm_rec_model *out,
                    ulm_rec_params *chosen, ulm_event_weights *w, ulm_sb *json) {
    memset(out, 0, sizeof *out);
    bool autom = strcmp(recs, "auto") == 0;
    if (!autom && ulm_rec_algo_parse(recs) < 0) {
        ulm_errorf("train", "unknown --recs '%s' (pop, itemknn, als, bpr, ease, content, hybrid, auto)", recs);
        return false;
    }
    /* The weights come from the flags alone; parse them once to build the matrix. */
    if (!ulm_recs_params_from_opts("train", opts, no, autom ? "pop" : recs, chosen, w)) return false;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_imatrix x;
    ulm_status s = ulm_imatrix_from_events(ev, w, &x, &d);
    if (s == ULM_OK && x.nnz == 0) s = ULM_ERR_RANGE, snprintf(d.message, sizeof d.message, "no interactions to train on");
    if (s != ULM_OK) {
        ulm_errorf("train", "--recs: %s: %s", ulm_status_name(s), d.message);
        return false;
    }
    uint32_t ni = ev->items.n;
    const char **text = calloc((size_t)ni + 1, sizeof *text);
    uint32_t *text_len = calloc((size_t)ni + 1, sizeof *text_len);
    bool ok = text && text_len, have_text = false;
    for (uint32_t i = 0; ok && i < ni; i++) {
        text[i] = ulm_events_item_text(ev, i, &text_len[i]);
        if (!text[i]) text_len[i] = 0;
        have_text |= text_len[i] > 0;
    }
    const char *pick = recs;
    if (ok && autom) {
        /* Candidates with their defaults (and the command's flags), scored on 20% of each
         * user's items; popularity is the baseline every candidate must beat. */
        const char *cand[] = {"pop", "itemknn", "als", "ease", "hybrid"};
        ulm_imatrix fit, val;
        s = ulm_imatrix_split_random(&x, 0.2, chosen->seed ^ 0x5EEDull, &fit, &val, &d);
        if (s != ULM_OK) {
            ulm_errorf("train", "--recs auto: cannot carve a validation split: %s", d.message);
            ok = false;
        }
        double best = -1;
        ulm_sb_printf(json, ",\"recs_validation\":{");
        for (size_t c = 0, first = 1; ok && c < sizeof cand / sizeof cand[0]; c++) {
            if (strcmp(cand[c], "ease") == 0 && ni > ULM_EASE_MAX_ITEMS) continue;
            if (strcmp(cand[c], "hybrid") == 0 && !have_text) continue;
            ulm_rec_params p;
            ulm_event_weights w2;
            ulm_rec_model m;
            if (!train_one(cand[c], opts, no, &fit, text, text_len, &p, &w2, &m, &d)) {
                ok = false;
                break;
            }
            ulm_linalg la;
            ulm_linalg_native(&la, p.threads);
            uint32_t k10 = 10;
            ulm_rec_metrics at;
            ulm_rec_eval_info info;
            s = ulm_rec_evaluate(&m, &fit, &val, &k10, 1, &la, p.threads, &at, &info, &d);
            ulm_rec_model_free(&m);
            if (s != ULM_OK) {
                ulm_errorf("train", "--recs auto: evaluating %s: %s", cand[c], d.message);
                ok = false;
                break;
            }
            ulm_sb_printf(json, "%s\"%s\":%.6f", first ? "" : ",", cand[c], at.ndcg);
            first = 0;
            if (at.ndcg > best) best = at.ndcg, pick = cand[c];
        }
        ulm_sb_printf(json, "}");
        ulm_imatrix_free(&fit);
        ulm_imatrix_free(&val);
    }
    if (ok) ok = train_one(pick, opts, no, &x, text, text_len, chosen, w, out, &d);
    if (ok) ulm_recs_params_json(json, chosen);
    free(text);
    free(text_len);
    ulm_imatrix_free(&x);
    return ok;
}
