#!/usr/bin/env bash
# ulm pipeline on the full UCI Online Retail log (../shared/data/online-retail): a full run (every file new)
# vs an incremental run (the last day, 2011-12-09, added to a published history), and the same incremental
# run with weekly model schedules (the models are not due: they carry over), with the per-step times.
# The peer is the full run in the same invocation. ULM=path/to/ulm, DATA=the csv.gz, WORK=folder.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ULM=${ULM:-$ROOT/build/bin/ulm}
DATA=${DATA:-$ROOT/../shared/data/online-retail/online_retail.csv.gz}
[ -f "$DATA" ] || { echo "skip: $DATA not found (see ../shared/data/README.md)"; exit 0; }
W=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$W"' EXIT
mkdir -p "$W/data"
gzip -dc "$DATA" | awk -v b="$W/data/history.csv" -v n="$W/data/2011-12-09.csv" \
  'NR == 1 { print > b; print > n; next } /"2011-12-09T/ { print > n; next } { print > b }'
config() {
  cat >"$1/ulm.json" <<JSON
{
  "runs": "runs", "inputs": {"inbox": "inbox"},
  "train": {"deny": "POST,DOT,M,C2,D,PADS,AMAZONFEE,BANK CHARGES,CRUK,S,B", "churn": "auto", "churn_horizon_days": 90},
  "campaign": {"offers": "$ROOT/examples/offers.json"},
  "dashboard": {"enabled": false}
}
JSON
}
report() { python3 -c '
import json,sys; m=json.load(open(sys.argv[1]))
print("  %-28s %7.2f s  (%s events, %s new; NDCG@10 %s, churn AUC %s, CLV MAE %s)" % (sys.argv[2] + ":", m["seconds"],
      m["data"]["events"], m["data"]["new_events"], m["metrics"].get("ndcg@10"), m["metrics"].get("churn_auc"), m["metrics"].get("clv_mae")))
print("    " + ", ".join("%s %.2f s" % (s["name"], s["seconds"]) for s in m["steps"] if s["seconds"] >= 0.05))' "$1/runs/current/manifest.json" "$2"; }

F=$W/full; mkdir -p "$F/inbox"; config "$F"; ln -s "$W/data/history.csv" "$W/data/2011-12-09.csv" "$F/inbox/"
"$ULM" pipeline --config "$F/ulm.json" >/dev/null 2>"$F.log" || { cat "$F.log"; exit 1; }
I=$W/inc; mkdir -p "$I/inbox"; config "$I"; ln -s "$W/data/history.csv" "$I/inbox/"
"$ULM" pipeline --config "$I/ulm.json" >/dev/null 2>"$I.log" || { cat "$I.log"; exit 1; }
# The same history with weekly model schedules (a copy sharing the files: runs never modify a file).
S=$W/sched; cp -al "$I" "$S"
sed -i 's/"dashboard"/"schedule": {"recs_every_days": 7, "churn_every_days": 7}, "dashboard"/' "$S/ulm.json"
for d in "$I" "$S"; do
  ln -s "$W/data/2011-12-09.csv" "$d/inbox/"
  "$ULM" pipeline --config "$d/ulm.json" >/dev/null 2>>"$d.log" || { cat "$d.log"; exit 1; }
done
echo "ulm pipeline on the Online Retail log ($(($(wc -l <"$W/data/history.csv") + $(wc -l <"$W/data/2011-12-09.csv") - 2)) lines)"
report "$F" "full run (both files new)"
report "$I" "incremental (2011-12-09 new)"
report "$S" "incremental, models not due"
python3 -c 'import json,sys; a,b,c=[json.load(open(p))["seconds"] for p in sys.argv[1:]]; print("  ratio full / incremental: %.2fx; full / incremental without retraining: %.2fx" % (a/b, a/c))' \
  "$F/runs/current/manifest.json" "$I/runs/current/manifest.json" "$S/runs/current/manifest.json"
