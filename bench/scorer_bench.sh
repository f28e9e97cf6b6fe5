#!/usr/bin/env bash
# scorer_bench.sh: the on-device scorer against onnxruntime-web (npm, one thread) in Node and headless
# Chromium, in the same run: top-10 over 10,000 items x 64 factors for one user (int8 and f32 bundles),
# ALS fold-in + top-10 for a 20-event visitor, wasm memory for a 100,000-item bundle, and the browser
# build's gzipped size. Needs `./run build` (build/bin/ulm, build/js) and `npm ci` (playwright-core,
# onnxruntime-web); Chromium is Debian's /usr/bin/chromium. usage: bench/scorer_bench.sh [--no-browser]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${WORK:-$ROOT/build/bench-scorer}
mkdir -p "$W"
for f in ulm-em.wasm ulm-em.mjs; do
  echo "browser build: $f $(stat -c %s "$ROOT/build/js/$f") bytes, $(gzip -9 -c "$ROOT/build/js/$f" | wc -c) gzipped"
done
echo "onnxruntime-web: ort-wasm-simd-threaded.wasm $(gzip -9 -c "$ROOT/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm" | wc -c) gzipped"
node "$ROOT/bench/scorer_bench.mjs" --ulm "$ROOT/build/bin/ulm" --js "$ROOT/build/js" --work "$W" "$@"
