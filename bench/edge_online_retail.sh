#!/usr/bin/env bash
# The edge bundle on the full UCI Online Retail log (../shared/data/online-retail): its size against
# the default int8 bundle (both: ALS 64 factors, churn, profiler with CLV, RFM, k-means and stages,
# repurchase cycles, no user table), NDCG@10 of both bundles on a leave-last split scored by each
# bundle's own scorer (`ulm recommend --histories`), and churn AUC of the two churn families the
# bundles carry (`ulm eval churn --store`: held-out customers, the pipeline's churn check).
# Acceptance: the edge bundle is under 300,000 bytes. ULM=path/to/ulm, DATA=the csv.gz, WORK=folder.
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
EDGE=(--recs als --factors 64 --churn logreg "${CHURN[@]}" --edge)

# Sizes: the whole log.
"$ULM" ingest "$DATA" --out "$W/all.store" >/dev/null
"$ULM" train "$W/all.store" --out "$W/default.ulm" "${DEFAULT[@]}" --json >"$W/default.json"
"$ULM" train "$W/all.store" --out "$W/edge.ulm" "${EDGE[@]}" --json >"$W/edge.json"
"$ULM" train "$W/all.store" --out "$W/edge_gbdt.ulm" "${EDGE[@]}" --churn gbdt --json >"$W/edge_gbdt.json"
for b in default edge edge_gbdt; do "$ULM" inspect "$W/$b.ulm" --json >"$W/$b.inspect.json"; done

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
for b in default edge; do
  arr="${b^^}[@]"
  "$ULM" train "$W/train.store" --out "$W/split_$b.ulm" "${!arr}" >/dev/null
  "$ULM" recommend "$W/split_$b.ulm" --histories "$W/histories.txt" --k 10 --explain 0 >"$W/split_$b.jsonl"
done
for a in gbdt logreg; do
  "$ULM" eval churn --store "$W/all.store" "${CHURN[@]}" --algo "$a" --json >"$W/churn_$a.json"
done

$PY - "$W" <<'PY'
import json, math, sys
w = sys.argv[1]
test = [l.rstrip('\n') for l in open(f'{w}/test.txt')]
def ndcg(b):
    tot = hit = 0
    for t, line in zip(test, open(f'{w}/split_{b}.jsonl')):
        ids = [it['item'] for it in json.loads(line)['items']]
        if t in ids:
            tot += 1 / math.log2(ids.index(t) + 2); hit += 1
    return tot / len(test), hit / len(test)
size = {b: json.load(open(f'{w}/{b}.inspect.json')) for b in ('default', 'edge', 'edge_gbdt')}
print('Online Retail, whole log: bundle sizes (bytes)')
for b in ('default', 'edge', 'edge_gbdt'):
    info = json.load(open(f'{w}/{b}.json'))
    secs = sorted(size[b]['sections'], key=lambda s: -s['bytes'])
    print(f"  {b:10s} {size[b]['file_size'] if 'file_size' in size[b] else info['bytes']:>9,}  items {info['items']:,}  "
          + ', '.join(f"{s['tag']} {s['bytes']:,}" for s in secs[:8]))
nd = {b: ndcg(b) for b in ('default', 'edge')}
print(f'NDCG@10 leave-last ({len(test):,} customers, each bundle\'s own scorer): default {nd["default"][0]:.4f} '
      f'(HR@10 {nd["default"][1]:.4f}), edge {nd["edge"][0]:.4f} (HR@10 {nd["edge"][1]:.4f}), '
      f'relative {100 * (nd["edge"][0] / nd["default"][0] - 1):+.2f}%')
auc = {a: json.load(open(f'{w}/churn_{a}.json')) for a in ('gbdt', 'logreg')}
def pick(o):
    for k in ('model', 'test', 'churn'):
        if isinstance(o.get(k), dict) and 'auc' in o[k]: return o[k]['auc']
    return o.get('auc')
print('churn AUC (held-out customers, `ulm eval churn --store`): gbdt %.4f, logreg %.4f' % (pick(auc['gbdt']), pick(auc['logreg'])))
edge = json.load(open(f'{w}/edge.json'))['bytes']
assert edge < 300000, edge
print(f'edge bundle {edge:,} bytes < 300,000: ok')
PY
