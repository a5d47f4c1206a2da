// SPDX-License-Identifier: BSD-2-Clause
// backtest-kit adapter: every PerformanceContract backtest-kit emits becomes a perfbpf op
// (metric = metricType, symbol, strategy = strategyName, its duration in ms kept to the ns).
//
//   const { trace } = require('perfbpf/backtest-kit');
//   const stop = trace(require('backtest-kit'));   // before the backtest runs; stop() unsubscribes
//
// Subscribed to emitters.performanceEmitter directly (not listenPerformance, which queues each
// event): no event is dropped, none is capped at 10,000 per key, and with no tracer attached an
// event costs a subscriber call and one flag test.
'use strict';
const native = require('./index.js')._native;

function trace(backtestKit) {
  const em = backtestKit && backtestKit.emitters && backtestKit.emitters.performanceEmitter;
  if (!em || typeof em.subscribe !== 'function') {
    throw new TypeError('perfbpf/backtest-kit: trace(backtestKit) wants the backtest-kit module ' +
      '(it has no emitters.performanceEmitter)');
  }
  return em.subscribe((e) => native.opMs(e.metricType, e.duration, e.symbol, e.strategyName));
}

module.exports = { trace };
