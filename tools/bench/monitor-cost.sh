#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Cost per event of perfbpf's two modes on the same workload (tools/bench/probe_loop: one op per
# iteration, and one span_begin/span_end pair per iteration): nothing attached, `perfbpf run`
# (ring buffer to userspace, exact statistics) and `perfbpf monitor --binary` (histograms in the
# kernel, nothing crosses to userspace). Runs are interleaved; medians of RUNS.
# Usage: tools/bench/monitor-cost.sh BUILD_DIR [RUNS] [EVENTS]
set -euo pipefail
out=${1:-build}
runs=${2:-9}
events=${3:-1000000}
loop="$out/probe_loop"

declare -A samples
modes=(detached ring monitor)
one() {
	case $1 in
	detached) "$loop" --events "$events" ;;
	ring) "$out/perfbpf" run -q --no-attribution -- "$loop" --events "$events" ;;
	monitor)
		"$out/perfbpf" monitor -q --no-listen --binary "$loop" &
		local mp=$!
		"$loop" --events "$events" --wait-attach 10
		kill -TERM $mp
		wait $mp
		;;
	esac
}
for ((r = 0; r < runs; r++)); do
	for m in "${modes[@]}"; do
		res=$(one "$m")
		samples[$m.op]+="$(awk '/^op_ns/ {print $2}' <<<"$res") "
		samples[$m.span]+="$(awk '/^span_ns/ {print $2}' <<<"$res") "
	done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| mode | op: ns per event | span pair: ns per event | op vs ring | span vs ring |"
echo "|---|---:|---:|---:|---:|"
rop=$(echo "${samples[ring.op]}" | median)
rspan=$(echo "${samples[ring.span]}" | median)
for m in "${modes[@]}"; do
	op=$(echo "${samples[$m.op]}" | median)
	span=$(echo "${samples[$m.span]}" | median)
	echo "| $m | $op | $span | $(awk -v a="$op" -v b="$rop" 'BEGIN {printf "%.2fx", a / b}') | $(awk -v a="$span" -v b="$rspan" 'BEGIN {printf "%.2fx", a / b}') |"
done
