#!/usr/bin/env python3
"""recs_ease_ref.py: the NumPy/SciPy reference for EASE (Steck 2019) and popularity, on split files.

EASE: G = X^T X (scipy.sparse), P = inv(G + lambda I) in float64 (numpy.linalg.inv, as in the
paper's reference code), B = -P / diag(P), diag(B) = 0; scores = X B. Lambda is chosen on the
validation split (fit.tsv -> val.tsv), then the model is refit on train.tsv and evaluated on
test.tsv. Metrics follow ulm's definitions exactly (ulm_rectrain.h): the user's training items
are excluded, test rows with items absent from training are dropped, binary relevance,
NDCG with log2(rank + 1), precision hits/K, recall hits/|test|, MAP@K / min(K, |test|).
Ties rank the lower item index (ulm numbers items in first-appearance order of train.tsv) first.

usage: recs_ease_ref.py DIR [--lambdas 50,100,...] [--threads 2]   prints one JSON object
"""
import json, os, sys, time
import numpy as np
import scipy.sparse as sp


def read(path, users=None, items=None):
    us, it = [], []
    with open(path) as f:
        next(f)
        for line in f:
            u, i = line.rstrip("\n").split("\t")[:2]
            us.append(u)
            it.append(i)
    return us, it


def index(us, it):
    """First-appearance numbering, the same as ulm's dictionaries."""
    ui, ii = {}, {}
    for u in us:
        ui.setdefault(u, len(ui))
    for i in it:
        ii.setdefault(i, len(ii))
    return ui, ii


def matrix(us, it, ui, ii):
    rows, cols = [], []
    for u, i in zip(us, it):
        if u in ui and i in ii:
            rows.append(ui[u])
            cols.append(ii[i])
    x = sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(len(ui), len(ii)))
    x.sum_duplicates()
    x.data[:] = 1.0
    return x


def ease_fit(x, lam):
    g = (x.T @ x).toarray()
    g[np.diag_indices_from(g)] += lam
    t0 = time.perf_counter()
    p = np.linalg.inv(g)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return b, time.perf_counter() - t0


def metrics(scores_fn, xtr, xte, ks=(10, 20)):
    n_items = xtr.shape[1]
    res = {k: np.zeros(5) for k in ks}
    cov = {k: set() for k in ks}
    n_eval = 0
    kmax = max(ks)
    users = np.arange(xtr.shape[0])
    for start in range(0, len(users), 256):
        block = users[start:start + 256]
        s = scores_fn(block)
        for r, u in enumerate(block):
            test = set(xte.indices[xte.indptr[u]:xte.indptr[u + 1]])
            if not test:
                continue
            n_eval += 1
            row = s[r].copy()
            row[xtr.indices[xtr.indptr[u]:xtr.indptr[u + 1]]] = -np.inf
            # best first, ties by lower index (stable sort of -score)
            top = np.argsort(-row, kind="stable")[:kmax]
            top = [t for t in top if np.isfinite(row[t])]
            for k in ks:
                hits = dcg = ap = 0.0
                for rank, item in enumerate(top[:k]):
                    cov[k].add(item)
                    if item in test:
                        hits += 1
                        dcg += 1 / np.log2(rank + 2)
                        ap += hits / (rank + 1)
                ideal = min(len(test), k)
                idcg = sum(1 / np.log2(r + 2) for r in range(ideal))
                res[k] += [hits / k, hits / len(test), dcg / idcg, ap / ideal, hits > 0]
    out = {"users_evaluated": n_eval}
    for k in ks:
        p, r, n, m, h = res[k] / max(n_eval, 1)
        out.update({f"precision@{k}": p, f"recall@{k}": r, f"ndcg@{k}": n, f"map@{k}": m, f"hit_rate@{k}": h,
                    f"coverage@{k}": len(cov[k]) / n_items})
    return out


def run(d, lambdas):
    fu, fi = read(os.path.join(d, "fit.tsv"))
    vu, vi = read(os.path.join(d, "val.tsv"))
    ui, ii = index(fu, fi)
    xf, xv = matrix(fu, fi, ui, ii), matrix(vu, vi, ui, ii)
    val = {}
    for lam in lambdas:
        b, _ = ease_fit(xf, lam)
        val[lam] = metrics(lambda blk: (xf[blk] @ b), xf, xv, ks=(10,))["ndcg@10"]
    best = max(lambdas, key=lambda l: val[l])
    tu, ti = read(os.path.join(d, "train.tsv"))
    su, si = read(os.path.join(d, "test.tsv"))
    ui, ii = index(tu, ti)
    xtr, xte = matrix(tu, ti, ui, ii), matrix(su, si, ui, ii)
    t0 = time.perf_counter()
    b, inv_secs = ease_fit(xtr, best)
    fit_secs = time.perf_counter() - t0
    ease = metrics(lambda blk: (xtr[blk] @ b), xtr, xte)
    pop_scores = np.asarray(xtr.sum(axis=0)).ravel()
    pop = metrics(lambda blk: np.tile(pop_scores, (len(blk), 1)), xtr, xte)
    return {"ease": dict(ease, **{"lambda": best, "fit_seconds": fit_secs, "inverse_seconds": inv_secs,
                                  "validation_ndcg@10": {str(k): v for k, v in val.items()}}),
            "pop": pop, "items": xtr.shape[1], "users": xtr.shape[0]}


if __name__ == "__main__":
    d = sys.argv[1]
    lambdas = [50, 100, 200, 400, 800]
    if "--lambdas" in sys.argv:
        lambdas = [float(x) for x in sys.argv[sys.argv.index("--lambdas") + 1].split(",")]
    print(json.dumps(run(d, lambdas)))
