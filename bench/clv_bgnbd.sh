#!/usr/bin/env bash
# BG/NBD maximum likelihood on N synthetic customers (default 1,000,000): `ulm clv fit --summary`
# against a SciPy reference of the same grouped likelihood with the same analytic gradient
# (scipy.optimize BFGS), fitted in the same run; prints both times (median of RUNS) and the ratio.
# Then times `ulm clv eval` on the Online Retail store (built here with ulm ingest) for reference.
# The machine is shared and noisy: read the ratio, not the seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ULM=${ULM:-$ROOT/build/bin/ulm}
N=${N:-1000000}
RUNS=${RUNS:-3}
PY=${PY:-/usr/bin/python3}
[ -x "$ULM" ] || { echo "no ulm binary at $ULM (build first, or set ULM)"; exit 1; }
$PY -c "import scipy, numpy" 2>/dev/null || { echo "scipy is missing for $PY (apt-get install python3-scipy)"; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
$PY "$ROOT/bench/clv_bgnbd_scipy.py" gen "$N" 42 "$t/s.csv"
for i in $(seq "$RUNS"); do
  s=$($PY -c "import time; print(time.time())")
  "$ULM" clv fit "$t/s.csv" --summary --model bgnbd --json >"$t/ulm.json"
  e=$($PY -c "import time; print(time.time())")
  $PY -c "print(round($e - $s, 3))" >>"$t/ulm.times"
  $PY "$ROOT/bench/clv_bgnbd_scipy.py" fit "$t/s.csv" >"$t/sp.json"
  $PY -c "import json; print(json.load(open('$t/sp.json'))['seconds'])" >>"$t/sp.times"
done
$PY - "$t" "$N" <<'PY'
import json, statistics, sys
t, n = sys.argv[1], int(sys.argv[2])
u = json.load(open(t + '/ulm.json')); s = json.load(open(t + '/sp.json'))
ut = statistics.median(float(x) for x in open(t + '/ulm.times'))
st = statistics.median(float(x) for x in open(t + '/sp.times'))
b = u['bgnbd']
print(f"BG/NBD fit on {n:,} synthetic customers ({u['distinct_histories']:,} distinct histories; truth r 0.243 alpha 4.414 a 0.793 b 2.426)")
print(f"  ulm clv fit (whole command: read CSV, group, fit): {ut:.3f} s  r {b['r']:.4f} alpha {b['alpha']:.4f} a {b['a']:.4f} b {b['b']:.4f} LL {b['loglik']:.2f}")
print(f"  SciPy BFGS, same likelihood (group + fit only):    {st:.3f} s  r {s['r']:.4f} alpha {s['alpha']:.4f} a {s['a']:.4f} b {s['b']:.4f} LL {s['loglik']:.2f}")
print(f"  ratio SciPy / ulm: {st / ut:.1f}x   (log-likelihood difference {b['loglik'] - s['loglik']:+.4f})")
PY
