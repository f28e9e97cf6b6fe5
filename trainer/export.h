/* export.h: assembles a model bundle from an event table and trained models. */
#ifndef ULM_TRAINER_EXPORT_H
#define ULM_TRAINER_EXPORT_H

#include "ulm/ulm.h"
#include "ulm/ulm_rectrain.h"
#include "civil.h"

typedef struct ulm_export_opts {
    bool user_table;        /* include known users' purchase histories (USID/USOF/USIT) */
    double half_life_days;  /* popularity decay */
    int64_t as_of;          /* INT64_MIN = last event */
    const uint8_t *deny;    /* NULL, or one flag per item of ev->items: never recommend */
    ulm_status (*extra)(ulm_writer *w, void *ctx); /* NULL, or adds more sections (churn) before finishing */
    void *extra_ctx;
    const ulm_profiler *profiler; /* NULL, or its sections go into the bundle (profile_train.c) */
    const ulm_rec_model *recs; /* NULL, or a recommender trained on ev's items (ulm train --recs) */
    float recs_hist_weight;    /* the purchase weight: what a history item counts as at ALS fold-in */
    uint32_t recs_ease_keep;   /* EASE entries kept per item */
    const float *cycles;       /* NULL, or [items] learned repurchase cycles in days (RCRP; recs_cycle.c) */
    ulm_rec_quant recs_quant;  /* the recommender's number format (ulm train --quantize) */
    bool no_names, no_prices;  /* leave ITNM / ITPR out (ulm train --names none, --prices none) */
    bool compact;              /* front-coded ids, F16 popularity and cycles where exact, the Gram's triangle */
} ulm_export_opts;

typedef struct ulm_export_info {
    uint32_t items, users, items_with_names, items_denied;
    int64_t as_of;
    size_t bytes;
    bool pop_f16;          /* --compact: POPR went in as F16 (it ranks exactly as f32) */
} ulm_export_info;

/* Trains the foundation models on ev and serialises the bundle into *buf (free with free()). */
ulm_status ulm_export_bundle(const ulm_events *ev, const ulm_export_opts *o, uint8_t **buf, size_t *len,
                             ulm_export_info *info, ulm_diag *diag);


#endif
