#!/usr/bin/env bash
# Times `ulm ingest` on the Online Retail log against pandas read_csv + drop_duplicates, in the
# same run, and prints both times and their ratio (median of RUNS runs each, interleaved).
# Builds nothing: ULM is the ulm binary (default build/bin/ulm), DATA the log (default the shared
# copy next to the repository). The machine is shared and noisy: read the ratio, not the seconds.
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

for i in $(seq "$RUNS"); do
  rm -f "$t/s.store"
  s=$($PY -c "import time; print(time.time())")
  "$ULM" ingest "$DATA" --out "$t/s.store" --json >"$t/ulm.json"
  e=$($PY -c "import time; print(time.time())")
  $PY -c "print(round($e - $s, 3))" >>"$t/ulm.times"
  s=$($PY -c "import time; print(time.time())")
  $PY "$ROOT/bench/ingest_pandas.py" "$DATA" >"$t/pd.json"
  e=$($PY -c "import time; print(time.time())")
  $PY -c "import json; print(json.load(open('$t/pd.json'))['seconds'], round($e - $s, 3))" >>"$t/pd.times"
done

$PY - "$t" <<'PY'
import json, statistics, sys
t = sys.argv[1]
ulm_wall = statistics.median(float(x) for x in open(t + "/ulm.times"))
pd_in, pd_wall = zip(*(map(float, l.split()) for l in open(t + "/pd.times")))
pd_in, pd_wall = statistics.median(pd_in), statistics.median(pd_wall)
u, p = json.load(open(t + "/ulm.json")), json.load(open(t + "/pd.json"))
print("rows: ulm %d read, %d kept, %d duplicates, %d rejected, %d returns, %d guests" % (
    u["rows_read"], u["kept"], u["duplicates"], u["rejected"], u["kept_by_type"]["return"], u["guest_rows"]))
print("      pandas %d read, %d kept, %d duplicates, %d returns, %d guests" % (
    p["rows_read"], p["kept"], p["duplicates"], p["returns"], p["guests"]))
print("ulm ingest (whole process, gunzip + parse + dedup + store write): %.2f s" % ulm_wall)
print("pandas read_csv + drop_duplicates (in-process, import excluded): %.2f s (whole process %.2f s)" % (pd_in, pd_wall))
print("ratio ulm / pandas: %.2f (%.1fx faster)" % (ulm_wall / pd_in, pd_in / ulm_wall))
PY
