#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Cost per event on one workload (tools/bench/probe_loop: EVENTS ops named with string literals,
# EVENTS ops whose symbol and strategy are heap strings, then EVENTS span_begin/span_end pairs),
# every tracer side by side, runs interleaved, medians of RUNS:
#   detached          no tracer (the semaphore branch only)
#   floor             an empty BPF program on the same probes (tools/bench/floor), the price of
#                     the probe hit itself; floor-sleepable: the same, marked sleepable as
#                     perfbpf's programs are
#   floor-args, floor-clock, floor-ring, floor-strings
#                     the floor plus one part of perfbpf's op program (floor.bpf.c): reading
#                     the four arguments; that plus the clock and pid (the least a program that
#                     records when an event happened does); that plus a 64-byte ring-buffer
#                     record (what perfbpf sends for an op named with literals); the arguments
#                     plus the three string copies instead (what copying names costs). Their
#                     differences price each part.
#   perfbpf-ring      perfbpf attach: probe ABI v3, events recorded in the engine, batches
#                     through the ring buffer to exact statistics (the default)
#   perfbpf-per-event perfbpf attach --per-event-probes: one probe hit per event, through the
#                     ring buffer (what perfbpf did before ABI v3, and still does for engines
#                     built with an older header)
#   perfbpf-monitor   perfbpf monitor: probe ABI v3 batches aggregated into histograms in
#                     userspace (the default)
#   perfbpf-monitor-per-event  perfbpf monitor --per-event-probes: histograms in the kernel,
#                     one probe hit per event
#   bpftrace          bpftrace -c with the nearest equivalent script
#   ...-nop1          the same on probe_loop_nop1, built with the plain 1-byte nop site
# Also writes perfbpf's own CPU time and peak RSS per mode to $STATS (if set).
# Usage: tools/bench/event-cost.sh BUILD_DIR [RUNS] [EVENTS]
set -euo pipefail
out=${1:-build}
runs=${2:-7}
events=${3:-1000000}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bt_script() {
	cat <<BT
usdt:$1:perfbpf:op { @op[str(arg0), str(arg1)] = hist(arg3); }
usdt:$1:perfbpf:span_begin { @start[tid] = nsecs; }
usdt:$1:perfbpf:span_end /@start[tid]/ { @span[str(arg0)] = hist(nsecs - @start[tid]); delete(@start[tid]); }
BT
}

# one measurement: prints probe_loop's output; perfbpf's "cpu_s rss_kb" go to $tmp/rusage
one() {
	local mode=$1 loop="$out/probe_loop" tracer=()
	case $mode in
	*-nop1) loop="$out/probe_loop_nop1"; mode=${mode%-nop1} ;;
	esac
	rm -f "$tmp/rusage"
	case $mode in
	detached) "$loop" --events "$events"; return ;;
	bpftrace)
		bt_script "$(readlink -f "$loop")" > "$tmp/bench.bt"
		bpftrace -c "$loop --events $events" "$tmp/bench.bt" 2>/dev/null | grep '_ns '
		return ;;
	floor) tracer=("$out/floor") ;;
	floor-sleepable) tracer=("$out/floor" --sleepable) ;;
	floor-args | floor-ring | floor-strings | floor-clock) tracer=("$out/floor" --stage "${mode#floor-}") ;;
	perfbpf-ring) tracer=("$out/perfbpf" attach -q --no-attribution) ;;
	perfbpf-per-event) tracer=("$out/perfbpf" attach -q --no-attribution --per-event-probes) ;;
	perfbpf-monitor) tracer=("$out/perfbpf" monitor -q --no-listen --binary "$loop") ;;
	perfbpf-monitor-per-event)
		tracer=("$out/perfbpf" monitor -q --no-listen --per-event-probes --binary "$loop") ;;
	esac
	start_exec "$loop" --events "$events" --wait-attach 20 > "$tmp/loop.out"
	local lp=$started tp
	if [ "${mode#perfbpf-monitor}" != "$mode" ]; then
		/usr/bin/time -f '%U %S %M' -o "$tmp/time" "${tracer[@]}" 2>/dev/null &
	else
		/usr/bin/time -f '%U %S %M' -o "$tmp/time" "${tracer[@]}" "$lp" 2>/dev/null &
	fi
	tp=$!
	wait "$lp"
	# monitor and floor outlive the target: stop them once it is done
	[ "$mode" = perfbpf-ring ] || [ "$mode" = perfbpf-per-event ] || kill -TERM "$(pgrep -P "$tp" | head -1)" 2>/dev/null || true
	wait "$tp" || true
	awk 'END {printf "%.3f %d\n", $1 + $2, $3}' "$tmp/time" > "$tmp/rusage"
	cat "$tmp/loop.out"
}

declare -A s
# MODES="floor perfbpf-monitor ..." measures a subset (floor and bpftrace are needed for ratios)
# shellcheck disable=SC2206
modes=(${MODES:-detached floor floor-sleepable floor-args floor-clock floor-ring floor-strings
       perfbpf-ring perfbpf-per-event
       perfbpf-monitor perfbpf-monitor-per-event bpftrace floor-nop1 perfbpf-ring-nop1
       bpftrace-nop1})
for ((r = 0; r < runs; r++)); do
	for m in "${modes[@]}"; do
		res=$(one "$m")
		s[$m.op]+="$(awk '/^op_ns/ {print $2}' <<<"$res") "
		s[$m.heap]+="$(awk '/^op_heap_ns/ {print $2}' <<<"$res") "
		s[$m.span]+="$(awk '/^span_ns/ {print $2}' <<<"$res") "
		if [ -s "$tmp/rusage" ]; then
			read -r cpu rss < "$tmp/rusage"
			s[$m.cpu]+="$cpu "
			s[$m.rss]+="$rss "
		fi
	done
done

fop=$(echo "${s[floor.op]:-}" | median); fheap=$(echo "${s[floor.heap]:-}" | median)
fspan=$(echo "${s[floor.span]:-}" | median)
bop=$(echo "${s[bpftrace.op]:-}" | median); bheap=$(echo "${s[bpftrace.heap]:-}" | median)
bspan=$(echo "${s[bpftrace.span]:-}" | median)
echo "| tracer | op, literal names: ns/event | op, heap names | span pair | op vs floor | op (heap) vs floor | span vs floor | op vs bpftrace | op (heap) vs bpftrace | span vs bpftrace |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for m in "${modes[@]}"; do
	op=$(echo "${s[$m.op]}" | median); heap=$(echo "${s[$m.heap]}" | median)
	span=$(echo "${s[$m.span]}" | median)
	echo "| $m | $op | $heap | $span | $(ratio "$op" "$fop") | $(ratio "$heap" "$fheap") | $(ratio "$span" "$fspan") | $(ratio "$op" "$bop") | $(ratio "$heap" "$bheap") | $(ratio "$span" "$bspan") |"
done
med() { echo "${s[$1.op]:-}" | median; }
echo
echo "Where a per-event op's time goes above the floor (medians above; differences of medians):"
echo
awk -v f="$(med floor)" -v a="$(med floor-args)" -v c="$(med floor-clock)" -v r="$(med floor-ring)" \
	-v st="$(med floor-strings)" -v p="$(med perfbpf-per-event)" \
	-v ph="$(echo "${s[perfbpf-per-event.heap]:-}" | median)" 'BEGIN {
	print "| part of an op event | ns |"
	print "|---|---:|"
	printf "| the probe hit (floor) | %.0f |\n", f
	printf "| reading the four arguments (floor-args − floor) | %.0f |\n", a - f
	printf "| clock and pid (floor-clock − floor-args) | %.0f |\n", c - a
	printf "| the floor, the arguments and the clock together (floor-clock): %.2fx the floor | %.0f |\n", c / f, c
	printf "| a 64-byte ring-buffer record (floor-ring − floor-clock) | %.0f |\n", r - c
	printf "| the rest of perfbpf'"'"'s program, literal names: range lookups (perfbpf-per-event − floor-ring) | %.0f |\n", p - r
	printf "| perfbpf-per-event, literal names | %.0f |\n", p
	printf "| three string copies, for comparison (floor-strings − floor-args) | %.0f |\n", st - a
	printf "| perfbpf-per-event, heap symbol and strategy (two copies, a packed record of ~80 bytes) | %.0f |\n", ph
}'
if [ -n "${STATS:-}" ]; then
	{
		echo "| tracer | CPU seconds (user+sys, whole run) | peak RSS (MiB) |"
		echo "|---|---:|---:|"
		for m in perfbpf-ring perfbpf-monitor perfbpf-monitor-per-event perfbpf-ring-nop1; do
			cpu=$(echo "${s[$m.cpu]:-}" | median)
			rss=$(echo "${s[$m.rss]:-}" | median)
			echo "| $m | $cpu | $(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}') |"
		done
	} > "$STATS"
fi
