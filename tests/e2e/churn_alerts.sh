#!/usr/bin/env bash
# `ulm alerts`: new at-risk customers are listed once (a re-run on the same data reports and sends nothing),
# the batch is POSTed to a webhook served here on 127.0.0.1 (retried with back-off through 503s), and a
# webhook that keeps failing gives exit 1 with nothing marked as sent.
set -euo pipefail
: "${ULM:?}" "${ROOT:?}"
d=$(mktemp -d)
PY=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }
$PY - "$d" <<'PY' &
import http.server, json, os, sys, threading
d = sys.argv[1]
fails = {'/flaky': 2}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        with open(d + '/requests.log', 'a') as f:
            f.write(json.dumps({'path': self.path, 'key': self.headers.get('Idempotency-Key'), 'n': len(json.loads(body)['alerts'])}) + '\n')
        code = 200
        if self.path == '/down': code = 500
        elif fails.get(self.path, 0) > 0:
            fails[self.path] -= 1; code = 503
        self.send_response(code); self.send_header('Content-Length', '0'); self.end_headers()
        if code == 200: open(d + '/received.json', 'wb').write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(d + '/port.tmp', 'w').write(str(s.server_address[1])); os.rename(d + '/port.tmp', d + '/port')
s.serve_forever()
PY
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$d"' EXIT
for _ in $(seq 100); do [ -f "$d/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$d/port")"
"$ULM" ingest "$ROOT/data/sample/online_retail_sample.csv.gz" --out "$d/s.store" >/dev/null
"$ULM" train "$d/s.store" --out "$d/s.ulm" --churn logreg --cutoff 2011-09-01 --horizon 90 >/dev/null
A=("$ULM" alerts "$d/s.store" --model "$d/s.ulm" --as-of 2011-10-01 --threshold 0.6 --backoff-ms 50)
# a webhook that keeps failing: exit 1 after 1 + 2 retries, no state written
set +e; "${A[@]}" --webhook "$url/down" --retries 2 >/dev/null 2>"$d/err"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "nothing was marked as sent" "$d/err" || fail "failing webhook: rc $rc: $(cat "$d/err")"
[ "$(grep -c '"/down"' "$d/requests.log")" = 3 ] || fail "expected 3 attempts at /down: $(cat "$d/requests.log")"
[ ! -e "$d/s.store.alerts" ] || fail "a failed delivery wrote the state"
# through two 503s: delivered on the third attempt
"${A[@]}" --webhook "$url/flaky" --retries 4 --out "$d/batch.json" >"$d/out1"
[ "$(grep -c '"/flaky"' "$d/requests.log")" = 3 ] || fail "expected 3 attempts at /flaky"
cmp -s "$d/batch.json" "$d/received.json" || fail "the server received something else than the batch"
$PY - "$d" <<'PY'
import json, sys
d = sys.argv[1]
b = json.load(open(d + '/batch.json'))
assert b['as_of'] == '2011-10-01' and b['threshold'] == 0.6 and len(b['alerts']) == b['at_risk'] > 5, b
keys = {json.loads(l)['key'] for l in open(d + '/requests.log') if '/flaky' in l}
assert keys == {b['batch']}, keys          # retries carry the same idempotency key
v = [a['value_at_risk'] for a in b['alerts']]
assert v == sorted(v, reverse=True)
for a in b['alerts']:
    assert a['p_churn'] >= 0.6 and len(a['reasons']) == 3 and a['action'] in ('10% coupon', 'personalised reminder'), a
print('alerts: %d new, delivered through two 503s' % len(b['alerts']))
PY
# the same data again: nothing new, nothing sent
n=$(wc -l <"$d/requests.log")
"${A[@]}" --webhook "$url/ok" --json >"$d/batch2.json"
[ "$(wc -l <"$d/requests.log")" = "$n" ] || fail "a re-run sent a request"
$PY -c "import json; b = json.load(open('$d/batch2.json')); assert b['alerts'] == [] and b['at_risk'] > 5, b"
# a higher threshold forgets customers below it; lowering it again reports them anew (and sends them)
"${A[@]}" --threshold 0.9 >/dev/null
"${A[@]}" --webhook "$url/ok" --json >"$d/batch3.json"
$PY -c "import json; b = json.load(open('$d/batch3.json')); assert len(b['alerts']) > 0, b"
grep -q '"/ok"' "$d/requests.log" || fail "the re-armed alerts were not sent"
echo "churn_alerts: ok"
