#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Per-call cost of perfbpf's Node package (tools/bench/node_calls.js), detached and under
# `perfbpf run` (probe ABI v3), against a plain JS call, the OpenTelemetry JS SDK's span and
# backtest-kit's own per-event cost; runs interleaved, medians.
# Usage: tools/bench/node-cost.sh BUILD_DIR [RUNS] [CALLS]
set -euo pipefail
out=${1:-build}
runs=${2:-5}
calls=${3:-200000}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PERFBPF_NODE=$(cd "$out/bindings/node" && pwd)
NODE_PATH=$(cd "$here/../../tests/node/node_modules" && pwd)
export PERFBPF_NODE NODE_PATH

for r in $(seq "$runs"); do
	node "$here/node_calls.js" "$calls" > "$tmp/detached.$r"
	"$out/perfbpf" run -q -j "$tmp/sum.json" -- node "$here/node_calls.js" "$calls" > "$tmp/traced.$r"
done
get() { # mode case -> median ns
	cat "$tmp/$1".* | awk -v c="$2" '$1 == c {print $2}' | median
}
echo "| call (node $(node --version), best of 5 batches of $calls per run; medians of $runs runs) | detached (ns) | traced (ns) |"
echo "|---|---:|---:|"
for c in noop op opMs span otel_perfbpf otel_sdk bk_emit bk_adapter bk_markdown; do
	echo "| $c | $(get detached $c) | $(get traced $c) |"
done
