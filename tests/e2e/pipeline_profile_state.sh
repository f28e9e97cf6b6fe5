#!/usr/bin/env bash
# ulm pipeline, incremental profiles: the first run keeps RUN/profile.state (profile step "full": no
# previous state); a new day of events with known items and the models not due updates the live run's
# state from the new events only (profile step "incremental" in the manifest), and segments.csv is the
# same bytes as `ulm segment` computing every profile from the whole store (segments.csv holds JSON Lines:
# the pipeline runs the step with --json); after a forced retraining too.
. "$ROOT/tests/data/pipeline/lib.bash"
t=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$t"' EXIT
small_shop "$t"
sed -i 's/"gates": {"clv_mae_max_rise": 1}/"gates": {"enabled": false}/' "$t/ulm.json" # the forced retraining must publish
sed -i 's|"dashboard":|"schedule": {"recs_every_days": 30, "churn_every_days": 30}, "dashboard":|' "$t/ulm.json"
R=$t/runs
# The new day: the first day of part2 with only the items part1 knows (a carried-over bundle scores it).
python3 - "$t/inbox/part1.csv" "$t/extra/part2.csv" "$t/day.csv" <<'PY'
import csv, sys
p1 = list(csv.reader(open(sys.argv[1], newline='')))
known = {r[1] for r in p1[1:]}
p2 = list(csv.reader(open(sys.argv[2], newline='')))
first = min(r[4][:10] for r in p2[1:])
out = csv.writer(open(sys.argv[3], 'w', newline=''), quoting=csv.QUOTE_NONNUMERIC)
out.writerow(p2[0])
n = 0
for r in p2[1:]:
    if r[4][:10] == first and r[1] in known:
        out.writerow(r); n += 1
assert n > 50, n
PY
"$ULM" pipeline --config "$t/ulm.json" >/dev/null 2>"$t/1.log" || { cat "$t/1.log"; fail "first run failed"; }
first=$(readlink "$R/current")
[ -f "$R/current/profile.state" ] || fail "no profile.state in the first run"
step() { field "$R/current/manifest.json" '[s for s in o["steps"] if s["name"] == "profile"][0]'"$1"; }
[ "$(step '["state"]["mode"]')" = full ] || fail "first run: profile step $(step '')"
cp "$t/day.csv" "$t/inbox/"
"$ULM" pipeline --config "$t/ulm.json" >/dev/null 2>"$t/2.log" || { cat "$t/2.log"; fail "second run failed"; }
[ "$(readlink "$R/current")" != "$first" ] || fail "the second run did not publish"
[ "$(field "$R/current/manifest.json" 'o["training"]["trained"]')" = False ] || fail "models should not be due"
[ "$(step '["state"]["mode"]')" = incremental ] || fail "second run: profile step $(step '')"
[ "$(step '["state"]["appended"] > 0')" = True ] || fail "no customer appended: $(step '["state"]')"
step '["argv"]' | grep -q "$first/profile.state" || fail "the profile step did not read the live run's state"
asof=$(field "$R/current/manifest.json" '(lambda a: a[a.index("--as-of") + 1])([s for s in o["steps"] if s["name"] == "profile"][0]["argv"])')
"$ULM" segment "$R/current/shop.store" --model "$R/current/model.ulm" --as-of "$asof" --out "$t/full.csv" --json >/dev/null ||
  fail "full segment"
cmp -s "$t/full.csv" "$R/current/segments.csv" || fail "incremental segments.csv != full computation"
check_current "$R"
# A forced retraining on the same inputs: the new profiler has the same vocabulary, so the state still
# serves (buyers of items whose reference price moved are recomputed) and the segments are the full ones.
"$ULM" pipeline --config "$t/ulm.json" --force >/dev/null 2>"$t/3.log" || { cat "$t/3.log"; fail "forced run failed"; }
[ "$(field "$R/current/manifest.json" 'o["training"]["trained"]')" = True ] || fail "--force should retrain"
[ "$(step '["state"]["mode"]')" = incremental ] || fail "after retraining: profile step $(step '["state"]')"
asof=$(field "$R/current/manifest.json" '(lambda a: a[a.index("--as-of") + 1])([s for s in o["steps"] if s["name"] == "profile"][0]["argv"])')
"$ULM" segment "$R/current/shop.store" --model "$R/current/model.ulm" --as-of "$asof" --out "$t/full3.csv" --json >/dev/null ||
  fail "full segment (3)"
cmp -s "$t/full3.csv" "$R/current/segments.csv" || fail "after retraining: segments.csv != full computation"
echo "pipeline profile state: ok"
