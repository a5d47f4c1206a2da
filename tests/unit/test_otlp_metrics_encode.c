// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the OTLP metrics encoder (exporters/otlp/otlp_metrics.h) on series of known
 * durations: exponential buckets at the index OpenTelemetry's definition gives (base^i < v <=
 * base^(i+1)) and estimates within the layout's bound, explicit buckets exact, delta points that
 * hold only what happened since the previous snapshot, the loss counters by reason, and the
 * protobuf's metric types, temporality and scale fields. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/otlp/otlp_metrics.h"
#include "user/lib/protobuf_reader.h"

#define T0 1000000000ull
#define T1 2000000000ull
#define T2 3000000000ull

/* Durations of the op series: zeros, small values (1-ns layout buckets) and larger ones. */
static const uint64_t FIRST[] = { 0, 0, 7, 7, 7, 50, 100, 100, 1000, 1003, 250000, 1000000000 };
static const uint64_t LATER[] = { 7, 100, 99999, 3000000 };
/* Values at and next to explicit bounds (2^k and 1.5 * 2^k ns). */
static const uint64_t EDGES[] = { 63, 64, 95, 96, 127, 128, 1572863, 1572864, 2097151, 2097152 };

static void add(struct kseries *s, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(khist__add(&s->dur, khist_bucket(v[i]), 1), 0);
		if (!s->count || v[i] < s->min_ns)
			s->min_ns = v[i];
		if (v[i] > s->max_ns)
			s->max_ns = v[i];
		s->count++;
		s->sum_ns += v[i];
		/* one wait of 10 us per event after the first */
		if (s->count > 1) {
			assert_int_equal(khist__add(&s->wait, khist_bucket(10000), 1), 0);
			s->wait_count++;
			s->wait_sum_ns += 10000;
			s->wait_min_ns = s->wait_max_ns = 10000;
		}
	}
}

static struct kseries make_series(const char *metric, uint32_t kind)
{
	struct kseries s;

	memset(&s, 0, sizeof(s));
	s.kind = kind;
	snprintf(s.metric, sizeof(s.metric), "%s", metric);
	snprintf(s.symbol, sizeof(s.symbol), "BTCUSDT");
	snprintf(s.strategy, sizeof(s.strategy), "sma");
	return s;
}

static struct otlp_metrics_snapshot *snapshot(struct kseries *v, size_t n, uint64_t t)
{
	struct kseries *p[4];
	struct otlp_metrics_snapshot *s;

	for (size_t i = 0; i < n; i++)
		p[i] = &v[i];
	s = otlp_metrics_snapshot__new(p, n, T0);
	assert_non_null(s);
	s->time_unix_ns = t;
	memset(&s->self, 0, sizeof(s->self)); /* this process's usage: test_protobuf_fields sets one */
	s->counters[PERFBPF_CNT_RB_DROPPED] = 3;
	s->counters[PERFBPF_CNT_KEYS_OVER_LIMIT] = 5;
	s->counters[PERFBPF_CNT_STR_FAULT] = 1;
	return s;
}

static struct json_object *encode_json(const struct otlp_metrics_snapshot *s,
				       const struct otlp_metrics_snapshot *prev, bool delta,
				       bool explicit_buckets)
{
	struct otlp_config c = { .delta = delta, .explicit_buckets = explicit_buckets };
	struct otlp_resource r = { 0 };
	struct pb_buf b = { 0 };
	struct json_object *root;

	assert_int_equal(otlp_attrs__set_str(&r.attrs, "service.name", "t"), 0);
	assert_int_equal(otlp_metrics_encode(s, prev, &c, &r, true, &b), 0);
	{ /* the buffer is not NUL-terminated: parse a copy */
		char *text = strndup((const char *)b.p, b.n);

		root = json_tokener_parse(text);
		free(text);
	}
	assert_non_null(root);
	pb_buf__free(&b);
	otlp_attrs__free(&r.attrs);
	return root;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static struct json_object *metric(struct json_object *root, const char *name)
{
	struct json_object *ms = get(json_object_array_get_idx(
		get(json_object_array_get_idx(get(root, "resourceMetrics"), 0), "scopeMetrics"), 0),
		"metrics");

	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		struct json_object *m = json_object_array_get_idx(ms, i);

		if (!strcmp(json_object_get_string(get(m, "name")), name))
			return m;
	}
	return NULL;
}

/* The data point of `metric` whose attribute key equals value. */
static struct json_object *point(struct json_object *root, const char *name, const char *type,
				 const char *key, const char *value)
{
	struct json_object *m = metric(root, name), *pts;

	assert_non_null(m);
	pts = get(get(m, type), "dataPoints");
	assert_non_null(pts);
	for (size_t i = 0; i < json_object_array_length(pts); i++) {
		struct json_object *p = json_object_array_get_idx(pts, i), *a = get(p, "attributes");

		if (!key)
			return p;
		for (size_t j = 0; j < json_object_array_length(a); j++) {
			struct json_object *kv = json_object_array_get_idx(a, j);

			if (!strcmp(json_object_get_string(get(kv, "key")), key) &&
			    !strcmp(json_object_get_string(get(get(kv, "value"), "stringValue")),
				    value))
				return p;
		}
	}
	return NULL;
}

static uint64_t u64(struct json_object *o, const char *key)
{
	return strtoull(json_object_get_string(get(o, key)), NULL, 10);
}

/* Exponential counts by OTel index (offset + i), into a map of at most n entries. */
struct idx_count {
	int64_t idx;
	uint64_t n;
};

static size_t exp_buckets(struct json_object *p, struct idx_count *out, size_t cap)
{
	struct json_object *pos = get(p, "positive"), *c = get(pos, "bucketCounts");
	int64_t off = json_object_get_int64(get(pos, "offset"));
	size_t k = 0;

	for (size_t i = 0; c && i < json_object_array_length(c); i++) {
		uint64_t n = strtoull(json_object_get_string(json_object_array_get_idx(c, i)), NULL,
				      10);

		if (!n)
			continue;
		assert_true(k < cap);
		out[k++] = (struct idx_count){ off + (int64_t)i, n };
	}
	return k;
}

/* The OTel index at scale 7 of v ns by the definition: base^i < v s <= base^(i+1). */
static int64_t otel_index(uint64_t v)
{
	double s = (double)v * 1e-9;
	int64_t i = (int64_t)floor(log2(s) * 128) - 2;

	while (!(exp2((double)(i + 1) / 128) >= s))
		i++;
	return i;
}

static void test_exponential_cumulative(void **state)
{
	struct kseries v[2] = { make_series("tick", PERFBPF_EV_OP),
				make_series("run", PERFBPF_EV_SPAN) };
	struct otlp_metrics_snapshot *s;
	struct json_object *root, *p, *ev;
	struct idx_count b[32];
	size_t nb;
	uint64_t total = 0;

	(void)state;
	add(&v[0], FIRST, sizeof(FIRST) / sizeof(FIRST[0]));
	add(&v[1], LATER, 2);
	s = snapshot(v, 2, T1);
	assert_int_equal(otlp_metrics_snapshot__points(s), 2 * 2 + 1 + 7 + 4 + 2);
	root = encode_json(s, NULL, false, false);
	p = point(root, "perfbpf.operation.duration", "exponentialHistogram", "metric", "tick");
	assert_non_null(p);
	assert_int_equal(json_object_get_int(get(get(metric(root, "perfbpf.operation.duration"),
						    "exponentialHistogram"),
						"aggregationTemporality")), 2);
	assert_string_equal(json_object_get_string(get(metric(root, "perfbpf.operation.duration"),
						       "unit")), "s");
	assert_int_equal(u64(p, "count"), 12);
	assert_int_equal(u64(p, "zeroCount"), 2);
	assert_int_equal(json_object_get_int(get(p, "scale")), 7);
	assert_int_equal(u64(p, "startTimeUnixNano"), T0);
	assert_int_equal(u64(p, "timeUnixNano"), T1);
	assert_true(fabs(json_object_get_double(get(p, "sum")) - 1000252274e-9) < 1e-15);
	assert_true(fabs(json_object_get_double(get(p, "min"))) < 1e-18);
	assert_true(fabs(json_object_get_double(get(p, "max")) - 1.0) < 1e-15);
	nb = exp_buckets(p, b, 32);
	for (size_t i = 0; i < nb; i++)
		total += b[i].n;
	assert_int_equal(total, 10);
	/* values with a 1-ns layout bucket sit exactly where OTel's definition puts them */
	assert_int_equal(b[0].idx, otel_index(7));
	assert_int_equal(b[0].n, 3);
	assert_int_equal(b[1].idx, otel_index(50));
	assert_int_equal(b[2].idx, otel_index(100));
	assert_int_equal(b[2].n, 2);
	/* larger ones: the bucket's midpoint within the layout's bound of the value */
	assert_int_equal(nb, 6);
	assert_int_equal(b[3].n, 2); /* 1000 and 1003 share a layout bucket */
	for (size_t i = 3; i < nb; i++) {
		const uint64_t want[] = { 1000, 250000, 1000000000 };
		double mid = (exp2((double)b[i].idx / 128) + exp2((double)(b[i].idx + 1) / 128)) / 2;

		assert_true(fabs(mid * 1e9 - (double)want[i - 3]) <= (double)want[i - 3] / 64);
	}
	/* the series' attributes; the wait histogram of the same key */
	p = point(root, "perfbpf.operation.duration", "exponentialHistogram", "kind", "span");
	assert_non_null(p);
	assert_int_equal(u64(p, "count"), 2);
	p = point(root, "perfbpf.operation.wait", "exponentialHistogram", "metric", "tick");
	assert_int_equal(u64(p, "count"), 11);
	assert_true(fabs(json_object_get_double(get(p, "sum")) - 11 * 10000e-9) < 1e-15);
	/* the counters */
	ev = point(root, "perfbpf.events", "sum", NULL, NULL);
	assert_int_equal(u64(ev, "asInt"), 14);
	assert_true(json_object_get_boolean(get(get(metric(root, "perfbpf.events"), "sum"),
						"isMonotonic")));
	assert_int_equal(u64(point(root, "perfbpf.events.dropped", "sum", "reason", "ringbuf_full"),
			     "asInt"), 3);
	assert_int_equal(u64(point(root, "perfbpf.events.dropped", "sum", "reason",
				   "keys_over_limit"), "asInt"), 5);
	assert_int_equal(u64(point(root, "perfbpf.string.errors", "sum", "reason", "fault"),
			     "asInt"), 1);
	assert_null(metric(root, "perfbpf.attached_processes")); /* not a monitor */
	json_object_put(root);
	otlp_metrics_snapshot__free(s);
	kseries__release(&v[0]);
	kseries__release(&v[1]);
}

static void test_explicit_exact(void **state)
{
	struct kseries v = make_series("tick", PERFBPF_EV_OP);
	struct otlp_metrics_snapshot *s;
	struct json_object *root, *p, *bounds, *counts;
	uint64_t want[OTLP_METRICS_BOUNDS + 1] = { 0 }, all[32];
	const size_t nf = sizeof(FIRST) / sizeof(FIRST[0]), ne = sizeof(EDGES) / sizeof(EDGES[0]);
	const size_t n = nf + ne;

	(void)state;
	memcpy(all, FIRST, sizeof(FIRST));
	memcpy(all + nf, EDGES, sizeof(EDGES));
	add(&v, all, n);
	s = snapshot(&v, 1, T1);
	root = encode_json(s, NULL, false, true);
	assert_null(metric(root, "perfbpf.operation.duration") ?
		    get(metric(root, "perfbpf.operation.duration"), "exponentialHistogram") : NULL);
	p = point(root, "perfbpf.operation.duration", "histogram", "metric", "tick");
	assert_non_null(p);
	bounds = get(p, "explicitBounds");
	counts = get(p, "bucketCounts");
	assert_int_equal(json_object_array_length(bounds), OTLP_METRICS_BOUNDS);
	assert_int_equal(json_object_array_length(counts), OTLP_METRICS_BOUNDS + 1);
	/* bounds increase: 63 ns, 95 ns, 127 ns, ... */
	assert_true(fabs(json_object_get_double(json_object_array_get_idx(bounds, 0)) - 63e-9) <
		    1e-20);
	assert_true(fabs(json_object_get_double(json_object_array_get_idx(bounds, 1)) - 95e-9) <
		    1e-20);
	/* each value in the first bucket whose bound holds it (v <= bound) */
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		while (k < OTLP_METRICS_BOUNDS &&
		       (double)all[i] > llround(json_object_get_double(
					  json_object_array_get_idx(bounds, k)) * 1e9))
			k++;
		want[k]++;
	}
	for (size_t k = 0; k <= OTLP_METRICS_BOUNDS; k++)
		assert_int_equal(strtoull(json_object_get_string(json_object_array_get_idx(counts, k)),
					  NULL, 10), want[k]);
	assert_int_equal(u64(p, "count"), n);
	json_object_put(root);
	otlp_metrics_snapshot__free(s);
	kseries__release(&v);
}

static void test_delta(void **state)
{
	struct kseries v[2] = { make_series("tick", PERFBPF_EV_OP),
				make_series("late", PERFBPF_EV_OP) };
	struct otlp_metrics_snapshot *s1, *s2;
	struct json_object *root, *p;
	struct idx_count b[32];
	size_t nb;
	uint64_t sum = 0;

	(void)state;
	add(&v[0], FIRST, sizeof(FIRST) / sizeof(FIRST[0]));
	s1 = snapshot(v, 1, T1);
	add(&v[0], LATER, sizeof(LATER) / sizeof(LATER[0]));
	add(&v[1], LATER, 1); /* a new series */
	s2 = snapshot(v, 2, T2);
	s2->counters[PERFBPF_CNT_RB_DROPPED] = 10;
	root = encode_json(s2, s1, true, false);
	assert_int_equal(json_object_get_int(get(get(metric(root, "perfbpf.operation.duration"),
						    "exponentialHistogram"),
						"aggregationTemporality")), 1);
	p = point(root, "perfbpf.operation.duration", "exponentialHistogram", "metric", "tick");
	assert_int_equal(u64(p, "count"), 4);
	assert_int_equal(u64(p, "zeroCount"), 0);
	assert_int_equal(u64(p, "startTimeUnixNano"), T1);
	assert_int_equal(u64(p, "timeUnixNano"), T2);
	for (size_t i = 0; i < 4; i++)
		sum += LATER[i];
	assert_true(fabs(json_object_get_double(get(p, "sum")) - (double)sum * 1e-9) < 1e-15);
	assert_null(get(p, "min")); /* a delta's own min and max are not known */
	nb = exp_buckets(p, b, 32);
	assert_int_equal(nb, 4);
	assert_int_equal(b[0].idx, otel_index(7));
	assert_int_equal(b[1].idx, otel_index(100));
	for (size_t i = 0; i < nb; i++)
		assert_int_equal(b[i].n, 1);
	p = point(root, "perfbpf.operation.wait", "exponentialHistogram", "metric", "tick");
	assert_int_equal(u64(p, "count"), 4);
	/* the new series whole, with its min and max */
	p = point(root, "perfbpf.operation.duration", "exponentialHistogram", "metric", "late");
	assert_int_equal(u64(p, "count"), 1);
	assert_non_null(get(p, "min"));
	assert_int_equal(u64(point(root, "perfbpf.events", "sum", NULL, NULL), "asInt"), 5);
	assert_int_equal(u64(point(root, "perfbpf.events.dropped", "sum", "reason", "ringbuf_full"),
			     "asInt"), 7);
	json_object_put(root);
	otlp_metrics_snapshot__free(s1);
	otlp_metrics_snapshot__free(s2);
	kseries__release(&v[0]);
	kseries__release(&v[1]);
}

/* Field `field` of message r (the first), as a sub-reader or varint; false if absent. */
static bool field_of(struct pb_reader r, unsigned want, struct pb_reader *sub, uint64_t *val)
{
	unsigned f, wt;
	uint64_t v;
	struct pb_reader s;

	while (r.p < r.end) {
		assert_true(pb__next_field(&r, &f, &wt, &v, &s));
		if (f == want) {
			if (sub)
				*sub = s;
			if (val)
				*val = v;
			return true;
		}
	}
	return false;
}

static void test_protobuf_fields(void **state)
{
	struct kseries v = make_series("tick", PERFBPF_EV_OP);
	struct otlp_metrics_snapshot *s;
	struct otlp_config c = { .delta = false };
	struct otlp_resource res = { 0 };
	struct pb_buf b = { 0 };
	struct pb_reader r, rm, sm, m, data, dp, pos;
	unsigned f, wt, nmetrics = 0;
	uint64_t val;
	bool seen_exp = false, seen_sum = false;

	(void)state;
	add(&v, FIRST, sizeof(FIRST) / sizeof(FIRST[0]));
	s = snapshot(&v, 1, T1);
	s->self.rss_bytes = 1 << 20;
	s->self.cpu_s = 0.5;
	s->monitor = true;
	assert_int_equal(otlp_metrics_encode(s, NULL, &c, &res, false, &b), 0);
	r = (struct pb_reader){ b.p, b.p + b.n };
	assert_true(field_of(r, 1, &rm, NULL));  /* resource_metrics */
	assert_true(field_of(rm, 2, &sm, NULL)); /* scope_metrics */
	while (sm.p < sm.end) {
		char name[64];
		struct pb_reader nm;

		assert_true(pb__next_field(&sm, &f, &wt, &val, &m));
		if (f != 2)
			continue; /* scope */
		nmetrics++;
		assert_true(field_of(m, 1, &nm, NULL));
		snprintf(name, sizeof(name), "%.*s", (int)(nm.end - nm.p), nm.p);
		if (!strcmp(name, "perfbpf.operation.duration")) {
			assert_true(field_of(m, 10, &data, NULL)); /* exponential_histogram */
			assert_true(field_of(data, 2, NULL, &val));
			assert_int_equal(val, 2); /* CUMULATIVE */
			assert_true(field_of(data, 1, &dp, NULL));
			assert_true(field_of(dp, 6, NULL, &val));
			assert_int_equal(val, 14); /* scale 7, zigzag */
			assert_true(field_of(dp, 8, &pos, NULL)); /* positive */
			assert_true(field_of(pos, 2, NULL, NULL)); /* bucket_counts */
			seen_exp = true;
		} else if (!strcmp(name, "perfbpf.events")) {
			assert_true(field_of(m, 7, &data, NULL)); /* sum */
			assert_true(field_of(data, 3, NULL, &val));
			assert_int_equal(val, 1); /* monotonic */
			seen_sum = true;
		} else if (!strcmp(name, "perfbpf.attached_processes") ||
			   !strcmp(name, "process.memory.usage")) {
			assert_true(field_of(m, 5, &data, NULL)); /* gauge */
		}
	}
	assert_true(seen_exp && seen_sum);
	/* 2 histograms, events, 3 loss families, attached processes, CPU and memory */
	assert_int_equal(nmetrics, 9);
	pb_buf__free(&b);
	otlp_metrics_snapshot__free(s);
	kseries__release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exponential_cumulative),
		cmocka_unit_test(test_explicit_exact),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_protobuf_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
