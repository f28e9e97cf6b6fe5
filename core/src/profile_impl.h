/* profile_impl.h: the profiler's in-memory layout, shared by scoring (profile_score.c), loading
 * (profile_load.c) and training (train/profile_train.c). Not public. */
#ifndef ULM_PROFILE_IMPL_H
#define ULM_PROFILE_IMPL_H

#include "ulm/ulm_dict.h"
#include "ulm/ulm_profile.h"

#define ULM__KM_MAX_K 16
#define ULM__KM_MAX_D 16

/* Scalars of the CLVP section (f64[ULM__CLVP_N]), by index (docs/format.md). */
enum {
    ULM__CLVP_AS_OF = 0, ULM__CLVP_UNIT, ULM__CLVP_HORIZON, ULM__CLVP_PERIOD, ULM__CLVP_DISCOUNT,
    ULM__CLVP_HAS_CLV, ULM__CLVP_KIND, ULM__CLVP_BG_R, ULM__CLVP_BG_ALPHA, ULM__CLVP_BG_A, ULM__CLVP_BG_B,
    ULM__CLVP_PN_R, ULM__CLVP_PN_ALPHA, ULM__CLVP_PN_S, ULM__CLVP_PN_BETA, ULM__CLVP_HAS_GG, ULM__CLVP_GG_P,
    ULM__CLVP_GG_Q, ULM__CLVP_GG_GAMMA, ULM__CLVP_N
};
/* Stage rules (LCST section, f64[ULM__ST_N]): multiples of the customer's own rhythm. */
enum {
    ULM__ST_NEW_DAYS = 0,  /* a one-day customer is "new" while recency <= this */
    ULM__ST_ACTIVE,        /* recency / rhythm <= this: active */
    ULM__ST_AT_RISK,       /* <= this: at risk */
    ULM__ST_DORMANT,       /* <= this: dormant, above: churned */
    ULM__ST_REACT,         /* last gap / earlier rhythm above this (and now active): reactivated */
    ULM__ST_RHYTHM,        /* population median inter-purchase days: rhythm of one-day customers */
    ULM__ST_N
};

struct ulm_profiler {
    const ulm_allocator *alloc;
    int64_t as_of;
    uint32_t n_items;
    uint32_t *item_cat;   /* [n_items] category or ULM_NONE */
    double *item_ref;     /* [n_items] reference price or NaN */
    uint32_t *word_off;   /* [n_items + 1] */
    uint32_t *word_ids;   /* [word_off[n_items]] vocabulary indices */
    ulm_dict cats, vocab; /* category names; keywords (sorted bytewise) */
    double *idf;          /* [vocab.n] */
    /* Fitted part. */
    int has_rfm;
    double rfm_cuts[3][4];
    uint32_t k, d;
    uint32_t feat[ULM__KM_MAX_D];  /* ulm_profile_feature ids */
    uint32_t logt[ULM__KM_MAX_D];  /* 1 = log1p(max(0, v)) before standardising */
    double mean[ULM__KM_MAX_D], sd[ULM__KM_MAX_D];
    double *cent;                  /* [k * d] in standardised space */
    char *desc;                    /* k descriptions, back to back */
    uint32_t desc_off[ULM__KM_MAX_K + 1];
    int has_stage;
    double stage[ULM__ST_N];
    double clvp[ULM__CLVP_N];
    int no_item_data;     /* 1: no categories, reference prices or keywords (ulm train --profile-items none) */
};

/* Empties a built profiler's per-item data (categories, reference prices, keyword index and
 * vocabulary) and marks it no_item_data: profiles then leave the features that need it undefined. */
ulm_status ulm__profiler_drop_item_data(ulm_profiler *p);
/* Frees those per-item arrays and dictionaries (profile_items.c; ulm__profiler_destroy uses it too). */
void ulm__profiler_free_item_data(ulm_profiler *p);

/* Loads the profile sections of a model into m->profile (internal; model.c calls it). */
struct ulm_model;
ulm_status ulm__profile_load(struct ulm_model *m, uint32_t flags, ulm_diag *diag);
/* Frees a profiler's arrays (with its allocator) and the struct. */
void ulm__profiler_destroy(ulm_profiler *p);
/* The standardised k-means vector of a profile (NaN values become 0: the training mean). */
void ulm__profile_zvec(const ulm_profiler *p, const double *f, double *z);
/* An empty profile: every feature NaN, no RFM segment, segment or stage. */
void ulm__profile_clear(ulm_profile *out);
/* Offers word w with tf-idf weight wt to a profile's top keywords; returns wt squared (for the norm). */
double ulm__profile_keyword_offer(ulm_profile *out, uint32_t w, double wt);
/* The as-of-dependent end of a profile, shared by ulm_profile_compute and the trainer's incremental
 * profiles (trainer/profile_state.c): recency, tenure and rhythm from the nd purchase days (day(days, i),
 * ascending), the CLV inputs (zs: the day values after the first) and prediction, RFM, k-means segment
 * and lifecycle stage. Reads the other features out->f already holds (orders, monetary). */
void ulm__profile_finish(const ulm_profiler *p, size_t nd, int64_t (*day)(const void *days, size_t i), const void *days,
                         double zs, int64_t cal_day, ulm_profile *out);

#endif
