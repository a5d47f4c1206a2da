#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# What tracing costs an engine's hot path: tools/bench/tick_engine runs TICKS ticks of ~2 us of
# work, each a span "tick" around three ops, and reports its own loop wall time and median tick.
# Side by side, runs interleaved, medians of RUNS:
#   untraced             no tracer
#   perfbpf              perfbpf run with its defaults (probe ABI v3: events recorded in the
#                        engine; scheduler attribution on)
#   perfbpf-per-event    perfbpf run --per-event-probes: one probe hit per event (what perfbpf
#                        did before ABI v3)
#   perfbpf-v2-engine    the engine built with the ABI v2 header (per-event probes only)
# "reported tick p50" is the p50 of the span "tick" in perfbpf's JSON summary; its ratio is to
# the untraced engine's own median tick.
# Usage: tools/bench/tick-cost.sh BUILD_DIR [RUNS] [TICKS]
set -euo pipefail
out=${1:-build}
runs=${2:-7}
ticks=${3:-200000}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

iters=$("$out/tick_engine" --calibrate 2000)
modes=(untraced perfbpf perfbpf-per-event perfbpf-v2-engine)
declare -A wall p50 rep
one() {
	local mode=$1 eng="$out/tick_engine" args
	[ "$mode" = perfbpf-v2-engine ] && eng="$out/tick_engine_v2"
	args=(--ticks "$ticks" --iters "$iters")
	case $mode in
	untraced) "$eng" "${args[@]}" > "$tmp/o" ;;
	perfbpf) "$out/perfbpf" run -q -j "$tmp/s.json" -- "$eng" "${args[@]}" > "$tmp/o" ;;
	*) "$out/perfbpf" run -q -j "$tmp/s.json" --per-event-probes -- "$eng" "${args[@]}" \
		> "$tmp/o" ;;
	esac
	wall[$mode]+=" $(awk '{print $2}' "$tmp/o")"
	p50[$mode]+=" $(awk '{print $4}' "$tmp/o")"
	if [ "$mode" != untraced ]; then
		rep[$mode]+=" $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(next(r["p50_ns"] for r in d["metric_rollups"] if r["kind"] == "span" and r["metric"] == "tick"))
' "$tmp/s.json")"
	fi
}
for _ in $(seq "$runs"); do
	for m in "${modes[@]}"; do
		one "$m"
	done
done
bw=$(echo "${wall[untraced]}" | median)
bp=$(echo "${p50[untraced]}" | median)
echo "| engine run | loop wall (ms) | vs untraced | engine's own tick p50 (ns) | perfbpf's reported tick p50 (ns) | reported vs untraced tick |"
echo "|---|---:|---:|---:|---:|---:|"
for m in "${modes[@]}"; do
	w=$(echo "${wall[$m]}" | median)
	p=$(echo "${p50[$m]}" | median)
	if [ "$m" = untraced ]; then
		r=- rr=-
	else
		r=$(echo "${rep[$m]}" | median)
		rr=$(ratio "$r" "$bp")
	fi
	echo "| $m | $(awk -v w="$w" 'BEGIN {printf "%.1f", w / 1e6}') | $(ratio "$w" "$bw") | $p | $r | $rr |"
done
echo
echo "($ticks ticks of $iters iterations of work, calibrated to ~2 us; 1 span and 3 ops per tick)"
