#!/usr/bin/env bash
# `ulm dashboard` on the sample store: data.json's numbers agree with the commands they come from, computed
# by those commands here (`ulm segment --model`: customers, buyers, revenue, stage sizes, total CLV;
# `ulm alerts`: customers at risk and the top customer by value at risk); the stage flow between two runs
# is a partition of the customers recounted here from both stages.tsv files; two runs give the same bytes;
# and bad input fails with a clear message: missing store or bundle, an unwritable output folder, a previous
# run of another data version, recs-eval / campaign files that are not what they should be, missing page
# assets. A bundle without churn (and without the recs / campaign inputs) gives null panels.
set -euo pipefail
: "${ULM:?}" "${ROOT:?}"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
PY=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }
"$ULM" ingest "$ROOT/data/sample/online_retail_sample.csv.gz" --out "$d/s.store" >/dev/null
"$ULM" train "$d/s.store" --out "$d/full.ulm" --churn logreg --cutoff 2011-09-01 --horizon 90 >/dev/null
"$ULM" train "$d/s.store" --out "$d/plain.ulm" >/dev/null
mkdir "$d/assets" && echo '<!doctype html><title>t</title>' >"$d/assets/index.html" && echo 'x' >"$d/assets/dashboard.js"
"$ULM" eval recs "$d/s.store" --split leave-last --algo pop --json >"$d/recs.json"
"$ULM" campaign plan "$d/s.store" --model "$d/full.ulm" --offers "$ROOT/examples/offers.json" --json >"$d/campaign.json"
D=("$ULM" dashboard "$d/s.store" --assets "$d/assets")

"${D[@]}" --model "$d/full.ulm" --out "$d/prev" --as-of 2011-10-01 >/dev/null
"${D[@]}" --model "$d/full.ulm" --out "$d/run" --previous "$d/prev/data.json" --recs-eval "$d/recs.json" \
  --campaign "$d/campaign.json" --json >"$d/summary.json"
"${D[@]}" --model "$d/full.ulm" --out "$d/run2" --previous "$d/prev/data.json" --recs-eval "$d/recs.json" \
  --campaign "$d/campaign.json" >/dev/null
for f in data.json data.js stages.tsv index.html dashboard.js; do
  [ -f "$d/run/$f" ] || fail "missing $f"
  cmp -s "$d/run/$f" "$d/run2/$f" || fail "$f differs between two runs"
done
"$ULM" segment "$d/s.store" --model "$d/full.ulm" --as-of 2011-12-10 --out "$d/seg.jsonl" --json >"$d/seg.json"
"$ULM" alerts "$d/s.store" --model "$d/full.ulm" --state "$d/alerts.state" --json >"$d/alerts.json"
"$ULM" dashboard --help | grep -q -- '--previous FILE' || fail "--help"

$PY - "$d" <<'PY'
import json, sys
d = sys.argv[1]
data = json.load(open(f"{d}/run/data.json"))
js = open(f"{d}/run/data.js").read()
assert js.startswith("globalThis.ULM_DASHBOARD = ") and js.rstrip().endswith(";")
assert json.loads(js[len("globalThis.ULM_DASHBOARD = "):].rstrip().rstrip(";")) == data, "data.js holds data.json"
assert data["format"] == "ulm-dashboard" and data["version"] == 1 and data["as_of"] == "2011-12-10"
h = data["headline"]
seg = json.load(open(f"{d}/seg.json"))
rows = [json.loads(l) for l in open(f"{d}/seg.jsonl")]
assert h["customers"] == seg["customers"] == len(rows), (h, seg["customers"])
assert h["buyers"] == seg["buyers"]
assert abs(h["revenue"] - seg["revenue"]) < 0.01, (h["revenue"], seg["revenue"])
clv = sum(r["clv"] for r in rows if r.get("clv") is not None)
assert abs(h["clv_12m"] - clv) < 0.05, (h["clv_12m"], clv)
stages = {s["stage"]: s["customers"] for s in data["stages"]}
for s in seg["stages"]:
    assert stages[s["name"]] == s["size"], (s, stages)
assert h["active"] == stages["new"] + stages["active"] + stages["reactivated"]
assert sum(s["size"] for s in data["segments"]["kmeans"]) == seg["buyers"]
assert sum(c["customers"] for c in data["rfm_grid"]["cells"]) == seg["buyers"]
al = json.load(open(f"{d}/alerts.json"))
assert h["at_risk"] == al["at_risk"] == data["churn"]["at_risk"], (h["at_risk"], al["at_risk"])
top = data["churn"]["top"]
assert top[0]["customer"] == al["alerts"][0]["customer"] and top[0]["reasons"] == al["alerts"][0]["reasons"]
assert abs(top[0]["value_at_risk"] - al["alerts"][0]["value_at_risk"]) < 0.01
assert [t["value_at_risk"] for t in top] == sorted((t["value_at_risk"] for t in top), reverse=True)
assert sum(data["churn"]["counts"]) == data["churn"]["scored"]
assert sum(data["clv"]["counts"]) == data["clv"]["customers"]
assert data["recs"]["results"][0]["algo"] == "pop" and data["recs"]["live"] == "pop"
assert data["campaign"]["budget"] == json.load(open(f"{d}/campaign.json"))["budget"]
# stage flow: recount from the two stages.tsv files
def tsv(p):
    lines = open(p).read().splitlines()
    assert lines[0] == "customer\tstage"
    return dict(l.split("\t") for l in lines[1:])
a, b = tsv(f"{d}/prev/stages.tsv"), tsv(f"{d}/run/stages.tsv")
f = data["stage_flow"]
assert f["previous_as_of"] == "2011-10-01"
st = f["states"]
want = [[0] * len(st) for _ in st]
for c in set(a) | set(b):
    want[st.index(a.get(c, "not a customer"))][st.index(b.get(c, "not a customer"))] += 1
assert f["matrix"] == want, (f["matrix"], want)
assert sum(map(sum, f["matrix"])) == len(set(a) | set(b))
s = json.load(open(f"{d}/summary.json"))
assert s["out"].endswith("/run") and s["previous"] is True and s["files"] == 5
PY

# a bundle without churn, no recs / campaign inputs: those panels are null, the page still written
"${D[@]}" --model "$d/plain.ulm" --out "$d/plain" >/dev/null || fail "plain bundle"
$PY - "$d" <<'PY'
import json, sys
data = json.load(open(f"{sys.argv[1]}/plain/data.json"))
assert data["churn"] is None and data["recs"] is None and data["campaign"] is None and data["stage_flow"] is None
assert data["segments"] is not None and data["headline"]["at_risk_basis"] == "lifecycle stage"
assert data["headline"]["at_risk"] == next(s["customers"] for s in data["stages"] if s["stage"] == "at risk")
PY

expect_fail() { # message regex, then the command
  local re=$1; shift
  if "$@" >"$d/out.txt" 2>"$d/err.txt"; then fail "should fail: $*"; fi
  grep -Eq "$re" "$d/err.txt" || fail "message for $*: $(cat "$d/err.txt") (wanted $re)"
}
expect_fail 'no-such.store' "$ULM" dashboard "$d/no-such.store" --model "$d/full.ulm" --out "$d/x" --assets "$d/assets"
expect_fail 'no-such.ulm' "${D[@]}" --model "$d/no-such.ulm" --out "$d/x"
echo 'not a store' >"$d/bad.store"
expect_fail 'bad.store' "$ULM" dashboard "$d/bad.store" --model "$d/full.ulm" --out "$d/x" --assets "$d/assets"
touch "$d/file"
expect_fail 'file/sub: cannot create' "${D[@]}" --model "$d/full.ulm" --out "$d/file/sub"
expect_fail 'no index.html|No such file' "$ULM" dashboard "$d/s.store" --model "$d/full.ulm" --out "$d/x" --assets "$d/nowhere"
sed 's/"version":1/"version":2/' "$d/prev/data.json" >"$d/v2.json"
expect_fail 'version 2, this ulm reads version 1' "${D[@]}" --model "$d/full.ulm" --out "$d/x" --previous "$d/v2.json"
echo '{"x":1}' >"$d/bad.json"
expect_fail 'bad.json: every result needs "algo"' "${D[@]}" --model "$d/full.ulm" --out "$d/x" --recs-eval "$d/bad.json"
expect_fail 'bad.json: "budget" missing' "${D[@]}" --model "$d/full.ulm" --out "$d/x" --campaign "$d/bad.json"
echo 'nope' >"$d/nojson.json"
expect_fail 'nojson.json: not JSON' "${D[@]}" --model "$d/full.ulm" --out "$d/x" --recs-eval "$d/nojson.json"
expect_fail 'expected STORE' "$ULM" dashboard "$d/s.store" --out "$d/x"
[ ! -e "$d/x" ] || fail "a failed run left $d/x"
echo "dashboard e2e: ok"
