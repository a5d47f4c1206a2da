// SPDX-License-Identifier: BSD-2-Clause
// PerfbpfTracerProvider: an OpenTelemetry JS TracerProvider whose spans are perfbpf's, so an
// OpenTelemetry-instrumented Node engine is traced by perfbpf with one line and no SDK:
//
//   const { trace } = require('@opentelemetry/api');
//   const { PerfbpfTracerProvider } = require('perfbpf/otel');
//   trace.setGlobalTracerProvider(new PerfbpfTracerProvider());
//
// Parents come from the OpenTelemetry context (register a context manager, e.g.
// @opentelemetry/context-async-hooks' AsyncLocalStorageContextManager, as with the SDK, so
// that spans across `await` keep theirs). perfbpf stamps every span and event itself: start
// and end times given to it are not used; event attributes are recorded as strings; links and
// span kinds are not recorded; a status OK leaves the status unset.
'use strict';
const perfbpf = require('./index.js');

const native = perfbpf._native;

function loadApi(api) {
  if (api) return api;
  try {
    return require('@opentelemetry/api');
  } catch (e) {
    return require.main.require('@opentelemetry/api');
  }
}

const hex = (n, width) => n.toString(16).padStart(width, '0');

/** An OpenTelemetry Span (the API's interface) on a perfbpf span with an id. */
class PerfbpfOtelSpan extends perfbpf.Span {
  constructor(name, id, traceId) {
    super(name, id);
    this._traceId = traceId || id;
  }

  spanContext() {
    return {
      traceId: hex(this._traceId, 32), spanId: hex(this.id, 16), traceFlags: this.id ? 1 : 0,
    };
  }

  addLink() { return this; }

  addLinks() { return this; }

  updateName() { return this; }

  recordException(err) { super.recordException(err, false); }

  end() { super.end(); }
}

class PerfbpfTracer {
  constructor(api) { this._api = api; }

  startSpan(name, options, ctx) {
    const api = this._api;
    const o = options || {};
    const parent = o.root ? undefined : api.trace.getSpan(ctx || api.context.active());
    const pid = parent instanceof PerfbpfOtelSpan ? parent.id : 0;
    const id = native.spanOpen(name, undefined, undefined, pid);
    const s = new PerfbpfOtelSpan(name, id, pid ? parent._traceId : id);
    if (o.attributes) s.setAttributes(o.attributes);
    return s;
  }

  /** startActiveSpan(name, [options], [context], fn): fn(span) runs with the span current. */
  startActiveSpan(name, a, b, c) {
    const api = this._api;
    const fn = typeof a === 'function' ? a : typeof b === 'function' ? b : c;
    const options = typeof a === 'function' ? undefined : a;
    const ctx = typeof b === 'function' || b === undefined ? api.context.active() : b;
    const s = this.startSpan(name, options, ctx);
    return api.context.with(api.trace.setSpan(ctx, s), fn, undefined, s);
  }
}

class PerfbpfTracerProvider {
  /** options.api: the @opentelemetry/api module (default: the one require finds). */
  constructor(options) {
    this._tracer = new PerfbpfTracer(loadApi(options && options.api));
  }

  getTracer() { return this._tracer; }

  async forceFlush() {}

  async shutdown() {}
}

module.exports = { PerfbpfTracerProvider, PerfbpfTracer, PerfbpfOtelSpan };
