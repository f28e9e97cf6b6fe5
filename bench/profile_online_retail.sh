#!/usr/bin/env bash
# Times `ulm profile` on the whole Online Retail store (store read, profiler build, every customer's
# profile, CSV write: the whole command) against pandas computing the basic profile columns from the
# already-read CSV (bench/profile_pandas.py), in the same run; median of RUNS runs each, and the ratio.
# Target (issue 4): under 1 s for the whole log. The machine is shared and noisy: read the ratio.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ULM=${ULM:-$ROOT/build/bin/ulm}
DATA=${DATA:-$ROOT/../shared/data/online-retail/online_retail.csv.gz}
RUNS=${RUNS:-3}
PY=${PY:-/usr/bin/python3}
[ -x "$ULM" ] || { echo "no ulm binary at $ULM (build first, or set ULM)"; exit 1; }
[ -f "$DATA" ] || { echo "no data at $DATA (set DATA)"; exit 1; }
$PY -c "import pandas" 2>/dev/null || { echo "pandas is missing for $PY (apt-get install python3-pandas)"; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
"$ULM" ingest "$DATA" --out "$t/s.store" >/dev/null 2>&1
for i in $(seq "$RUNS"); do
  s=$($PY -c "import time; print(time.time())")
  "$ULM" profile "$t/s.store" --out "$t/p.csv" --stats >"$t/ulm.json"
  e=$($PY -c "import time; print(time.time())")
  $PY -c "import json; o = json.load(open('$t/ulm.json')); print(round($e - $s, 3), o['seconds'], o['customers'])" >>"$t/ulm.times"
  $PY "$ROOT/bench/profile_pandas.py" "$DATA" >>"$t/pd.times"
done
$PY - "$t" <<'PY'
import json, statistics, sys
t = sys.argv[1]
u = [list(map(float, l.split())) for l in open(t + '/ulm.times')]
p = [json.loads(l) for l in open(t + '/pd.times')]
uw = statistics.median(x[0] for x in u); ui = statistics.median(x[1] for x in u)
ps = statistics.median(x['seconds'] for x in p)
print(f"ulm profile (whole command, wall): {uw:.3f} s (internal {ui:.3f} s), {int(u[0][2])} customers, target < 1 s: {'met' if uw < 1 else 'NOT met'}")
print(f"pandas basic columns (CSV read not timed): {ps:.3f} s for {p[0]['customers']} customers")
print(f"ratio pandas / ulm: {ps / uw:.1f}x (ulm computes more columns: habits, categories, keywords)")
PY
