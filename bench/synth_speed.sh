#!/usr/bin/env bash
# Times `ulm synth` at a given size (default 50 million events, plain CSV) and prints events/s; then
# runs the NumPy peer (bench/synth_numpy.py: the same popularity/session model, vectorised, CSV written
# by pandas) and ulm on the same smaller size, and prints the ratios of events/s.
#
#   bench/synth_speed.sh [MILLIONS]      MILLIONS of events for the big run (default 50)
#
# Builds nothing: ULM is the ulm binary (default build/bin/ulm). OUT is the folder for the files
# (default a new one under /tmp; everything written is deleted at the end). PEER_MILLIONS sizes the
# peer run (default 2: pandas writes CSV at about 0.1 M rows/s). The machine is shared and noisy:
# read the ratios, not the seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ULM=${ULM:-$ROOT/build/bin/ulm}
PY=${PY:-/usr/bin/python3}
MILLIONS=${1:-50}
PEER_MILLIONS=${PEER_MILLIONS:-2}
[ -x "$ULM" ] || { echo "no ulm binary at $ULM (build first, or set ULM)"; exit 1; }
$PY -c "import numpy, pandas" 2>/dev/null || { echo "numpy/pandas missing for $PY"; exit 1; }
t=$(mktemp -d "${OUT:-/tmp}/synth_speed.XXXXXX")
trap 'rm -rf "$t"' EXIT

# About 196 events per user per year at the defaults (50 M events: 256,000 users x 365 days).
users_for() { $PY -c "print(max(100, round($1 * 1e6 / 195.6)))"; }
field() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

big_users=$(users_for "$MILLIONS")
echo "ulm synth: $big_users users, 100000 items, 365 days (target $MILLIONS M events), plain CSV"
"$ULM" synth --users "$big_users" --items 100000 --days 365 --seed 1 --out "$t/big.csv" --json >"$t/big.json"
big_bytes=$(stat -c %s "$t/big.csv")
rm -f "$t"/big.csv*
ev=$(field "$t/big.json" events)
sec=$(field "$t/big.json" seconds)
$PY -c "print('  %d events, %.2f GB, %.2f s, %.2f M events/s' % ($ev, $big_bytes / 1e9, $sec, $ev / $sec / 1e6))"

small_users=$(users_for "$PEER_MILLIONS")
echo "same model at $PEER_MILLIONS M events ($small_users users, 20000 items, 365 days): ulm vs NumPy peer"
"$ULM" synth --users "$small_users" --items 20000 --days 365 --seed 1 --out "$t/small.csv" --json >"$t/small.json"
rm -f "$t"/small.csv*
$PY "$ROOT/bench/synth_numpy.py" --users "$small_users" --items 20000 --days 365 --seed 1 --out "$t/np.csv" >"$t/np.json"
rm -f "$t/np.csv"

$PY - "$t" <<'PY'
import json, sys
t = sys.argv[1]
big, small, peer = (json.load(open(f"{t}/{n}.json")) for n in ("big", "small", "np"))
ulm_big = big["events"] / big["seconds"]
ulm_small = small["events"] / small["seconds"]
print("  ulm   %9d events in %6.2f s: %10.0f events/s" % (small["events"], small["seconds"], ulm_small))
print("  numpy %9d events in %6.2f s: %10.0f events/s (arrays %.2f s: %.0f events/s; CSV %.2f s)" % (
    peer["events"], peer["gen_seconds"] + peer["write_seconds"], peer["events_per_second"],
    peer["gen_seconds"], peer["gen_events_per_second"], peer["write_seconds"]))
print("ratio ulm/numpy events/s, same size, CSV written by both:  %.1fx" % (ulm_small / peer["events_per_second"]))
print("ratio ulm/numpy events/s, numpy without writing its CSV:   %.1fx" % (ulm_small / peer["gen_events_per_second"]))
print("ratio ulm (big run) / numpy (small run), CSV written:     %.1fx" % (ulm_big / peer["events_per_second"]))
PY
