/* churn_table.h: tabular CSV input for churn models: a header row, numeric columns (every non-missing
 * value parses as a number) and categorical columns (anything else), a binary label column.
 *
 * Training learns a schema (columns kept, kinds, category codes, the positive label); scoring files
 * are read through the same schema: columns are matched by name (order and extra columns do not
 * matter), categories unseen in training become missing (counted), a missing training column or a
 * non-number in a numeric column is an error naming file, line and column.
 *
 *     ulm_ctab_schema s; ulm_ctab t;
 *     if (ulm_ctab_read_train(path, "churn", "yes", &s, &t, &diag) != ULM_OK) ...
 *     ulm_ctab_read_apply(test_path, &s, true, &t2, &diag);   // true: the label must be present
 */
#ifndef ULM_TRAINER_CHURN_TABLE_H
#define ULM_TRAINER_CHURN_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "ulm/ulm.h"
#include "ulm/ulm_churn.h"

/* Categories per column kept for trees; rarer ones (beyond the most frequent 255) read as missing. */
#define ULM_CTAB_MAX_CATS 255u

typedef struct ulm_ctab_schema {
    uint32_t n_features;
    char **names;       /* feature column names */
    uint32_t *kind;     /* ULM_FEAT_* */
    uint32_t *n_cats;
    ulm_dict *cats;     /* per feature: category string -> code (categorical only) */
    char *label, *positive, *negative;
    uint32_t n_dropped;
    char **dropped;     /* "name (reason)" of columns left out */
    uint32_t rare_grouped; /* categories beyond ULM_CTAB_MAX_CATS read as missing (sum over columns) */
} ulm_ctab_schema;

typedef struct ulm_ctab {
    uint32_t n_rows, n_features;
    float *x;           /* row-major, NaN = missing */
    float *y;           /* 0/1, or NULL when the file has no label column */
    uint64_t unseen;    /* categorical values not seen in training (read as missing) */
    uint32_t n_extra;   /* columns not used by the schema (label excluded) */
} ulm_ctab;

ulm_status ulm_ctab_read_train(const char *path, const char *label, const char *positive, ulm_ctab_schema *s,
                               ulm_ctab *t, ulm_diag *diag);
ulm_status ulm_ctab_read_apply(const char *path, const ulm_ctab_schema *s, bool need_label, ulm_ctab *t,
                               ulm_diag *diag);
void ulm_ctab_free(ulm_ctab *t);
void ulm_ctab_schema_free(ulm_ctab_schema *s);

#endif
