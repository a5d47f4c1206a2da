#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs the cmocka test binaries of a build and closes with one line: "N passed, N failed".
# The binaries are those of every tests/unit/test_*.c and tests/integration/test_*.c (the
# Makefile builds the same list), so no test can be built and then left out; one that is
# missing from the build is a failure.
# Usage: tests/run-tests.sh BUILD_DIR unit|integration|all
set -uo pipefail
out=${1:-build}
which=${2:-all}
export PERFBPF_BUILD=$out PERFBPF_SRC=$(pwd)

case $which in
unit) dirs=(tests/unit) ;;
integration) dirs=(tests/integration) ;;
all) dirs=(tests/unit tests/integration) ;;
*) echo "usage: $0 BUILD_DIR unit|integration|all" >&2; exit 2 ;;
esac
bins=()
for d in "${dirs[@]}"; do
	for src in "$d"/test_*.c; do
		b=$(basename "$src" .c)
		bins+=("$out/tests/$b")
	done
done

passed=0 failed=0 skipped=0 crashed=0
for b in "${bins[@]}"; do
	if [ ! -x "$b" ]; then
		echo "perfbpf tests: $b was not built" >&2
		crashed=$((crashed + 1))
		continue
	fi
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
