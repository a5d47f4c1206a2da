#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Time from a tracer's command start to the first event it has counted, on
# tools/bench/many_sites (100 `op` sites fired round-robin, 0.1 ms between rounds):
#   perfbpf attach PID     first line of its live event log (`--events -`)
#   perfbpf run -- CMD     the same, the tracer starting the target
#   bpftrace -p PID        a script that prints on its first event
#   bpftrace -c CMD        the same, bpftrace starting the target
# Then the time each of perfbpf's BPF programs takes to load and verify (strace -T).
# Medians of RUNS. Usage: tools/bench/attach-time.sh BUILD_DIR [RUNS]
set -euo pipefail
out=${1:-build}
runs=${2:-7}
here=$(dirname "$0")
. "$here/lib.sh"
target=$(readlink -f "$out/many_sites")
script="usdt:$target:perfbpf:op { printf(\"first\\n\"); exit(); }"
tmp_loads=$(mktemp)
trap 'rm -f "$tmp_loads"' EXIT

now_ns() { date +%s%N; }

# Runs "$@" and prints ms from its start to its first stdout line matching $match ("-" when it
# printed none within 10 s, or exited first); then stops it.
time_to_line() {
	local t0 t1 line
	t0=$(now_ns)
	coproc T { exec "$@" 2>/dev/null; }
	local tpid=$T_PID
	while IFS= read -r -t 10 line <&"${T[0]}"; do
		if [[ $line == *$match* ]]; then
			t1=$(now_ns)
			echo $(((t1 - t0) / 1000000))
			kill -INT "$tpid" 2>/dev/null || true
			wait "$tpid" 2>/dev/null || true
			return
		fi
	done
	echo "-"
	kill -INT "$tpid" 2>/dev/null || true
	wait "$tpid" 2>/dev/null || true
}

declare -A s
for ((r = 0; r < runs; r++)); do
	start_exec "$target" --seconds 30
	p=$started
	sleep 0.2
	s[attach]+="$(match='"kind"' time_to_line "$out/perfbpf" attach -q --events - "$p") "
	s[bpftrace-p]+="$(match=first time_to_line bpftrace -p "$p" -e "$script") "
	kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
	# the tracer that started the target waits for it: a short-lived target (3 s)
	s[run]+="$(match='"kind"' time_to_line "$out/perfbpf" run -q --events - -- "$target" --seconds 3) "
	s[bpftrace-c]+="$(match=first time_to_line bpftrace -c "$target --seconds 3" -e "$script") "
done
row() {
	local v
	v=$(echo "${s[$1]}" | tr ' ' '\n' | grep -v '^-\?$' | median)
	echo "| $2 | ${v:--} | $(echo "${s[$1]}" | tr ' ' '\n' | grep -c '^[0-9]') of $runs |"
}
echo "| command | ms to the first event counted (median) | runs that counted one |"
echo "|---|---:|---:|"
row attach "\`perfbpf attach PID\` (attribution on, the default)"
row bpftrace-p "\`bpftrace -p PID\`"
row run "\`perfbpf run -- many_sites\`"
row bpftrace-c "\`bpftrace -c many_sites\`"

# Where perfbpf's time goes: each BPF_PROG_LOAD (verification included) of an `attach`, timed by
# strace -T; medians of RUNS attaches.
declare -A load
for ((r = 0; r < runs; r++)); do
	start_exec "$target" --seconds 30
	p=$started
	timeout -s INT 1 strace -f -T -e trace=bpf "$out/perfbpf" attach -q "$p" 2>&1 >/dev/null |
		sed -nE 's/.*BPF_PROG_LOAD.*prog_name="(perfbpf_[^"]*)".*<([0-9.]+)>$/\1 \2/p' > "$tmp_loads" ||
		true
	kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
	while read -r name secs; do
		load[$name]+="$(awk -v s="$secs" 'BEGIN {printf "%.1f", s * 1000}') "
	done < "$tmp_loads"
done
echo
echo "| BPF program loaded by \`perfbpf attach\` (name cut to 15 characters by the kernel; both sched_wakeup programs in one row) | ms to load and verify (median) |"
echo "|---|---:|"
total=0
for name in $(printf '%s\n' "${!load[@]}" | sort); do
	v=$(echo "${load[$name]}" | median)
	total=$(awk -v a="$total" -v b="$v" 'BEGIN {print a + b}')
	echo "| $name | $v |"
done
echo "| all programs | $total |"
