#!/usr/bin/env bash
# `ulm eval churn` on the shared MLC++ churn set against scikit-learn and XGBoost trained in this test on
# the same stratified split, then every kind of bad tabular input.
set -euo pipefail
: "${ULM:?}" "${SHARED_DATA:?}"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
PY=/usr/bin/python3
src="$SHARED_DATA/mlc-churn/mlc_churn.csv"
[ -f "$src" ] || fail "missing $src"

refs=$($PY - "$src" "$d" <<'PY'
import sys, pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.metrics import roc_auc_score
import xgboost as xgb
src, out = sys.argv[1:3]
df = pd.read_csv(src)
tr, te = train_test_split(df, test_size=0.25, stratify=df['churn'], random_state=42)
tr.to_csv(out + '/train.csv', index=False); te.to_csv(out + '/test.csv', index=False)
X = pd.get_dummies(df.drop(columns=['churn'])).astype(float); y = (df['churn'] == 'yes').astype(int)
Xtr, Xte, ytr, yte = X.loc[tr.index], X.loc[te.index], y.loc[tr.index], y.loc[te.index]
lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(Xtr, ytr)
xg = xgb.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, tree_method='hist', n_jobs=1).fit(Xtr, ytr)
print('%.4f %.4f' % (roc_auc_score(yte, lr.predict_proba(Xte)[:, 1]), roc_auc_score(yte, xg.predict_proba(Xte)[:, 1])))
PY
)
read -r lr xg <<<"$refs"
for a in logreg gbdt auto; do
  "$ULM" eval churn --train "$d/train.csv" --test "$d/test.csv" --label churn --positive yes --algo $a --json >"$d/$a.json"
done
"$ULM" eval churn --train "$d/train.csv" --test "$d/test.csv" --label churn --positive yes --algo gbdt --threads 3 --json >"$d/gbdt3.json"
$PY - "$d" "$lr" "$xg" <<'PY'
import json, sys
d, lr, xg = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
r = {a: json.load(open(f'{d}/{a}.json')) for a in ('logreg', 'gbdt', 'auto', 'gbdt3')}
for o in r.values():
    for k in ('auc', 'pr_auc', 'logloss', 'accuracy', 'train_seconds'): assert k in o, (k, o)
    assert 0 < o['logloss'] < 1 and 0.5 < o['accuracy'] <= 1 and 0 < o['pr_auc'] <= 1, o
# our logistic regression one-hots and standardises like the reference (within the split's noise)
assert abs(r['logreg']['auc'] - lr) < 0.02, (r['logreg']['auc'], lr)
# boosted trees: at least XGBoost's AUC (same 300 rounds, depth 6, eta 0.1) - 0.005
assert r['gbdt']['auc'] >= xg - 0.005, (r['gbdt']['auc'], xg)
assert r['auto']['auc'] >= max(lr, xg) - 0.01, (r['auto'], lr, xg)
assert r['auto']['algo'] == 'gbdt'
# the thread count does not change the model
assert r['gbdt3']['auc'] == r['gbdt']['auc'] and r['gbdt3']['logloss'] == r['gbdt']['logloss']
print(f"churn eval: logreg {r['logreg']['auc']:.4f} (sklearn {lr}), gbdt {r['gbdt']['auc']:.4f} (xgboost {xg}), auto {r['auto']['auc']:.4f}")
PY

# ---- bad input: clear errors (exit 1) or documented handling ----
expect_fail() { # message-substring, args...
  local want=$1; shift
  if "$ULM" eval churn "$@" >"$d/out" 2>"$d/err"; then fail "accepted: $*"; fi
  grep -q -- "$want" "$d/err" || fail "expected '$want' in: $(cat "$d/err")"
}
printf 'a,b,y\n1,x,no\n2,y,no\n3,x,no\n' >"$d/one.csv"
expect_fail "one class only" --train "$d/one.csv" --test "$d/one.csv" --label y
printf 'a,b,y\n1,x,no\n2,y,yes\n3,x,maybe\n' >"$d/three.csv"
expect_fail "3 distinct values" --train "$d/three.csv" --test "$d/three.csv" --label y
printf 'a,b,y\n1,x,stay\n2,y,left\n3,x,stay\n4,y,left\n' >"$d/named.csv"
expect_fail "say which value" --train "$d/named.csv" --test "$d/named.csv" --label y
expect_fail "is not a value" --train "$d/named.csv" --test "$d/named.csv" --label y --positive gone
expect_fail "no label column 'churned'" --train "$d/named.csv" --test "$d/named.csv" --label churned
$PY - "$d" <<'PY'
import random, sys
d = sys.argv[1]; random.seed(1)
with open(d + '/tr.csv', 'w') as f:
    f.write('x,plan,const,empty,y\n')
    for i in range(400):
        x = random.random(); plan = random.choice(['a', 'b', 'c'])
        f.write(f"{'' if i % 10 == 0 else round(x, 3)},{plan},7,,{'yes' if random.random() < x else 'no'}\n")
with open(d + '/te.csv', 'w') as f:   # columns reordered, an extra column, an unseen category
    f.write('extra,y,plan,x,const,empty\n')
    for i in range(100):
        x = random.random()
        f.write(f"z,{'yes' if random.random() < x else 'no'},{'d' if i % 5 == 0 else 'a'},{round(x, 3)},7,\n")
with open(d + '/te_badlabel.csv', 'w') as f:
    f.write('x,plan,const,empty,y\n0.5,a,7,,yes\n0.2,a,7,,unknown\n')
with open(d + '/te_badnum.csv', 'w') as f:
    f.write('x,plan,const,empty,y\n0.5,a,7,,yes\nabc,a,7,,no\n')
with open(d + '/te_nocol.csv', 'w') as f:
    f.write('plan,const,empty,y\na,7,,yes\n')
PY
"$ULM" eval churn --train "$d/tr.csv" --test "$d/te.csv" --label y --json >"$d/h.json" 2>"$d/h.err"
$PY - "$d/h.json" <<'PY'
import json, sys, math
o = json.load(open(sys.argv[1]))
assert o['dropped_columns'] == ['const (constant)', 'empty (all missing)'], o
# extra + the two dropped training columns are not used
assert o["unseen_categories"] == 20 and o['ignored_test_columns'] == 3 and o['features'] == 2, o
assert o['positive'] == 'yes' and all(math.isfinite(o[k]) for k in ('auc', 'logloss')), o
PY
grep -q "not seen in training" "$d/h.err" || fail "no note about unseen categories"
expect_fail "te_badlabel.csv:3: label 'unknown'" --train "$d/tr.csv" --test "$d/te_badlabel.csv" --label y
expect_fail "te_badnum.csv:3: column 'x' expects a number" --train "$d/tr.csv" --test "$d/te_badnum.csv" --label y
expect_fail "column 'x' used by the model is missing" --train "$d/tr.csv" --test "$d/te_nocol.csv" --label y
"$ULM" eval churn --train "$d/tr.csv" --test "$d/te.csv" --label y --algo forest >/dev/null 2>&1 && fail "bad --algo accepted"
[ $? -eq 2 ] || true
echo "churn bad input: ok"
