// SPDX-License-Identifier: BSD-2-Clause
/* Prometheus exposition of the monitor's series (see prometheus.h): one writer for both
 * formats, which differ in how a family and a sample are put and in how a histogram is. */
#include "exporters/prometheus/prometheus.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/http_list.h"
#include "user/lib/protobuf_writer.h"

static const char DUR[] = "perfbpf_operation_duration_seconds";
static const char WAIT[] = "perfbpf_operation_wait_seconds";
#define DROPPED_BY_CPU "perfbpf_dropped_events_by_cpu_total"

/* io.prometheus.client.MetricType */
enum { T_COUNTER = 0, T_GAUGE = 1, T_SUMMARY = 2, T_HISTOGRAM = 4 };
static const char *const TYPE_NAME[] = { "counter", "gauge", "summary", "untyped", "histogram" };

/* The zero bucket's half-width (client_golang's default): it holds the 0 ns values. */
#define NATIVE_ZERO_THRESHOLD 2.938735877055719e-39 /* 2^-128 */

struct label {
	const char *name, *value;
};

#define MAX_LABELS 5

struct out {
	enum prom_format fmt;
	FILE *f;
	struct pb_buf b;
	const char *name; /* the open family */
	size_t fam;       /* its body in b (protobuf) */
	/* a native histogram's buckets, built before they are written (3 per layout bucket at
	 * most: its own and two empty ones before it) */
	int32_t *idx;
	uint64_t *cnt;
};

/* A series' labels in the text format, escaped and comma-joined, built once for its lines. */
#define LABELS_MAX 1024 /* 5 labels whose values are at most 64 bytes, each byte escaped */

static void text_labels(char *dst, const struct label *l, size_t n)
{
	char *p = dst;

	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "%s%s=\"", i ? "," : "", l[i].name);
		for (const char *v = l[i].value; *v; v++) {
			if (*v == '\\' || *v == '"')
				*p++ = '\\';
			if (*v == '\n') {
				*p++ = '\\';
				*p++ = 'n';
				continue;
			}
			*p++ = *v;
		}
		*p++ = '"';
	}
	*p = '\0';
}

/* The decimal digits of v, ending at end (exclusive): where they start. */
static char *u64_digits(char *end, uint64_t v)
{
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

/* NAME SUFFIX{LABELS[,le="LE"]} VALUE: the lines of the histogram families, written with
 * unlocked stdio (the FILE is this thread's), as there are tens of them per key. */
static void put_line(FILE *f, const char *name, const char *suffix, const char *labels,
		     const char *le, const char *value)
{
	fputs_unlocked(name, f);
	fputs_unlocked(suffix, f);
	if (*labels || le)
		fputc_unlocked('{', f);
	fputs_unlocked(labels, f);
	if (le) {
		fputs_unlocked(*labels ? ",le=\"" : "le=\"", f);
		fputs_unlocked(le, f);
		fputc_unlocked('"', f);
	}
	fputs_unlocked(*labels || le ? "} " : " ", f);
	fputs_unlocked(value, f);
	fputc_unlocked('\n', f);
}

static void put_line_u64(FILE *f, const char *name, const char *suffix, const char *labels,
			 const char *le, uint64_t v)
{
	char buf[24];

	buf[23] = '\0';
	put_line(f, name, suffix, labels, le, u64_digits(buf + 23, v));
}

static void put_line_seconds(FILE *f, const char *name, const char *suffix, const char *labels,
			     uint64_t ns)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.12g", (double)ns * 1e-9);
	put_line(f, name, suffix, labels, NULL, buf);
}

static void put_pb_labels(struct pb_buf *b, const struct label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t lp = pb__begin(b, 1); /* Metric.label */

		pb__string(b, 1, l[i].name);
		pb__string(b, 2, l[i].value);
		pb__end(b, lp);
	}
}

static void family_begin(struct out *o, const char *name, int type, const char *help)
{
	o->name = name;
	if (o->fmt == PROM_TEXT) {
		fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, TYPE_NAME[type]);
		return;
	}
	o->fam = pb__begin(&o->b, 0); /* delimited MetricFamily */
	pb__string(&o->b, 1, name);
	pb__string(&o->b, 2, help);
	pb__uint(&o->b, 3, (uint64_t)type);
}

static void family_end(struct out *o)
{
	if (o->fmt == PROM_PROTOBUF)
		pb__end(&o->b, o->fam);
}

/* One counter or gauge sample of the open family. */
static void put_value(struct out *o, int type, const struct label *l, size_t nl, double v)
{
	size_t m, val;

	if (o->fmt == PROM_TEXT) {
		char text[LABELS_MAX], num[32];

		text_labels(text, l, nl);
		snprintf(num, sizeof(num), "%.17g", v);
		put_line(o->f, o->name, "", text, NULL, num);
		return;
	}
	m = pb__begin(&o->b, 4); /* MetricFamily.metric */
	put_pb_labels(&o->b, l, nl);
	val = pb__begin(&o->b, type == T_COUNTER ? 3 : 2); /* Metric.counter / gauge */
	pb__double(&o->b, 1, v);
	pb__end(&o->b, val);
	pb__end(&o->b, m);
}

static void put_scalar(struct out *o, const char *name, int type, const char *help, double v)
{
	family_begin(o, name, type, help);
	put_value(o, type, NULL, 0, v);
	family_end(o);
}

static size_t series_labels(const struct kseries *s, bool per_pid, struct label *l, char *pid)
{
	size_t n = 0;

	l[n++] = (struct label){ "kind", s->kind == PERFBPF_EV_SPAN ? "span" : "op" };
	l[n++] = (struct label){ "metric", s->metric };
	l[n++] = (struct label){ "symbol", s->symbol };
	l[n++] = (struct label){ "strategy", s->strategy };
	if (per_pid) {
		snprintf(pid, 16, "%" PRIu32, s->pid);
		l[n++] = (struct label){ "pid", pid };
	}
	return n;
}

/* Classic bounds: slot 0 holds 0, slot 1 holds 1, and from 2 ns up every power of two [2^e,
 * 2^(e+1)) is two slots, [2^e, 1.5 * 2^e) and [1.5 * 2^e, 2^(e+1)): each a whole number of the
 * layout's buckets. */
static unsigned slot_of(uint64_t v)
{
	unsigned e;

	if (v < 2)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return 2 * e + (v >= 3ull << (e - 1));
}

/* The smallest value above slot s. */
static uint64_t slot_end(unsigned s)
{
	if (s < 2)
		return s + 1;
	return s % 2 ? 2ull << (s / 2) : 3ull << (s / 2 - 1);
}

#define NSLOTS 76 /* slot_of(2^37 - 1) = 73: the overflow bucket is above every bound */

/* The slots whose upper edges are the classic bounds of series v[0..n) (one metric): [*first,
 * *last]; false when no value is below the overflow bucket. All of them while they are at most
 * PROM_CLASSIC_BOUNDS, else the window of that many that leaves the fewest values outside (in
 * the first bucket, below its bound, or above the last bound). */
static bool classic_range(struct kseries *const *v, size_t n, unsigned *first, unsigned *last)
{
	uint64_t tot[NSLOTS] = { 0 }, in = 0, best = 0;
	unsigned lo = ~0u, hi = 0, w = PROM_CLASSIC_BOUNDS;

	for (size_t i = 0; i < n; i++) {
		const struct khist *h = &v[i]->dur;

		for (unsigned b = khist__next(h, 0); b < KHIST_OVERFLOW; b = khist__next(h, b + 1)) {
			unsigned s = slot_of(khist_lower(b));

			tot[s] += khist__get(h, b);
			lo = s < lo ? s : lo;
			hi = s > hi ? s : hi;
		}
	}
	if (lo == ~0u)
		return false;
	/* the edge below the lowest values (a 0 count) frames their bucket */
	lo = lo ? lo - 1 : 0;
	if (hi - lo + 1 <= w) {
		*first = lo;
		*last = hi;
		return true;
	}
	/* bounds at slots s..s+w-1 resolve the values of slots s+1..s+w-1 */
	for (unsigned s = lo + 1; s < lo + w; s++)
		in += tot[s];
	best = in;
	*first = lo;
	for (unsigned s = lo + 1; s + w - 1 <= hi; s++) {
		in = in - tot[s] + tot[s + w - 1];
		if (in > best) {
			best = in;
			*first = s;
		}
	}
	*last = *first + w - 1;
	return true;
}

/* One series' classic histogram; le[i] is the bound of slot first + i. */
static void put_classic(struct out *o, const struct kseries *s, const char *labels, bool have,
			unsigned first, unsigned last, char (*le)[32])
{
	const struct khist *h = &s->dur;
	unsigned b = khist__next(h, 0);
	uint64_t cum = 0;

	for (unsigned slot = first; have && slot <= last; slot++) {
		for (; b < KHIST_OVERFLOW && slot_of(khist_lower(b)) <= slot; b = khist__next(h, b + 1))
			cum += khist__get(h, b);
		put_line_u64(o->f, DUR, "_bucket", labels, le[slot - first], cum);
	}
	put_line_u64(o->f, DUR, "_bucket", labels, "+Inf", s->count);
	put_line_seconds(o->f, DUR, "_sum", labels, s->sum_ns);
	put_line_u64(o->f, DUR, "_count", labels, NULL, s->count);
}

/* A native histogram: every layout bucket goes whole into the schema-7 bucket of its midpoint
 * (upper-inclusive buckets (2^((i-1)/128), 2^(i/128)] s); 0 ns into the zero bucket. Midpoints
 * of consecutive layout buckets are more than one native bucket apart, so indexes increase. */
static void put_native(struct out *o, const struct khist *h, uint64_t count, uint64_t sum_ns,
		       uint64_t max_ns)
{
	struct pb_buf *pb = &o->b;
	size_t hist = pb__begin(pb, 7), n = 0, p;
	uint64_t prev = 0;

	pb__uint(pb, 1, count);
	pb__double(pb, 2, (double)sum_ns * 1e-9);
	pb__sint(pb, 5, PROM_NATIVE_SCHEMA);
	pb__double(pb, 6, NATIVE_ZERO_THRESHOLD);
	pb__uint(pb, 7, khist__get(h, 0));
	for (unsigned b = khist__next(h, 1); b < KHIST_BUCKETS; b = khist__next(h, b + 1)) {
		/* the overflow bucket ends at the max */
		int32_t i = khist__exp_index(b, PROM_NATIVE_SCHEMA, max_ns);

		if (n && i <= o->idx[n - 1]) {
			o->cnt[n - 1] += khist__get(h, b);
			continue;
		}
		/* a gap of one or two buckets: empty buckets (a byte each) cost less than a span */
		while (n && i - o->idx[n - 1] > 1 && i - o->idx[n - 1] <= 3) {
			o->idx[n] = o->idx[n - 1] + 1;
			o->cnt[n++] = 0;
		}
		o->idx[n] = i;
		o->cnt[n++] = khist__get(h, b);
	}
	for (size_t i = 0; i < n;) { /* spans of consecutive indexes */
		size_t j = i + 1, sp;

		while (j < n && o->idx[j] == o->idx[j - 1] + 1)
			j++;
		sp = pb__begin(pb, 12);
		pb__sint(pb, 1, i ? o->idx[i] - o->idx[i - 1] - 1 : o->idx[i]);
		pb__uint(pb, 2, j - i);
		pb__end(pb, sp);
		i = j;
	}
	if (n) {
		p = pb__begin(pb, 13); /* positive_delta, packed */
		for (size_t i = 0; i < n; i++) {
			pb__varint(pb, pb__zigzag((int64_t)(o->cnt[i] - prev)));
			prev = o->cnt[i];
		}
		pb__end(pb, p);
	}
	pb__end(pb, hist);
}

static bool same_metric(const struct kseries *a, const struct kseries *b)
{
	return a->kind == b->kind && !strcmp(a->metric, b->metric);
}

/* The duration family: text, classic histograms with the bounds of each metric; protobuf,
 * native histograms. */
static void put_durations(struct out *o, struct kseries *const *v, size_t n, bool per_pid)
{
	family_begin(o, DUR, T_HISTOGRAM,
		     "Duration of the engine's ops (engine-timed) and spans (kernel-timed), from its "
		     "perfbpf probes.");
	for (size_t i = 0, j; i < n; i = j) {
		unsigned first = 0, last = 0;
		char le[PROM_CLASSIC_BOUNDS][32];
		bool have;

		for (j = i + 1; j < n && same_metric(v[i], v[j]); j++)
			;
		have = o->fmt == PROM_TEXT && classic_range(v + i, j - i, &first, &last);
		for (unsigned slot = first; have && slot <= last; slot++)
			snprintf(le[slot - first], sizeof(le[0]), "%.12g",
				 (double)(slot_end(slot) - 1) * 1e-9);
		for (size_t k = i; k < j; k++) {
			struct label l[MAX_LABELS];
			char pid[16], text[LABELS_MAX];
			size_t nl = series_labels(v[k], per_pid, l, pid), m;

			if (o->fmt == PROM_TEXT) {
				text_labels(text, l, nl);
				put_classic(o, v[k], text, have, first, last, le);
				continue;
			}
			m = pb__begin(&o->b, 4);
			put_pb_labels(&o->b, l, nl);
			put_native(o, &v[k]->dur, v[k]->count, v[k]->sum_ns, v[k]->max_ns);
			pb__end(&o->b, m);
		}
	}
	family_end(o);
}

/* The wait family: text, _sum and _count (a summary without quantiles, two series per key);
 * protobuf, native histograms. */
static void put_waits(struct out *o, struct kseries *const *v, size_t n, bool per_pid)
{
	family_begin(o, WAIT, o->fmt == PROM_TEXT ? T_SUMMARY : T_HISTOGRAM,
		     "Time between the ends of consecutive events of the same key (its distribution: "
		     "native histograms, the protobuf exposition).");
	for (size_t k = 0; k < n; k++) {
		const struct kseries *s = v[k];
		struct label l[MAX_LABELS];
		char pid[16], text[LABELS_MAX];
		size_t nl = series_labels(s, per_pid, l, pid), m;

		if (o->fmt == PROM_TEXT) {
			text_labels(text, l, nl);
			put_line_seconds(o->f, WAIT, "_sum", text, s->wait_sum_ns);
			put_line_u64(o->f, WAIT, "_count", text, NULL, s->wait_count);
			continue;
		}
		m = pb__begin(&o->b, 4);
		put_pb_labels(&o->b, l, nl);
		put_native(o, &s->wait, s->wait_count, s->wait_sum_ns, s->wait_max_ns);
		pb__end(&o->b, m);
	}
	family_end(o);
}

struct reason {
	enum perfbpf_counter idx;
	const char *label;
};

static void put_reasons(struct out *o, const char *name, const char *help, const struct reason *r,
			size_t n, const uint64_t *counters)
{
	family_begin(o, name, T_COUNTER, help);
	for (size_t i = 0; i < n; i++)
		put_value(o, T_COUNTER, &(struct label){ "reason", r[i].label }, 1,
			  (double)counters[r[i].idx]);
	family_end(o);
}

static void put_counters(struct out *o, const struct prom_input *in, uint64_t events)
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

	put_scalar(o, "perfbpf_events_total", T_COUNTER, "Events aggregated into the histograms.",
		   (double)events);
	put_reasons(o, "perfbpf_dropped_events_total",
		    "Events that reached a probe but are in no histogram, by reason.", dropped,
		    sizeof(dropped) / sizeof(dropped[0]), in->counters);
	if (in->dropped_per_cpu) {
		family_begin(o, DROPPED_BY_CPU, T_COUNTER,
			     "perfbpf_dropped_events_total by the CPU the event was dropped on.");
		for (int c = 0; c < in->ncpus; c++) {
			char cpu[16];

			snprintf(cpu, sizeof(cpu), "%d", c);
			put_value(o, T_COUNTER, &(struct label){ "cpu", cpu }, 1,
				  (double)in->dropped_per_cpu[c]);
		}
		family_end(o);
	}
	put_scalar(o, "perfbpf_unknown_key_events_total", T_COUNTER,
		   "Events of keys beyond the key table (--max-keys): counted, not aggregated.",
		   (double)in->counters[PERFBPF_CNT_KEYS_OVER_LIMIT]);
	put_reasons(o, "perfbpf_span_errors_total", "Span bookkeeping errors, by reason.",
		    span_errors, sizeof(span_errors) / sizeof(span_errors[0]), in->counters);
	put_reasons(o, "perfbpf_string_errors_total",
		    "Probe string arguments that could not be read or were cut.", string_errors,
		    sizeof(string_errors) / sizeof(string_errors[0]), in->counters);
	put_scalar(o, "perfbpf_attach_failures_total", T_COUNTER,
		   "Objects with perfbpf probes that could not be attached.",
		   (double)in->attach_failures);
	put_scalar(o, "perfbpf_attached_processes", T_GAUGE,
		   "Processes with perfbpf's probes attached now.", in->attached_processes);
	put_scalar(o, "perfbpf_keys", T_GAUGE, "Series (distinct keys) aggregated.",
		   (double)in->nseries);
	if (in->self.rss_bytes) {
		put_scalar(o, "process_cpu_seconds_total", T_COUNTER,
			   "perfbpf's own user and system CPU time in seconds.", in->self.cpu_s);
		put_scalar(o, "process_resident_memory_bytes", T_GAUGE,
			   "perfbpf's own resident memory in bytes.", (double)in->self.rss_bytes);
	}
	family_begin(o, "perfbpf_build_info", T_GAUGE, "perfbpf's version.");
	put_value(o, T_GAUGE, &(struct label){ "version", PERFBPF_VERSION }, 1, 1);
	family_end(o);
}

int prometheus__write(FILE *f, const struct prom_input *in, enum prom_format fmt)
{
	size_t n = in->nseries;
	struct kseries **v = malloc((n ? n : 1) * sizeof(*v));
	struct out o = { .fmt = fmt, .f = f };
	uint64_t events = 0;
	int err = 0;

	if (fmt == PROM_PROTOBUF) { /* the native histograms' scratch */
		o.idx = malloc(3 * KHIST_BUCKETS * sizeof(*o.idx));
		o.cnt = malloc(3 * KHIST_BUCKETS * sizeof(*o.cnt));
	}
	if (!v || (fmt == PROM_PROTOBUF && (!o.idx || !o.cnt))) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(v, in->series, n * sizeof(*v));
	qsort(v, n, sizeof(*v), kseries__cmp); /* a metric's series together, in a stable order */
	for (size_t i = 0; i < n; i++)
		events += v[i]->count;
	put_durations(&o, v, n, in->per_pid);
	put_waits(&o, v, n, in->per_pid);
	put_counters(&o, in, events);
	if (fmt == PROM_PROTOBUF) {
		err = o.b.err;
		if (!err && fwrite(o.b.p, 1, o.b.n, f) != o.b.n)
			err = -EIO;
	}
	if (!err && ferror(f))
		err = -EIO;
out:
	free(v);
	free(o.idx);
	free(o.cnt);
	pb_buf__free(&o.b);
	return err;
}

const char *prometheus__content_type(enum prom_format fmt)
{
	return fmt == PROM_PROTOBUF ? PROMETHEUS_PROTOBUF_TYPE : PROMETHEUS_CONTENT_TYPE;
}

enum prom_format prometheus__negotiate(const char *accept)
{
	double proto = 0, text = 0;
	struct http_item it;

	while (http_list__next(&accept, &it)) {
		if (http_item__is(&it, "application/vnd.google.protobuf") &&
		    http_item__has_param(&it, "proto=io.prometheus.client.MetricFamily") &&
		    http_item__has_param(&it, "encoding=delimited"))
			proto = it.q > proto ? it.q : proto;
		else if (http_item__is(&it, "text/plain") || http_item__is(&it, "*/*"))
			text = it.q > text ? it.q : text;
	}
	return proto > 0 && proto >= text ? PROM_PROTOBUF : PROM_TEXT;
}
