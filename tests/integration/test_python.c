// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests: Python engines through the perfbpf binding (bindings/python), with the real
 * interpreters (Debian's /usr/bin/python3 and the python3 on PATH when it is another one) under
 * `perfbpf run -- python3 ...` and real BPF: the binding's library is armed before the
 * interpreter starts, so every event from the first import is counted; ops exact (count, sum,
 * min, max, percentiles against the script's own durations); spans nested exactly, across
 * threads and recursion, ended when their block raises; bad arguments raise. */
#include "harness.h"
#include "otlp_receiver.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 1000

static char interpreters[2][PATH_MAX];
static int ninterpreters;

/* Debian's interpreter, and the python3 on PATH if it resolves to another file. */
static void find_interpreters(void)
{
	char buf[PATH_MAX];
	FILE *p;

	strcpy(interpreters[0], "/usr/bin/python3");
	ninterpreters = 1;
	p = popen("command -v python3", "r");
	if (p && fgets(buf, sizeof(buf), p)) {
		char a[PATH_MAX], b[PATH_MAX], cmd[PATH_MAX + 64];

		buf[strcspn(buf, "\n")] = '\0';
		/* a pyenv shim is a script: ask the interpreter itself where it is */
		snprintf(cmd, sizeof(cmd), "%s -c 'import sys; print(sys.executable)'", buf);
		pclose(p);
		p = popen(cmd, "r");
		if (p && fgets(buf, sizeof(buf), p)) {
			buf[strcspn(buf, "\n")] = '\0';
			if (realpath(buf, a) && realpath(interpreters[0], b) && strcmp(a, b))
				strcpy(interpreters[ninterpreters++], a);
		}
	}
	if (p)
		pclose(p);
}

static const char *script(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/tests/targets/py_engine.py", getenv("PERFBPF_SRC") ?: ".");
	return path;
}

/* PYTHONPATH for the child: the binding in the build tree. */
static void set_pythonpath(void)
{
	setenv("PYTHONPATH", bpath("bindings/python"), 1);
}

static void check_op(struct json_object *root, const char *sym, uint64_t base, uint64_t step)
{
	check_linear_op(root, "py.op", sym, "s", N, base, step);
}

static uint64_t span_count(struct json_object *root, const char *name, const char *strategy)
{
	struct json_object *row = find_row(root, "metrics", "span", name, NULL, strategy);

	return row ? json_u64(row, "count") : 0;
}

/* Every inner span's parent is an outer span; every fib span but the first has a fib parent. */
static void check_nesting(const char *events)
{
	FILE *f = fopen(events, "r");
	char line[4096];
	size_t outer_ids_n = 0, inner = 0, fib_roots = 0, fib = 0;
	static uint64_t outer_ids[N], fib_ids[64];
	size_t nfib_ids = 0;

	assert_non_null(f);
	/* the log is in end order: a parent ends after its children, so collect ids first */
	while (fgets(line, sizeof(line), f)) {
		struct json_object *e = json_tokener_parse(line);
		const char *m = json_str(e, "metric");

		if (!strcmp(json_str(e, "kind"), "span") && !strcmp(m, "py.outer") && outer_ids_n < N)
			outer_ids[outer_ids_n++] = json_u64(e, "span_id");
		if (!strcmp(json_str(e, "kind"), "span") && !strcmp(m, "py.fib") && nfib_ids < 64)
			fib_ids[nfib_ids++] = json_u64(e, "span_id");
		json_object_put(e);
	}
	assert_int_equal(outer_ids_n, N);
	assert_int_equal(nfib_ids, 25);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *e = json_tokener_parse(line);
		const char *m = json_str(e, "metric");
		uint64_t parent;
		bool found = false;

		if (strcmp(json_str(e, "kind"), "span")) {
			json_object_put(e);
			continue;
		}
		parent = json_u64(e, "parent_id");
		if (!strcmp(m, "py.inner")) {
			for (size_t i = 0; i < outer_ids_n && !found; i++)
				found = outer_ids[i] == parent;
			assert_true(found);
			inner++;
		} else if (!strcmp(m, "py.fib")) {
			for (size_t i = 0; i < nfib_ids && !found; i++)
				found = fib_ids[i] == parent;
			fib_roots += !found && parent == 0;
			assert_true(found || parent == 0);
			fib++;
		}
		json_object_put(e);
	}
	fclose(f);
	assert_int_equal(inner, N);
	assert_int_equal(fib, 25);
	assert_int_equal(fib_roots, 1);
}

/* `perfbpf run -- PYTHON py_engine.py basic`: every event from the first, exact. */
static void test_run_python_exact(void **state)
{
	(void)state;
	set_pythonpath();
	for (int k = 0; k < ninterpreters; k++) {
		const char *out = tmp_file("py.json"), *events = tmp_file("py.jsonl");
		char n[16];
		char *argv[] = { (char *)bpath("perfbpf"), "run", "-q", "-j", (char *)out, "-e",
				 (char *)events, "--", interpreters[k], (char *)script(), "basic",
				 n, NULL };
		struct proc_result r;
		struct json_object *root, *row;

		snprintf(n, sizeof(n), "%d", N);
		print_message("interpreter %s\n", interpreters[k]);
		run_proc(argv, 120, &r);
		if (r.status != 0)
			fail_msg("perfbpf run -- %s: status %d: %s %s", interpreters[k], r.status,
				 r.err, r.out);
		proc_result_free(&r);
		root = load_json(out);
		assert_int_equal(json_u64(root, "dropped"), 0);
		check_op(root, "AAA", 1000, 7);
		check_op(root, "BBB", 500, 1);
		assert_int_equal(span_count(root, "py.outer", NULL), N);
		assert_int_equal(span_count(root, "py.inner", NULL), N);
		assert_int_equal(span_count(root, "py.raises", NULL), 1);
		assert_int_equal(span_count(root, "py.fib", NULL), 25);
		for (int t = 0; t < 4; t++) {
			char st[8];

			snprintf(st, sizeof(st), "t%d", t);
			assert_int_equal(span_count(root, "py.thread", st), N);
		}
		row = find_row(root, "metrics", "op", "py.timed", "T", NULL);
		assert_non_null(row);
		assert_int_equal(json_u64(row, "count"), 20);
		assert_true(json_u64(row, "min_ns") >= 200000);
		assert_true(json_u64(row, "max_ns") < 200000000);
		assert_int_equal(json_u64(json_get(root, "losses"), "span_mismatch"), 0);
		assert_int_equal(json_u64(json_get(root, "losses"), "span_unmatched_end"), 0);
		json_object_put(root);
		check_nesting(events);
	}
}

/* --- asyncio, threads and the OpenTelemetry-shaped tracer --------------------------------------- */

#define NSTEPS 40 /* py_engine.py asyncio: steps per task, spans through perfbpf.otel */

/* One span, from the events log or an OTLP request. */
struct pspan {
	char name[32], strategy[8];
	uint64_t id, parent, trace, start, end, self, tid;
	bool has_self;
};

struct pspans {
	struct pspan v[512];
	size_t n;
};

static void pspans_add(struct pspans *p, const char *name, const char *strategy, uint64_t id,
		       uint64_t parent, uint64_t trace, uint64_t start, uint64_t end)
{
	struct pspan *s;

	assert_true(p->n < sizeof(p->v) / sizeof(p->v[0]));
	s = &p->v[p->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->strategy, sizeof(s->strategy), "%s", strategy ? strategy : "");
	s->id = id;
	s->parent = parent;
	s->trace = trace;
	s->start = start;
	s->end = end;
}

static const struct pspan *pspan_find(const struct pspans *p, const char *name, const char *strategy)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].name, name) && (!strategy || !strcmp(p->v[i].strategy, strategy)))
			return &p->v[i];
	return NULL;
}

/* The asyncio run's structure, whichever way it arrived: each task's steps are its children
 * (same trace) though the two tasks' steps interleave in time; a task's self time is what its
 * steps did not cover; every perfbpf.otel child is under its parent. */
static void check_asyncio(const struct pspans *p)
{
	const struct pspan *ta = pspan_find(p, "py.task", "A"), *tb = pspan_find(p, "py.task", "B");
	size_t steps[2] = { 0, 0 }, otel = 0, child = 0, overlap = 0;
	uint64_t covered[2] = { 0, 0 };

	assert_non_null(ta);
	assert_non_null(tb);
	assert_true(ta->id != tb->id && ta->trace != tb->trace);
	for (size_t i = 0; i < p->n; i++) {
		const struct pspan *s = &p->v[i];

		if (!strcmp(s->name, "py.step")) {
			const struct pspan *t = !strcmp(s->strategy, "A") ? ta : tb;

			assert_int_equal(s->parent, t->id);
			assert_int_equal(s->trace, t->trace);
			assert_true(s->start >= t->start && s->end <= t->end);
			steps[t == tb]++;
			covered[t == tb] += s->end - s->start;
			for (size_t j = 0; j < p->n; j++)
				overlap += !strcmp(p->v[j].name, "py.step") &&
					   strcmp(p->v[j].strategy, s->strategy) &&
					   p->v[j].start < s->end && s->start < p->v[j].end;
		} else if (!strcmp(s->name, "py.otel")) {
			otel++;
			assert_int_equal(s->parent, 0);
		} else if (!strcmp(s->name, "py.otel.child")) {
			bool found = false;

			for (size_t j = 0; j < p->n && !found; j++)
				found = !strcmp(p->v[j].name, "py.otel") && p->v[j].id == s->parent &&
					p->v[j].trace == s->trace;
			assert_true(found);
			child++;
		}
	}
	assert_int_equal(steps[0], NSTEPS);
	assert_int_equal(steps[1], NSTEPS);
	assert_true(overlap > NSTEPS); /* the two tasks' steps did interleave */
	assert_int_equal(otel, NSTEPS);
	assert_int_equal(child, NSTEPS);
	if (ta->has_self) {
		assert_int_equal(ta->self, ta->end - ta->start - covered[0]);
		assert_int_equal(tb->self, tb->end - tb->start - covered[1]);
	}
}

static void run_asyncio(const char *interp, const char *extra, const char *url, const char *events,
			const char *summary)
{
	char *argv[16];
	char n[16];
	int a = 0;
	struct proc_result r;
	struct json_object *root, *losses;

	snprintf(n, sizeof(n), "%d", NSTEPS);
	argv[a++] = (char *)bpath("perfbpf");
	argv[a++] = "run";
	argv[a++] = "-q";
	argv[a++] = "-j";
	argv[a++] = (char *)summary;
	if (events) {
		argv[a++] = "-e";
		argv[a++] = (char *)events;
	}
	if (url) {
		argv[a++] = (char *)extra;
		argv[a++] = (char *)url;
	}
	argv[a++] = "--";
	argv[a++] = (char *)interp;
	argv[a++] = (char *)script();
	argv[a++] = "asyncio";
	argv[a++] = n;
	argv[a] = NULL;
	run_proc(argv, 120, &r);
	if (r.status != 0 || !strstr(r.out, "done"))
		fail_msg("asyncio under %s: status %d: %s %s", interp, r.status, r.err, r.out);
	proc_result_free(&r);
	root = load_json(summary);
	losses = json_get(root, "losses");
	assert_int_equal(json_u64(root, "dropped"), 0);
	assert_int_equal(json_u64(losses, "span_unmatched_end"), 0);
	assert_int_equal(json_u64(losses, "span_unfinished"), 0);
	assert_int_equal(json_u64(losses, "span_abandoned"), 0);
	assert_int_equal(json_u64(losses, "span_note_without_span"), 0);
	json_object_put(root);
}

/* Events recorded in the engine (ABI v3): asyncio tasks' spans keep their own parents; a span
 * opened in a task and ended by another thread is one span. */
static void test_asyncio_spans(void **state)
{
	(void)state;
	set_pythonpath();
	for (int k = 0; k < ninterpreters; k++) {
		const char *events = tmp_file("async.jsonl"), *summary = tmp_file("async.json");
		struct pspans *p = calloc(1, sizeof(*p));
		FILE *f;
		char line[4096];
		size_t handoff = 0;

		assert_non_null(p);
		print_message("interpreter %s\n", interpreters[k]);
		run_asyncio(interpreters[k], NULL, NULL, events, summary);
		f = fopen(events, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			struct json_object *e = json_tokener_parse(line);

			assert_non_null(e);
			if (!strcmp(json_str(e, "kind"), "span")) {
				uint64_t end = json_u64(e, "end_mono_ns");

				pspans_add(p, json_str(e, "metric"), json_str(e, "strategy"),
					   json_u64(e, "span_id"), json_u64(e, "parent_id"),
					   json_u64(e, "trace_id"), end - json_u64(e, "duration_ns"), end);
				p->v[p->n - 1].self = json_u64(e, "self_ns");
				p->v[p->n - 1].has_self = true;
				p->v[p->n - 1].tid = json_u64(e, "tid");
				if (!strcmp(json_str(e, "metric"), "py.handoff")) {
					handoff++;
					assert_true(json_u64(e, "tid") != json_u64(e, "pid"));
					assert_true(json_u64(e, "duration_ns") >= 1000000);
				}
			}
			json_object_put(e);
		}
		fclose(f);
		assert_int_equal(handoff, 1);
		check_asyncio(p);
		free(p);
	}
}

static uint64_t hex64(const char *h)
{
	return h && *h ? strtoull(h, NULL, 16) : 0;
}

/* A string attribute of a decoded span, or NULL if it has none of that name. */
static const char *attr_str(struct json_object *span, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(json_get(span, "attributes"), key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* The same run through --otlp (spans recorded by the binding, annotations by probe), decoded by
 * the OpenTelemetry project's decoder: the same tree; the step that raised has status ERROR
 * ("ValueError: step failed") and one exception event with its type and message; perfbpf.otel
 * attributes and a two-attribute event arrive as set; Horizon's tracer gives the spans its
 * guide's code does. */
static void test_asyncio_otlp(void **state)
{
	struct receiver rcv = { 0 };
	struct requests q;
	struct json_object *spans;
	struct pspans *p = calloc(1, sizeof(*p));
	size_t errors = 0;

	(void)state;
	assert_non_null(p);
	set_pythonpath();
	receiver_start(&rcv, "ok", NULL);
	run_asyncio(interpreters[0], "--otlp-endpoint", rcv.url, NULL, tmp_file("async-otlp.json"));
	receiver_stop(&rcv);
	requests_load(&rcv, &q);
	spans = accepted_spans(&q);
	for (size_t i = 0; i < json_object_array_length(spans); i++) {
		struct json_object *s = json_object_array_get_idx(spans, i);
		struct json_object *ev = json_get(s, "events"), *st = json_get(s, "status");
		const char *name = json_str(s, "name");

		pspans_add(p, name, attr_str(s, "strategy.name"), hex64(json_str(s, "spanId")),
			   hex64(json_str(s, "parentSpanId")), hex64(json_str(s, "traceId")) ^
			   hex64(json_str(s, "traceId") + 16), strtoull(json_str(s, "start"), NULL, 10),
			   strtoull(json_str(s, "end"), NULL, 10));
		if (!strcmp(name, "py.step") && st && json_u64(st, "code") == 2) {
			struct json_object *e0 = json_object_array_get_idx(ev, 0);

			errors++;
			assert_string_equal(json_str(st, "message"), "ValueError: step failed");
			assert_int_equal(json_object_array_length(ev), 1);
			assert_string_equal(json_str(e0, "name"), "exception");
			assert_string_equal(json_str(json_get(e0, "attributes"), "exception.type"),
					    "ValueError");
			assert_string_equal(json_str(json_get(e0, "attributes"), "exception.message"),
					    "step failed");
			assert_string_equal(attr_str(s, "strategy.name"), "B");
		}
		if (!strcmp(name, "py.otel")) {
			assert_int_equal(json_u64(json_get(json_get(s, "attributes"), "py.answer"), "int"),
					 42);
			assert_non_null(json_get(json_get(s, "attributes"), "i"));
		}
		if (!strcmp(name, "py.otel.child")) {
			struct json_object *e0 = json_object_array_get_idx(ev, 0);

			assert_int_equal(json_object_array_length(ev), 1);
			assert_string_equal(json_str(e0, "name"), "py.event");
			assert_string_equal(json_str(json_get(e0, "attributes"), "a"), "x");
			assert_string_equal(json_str(json_get(e0, "attributes"), "b"), "2");
		}
	}
	assert_int_equal(errors, 1);
	assert_non_null(pspan_find(p, "py.handoff", NULL));
	assert_int_equal(p->n, 2 + 2 * NSTEPS + 1 + 2 * NSTEPS + 2);
	/* Horizon's tracer: the guide's spans, attributes and nesting */
	{
		struct json_object *rec = NULL, *sig = NULL;

		for (size_t i = 0; i < json_object_array_length(spans); i++) {
			struct json_object *s = json_object_array_get_idx(spans, i);

			if (!strcmp(json_str(s, "name"), "reconcile"))
				rec = s;
			if (!strcmp(json_str(s, "name"), "compute_signal"))
				sig = s;
		}
		assert_non_null(rec);
		assert_non_null(sig);
		assert_string_equal(attr_str(rec, "venue"), "alpaca");
		assert_string_equal(attr_str(sig, "market_id"), "m-1");
		assert_string_equal(json_str(sig, "parentSpanId"), json_str(rec, "spanId"));
		assert_string_equal(json_str(rec, "parentSpanId"), "");
	}
	check_asyncio(p);
	json_object_put(spans);
	requests_free(&q);
	free(p);
}

/* The Python demo (tools/demo/backtest.py: the seed's pipeline on perfbpf.otel) through --otlp:
 * the seed's span tree and attributes, one order.submit per order the engine counted, the
 * rejected ones failed with the risk check's message, the filled ones with their event. */
static void test_demo_twin_otlp(void **state)
{
	struct receiver rcv = { 0 };
	struct requests q;
	struct json_object *spans, *counts, *run = NULL;
	char demo[PATH_MAX];
	struct proc_result r;
	size_t phases = 0, orders = 0, rejected = 0, filled = 0;
	const char *sim_id = NULL;

	(void)state;
	set_pythonpath();
	snprintf(demo, sizeof(demo), "%s", src_path("tools/demo/backtest.py"));
	receiver_start(&rcv, "ok", NULL);
	{
		char *argv[] = { (char *)bpath("perfbpf"), "run", "-q", "--otlp-endpoint", rcv.url,
				 "--", interpreters[0], demo, "--bars", "3000", "--quiet", "--counts",
				 NULL };

		run_proc(argv, 120, &r);
	}
	receiver_stop(&rcv);
	if (r.status != 0)
		fail_msg("demo twin: status %d: %s", r.status, r.err);
	counts = json_tokener_parse(r.out);
	assert_non_null(counts);
	proc_result_free(&r);
	requests_load(&rcv, &q);
	spans = accepted_spans(&q);
	for (size_t i = 0; i < json_object_array_length(spans); i++) {
		struct json_object *s = json_object_array_get_idx(spans, i);

		if (!strcmp(json_str(s, "name"), "backtest.run"))
			run = s;
		if (!strcmp(json_str(s, "name"), "backtest.simulation"))
			sim_id = json_str(s, "spanId");
	}
	assert_non_null(run);
	assert_non_null(sim_id);
	assert_string_equal(json_str(run, "parentSpanId"), "");
	assert_string_equal(attr_str(run, "backtest.run_id"), "sma_cross-3000");
	assert_string_equal(attr_str(run, "backtest.strategy"), "sma_cross");
	assert_int_equal(json_u64(json_get(json_get(run, "attributes"), "backtest.symbols_count"),
				  "int"), 2);
	assert_true(json_object_get_double(json_get(json_get(json_get(run, "attributes"),
							     "backtest.initial_capital"), "double")) ==
		    100000.0);
	assert_non_null(json_get(json_get(run, "attributes"), "backtest.total_duration_s"));
	for (size_t i = 0; i < json_object_array_length(spans); i++) {
		struct json_object *s = json_object_array_get_idx(spans, i);
		const char *name = json_str(s, "name");
		struct json_object *st = json_get(s, "status"), *ev = json_get(s, "events");

		assert_string_equal(json_str(s, "traceId"), json_str(run, "traceId"));
		if (!strncmp(name, "backtest.", 9) && strcmp(name, "backtest.run")) {
			phases++;
			assert_string_equal(json_str(s, "parentSpanId"), json_str(run, "spanId"));
		}
		if (!strcmp(name, "backtest.load_data"))
			assert_int_equal(json_u64(json_get(json_get(s, "attributes"),
							   "data.total_bars"), "int"), 6000);
		if (strcmp(name, "order.submit"))
			continue;
		orders++;
		assert_string_equal(json_str(s, "parentSpanId"), sim_id);
		assert_non_null(attr_str(s, "order.side"));
		if (st && json_u64(st, "code") == 2) {
			rejected++;
			assert_string_equal(json_str(st, "message"), "risk check rejected the order");
		} else {
			filled++;
			assert_string_equal(json_str(json_object_array_get_idx(ev, 0), "name"),
					    "order.filled");
			assert_non_null(json_get(json_get(json_object_array_get_idx(ev, 0),
							  "attributes"), "fill.price"));
		}
	}
	assert_int_equal(phases, 4);
	assert_int_equal(orders, json_u64(counts, "orders"));
	assert_int_equal(rejected, json_u64(counts, "rejected"));
	assert_int_equal(filled, json_u64(counts, "fills"));
	assert_true(rejected > 0 && filled > 0);
	json_object_put(counts);
	json_object_put(spans);
	requests_free(&q);
}

/* --- perfbpf run --python: unmodified functions ------------------------------------------------- */

#define NFN 200 /* py_functions.py N */

/* The span ids of every span named `name` in the events log (at most cap). */
static size_t ids_of(const char *events, const char *name, uint64_t *ids, size_t cap)
{
	FILE *f = fopen(events, "r");
	char line[4096];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *e = json_tokener_parse(line);

		if (!strcmp(json_str(e, "kind"), "span") && !strcmp(json_str(e, "metric"), name)) {
			assert_true(n < cap);
			ids[n++] = json_u64(e, "span_id");
		}
		json_object_put(e);
	}
	fclose(f);
	return n;
}

static bool has_id(const uint64_t *ids, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Exact call counts of the functions the patterns name (methods, recursion, a generator's
 * resumptions, a raising function, another thread), none of the others; each Engine.signal is
 * a child of an Engine.on_tick span, each fib but the first a child of a fib span, 12 deep; the
 * script's own sitecustomize still runs. */
static void test_python_functions(void **state)
{
	char fscript[PATH_MAX], site[PATH_MAX], pp[2 * PATH_MAX + 2];
	static uint64_t ticks[2 * NFN], fibs[465];
	FILE *f;

	(void)state;
	snprintf(fscript, sizeof(fscript), "%s/tests/targets/py_functions.py",
		 getenv("PERFBPF_SRC") ?: ".");
	snprintf(site, sizeof(site), "%s", tmp_file("usersite"));
	snprintf(pp, sizeof(pp), "mkdir -p %s", site);
	assert_int_equal(system(pp), 0);
	snprintf(pp, sizeof(pp), "%s/sitecustomize.py", site);
	f = fopen(pp, "w");
	assert_non_null(f);
	fputs("USER = True\n", f);
	fclose(f);
	snprintf(pp, sizeof(pp), "%s:%s", bpath("bindings/python"), site);
	setenv("PYTHONPATH", pp, 1);
	for (int k = 0; k < ninterpreters; k++) {
		const char *out = tmp_file("fn.json"), *events = tmp_file("fn.jsonl");
		char n[16];
		char *argv[] = { (char *)bpath("perfbpf"), "run", "-q", "-j", (char *)out, "-e",
				 (char *)events, "--python", "__main__.Engine.*", "--python",
				 "__main__.fib", "--python", "__main__.gen", "--python",
				 "__main__.boom", "--", interpreters[k], fscript, n, NULL };
		struct proc_result r;
		struct json_object *root;
		char line[4096];
		size_t nticks, nfibs, signals = 0, fib_roots = 0, max_depth = 0;

		snprintf(n, sizeof(n), "%d", NFN);
		print_message("interpreter %s\n", interpreters[k]);
		run_proc(argv, 120, &r);
		if (r.status != 0 || !strstr(r.out, "done"))
			fail_msg("--python under %s: status %d: %s %s", interpreters[k], r.status,
				 r.err, r.out);
		assert_non_null(strstr(r.out, "user sitecustomize ran"));
		proc_result_free(&r);
		root = load_json(out);
		assert_int_equal(json_u64(root, "dropped"), 0);
		assert_int_equal(span_count(root, "__main__.Engine.on_tick", NULL), 2 * NFN);
		assert_int_equal(span_count(root, "__main__.Engine.signal", NULL), 2 * NFN);
		assert_int_equal(span_count(root, "__main__.fib", NULL), 465);
		assert_int_equal(span_count(root, "__main__.gen", NULL), 4);
		assert_int_equal(span_count(root, "__main__.boom", NULL), 5);
		assert_int_equal(span_count(root, "__main__.outside", NULL), 0);
		assert_int_equal(span_count(root, "__main__.run", NULL), 0);
		assert_int_equal(json_object_array_length(json_get(root, "metrics")), 5);
		assert_int_equal(json_u64(json_get(root, "losses"), "span_unfinished"), 0);
		assert_int_equal(json_u64(json_get(root, "losses"), "span_unmatched_end"), 0);
		json_object_put(root);
		nticks = ids_of(events, "__main__.Engine.on_tick", ticks, 2 * NFN);
		nfibs = ids_of(events, "__main__.fib", fibs, 465);
		f = fopen(events, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			struct json_object *e = json_tokener_parse(line);
			const char *m = json_str(e, "metric");

			if (!strcmp(m, "__main__.Engine.signal")) {
				assert_true(has_id(ticks, nticks, json_u64(e, "parent_id")));
				signals++;
			} else if (!strcmp(m, "__main__.fib")) {
				uint64_t parent = json_u64(e, "parent_id");

				fib_roots += parent == 0;
				assert_true(parent == 0 || has_id(fibs, nfibs, parent));
				if (json_u64(e, "depth") > max_depth)
					max_depth = json_u64(e, "depth");
			}
			json_object_put(e);
		}
		fclose(f);
		assert_int_equal(signals, 2 * NFN);
		assert_int_equal(fib_roots, 1);
		assert_int_equal(max_depth, 11);
	}
	set_pythonpath();
}

/* --python through --otlp: a function that raises gives a failed span with an exception event
 * (no type: the interpreter hides the exception from a profile function), and the exception
 * still reaches the caller (the script catches all five). */
static void test_python_functions_otlp(void **state)
{
	struct receiver rcv = { 0 };
	struct requests q;
	struct json_object *spans;
	char fscript[PATH_MAX];
	struct proc_result r;
	size_t booms = 0;

	(void)state;
	set_pythonpath();
	snprintf(fscript, sizeof(fscript), "%s/tests/targets/py_functions.py",
		 getenv("PERFBPF_SRC") ?: ".");
	receiver_start(&rcv, "ok", NULL);
	{
		char *argv[] = { (char *)bpath("perfbpf"), "run", "-q", "--otlp-endpoint", rcv.url,
				 "--python", "__main__.boom", "--", interpreters[0], fscript, "10",
				 NULL };

		run_proc(argv, 120, &r);
	}
	receiver_stop(&rcv);
	if (r.status != 0 || !strstr(r.out, "done"))
		fail_msg("--python --otlp: status %d: %s %s", r.status, r.err, r.out);
	proc_result_free(&r);
	requests_load(&rcv, &q);
	spans = accepted_spans(&q);
	for (size_t i = 0; i < json_object_array_length(spans); i++) {
		struct json_object *s = json_object_array_get_idx(spans, i);
		struct json_object *e0 = json_object_array_get_idx(json_get(s, "events"), 0);

		assert_string_equal(json_str(s, "name"), "__main__.boom");
		assert_int_equal(json_u64(json_get(s, "status"), "code"), 2);
		assert_string_equal(json_str(json_get(s, "status"), "message"),
				    "the function raised an exception");
		assert_string_equal(json_str(e0, "name"), "exception");
		assert_int_equal(json_object_array_length(json_get(s, "events")), 1);
		booms++;
	}
	assert_int_equal(booms, 5);
	json_object_put(spans);
	requests_free(&q);
}

/* --python: only for run, only for a Python command. */
static void test_python_option_errors(void **state)
{
	char *attach[] = { (char *)bpath("perfbpf"), "attach", "--python", "x.*", "1", NULL };
	char *notpy[] = { (char *)bpath("perfbpf"), "run", "-q", "--python", "x.*", "--", "/bin/true",
			  NULL };
	struct proc_result r;

	(void)state;
	run_proc(attach, 30, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--python is for 'perfbpf run'"));
	proc_result_free(&r);
	run_proc(notpy, 30, &r);
	assert_int_equal(r.status, 1);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "is not a Python interpreter"));
	proc_result_free(&r);
}

/* Without a tracer every call returns, enabled() is False; bad arguments raise, traced or not. */
static void test_detached_and_errors(void **state)
{
	(void)state;
	set_pythonpath();
	for (int k = 0; k < ninterpreters; k++) {
		char *detached[] = { interpreters[k], (char *)script(), "detached", "100", NULL };
		char *errors[] = { interpreters[k], (char *)script(), "errors", NULL };
		char *traced[] = { (char *)bpath("perfbpf"), "run", "-q", "--", interpreters[k],
				   (char *)script(), "errors", NULL };
		struct proc_result r;

		run_proc(detached, 60, &r);
		if (r.status != 0 || !strstr(r.out, "enabled False") || !strstr(r.out, "done"))
			fail_msg("%s detached: status %d: %s %s", interpreters[k], r.status, r.out, r.err);
		proc_result_free(&r);
		run_proc(errors, 60, &r);
		if (r.status != 0 || !strstr(r.out, "errors ok"))
			fail_msg("%s errors: status %d: %s %s", interpreters[k], r.status, r.out, r.err);
		assert_non_null(strstr(r.out, "negative duration: ValueError"));
		assert_non_null(strstr(r.out, "symbol not str: TypeError: perfbpf: symbol must be str"));
		proc_result_free(&r);
		run_proc(traced, 60, &r);
		if (r.status != 0 || !strstr(r.out, "errors ok"))
			fail_msg("%s errors traced: status %d: %s %s", interpreters[k], r.status, r.out,
				 r.err);
		proc_result_free(&r);
	}
}

/* --lib names a probe library the command loads later; a bad one is one clear line. */
static void test_run_lib_option(void **state)
{
	char lib[PATH_MAX];
	char *bad[] = { (char *)bpath("perfbpf"), "run", "-q", "--lib", "/nonexistent/x.so", "--",
			"/bin/true", NULL };
	char *noprobes[] = { (char *)bpath("perfbpf"), "run", "-q", "--lib", "/bin/true", "--",
			     "/bin/true", NULL };
	char *good[] = { (char *)bpath("perfbpf"), "run", "-q", "-j", (char *)tmp_file("lib.json"),
			 "--lib", lib, "--", interpreters[0], (char *)script(), "basic", "10", NULL };
	struct proc_result r;
	struct json_object *root;
	FILE *p;

	(void)state;
	run_proc(bad, 30, &r);
	assert_int_equal(r.status, 1);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "--lib /nonexistent/x.so"));
	proc_result_free(&r);
	run_proc(noprobes, 30, &r);
	assert_int_equal(r.status, 1);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "no perfbpf probes"));
	proc_result_free(&r);
	/* the binding from a directory only the script knows (not PYTHONPATH, not the build
	 * tree): armed by --lib alone */
	snprintf(lib, sizeof(lib), "rm -rf %s && cp -r %s %s", tmp_file("pkg"),
		 bpath("bindings/python"), tmp_file("pkg"));
	assert_int_equal(system(lib), 0);
	snprintf(lib, sizeof(lib), "ls %s/perfbpf/_perfbpf*.so", tmp_file("pkg"));
	p = popen(lib, "r");
	assert_non_null(p);
	assert_non_null(fgets(lib, sizeof(lib), p));
	pclose(p);
	lib[strcspn(lib, "\n")] = '\0';
	unsetenv("PYTHONPATH");
	setenv("PY_ENGINE_PATH", tmp_file("pkg"), 1);
	run_proc(good, 60, &r);
	if (r.status != 0)
		fail_msg("run --lib: status %d: %s", r.status, r.err);
	proc_result_free(&r);
	unsetenv("PY_ENGINE_PATH");
	root = load_json(tmp_file("lib.json"));
	assert_int_equal(json_u64(find_row(root, "metrics", "op", "py.op", "AAA", "s"), "count"), 10);
	json_object_put(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_python_exact),
		cmocka_unit_test(test_asyncio_spans),
		cmocka_unit_test(test_asyncio_otlp),
		cmocka_unit_test(test_demo_twin_otlp),
		cmocka_unit_test(test_python_functions),
		cmocka_unit_test(test_python_functions_otlp),
		cmocka_unit_test(test_python_option_errors),
		cmocka_unit_test(test_detached_and_errors),
		cmocka_unit_test(test_run_lib_option),
	};

	find_interpreters();
	return run_privileged_group("integration: Python engines", tests);
}
