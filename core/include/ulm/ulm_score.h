/* ulm_score.h: one call that scores a visitor's own history on the device: top-K items with reasons,
 * churn risk with reasons, P(alive), expected purchases and lifetime value, RFM and k-means segment,
 * lifecycle stage and the next best retention offer. Each part is present only when the bundle has its
 * model (recommender or popularity: always; churn: CHRN with the customer-v1 features; profile/CLV:
 * the profiler sections; offer: NBAO/NBAI plus a churn model). Definitions: docs/api-js.md (score).
 *
 *     ulm_score_event ev[2] = {
 *         {.time = 1323000000, .type = ULM_EV_PURCHASE, .item = "85123A", .item_len = 6, .qty = 6, .price = 2.55,
 *          .order = ULM_NONE},
 *         {.time = 1323000100, .type = ULM_EV_SEARCH, .query = "mug", .query_len = 3, .price = NAN, .order = ULM_NONE}};
 *     ulm_score_opts o = ulm_score_opts_init();                 // k 10, explain 3, reasons 3
 *     o.now = 1323500000;
 *     size_t need = ulm_score_work_size(m, &o, ev, 2);
 *     void *work = malloc(need);                                // reusable for histories that fit
 *     ulm_score_result r;
 *     if (ulm_score(m, ev, 2, &o, work, need, &r) == ULM_OK && (r.parts & ULM_SCORE_OFFER) && r.offer >= 0)
 *         show(ulm_model_offer_id(m, r.offer, &len));
 *
 * The hot path never allocates: every buffer, and every array the result points to, lives in the
 * caller's work area (valid until it is reused). Thread-safe on a shared model with one work area per
 * thread.
 *
 * Offers on the device (docs/nba.md): the customer's p_churn and value (CLV from the profiler when
 * defined, else the annual spend rate, as `ulm campaign plan`) go through ulm_nba_plan with one
 * customer, no budget and a per-customer limit of 1, so the device picks exactly what the planner
 * would when the budget does not bind. A customer whose id falls in the control group
 * (ulm_nba_in_control with the bundle's seed and share) gets no offer and control = 1; an anonymous
 * visitor (no user id) is never in the control group.
 */
#ifndef ULM_SCORE_H
#define ULM_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "ulm_churn_model.h"
#include "ulm_model.h"
#include "ulm_nba.h"
#include "ulm_profile.h"
#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ULM_SCORE_MAX_K 100000u   /* larger k is clamped to this (and to the catalogue size) */
#define ULM_SCORE_MAX_REASONS 16u /* churn reasons and recommendation reasons per item, at most */

/* Parts of a result (ulm_score_result.parts). */
#define ULM_SCORE_ITEMS 0x1u   /* items[] (always, popularity when the bundle has no recommender) */
#define ULM_SCORE_CHURN 0x2u   /* p_churn and reasons */
#define ULM_SCORE_PROFILE 0x4u /* rfm_segment, segment, stage */
#define ULM_SCORE_CLV 0x8u     /* p_alive, expected_purchases, clv (the profiler has CLV parameters) */
#define ULM_SCORE_OFFER 0x10u  /* offer, control, offer_net, value */

/* One event of the visitor's history. item is the shop's item id (NULL: no item); unknown ids are
 * ignored by the recommender, counted in unknown_items, and count as items outside the catalogue in
 * the profile. type is a ulm_event_type; price NaN when unknown; order any number naming the order,
 * or ULM_NONE; query (search events) UTF-8. */
typedef struct ulm_score_event {
    int64_t time; /* Unix seconds, UTC */
    double price;
    float qty;
    uint32_t order;
    uint32_t type;
    const char *item;
    uint32_t item_len;
    const char *query;
    uint32_t query_len;
} ulm_score_event;

typedef struct ulm_score_opts {
    uint32_t struct_size; /* sizeof(ulm_score_opts), set by ulm_score_opts_init */
    int32_t k;            /* items wanted: <= 0 none, clamped to ULM_SCORE_MAX_K and the catalogue */
    uint32_t explain;     /* reasons per item, 0..ULM_SCORE_MAX_REASONS */
    uint32_t reasons;     /* churn reasons, 0..ULM_SCORE_MAX_REASONS */
    int64_t now;          /* the as-of time of churn, profile and repurchase cycles (Unix seconds) */
    const char *user;     /* the customer's id for the control group, or NULL (anonymous: never control) */
    uint32_t user_len;
    /* Business rules as ulm_recommend_opts (docs/recs.md); NULL/0 leaves them off. */
    const uint8_t *allow;       /* [item_count] flags, or NULL */
    const uint32_t *categories; /* category indices, or NULL */
    uint32_t n_categories;
    uint32_t flags;             /* ULM_RECOMMEND_NOT_CATEGORIES */
} ulm_score_opts;

typedef struct ulm_score_result {
    uint32_t parts;         /* ULM_SCORE_* */
    uint32_t unknown_items; /* history events whose item id is not in the catalogue */
    /* items: n_items, best first; because[i * explain + r] are history item indices or ULM_NONE */
    uint32_t n_items, explain;
    const uint32_t *items;
    const float *scores;
    const uint32_t *because;
    /* churn */
    float p_churn;
    uint32_t n_reasons;
    const ulm_churn_reason *reasons;
    /* profile (-1 = none) and CLV (NaN = undefined) */
    int32_t rfm_segment, segment, stage;
    double p_alive, expected_purchases, clv;
    /* offer: the offer index (ulm_model_offer_id) or -1 for none; control = 1 when held out */
    int32_t offer;
    int32_t control;
    int32_t value_from_clv; /* 1: value is the CLV, 0: the annual spend rate */
    double offer_net;       /* p_churn x value x uplift - cost of the offer (0 without one) */
    double value;
} ulm_score_result;

/* Defaults: k 10, explain 3, reasons 3, now 0, no user, no rules. @since 0.5 */
ULM_API ulm_score_opts ulm_score_opts_init(void);
/* Bytes of work area ulm_score needs for these options and events. Never allocates. @since 0.5 */
ULM_API size_t ulm_score_work_size(const ulm_model *m, const ulm_score_opts *o, const ulm_score_event *ev, size_t n);
/* Scores ev[0..n) (any order) as described above into *out. ULM_ERR_MISUSE on NULL arguments or a work
 * area smaller than ulm_score_work_size; ULM_ERR_RANGE for an event type out of range. Never
 * allocates. @since 0.5 */
ULM_API ulm_status ulm_score(const ulm_model *m, const ulm_score_event *ev, size_t n, const ulm_score_opts *o,
                             void *work, size_t work_len, ulm_score_result *out);

/* ulm_score_ix's item of an event that named an id not in the catalogue: counted in unknown_items. */
#define ULM_SCORE_UNKNOWN_ITEM 0xFFFFFFFEu

/* Bytes of work area ulm_score_ix needs for these options and events. Never allocates. @since 0.6 */
ULM_API size_t ulm_score_ix_work_size(const ulm_model *m, const ulm_score_opts *o, const ulm_profile_event *ev,
                                      size_t n);
/* ulm_score for events whose items are already catalogue indices (ulm_model_item_find): ev[i].item is
 * an index, ULM_NONE (no item) or ULM_SCORE_UNKNOWN_ITEM (any index past the catalogue counts as an
 * unknown id). ulm_score resolves its ids and calls this, so both give the same result; the wasm
 * builds' model.score() calls it directly. Never allocates. @since 0.6 */
ULM_API ulm_status ulm_score_ix(const ulm_model *m, const ulm_profile_event *ev, size_t n, const ulm_score_opts *o,
                                void *work, size_t work_len, ulm_score_result *out);

/* The customer's value as the offer policy reads it: clv when finite and >= 0 (*from_clv = 1), else the
 * annual spend rate spend x 365 / max(tenure, 30 days) from customer-v1 features x (*from_clv = 0). @since 0.5 */
ULM_API double ulm_nba_customer_value(const float *x, double clv, int *from_clv);

/* ---- offers in the bundle (sections NBAO + NBAI, docs/format.md) ---- */

/* Number of offers in the bundle (0: none). @since 0.5 */
ULM_API uint32_t ulm_model_offer_count(const ulm_model *m);
/* The offers' costs and uplifts (offer_count entries), or NULL. @since 0.5 */
ULM_API const ulm_nba_offer *ulm_model_offers(const ulm_model *m);
/* Offer o's id (length in *len), or NULL. @since 0.5 */
ULM_API const char *ulm_model_offer_id(const ulm_model *m, uint32_t o, uint32_t *len);
/* Offer o's configured prior uplift and whether its uplift came from campaign data (1) or the prior (0). @since 0.5 */
ULM_API double ulm_model_offer_prior(const ulm_model *m, uint32_t o, int *from_campaign);
/* The control group: share of ids held out and the hash seed. @since 0.5 */
ULM_API void ulm_model_offer_control(const ulm_model *m, double *share, uint64_t *seed);

/* Training half: appends NBAO and NBAI for k offers (ids[k], offers[k], priors[k], from_campaign[k]).
 * Checks the values as ulm_nba_plan does. @since 0.5 */
struct ulm_writer;
ULM_API ulm_status ulm_offers_write(struct ulm_writer *w, size_t k, const char *const *ids, const ulm_nba_offer *offers,
                                    const double *priors, const int *from_campaign, double control_share, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
