/* synth.h: `ulm synth`, a synthetic shop event log with known ground truth (model: docs/synth.md).
 *
 * The world is a catalogue (categories with price levels, items with Zipf popularity), a calendar
 * (weekly, yearly and hour-of-day intensity, promotion days) and users (category tastes, session rate,
 * funnel rates, signup and lifetime). Days are generated one after another; within a day every user
 * due for attention emits its events into a buffer, which is then ordered by second (stable, so ties
 * keep user order) and formatted as CSV. Each user draws only from its own random stream, so the
 * bytes do not depend on the number of threads.
 *
 *     ulm_synth_params p = ulm_synth_params_init();
 *     p.users = 1000; p.items = 500; p.days = 90; p.seed = 7;
 *     ulm_synth_world w;
 *     if (ulm_synth_world_build(&w, &p, &diag) != ULM_OK) ...;
 *     ulm_synth_result r;
 *     ulm_synth_run(&w, "events.csv.gz", &r, &diag);   // writes the log, then the truth files
 *     ulm_synth_world_free(&w);
 */
#ifndef ULM_TRAINER_SYNTH_H
#define ULM_TRAINER_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "civil.h"

#include "synth_rng.h"
#include "ulm/ulm_events.h"
#include "ulm/ulm_status.h"

#define ULM_SYNTH_DAY 86400u          /* seconds in a (UTC) day */
#define ULM_SYNTH_MAX_TASTE 3         /* favourite categories per user */
#define ULM_SYNTH_MAX_PENDING 6       /* scheduled returns/repurchases a user can hold at once */
#define ULM_SYNTH_QUERY_WORDS 4       /* words in a search query, at most */
#define ULM_SYNTH_MAX_USERS 50000000u /* argument limits: keep per-user state within memory */
#define ULM_SYNTH_MAX_ITEMS 50000000u
#define ULM_SYNTH_MAX_DAYS 10000u

/* Generator parameters; ulm_synth_params_init() gives the documented defaults. */
typedef struct ulm_synth_params {
    uint64_t users, items, days, seed;
    int64_t start_day;           /* first day, as days since 1970-01-01 */
    uint32_t categories;         /* 0 = chosen from the item count */
    uint32_t threads;            /* worker threads (output does not depend on it) */
    double zipf;                 /* popularity exponent s: weight of rank r is r^-s */
    double sessions_per_day;     /* median sessions per active day across users */
    double session_sigma;        /* log-normal spread of users' session rates */
    double views_per_session;    /* mean product views per browsing session */
    double p_search;             /* share of sessions that start with a search */
    double p_cart;               /* mean chance a viewed item is carted */
    double p_buy;                /* mean chance a carted item is bought */
    double existing_share;       /* users already customers on the first day */
    double mean_lifetime_days;   /* mean customer lifetime (exponential, per-user mean log-normal) */
    double oneoff_share;         /* new users who leave soon after signing up */
    double oneoff_lifetime_days; /* their mean lifetime */
    double repurchase_prob;      /* chance a due consumable is bought again */
    double session_stay;         /* chance a view stays in the session's category */
} ulm_synth_params;

ulm_synth_params ulm_synth_params_init(void);

typedef struct ulm_synth_category {
    char name[32];
    uint8_t noun, qual;          /* word ids (qual 0 = none) */
    uint16_t cycle_days;         /* 0 = durable; else typical repurchase cycle */
    float median_price;          /* currency units */
    float price_sigma;           /* log-normal sigma of its item prices */
    float return_rate;           /* share of purchases returned */
    double share;                /* share of all popularity mass */
    uint32_t first, count;       /* its items, most popular first: members[first .. first + count) */
    uint32_t band_first, nbands; /* its popularity bands: bands[band_first .. band_first + nbands) */
} ulm_synth_category;

/* One slot of a band's popularity alias table, resolved to item ids: a draw reads one slot. */
typedef struct ulm_synth_pick {
    float prob;
    uint32_t item, alias, pad;
} ulm_synth_pick;

/* A band of a category's items by popularity (sizes 256, 256, 512, 1024, ...), and its slot in the
 * category's alias table over bands. */
#define ULM_SYNTH_BAND0 256u
typedef struct ulm_synth_band {
    float prob;            /* band alias slot: keep this band with probability prob */
    uint32_t alias;        /* else take band alias */
    uint32_t start, count; /* the band's picks: picks[cat.first + start .. + count) */
} ulm_synth_band;

typedef struct ulm_synth_item {
    uint32_t price_cents;
    uint32_t rank;   /* popularity rank, 1 = most popular */
    uint32_t serial; /* number within its category (part of its name) */
    uint16_t cat;
    uint16_t cycle_days; /* 0 = not a consumable */
    uint8_t adj, mat;    /* word ids of its name */
} ulm_synth_item;

/* A future event of one user: a return of an order line, or a due repurchase. */
typedef struct ulm_synth_pending {
    uint32_t due; /* seconds since the period start */
    uint32_t item, order;
    uint16_t qty;
    uint8_t kind;      /* ULM_SYNTH_RETURN or ULM_SYNTH_REPURCHASE */
    uint8_t price_pct; /* returns: the price level (percent) on the day of purchase */
} ulm_synth_pending;
enum { ULM_SYNTH_RETURN = 1, ULM_SYNTH_REPURCHASE = 2 };

typedef struct ulm_synth_user {
    ulm_rng rng;      /* this user's stream: everything about the user is drawn from it */
    double next_t;    /* next session time, seconds since the period start */
    double tau;       /* the same moment in operational time (cumulative traffic, in mean days) */
    int64_t signup_t; /* may be negative: customers from before the period */
    int64_t end_t;    /* end of lifetime; may lie past the period */
    float lambda;     /* mean sessions per day at mean seasonality */
    float p_cart, p_buy, explore;
    float cum[ULM_SYNTH_MAX_TASTE]; /* cumulative taste weights (sum + explore = 1) */
    uint16_t cats[ULM_SYNTH_MAX_TASTE];
    uint8_t ntaste, npending, first_session;
    uint32_t orders, events, purchases;
    uint32_t busy; /* second of its last event: a new visit starts after it */
    ulm_synth_pending pending[ULM_SYNTH_MAX_PENDING];
} ulm_synth_user;

/* One generated event, packed: key = second of day | type << 17 | qty << 20; for search events
 * item holds up to four word ids (one per byte, 0 = none). order holds the user's order number in
 * its low 24 bits (0 = none) and, on returns, the price level paid (percent) in the high 8 bits, so
 * a refund shows the price of the purchase, not that of the return day. */
#define ULM_SYNTH_ORDER_BITS 24
#define ULM_SYNTH_ORDER_MASK 0xFFFFFFu
typedef struct ulm_synth_ev {
    uint32_t key, user, item, order;
} ulm_synth_ev;
#define ULM_SYNTH_KEY(sec, type, qty) ((uint32_t)(sec) | (uint32_t)(type) << 17 | (uint32_t)(qty) << 20)
#define ULM_SYNTH_MAX_QTY 4095u

/* Events of one worker for one day, with a histogram by minute for the ordering pass (small enough
 * to stay in L1; a per-second one missed the cache on every event). */
#define ULM_SYNTH_MINUTES 1440u
typedef struct ulm_synth_evbuf {
    ulm_synth_ev *ev;
    size_t n, cap;
    uint64_t by_type[5];
    bool oom;
    uint32_t hist[ULM_SYNTH_MINUTES];
} ulm_synth_evbuf;

typedef struct ulm_synth_world {
    ulm_synth_params p;
    uint32_t ncat;
    ulm_synth_category *cats;
    ulm_synth_item *items;
    uint32_t *members;      /* item ids grouped by category */
    ulm_synth_pick *picks;  /* per band alias slots, in the same layout as members */
    ulm_synth_band *bands;  /* per category popularity bands */
    uint32_t *price_cents;  /* list price per item (compact copy for the formatter) */
    ulm_alias cat_pick;     /* category by popularity share */
    double zipf_norm;       /* sum of r^-s over all ranks */
    double views_neg_log_q; /* -log(1 - 1/views_per_session): the geometric draw's constant */
    ulm_synth_user *users;
    uint32_t *wake; /* per user: first second it needs attention; UINT32_MAX = never */
    /* Calendar, one entry per day of the period. */
    float *day_factor;      /* weekly x yearly traffic, mean 1 over a calendar year */
    float *conv_factor;     /* multiplier of the buy chance (promotions) */
    uint8_t *price_pct;     /* price level in percent (promotions) */
    char (*day_prefix)[12]; /* "YYYY-MM-DDT" */
    float diurnal[24];      /* hour-of-day traffic, mean 1 */
    double *cum_day;        /* days + 1 entries: operational time at the start of each day */
    double hour_cum[25];    /* share of a day's traffic before each hour */
    ulm_alias hour_pick;    /* hour of day by diurnal weight */
} ulm_synth_world;

/* Builds catalogue, calendar and users from p (validated here: ULM_ERR_RANGE with a message).
 * Allocates; free with ulm_synth_world_free even after a failure. */
ulm_status ulm_synth_world_build(ulm_synth_world *w, const ulm_synth_params *p, ulm_diag *diag);
void ulm_synth_world_free(ulm_synth_world *w);

/* Generates user u's events on day d into out (and updates the user and its wake time).
 * Touches only user u, so disjoint users may run on different threads. */
void ulm_synth_user_day(ulm_synth_world *w, uint32_t u, uint32_t d, ulm_synth_evbuf *out);
/* Draws one category from the user's taste mixture. */
uint32_t ulm_synth_pick_category(const ulm_synth_world *w, ulm_synth_user *usr);

/* A popularity-weighted item of category c: a band, then an item of the band (one draw each). */
static inline uint32_t ulm_synth_pick_item(const ulm_synth_world *w, uint32_t c, ulm_rng *r) {
    const ulm_synth_category *cat = &w->cats[c];
    const ulm_synth_band *bd = &w->bands[cat->band_first];
    if (cat->nbands > 1) {
        uint64_t x = ulm_rng_next(r);
        uint32_t k = (uint32_t)(((x >> 32) * (uint64_t)cat->nbands) >> 32);
        if (!((float)(x & 0xFFFFFF) * 0x1.0p-24f < bd[k].prob)) k = bd[k].alias;
        bd += k;
    }
    uint64_t y = ulm_rng_next(r);
    const ulm_synth_pick *s = &w->picks[cat->first + bd->start + (uint32_t)(((y >> 32) * (uint64_t)bd->count) >> 32)];
    return (float)(y & 0xFFFFFF) * 0x1.0p-24f < s->prob ? s->item : s->alias;
}

/* Vocabulary: word ids 1..ulm_synth_nwords(); 0 is "no word". */
const char *ulm_synth_word(uint32_t id);
uint32_t ulm_synth_nwords(void);
/* The built-in category table: noun, repurchase cycle (0 = durable), median price and return rate. */
typedef struct ulm_synth_base {
    const char *noun;
    uint16_t cycle_days;
    float median_price, return_rate;
} ulm_synth_base;
extern const ulm_synth_base ulm_synth_bases[];
extern const uint32_t ulm_synth_nbases;
typedef struct ulm_synth_qual {
    const char *word;
    float price_mult;
} ulm_synth_qual;
extern const ulm_synth_qual ulm_synth_quals[];
extern const uint32_t ulm_synth_nquals;
/* Word ids of the name parts. */
uint32_t ulm_synth_adj_word(uint32_t k);  /* k < ULM_SYNTH_NADJ */
uint32_t ulm_synth_mat_word(uint32_t k);  /* k < ULM_SYNTH_NMAT */
uint32_t ulm_synth_noun_word(uint32_t k); /* k < ulm_synth_nbases */
uint32_t ulm_synth_qual_word(uint32_t k); /* 1 <= k < ulm_synth_nquals */
#define ULM_SYNTH_NADJ 40
#define ULM_SYNTH_NMAT 30

/* Calendar: days since 1970-01-01 <-> civil date (proleptic Gregorian). */
/* Parses "YYYY-MM-DD" strictly (a real calendar date) into days since 1970-01-01. */
bool ulm_synth_parse_date(const char *s, int64_t *days);
/* Writes "YYYY-MM-DD" (10 chars + NUL) into out[11]. */
void ulm_synth_format_date(int64_t days, char out[11]);
/* Fills the world's calendar arrays and diurnal table; allocates. */
ulm_status ulm_synth_calendar_build(ulm_synth_world *w);
/* Operational time of absolute second t (0 <= t): the expected number of sessions of a user with rate
 * 1 per mean day up to t. Sessions are a Poisson process of rate lambda in operational time. */
double ulm_synth_op_time(const ulm_synth_world *w, double t);
/* The inverse: the second at which operational time reaches tau, or a value >= days * 86400 when it
 * does not within the period. from_day is a hint: a day whose start lies at or before tau. */
double ulm_synth_op_inverse(const ulm_synth_world *w, double tau, uint32_t from_day);

/* Formats n ordered events of day d as CSV lines into out (room for n * ULM_SYNTH_LINE_MAX bytes);
 * returns the bytes written. */
#define ULM_SYNTH_LINE_MAX 192
size_t ulm_synth_format(const ulm_synth_world *w, uint32_t d, const ulm_synth_ev *ev, size_t n, char *out);
/* The CSV header line, newline included. */
extern const char ulm_synth_header[];
/* Writes the name of item i ("classic black coffee 12") into out (room for 96 bytes); returns its length. */
size_t ulm_synth_item_name(const ulm_synth_world *w, uint32_t i, char *out);

/* What a run produced. */
typedef struct ulm_synth_result {
    uint64_t by_type[5];    /* view, cart, purchase, return, search */
    uint64_t events, bytes; /* bytes of the event file as written (compressed if .gz) */
    uint64_t active_users, churned_users;
    double seconds;
} ulm_synth_result;

/* Generates the event log into path (gzip when it ends in ".gz") and the truth files beside it,
 * every file written to a temporary name and renamed. Progress goes to stderr when it is a terminal. */
ulm_status ulm_synth_run(ulm_synth_world *w, const char *path, ulm_synth_result *res, ulm_diag *diag);
/* Writes <base>.truth.json, <base>.truth.users.csv and <base>.truth.items.csv (base = path
 * without ".gz") atomically. */
ulm_status ulm_synth_write_truth(const ulm_synth_world *w, const char *path, const ulm_synth_result *res,
                                 ulm_diag *diag);
/* The truth file base name for path (malloc'd), or NULL on allocation failure. */
char *ulm_synth_truth_base(const char *path);

#endif
