#!/usr/bin/env bash
# recs_scale.sh: implicit ALS at scale on `ulm synth` data: time per iteration and peak memory.
# Not part of the test suite (minutes of CPU, gigabytes of disk and memory).
# ulm-bench: long
#
# Generates USERS x ITEMS over DAYS days with `ulm synth` (about 50 events per user at 68 days:
# 1,000,000 users give about 51 million events, 640 MB gzipped), then reads the log straight into
# the interaction matrix (ulm's default event weights: view 1, cart 2, purchase 4, a return -4;
# searches skipped) and trains ALS (64 factors, CG 3 steps) with bench/recs_als_speed.c, which
# reports (T(1 + ITERS) - T(1)) / ITERS, wall and CPU, and the peak resident memory after reading,
# after building the matrix and at the end; /usr/bin/time -v gives the process's maximum RSS.
# Peer context: implicit 0.7 takes about 11.6 s per iteration with 2 threads on 1M x 100K with
# 45.6 million interactions (PERF.md, measured on this machine class; not run here).
# The data is deleted afterwards unless KEEP=1.
#
# usage: bench/recs_scale.sh [USERS=1000000] [ITEMS=100000] [DAYS=68] [THREADS=2] [ITERS=2]
#        (DIR=/tmp/ulm-scale by default; needs about 1 GB of disk and 4 GB of memory)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
users=${1:-1000000}; items=${2:-100000}; days=${3:-68}; T=${4:-2}; iters=${5:-2}
DIR=${DIR:-/tmp/ulm-scale}
B=${B:-$ROOT/build/bench-als}
if [ ! -f "$B/build.ninja" ]; then
  cmake -S "$ROOT" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DULM_CUDA=OFF -DULM_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$B" ulm ulm_recs_als_speed >/dev/null
mkdir -p "$DIR"
df -h "$DIR" >&2
[ "${KEEP:-0}" = 1 ] || trap 'rm -f "$DIR"/synth.csv.gz "$DIR"/synth.csv.truth.*' EXIT
echo "== ulm synth: $users users x $items items x $days days" >&2
/usr/bin/time -f '%e s wall, %M KB max RSS' -o "$DIR/synth.time" \
  "$B/bin/ulm" synth --out "$DIR/synth.csv.gz" --users "$users" --items "$items" --days "$days" --threads "$T" \
  --json >"$DIR/synth.json"
cat "$DIR/synth.time" >&2
echo "== ALS: 64 factors, CG 3 steps, $T threads, $iters timed iterations" >&2
/usr/bin/time -v -o "$DIR/als.time" "$B/bin/ulm_recs_als_speed" "$DIR/synth.csv.gz" 64 "$iters" "$T" 1 \
  | tee "$DIR/als.jsonl" >&2
/usr/bin/python3 - "$DIR" <<'PY'
import json, re, sys
d = sys.argv[1]
s = json.load(open(f"{d}/synth.json"))
lines = [json.loads(l) for l in open(f"{d}/als.jsonl")]
head, rep, summ = lines[0], lines[1], lines[-1]
tv = open(f"{d}/als.time").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv).group(1)) / 1024 / 1024
print("\n## ALS at scale (ulm synth data)\n")
print("| what | value | target |")
print("|---|---|---|")
print(f"| events generated | {s['events']:,} in {s['seconds']:.0f} s | |")
print(f"| matrix | {head['users']:,} users x {head['items']:,} items, {head['nnz']:,} non-zeros (read {head['read_seconds']:.0f} s, built {head['matrix_seconds']:.0f} s) | |")
print(f"| ALS wall s/iteration ({head['threads']} threads, 64 factors, CG 3) | {rep['wall_ms_per_iter'] / 1000:.2f} | < 10 |")
print(f"| ALS CPU s/iteration (all threads) | {rep['cpu_ms_per_iter'] / 1000:.2f} | |")
print(f"| peak RSS after reading the log / building the matrix / training | {summ['peak_mib_read']:.0f} / {summ['peak_mib_matrix']:.0f} / {summ['peak_mib']:.0f} MiB | |")
print(f"| process maximum RSS (/usr/bin/time -v) | {rss:.2f} GiB | < 4 |")
PY
