/* SPDX-License-Identifier: BSD-2-Clause */
/* The finished result of a trace, as the exporters see it: per-key and per-metric rows plus what
 * was lost and why. Plain data; no libbpf. */
#ifndef PERFBPF_SUMMARY_H
#define PERFBPF_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/perfbpf.h"
#include "user/model/hist.h"

/* /2 added "environment", "runs" (per-run rows with histograms) and "histogram_layout". */
#define PERFBPF_SUMMARY_SCHEMA "perfbpf.summary/2"

/* Kernel attribution of span time (--attribution). */
enum { ATTR_ONCPU, ATTR_RUNQ, ATTR_BLOCKED, ATTR__N };

struct attr_stats {
	uint64_t total_ns;
	double mean_ns;
	uint64_t p50_ns, p99_ns;
	bool approximate;
};

struct stat_row {
	const char *metric;
	const char *symbol;   /* "" when the engine passed none; NULL in a per-metric roll-up */
	const char *strategy; /* likewise */
	uint32_t kind;        /* enum perfbpf_event_kind */
	uint64_t count;
	uint64_t total_ns;
	uint64_t self_total_ns; /* spans: total minus child spans; ops: equal to total */
	double mean_ns;
	uint64_t min_ns, max_ns;
	double stddev_ns;
	uint64_t p50_ns, p95_ns, p99_ns;
	bool approximate; /* percentiles from the histogram (see summary.hist_rel_error) */
	uint64_t wait_count; /* gaps between consecutive events of this key: count - 1 */
	double wait_mean_ns;
	uint64_t wait_min_ns, wait_max_ns;
	uint32_t flags; /* PERFBPF_F_* seen on any event of this key */
	bool attributed; /* spans with scheduler attribution: the fields below are set */
	struct attr_stats attr[ATTR__N];
	uint64_t voluntary_switches, involuntary_switches, migrations;
	/* The durations as a log-linear histogram (hist.h), when the aggregation keeps them
	 * (per-run records for `perfbpf gate`); else NULL. */
	const struct hist_bin *bins;
	size_t nbins;
};

/* One run of the target (`perfbpf run --repeat N` makes N), with rows that own their memory. */
struct run_summary {
	unsigned index;      /* 1-based */
	int pid;
	int exit_status;     /* -1: not known (attach) */
	const char *stop_reason;
	uint64_t start_real_ns, trace_ns;
	uint64_t events, dropped;
	struct stat_row *rows;    /* per key, each with its histogram (bins) */
	size_t nrows;
	struct stat_row *metrics; /* per metric */
	size_t nmetrics;
};

struct environment;
struct otlp_stats;

struct summary {
	const char *command;     /* traced command line (or executable) */
	int pid;
	const char *stop_reason; /* "target exited", "interrupted", "duration elapsed", ... */
	int exit_status;         /* run: the command's exit status, else -1 */
	uint64_t start_real_ns;  /* wall clock when tracing started */
	uint64_t trace_ns;       /* how long tracing lasted */
	uint64_t events;         /* events aggregated */
	uint64_t dropped;        /* events that happened but are not in the statistics */
	uint64_t counters[PERFBPF_CNT__MAX];
	const uint64_t *dropped_per_cpu; /* `dropped` by CPU (ncpus entries), or NULL */
	int ncpus;
	uint64_t keys_over_limit; /* events not aggregated because the key table was full */
	uint64_t sample_budget_bytes;
	bool stats_backtest_kit; /* --stats backtest-kit: std dev N-1, interpolated percentiles */
	double hist_rel_error;
	unsigned binaries, probe_sites;
	uint64_t strings_from_files; /* string fields read from the target's files, not copied */
	bool attribution; /* --attribution was on */
	bool kernel_histograms; /* perfbpf monitor: every percentile from the in-kernel histograms */
	struct stat_row *rows;    /* per (metric, symbol, strategy), by total_ns descending */
	size_t nrows;
	struct stat_row *metrics; /* per metric roll-ups, by total_ns descending */
	size_t nmetrics;
	const struct run_summary *runs; /* attach and run: every run, in order; else NULL */
	size_t nruns;
	const struct environment *env;  /* where it was measured, or NULL */
	const struct otlp_stats *otlp;  /* --otlp: what became of the spans, else NULL */
	const struct otlp_stats *otlp_metrics; /* --otlp-metrics: of the data points, else NULL */
	double self_cpu_s;              /* perfbpf's own CPU time (user + system), or 0 */
	uint64_t self_peak_rss_bytes;   /* perfbpf's peak resident memory, or 0: not shown */
};

/* The counters of events that reached a probe but are in no statistic (a malformed record is
 * counted by the consumer, on no CPU). */
static const enum perfbpf_counter summary_drop_counters[] = {
	PERFBPF_CNT_RB_DROPPED, PERFBPF_CNT_SPAN_NO_STACK, PERFBPF_CNT_SPAN_DEPTH_OVERFLOW,
	PERFBPF_CNT_MALFORMED_RECORD, PERFBPF_CNT_V3_UNCOLLECTED, PERFBPF_CNT_V3_UNDEFINED_KEY,
};
#define SUMMARY_DROP_COUNTERS (sizeof(summary_drop_counters) / sizeof(summary_drop_counters[0]))

/* Each counter's name in the JSON summary and the OTLP metrics (NULL: not a loss). */
static const char *const summary_counter_names[PERFBPF_CNT__MAX] = {
	[PERFBPF_CNT_RB_DROPPED] = "ringbuf_full",
	[PERFBPF_CNT_SPAN_NO_STACK] = "span_no_stack",
	[PERFBPF_CNT_SPAN_DEPTH_OVERFLOW] = "span_depth_overflow",
	[PERFBPF_CNT_SPAN_UNMATCHED_END] = "span_unmatched_end",
	[PERFBPF_CNT_SPAN_MISMATCH] = "span_mismatch",
	[PERFBPF_CNT_SPAN_ABANDONED] = "span_abandoned",
	[PERFBPF_CNT_SPAN_UNFINISHED] = "span_unfinished",
	[PERFBPF_CNT_STR_FAULT] = "string_fault",
	[PERFBPF_CNT_STR_TRUNCATED] = "string_truncated",
	[PERFBPF_CNT_NOTE_NO_SPAN] = "span_note_without_span",
	[PERFBPF_CNT_MALFORMED_RECORD] = "malformed_record",
	[PERFBPF_CNT_V3_BAD_BUFFER] = "bad_buffer",
	[PERFBPF_CNT_V3_UNCOLLECTED] = "uncollected",
	[PERFBPF_CNT_V3_UNDEFINED_KEY] = "undefined_key",
};

/* Events that reached a probe but are in no statistic, from the counters. */
static inline uint64_t summary__dropped(const uint64_t counters[PERFBPF_CNT__MAX])
{
	uint64_t n = 0;

	for (size_t i = 0; i < SUMMARY_DROP_COUNTERS; i++)
		n += counters[summary_drop_counters[i]];
	return n;
}

#endif
