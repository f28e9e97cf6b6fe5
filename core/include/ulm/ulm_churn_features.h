/* ulm_churn_features.h: customer features from one customer's event history, as of a point in time.
 *
 * The churn model built from an event store (`ulm train STORE --churn ...`) and the device-side risk
 * (`model.churn({ history, asOf })`) both describe a customer by the same fixed vector, computed here
 * from the customer's events strictly before as_of: recency, tenure, order counts, spend, purchase
 * rhythm (gaps between purchase days), returns, recent views and carts. Events at or after as_of are
 * never read, so labels taken after a cutoff cannot leak into the features (unit test). The profiles
 * module can use the same vector (docs/churn.md lists the definitions).
 *
 *     ulm_cust_event h[3] = {{t0, 7, ULM_EV_PURCHASE, 2, 4.5f}, {t1, 9, ULM_EV_PURCHASE, 1, 10}, {t2, ...}};
 *     float x[ULM_CF_COUNT];
 *     if (ulm_cust_features(h, 3, as_of, x) == ULM_OK) { ... x[ULM_CF_RECENCY] ... }
 *     char text[96];
 *     ulm_cust_feature_phrase(ULM_CF_RECENCY, x, text, sizeof text);   // "no purchase for 94 days, usually every 21"
 *
 * Never allocates; thread-safe; no I/O.
 */
#ifndef ULM_CHURN_FEATURES_H
#define ULM_CHURN_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "ulm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One event of a customer's history (types as ulm_event_type: 0 view, 1 cart, 2 purchase, 3 return). */
typedef struct ulm_cust_event {
    int64_t time;   /* Unix seconds, UTC */
    uint32_t order; /* order id (any number naming the order), or 0xFFFFFFFF when unknown */
    uint32_t type;  /* ulm_event_type */
    float qty;      /* units, >= 0 */
    float price;    /* unit price; NaN when unknown */
} ulm_cust_event;

/* Feature indices of the vector (the "customer-v1" feature set; on-disk order, frozen). */
enum {
    ULM_CF_RECENCY = 0,     /* days since the last purchase */
    ULM_CF_TENURE,          /* days since the first purchase */
    ULM_CF_ORDERS,          /* orders */
    ULM_CF_ORDERS_30,       /* orders in the last 30 days */
    ULM_CF_ORDERS_90,       /* orders in the last 90 days */
    ULM_CF_ORDERS_365,      /* orders in the last 365 days */
    ULM_CF_SPEND,           /* total spend: sum of qty x price over purchase lines with a price */
    ULM_CF_SPEND_90,        /* spend in the last 90 days */
    ULM_CF_AOV,             /* average order value: spend / orders */
    ULM_CF_PURCHASE_DAYS,   /* distinct UTC days with a purchase */
    ULM_CF_MEAN_GAP,        /* mean days between consecutive purchase days (NaN with fewer than 2) */
    ULM_CF_GAP_SD,          /* standard deviation of those gaps (NaN with fewer than 3 purchase days) */
    ULM_CF_LAST_GAP,        /* days between the last two purchase days (NaN with fewer than 2) */
    ULM_CF_OVERDUE,         /* recency / mean gap (NaN without a gap) */
    ULM_CF_LINES_PER_ORDER, /* purchase lines per order */
    ULM_CF_RETURN_RATE,     /* return lines / purchase lines */
    ULM_CF_VIEWS_30,        /* view events in the last 30 days */
    ULM_CF_CARTS_30,        /* cart events in the last 30 days */
    ULM_CF_COUNT
};

/* Name of feature f ("recency_days", ...), or NULL when f >= ULM_CF_COUNT. @since 0.2 */
ULM_API const char *ulm_cust_feature_name(uint32_t f);
/* Fills x[ULM_CF_COUNT] from ev[0..n), which must be sorted by time (ties in any order); only events
 * with time < as_of are read. A customer without a purchase before as_of gets NaN for the purchase
 * features and 0 counts. Orders are runs of consecutive purchase lines with one order id (one timestamp
 * when the id is unknown). ULM_ERR_MISUSE when ev is not sorted. Never allocates. @since 0.2 */
ULM_API ulm_status ulm_cust_features(const ulm_cust_event *ev, size_t n, int64_t as_of, float *x);
/* Writes a sentence about feature f of vector x for people ("no purchase for 94 days, usually every 21")
 * into buf[cap] (always NUL-terminated when cap > 0); returns the length it needed. @since 0.2 */
ULM_API size_t ulm_cust_feature_phrase(uint32_t f, const float *x, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
