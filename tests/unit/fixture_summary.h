/* SPDX-License-Identifier: BSD-2-Clause */
/* A fixed summary for the exporter tests. */
#ifndef PERFBPF_FIXTURE_SUMMARY_H
#define PERFBPF_FIXTURE_SUMMARY_H

#include "user/model/summary.h"

static struct stat_row fixture_rows[] = {
	{ .metric = "backtest.simulation", .symbol = "", .strategy = "sma-5-20",
	  .kind = PERFBPF_EV_SPAN, .count = 1, .total_ns = 250000000, .self_total_ns = 50000000,
	  .mean_ns = 250000000, .min_ns = 250000000, .max_ns = 250000000, .p50_ns = 250000000,
	  .p95_ns = 250000000, .p99_ns = 250000000 },
	{ .metric = "strategy.tick", .symbol = "BTC|USDT", .strategy = "sma-5-20",
	  .kind = PERFBPF_EV_OP, .count = 1234567, .total_ns = 150000000, .self_total_ns = 150000000,
	  .mean_ns = 121.5, .min_ns = 80, .max_ns = 2500000, .stddev_ns = 45.25, .p50_ns = 110,
	  .p95_ns = 190, .p99_ns = 1500, .approximate = true, .wait_count = 1234566,
	  .wait_mean_ns = 202.5, .wait_min_ns = 90, .wait_max_ns = 3000000 },
};

static struct stat_row fixture_metrics[] = {
	{ .metric = "backtest.simulation", .kind = PERFBPF_EV_SPAN, .count = 1,
	  .total_ns = 250000000, .self_total_ns = 50000000, .mean_ns = 250000000,
	  .min_ns = 250000000, .max_ns = 250000000, .p50_ns = 250000000, .p95_ns = 250000000,
	  .p99_ns = 250000000 },
	{ .metric = "strategy.tick", .kind = PERFBPF_EV_OP, .count = 1234567,
	  .total_ns = 150000000, .self_total_ns = 150000000, .mean_ns = 121.5, .min_ns = 80,
	  .max_ns = 2500000, .stddev_ns = 45.25, .p50_ns = 110, .p95_ns = 190, .p99_ns = 1500,
	  .approximate = true, .wait_count = 1234566, .wait_mean_ns = 202.5, .wait_min_ns = 90,
	  .wait_max_ns = 3000000 },
};

static void fixture_summary(struct summary *s)
{
	memset(s, 0, sizeof(*s));
	s->command = "./backtest --symbols BTCUSDT";
	s->pid = 4242;
	s->stop_reason = "the command exited";
	s->exit_status = 0;
	s->start_real_ns = 1795000000000000000ull;
	s->trace_ns = 3210000000ull;
	s->events = 1234568;
	s->dropped = 12;
	s->counters[PERFBPF_CNT_RB_DROPPED] = 12;
	s->counters[PERFBPF_CNT_SPAN_MISMATCH] = 2;
	s->sample_budget_bytes = 256ull << 20;
	s->hist_rel_error = 1.0 / 256;
	s->binaries = 1;
	s->probe_sites = 13;
	s->rows = fixture_rows;
	s->nrows = 2;
	s->metrics = fixture_metrics;
	s->nmetrics = 2;
}

#endif
