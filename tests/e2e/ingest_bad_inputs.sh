#!/usr/bin/env bash
# Bad input to ulm ingest: unreadable, corrupt, binary, empty or header-only files and unusable
# headers stop the run (exit 1, or 2 for usage) naming the file and leave the store untouched;
# bad rows are rejected with a reason, a line and a column, or stop the run under --strict.
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}" "${TESTDATA:?}"
D="$TESTDATA/ingest"
CHECK="python3 $D/ingest_check.py"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() { $CHECK check "$@" || fail "report $1"; }

# A store that must survive every failed run byte for byte.
S="$t/keep.store"
"$ULM" ingest "$D/shop.csv" --out "$S" >/dev/null || fail "setup ingest failed"
cp "$S" "$t/orig.store"

# refused CODE PATTERN ARGS...: ulm ingest ARGS --out $S must exit CODE with PATTERN on stderr
# and leave the store unchanged.
refused() {
  local code=$1 pattern=$2
  shift 2
  local rc=0
  "$ULM" ingest "$@" --out "$S" >"$t/out" 2>"$t/err" || rc=$?
  [ "$rc" = "$code" ] || fail "ingest $* exited $rc, expected $code (stderr: $(cat "$t/err"))"
  grep -q -- "$pattern" "$t/err" || fail "ingest $*: stderr lacks '$pattern': $(cat "$t/err")"
  cmp -s "$S" "$t/orig.store" || fail "ingest $* changed the store"
}

refused 1 "$t/missing.csv" "$t/missing.csv"
gzip -c "$D/shop.csv" | head -c 200 >"$t/cut.csv.gz"
refused 1 "corrupt gzip" "$t/cut.csv.gz"
printf '\x1f\x8b\x08\x00garbage-not-deflate-data' >"$t/junk.csv.gz"
refused 1 "junk.csv.gz" "$t/junk.csv.gz"
head -c 3000 /dev/urandom >"$t/rand.bin"
printf 'user,item,time\n\0\0\0\n' >>"$t/rand.bin"
refused 1 "binary data" "$t/rand.bin"
refused 1 "empty.csv: empty file" "$D/empty.csv"
refused 1 "header_only.csv: header only" "$D/header_only.csv"
refused 1 "'customer', 'when', 'amount'" "$D/no_item.csv"
refused 1 "--map item=COLUMN,time=COLUMN" "$D/no_item.csv"
refused 2 "unknown field 'colour'" "$D/shop.csv" --map colour=product_id
refused 2 "column 'sku' (for item) is not in the header of" "$D/shop.csv" --map item=sku
refused 2 "format must be" "$D/shop.csv" --format xml
# A good file followed by a bad one: nothing is written.
refused 1 "empty file" "$D/more.csv" "$D/empty.csv"
# --strict stops at the first bad row and names file, line and column.
refused 1 "rejects.csv:3: column 'quantity': bad number" "$D/rejects.csv" --strict
printf 'user,item,time\nu1,i1,2024-01-01\nu1,i2\n' >"$t/short.csv"
refused 1 "short.csv:3: too few fields" "$t/short.csv" --strict

# Without --strict every bad row is counted with its reason, first lines and column.
"$ULM" ingest "$D/rejects.csv" --out "$t/r.store" --json >"$t/r.json" || fail "rejects run failed"
expect "$t/r.json" 'o["rows_read"] == 10 and o["kept"] == 2 and o["rejected"] == 8' \
  'o["kept"] + o["duplicates"] + o["rejected"] == o["rows_read"]' \
  'reason("bad number")["count"] == 2' \
  'reason("bad number")["first_lines"] == [{"file": o["files"][0]["path"], "line": 3, "column": "quantity"}, {"file": o["files"][0]["path"], "line": 9, "column": "price"}]' \
  'reason("too few fields")["first_lines"][0]["line"] == 4 and reason("too few fields")["first_lines"][0]["column"] is None' \
  'reason("too many fields")["first_lines"][0]["line"] == 5' \
  'reason("missing item")["first_lines"][0]["line"] == 6' \
  'reason("missing time")["first_lines"][0]["line"] == 7' \
  'reason("bad time")["first_lines"][0]["line"] == 8' \
  'reason("unterminated quote")["first_lines"][0]["line"] == 10' \
  'sum(r["count"] for r in o["rejected_by_reason"]) == o["rejected"]'

# Invalid UTF-8 in a used column is rejected; in an ignored column it does not matter.
printf 'user,item,time,note\nu1,i\xff,2024-01-01,x\nu1,i2,2024-01-01,\xfe\nu1,i3,2024-01-01,ok\n' >"$t/utf8.csv"
"$ULM" ingest "$t/utf8.csv" --out "$t/u.store" --json >"$t/u.json" || fail "utf8 run failed"
expect "$t/u.json" 'o["kept"] == 2 and o["rejected"] == 1' \
  'reason("invalid UTF-8")["first_lines"][0]["line"] == 2 and reason("invalid UTF-8")["first_lines"][0]["column"] == "item"'

# More than 5 rows with one reason: the count is exact, first_lines stops at 5.
{ echo "user,item,time,qty"; for i in 1 2 3 4 5 6 7; do echo "u$i,i$i,2024-01-0$i,x"; done; } >"$t/many.csv"
"$ULM" ingest "$t/many.csv" --out "$t/m.store" --json >"$t/m.json" || fail "many-bad run failed"
expect "$t/m.json" 'reason("bad number")["count"] == 7 and len(reason("bad number")["first_lines"]) == 5'

# A quoted field spanning lines keeps physical line numbers right for the rows after it.
printf 'user,item,time,description\nu1,i1,2024-01-01,"two\nlines"\nu1,i2,2024-01-01,ok\nu1,i3,never,x\n' >"$t/nl.csv"
"$ULM" ingest "$t/nl.csv" --out "$t/n.store" --json >"$t/n.json" || fail "newline run failed"
expect "$t/n.json" 'o["kept"] == 2 and reason("bad time")["first_lines"][0]["line"] == 5'

# --help works and exits 0.
"$ULM" ingest --help | grep -q "usage: ulm ingest" || fail "--help"
echo "ok: every bad input is refused or counted with its reason"
