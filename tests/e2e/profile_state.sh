#!/usr/bin/env bash
# Incremental profiles (`ulm segment --model --state/--state-out`, docs/profile.md): updating the saved
# per-customer aggregates from only the new events gives the same bytes as the full computation, on the
# built-in sample and on a `ulm synth` log (views, carts, searches); appended, back-dated, same-day and
# new customers take the right path; a damaged or foreign state falls back to the full computation and
# says why; the state itself is the same bytes whichever way it was made.
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
t=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
field() { python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# chain STORE MODEL D1 D2 D3 NAME: states at D1 -> D2 -> D3 against full computations at D2 and D3.
chain() {
  local s=$1 m=$2 n=$6
  "$ULM" segment "$s" --model "$m" --as-of "$3" --out "$t/$n.1.csv" --state-out "$t/$n.1.state" >/dev/null || fail "$n: state at $3"
  local prev=$t/$n.1.state i=2
  for d in "$4" "$5"; do
    for fmt in "" "--json"; do
      "$ULM" segment "$s" --model "$m" --as-of "$d" --out "$t/$n.full$fmt" $fmt >/dev/null || fail "$n: full at $d"
      "$ULM" segment "$s" --model "$m" --as-of "$d" --out "$t/$n.inc$fmt" $fmt --state "$prev" \
        --state-out "$t/$n.$i.state$fmt" >"$t/$n.sum" || fail "$n: incremental at $d"
      cmp -s "$t/$n.full$fmt" "$t/$n.inc$fmt" || { diff "$t/$n.full$fmt" "$t/$n.inc$fmt" | head -4; fail "$n: incremental != full at $d ($fmt)"; }
      if [ -n "$fmt" ]; then
        [ "$(field "$t/$n.sum" 'o["state"]["mode"]')" = incremental ] || fail "$n: not incremental at $d: $(cat "$t/$n.sum")"
        [ "$(field "$t/$n.sum" 'o["state"]["appended"] > 0 and o["state"]["kept"] > 0')" = True ] || fail "$n: nothing appended at $d"
      else
        grep -Eq '^profiles incremental: [1-9][0-9]* kept, [1-9][0-9]* appended' "$t/$n.sum" || fail "$n: summary line: $(grep profiles "$t/$n.sum")"
      fi
    done
    # The state made incrementally is the state made in one go.
    "$ULM" segment "$s" --model "$m" --as-of "$d" --out "$t/$n.x" --state-out "$t/$n.direct.state" >/dev/null
    cmp -s "$t/$n.$i.state" "$t/$n.direct.state" || fail "$n: incremental state != full state at $d"
    prev=$t/$n.$i.state i=$((i + 1))
  done
}

# --- the built-in sample: monthly steps.
gzip -dc "$ROOT/data/sample/online_retail_sample.csv.gz" >"$t/a.csv"
"$ULM" ingest "$t/a.csv" --out "$t/a.store" >/dev/null 2>&1 || fail "ingest sample"
"$ULM" train "$t/a.store" --out "$t/a.ulm" >/dev/null 2>&1 || fail "train sample"
chain "$t/a.store" "$t/a.ulm" 2011-09-01 2011-11-01 2011-12-10 sample

# --- a synthetic log with views, carts, searches and returns.
"$ULM" synth --out "$t/s.csv" --users 400 --items 300 --days 60 --threads 1 >/dev/null || fail "synth"
"$ULM" ingest "$t/s.csv" --out "$t/s.store" >/dev/null 2>&1 || fail "ingest synth"
"$ULM" train "$t/s.store" --out "$t/s.ulm" >/dev/null 2>&1 || fail "train synth"
chain "$t/s.store" "$t/s.ulm" 2024-02-10 2024-02-20 2024-03-01 synth

# --- a changed store: store B = the sample + rows after a customer's last day (appended), back-dated
# (recomputed), on a customer's last day (recomputed: same-day returns and purchases) and a new customer.
python3 - "$t/a.csv" "$t/extra.csv" "$t/expect" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
head, rows = rows[0], rows[1:]
last = {}
for r in rows:
    if r[6]: last[r[6]] = max(last.get(r[6], ''), r[4])
early = sorted(c for c in last if last[c] < '2011-10-01')
a, b, c = early[0], early[1], early[2]
item, desc = rows[0][1], rows[0][2]
out = csv.writer(open(sys.argv[2], 'w', newline=''), quoting=csv.QUOTE_NONNUMERIC)
out.writerow(head)
out.writerow(['X1', item, desc, '3', '2011-11-15T10:00:00Z', '2.5', a, 'United Kingdom'])
out.writerow(['X2', item, desc, '2', '2011-01-05T09:00:00Z', '2.5', b, 'United Kingdom'])
out.writerow(['X3', item, desc, '1', last[c][:10] + 'T23:59:00Z', '2.5', c, 'United Kingdom'])
out.writerow(['X4', item, desc, '4', '2011-11-20T12:00:00Z', '2.5', 'NEWCUSTOMER', 'United Kingdom'])
PY
cp "$t/a.store" "$t/b.store"
"$ULM" ingest "$t/extra.csv" --out "$t/b.store" --json >"$t/ing.json" 2>/dev/null || fail "append extra rows"
[ "$(field "$t/ing.json" 'o["kept"]')" = 4 ] || fail "extra rows not all kept: $(cat "$t/ing.json")"
"$ULM" train "$t/b.store" --out "$t/b.ulm" >/dev/null 2>&1 || fail "train b"
"$ULM" segment "$t/a.store" --model "$t/b.ulm" --as-of 2011-12-31 --out "$t/x" --state-out "$t/a.state" >/dev/null || fail "state a"
"$ULM" segment "$t/b.store" --model "$t/b.ulm" --as-of 2011-12-31 --out "$t/b.full" >/dev/null || fail "full b"
"$ULM" segment "$t/b.store" --model "$t/b.ulm" --as-of 2011-12-31 --out "$t/b.inc" --state "$t/a.state" >"$t/b.sum" || fail "inc b"
cmp -s "$t/b.full" "$t/b.inc" || fail "changed store: incremental != full"
grep -Eq '^profiles incremental: [0-9]+ kept, 1 appended, 2 recomputed, 1 new$' "$t/b.sum" ||
  fail "changed store: expected 1 appended, 2 recomputed, 1 new: $(grep profiles "$t/b.sum")"
# A retrained bundle (b.ulm: the same vocabulary, some reference prices moved) reads a state made with
# a.ulm: buyers of changed items are recomputed, the rest is incremental, the output the full one.
"$ULM" segment "$t/a.store" --model "$t/a.ulm" --as-of 2011-12-31 --out "$t/x" --state-out "$t/a2.state" >/dev/null 2>&1 ||
  fail "state a with a.ulm"
"$ULM" segment "$t/b.store" --model "$t/b.ulm" --as-of 2011-12-31 --out "$t/b.inc2" --state "$t/a2.state" --json >"$t/b2.sum" ||
  fail "inc b after retraining"
"$ULM" segment "$t/b.store" --model "$t/b.ulm" --as-of 2011-12-31 --out "$t/b.full2" --json >/dev/null
cmp -s "$t/b.full2" "$t/b.inc2" || fail "retrained profiler: incremental != full"
[ "$(field "$t/b2.sum" 'o["state"]["mode"]')" = incremental ] || fail "retrained profiler: $(field "$t/b2.sum" 'o["state"]')"

# A new item with new words (store C = B + one line of it): the retrained profiler's vocabulary grows and
# its word ids shift; the state's words are mapped by name, searchers and buyers of changed items recomputed.
printf '"InvoiceNo","StockCode","Description","Quantity","InvoiceDate","UnitPrice","CustomerID","Country"\n"X9","ZZNEW1","QUOKKA AARDVARK LANTERN","2","2011-12-20T10:00:00Z","7.5","NEWCUSTOMER","United Kingdom"\n' >"$t/new.csv"
cp "$t/b.store" "$t/c.store"
"$ULM" ingest "$t/new.csv" --out "$t/c.store" >/dev/null 2>&1 || fail "append the new item"
"$ULM" train "$t/c.store" --out "$t/c.ulm" >/dev/null 2>&1 || fail "train c"
"$ULM" segment "$t/b.store" --model "$t/b.ulm" --as-of 2011-12-31 --out "$t/x" --state-out "$t/b.state" >/dev/null || fail "state b"
"$ULM" segment "$t/c.store" --model "$t/c.ulm" --as-of 2012-01-01 --out "$t/c.inc" --state "$t/b.state" --json >"$t/c.sum" ||
  fail "inc c"
"$ULM" segment "$t/c.store" --model "$t/c.ulm" --as-of 2012-01-01 --out "$t/c.full" --json >/dev/null
cmp -s "$t/c.full" "$t/c.inc" || fail "new vocabulary: incremental != full"
[ "$(field "$t/c.sum" 'o["state"]["mode"] == "incremental" and o["state"]["words_new"] >= 2 and o["state"]["kept"] > 100')" = True ] ||
  fail "new vocabulary: $(field "$t/c.sum" 'o["state"]')"

# --- damage and mismatches: full computation, the reason said, the same output.
run_bad() { # state-file label expected-reason-part
  "$ULM" segment "$t/a.store" --model "$t/a.ulm" --as-of 2011-12-10 --out "$t/bad.csv" --state "$1" --json >"$t/bad.sum" ||
    fail "$2: the run failed instead of falling back"
  [ "$(field "$t/bad.sum" 'o["state"]["mode"]')" = full ] || fail "$2: not a full computation"
  field "$t/bad.sum" 'o["state"]["reason"]' | grep -q "$3" || fail "$2: reason $(field "$t/bad.sum" 'o["state"]["reason"]')"
  "$ULM" segment "$t/a.store" --model "$t/a.ulm" --as-of 2011-12-10 --out "$t/good.csv" --json >/dev/null
  cmp -s "$t/bad.csv" "$t/good.csv" || fail "$2: output differs"
}
cp "$t/sample.1.state" "$t/flip.state"
printf '\x55' | dd of="$t/flip.state" bs=1 seek=300 conv=notrunc status=none
run_bad "$t/flip.state" "a flipped byte" "checksum"
head -c 1000 "$t/sample.1.state" >"$t/short.state"
run_bad "$t/short.state" "a truncated file" "checksum"
run_bad "$t/s.csv" "another file" "not a profile state"
run_bad "$t/missing.state" "no file" "cannot read"
run_bad "$t/synth.1.state" "another shop" "customer the store does not have"
"$ULM" segment "$t/a.store" --model "$t/a.ulm" --as-of 2011-06-01 --out "$t/x" --state "$t/sample.1.state" --json >"$t/old.sum"
[ "$(field "$t/old.sum" 'o["state"]["mode"]')" = full ] || fail "an as-of before the state's must compute in full"
"$ULM" segment "$t/a.store" --out "$t/x" --state "$t/a.state" >/dev/null 2>&1 && fail "--state without --model accepted"
echo "profile state: ok"
