// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the report exporters (exporters/report/: the markdown report byte for byte, column
 * selection, the JSON summary) and the event log line (exporters/events/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/events/events.h"
#include "exporters/report/json.h"
#include "exporters/report/markdown.h"
#include "fixture_summary.h"
#include "user/model/hist.h"

static char *render_md(const struct summary *s, const struct md_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(markdown__write(f, s, o), 0);
	fclose(f);
	return buf;
}

static char *read_file(const char *rel)
{
	const char *src = getenv("PERFBPF_SRC");
	char path[512];
	char *buf;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", src ? src : ".", rel);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* The reviewed report for the fixture, byte for byte (tests/unit/golden_report.md). */
static void test_markdown_golden(void **state)
{
	struct summary s;
	struct md_opts o;
	char *got, *want;

	(void)state;
	fixture_summary(&s);
	markdown__default_opts(&o);
	got = render_md(&s, &o);
	want = read_file("tests/unit/golden_report.md");
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_markdown_columns_and_unit(void **state)
{
	struct summary s;
	struct md_opts o;
	const char *bad;
	char *got;

	(void)state;
	fixture_summary(&s);
	markdown__default_opts(&o);
	assert_int_equal(markdown__parse_columns("metric,symbol,count,p99", &o, &bad), 0);
	assert_int_equal(o.ncols, 4);
	o.unit = UNIT_US;
	got = render_md(&s, &o);
	assert_non_null(strstr(got, "| Metric | Count | P99 |\n|---|---:|---:|\n"
				    "| backtest.simulation | 1 | 250000.00 us |\n"
				    "| strategy.tick | 1,234,567 | ~1.50 us |\n"));
	assert_non_null(strstr(got, "| Metric | Symbol | Count | P99 |\n"));
	assert_non_null(strstr(got, "| strategy.tick | BTC\\|USDT | 1,234,567 | ~1.50 us |\n"));
	free(got);
	assert_int_equal(markdown__parse_columns("metric,,count", &o, &bad), -EINVAL);
	assert_string_equal(bad, "");
	assert_int_equal(markdown__parse_columns("p99,latency", &o, &bad), -EINVAL);
	assert_string_equal(bad, "latency");
}

static void test_markdown_empty(void **state)
{
	struct summary s;
	struct md_opts o;
	char *got;

	(void)state;
	fixture_summary(&s);
	s.nrows = s.nmetrics = 0;
	s.events = s.dropped = 0;
	memset(s.counters, 0, sizeof(s.counters));
	markdown__default_opts(&o);
	got = render_md(&s, &o);
	assert_non_null(strstr(got, "No events were recorded."));
	assert_non_null(strstr(got, "Every event that reached a probe is in the statistics"));
	free(got);
}

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("missing key %s", k);
	return v;
}

/* The JSON summary of s, parsed back. */
static struct json_object *json_of(const struct summary *s)
{
	struct json_object *root;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(json__write(f, s), 0);
	fclose(f);
	root = json_tokener_parse(buf);
	assert_non_null(root);
	free(buf);
	return root;
}

static void test_json_summary(void **state)
{
	struct json_object *root, *m, *r;
	struct summary s;

	(void)state;
	fixture_summary(&s);
	root = json_of(&s);
	assert_string_equal(json_object_get_string(get(root, "schema")), "perfbpf.summary/2");
	assert_int_equal(json_object_get_uint64(get(root, "events")), 1234568);
	assert_int_equal(json_object_get_uint64(get(root, "dropped")), 12);
	assert_int_equal(json_object_get_int(get(root, "exit_status")), 0);
	assert_int_equal(json_object_get_uint64(get(get(root, "losses"), "ringbuf_full")), 12);
	assert_int_equal(json_object_get_uint64(get(get(root, "losses"), "span_mismatch")), 2);
	m = get(root, "metrics");
	assert_int_equal(json_object_array_length(m), 2);
	r = json_object_array_get_idx(m, 1);
	assert_string_equal(json_object_get_string(get(r, "metric")), "strategy.tick");
	assert_string_equal(json_object_get_string(get(r, "kind")), "op");
	assert_string_equal(json_object_get_string(get(r, "symbol")), "BTC|USDT");
	assert_string_equal(json_object_get_string(get(r, "strategy")), "sma-5-20");
	assert_int_equal(json_object_get_uint64(get(r, "count")), 1234567);
	assert_int_equal(json_object_get_uint64(get(r, "total_ns")), 150000000);
	assert_int_equal(json_object_get_uint64(get(r, "mean_ns")), 122); /* 121.5 rounded */
	assert_int_equal(json_object_get_uint64(get(r, "min_ns")), 80);
	assert_int_equal(json_object_get_uint64(get(r, "max_ns")), 2500000);
	assert_int_equal(json_object_get_uint64(get(r, "stddev_ns")), 45);
	assert_int_equal(json_object_get_uint64(get(r, "p50_ns")), 110);
	assert_int_equal(json_object_get_uint64(get(r, "p95_ns")), 190);
	assert_int_equal(json_object_get_uint64(get(r, "p99_ns")), 1500);
	assert_int_equal(json_object_get_uint64(get(r, "wait_mean_ns")), 203); /* 202.5 */
	assert_int_equal(json_object_get_uint64(get(r, "wait_min_ns")), 90);
	assert_int_equal(json_object_get_uint64(get(r, "wait_max_ns")), 3000000);
	assert_true(json_object_get_boolean(get(r, "approximate")));
	assert_int_equal(json_object_get_uint64(get(r, "wait_count")), 1234566);
	assert_int_equal(json_object_get_uint64(get(r, "self_total_ns")), 150000000);
	/* a span: its self time (50 ms) is not its total (250 ms) */
	r = json_object_array_get_idx(m, 0);
	assert_int_equal(json_object_get_uint64(get(r, "total_ns")), 250000000);
	assert_int_equal(json_object_get_uint64(get(r, "self_total_ns")), 50000000);
	/* roll-ups carry no symbol or strategy */
	r = json_object_array_get_idx(get(root, "metric_rollups"), 0);
	assert_false(json_object_object_get_ex(r, "symbol", NULL));
	assert_string_equal(json_object_get_string(get(r, "kind")), "span");
	assert_int_equal(json_object_get_uint64(get(r, "self_total_ns")), 50000000);
	json_object_put(root);

	/* no exit status (attach): null */
	s.exit_status = -1;
	root = json_of(&s);
	assert_true(json_object_is_type(get(root, "exit_status"), json_type_null));
	json_object_put(root);
}

/* Records the consumer could not decode are a loss like any other: in `dropped`, in the JSON
 * losses and in the report's data quality section. */
static void test_malformed_records_reported(void **state)
{
	struct json_object *root;
	struct summary s;
	struct md_opts o;
	char *md;

	(void)state;
	fixture_summary(&s);
	memset(s.counters, 0, sizeof(s.counters));
	s.counters[PERFBPF_CNT_MALFORMED_RECORD] = 3;
	s.dropped = summary__dropped(s.counters);
	assert_int_equal(s.dropped, 3);
	root = json_of(&s);
	assert_int_equal(json_object_get_uint64(get(get(root, "losses"), "malformed_record")), 3);
	assert_int_equal(json_object_get_uint64(get(root, "dropped")), 3);
	json_object_put(root);
	markdown__default_opts(&o);
	md = render_md(&s, &o);
	assert_non_null(strstr(md, "- **3 events are not in the statistics.**\n"));
	assert_non_null(strstr(md, "- 3 ring-buffer records that did not decode"));
	free(md);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_event_log_line(void **state)
{
	struct perfbpf_event e;
	struct json_object *o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	memset(&e, 'Z', sizeof(e)); /* unterminated fields must not overrun */
	e.kind = PERFBPF_EV_SPAN;
	e.flags = PERFBPF_F_TRUNCATED;
	e.pid = 10;
	e.tid = 11;
	e.end_ns = 5000;
	e.duration_ns = 1000;
	e.self_ns = 400;
	e.span_id = 7;
	e.parent_id = 6;
	e.trace_id = 5;
	e.depth = 2;
	f = open_memstream(&buf, &len);
	{
		struct events_writer *w = events__new(f);

		assert_int_equal(events__write(w, &e), 0);
		e.kind = PERFBPF_EV_OP; /* a second record of another shape on the next line */
		e.flags = 0;
		assert_int_equal(events__write(w, &e), 0);
		events__free(w);
	}
	fclose(f);
	assert_int_equal(count_lines(buf), 2);
	*strchr(buf, '\n') = '\0';
	o = json_tokener_parse(buf);
	assert_non_null(o);
	assert_int_equal(strlen(json_object_get_string(get(o, "metric"))), PERFBPF_METRIC_LEN);
	assert_int_equal(json_object_get_uint64(get(o, "start_mono_ns")), 4000);
	assert_int_equal(json_object_get_uint64(get(o, "parent_id")), 6);
	assert_true(json_object_get_boolean(get(o, "truncated")));
	json_object_put(o);
	free(buf);
}

/* Records of one shape whose symbol goes from set to empty and back (a span with a symbol, its
 * child without): each line carries its own names (and, under AddressSanitizer, no buffer of
 * the reused objects is lost: json-c 0.16 leaked one per such event). */
static void test_event_log_empty_names(void **state)
{
	struct perfbpf_event e;
	char *buf = NULL, *line, *save;
	size_t len = 0, n = 0;
	FILE *f;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.kind = PERFBPF_EV_OP;
	f = open_memstream(&buf, &len);
	{
		struct events_writer *w = events__new(f);

		for (int i = 0; i < 6; i++) {
			strcpy(e.names.metric, i % 2 ? "inner" : "outer");
			strcpy(e.names.symbol, i % 2 ? "" : "AAA");
			strcpy(e.names.strategy, i % 3 ? "" : "long strategy name");
			assert_int_equal(events__write(w, &e), 0);
		}
		events__free(w);
	}
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		struct json_object *o = json_tokener_parse(line);

		assert_non_null(o);
		assert_string_equal(json_object_get_string(get(o, "metric")), n % 2 ? "inner" : "outer");
		assert_string_equal(json_object_get_string(get(o, "symbol")), n % 2 ? "" : "AAA");
		assert_string_equal(json_object_get_string(get(o, "strategy")),
				    n % 3 ? "" : "long strategy name");
		json_object_put(o);
	}
	assert_int_equal(n, 6);
	free(buf);
}

static void test_attribution_outputs(void **state)
{
	struct json_object *root, *r;
	struct summary s;
	struct md_opts o;
	char *got;

	(void)state;
	fixture_summary(&s);
	s.attribution = true;
	fixture_metrics[0].attributed = true;
	fixture_metrics[0].attr[ATTR_ONCPU] = (struct attr_stats){ .total_ns = 50000000,
								   .p99_ns = 50000000 };
	fixture_metrics[0].attr[ATTR_RUNQ] = (struct attr_stats){ .total_ns = 175000000,
								  .p50_ns = 100, .p99_ns = 175000000 };
	fixture_metrics[0].attr[ATTR_BLOCKED] = (struct attr_stats){ .total_ns = 25000000,
								     .p99_ns = 25000000 };
	fixture_metrics[0].voluntary_switches = 3;
	fixture_metrics[0].involuntary_switches = 40;
	fixture_metrics[0].migrations = 1;
	markdown__default_opts(&o);
	got = render_md(&s, &o);
	assert_non_null(strstr(got, "## Where the time went\n"));
	assert_non_null(strstr(got, "- **backtest.simulation**: 20.0% on CPU, 70.0% run-queue wait, "
				    "10.0% blocked: mostly waiting for a CPU (preempted, or more "
				    "runnable threads than CPUs). p99 on CPU 50.0 ms, run-queue 175 ms, "
				    "blocked 25.0 ms; 3 voluntary and 40 involuntary context "
				    "switches, 1 migrations.\n"));
	/* only attributed metrics are listed */
	assert_null(strstr(got, "- **strategy.tick**: "));
	free(got);

	root = json_of(&s);
	assert_true(json_object_get_boolean(get(root, "attribution")));
	r = json_object_array_get_idx(get(root, "metric_rollups"), 0);
	assert_int_equal(json_object_get_uint64(get(r, "oncpu_total_ns")), 50000000);
	assert_int_equal(json_object_get_uint64(get(r, "runq_total_ns")), 175000000);
	assert_int_equal(json_object_get_uint64(get(r, "blocked_total_ns")), 25000000);
	assert_int_equal(json_object_get_uint64(get(r, "runq_p50_ns")), 100);
	assert_int_equal(json_object_get_uint64(get(r, "runq_p99_ns")), 175000000);
	assert_int_equal(json_object_get_uint64(get(r, "involuntary_switches")), 40);
	r = json_object_array_get_idx(get(root, "metric_rollups"), 1);
	assert_false(json_object_object_get_ex(r, "oncpu_total_ns", NULL));
	json_object_put(root);
	fixture_metrics[0].attributed = false;
}

/* --histograms: a row's histogram is [[lower bound ns, count], ...] in the layout's buckets:
 * 1000 ns lies in [1000, 1003], 5000 ns in [4992, 5023] (lower bounds, not midpoints). */
static void test_json_histogram(void **state)
{
	const struct hist_bin bins[] = { { .index = hist_bucket(1000), .count = 3 },
					 { .index = hist_bucket(5000), .count = 2 } };
	struct json_object *root, *h, *pair;
	struct summary s;

	(void)state;
	fixture_summary(&s);
	fixture_rows[1].bins = bins;
	fixture_rows[1].nbins = 2;
	root = json_of(&s);
	fixture_rows[1].bins = NULL;
	fixture_rows[1].nbins = 0;
	h = get(json_object_array_get_idx(get(root, "metrics"), 1), "histogram");
	assert_int_equal(json_object_array_length(h), 2);
	pair = json_object_array_get_idx(h, 0);
	assert_int_equal(json_object_get_uint64(json_object_array_get_idx(pair, 0)), 1000);
	assert_int_equal(json_object_get_uint64(json_object_array_get_idx(pair, 1)), 3);
	pair = json_object_array_get_idx(h, 1);
	assert_int_equal(json_object_get_uint64(json_object_array_get_idx(pair, 0)), 4992);
	assert_int_equal(json_object_get_uint64(json_object_array_get_idx(pair, 1)), 2);
	assert_false(json_object_object_get_ex(json_object_array_get_idx(get(root, "metrics"), 0),
					       "histogram", NULL));
	json_object_put(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markdown_golden),
		cmocka_unit_test(test_markdown_columns_and_unit),
		cmocka_unit_test(test_markdown_empty),
		cmocka_unit_test(test_json_summary),
		cmocka_unit_test(test_json_histogram),
		cmocka_unit_test(test_malformed_records_reported),
		cmocka_unit_test(test_event_log_line),
		cmocka_unit_test(test_event_log_empty_names),
		cmocka_unit_test(test_attribution_outputs),
	};

	return cmocka_run_group_tests_name("unit: exporters", tests, NULL, NULL);
}
