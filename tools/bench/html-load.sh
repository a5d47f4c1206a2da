#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# How long the HTML report takes to open in a browser at scale: a JSON summary of 1,000 keys
# (100 metrics x 10 symbol/strategy pairs, each with a histogram of 60 buckets) and a span
# timeline of 1,000,000 events over 64 threads, rendered with `perfbpf report`, opened RUNS times
# in headless Chromium; the page's own measures (script start to every chart drawn, and one
# zoom of the timeline: its self-check's load_ms and timeline_redraw_ms) and Chromium's wall
# time from start to the dumped DOM (parsing and re-serializing the 28 MB page); medians.
# Usage: tools/bench/html-load.sh BUILD_DIR [RUNS] [KEYS] [EVENTS]
set -euo pipefail
out=${1:-build}
runs=${2:-3}
keys=${3:-1000}
events=${4:-1000000}
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/summary.json" "$keys" "$events" <<'PY'
import json, random, sys
path, nkeys, nev = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
rows, rollups = [], []
metrics = max(1, nkeys // 10)
for m in range(metrics):
    for k in range(nkeys // metrics):
        base = random.randint(50, 50000)
        hist = [[int(base * 1.1 ** b), random.randint(1, 500)] for b in range(60)]
        n = sum(c for _, c in hist)
        rows.append({"metric": f"metric.{m}", "kind": "op", "symbol": f"SYM{k}", "strategy": f"strat{k % 3}",
                     "count": n, "total_ns": n * base * 3, "self_total_ns": n * base * 3, "mean_ns": base * 3,
                     "min_ns": base, "max_ns": hist[-1][0], "p50_ns": base * 2, "p95_ns": base * 8,
                     "p99_ns": base * 20, "approximate": False, "histogram": hist})
    sel = [r for r in rows if r["metric"] == f"metric.{m}"]
    rollups.append({"metric": f"metric.{m}", "kind": "op", "count": sum(r["count"] for r in sel),
                    "total_ns": sum(r["total_ns"] for r in sel), "self_total_ns": sum(r["total_ns"] for r in sel),
                    "mean_ns": 1, "min_ns": 1, "max_ns": 1, "p50_ns": 1, "p95_ns": 1, "p99_ns": 1, "approximate": True})
ev, t = [], 0
for i in range(nev):
    lane = i % 64
    t += random.randint(50, 500)
    ev.append([lane, i % 3, 1 if i % 3 else 0, t, random.randint(100, 5000), i % 100])
summary = {"schema": "perfbpf.summary/2", "command": f"synthetic: {nkeys} keys, {nev} events", "events": nev,
           "dropped": 0, "trace_ns": t, "metrics": rows, "metric_rollups": rollups,
           "runs": [{"run": 1, "metrics": rows, "metric_rollups": rollups}],
           "timeline": {"start_ns": 0, "captured": nev, "seen": nev, "lanes": [[1, 100 + l] for l in range(64)],
                        "names": [f"metric.{m}" for m in range(100)], "events": ev}}
json.dump(summary, open(path, "w"))
PY
"$out/perfbpf" report "$tmp/summary.json" --html "$tmp/report.html"
size=$(stat -c %s "$tmp/report.html")
for r in $(seq "$runs"); do
	t0=$(date +%s%N)
	chromium --headless=new --no-sandbox --disable-gpu --virtual-time-budget=5000 --dump-dom \
		"file://$tmp/report.html" 2>/dev/null > "$tmp/dom.$r"
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 )) >> "$tmp/wall"
	python3 - "$tmp/dom.$r" >> "$tmp/load" <<'PY'
import html, json, re, sys
d = open(sys.argv[1], encoding="utf-8", errors="replace").read()
m = re.search(r'<pre id="perfbpf-selfcheck">(.*?)</pre>', d, re.S)
c = json.loads(html.unescape(m.group(1)))
assert not c["errors"] and c["resources"] == 0, c
assert all(v["painted"] > 0 for v in c["charts"].values()), c["charts"]
print(c["load_ms"])
print(c["timeline_redraw_ms"], file=open(sys.argv[1] + ".redraw", "w"))
PY
	cat "$tmp/dom.$r.redraw" >> "$tmp/redraw"
done
echo "| page ($keys keys, $events timeline events; medians of $runs loads) | HTML size (MB) | script start to every chart drawn (ms) | one timeline zoom (ms) | Chromium start to DOM dumped (ms) |"
echo "|---|---:|---:|---:|---:|"
echo "| perfbpf report | $(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }') | $(median < "$tmp/load") | $(median < "$tmp/redraw") | $(median < "$tmp/wall") |"
