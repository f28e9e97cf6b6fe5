#!/usr/bin/env bash
# Churn from an event log: `ulm train --churn` on the built-in Online Retail sample, with the default
# horizon, the labels and the recency feature recomputed here with pandas from the raw CSV; `ulm predict
# churn` on the store and on the feature CSV agree; `ulm eval churn --store`; bad cutoffs and horizons.
set -euo pipefail
: "${ULM:?}" "${ROOT:?}"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
PY=/usr/bin/python3
src="$ROOT/data/sample/online_retail_sample.csv.gz"
"$ULM" ingest "$src" --out "$d/s.store" >/dev/null
"$ULM" train "$d/s.store" --out "$d/s.ulm" --churn auto --cutoff 2011-06-01,2011-09-01 --churn-table "$d/rows.csv" \
  --json >"$d/train.json"
$PY - "$src" "$d" <<'PY'
import json, math, sys
import numpy as np, pandas as pd
src, d = sys.argv[1:3]
rep = json.load(open(d + '/train.json'))['churn']
df = pd.read_csv(src, dtype={'CustomerID': str, 'InvoiceNo': str})
df = df[df.CustomerID.notna()]
df['t'] = pd.to_datetime(df.InvoiceDate, utc=True)
buy = df[~df.InvoiceNo.str.startswith('C') & (df.Quantity >= 0)]
# default horizon: the 90th percentile of the gaps between a customer's purchase days before the first cutoff
c1 = pd.Timestamp('2011-06-01', tz='UTC')
days = buy[buy.t < c1].assign(day=lambda x: x.t.dt.floor('D')).groupby('CustomerID').day.unique()
gaps = np.concatenate([np.diff(np.sort(v)).astype('timedelta64[D]').astype(float) for v in days if len(v) > 1])
want = max(7.0, math.ceil(np.quantile(gaps, 0.9)))
assert rep['horizon_source'] == 'purchase-rhythm-p90', rep
assert rep['horizon_days'] == want, (rep['horizon_days'], want)
rows = pd.read_csv(d + '/rows.csv', dtype={'customer': str})
assert len(rows) == rep['rows'], (len(rows), rep['rows'])
h = pd.Timedelta(days=want)
for cut in ('2011-06-01', '2011-09-01'):
    c = pd.Timestamp(cut, tz='UTC')
    before = buy[buy.t < c].groupby('CustomerID').t.max()
    after = set(buy[(buy.t >= c) & (buy.t < c + h)].CustomerID)
    r = rows[rows.cutoff == cut].set_index('customer')
    assert set(r.index) == set(before.index), cut
    lab = pd.Series([0 if u in after else 1 for u in before.index], index=before.index)
    assert (r.churned.loc[lab.index] == lab).all(), cut
    rec = (c - before).dt.total_seconds() / 86400
    assert np.allclose(r.recency_days.loc[rec.index], rec, rtol=1e-6), cut
print('labels, recency and the default horizon (%g days) match pandas' % want)
PY
# the same customers scored from the store and from their feature rows give the same probabilities
"$ULM" predict churn "$d/s.ulm" --input "$d/s.store" --as-of 2011-09-01 --out "$d/p_store.csv" 2>/dev/null
$PY -c "
import pandas as pd, sys
r = pd.read_csv('$d/rows.csv', dtype={'customer': str}); r[r.cutoff == '2011-09-01'].to_csv('$d/rows_0901.csv', index=False)"
"$ULM" predict churn "$d/s.ulm" --input "$d/rows_0901.csv" --json >"$d/p_csv.jsonl"
$PY - "$d" <<'PY'
import json, sys, pandas as pd
d = sys.argv[1]
a = pd.read_csv(d + '/p_store.csv', dtype={'customer': str})
b = [json.loads(l) for l in open(d + '/p_csv.jsonl')]
r = pd.read_csv(d + '/rows_0901.csv', dtype={'customer': str})
assert len(a) == len(b) == len(r) > 100, (len(a), len(b), len(r))
pa = dict(zip(a.customer, a.p_churn))
for cust, x in zip(r.customer, b):
    assert abs(pa[cust] - x['p_churn']) < 1e-7, (cust, pa[cust], x['p_churn'])
    assert 0 < x['p_churn'] < 1 and len(x['reasons']) == 3 and all(z['text'] for z in x['reasons'])
assert a.reason_1.notna().all()
print('predict: store and feature CSV agree on %d customers' % len(a))
PY
"$ULM" eval churn --store "$d/s.store" --cutoff 2011-06-01 --horizon 90 --test-cutoff 2011-09-01 --json >"$d/eval.json"
$PY -c "
import json; r = json.load(open('$d/eval.json'))
assert 0.5 < r['auc'] <= 1 and 0.5 < r['recency_baseline']['auc'] <= 1 and r['lift_top10'] > 1, r"
# bad input: clear errors, right exit codes
expect() { # code, pattern, command...
  local code=$1 pat=$2; shift 2
  set +e; "$@" >"$d/out" 2>"$d/err"; local rc=$?; set -e
  [ "$rc" = "$code" ] || fail "$* exited $rc, expected $code: $(cat "$d/err")"
  grep -q -- "$pat" "$d/err" || fail "$*: stderr lacks '$pat': $(cat "$d/err")"
}
T=("$ULM" train "$d/s.store" --out "$d/x.ulm")
expect 1 "not after the first event" "${T[@]}" --churn gbdt --cutoff 2009-01-01 --horizon 30
expect 1 "ends after the last event" "${T[@]}" --churn gbdt --cutoff 2011-11-01 --horizon 90
expect 2 "not a date" "${T[@]}" --churn gbdt --cutoff 2011-13-01
expect 2 "not a date" "${T[@]}" --churn gbdt --cutoff 2011-02-30
expect 2 "need --churn" "${T[@]}" --cutoff 2011-06-01
expect 2 "required" "${T[@]}" --churn gbdt
expect 2 "logreg, gbdt or auto" "${T[@]}" --churn forest --cutoff 2011-06-01
expect 2 "horizon must be" "${T[@]}" --churn gbdt --cutoff 2011-06-01 --horizon -3
[ ! -e "$d/x.ulm" ] || fail "a failed training wrote a bundle"
"$ULM" train "$d/s.store" --out "$d/plain.ulm" >/dev/null
expect 1 "has no churn model" "$ULM" predict churn "$d/plain.ulm" --input "$d/s.store"
echo "churn_store: ok"
