#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# What exporting spans costs perfbpf, over OTLP/HTTP (protobuf) and OTLP/gRPC, against no export:
# the demo engine with --otlp-ops (every op a span too) sends to the test receivers
# (tests/otlp/receiver.js, HTTP or @grpc/grpc-js), runs interleaved; perfbpf's own CPU time
# (the JSON summary's perfbpf_cpu_seconds), spans exported, requests; medians.
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
	esac
	"$out/perfbpf" run -q -j "$tmp/$1.$2.json" "${extra[@]}" -- \
		"$out/backtest" --quiet --bars "$bars" 2> /dev/null
	python3 - "$tmp/$1.$2.json" > "$tmp/$1.$2.row" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
o = d.get("otlp") or {}
print(d["perfbpf_cpu_seconds"], o.get("exported", 0), o.get("requests", 0), o.get("undelivered", 0),
      d["trace_ns"] / 1e9)
PY
}
for r in $(seq "$runs"); do
	for m in none http grpc; do one "$m" "$r"; done
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
