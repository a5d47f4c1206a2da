// SPDX-License-Identifier: BSD-2-Clause
/* Prometheus text exposition of the monitor's series (see prometheus.h). */
#include "exporters/prometheus/prometheus.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char DUR[] = "perfbpf_operation_duration_seconds";
static const char WAIT[] = "perfbpf_operation_wait_seconds";
#define DROPPED_BY_CPU "perfbpf_dropped_events_by_cpu_total"

/* A label value, escaped as the format asks (backslash, double quote, newline). */
static void put_label(FILE *f, const char *name, const char *v, bool comma)
{
	fprintf(f, "%s%s=\"", comma ? "," : "", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
	fputc('"', f);
}

static void put_labels(FILE *f, const struct kseries *s, bool per_pid)
{
	put_label(f, "kind", s->kind == PERFBPF_EV_SPAN ? "span" : "op", false);
	put_label(f, "metric", s->metric, true);
	put_label(f, "symbol", s->symbol, true);
	put_label(f, "strategy", s->strategy, true);
	if (per_pid)
		fprintf(f, ",pid=\"%" PRIu32 "\"", s->pid);
}

static void put_seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%.12g", (double)ns * 1e-9);
}

static void put_bucket(FILE *f, const char *fam, const struct kseries *s, bool per_pid,
		       uint64_t le_ns, uint64_t cum)
{
	fprintf(f, "%s_bucket{", fam);
	put_labels(f, s, per_pid);
	fputs(",le=\"", f);
	put_seconds(f, le_ns);
	fprintf(f, "\"} %" PRIu64 "\n", cum);
}

/* Marks the bounds a histogram needs: both edges of each of its non-empty buckets, as the upper
 * bound of that bucket and of the one below it. */
static void mark_edges(bool *edge, const uint64_t *b)
{
	for (unsigned i = 0; i < KHIST_OVERFLOW; i++)
		if (b[i]) {
			edge[i] = true;
			if (i > 0)
				edge[i - 1] = true;
		}
}

static void put_histogram(FILE *f, const char *fam, const struct kseries *s, bool per_pid,
			  const bool *edge, const uint64_t *b, uint64_t count, uint64_t sum_ns)
{
	uint64_t cum = 0;

	for (unsigned i = 0; i < KHIST_OVERFLOW; i++) {
		cum += b[i];
		if (edge[i])
			put_bucket(f, fam, s, per_pid, khist_upper(i), cum);
	}
	fprintf(f, "%s_bucket{", fam);
	put_labels(f, s, per_pid);
	fprintf(f, ",le=\"+Inf\"} %" PRIu64 "\n%s_sum{", count, fam);
	put_labels(f, s, per_pid);
	fputs("} ", f);
	put_seconds(f, sum_ns);
	fprintf(f, "\n%s_count{", fam);
	put_labels(f, s, per_pid);
	fprintf(f, "} %" PRIu64 "\n", count);
}

static bool same_metric(const struct kseries *a, const struct kseries *b)
{
	return a->kind == b->kind && !strcmp(a->metric, b->metric);
}

/* One histogram family. All series of a metric share one set of bounds (the union of what each
 * needs), so that sum by (le) across symbols, strategies and processes adds like with like. */
static int put_histograms(FILE *f, const char *fam, const struct prom_input *in, bool wait)
{
	bool *edge = malloc(KHIST_OVERFLOW * sizeof(*edge));
	bool *done = calloc(in->nseries ? in->nseries : 1, sizeof(*done));

	if (!edge || !done) {
		free(edge);
		free(done);
		return -ENOMEM;
	}
	for (size_t i = 0; i < in->nseries; i++) {
		if (done[i])
			continue;
		memset(edge, 0, KHIST_OVERFLOW * sizeof(*edge));
		for (size_t j = i; j < in->nseries; j++)
			if (same_metric(in->series[i], in->series[j]))
				mark_edges(edge, wait ? in->series[j]->wait : in->series[j]->dur);
		for (size_t j = i; j < in->nseries; j++) {
			const struct kseries *s = in->series[j];

			if (done[j] || !same_metric(in->series[i], s))
				continue;
			done[j] = true;
			if (wait)
				put_histogram(f, fam, s, in->per_pid, edge, s->wait, s->wait_count,
					      s->wait_sum_ns);
			else
				put_histogram(f, fam, s, in->per_pid, edge, s->dur, s->count,
					      s->sum_ns);
		}
	}
	free(edge);
	free(done);
	return 0;
}

static void put_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	put_family(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

struct reason {
	enum perfbpf_counter idx;
	const char *label;
};

static void put_reasons(FILE *f, const char *name, const char *help, const struct reason *r,
			size_t n, const uint64_t *counters)
{
	put_family(f, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s{reason=\"%s\"} %" PRIu64 "\n", name, r[i].label,
			counters[r[i].idx]);
}

int prometheus__write(FILE *f, const struct prom_input *in)
{
	static const struct reason dropped[] = {
		{ PERFBPF_CNT_SPAN_NO_STACK, "span_no_stack" },
		{ PERFBPF_CNT_SPAN_DEPTH_OVERFLOW, "span_depth_overflow" },
		{ PERFBPF_CNT_RB_DROPPED, "ringbuf_full" },
	};
	static const struct reason span_errors[] = {
		{ PERFBPF_CNT_SPAN_UNMATCHED_END, "unmatched_end" },
		{ PERFBPF_CNT_SPAN_MISMATCH, "mismatch" },
		{ PERFBPF_CNT_SPAN_ABANDONED, "abandoned" },
		{ PERFBPF_CNT_SPAN_UNFINISHED, "unfinished" },
	};
	static const struct reason string_errors[] = {
		{ PERFBPF_CNT_STR_FAULT, "fault" },
		{ PERFBPF_CNT_STR_TRUNCATED, "truncated" },
	};
	uint64_t events = 0;

	for (size_t i = 0; i < in->nseries; i++)
		events += in->series[i]->count;
	put_family(f, DUR, "histogram",
		   "Duration of the engine's ops (engine-timed) and spans (kernel-timed), from its "
		   "perfbpf probes.");
	if (put_histograms(f, DUR, in, false))
		return -ENOMEM;
	put_family(f, WAIT, "histogram",
		   "Time between the ends of consecutive events of the same key.");
	if (put_histograms(f, WAIT, in, true))
		return -ENOMEM;
	put_counter(f, "perfbpf_events_total", "Events aggregated into the histograms.", events);
	put_reasons(f, "perfbpf_dropped_events_total",
		    "Events that reached a probe but are in no histogram, by reason.", dropped,
		    sizeof(dropped) / sizeof(dropped[0]), in->counters);
	if (in->dropped_per_cpu) {
		put_family(f, DROPPED_BY_CPU, "counter",
			   "perfbpf_dropped_events_total by the CPU the event was dropped on.");
		for (int c = 0; c < in->ncpus; c++)
			fprintf(f, DROPPED_BY_CPU "{cpu=\"%d\"} %" PRIu64 "\n", c,
				in->dropped_per_cpu[c]);
	}
	put_counter(f, "perfbpf_unknown_key_events_total",
		    "Events of keys beyond the key table (--max-keys): counted, not aggregated.",
		    in->counters[PERFBPF_CNT_KEYS_OVER_LIMIT]);
	put_reasons(f, "perfbpf_span_errors_total", "Span bookkeeping errors, by reason.",
		    span_errors, sizeof(span_errors) / sizeof(span_errors[0]), in->counters);
	put_reasons(f, "perfbpf_string_errors_total",
		    "Probe string arguments that could not be read or were cut.", string_errors,
		    sizeof(string_errors) / sizeof(string_errors[0]), in->counters);
	put_counter(f, "perfbpf_attach_failures_total",
		    "Objects with perfbpf probes that could not be attached.",
		    in->attach_failures);
	put_family(f, "perfbpf_attached_processes", "gauge",
		   "Processes with perfbpf's probes attached now.");
	fprintf(f, "perfbpf_attached_processes %u\n", in->attached_processes);
	put_family(f, "perfbpf_keys", "gauge", "Series in the kernel key table.");
	fprintf(f, "perfbpf_keys %zu\n", in->nseries);
	if (in->self.rss_bytes) {
		put_family(f, "process_cpu_seconds_total", "counter",
			   "perfbpf's own user and system CPU time in seconds.");
		fprintf(f, "process_cpu_seconds_total %.3f\n", in->self.cpu_s);
		put_family(f, "process_resident_memory_bytes", "gauge",
			   "perfbpf's own resident memory in bytes.");
		fprintf(f, "process_resident_memory_bytes %" PRIu64 "\n", in->self.rss_bytes);
	}
	put_family(f, "perfbpf_build_info", "gauge", "perfbpf's version.");
	fprintf(f, "perfbpf_build_info{version=\"%s\"} 1\n", PERFBPF_VERSION);
	return ferror(f) ? -EIO : 0;
}
