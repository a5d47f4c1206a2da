// SPDX-License-Identifier: BSD-2-Clause
// perfbpf's probes for Node engines. With no tracer attached every call tests one flag and
// returns; under `perfbpf run -- node app.js` (or `perfbpf attach PID`) every event is recorded
// in the engine (probe ABI v3) and collected by the kernel in batches.
//
//   const perfbpf = require('perfbpf');
//   perfbpf.op('strategy.tick', 1200, 'BTCUSDT', 'sma');          // an op you timed (ns)
//   perfbpf.opMs('exchange.fill', 0.35, 'BTCUSDT', 'sma');        // ... in ms, fractions kept
//   await perfbpf.span('backtest.run', { strategy: 'sma', attributes: { bars: 5e4 } },
//                      async (span) => { ...; span.setAttribute('trades', 12); });
//
// A span's parent is the span current in the caller's async context (AsyncLocalStorage), so
// spans of interleaved async tasks keep their own parents.
'use strict';
const path = require('path');
const { AsyncLocalStorage } = require('async_hooks');

const native = require(path.join(__dirname, 'perfbpf.node'));
const current = new AsyncLocalStorage();

/** A perfbpf span: OpenTelemetry's span methods, on this span whichever is innermost. */
class Span {
  constructor(name, id) {
    this.name = name;
    this.id = id; // 0: not recorded (no tracer wanted spans when it began)
    this.ended = false;
  }

  isRecording() { return this.id !== 0 && !this.ended; }

  setAttribute(key, value) {
    if (this.isRecording() && value !== undefined && value !== null) native.spanAttr(this.id, key, value);
    return this;
  }

  setAttributes(attributes) {
    if (this.isRecording() && attributes && native.attrsEnabled())
      for (const k of Object.keys(attributes)) this.setAttribute(k, attributes[k]);
    return this;
  }

  /** An event now; its attributes are recorded as strings. */
  addEvent(name, attributes) {
    if (!this.isRecording() || !native.attrsEnabled()) return this;
    const keys = attributes && typeof attributes === 'object' ? Object.keys(attributes) : [];
    if (keys.length === 0) native.spanEvent(this.id, name);
    keys.forEach((k, i) => native.spanEvent(this.id, i === 0 ? name : '', k, attributes[k]));
    return this;
  }

  /** An "exception" event with the error's type and message; with `fail`, status ERROR too. */
  recordException(err, fail) {
    if (!this.isRecording() || !native.attrsEnabled()) return;
    const type = (err && err.constructor && err.constructor.name) || 'Error';
    const message = err && err.message !== undefined ? String(err.message) : String(err);
    native.spanEvent(this.id, 'exception', 'exception.type', type);
    native.spanEvent(this.id, '', 'exception.message', message);
    if (fail) native.spanError(this.id, `${type}: ${message}`);
  }

  /** status: {code, message} with code 2 (ERROR) fails the span; OK and UNSET leave it. */
  setStatus(status) {
    if (this.isRecording() && status && status.code === 2) native.spanError(this.id, status.message || '');
    return this;
  }

  end() {
    if (this.ended) return;
    this.ended = true;
    if (this.id !== 0) native.spanClose(this.name, this.id);
  }
}

/** The span current in this async context, or undefined. */
function currentSpan() { return current.getStore(); }

/** Opens span `name` under the current span (not made current; end() ends it). */
function startSpan(name, options, parent) {
  const o = options || {};
  const p = parent === undefined ? current.getStore() : parent;
  const s = new Span(name, native.spanOpen(name, o.symbol, o.strategy, p ? p.id : 0));
  if (o.attributes) s.setAttributes(o.attributes);
  return s;
}

/**
 * span(name, [options], fn): fn(span) runs as the current span; the span ends when fn returns,
 * or when the promise it returns settles. A throw or a rejection records the error (status
 * ERROR) and goes on. options: {symbol, strategy, attributes}.
 */
function span(name, options, fn) {
  if (typeof options === 'function') { fn = options; options = undefined; }
  if (typeof fn !== 'function') throw new TypeError('perfbpf.span(name, [options], fn): fn must be a function');
  const s = startSpan(name, options);
  let r;
  if (s.id === 0) return fn(s); // no tracer wants spans: nothing to end, no context to keep
  try {
    r = current.run(s, fn, s);
  } catch (e) {
    s.recordException(e, true);
    s.end();
    throw e;
  }
  if (r && typeof r.then === 'function') {
    return r.then((v) => { s.end(); return v; },
      (e) => { s.recordException(e, true); s.end(); throw e; });
  }
  s.end();
  return r;
}

module.exports = {
  op: native.op,
  opMs: native.opMs,
  span,
  startSpan,
  currentSpan,
  enabled: native.enabled,
  nowNs: native.nowNs,
  Span,
  _native: native,
  _context: current,
};
