#!/usr/bin/env python3
"""recs_als_ref.py: a NumPy/SciPy implicit-ALS reference with the conjugate-gradient solver, the
named peer of bench/recs_als_speed.sh.

The model and solver are ulm's (Hu, Koren & Volinsky 2008 confidence c = 1 + alpha r, preference 1
for every stored entry; Takacs, Pilaszy & Tikk 2011 CG warm-started from the previous factors,
3 steps), written as whole-matrix NumPy/SciPy operations: every row's CG runs at once (Y^T Y by
one GEMM, the sparse part by a gather of the row entries' factor pairs and a sparse product), so
the peer is as fast as NumPy allows, not a Python loop per row. float32 throughout, BLAS threads
from OPENBLAS_NUM_THREADS.

usage: recs_als_ref.py TRAIN.tsv [TEST.tsv] [--factors 64] [--iters 10] [--reg 0.01] [--alpha 10]
                       [--cg-steps 3] [--reps 3] [--seed 42]
Prints one JSON object: ms per iteration per rep (best, median), and NDCG@10 on TEST when given
(binary gains, training items excluded: the same definition as `ulm eval recs`).
"""
import argparse, json, time
import numpy as np
import scipy.sparse as sp


def read(path, users=None, items=None):
    intern = users is None
    users = {} if users is None else users
    items = {} if items is None else items
    r, c = [], []
    with open(path) as f:
        next(f)
        for line in f:
            a = line.rstrip("\n").split("\t")
            if len(a) < 2:
                continue
            if intern:
                u = users.setdefault(a[0], len(users))
                i = items.setdefault(a[1], len(items))
            else:
                if a[0] not in users or a[1] not in items:
                    continue
                u, i = users[a[0]], items[a[1]]
            r.append(u), c.append(i)
    return users, items, np.array(r, dtype=np.int64), np.array(c, dtype=np.int64)


def half(x, y, conf1, reg, alpha, steps):
    """CG steps for every row of x against fixed y; conf1 is the CSR matrix of alpha * r."""
    f = x.shape[1]
    g = y.T @ y + reg * np.eye(f, dtype=np.float32)
    rows = np.repeat(np.arange(conf1.shape[0]), np.diff(conf1.indptr))
    cols, w = conf1.indices, conf1.data
    yk = y[cols]

    def a_times(v):  # A v = v G + sum_k (c_k - 1) (y_k . v_u) y_k
        t = np.einsum("kf,kf->k", yk, v[rows]) * w
        return v @ g + sp.csr_matrix((t, cols, conf1.indptr), shape=conf1.shape) @ y

    b = sp.csr_matrix((1.0 + w, cols, conf1.indptr), shape=conf1.shape) @ y
    r = b - a_times(x)
    p = r.copy()
    rs = np.einsum("uf,uf->u", r, r)
    for _ in range(steps):
        ap = a_times(p)
        pap = np.einsum("uf,uf->u", p, ap)
        step = np.where(pap > 0, rs / np.where(pap > 0, pap, 1), 0).astype(np.float32)
        x += step[:, None] * p
        r -= step[:, None] * ap
        rs_new = np.einsum("uf,uf->u", r, r)
        beta = np.where(rs > 1e-20, rs_new / np.where(rs > 1e-20, rs, 1), 0).astype(np.float32)
        p = r + beta[:, None] * p
        rs = rs_new
    empty = np.diff(conf1.indptr) == 0
    x[empty] = 0
    return x


def train(m, mt, f, iters, reg, alpha, steps, seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((m.shape[0], f), dtype=np.float32) * 0.01).astype(np.float32)
    y = (rng.random((m.shape[1], f), dtype=np.float32) * 0.01).astype(np.float32)
    cu, ci = m * np.float32(alpha), mt * np.float32(alpha)
    for _ in range(iters):
        x = half(x, y, cu, reg, alpha, steps)
        y = half(y, x, ci, reg, alpha, steps)
    return x, y


def ndcg10(x, y, m, test):
    disc = 1.0 / np.log2(np.arange(2, 12))
    tot, n = 0.0, 0
    for u in range(m.shape[0]):
        tu = test.indices[test.indptr[u]:test.indptr[u + 1]]
        if len(tu) == 0:
            continue
        s = y @ x[u]
        s[m.indices[m.indptr[u]:m.indptr[u + 1]]] = -np.inf
        top = np.argpartition(-s, 10)[:10]
        top = top[np.argsort(-s[top], kind="stable")]
        hit = np.isin(top, tu)
        tot += float((hit * disc).sum() / disc[: min(10, len(tu))].sum())
        n += 1
    return tot / max(n, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("test", nargs="?")
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--reg", type=float, default=0.01)
    ap.add_argument("--alpha", type=float, default=10.0)
    ap.add_argument("--cg-steps", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    users, items, r, c = read(a.train)
    m = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(users), len(items)))
    m.sum_duplicates()
    m.data[:] = 1.0
    mt = m.T.tocsr()
    ms = []
    for _ in range(a.reps):
        # (T(1 + iters) - T(1)) / iters, as bench/recs_als_speed.c does.
        t0 = time.perf_counter()
        train(m, mt, a.factors, 1, a.reg, a.alpha, a.cg_steps, a.seed)
        t1 = time.perf_counter()
        x, y = train(m, mt, a.factors, 1 + a.iters, a.reg, a.alpha, a.cg_steps, a.seed)
        t2 = time.perf_counter()
        ms.append(((t2 - t1) - (t1 - t0)) * 1000 / a.iters)
    out = {"peer": "NumPy/SciPy CG ALS (bench/recs_als_ref.py)", "users": m.shape[0], "items": m.shape[1],
           "nnz": int(m.nnz), "factors": a.factors, "ms_per_iter": [round(v, 2) for v in ms],
           "best_ms_per_iter": round(min(ms), 2), "median_ms_per_iter": round(float(np.median(ms)), 2)}
    if a.test:
        _, _, tr, tc = read(a.test, users, items)
        test = sp.csr_matrix((np.ones(len(tr), np.float32), (tr, tc)), shape=m.shape)
        out["ndcg@10"] = round(ndcg10(x, y, m, test), 4)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
