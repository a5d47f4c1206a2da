#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks the histogram families of a Prometheus exposition (stdin) with the OpenMetrics parser
of the Prometheus project's Python client (Debian's python3-prometheus-client), then checks each
histogram again here: an +Inf bucket, cumulative buckets with increasing bounds, and _count equal
to the +Inf bucket. Prints one summary line; exits 1 on any failure."""
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def histogram_families(text):
    """The lines of the histogram families only (OpenMetrics names counters differently)."""
    out, keep = [], False
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            continue
        if line.startswith("# TYPE "):
            keep = line.split()[3] == "histogram"
            if keep:
                out.append("# HELP %s %s" % (name, "histogram"))
                out.append(line)
            continue
        if keep:
            out.append(line)
    return "\n".join(out) + "\n# EOF\n"


def main():
    text = sys.stdin.read()
    families = list(text_string_to_metric_families(histogram_families(text)))
    nseries = 0
    for fam in families:
        assert fam.type == "histogram", fam.name
        series = {}
        for s in fam.samples:
            labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            series.setdefault(labels, {"buckets": [], "count": None})
            if s.name.endswith("_bucket"):
                series[labels]["buckets"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                series[labels]["count"] = s.value
        for labels, h in series.items():
            b = h["buckets"]
            assert b and b[-1][0] == float("inf"), "no +Inf bucket: %r" % (labels,)
            for (le0, c0), (le1, c1) in zip(b, b[1:]):
                assert le1 > le0, "bounds not increasing: %r" % (labels,)
                assert c1 >= c0, "buckets not cumulative: %r" % (labels,)
            assert h["count"] == b[-1][1], "count != +Inf bucket: %r" % (labels,)
            nseries += 1
    if not families or nseries == 0:
        print("no histogram families found")
        return 1
    print("openmetrics ok: %d histogram families, %d series" % (len(families), nseries))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # the parser raises ValueError on invalid input
        print("openmetrics check failed: %s" % e)
        sys.exit(1)
