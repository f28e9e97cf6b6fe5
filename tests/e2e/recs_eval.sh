#!/usr/bin/env bash
# ulm eval recs / ulm tune recs end to end: every algorithm reports the metrics as JSON on files
# and on a store (all three splits); metrics are recomputed here from the same files with an
# independent popularity ranking; bad input fails clearly or is skipped and counted.
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}" "${TESTDATA:?}"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Two taste groups of 6 items over 40 users; user u likes items of group u%2 (plus noise), the
# test file holds 2 items per user, one unknown user and one unknown item.
python3 - "$t" <<'PY'
import random, sys
d = sys.argv[1]; r = random.Random(5)
tr, te = [], []
for u in range(40):
    mine = [i for i in range(12) if i % 2 == u % 2]
    r.shuffle(mine)
    for i in mine[:4]: tr.append((u, i))
    for i in mine[4:6]: te.append((u, i))
    tr.append((u, r.choice([i for i in range(12) if i % 2 != u % 2])))
te += [(99, 0), (0, 77)]
with open(f"{d}/train.csv", "w") as f:
    f.write("user,item,weight\n"); f.writelines(f"u{u},i{i},1\n" for u, i in sorted(set(tr)))
with open(f"{d}/test.tsv", "w") as f:
    f.write("user\titem\n"); f.writelines(f"u{u}\ti{i}\n" for u, i in te)
PY

for a in pop itemknn als bpr ease hybrid; do
  "$ULM" eval recs --train "$t/train.csv" --test "$t/test.tsv" --algo "$a" --factors 4 --lambda 10 --json >"$t/$a.json" ||
    fail "eval $a"
  python3 - "$t/$a.json" "$a" <<'PY' || fail "eval $a report"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("ndcg@10", "recall@20", "precision@10", "map@10", "hit_rate@10", "coverage@10", "train_seconds", "users_evaluated"):
    assert k in d, k
assert d["users_evaluated"] == 40 and d["users_skipped_unknown"] == 1, d
assert d["test_rows_skipped_unknown_item"] == 1, d
if sys.argv[2] != "pop":
    assert d["ndcg@10"] > 0.3, d  # the groups are easy to find
PY
done

# Popularity metrics recomputed independently from the files.
python3 - "$t" <<'PY' || fail "pop metrics differ from the independent computation"
import json, math, sys
d = sys.argv[1]
tr = [l.strip().split(",")[:2] for l in open(f"{d}/train.csv").readlines()[1:]]
te = [l.strip().split("\t") for l in open(f"{d}/test.tsv").readlines()[1:]]
items = []
for _, i in tr:
    if i not in items: items.append(i)
pop = {i: sum(1 for _, j in tr if j == i) for i in items}
order = sorted(items, key=lambda i: (-pop[i], items.index(i)))
users = {u for u, _ in tr}
nd = []
for u in sorted(users):
    test = {i for v, i in te if v == u and i in pop}
    if not test: continue
    seen = {i for v, i in tr if v == u}
    top = [i for i in order if i not in seen][:10]
    dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(top) if i in test)
    idcg = sum(1 / math.log2(r + 2) for r in range(min(10, len(test))))
    nd.append(dcg / idcg)
got = json.load(open(f"{d}/pop.json"))["ndcg@10"]
assert abs(got - sum(nd) / len(nd)) < 1e-6, (got, sum(nd) / len(nd))
PY

# A store: all three splits.
"$ULM" ingest "$TESTDATA/ingest/shop.csv" --out "$t/shop.store" >/dev/null || fail "ingest"
for sp in random:0.3 leave-last time:2024-03-02; do
  "$ULM" eval recs "$t/shop.store" --split "$sp" --algo itemknn --json >"$t/s.json" || fail "store split $sp"
  grep -q '"ndcg@10"' "$t/s.json" || fail "store split $sp report"
done
"$ULM" tune recs --train "$t/train.csv" --test "$t/test.tsv" --algo ease --json >"$t/tune.json" || fail "tune"
grep -q '"validation_best_ndcg@10"' "$t/tune.json" || fail "tune report"

# Bad input: exit 1 (data) or 2 (usage), with a message naming the problem.
refused() {
  local code=$1 pattern=$2; shift 2
  local rc=0
  "$ULM" eval recs "$@" >"$t/out" 2>"$t/err" || rc=$?
  [ "$rc" = "$code" ] || fail "eval $* exited $rc, expected $code ($(cat "$t/err"))"
  grep -q -- "$pattern" "$t/err" || fail "eval $*: stderr lacks '$pattern': $(cat "$t/err")"
}
printf 'user,item,weight\nu1,i1,nan\n' >"$t/nan.csv"
printf 'user,item,weight\nu1,i1,-2\n' >"$t/neg.csv"
printf 'user,item\n' >"$t/empty.csv"
printf 'customer,product\nu1,i1\n' >"$t/nohdr.csv"
refused 1 "nan.csv:2: field weight" --train "$t/nan.csv" --test "$t/test.tsv"
refused 1 "neg.csv:2: field weight" --train "$t/neg.csv" --test "$t/test.tsv"
refused 1 "no interactions" --train "$t/empty.csv" --test "$t/test.tsv"
refused 1 "must name \`user\` and \`item\`" --train "$t/nohdr.csv" --test "$t/test.tsv"
refused 1 "factors must be" --train "$t/train.csv" --test "$t/test.tsv" --algo als --factors 0
refused 2 "unknown --algo" --train "$t/train.csv" --test "$t/test.tsv" --algo nope
refused 2 "cut-offs" --train "$t/train.csv" --test "$t/test.tsv" --k 0
refused 1 "needs item text" --train "$t/train.csv" --test "$t/test.tsv" --algo content
refused 1 "unknown --split" "$t/shop.store" --split bogus
# K larger than the catalogue: ranks what there is, no crash.
"$ULM" eval recs --train "$t/train.csv" --test "$t/test.tsv" --k 500 --json >"$t/big.json" || fail "k 500"
grep -q '"coverage@500":1.0' "$t/big.json" || fail "k 500 should cover the catalogue: $(cat "$t/big.json")"
echo "ok"
