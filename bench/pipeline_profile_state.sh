#!/usr/bin/env bash
# The pipeline's profile step (`ulm segment --model`) with incremental profiles vs the full computation:
# the history's per-customer aggregates are saved at the start of the last day (not timed), then the
# last day is profiled (a) in full from the whole store (the peer, as before this change) and (b) from
# the saved state plus the new day's events. Both write the same bytes (checked). Times: the command's
# own "profile_seconds" (the profiles: with the state's read, change detection and write), its "seconds"
# (plus the store load and writing the rows) and the wall time.
#   SOURCE=online-retail (default; DATA=the csv.gz) or SOURCE=synth (USERS=10500 DAYS=365 by default:
#   about 2 million events; USERS=51500 for about 10 million). REPEAT=3. ULM=path/to/ulm, WORK=folder.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ULM=${ULM:-$ROOT/build/bin/ulm}
SOURCE=${SOURCE:-online-retail} REPEAT=${REPEAT:-3} USERS=${USERS:-10500} DAYS=${DAYS:-365}
W=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$W"' EXIT
if [ "$SOURCE" = synth ]; then
  [ -f "$W/events.csv" ] || "$ULM" synth --out "$W/events.csv" --users "$USERS" --days "$DAYS" --threads 2 >/dev/null
  train_args=()
else
  DATA=${DATA:-$ROOT/../shared/data/online-retail/online_retail.csv.gz}
  [ -f "$DATA" ] || { echo "skip: $DATA not found (see ../shared/data/README.md)"; exit 0; }
  [ -f "$W/events.csv" ] || gzip -dc "$DATA" >"$W/events.csv"
  train_args=(--deny "POST,DOT,M,C2,D,PADS,AMAZONFEE,BANK CHARGES,CRUK,S,B")
fi
[ -f "$W/shop.store" ] || "$ULM" ingest "$W/events.csv" --out "$W/shop.store" >/dev/null 2>&1
[ -f "$W/model.ulm" ] || "$ULM" train "$W/shop.store" --out "$W/model.ulm" "${train_args[@]}" >/dev/null 2>&1
# As-of: just after the last event (as the pipeline does); the state: before the last day.
read -r end day < <(python3 - "$W/events.csv" "$SOURCE" <<'PY'
import csv, sys, datetime
col = 2 if sys.argv[2] == "synth" else 4
last = max(r[col] for r in csv.reader(open(sys.argv[1], newline='')) if r[col][:1].isdigit())
t = datetime.datetime.fromisoformat(last.replace("Z", "+00:00").replace(" ", "T")) + datetime.timedelta(seconds=1)
print(t.strftime("%Y-%m-%dT%H:%M:%SZ"), last[:10])
PY
)
"$ULM" segment "$W/shop.store" --model "$W/model.ulm" --as-of "$day" --out "$W/h.csv" --state-out "$W/h.state" >/dev/null
secs() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "${2:-seconds}"; }
full=() inc=() wf=() wi=() pf=() pi=()
for r in $(seq 1 "$REPEAT"); do
  t0=$(date +%s.%N)
  "$ULM" segment "$W/shop.store" --model "$W/model.ulm" --as-of "$end" --out "$W/full.csv" --json >"$W/full.json"
  t1=$(date +%s.%N)
  "$ULM" segment "$W/shop.store" --model "$W/model.ulm" --as-of "$end" --out "$W/inc.csv" --json --state "$W/h.state" \
    --state-out "$W/n.state" >"$W/inc.json"
  t2=$(date +%s.%N)
  full+=("$(secs "$W/full.json")") inc+=("$(secs "$W/inc.json")")
  pf+=("$(secs "$W/full.json" profile_seconds)") pi+=("$(secs "$W/inc.json" profile_seconds)")
  wf+=("$(echo "$t1 - $t0" | bc)") wi+=("$(echo "$t2 - $t1" | bc)")
  cmp -s "$W/full.csv" "$W/inc.csv" || { echo "FAIL: incremental profiles differ from the full computation"; exit 1; }
done
python3 - "$W/inc.json" "$(stat -c %s "$W/shop.store")" "${pf[*]}" "${pi[*]}" "${full[*]}" "${inc[*]}" "${wf[*]}" "${wi[*]}" <<'PY'
import json, statistics, sys
s = json.load(open(sys.argv[1]))["state"]
pf, pi, f, i, wf, wi = ([float(x) for x in a.split()] for a in sys.argv[3:9])
print("profiles of %d customers: %d kept, %d appended, %d recomputed, %d new; state %d bytes (store %s bytes)"
      % (s["kept"] + s["appended"] + s["recomputed"] + s["added"], s["kept"], s["appended"], s["recomputed"], s["added"],
         s["bytes"], sys.argv[2]))
for name, a, b in (("profiles", pf, pi), ("command seconds", f, i), ("wall seconds", wf, wi)):
    print("%-16s full best %.3f median %.3f | incremental best %.3f median %.3f | full/incremental %.2fx (best) %.2fx (median)"
          % (name, min(a), statistics.median(a), min(b), statistics.median(b), min(a) / min(b),
             statistics.median(a) / statistics.median(b)))
PY
