#!/usr/bin/env bash
# ulm pipeline quality gates: a live run with ALS (NDCG@10 about 0.02-0.03 on the sample), then a new
# month of events with a deliberately worse recommender (1 factor, 1 iteration): the gate refuses it
# (exit 3), the manifest of the refused run says why, and the live run and bundle stay untouched.
# With the gate's margin opened wide the same run publishes.
. "$ROOT/tests/data/pipeline/lib.bash"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
make_shop "$t" '"gates": {"ndcg_max_drop": 0.005}'
R=$t/runs
sed -i 's/"k": 4,/"k": 4, "recs": "als", "recs_options": {"factors": 32, "iters": 10},/' "$t/ulm.json"
"$ULM" pipeline --config "$t/ulm.json" >/dev/null 2>"$t/1.log" || { cat "$t/1.log"; fail "first run failed"; }
live=$(readlink "$R/current")
good=$(field "$R/current/manifest.json" 'o["metrics"]["ndcg@10"]')
python3 -c "assert $good > 0.01, $good" || fail "ALS NDCG@10 on the sample is only $good"
sum_before=$(sha256sum <"$R/current/model.ulm")

cp "$t/extra/part2.csv" "$t/inbox/"
sed -i 's/"factors": 32, "iters": 10/"factors": 1, "iters": 1/' "$t/ulm.json"
set +e
"$ULM" pipeline --config "$t/ulm.json" --json >"$t/2.json" 2>"$t/2.log"
rc=$?
set -e
[ $rc = 3 ] || { cat "$t/2.log"; fail "a worse model should exit 3 (gate), got $rc"; }
[ "$(readlink "$R/current")" = "$live" ] || fail "current moved after a gate refusal"
[ "$(sha256sum <"$R/current/model.ulm")" = "$sum_before" ] || fail "the live bundle changed"
check_current "$R"
run=$(field "$t/2.json" 'o["run"]')
M=$R/$run/manifest.json
[ "$(field "$M" 'o["status"]')" = refused ] || fail "refused run's manifest status"
[ "$(field "$M" 'o["exit_code"]')" = 3 ] || fail "refused run's manifest exit code"
field "$M" 'o["reason"]' | grep -q 'ndcg@10' || fail "the reason should name ndcg@10: $(field "$M" 'o["reason"]')"
[ "$(field "$M" '[g["pass"] for g in o["gates"] if g["metric"] == "ndcg@10"][0]')" = False ] || fail "gate record"
worse=$(field "$M" 'o["metrics"]["ndcg@10"]')
python3 -c "assert $worse < $good - 0.005, ($worse, $good)" || fail "the degraded model was not worse ($worse vs $good)"

# The same inputs with a wide margin: published.
sed -i 's/"ndcg_max_drop": 0.005/"ndcg_max_drop": 1/' "$t/ulm.json"
"$ULM" pipeline --config "$t/ulm.json" >/dev/null 2>"$t/3.log" || { cat "$t/3.log"; fail "run with a wide margin failed"; }
[ "$(readlink "$R/current")" != "$live" ] || fail "the run with a wide margin did not publish"
check_current "$R"
echo "pipeline gates: ok (live NDCG@10 $good, degraded $worse refused)"
