#!/usr/bin/env bash
# ulm-test: native-only
# ulm train --quantize: on MovieLens latest-small (per-user random 80/20 split, seed 42: bench/recs_split.py)
# an ALS bundle with int8 item rows (the default) loses under 1% relative NDCG@10 against the same model
# stored in f32 (--quantize none), scored by the bundle's own scorer (`ulm recommend --users all`), and its
# item table is at most 0.27 of the f32 one; fp16 sits in between; a bad --quantize fails clearly.
set -euo pipefail
: "${ULM:?}" "${ROOT:?}" "${SHARED_DATA:?}"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
PY=/usr/bin/python3

$PY "$ROOT/bench/recs_split.py" movielens "$SHARED_DATA/movielens-small/movielens.csv" "$d/ml" >/dev/null 2>&1
$PY - "$d" <<'PY'
import sys
d = sys.argv[1]
with open(f'{d}/ml/train.tsv') as f, open(f'{d}/train.csv', 'w') as o:
    next(f)
    o.write('user,item,time\n')
    for line in f:
        u, i = line.rstrip('\n').split('\t')
        o.write(f'u{u},m{i},1300000000\n')
PY
"$ULM" ingest "$d/train.csv" --out "$d/ml.store" >/dev/null
for q in none int8 fp16; do
  "$ULM" train "$d/ml.store" --out "$d/$q.ulm" --recs als --factors 64 --iters 6 --threads 2 --no-profiles \
    --quantize "$q" --json >"$d/$q.json"
  "$ULM" inspect "$d/$q.ulm" --json >"$d/$q.inspect.json"
  "$ULM" recommend "$d/$q.ulm" --users all --k 10 --explain 0 >"$d/$q.jsonl"
done
$PY - "$d" <<'PY'
import json, math, sys
d = sys.argv[1]
test = {}
with open(f'{d}/ml/test.tsv') as f:
    next(f)
    for line in f:
        u, i = line.rstrip('\n').split('\t')
        test.setdefault(f'u{u}', set()).add(f'm{i}')
def ndcg(q):
    tot = n = 0
    for line in open(f'{d}/{q}.jsonl'):
        o = json.loads(line)
        t = test.get(o['user'])
        if not t: continue
        dcg = sum(1 / math.log2(r + 2) for r, it in enumerate(o['items']) if it['item'] in t)
        idcg = sum(1 / math.log2(r + 2) for r in range(min(10, len(t))))
        tot += dcg / idcg; n += 1
    assert n > 500, n
    return tot / n
size = {}
for q in ('none', 'int8', 'fp16'):
    assert json.load(open(f'{d}/{q}.json'))['quantize'] == q
    sec = {s['tag']: s for s in json.load(open(f'{d}/{q}.inspect.json'))['sections']}
    size[q] = sec['RCIF']['bytes']
nd = {q: ndcg(q) for q in ('none', 'int8', 'fp16')}
loss = (nd['none'] - nd['int8']) / nd['none']
print(f"NDCG@10 f32 {nd['none']:.4f} fp16 {nd['fp16']:.4f} int8 {nd['int8']:.4f} (relative loss {100 * loss:.2f}%); "
      f"RCIF bytes f32 {size['none']} fp16 {size['fp16']} int8 {size['int8']} ({size['int8'] / size['none']:.3f})")
assert nd['none'] > 0.1, nd  # ALS at 64 factors is far above popularity (~0.1) on this split
assert loss < 0.01, nd
assert abs(nd['fp16'] - nd['none']) / nd['none'] < 0.005, nd
assert size['int8'] <= 0.27 * size['none'] and size['fp16'] * 2 == size['none'], size
PY
if "$ULM" train "$d/ml.store" --out "$d/bad.ulm" --recs als --quantize int4 >/dev/null 2>"$d/err"; then fail "int4 accepted"; fi
grep -q "unknown --quantize 'int4'" "$d/err" || fail "--quantize int4: $(cat "$d/err")"
[ ! -e "$d/bad.ulm" ] || fail "a bundle was written for --quantize int4"
echo "quant_ndcg: ok"
