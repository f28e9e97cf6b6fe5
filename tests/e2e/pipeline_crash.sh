#!/usr/bin/env bash
# ulm-test: native-only
# ulm pipeline crash safety: SIGKILL at 22 moments spread over a run (delays from a seeded generator,
# so every run of this test kills at the same fractions of the run time). After each kill `current` is
# absent (no run ever completed) or names a complete run: manifest status ok, files as listed, the bundle
# and the store pass `ulm inspect`. No step outlives the killed pipeline, and the next run completes and
# removes the unfinished folders.
. "$ROOT/tests/data/pipeline/lib.bash"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
make_shop "$t"
R=$t/runs
# Only the last five weeks of the sample (about 5,000 events), so that 20 runs fit in the test's time.
mv "$t/extra/part2.csv" "$t/inbox/" && rm "$t/inbox/part1.csv"
sed -i 's/"churn_horizon_days": 90/"churn_horizon_days": 14, "clv_holdout_days": 14/' "$t/ulm.json"
RANDOM=20261128

kill_at() { # seconds, then pipeline options
  local delay=$1; shift
  "$ULM" pipeline --config "$t/ulm.json" "$@" >/dev/null 2>>"$t/killed.log" &
  local pid=$!
  sleep "$delay"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  check_current "$R"
}

# Two kills during the very first run: nothing may be current afterwards.
kill_at 0.3
kill_at 0.8
[ ! -e "$R/current" ] || [ "$(field "$R/current/manifest.json" 'o["status"]')" = ok ] || fail "first-run kills"

# One complete run, timed: the kills below land at fractions of this duration.
start=$(date +%s%N)
"$ULM" pipeline --config "$t/ulm.json" --force >/dev/null 2>"$t/full.log" || { cat "$t/full.log"; fail "full run failed"; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check_current "$R"

kills=2 interrupted=0
for i in $(seq 1 20); do
  frac=$((RANDOM % 1000))
  before=$(readlink "$R/current")
  kill_at "$(awk -v ms="$ms" -v f="$frac" 'BEGIN { printf "%.3f", ms * f / 1000 / 1000 * 0.9 }')" --force
  kills=$((kills + 1))
  [ "$(readlink "$R/current")" != "$before" ] || interrupted=$((interrupted + 1))
done
# Most kills must land inside a run (a kill after the publish proves nothing).
[ "$interrupted" -ge 10 ] || fail "only $interrupted of 20 kills interrupted a run"

# No step of a killed run is still running (they die with the pipeline: PR_SET_PDEATHSIG).
sleep 0.5
if pgrep -f -- "$t/" >/dev/null; then pgrep -af -- "$t/"; fail "a step outlived its killed pipeline"; fi

"$ULM" pipeline --config "$t/ulm.json" --force >/dev/null 2>"$t/last.log" || { cat "$t/last.log"; fail "the run after the kills failed"; }
check_current "$R"
for d in "$R"/0*; do [ -f "$d/manifest.json" ] || fail "unfinished run folder left: $d"; done
echo "pipeline crash: ok ($kills kills, $interrupted of the 20 timed ones inside a ${ms} ms run; current always complete)"
