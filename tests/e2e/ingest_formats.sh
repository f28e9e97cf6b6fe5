#!/usr/bin/env bash
# ulm ingest reads the same shop log as CSV, TSV and JSON Lines (plain and gzip, by extension or by
# content) into stores with the same events, reports every row, and writes identical bytes for
# identical input.
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}" "${TESTDATA:?}"
D="$TESTDATA/ingest"
CHECK="python3 $D/ingest_check.py"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect REPORT EXPR...: each Python expression over the JSON report must be True.
expect() { $CHECK check "$@" || fail "report $1"; }

for f in shop.csv shop.tsv shop.jsonl; do
  cp "$D/$f" "$t/$f"
  gzip -c "$D/$f" >"$t/$f.gz"
  for in in "$t/$f" "$t/$f.gz"; do
    "$ULM" ingest "$in" --out "$t/s.store" --json >"$t/r.json" || fail "ingest $in failed"
    rm -f "$t/s.store"
    expect "$t/r.json" 'o["rows_read"] == 10 and o["kept"] == 9 and o["duplicates"] == 1 and o["rejected"] == 0' \
      'o["kept"] + o["duplicates"] + o["rejected"] == o["rows_read"]' \
      'o["kept_by_type"] == {"view": 2, "cart": 1, "purchase": 2, "return": 3, "search": 1}' \
      'o["guest_rows"] == 1 and o["store"]["users"] == 3 and o["store"]["items"] == 4' \
      'o["files"][0]["columns_ignored"] == ["channel"]' \
      'o["files"][0]["columns_used"]["text"] == "product_name"'
  done
done
expect "$t/r.json" 'o["files"][0]["format"] == "jsonl"'

# Content sniffing when the extension says nothing, and --format overriding it.
cp "$D/shop.tsv" "$t/events.log"
"$ULM" ingest "$t/events.log" --out "$t/s.store" --json >"$t/r.json" || fail "sniffed TSV failed"
expect "$t/r.json" 'o["files"][0]["format"] == "tsv" and o["kept"] == 9'
rm -f "$t/s.store"
cp "$D/shop.jsonl" "$t/events.txt"
"$ULM" ingest "$t/events.txt" --out "$t/s.store" --json >"$t/r.json" || fail "sniffed JSONL failed"
expect "$t/r.json" 'o["files"][0]["format"] == "jsonl" and o["kept"] == 9'
rm -f "$t/s.store"
cp "$D/shop.tsv" "$t/tabs.csv"
"$ULM" ingest "$t/tabs.csv" --format tsv --out "$t/s.store" --json >"$t/r.json" || fail "--format tsv failed"
expect "$t/r.json" 'o["files"][0]["format"] == "tsv" and o["kept"] == 9'
rm -f "$t/s.store"

# The text report states the sum explicitly.
"$ULM" ingest "$D/shop.csv" --out "$t/a.store" >"$t/r.txt" || fail "text report run failed"
grep -q "kept + duplicates + rejected = 9 + 1 + 0 = 10 = rows read" "$t/r.txt" || fail "text report lacks the sum: $(cat "$t/r.txt")"

# Determinism: the same input gives byte-identical stores; the column sections also match across formats.
"$ULM" ingest "$D/shop.csv" --out "$t/b.store" >/dev/null || fail "second run failed"
cmp -s "$t/a.store" "$t/b.store" || fail "two ingests of the same file differ"
"$ULM" ingest "$D/shop.jsonl" --out "$t/c.store" >/dev/null || fail "jsonl run failed"
$CHECK sections "$t/a.store" >"$t/a.sec"
$CHECK sections "$t/c.store" >"$t/c.sec"
for tag in EUSR EITM ETIM ETYP EQTY EPRC EORD EQRY DUSR DITM DORD DQRY; do
  a=$(grep "^$tag " "$t/a.sec") || fail "no $tag in CSV store"
  c=$(grep "^$tag " "$t/c.sec") || fail "no $tag in JSONL store"
  [ "$a" = "$c" ] || fail "section $tag differs between CSV and JSON Lines: $a vs $c"
done
echo "ok: CSV, TSV, JSON Lines (plain and gzip) agree; reports add up; output is deterministic"
