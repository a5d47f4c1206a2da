# SPDX-License-Identifier: BSD-2-Clause
"""perfbpf's Python demo engine: tools/demo/backtest.c's backtest, written the way an
OpenTelemetry-instrumented Python pipeline is (the seed's `run_backtest`), with perfbpf's
OpenTelemetry-shaped tracer in place of the SDK: one import line differs.

    python3 backtest.py [--symbols A,B,...] [--bars N] [--strategy NAME] [--quiet] [--counts]

Spans: backtest.run > backtest.load_data, backtest.preprocess, backtest.simulation (> one
order.submit per order, with an order.filled event, or status ERROR when the risk check rejects
it), backtest.performance_calc; with the seed's attributes. Ops on the hot path: strategy.tick
per bar and symbol (timed by perfbpf), strategy.indicators, exchange.fill. With --counts it
prints one JSON line of its own counts at the end: bars, ticks, orders, fills, rejected.
"""
import argparse
import json
import math
import random
import sys
import time

import perfbpf
from perfbpf import otel as trace  # was: from opentelemetry import trace

tracer = trace.get_tracer("perfbpf.demo.backtest")


def load_historical_data(symbols, bars, seed=7):
    """A deterministic random walk per symbol."""
    rng = random.Random(seed)
    data = {}
    for s in symbols:
        price, series = 100.0 + 50 * rng.random(), []
        for _ in range(bars):
            price *= math.exp(rng.gauss(0, 0.002))
            series.append(price)
        data[s] = series
    return data


def compute_features(market_data, fast=10, slow=50):
    """Fast and slow moving averages per symbol."""
    features = {}
    for s, px in market_data.items():
        fsum = ssum = 0.0
        f, sl = [], []
        for i, p in enumerate(px):
            fsum += p - (px[i - fast] if i >= fast else 0)
            ssum += p - (px[i - slow] if i >= slow else 0)
            f.append(fsum / min(i + 1, fast))
            sl.append(ssum / min(i + 1, slow))
        features[s] = (f, sl)
    return features


def run_simulation(strategy, market_data, features, capital):
    with tracer.start_as_current_span("backtest.simulation") as sim_span:
        sim_start = time.monotonic()
        cash, position = capital, {s: 0.0 for s in market_data}
        equity, counts = [], {"ticks": 0, "orders": 0, "fills": 0, "rejected": 0}
        bars = len(next(iter(market_data.values())))
        sim_span.set_attribute("simulation.total_events", bars * len(market_data))
        for i in range(1, bars):
            for s, px in market_data.items():
                with perfbpf.timed("strategy.tick", symbol=s, strategy=strategy):
                    counts["ticks"] += 1
                    with perfbpf.timed("strategy.indicators", symbol=s, strategy=strategy):
                        f, sl = features[s]
                        crossed = (f[i] > sl[i]) != (f[i - 1] > sl[i - 1])
                    if not crossed:
                        continue
                    side = "buy" if f[i] > sl[i] else "sell"
                    counts["orders"] += 1
                    with tracer.start_as_current_span(
                            "order.submit", attributes={"order.side": side, "symbol": s}) as order:
                        qty = round(1000.0 / px[i], 4)
                        sign = 1 if side == "buy" else -1
                        if abs(px[i] / px[i - 1] - 1) > 0.003:  # risk check: a volatile bar
                            counts["rejected"] += 1
                            order.set_status(trace.Status(trace.StatusCode.ERROR,
                                                          "risk check rejected the order"))
                            continue
                        t0 = perfbpf.now_ns()
                        position[s] += sign * qty
                        cash -= sign * qty * px[i]
                        perfbpf.op("exchange.fill", perfbpf.now_ns() - t0, symbol=s,
                                   strategy=strategy)
                        counts["fills"] += 1
                        order.set_attribute("order.quantity", qty)
                        order.add_event("order.filled", {"fill.price": px[i]})
            equity.append(cash + sum(position[s] * market_data[s][i] for s in market_data))
        elapsed = time.monotonic() - sim_start
        sim_span.set_attribute("simulation.events_processed", counts["ticks"])
        sim_span.set_attribute("simulation.orders_generated", counts["orders"])
        sim_span.set_attribute("simulation.fills_executed", counts["fills"])
        sim_span.set_attribute("simulation.throughput_eps", counts["ticks"] / max(elapsed, 1e-9))
        sim_span.set_attribute("simulation.duration_s", elapsed)
        return equity, counts


def calculate_performance(equity, capital):
    rets = [b / a - 1 for a, b in zip(equity, equity[1:])] or [0.0]
    mean = sum(rets) / len(rets)
    sd = math.sqrt(sum((r - mean) ** 2 for r in rets) / len(rets))
    peak, dd = capital, 0.0
    for e in equity:
        peak = max(peak, e)
        dd = max(dd, (peak - e) / peak)
    return {"total_return": 100 * (equity[-1] / capital - 1) if equity else 0.0,
            "sharpe": mean / sd * math.sqrt(252 * 24 * 60) if sd else 0.0, "max_drawdown": 100 * dd}


def run_backtest(strategy, symbols, bars, capital=100000.0):
    with tracer.start_as_current_span("backtest.run") as span:
        run_start = time.monotonic()
        span.set_attribute("backtest.run_id", "%s-%d" % (strategy, bars))
        span.set_attribute("backtest.strategy", strategy)
        span.set_attribute("backtest.symbols_count", len(symbols))
        span.set_attribute("backtest.initial_capital", capital)

        with tracer.start_as_current_span("backtest.load_data") as load_span:
            market_data = load_historical_data(symbols, bars)
            load_span.set_attribute("data.total_bars", sum(len(v) for v in market_data.values()))
            load_span.set_attribute("data.symbols_loaded", len(market_data))

        with tracer.start_as_current_span("backtest.preprocess") as prep_span:
            phase_start = time.monotonic()
            features = compute_features(market_data)
            prep_span.set_attribute("features.count", 2 * len(features))
            prep_span.set_attribute("preprocessing.duration_s", time.monotonic() - phase_start)

        equity, counts = run_simulation(strategy, market_data, features, capital)

        with tracer.start_as_current_span("backtest.performance_calc") as perf_span:
            perf = calculate_performance(equity, capital)
            perf_span.set_attribute("perf.total_return_pct", perf["total_return"])
            perf_span.set_attribute("perf.sharpe_ratio", perf["sharpe"])
            perf_span.set_attribute("perf.max_drawdown_pct", perf["max_drawdown"])
            perf_span.set_attribute("perf.total_trades", counts["fills"])

        span.set_attribute("backtest.total_duration_s", time.monotonic() - run_start)
        return perf, counts


def main():
    ap = argparse.ArgumentParser(description="perfbpf's Python demo backtest engine")
    ap.add_argument("--symbols", default="BTCUSDT,ETHUSDT")
    ap.add_argument("--bars", type=int, default=20000)
    ap.add_argument("--strategy", default="sma_cross")
    ap.add_argument("--quiet", action="store_true", help="print no results")
    ap.add_argument("--counts", action="store_true", help="print the counts as one JSON line")
    a = ap.parse_args()
    symbols = [s for s in a.symbols.split(",") if s]
    if not symbols or a.bars < 2:
        ap.error("--symbols must name a symbol and --bars be at least 2")
    perf, counts = run_backtest(a.strategy, symbols, a.bars)
    if not a.quiet:
        print("%-10s trades %5d  rejected %4d  return %8.3f%%  sharpe %7.3f  max drawdown %6.2f%%"
              % (a.strategy, counts["fills"], counts["rejected"], perf["total_return"],
                 perf["sharpe"], perf["max_drawdown"]), file=sys.stderr)
    if a.counts:
        print(json.dumps(dict(counts, bars=a.bars, symbols=len(symbols))))


if __name__ == "__main__":
    main()
