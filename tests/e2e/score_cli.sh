#!/usr/bin/env bash
# `ulm train --offers` + `ulm score`: the offers land in the bundle (NBAO/NBAI), every answer line has the parts
# the bundle has models for, the offer is the brute-force best net value recomputed here from the answer's
# P(churn) and value and the offers file, the control flag equals an independent FNV-1a of seed + id, --k and
# --now apply to lines without their own, same input gives the same bytes (stdout and --out), and bad input
# fails naming the file and line (or the option).
set -euo pipefail
: "${ULM:?}" "${ROOT:?}"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
PY=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }
"$ULM" score --help | grep -q -- "--input" || fail "--help"
"$ULM" ingest "$ROOT/data/sample/online_retail_sample.csv.gz" --out "$d/s.store" >/dev/null
cat >"$d/offers.json" <<'J'
{"offers":[{"id":"vip_call","cost":150,"uplift":0.5},{"id":"coupon10","cost":10,"uplift":0.1},
 {"id":"reminder","cost":0.05,"uplift":0.02}],"control_share":0.3,"seed":11}
J
if "$ULM" train "$d/s.store" --out "$d/x.ulm" --offers "$d/offers.json" 2>"$d/err"; then fail "--offers without --churn"; fi
grep -q -- "--churn" "$d/err" || fail "the error names --churn"
echo '{"offers":[{"id":"a","cost":-1,"uplift":0.1}]}' >"$d/bad.json"
if "$ULM" train "$d/s.store" --out "$d/x.ulm" --churn logreg --cutoff 2011-09-01 --horizon 90 --offers "$d/bad.json" 2>"$d/err"; then fail "bad offers file"; fi
grep -q "offers\[0\].cost" "$d/err" || fail "the error names offers[0].cost: $(cat "$d/err")"
"$ULM" train "$d/s.store" --out "$d/s.ulm" --churn logreg --cutoff 2011-09-01 --horizon 90 --recs itemknn \
  --offers "$d/offers.json" >/dev/null
"$ULM" inspect "$d/s.ulm" | grep -q NBAO || fail "no NBAO section"
"$ULM" segment "$d/s.store" --model "$d/s.ulm" --as-of 2011-10-01 --out "$d/seg.jsonl" --histories "$d/h.jsonl" >/dev/null
$PY - "$d" <<'PY'
import json, sys
d = sys.argv[1]
with open(d + '/in.jsonl', 'w') as f:
    for i, l in enumerate(open(d + '/h.jsonl')):
        c = json.loads(l)
        r = {'history': c['history']}
        if i % 2 == 0: r['user'] = c['customer']
        if i % 5 == 0: r['k'] = 3
        f.write(json.dumps(r) + '\n')
    f.write('{"history":[]}\n{"history":[{"item":"nope","time":1300000000}],"k":0}\n')
PY
"$ULM" score "$d/s.ulm" --input "$d/in.jsonl" --k 7 --now 2011-10-01 >"$d/a.jsonl"
"$ULM" score "$d/s.ulm" --input "$d/in.jsonl" --k 7 --now 2011-10-01 --out "$d/b.jsonl" --json >"$d/sum.json"
cmp -s "$d/a.jsonl" "$d/b.jsonl" || fail "--out differs from stdout"
"$ULM" score "$d/s.ulm" --input - --k 7 --now 1317427200 <"$d/in.jsonl" >"$d/c.jsonl"
cmp -s "$d/a.jsonl" "$d/c.jsonl" || fail "a second run (stdin, --now in seconds) gave other bytes"
$PY - "$d" <<'PY'
import json, sys
d = sys.argv[1]
def bucket(cid, seed):
    h = 0xcbf29ce484222325
    for b in seed.to_bytes(8, 'little') + cid.encode():
        h = ((h ^ b) * 0x100000001b3) % (1 << 64)
    return h % 10000
cfg = json.load(open(d + '/offers.json'))
ins = [json.loads(l) for l in open(d + '/in.jsonl')]
outs = [json.loads(l) for l in open(d + '/a.jsonl')]
assert len(ins) == len(outs) == json.load(open(d + '/sum.json'))['lines']
seen, held = set(), 0
for i, (q, r) in enumerate(zip(ins, outs)):
    for key in ('items', 'unknownItems', 'churn', 'clv', 'segment', 'stage', 'offer'):
        assert key in r, (i, key)
    assert len(r['items']) == min(q.get('k', 7), 2990 - 0), (i, len(r['items']))
    o = r['offer']
    ctl = 'user' in q and bucket(q['user'], cfg['seed']) < cfg['control_share'] * 10000
    assert o['control'] == ctl, (i, o)
    if ctl:
        held += 1
        assert o['offer'] is None
        continue
    best, best_net = None, 0.0
    for of in cfg['offers']:
        net = o['pChurn'] * o['value'] * of['uplift'] - of['cost']
        if net > best_net: best, best_net = of['id'], net
    assert o['offer'] == best, (i, o, best, best_net)
    if best: assert abs(o['net'] - best_net) < 1e-9 * max(1, best_net), (o, best_net)
    seen.add(o['offer'])
assert outs[-1]['unknownItems'] == 1 and outs[-1]['items'] == [], outs[-1]
assert outs[-2]['offer']['offer'] is None and outs[-2]['stage'] is None, outs[-2]
assert len(seen) >= 3 and held >= 20, (seen, held)
print('ok', len(outs), 'answers,', held, 'held out, offers', sorted(map(str, seen)))
PY
# --uplift-data: coupon10's uplift becomes the two-model estimate 9/10 - 4/10 = 0.5 in the bundle
{ echo customer,offer,treated,retained
  for i in 0 1 2 3 4 5 6 7 8 9; do echo "t$i,coupon10,1,$((i < 9))"; echo "c$i,coupon10,0,$((i < 4))"; done; } >"$d/up.csv"
"$ULM" train "$d/s.store" --out "$d/u.ulm" --churn logreg --cutoff 2011-09-01 --horizon 90 --offers "$d/offers.json" \
  --uplift-data "$d/up.csv" >/dev/null
"$ULM" score "$d/u.ulm" --input "$d/in.jsonl" --k 0 --now 2011-10-01 >"$d/u.jsonl"
$PY - "$d" <<'PY'
import json, sys
d = sys.argv[1]
cfg = json.load(open(d + '/offers.json'))
up = {o['id']: o['uplift'] for o in cfg['offers']}
up['coupon10'] = 0.9 - 0.4
n = 0
for l in open(d + '/u.jsonl'):
    o = json.loads(l)['offer']
    if o['control']: continue
    nets = [(o['pChurn'] * o['value'] * up[of['id']] - of['cost'], -i, of['id']) for i, of in enumerate(cfg['offers'])]
    best = max(nets)
    assert o['offer'] == (best[2] if best[0] > 0 else None), (o, best)
    n += o['offer'] == 'coupon10'
assert n > 100, n
PY
printf '{"history":[]}\n{"history":3}\n' >"$d/bad.jsonl"
if "$ULM" score "$d/s.ulm" --input "$d/bad.jsonl" 2>"$d/err" >/dev/null; then fail "a bad line"; fi
grep -q "bad.jsonl:2" "$d/err" || fail "the error names the line: $(cat "$d/err")"
printf 'not json\n' >"$d/bad2.jsonl"
if "$ULM" score "$d/s.ulm" --input "$d/bad2.jsonl" 2>"$d/err" >/dev/null; then fail "not JSON"; fi
grep -q "bad2.jsonl:1" "$d/err" || fail "the error names line 1"
if "$ULM" score "$d/s.ulm" --input "$d/in.jsonl" --now yesterday 2>/dev/null >/dev/null; then fail "--now yesterday"; fi
if "$ULM" score "$d/nothing.ulm" --input "$d/in.jsonl" 2>/dev/null >/dev/null; then fail "a missing model"; fi
echo "score_cli: ok"
