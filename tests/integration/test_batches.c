// SPDX-License-Identifier: BSD-2-Clause
/* Probe ABI v3 (events recorded in the engine, collected in batches; README.md "Probe ABI v3"):
 * the cases the per-event probes never had. One heap buffer rewritten with another symbol before
 * each op; a thread that records a few events and then blocks for good, reported at a --duration
 * stop; one that computes without ever entering the kernel; an engine killed with SIGKILL with
 * records pending in its buffer; `perfbpf list` naming the ABI of each object. Exact counts against what the targets fired. */
#include "bpf/perfbpf.h"
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PERFBPF bpath("perfbpf")
#define TARGET bpath("tests/probe_target")

static struct json_object *run_target(const char *out, char *const args[], int want_status)
{
	return run_traced(out, TARGET, args, want_status);
}

/* One address, three symbols in turn: each op is attributed to the symbol the buffer held when
 * it fired (the engine compares the contents of a cached address before reusing its key). Then
 * one call site inlined into callers passing other literal names: each op keeps its own. */
static void test_heap_buffer_reused(void **state)
{
	char *args[] = { "--wait-attach", "heap", "1000", NULL };
	static const char *const syms[3] = { "AAA", "BBBBBBBB", "AAA2" };
	struct json_object *root = run_target(tmp_file("heap.json"), args, 0);

	(void)state;
	for (int k = 0; k < 3; k++) {
		struct json_object *row = find_row(root, "metrics", "op", "heap.op", syms[k], "heap");

		assert_non_null(row);
		assert_int_equal(json_u64(row, "count"), 1000);
		/* durations are the op's index: k, k + 3, ..., k + 2997 */
		assert_int_equal(json_u64(row, "min_ns"), (uint64_t)k);
		assert_int_equal(json_u64(row, "max_ns"), (uint64_t)(2997 + k));
	}
	/* one op site inlined into two callers with other literal metrics: each its own row */
	for (int k = 0; k < 2; k++) {
		struct json_object *row = find_row(root, "metrics", "op", k ? "inline.b" : "inline.a",
						   "INL", "inline");

		assert_non_null(row);
		assert_int_equal(json_u64(row, "count"), 1000);
		assert_int_equal(json_u64(row, "max_ns"), (uint64_t)(k + 1) * 999);
	}
	assert_int_equal(json_u64(root, "events"), 5000);
	assert_int_equal(json_u64(root, "dropped"), 0);
	json_object_put(root);
}

/* Ops timed with PERFBPF_OP_START / PERFBPF_OP_SINCE, traced through ABI v3 (a TSC start stamp
 * and the record's own stamp, converted by perfbpf) and through the per-event probes (the
 * engine's clock): every op counted, and min, max and total within what the engine measured
 * just inside and just outside each op (give or take the TSC mapping's error, 1 us). */
static void check_timed(const char *opt)
{
	char *argv[] = { (char *)PERFBPF, "run", "-q", "-j", (char *)tmp_file("timed.json"),
			 (char *)opt, "--", (char *)TARGET, "--wait-attach", "timed", "1000", NULL };
	unsigned long long in_min, in_max, out_min, out_max, in_sum, out_sum;
	const uint64_t slack = 1000;
	struct json_object *root, *row;
	struct proc_result r;

	if (!opt[0])
		memmove(&argv[5], &argv[6], 6 * sizeof(*argv));
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "timed "));
	assert_int_equal(sscanf(strstr(r.out, "timed "), "timed %llu %llu %llu %llu %llu %llu", &in_min, &in_max,
				&out_min, &out_max, &in_sum, &out_sum), 6);
	proc_result_free(&r);
	root = load_json(tmp_file("timed.json"));
	row = find_row(root, "metrics", "op", "timed.op", "T", "timed");
	assert_non_null(row);
	assert_int_equal(json_u64(row, "count"), 1000);
	assert_in_range(json_u64(row, "min_ns"), in_min - slack, out_min + slack);
	assert_in_range(json_u64(row, "max_ns"), in_max - slack, out_max + slack);
	assert_in_range(json_u64(row, "total_ns"), in_sum - 1000 * slack, out_sum + 1000 * slack);
	assert_int_equal(json_u64(json_get(root, "losses"), "malformed_record"), 0);
	json_object_put(root);
}

static void test_timed_ops(void **state)
{
	(void)state;
	check_timed("");
	check_timed("--per-event-probes");
}

/* Starts probe_target MODE 3, attaches `perfbpf attach --duration DUR` to it, checks the line
 * the target printed and that the summary has exactly the 3 ops METRIC; kills the target. */
static void attach_for(const char *mode, const char *dur, const char *line_want, const char *metric,
		       const char *sym)
{
	const char *out = tmp_file(mode);
	char *target[] = { (char *)TARGET, (char *)mode, "3", NULL };
	char pidbuf[16], line[64];
	char *argv[] = { (char *)PERFBPF, "attach", pidbuf, "--duration", (char *)dur, "-q", "-j",
			 (char *)out, NULL };
	struct proc_result r;
	struct json_object *root, *row;
	int fd, st;
	pid_t pid = track_bg(spawn_bg(target, &fd));

	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	run_proc(argv, 60, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(read_line(fd, line, sizeof(line), 1000), 0);
	assert_string_equal(line, line_want);
	root = load_json(out);
	assert_string_equal(json_str(root, "stop_reason"), "the duration elapsed");
	row = find_row(root, "metrics", "op", metric, sym, mode);
	assert_non_null(row);
	assert_int_equal(json_u64(row, "count"), 3);
	assert_int_equal(json_u64(row, "max_ns"), 2);
	json_object_put(root);
	proc_result_free(&r);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	untrack_bg(pid);
	close(fd);
}

/* A thread that fires 3 ops and blocks: its records never fill a batch, and it never flushes;
 * the switch away from it collects them, and `attach --duration` reports all 3. */
static void test_idle_thread_reported_at_stop(void **state)
{
	(void)state;
	attach_for("idle", "1500ms", "idle", "idle.op", "I");
}

/* A thread that fires 3 ops and then computes without a system call: it never flushes and is
 * never switched out on an idle CPU; the 20 Hz timer tick collects its records, within the
 * 300 ms of the trace. */
static void test_running_thread_collected_by_tick(void **state)
{
	(void)state;
	attach_for("spin", "300ms", "spinning", "spin.op", "S");
}

/* The engine killed with SIGKILL with 500 records in its buffer (a batch is 1024): the kernel's
 * exit hook reads them before the memory goes, every one is counted. */
static void test_engine_killed_pending_delivered(void **state)
{
	char *args[] = { "--wait-attach", "killself", "500", NULL };
	struct json_object *root = run_target(tmp_file("killself.json"), args, 128 + SIGKILL);
	struct json_object *row = find_row(root, "metrics", "op", "pending.op", "K", "kill");

	(void)state;
	assert_non_null(row);
	assert_int_equal(json_u64(row, "count"), 500);
	assert_int_equal(json_u64(row, "max_ns"), 499);
	assert_int_equal(json_u64(root, "dropped"), 0);
	json_object_put(root);
}

/* A C++ engine (the header built by clang++), its symbol a std::string: exact counts. */
static void test_cxx_engine(void **state)
{
	char *args[] = { "3000", NULL };
	struct json_object *root = run_traced(tmp_file("cxx.json"), bpath("tests/cxx_target"), args,
					      0);

	(void)state;
	for (int k = 0; k < 3; k++) {
		static const char *const syms[3] = { "AAA", "BBB", "CCC" };
		struct json_object *op = find_row(root, "metrics", "op", "cxx.op", syms[k], "cxx");
		struct json_object *sp = find_row(root, "metrics", "span", "cxx.tick", syms[k], "cxx");

		assert_non_null(op);
		assert_non_null(sp);
		assert_int_equal(json_u64(op, "count"), 1000);
		assert_int_equal(json_u64(sp, "count"), 1000);
		assert_int_equal(json_u64(op, "min_ns"), (uint64_t)k);
	}
	assert_int_equal(json_u64(root, "dropped"), 0);
	json_object_put(root);
}

/* `perfbpf list` says which probe ABI each object carries. */
static void test_list_names_abi(void **state)
{
	char *argv[] = { (char *)PERFBPF, "list", (char *)TARGET, NULL };
	struct proc_result r;

	(void)state;
	run_proc(argv, 30, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "ABI v3"));
	assert_non_null(strstr(r.out, "perfbpf:flush"));
	proc_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_heap_buffer_reused, kill_tracked),
		cmocka_unit_test_teardown(test_timed_ops, kill_tracked),
		cmocka_unit_test_teardown(test_idle_thread_reported_at_stop, kill_tracked),
		cmocka_unit_test_teardown(test_running_thread_collected_by_tick, kill_tracked),
		cmocka_unit_test_teardown(test_engine_killed_pending_delivered, kill_tracked),
		cmocka_unit_test_teardown(test_cxx_engine, kill_tracked),
		cmocka_unit_test_teardown(test_list_names_abi, kill_tracked),
	};

	return run_privileged_group("integration: probe ABI v3 batches", tests);
}
