#!/usr/bin/env bash
# cuda_als_check.sh: builds the CUDA ALS backend (native/cuda/cuda_als.cu), checks it against the CPU
# trainer on the same data and starting factors (NDCG@10, recall@20, RMS difference of the scores)
# and times both, printing a table. Needs nvcc to build the backend and a GPU to run it; without
# a GPU the table says so and the script exits 0 (the CPU row is still measured).
#
# usage: bench/cuda_als_check.sh [DATASET=ml|or] [FACTORS=64] [ITERS=15] [THREADS=2]
#   ml: MovieLens latest-small per-user 80/20 (seed 42); or: Online Retail purchases (bench/recs_split.py)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data}
PY=/usr/bin/python3
ds=${1:-ml}; factors=${2:-64}; iters=${3:-15}; threads=${4:-2}
B=$ROOT/build/bench-cuda
W=$ROOT/build/bench-recs
command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || echo "note: no nvcc: the GPU row will say 'not built'" >&2
if [ ! -f "$B/build.ninja" ]; then
  cmake -S "$ROOT" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DULM_NATIVE=ON -DULM_BUILD_TESTS=OFF \
    -DCMAKE_CUDA_COMPILER="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)" -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" >/dev/null
fi
ninja -C "$B" ulm_cuda_als_check >/dev/null
mkdir -p "$W"
case $ds in
  ml) [ -f "$W/ml/train.tsv" ] || $PY "$ROOT/bench/recs_split.py" movielens "$DATA/movielens-small/movielens.csv" "$W/ml" >&2 ;;
  or) [ -f "$W/or/train.tsv" ] || $PY "$ROOT/bench/recs_split.py" retail "$DATA/online-retail/online_retail.csv.gz" "$W/or" >&2 ;;
  *) echo "unknown dataset $ds (ml or or)" >&2; exit 2 ;;
esac
# Exit status: 0 when the GPU agrees with the CPU (or there is no GPU), 1 when it disagrees.
"$B/bin/ulm_cuda_als_check" "$W/$ds/train.tsv" "$W/$ds/test.tsv" "$factors" "$iters" "$threads"
