#!/usr/bin/env bash
# ulm pipeline: a first run publishes; the same inputs again change nothing (no run folder, every byte
# under RUNS the same, even after touching the files); a new day of events is ingested alone (the old
# file is not read again) and retrains; --force on unchanged inputs rebuilds byte-identical outputs.
. "$ROOT/tests/data/pipeline/lib.bash"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
small_shop "$t"
R=$t/runs

"$ULM" pipeline --config "$t/ulm.json" --json >"$t/1.json" 2>"$t/1.log" || { cat "$t/1.log"; fail "first run failed"; }
[ "$(field "$t/1.json" 'o["status"]')" = ok ] || fail "first run not published"
first=$(readlink "$R/current")
check_current "$R"
[ "$(field "$R/current/manifest.json" 'len(o["new_inputs"])')" = 1 ] || fail "first run should ingest part1.csv"

# Same inputs twice: nothing changes.
tree_sum "$R" >"$t/before"
"$ULM" pipeline --config "$t/ulm.json" --json >"$t/2.json" 2>"$t/2.log" || fail "second run failed"
[ "$(field "$t/2.json" 'o["status"]')" = up-to-date ] || { cat "$t/2.json" "$t/2.log"; fail "second run on the same inputs was not up to date"; }
touch "$t/inbox/part1.csv"
"$ULM" pipeline --config "$t/ulm.json" >/dev/null 2>&1 || fail "third run failed"
tree_sum "$R" >"$t/after"
diff "$t/before" "$t/after" || fail "running again on the same inputs changed RUNS"

# A new day of events: only the new file is ingested, and the store is appended to.
cp "$t/extra/part2.csv" "$t/inbox/"
"$ULM" pipeline --config "$t/ulm.json" --log-format json >/dev/null 2>"$t/4.log" || { cat "$t/4.log"; fail "incremental run failed"; }
check_current "$R"
[ "$(readlink "$R/current")" != "$first" ] || fail "the incremental run did not publish"
M=$R/current/manifest.json
[ "$(field "$M" '[i["name"] for i in o["new_inputs"]]')" = "['part2.csv']" ] || fail "incremental run ingested $(field "$M" 'o["new_inputs"]')"
[ "$(field "$M" 'len(o["inputs"])')" = 2 ] || fail "the manifest should list both files"
[ "$(field "$R/current/ingest.json" '[f["path"].split("/")[-1] for f in o["files"]]')" = "['part2.csv']" ] || fail "ingest read more than the new file"
before=$(field "$R/$first/manifest.json" 'o["data"]["events"]'); new=$(field "$M" 'o["data"]["new_events"]')
[ "$(field "$M" 'o["data"]["events"]')" = $((before + new)) ] || fail "store events != previous + new"
[ "$(field "$M" 'o["training"]["trained"]')" = True ] || fail "a month of new data should retrain (schedule: daily)"
# The dashboard of the second run was given the first run's data.json (the stage flow between runs).
grep -q -- "--previous" "$R/current/manifest.json" || fail "the dashboard step had no --previous"
field "$M" '[s for s in o["steps"] if s["name"] == "dashboard"][0]["argv"]' | grep -q "$first/dashboard/data.json" ||
  fail "--previous is not the live run's data.json"
# One JSON object per step on stderr with --log-format json.
python3 -c '
import json, sys
steps = [json.loads(l)["step"] for l in open(sys.argv[1])]
assert steps[0] == "ingest" and steps[-1] == "run" and "train" in steps and "gates" in steps, steps' "$t/4.log" ||
  fail "--log-format json lines"

# --force on the same inputs: a new run whose outputs are byte for byte those of the last one
# (alerts.json is not: customers already alerted by the last run are not alerted again).
prev=$(readlink "$R/current")
"$ULM" pipeline --config "$t/ulm.json" --force >/dev/null 2>&1 || fail "forced run failed"
cur=$(readlink "$R/current")
[ "$cur" != "$prev" ] || fail "--force did not publish a run"
for f in shop.store model.ulm segments.csv campaign.csv alerts.state; do
  cmp -s "$R/$prev/$f" "$R/$cur/$f" || fail "$f differs between two runs on the same inputs"
done
echo "pipeline idempotence: ok"
