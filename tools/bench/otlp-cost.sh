#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# What exporting spans and metrics costs perfbpf, over OTLP/HTTP (protobuf) and OTLP/gRPC, against
# no export: the demo engine with --otlp-ops (every op a span too) sends to the test receivers
# (tests/otlp/receiver.js, HTTP or @grpc/grpc-js), runs interleaved; perfbpf's own CPU time
# (the JSON summary's perfbpf_cpu_seconds), spans exported, requests; medians. Then metrics:
# a slower demo run (--tick-sleep-us 100) with --otlp-metrics every 10 ms, data points exported.
# Usage: tools/bench/otlp-cost.sh BUILD_DIR [RUNS] [BARS]
set -euo pipefail
out=${1:-build}
runs=${2:-5}
bars=${3:-20000}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

receiver() { # name [--grpc 1] -> url in $tmp/name.url
	local name=$1
	shift
	node "$here/../../tests/otlp/receiver.js" --out /dev/null --port-file "$tmp/$name.port" "$@" \
		> /dev/null &
	pids+=($!)
	for _ in $(seq 200); do [ -s "$tmp/$name.port" ] && break; sleep 0.05; done
	echo "http://127.0.0.1:$(cat "$tmp/$name.port")" > "$tmp/$name.url"
}
receiver http
receiver grpc --grpc 1

# a queue that holds the run and time to send it all: every span is delivered and counted
keep=(--otlp-queue 1000000 --otlp-flush-timeout 120s)
one() { # mode run
	local extra=()
	case $1 in
	http) extra=(--otlp-endpoint "$(cat "$tmp/http.url")" --otlp-ops "${keep[@]}") ;;
	grpc) extra=(--otlp-protocol grpc --otlp-endpoint "$(cat "$tmp/grpc.url")" --otlp-ops "${keep[@]}") ;;
	mhttp) extra=(--otlp-metrics --otlp-metrics-interval 10ms --otlp-endpoint "$(cat "$tmp/http.url")") ;;
	mgrpc) extra=(--otlp-metrics --otlp-metrics-interval 10ms --otlp-protocol grpc
		--otlp-endpoint "$(cat "$tmp/grpc.url")") ;;
	esac
	local slow=()
	case $1 in mnone | mhttp | mgrpc) slow=(--tick-sleep-us 100) ;; esac
	"$out/perfbpf" run -q -j "$tmp/$1.$2.json" "${extra[@]}" -- \
		"$out/backtest" --quiet --bars "$bars" "${slow[@]}" 2> /dev/null
	python3 - "$tmp/$1.$2.json" > "$tmp/$1.$2.row" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
o = d.get("otlp") or d.get("otlp_metrics") or {}
print(d["perfbpf_cpu_seconds"], o.get("exported", 0), o.get("requests", 0), o.get("undelivered", 0),
      d["trace_ns"] / 1e9)
PY
}
for r in $(seq "$runs"); do
	for m in none http grpc mnone mhttp mgrpc; do one "$m" "$r"; done
done
col() { cat "$tmp/$1".*.row | awk -v c="$2" '{print $c}' | median; }
echo "| export (demo, --bars $bars, --otlp-ops; medians of $runs interleaved runs) | perfbpf CPU (s) | spans exported | requests | undelivered | traced for (s) | perfbpf CPU per 1,000 spans (ms) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
base=$(col none 1)
for m in none http grpc; do
	cpu=$(col "$m" 1) sp=$(col "$m" 2)
	per=$(awk -v c="$cpu" -v b="$base" -v s="$sp" 'BEGIN { if (s > 0) printf "%.3f", (c - b) * 1e6 / s; else print "-" }')
	echo "| $m | $cpu | $sp | $(col "$m" 3) | $(col "$m" 4) | $(col "$m" 5) | $per |"
done
echo
echo "| metrics export (demo, --bars $bars, --tick-sleep-us 100, --otlp-metrics-interval 10ms; medians of $runs interleaved runs) | perfbpf CPU (s) | data points exported | requests | undelivered | traced for (s) | perfbpf CPU per 1,000 points (ms) | per request (ms) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
base=$(col mnone 1)
for m in mnone mhttp mgrpc; do
	cpu=$(col "$m" 1) sp=$(col "$m" 2) rq=$(col "$m" 3)
	per=$(awk -v c="$cpu" -v b="$base" -v s="$sp" 'BEGIN { if (s > 0) printf "%.3f", (c - b) * 1e6 / s; else print "-" }')
	preq=$(awk -v c="$cpu" -v b="$base" -v s="$rq" 'BEGIN { if (s > 0) printf "%.3f", (c - b) * 1e3 / s; else print "-" }')
	echo "| ${m#m} | $cpu | $sp | $rq | $(col "$m" 4) | $(col "$m" 5) | $per | $preq |"
done
