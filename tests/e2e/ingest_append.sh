#!/usr/bin/env bash
# Appending to an existing store: re-ingesting the same file adds nothing (duplicates against the
# stored events), a new file extends events and dictionaries, and the store lists its sources.
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}" "${TESTDATA:?}"
D="$TESTDATA/ingest"
CHECK="python3 $D/ingest_check.py"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() { $CHECK check "$@" || fail "report $1"; }

S="$t/shop.store"
"$ULM" ingest "$D/shop.csv" --out "$S" --json >"$t/1.json" || fail "first ingest failed"
expect "$t/1.json" 'o["kept"] == 9 and o["store"]["appended"] == False and o["store"]["events"] == 9'
$CHECK sections "$S" | grep -v '^META' >"$t/sections1"

"$ULM" ingest "$D/shop.csv" --out "$S" --json >"$t/2.json" || fail "re-ingest failed"
expect "$t/2.json" 'o["kept"] == 0 and o["duplicates"] == 10 and o["rows_read"] == 10'
expect "$t/2.json" 'o["store"]["appended"] == True and o["store"]["events"] == 9 and o["store"]["events_before"] == 9'
$CHECK sections "$S" | grep -v '^META' >"$t/sections2"
cmp -s "$t/sections1" "$t/sections2" || fail "re-ingesting the same file changed the event sections"

# The same events in another format are duplicates too (the canonical tuple, not the bytes).
"$ULM" ingest "$D/shop.jsonl" --out "$S" --json >"$t/3.json" || fail "jsonl re-ingest failed"
expect "$t/3.json" 'o["kept"] == 0 and o["duplicates"] == 10'

# A new file with other column names: one row repeats a stored event, two are new.
"$ULM" ingest "$D/more.csv" --out "$S" --json >"$t/4.json" || fail "append failed"
expect "$t/4.json" 'o["kept"] == 2 and o["duplicates"] == 1 and o["store"]["events"] == 11'
expect "$t/4.json" 'o["store"]["users"] == 4 and o["store"]["items"] == 6'
expect "$t/4.json" 'o["files"][0]["columns_used"] == {"user": "customer_id", "item": "sku", "time": "created_at", "quantity": "units", "price": "unit_price", "order": "transaction_id", "text": "title"}'

# META lists every source file with its size and rows.
src=$($CHECK meta "$S" store.sources)
python3 - "$src" "$D" <<'PY' || fail "store.sources is wrong: $src"
import json, os, sys
s = json.loads(sys.argv[1])
d = sys.argv[2]
assert [os.path.basename(x["path"]) for x in s] == ["shop.csv", "shop.csv", "shop.jsonl", "more.csv"], s
assert s[0]["rows"] == 10 and s[3]["rows"] == 3, s
assert s[3]["size"] == os.path.getsize(os.path.join(d, "more.csv")), s
PY
[ "$($CHECK meta "$S" store.events)" = 11 ] || fail "META store.events is not 11"

# A damaged store is refused, not overwritten.
cp "$S" "$t/keep.store"
printf 'garbage' | dd of="$S" bs=1 seek=100 conv=notrunc 2>/dev/null
if "$ULM" ingest "$D/more.csv" --out "$S" >"$t/out" 2>"$t/err"; then fail "ingest into a damaged store succeeded"; fi
grep -q "cannot append" "$t/err" || fail "no clear message for a damaged store: $(cat "$t/err")"
echo "ok: re-ingest adds nothing, appends extend the store, sources are listed"
