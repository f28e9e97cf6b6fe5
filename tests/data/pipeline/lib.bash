# Shared by tests/e2e/pipeline_*.sh (not a test itself: the e2e glob takes *.sh only).
# Builds a shop folder from the built-in sample: inbox/ with part1.csv (Dec 2010 - Oct 2011) and,
# held back in extra/, part2.csv (Nov - Dec 2011: "new days of events"), plus a config.
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}" "${ROOT:?ROOT must point at the repository}"
fail() { echo "FAIL: $*" >&2; exit 1; }

# make_shop DIR [extra config JSON members]: the folder, the two parts and ulm.json.
make_shop() {
  local d=$1 extra=${2:-}
  mkdir -p "$d/inbox" "$d/extra" "$d/assets"
  # Stand-ins for the dashboard page that ./run build makes (tests/e2e/dashboard_data.sh does the same).
  echo '<!doctype html><title>t</title>' >"$d/assets/index.html" && echo 'x' >"$d/assets/dashboard.js"
  gzip -dc "$ROOT/data/sample/online_retail_sample.csv.gz" |
    awk -v p1="$d/inbox/part1.csv" -v p2="$d/extra/part2.csv" \
      'NR == 1 { print > p1; print > p2; next } /"2011-1[12]-/ { print > p2; next } { print > p1 }'
  cat >"$d/ulm.json" <<JSON
{
  // written by tests/data/pipeline/lib.bash
  "runs": "runs",
  "inputs": {"inbox": "inbox"},
  "train": {"deny": "POST,DOT,M,C2,D", "k": 4, "churn": "auto", "churn_horizon_days": 90},
  "campaign": {"offers": "$ROOT/examples/offers.json"},
  "dashboard": {"enabled": true, "assets": "assets"}${extra:+,
  $extra}
}
JSON
}

# small_shop DIR: make_shop with only September-October 2011 in part1.csv (part2.csv stays November-December:
# about 12,000 events in all) and 14-day churn and CLV windows: faster runs. On so little data the CLV
# holdout error moves by more than the default 10% from month to month: that gate is opened (see
# pipeline_gates.sh for the gates).
small_shop() {
  make_shop "$1" '"gates": {"clv_mae_max_rise": 1}'
  awk 'NR == 1 || /"2011-(09|10)-/' "$1/inbox/part1.csv" >"$1/p1" && mv "$1/p1" "$1/inbox/part1.csv"
  sed -i 's/"churn_horizon_days": 90/"churn_horizon_days": 14, "clv_holdout_days": 14/' "$1/ulm.json"
}

# field FILE EXPR: prints a value of a JSON file (python expression on o).
field() { python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# check_current RUNS: `current` (when present) names a run whose manifest says ok and whose bundle
# and store pass `ulm inspect` (checksums and model load).
check_current() {
  local runs=$1
  [ -e "$runs/current" ] || [ ! -L "$runs/current" ] || fail "current is a dangling link"
  [ -L "$runs/current" ] || return 0
  "$ULM" inspect "$runs/current/model.ulm" >/dev/null || fail "current model.ulm does not pass ulm inspect"
  "$ULM" inspect "$runs/current/shop.store" >/dev/null || fail "current shop.store does not pass ulm inspect"
  python3 - "$runs/current" <<'PY' || fail "current is not a complete run (manifest status, files as listed)"
import json, os, sys
d = sys.argv[1]; m = json.load(open(os.path.join(d, "manifest.json")))
assert m["status"] == "ok", m["status"]
names = [f["path"] for f in m["files"]]
assert "model.ulm" in names and "shop.store" in names and "dashboard/data.json" in names, names
dash = json.load(open(os.path.join(d, "dashboard", "data.json")))
assert dash["format"] == "ulm-dashboard", dash.get("format")
for f in m["files"]:
    assert os.path.getsize(os.path.join(d, f["path"])) == f["size"], f["path"]
PY
}
# tree_sum RUNS: a digest of every file and link under RUNS (names, link targets, bytes).
tree_sum() {
  (cd "$1" && find . -mindepth 1 \( -type f -o -type l \) -print | LC_ALL=C sort | while read -r f; do
    if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else echo "$f $(sha256sum <"$f" | cut -c1-64)"; fi
  done)
}
