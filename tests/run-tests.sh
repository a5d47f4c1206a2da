#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs the cmocka test binaries of a build and closes with one line: "N passed, N failed".
# Usage: tests/run-tests.sh BUILD_DIR unit|integration|all
set -uo pipefail
out=${1:-build}
which=${2:-all}
export PERFBPF_BUILD=$out PERFBPF_SRC=$(pwd)

bins=()
case $which in
unit) bins=("$out"/tests/test_{dist,agg,exporters,util,sdt,probe_site,usdt_spec,kernel_hist,gate_stats,otlp_encode}) ;;
integration) bins=("$out"/tests/test_{errors,core,faults,attribution,monitor,gate,otlp}) ;;
all) bins=("$out"/tests/test_{dist,agg,exporters,util,sdt,probe_site,usdt_spec,kernel_hist,gate_stats,otlp_encode,errors,core,faults,attribution,monitor,gate,otlp}) ;;
*) echo "usage: $0 BUILD_DIR unit|integration|all" >&2; exit 2 ;;
esac

passed=0 failed=0 skipped=0 crashed=0
for b in "${bins[@]}"; do
	log=$(mktemp)
	"$b" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	g=$(grep -c '^\[  FAILED  \] .*CI=true' "$log")
	passed=$((passed + p)); failed=$((failed + f + g)); skipped=$((skipped + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$g" -eq 0 ]; then
		echo "perfbpf tests: $b exited with status $rc" >&2
		crashed=$((crashed + 1))
	fi
	rm -f "$log"
done
failed=$((failed + crashed))
echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
