/* profile_state.h: incremental profiles. A customer's profile under a fixed profiler depends only on
 * the customer's events before as-of and on as-of, so it splits into (a) as-of-independent aggregates of
 * the events (counts, exact running sums in event order, purchase days, order/item/category sets, word
 * counts, order-time histograms) and (b) the as-of-dependent finish (recency, tenure, CLV, RFM, k-means,
 * stage). (a) is kept per customer in a state file (docs/profile.md "Incremental profiles"); a later run
 * updates it from only the customer's new events when they all fall on later days than the customer's
 * last event (else from the customer's own events), then finishes everyone. The result is the same bytes
 * as ulm_profile_run.
 *
 *     ulm_profile_state_report r;
 *     if (ulm_profile_run_state(&ev, p, as_of, "old/profile.state", "new/profile.state", &set, &r, &d) != ULM_OK)
 *         fail(d.message);
 *     printf("%s: %zu appended, %zu recomputed\n", r.mode, r.appended, r.recomputed);
 */
#ifndef ULM_TRAINER_PROFILE_STATE_H
#define ULM_TRAINER_PROFILE_STATE_H

#include "profile_run.h"

/* Aggregates (a) of one customer. Variable parts live in a u32 pool at off: days (2 words each, int64),
 * kind-0 order ids, distinct items, distinct categories, then (word id, count) pairs. */
typedef struct ulm_pstate_cust {
    uint64_t hsum;                   /* sum of the event hashes (change detection) */
    uint64_t events;                 /* events aggregated */
    int64_t last_time;               /* latest event time (INT64_MIN when none) */
    double gross, returned, units, ret_units, zs; /* running sums in (time, table) order */
    uint32_t cnt[5];                 /* per ULM_EV_* type */
    uint32_t elig, disc, orders, wkend, part[4], hours[24], wdays[7];
    uint64_t off;                    /* into the pool */
    uint32_t nd, n_ord, n_items, n_cats, n_words;
} ulm_pstate_cust;

/* The aggregates of a set of customers (index = user in the event table). */
typedef struct ulm_pstate {
    size_t n;
    ulm_pstate_cust *c;
    uint32_t *pool;
    size_t pool_len, pool_cap;
    int64_t as_of;    /* events strictly before it are aggregated */
    uint64_t fp;      /* fingerprint of the profiler's vocabulary and categories */
    uint32_t n_items; /* the profiler's items, and a hash of each (its words, category, reference price) */
    uint64_t *item_h;
    uint8_t *stale;   /* read: per user, aggregates that a changed vocabulary or category list invalidates */
    size_t words_new; /* read: words of the profiler the state did not know */
    uint32_t *scr;    /* fold scratch: zeroed counts over max(words, items, categories); not saved */
    size_t scr_n;
} ulm_pstate;

/* What a run did. mode: "full" (no usable state: reason says why) or "incremental". */
typedef struct ulm_profile_state_report {
    const char *mode;
    char reason[256];
    size_t kept, appended, recomputed, added;
    size_t items_changed; /* items whose words, category or reference price changed since the state */
    size_t words_new;     /* vocabulary words the state did not know (0 when the vocabulary is the same) */
    size_t state_bytes;
} ulm_profile_state_report;

/* Fingerprint of the profiler's vocabulary and category names (ids in the aggregates refer to them; the
 * state also keeps the names, so that a retrained profiler's ids are mapped when they differ). */
uint64_t ulm_pstate_fingerprint(const ulm_profiler *p);
/* Hash of what the aggregates take from item i: its words, category (as strings) and reference price. A customer
 * who bought an item whose hash changed (a retrained profiler) is recomputed. */
uint64_t ulm_pstate_item_hash(const ulm_profiler *p, uint32_t i);
/* Fills s->item_h / s->n_items from p. */
bool ulm_pstate_set_items(ulm_pstate *s, const ulm_profiler *p);
/* Hash of one event (order-free sums of it detect changed histories). */
uint64_t ulm_pstate_event_hash(const ulm_events *ev, size_t i);
/* Folds events e[0..n) (indices into ev, in table order, all of one customer) into c, whose pool data is at
 * src (NULL when c is empty), writing c's new pool data to dst (grown as needed). Returns false without
 * changing c when an event falls on a day not after c's last event (the caller recomputes instead). */
bool ulm_pstate_fold(const ulm_profiler *p, const ulm_events *ev, const uint32_t *e, size_t n, ulm_pstate_cust *c,
                     const uint32_t *src, ulm_pstate *dst, ulm_status *st);
/* The as-of-dependent finish: the profile of customer c (pool data at data) at as_of. */
void ulm_pstate_finish(const ulm_profiler *p, const ulm_pstate_cust *c, const uint32_t *data, int64_t as_of,
                       ulm_profile *out);
void ulm_pstate_free(ulm_pstate *s);
/* Serialises s with user ids (magic, version, fingerprint, as-of, records, CRC-32C) / reads it back,
 * validating everything; on mismatch returns false with why (the caller falls back to the full computation). */
ulm_status ulm_pstate_write(const char *path, const ulm_pstate *s, const ulm_events *ev, const ulm_profiler *p,
                            size_t *bytes, ulm_diag *diag);
bool ulm_pstate_read(const char *path, const ulm_events *ev, const ulm_profiler *p, ulm_pstate *s, char *why,
                     size_t wlen);
/* Room for extra more u32 in s's pool. */
bool ulm_pstate_reserve(ulm_pstate *s, size_t extra);

/* ulm_profile_run with a state: reads state_in (may be NULL or missing: full), writes state_out (may be NULL). */
ulm_status ulm_profile_run_state(const ulm_events *ev, const ulm_profiler *p, int64_t as_of, const char *state_in,
                                 const char *state_out, ulm_profile_set *out, ulm_profile_state_report *rep,
                                 ulm_diag *diag);

#endif
