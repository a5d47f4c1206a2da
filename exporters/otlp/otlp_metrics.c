// SPDX-License-Identifier: BSD-2-Clause
/* OTLP metrics (opentelemetry/proto/collector/metrics/v1): perfbpf's series as histograms, its
 * counters as sums and gauges, in protobuf or the OTLP JSON mapping (see otlp_metrics.h). Each
 * metric is computed once into a data point and handed to the format's writer. */
#include "exporters/otlp/otlp_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/otlp/otlp_encode.h"
#include "user/model/summary.h"

enum { DELTA = 1, CUMULATIVE = 2 }; /* AggregationTemporality */
enum mtype { M_EXPONENTIAL, M_EXPLICIT, M_SUM, M_GAUGE };

struct mdef {
	const char *name, *unit, *desc;
	enum mtype type;
};

#define MAX_ATTRS 5

struct mattr {
	const char *key, *s; /* a string value, or NULL: the integer i */
	int64_t i;
};

/* One data point, whatever its type. */
struct mpoint {
	struct mattr attr[MAX_ATTRS];
	size_t nattr;
	uint64_t start, time;
	/* histograms */
	uint64_t count, zero;
	double sum, min, max;
	bool minmax;
	int32_t offset;          /* exponential: index of b[0] */
	const uint64_t *b;       /* bucket counts */
	size_t nb;
	/* sums and gauges */
	bool is_double;
	double dv;
	int64_t iv;
};

/* Dense exponential counts, indexed from EXP_MIN: values of 1 ns to 2^37 ns at scale 7 are
 * indexes -3828 .. 910. */
#define EXP_MIN (-3900)
#define EXP_N 4900
#define OVERFLOW_AT (1ull << KHIST_MAX_EXP) /* the overflow bucket is placed at its lower edge */

struct writer {
	bool json;
	bool delta;
	bool explicit_b; /* explicit-bucket histograms */
	/* protobuf */
	struct pb_buf *b;
	size_t metric, data;
	/* JSON */
	struct json_object *metrics, *points, *data_obj;
	uint64_t events; /* the duration points' counts added up */
	/* scratch */
	uint64_t dense[EXP_N];
	uint64_t bounds[OTLP_METRICS_BOUNDS + 1];
};

uint64_t otlp_metrics_bound_ns(unsigned i)
{
	return i % 2 ? 1ull << (6 + (i - 1) / 2) : 3ull << (5 + (i - 2) / 2);
}

/* The explicit bucket of the layout bucket that starts at lo: a layout bucket never straddles
 * an explicit bound. */
static unsigned explicit_bucket(uint64_t lo)
{
	unsigned e;

	if (lo < 64)
		return 0;
	e = 63u - (unsigned)__builtin_clzll(lo);
	if (e >= KHIST_MAX_EXP)
		return OTLP_METRICS_BOUNDS;
	return 2 * (e - 6) + 1 + (lo >= 3ull << (e - 1));
}

/* --- snapshots -------------------------------------------------------------------------------- */

struct otlp_metrics_snapshot *otlp_metrics_snapshot__new(struct kseries *const *v, size_t n,
							 uint64_t start_unix_ns)
{
	struct otlp_metrics_snapshot *s = calloc(1, sizeof(*s));
	struct kseries **order = malloc((n ? n : 1) * sizeof(*order));

	if (!s || !order || !(s->series = malloc((n ? n : 1) * sizeof(*s->series)))) {
		free(order);
		free(s);
		return NULL;
	}
	if (n) /* v may be NULL when there is no series yet */
		memcpy(order, v, n * sizeof(*order));
	qsort(order, n, sizeof(*order), kseries__cmp);
	for (; s->nseries < n; s->nseries++)
		if (kseries__copy(&s->series[s->nseries], order[s->nseries])) {
			otlp_metrics_snapshot__free(s);
			s = NULL;
			break;
		}
	free(order);
	if (s) {
		s->start_unix_ns = start_unix_ns;
		s->time_unix_ns = real_ns();
		self_usage(&s->self);
	}
	return s;
}

void otlp_metrics_snapshot__free(struct otlp_metrics_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nseries; i++)
		kseries__release(&s->series[i]);
	free(s->series);
	free(s);
}

/* The reasons of each loss family, as perfbpf's Prometheus exposition has them. */
struct reason {
	enum perfbpf_counter idx;
	const char *name; /* NULL: summary_counter_names' */
};

static const struct reason DROPPED[] = {
	{ PERFBPF_CNT_RB_DROPPED, NULL }, { PERFBPF_CNT_SPAN_NO_STACK, NULL },
	{ PERFBPF_CNT_SPAN_DEPTH_OVERFLOW, NULL }, { PERFBPF_CNT_MALFORMED_RECORD, NULL },
	{ PERFBPF_CNT_V3_UNCOLLECTED, NULL }, { PERFBPF_CNT_V3_UNDEFINED_KEY, NULL },
	{ PERFBPF_CNT_KEYS_OVER_LIMIT, "keys_over_limit" },
};
static const struct reason SPAN_ERRORS[] = {
	{ PERFBPF_CNT_SPAN_UNMATCHED_END, "unmatched_end" }, { PERFBPF_CNT_SPAN_MISMATCH, "mismatch" },
	{ PERFBPF_CNT_SPAN_ABANDONED, "abandoned" }, { PERFBPF_CNT_SPAN_UNFINISHED, "unfinished" },
};
static const struct reason STRING_ERRORS[] = {
	{ PERFBPF_CNT_STR_FAULT, "fault" }, { PERFBPF_CNT_STR_TRUNCATED, "truncated" },
};
#define NREASONS(a) (sizeof(a) / sizeof((a)[0]))

static const struct mdef DURATION = {
	"perfbpf.operation.duration", "s",
	"Duration of the engine's ops (engine-timed) and spans (kernel-timed), from its perfbpf "
	"probes.", M_EXPONENTIAL };
static const struct mdef WAIT = {
	"perfbpf.operation.wait", "s",
	"Time between the ends of consecutive events of the same key.", M_EXPONENTIAL };
static const struct mdef EVENTS = { "perfbpf.events", "{event}",
				    "Events aggregated into the histograms.", M_SUM };
static const struct mdef DROPPED_DEF = {
	"perfbpf.events.dropped", "{event}",
	"Events that reached a probe but are in no histogram, by reason.", M_SUM };
static const struct mdef SPAN_ERRORS_DEF = { "perfbpf.span.errors", "{error}",
					     "Span bookkeeping errors, by reason.", M_SUM };
static const struct mdef STRING_ERRORS_DEF = {
	"perfbpf.string.errors", "{error}",
	"Probe string arguments that could not be read or were cut.", M_SUM };
static const struct mdef ATTACHED = { "perfbpf.attached_processes", "{process}",
				      "Processes with perfbpf's probes attached now.", M_GAUGE };
static const struct mdef CPU = { "process.cpu.time", "s",
				 "perfbpf's own user and system CPU time.", M_SUM };
static const struct mdef MEMORY = { "process.memory.usage", "By",
				    "perfbpf's own resident memory.", M_GAUGE };

uint64_t otlp_metrics_snapshot__points(const struct otlp_metrics_snapshot *s)
{
	return 2 * s->nseries + 1 + NREASONS(DROPPED) + NREASONS(SPAN_ERRORS) +
	       NREASONS(STRING_ERRORS) + s->monitor + (s->self.rss_bytes ? 2 : 0);
}

/* --- protobuf --------------------------------------------------------------------------------- */

static void pb_attrs(struct pb_buf *b, unsigned field, const struct mpoint *p)
{
	for (size_t i = 0; i < p->nattr; i++) {
		size_t kv = pb__begin(b, field), any;

		pb__string(b, 1, p->attr[i].key);
		any = pb__begin(b, 2);
		if (p->attr[i].s) {
			pb__string(b, 1, p->attr[i].s);
		} else {
			pb__tag(b, 3, PB_VARINT);
			pb__varint(b, (uint64_t)p->attr[i].i);
		}
		pb__end(b, any);
		pb__end(b, kv);
	}
}

/* Little-endian 8-byte values as one packed field. */
static void pb_packed64(struct pb_buf *b, unsigned field, const uint64_t *v, size_t n)
{
	uint8_t *le = malloc(n ? 8 * n : 1);

	if (!le) {
		b->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 8; k++)
			le[8 * i + k] = (uint8_t)(v[i] >> (8 * k));
	pb__bytes(b, field, le, 8 * n);
	free(le);
}

static void pb_point(struct writer *w, const struct mdef *d, const struct mpoint *p)
{
	struct pb_buf *b = w->b;
	size_t pt = pb__begin(b, 1), pos;

	switch (d->type) {
	case M_EXPONENTIAL:
		pb_attrs(b, 1, p);
		pb__fixed64(b, 2, p->start);
		pb__fixed64(b, 3, p->time);
		pb__fixed64(b, 4, p->count);
		pb__double(b, 5, p->sum);
		pb__sint(b, 6, OTLP_METRICS_SCALE);
		pb__fixed64(b, 7, p->zero);
		if (p->nb) {
			pos = pb__begin(b, 8);
			pb__sint(b, 1, p->offset);
			{
				size_t packed = pb__begin(b, 2);

				for (size_t i = 0; i < p->nb; i++)
					pb__varint(b, p->b[i]);
				pb__end(b, packed);
			}
			pb__end(b, pos);
		}
		if (p->minmax) {
			pb__double(b, 12, p->min);
			pb__double(b, 13, p->max);
		}
		break;
	case M_EXPLICIT: {
		double bounds[OTLP_METRICS_BOUNDS];
		uint64_t bits[OTLP_METRICS_BOUNDS];

		pb_attrs(b, 9, p);
		pb__fixed64(b, 2, p->start);
		pb__fixed64(b, 3, p->time);
		pb__fixed64(b, 4, p->count);
		pb__double(b, 5, p->sum);
		pb_packed64(b, 6, p->b, p->nb);
		for (unsigned i = 0; i < OTLP_METRICS_BOUNDS; i++) {
			bounds[i] = (double)(otlp_metrics_bound_ns(i + 1) - 1) * 1e-9;
			memcpy(&bits[i], &bounds[i], sizeof(bits[i]));
		}
		pb_packed64(b, 7, bits, OTLP_METRICS_BOUNDS);
		if (p->minmax) {
			pb__double(b, 11, p->min);
			pb__double(b, 12, p->max);
		}
		break;
	}
	case M_SUM:
	case M_GAUGE:
		pb_attrs(b, 7, p);
		if (p->start)
			pb__fixed64(b, 2, p->start);
		pb__fixed64(b, 3, p->time);
		if (p->is_double)
			pb__double(b, 4, p->dv);
		else
			pb__fixed64(b, 6, (uint64_t)p->iv); /* sfixed64 */
		break;
	}
	pb__end(b, pt);
}

/* --- JSON ------------------------------------------------------------------------------------- */

static void js_u64(struct json_object *o, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	json_object_object_add(o, key, json_object_new_string(s));
}

static void js_point(struct writer *w, const struct mdef *d, const struct mpoint *p)
{
	struct json_object *o = json_object_new_object(), *attrs = json_object_new_array();

	for (size_t i = 0; i < p->nattr; i++) {
		struct json_object *kv = json_object_new_object(), *v = json_object_new_object();
		char s[24];

		json_object_object_add(kv, "key", json_object_new_string(p->attr[i].key));
		if (p->attr[i].s) {
			json_object_object_add(v, "stringValue", json_object_new_string(p->attr[i].s));
		} else {
			snprintf(s, sizeof(s), "%" PRId64, p->attr[i].i);
			json_object_object_add(v, "intValue", json_object_new_string(s));
		}
		json_object_object_add(kv, "value", v);
		json_object_array_add(attrs, kv);
	}
	json_object_object_add(o, "attributes", attrs);
	if (p->start)
		js_u64(o, "startTimeUnixNano", p->start);
	js_u64(o, "timeUnixNano", p->time);
	if (d->type == M_EXPONENTIAL || d->type == M_EXPLICIT) {
		struct json_object *counts = json_object_new_array();

		js_u64(o, "count", p->count);
		json_object_object_add(o, "sum", json_object_new_double(p->sum));
		for (size_t i = 0; i < p->nb; i++) {
			char s[24];

			snprintf(s, sizeof(s), "%" PRIu64, p->b[i]);
			json_object_array_add(counts, json_object_new_string(s));
		}
		if (d->type == M_EXPONENTIAL) {
			struct json_object *pos = json_object_new_object();

			json_object_object_add(o, "scale", json_object_new_int(OTLP_METRICS_SCALE));
			js_u64(o, "zeroCount", p->zero);
			json_object_object_add(pos, "offset", json_object_new_int(p->offset));
			json_object_object_add(pos, "bucketCounts", counts);
			json_object_object_add(o, "positive", pos);
		} else {
			struct json_object *bounds = json_object_new_array();

			for (unsigned i = 1; i <= OTLP_METRICS_BOUNDS; i++)
				json_object_array_add(bounds, json_object_new_double(
					(double)(otlp_metrics_bound_ns(i) - 1) * 1e-9));
			json_object_object_add(o, "bucketCounts", counts);
			json_object_object_add(o, "explicitBounds", bounds);
		}
		if (p->minmax) {
			json_object_object_add(o, "min", json_object_new_double(p->min));
			json_object_object_add(o, "max", json_object_new_double(p->max));
		}
	} else if (p->is_double) {
		json_object_object_add(o, "asDouble", json_object_new_double(p->dv));
	} else {
		char s[24];

		snprintf(s, sizeof(s), "%" PRId64, p->iv);
		json_object_object_add(o, "asInt", json_object_new_string(s));
	}
	json_object_array_add(w->points, o);
}

/* --- metrics ---------------------------------------------------------------------------------- */

static const char *const DATA_FIELD[] = { "exponentialHistogram", "histogram", "sum", "gauge" };
static const unsigned DATA_PB[] = { 10, 9, 7, 5 };

static void metric_begin(struct writer *w, const struct mdef *d)
{
	enum mtype t = d->type == M_EXPONENTIAL && w->explicit_b ? M_EXPLICIT : d->type;

	if (w->json) {
		struct json_object *m = json_object_new_object();

		json_object_object_add(m, "name", json_object_new_string(d->name));
		json_object_object_add(m, "description", json_object_new_string(d->desc));
		json_object_object_add(m, "unit", json_object_new_string(d->unit));
		w->data_obj = json_object_new_object();
		w->points = json_object_new_array();
		json_object_object_add(w->data_obj, "dataPoints", w->points);
		if (t != M_GAUGE)
			json_object_object_add(w->data_obj, "aggregationTemporality",
					       json_object_new_int(w->delta ? DELTA : CUMULATIVE));
		if (t == M_SUM)
			json_object_object_add(w->data_obj, "isMonotonic",
					       json_object_new_boolean(1));
		json_object_object_add(m, DATA_FIELD[t], w->data_obj);
		json_object_array_add(w->metrics, m);
		return;
	}
	w->metric = pb__begin(w->b, 2); /* ScopeMetrics.metrics */
	pb__string(w->b, 1, d->name);
	pb__string(w->b, 2, d->desc);
	pb__string(w->b, 3, d->unit);
	w->data = pb__begin(w->b, DATA_PB[t]);
}

static void metric_end(struct writer *w, const struct mdef *d)
{
	enum mtype t = d->type == M_EXPONENTIAL && w->explicit_b ? M_EXPLICIT : d->type;

	if (w->json)
		return;
	if (t != M_GAUGE)
		pb__uint(w->b, 2, w->delta ? DELTA : CUMULATIVE);
	if (t == M_SUM)
		pb__uint(w->b, 3, 1);
	pb__end(w->b, w->data);
	pb__end(w->b, w->metric);
}

static void point(struct writer *w, const struct mdef *d, const struct mpoint *p)
{
	struct mdef t = *d;

	if (d->type == M_EXPONENTIAL && w->explicit_b)
		t.type = M_EXPLICIT;
	if (w->json)
		js_point(w, &t, p);
	else
		pb_point(w, &t, p);
}

/* The series of `cur` in prev (sorted alike), from *j on; NULL: none (or a new series with the
 * same key, whose counts went back). */
static const struct kseries *previous(const struct otlp_metrics_snapshot *prev, size_t *j,
				      const struct kseries *cur)
{
	const struct kseries *pc = cur;

	for (; prev && *j < prev->nseries; (*j)++) {
		const struct kseries *q = &prev->series[*j];
		int c = kseries__cmp(&q, &pc);

		if (c > 0)
			break;
		if (c == 0)
			return q->count <= cur->count && q->wait_count <= cur->wait_count ? q : NULL;
	}
	return NULL;
}

/* Adds sign * h's counts into the dense scratch (exponential or explicit); 0-ns values to
 * *zero. */
static void add_buckets(struct writer *w, const struct khist *h, int sign, uint64_t *zero,
			int32_t *lo, int32_t *hi)
{
	for (unsigned b = khist__next(h, 0); b < KHIST_BUCKETS; b = khist__next(h, b + 1)) {
		uint64_t n = khist__get(h, b);
		int32_t i;

		if (w->explicit_b) {
			w->bounds[explicit_bucket(khist_lower(b))] += (uint64_t)sign * n;
			continue;
		}
		if (b == 0) {
			*zero += (uint64_t)sign * n;
			continue;
		}
		i = khist__exp_index(b, OTLP_METRICS_SCALE, OVERFLOW_AT) - 1 - EXP_MIN;
		i = i < 0 ? 0 : i >= EXP_N ? EXP_N - 1 : i;
		w->dense[i] += (uint64_t)sign * n;
		*lo = i < *lo ? i : *lo;
		*hi = i > *hi ? i : *hi;
	}
}

/* A histogram point from h (minus ph's counts when given). */
static void histogram(struct writer *w, const struct mdef *d, struct mpoint *p,
		      const struct khist *h, const struct khist *ph)
{
	int32_t lo = EXP_N, hi = -1;

	p->zero = 0;
	memset(w->bounds, 0, sizeof(w->bounds));
	add_buckets(w, h, 1, &p->zero, &lo, &hi);
	if (ph)
		add_buckets(w, ph, -1, &p->zero, &lo, &hi);
	if (w->explicit_b) {
		p->b = w->bounds;
		p->nb = OTLP_METRICS_BOUNDS + 1;
	} else {
		while (lo <= hi && !w->dense[lo])
			lo++;
		while (hi >= lo && !w->dense[hi])
			hi--;
		p->offset = lo <= hi ? lo + EXP_MIN : 0;
		p->b = lo <= hi ? w->dense + lo : NULL;
		p->nb = lo <= hi ? (size_t)(hi - lo + 1) : 0;
	}
	point(w, d, p);
	if (!w->explicit_b && p->nb)
		memset(w->dense + lo, 0, p->nb * sizeof(w->dense[0]));
}

static void series_attrs(struct mpoint *p, const struct kseries *s, bool per_pid)
{
	p->nattr = 0;
	p->attr[p->nattr++] = (struct mattr){ "kind", s->kind == PERFBPF_EV_SPAN ? "span" : "op", 0 };
	p->attr[p->nattr++] = (struct mattr){ "metric", s->metric, 0 };
	p->attr[p->nattr++] = (struct mattr){ "symbol", s->symbol, 0 };
	p->attr[p->nattr++] = (struct mattr){ "strategy", s->strategy, 0 };
	if (per_pid)
		p->attr[p->nattr++] = (struct mattr){ "process.pid", NULL, s->pid };
}

static void put_histograms(struct writer *w, const struct otlp_metrics_snapshot *s,
			   const struct otlp_metrics_snapshot *prev, uint64_t start, bool wait)
{
	const struct mdef *d = wait ? &WAIT : &DURATION;
	size_t j = 0;

	metric_begin(w, d);
	for (size_t i = 0; i < s->nseries; i++) {
		const struct kseries *c = &s->series[i], *q = w->delta ? previous(prev, &j, c) : NULL;
		struct mpoint p = { .start = start, .time = s->time_unix_ns };

		series_attrs(&p, c, s->per_pid);
		p.count = (wait ? c->wait_count : c->count) - (q ? (wait ? q->wait_count : q->count) : 0);
		p.sum = (double)((wait ? c->wait_sum_ns : c->sum_ns) -
				 (q ? (wait ? q->wait_sum_ns : q->sum_ns) : 0)) * 1e-9;
		/* a delta's min and max are not known (only the whole series'), unless the series
		 * is new in it */
		p.minmax = !q && p.count;
		p.min = (double)(wait ? c->wait_min_ns : c->min_ns) * 1e-9;
		p.max = (double)(wait ? c->wait_max_ns : c->max_ns) * 1e-9;
		histogram(w, d, &p, wait ? &c->wait : &c->dur, q ? (wait ? &q->wait : &q->dur) : NULL);
		if (!wait)
			w->events += p.count;
	}
	metric_end(w, d);
}

static void put_number(struct writer *w, const struct mdef *d, const char *reason,
		       uint64_t start, uint64_t time, bool is_double, double dv, int64_t iv)
{
	struct mpoint p = { .start = d->type == M_SUM ? start : 0, .time = time,
			    .is_double = is_double, .dv = dv, .iv = iv };

	if (reason)
		p.attr[p.nattr++] = (struct mattr){ "reason", reason, 0 };
	point(w, d, &p);
}

static void put_reasons(struct writer *w, const struct mdef *d, const struct reason *r, size_t n,
			const struct otlp_metrics_snapshot *s,
			const struct otlp_metrics_snapshot *prev, uint64_t start)
{
	metric_begin(w, d);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = s->counters[r[i].idx];

		if (w->delta && prev)
			v = v >= prev->counters[r[i].idx] ? v - prev->counters[r[i].idx] : v;
		put_number(w, d, r[i].name ? r[i].name : summary_counter_names[r[i].idx], start,
			   s->time_unix_ns, false, 0, (int64_t)v);
	}
	metric_end(w, d);
}

static void put_all(struct writer *w, const struct otlp_metrics_snapshot *s,
		    const struct otlp_metrics_snapshot *prev)
{
	uint64_t start = w->delta && prev ? prev->time_unix_ns : s->start_unix_ns;

	put_histograms(w, s, prev, start, false);
	put_histograms(w, s, prev, start, true);
	metric_begin(w, &EVENTS); /* the durations' counts: cumulative, or this delta's */
	put_number(w, &EVENTS, NULL, start, s->time_unix_ns, false, 0, (int64_t)w->events);
	metric_end(w, &EVENTS);
	put_reasons(w, &DROPPED_DEF, DROPPED, NREASONS(DROPPED), s, prev, start);
	put_reasons(w, &SPAN_ERRORS_DEF, SPAN_ERRORS, NREASONS(SPAN_ERRORS), s, prev, start);
	put_reasons(w, &STRING_ERRORS_DEF, STRING_ERRORS, NREASONS(STRING_ERRORS), s, prev, start);
	if (s->monitor) {
		metric_begin(w, &ATTACHED);
		put_number(w, &ATTACHED, NULL, 0, s->time_unix_ns, false, 0, s->attached_processes);
		metric_end(w, &ATTACHED);
	}
	if (s->self.rss_bytes) {
		double cpu = s->self.cpu_s;

		if (w->delta && prev && prev->self.rss_bytes && cpu >= prev->self.cpu_s)
			cpu -= prev->self.cpu_s;
		metric_begin(w, &CPU);
		put_number(w, &CPU, NULL, start, s->time_unix_ns, true, cpu, 0);
		metric_end(w, &CPU);
		metric_begin(w, &MEMORY);
		put_number(w, &MEMORY, NULL, 0, s->time_unix_ns, false, 0,
			   (int64_t)s->self.rss_bytes);
		metric_end(w, &MEMORY);
	}
}

int otlp_metrics_encode(const struct otlp_metrics_snapshot *s,
			const struct otlp_metrics_snapshot *prev, const struct otlp_config *c,
			const struct otlp_resource *r, bool json, struct pb_buf *out)
{
	struct writer *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->json = json;
	w->delta = c->delta;
	w->b = out;
	w->explicit_b = c->explicit_buckets;
	if (json) {
		struct json_object *root = json_object_new_object(), *rms = json_object_new_array();
		struct json_object *rm = json_object_new_object(), *res = json_object_new_object();
		struct json_object *sms = json_object_new_array(), *sm = json_object_new_object();
		struct json_object *scope = json_object_new_object();

		json_object_object_add(res, "attributes", otlp_json_attrs(&r->attrs));
		json_object_object_add(rm, "resource", res);
		json_object_object_add(scope, "name", json_object_new_string("perfbpf"));
		json_object_object_add(scope, "version", json_object_new_string(PERFBPF_VERSION));
		json_object_object_add(sm, "scope", scope);
		w->metrics = json_object_new_array();
		json_object_object_add(sm, "metrics", w->metrics);
		json_object_array_add(sms, sm);
		json_object_object_add(rm, "scopeMetrics", sms);
		json_object_array_add(rms, rm);
		json_object_object_add(root, "resourceMetrics", rms);
		put_all(w, s, prev);
		err = out->err ?: otlp_json_finish(root, out);
	} else {
		size_t rm = pb__begin(out, 1), res, sm, scope; /* resource_metrics */

		res = pb__begin(out, 1);
		otlp_proto_attrs(out, 1, &r->attrs);
		pb__end(out, res);
		sm = pb__begin(out, 2); /* scope_metrics */
		scope = pb__begin(out, 1);
		pb__string(out, 1, "perfbpf");
		pb__string(out, 2, PERFBPF_VERSION);
		pb__end(out, scope);
		put_all(w, s, prev);
		pb__end(out, sm);
		pb__end(out, rm);
		err = out->err;
	}
	free(w);
	return err;
}
