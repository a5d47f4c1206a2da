// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests of the trace file (--trace): the demo engine (2 threads) and a Python engine
 * with asyncio spans (spans with ids), traced for real, their files checked against the Chrome
 * Trace Event format's rules and against the run's own event log and summary: one event per op
 * and span, complete events nested per thread exactly as the event log's parents say, async
 * begin/end pairs balanced on their thread, times those of the event log. */
#include "harness.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tev {
	char ph;
	bool span;
	uint64_t ts, end; /* ns */
	uint32_t pid, tid;
	uint64_t id, parent;
};

static uint64_t ns_of(struct json_object *o, const char *key)
{
	return (uint64_t)llround(json_object_get_double(json_get(o, key)) * 1000.0);
}

static uint64_t hex_arg(struct json_object *args, const char *key)
{
	return strtoull(json_str(args, key), NULL, 16);
}

/* The file's events (metadata apart), checked one by one; *n of them. */
static struct tev *load_trace(const char *path, size_t *n)
{
	struct json_object *root = load_json(path), *ev = json_get(root, "traceEvents");
	size_t len = json_object_array_length(ev), k = 0;
	struct tev *v = calloc(len + 1, sizeof(*v));

	assert_non_null(v);
	assert_string_equal(json_str(root, "displayTimeUnit"), "ns");
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(ev, i), *args;
		const char *ph = json_str(e, "ph");

		if (!strcmp(ph, "M"))
			continue;
		assert_true(!strcmp(ph, "X") || !strcmp(ph, "b") || !strcmp(ph, "e"));
		v[k].ph = ph[0];
		v[k].pid = (uint32_t)json_u64(e, "pid");
		v[k].tid = (uint32_t)json_u64(e, "tid");
		v[k].ts = ns_of(e, "ts");
		v[k].span = !strcmp(json_str(e, "cat"), "span");
		assert_true(v[k].span || !strcmp(json_str(e, "cat"), "op"));
		if (v[k].ph == 'X') {
			v[k].end = v[k].ts + ns_of(e, "dur");
		} else {
			v[k].id = strtoull(json_str(json_get(e, "id2"), "local"), NULL, 16);
			assert_true(v[k].span);
		}
		if (v[k].ph != 'e') {
			args = json_get(e, "args");
			if (v[k].ph == 'X') /* microseconds with three decimals: the ns exactly */
				assert_int_equal(v[k].end - v[k].ts, json_u64(args, "duration_ns"));
			if (v[k].span) {
				v[k].id = hex_arg(args, "span_id");
				v[k].parent = hex_arg(args, "parent_id");
			}
		}
		k++;
	}
	json_object_put(root);
	*n = k;
	return v;
}

static const struct tev *find_id(const struct tev *v, size_t n, uint64_t id, char ph)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].span && v[i].id == id && v[i].ph == ph)
			return &v[i];
	return NULL;
}

/* Complete events on one thread never overlap without nesting, and each span's parent (from
 * the event log's ids, carried in args) encloses it on its thread. */
static void check_complete(const struct tev *v, size_t n, size_t *spans, size_t *ops)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].ph != 'X')
			continue;
		*(v[i].span ? spans : ops) += 1;
		for (size_t j = 0; j < n; j++) {
			if (j == i || v[j].ph != 'X' || !v[j].span || !v[i].span ||
			    v[j].tid != v[i].tid || v[j].pid != v[i].pid)
				continue;
			/* disjoint, or one inside the other */
			assert_true(v[j].end <= v[i].ts || v[i].end <= v[j].ts ||
				    (v[j].ts <= v[i].ts && v[i].end <= v[j].end) ||
				    (v[i].ts <= v[j].ts && v[j].end <= v[i].end));
		}
		if (v[i].span && v[i].parent) {
			const struct tev *p = find_id(v, n, v[i].parent, 'X');

			assert_non_null(p);
			assert_int_equal(p->tid, v[i].tid);
			assert_true(p->ts <= v[i].ts && v[i].end <= p->end);
		}
	}
}

static uint64_t kind_total(struct json_object *summary, const char *kind)
{
	struct json_object *rows = json_get(summary, "metric_rollups");
	uint64_t n = 0;

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);

		if (!strcmp(json_str(row, "kind"), kind))
			n += json_u64(row, "count");
	}
	return n;
}

/* Every event of the log is in the file at its times. */
static void check_against_log(const struct tev *v, size_t n, const char *events)
{
	FILE *f = fopen(events, "r");
	char line[4096];
	size_t spans = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *e = json_tokener_parse(line);

		if (!strcmp(json_str(e, "kind"), "span")) {
			const struct tev *t = find_id(v, n, json_u64(e, "span_id"), 'X');

			if (!t)
				t = find_id(v, n, json_u64(e, "span_id"), 'b');
			assert_non_null(t);
			assert_int_equal(t->ts, json_u64(e, "start_mono_ns"));
			assert_int_equal(t->parent, json_u64(e, "parent_id"));
			spans++;
		}
		json_object_put(e);
	}
	fclose(f);
	assert_true(spans > 0);
}

/* The C demo: spans nested per thread, ops, two threads. */
static void test_demo_trace(void **state)
{
	const char *trace = tmp_file("demo.trace.json"), *events = tmp_file("demo.jsonl");
	const char *summary = tmp_file("demo-trace.json");
	char *argv[] = { (char *)bpath("perfbpf"), "run", "-q", "-j", (char *)summary, "-e",
			 (char *)events, "--trace", (char *)trace, "--", (char *)bpath("backtest"),
			 "--quiet", "--bars", "1500", "--threads", "2", NULL };
	struct proc_result r;
	struct json_object *root;
	size_t n, spans = 0, ops = 0;
	struct tev *v;

	(void)state;
	run_proc(argv, 120, &r);
	if (r.status != 0)
		fail_msg("perfbpf run --trace: status %d: %s", r.status, r.err);
	proc_result_free(&r);
	v = load_trace(trace, &n);
	root = load_json(summary);
	assert_int_equal(json_u64(root, "dropped"), 0);
	check_complete(v, n, &spans, &ops);
	assert_int_equal(spans, kind_total(root, "span"));
	assert_int_equal(ops, kind_total(root, "op"));
	check_against_log(v, n, events);
	json_object_put(root);
	free(v);
}

/* Python asyncio spans (spans with ids): async begin/end pairs, balanced per id on one thread,
 * the end after the begin, one pair per span. */
static void test_async_trace(void **state)
{
	char script[PATH_MAX];
	const char *trace = tmp_file("py.trace.json"), *events = tmp_file("py.jsonl");
	const char *summary = tmp_file("py-trace.json");
	char *argv[] = { (char *)bpath("perfbpf"), "run", "-q", "-j", (char *)summary, "-e",
			 (char *)events, "--trace", (char *)trace, "--", "/usr/bin/python3", script,
			 "asyncio", "20", NULL };
	struct proc_result r;
	struct json_object *root;
	size_t n, begins = 0, spans = 0, ops = 0;
	struct tev *v;

	(void)state;
	snprintf(script, sizeof(script), "%s/tests/targets/py_engine.py", getenv("PERFBPF_SRC") ?: ".");
	setenv("PYTHONPATH", bpath("bindings/python"), 1);
	run_proc(argv, 120, &r);
	if (r.status != 0)
		fail_msg("python asyncio: %d %s", r.status, r.err);
	proc_result_free(&r);
	v = load_trace(trace, &n);
	root = load_json(summary);
	for (size_t i = 0; i < n; i++) {
		const struct tev *e;

		if (v[i].ph != 'b')
			continue;
		begins++;
		e = find_id(v, n, v[i].id, 'e');
		assert_non_null(e);
		assert_int_equal(e->tid, v[i].tid);
		assert_true(e->ts >= v[i].ts);
	}
	check_complete(v, n, &spans, &ops);
	assert_int_equal(begins + spans, kind_total(root, "span"));
	assert_true(begins > 0);
	check_against_log(v, n, events);
	json_object_put(root);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_trace),
		cmocka_unit_test(test_async_trace),
	};

	return run_privileged_group("integration: trace file (--trace)", tests);
}
