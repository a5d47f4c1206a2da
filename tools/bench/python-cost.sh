#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Per-call cost of perfbpf's Python binding (tools/bench/py_calls.py), detached and under
# `perfbpf run` (probe ABI v3), with Debian's /usr/bin/python3; runs interleaved, medians.
# Usage: tools/bench/python-cost.sh BUILD_DIR [RUNS] [CALLS]
set -euo pipefail
out=${1:-build}
runs=${2:-5}
calls=${3:-200000}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PYTHONPATH="$out/bindings/python"
py=/usr/bin/python3

for r in $(seq "$runs"); do
	$py "$here/py_calls.py" "$calls" > "$tmp/detached.$r"
	"$out/perfbpf" run -q -j "$tmp/sum.json" -- $py "$here/py_calls.py" "$calls" > "$tmp/traced.$r"
done
get() { # mode case -> median ns
	cat "$tmp/$1".* | awk -v c="$2" '$1 == c {print $2}' | median
}
echo "| call ($py, best of 5 batches of $calls per run; medians of $runs runs) | detached (ns) | traced (ns) | traced vs pure-Python no-op call |"
echo "|---|---:|---:|---:|"
noop=$(get detached noop)
for c in noop inproc_span op span timed otel_span; do
	d=$(get detached $c)
	t=$(get traced $c)
	echo "| $c | $d | $t | $(ratio "$t" "$noop") |"
done
