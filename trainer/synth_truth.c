/* synth_truth.c: the ground truth beside a `ulm synth` log: parameters and calendar (JSON), and
 * per-user and per-item CSV files with what the generator knew about each. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "synth.h"

char *ulm_synth_truth_base(const char *path) {
    size_t n = strlen(path);
    if (n >= 3 && strcmp(path + n - 3, ".gz") == 0) n -= 3;
    char *b = malloc(n + 1);
    if (!b) return NULL;
    memcpy(b, path, n);
    b[n] = 0;
    return b;
}

/* Floor division of seconds into days (signups before the period are negative). */
static int64_t day_of(int64_t t) {
    return t >= 0 ? t / (int64_t)ULM_SYNTH_DAY : -((-t + ULM_SYNTH_DAY - 1) / (int64_t)ULM_SYNTH_DAY);
}

/* The last path component, for naming sibling files inside the JSON. */
static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The truth JSON: seed, sizes, parameters, calendar, categories and the counts of this run. */
static void build_json(ulm_sb *b, const ulm_synth_world *w, const char *path, const char *base,
                       const ulm_synth_result *res) {
    const ulm_synth_params *p = &w->p;
    char start[11], last[11];
    ulm_synth_format_date(p->start_day, start);
    ulm_synth_format_date(p->start_day + (int64_t)p->days - 1, last);
    ulm_sb_printf(b, "{\n  \"generator\": \"ulm synth\",\n  \"ulm_version\": \"%s\",\n  \"truth_format\": 1,\n",
                  ULM_VERSION_STRING);
    ulm_sb_printf(b, "  \"seed\": %llu,\n  \"users\": %llu,\n  \"items\": %llu,\n  \"days\": %llu,\n",
                  (unsigned long long)p->seed, (unsigned long long)p->users, (unsigned long long)p->items,
                  (unsigned long long)p->days);
    ulm_sb_printf(b, "  \"start\": \"%s\",\n  \"last_day\": \"%s\",\n  \"files\": {\"events\": ", start, last);
    const char *ev = base_name(path), *bn = base_name(base);
    ulm_sb_json_str(b, ev, strlen(ev));
    static const char *const suffix[2] = {".truth.users.csv", ".truth.items.csv"};
    static const char *const keys[2] = {"users", "items"};
    for (int i = 0; i < 2; i++) {
        ulm_sb name = {0};
        ulm_sb_printf(&name, "%s%s", bn, suffix[i]);
        ulm_sb_printf(b, ", \"%s\": ", keys[i]);
        if (name.s) ulm_sb_json_str(b, name.s, name.len);
        ulm_sb_free(&name);
    }
    ulm_sb_printf(b, "},\n");
    ulm_sb_printf(b,
                  "  \"params\": {\"zipf\": %.6g, \"categories\": %u, \"sessions_per_day_median\": %.6g, "
                  "\"session_rate_sigma\": %.6g, \"views_per_session\": %.6g, \"p_search\": %.6g, "
                  "\"p_cart_mean\": %.6g, \"p_buy_mean\": %.6g, \"session_stay\": %.6g, \"existing_share\": %.6g, "
                  "\"mean_lifetime_days\": %.6g, \"oneoff_share\": %.6g, \"oneoff_lifetime_days\": %.6g, "
                  "\"repurchase_prob\": %.6g, \"decline_days\": 45, \"decline_floor\": 0.3, "
                  "\"return_delay_days\": \"2 + Exp(mean 7)\", \"max_pending_per_user\": %d},\n",
                  p->zipf, w->ncat, p->sessions_per_day, p->session_sigma, p->views_per_session, p->p_search, p->p_cart,
                  p->p_buy, p->session_stay, p->existing_share, p->mean_lifetime_days, p->oneoff_share,
                  p->oneoff_lifetime_days, p->repurchase_prob, ULM_SYNTH_MAX_PENDING);
    ulm_sb_printf(b, "  \"calendar\": {\"diurnal_utc\": [");
    for (int h = 0; h < 24; h++)
        ulm_sb_printf(b, "%s%.4g", h ? ", " : "", w->diurnal[h]);
    ulm_sb_printf(b, "],\n    \"special_days\": [");
    bool first = true;
    for (uint64_t d = 0; d < p->days; d++) {
        if (w->price_pct[d] == 100 && w->conv_factor[d] == 1.0f) continue;
        char date[11];
        ulm_synth_format_date(p->start_day + (int64_t)d, date);
        ulm_sb_printf(b, "%s{\"date\": \"%s\", \"price_pct\": %u, \"conversion\": %.3g}", first ? "" : ", ", date,
                      w->price_pct[d], w->conv_factor[d]);
        first = false;
    }
    ulm_sb_printf(b, "],\n    \"day_factor\": [");
    for (uint64_t d = 0; d < p->days; d++)
        ulm_sb_printf(b, "%s%.4g", d ? ", " : "", w->day_factor[d]);
    ulm_sb_printf(b, "]},\n  \"categories\": [\n");
    for (uint32_t c = 0; c < w->ncat; c++) {
        const ulm_synth_category *cat = &w->cats[c];
        ulm_sb_printf(b,
                      "    {\"id\": %u, \"name\": \"%s\", \"items\": %u, \"share\": %.6g, \"median_price\": %.2f, "
                      "\"price_sigma\": %.3f, \"return_rate\": %.4f, \"repurchase_cycle_days\": ",
                      c, cat->name, cat->count, cat->share, cat->median_price, cat->price_sigma, cat->return_rate);
        if (cat->cycle_days)
            ulm_sb_printf(b, "%u}", cat->cycle_days);
        else
            ulm_sb_printf(b, "null}");
        ulm_sb_printf(b, "%s\n", c + 1 < w->ncat ? "," : "");
    }
    ulm_sb_printf(b, "  ],\n  \"counts\": {\"events\": %llu", (unsigned long long)res->events);
    for (int k = 0; k < 5; k++)
        ulm_sb_printf(b, ", \"%s\": %llu", ulm_event_type_name(k), (unsigned long long)res->by_type[k]);
    ulm_sb_printf(b, ", \"active_users\": %llu, \"churned_users\": %llu}\n}\n", (unsigned long long)res->active_users,
                  (unsigned long long)res->churned_users);
}

/* Appends s (NUL-terminated) at p. */
static char *put_str(char *p, const char *s) {
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* Appends v in decimal. */
static char *put_uint(char *p, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Appends x >= 0 with dec decimals (rounded half away from zero); printf was most of this file's time. */
static char *put_fixed(char *p, double x, int dec) {
    static const uint64_t pow10[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    if (!(x >= 0) || x > 1e12) x = 0;
    uint64_t v = (uint64_t)llround(x * (double)pow10[dec]);
    p = put_uint(p, v / pow10[dec]);
    *p++ = '.';
    uint64_t f = v % pow10[dec];
    for (int k = dec - 1; k >= 0; k--) {
        p[k] = (char)('0' + f % 10);
        f /= 10;
    }
    return p + dec;
}

#define USER_ROW_MAX (400 + ULM_SYNTH_MAX_TASTE * 48)

/* One row per user: signup, churn, taste mixture, rates and what it did. */
static void build_users(ulm_sb *b, const ulm_synth_world *w) {
    const ulm_synth_params *p = &w->p;
    ulm_sb_printf(b, "user,signup_date,churn_date,lifetime_end_date,top_category,taste,explore,sessions_per_day,"
                     "p_cart,p_buy,purchase_rate_30d,events,purchases,orders\n");
    char row[USER_ROW_MAX];
    for (uint64_t u = 0; u < p->users && !b->oom; u++) {
        const ulm_synth_user *usr = &w->users[u];
        char su[11], en[11];
        ulm_synth_format_date(p->start_day + day_of(usr->signup_t), su);
        int64_t end_day = day_of(usr->end_t);
        ulm_synth_format_date(p->start_day + end_day, en);
        uint32_t top = usr->cats[0];
        float prev = 0, best = -1;
        for (uint32_t i = 0; i < usr->ntaste; i++) {
            if (usr->cum[i] - prev > best) {
                best = usr->cum[i] - prev;
                top = usr->cats[i];
            }
            prev = usr->cum[i];
        }
        char *q = row;
        *q++ = 'u';
        q = put_uint(q, u + 1);
        *q++ = ',';
        q = put_str(q, su);
        *q++ = ',';
        if (end_day < (int64_t)p->days) q = put_str(q, en);
        *q++ = ',';
        q = put_str(q, en);
        *q++ = ',';
        q = put_str(q, w->cats[top].name);
        *q++ = ',';
        prev = 0;
        for (uint32_t i = 0; i < usr->ntaste; i++) {
            if (i) *q++ = ';';
            q = put_str(q, w->cats[usr->cats[i]].name);
            *q++ = ':';
            q = put_fixed(q, usr->cum[i] - prev, 4);
            prev = usr->cum[i];
        }
        double rate30 = 30.0 * usr->lambda * p->views_per_session * usr->p_cart * usr->p_buy;
        *q++ = ',';
        q = put_fixed(q, usr->explore, 4);
        *q++ = ',';
        q = put_fixed(q, usr->lambda, 5);
        *q++ = ',';
        q = put_fixed(q, usr->p_cart, 4);
        *q++ = ',';
        q = put_fixed(q, usr->p_buy, 4);
        *q++ = ',';
        q = put_fixed(q, rate30, 4);
        *q++ = ',';
        q = put_uint(q, usr->events);
        *q++ = ',';
        q = put_uint(q, usr->purchases);
        *q++ = ',';
        q = put_uint(q, usr->orders);
        *q++ = '\n';
        ulm_sb_append(b, row, (size_t)(q - row));
    }
}

/* One row per item: name, category, list price, popularity and cycle. */
static void build_items(ulm_sb *b, const ulm_synth_world *w) {
    ulm_sb_printf(b, "item,name,category,price,popularity_rank,popularity_share,repurchase_cycle_days,return_rate\n");
    for (uint64_t i = 0; i < w->p.items; i++) {
        const ulm_synth_item *it = &w->items[i];
        char name[96];
        ulm_synth_item_name(w, (uint32_t)i, name);
        double share = pow((double)it->rank, -w->p.zipf) / w->zipf_norm;
        ulm_sb_printf(b, "i%llu,%s,%s,%u.%02u,%u,%.6g,", (unsigned long long)i + 1, name, w->cats[it->cat].name,
                      it->price_cents / 100, it->price_cents % 100, it->rank, share);
        if (it->cycle_days) ulm_sb_printf(b, "%u", it->cycle_days);
        ulm_sb_printf(b, ",%.4f\n", w->cats[it->cat].return_rate);
    }
}

ulm_status ulm_synth_write_truth(const ulm_synth_world *w, const char *path, const ulm_synth_result *res,
                                 ulm_diag *diag) {
    char *base = ulm_synth_truth_base(path);
    size_t n = base ? strlen(base) + 32 : 0;
    char *name = base ? malloc(n) : NULL;
    if (!name) {
        free(base);
        snprintf(diag->message, sizeof diag->message, "out of memory writing the truth files");
        return diag->status = ULM_ERR_NOMEM;
    }
    ulm_status s = ULM_OK;
    for (int f = 0; f < 3 && s == ULM_OK; f++) {
        ulm_sb b = {0};
        if (f == 0)
            build_json(&b, w, path, base, res);
        else if (f == 1)
            build_users(&b, w);
        else
            build_items(&b, w);
        static const char *const suffix[3] = {".truth.json", ".truth.users.csv", ".truth.items.csv"};
        snprintf(name, n, "%s%s", base, suffix[f]);
        if (b.oom) {
            snprintf(diag->message, sizeof diag->message, "out of memory building %s", name);
            s = diag->status = ULM_ERR_NOMEM;
        } else {
            s = ulm_file_write_atomic(name, b.s, b.len, diag);
        }
        ulm_sb_free(&b);
    }
    free(name);
    free(base);
    return s;
}
