// SPDX-License-Identifier: BSD-2-Clause
// Integration-test engine: a real backtest-kit 19.5.0 backtest, offline (synthetic 1-minute
// candles, persistence off), traced through perfbpf/backtest-kit.
//
//   node node_backtest.js DAYS [--no-trace]
//
// Backtests BTCUSDT over DAYS days of 1-minute timeframes with a strategy that never signals,
// then prints one JSON line: the number of PerformanceContract events backtest-kit emitted (its
// own count, by a subscriber of its emitter) per metricType, and backtest-kit's own
// Performance.getData statistics per metricType (ms), which keep at most the newest 10,000
// events. --no-trace: perfbpf's adapter is not subscribed.
'use strict';
const path = require('path');

const bk = require('backtest-kit');
const perfbpfDir = process.env.PERFBPF_NODE || path.join(process.cwd(), 'build/bindings/node');

const days = Number(process.argv[2] || 1);
const MIN = 60000;
const STEP = { '1m': 1, '3m': 3, '5m': 5, '15m': 15, '30m': 30, '1h': 60, '2h': 120, '4h': 240 };
const candle = (t) => {
  const p = 100 + 10 * Math.sin(t / MIN / 500);
  return { timestamp: t, open: p, high: p * 1.001, low: p * 0.999, close: p, volume: 1 };
};

for (const k of Object.keys(bk))
  if (/^Persist\w*Adapter$/.test(k) && typeof bk[k].useDummy === 'function') bk[k].useDummy();
bk.addExchangeSchema({
  exchangeName: 'synthetic',
  getCandles: async (symbol, interval, since, limit) =>
    Array.from({ length: limit }, (_, i) => candle(since.getTime() + i * STEP[interval] * MIN)),
  formatPrice: (s, p) => p.toFixed(2),
  formatQuantity: (s, q) => q.toFixed(8),
});
const start = Date.UTC(2026, 0, 1);
bk.addFrameSchema({ frameName: 'days', interval: '1m', startDate: new Date(start),
  endDate: new Date(start + days * 24 * 60 * MIN) });
bk.addStrategySchema({ strategyName: 'flat', interval: '15m', getSignal: async () => null });

const emitted = {};
bk.emitters.performanceEmitter.subscribe((e) => { emitted[e.metricType] = (emitted[e.metricType] || 0) + 1; });
if (!process.argv.includes('--no-trace')) require(path.join(perfbpfDir, 'backtest-kit.js')).trace(bk);

(async () => {
  bk.Markdown.enable({ performance: true });
  const ctx = { strategyName: 'flat', exchangeName: 'synthetic', frameName: 'days' };
  for await (const _ of bk.Backtest.run('BTCUSDT', ctx)); // eslint-disable-line no-unused-vars
  const d = await bk.Performance.getData('BTCUSDT', ctx, true);
  const stats = {};
  for (const [k, v] of Object.entries(d.metricStats)) {
    stats[k] = { count: v.count, totalDuration: v.totalDuration, minDuration: v.minDuration,
      maxDuration: v.maxDuration, stdDev: v.stdDev, median: v.median, p95: v.p95, p99: v.p99 };
  }
  console.log(JSON.stringify({ emitted, totalEvents: d.totalEvents, stats }));
})().catch((e) => { console.error(e); process.exit(1); });
