/* SPDX-License-Identifier: BSD-2-Clause */
/* The demo engine's parts: its configuration (backtest.c, the command line), the ground-truth
 * log of every op it reported (ground_truth.c), the backtest itself (engine.c) and the
 * attribution test scenarios (scenarios.c). */
#ifndef PERFBPF_DEMO_H
#define PERFBPF_DEMO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_SYMBOLS 16
#define MAX_THREADS 64

struct config {
	const char *symbols[MAX_SYMBOLS];
	int nsymbols;
	long bars;
	int threads;          /* each thread backtests its own strategy parameters */
	bool forever;         /* repeat until SIGINT/SIGTERM */
	const char *ground_truth;
	const char *slow_metric; /* --slow METRIC:USEC */
	uint64_t slow_ns;
	double wait_attach_s; /* wait up to this long for a tracer before starting */
	long tick_sleep_us;   /* pause between bars (makes a run last) */
	bool quiet;
	bool timing; /* --timing: print the engine's own wall time on stderr */
	bool clock_only; /* --clock-only: time every op with two TSC reads, record nothing */
	const char *scenario; /* --scenario: attribution test spans instead of a backtest */
	long scenario_spans;
};

extern struct config cfg;
extern volatile sig_atomic_t stop;

/* --- ground truth: every op emitted while a tracer was attached (ground_truth.c) --- */

struct truth {
	const char *metric, *symbol, *strategy;
	uint64_t duration_ns;
};

struct truth_log {
	struct truth *v;
	size_t n, cap;
};

void truth_add(struct truth_log *log, const char *m, const char *sym, const char *strat,
	       uint64_t d);

struct worker {
	int id;
	char strategy[32];
	int fast, slow;
	struct truth_log truth;
	double pnl, sharpe, max_drawdown;
	double zsum; /* sum of the bars' z-scores (strategy.indicators) */
	uint64_t clock_sum; /* --clock-only: the ops' TSC durations, summed (so they are read) */
	long trades;
	long rejected; /* orders the risk check refused */
	long spans;    /* spans begun (and ended): 6 per backtest and one per order */
	int runs;      /* backtests started (--forever repeats them) */
};

/* One worker's backtests (engine.c): pthread entry, arg a struct worker. */
void *worker_main(void *arg);
/* Writes cfg.ground_truth from the workers' logs; 0 or 1. */
int write_truth(struct worker *ws, int n);
/* --scenario: spans with a known scheduler explanation (scenarios.c); exit status. */
int run_scenario(void);

#endif
