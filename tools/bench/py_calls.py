# SPDX-License-Identifier: BSD-2-Clause
"""Per-call cost of the perfbpf Python binding, against what an engine would do without it.

    python3 py_calls.py [CALLS] [--wait-attach]

Prints one line per case, "NAME NS_PER_CALL" (best of 5 batches of CALLS calls):
  noop        a pure-Python function call that does nothing (the floor of any Python API)
  inproc_span a span kept in process: perf_counter_ns() at both ends and a list append
  op          perfbpf.op(metric, duration, symbol=, strategy=)
  span        with perfbpf.span(name, symbol=):
  timed       with perfbpf.timed(metric, symbol=):
  otel_span   with tracer.start_as_current_span(name): (perfbpf.otel; absent in a binding
              without it)
With --wait-attach it prints "ready PID" and starts once a tracer is attached.
"""
import os
import sys
import time

import perfbpf

calls = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 200_000
if "--wait-attach" in sys.argv:
    print("ready", os.getpid(), flush=True)
    end = time.monotonic() + 30
    while not perfbpf.enabled() and time.monotonic() < end:
        time.sleep(0.001)
    time.sleep(0.05)


def noop(a, b, symbol=None, strategy=None):
    pass


spans = []


def case_noop():
    f = noop
    for i in range(calls):
        f("strategy.tick", i, symbol="BTCUSDT", strategy="sma")


def case_inproc():
    now = time.perf_counter_ns
    append = spans.append
    for _ in range(calls):
        t0 = now()
        append(("strategy.tick", t0, now()))
    spans.clear()


def case_op():
    op = perfbpf.op
    for i in range(calls):
        op("strategy.tick", i, symbol="BTCUSDT", strategy="sma")


def case_span():
    span = perfbpf.span
    for _ in range(calls):
        with span("strategy.tick", symbol="BTCUSDT"):
            pass


def case_timed():
    timed = perfbpf.timed
    for _ in range(calls):
        with timed("strategy.tick", symbol="BTCUSDT"):
            pass


def case_otel_span():
    start = otel.get_tracer("bench").start_as_current_span
    for _ in range(calls):
        with start("strategy.tick"):
            pass


try:
    from perfbpf import otel
except ImportError:
    otel = None
cases = [("noop", case_noop), ("inproc_span", case_inproc), ("op", case_op),
         ("span", case_span), ("timed", case_timed)]
if otel:
    cases.append(("otel_span", case_otel_span))
for name, fn in cases:
    best = None
    for _ in range(5):
        t0 = time.perf_counter_ns()
        fn()
        dt = (time.perf_counter_ns() - t0) / calls
        best = dt if best is None else min(best, dt)
    print(name, "%.1f" % best)
