#!/usr/bin/env bash
# The edge bundle on the full UCI Online Retail log (../shared/data/online-retail): its size against
# the default int8 bundle (both: ALS 64 factors, churn, profiler with CLV, RFM, k-means and stages,
# repurchase cycles, no user table), NDCG@10 of the bundles on a leave-last split scored by each
# bundle's own scorer (`ulm recommend --histories`; mean over SEEDS ALS seeds, since one seed's NDCG
# moves by about ±3%), and churn AUC of the two churn families the bundles carry (`ulm eval churn
# --store`: held-out customers, the pipeline's churn check). Acceptance: the edge bundles are under
# 300,000 bytes. ULM=path/to/ulm, DATA=the csv.gz, WORK=folder, SEEDS=8.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ULM=${ULM:-$ROOT/build/bin/ulm}
DATA=${DATA:-$ROOT/../shared/data/online-retail/online_retail.csv.gz}
PY=${PY:-/usr/bin/python3}
[ -f "$DATA" ] || { echo "skip: $DATA not found (see ../shared/data/README.md)"; exit 0; }
W=${WORK:-$(mktemp -d)}; mkdir -p "$W"
[ -n "${WORK:-}" ] || trap 'rm -rf "$W"' EXIT
CHURN=(--cutoff 2011-09-10 --horizon 90)
DEFAULT=(--recs als --factors 64 --churn gbdt "${CHURN[@]}" --no-user-table)
SEEDS=${SEEDS:-8}
# The documented edge bundle: items three or more customers bought, the same GBDT churn model.
EDGE=(--recs als --factors 64 --churn gbdt "${CHURN[@]}" --edge --catalogue bought:3)
# Every item a customer bought, logistic regression for churn.
EDGE_LR=(--recs als --factors 64 --churn logreg "${CHURN[@]}" --edge)

# Sizes: the whole log.
"$ULM" ingest "$DATA" --out "$W/all.store" >/dev/null
"$ULM" train "$W/all.store" --out "$W/default.ulm" "${DEFAULT[@]}" --json >"$W/default.json"
"$ULM" train "$W/all.store" --out "$W/edge.ulm" "${EDGE[@]}" --json >"$W/edge.json"
"$ULM" train "$W/all.store" --out "$W/edge_lr.ulm" "${EDGE_LR[@]}" --json >"$W/edge_lr.json"
for b in default edge edge_lr; do "$ULM" inspect "$W/$b.ulm" --json >"$W/$b.inspect.json"; done

# Leave-last: each customer's latest purchased item (ties: the bytewise largest code) is held out with
# every line of it; customers with fewer than two distinct purchased items are not evaluated.
$PY - "$DATA" "$W" <<'PY'
import csv, gzip, sys
data, w = sys.argv[1], sys.argv[2]
rows = list(csv.reader(gzip.open(data, 'rt', encoding='utf-8', newline='')))
head, body = rows[0], rows[1:]
c = {k: head.index(k) for k in ('InvoiceNo', 'StockCode', 'Quantity', 'InvoiceDate', 'CustomerID')}
last, items = {}, {}
for r in body:
    u = r[c['CustomerID']]
    if not u or r[c['InvoiceNo']].startswith('C') or float(r[c['Quantity']]) <= 0: continue
    key = (r[c['InvoiceDate']], r[c['StockCode']])
    items.setdefault(u, set()).add(r[c['StockCode']])
    if u not in last or key > last[u]: last[u] = key
test = {u: k[1] for u, k in last.items() if len(items[u]) >= 2}
with open(f'{w}/train.csv', 'w', newline='', encoding='utf-8') as f:
    out = csv.writer(f)
    out.writerow(head)
    for r in body:
        if test.get(r[c['CustomerID']]) != r[c['StockCode']]: out.writerow(r)
users = sorted(test)
with open(f'{w}/histories.txt', 'w') as f:
    for u in users: f.write(','.join(sorted(items[u] - {test[u]})) + '\n')
with open(f'{w}/test.txt', 'w') as f:
    for u in users: f.write(test[u] + '\n')
PY
"$ULM" ingest "$W/train.csv" --out "$W/train.store" >/dev/null
for seed in $(seq "$SEEDS"); do
  for b in default edge edge_lr; do
    arr="${b^^}[@]"
    "$ULM" train "$W/train.store" --out "$W/split_$b.ulm" "${!arr}" --no-profiles --seed "$seed" >/dev/null
    "$ULM" recommend "$W/split_$b.ulm" --histories "$W/histories.txt" --k 10 --explain 0 >"$W/split_${b}_$seed.jsonl"
  done
done
for a in gbdt logreg; do
  "$ULM" eval churn --store "$W/all.store" "${CHURN[@]}" --algo "$a" --json >"$W/churn_$a.json"
done

$PY - "$W" <<'PY'
import json, math, sys
w = sys.argv[1]
test = [l.rstrip('\n') for l in open(f'{w}/test.txt')]
import glob, statistics
def ndcg(path):
    tot = 0
    for t, line in zip(test, open(path)):
        ids = [it['item'] for it in json.loads(line)['items']]
        if t in ids: tot += 1 / math.log2(ids.index(t) + 2)
    return tot / len(test)
bundles = ('default', 'edge', 'edge_lr')
print('Online Retail, whole log: bundle sizes (bytes)')
for b in bundles:
    info = json.load(open(f'{w}/{b}.json'))
    secs = sorted(json.load(open(f'{w}/{b}.inspect.json'))['sections'], key=lambda s: -s['bytes'])
    print(f"  {b:8s} {info['bytes']:>9,}  items {info['items']:,}  " + ', '.join(f"{s['tag']} {s['bytes']:,}" for s in secs[:9]))
nd = {b: [ndcg(p) for p in sorted(glob.glob(f'{w}/split_{b}_[0-9]*.jsonl'))] for b in bundles}
print(f'NDCG@10, leave-last ({len(test):,} customers, each bundle\'s own scorer), mean of {len(nd["default"])} ALS seeds (min-max):')
for b in bundles:
    m = statistics.mean(nd[b])
    print(f'  {b:8s} {m:.4f} ({min(nd[b]):.4f}-{max(nd[b]):.4f}), relative to default {100 * (m / statistics.mean(nd["default"]) - 1):+.2f}%')
auc = {a: json.load(open(f'{w}/churn_{a}.json')) for a in ('gbdt', 'logreg')}
def pick(o):
    for k in ('model', 'test', 'churn'):
        if isinstance(o.get(k), dict) and 'auc' in o[k]: return o[k]['auc']
    return o.get('auc')
print('churn AUC (held-out customers, `ulm eval churn --store`): gbdt %.4f, logreg %.4f' % (pick(auc['gbdt']), pick(auc['logreg'])))
for b in ('edge', 'edge_lr'):
    size = json.load(open(f'{w}/{b}.json'))['bytes']
    assert size < 300000, (b, size)
    print(f'{b} bundle {size:,} bytes < 300,000: ok')
PY
