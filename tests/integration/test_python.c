// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests: Python engines through the perfbpf binding (bindings/python), with the real
 * interpreters (Debian's /usr/bin/python3 and the python3 on PATH when it is another one) under
 * `perfbpf run -- python3 ...` and real BPF: the binding's library is armed before the
 * interpreter starts, so every event from the first import is counted; ops exact (count, sum,
 * min, max, percentiles against the script's own durations); spans nested exactly, across
 * threads and recursion, ended when their block raises; bad arguments raise. */
#include "harness.h"

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

static uint64_t rank(const uint64_t *v, size_t n, double p)
{
	size_t r = (size_t)((double)n * p / 100.0 + 0.999999999);

	return v[(r < 1 ? 1 : r) - 1];
}

static void check_op(struct json_object *root, const char *sym, uint64_t base, uint64_t step)
{
	struct json_object *row = find_row(root, "metrics", "op", "py.op", sym, "s");
	uint64_t v[N], sum = 0;

	assert_non_null(row);
	for (size_t i = 0; i < N; i++) {
		v[i] = base + step * i;
		sum += v[i];
	}
	assert_int_equal(json_u64(row, "count"), N);
	assert_int_equal(json_u64(row, "total_ns"), sum);
	assert_int_equal(json_u64(row, "min_ns"), v[0]);
	assert_int_equal(json_u64(row, "max_ns"), v[N - 1]);
	assert_int_equal(json_u64(row, "p50_ns"), rank(v, N, 50));
	assert_int_equal(json_u64(row, "p95_ns"), rank(v, N, 95));
	assert_int_equal(json_u64(row, "p99_ns"), rank(v, N, 99));
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
		parent = (uint64_t)json_object_get_int64(json_get(e, "parent_id"));
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
		cmocka_unit_test(test_detached_and_errors),
		cmocka_unit_test(test_run_lib_option),
	};

	find_interpreters();
	return run_privileged_group("integration: Python engines", tests);
}
