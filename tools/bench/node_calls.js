// SPDX-License-Identifier: BSD-2-Clause
// Per-call cost of perfbpf's Node package, against what an engine would do without it.
//
//   node node_calls.js CALLS
//
// Prints one line per case, "NAME NS_PER_CALL" (best of 5 batches of CALLS calls):
//   noop          a JS function called with the same arguments (the floor of any JS API)
//   op            perfbpf.op(metric, durationNs, symbol, strategy)
//   opMs          perfbpf.opMs(metric, durationMs, symbol, strategy)
//   span          perfbpf.span(name, {symbol}, fn) around an empty function
//   otel_perfbpf  OpenTelemetry's API on PerfbpfTracerProvider: startActiveSpan + end
//   otel_sdk      the same on the OpenTelemetry JS SDK (BasicTracerProvider, BatchSpanProcessor
//                 with an exporter that drops the spans): what an instrumented engine pays
//   bk_emit       a backtest-kit PerformanceContract through its emitter, nobody subscribed
//   bk_adapter    a backtest-kit PerformanceContract through its emitter with perfbpf's
//                 adapter subscribed (per event, awaited as backtest-kit awaits it)
//   bk_markdown   the same with backtest-kit's own performance report enabled instead
// The package comes from PERFBPF_NODE; OpenTelemetry and backtest-kit from NODE_PATH.
'use strict';
const path = require('path');

const perfbpf = require(process.env.PERFBPF_NODE);
const api = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { PerfbpfTracerProvider } = require(path.join(process.env.PERFBPF_NODE, 'otel.js'));

const calls = Number(process.argv[2] || 200000);

function noop(a, b, c, d) { return a; } // eslint-disable-line no-unused-vars

function best(fn) {
  let b = Infinity;
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    fn();
    b = Math.min(b, Number(process.hrtime.bigint() - t0) / calls);
  }
  return b;
}

async function bestAsync(fn) {
  let b = Infinity;
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    await fn();
    b = Math.min(b, Number(process.hrtime.bigint() - t0) / calls);
  }
  return b;
}

(async () => {
  const out = [];
  out.push(['noop', best(() => { for (let i = 0; i < calls; i++) noop('strategy.tick', i, 'BTCUSDT', 'sma'); })]);
  out.push(['op', best(() => { for (let i = 0; i < calls; i++) perfbpf.op('strategy.tick', i, 'BTCUSDT', 'sma'); })]);
  out.push(['opMs', best(() => { for (let i = 0; i < calls; i++) perfbpf.opMs('strategy.tick', i / 1e6, 'BTCUSDT', 'sma'); })]);
  const opts = { symbol: 'BTCUSDT' };
  const empty = () => 0;
  out.push(['span', best(() => { for (let i = 0; i < calls; i++) perfbpf.span('strategy.tick', opts, empty); })]);

  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const pt = new PerfbpfTracerProvider({ api }).getTracer('bench');
  out.push(['otel_perfbpf', best(() => { for (let i = 0; i < calls; i++) pt.startActiveSpan('strategy.tick', (s) => s.end()); })]);
  const sdk = new BasicTracerProvider();
  sdk.addSpanProcessor(new BatchSpanProcessor({ export: (spans, done) => done({ code: 0 }), shutdown: async () => {} }));
  const st = sdk.getTracer('bench');
  out.push(['otel_sdk', best(() => { for (let i = 0; i < calls; i++) st.startActiveSpan('strategy.tick', (s) => s.end()); })]);
  await sdk.shutdown();

  const bk = require('backtest-kit');
  const em = bk.emitters.performanceEmitter;
  const ev = (i) => ({ timestamp: Date.now(), when: new Date(), previousTimestamp: null, metricType: 'backtest_timeframe',
    duration: i / 1000, strategyName: 'flat', exchangeName: 'x', frameName: 'f', symbol: 'BTCUSDT', backtest: true });
  out.push(['bk_emit', await bestAsync(async () => { for (let i = 0; i < calls; i++) await em.next(ev(i)); })]);
  const stop = require(path.join(process.env.PERFBPF_NODE, 'backtest-kit.js')).trace(bk);
  out.push(['bk_adapter', await bestAsync(async () => { for (let i = 0; i < calls; i++) await em.next(ev(i)); })]);
  stop();
  bk.Markdown.enable({ performance: true });
  out.push(['bk_markdown', await bestAsync(async () => { for (let i = 0; i < calls; i++) await em.next(ev(i)); })]);
  for (const [k, v] of out) console.log(k, v.toFixed(1));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
