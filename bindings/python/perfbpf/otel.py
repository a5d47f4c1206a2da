# SPDX-License-Identifier: BSD-2-Clause
"""OpenTelemetry's tracer API on perfbpf's probes: an OpenTelemetry-instrumented engine changes
one import line,

    from opentelemetry import trace          ->    from perfbpf import otel as trace
    tracer = trace.get_tracer(__name__)
    with tracer.start_as_current_span("backtest.run", attributes={"strategy": "sma"}) as span:
        span.set_attribute("backtest.symbols_count", 3)

and its spans reach perfbpf (the report, `--otlp` to any OpenTelemetry collector) with no SDK
in the process. The span objects are perfbpf spans: set_attribute(s), add_event,
record_exception, set_status, is_recording, end; used as a context manager or decorator.

What perfbpf does differently (it stamps and exports spans outside the process):
  - start_time, end_time and timestamps are not used: perfbpf's clock stamps every event;
  - event attributes are recorded as strings;
  - links, kind and an explicit `context` are not recorded; set_status(OK) leaves the status
    unset;
  - a span's trace and span ids are perfbpf's, so get_span_context() is not provided.

The tracer also has the helpers of the common in-house wrapper (the one in the trading bot's
guide): add_event, set_attribute and record_exception on the current span, and
trace_function(span_name, attributes) as a decorator (coroutines too).
"""
import enum
import functools
import inspect

from . import _perfbpf
from ._perfbpf import current_span as _current

__all__ = ["get_tracer", "get_current_span", "Tracer", "StatusCode", "Status", "INVALID_SPAN"]


class StatusCode(enum.Enum):
    """OpenTelemetry's status codes (opentelemetry.trace.StatusCode)."""
    UNSET = 0
    OK = 1
    ERROR = 2


class Status:
    """OpenTelemetry's Status(status_code, description)."""

    def __init__(self, status_code=StatusCode.UNSET, description=None):
        self.status_code = status_code
        self.description = description


class _NonRecordingSpan:
    """The span outside any span: every method does nothing (OpenTelemetry's INVALID_SPAN)."""

    def is_recording(self):
        return False

    def set_attribute(self, key, value):
        pass

    def set_attributes(self, attributes):
        pass

    def add_event(self, name, attributes=None, timestamp=None):
        pass

    def record_exception(self, exception, attributes=None, timestamp=None, escaped=False):
        pass

    def set_status(self, status, description=None):
        pass

    def end(self, end_time=None):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


INVALID_SPAN = _NonRecordingSpan()


def get_current_span():
    """The span current in this context, or INVALID_SPAN."""
    s = _current()
    return INVALID_SPAN if s is None else s


_span = _perfbpf._span_attrs  # (name, attributes dict or None)


class Tracer:
    """OpenTelemetry's Tracer: start_as_current_span and start_span."""

    def __init__(self, name="", version=None):
        self.name = name
        self.version = version

    def start_as_current_span(self, name, context=None, kind=None, attributes=None, links=None,
                              start_time=None, record_exception=True,
                              set_status_on_exception=True, end_on_exit=True):
        """A span made current for its `with` block (or around every call, as a decorator)."""
        return _span(name, attributes)

    def start_span(self, name, context=None, kind=None, attributes=None, links=None,
                   start_time=None, record_exception=True, set_status_on_exception=True):
        """A span open now, not current; end() (or the end of a `with` block) ends it."""
        return _span(name, attributes).start()

    # the in-house wrapper's helpers, on the current span
    def add_event(self, name, attributes=None):
        get_current_span().add_event(name, attributes)

    def set_attribute(self, key, value):
        get_current_span().set_attribute(key, value)

    def record_exception(self, exception, attributes=None):
        get_current_span().record_exception(exception, attributes)

    def trace_function(self, span_name=None, attributes=None):
        """A decorator: a span named span_name (default: the function's qualified name) around
        every call, for the whole of a coroutine."""
        def decorate(func):
            name = span_name or f"{func.__module__}.{func.__qualname__}"

            if inspect.iscoroutinefunction(func):
                @functools.wraps(func)
                async def awrapper(*args, **kwargs):
                    with _span(name, attributes):
                        return await func(*args, **kwargs)

                return awrapper

            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                with _span(name, attributes):
                    return func(*args, **kwargs)

            return wrapper

        return decorate


def get_tracer(instrumenting_module_name="", instrumenting_library_version=None,
               tracer_provider=None, schema_url=None, attributes=None):
    """A tracer (OpenTelemetry's trace.get_tracer)."""
    return Tracer(instrumenting_module_name, instrumenting_library_version)
