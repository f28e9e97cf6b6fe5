#!/usr/bin/env python3
"""recs_split.py: the evaluation protocol's split, written as files both ulm and the reference read.

MovieLens (latest-small): every rating is an interaction; per user, a seeded random 20% of the
user's items is held out for test (numpy default_rng(seed).permutation per user, users in id order,
round(0.2 n) items). The validation split carves 20% of each user's *training* items the same way
(seed + 1), so parameters are chosen without the test data.
Online Retail: customer x product purchases (invoices not starting with C, quantity > 0, known
customer), 20% of each customer's distinct products held out (customers with >= 2 products).

usage: recs_split.py movielens|retail INPUT OUTDIR [--seed 42]
writes OUTDIR/{train,test,fit,val}.tsv with header `user\titem`.
"""
import csv, gzip, os, sys
import numpy as np


def split(pairs_by_user, frac, seed):
    rng = np.random.default_rng(seed)
    tr, te = {}, {}
    for u in sorted(pairs_by_user):
        items = sorted(pairs_by_user[u])
        n = len(items)
        h = min(int(np.floor(frac * n + 0.5)), n - 1) if n else 0
        perm = rng.permutation(n)
        te[u] = [items[k] for k in perm[:h]]
        tr[u] = [items[k] for k in perm[h:]]
    return tr, te


def write(path, d):
    with open(path, "w") as f:
        f.write("user\titem\n")
        for u in sorted(d):
            for i in sorted(d[u]):
                f.write(f"{u}\t{i}\n")


def main():
    kind, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 42
    users = {}
    if kind == "movielens":
        with open(src, newline="") as f:
            for r in csv.DictReader(f):
                users.setdefault(int(r["userId"]), set()).add(int(r["movieId"]))
    else:
        with gzip.open(src, "rt", newline="") as f:
            for r in csv.DictReader(f):
                if not r["CustomerID"] or r["InvoiceNo"].startswith("C") or float(r["Quantity"]) <= 0:
                    continue
                users.setdefault(r["CustomerID"], set()).add(r["StockCode"])
        users = {u: s for u, s in users.items() if len(s) >= 2}
    os.makedirs(out, exist_ok=True)
    tr, te = split(users, 0.2, seed)
    fit, val = split(tr, 0.2, seed + 1)
    for name, d in (("train", tr), ("test", te), ("fit", fit), ("val", val)):
        write(os.path.join(out, name + ".tsv"), d)
    print(f"{kind}: {len(users)} users, {sum(len(s) for s in users.values())} interactions -> {out}")


if __name__ == "__main__":
    main()
