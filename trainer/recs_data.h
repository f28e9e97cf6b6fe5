/* recs_data.h: recommender inputs for the trainer: interaction files and stores into matrices,
 * the shared recommender flags, and the JSON report of metrics. */
#ifndef ULM_TRAINER_RECS_DATA_H
#define ULM_TRAINER_RECS_DATA_H

#include "cli.h"
#include "ulm/ulm_rectrain.h"

/* A train/test pair over one user and item numbering (the training file's). */
typedef struct ulm_recs_input {
    ulm_imatrix train, test;
    ulm_dict users, items;       /* file mode: ids; store mode: unused (ev holds them) */
    ulm_events ev;               /* store mode */
    bool from_store;
    size_t test_rows_unknown_user, test_rows_unknown_item;
    uint32_t test_users_unknown; /* distinct users only in the test file */
    char **item_text;            /* store mode: per item, NUL-terminated, or NULL */
    uint32_t *item_text_len;
} ulm_recs_input;

/* Reads a CSV/TSV interaction file (header naming `user` and `item`, optional `weight` and
 * `time`) into triplets. When known_users/known_items are given (the test file), ids not in
 * them are skipped and counted; otherwise they are interned. Errors name file:line:field. */
ulm_status ulm_recs_read_file(const char *path, ulm_dict *users, ulm_dict *items, bool intern, uint32_t **u,
                              uint32_t **it, float **w, int64_t **t, size_t *n, size_t *skip_user, size_t *skip_item,
                              ulm_dict *unknown_users, ulm_diag *diag);
/* Loads --train/--test files into in. */
ulm_status ulm_recs_load_files(const char *train, const char *test, ulm_recs_input *in, ulm_diag *diag);
/* Loads a store, builds its matrix with the weights, and splits it by spec
 * ("random:0.2", "time:YYYY-MM-DD", "leave-last"). */
ulm_status ulm_recs_load_store(const char *store, const ulm_event_weights *w, const char *spec, uint64_t seed,
                               ulm_recs_input *in, ulm_diag *diag);
void ulm_recs_input_free(ulm_recs_input *in);

/* Option names every recommender command accepts (ulm_opt spec entries, in this order). */
#define ULM_RECS_OPTS                                                                                                  \
    {"algo", true, NULL}, {"factors", true, NULL}, {"iters", true, NULL}, {"reg", true, NULL},                         \
        {"alpha", true, NULL}, {"lambda", true, NULL}, {"neighbours", true, NULL}, {"lr", true, NULL},                 \
        {"seed", true, NULL}, {"threads", true, NULL}, {"cg-steps", true, NULL}, {"solver", true, NULL},              \
        {"weighting", true, NULL}, {"shrink", true, NULL}, {"bm25-k1", true, NULL}, {"bm25-b", true, NULL},            \
        {"view-weight", true, NULL}, {"cart-weight", true, NULL}, {"purchase-weight", true, NULL}
/* Fills p and w from the options (defaults for absent ones); prints an error and returns false on a bad value. */
bool ulm_recs_params_from_opts(const char *cmd, const ulm_opt *opts, size_t no, const char *def_algo,
                               ulm_rec_params *p, ulm_event_weights *w);
/* Appends the parameters that matter for p->algo as JSON members (",\"factors\":64,..."). */
void ulm_recs_params_json(ulm_sb *b, const ulm_rec_params *p);
/* `ulm train --recs NAME|auto`: builds the matrix from ev with the weight flags and trains NAME
 * (auto: the best validation NDCG@10 of pop, itemknn, als, ease, hybrid; their scores go into
 * json as ",\"recs_validation\":{...}"), then appends the chosen parameters to json. Prints
 * the error and returns false on failure. out is owned by the caller (ulm_rec_model_free). */
bool ulm_train_recs(const ulm_events *ev, const ulm_opt *opts, size_t no, const char *recs, ulm_rec_model *out,
                    ulm_rec_params *chosen, ulm_event_weights *w, ulm_sb *json);

#endif
