# SPDX-License-Identifier: BSD-2-Clause
"""Integration-test engine in Python: a known set of perfbpf events from the binding.

    python3 py_engine.py MODE [N]

MODE basic: N ops "py.op" per symbol (AAA, BBB) of durations 1000 + 7 * i (AAA) and 500 + i
  (BBB) ns; N spans "py.outer" each around one "py.inner"; N timed blocks "py.timed" of at
  least 200 us each; a span "py.raises" whose block raises ValueError (caught here);
  @span-decorated recursion: "py.fib" around every call of fib(6) (25 calls); 4 threads, each N
  spans "py.thread" with strategy "t<K>". Prints "done".
MODE detached: the same calls with no tracer; prints "enabled False" and "done".
MODE errors: bad arguments, each must raise: prints one line per check, "errors ok" at the end.
MODE asyncio: two asyncio tasks, strategies A and B, each a span "py.task" around N spans
  "py.step" (attribute step=i) that stay open across an await, so the two tasks' steps
  interleave; task B's step N//2 raises ValueError("step failed") inside its span (caught in
  the task); a span "py.handoff" opened in a task (start()) and ended by another thread; then
  N spans "py.otel" through perfbpf.otel (child "py.otel.child" with an event of two
  attributes); Horizon's tracer: "reconcile" (venue=alpaca) around "compute_signal"
  (market_id=m-1). Prints "done".
With PY_ENGINE_PATH set, perfbpf is imported from that directory.
"""
import asyncio
import os
import sys
import threading
import time

if os.environ.get("PY_ENGINE_PATH"):  # the binding from a directory only this script knows
    sys.path.insert(0, os.environ["PY_ENGINE_PATH"])
import perfbpf  # noqa: E402

mode = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


@perfbpf.span("py.fib", symbol="F")
def fib(k):
    return k if k < 2 else fib(k - 1) + fib(k - 2)


def thread_body(k):
    for _ in range(n):
        with perfbpf.span("py.thread", strategy="t%d" % k):
            pass


def basic():
    for i in range(n):
        perfbpf.op("py.op", 1000 + 7 * i, symbol="AAA", strategy="s")
        perfbpf.op("py.op", 500 + i, "BBB", "s")
    for i in range(n):
        with perfbpf.span("py.outer", symbol="AAA", bars=i, ratio=0.5, live=False, venue="x"):
            with perfbpf.span("py.inner"):
                pass
    for _ in range(20):
        with perfbpf.timed("py.timed", symbol="T"):
            end = time.perf_counter_ns() + 200_000
            while time.perf_counter_ns() < end:
                pass
    try:
        with perfbpf.span("py.raises"):
            raise ValueError("bad tick")
    except ValueError:
        pass
    assert fib(6) == 8
    threads = [threading.Thread(target=thread_body, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def expect(exc, fn, what):
    try:
        fn()
    except exc as e:
        print("%s: %s: %s" % (what, type(e).__name__, e))
        return
    print("%s: no error" % what)
    sys.exit(1)


def errors():
    expect(ValueError, lambda: perfbpf.op("x", -1), "negative duration")
    expect(TypeError, lambda: perfbpf.op("x", 1.5), "float duration")
    expect(TypeError, lambda: perfbpf.op(1, 2), "metric not str")
    expect(TypeError, lambda: perfbpf.op("x"), "missing duration")
    expect(TypeError, lambda: perfbpf.op("x", 1, "a", "b", "c"), "too many arguments")
    expect(TypeError, lambda: perfbpf.op("x", 1, nosuch=1), "unknown keyword")
    expect(TypeError, lambda: perfbpf.span(), "span without name")
    expect(TypeError, lambda: perfbpf.span(None), "span named None")
    expect(TypeError, lambda: perfbpf.span("x", symbol=3), "symbol not str")
    expect(TypeError, lambda: perfbpf.timed("x", strategy=b"s"), "strategy bytes")
    expect(TypeError, lambda: perfbpf.span("x", attr={}), "attribute of a dict")
    expect(OverflowError, lambda: perfbpf.span("x", big=2**64), "attribute too large")
    s = perfbpf.span("x")
    with s:
        expect(RuntimeError, lambda: s.__enter__(), "span entered twice")
    expect(TypeError, lambda: s(1), "decorating a non-function")
    print("errors ok")


async def task(name, steps):
    with perfbpf.span("py.task", strategy=name):
        for i in range(steps):
            try:
                with perfbpf.span("py.step", strategy=name, step=i):
                    await asyncio.sleep(0.0005)
                    if name == "B" and i == steps // 2:
                        raise ValueError("step failed")
            except ValueError:
                pass


async def handoff():
    s = perfbpf.span("py.handoff", symbol="H").start()
    t = threading.Thread(target=s.end)
    await asyncio.sleep(0.001)
    t.start()
    t.join()


async def tasks():
    await asyncio.gather(task("A", n), task("B", n), handoff())


def with_otel():
    from perfbpf import otel as trace

    tracer = trace.get_tracer(__name__)
    for i in range(n):
        with tracer.start_as_current_span("py.otel", attributes={"i": i}) as span:
            span.set_attribute("py.answer", 42)
            with tracer.start_as_current_span("py.otel.child"):
                tracer.add_event("py.event", {"a": "x", "b": 2})
    horizon = perfbpf.Tracer()  # Horizon's Tracer protocol, as its guide uses it
    with horizon.span("reconcile", venue="alpaca"):
        with horizon.span("compute_signal", market_id="m-1"):
            pass


if mode == "basic":
    basic()
elif mode == "detached":
    print("enabled", perfbpf.enabled())
    basic()
    assert perfbpf.now_ns() > 0
elif mode == "errors":
    errors()
elif mode == "asyncio":
    asyncio.run(tasks())
    with_otel()
else:
    sys.exit(2)
print("done")
