// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests of `perfbpf run --repeat` and `perfbpf gate`: bad input on hand-written
 * summaries; with BPF, per-run records of the demo engine, and the gate on recorded files. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PERFBPF bpath("perfbpf")
#define REPEAT "5"
#define BARS "20000"
#define SLOWED "strategy.indicators"

/* --- hand-written summaries for the bad-input tests -------------------------------------------- */

/* A perfbpf.summary/2 file with `nruns` runs; each run holds the op `metric` with `n` samples of
 * `ns` (one histogram bin, whose bound must be a bucket bound: 1024 is). */
static const char *write_summary(const char *name, const char *schema, int nruns,
				 const char *metric, uint64_t n, uint64_t ns, const char *kernel)
{
	const char *path = tmp_file(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "{\"schema\":\"%s\",\"perfbpf_version\":\"0.1.0\",\"command\":\"./engine\","
		"\"mode\":\"events\",\"attribution\":true,\"environment\":{\"kernel\":\"%s\","
		"\"machine\":\"x86_64\",\"cpu_model\":\"cpu\",\"cpus\":2,\"governor\":\"\"},"
		"\"histogram_layout\":{\"sub_buckets_per_power_of_two\":128},\"runs\":[",
		schema, kernel);
	for (int r = 0; r < nruns; r++) {
		const char *row = "{\"metric\":\"%s\",\"kind\":\"op\",%s\"count\":%llu,"
				  "\"total_ns\":%llu,\"stddev_ns\":0,\"histogram\":[[%llu,%llu]]}";

		fprintf(f, "%s{\"run\":%d,\"events\":%llu,\"dropped\":0,\"metrics\":[", r ? "," : "",
			r + 1, (unsigned long long)n);
		if (n)
			fprintf(f, row, metric, "\"symbol\":\"BTC\",\"strategy\":\"s\",",
				(unsigned long long)n, (unsigned long long)(n * ns),
				(unsigned long long)ns, (unsigned long long)n);
		fprintf(f, "],\"metric_rollups\":[");
		if (n)
			fprintf(f, row, metric, "", (unsigned long long)n, (unsigned long long)(n * ns),
				(unsigned long long)ns, (unsigned long long)n);
		fprintf(f, "]}");
	}
	fprintf(f, "]}\n");
	fclose(f);
	return path;
}

static struct proc_result gate(const char *a, const char *b, const char *extra)
{
	char *argv[] = { (char *)PERFBPF, "gate", (char *)a, (char *)b, "--stat", "mean",
			 (char *)extra, NULL };
	struct proc_result r;

	run_proc(argv, 60, &r);
	return r;
}

/* One line on stderr containing `want`, and exit status `status`. */
static void expect(struct proc_result *r, int status, const char *want)
{
	if (r->status != status || !strstr(r->err, want))
		print_message("status %d, stderr: %s\n", r->status, r->err);
	assert_int_equal(r->status, status);
	assert_non_null(strstr(r->err, want));
	proc_result_free(r);
}

static void test_bad_input(void **state)
{
	const char *ok = write_summary("ok.json", "perfbpf.summary/2", 3, "m", 100, 1024, "6.1");
	const char *junk = tmp_file("junk.json");
	FILE *f = fopen(junk, "w");
	struct proc_result r;

	(void)state;
	assert_non_null(f);
	fputs("{ not json", f);
	fclose(f);
	r = gate(tmp_file("absent.json"), ok, NULL);
	expect(&r, 2, "absent.json: cannot read: No such file or directory");
	r = gate(ok, junk, NULL);
	expect(&r, 2, "junk.json: not valid JSON");
	r = gate(write_summary("v1.json", "perfbpf.summary/1", 3, "m", 100, 1024, "6.1"), ok, NULL);
	expect(&r, 2, "schema 'perfbpf.summary/1' is not supported");
	r = gate(ok, write_summary("one.json", "perfbpf.summary/2", 1, "m", 100, 1024, "6.1"), NULL);
	expect(&r, 2, "holds 1 run; telling a change from noise needs at least 2 per side");
	r = gate(write_summary("none.json", "perfbpf.summary/2", 0, "m", 100, 1024, "6.1"), ok, NULL);
	expect(&r, 2, "'runs' is empty");
	r = gate(ok, write_summary("empty.json", "perfbpf.summary/2", 3, "m", 0, 1024, "6.1"), NULL);
	expect(&r, 2, "runs hold no events");
	r = gate(ok, ok, "--stat=p42");
	expect(&r, 2, "invalid value 'p42' for --stat");
	r = gate(ok, ok, "--max-regression=ten");
	expect(&r, 2, "invalid value 'ten' for --max-regression");
	r = gate(ok, ok, "--across=worst");
	expect(&r, 2, "invalid value 'worst' for --across");
	{
		char *argv[] = { (char *)PERFBPF, "gate", (char *)ok, NULL };

		run_proc(argv, 10, &r);
		expect(&r, 2, "gate needs two JSON summaries");
	}
}

/* A key on one side only is reported, not a failure; a different kernel is warned about; a
 * doubled mean fails the gate with exit 1 and the JSON says why. */
static void test_keys_environment_verdict(void **state)
{
	const char *base = write_summary("b.json", "perfbpf.summary/2", 3, "m", 100, 1024, "6.1");
	const char *other = write_summary("o.json", "perfbpf.summary/2", 3, "n", 100, 1024, "6.18");
	const char *slow = write_summary("s.json", "perfbpf.summary/2", 3, "m", 100, 2048, "6.1");
	struct json_object *root, *cmp;
	struct proc_result r;

	(void)state;
	r = gate(base, other, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "| m (op) BTC / s | mean | | | | | only in base |"));
	assert_non_null(strstr(r.out, "| n (op, all) | mean | | | | | only in head |"));
	assert_non_null(strstr(r.err, "the environments differ: kernel '6.1' (base) vs '6.18' (head)"));
	proc_result_free(&r);

	r = gate(base, slow, "--json=-");
	assert_int_equal(r.status, 1);
	root = json_tokener_parse(r.out);
	assert_non_null(root);
	assert_string_equal(json_str(root, "schema"), "perfbpf.gate/1");
	assert_string_equal(json_str(root, "verdict"), "fail");
	assert_int_equal(json_u64(root, "regressions"), 2); /* the key and its roll-up */
	cmp = json_object_array_get_idx(json_get(root, "comparisons"), 0);
	assert_string_equal(json_str(cmp, "verdict"), "regression");
	assert_true(fabs(json_object_get_double(json_get(cmp, "change")) - 1.0) < 1e-9);
	json_object_put(root);
	proc_result_free(&r);
}

/* A side given as a directory: every *.json in it, their runs taken together (one-run recordings
 * interleaved with the other side's). The report says how many files; a file that differs from
 * the side's first in environment is warned about; an empty directory, a directory whose files
 * hold one run in all, and a bad file in it are input errors naming the directory or the file. */
static void test_directory_sides(void **state)
{
	char *base = strdup(tmp_file("base")), *head = strdup(tmp_file("head"));
	char *empty = strdup(tmp_file("empty")), *lone = strdup(tmp_file("lone"));
	struct json_object *root, *files;
	struct proc_result r;

	(void)state;
	assert_int_equal(mkdir(base, 0755) | mkdir(head, 0755) | mkdir(empty, 0755) |
			 mkdir(lone, 0755), 0);
	for (int i = 1; i <= 3; i++) {
		char b[32], h[32];

		snprintf(b, sizeof(b), "base/run-%d.json", i);
		snprintf(h, sizeof(h), "head/run-%d.json", i);
		write_summary(b, "perfbpf.summary/2", 1, "m", 100, 1024, "6.1");
		write_summary(h, "perfbpf.summary/2", 1, "m", 100, 2048, i == 3 ? "6.18" : "6.1");
	}
	write_summary("lone/run-1.json", "perfbpf.summary/2", 1, "m", 100, 1024, "6.1");

	r = gate(base, head, "--json=-");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "head: "));
	assert_non_null(strstr(r.err, "head/run-1.json and "));
	assert_non_null(strstr(r.err, "head/run-3.json were recorded in different environments: "
				       "kernel '6.1' vs '6.18'"));
	root = json_tokener_parse(r.out);
	assert_non_null(root);
	assert_int_equal(json_u64(json_get(root, "base"), "runs"), 3);
	files = json_get(json_get(root, "base"), "files");
	assert_int_equal(json_object_array_length(files), 3);
	assert_non_null(strstr(json_object_get_string(json_object_array_get_idx(files, 2)),
			       "base/run-3.json"));
	assert_string_equal(json_str(root, "verdict"), "fail");
	json_object_put(root);
	proc_result_free(&r);
	r = gate(base, head, NULL);
	assert_non_null(strstr(r.out, "(3 runs from 3 files) vs head"));
	proc_result_free(&r);

	r = gate(empty, base, NULL);
	expect(&r, 2, "empty: no *.json summaries in this directory");
	r = gate(base, lone, NULL);
	expect(&r, 2, "lone: holds 1 run; telling a change from noise needs at least 2 per side");
	write_summary("lone/run-2.json", "perfbpf.summary/1", 1, "m", 100, 1024, "6.1");
	r = gate(base, lone, NULL);
	expect(&r, 2, "lone/run-2.json: schema 'perfbpf.summary/1' is not supported");
	free(base);
	free(head);
	free(empty);
	free(lone);
}

/* --- recorded trials ------------------------------------------------------------------------------ */

static void record(const char *path, const char *slow_arg)
{
	char *argv[] = { (char *)PERFBPF, "run", "-q", "--repeat", REPEAT, "--json", (char *)path,
			 "--", (char *)bpath("backtest"), "--quiet", "--bars", BARS,
			 slow_arg ? "--slow" : NULL, (char *)slow_arg, NULL };
	struct proc_result r;

	run_proc(argv, 300, &r);
	if (r.status != 0)
		print_message("perfbpf run: status %d: %s\n", r.status, r.err);
	assert_int_equal(r.status, 0);
	proc_result_free(&r);
}

/* The best run's p99 of the slowed metric's roll-up, ns. */
static uint64_t best_p99(const char *path)
{
	struct json_object *root = load_json(path), *runs = json_get(root, "runs");
	uint64_t best = UINT64_MAX;

	assert_int_equal(json_object_array_length(runs), atoi(REPEAT));
	for (size_t i = 0; i < json_object_array_length(runs); i++) {
		struct json_object *row = find_row(json_object_array_get_idx(runs, i),
						   "metric_rollups", "op", SLOWED, NULL, NULL);
		uint64_t v;

		assert_non_null(row);
		v = json_u64(row, "p99_ns");
		if (v < best)
			best = v;
	}
	json_object_put(root);
	return best;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median over the metrics compared on p99 (roll-ups in both files with enough samples) of
 * head / base, from a gate's own comparisons: what its common_change.p99 + 1 must be. */
static double median_metric_ratio(struct json_object *root)
{
	struct json_object *cmps = json_get(root, "comparisons");
	size_t n = 0, len = json_object_array_length(cmps);
	double *v = calloc(len ? len : 1, sizeof(*v)), m;

	assert_non_null(v);
	for (size_t i = 0; i < len; i++) {
		struct json_object *c = json_object_array_get_idx(cmps, i);

		if (strcmp(json_str(c, "level"), "metric") || strcmp(json_str(c, "stat"), "p99") ||
		    strcmp(json_str(c, "presence"), "both") ||
		    !strcmp(json_str(c, "verdict"), "too few samples"))
			continue;
		v[n++] = json_object_get_double(json_get(c, "head_ns")) /
			 json_object_get_double(json_get(c, "base_ns"));
	}
	assert_true(n >= 3);
	qsort(v, n, sizeof(*v), by_value);
	m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	free(v);
	return m;
}

static int gate_status(const char *base, const char *head, const char *md)
{
	char *argv[] = { (char *)PERFBPF, "gate", (char *)base, (char *)head, "--stat", "p99",
			 "--max-regression", "5%", "--markdown", (char *)md, NULL };
	struct proc_result r;
	int st;

	run_proc(argv, 120, &r);
	st = r.status;
	if (st != 0 && st != 1)
		print_message("gate: status %d: %s\n", st, r.err);
	assert_true(st == 0 || st == 1);
	proc_result_free(&r);
	return st;
}

/* One recorded trial each way: a file against itself passes; a 200% slowdown of one metric's p99
 * fails the gate with that metric among the regressions (strategy.tick, which contains it, may
 * lead: it slowed by the same time). The rates
 * over 20 trials of a 10% slowdown are measured by tools/bench/gate-trials.sh (make bench). */
static void test_recorded(void **state)
{
	char slow_arg[64];
	struct json_object *root, *cmps, *found = NULL;
	struct proc_result r;
	const char *verdict = NULL;
	double us, change = 0;
	bool ok;

	(void)state;
	record(tmp_file("base.json"), NULL);
	us = 2.0 * (double)best_p99(tmp_file("base.json")) / 1000.0;
	snprintf(slow_arg, sizeof(slow_arg), SLOWED ":%.3f", us);
	record(tmp_file("slow.json"), slow_arg);
	assert_int_equal(gate_status(tmp_file("base.json"), tmp_file("base.json"),
				     tmp_file("self.md")), 0);
	{
		char *argv[] = { (char *)PERFBPF, "gate", (char *)tmp_file("base.json"),
				 (char *)tmp_file("slow.json"), "--stat", "p99", "--max-regression",
				 "5%", "-q", "--json", (char *)tmp_file("slow.gate.json"), NULL };

		run_proc(argv, 120, &r);
		if (r.status != 1)
			print_message("gate: status %d: %s\n", r.status, r.err);
		assert_int_equal(r.status, 1);
		proc_result_free(&r);
	}
	root = load_json(tmp_file("slow.gate.json"));
	assert_string_equal(json_str(root, "verdict"), "fail");
	cmps = json_get(root, "comparisons");
	for (size_t i = 0; i < json_object_array_length(cmps) && !found; i++) {
		struct json_object *c = json_object_array_get_idx(cmps, i);

		if (strcmp(json_str(c, "metric"), SLOWED) || strcmp(json_str(c, "level"), "metric"))
			continue;
		found = c;
		change = json_object_get_double(json_get(c, "change"));
		verdict = json_str(c, "verdict");
	}
	assert_non_null(found);
	print_message("%s p99 %+.0f%% (injected +200%%), interval %.3f - %.3f: %s\n", SLOWED,
		      100 * change, json_object_get_double(json_get(found, "ratio_low")),
		      json_object_get_double(json_get(found, "ratio_high")), verdict);
	ok = !strcmp(verdict, "regression") && change > 1.0;
	json_object_put(root);
	assert_true(ok);
	/* the median change of all metrics is reported beside the verdicts */
	{
		char *argv[] = { (char *)PERFBPF, "gate", (char *)tmp_file("base.json"),
				 (char *)tmp_file("slow.json"), "-q", "--json",
				 (char *)tmp_file("common.gate.json"), NULL };
		double common;

		run_proc(argv, 120, &r);
		assert_int_equal(r.status, 1);
		proc_result_free(&r);
		root = load_json(tmp_file("common.gate.json"));
		common = json_object_get_double(json_get(json_get(root, "common_change"), "p99"));
		print_message("median p99 change of all metrics %+.1f%%\n", 100 * common);
		assert_true(isfinite(common) && common > -0.5);
		/* it is the median of the metrics' own p99 ratios. How far that median moves is
		 * not asserted: the other ops last 20-50 ns (p50), 2-5 steps of a 10 ns clock on
		 * some VMs, so one step more at the p99 beside the slowed metric is +50% to +100%
		 * (+16% to +150% seen; +41% to +210% with AddressSanitizer), whatever perfbpf does */
		assert_true(fabs(median_metric_ratio(root) - 1 - common) < 1e-9);
		json_object_put(root);
	}
}

/* --repeat keeps every run: per-run rows with histograms that add up to the pooled rows. */
static void test_repeat_summary(void **state)
{
	const char *path = tmp_file("repeat.json");
	char *argv[] = { (char *)PERFBPF, "run", "-q", "--repeat", "3", "--json", (char *)path, "--",
			 (char *)bpath("backtest"), "--quiet", "--bars", "3000", NULL };
	struct json_object *root, *runs;
	struct proc_result r;
	uint64_t sum = 0, pooled, pids[3];

	(void)state;
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	proc_result_free(&r);
	root = load_json(path);
	assert_string_equal(json_str(root, "schema"), "perfbpf.summary/2");
	assert_non_null(json_str(json_get(root, "environment"), "kernel"));
	runs = json_get(root, "runs");
	assert_int_equal(json_object_array_length(runs), 3);
	pooled = json_u64(find_row(root, "metric_rollups", "op", "strategy.tick", NULL, NULL), "count");
	for (int i = 0; i < 3; i++) {
		struct json_object *run = json_object_array_get_idx(runs, i), *row, *hist;
		uint64_t hsum = 0;

		pids[i] = json_u64(run, "pid");
		row = find_row(run, "metric_rollups", "op", "strategy.tick", NULL, NULL);
		assert_non_null(row);
		hist = json_get(row, "histogram");
		for (size_t k = 0; k < json_object_array_length(hist); k++)
			hsum += json_object_get_uint64(
				json_object_array_get_idx(json_object_array_get_idx(hist, k), 1));
		assert_int_equal(hsum, json_u64(row, "count"));
		assert_int_equal(json_u64(row, "count"), 2 * 3000); /* 2 symbols x 3000 bars */
		sum += json_u64(row, "count");
	}
	assert_int_equal(sum, pooled);
	assert_true(pids[0] != pids[1] && pids[1] != pids[2]);
	/* wait times do not span the gap between runs: 3 x (6000 - 1) gaps */
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "op", "strategy.tick", NULL, NULL),
				  "wait_count"), 3 * (6000 - 1));
	json_object_put(root);
}

int main(void)
{
	const struct CMUnitTest unprivileged[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_keys_environment_verdict),
		cmocka_unit_test(test_directory_sides),
	};
	const struct CMUnitTest privileged[] = {
		cmocka_unit_test(test_repeat_summary),
		cmocka_unit_test(test_recorded),
	};
	int fails = cmocka_run_group_tests_name("integration: gate input", unprivileged, NULL, NULL);

	return fails + run_privileged_group("integration: run --repeat and gate (root)", privileged);
}
