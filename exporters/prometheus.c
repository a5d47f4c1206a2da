// SPDX-License-Identifier: BSD-2-Clause
/* Prometheus text exposition of the monitor's series (see prometheus.h). */
#include "prometheus.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static const char DUR[] = "perfbpf_operation_duration_seconds";
static const char WAIT[] = "perfbpf_operation_wait_seconds";

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

static void put_histogram(FILE *f, const char *fam, const struct kseries *s, bool per_pid,
			  const uint64_t *b, uint64_t count, uint64_t sum_ns)
{
	uint64_t cum = 0;

	for (unsigned i = 0; i < KHIST_OVERFLOW; i++) {
		if (!b[i])
			continue;
		if (khist_lower(i) > 0 && (i == 0 || !b[i - 1]))
			put_bucket(f, fam, s, per_pid, khist_lower(i) - 1, cum);
		cum += b[i];
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

	put_family(f, DUR, "histogram",
		   "Duration of the engine's ops (engine-timed) and spans (kernel-timed), from its "
		   "perfbpf probes.");
	for (size_t i = 0; i < in->nseries; i++) {
		const struct kseries *s = in->series[i];

		put_histogram(f, DUR, s, in->per_pid, s->dur, s->count, s->sum_ns);
		events += s->count;
	}
	put_family(f, WAIT, "histogram",
		   "Time between the ends of consecutive events of the same key.");
	for (size_t i = 0; i < in->nseries; i++) {
		const struct kseries *s = in->series[i];

		put_histogram(f, WAIT, s, in->per_pid, s->wait, s->wait_count, s->wait_sum_ns);
	}
	put_counter(f, "perfbpf_events_total", "Events aggregated into the histograms.", events);
	put_reasons(f, "perfbpf_dropped_events_total",
		    "Events that reached a probe but are in no histogram, by reason.", dropped,
		    sizeof(dropped) / sizeof(dropped[0]), in->counters);
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
	put_family(f, "perfbpf_build_info", "gauge", "perfbpf's version.");
	fprintf(f, "perfbpf_build_info{version=\"%s\"} 1\n", PERFBPF_VERSION);
	return ferror(f) ? -EIO : 0;
}
