#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# How often `perfbpf gate` is right on this machine: TRIALS times, record the demo engine three
# times (`perfbpf run --repeat R`): a base, an identical build, and a build whose
# strategy.indicators op is slowed by 10% of its p99 (`backtest --slow`); gate base against each.
# Prints a markdown table of the rates for both ways of combining runs (--across best, pooled).
# Usage: tools/bench/gate-trials.sh BUILD_DIR [TRIALS] [REPEAT] [BARS]   (root)
set -euo pipefail
out=${1:-build} trials=${2:-20} repeat=${3:-5} bars=${4:-20000}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
engine=("$out/backtest" --quiet --bars "$bars")
record() { "$out/perfbpf" run -q --repeat "$repeat" --json "$1" -- "${engine[@]}" "${@:2}"; }

record "$d/calibrate.json"
p99=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(min(r["p99_ns"] for run in d["runs"] for r in run["metric_rollups"]
          if r["metric"] == "strategy.indicators"))' "$d/calibrate.json")
us=$(python3 -c "print(round($p99 * 0.10 / 1000, 3))")
for i in $(seq 1 "$trials"); do
	record "$d/base$i.json"
	record "$d/same$i.json"
	record "$d/slow$i.json" --slow "strategy.indicators:$us"
done
echo "| gate options | identical builds passed | 10% p99 slowdown flagged |"
echo "|---|---:|---:|"
for opts in "--across best" "--across pooled"; do
	pass=0 flag=0
	read -r -a o <<<"$opts"
	for i in $(seq 1 "$trials"); do
		g=("$out/perfbpf" gate -q "${o[@]}" --stat p99 --max-regression 5%)
		rc=0; "${g[@]}" "$d/base$i.json" "$d/same$i.json" 2>/dev/null || rc=$?
		[ "$rc" -eq 0 ] && pass=$((pass + 1))
		rc=0; "${g[@]}" "$d/base$i.json" "$d/slow$i.json" 2>/dev/null || rc=$?
		[ "$rc" -eq 1 ] && flag=$((flag + 1))
	done
	echo "| \`$opts\` | $pass of $trials | $flag of $trials |"
done
# KEEP=DIR keeps the recordings for later analysis
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$d"/*.json "$KEEP"/
echo
echo "strategy.indicators p99 (best of $repeat runs): $p99 ns; slowdown injected: $us us;"
echo "each file: \`perfbpf run --repeat $repeat\` of \`backtest --quiet --bars $bars\`."
