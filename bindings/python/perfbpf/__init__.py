# SPDX-License-Identifier: BSD-2-Clause
"""perfbpf's probes for Python engines.

    import perfbpf

    perfbpf.op("strategy.tick", 1200, symbol="BTCUSDT", strategy="sma")   # a timed operation
    with perfbpf.span("backtest.run", symbol="BTCUSDT", bars=50000) as s:  # a span, attributes
        with perfbpf.timed("exchange.fill", symbol="BTCUSDT"):          # an op timed here
            ...
        s.set_attribute("trades", 12)

    @perfbpf.span("simulation")      # a span around every call (of a coroutine too)
    def simulate(): ...

Run the engine under `perfbpf run -- python3 engine.py` (or `perfbpf attach PID`). With no
tracer attached every call tests one flag and returns. A span's parent is the span current in
the caller's context (contextvars), so asyncio tasks keep their own. `Tracer()` satisfies the
narrow tracer protocol of Horizon (`tracer.span(name, **attrs)` as a context manager);
`perfbpf.otel` has OpenTelemetry's tracer API.
"""
import functools
import inspect

from . import _perfbpf
from ._perfbpf import Scope, current_span, enabled, now_ns, op, span, timed

__all__ = ["op", "span", "timed", "enabled", "now_ns", "current_span", "Scope", "Tracer"]

_SPAN, _TIMED = 0, 1


def _decorate(kind, name, symbol, strategy, attrs, func):
    """The wrapper of a function decorated with a span or timed block: a new one per call. A
    coroutine function's span lasts until the coroutine returns (across its awaits)."""
    if kind == _SPAN:
        attrs = attrs or {}

        def scope():
            return span(name, symbol, strategy, **attrs)
    else:
        def scope():
            return timed(name, symbol, strategy)

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def awrapper(*args, **kwargs):
            with scope():
                return await func(*args, **kwargs)

        return awrapper

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with scope():
            return func(*args, **kwargs)

    return wrapper


_perfbpf._set_decorator(_decorate)


class Tracer:
    """A tracer with the shape of Horizon's `Tracer` protocol: `span(name, **attrs)`."""

    def span(self, name, **attrs):
        return span(name, **attrs)
