#!/usr/bin/env bash
# score_bench.sh: model.score() per call in Node (empty, 20 and 60 events; k 0/10; explain 0/3) against the
# previous JSON path of ulm itself and onnxruntime-web (MatMul + TopK, items only), in the same run.
# Needs `./run build` (build/bin/ulm, build/js) and `npm ci` (onnxruntime-web). usage: bench/score_bench.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${WORK:-$ROOT/build/bench-score}
mkdir -p "$W"
node "$ROOT/bench/score_bench.mjs" --ulm "$ROOT/build/bin/ulm" --js "$ROOT/build/js" --work "$W" "$@"
