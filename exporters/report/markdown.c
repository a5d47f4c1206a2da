// SPDX-License-Identifier: BSD-2-Clause
/* The markdown report (layout after the seed's PerformanceMarkdownService report). */
#include "exporters/report/markdown.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "user/model/otlp_stats.h"

static const struct {
	const char *key;
	const char *label;
} columns[COL__MAX] = {
	[COL_METRIC] = { "metric", "Metric" },
	[COL_KIND] = { "kind", "Kind" },
	[COL_SYMBOL] = { "symbol", "Symbol" },
	[COL_STRATEGY] = { "strategy", "Strategy" },
	[COL_COUNT] = { "count", "Count" },
	[COL_TOTAL] = { "total", "Total" },
	[COL_SELF] = { "self", "Self" },
	[COL_MEAN] = { "mean", "Avg" },
	[COL_MIN] = { "min", "Min" },
	[COL_MAX] = { "max", "Max" },
	[COL_STDDEV] = { "stddev", "Std Dev" },
	[COL_P50] = { "p50", "Median" },
	[COL_P95] = { "p95", "P95" },
	[COL_P99] = { "p99", "P99" },
	[COL_WAIT_MEAN] = { "wait_mean", "Avg Wait" },
	[COL_WAIT_MIN] = { "wait_min", "Min Wait" },
	[COL_WAIT_MAX] = { "wait_max", "Max Wait" },
};

void markdown__default_opts(struct md_opts *o)
{
	o->unit = UNIT_AUTO;
	o->ncols = COL__MAX;
	for (int i = 0; i < COL__MAX; i++)
		o->cols[i] = (enum md_col)i;
}

const char *markdown__column_keys(void)
{
	static char keys[256];

	if (!keys[0])
		for (int i = 0; i < COL__MAX; i++)
			snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s",
				 i ? "," : "", columns[i].key);
	return keys;
}

int markdown__parse_columns(const char *spec, struct md_opts *o, const char **bad)
{
	static char badbuf[64];
	const char *p = spec;
	int n = 0;

	while (1) {
		size_t len = strcspn(p, ",");
		int found = -1;

		for (int i = 0; i < COL__MAX; i++)
			if (strlen(columns[i].key) == len && strncmp(p, columns[i].key, len) == 0)
				found = i;
		if (found < 0 || n == COL__MAX) {
			snprintf(badbuf, sizeof(badbuf), "%.*s", (int)len, p);
			*bad = badbuf;
			return -EINVAL;
		}
		o->cols[n++] = (enum md_col)found;
		if (!p[len])
			break;
		p += len + 1;
	}
	o->ncols = n;
	return 0;
}

/* Table cells must not break the table: escape '|' and flatten control characters. */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if ((unsigned char)*s < 0x20)
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static const char *kind_name(uint32_t kind)
{
	return kind == PERFBPF_EV_SPAN ? "span" : "op";
}

static void put_dur(FILE *f, double ns, enum time_unit u, bool approx)
{
	char buf[48];

	fprintf(f, "%s%s", approx ? "~" : "", fmt_duration(buf, sizeof(buf), ns, u));
}

static void put_cell(FILE *f, const struct stat_row *r, enum md_col c, enum time_unit u)
{
	char buf[48];

	switch (c) {
	case COL_METRIC: put_text(f, r->metric); break;
	case COL_KIND: fputs(kind_name(r->kind), f); break;
	case COL_SYMBOL: put_text(f, r->symbol && r->symbol[0] ? r->symbol : "-"); break;
	case COL_STRATEGY: put_text(f, r->strategy && r->strategy[0] ? r->strategy : "-"); break;
	case COL_COUNT: fputs(fmt_count(buf, sizeof(buf), r->count), f); break;
	case COL_TOTAL: put_dur(f, (double)r->total_ns, u, false); break;
	case COL_SELF: put_dur(f, (double)r->self_total_ns, u, false); break;
	case COL_MEAN: put_dur(f, r->mean_ns, u, false); break;
	case COL_MIN: put_dur(f, (double)r->min_ns, u, false); break;
	case COL_MAX: put_dur(f, (double)r->max_ns, u, false); break;
	case COL_STDDEV: put_dur(f, r->stddev_ns, u, false); break;
	case COL_P50: put_dur(f, (double)r->p50_ns, u, r->approximate); break;
	case COL_P95: put_dur(f, (double)r->p95_ns, u, r->approximate); break;
	case COL_P99: put_dur(f, (double)r->p99_ns, u, r->approximate); break;
	case COL_WAIT_MEAN:
	case COL_WAIT_MIN:
	case COL_WAIT_MAX:
		if (!r->wait_count)
			fputs("-", f);
		else
			put_dur(f, c == COL_WAIT_MEAN ? r->wait_mean_ns
				   : c == COL_WAIT_MIN ? (double)r->wait_min_ns
						       : (double)r->wait_max_ns, u, false);
		break;
	case COL__MAX: break;
	}
}

static void put_table(FILE *f, const struct stat_row *rows, size_t n, const struct md_opts *o,
		      bool keyed)
{
	int ncols = 0;
	enum md_col cols[COL__MAX];

	for (int i = 0; i < o->ncols; i++)
		if (keyed || (o->cols[i] != COL_SYMBOL && o->cols[i] != COL_STRATEGY))
			cols[ncols++] = o->cols[i];
	for (int i = 0; i < ncols; i++)
		fprintf(f, "| %s ", columns[cols[i]].label);
	fputs("|\n", f);
	for (int i = 0; i < ncols; i++)
		fputs(cols[i] <= COL_STRATEGY ? "|---" : "|---:", f);
	fputs("|\n", f);
	for (size_t r = 0; r < n; r++) {
		for (int i = 0; i < ncols; i++) {
			fputs("| ", f);
			put_cell(f, &rows[r], cols[i], o->unit);
			fputc(' ', f);
		}
		fputs("|\n", f);
	}
}

static void put_losses(FILE *f, const struct summary *s)
{
	static const struct {
		enum perfbpf_counter idx;
		const char *what;
	} losses[] = {
		{ PERFBPF_CNT_RB_DROPPED, "lost because the ring buffer was full (raise --ring-size)" },
		{ PERFBPF_CNT_SPAN_NO_STACK, "span begins dropped: too many threads with open spans "
					     "(raise --max-threads)" },
		{ PERFBPF_CNT_SPAN_DEPTH_OVERFLOW, "span begins nested deeper than "
						   "16 levels, not recorded" },
		{ PERFBPF_CNT_SPAN_UNMATCHED_END, "span ends with no open span on their thread" },
		{ PERFBPF_CNT_SPAN_MISMATCH, "span ends whose name was not the innermost open span" },
		{ PERFBPF_CNT_SPAN_ABANDONED, "open spans abandoned because an enclosing span ended "
					      "first" },
		{ PERFBPF_CNT_SPAN_UNFINISHED, "spans still open when their thread exited" },
		{ PERFBPF_CNT_STR_FAULT, "string arguments that could not be read (recorded empty, "
					 "or up to the unreadable page and marked truncated)" },
		{ PERFBPF_CNT_STR_TRUNCATED, "string arguments cut to their field size" },
		{ PERFBPF_CNT_NOTE_NO_SPAN, "span attributes, events or errors with no span open on "
					    "their thread (not exported)" },
		{ PERFBPF_CNT_MALFORMED_RECORD, "ring-buffer records that did not decode (lengths or "
						"kind out of range), not in the statistics" },
		{ PERFBPF_CNT_V3_BAD_BUFFER, "engine record buffers rejected (a header or cursor "
					     "that does not hold together): their records are lost" },
		{ PERFBPF_CNT_V3_UNCOLLECTED, "engine records pending at a thread's exit or exec "
					      "that could not be read" },
		{ PERFBPF_CNT_V3_UNDEFINED_KEY, "engine records whose key was never defined (or the "
						"engine's key table was full)" },
	};
	char buf[32];
	bool any = false;

	fputs("## Data quality\n\n", f);
	if (s->dropped == 0 && s->keys_over_limit == 0)
		fputs("- Every event that reached a probe is in the statistics (0 dropped).\n", f);
	else
		fprintf(f, "- **%s events are not in the statistics.**\n",
			fmt_count(buf, sizeof(buf), s->dropped + s->keys_over_limit));
	if (s->dropped && s->dropped_per_cpu) {
		fputs("- Dropped by CPU:", f);
		for (int c = 0; c < s->ncpus; c++)
			fprintf(f, "%s cpu%d %s", c ? "," : "", c,
				fmt_count(buf, sizeof(buf), s->dropped_per_cpu[c]));
		fputs(".\n", f);
	}
	for (size_t i = 0; i < sizeof(losses) / sizeof(losses[0]); i++) {
		uint64_t v = s->counters[losses[i].idx];

		if (!v)
			continue;
		fprintf(f, "- %s %s.\n", fmt_count(buf, sizeof(buf), v), losses[i].what);
		any = true;
	}
	if (s->keys_over_limit)
		fprintf(f, "- %s events of keys beyond --max-keys were counted but not aggregated.\n",
			fmt_count(buf, sizeof(buf), s->keys_over_limit));
	if (!any && s->dropped == 0)
		fputs("- No span bookkeeping errors and no unreadable strings.\n", f);
	if (s->self_peak_rss_bytes)
		fprintf(f, "- perfbpf itself used %.2f s of CPU (user + system) and at most %.1f MiB "
			   "of memory (peak RSS).\n",
			s->self_cpu_s, (double)s->self_peak_rss_bytes / (1024.0 * 1024.0));

	size_t napprox = 0;

	for (size_t i = 0; i < s->nrows; i++)
		napprox += s->rows[i].approximate;
	if (s->kernel_histograms)
		fprintf(f, "- Aggregated in the kernel (perfbpf monitor): percentiles (marked ~) and "
			   "the standard deviation come from histograms and are within %.1f%% of the "
			   "exact value; count, total, mean, min and max are exact.\n",
			s->hist_rel_error * 100);
	else if (napprox)
		fprintf(f, "- Percentiles marked ~ (%zu of %zu keys) come from a histogram and are "
			   "within %.1f%% of the exact value: their samples outgrew the %llu MiB "
			   "sample budget (--sample-budget).\n",
			napprox, s->nrows, s->hist_rel_error * 100,
			(unsigned long long)(s->sample_budget_bytes >> 20));
	else if (s->stats_backtest_kit)
		fputs("- All percentiles are exact (interpolated between the ranks around them over "
		      "every recorded event, as backtest-kit's report).\n", f);
	else
		fputs("- All percentiles are exact (nearest rank over every recorded event).\n", f);
	if (s->stats_backtest_kit)
		fputs("- Statistics as backtest-kit defines them (--stats backtest-kit): sample "
		      "standard deviation (N - 1), percentiles interpolated linearly.\n", f);
}

/* --otlp: what became of every span. */
/* What became of the spans (metrics: the data points) sent over OTLP. */
static void put_otlp(FILE *f, const struct otlp_stats *o, bool metrics)
{
	const char *what = metrics ? "data points" : "spans";
	static const struct {
		size_t off;
		const char *what;
	} reasons[] = {
		{ offsetof(struct otlp_stats, queue_full), "dropped: the export queue was full "
							  "(raise --otlp-queue)" },
		{ offsetof(struct otlp_stats, rejected), "refused by the collector (a status that is "
							"not retried)" },
		{ offsetof(struct otlp_stats, partial_rejected), "rejected in partial-success "
								"responses" },
		{ offsetof(struct otlp_stats, gave_up), "given up after retries" },
		{ offsetof(struct otlp_stats, unsent_at_exit), "still queued when the flush timeout "
							      "passed" },
	};
	uint64_t undelivered = otlp_stats__undelivered(o);
	char b1[32], b2[32];

	fputs(metrics ? "## Metrics export (OTLP)\n\n" : "## Span export (OTLP)\n\n", f);
	fputs("- Endpoint: ", f);
	put_text(f, o->url ? o->url : "?");
	if (metrics)
		fprintf(f, "\n- %s data points: %s exported, %s superseded before they were sent by a "
			"later export that holds them, %s not delivered.\n",
			fmt_count(b1, sizeof(b1), o->spans), fmt_count(b2, sizeof(b2), o->exported),
			fmt_count(b1, sizeof(b1), o->superseded),
			fmt_count(b2, sizeof(b2), undelivered));
	else
		fprintf(f, "\n- %s spans: %s exported, %s left out by sampling, %s not "
			"delivered.\n", fmt_count(b1, sizeof(b1), o->spans),
			fmt_count(b2, sizeof(b2), o->exported), fmt_count(b1, sizeof(b1), o->sampled_out),
			fmt_count(b2, sizeof(b2), undelivered));
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		uint64_t v = *(const uint64_t *)((const char *)o + reasons[i].off);

		if (v)
			fprintf(f, "- **%s %s %s.**\n", fmt_count(b1, sizeof(b1), v), what,
				reasons[i].what);
	}
	if (o->tail_buffer_full)
		fprintf(f, "- %s unsampled spans were not held for --slow-threshold (raise "
			   "--otlp-tail-buffer).\n", fmt_count(b1, sizeof(b1), o->tail_buffer_full));
	if (o->notes_orphaned)
		fprintf(f, "- %s span attributes or events belonged to spans that never ended.\n",
			fmt_count(b1, sizeof(b1), o->notes_orphaned));
	if (o->notes_over_limit)
		fprintf(f, "- %s span attributes or events beyond 128 per span were left out.\n",
			fmt_count(b1, sizeof(b1), o->notes_over_limit));
	fprintf(f, "- %s requests, %s retries.", fmt_count(b1, sizeof(b1), o->requests),
		fmt_count(b2, sizeof(b2), o->retries));
	if (o->last_error[0]) {
		fputs(" Last error: ", f);
		put_text(f, o->last_error);
	}
	fputs("\n\n", f);
}

/* Per span metric: where its time went, from the scheduler (--attribution). */
static void put_attribution(FILE *f, const struct summary *s, enum time_unit u)
{
	static const char *const what[ATTR__N] = {
		"on CPU (the code itself)",
		"waiting for a CPU (preempted, or more runnable threads than CPUs)",
		"blocked (sleeping, locks, I/O, page faults)",
	};
	bool any = false;
	char b[3][48];

	for (size_t i = 0; i < s->nmetrics; i++)
		any = any || s->metrics[i].attributed;
	if (!any)
		return;
	fputs("## Where the time went\n\nSpan time split by the kernel scheduler: on CPU, waiting in "
	      "the run queue, or blocked. The shares add up to each span's duration.\n\n", f);
	for (size_t i = 0; i < s->nmetrics; i++) {
		const struct stat_row *r = &s->metrics[i];
		double tot = 0, share[ATTR__N];
		int top = 0;

		if (!r->attributed)
			continue;
		for (int c = 0; c < ATTR__N; c++)
			tot += (double)r->attr[c].total_ns;
		for (int c = 0; c < ATTR__N; c++) {
			share[c] = tot > 0 ? 100.0 * (double)r->attr[c].total_ns / tot : 0;
			if (share[c] > share[top])
				top = c;
		}
		fputs("- **", f);
		put_text(f, r->metric);
		fprintf(f, "**: %.1f%% on CPU, %.1f%% run-queue wait, %.1f%% blocked", share[0],
			share[1], share[2]);
		if (share[top] >= 50)
			fprintf(f, ": mostly %s", what[top]);
		fprintf(f, ". p99 on CPU %s, run-queue %s, blocked %s; ",
			fmt_duration(b[0], sizeof(b[0]), (double)r->attr[0].p99_ns, u),
			fmt_duration(b[1], sizeof(b[1]), (double)r->attr[1].p99_ns, u),
			fmt_duration(b[2], sizeof(b[2]), (double)r->attr[2].p99_ns, u));
		fprintf(f, "%llu voluntary and %llu involuntary context switches, %llu migrations.\n",
			(unsigned long long)r->voluntary_switches,
			(unsigned long long)r->involuntary_switches,
			(unsigned long long)r->migrations);
	}
	fputc('\n', f);
}

int markdown__write(FILE *f, const struct summary *s, const struct md_opts *o)
{
	uint64_t sum = 0;
	char b1[48], b2[48], b3[48];

	for (size_t i = 0; i < s->nmetrics; i++)
		sum += s->metrics[i].total_ns;

	fputs("# perfbpf performance report\n\n", f);
	fputs("**Command:** `", f);
	put_text(f, s->command ? s->command : "?");
	fprintf(f, "` (pid %d)\n\n", s->pid);
	fprintf(f, "**Traced for:** %s, until %s", fmt_duration(b1, sizeof(b1), (double)s->trace_ns,
							   UNIT_AUTO),
		s->stop_reason ? s->stop_reason : "stopped");
	if (s->exit_status >= 0)
		fprintf(f, " (exit status %d)", s->exit_status);
	fprintf(f, "\n\n**Total events:** %s\n\n", fmt_count(b2, sizeof(b2), s->events));
	fprintf(f, "**Total execution time:** %s (sum of the metric totals; a span's total "
		   "includes its child spans)\n\n", fmt_duration(b3, sizeof(b3), (double)sum, o->unit));
	fprintf(f, "**Number of metric types:** %zu\n\n", s->nmetrics);
	fprintf(f, "**Dropped events:** %s\n\n", fmt_count(b1, sizeof(b1), s->dropped));
	fprintf(f, "**Probes:** %u site%s in %u binar%s\n\n", s->probe_sites,
		s->probe_sites == 1 ? "" : "s", s->binaries, s->binaries == 1 ? "y" : "ies");

	fputs("## Time distribution\n\n", f);
	if (s->nmetrics == 0)
		fputs("No events were recorded.\n\n", f);
	for (size_t i = 0; i < s->nmetrics; i++) {
		const struct stat_row *r = &s->metrics[i];

		fputs("- **", f);
		put_text(f, r->metric);
		fprintf(f, "** (%s): %.1f%% (%s total", kind_name(r->kind),
			sum ? 100.0 * (double)r->total_ns / (double)sum : 0.0,
			fmt_duration(b1, sizeof(b1), (double)r->total_ns, o->unit));
		if (r->kind == PERFBPF_EV_SPAN)
			fprintf(f, ", %s outside child spans",
				fmt_duration(b2, sizeof(b2), (double)r->self_total_ns, o->unit));
		fputs(")\n", f);
	}
	if (s->nmetrics)
		fputc('\n', f);

	put_attribution(f, s, o->unit);
	fputs("## Metrics\n\nAll symbols and strategies together, by total time.\n\n", f);
	put_table(f, s->metrics, s->nmetrics, o, false);
	fputs("\n## By symbol and strategy\n\n", f);
	put_table(f, s->rows, s->nrows, o, true);
	fputc('\n', f);
	put_losses(f, s);
	if (s->otlp) {
		fputc('\n', f);
		put_otlp(f, s->otlp, false);
	}
	if (s->otlp_metrics) {
		fputc('\n', f);
		put_otlp(f, s->otlp_metrics, true);
	}
	return ferror(f) ? -EIO : 0;
}
