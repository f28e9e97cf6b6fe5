#!/usr/bin/env bash
# ulm pipeline on bad input: a malformed config names the key and what was expected (exit 2); a missing
# inbox, a folder where an event file should be, or a file that is not an event log stop the run (exit 4);
# a store that cannot be written (file-size limit standing in for a full disk) or a model that fails to
# train stops it too (exit 5).
# Every time the live run stays current and the failed run's manifest gives the reason.
. "$ROOT/tests/data/pipeline/lib.bash"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
small_shop "$t"
R=$t/runs
expect_rc() { # code, then the command
  local want=$1; shift
  set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat "$t/err"; fail "expected exit $want, got $rc: $*"; }
}
cfg() { printf '%s\n' "$1" >"$t/bad.json"; expect_rc 2 "$ULM" pipeline --config "$t/bad.json"; grep -q "$2" "$t/err" || { cat "$t/err"; fail "message should contain: $2"; }; }

# Malformed configs.
cfg '{"runs": "r", "inputs": {"inbox": "i"},' 'not valid JSON near line'
cfg '{"runs": "r", "inputs": {"inbox": "i"}, "train": {"k": "four"}}' 'train.k: expected a number'
cfg '{"runs": "r", "inputs": {"inbox": "i"}, "gates": {"ndcg_max_drop": 2}}' 'gates.ndcg_max_drop: expected a number in \[0, 1\]'
cfg '{"runs": "r", "inputs": {"inbox": "i"}, "train": {"recs_options": {"factor": 8}}}' 'train.recs_options.factor: unknown key'
cfg '{"runs": "r", "inputs": {"inbox": "i", "files": []}}' 'inputs: expected exactly one of'
cfg '{"inputs": {"inbox": "i"}}' 'runs: missing'
cfg '{"runs": "r", "inputs": {"inbox": "i"}, "alerts": {"enabled": "yes"}}' 'alerts.enabled: expected true or false'
expect_rc 2 "$ULM" pipeline --config "$t/ulm.json" --log-format xml
[ ! -e "$t/r" ] || fail "a malformed config must not create anything"

# Missing inbox before any run: exit 4, a failed run folder with the reason, no current.
mv "$t/inbox" "$t/inbox.away"
expect_rc 4 "$ULM" pipeline --config "$t/ulm.json" --json
[ ! -e "$R/current" ] || fail "current exists after a failed first run"
M=$R/$(field "$t/out" 'o["run"]')/manifest.json
[ "$(field "$M" 'o["status"]')" = failed ] && field "$M" 'o["reason"]' | grep -q 'inbox' || fail "missing inbox: manifest reason"
mv "$t/inbox.away" "$t/inbox"

"$ULM" pipeline --config "$t/ulm.json" >/dev/null 2>"$t/ok.log" || { cat "$t/ok.log"; fail "good run failed"; }
live=$(readlink "$R/current")
live_sum=$(tree_sum "$R/$live")
stays() { # what: the live run is still current and unchanged, and the last run's manifest has the reason
  [ "$(readlink "$R/current")" = "$live" ] || fail "$1: current moved"
  [ "$(tree_sum "$R/$live")" = "$live_sum" ] || fail "$1: the live run folder changed"
  check_current "$R"
  local M; M=$R/$(field "$t/out" 'o["run"]')/manifest.json
  [ "$(field "$M" 'o["status"]')" = failed ] || fail "$1: status"
  field "$M" 'o["reason"]' | grep -q "$2" || fail "$1: reason '$(field "$M" 'o["reason"]')' lacks '$2'"
}

mkdir "$t/inbox/day3.csv"
expect_rc 4 "$ULM" pipeline --config "$t/ulm.json" --json
stays "a folder as an event file" "not a regular file"
rmdir "$t/inbox/day3.csv"

head -c 3000 /dev/urandom >"$t/inbox/day3.csv"
printf 'x\0y\n' >>"$t/inbox/day3.csv"
expect_rc 4 "$ULM" pipeline --config "$t/ulm.json" --json
stays "binary data as an event file" "day3.csv"
rm "$t/inbox/day3.csv"

# Full disk: every file a step writes is limited to 256 KiB; the store (about 600 KB) cannot be written.
cp "$t/extra/part2.csv" "$t/inbox/"
expect_rc 5 bash -c 'ulimit -f 256; exec "$@"' _ "$ULM" pipeline --config "$t/ulm.json" --json
stays "file-size limit" "cannot"
ls "$R"/*/shop.store.tmp.* 2>/dev/null && fail "a temporary store was left behind"

# A model that fails to train (0 factors): the run stops at the train step, the live run stays.
sed 's/"train": {/"train": {"recs": "als", "recs_options": {"factors": 0}, /' "$t/ulm.json" >"$t/badtrain.json"
expect_rc 5 "$ULM" pipeline --config "$t/badtrain.json" --json
stays "a model that fails to train" "factors"

# With room again, the run completes.
"$ULM" pipeline --config "$t/ulm.json" >/dev/null 2>"$t/ok2.log" || { cat "$t/ok2.log"; fail "run after the failures failed"; }
[ "$(readlink "$R/current")" != "$live" ] || fail "the recovered run did not publish"
check_current "$R"
echo "pipeline bad inputs: ok"
