/* churn_features.c: the customer-v1 feature vector from one customer's history (ulm_churn_features.h). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ulm/ulm_churn_features.h"

#define DAY 86400.0

static const char *const names[ULM_CF_COUNT] = {
    "recency_days",   "tenure_days",   "orders",        "orders_30d",        "orders_90d",  "orders_365d",
    "spend",          "spend_90d",     "avg_order_value", "purchase_days",   "mean_gap_days", "gap_sd_days",
    "last_gap_days",  "overdue_ratio", "lines_per_order", "return_rate",     "views_30d",   "carts_30d",
};

const char *ulm_cust_feature_name(uint32_t f) { return f < ULM_CF_COUNT ? names[f] : NULL; }

/* Floor division of Unix seconds into UTC day numbers (correct for times before 1970 too). */
static int64_t day_of(int64_t t) { return t >= 0 ? t / 86400 : -((-t + 86399) / 86400); }

ulm_status ulm_cust_features(const ulm_cust_event *ev, size_t n, int64_t as_of, float *x) {
    if (!x || (!ev && n)) return ULM_ERR_MISUSE;
    for (size_t i = 1; i < n; i++)
        if (ev[i].time < ev[i - 1].time) return ULM_ERR_MISUSE;
    double orders = 0, o30 = 0, o90 = 0, o365 = 0, spend = 0, spend90 = 0, lines = 0, returns = 0;
    double views30 = 0, carts30 = 0;
    int64_t first = 0, last = 0, prev_day = 0, prev_time = 0;
    uint32_t prev_order = 0;
    double days = 0, gap_sum = 0, gap_sq = 0, last_gap = NAN;
    int have = 0;
    for (size_t i = 0; i < n && ev[i].time < as_of; i++) {
        const ulm_cust_event *e = &ev[i];
        double age = ((double)as_of - (double)e->time) / DAY; /* > 0 */
        if (e->type == 0 && age <= 30) views30++;
        if (e->type == 1 && age <= 30) carts30++;
        if (e->type == 3) returns++;
        if (e->type != 2) continue;
        lines++;
        double amount = (double)e->qty * (double)e->price;
        if (amount == amount) {
            spend += amount;
            if (age <= 90) spend90 += amount;
        }
        bool new_order = !have || (e->order != 0xFFFFFFFFu ? e->order != prev_order : e->time != prev_time) ||
                         (e->order == 0xFFFFFFFFu && prev_order != 0xFFFFFFFFu);
        if (new_order) {
            orders++;
            o30 += age <= 30;
            o90 += age <= 90;
            o365 += age <= 365;
        }
        int64_t d = day_of(e->time);
        if (!have) {
            first = e->time;
            days = 1;
        } else if (d != prev_day) {
            double g = (double)(d - prev_day);
            days++;
            gap_sum += g;
            gap_sq += g * g;
            last_gap = g;
        }
        have = 1;
        prev_day = d;
        prev_time = e->time;
        prev_order = e->order;
        last = e->time;
    }
    for (int f = 0; f < ULM_CF_COUNT; f++) x[f] = NAN;
    x[ULM_CF_ORDERS] = (float)orders;
    x[ULM_CF_ORDERS_30] = (float)o30;
    x[ULM_CF_ORDERS_90] = (float)o90;
    x[ULM_CF_ORDERS_365] = (float)o365;
    x[ULM_CF_SPEND] = (float)spend;
    x[ULM_CF_SPEND_90] = (float)spend90;
    x[ULM_CF_PURCHASE_DAYS] = (float)days;
    x[ULM_CF_VIEWS_30] = (float)views30;
    x[ULM_CF_CARTS_30] = (float)carts30;
    if (!have) return ULM_OK;
    double recency = ((double)as_of - (double)last) / DAY;
    x[ULM_CF_RECENCY] = (float)recency;
    x[ULM_CF_TENURE] = (float)(((double)as_of - (double)first) / DAY);
    x[ULM_CF_AOV] = (float)(spend / orders);
    x[ULM_CF_LINES_PER_ORDER] = (float)(lines / orders);
    x[ULM_CF_RETURN_RATE] = (float)(returns / lines);
    if (days >= 2) {
        double mean = gap_sum / (days - 1);
        x[ULM_CF_MEAN_GAP] = (float)mean;
        x[ULM_CF_LAST_GAP] = (float)last_gap;
        x[ULM_CF_OVERDUE] = (float)(recency / mean);
        if (days >= 3) {
            double var = gap_sq / (days - 1) - mean * mean;
            x[ULM_CF_GAP_SD] = (float)sqrt(var > 0 ? var : 0);
        }
    }
    return ULM_OK;
}

/* snprintf that tolerates cap == 0 and reports the length it needed. */
static size_t put(char *buf, size_t cap, const char *fmt, double a, double b) {
    char tmp[1];
    int k = cap ? snprintf(buf, cap, fmt, a, b) : snprintf(tmp, 0, fmt, a, b);
    return k > 0 ? (size_t)k : 0;
}

/* "1 order" / "3 orders": the plural of a count. */
static const char *s_if(double v) { return v == 1 ? "" : "s"; }

size_t ulm_cust_feature_phrase(uint32_t f, const float *x, char *buf, size_t cap) {
    if (cap) buf[0] = 0;
    if (f >= ULM_CF_COUNT || !x) return 0;
    double v = x[f], gap = x[ULM_CF_MEAN_GAP];
    char fmt[96];
    if (v != v) {
        switch (f) {
        case ULM_CF_MEAN_GAP:
        case ULM_CF_LAST_GAP:
        case ULM_CF_OVERDUE: return put(buf, cap, "bought on one day only", 0, 0);
        case ULM_CF_GAP_SD: return put(buf, cap, "too few purchases to know a rhythm", 0, 0);
        default: return put(buf, cap, "never bought", 0, 0);
        }
    }
    switch (f) {
    case ULM_CF_RECENCY:
    case ULM_CF_OVERDUE:
        if (x[ULM_CF_RECENCY] != x[ULM_CF_RECENCY]) return put(buf, cap, "never bought", 0, 0);
        if (gap == gap)
            return put(buf, cap, "no purchase for %.0f days, usually every %.0f", floor(x[ULM_CF_RECENCY]),
                       gap < 1 ? 1 : floor(gap + 0.5));
        return put(buf, cap, "no purchase for %.0f days", floor(x[ULM_CF_RECENCY]), 0);
    case ULM_CF_TENURE: return put(buf, cap, "first purchase %.0f days ago", floor(v), 0);
    case ULM_CF_ORDERS:
        snprintf(fmt, sizeof fmt, "%%.0f order%s in total", s_if(v));
        return put(buf, cap, fmt, v, 0);
    case ULM_CF_ORDERS_30:
    case ULM_CF_ORDERS_90:
    case ULM_CF_ORDERS_365: {
        double w = f == ULM_CF_ORDERS_30 ? 30 : f == ULM_CF_ORDERS_90 ? 90 : 365;
        if (v == 0) return put(buf, cap, "no order in the last %.0f days", w, 0);
        snprintf(fmt, sizeof fmt, "%%.0f order%s in the last %%.0f days", s_if(v));
        return put(buf, cap, fmt, v, w);
    }
    case ULM_CF_SPEND: return put(buf, cap, "spent %.2f in total", v, 0);
    case ULM_CF_SPEND_90:
        if (v == 0) return put(buf, cap, "spent nothing in the last 90 days", 0, 0);
        return put(buf, cap, "spent %.2f in the last 90 days", v, 0);
    case ULM_CF_AOV: return put(buf, cap, "average order %.2f", v, 0);
    case ULM_CF_PURCHASE_DAYS:
        if (v == 1) return put(buf, cap, "bought on one day only", 0, 0);
        return put(buf, cap, "bought on %.0f different days", v, 0);
    case ULM_CF_MEAN_GAP: return put(buf, cap, "usually buys every %.0f days", v < 1 ? 1 : floor(v + 0.5), 0);
    case ULM_CF_GAP_SD:
        return put(buf, cap, v > gap ? "irregular rhythm: gaps vary by %.0f days" : "steady rhythm: gaps vary by %.0f days",
                   floor(v + 0.5), 0);
    case ULM_CF_LAST_GAP: return put(buf, cap, "%.0f days between the last two purchases", floor(v + 0.5), 0);
    case ULM_CF_LINES_PER_ORDER: return put(buf, cap, "%.1f lines per order", v, 0);
    case ULM_CF_RETURN_RATE:
        if (v == 0) return put(buf, cap, "no returns", 0, 0);
        return put(buf, cap, "returned %.0f%% of lines bought", floor(100 * v + 0.5), 0);
    case ULM_CF_VIEWS_30:
        if (v == 0) return put(buf, cap, "no product views in the last 30 days", 0, 0);
        return put(buf, cap, "%.0f product views in the last 30 days", v, 0);
    case ULM_CF_CARTS_30:
        if (v == 0) return put(buf, cap, "nothing added to the cart in the last 30 days", 0, 0);
        return put(buf, cap, "%.0f cart additions in the last 30 days", v, 0);
    default: return 0;
    }
}
