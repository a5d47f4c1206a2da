#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# perfbpf's consumer alone, in process (tools/bench/consumer_cost): the demo engine's record
# stream decoded and aggregated as `perfbpf run` does by default, and decoded only. Time per
# record: medians over RUNS invocations of the fastest of 3 rounds of 5,000,000 records;
# instructions per record: valgrind --tool=callgrind, the difference between 400,000 and
# 200,000 records divided by 200,000 (start-up cancels out; repeatable to the instruction).
# Usage: tools/bench/consumer-cost.sh BUILD_DIR [RUNS]
set -euo pipefail
out=${1:-build}
runs=${2:-7}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

instr() { # instructions for N records of mode $1 ("" or --decode-only)
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$out/consumer_cost" $1 "$2" 1 \
		> /dev/null 2> "$tmp/vg"
	awk '/I *refs:/ {gsub(",", "", $NF); print $NF}' "$tmp/vg"
}

echo "| consumer, in process | ns per record | instructions per record |"
echo "|---|---:|---:|"
for mode in "" --decode-only; do
	ns=""
	for _ in $(seq "$runs"); do
		ns+=" $("$out/consumer_cost" $mode 5000000 3 | awk '{print $2}')"
	done
	hi=$(instr "$mode" 400000)
	lo=$(instr "$mode" 200000)
	name="decoded and aggregated"
	[ -n "$mode" ] && name="decoded only"
	echo "| $name | $(echo "$ns" | median) | $(( (hi - lo) / 200000 )) |"
done
