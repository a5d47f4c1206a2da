// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests: Node engines through perfbpf's Node package (bindings/node) with the real
 * node and real BPF, under `perfbpf run -- node ...` (the addon armed before node starts): ops
 * exact against the script's own durations (numbers, BigInts, fractional ms); spans nested
 * exactly, two async tasks' spans interleaving across awaits each under its own parent; bad
 * arguments throw, traced or not; PerfbpfTracerProvider with the real @opentelemetry/api
 * through --otlp (decoded by the OpenTelemetry project's decoder); a real backtest-kit 19.5.0
 * backtest through perfbpf/backtest-kit, against backtest-kit's own Performance.getData, and
 * past its 10,000-event cap. */
#include "harness.h"
#include "otlp_receiver.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 1000

static const char *engine(const char *name)
{
	static char path[2][PATH_MAX];
	static int i;

	i ^= 1;
	snprintf(path[i], sizeof(path[i]), "%s/tests/targets/%s", getenv("PERFBPF_SRC") ?: ".",
		 name);
	return path[i];
}

/* The scripts find the package in the build tree and the npm packages of tests/node. */
static void node_env(void)
{
	char nm[PATH_MAX], pkg[PATH_MAX];

	/* require() takes an absolute path (or one starting with ./) */
	assert_non_null(realpath(bpath("bindings/node"), pkg));
	setenv("PERFBPF_NODE", pkg, 1);
	snprintf(nm, sizeof(nm), "%s/tests/node/node_modules", getenv("PERFBPF_SRC") ?: ".");
	assert_non_null(realpath(nm, pkg));
	setenv("NODE_PATH", pkg, 1);
}

static uint64_t span_count(struct json_object *root, const char *name, const char *symbol,
			   const char *strategy)
{
	struct json_object *row = find_row(root, "metrics", "span", name, symbol, strategy);

	return row ? json_u64(row, "count") : 0;
}

struct jspan {
	char name[16], strategy[4];
	uint64_t id, parent, start, end;
};

/* The spans of an events log (at most cap). */
static size_t load_spans(const char *events, struct jspan *v, size_t cap)
{
	FILE *f = fopen(events, "r");
	char line[4096];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *e = json_tokener_parse(line);

		assert_non_null(e);
		if (!strcmp(json_str(e, "kind"), "span")) {
			assert_true(n < cap);
			snprintf(v[n].name, sizeof(v[n].name), "%s", json_str(e, "metric"));
			snprintf(v[n].strategy, sizeof(v[n].strategy), "%s", json_str(e, "strategy"));
			v[n].id = json_u64(e, "span_id");
			v[n].parent = json_u64(e, "parent_id");
			v[n].end = json_u64(e, "end_mono_ns");
			v[n].start = v[n].end - json_u64(e, "duration_ns");
			n++;
		}
		json_object_put(e);
	}
	fclose(f);
	return n;
}

/* `perfbpf run -- node node_engine.js basic`: every event from the first, exact. */
static void test_node_exact(void **state)
{
	const char *out = tmp_file("node.json"), *events = tmp_file("node.jsonl");
	char n[16];
	char *argv[] = { (char *)bpath("perfbpf"), "run", "-q", "-j", (char *)out, "-e",
			 (char *)events, "--", "node", (char *)engine("node_engine.js"), "basic", n,
			 NULL };
	static struct jspan sp[6 * N];
	struct proc_result r;
	struct json_object *root, *losses;
	uint64_t task[2] = { 0, 0 };
	size_t ns, inner = 0, steps = 0, overlap = 0;

	(void)state;
	node_env();
	snprintf(n, sizeof(n), "%d", N);
	run_proc(argv, 120, &r);
	if (r.status != 0 || !strstr(r.out, "done"))
		fail_msg("perfbpf run -- node: status %d: %s %s", r.status, r.err, r.out);
	proc_result_free(&r);
	root = load_json(out);
	losses = json_get(root, "losses");
	assert_int_equal(json_u64(root, "dropped"), 0);
	check_linear_op(root, "js.op", "AAA", "s", N, 1000, 7);
	check_linear_op(root, "js.op", "BBB", "s", N, 500, 1);   /* BigInt durations */
	check_linear_op(root, "js.ms", "MS", "", N, 250, 1000);  /* (i + 0.25) us given in ms */
	assert_int_equal(span_count(root, "js.outer", "AAA", ""), N);
	assert_int_equal(span_count(root, "js.inner", "", ""), N);
	assert_int_equal(span_count(root, "js.task", "", "A"), 1);
	assert_int_equal(span_count(root, "js.task", "", "B"), 1);
	assert_int_equal(span_count(root, "js.step", "", "A"), N);
	assert_int_equal(span_count(root, "js.step", "", "B"), N);
	assert_int_equal(span_count(root, "js.reject", "", ""), 1);
	assert_int_equal(json_u64(losses, "span_unmatched_end"), 0);
	assert_int_equal(json_u64(losses, "span_unfinished"), 0);
	json_object_put(root);
	ns = load_spans(events, sp, sizeof(sp) / sizeof(sp[0]));
	for (size_t i = 0; i < ns; i++)
		if (!strcmp(sp[i].name, "js.task"))
			task[sp[i].strategy[0] == 'B'] = sp[i].id;
	assert_true(task[0] && task[1]);
	for (size_t i = 0; i < ns; i++) {
		if (!strcmp(sp[i].name, "js.inner")) {
			bool found = false;

			for (size_t j = 0; j < ns && !found; j++)
				found = !strcmp(sp[j].name, "js.outer") && sp[j].id == sp[i].parent;
			assert_true(found);
			inner++;
		} else if (!strcmp(sp[i].name, "js.step")) {
			assert_int_equal(sp[i].parent, task[sp[i].strategy[0] == 'B']);
			steps++;
			for (size_t j = 0; j < ns; j++)
				overlap += !strcmp(sp[j].name, "js.step") &&
					   strcmp(sp[j].strategy, sp[i].strategy) &&
					   sp[j].start < sp[i].end && sp[i].start < sp[j].end;
		}
	}
	assert_int_equal(inner, N);
	assert_int_equal(steps, 2 * N);
	assert_true(overlap > N); /* the two tasks' steps did interleave */
}

/* Bad arguments throw, with or without a tracer; with none, enabled() is false. */
static void test_node_errors(void **state)
{
	char *errors[] = { "node", (char *)engine("node_engine.js"), "errors", NULL };
	char *traced[] = { (char *)bpath("perfbpf"), "run", "-q", "--", "node",
			   (char *)engine("node_engine.js"), "errors", NULL };
	char *detached[] = { "node", (char *)engine("node_engine.js"), "detached", "10", NULL };
	struct proc_result r;

	(void)state;
	node_env();
	run_proc(errors, 60, &r);
	if (r.status != 0 || !strstr(r.out, "errors ok"))
		fail_msg("errors: status %d: %s %s", r.status, r.out, r.err);
	assert_non_null(strstr(r.out, "metric not a string: TypeError: perfbpf: metric must be a "
				      "string"));
	assert_non_null(strstr(r.out, "symbol a number: TypeError"));
	proc_result_free(&r);
	run_proc(traced, 60, &r);
	if (r.status != 0 || !strstr(r.out, "errors ok"))
		fail_msg("errors traced: status %d: %s %s", r.status, r.out, r.err);
	assert_non_null(strstr(r.out, "negative duration: RangeError"));
	assert_non_null(strstr(r.out, "BigInt duration too large: RangeError"));
	proc_result_free(&r);
	run_proc(detached, 60, &r);
	if (r.status != 0 || !strstr(r.out, "enabled false") || !strstr(r.out, "done"))
		fail_msg("detached: status %d: %s %s", r.status, r.out, r.err);
	proc_result_free(&r);
}

static const char *attr(struct json_object *span, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(json_get(span, "attributes"), key, &v))
		return NULL;
	return json_object_get_string(v);
}

#define NOTEL 50

/* OpenTelemetry's API with PerfbpfTracerProvider and the async-hooks context manager, through
 * --otlp: each task's steps under its own task though they interleave; the recorded exception
 * and status; an event's two attributes. */
static void test_node_otel_otlp(void **state)
{
	struct receiver rcv = { 0 };
	struct requests q;
	struct json_object *spans, *task[2] = { NULL, NULL };
	char n[16];
	struct proc_result r;
	size_t steps = 0, failed = 0, events = 0, len;

	(void)state;
	node_env();
	snprintf(n, sizeof(n), "%d", NOTEL);
	receiver_start(&rcv, "ok", NULL);
	{
		char *argv[] = { (char *)bpath("perfbpf"), "run", "-q", "--otlp-endpoint", rcv.url,
				 "--", "node", (char *)engine("node_engine.js"), "otel", n, NULL };

		run_proc(argv, 120, &r);
	}
	receiver_stop(&rcv);
	if (r.status != 0 || !strstr(r.out, "done"))
		fail_msg("otel: status %d: %s %s", r.status, r.err, r.out);
	proc_result_free(&r);
	requests_load(&rcv, &q);
	spans = accepted_spans(&q);
	len = json_object_array_length(spans);
	assert_int_equal(len, 2 * NOTEL + 3);
	for (size_t i = 0; i < len; i++) {
		struct json_object *s = json_object_array_get_idx(spans, i);

		if (!strcmp(json_str(s, "name"), "otel.task"))
			task[!strcmp(attr(s, "strategy.name"), "B")] = s;
	}
	assert_non_null(task[0]);
	assert_non_null(task[1]);
	for (size_t i = 0; i < len; i++) {
		struct json_object *s = json_object_array_get_idx(spans, i);
		struct json_object *ev = json_get(s, "events"), *st = json_get(s, "status");

		if (!strcmp(json_str(s, "name"), "otel.step")) {
			struct json_object *t = task[!strcmp(attr(s, "task"), "B")];

			assert_string_equal(json_str(s, "parentSpanId"), json_str(t, "spanId"));
			assert_string_equal(json_str(s, "traceId"), json_str(t, "traceId"));
			steps++;
			if (json_u64(st, "code") == 2) {
				struct json_object *e0 = json_object_array_get_idx(ev, 0);

				failed++;
				assert_string_equal(json_str(st, "message"), "bad step");
				assert_string_equal(json_str(e0, "name"), "exception");
				assert_string_equal(json_str(json_get(e0, "attributes"), "exception.type"),
						    "TypeError");
				assert_string_equal(json_str(json_get(e0, "attributes"),
							     "exception.message"), "bad step");
				assert_int_equal(json_object_array_length(ev), 1);
			}
		} else if (!strcmp(json_str(s, "name"), "otel.event")) {
			struct json_object *e0 = json_object_array_get_idx(ev, 0);

			events++;
			assert_string_equal(json_str(s, "parentSpanId"), "");
			assert_string_equal(json_str(e0, "name"), "filled");
			assert_string_equal(json_str(json_get(e0, "attributes"), "price"), "101.5");
			assert_string_equal(json_str(json_get(e0, "attributes"), "qty"), "3");
		}
	}
	assert_int_equal(steps, 2 * NOTEL);
	assert_int_equal(failed, 1);
	assert_int_equal(events, 1);
	json_object_put(spans);
	requests_free(&q);
}

/* node_backtest.js DAYS under perfbpf run (extra: an option or NULL): its JSON line and
 * perfbpf's summary. */
static void backtest(const char *days, const char *extra, struct json_object **bk,
		     struct json_object **pb)
{
	const char *out = tmp_file("bk.json");
	char *argv[] = { (char *)bpath("perfbpf"), "run", "-q", "-j", (char *)out,
			 extra ? (char *)extra : "--", extra ? "--" : "node",
			 extra ? "node" : (char *)engine("node_backtest.js"),
			 extra ? (char *)engine("node_backtest.js") : (char *)days,
			 extra ? (char *)days : NULL, NULL };
	struct proc_result r;

	node_env();
	run_proc(argv, 300, &r);
	if (r.status != 0)
		fail_msg("backtest-kit run: status %d: %s %s", r.status, r.err, r.out);
	*bk = json_tokener_parse(r.out);
	if (!*bk)
		fail_msg("backtest-kit run printed no JSON: %s", r.out);
	proc_result_free(&r);
	*pb = load_json(out);
}

/* ms from backtest-kit against perfbpf's ns: within `slack` ns (each event's duration was
 * rounded to the ns once) and the double's own rounding. */
static void near_ms(double ms, uint64_t ns, double slack, const char *what)
{
	double d = fabs(ms * 1e6 - (double)ns);

	if (d > slack + 1e-9 * (double)ns)
		fail_msg("%s: backtest-kit %.6f ms, perfbpf %llu ns", what, ms,
			 (unsigned long long)ns);
}

/* A real backtest-kit backtest (one day of 1-minute timeframes: 1,441 events under its cap)
 * traced through the adapter with --stats backtest-kit: per metricType the count equals what
 * backtest-kit emitted and what its Performance.getData counts, the total, min and max match it
 * to the ns, and so do its std dev and interpolated percentiles. */
static void test_backtest_kit_matches_its_report(void **state)
{
	struct json_object *bk, *pb, *stats;
	size_t metrics = 0;

	(void)state;
	backtest("1", "--stats=backtest-kit", &bk, &pb);
	stats = json_get(bk, "stats");
	assert_string_equal(json_str(pb, "stats"), "backtest-kit");
	assert_int_equal(json_u64(pb, "dropped"), 0);
	json_object_object_foreach(stats, metric, s) {
		struct json_object *row = find_row(pb, "metrics", "op", metric, "BTCUSDT", "flat");
		uint64_t n = json_u64(s, "count");

		assert_non_null(row);
		assert_int_equal(json_u64(row, "count"), n);
		assert_int_equal(json_u64(json_get(bk, "emitted"), metric), n);
		near_ms(json_object_get_double(json_get(s, "totalDuration")), json_u64(row, "total_ns"),
			(double)n / 2 + 1, "total");
		near_ms(json_object_get_double(json_get(s, "minDuration")), json_u64(row, "min_ns"), 1,
			"min");
		near_ms(json_object_get_double(json_get(s, "maxDuration")), json_u64(row, "max_ns"), 1,
			"max");
		near_ms(json_object_get_double(json_get(s, "stdDev")), json_u64(row, "stddev_ns"), 1,
			"std dev");
		near_ms(json_object_get_double(json_get(s, "median")), json_u64(row, "p50_ns"), 1, "p50");
		near_ms(json_object_get_double(json_get(s, "p95")), json_u64(row, "p95_ns"), 1, "p95");
		near_ms(json_object_get_double(json_get(s, "p99")), json_u64(row, "p99_ns"), 1, "p99");
		metrics++;
	}
	assert_int_equal(metrics, 2); /* backtest_timeframe, backtest_total */
	assert_int_equal(json_u64(json_get(stats, "backtest_timeframe"), "count"), 1441);
	json_object_put(bk);
	json_object_put(pb);
}

/* Eight days: 11,521 timeframes. backtest-kit's own report keeps the newest 10,000 events;
 * perfbpf has every one. */
static void test_backtest_kit_past_its_cap(void **state)
{
	struct json_object *bk, *pb, *row;
	uint64_t emitted;

	(void)state;
	backtest("8", NULL, &bk, &pb);
	emitted = json_u64(json_get(bk, "emitted"), "backtest_timeframe");
	assert_int_equal(emitted, 8 * 1440 + 1);
	assert_int_equal(json_u64(bk, "totalEvents"), 10000);
	assert_true(json_u64(json_get(json_get(bk, "stats"), "backtest_timeframe"), "count") < emitted);
	row = find_row(pb, "metrics", "op", "backtest_timeframe", "BTCUSDT", "flat");
	assert_non_null(row);
	assert_int_equal(json_u64(row, "count"), emitted);
	assert_int_equal(json_u64(pb, "dropped"), 0);
	assert_string_equal(json_str(pb, "stats"), "seed");
	json_object_put(bk);
	json_object_put(pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_exact),
		cmocka_unit_test(test_node_errors),
		cmocka_unit_test(test_node_otel_otlp),
		cmocka_unit_test(test_backtest_kit_matches_its_report),
		cmocka_unit_test(test_backtest_kit_past_its_cap),
	};

	return run_privileged_group("integration: Node engines", tests);
}
