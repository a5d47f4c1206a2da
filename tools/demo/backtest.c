// SPDX-License-Identifier: BSD-2-Clause
/* The perfbpf demo engine: a small, real backtest engine instrumented with perfbpf probes.
 *
 * Deterministic synthetic OHLCV bars per symbol -> features (fast/slow moving averages, rolling
 * volatility) -> an event loop running a moving-average crossover strategy with a risk check,
 * volatility-scaled position sizing and simulated fills with slippage -> PnL, Sharpe ratio and
 * maximum drawdown.
 *
 * Phases are kernel-timed spans (backtest.run > backtest.load_data, backtest.preprocess,
 * backtest.simulation > order.submit, backtest.performance_calc, backtest.report) carrying the
 * attributes of the OpenTelemetry backtest pipeline (backtest.run_id, data.total_bars,
 * perf.sharpe_ratio, order.side, client_order_id, ...); an order the risk check rejects is an
 * order.submit span with status ERROR. Per-bar work is engine-timed
 * ops (strategy.tick, strategy.indicators, strategy.getSignal, risk.checkSignal, sizing.calculate, exchange.fill,
 * exchange.getCandles), the metric types of backtest-kit's PerformanceContract.
 *
 * This file: the command line and main. The backtest is engine.c, the ground-truth log for the
 * tests ground_truth.c, the attribution scenarios scenarios.c (demo.h ties them together).
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include <perfbpf/probe.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

struct config cfg = { .bars = 20000, .threads = 1, .scenario_spans = 20 };
volatile sig_atomic_t stop;

/* --- command line ------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs("Usage: backtest [--symbols A,B,...] [--bars N] [--threads N] [--forever]\n"
	      "                [--ground-truth FILE] [--slow METRIC:USEC] [--wait-attach SEC]\n"
	      "                [--tick-sleep-us N] [--quiet] [--timing] [--clock-only]\n"
	      "A small backtest engine instrumented with perfbpf probes (see README.md).\n"
	      "  --symbols LIST      symbols to backtest (default BTCUSDT,ETHUSDT)\n"
	      "  --bars N            bars per symbol (default 20000)\n"
	      "  --threads N         parallel backtests, one strategy each (default 1)\n"
	      "  --forever           repeat the backtest until SIGINT or SIGTERM\n"
	      "  --ground-truth FILE write every op emitted to a tracer: metric, symbol, strategy,\n"
	      "                      duration_ns (tab-separated)\n"
	      "  --slow METRIC:USEC  add USEC microseconds (fractions allowed: 0.6) of busy work to\n"
	      "                      every METRIC op\n"
	      "  --wait-attach SEC   wait up to SEC seconds for a tracer before starting\n"
	      "  --tick-sleep-us N   sleep N us after each bar (a slower, longer run)\n"
	      "  --quiet             print no results\n"
	      "  --timing            print \"wall_ns N\" on stderr at exit: the run's own wall time\n"
	      "                      (and user_ns, sys_ns: its CPU time)\n"
	      "  --clock-only        time every op with two TSC reads and record nothing, tracer or\n"
	      "                      not: what timing the ops costs any tracer (benchmarks)\n"
	      "  --scenario NAME     instead of a backtest, spans that spin, sleep or contend (two\n"
	      "                      threads pinned to CPU 0): tests for perfbpf --attribution\n"
	      "  --scenario-spans N  spans per scenario thread (default 20)\n", f);
}

/* Microseconds, fractions allowed ("0.6"), from 0 to 10 s; returned in ns. */
static uint64_t usec_arg(const char *opt, const char *v)
{
	char *end;
	double us;

	errno = 0;
	us = strtod(v, &end);
	if (end == v || *end || errno || !(us >= 0) || us > 1e7) {
		fprintf(stderr, "backtest: %s wants microseconds from 0 to 10000000, got '%s'\n", opt, v);
		exit(2);
	}
	return (uint64_t)llround(us * 1000);
}

static long num_arg(const char *opt, const char *v, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < min || n > max) {
		fprintf(stderr, "backtest: invalid value '%s' for %s (expected %ld..%ld)\n", v, opt,
			min, max);
		exit(2);
	}
	return n;
}

static void parse_args(int argc, char **argv)
{
	static char symbols_default[] = "BTCUSDT,ETHUSDT";
	char *symbols = symbols_default;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if (!strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--forever")) {
			cfg.forever = true;
			takes = false;
		} else if (!strcmp(a, "--quiet")) {
			cfg.quiet = true;
			takes = false;
		} else if (!strcmp(a, "--timing")) {
			cfg.timing = true;
			takes = false;
		} else if (!strcmp(a, "--clock-only")) {
			cfg.clock_only = true;
			takes = false;
		} else if (!v) {
			fprintf(stderr, "backtest: %s needs a value (see --help)\n", a);
			exit(2);
		} else if (!strcmp(a, "--symbols")) {
			symbols = argv[i + 1];
		} else if (!strcmp(a, "--bars")) {
			cfg.bars = num_arg(a, v, 2, 100000000);
		} else if (!strcmp(a, "--threads")) {
			cfg.threads = (int)num_arg(a, v, 1, MAX_THREADS);
		} else if (!strcmp(a, "--ground-truth")) {
			cfg.ground_truth = v;
		} else if (!strcmp(a, "--wait-attach")) {
			cfg.wait_attach_s = (double)num_arg(a, v, 0, 3600);
		} else if (!strcmp(a, "--scenario")) {
			cfg.scenario = v;
		} else if (!strcmp(a, "--scenario-spans")) {
			cfg.scenario_spans = num_arg(a, v, 1, 1000000);
		} else if (!strcmp(a, "--tick-sleep-us")) {
			cfg.tick_sleep_us = num_arg(a, v, 0, 1000000);
		} else if (!strcmp(a, "--slow")) {
			char *colon = strrchr(argv[i + 1], ':');

			if (!colon || colon == argv[i + 1]) {
				fprintf(stderr, "backtest: --slow wants METRIC:USEC, got '%s'\n", v);
				exit(2);
			}
			*colon = '\0';
			cfg.slow_metric = argv[i + 1];
			cfg.slow_ns = usec_arg(a, colon + 1);
		} else {
			fprintf(stderr, "backtest: unknown option '%s' (see --help)\n", a);
			exit(2);
		}
		i += takes;
	}
	for (char *tok = strtok(symbols, ","); tok; tok = strtok(NULL, ",")) {
		if (cfg.nsymbols == MAX_SYMBOLS) {
			fprintf(stderr, "backtest: at most %d symbols\n", MAX_SYMBOLS);
			exit(2);
		}
		cfg.symbols[cfg.nsymbols++] = tok;
	}
	if (!cfg.nsymbols) {
		fprintf(stderr, "backtest: --symbols is empty\n");
		exit(2);
	}
}

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static const int params[][2] = { { 5, 20 }, { 10, 50 }, { 20, 100 }, { 50, 200 } };
	struct worker ws[MAX_THREADS] = { 0 };
	pthread_t th[MAX_THREADS];
	int rc = 0;
	uint64_t t_start = perfbpf_now_ns();

	parse_args(argc, argv);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	if (cfg.wait_attach_s > 0) {
		uint64_t end = perfbpf_now_ns() + (uint64_t)(cfg.wait_attach_s * 1e9);

		/* A tracer attaches probe by probe, and the kernel raises a probe's semaphore before
		 * it has armed every site of it: start once op and both span probes are on, and give
		 * the last one a moment, so that the ground truth and the trace cover the same events. */
		while (!(PERFBPF_OP_ENABLED() && PERFBPF_SPAN_ENABLED() &&
			 PERFBPF__ANY(span_end)) && perfbpf_now_ns() < end && !stop)
			usleep(1000);
		if (PERFBPF_ENABLED())
			usleep(50000);
	}
	if (cfg.scenario)
		return run_scenario();
	for (int t = 0; t < cfg.threads; t++) {
		ws[t].id = t;
		ws[t].fast = params[t % 4][0] + t / 4;
		ws[t].slow = params[t % 4][1] + t / 4;
		snprintf(ws[t].strategy, sizeof(ws[t].strategy), "sma-%d-%d", ws[t].fast, ws[t].slow);
		if (pthread_create(&th[t], NULL, worker_main, &ws[t])) {
			fprintf(stderr, "backtest: cannot start thread %d\n", t);
			return 1;
		}
	}
	for (int t = 0; t < cfg.threads; t++)
		pthread_join(th[t], NULL);
	if (cfg.ground_truth)
		rc = write_truth(ws, cfg.threads);
	for (int t = 0; t < cfg.threads; t++)
		free(ws[t].truth.v);
	if (cfg.timing) {
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "wall_ns %llu\nuser_ns %llu\nsys_ns %llu\n",
			(unsigned long long)(perfbpf_now_ns() - t_start),
			(unsigned long long)ru.ru_utime.tv_sec * 1000000000ull +
				(unsigned long long)ru.ru_utime.tv_usec * 1000,
			(unsigned long long)ru.ru_stime.tv_sec * 1000000000ull +
				(unsigned long long)ru.ru_stime.tv_usec * 1000);
	}
	return rc;
}
