#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# What a probe site costs with nothing attached: tools/bench/probe_loop (perfbpf probes) against
# probe_loop_none (the same source with PERFBPF_DISABLE_PROBES), wall time per iteration (medians
# of RUNS, EVENTS iterations) and instructions per iteration from valgrind --tool=callgrind
# (repeatable: the difference between runs of 2N and N iterations, so start-up cancels out).
# Usage: tools/bench/detached-cost.sh BUILD_DIR [RUNS] [EVENTS]
set -euo pipefail
out=${1:-build}
runs=${2:-7}
events=${3:-10000000}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# instructions executed by "$@" (callgrind's total Ir)
instructions() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$@" > /dev/null 2>&1
	awk '/^summary:/ {print $2}' "$tmp/cg"
}

declare -A s
for ((r = 0; r < runs; r++)); do
	for b in probe_loop_none probe_loop; do
		res=$("$out/$b" --events "$events")
		s[$b.op]+="$(awk '/^op_ns/ {print $2}' <<<"$res") "
		s[$b.span]+="$(awk '/^span_ns/ {print $2}' <<<"$res") "
	done
done
echo "| binary | op iteration: ns | span iteration: ns | op + span iterations: instructions |"
echo "|---|---:|---:|---:|"
for b in probe_loop_none probe_loop; do
	n1=$(instructions "$out/$b" --events 100000)
	n2=$(instructions "$out/$b" --events 200000)
	echo "| $b | $(echo "${s[$b.op]}" | median) | $(echo "${s[$b.span]}" | median) | $(awk -v a="$n1" -v b="$n2" 'BEGIN {printf "%.1f", (b - a) / 100000}') |"
done
