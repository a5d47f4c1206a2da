// SPDX-License-Identifier: BSD-2-Clause
/* Privileged integration tests of --attribution: demo-engine spans that spin, sleep and contend
 * for one CPU, split by the scheduler tracepoints into on-CPU, run-queue and blocked time. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERFBPF bpath("perfbpf")

struct shares {
	double oncpu, runq, blocked; /* percent of the summed span durations */
	size_t spans;
};

/* Runs a scenario; checks that every span's components add up to its duration within 2% or
 * 5 us; returns the shares of the scenario span's roll-up. */
static struct shares run_scenario(const char *scenario, const char *md_must_have)
{
	char json[64], events[64];
	char *argv[] = { (char *)PERFBPF, "run", "-m", "-", "-j", json, "-e", events, "--",
			 (char *)bpath("backtest"), "--scenario", (char *)scenario, NULL };
	struct proc_result r;
	struct json_object *root, *row;
	struct shares sh = { 0 };
	char line[2048], name[64];
	FILE *f;

	snprintf(json, sizeof(json), "%s", tmp_file(scenario));
	snprintf(events, sizeof(events), "%s.jsonl", tmp_file(scenario));
	snprintf(name, sizeof(name), "scenario.%s", scenario);
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "## Where the time went"));
	assert_non_null(strstr(r.out, md_must_have));

	f = fopen(events, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *o = json_tokener_parse(line);
		uint64_t d, sum;
		double tol;

		assert_non_null(o);
		if (strcmp(json_str(o, "kind"), "span")) {
			json_object_put(o);
			continue;
		}
		d = json_u64(o, "duration_ns");
		sum = json_u64(o, "oncpu_ns") + json_u64(o, "runq_ns") + json_u64(o, "blocked_ns");
		tol = d * 0.02 > 5000 ? d * 0.02 : 5000;
		if ((double)(sum > d ? sum - d : d - sum) > tol)
			fail_msg("%s span: components %llu ns vs duration %llu ns", scenario,
				 (unsigned long long)sum, (unsigned long long)d);
		sh.spans++;
		json_object_put(o);
	}
	fclose(f);

	root = load_json(json);
	assert_true(json_object_get_boolean(json_get(root, "attribution")));
	row = find_row(root, "metric_rollups", "span", name, NULL, NULL);
	assert_non_null(row);
	{
		double t = (double)json_u64(row, "total_ns");

		sh.oncpu = 100.0 * (double)json_u64(row, "oncpu_total_ns") / t;
		sh.runq = 100.0 * (double)json_u64(row, "runq_total_ns") / t;
		sh.blocked = 100.0 * (double)json_u64(row, "blocked_total_ns") / t;
		/* the p50/p99 of each component are there too */
		assert_true(json_u64(row, "oncpu_p99_ns") >= json_u64(row, "oncpu_p50_ns"));
		assert_true(json_u64(row, "runq_p99_ns") >= json_u64(row, "runq_p50_ns"));
		assert_true(json_u64(row, "blocked_p99_ns") >= json_u64(row, "blocked_p50_ns"));
	}
	printf("  %s: %zu spans, %.1f%% on CPU, %.1f%% run queue, %.1f%% blocked\n", scenario,
	       sh.spans, sh.oncpu, sh.runq, sh.blocked);
	json_object_put(root);
	proc_result_free(&r);
	return sh;
}

static void test_spin_is_on_cpu(void **state)
{
	struct shares s = run_scenario("spin", "**scenario.spin**");

	(void)state;
	assert_int_equal(s.spans, 20);
	assert_true(s.oncpu >= 90.0);
}

static void test_sleep_is_blocked(void **state)
{
	struct shares s = run_scenario("sleep", "mostly blocked");

	(void)state;
	assert_int_equal(s.spans, 20);
	assert_true(s.blocked >= 90.0);
}

/* Two busy threads pinned to one CPU: each waits for the other about half the time. */
static void test_contention_is_run_queue_wait(void **state)
{
	struct shares s = run_scenario("contend", "**scenario.contend**");

	(void)state;
	assert_int_equal(s.spans, 40);
	assert_true(s.runq >= 40.0 && s.runq <= 60.0);
	assert_true(s.oncpu >= 40.0 && s.oncpu <= 60.0);
	assert_true(s.blocked <= 10.0);
}

static void test_no_attribution(void **state)
{
	const char *out = tmp_file("noattr.json");
	char *argv[] = { (char *)PERFBPF, "run", "--no-attribution", "-q", "-j", (char *)out, "--",
			 (char *)bpath("backtest"), "--scenario", "spin", "--scenario-spans", "3",
			 NULL };
	struct proc_result r;
	struct json_object *root, *row;

	(void)state;
	run_proc(argv, 60, &r);
	assert_int_equal(r.status, 0);
	root = load_json(out);
	assert_false(json_object_get_boolean(json_get(root, "attribution")));
	row = find_row(root, "metric_rollups", "span", "scenario.spin", NULL, NULL);
	assert_non_null(row);
	assert_int_equal(json_u64(row, "count"), 3);
	assert_false(json_object_object_get_ex(row, "oncpu_total_ns", NULL));
	json_object_put(root);
	proc_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spin_is_on_cpu),
		cmocka_unit_test(test_sleep_is_blocked),
		cmocka_unit_test(test_contention_is_run_queue_wait),
		cmocka_unit_test(test_no_attribution),
	};

	return run_privileged_group("integration: kernel attribution", tests);
}
