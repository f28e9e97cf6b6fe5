#!/usr/bin/env bash
# ulm clv on the raw CDNOW sample (whitespace table, no header, a column map): the holdout facts of
# shared/data/cdnow/SOURCE.txt (1,882 repeat purchases in weeks 40-78; cumulative 4,339 at week 78,
# BG/NBD about 4,161; conditional expectations about 1,653), predictions without NaN, and the bad
# inputs of the issue (calibration date outside the data, a single day of data, bad rows).
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}" "${SHARED_DATA:?}"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
RAW="$SHARED_DATA/cdnow/CDNOW_sample.txt"
[ -f "$RAW" ] || fail "missing $RAW"
MAP=(--no-header --map customer=2,date=3,value=5)

"$ULM" clv eval "$RAW" "${MAP[@]}" --calibration-end 1997-09-30 --time-unit week --json >"$t/e.json" || fail "eval failed"
python3 - "$t/e.json" <<'PY' || exit 1
import json, sys
o = json.load(open(sys.argv[1]))
b = o['bgnbd']
assert abs(b['loglik'] + 9582.43) < 0.05, b
assert o['customers'] == 2357 and o['customer_days'] == 6696, (o['customers'], o['customer_days'])
assert o['actual_total'] == 1882, o['actual_total']
assert abs(o['predicted_total'] - 1653) < 5, o['predicted_total']
last = o['cumulative'][-1]
assert last['week'] == 78 and last['actual'] == 4339, last
assert abs(last['predicted'] - 4161) < 0.01 * 4161, last
assert o['mae'] < o['naive_mae'] and o['correlation'] > o['naive_correlation'], (o['mae'], o['naive_mae'])
assert sum(b['customers'] for b in o['buckets']) == 2357
PY

# predict: one row per customer, probabilities in [0, 1], no NaN anywhere.
"$ULM" clv predict "$RAW" "${MAP[@]}" --calibration-end 1997-09-30 --out "$t/p.csv" 2>/dev/null || fail "predict failed"
python3 - "$t/p.csv" <<'PY' || exit 1
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 2357, len(rows)
for r in rows:
    v = {k: float(x) for k, x in r.items() if k != 'customer'}
    assert all(math.isfinite(x) for x in v.values()), r
    assert 0 <= v['p_alive'] <= 1 and v['expected_purchases'] >= 0 and v['clv'] >= 0, r
PY

# Bad inputs: clear message, exit 1.
refused() { # PATTERN ARGS...
  local pat=$1; shift
  if "$ULM" clv "$@" >"$t/out" 2>"$t/err"; then fail "accepted: $*"; fi
  grep -q "$pat" "$t/err" || fail "no '$pat' in: $(cat "$t/err")"
}
refused "before the first purchase" fit "$RAW" "${MAP[@]}" --calibration-end 1990-01-01
refused "leaves no holdout" eval "$RAW" "${MAP[@]}" --calibration-end 1998-06-30
refused "time-unit must be" fit "$RAW" "${MAP[@]}" --time-unit month
printf 'customer,date,value\na,2020-01-01,5\nb,2020-01-01,7\n' >"$t/one.csv"
refused "T = 0" fit "$t/one.csv" --calibration-end 2020-01-01
printf 'customer,date,value\na,2020-01-01,5\nb,2020-13-01,7\n' >"$t/bad.csv"
refused "bad.csv:3: field 'date'" fit "$t/bad.csv"
# After the data: a warning, still a fit.
"$ULM" clv fit "$RAW" "${MAP[@]}" --calibration-end 1999-01-01 --model bgnbd --json >"$t/w.json" 2>/dev/null || fail "late calibration end refused"
grep -q "after the last purchase" "$t/w.json" || fail "no warning for a calibration end after the data"
echo "clv_cdnow ok"
