#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `make valgrind`: perfbpf run on the demo engine under valgrind; any error or leak fails.
set -euo pipefail
out=${1:-build}
log=$(mktemp)
valgrind --suppressions=tests/valgrind.supp --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --track-fds=no --log-file="$log" \
	"$out/perfbpf" run -q -j "$log.json" -- "$out/backtest" --bars 20000 --quiet
rc=$?
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log"
rm -f "$log" "$log.json"
exit $rc
