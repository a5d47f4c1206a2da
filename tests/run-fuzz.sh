#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs every libFuzzer target of a fuzz build over its corpus, then SECONDS of new inputs each.
# New inputs go to a scratch directory; with --merge, the ones that add coverage are merged into
# tests/fuzz/corpus/<target> (the corpus kept in the repository). A crash, leak or timeout fails,
# and its input is kept in BUILD/fuzz/crashes.
# Usage: tests/run-fuzz.sh BUILD_DIR SECONDS [--merge]
set -uo pipefail
out=${1:?usage: $0 BUILD_DIR SECONDS [--merge]}
secs=${2:?usage: $0 BUILD_DIR SECONDS [--merge]}
merge=${3:-}

failed=0 ran=0
mkdir -p "$out/fuzz/crashes"
for bin in "$out"/fuzz/fuzz_*; do
	case $bin in *.d) continue ;; esac
	name=$(basename "$bin")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	scratch=$(mktemp -d)
	log=$(mktemp)
	mkdir -p "$corpus"
	# -timeout: a single input that takes over 10 s is a hang; -rss_limit_mb: bounded memory
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/fuzz/crashes/$name-" "$scratch" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $name (status $rc):"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20
		failed=$((failed + 1))
	else
		echo "ok   $name: ${runs:-0} inputs in ${secs}s, $cov, corpus $(ls "$corpus" | wc -l) files"
		if [ "$merge" = --merge ]; then
			"$bin" -merge=1 "$corpus" "$scratch" >/dev/null 2>&1 &&
				echo "     merged: corpus now $(ls "$corpus" | wc -l) files"
		fi
	fi
	ran=$((ran + 1))
	rm -rf "$scratch" "$log"
done
echo
echo "fuzz: $ran targets, $failed failed"
[ "$ran" -gt 0 ] && [ "$failed" -eq 0 ]
