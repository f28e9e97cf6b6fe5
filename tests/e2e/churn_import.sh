#!/usr/bin/env bash
# `ulm import xgboost`: XGBoost (Debian's python3-xgboost) is trained here on the shared MLC++ churn set
# (one-hot columns, some cells blanked so default directions matter), saved as JSON, imported, and scored by
# `ulm predict churn`; every probability must equal XGBoost's to 1e-6. Then: import into an existing bundle
# keeps its sections, and unsupported models are refused with a clear error.
set -euo pipefail
: "${ULM:?}" "${SHARED_DATA:?}" "${ROOT:?}"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
PY=/usr/bin/python3
src="$SHARED_DATA/mlc-churn/mlc_churn.csv"
[ -f "$src" ] || fail "missing $src"
$PY - "$src" "$d" <<'PY'
import sys, numpy as np, pandas as pd, xgboost as xgb
src, d = sys.argv[1:3]
df = pd.read_csv(src)
y = (df.pop('churn') == 'yes').astype(int)
X = pd.get_dummies(df).astype(float)
rng = np.random.default_rng(7)
X = X.mask(rng.random(X.shape) < 0.05)          # 5 % missing: default directions decide
tr = rng.random(len(X)) < 0.75
m = xgb.XGBClassifier(n_estimators=60, max_depth=5, learning_rate=0.2, tree_method='hist', n_jobs=1, base_score=0.3)
m.fit(X[tr], y[tr])
m.get_booster().save_model(d + '/model.json')
X[~tr].to_csv(d + '/test.csv', index=False, na_rep='')
np.savetxt(d + '/want.txt', m.predict_proba(X[~tr])[:, 1], fmt='%.9g')
r = xgb.XGBRegressor(n_estimators=3, objective='reg:squarederror').fit(X[tr], y[tr])
r.get_booster().save_model(d + '/regression.json')
PY
"$ULM" import xgboost "$d/model.json" --into "$d/x.ulm" --json >"$d/imp.json"
"$ULM" predict churn "$d/x.ulm" --input "$d/test.csv" --reasons 2 --json >"$d/got.jsonl"
$PY - "$d" <<'PY'
import json, sys, numpy as np
d = sys.argv[1]
imp = json.load(open(d + '/imp.json'))
assert imp['trees'] == 60 and imp['kept_bundle'] is False, imp
got = np.array([json.loads(l)['p_churn'] for l in open(d + '/got.jsonl')])
want = np.loadtxt(d + '/want.txt')
assert len(got) == len(want) > 1000, (len(got), len(want))
err = np.abs(got - want).max()
assert err <= 1e-6, 'max |ulm - xgboost| = %g' % err
r = json.loads(open(d + '/got.jsonl').readline())['reasons']
assert len(r) == 2 and ' is ' in r[0]['text'], r
print('import xgboost: %d rows, max |p - p_xgboost| = %.2g' % (len(got), err))
PY
# into an existing bundle: the recommender stays, the churn model is added (then replaced)
"$ULM" ingest "$ROOT/data/sample/online_retail_sample.csv.gz" --out "$d/s.store" >/dev/null
"$ULM" train "$d/s.store" --out "$d/s.ulm" >/dev/null
"$ULM" import xgboost "$d/model.json" --into "$d/s.ulm" --json | grep -q '"kept_bundle":true' || fail "not kept"
"$ULM" import xgboost "$d/model.json" --into "$d/s.ulm" --json | grep -q '"replaced_churn":true' || fail "not replaced"
"$ULM" inspect "$d/s.ulm" | grep -q "USIT" || fail "the user table was lost"
"$ULM" recommend "$d/s.ulm" --history 85123A --k 3 >/dev/null || fail "recommendations broke"
"$ULM" predict churn "$d/s.ulm" --input "$d/test.csv" --reasons 0 --out "$d/p2.csv"
[ "$(wc -l <"$d/p2.csv")" -gt 1000 ] || fail "predict after import into a bundle"
# refused: another objective, not JSON, categorical splits
set +e
"$ULM" import xgboost "$d/regression.json" --into "$d/r.ulm" 2>"$d/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "objective 'reg:squarederror' is not supported" "$d/err" || fail "regression model: rc $rc $(cat "$d/err")"
echo '{"learner": 3' >"$d/bad.json"
set +e; "$ULM" import xgboost "$d/bad.json" --into "$d/r.ulm" 2>"$d/err"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "not valid JSON" "$d/err" || fail "bad JSON: rc $rc"
[ ! -e "$d/r.ulm" ] || fail "a refused import wrote a bundle"
echo "churn_import: ok"
