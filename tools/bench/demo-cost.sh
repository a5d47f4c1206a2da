#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The demo engine (build/backtest, the workload of `make demo`) untraced and under `perfbpf run`,
# with 2 threads (as `make demo` runs it) and with 1,
# runs interleaved, medians of RUNS: the engine's own wall time from main() to its end (its
# --timing line), so perfbpf's start-up and final report are not counted; and the engine's own CPU
# time (user + system: what recording costs its threads, without perfbpf's consumer).
# Usage: tools/bench/demo-cost.sh BUILD_DIR [RUNS]
set -euo pipefail
out=${1:-build}
runs=${2:-7}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
receiver_pid=
trap '[ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
# the OTLP rows export every span to the test receiver (tests/otlp/receiver.js)
node "$here/../../tests/otlp/receiver.js" --out /dev/null --port-file "$tmp/port" > /dev/null &
receiver_pid=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
otlp=(--otlp-endpoint "http://127.0.0.1:$(cat "$tmp/port")" --otlp-queue 1000000
      --otlp-flush-timeout 120s)
# the demo as `make demo` runs it (2 threads): with perfbpf's defaults, with one probe hit per
# event, and exporting spans over OTLP/HTTP (both ways); and with 1 thread, which leaves perfbpf's
# consumer a CPU of its own on a 2-CPU machine
args=(--symbols BTCUSDT,ETHUSDT,SOLUSDT --bars 50000 --quiet --timing)
declare -A wall cpu
# clock-only: untraced, every op timed with two TSC reads and nothing recorded (--clock-only):
# the part of tracing no tracer that times the ops avoids
modes=(untraced clock-only perfbpf perfbpf-per-event perfbpf-otlp perfbpf-otlp-per-event
       untraced-1-thread clock-only-1-thread perfbpf-1-thread)
for _ in $(seq "$runs"); do
	for m in "${modes[@]}"; do
		threads=2
		[ "${m%-1-thread}" != "$m" ] && threads=1
		case $m in
		untraced*) "$out/backtest" "${args[@]}" --threads "$threads" 2> "$tmp/err" ;;
		clock-only*)
			"$out/backtest" "${args[@]}" --threads "$threads" --clock-only 2> "$tmp/err" ;;
		*)
			opt=()
			[ "${m%per-event}" != "$m" ] && opt=(--per-event-probes)
			[ "${m#perfbpf-otlp}" != "$m" ] && opt+=("${otlp[@]}")
			"$out/perfbpf" run -q "${opt[@]}" -j "$tmp/s.json" -- "$out/backtest" "${args[@]}" \
				--threads "$threads" 2> "$tmp/err" ;;
		esac
		wall[$m]+=" $(awk '/^wall_ns/ {print $2}' "$tmp/err")"
		cpu[$m]+=" $(awk '/^user_ns/ {u = $2} /^sys_ns/ {s = $2} END {print u + s}' "$tmp/err")"
	done
done
echo "| demo engine run | threads | wall (ms) | vs untraced | engine CPU (ms) | vs untraced |"
echo "|---|---:|---:|---:|---:|---:|"
for m in "${modes[@]}"; do
	u=untraced threads=2
	if [ "${m%-1-thread}" != "$m" ]; then
		u=untraced-1-thread threads=1
	fi
	base=$(echo "${wall[$u]}" | median) cbase=$(echo "${cpu[$u]}" | median)
	w=$(echo "${wall[$m]}" | median) c=$(echo "${cpu[$m]}" | median)
	echo "| ${m%-1-thread} | $threads | $(awk -v w="$w" 'BEGIN {printf "%.1f", w / 1e6}') | $(ratio "$w" "$base") | $(awk -v c="$c" 'BEGIN {printf "%.1f", c / 1e6}') | $(ratio "$c" "$cbase") |"
done
