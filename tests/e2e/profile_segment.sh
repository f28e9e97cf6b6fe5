#!/usr/bin/env bash
# ulm profile and ulm segment on the built-in sample: --as-of leaks nothing (every later event changed,
# rows added: same bytes out), the RFM/k-means/stage summary adds up, fitting is deterministic, a
# trained bundle scores exactly as the fit, and bad input gets clear messages and exit codes.
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SAMPLE="$ROOT/data/sample/online_retail_sample.csv.gz"

# --- as-of: a second log where every event on or after 2011-06-01 is changed, and rows are added.
zcat "$SAMPLE" >"$t/a.csv"
python3 - "$t/a.csv" "$t/b.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
out = csv.writer(open(sys.argv[2], 'w', newline=''), quoting=csv.QUOTE_NONNUMERIC)
out.writerow(rows[0])
changed = 0
for r in rows[1:]:
    if r[4] >= '2011-06-01':
        r[3] = str(int(float(r[3])) * 3 + 1)       # quantity
        r[5] = str(float(r[5]) * 2 + 0.5)          # price
        r[2] = 'NEW WORDS ' + r[2]                 # description
        changed += 1
    out.writerow(r)
for i in range(200):                               # later purchases by known and new customers
    out.writerow(['999%03d' % i, '85123A', 'ZEBRA LAMP', '5', '2011-07-0%dT10:00:00Z' % (1 + i % 9), '9.5',
                  rows[1 + i][6] if i % 2 else '99%03d' % i, 'United Kingdom'])
assert changed > 1000, changed
PY
"$ULM" ingest "$t/a.csv" --out "$t/a.store" >/dev/null 2>&1 || fail "ingest a"
"$ULM" ingest "$t/b.csv" --out "$t/b.store" >/dev/null 2>&1 || fail "ingest b"
for fmt in "" "--json"; do
  "$ULM" profile "$t/a.store" --out "$t/pa" --as-of 2011-06-01 $fmt 2>/dev/null || fail "profile a $fmt"
  "$ULM" profile "$t/b.store" --out "$t/pb" --as-of 2011-06-01 $fmt 2>/dev/null || fail "profile b $fmt"
  cmp -s "$t/pa" "$t/pb" || { diff "$t/pa" "$t/pb" | head -5; fail "events after --as-of changed the profiles ($fmt)"; }
done
"$ULM" segment "$t/a.store" --out "$t/sa" --as-of 2011-06-01 >/dev/null 2>&1 || fail "segment a"
"$ULM" segment "$t/b.store" --out "$t/sb" --as-of 2011-06-01 >/dev/null 2>&1 || fail "segment b"
cmp -s "$t/sa" "$t/sb" || { diff "$t/sa" "$t/sb" | head -5; fail "events after --as-of changed the segments"; }
# ... while without --as-of they do change.
"$ULM" profile "$t/a.store" --out "$t/pa2" 2>/dev/null && "$ULM" profile "$t/b.store" --out "$t/pb2" 2>/dev/null
cmp -s "$t/pa2" "$t/pb2" && fail "the changed log gave the same profiles without --as-of"

# --- segment summary and determinism.
"$ULM" segment "$t/a.store" --out "$t/s1.jsonl" --json >"$t/sum1.json" || fail "segment --json"
"$ULM" segment "$t/a.store" --out "$t/s2.jsonl" --json >"$t/sum2.json" || fail "segment --json (again)"
cmp -s "$t/s1.jsonl" "$t/s2.jsonl" || fail "two fits with the same seed differ"
"$ULM" segment "$t/a.store" --out "$t/k4.csv" --k 4 --json >"$t/k4.json" || fail "segment --k 4"
python3 - "$t/sum1.json" "$t/s1.jsonl" "$t/k4.json" <<'PY' || exit 1
import json, sys
s = json.load(open(sys.argv[1]))
rows = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == s['customers'], (len(rows), s['customers'])
buyers = [r for r in rows if r['purchase_days'] is not None and r['purchase_days'] >= 1]
assert len(buyers) == s['buyers']
names = [g['name'] for g in s['rfm']]
assert names == ['Champions', 'Loyal', 'Potential loyalist', 'New', 'Promising', 'Need attention', 'About to sleep',
                 'At risk', 'Cannot lose them', 'Hibernating', 'Lost'], names
for part in ('rfm', 'segments', 'stages'):
    assert sum(g['size'] for g in s[part]) == s['buyers'], part
    assert abs(sum(g['revenue_share'] for g in s[part]) - 1) < 1e-4, part  # shares are printed to 6 decimals
assert 2 <= s['k'] <= 8 and len(s['segments']) == s['k']
best = max(s['silhouette'], key=lambda k: s['silhouette'][k])
assert int(best) == s['k'], (best, s['k'])
assert [g['name'] for g in s['stages']] == ['new', 'active', 'at risk', 'dormant', 'churned', 'reactivated']
# Segments are ordered by centroid spend and described in words.
assert all(g['description'] for g in s['segments'])
for r in buyers:
    assert r['rfm_segment'] in names and r['stage'] and r['segment'] is not None
    assert r['rfm_r'] in (1, 2, 3, 4, 5) and r['clv'] is not None and r['clv'] >= 0 and 0 <= r['p_alive'] <= 1
    assert r['monetary'] == round(r['gross_spend'] - r['returned_value'], 6) or abs(r['monetary'] - (r['gross_spend'] - r['returned_value'])) < 1e-6
assert json.load(open(sys.argv[3]))['k'] == 4
PY

# --- a bundle from `ulm train` scores exactly as the fit.
"$ULM" train "$t/a.store" --out "$t/a.ulm" >/dev/null 2>&1 || fail "train"
"$ULM" segment "$t/a.store" --model "$t/a.ulm" --out "$t/s3.jsonl" --json >/dev/null || fail "segment --model"
cmp -s "$t/s1.jsonl" "$t/s3.jsonl" || fail "the bundle's profiler scores differently from the fit"
"$ULM" inspect "$t/a.ulm" | grep -q KMNS || fail "no KMNS section in the bundle"

# --- bad input.
set +e
"$ULM" profile "$t/a.store" >/dev/null 2>&1; [ $? -eq 2 ] || fail "profile without --out should exit 2"
"$ULM" profile "$t/a.store" --out "$t/x" --as-of 2011-13-45 2>"$t/err"; [ $? -eq 2 ] || fail "bad --as-of should exit 2"
grep -q "as-of" "$t/err" || fail "bad --as-of message: $(cat "$t/err")"
"$ULM" profile "$t/none.store" --out "$t/x" 2>"$t/err"; [ $? -eq 1 ] || fail "missing store should exit 1"
"$ULM" segment "$t/a.store" --out "$t/x" --as-of 2001-01-01 2>"$t/err"; [ $? -eq 1 ] || fail "as-of before the data should exit 1"
grep -q "need at least 2" "$t/err" || fail "as-of before the data message: $(cat "$t/err")"
"$ULM" segment "$t/a.store" --out "$t/x" --k 40 2>/dev/null; [ $? -eq 2 ] || fail "--k 40 should exit 2"
"$ULM" segment "$t/a.store" --out "$t/x" --model "$t/a.store" 2>"$t/err"; [ $? -eq 1 ] || fail "a store as --model should exit 1"
"$ULM" train "$t/a.store" --out "$t/bare.ulm" --no-profiles >/dev/null 2>&1
"$ULM" segment "$t/a.store" --out "$t/x" --model "$t/bare.ulm" 2>"$t/err"; [ $? -eq 1 ] || fail "--model without profiler should exit 1"
grep -q "no profiler" "$t/err" || fail "no profiler message: $(cat "$t/err")"
set -e
"$ULM" profile "$t/a.store" --out "$t/early.csv" --as-of 2001-01-01 2>/dev/null || fail "profile before the data"
[ "$(wc -l <"$t/early.csv")" -eq 1 ] || fail "profile before the data should write the header only"
echo "ok"
