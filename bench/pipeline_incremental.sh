#!/usr/bin/env bash
# ulm-bench: long
# ulm pipeline: incremental run (one new day of events) vs full rebuild (every file new) on `ulm synth`
# data. The peer is the full rebuild, measured in the same run on the same data and config. A third
# measurement: the same new day when the models are not due (weekly schedules), so they carry over.
#   USERS=51500 DAYS=365 (about 10 million events: 38,000 users gave 7.39 million) by default;
#   USERS=10500 for about 2 million. REPEAT=3 runs each measurement 3 times (best and median printed).
#   ULM=path/to/ulm, WORK=folder (default: a temporary one, removed at the end).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ULM=${ULM:-$ROOT/build/bin/ulm}
USERS=${USERS:-51500} DAYS=${DAYS:-365} REPEAT=${REPEAT:-1} THREADS=${THREADS:-2}
W=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$W"' EXIT
mkdir -p "$W/data"

if [ ! -f "$W/data/base.csv" ]; then
  echo "synth: $USERS users x $DAYS days" >&2
  "$ULM" synth --out "$W/data/all.csv" --users "$USERS" --days "$DAYS" --threads "$THREADS" --json >"$W/synth.json"
  # The log is in time order: the last day becomes the "new day" file, the rest the history.
  last=$(tail -1 "$W/data/all.csv" | cut -d, -f3 | cut -c1-10)
  awk -F, -v d="$last" -v b="$W/data/base.csv" -v n="$W/data/day.csv" \
    'NR == 1 { print > b; print > n; next } substr($3, 1, 10) == d { print > n; next } { print > b }' "$W/data/all.csv"
  rm -f "$W/data/all.csv" "$W/data"/all.csv.truth*
fi
events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$W/synth.json" 2>/dev/null || echo "?")

config() { # folder
  cat >"$1/ulm.json" <<JSON
{
  "runs": "runs", "inputs": {"inbox": "inbox"},
  "train": {"churn": "auto", "churn_horizon_days": 60, "clv_holdout_days": 60, "k": 6, "threads": $THREADS},
  "campaign": {"offers": "$ROOT/examples/offers.json"},
  "dashboard": {"enabled": false}
}
JSON
}
secs() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$1/runs/current/manifest.json"; }
steps() { python3 -c '
import json,sys; m=json.load(open(sys.argv[1]))
print("   ", ", ".join("%s %.1f s" % (s["name"], s["seconds"]) for s in m["steps"] if s["seconds"] >= 0.05))' "$1/runs/current/manifest.json"; }

full=() inc=() sched=()
for r in $(seq 1 "$REPEAT"); do
  # Full rebuild: a fresh runs folder, both files new.
  F=$W/full$r; rm -rf "$F"; mkdir -p "$F/inbox"; config "$F"
  ln -s "$W/data/base.csv" "$W/data/day.csv" "$F/inbox/"
  "$ULM" pipeline --config "$F/ulm.json" >/dev/null 2>"$F.log" || { cat "$F.log"; exit 1; }
  full+=("$(secs "$F")")
  # Incremental: the history published first (not timed), then the new day.
  I=$W/inc$r; rm -rf "$I"; mkdir -p "$I/inbox"; config "$I"
  ln -s "$W/data/base.csv" "$I/inbox/"
  "$ULM" pipeline --config "$I/ulm.json" >/dev/null 2>"$I.log" || { cat "$I.log"; exit 1; }
  # The same history with weekly model schedules (a copy sharing the files: runs never modify a file).
  S=$W/sched$r; rm -rf "$S"; cp -al "$I" "$S"
  sed -i 's/"dashboard"/"schedule": {"recs_every_days": 7, "churn_every_days": 7}, "dashboard"/' "$S/ulm.json"
  ln -s "$W/data/day.csv" "$I/inbox/"
  "$ULM" pipeline --config "$I/ulm.json" >/dev/null 2>>"$I.log" || { cat "$I.log"; exit 1; }
  inc+=("$(secs "$I")")
  ln -s "$W/data/day.csv" "$S/inbox/"
  "$ULM" pipeline --config "$S/ulm.json" >/dev/null 2>>"$S.log" || { cat "$S.log"; exit 1; }
  sched+=("$(secs "$S")")
  echo "round $r: full rebuild ${full[-1]} s; incremental ${inc[-1]} s; incremental, models not due ${sched[-1]} s" >&2
done
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "best %.2f s, median %.2f s", v[1], v[int((NR + 1) / 2)] }'; }
best() { printf '%s\n' "$@" | sort -g | head -1; }
echo "pipeline on ulm synth data: $events events ($USERS users x $DAYS days), new day: $(($(wc -l <"$W/data/day.csv") - 1)) events"
echo "  full rebuild (every file new):   $(stats "${full[@]}")"
steps "$W/full1"
echo "  incremental (one new day):       $(stats "${inc[@]}")"
steps "$W/inc1"
echo "  incremental, models not due:    $(stats "${sched[@]}")   (weekly schedules: the live models carry over)"
steps "$W/sched1"
awk -v f="$(best "${full[@]}")" -v i="$(best "${inc[@]}")" -v s="$(best "${sched[@]}")" \
  'BEGIN { printf "  ratio full / incremental (best): %.2fx; full / incremental without retraining: %.2fx\n", f / i, f / s }'
