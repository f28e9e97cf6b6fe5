#!/usr/bin/env bash
# Churn on the shared MLC++ set (stratified 75/25, seed 42): quality, training time and scoring speed of
# ulm's trees and logistic regression next to XGBoost 1.7 (hist) and scikit-learn, measured in this run.
# Scoring: ulm's own 300-tree model natively (`ulm eval churn --bench`: single rows, median of 7 passes;
# batches, best of 7) against XGBoost's C API one row at a time and inplace_predict on the whole test set
# (one thread), in wall time and again in CPU time (best pass: the scorer's own time, robust to other jobs); then XGBoost's model imported into a bundle (`ulm import xgboost`) and scored one row at a
# time in both wasm builds in Node (bench/churn_wasm_score.mjs; needs ./run build). The machine is shared
# and noisy: run it 3 times and read the ratios.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ULM=${ULM:-$ROOT/build/bin/ulm}
SRC=${SHARED_DATA:-$ROOT/../shared/data}/mlc-churn/mlc_churn.csv
PY=/usr/bin/python3
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
$PY - "$SRC" "$d" <<'PY'
import sys, pandas as pd
from sklearn.model_selection import train_test_split
df = pd.read_csv(sys.argv[1])
tr, te = train_test_split(df, test_size=0.25, stratify=df['churn'], random_state=42)
tr.to_csv(sys.argv[2] + '/train.csv', index=False); te.to_csv(sys.argv[2] + '/test.csv', index=False)
PY
for t in 1 2; do
  "$ULM" eval churn --train "$d/train.csv" --test "$d/test.csv" --label churn --positive yes --algo gbdt --holdout 0 \
    --threads $t --bench --json >"$d/ulm_gbdt_$t.json"
done
"$ULM" eval churn --train "$d/train.csv" --test "$d/test.csv" --label churn --positive yes --algo logreg --holdout 0 --json >"$d/ulm_lr.json"
"$ULM" eval churn --train "$d/train.csv" --test "$d/test.csv" --label churn --positive yes --algo auto --json >"$d/ulm_auto.json"
$PY - "$d" <<'PY'
import ctypes, json, math, sys, time
import numpy as np, pandas as pd, xgboost as xgb
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
d = sys.argv[1]
tr, te = pd.read_csv(d + '/train.csv'), pd.read_csv(d + '/test.csv')
X = pd.get_dummies(pd.concat([tr, te]).drop(columns=['churn'])).astype(np.float32)
Xtr, Xte = X.iloc[:len(tr)].values, np.ascontiguousarray(X.iloc[len(tr):].values)
ytr, yte = (tr.churn == 'yes').astype(int).values, (te.churn == 'yes').astype(int).values
def best(f, n=3, clock=time.perf_counter):
    ts = []
    for _ in range(n):
        t = clock(); r = f(); ts.append(clock() - t)
    return min(ts), r
rows = []
u = {k: json.load(open(f'{d}/ulm_{k}.json')) for k in ('gbdt_1', 'gbdt_2', 'lr', 'auto')}
xg = {}
for t in (1, 2):
    sec, m = best(lambda: xgb.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, tree_method='hist', n_jobs=t).fit(Xtr, ytr))
    xg[t] = (sec, m)
bst = xg[1][1].get_booster(); bst.set_param({'nthread': 1})
bst.save_model(d + '/xgb.json'); Xte.astype(np.float32).tofile(d + '/xte.f32')
open(d + '/nf', 'w').write(str(Xte.shape[1]))
xauc = roc_auc_score(yte, xg[1][1].predict_proba(Xte)[:, 1])
# batch: the whole test set per call, one thread
bsec, _ = best(lambda: [bst.inplace_predict(Xte) for _ in range(20)], 5)
x_rps = 20 * len(Xte) / bsec
bcpu, _ = best(lambda: [bst.inplace_predict(Xte) for _ in range(20)], 5, time.process_time)
x_cpu_rps = 20 * len(Xte) / bcpu
# single row through the C API (XGBoosterPredictFromDense), as an application would call it
lib = xgb.core._LIB
cfg = json.dumps({'type': 0, 'training': False, 'iteration_begin': 0, 'iteration_end': 0, 'strict_shape': False,
                  'cache_id': 0, 'missing': float('nan')}).encode()
shape, dim, res = ctypes.POINTER(ctypes.c_uint64)(), ctypes.c_uint64(), ctypes.POINTER(ctypes.c_float)()
ifaces = [json.dumps({'data': [Xte[i:i+1].ctypes.data, True], 'shape': [1, Xte.shape[1]], 'typestr': '<f4', 'version': 3}).encode() for i in range(len(Xte))]
def single():
    for s in ifaces:
        lib.XGBoosterPredictFromDense(bst.handle, s, cfg, None, ctypes.byref(shape), ctypes.byref(dim), ctypes.byref(res))
ssec, _ = best(single, 5)
x_ns = ssec / len(Xte) * 1e9
scpu, _ = best(single, 5, time.process_time)
x_cpu_ns = scpu / len(Xte) * 1e9
lsec, lr = best(lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(Xtr, ytr))
rsec, rf = best(lambda: RandomForestClassifier(n_estimators=300, n_jobs=1, random_state=42).fit(Xtr, ytr), 1)
g1, g2 = u['gbdt_1'], u['gbdt_2']
print('churn on mlc_churn (3750 train / 1250 test rows); peers measured in this run')
print(f"{'model':<44}{'AUC':>8}{'train s':>10}")
print(f"{'ulm gbdt (300 rounds, depth 6, eta 0.1), 1 thread':<44}{g1['auc']:>8.4f}{g1['train_seconds']:>10.3f}")
print(f"{'XGBoost hist (same settings), 1 thread':<44}{xauc:>8.4f}{xg[1][0]:>10.3f}")
print(f"{'ulm gbdt, 2 threads':<44}{g2['auc']:>8.4f}{g2['train_seconds']:>10.3f}")
print(f"{'XGBoost hist, 2 threads':<44}{xauc:>8.4f}{xg[2][0]:>10.3f}")
print(f"{'ulm logreg':<44}{u['lr']['auc']:>8.4f}{u['lr']['train_seconds']:>10.3f}")
print(f"{'scikit-learn LogisticRegression':<44}{roc_auc_score(yte, lr.predict_proba(Xte)[:, 1]):>8.4f}{lsec:>10.3f}")
print(f"{'scikit-learn RandomForest (300 trees)':<44}{roc_auc_score(yte, rf.predict_proba(Xte)[:, 1]):>8.4f}{rsec:>10.3f}")
print(f"{'ulm auto (chose ' + u['auto']['algo'] + ')':<44}{u['auto']['auc']:>8.4f}{u['auto']['train_seconds']:>10.3f}")
print(f"training time ratio ulm/XGBoost: 1 thread {g1['train_seconds'] / xg[1][0]:.2f}, 2 threads {g2['train_seconds'] / xg[2][0]:.2f}")
print(f"single-row scoring: ulm {g1['score_ns_per_row'] / 1000:.2f} us/row, XGBoost C API {x_ns / 1000:.2f} us/row "
      f"(ratio {x_ns / g1['score_ns_per_row']:.1f}x)")
print(f"batch scoring, 1 thread: ulm {g1['score_batch_rows_per_s']:,.0f} rows/s, XGBoost {x_rps:,.0f} rows/s "
      f"(ratio {g1['score_batch_rows_per_s'] / x_rps:.1f}x)")
print(f"the same in CPU time (best pass; robust to other jobs): single row ulm {g1['score_cpu_ns_per_row'] / 1000:.2f} us/row, "
      f"XGBoost {x_cpu_ns / 1000:.2f} us/row; batch ulm {g1['score_batch_cpu_rows_per_s']:,.0f} rows/s, "
      f"XGBoost {x_cpu_rps:,.0f} rows/s (ratio {g1['score_batch_cpu_rows_per_s'] / x_cpu_rps:.1f}x)")
PY
JS=${ULM_JS_DIR:-$ROOT/build/js}
if [ -f "$JS/ulm.mjs" ]; then
  "$ULM" import xgboost "$d/xgb.json" --into "$d/xgb.ulm" >/dev/null
  echo "bundle of XGBoost's model imported (trees packed, CHRN layout 1): $(stat -c %s "$d/xgb.ulm") bytes; XGBoost JSON $(stat -c %s "$d/xgb.json") bytes"
  node "$ROOT/bench/churn_wasm_score.mjs" "$d/xgb.ulm" "$d/xte.f32" "$(cat "$d/nf")" "$JS" >"$d/wasm.jsonl"
  $PY - "$d/wasm.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"wasm ({r['runtime']}, the XGBoost model imported): single row {r['single_us_per_row']:.2f} us/row "
          f"(best pass {r['single_best_us_per_row']:.2f}; Model#churn with its result object {r['churn_us_per_row']:.2f}), "
          f"batch {r['batch_rows_per_s']:,.0f} rows/s")
PY
else
  echo "wasm scoring: skipped (no $JS/ulm.mjs: ./run build first)"
fi
