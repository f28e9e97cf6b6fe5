#!/usr/bin/env bash
# synth.sh: `ulm synth` end to end: byte-identical reruns (any thread count), seeds that differ, gzip
# equal to plain, a well-formed time-ordered log, plausible funnel counts, the truth files agreeing
# with the log (churned users silent after churn, every item known), bad arguments, and, once
# `ulm ingest` exists, zero rejected rows on ingestion.
set -euo pipefail
: "${ULM:?ULM must point at the ulm binary}"
: "${ROOT:?ROOT must point at the repository}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

args=(--users 3000 --items 800 --days 120 --start 2024-10-01)
mkdir "$dir/a" "$dir/b" "$dir/c" "$dir/d"
"$ULM" synth "${args[@]}" --seed 7 --threads 2 --out "$dir/a/ev.csv" --json > "$dir/a/summary.json"
"$ULM" synth "${args[@]}" --seed 7 --threads 1 --out "$dir/b/ev.csv" > /dev/null
"$ULM" synth "${args[@]}" --seed 8 --out "$dir/c/ev.csv" > /dev/null
"$ULM" synth "${args[@]}" --seed 7 --out "$dir/d/ev.csv.gz" > /dev/null

# Same arguments, same bytes, whatever the thread count; another seed gives another log.
for f in ev.csv ev.csv.truth.json ev.csv.truth.users.csv ev.csv.truth.items.csv; do
    [ -s "$dir/a/$f" ] || fail "$f was not written"
    cmp -s "$dir/a/$f" "$dir/b/$f" || fail "$f differs between two runs with the same seed"
done
cmp -s "$dir/a/ev.csv" "$dir/c/ev.csv" && fail "seeds 7 and 8 gave the same log"
gzip -dc "$dir/d/ev.csv.gz" | cmp -s - "$dir/a/ev.csv" || fail "the .gz log does not inflate to the plain log"
cmp -s "$dir/a/ev.csv.truth.users.csv" "$dir/d/ev.csv.truth.users.csv" || fail "gzip run wrote other user truth"
ls "$dir"/a | grep -q tmp && fail "a temporary file was left behind"

log="$dir/a/ev.csv"
[ "$(head -n1 "$log")" = "user,item,time,event,quantity,price,order,query" ] || fail "unexpected header: $(head -n1 "$log")"

# Shape of every row, time order, and counts by type.
awk -F, 'NR == 1 { next }
    NF != 8 { print "line " NR ": " NF " fields"; bad = 1; exit }
    $3 !~ /^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$/ { print "line " NR ": bad time " $3; bad = 1; exit }
    $3 < prev { print "line " NR ": time goes back: " $3 " after " prev; bad = 1; exit }
    { prev = $3; n[$4]++ }
    $4 == "search" && ($2 != "" || $8 == "") { print "line " NR ": search needs a query and no item"; bad = 1; exit }
    $4 != "search" && ($2 == "" || $8 != "" || $6 == "") { print "line " NR ": " $4 " needs an item and a price, no query"; bad = 1; exit }
    ($4 == "purchase" || $4 == "return") && $7 !~ /^o[0-9]+-[0-9]+$/ { print "line " NR ": " $4 " without an order id"; bad = 1; exit }
    ($4 == "view" || $4 == "cart" || $4 == "search") && $7 != "" { print "line " NR ": order id on a " $4; bad = 1; exit }
    $4 !~ /^(view|cart|purchase|return|search)$/ { print "line " NR ": unknown event " $4; bad = 1; exit }
    END { if (bad) exit 1; printf "%d %d %d %d %d\n", n["view"], n["cart"], n["purchase"], n["return"], n["search"] }' \
    "$log" > "$dir/counts" || fail "malformed log: $(cat "$dir/counts")"
read -r views carts purchases returns searches < "$dir/counts"
echo "views $views carts $carts purchases $purchases returns $returns searches $searches"
[ "$purchases" -gt 0 ] && [ "$purchases" -lt "$carts" ] && [ "$carts" -lt "$views" ] ||
    fail "implausible funnel: views $views carts $carts purchases $purchases"
[ "$returns" -gt 0 ] && [ "$returns" -lt "$purchases" ] || fail "implausible returns: $returns of $purchases purchases"
[ "$searches" -gt 0 ] && [ "$searches" -lt "$views" ] || fail "implausible searches: $searches"
total=$((views + carts + purchases + returns + searches))
grep -q "\"events\":$total," "$dir/a/summary.json" || fail "--json summary does not count $total events: $(cat "$dir/a/summary.json")"
grep -q "\"purchase\":$purchases" "$dir/a/summary.json" || fail "--json summary purchase count differs"

# Truth: churned users have no event on or after their churn day; every logged item is known.
users="$dir/a/ev.csv.truth.users.csv" items="$dir/a/ev.csv.truth.items.csv"
[ "$(head -n1 "$users" | cut -d, -f1-4)" = "user,signup_date,churn_date,lifetime_end_date" ] || fail "users truth header"
churned=$(awk -F, 'NR > 1 && $3 != ""' "$users" | wc -l)
[ "$churned" -gt 0 ] || fail "nobody churned within 120 days"
awk -F, 'FNR == 1 { next }
    FILENAME == ARGV[1] { if ($3 != "") churn[$1] = $3; signup[$1] = $2; next }
    { day = substr($3, 1, 10) }
    ($1 in churn) && day >= churn[$1] { print "user " $1 " active on " day ", churned " churn[$1]; bad = 1; exit }
    day < signup[$1] { print "user " $1 " active on " day " before signing up " signup[$1]; bad = 1; exit }
    END { exit bad }' "$users" "$log" || fail "the log contradicts the churn/signup truth"
# A return refunds the price of its purchase line (same order and item), whatever the day's price.
awk -F, '$4 == "purchase" { paid[$7 "/" $2] = $6 }
    $4 == "return" && paid[$7 "/" $2] != $6 { print "line " NR ": return at " $6 ", bought at " paid[$7 "/" $2]; bad = 1; exit }
    END { exit bad }' "$log" || fail "a return does not match its purchase"
awk -F, 'FNR == 1 { next } FILENAME == ARGV[1] { known[$1] = 1; next }
    $2 != "" && !($2 in known) { print "unknown item " $2 " on line " FNR; bad = 1; exit }
    END { exit bad }' "$items" "$log" || fail "the log names items missing from the items truth"
[ "$(($(wc -l < "$items") - 1))" -eq 800 ] || fail "items truth should have 800 rows"
[ "$(($(wc -l < "$users") - 1))" -eq 3000 ] || fail "users truth should have 3000 rows"
grep -q '"seed": 7' "$dir/a/ev.csv.truth.json" || fail "truth json lacks the seed"

# Bad arguments: usage errors exit 2, unwritable output exits 1, and nothing is left behind.
expect() {
    local want=$1 what=$2
    shift 2
    set +e
    "$ULM" synth "$@" > "$dir/out" 2> "$dir/err"
    local rc=$?
    set -e
    [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want ($(cat "$dir/err"))"
    [ -s "$dir/err" ] || fail "$what: no message on stderr"
}
expect 2 "zero users" --users 0 --out "$dir/x.csv"
expect 2 "zero items" --items 0 --out "$dir/x.csv"
expect 2 "zero days" --days 0 --out "$dir/x.csv"
expect 2 "non-numeric users" --users lots --out "$dir/x.csv"
expect 2 "missing --out" --users 10
expect 2 "bad start date" --start 2023-02-30 --out "$dir/x.csv"
expect 1 "unwritable path" --users 10 --items 10 --days 2 --out "$dir/no/such/dir/x.csv"
grep -q "no/such/dir" "$dir/err" || fail "the unwritable-path message does not name the path: $(cat "$dir/err")"
expect 1 "directory as output" --users 10 --items 10 --days 2 --out "$dir"
[ ! -e "$dir/x.csv" ] || fail "a failed run left $dir/x.csv"
"$ULM" synth --help | grep -q -- "--users" || fail "--help does not describe --users"

# Ingestion, once `ulm ingest` is built: the log goes in with no rejected rows and no duplicates.
if ! grep -q "not built yet" "$ROOT/trainer/cmd_ingest.c"; then
    "$ULM" ingest "$dir/d/ev.csv.gz" --out "$dir/ev.store" --json > "$dir/ingest.json" ||
        fail "ulm ingest failed on the synthetic log"
    grep -q '"rejected": *0[,}]' "$dir/ingest.json" || fail "ingest rejected rows: $(head -c 600 "$dir/ingest.json")"
    grep -q '"duplicates": *0[,}]' "$dir/ingest.json" || fail "ingest found duplicates: $(head -c 600 "$dir/ingest.json")"
    grep -q "\"kept\": *$total[,}]" "$dir/ingest.json" || fail "ingest kept other than $total rows: $(head -c 600 "$dir/ingest.json")"
    echo "ingest: $total rows kept, 0 rejected"
fi
echo "synth e2e ok"
