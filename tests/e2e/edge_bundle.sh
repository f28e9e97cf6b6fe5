#!/usr/bin/env bash
# ulm train --edge / --compact on the shipped Online Retail excerpt: the edge bundle holds exactly the
# items some identified customer bought (counted here from the CSV), no names, prices, user table or
# profiler item tables, and its factor table is items x 68 bytes (16 int8 factors padded to 64 + a
# scale); it is smaller than --compact alone, which is smaller than the default. --compact alone
# answers every customer's history exactly as the default bundle (the layouts change, not the
# models); the edge bundle gives the same churn risk, CLV, RFM segment and stage. Bad values fail.
set -euo pipefail
: "${ULM:?}" "${ROOT:?}"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
PY=/usr/bin/python3
CSV="$ROOT/data/sample/online_retail_sample.csv.gz"
"$ULM" ingest "$CSV" --out "$d/s.store" >/dev/null
opts=(--recs als --factors 16 --churn gbdt --cutoff 2011-09-01 --horizon 90 --no-user-table)
"$ULM" train "$d/s.store" --out "$d/a.ulm" "${opts[@]}" >/dev/null
"$ULM" train "$d/s.store" --out "$d/c.ulm" "${opts[@]}" --compact >/dev/null
"$ULM" train "$d/s.store" --out "$d/e.ulm" "${opts[@]}" --edge --json >"$d/e.json"
for b in a c e; do "$ULM" inspect "$d/$b.ulm" --json >"$d/$b.inspect.json"; done
for bad in "--catalogue some" "--catalogue bought:0" "--names maybe" "--profile-items few" "--churn-depth 3"; do
  # shellcheck disable=SC2086
  if "$ULM" train "$d/s.store" --out "$d/x.ulm" $bad 2>"$d/err"; then fail "accepted $bad"; fi
  grep -q -- "${bad%% *}" "$d/err" || fail "the error for $bad names the option: $(cat "$d/err")"
done
"$ULM" segment "$d/s.store" --model "$d/a.ulm" --as-of 2011-10-01 --out "$d/seg.jsonl" --histories "$d/h.jsonl" >/dev/null
$PY - "$d" <<'PY'
import json, sys
d = sys.argv[1]
with open(d + '/in.jsonl', 'w') as f:
    for l in open(d + '/h.jsonl'):
        f.write(json.dumps({'history': json.loads(l)['history']}) + '\n')
PY
for b in a c e; do "$ULM" score "$d/$b.ulm" --input "$d/in.jsonl" --k 10 --now 2011-10-01 >"$d/$b.out"; done
$PY - "$d" "$CSV" <<'PY'
import csv, gzip, json, sys
d, src = sys.argv[1], sys.argv[2]
bought = set()
with gzip.open(src, 'rt', encoding='utf-8', newline='') as f:
    for r in csv.DictReader(f):
        if r['CustomerID'] and not r['InvoiceNo'].startswith('C') and float(r['Quantity']) > 0:
            bought.add(r['StockCode'])
ins = {b: json.load(open(f'{d}/{b}.inspect.json')) for b in 'ace'}
sec = {b: {s['tag']: s for s in ins[b]['sections']} for b in 'ace'}
e, c, a = sec['e'], sec['c'], sec['a']
n = int(ins['e']['meta']['schema.items'])
assert n == len(bought), (n, len(bought))
assert json.load(open(f'{d}/e.json'))['items_dropped'] == int(ins['a']['meta']['schema.items']) - n
for t in ('ITID', 'ITNM', 'ITPR', 'USID', 'PFCT', 'PFCN', 'PFRP', 'PFVO', 'PFID', 'PFWO', 'PFWI', 'RCGR', 'RCRP'):
    assert t not in e, t
for t in ('ITIC', 'POPR', 'RCIF', 'RCGT', 'RCRS', 'CHRN', 'CLVP', 'RFMQ', 'LCST', 'KMNS'):
    assert t in e, t
assert e['ITIC']['required'] and e['RCGT']['required'] and e['POPR']['dtype'] in ('f16', 'f32'), e['POPR']
half = c['POPR']['dtype'] == 'f16'   # only when F16 ranks exactly as f32 (else POPR stays F32)
assert e['RCIF']['rows'] == n and e['RCIF']['bytes'] == n * (64 + 4), e['RCIF']
assert e['RCGT']['rows'] == 16 * 17 // 2 and a['RCGR']['rows'] == 16
assert 'ITIC' in c and 'ITNM' in c and 'PFCT' in c and c['RCIF']['bytes'] == a['RCIF']['bytes']
size = {b: ins[b]['bytes'] for b in 'ace'}
assert size['e'] < size['c'] < size['a'], size
out = {b: [json.loads(l) for l in open(f'{d}/{b}.out')] for b in 'ace'}
assert len(out['a']) == len(out['e']) > 200
import struct
def f16(v): return struct.unpack('<e', struct.pack('<e', v))[0]
same = pop = 0
for x, y, z in zip(out['a'], out['c'], out['e']):
    if half and any('because' not in i for i in x['items']):
        # Popularity (nothing bought before --now) in F16: the same items in the same order, rounded scores.
        pop += 1
        assert [i['item'] for i in y['items']] == [i['item'] for i in x['items']], (x['items'], y['items'])
        assert [i['score'] for i in y['items']] == [f16(i['score']) for i in x['items']], (x['items'], y['items'])
        x = dict(x, items=None); y = dict(y, items=None)
    assert x == y, (x, y)                     # --compact: otherwise the same answer, line for line
    assert z['churn'] == x['churn'], (x['churn'], z['churn'])
    if z['unknownItems'] == 0:                # a return of an item no customer bought is unknown to the edge bundle
        same += 1
        assert z['clv'] == x['clv'] and z['segment']['rfm'] == x['segment']['rfm'] and z['stage'] == x['stage'], (x, z)
    assert len(z['items']) == 10 and not any('name' in i for i in z['items'])
assert same >= 0.95 * len(out['e']), same
assert pop < len(out['a']) / 4, pop
print(f"popularity {c['POPR']['dtype']}; edge bundle: {n} items (every item a customer bought), {size['e']} bytes; --compact {size['c']}; default {size['a']}")
PY
