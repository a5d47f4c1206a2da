#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The demo engine (build/backtest, the workload of `make demo`) untraced and under `perfbpf run`,
# runs interleaved, medians of RUNS: the engine's own wall time from main() to its end (its
# --timing line), so perfbpf's start-up and final report are not counted.
# Usage: tools/bench/demo-cost.sh BUILD_DIR [RUNS]
set -euo pipefail
out=${1:-build}
runs=${2:-7}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(--symbols BTCUSDT,ETHUSDT,SOLUSDT --threads 2 --bars 50000 --quiet --timing)
declare -A wall
modes=(untraced perfbpf perfbpf-per-event)
for _ in $(seq "$runs"); do
	for m in "${modes[@]}"; do
		case $m in
		untraced) "$out/backtest" "${args[@]}" 2> "$tmp/err" ;;
		*)
			opt=()
			[ "$m" = perfbpf-per-event ] && opt=(--per-event-probes)
			"$out/perfbpf" run -q "${opt[@]}" -j "$tmp/s.json" -- "$out/backtest" "${args[@]}" \
				2> "$tmp/err" ;;
		esac
		wall[$m]+=" $(awk '/^wall_ns/ {print $2}' "$tmp/err")"
	done
done
base=$(echo "${wall[untraced]}" | median)
echo "| demo engine run | wall (ms) | vs untraced |"
echo "|---|---:|---:|"
for m in "${modes[@]}"; do
	w=$(echo "${wall[$m]}" | median)
	echo "| $m | $(awk -v w="$w" 'BEGIN {printf "%.1f", w / 1e6}') | $(ratio "$w" "$base") |"
done
