#!/usr/bin/env bash
# Round trip through every layer of the command: ingest the built-in sample -> train -> inspect ->
# recommend; determinism of the bundle bytes; what each damaged or unsuitable bundle gives.
set -euo pipefail
: "${ULM:?}" "${ROOT:?}"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
PY=/usr/bin/python3

"$ULM" ingest "$ROOT/data/sample/online_retail_sample.csv.gz" --out "$d/s.store" --json >"$d/ingest.json"
"$ULM" train "$d/s.store" --out "$d/m.ulm" --json >"$d/train.json"
"$ULM" train "$d/s.store" --out "$d/m2.ulm" >/dev/null
cmp -s "$d/m.ulm" "$d/m2.ulm" || fail "training twice on the same store gave different bundle bytes"
ls "$d" | grep -q '\.tmp\.' && fail "a temporary file was left behind"

"$ULM" inspect "$d/m.ulm" --json >"$d/inspect.json" || fail "inspect refused a fresh bundle"
"$ULM" inspect "$d/s.store" >/dev/null || fail "inspect refused a fresh store"
$PY - "$d" <<'PY'
import json, sys
d = sys.argv[1]
ins = json.load(open(d + '/inspect.json')); tr = json.load(open(d + '/train.json'))
assert ins['ok'] and ins['kind'] == 'model', ins
tags = [s['tag'] for s in ins['sections']]
assert tags[0] == 'META' and {'ITID', 'POPR', 'ITNM', 'ITPR', 'USID', 'USOF', 'USIT'} <= set(tags), tags
assert ins['meta']['model.recs'] == 'pop'
assert int(ins['meta']['schema.items']) == tr['items'] > 1000, (ins['meta'], tr)
assert tr['users'] == 364, tr          # the sample's customers (see data/sample/SOURCE.md)
assert ins['bytes'] == tr['bytes']
PY

# Every known user: nothing recommended that they bought, scores non-increasing, k respected.
"$ULM" recommend "$d/m.ulm" --users all --k 10 >"$d/all.jsonl"
$PY - "$d/all.jsonl" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line); n += 1
    items = [i['item'] for i in o['items']]
    assert len(items) == 10, o['user']
    assert not set(items) & set(o['history']), ('recommended a bought item', o['user'])
    s = [i['score'] for i in o['items']]
    assert all(a >= b for a, b in zip(s, s[1:])), ('scores not sorted', o['user'])
assert n == 364, n
PY
user=$(head -1 "$d/all.jsonl" | $PY -c 'import json,sys; print(json.load(sys.stdin)["user"])')
"$ULM" recommend "$d/m.ulm" --user "$user" --k 5 | grep -q "top 5 for customer $user" || fail "text output"
"$ULM" recommend "$d/m.ulm" --history 'NOPE,85123A' --k 3 --json | $PY -c '
import json,sys; o=json.load(sys.stdin); assert o["unknown_items"]==1 and o["history"]==["85123A"] and len(o["items"])==3, o'
set +e
"$ULM" recommend "$d/m.ulm" --user no-such-user >/dev/null 2>"$d/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "not in the bundle's user table" "$d/err" || fail "unknown user: rc=$rc $(cat "$d/err")"

# A deny list keeps items out of every recommendation (and is stored as section ITDN).
top=$(head -1 "$d/all.jsonl" | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["item"])')
printf 'NOT-AN-ITEM\n%s\n' "$top" >"$d/deny.txt"
"$ULM" train "$d/s.store" --out "$d/deny.ulm" --deny-file "$d/deny.txt" --deny POST 2>"$d/err" >/dev/null
grep -q "1 denied item id(s) are not in the catalogue" "$d/err" || fail "unknown denied id not reported"
"$ULM" inspect "$d/deny.ulm" | grep -q '^  ITDN' || fail "no ITDN section"
"$ULM" recommend "$d/deny.ulm" --users all --k 50 | grep -q -e "\"$top\"" -e '"POST"' && fail "a denied item was recommended"

# A bundle without the user table is smaller and cannot answer --user.
"$ULM" train "$d/s.store" --out "$d/web.ulm" --no-user-table >/dev/null
[ "$(stat -c %s "$d/web.ulm")" -lt "$(stat -c %s "$d/m.ulm")" ] || fail "--no-user-table did not shrink the bundle"
if "$ULM" recommend "$d/web.ulm" --user "$user" >/dev/null 2>&1; then fail "--user worked without a user table"; fi

# Damaged files: each refused with exit 1 and the specific status, never a crash.
expect() { # file, status
  set +e; "$ULM" inspect "$1" >/dev/null 2>"$d/err"; local rc=$?; set -e
  [ $rc = 1 ] || fail "inspect $1: exit $rc, want 1"
  grep -q "$2" "$d/err" || fail "inspect $1: want $2, got: $(cat "$d/err")"
}
size=$(stat -c %s "$d/m.ulm")
head -c $((size - 100)) "$d/m.ulm" >"$d/trunc.ulm"; expect "$d/trunc.ulm" ERR_TRUNCATED
cp "$d/m.ulm" "$d/flip.ulm"; printf '\x55' | dd of="$d/flip.ulm" bs=1 seek=$((size - 200)) conv=notrunc 2>/dev/null
expect "$d/flip.ulm" ERR_CHECKSUM
echo "hello" >"$d/text.ulm"; expect "$d/text.ulm" ERR_FORMAT
: >"$d/empty.ulm"; expect "$d/empty.ulm" ERR_FORMAT
expect "$d/missing.ulm" ERR_IO
if "$ULM" recommend "$d/s.store" --history x >/dev/null 2>"$d/err"; then fail "a store loaded as a model"; fi
grep -q "event store, not a model bundle" "$d/err" || fail "store-as-model message: $(cat "$d/err")"
# A bundle from a newer major version: rewrite the version and both header CRCs with Python.
$PY - "$d/m.ulm" "$d/future.ulm" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[8:10] = struct.pack('<H', 2)
def crc32c(data):
    c = 0xFFFFFFFF
    for x in data:
        c ^= x
        for _ in range(8): c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF
b[60:64] = struct.pack('<I', crc32c(b[:60]))
open(sys.argv[2], 'wb').write(b)
PY
expect "$d/future.ulm" ERR_VERSION
grep -q "upgrade ulm" "$d/err" || fail "newer-version message should say to upgrade"
echo "roundtrip: ok"
