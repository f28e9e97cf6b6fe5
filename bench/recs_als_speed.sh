#!/usr/bin/env bash
# recs_als_speed.sh: implicit ALS time per iteration (64 factors, CG 3 steps, THREADS threads)
# against a peer measured in the same run: the NumPy/SciPy CG ALS of bench/recs_als_ref.py (same
# model, solver, data and start scale; BLAS on the same thread count). The `implicit` library
# (not packaged in Debian) is context only: 12.1 ms/iteration on MovieLens 100K (compare the row
# with ML-100K's catalogue size) and 34 ms on
# Online Retail with 2 threads (PERF.md, measured on this machine class).
#
# Data: bench/recs_split.py's training files (MovieLens latest-small: 671 users x 8,414 movies,
# 80,001 training pairs after the 80/20 split; Online Retail: 4,247 customers x 3,616 products,
# 213,339 pairs). ulm is the
# portable build (no -march=native; the AVX2 row loop is chosen at run time where the CPU has it).
# Each side runs REPS times; the table shows best and median wall ms/iteration; ulm also reports
# CPU ms/iteration (on a loaded machine wall time overstates what an idle one shows).
#
# usage: bench/recs_als_speed.sh [REPS=3] [THREADS=2] [ITERS=10]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data}
PY=/usr/bin/python3
reps=${1:-3}; T=${2:-2}; iters=${3:-10}
B=${B:-$ROOT/build/bench-als}
W=$ROOT/build/bench-recs
if [ ! -f "$B/build.ninja" ]; then
  cmake -S "$ROOT" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DULM_CUDA=OFF -DULM_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$B" ulm_recs_als_speed >/dev/null
mkdir -p "$W"
[ -f "$W/ml/train.tsv" ] || $PY "$ROOT/bench/recs_split.py" movielens "$DATA/movielens-small/movielens.csv" "$W/ml" >&2
[ -f "$W/or/train.tsv" ] || $PY "$ROOT/bench/recs_split.py" retail "$DATA/online-retail/online_retail.csv.gz" "$W/or" >&2
# ML-100K's shape: MovieLens latest-small's training pairs on its 1,682 most-rated movies (ML-100K's
# catalogue size; the per-iteration cost grows with the catalogue through the item-side solves).
if [ ! -f "$W/ml1682/train.tsv" ]; then
  mkdir -p "$W/ml1682"
  $PY - "$W/ml/train.tsv" "$W/ml1682/train.tsv" <<'PY'
import sys, pandas as pd
d = pd.read_csv(sys.argv[1], sep="\t")
top = d["item"].value_counts(sort=True).index[:1682]
d[d["item"].isin(top)].to_csv(sys.argv[2], sep="\t", index=False)
PY
fi
for ds in ml1682 ml or; do
  echo "== $ds: ulm" >&2
  "$B/bin/ulm_recs_als_speed" "$W/$ds/train.tsv" 64 "$iters" "$T" "$reps" | tee "$W/${ds}_als_ulm.jsonl" >&2
  echo "== $ds: NumPy/SciPy reference" >&2
  OPENBLAS_NUM_THREADS=$T OMP_NUM_THREADS=$T $PY "$ROOT/bench/recs_als_ref.py" "$W/$ds/train.tsv" --iters "$iters" \
    --reps "$reps" | tee "$W/${ds}_als_ref.json" >&2
done
$PY - "$W" "$T" <<'PY'
import json, statistics, sys
w, t = sys.argv[1], sys.argv[2]
print(f"\n## ALS, 64 factors, CG 3 steps, {t} threads: wall ms per iteration (best / median of the reps)\n")
print("| data | users x items, nnz | ulm best / median | ulm CPU ms (median) | NumPy/SciPy CG ALS best / median | ulm / NumPy (best) | implicit 0.7 (PERF.md, not this run) |")
print("|---|---|---|---|---|---|---|")
for ds, name, implicit in (("ml1682", "MovieLens latest-small, top 1,682 movies (ML-100K's catalogue)", 12.1),
                           ("ml", "MovieLens latest-small", "-"), ("or", "Online Retail", 34.0)):
    lines = [json.loads(l) for l in open(f"{w}/{ds}_als_ulm.jsonl")]
    head, reps, summ = lines[0], [l for l in lines if "rep" in l], lines[-1]
    cpu = statistics.median(r["cpu_ms_per_iter"] for r in reps)
    ref = json.load(open(f"{w}/{ds}_als_ref.json"))
    print(f"| {name} | {head['users']} x {head['items']}, {head['nnz']} | {summ['best_ms_per_iter']:.1f} / {summ['median_ms_per_iter']:.1f} "
          f"| {cpu:.1f} | {ref['best_ms_per_iter']:.1f} / {ref['median_ms_per_iter']:.1f} "
          f"| {summ['best_ms_per_iter'] / ref['best_ms_per_iter']:.3f}x | {implicit} |")
PY
