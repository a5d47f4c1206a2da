// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the Prometheus exposition of the monitor's series
 * (exporters/prometheus/prometheus.c): the text format parsed back and line for line, the
 * protobuf format decoded from the wire, and content negotiation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/prometheus/prometheus.h"
#include "kseries_fixture.h"

/* The exposition of one series, parsed back: buckets cumulative, le increasing, +Inf equal to
 * the count, at most PROM_CLASSIC_BOUNDS bounds (the values below the lowest one in the first
 * bucket), labels escaped. */
static void test_prometheus_histogram(void **state)
{
	struct kseries *s = calloc(1, sizeof(*s));
	struct kseries *const v[] = { s };
	struct prom_input in = { .series = v, .nseries = 1 };
	char *buf = NULL, *line, *save;
	size_t len = 0, nb = 0;
	double last_le = -1, last_cum = -1, first_cum = -1, last_finite = -1;
	uint64_t inf = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	fill(s, (uint64_t[]){ 1000, 1001, 5000, 5000, 70000000 }, 5);
	s->kind = PERFBPF_EV_SPAN;
	strcpy(s->metric, "a\"b\\c");
	in.counters[PERFBPF_CNT_KEYS_OVER_LIMIT] = 3;
	assert_int_equal(prometheus__write(f, &in, PROM_TEXT), 0);
	fclose(f);
	assert_non_null(strstr(buf, "metric=\"a\\\"b\\\\c\""));
	assert_non_null(strstr(buf, "perfbpf_unknown_key_events_total 3\n"));
	assert_non_null(strstr(buf, "perfbpf_events_total 5\n"));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *le;
		double cum;

		if (strncmp(line, "perfbpf_operation_duration_seconds_bucket{", 42))
			continue;
		le = strstr(line, "le=\"");
		assert_non_null(le);
		cum = atof(strrchr(line, ' ') + 1);
		assert_true(cum >= last_cum);
		last_cum = cum;
		if (!strncmp(le, "le=\"+Inf\"", 9)) {
			inf = (uint64_t)cum;
			continue;
		}
		assert_true(atof(le + 4) > last_le);
		last_le = atof(le + 4);
		if (!nb++)
			first_cum = cum;
		last_finite = cum;
	}
	assert_int_equal(inf, 5);
	/* 1000 ns to 70 ms needs 35 bounds: the 24 that hold the most values, from 767 ns (below
	 * 1000) to 2^21 - 1 ns (70 ms above, in +Inf only) */
	assert_int_equal(nb, PROM_CLASSIC_BOUNDS);
	assert_float_equal(first_cum, 0, 0);
	assert_float_equal(last_finite, 4, 0);
	assert_float_equal(last_le, (double)((2ull << 20) - 1) * 1e-9, 1e-15);
	free(buf);
	kseries__release(s);
	free(s);
}

/* A metric whose values span more than PROM_CLASSIC_BOUNDS bounds: the window holds the most
 * values (the 1 ms bulk and the 100 ms outlier), not the lowest (one 10 ns value, then only in
 * the first bucket). */
static void test_prometheus_window(void **state)
{
	struct kseries *s = calloc(1, sizeof(*s));
	struct kseries *const v[] = { s };
	struct prom_input in = { .series = v, .nseries = 1 };
	uint64_t vals[102];
	char *buf = NULL, *line, *save, first[64] = "", last[64] = "";
	size_t len = 0, nb = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	vals[0] = 10;
	for (int i = 1; i <= 100; i++)
		vals[i] = 1000000;
	vals[101] = 100000000;
	fill(s, vals, 102);
	strcpy(s->metric, "w");
	assert_int_equal(prometheus__write(f, &in, PROM_TEXT), 0);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "perfbpf_operation_duration_seconds_bucket{", 42) ||
		    strstr(line, "+Inf"))
			continue;
		snprintf(nb++ ? last : first, sizeof(first), "%s", strstr(line, "le=\""));
	}
	assert_int_equal(nb, PROM_CLASSIC_BOUNDS);
	/* from 2^15 - 1 ns (the 10 ns value below it) to 1.5 * 2^26 - 1 ns (the outlier inside) */
	assert_string_equal(first, "le=\"3.2767e-05\"} 1");
	assert_string_equal(last, "le=\"0.100663295\"} 102");
	free(buf);
	kseries__release(s);
	free(s);
}

/* Two series of one metric get the same bounds (so that sum by (le) across them is exact). */
static void test_prometheus_shared_bounds(void **state)
{
	struct kseries *s = calloc(2, sizeof(*s));
	struct kseries *const v[] = { &s[0], &s[1] };
	struct prom_input in = { .series = v, .nseries = 2 };
	char *buf = NULL, *line, *save, les[2][4096] = { "", "" };
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	fill(&s[0], (uint64_t[]){ 1000 }, 1);
	fill(&s[1], (uint64_t[]){ 5000 }, 1);
	for (int i = 0; i < 2; i++) {
		s[i].kind = PERFBPF_EV_OP;
		strcpy(s[i].metric, "tick");
		strcpy(s[i].symbol, i ? "Y" : "X");
	}
	assert_int_equal(prometheus__write(f, &in, PROM_TEXT), 0);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *le = strstr(line, "le=\"");

		if (strncmp(line, "perfbpf_operation_duration_seconds_bucket{", 42) || !le)
			continue;
		strncat(les[strstr(line, "symbol=\"Y\"") != NULL], le,
			(size_t)(strchr(le + 4, '"') - le + 1));
	}
	assert_true(strlen(les[0]) > 0);
	assert_string_equal(les[0], les[1]);
	free(buf);
	kseries__release(&s[0]);
	kseries__release(&s[1]);
	free(s);
}

/* The exposition of one series, line for line: bounds at 2^e - 1 and 1.5 * 2^e - 1 ns in
 * seconds, from the edge below the lowest value (1000 ns: [768, 1023]) to the highest's (5000 ns:
 * [4096, 6143]); counts cumulative; _sum in seconds; the wait time's _sum and _count. */
static void test_prometheus_exact_lines(void **state)
{
	static const char want[] =
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"7.67e-07\"} 0\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"1.023e-06\"} 1\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"1.535e-06\"} 1\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"2.047e-06\"} 1\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"3.071e-06\"} 1\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"4.095e-06\"} 1\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"6.143e-06\"} 3\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"+Inf\"} 3\n"
		"perfbpf_operation_duration_seconds_sum{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\"} 1.1e-05\n"
		"perfbpf_operation_duration_seconds_count{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\"} 3\n"
		"# HELP perfbpf_operation_wait_seconds Time between the ends of consecutive events of "
		"the same key (its distribution: native histograms, the protobuf exposition).\n"
		"# TYPE perfbpf_operation_wait_seconds summary\n"
		"perfbpf_operation_wait_seconds_sum{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\"} 4e-07\n"
		"perfbpf_operation_wait_seconds_count{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\"} 2\n";
	struct kseries *k = calloc(1, sizeof(*k));
	struct kseries *const v[] = { k };
	struct prom_input in = { .series = v, .nseries = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(k);
	assert_non_null(f);
	fill(k, (uint64_t[]){ 1000, 5000, 5000 }, 3);
	k->kind = PERFBPF_EV_OP;
	strcpy(k->metric, "tick");
	strcpy(k->symbol, "X");
	strcpy(k->strategy, "s");
	k->wait_count = 2;
	k->wait_sum_ns = 400;
	k->wait_min_ns = k->wait_max_ns = 200;
	assert_int_equal(khist__add(&k->wait, khist_bucket(200), 2), 0);
	assert_int_equal(prometheus__write(f, &in, PROM_TEXT), 0);
	fclose(f);
	if (!strstr(buf, want))
		fail_msg("exposition:\n%s", buf);
	free(buf);
	kseries__release(k);
	free(k);
}

/* A protobuf reader for the test: the fields of one message. */
struct field {
	unsigned num, wt;
	uint64_t v;         /* varint or fixed64 */
	const uint8_t *p;   /* length-delimited */
	size_t n;
};

static const uint8_t *varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int s = 0; p < end && s < 64; s += 7) {
		*v |= (uint64_t)(*p & 0x7f) << s;
		if (!(*p++ & 0x80))
			return p;
	}
	fail_msg("bad varint");
	return end;
}

static const uint8_t *next_field(const uint8_t *p, const uint8_t *end, struct field *f)
{
	uint64_t tag;

	p = varint(p, end, &tag);
	f->num = (unsigned)(tag >> 3);
	f->wt = (unsigned)(tag & 7);
	if (f->wt == 0)
		return varint(p, end, &f->v);
	if (f->wt == 1) {
		assert_true(end - p >= 8);
		memcpy(&f->v, p, 8);
		return p + 8;
	}
	assert_int_equal(f->wt, 2);
	p = varint(p, end, &f->v);
	assert_true((uint64_t)(end - p) >= f->v);
	f->p = p;
	f->n = (size_t)f->v;
	return p + f->n;
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static double as_double(uint64_t v)
{
	double d;

	memcpy(&d, &v, sizeof(d));
	return d;
}

/* One native histogram, decoded: counts by bucket index. */
struct native {
	uint64_t count, zero_count;
	double sum, zero_threshold;
	int64_t schema;
	int64_t idx[4096];
	uint64_t cnt[4096];
	size_t n;
};

static void decode_native(const uint8_t *p, const uint8_t *end, struct native *h)
{
	int64_t span_off[4096], at = 0, prev = 0;
	uint64_t span_len[4096];
	size_t nspans = 0, k = 0, nd = 0;
	int64_t deltas[4096];

	memset(h, 0, sizeof(*h));
	while (p < end) {
		struct field f;

		p = next_field(p, end, &f);
		if (f.num == 1)
			h->count = f.v;
		else if (f.num == 2)
			h->sum = as_double(f.v);
		else if (f.num == 5)
			h->schema = unzigzag(f.v);
		else if (f.num == 6)
			h->zero_threshold = as_double(f.v);
		else if (f.num == 7)
			h->zero_count = f.v;
		else if (f.num == 12) {
			const uint8_t *q = f.p;

			while (q < f.p + f.n) {
				struct field g;

				assert_true(nspans < 4096);
				q = next_field(q, f.p + f.n, &g);
				if (g.num == 1)
					span_off[nspans] = unzigzag(g.v);
				else
					span_len[nspans] = g.v;
			}
			nspans++;
		} else if (f.num == 13) {
			for (const uint8_t *q = f.p; q < f.p + f.n;) {
				uint64_t v;

				q = varint(q, f.p + f.n, &v);
				assert_true(nd < 4096);
				deltas[nd++] = unzigzag(v);
			}
		} else {
			fail_msg("unexpected Histogram field %u", f.num);
		}
	}
	for (size_t s = 0; s < nspans; s++) {
		at += span_off[s];
		for (uint64_t j = 0; j < span_len[s]; j++, at++) {
			assert_true(k < nd);
			prev += deltas[k++];
			assert_true(prev >= 0); /* gaps of up to two buckets come as empty ones */
			if (!prev)
				continue;
			h->idx[h->n] = at;
			h->cnt[h->n++] = (uint64_t)prev;
		}
		/* the next span's offset counts from the bucket after this one */
	}
	assert_int_equal(k, nd);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The protobuf exposition, decoded by hand from the wire: delimited MetricFamily messages; the
 * duration family a native histogram of schema 7 whose buckets, in order, hold the values in
 * order, each value within 1/64 of its bucket's bounds; count, sum and zero bucket exact; the
 * counters as counters. */
static void test_prometheus_native(void **state)
{
	uint64_t vals[4000];
	struct kseries *k = calloc(1, sizeof(*k));
	struct kseries *const v[] = { k };
	struct prom_input in = { .series = v, .nseries = 1 };
	struct native *h = calloc(1, sizeof(*h));
	char *buf = NULL;
	size_t len = 0, nfam = 0, nv = 0;
	bool saw_dur = false, saw_events = false;
	FILE *f = open_memstream(&buf, &len);
	const uint8_t *p, *end;
	uint64_t seed = 42, sum = 0;

	(void)state;
	assert_non_null(k);
	assert_non_null(h);
	vals[nv++] = 0;
	vals[nv++] = 0;
	vals[nv++] = 1;
	vals[nv++] = 63;
	vals[nv++] = 64;
	vals[nv++] = (1ull << 37) + 5; /* the overflow bucket */
	while (nv < 4000) { /* log-uniform from 1 ns to ~1 s */
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		vals[nv++] = (uint64_t)exp2((double)(seed >> 11) / 9007199254740992.0 * 30);
	}
	qsort(vals, nv, sizeof(vals[0]), cmp_u64);
	fill(k, vals, nv);
	for (size_t i = 0; i < nv; i++)
		sum += vals[i];
	k->kind = PERFBPF_EV_OP;
	strcpy(k->metric, "tick");
	assert_int_equal(prometheus__write(f, &in, PROM_PROTOBUF), 0);
	fclose(f);
	p = (const uint8_t *)buf;
	end = p + len;
	while (p < end) {
		uint64_t mlen;
		const uint8_t *m, *mend;
		const char *name = NULL;
		size_t name_len = 0;

		p = varint(p, end, &mlen);
		assert_true((uint64_t)(end - p) >= mlen);
		m = p;
		mend = p + mlen;
		p = mend;
		nfam++;
		while (m < mend) {
			struct field fl;

			m = next_field(m, mend, &fl);
			if (fl.num == 1) {
				name = (const char *)fl.p;
				name_len = fl.n;
			} else if (fl.num == 3 && name_len == 34 &&
				   !memcmp(name, "perfbpf_operation_duration_seconds", 34)) {
				assert_int_equal(fl.v, 4); /* HISTOGRAM */
			} else if (fl.num == 4 && name_len == 34 &&
				   !memcmp(name, "perfbpf_operation_duration_seconds", 34)) {
				const uint8_t *q = fl.p;

				while (q < fl.p + fl.n) {
					struct field g;

					q = next_field(q, fl.p + fl.n, &g);
					if (g.num == 7) {
						decode_native(g.p, g.p + g.n, h);
						saw_dur = true;
					}
				}
			} else if (fl.num == 4 && name_len == 20 &&
				   !memcmp(name, "perfbpf_events_total", 20)) {
				struct field g, c;

				next_field(fl.p, fl.p + fl.n, &g);
				assert_int_equal(g.num, 3); /* Metric.counter */
				next_field(g.p, g.p + g.n, &c);
				assert_float_equal(as_double(c.v), 4000, 0);
				saw_events = true;
			}
		}
	}
	assert_true(saw_dur);
	assert_true(saw_events);
	assert_true(nfam >= 10);
	assert_int_equal(h->schema, 7);
	assert_int_equal(h->count, 4000);
	assert_float_equal(h->sum, (double)sum * 1e-9, 1e-9);
	assert_int_equal(h->zero_count, 2);
	assert_true(h->zero_threshold > 0 && h->zero_threshold < 1e-30);
	{
		size_t at = 2; /* after the two zeros */

		for (size_t b = 0; b < h->n; b++) {
			double upper = exp2((double)h->idx[b] / 128) * 1e9;
			double lower = exp2((double)(h->idx[b] - 1) / 128) * 1e9;

			if (b)
				assert_true(h->idx[b] > h->idx[b - 1]);
			for (uint64_t c = 0; c < h->cnt[b]; c++, at++) {
				double x = (double)vals[at];

				assert_true(at < nv);
				if (at == nv - 1)
					continue; /* the overflow value: its bucket ends at the max */
				if (!(x * (1 - 1.0 / 64) <= upper && x * (1 + 1.0 / 64) >= lower))
					fail_msg("%.0f ns in native bucket %" PRId64 " (%.1f, %.1f]", x,
						 h->idx[b], lower, upper);
			}
		}
		assert_int_equal(at, nv);
	}
	free(buf);
	free(h);
	kseries__release(k);
	free(k);
}

/* Content negotiation: protobuf when the scraper asks for the delimited MetricFamily encoding
 * at least as much as for text. */
static void test_prometheus_negotiate(void **state)
{
	(void)state;
	assert_int_equal(prometheus__negotiate(NULL), PROM_TEXT);
	assert_int_equal(prometheus__negotiate(""), PROM_TEXT);
	assert_int_equal(prometheus__negotiate("*/*"), PROM_TEXT);
	assert_int_equal(prometheus__negotiate("text/plain;version=0.0.4;q=0.3,*/*;q=0.2"),
			 PROM_TEXT);
	/* Prometheus 2.42 with --enable-feature=native-histograms */
	assert_int_equal(prometheus__negotiate(
				 "application/vnd.google.protobuf;proto=io.prometheus.client."
				 "MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;"
				 "q=0.3,*/*;q=0.2"),
			 PROM_PROTOBUF);
	/* preferred less than text, another proto, or not delimited: text */
	assert_int_equal(prometheus__negotiate(
				 "application/vnd.google.protobuf;proto=io.prometheus.client."
				 "MetricFamily;encoding=delimited;q=0.2,text/plain;q=0.5"),
			 PROM_TEXT);
	assert_int_equal(prometheus__negotiate("application/vnd.google.protobuf;proto=other;"
					       "encoding=delimited"),
			 PROM_TEXT);
	assert_int_equal(prometheus__negotiate("application/vnd.google.protobuf;proto=io."
					       "prometheus.client.MetricFamily;encoding=text"),
			 PROM_TEXT);
	assert_int_equal(prometheus__negotiate(
				 "application/vnd.google.protobuf;proto=io.prometheus.client."
				 "MetricFamily;encoding=delimited;q=0"),
			 PROM_TEXT);
	/* blanks around elements and parameters; a parameter must match whole */
	assert_int_equal(prometheus__negotiate(" text/plain ;q=0.1 , " PROMETHEUS_PROTOBUF_TYPE
					       " ; q=0.9"),
			 PROM_PROTOBUF);
	assert_int_equal(prometheus__negotiate("application/vnd.google.protobuf;proto=io."
					       "prometheus.client.MetricFamily;"
					       "encoding=delimitedX"),
			 PROM_TEXT);
	assert_string_equal(prometheus__content_type(PROM_PROTOBUF), PROMETHEUS_PROTOBUF_TYPE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_histogram),
		cmocka_unit_test(test_prometheus_shared_bounds),
		cmocka_unit_test(test_prometheus_window),
		cmocka_unit_test(test_prometheus_exact_lines),
		cmocka_unit_test(test_prometheus_native),
		cmocka_unit_test(test_prometheus_negotiate),
	};

	return cmocka_run_group_tests_name("unit: Prometheus exposition", tests, NULL, NULL);
}
