#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Cost of perfbpf --attribution per context switch: tools/bench/ctxswitch (two threads pinned to
# CPU 0 bouncing a byte over pipes) bare, under perfbpf without attribution, with attribution and
# no span open, and with a span open on both threads. Runs are interleaved; medians of RUNS.
# The last two cases run the benchmark untraced while perfbpf traces another process.
# Usage: tools/bench/attribution-cost.sh BUILD_DIR [RUNS]
set -euo pipefail
out=${1:-build}
runs=${2:-9}
bench="$out/ctxswitch"
export PERFBPF_BENCH_TRACED=1

# A traced process elsewhere, for the cost that attribution puts on every other process's
# context switches (the scheduler tracepoints are system-wide).
"$out/backtest" --forever --tick-sleep-us 1000 --bars 1000 --quiet &
other=$!
trap 'kill $other 2>/dev/null; wait 2>/dev/null' EXIT
sleep 0.2

declare -A samples
modes=(bare no-attribution attribution-idle attribution-span other-traced-no-attribution other-traced-attribution)
one() {
	case $1 in
	bare) PERFBPF_BENCH_TRACED= "$bench" ;;
	other-traced-no-attribution | other-traced-attribution)
		local flag=--no-attribution
		[ "$1" = other-traced-attribution ] && flag=--attribution
		"$out/perfbpf" attach -q "$flag" "$other" &
		local tp=$!
		sleep 0.6
		PERFBPF_BENCH_TRACED= "$bench"
		kill -INT $tp
		wait $tp
		;;
	no-attribution) "$out/perfbpf" run -q --no-attribution -- "$bench" ;;
	attribution-idle) "$out/perfbpf" run -q --attribution -- "$bench" ;;
	attribution-span) "$out/perfbpf" run -q --attribution -- "$bench" --span ;;
	esac | awk '/ns_per_switch/ {print $2}'
}
for ((r = 0; r < runs; r++)); do
	for m in "${modes[@]}"; do
		samples[$m]+="$(one "$m") "
	done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${samples[bare]}" | median)
echo "| case | ns per context switch (median of $runs) | vs bare |"
echo "|---|---:|---:|"
for m in "${modes[@]}"; do
	v=$(echo "${samples[$m]}" | median)
	echo "| $m | $v | $(awk -v a="$v" -v b="$base" 'BEGIN {printf "%+.0f ns", a - b}') |"
done
