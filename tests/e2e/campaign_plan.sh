#!/usr/bin/env bash
# `ulm campaign plan` and `report` on the sample store with a model from `ulm train --churn`: the plan keeps the
# budget and the per-customer limit, its control flags match an independent FNV-1a of seed + id, net values match
# P(churn) x value x uplift - cost, re-runs give the same bytes, uplift from past campaign data replaces the
# priors (two-model estimate recomputed here), the report's lift and 95% CI match a computation here, and bad
# offers files fail naming the key.
set -euo pipefail
: "${ULM:?}" "${ROOT:?}"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
PY=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }
"$ULM" ingest "$ROOT/data/sample/online_retail_sample.csv.gz" --out "$d/s.store" >/dev/null
"$ULM" train "$d/s.store" --out "$d/s.ulm" --churn logreg --cutoff 2011-09-01 --horizon 90 >/dev/null
cat >"$d/offers.json" <<'J'
{"offers":[{"id":"coupon10","cost":2.5,"uplift":0.08},{"id":"free_shipping","cost":1.2,"uplift":0.05},
 {"id":"reminder","cost":0.05,"uplift":0.02},{"id":"none","cost":0,"uplift":0}],
 "budget":150,"max_per_customer":2,"control_share":0.2,"seed":7}
J
P=("$ULM" campaign plan "$d/s.store" --model "$d/s.ulm" --as-of 2011-10-01)
"${P[@]}" --offers "$d/offers.json" --out "$d/plan.csv" --json >"$d/plan.json"
"${P[@]}" --offers "$d/offers.json" --out "$d/plan2.csv" >/dev/null
cmp -s "$d/plan.csv" "$d/plan2.csv" || fail "two runs gave different plans"
"${P[@]}" --offers "$d/offers.json" >"$d/plan3.csv"
cmp -s "$d/plan.csv" "$d/plan3.csv" || fail "stdout plan differs from --out"
"${P[@]}" --offers "$ROOT/examples/offers.json" --out "$d/example.csv" >/dev/null || fail "examples/offers.json"
$PY - "$d" <<'PY'
import csv, json, sys
d = sys.argv[1]
def fnv_bucket(cid, seed):
    h = 0xcbf29ce484222325
    for b in seed.to_bytes(8, 'little') + cid.encode():
        h = ((h ^ b) * 0x100000001b3) % (1 << 64)
    return h % 10000
cfg = json.load(open(d + '/offers.json'))
off = {o['id']: o for o in cfg['offers']}
rows = list(csv.DictReader(open(d + '/plan.csv')))
s = json.load(open(d + '/plan.json'))
assert rows and s['treated'] + s['control'] == len(rows), (len(rows), s)
spend = sum(off[r['offer']]['cost'] for r in rows if r['control'] == '0')
assert spend <= cfg['budget'] + 1e-9 and abs(spend - s['spend']) < 0.01, (spend, s['spend'])
per = {}
for r in rows:
    per[r['customer']] = per.get(r['customer'], 0) + 1
    assert int(r['control']) == (fnv_bucket(r['customer'], 7) < 0.2 * 10000), r
    net = float(r['p_churn']) * float(r['value']) * float(r['uplift']) - float(r['cost'])
    assert abs(net - float(r['net_value'])) < 1e-3 * max(1, abs(net)), (r, net)
    assert net > 0 and r['offer'] != 'none' and r['value_basis'] in ('clv', 'annual_spend_rate') and r['reasons']
assert max(per.values()) <= 2
nets = [float(r['net_value']) for r in rows]
assert nets == sorted(nets, reverse=True)
share = sum(r['control'] == '1' for r in rows) / len(rows)
assert 0.08 < share < 0.35, share
print('plan: %d rows, spend %.2f of %g, control share %.2f' % (len(rows), spend, cfg['budget'], share))
# past campaign data: coupon10 treated retain 0.9 vs its control 0.6 (uplift 0.3); reminder treated 0.5 with no
# control rows of its own (pooled control 0.6: uplift -0.1); free_shipping has none (keeps its prior)
with open(d + '/past.csv', 'w') as f:
    f.write('customer,offer,treated,retained\n')
    for i in range(200): f.write('a%d,coupon10,1,%d\n' % (i, i % 10 < 9))
    for i in range(100): f.write('b%d,coupon10,0,%d\n' % (i, i % 10 < 6))
    for i in range(100): f.write('c%d,reminder,1,%d\n' % (i, i % 2))
# outcomes for the report: treated retained 3 in 4, control 1 in 2 (by row order)
with open(d + '/outcomes.csv', 'w') as f:
    f.write('customer,retained\n')
    seen = set()
    for i, r in enumerate(rows):
        if r['customer'] in seen: continue
        seen.add(r['customer'])
        f.write('%s,%d\n' % (r['customer'], (i % 4 != 0) if r['control'] == '0' else (i % 2)))
PY
"${P[@]}" --offers "$d/offers.json" --uplift-data "$d/past.csv" --out "$d/planu.csv" --json >"$d/planu.json"
"$ULM" campaign report --plan "$d/plan.csv" --outcomes "$d/outcomes.csv" --json >"$d/report.json"
"$ULM" campaign report --plan "$d/plan.csv" --outcomes "$d/outcomes.csv" | grep -q "lift" || fail "report text"
$PY - "$d" <<'PY'
import csv, json, math, sys
d = sys.argv[1]
u = {o['id']: o for o in json.load(open(d + '/planu.json'))['offers']}
assert u['coupon10']['uplift_source'] == 'campaign data' and abs(u['coupon10']['uplift'] - 0.3) < 1e-6, u
assert abs(u['coupon10']['uplift_se'] - math.sqrt(0.9 * 0.1 / 200 + 0.6 * 0.4 / 100)) < 1e-6
assert u['reminder']['uplift_source'] == 'campaign data' and abs(u['reminder']['uplift'] + 0.1) < 1e-6, u
assert u['free_shipping']['uplift_source'] == 'prior' and u['free_shipping']['uplift'] == 0.05
for r in csv.DictReader(open(d + '/planu.csv')):
    assert r['offer'] != 'reminder'      # a negative uplift is never worth its cost
# the report against a computation here (customers planned twice count once per row, as the report does)
out = {r['customer']: int(r['retained']) for r in csv.DictReader(open(d + '/outcomes.csv'))}
rows = list(csv.DictReader(open(d + '/plan.csv')))
t = [out[r['customer']] for r in rows if r['control'] == '0']
c = [out[r['customer']] for r in rows if r['control'] == '1']
pt, pc = sum(t) / len(t), sum(c) / len(c)
se = math.sqrt(pt * (1 - pt) / len(t) + pc * (1 - pc) / len(c))
rep = json.load(open(d + '/report.json'))['overall']
assert rep['treated'] == len(t) and rep['control'] == len(c), rep
assert abs(rep['lift'] - (pt - pc)) < 1e-6 and abs(rep['ci95'][0] - (pt - pc - 1.959964 * se)) < 1e-6, (rep, pt - pc, se)
print('report: lift %.3f [%.3f, %.3f]' % (rep['lift'], rep['ci95'][0], rep['ci95'][1]))
PY
# bad offers files name the key
bad() {
    echo "$1" >"$d/bad.json"
    set +e; "${P[@]}" --offers "$d/bad.json" --out "$d/x.csv" 2>"$d/err" >/dev/null; rc=$?; set -e
    [ "$rc" = 1 ] && grep -q -- "$2" "$d/err" || fail "offers $1: rc $rc, expected '$2' in: $(cat "$d/err")"
}
bad '{"offers":[{"id":"a","cost":-1,"uplift":0.1}]}' 'offers\[0\].cost'
bad '{"offers":[{"id":"a","cost":1,"uplift":2}]}' 'offers\[0\].uplift'
bad '{"offers":[{"id":"a","cost":1,"uplift":0.1},{"id":"a","cost":1,"uplift":0.1}]}' 'offers\[1\].id: duplicate'
bad '{"offers":[{"id":"a","cost":1}]}' 'missing "uplift"'
bad '{"offers":[{"id":"a","cost":1,"uplift":0.1}],"budjet":5}' 'budjet: unknown key'
bad '{"offers":[{"id":"a","cost":1,"uplift":0.1}],"control_share":"x"}' 'control_share: must be a number'
bad '{"offers":[{"id":"a","cost":1,"uplift":0.1}],"max_per_customer":1.5}' 'max_per_customer'
bad '{"offers":[]}' 'offers: missing'
bad '{"offers":[' 'not valid JSON'
printf 'customer,offer,treated,retained\nx,coupon99,1,1\n' >"$d/badpast.csv"
set +e; "${P[@]}" --offers "$d/offers.json" --uplift-data "$d/badpast.csv" 2>"$d/err" >/dev/null; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "badpast.csv:2: offer" "$d/err" || fail "bad uplift data: $(cat "$d/err")"
echo "campaign_plan: ok"
