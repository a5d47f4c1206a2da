#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `make demo`: runs the demo backtest engines under perfbpf, prints their reports and writes their
# HTML reports (paths printed at the end of each): the C
# engine (tools/demo/backtest.c), then its Python twin (tools/demo/backtest.py, OpenTelemetry-
# style spans through perfbpf's Python package from the build tree).
set -euo pipefail
out=${1:-build}
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out/demo"
echo "perfbpf demo: sudo perfbpf run --json $out/demo/summary.json --html $out/demo/report.html -- $out/backtest --symbols BTCUSDT,ETHUSDT,SOLUSDT --threads 2 --bars 50000" >&2
"$out/perfbpf" run --json "$out/demo/summary.json" --html "$out/demo/report.html" --markdown - -- \
	"$out/backtest" --symbols BTCUSDT,ETHUSDT,SOLUSDT --threads 2 --bars 50000
echo "perfbpf demo: JSON summary in $out/demo/summary.json" >&2
echo "perfbpf demo: HTML report in $(cd "$out/demo" && pwd)/report.html (opens offline in any browser)" >&2
echo >&2
echo "perfbpf demo (Python): PYTHONPATH=$out/bindings/python sudo -E perfbpf run --json $out/demo/summary-python.json -- python3 tools/demo/backtest.py --symbols BTCUSDT,ETHUSDT,SOLUSDT --bars 20000" >&2
PYTHONPATH="$out/bindings/python${PYTHONPATH:+:$PYTHONPATH}" \
	"$out/perfbpf" run --json "$out/demo/summary-python.json" --html "$out/demo/report-python.html" --markdown - -- \
	/usr/bin/python3 "$src/tools/demo/backtest.py" --symbols BTCUSDT,ETHUSDT,SOLUSDT --bars 20000
echo "perfbpf demo: JSON summary in $out/demo/summary-python.json, HTML report in $(cd "$out/demo" && pwd)/report-python.html" >&2
