#!/usr/bin/env bash
# The full Online Retail log (541,909 rows, shared data) ingests with no --map and every row is
# accounted for; duplicates, returns and guests agree with pandas (drop_duplicates over all 8
# columns finds 5,268 duplicate rows; of the 536,641 left, 10,587 are cancellations or negative
# quantities and 135,037 have no CustomerID). Skipped when the data set is not there.
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}" "${TESTDATA:?}"
F="${SHARED_DATA:-}/online-retail/online_retail.csv.gz"
if [ ! -f "$F" ]; then
  echo "skip: $F not found"
  exit 0
fi
CHECK="python3 $TESTDATA/ingest/ingest_check.py"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$ULM" ingest "$F" --out "$t/or.store" --json >"$t/r.json" || fail "ingest failed"
$CHECK check "$t/r.json" \
  'o["rows_read"] == 541909' \
  'o["kept"] + o["duplicates"] + o["rejected"] == 541909' \
  'o["duplicates"] == 5268 and o["rejected"] == 0' \
  'o["kept_by_type"]["return"] == 10587 and o["kept_by_type"]["purchase"] == 536641 - 10587' \
  'o["guest_rows"] == 135037' \
  'o["store"]["users"] == 4372 and o["store"]["items"] == 4070 and o["store"]["events"] == 536641' \
  'o["files"][0]["columns_ignored"] == ["Country"]' \
  'o["files"][0]["columns_used"] == {"user": "CustomerID", "item": "StockCode", "time": "InvoiceDate", "quantity": "Quantity", "price": "UnitPrice", "order": "InvoiceNo", "text": "Description"}' ||
  fail "Online Retail report"
echo "ok: 541909 rows accounted for in $($CHECK eval "$t/r.json" 'o["seconds"]') s"
