// SPDX-License-Identifier: BSD-2-Clause
/* The demo backtest: market data, features, a mean-reversion strategy, risk, sizing and fills,
 * each stage an op or span on the perfbpf probes. */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include <perfbpf/probe.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

static void spin_ns(uint64_t ns)
{
	uint64_t end = perfbpf_now_ns() + ns;

	while (perfbpf_now_ns() < end)
		;
}

/* A timed op in flight: its start, and whether it is the --slow metric. */
struct op {
	uint64_t t0;
	bool slow;
};

/* An op is timed only while a tracer is attached, with perfbpf's own clock (PERFBPF_OP_START /
 * PERFBPF_OP_SINCE: one clock read at each end); with --ground-truth the engine times it itself
 * (two clock reads) to know each duration it reports; with --clock-only it reads the TSC at each
 * end and records nothing (the part of tracing no tracer can avoid, for the benchmarks). Whether
 * it is the --slow metric is decided
 * before its clock starts, so that the check is in no op's time. */
static struct op op_start(const char *metric)
{
	struct op o = { .slow = cfg.slow_metric && strcmp(cfg.slow_metric, metric) == 0 };

	if (cfg.clock_only)
		o.t0 = __builtin_ia32_rdtsc();
	else
		o.t0 = cfg.ground_truth ? perfbpf_now_ns() : PERFBPF_OP_START();
	return o;
}

/* --slow work is done inside the op's timed region, traced or not. */
static void op_end(struct worker *w, const char *metric, const char *symbol, struct op o)
{
	uint64_t d;

	if (o.slow)
		spin_ns(cfg.slow_ns);
	if (cfg.clock_only) {
		w->clock_sum += __builtin_ia32_rdtsc() - o.t0;
		return;
	}
	if (!cfg.ground_truth) {
		PERFBPF_OP_SINCE(metric, symbol, w->strategy, o.t0);
		return;
	}
	d = perfbpf_now_ns() - o.t0;
	if (PERFBPF_OP_ENABLED()) {
		PERFBPF_OP(metric, symbol, w->strategy, d);
		truth_add(&w->truth, metric, symbol, w->strategy, d);
	}
}

/* --- market data ------------------------------------------------------------------------------- */

struct bar {
	double open, high, low, close, volume;
};

struct series {
	const char *symbol;
	struct bar *bars;
	double *sma_fast, *sma_slow, *vol;
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double rng_gauss(uint64_t *s)
{
	double u1 = ((double)(rng_next(s) >> 11) + 1) / 9007199254740993.0;
	double u2 = (double)(rng_next(s) >> 11) / 9007199254740992.0;

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Geometric random walk seeded by the symbol name: the same bars on every run. */
static void load_candles(struct worker *w, struct series *s)
{
	struct op t0 = op_start("exchange.getCandles");
	uint64_t seed = 1469598103934665603ull;
	double price = 100;

	for (const char *c = s->symbol; *c; c++)
		seed = (seed ^ (unsigned char)*c) * 1099511628211ull;
	s->bars = calloc((size_t)cfg.bars, sizeof(*s->bars));
	if (!s->bars) {
		perror("backtest: bars");
		exit(1);
	}
	for (long i = 0; i < cfg.bars; i++) {
		struct bar *b = &s->bars[i];
		double drift = 0.00002, sigma = 0.004;

		b->open = price;
		price *= exp(drift + sigma * rng_gauss(&seed));
		b->close = price;
		b->high = fmax(b->open, b->close) * (1 + 0.001 * fabs(rng_gauss(&seed)));
		b->low = fmin(b->open, b->close) * (1 - 0.001 * fabs(rng_gauss(&seed)));
		b->volume = 1000 + 100 * fabs(rng_gauss(&seed));
	}
	op_end(w, "exchange.getCandles", s->symbol, t0);
}

/* Simple moving averages and a rolling standard deviation of returns. */
static void compute_features(struct worker *w, struct series *s)
{
	long n = cfg.bars;
	double sf = 0, ss = 0, sr = 0, sr2 = 0;
	const int vwin = 20;

	s->sma_fast = calloc((size_t)n, sizeof(double));
	s->sma_slow = calloc((size_t)n, sizeof(double));
	s->vol = calloc((size_t)n, sizeof(double));
	if (!s->sma_fast || !s->sma_slow || !s->vol) {
		perror("backtest: features");
		exit(1);
	}
	for (long i = 0; i < n; i++) {
		double c = s->bars[i].close;
		double r = i ? log(c / s->bars[i - 1].close) : 0;

		sf += c;
		ss += c;
		sr += r;
		sr2 += r * r;
		if (i >= w->fast)
			sf -= s->bars[i - w->fast].close;
		if (i >= w->slow)
			ss -= s->bars[i - w->slow].close;
		if (i >= vwin) {
			double old = log(s->bars[i - vwin].close /
					 s->bars[i - vwin - (i - vwin > 0)].close);

			sr -= old;
			sr2 -= old * old;
		}
		s->sma_fast[i] = sf / (double)(i + 1 < w->fast ? i + 1 : w->fast);
		s->sma_slow[i] = ss / (double)(i + 1 < w->slow ? i + 1 : w->slow);
		{
			double m = sr / vwin, v = sr2 / vwin - m * m;

			s->vol[i] = v > 0 ? sqrt(v) : 0;
		}
	}
}

/* --- strategy, risk, sizing, fills ------------------------------------------------------------- */

struct position {
	double qty, entry;
};

/* +1 buy (fast crosses above slow), -1 sell (crosses below), 0 nothing. */
#define ZSCORE_WINDOW 256
#define RECALIBRATE_EVERY 16   /* bars */
#define RECALIBRATE_WINDOW 4096

/* The close's z-score against the trailing `window` bars: a fixed amount of arithmetic. */
static double zscore(const struct series *s, long i, long window)
{
	long from = i >= window ? i - window + 1 : 0;
	double sum = 0, sq = 0, n = (double)(i - from + 1), mean, var;

	for (long j = from; j <= i; j++) {
		sum += s->bars[j].close;
		sq += s->bars[j].close * s->bars[j].close;
	}
	mean = sum / n;
	var = sq / n - mean * mean;
	return var > 0 ? (s->bars[i].close - mean) / sqrt(var) : 0;
}

/* strategy.indicators: the short-window z-score every bar, and every RECALIBRATE_EVERY bars a
 * long-window one as well, so the op has two modes, as engines with periodic recalibration do. */
static double indicators(const struct series *s, long i)
{
	double z = zscore(s, i, ZSCORE_WINDOW);

	if (i % RECALIBRATE_EVERY == 0)
		z = 0.5 * (z + zscore(s, i, RECALIBRATE_WINDOW));
	return z;
}

static int get_signal(const struct series *s, long i)
{
	if (i < 1)
		return 0;
	double prev = s->sma_fast[i - 1] - s->sma_slow[i - 1], now = s->sma_fast[i] - s->sma_slow[i];

	return prev <= 0 && now > 0 ? 1 : prev >= 0 && now < 0 ? -1 : 0;
}

/* Reject trades when volatility is extreme or the position would exceed its limit. */
static bool risk_check(const struct series *s, long i, const struct position *p, int signal)
{
	return s->vol[i] < 0.02 && !(signal > 0 && p->qty > 0) && !(signal < 0 && p->qty <= 0);
}

/* Risk 0.02% of equity per unit of per-bar volatility, at most 20% of equity per position. */
static double size_position(double equity, const struct series *s, long i)
{
	double v = s->vol[i] > 1e-6 ? s->vol[i] : 1e-6;
	double notional = fmin(equity * 0.0002 / v, equity * 0.2);

	return notional / s->bars[i].close;
}

/* Fill at the next bar's open plus slippage proportional to the bar's range. */
static double fill_price(const struct series *s, long i, int side)
{
	long j = i + 1 < cfg.bars ? i + 1 : i;
	const struct bar *b = &s->bars[j];

	return b->open + side * 0.02 * (b->high - b->low);
}

/* --- the backtest ------------------------------------------------------------------------------ */

static void backtest(struct worker *w)
{
	struct series series[MAX_SYMBOLS] = { 0 };
	struct position pos[MAX_SYMBOLS] = { 0 };
	double cash = 100000, peak = cash, maxdd = 0, sum_r = 0, sum_r2 = 0, prev_eq = cash;
	long nret = 0;

	long orders = 0;
	char run_id[64];

	PERFBPF_SPAN_BEGIN("backtest.run", "", w->strategy);
	if (PERFBPF_SPAN_ATTRS_ENABLED()) {
		snprintf(run_id, sizeof(run_id), "%s-%d", w->strategy, w->runs);
		PERFBPF_SPAN_ATTR_STR("backtest.run_id", run_id);
		PERFBPF_SPAN_ATTR_STR("backtest.strategy", w->strategy);
		PERFBPF_SPAN_ATTR_INT("backtest.symbols_count", cfg.nsymbols);
		PERFBPF_SPAN_ATTR_DOUBLE("backtest.initial_capital", cash);
	}

	PERFBPF_SPAN_BEGIN("backtest.load_data", "", w->strategy);
	for (int k = 0; k < cfg.nsymbols; k++) {
		series[k].symbol = cfg.symbols[k];
		load_candles(w, &series[k]);
	}
	PERFBPF_SPAN_ATTR_INT("data.total_bars", cfg.bars * cfg.nsymbols);
	PERFBPF_SPAN_ATTR_INT("data.symbols_loaded", cfg.nsymbols);
	PERFBPF_SPAN_END("backtest.load_data");

	PERFBPF_SPAN_BEGIN("backtest.preprocess", "", w->strategy);
	for (int k = 0; k < cfg.nsymbols; k++)
		compute_features(w, &series[k]);
	PERFBPF_SPAN_END("backtest.preprocess");

	PERFBPF_SPAN_BEGIN("backtest.simulation", "", w->strategy);
	for (long i = 0; i < cfg.bars && !stop; i++) {
		double equity = cash;

		for (int k = 0; k < cfg.nsymbols; k++) {
			struct series *s = &series[k];
			struct op tick = op_start("strategy.tick"), t;
			int sig;

			t = op_start("strategy.indicators");
			w->zsum += indicators(s, i);
			op_end(w, "strategy.indicators", s->symbol, t);

			t = op_start("strategy.getSignal");
			sig = get_signal(s, i);
			op_end(w, "strategy.getSignal", s->symbol, t);
			if (sig) {
				bool ok;

				PERFBPF_SPAN_BEGIN("order.submit", s->symbol, w->strategy);
				orders++;
				PERFBPF_SPAN_ATTR_STR("order.side", sig > 0 ? "buy" : "sell");
				if (PERFBPF_SPAN_ATTRS_ENABLED()) {
					char coid[96];

					snprintf(coid, sizeof(coid), "%s-%ld", run_id, orders);
					PERFBPF_SPAN_ATTR_STR("client_order_id", coid);
				}
				t = op_start("risk.checkSignal");
				ok = risk_check(s, i, &pos[k], sig);
				op_end(w, "risk.checkSignal", s->symbol, t);
				if (!ok) {
					w->rejected++;
					PERFBPF_SPAN_ERROR("risk check rejected the order");
				}
				if (ok) {
					double qty, px;

					t = op_start("sizing.calculate");
					qty = sig > 0 ? size_position(cash, s, i) : pos[k].qty;
					op_end(w, "sizing.calculate", s->symbol, t);

					t = op_start("exchange.fill");
					px = fill_price(s, i, sig);
					cash -= sig * qty * px;
					pos[k].qty += sig * qty;
					pos[k].entry = px;
					w->trades++;
					op_end(w, "exchange.fill", s->symbol, t);
					PERFBPF_SPAN_ATTR_DOUBLE("order.quantity", qty);
					if (PERFBPF_SPAN_ATTRS_ENABLED()) {
						char price[32];

						snprintf(price, sizeof(price), "%.4f", px);
						PERFBPF_SPAN_EVENT("order.filled", "fill.price", price);
					}
				}
				PERFBPF_SPAN_END("order.submit");
			}
			op_end(w, "strategy.tick", s->symbol, tick);
			equity += pos[k].qty * s->bars[i].close;
		}
		if (equity > peak)
			peak = equity;
		if ((peak - equity) / peak > maxdd)
			maxdd = (peak - equity) / peak;
		if (i > 0) {
			double r = equity / prev_eq - 1;

			sum_r += r;
			sum_r2 += r * r;
			nret++;
		}
		prev_eq = equity;
		if (cfg.tick_sleep_us)
			usleep((useconds_t)cfg.tick_sleep_us);
	}
	PERFBPF_SPAN_END("backtest.simulation");

	PERFBPF_SPAN_BEGIN("backtest.performance_calc", "", w->strategy);
	{
		double mean = nret ? sum_r / (double)nret : 0;
		double var = nret ? sum_r2 / (double)nret - mean * mean : 0;

		w->pnl = prev_eq - 100000;
		w->sharpe = var > 0 ? mean / sqrt(var) * sqrt(252.0 * 24 * 60) : 0;
		w->max_drawdown = maxdd;
	}
	PERFBPF_SPAN_ATTR_DOUBLE("perf.sharpe_ratio", w->sharpe);
	PERFBPF_SPAN_ATTR_DOUBLE("perf.max_drawdown_pct", 100 * w->max_drawdown);
	PERFBPF_SPAN_ATTR_INT("perf.total_trades", w->trades);
	PERFBPF_SPAN_END("backtest.performance_calc");

	PERFBPF_SPAN_BEGIN("backtest.report", "", w->strategy);
	if (!cfg.quiet)
		printf("%-10s trades %5ld  rejected %4ld  pnl %12.2f  sharpe %7.3f  max drawdown "
		       "%6.2f%%  mean z %6.3f\n",
		       w->strategy, w->trades, w->rejected, w->pnl, w->sharpe, 100 * w->max_drawdown,
		       w->zsum / (double)(cfg.bars * cfg.nsymbols));
	PERFBPF_SPAN_END("backtest.report");

	PERFBPF_SPAN_END("backtest.run");
	w->spans += 6 + orders;

	for (int k = 0; k < cfg.nsymbols; k++) {
		free(series[k].bars);
		free(series[k].sma_fast);
		free(series[k].sma_slow);
		free(series[k].vol);
	}
}

void *worker_main(void *arg)
{
	struct worker *w = arg;

	do {
		w->trades = 0;
		w->rejected = 0;
		w->zsum = 0;
		w->runs++;
		backtest(w);
	} while (cfg.forever && !stop);
	return NULL;
}
