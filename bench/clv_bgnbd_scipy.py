"""BG/NBD benchmark helper: synthetic customers and the SciPy reference fit.

gen N SEED OUT.csv   simulates N customers from the BG/NBD process (Fader, Hardie & Lee 2005) with
                     r 0.243, alpha 4.414, a 0.793, b 2.426 (weeks), first purchases spread over 12
                     weeks before a 39-week calibration end, purchase times rounded to days; writes x,t_x,T.
fit IN.csv           reads the table (pandas), groups it by distinct (x, t_x, T) (pandas hash group-by) and fits
                     the same likelihood (log-parameters, vectorised NumPy log-likelihood with the analytic
                     gradient, log-sum-exp) with scipy.optimize.minimize(BFGS); prints JSON with the time of
                     each phase.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, gammaln


def gen(n, seed, out):
    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.integers(189, 273, n).astype(float)  # days from the first purchase to the calibration end
    t = np.zeros(n)
    x = np.zeros(n)
    tx = np.zeros(n)
    alive = np.ones(n, bool)
    while alive.any():
        idx = np.nonzero(alive)[0]
        t[idx] += rng.exponential(1 / np.maximum(lam[idx], 1e-12)) * 7  # weeks -> days
        inside = t[idx] <= T[idx]
        done = idx[~inside]
        alive[done] = False
        buy = idx[inside]
        x[buy] += 1
        tx[buy] = np.floor(t[buy])
        alive[buy[rng.random(buy.size) < p[buy]]] = False  # drop out after a purchase
    with open(out, "w") as f:
        f.write("x,t_x,T\n")
        np.savetxt(f, np.column_stack([x, tx / 7, T / 7]), fmt="%.0f,%.6f,%.6f")


def nll(th, x, tx, T, w, W):
    r, al, a, b = np.exp(th)
    c0 = gammaln(r + x) - gammaln(r) + r * np.log(al) + gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    u = -(r + x) * np.log(al + T)
    pos = x > 0
    v = np.where(pos, np.log(a) - np.log(np.where(pos, b + x - 1, 1)) - (r + x) * np.log(al + tx), -np.inf)
    l = np.logaddexp(u, v)
    w3, w4 = np.exp(u - l), np.exp(v - l)
    ll = np.sum(w * (c0 + l))
    dr = digamma(r + x) - digamma(r) + np.log(al) - w3 * np.log(al + T) - w4 * np.log(al + tx)
    dal = r / al - (r + x) * (w3 / (al + T) + w4 / (al + tx))
    dab = digamma(a + b) - digamma(a + b + x)
    da = dab + w4 / a
    db = dab + digamma(b + x) - digamma(b) - w4 / np.where(pos, b + x - 1, 1)
    g = np.array([np.sum(w * dr) * r, np.sum(w * dal) * al, np.sum(w * da) * a, np.sum(w * db) * b])
    return -ll / W, -g / W


def fit(path):
    # the whole pipeline as a NumPy user would write it: read with pandas, group with a hash group-by
    # (faster than np.unique(axis=0), which sorts all rows), fit the grouped likelihood
    t0 = time.perf_counter()
    df = pd.read_csv(path, dtype=np.float64)
    t1 = time.perf_counter()
    grp = df.groupby(["x", "t_x", "T"], sort=True).size()
    trip = np.array(grp.index.tolist(), dtype=np.float64)
    x, tx, T = trip[:, 0], trip[:, 1], trip[:, 2]
    w = grp.to_numpy().astype(float)
    W = w.sum()
    t2 = time.perf_counter()
    th0 = np.array([0.0, np.log(np.sum(w * T) / np.sum(w * x)), 0.0, 0.0])
    res = minimize(nll, th0, args=(x, tx, T, w, W), jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 1000})
    t3 = time.perf_counter()
    r, al, a, b = np.exp(res.x)
    print(json.dumps({"r": r, "alpha": al, "a": a, "b": b, "loglik": -res.fun * W, "groups": int(len(w)),
                      "customers": int(W), "read_seconds": t1 - t0, "group_seconds": t2 - t1, "fit_seconds": t3 - t2,
                      "seconds": t3 - t1, "success": bool(res.success), "nit": int(res.nit), "nfev": int(res.nfev)}))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        fit(sys.argv[2])
