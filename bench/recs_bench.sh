#!/usr/bin/env bash
# recs_bench.sh: recommender quality and speed, with the references measured in the same run.
#
# Quality (MovieLens latest-small, every rating an interaction, per-user random 80/20 split with
# seed 42, ranking over all training items minus the user's own): ulm's models, each tuned by
# `ulm tune recs` on a validation split carved from the training data, against the NumPy/SciPy
# EASE reference (bench/recs_ease_ref.py, lambda chosen on its own validation split) and
# popularity. Online Retail purchases (customer x product, 20% of each customer's distinct
# products held out). Speed: ulm EASE fit vs NumPy's float64 inverse; ALS ms/iteration with
# 64 factors, CG (3 steps), 2 threads.
#
# Uses a CPU-tuned build (ULM_NATIVE=ON: -march=native) in build/bench-native.
# usage: bench/recs_bench.sh [--quick]   (--quick: fewer reference lambdas)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data}
PY=/usr/bin/python3
B=$ROOT/build/bench-native
W=$ROOT/build/bench-recs
mkdir -p "$W"
if [ ! -f "$B/build.ninja" ]; then
  cmake -S "$ROOT" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DULM_NATIVE=ON -DULM_CUDA=OFF -DULM_BUILD_TESTS=OFF \
    -DCMAKE_C_FLAGS="-ffp-contract=fast" >/dev/null
fi
ninja -C "$B" -j"$(nproc)" ulm >/dev/null
ULM=$B/bin/ulm
T=${THREADS:-2}

$PY "$ROOT/bench/recs_split.py" movielens "$DATA/movielens-small/movielens.csv" "$W/ml" >&2
$PY "$ROOT/bench/recs_split.py" retail "$DATA/online-retail/online_retail.csv.gz" "$W/or" >&2

lam="100,200,400,800"
[ "${1:-}" = "--quick" ] && lam="200"
echo "== NumPy/SciPy EASE reference (float64 inverse, lambda in $lam on validation)" >&2
OPENBLAS_NUM_THREADS=$T $PY "$ROOT/bench/recs_ease_ref.py" "$W/ml" --lambdas "$lam" >"$W/ref_ml.json"

run() { # name dataset args...
  local name=$1 ds=$2; shift 2
  echo "== ulm $name on $ds" >&2
  "$ULM" "$@" --train "$W/$ds/train.tsv" --test "$W/$ds/test.tsv" --threads "$T" --json >"$W/${ds}_$name.json"
}
run pop ml eval recs --algo pop
run ease ml tune recs --algo ease
run als ml tune recs --algo als --factors 64
run itemknn ml tune recs --algo itemknn
run bpr ml tune recs --algo bpr --factors 64
run pop or eval recs --algo pop
run ease or tune recs --algo ease
run als or tune recs --algo als --factors 64
run itemknn or tune recs --algo itemknn
# Speed: ALS 64 factors, CG 3 steps, 10 iterations (ms per iteration = train time / 10).
for ds in ml or; do
  "$ULM" eval recs --train "$W/$ds/train.tsv" --test "$W/$ds/test.tsv" --algo als --factors 64 --iters 10 \
    --threads "$T" --json >"$W/${ds}_als_speed.json"
done
"$ULM" eval recs --train "$W/ml/train.tsv" --test "$W/ml/test.tsv" --algo ease --lambda 200 --threads "$T" --json \
  >"$W/ml_ease_speed.json"

$PY - "$W" <<'PY'
import json, sys
w = sys.argv[1]
ld = lambda n: json.load(open(f"{w}/{n}.json"))
ref = ld("ref_ml")
print("\n## Quality: NDCG@10 / recall@20 (MovieLens latest-small, per-user 80/20, seed 42)\n")
print("| model | ndcg@10 | recall@20 | map@10 | coverage@10 | chosen on validation |")
print("|---|---|---|---|---|---|")
print(f"| NumPy EASE reference | {ref['ease']['ndcg@10']:.4f} | {ref['ease']['recall@20']:.4f} | {ref['ease']['map@10']:.4f} | {ref['ease']['coverage@10']:.4f} | lambda {ref['ease']['lambda']:g} |")
print(f"| NumPy popularity reference | {ref['pop']['ndcg@10']:.4f} | {ref['pop']['recall@20']:.4f} | {ref['pop']['map@10']:.4f} | {ref['pop']['coverage@10']:.4f} | |")
best = 0
for m in ("pop", "ease", "als", "itemknn", "bpr"):
    d = ld(f"ml_{m}")
    keys = {"ease": ["lambda"], "als": ["reg", "alpha"], "itemknn": ["neighbours", "weighting"], "bpr": ["lr"]}.get(m, [])
    best = max(best, d["ndcg@10"])
    print(f"| ulm {m} | {d['ndcg@10']:.4f} | {d['recall@20']:.4f} | {d['map@10']:.4f} | {d['coverage@10']:.4f} | {', '.join(f'{k} {d[k]:g}' if not isinstance(d[k], str) else f'{k} {d[k]}' for k in keys)} |")
print(f"\nbest ulm / NumPy EASE reference NDCG@10: {best / ref['ease']['ndcg@10']:.3f}x")
print("\n## Quality: Online Retail purchases (20% of each customer's products held out)\n")
print("| model | ndcg@10 | recall@20 | coverage@10 |")
print("|---|---|---|---|")
for m in ("pop", "ease", "als", "itemknn"):
    d = ld(f"or_{m}")
    print(f"| ulm {m} | {d['ndcg@10']:.4f} | {d['recall@20']:.4f} | {d['coverage@10']:.4f} |")
e = ld("ml_ease_speed")
print("\n## Speed\n")
print("| what | ulm | reference | ratio |")
print("|---|---|---|---|")
print(f"| EASE fit, {e['items']} items (s) | {e['train_seconds']:.2f} | NumPy float64 inverse (same run) {ref['ease']['fit_seconds']:.2f} | {e['train_seconds'] / ref['ease']['fit_seconds']:.2f}x |")
oe = ld("or_ease")
print(f"| EASE fit, {oe['items']} items (s) | {oe['train_seconds']:.2f} | target 1.5 s | |")
for ds, name, implicit in (("ml", "MovieLens latest-small", 12.1), ("or", "Online Retail", 34.0)):
    d = ld(f"{ds}_als_speed")
    ms = d["train_seconds"] * 1000 / 10
    print(f"| ALS 64 factors CG, {d['threads']} threads, ms/iteration, {name} ({d['users']} x {d['items']}, {d['train_interactions']} nnz) | {ms:.1f} | implicit 0.7 {implicit} (PERF.md, not this run) | {ms / implicit:.2f}x |")
PY
