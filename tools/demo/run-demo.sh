#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `make demo`: runs the demo backtest engine under perfbpf and prints the report.
set -euo pipefail
out=${1:-build}
mkdir -p "$out/demo"
echo "perfbpf demo: sudo perfbpf run --json $out/demo/summary.json -- $out/backtest --symbols BTCUSDT,ETHUSDT,SOLUSDT --threads 2 --bars 50000" >&2
"$out/perfbpf" run --json "$out/demo/summary.json" --markdown - -- \
	"$out/backtest" --symbols BTCUSDT,ETHUSDT,SOLUSDT --threads 2 --bars 50000
echo "perfbpf demo: JSON summary in $out/demo/summary.json" >&2
