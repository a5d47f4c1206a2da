// SPDX-License-Identifier: BSD-2-Clause
// Integration-test engine in JavaScript: a known set of perfbpf events from the Node binding.
//
//   node node_engine.js MODE [N]
//
// MODE basic: N ops "js.op" per symbol: AAA durations 1000 + 7 * i ns (numbers), BBB 500 + i ns
//   (BigInts); N ops "js.ms" of (i + 0.25) us given in ms to opMs; N sync spans "js.outer"
//   (symbol AAA) each around one "js.inner"; two async tasks (strategies A and B), each a span
//   "js.task" around N spans "js.step" that stay open across an await (the tasks interleave);
//   task B's step N/2 throws inside its span (caught by the task); an async span "js.reject"
//   whose promise rejects (caught). Prints "done".
// MODE otel: the same two interleaved tasks through OpenTelemetry's API with
//   PerfbpfTracerProvider and the async-hooks context manager: "otel.task" around N
//   "otel.step" (attribute step = i); B's step N/2 records an exception and sets status ERROR;
//   one "otel.event" span with an event of two attributes. Prints "done".
// MODE errors: bad arguments, each must throw: one line per check, "errors ok" at the end.
// MODE detached: basic's calls with no tracer; prints "enabled false" and "done".
'use strict';
const path = require('path');

const perfbpf = require(process.env.PERFBPF_NODE || path.join(process.cwd(), 'build/bindings/node'));

const mode = process.argv[2];
const n = Number(process.argv[3] || 1000);
const tick = () => new Promise((resolve) => setImmediate(resolve));

async function task(name) {
  await perfbpf.span('js.task', { strategy: name }, async () => {
    for (let i = 0; i < n; i++) {
      try {
        await perfbpf.span('js.step', { strategy: name, attributes: { step: i } }, async () => {
          await tick();
          if (name === 'B' && i === n >> 1) throw new RangeError('step failed');
        });
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
      }
    }
  });
}

async function basic() {
  for (let i = 0; i < n; i++) {
    perfbpf.op('js.op', 1000 + 7 * i, 'AAA', 's');
    perfbpf.op('js.op', BigInt(500 + i), 'BBB', 's');
    perfbpf.opMs('js.ms', (i + 0.25) / 1000, 'MS');
  }
  for (let i = 0; i < n; i++) perfbpf.span('js.outer', { symbol: 'AAA' }, () => perfbpf.span('js.inner', () => i));
  await Promise.all([task('A'), task('B')]);
  await perfbpf.span('js.reject', async () => { await tick(); throw new Error('no'); }).catch(() => {});
}

async function otel() {
  const api = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { PerfbpfTracerProvider } = require(path.join(path.dirname(require.resolve(process.env.PERFBPF_NODE || path.join(process.cwd(), 'build/bindings/node'))), 'otel.js'));

  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.trace.setGlobalTracerProvider(new PerfbpfTracerProvider({ api }));
  const tracer = api.trace.getTracer('node-engine');
  const otask = (name) => tracer.startActiveSpan('otel.task', { attributes: { 'strategy.name': name } }, async (t) => {
    for (let i = 0; i < n; i++) {
      await tracer.startActiveSpan('otel.step', { attributes: { step: i, task: name } }, async (s) => {
        await tick();
        if (name === 'B' && i === n >> 1) {
          s.recordException(new TypeError('bad step'));
          s.setStatus({ code: api.SpanStatusCode.ERROR, message: 'bad step' });
        }
        s.end();
      });
    }
    t.end();
  });
  await Promise.all([otask('A'), otask('B')]);
  const e = tracer.startSpan('otel.event');
  e.addEvent('filled', { price: 101.5, qty: 3 });
  e.end();
}

function errors() {
  const expect = (fn, what) => {
    try { fn(); } catch (e) { console.log(`${what}: ${e.constructor.name}: ${e.message}`); return; }
    console.log(`${what}: no error`);
    process.exit(1);
  };
  expect(() => perfbpf.op(1, 2), 'metric not a string');
  expect(() => perfbpf.op('x', '2'), 'duration a string');
  expect(() => perfbpf.op('x', 1, 3), 'symbol a number');
  expect(() => perfbpf.opMs('x', 1n), 'opMs with a BigInt');
  expect(() => perfbpf.span('x'), 'span without a function');
  expect(() => perfbpf.span(3, () => 0), 'span named 3');
  if (perfbpf.enabled()) {
    expect(() => perfbpf.op('x', -1), 'negative duration');
    expect(() => perfbpf.op('x', 2n ** 64n), 'BigInt duration too large');
  }
  console.log('errors ok');
}

(async () => {
  if (mode === 'basic') await basic();
  else if (mode === 'detached') { console.log('enabled', perfbpf.enabled()); await basic(); }
  else if (mode === 'otel') await otel();
  else if (mode === 'errors') errors();
  else process.exit(2);
  console.log('done');
})().catch((e) => { console.error(e); process.exit(1); });
