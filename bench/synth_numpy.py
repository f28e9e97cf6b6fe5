#!/usr/bin/python3
"""synth_numpy.py: the peer for bench/synth_speed.sh: a NumPy-vectorised generator of the same
popularity and session model as `ulm synth` (docs/synth.md), writing the same CSV columns.

What it shares with ulm synth: Zipf item popularity (rank^-s) inside skewed categories, log-normal
prices per category, users with 1-3 favourite categories plus exploration, log-normal session rates,
signup/lifetime with existing customers, weekly x yearly x hour-of-day traffic, geometric views per
session, per-user cart and buy chances, one order per session, returns, searches. What it leaves out
(they are sequential per user and do not vectorise): repurchase cycles of consumables, the activity
decline before churn, promotion prices and visits that never overlap. It is therefore a slightly
simpler model, which favours the peer.

Prints one JSON line: events, gen_seconds (arrays), write_seconds (CSV), events_per_second (total).
"""
import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

ap = argparse.ArgumentParser()
ap.add_argument("--users", type=int, default=20000)
ap.add_argument("--items", type=int, default=5000)
ap.add_argument("--days", type=int, default=365)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--start", default="2024-01-01")
ap.add_argument("--out", required=True)
a = ap.parse_args()

t0 = time.perf_counter()
rng = np.random.default_rng(a.seed)
U, M, D = a.users, a.items, a.days
DAY = 86400

# Catalogue: categories of skewed size, Zipf weights by a random rank, prices per category.
ncat = int(min(max(round(np.sqrt(M) / 3), 4), 540, M))
csize = (np.arange(ncat) + 1.0) ** -0.6
item_cat = np.concatenate([np.arange(ncat), rng.choice(ncat, M - ncat, p=csize / csize.sum())])
rank = rng.permutation(M) + 1
weight = rank.astype(float) ** -1.0
cat_median = np.exp(rng.normal(np.log(40), 1.0, ncat))
price = np.round(cat_median[item_cat] * np.exp(rng.normal(0, 0.45, M)), 2).clip(0.49)
return_rate = rng.uniform(0.01, 0.15, ncat)
order = np.lexsort((rank, item_cat))                   # items grouped by category, popular first
cum_w = np.cumsum(weight[order])
cat_mass = np.bincount(item_cat, weights=weight, minlength=ncat)
cat_start = np.concatenate([[0], np.cumsum(cat_mass)[:-1]])
cat_share = cat_mass / cat_mass.sum()

# Calendar: weekly x yearly traffic per day, hour-of-day profile; cumulative for inversion.
start = np.datetime64(a.start)
days = start + np.arange(D)
dow = (days.astype("datetime64[D]").view("int64") + 3) % 7
weekly = np.array([0.95, 0.93, 0.95, 0.97, 1.00, 1.08, 1.12])
doy = (days - days.astype("datetime64[Y]")).astype(int)
day_factor = weekly[dow] / weekly.mean() * (1 + 0.08 * np.cos(2 * np.pi * (doy - 8) / 365.25))
day_factor[(doy >= 332) & (doy <= 335)] *= 2.0        # roughly Black Friday weekend
cum_day = np.concatenate([[0], np.cumsum(day_factor)])
diurnal = np.array([0.35, 0.2, 0.12, 0.1, 0.1, 0.15, 0.3, 0.55, 0.8, 0.95, 1.05, 1.1,
                    1.2, 1.15, 1.1, 1.1, 1.15, 1.25, 1.4, 1.6, 1.75, 1.7, 1.35, 0.8])
cum_hour = np.concatenate([[0], np.cumsum(diurnal)]) / diurnal.sum()

# Users: rates, funnel chances, taste, signup and end of lifetime (in days from the start).
lam = np.clip(0.12 * np.exp(rng.normal(0, 0.9, U)), 0.002, 20)
p_cart = np.clip(0.08 * np.exp(rng.normal(0, 0.4, U) - 0.08), 0.005, 0.6)
p_buy = np.clip(0.45 * np.exp(rng.normal(0, 0.3, U) - 0.045), 0.05, 0.95)
k = rng.choice([1, 2, 3], U, p=[0.3, 0.4, 0.3])
fav = rng.choice(ncat, (U, 3), p=cat_share)
tw = rng.exponential(1.0, (U, 3)) * (np.arange(3)[None, :] < k[:, None])
explore = rng.uniform(0.05, 0.2, U)
tcum = np.cumsum(tw / tw.sum(1, keepdims=True), 1) * (1 - explore[:, None])
existing = rng.random(U) < 0.5
signup = np.where(existing, 0.0, rng.integers(0, D, U) + rng.random(U))
life = rng.exponential(1.0, U) * np.where(~existing & (rng.random(U) < 0.3), 30.0, 600.0)
end = np.minimum(signup + np.maximum(life, 1.0), D)

# Sessions: Poisson count over each user's window in operational time, placed by inversion.
op_a = np.interp(signup, np.arange(D + 1), cum_day)
op_b = np.interp(end, np.arange(D + 1), cum_day)
ns = rng.poisson(lam * (op_b - op_a))
s_user = np.repeat(np.arange(U), ns)
tau = op_a[s_user] + rng.random(s_user.size) * (op_b - op_a)[s_user]
s_day = np.clip(np.searchsorted(cum_day, tau, side="right") - 1, 0, D - 1)
frac = (tau - cum_day[s_day]) / day_factor[s_day]
hour = np.clip(np.searchsorted(cum_hour, frac, side="right") - 1, 0, 23)
s_time = s_day * DAY + (hour + (frac - cum_hour[hour]) / (cum_hour[hour + 1] - cum_hour[hour])) * 3600
S = s_user.size
s_cat_u = rng.random(S)
s_cat = np.where(s_cat_u < tcum[s_user, 0], fav[s_user, 0],
                 np.where(s_cat_u < tcum[s_user, 1], fav[s_user, 1],
                          np.where(s_cat_u < tcum[s_user, 2], fav[s_user, 2], rng.choice(ncat, S, p=cat_share))))
searched = rng.random(S) < 0.3

# Views: geometric count per session, mostly in the session's category, item by inverse CDF.
nv = rng.geometric(0.2, S)
v_sess = np.repeat(np.arange(S), nv)
V = v_sess.size
v_user = s_user[v_sess]
stay = rng.random(V) < 0.8
v_cat = np.where(stay, s_cat[v_sess], rng.choice(ncat, V, p=cat_share))
v_item = order[np.minimum(np.searchsorted(cum_w, cat_start[v_cat] + rng.random(V) * cat_mass[v_cat]), M - 1)]
gaps = 5 + rng.exponential(35.0, V)
csum = np.cumsum(gaps)
first = np.concatenate([[0], np.cumsum(nv)[:-1]])
v_time = s_time[v_sess] + searched[v_sess] * 20 + csum - csum[first][v_sess] + gaps[first][v_sess] - gaps

# Funnel: carts, one order per session for the kept lines, returns later.
is_cart = rng.random(V) < p_cart[v_user]
c_idx = np.flatnonzero(is_cart)
c_time = v_time[c_idx] + 10
is_buy = rng.random(c_idx.size) < p_buy[v_user[c_idx]]
b_idx = c_idx[is_buy]
sess_end = np.zeros(S)
np.maximum.at(sess_end, v_sess, v_time)
b_time = sess_end[v_sess[b_idx]] + 30 + rng.exponential(60.0, b_idx.size)
b_order = v_sess[b_idx]
qty = np.where(rng.random(c_idx.size) < 0.8, 1, rng.integers(2, 6, c_idx.size))
is_ret = rng.random(b_idx.size) < return_rate[item_cat[v_item[b_idx]]]
r_idx = b_idx[is_ret]
r_time = b_time[is_ret] + (2 + rng.exponential(7.0, r_idx.size)) * DAY

# One table, cut at each user's end and the period end, ordered by time.
ev_user = np.concatenate([s_user[searched], v_user, v_user[c_idx], v_user[b_idx], v_user[r_idx]])
ev_item = np.concatenate([np.full(searched.sum(), -1), v_item, v_item[c_idx], v_item[b_idx], v_item[r_idx]])
ev_time = np.concatenate([s_time[searched], v_time, c_time, b_time, r_time])
ev_type = np.concatenate([np.full(searched.sum(), 4), np.zeros(V, int), np.full(c_idx.size, 1),
                          np.full(b_idx.size, 2), np.full(r_idx.size, 3)])
ev_qty = np.concatenate([np.zeros(searched.sum(), int), np.zeros(V, int), qty, qty[is_buy], qty[is_buy][is_ret]])
ev_order = np.concatenate([np.full(searched.sum() + V + c_idx.size, -1), b_order, b_order[is_ret]])
ev_cat = np.concatenate([s_cat[searched], np.full(V + c_idx.size + b_idx.size + r_idx.size, -1)])
keep = (ev_time < end[ev_user] * DAY) & (ev_time < D * DAY)
srt = np.flatnonzero(keep)[np.argsort(ev_time[keep], kind="stable")]
t1 = time.perf_counter()

# CSV with the same columns as ulm synth, through pandas with the cheapest column types we found
# (categoricals for words, nullable integers, NaN prices with one float format).
n = srt.size
typ = ev_type[srt]
item = ev_item[srt]
order_id = ev_order[srt]
qv = ev_qty[srt]
names = ["view", "cart", "purchase", "return", "search"]
nouns = [f"category{c}" for c in range(ncat)]
user_s = "u" + pd.Series(ev_user[srt] + 1).astype(str)
item_s = ("i" + pd.Series(item + 1).astype(str)).where(item >= 0, "")
time_s = pd.Series(np.datetime_as_string(start + ev_time[srt].astype("int64").astype("timedelta64[s]"), unit="s")) + "Z"
order_s = ("o" + pd.Series(order_id).astype(str)).where(order_id >= 0, "")
df = pd.DataFrame({
    "user": user_s,
    "item": item_s,
    "time": time_s,
    "event": pd.Categorical.from_codes(typ, names),
    "quantity": pd.Series(qv, dtype="Int64").where(qv > 0),
    "price": pd.Series(price[np.maximum(item, 0)]).where(item >= 0),
    "order": order_s,
    "query": pd.Categorical.from_codes(np.where(typ == 4, ev_cat[srt], -1), nouns),
})
df.to_csv(a.out, index=False, float_format="%.2f")
t2 = time.perf_counter()
print(json.dumps({"events": int(n), "gen_seconds": round(t1 - t0, 3), "write_seconds": round(t2 - t1, 3),
                  "events_per_second": round(n / (t2 - t0)), "gen_events_per_second": round(n / (t1 - t0))}))
