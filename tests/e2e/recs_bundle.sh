#!/usr/bin/env bash
# ulm train --recs: every recommender goes into the bundle, loads, recommends with reasons from the
# user's own history, respects the deny list, gives the same bytes twice, and bad flags fail clearly.
set -euo pipefail
: "${ULM:?}" "${ROOT:?}"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
PY=/usr/bin/python3

"$ULM" ingest "$ROOT/data/sample/online_retail_sample.csv.gz" --out "$d/s.store" >/dev/null
declare -A want=([itemknn]="RCHD RCNO RCNI RCNW" [als]="RCHD RCIF RCGR" [bpr]="RCHD RCIF RCIB"
                 [ease]="RCHD RCNO RCNI RCNW" [content]="RCHD RCNO RCNI RCNW"
                 [hybrid]="RCHD RCNO RCNI RCNW RCCO RCCI RCCW RCPP")
for algo in itemknn als bpr ease content hybrid; do
  "$ULM" train "$d/s.store" --out "$d/$algo.ulm" --recs "$algo" --threads 2 --iters 5 --json >"$d/$algo.json"
  "$ULM" inspect "$d/$algo.ulm" --json >"$d/$algo.inspect.json"
  "$ULM" recommend "$d/$algo.ulm" --users all --k 10 --explain 3 >"$d/$algo.jsonl"
  $PY - "$d" "$algo" "${want[$algo]}" <<'PY'
import json, sys
d, algo, want = sys.argv[1], sys.argv[2], sys.argv[3].split()
tr = json.load(open(f'{d}/{algo}.json')); ins = json.load(open(f'{d}/{algo}.inspect.json'))
assert tr['recs'] == algo and ins['meta']['model.recs'] == algo, (tr, ins['meta'])
tags = [s['tag'] for s in ins['sections']]
assert set(want) <= set(tags) and 'POPR' in tags, (algo, tags)
n = reasons = 0
for line in open(f'{d}/{algo}.jsonl'):
    o = json.loads(line); n += 1
    hist = set(o['history'])
    items = [i['item'] for i in o['items']]
    assert len(items) == 10 and not hist & set(items), ('bought item recommended', algo, o['user'])
    s = [i['score'] for i in o['items']]
    assert all(a >= b for a, b in zip(s, s[1:])), ('scores not sorted', algo, o['user'])
    for i in o['items']:
        assert set(i.get('because', [])) <= hist, ('a reason outside the history', algo, o['user'])
        reasons += bool(i.get('because'))
assert n == 364 and reasons > n * 5, (algo, n, reasons)
PY
done

# Same data, seed and threads: same bytes (ALS on 2 threads, hybrid).
for algo in als hybrid; do
  "$ULM" train "$d/s.store" --out "$d/again.ulm" --recs "$algo" --threads 2 --iters 5 >/dev/null
  cmp -s "$d/$algo.ulm" "$d/again.ulm" || fail "--recs $algo: two trainings gave different bytes"
done

# auto picks the best validation NDCG@10 among the candidates it reports.
"$ULM" train "$d/s.store" --out "$d/auto.ulm" --recs auto --iters 5 --json >"$d/auto.json"
$PY - "$d/auto.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1])); v = o['recs_validation']
assert set(v) == {'pop', 'itemknn', 'als', 'ease', 'hybrid'}, v
assert o['recs'] == max(v, key=v.get), o
PY

# The deny list holds for the trained recommender too; text output names the reasons.
top=$(head -1 "$d/itemknn.jsonl" | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["item"])')
"$ULM" train "$d/s.store" --out "$d/deny.ulm" --recs itemknn --deny "$top" >/dev/null
"$ULM" recommend "$d/deny.ulm" --users all --k 30 | grep -q "\"$top\"" && fail "a denied item was recommended"
user=$(head -1 "$d/ease.jsonl" | $PY -c 'import json,sys; print(json.load(sys.stdin)["user"])')
"$ULM" recommend "$d/ease.ulm" --user "$user" --k 3 | grep -q "because you bought" || fail "no reasons in text output"
"$ULM" recommend "$d/ease.ulm" --user "$user" --k 3 --explain 0 --json | grep -q because && fail "--explain 0 gave reasons"

# Bad input: a clear message and a non-zero exit, never a bundle.
bad() { # expected-message, args...
  local msg=$1; shift
  if "$ULM" train "$d/s.store" --out "$d/bad.ulm" "$@" >/dev/null 2>"$d/err"; then fail "accepted: $*"; fi
  grep -q -- "$msg" "$d/err" || fail "$*: expected '$msg', got: $(cat "$d/err")"
  [ ! -e "$d/bad.ulm" ] || fail "$*: a bundle was written"
}
bad "unknown --recs 'nope'" --recs nope
bad "factors must be 1..1024" --recs als --factors 0
bad "lambda must be finite and > 0" --recs ease --lambda 0
bad "expects a number" --recs als --reg nan
"$ULM" recommend "$d/als.ulm" --user "$user" --explain 99 >/dev/null 2>"$d/err" && fail "--explain 99 accepted"
grep -q -- "--explain must be 0..16" "$d/err" || fail "--explain 99: $(cat "$d/err")"
echo "recs_bundle: ok"
