#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The event rate perfbpf sustains without a drop: tools/bench/probe_loop fires `op` from THREADS
# threads (default 1) at a fixed total rate for SECONDS, under `perfbpf attach` with the default ring size,
# and the JSON summary says how many events were counted and dropped. The ladder ends with the
# threads unpaced (as fast as they go), then the unpaced load again with smaller rings, to show
# what happens beyond: drops counted, per CPU. perfbpf's CPU time and peak RSS come from GNU time.
# TRACER=monitor: `perfbpf monitor --pid` (its default: ABI v3 batches aggregated in userspace)
# instead of `perfbpf attach`.
# Usage: tools/bench/max-rate.sh BUILD_DIR [SECONDS]
set -euo pipefail
out=${1:-build}
secs=${2:-3}
threads=${THREADS:-1}
tracer=${TRACER:-attach}
defring=64M
[ "$tracer" = monitor ] && defring=16M
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# one load: RATE (0 = unpaced) RING (empty = default)
one() {
	local rate=$1 ring=$2 ringopt=() p tp
	[ -n "$ring" ] && ringopt=(--ring-size "$ring")
	start_exec "$out/probe_loop" --rate "$rate" --threads "$threads" --seconds "$secs" --wait-attach 20 \
		> "$tmp/loop.out"
	p=$started
	if [ "$tracer" = monitor ]; then
		/usr/bin/time -f '%U %S %M' -o "$tmp/time" "$out/perfbpf" monitor -q --no-listen \
			"${ringopt[@]}" --json "$tmp/sum.json" --pid "$p" 2>/dev/null &
	else
		/usr/bin/time -f '%U %S %M' -o "$tmp/time" "$out/perfbpf" attach -q --no-attribution \
			"${ringopt[@]}" --json "$tmp/sum.json" "$p" 2>/dev/null &
	fi
	tp=$!
	wait "$p"
	wait "$tp" || true
	python3 - "$tmp/sum.json" "$tmp/loop.out" "$tmp/time" "$rate" "${ring:-$defring (default)}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
fired, secs = (float(x) for x in open(sys.argv[2]).read().split()[1::2])
u, sy, rss = open(sys.argv[3]).read().split()[-3:]
cpu = float(u) + float(sy)
rate = int(sys.argv[4])
percpu = s.get("dropped_per_cpu") or []
print("| %s | %s | %.0f | %d | %d | %d | %.2f%% | %s | %.2f | %.1f |" % (
    "{:,}".format(rate) if rate else "unpaced", sys.argv[5], fired / secs, fired, s["events"],
    s["dropped"], 100.0 * s["dropped"] / max(fired, 1),
    " / ".join(str(x) for x in percpu) or "-", cpu / secs, int(rss) / 1024))
PY
}

echo "| requested rate (events/s, $threads thread(s), perfbpf $tracer) | ring | achieved (events/s) | fired | counted | dropped | dropped share | dropped per CPU | perfbpf CPU (s per s) | perfbpf peak RSS (MiB) |"
echo "|---|---|---:|---:|---:|---:|---:|---|---:|---:|"
for rate in 1000000 5000000 10000000 20000000 0; do
	one "$rate" ""
done
for ring in 1M 256K; do
	one 0 "$ring"
done
