/* ulm_profile.h: customer profiles, RFM and k-means segments, lifecycle stages and lifetime value
 * for one customer's history, from a profiler trained on the whole shop.
 *
 * A profiler (ulm_profiler) holds what the shop-wide training learned: each item's category and
 * reference price, the keyword vocabulary with its inverse document frequencies, the RFM quintile
 * cut points, the k-means scaling and centroids with a description per segment, the lifecycle
 * stage rules and the BG/NBD, Pareto/NBD and Gamma-Gamma parameters. The trainer builds one from an
 * event table (ulm_profiler_build + ulm_profiler_fit: training half, libulm_train) and writes it
 * into the model bundle (ulm_profiler_write); the scorer gets it back from a loaded model
 * (ulm_model_profiler). ulm_profile_compute then turns one customer's events (held anywhere: the
 * shop's store, or the device) into the same numbers natively and in wasm. Definitions:
 * docs/profile.md (features) and docs/segments.md (RFM map, k-means, stages).
 *
 *     const ulm_profiler *p = ulm_model_profiler(model);        // NULL: the bundle has none
 *     ulm_profile_event ev[2] = {
 *         {.time = 1291192800, .item = 17, .order = 1, .type = ULM_EV_PURCHASE, .qty = 6, .price = 2.55},
 *         {.time = 1291280000, .item = ULM_NONE, .order = ULM_NONE, .type = ULM_EV_SEARCH, .query = "mug", .query_len = 3}};
 *     size_t need = ulm_profile_work_size(p, ev, 2);
 *     void *work = malloc(need);
 *     ulm_profile pr;
 *     if (ulm_profile_compute(p, ev, 2, as_of, work, need, &pr) == ULM_OK)
 *         printf("%s, CLV %.2f\n", ulm_rfm_segment_name(pr.rfm_segment), pr.f[ULM_PF_CLV]);
 *     free(work);
 */
#ifndef ULM_PROFILE_H
#define ULM_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "ulm_clv.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ulm_profiler ulm_profiler;
struct ulm_model;
struct ulm_events;
struct ulm_writer;

/* One event of a customer's history. item is a catalogue index or ULM_NONE (0xFFFFFFFF); order
 * is an order key or ULM_NONE (events without one form an order per distinct time); type is a
 * ulm_event_type; price NaN when unknown; query (search events) is UTF-8, not NUL-terminated. */
typedef struct ulm_profile_event {
    int64_t time; /* Unix seconds, UTC */
    double price;
    float qty;
    uint32_t item, order;
    uint8_t type;
    const char *query;
    uint32_t query_len;
} ulm_profile_event;

/* Profile values, indices into ulm_profile.f (names: ulm_profile_feature_name). NaN = undefined
 * (e.g. inter-purchase time of a one-day customer); outputs print it as empty / null. */
typedef enum ulm_profile_feature {
    ULM_PF_RECENCY_DAYS = 0,   /* days from the last purchase day to the as-of day */
    ULM_PF_TENURE_DAYS,        /* days from the first purchase day to the as-of day */
    ULM_PF_PURCHASE_DAYS,      /* distinct days with a purchase */
    ULM_PF_ORDERS,             /* distinct orders with a purchase */
    ULM_PF_MONETARY,           /* purchases minus returns (qty x price) */
    ULM_PF_GROSS,              /* purchases only */
    ULM_PF_RETURNED,           /* value of returns */
    ULM_PF_IPT_MEAN,           /* mean days between consecutive purchase days */
    ULM_PF_IPT_VAR,            /* their sample variance (needs 2 gaps) */
    ULM_PF_BASKET_UNITS,       /* mean units per order */
    ULM_PF_BASKET_LINES,       /* mean purchase lines per order */
    ULM_PF_BASKET_VALUE,       /* mean purchase value per order */
    ULM_PF_DISTINCT_ITEMS,     /* distinct items bought */
    ULM_PF_DISTINCT_CATEGORIES,/* distinct categories of the items bought */
    ULM_PF_RETURN_RATE,        /* returned units / purchased units */
    ULM_PF_DISCOUNT_SHARE,     /* share of priced purchase lines below 99% of the item's reference price */
    ULM_PF_WEEKEND_SHARE,      /* share of orders placed on Saturday or Sunday (UTC) */
    ULM_PF_NIGHT_SHARE,        /* ... between 00:00 and 06:00 */
    ULM_PF_MORNING_SHARE,      /* ... 06:00-12:00 */
    ULM_PF_AFTERNOON_SHARE,    /* ... 12:00-18:00 */
    ULM_PF_EVENING_SHARE,      /* ... 18:00-24:00 */
    ULM_PF_PEAK_HOUR,          /* hour (0-23) with most orders, ties to the earlier */
    ULM_PF_PEAK_WEEKDAY,       /* weekday (0 = Monday) with most orders, ties to the earlier */
    ULM_PF_EVENTS,             /* events before as-of, every type */
    ULM_PF_VIEWS,
    ULM_PF_CARTS,
    ULM_PF_SEARCHES,
    ULM_PF_PURCHASE_LINES,
    ULM_PF_RETURN_LINES,
    /* Lifetime value (docs/clv.md), NaN without purchases or without CLV parameters. */
    ULM_PF_CLV_X,              /* repeat purchase days */
    ULM_PF_CLV_TX,             /* last purchase day - first, in the profiler's time unit */
    ULM_PF_CLV_T,              /* as-of day - first purchase day, in the time unit */
    ULM_PF_CLV_ZBAR,           /* mean value of the repeat purchase days */
    ULM_PF_P_ALIVE,
    ULM_PF_EXPECTED_PURCHASES, /* over the profiler's horizon */
    ULM_PF_EXPECTED_SPEND,     /* per purchase (Gamma-Gamma) */
    ULM_PF_CLV,                /* discounted, over the horizon */
    ULM_PF_RFM_R,              /* quintile scores 1..5 */
    ULM_PF_RFM_F,
    ULM_PF_RFM_M,
    ULM_PF_COUNT
} ulm_profile_feature;

/* The first ULM_PF_CLV_X values are the profile proper (ulm profile); the rest need a fitted profiler. */
#define ULM_PF_N_BASIC ULM_PF_CLV_X
#define ULM_PROFILE_MAX_KEYWORDS 5

/* Lifecycle stages (docs/segments.md). */
typedef enum ulm_stage {
    ULM_STAGE_NONE = -1, /* no purchase before as-of */
    ULM_STAGE_NEW = 0,
    ULM_STAGE_ACTIVE,
    ULM_STAGE_AT_RISK,
    ULM_STAGE_DORMANT,
    ULM_STAGE_CHURNED,
    ULM_STAGE_REACTIVATED,
    ULM_STAGE_COUNT
} ulm_stage;

/* RFM segments (docs/segments.md has the R x F map and its source). */
typedef enum ulm_rfm_segment {
    ULM_RFM_NONE = -1,
    ULM_RFM_CHAMPIONS = 0,
    ULM_RFM_LOYAL,
    ULM_RFM_POTENTIAL_LOYALIST,
    ULM_RFM_NEW,
    ULM_RFM_PROMISING,
    ULM_RFM_NEED_ATTENTION,
    ULM_RFM_ABOUT_TO_SLEEP,
    ULM_RFM_AT_RISK,
    ULM_RFM_CANNOT_LOSE,
    ULM_RFM_HIBERNATING,
    ULM_RFM_LOST,
    ULM_RFM_COUNT
} ulm_rfm_segment;

/* One customer's profile. */
typedef struct ulm_profile {
    double f[ULM_PF_COUNT];               /* ulm_profile_feature values, NaN = undefined */
    int32_t rfm_segment;                  /* ulm_rfm_segment, -1 without purchases or RFM cuts */
    int32_t segment;                      /* k-means segment 0..k-1, -1 without purchases or centroids */
    int32_t stage;                        /* ulm_stage */
    uint32_t n_keywords;                  /* <= ULM_PROFILE_MAX_KEYWORDS */
    uint32_t keyword[ULM_PROFILE_MAX_KEYWORDS];   /* vocabulary indices, best first */
    double keyword_weight[ULM_PROFILE_MAX_KEYWORDS]; /* tf-idf, L2-normalised over all the customer's words */
} ulm_profile;

/* "recency_days", ... (static storage); NULL out of range. @since 0.3 */
ULM_API const char *ulm_profile_feature_name(int f);
/* "Champions", "Loyal", ...; "" for ULM_RFM_NONE; NULL out of range. @since 0.3 */
ULM_API const char *ulm_rfm_segment_name(int s);
/* "new", "active", "at risk", "dormant", "churned", "reactivated"; "" for ULM_STAGE_NONE. @since 0.3 */
ULM_API const char *ulm_stage_name(int s);

/* The loaded model's profiler, or NULL when the bundle has no profile sections. Owned by the model. @since 0.3 */
ULM_API const ulm_profiler *ulm_model_profiler(const struct ulm_model *m);

/* Bytes of scratch ulm_profile_compute needs for these events. @since 0.3 */
ULM_API size_t ulm_profile_work_size(const ulm_profiler *p, const ulm_profile_event *ev, size_t n);
/* Profile of the customer whose events are ev[0..n) (any order; events at or after as_of are
 * ignored), plus, when p holds them, the RFM and k-means segments, the stage and the lifetime value.
 * work[0..work_len) is caller scratch of ulm_profile_work_size bytes (ULM_ERR_RANGE if smaller).
 * Never allocates; thread-safe for distinct work buffers. Item indices >= the profiler's item count
 * are treated as unknown items. @since 0.3 */
ULM_API ulm_status ulm_profile_compute(const ulm_profiler *p, const ulm_profile_event *ev, size_t n, int64_t as_of,
                                       void *work, size_t work_len, ulm_profile *out);

/* Profiler facts: items it knows, vocabulary size, k-means k (0 = none), whether RFM / CLV are fitted. */
typedef struct ulm_profiler_info {
    uint32_t n_items, n_words, n_categories, k, n_features;
    int has_rfm, has_clv, has_gg;
    int64_t as_of;          /* when it was trained (Unix seconds) */
    double unit_days, horizon, period, discount; /* CLV time unit (days) and prediction settings */
    double rfm_cuts[3][4];  /* R (recency days), F (orders), M (monetary) quintile cut points */
    ulm_clv_model clv;
} ulm_profiler_info;
ULM_API void ulm_profiler_get_info(const ulm_profiler *p, ulm_profiler_info *out);
/* Vocabulary word i (length in *len), NULL out of range. @since 0.3 */
ULM_API const char *ulm_profiler_word(const ulm_profiler *p, uint32_t i, uint32_t *len);
/* Category name c, NULL out of range. @since 0.3 */
ULM_API const char *ulm_profiler_category(const ulm_profiler *p, uint32_t c, uint32_t *len);
/* Description of k-means segment s ("frequent, high-value, recent; buys bag, lunch, retrospot"). @since 0.3 */
ULM_API const char *ulm_profiler_segment_description(const ulm_profiler *p, uint32_t s, uint32_t *len);
/* Splits text into keyword tokens as profiles do (lower-case ASCII letters and digits plus any
 * non-ASCII bytes, at least 3 bytes, not all digits, not a stop word); calls fn for each. @since 0.3 */
ULM_API void ulm_profile_tokens(const char *text, size_t len, void (*fn)(void *ud, const char *tok, size_t n),
                                void *ud);

/* ---- training half (libulm_train) --------------------------------------------------------------- */

/* What a profiler is trained with. */
typedef struct ulm_profiler_params {
    uint32_t struct_size;
    int64_t as_of;       /* INT64_MIN: one second after the last event */
    uint32_t k;          /* k-means k; 0 = choose by silhouette over k_min..k_max */
    uint32_t k_min, k_max;
    uint64_t seed;       /* k-means++ seeding */
    uint32_t n_init;     /* k-means++ restarts, best inertia wins (default 4) */
    double unit_days;    /* CLV time unit (default 7) */
    double horizon, period, discount; /* CLV predictions (default 52, 4, 0.01 in units) */
    int fit_pnbd;        /* also fit Pareto/NBD (stored; predictions use BG/NBD) (default 1) */
    int no_item_data;    /* 1: build no per-item categories, reference prices or keywords, so the bundle
                          * leaves PFCT..PFWI out (edge bundles; default 0) @since 0.4 */
} ulm_profiler_params;
ULM_API ulm_profiler_params ulm_profiler_params_init(void);

/* Builds the feature part of a profiler from ev (events before as_of only): item categories
 * (the last keyword of each item's text), reference prices (each item's most frequent purchase
 * price before as_of), the vocabulary and idf over customers. Allocates; free with ulm_profiler_free. */
ULM_API ulm_status ulm_profiler_build(const struct ulm_events *ev, const ulm_profiler_params *pp, ulm_profiler **out,
                                      ulm_diag *diag);
/* Fits RFM cuts, k-means (standardised, log where skewed), stage rules and BG/NBD / Pareto/NBD /
 * Gamma-Gamma on profiles pr[0..n) computed with p (customers without purchases are skipped).
 * Fills rep (may be NULL) with what the fits did. Deterministic for pp->seed. */
typedef struct ulm_profiler_report {
    uint32_t k;                    /* chosen k */
    double silhouette[17];         /* silhouette of k = 0..16 tried (NaN when not tried) */
    size_t customers;              /* with a purchase */
    ulm_fit_report bg, pn, gg;
    int clv_ok, gg_ok;
    char clv_message[160];         /* why CLV was not fitted, when it was not */
} ulm_profiler_report;
ULM_API ulm_status ulm_profiler_fit(ulm_profiler *p, const ulm_profile *pr, size_t n, const ulm_profiler_params *pp,
                                    ulm_profiler_report *rep, ulm_diag *diag);
/* Appends the profiler's sections (PF*, RFMQ, KM*, LCST, CLVP: docs/format.md) to a bundle writer. */
ULM_API ulm_status ulm_profiler_write(const ulm_profiler *p, struct ulm_writer *w);
/* Frees a profiler made by ulm_profiler_build (not one owned by a model). NULL is a no-op. */
ULM_API void ulm_profiler_free(ulm_profiler *p);

#ifdef __cplusplus
}
#endif
#endif
