#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Per-call cost of perfbpf's Python binding (tools/bench/py_calls.py), detached and under
# `perfbpf run` (probe ABI v3), with Debian's /usr/bin/python3; then the cost of a plain
# Python call under `perfbpf run --python` (the function hook), matched and not; runs
# interleaved, medians.
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
	"$out/perfbpf" run -q -j "$tmp/sum.json" --python '__main__.nomatch' -- \
		$py "$here/py_calls.py" "$calls" > "$tmp/hook_other.$r"
	"$out/perfbpf" run -q -j "$tmp/sum.json" --python '__main__.noop' -- \
		$py "$here/py_calls.py" "$calls" > "$tmp/hook_match.$r"
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
echo
echo "| call under \`perfbpf run\` ($py; medians of $runs runs) | no --python (ns) | --python, another function (ns) | --python matching it: a span per call (ns) |"
echo "|---|---:|---:|---:|"
for c in noop op; do
	echo "| $c | $(get traced $c) | $(get hook_other $c) | $(get hook_match $c) |"
done
