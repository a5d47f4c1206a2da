#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# How often `perfbpf gate` is right on this machine. TRIALS times, record the demo engine three
# ways: a base, an identical build, and a build whose strategy.indicators op is slowed by 10% of
# its p99 (`backtest --slow`); gate base against each. Two ways of recording:
#   batches:     each side is one `perfbpf run --repeat R` (a stored baseline against a branch);
#   interleaved: R rounds of one run of each (`--repeat 1` into a directory per side), so that a
#                slow spell of the machine falls on both sides (docs/GATE.md, "Recording").
# Prints a markdown table of the rates for both, with --across best and pooled.
# Usage: tools/bench/gate-trials.sh BUILD_DIR [TRIALS] [REPEAT] [BARS]   (root)
set -euo pipefail
out=${1:-build} trials=${2:-20} repeat=${3:-5} bars=${4:-20000}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
engine=("$out/backtest" --quiet --bars "$bars")
record() { # record N FILE [ENGINE ARGS...]
	"$out/perfbpf" run -q --repeat "$1" --json "$2" -- "${engine[@]}" "${@:3}"
}

record "$repeat" "$d/calibrate.json"
p99=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(min(r["p99_ns"] for run in d["runs"] for r in run["metric_rollups"]
          if r["metric"] == "strategy.indicators"))' "$d/calibrate.json")
us=$(python3 -c "print(round($p99 * 0.10 / 1000, 3))")
slow=(--slow "strategy.indicators:$us")
for i in $(seq 1 "$trials"); do
	record "$repeat" "$d/batch-base$i.json"
	record "$repeat" "$d/batch-same$i.json"
	record "$repeat" "$d/batch-slow$i.json" "${slow[@]}"
	mkdir "$d/inter-base$i" "$d/inter-same$i" "$d/inter-slow$i"
	for r in $(seq 1 "$repeat"); do
		record 1 "$d/inter-base$i/$r.json"
		record 1 "$d/inter-same$i/$r.json"
		record 1 "$d/inter-slow$i/$r.json" "${slow[@]}"
	done
done
echo "| recording | gate options | identical builds passed | 10% p99 slowdown flagged |"
echo "|---|---|---:|---:|"
for how in batch inter; do
	for opts in "--across best" "--across pooled"; do
		pass=0 flag=0
		read -r -a o <<<"$opts"
		for i in $(seq 1 "$trials"); do
			sfx=; [ "$how" = batch ] && sfx=.json
			g=("$out/perfbpf" gate -q "${o[@]}" --stat p99 --max-regression 5%)
			rc=0; "${g[@]}" "$d/$how-base$i$sfx" "$d/$how-same$i$sfx" 2>/dev/null || rc=$?
			[ "$rc" -eq 0 ] && pass=$((pass + 1))
			rc=0; "${g[@]}" "$d/$how-base$i$sfx" "$d/$how-slow$i$sfx" 2>/dev/null || rc=$?
			[ "$rc" -eq 1 ] && flag=$((flag + 1))
		done
		name=$([ "$how" = batch ] && echo "batches" || echo "interleaved")
		echo "| $name | \`$opts\` | $pass of $trials | $flag of $trials |"
	done
done
# KEEP=DIR keeps the recordings for later analysis
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$d"/* "$KEEP"/; fi
echo
echo "strategy.indicators p99 (best of $repeat runs): $p99 ns; slowdown injected: $us us;"
echo "batches: each side one \`perfbpf run --repeat $repeat\` of \`backtest --quiet --bars $bars\`;"
echo "interleaved: $repeat rounds of \`perfbpf run --repeat 1\` base, identical, slowed; a directory per side."
