// SPDX-License-Identifier: BSD-2-Clause
/* Privileged integration tests of the core pipeline: real BPF attached to real processes, with
 * results checked against the engines' own ground truth. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "user/attach/probe_site.h"
#include "user/attach/sdt.h"

#define PERFBPF bpath("perfbpf")

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every op key of the ground truth has a row with the same count, sum and order statistics. */
static void check_against_truth(struct json_object *root, const struct ground_truth *gt)
{
	size_t op_rows = 0;
	struct json_object *rows = json_get(root, "metrics");

	for (size_t i = 0; i < json_object_array_length(rows); i++)
		op_rows += !strcmp(json_str(json_object_array_get_idx(rows, i), "kind"), "op");
	assert_int_equal(op_rows, gt->nkeys);
	for (size_t i = 0; i < gt->nkeys; i++) {
		const struct gt_key *k = &gt->keys[i];
		struct json_object *r = find_row(root, "metrics", "op", k->metric, k->symbol,
						 k->strategy);
		uint64_t sum = 0;

		if (!r)
			fail_msg("no row for %s/%s/%s", k->metric, k->symbol, k->strategy);
		for (size_t j = 0; j < k->n; j++)
			sum += k->d[j];
		assert_int_equal(json_u64(r, "count"), k->n);
		assert_int_equal(json_u64(r, "total_ns"), sum);
		assert_int_equal(json_u64(r, "min_ns"), k->d[0]);
		assert_int_equal(json_u64(r, "max_ns"), k->d[k->n - 1]);
		assert_int_equal(json_u64(r, "p50_ns"), gt_rank(k->d, k->n, 50));
		assert_int_equal(json_u64(r, "p95_ns"), gt_rank(k->d, k->n, 95));
		assert_int_equal(json_u64(r, "p99_ns"), gt_rank(k->d, k->n, 99));
		assert_false(json_object_get_boolean(json_get(r, "approximate")));
	}
}

static void test_run_matches_ground_truth(void **state)
{
	const char *gtf = tmp_file("gt.tsv"), *out = tmp_file("gt.json");
	char *argv[] = { (char *)PERFBPF, "run", "-q", "-j", (char *)out, "--",
			 (char *)bpath("backtest"), "--threads", "2", "--bars", "20000",
			 "--symbols", "BTCUSDT,ETHUSDT,SOLUSDT", "--ground-truth", (char *)gtf,
			 "--quiet", NULL };
	struct proc_result r;
	struct ground_truth gt;
	struct json_object *root, *rollup;

	(void)state;
	run_proc(argv, 300, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(gt_load(gtf, &gt), 0);
	assert_true(gt.total > 100000);
	root = load_json(out);
	assert_string_equal(json_str(root, "schema"), "perfbpf.summary/2");
	assert_int_equal(json_u64(root, "dropped"), 0);
	check_against_truth(root, &gt);
	/* 6 phase spans per backtest and one per order, two backtests (threads) */
	assert_true(gt.spans > 12);
	assert_int_equal(json_u64(root, "events"), gt.total + gt.spans);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "span", "backtest.run", NULL,
					   NULL), "count"), 2);
	/* the roll-up of strategy.tick merges every symbol and strategy exactly */
	{
		size_t n = 0, f = 0;
		uint64_t *all;

		for (size_t i = 0; i < gt.nkeys; i++)
			if (!strcmp(gt.keys[i].metric, "strategy.tick"))
				n += gt.keys[i].n;
		all = malloc(n * sizeof(*all));
		for (size_t i = 0; i < gt.nkeys; i++)
			if (!strcmp(gt.keys[i].metric, "strategy.tick")) {
				memcpy(all + f, gt.keys[i].d, gt.keys[i].n * sizeof(*all));
				f += gt.keys[i].n;
			}
		qsort(all, n, sizeof(*all), cmp_u64);
		rollup = find_row(root, "metric_rollups", "op", "strategy.tick", NULL, NULL);
		assert_non_null(rollup);
		assert_int_equal(json_u64(rollup, "count"), n);
		assert_int_equal(json_u64(rollup, "p99_ns"), gt_rank(all, n, 99));
		assert_int_equal(json_u64(rollup, "p50_ns"), gt_rank(all, n, 50));
		free(all);
	}
	json_object_put(root);
	gt_free(&gt);
	proc_result_free(&r);
}

static void test_million_events_no_drops(void **state)
{
	const char *gtf = tmp_file("gt1m.tsv"), *out = tmp_file("1m.json");
	char *argv[] = { (char *)PERFBPF, "run", "-q", "-j", (char *)out, "--",
			 (char *)bpath("backtest"), "--bars", "250000", "--ground-truth",
			 (char *)gtf, "--quiet", NULL };
	struct proc_result r;
	struct ground_truth gt;
	struct json_object *root, *losses;

	(void)state;
	run_proc(argv, 600, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(gt_load(gtf, &gt), 0);
	assert_true(gt.total >= 1000000);
	root = load_json(out);
	assert_int_equal(json_u64(root, "dropped"), 0);
	losses = json_get(root, "losses");
	json_object_object_foreach(losses, key, val) {
		if (json_object_get_uint64(val))
			fail_msg("loss counter %s = %llu", key,
				 (unsigned long long)json_object_get_uint64(val));
	}
	assert_int_equal(json_u64(root, "events"), gt.total + gt.spans);
	check_against_truth(root, &gt);
	json_object_put(root);
	gt_free(&gt);
	proc_result_free(&r);
}

static void test_pie_and_shared_library(void **state)
{
	const char *out = tmp_file("lib.json");
	char *argv[] = { (char *)PERFBPF, "run", "-q", "-j", (char *)out, "--",
			 (char *)bpath("tests/probe_target"), "basic", "1000", NULL };
	char *readelf[] = { "readelf", "-h", (char *)bpath("tests/probe_target"), NULL };
	struct proc_result r, re;
	struct json_object *root, *row;

	(void)state;
	run_proc(readelf, 30, &re);
	assert_non_null(strstr(re.out, "DYN (Position-Independent Executable file)"));
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	root = load_json(out);
	assert_int_equal(json_u64(json_get(root, "probes"), "binaries"), 2);
	row = find_row(root, "metrics", "op", "exe.op", "EVEN", "exe");
	assert_non_null(row);
	assert_int_equal(json_u64(row, "count"), 500);
	assert_int_equal(json_u64(row, "min_ns"), 0);
	assert_int_equal(json_u64(row, "max_ns"), 998);
	row = find_row(root, "metrics", "op", "lib.op", "LIBSYM", "lib");
	assert_non_null(row);
	assert_int_equal(json_u64(row, "count"), 1000);
	assert_int_equal(json_u64(row, "min_ns"), 1000);
	assert_int_equal(json_u64(row, "max_ns"), 1999);
	assert_int_equal(json_u64(row, "p50_ns"), 1499);
	assert_int_equal(json_u64(row, "p95_ns"), 1949);
	assert_int_equal(json_u64(row, "p99_ns"), 1989);
	assert_int_equal(json_u64(row, "total_ns"), 1000 * 1000 + 999 * 1000 / 2);
	assert_int_equal(json_u64(find_row(root, "metrics", "span", "lib.span", "LIBSYM", "lib"),
				  "count"), 1000);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "span", "inner", NULL, NULL),
				  "count"), 2000);
	json_object_put(root);
	proc_result_free(&r);
	proc_result_free(&re);
}

struct span_rec {
	uint64_t id, parent, trace, tid, start, end;
	char metric[32];
};

static void test_span_nesting_and_parents(void **state)
{
	const char *ev = tmp_file("events.jsonl");
	char *argv[] = { (char *)PERFBPF, "run", "-q", "-e", (char *)ev, "--",
			 (char *)bpath("tests/probe_target"), "basic", "200", NULL };
	struct proc_result r;
	struct span_rec *sp = calloc(4000, sizeof(*sp));
	size_t n = 0, checked = 0;
	char line[1024];
	FILE *f;

	(void)state;
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	f = fopen(ev, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *o = json_tokener_parse(line);

		assert_non_null(o);
		if (!strcmp(json_str(o, "kind"), "span")) {
			assert_true(n < 4000);
			sp[n].id = json_u64(o, "span_id");
			sp[n].parent = json_u64(o, "parent_id");
			sp[n].trace = json_u64(o, "trace_id");
			sp[n].tid = json_u64(o, "tid");
			sp[n].start = json_u64(o, "start_mono_ns");
			sp[n].end = json_u64(o, "end_mono_ns");
			snprintf(sp[n].metric, sizeof(sp[n].metric), "%s", json_str(o, "metric"));
			n++;
		}
		json_object_put(o);
	}
	fclose(f);
	/* 200 x (outer, middle, inner) x 2 threads + 200 lib.span */
	assert_int_equal(n, 1400);
	for (size_t i = 0; i < n; i++) {
		const char *want = !strcmp(sp[i].metric, "inner")    ? "middle"
				   : !strcmp(sp[i].metric, "middle") ? "outer"
								     : NULL;

		if (!want) {
			assert_int_equal(sp[i].parent, 0);
			assert_int_equal(sp[i].trace, sp[i].id);
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			if (sp[j].id != sp[i].parent)
				continue;
			assert_string_equal(sp[j].metric, want);
			assert_int_equal(sp[j].tid, sp[i].tid);
			assert_int_equal(sp[j].trace, sp[i].trace);
			assert_true(sp[j].start <= sp[i].start && sp[i].end <= sp[j].end);
			checked++;
		}
	}
	assert_int_equal(checked, 800);
	free(sp);
	proc_result_free(&r);
}

static void test_span_bookkeeping_faults(void **state)
{
	const char *out = tmp_file("errors.json");
	char *argv[] = { (char *)PERFBPF, "run", "-q", "-j", (char *)out, "--",
			 (char *)bpath("tests/probe_target"), "--exit", "7", "errors", NULL };
	struct proc_result r;
	struct json_object *root, *losses, *row;
	char x63[64], y63[64];

	(void)state;
	run_proc(argv, 60, &r);
	assert_int_equal(r.status, 7); /* run exits with the command's status */
	root = load_json(out);
	losses = json_get(root, "losses");
	assert_int_equal(json_u64(losses, "span_unmatched_end"), 1);
	assert_int_equal(json_u64(losses, "span_mismatch"), 2);
	assert_int_equal(json_u64(losses, "span_abandoned"), 1);
	assert_int_equal(json_u64(losses, "span_depth_overflow"), 4);
	assert_int_equal(json_u64(losses, "string_fault"), 1);
	assert_int_equal(json_u64(losses, "string_truncated"), 1);
	assert_int_equal(json_u64(root, "dropped"), 4);
	/* recorded: a, c, 16 x deep, 3 ops */
	assert_int_equal(json_u64(root, "events"), 21);
	assert_int_equal(json_u64(find_row(root, "metrics", "span", "deep", "", ""), "count"), 16);
	assert_int_equal(json_u64(find_row(root, "metrics", "span", "c", "", ""), "count"), 1);
	assert_null(find_row(root, "metrics", "span", "b", NULL, NULL));
	memset(x63, 'x', 63);
	x63[63] = '\0';
	memset(y63, 'y', 63);
	y63[63] = '\0';
	row = find_row(root, "metrics", "op", x63, "", "s");
	assert_non_null(row);
	assert_true(json_object_get_boolean(json_get(row, "truncated_names")));
	row = find_row(root, "metrics", "op", y63, "", "");
	assert_non_null(row);
	assert_false(json_object_get_boolean(json_get(row, "truncated_names")));
	assert_non_null(find_row(root, "metrics", "op", "bad.ptr", "", "s"));
	json_object_put(root);
	proc_result_free(&r);
}

static void test_attach_until_duration(void **state)
{
	const char *out = tmp_file("attach.json");
	char *target[] = { (char *)bpath("backtest"), "--forever", "--tick-sleep-us", "50",
			   "--bars", "2000", "--quiet", NULL };
	char pidbuf[16];
	char *argv[] = { (char *)PERFBPF, "attach", pidbuf, "--duration", "1500ms", "-q", "-j",
			 (char *)out, NULL };
	struct proc_result r;
	struct json_object *root;
	int fd, st;
	pid_t pid = spawn_bg(target, &fd);

	(void)state;
	usleep(200000);
	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	run_proc(argv, 60, &r);
	assert_int_equal(r.status, 0);
	root = load_json(out);
	assert_string_equal(json_str(root, "stop_reason"), "the duration elapsed");
	assert_true(json_u64(root, "events") > 1000);
	assert_int_equal(json_u64(root, "dropped"), 0);
	assert_non_null(find_row(root, "metric_rollups", "op", "strategy.tick", NULL, NULL));
	/* the target runs on after perfbpf detaches */
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	close(fd);
	json_object_put(root);
	proc_result_free(&r);
}

static void test_attach_target_exits(void **state)
{
	const char *out = tmp_file("exits.json");
	char *target[] = { (char *)bpath("tests/probe_target"), "--wait-attach", "--linger", "300",
			   "basic", "300", NULL };
	char line[64], pidbuf[16];
	char *argv[] = { (char *)PERFBPF, "attach", pidbuf, "-q", "-j", (char *)out, NULL };
	struct proc_result r;
	struct json_object *root;
	int fd, st;
	pid_t pid = spawn_bg(target, &fd);

	(void)state;
	assert_int_equal(read_line(fd, line, sizeof(line), 10000), 0);
	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	run_proc(argv, 60, &r);
	assert_int_equal(r.status, 0);
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	root = load_json(out);
	assert_string_equal(json_str(root, "stop_reason"), "the target exited");
	/* the target waited for every probe, so nothing was missed */
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "op", "exe.op", NULL, NULL),
				  "count"), 300);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "op", "lib.op", NULL, NULL),
				  "count"), 300);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "span", "outer", NULL, NULL),
				  "count"), 600);
	close(fd);
	json_object_put(root);
	proc_result_free(&r);
}

/* A target whose files exist only in its own mount namespace: a private bind mount that the
 * host cannot see (maps then names the files relative to that mount). */
static void test_mount_namespace_target(void **state)
{
	const char *out = tmp_file("ns.json");
	char src[256], dst[] = "/tmp/perfbpf-ns-XXXXXX", script[2048], line[64], pidbuf[16];
	char cmd[2048];
	char *target[] = { "unshare", "-m", "--propagation", "private", "sh", "-c", script, NULL };
	char *argv[] = { (char *)PERFBPF, "attach", pidbuf, "-q", "-j", (char *)out, NULL };
	struct proc_result r;
	struct json_object *root;
	int fd, st;
	pid_t pid;

	(void)state;
	snprintf(src, sizeof(src), "%s", tmp_file("nsfiles"));
	assert_non_null(mkdtemp(dst));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s %s %s/", src, bpath("tests/probe_target"),
		 bpath("tests/libprobelib.so"), src);
	assert_int_equal(system(cmd), 0);
	snprintf(script, sizeof(script),
		 "mount --bind %s %s && exec %s/probe_target --wait-attach --linger 300 basic 150",
		 src, dst, dst);
	pid = spawn_bg(target, &fd);
	assert_int_equal(read_line(fd, line, sizeof(line), 10000), 0);
	/* the path the target runs from does not exist for perfbpf */
	assert_int_equal(rmdir(dst), 0);
	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	run_proc(argv, 60, &r);
	assert_int_equal(r.status, 0);
	waitpid(pid, &st, 0);
	root = load_json(out);
	assert_int_equal(json_u64(json_get(root, "probes"), "binaries"), 2);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "op", "exe.op", NULL, NULL),
				  "count"), 150);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "op", "lib.op", NULL, NULL),
				  "count"), 150);
	json_object_put(root);
	proc_result_free(&r);
	close(fd);
}

/* SIGINT and SIGTERM to perfbpf stop tracing and still write the full report. */
static void test_signals_flush_report(void **state)
{
	const int sigs[] = { SIGINT, SIGTERM };
	const char *reasons[] = { "interrupted (SIGINT)", "terminated by a signal" };

	(void)state;
	for (int i = 0; i < 2; i++) {
		const char *out = tmp_file(i ? "sigterm.json" : "sigint.json");
		char *target[] = { (char *)bpath("backtest"), "--forever", "--tick-sleep-us", "50",
				   "--bars", "2000", "--quiet", NULL };
		char pidbuf[16];
		char *tracer[] = { (char *)PERFBPF, "attach", pidbuf, "-q", "-j", (char *)out, NULL };
		int fd, fd2, st;
		pid_t pid = spawn_bg(target, &fd), tp;
		struct json_object *root;

		usleep(200000);
		snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
		tp = spawn_bg(tracer, &fd2);
		usleep(1500000);
		kill(tp, sigs[i]);
		assert_int_equal(waitpid(tp, &st, 0), tp);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		root = load_json(out);
		assert_string_equal(json_str(root, "stop_reason"), reasons[i]);
		assert_true(json_u64(root, "events") > 0);
		json_object_put(root);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		close(fd);
		close(fd2);
	}
}

/* Load address of `path` in process pid (its mapping at file offset 0), or 0. */
static uint64_t load_base(int pid, const char *path, bool *trampoline)
{
	char maps[64], line[512], real[256];
	uint64_t base = 0;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	assert_non_null(realpath(path, real));
	f = fopen(maps, "r");
	assert_non_null(f);
	*trampoline = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, off;

		if (strstr(line, "[uprobes-trampoline]"))
			*trampoline = true;
		if (!base && strstr(line, real) && sscanf(line, "%llx-%*x %*s %llx", &lo, &off) == 2 &&
		    off == 0)
			base = lo;
	}
	fclose(f);
	return base;
}

/* The 19 bytes at an engine's first perfbpf:<probe> site, read from its memory. */
static void read_probe(int pid, const char *path, const char *probe,
		       unsigned char code[PROBE_SITE_LEN], bool *trampoline)
{
	struct sdt_notes notes;
	char mem[64];
	uint64_t pc = 0;
	int fd;

	assert_int_equal(sdt__read_file(path, &notes), 0);
	for (size_t i = 0; i < notes.n && !pc; i++)
		if (!strcmp(notes.v[i].provider, "perfbpf") && !strcmp(notes.v[i].name, probe))
			pc = notes.v[i].pc;
	sdt__free(&notes);
	assert_true(pc != 0);
	snprintf(mem, sizeof(mem), "/proc/%d/mem", pid);
	fd = open(mem, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, code, PROBE_SITE_LEN,
			       (off_t)(load_base(pid, path, trampoline) + pc)),
			 PROBE_SITE_LEN);
	close(fd);
}

static void read_site(int pid, const char *path, unsigned char code[PROBE_SITE_LEN],
		      bool *trampoline)
{
	read_probe(pid, path, "op", code, trampoline);
}

/* By default perfbpf attaches at the 1-byte nop of probe.h's site (an int3 there, never a call
 * into the trampoline, which a forked child would not have: test_faults.c test_fork_same_site).
 * With PERFBPF_OPTIMIZED_SITES=1 it attaches at the 5-byte nop, which this kernel turns into a
 * call into [uprobes-trampoline] (no int3 trap), the 1-byte nop other tools probe untouched.
 * Detaching restores the original bytes. */
static void test_optimized_probe_site(void **state)
{
	const char *engine = bpath("backtest"), *out = tmp_file("site.json");
	char *target[] = { (char *)engine, "--forever", "--tick-sleep-us", "50", "--bars", "2000",
			   "--quiet", NULL };
	char pidbuf[16];
	char *argv[] = { (char *)PERFBPF, "attach", pidbuf, "--duration", "1500ms", "-q",
			 "--no-attribution", "--per-event-probes", "-j", (char *)out, NULL };
	unsigned char code[PROBE_SITE_LEN];
	bool optimizes = syscall(336) < 0 && errno == ENXIO, trampoline;
	pid_t pid, tracer;
	int fd, tfd, st;

	(void)state;
	pid = spawn_bg(target, &fd);
	usleep(200000);
	read_site(pid, engine, code, &trampoline);
	assert_memory_equal(code, probe_site_bytes, PROBE_SITE_LEN);
	assert_false(trampoline);
	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	tracer = spawn_bg(argv, &tfd);
	usleep(1000000); /* attached, and the engine has fired its op sites many times */
	read_site(pid, engine, code, &trampoline);
	assert_int_equal(code[0], 0xcc); /* the default: a trap at the 1-byte nop */
	assert_false(trampoline);
	assert_memory_equal(code + 1, probe_site_bytes + 1, PROBE_SITE_LEN - 1);
	assert_int_equal(waitpid(tracer, &st, 0), tracer);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(tfd);
	read_site(pid, engine, code, &trampoline);
	assert_memory_equal(code, probe_site_bytes, PROBE_SITE_LEN);

	setenv("PERFBPF_OPTIMIZED_SITES", "1", 1);
	tracer = spawn_bg(argv, &tfd);
	unsetenv("PERFBPF_OPTIMIZED_SITES");
	usleep(1000000);
	read_site(pid, engine, code, &trampoline);
	assert_int_equal(code[0], 0x90); /* no int3 where SDT tools probe */
	if (optimizes) {
		assert_true(trampoline);
		assert_int_equal(code[PROBE_SITE_NOP5_AT], 0xe8); /* call into the trampoline */
	} else {
		print_message("kernel without uprobe optimization: the site stays a trap\n");
	}
	assert_int_equal(waitpid(tracer, &st, 0), tracer);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(tfd);
	read_site(pid, engine, code, &trampoline);
	assert_memory_equal(code, probe_site_bytes, PROBE_SITE_LEN);
	/* ABI v3 (the default): the flush site is a 1-byte nop, trapped (int3) and never rewritten
	 * into a call to the trampoline, which a forked child would not have */
	read_probe(pid, engine, "flush", code, &trampoline);
	assert_int_equal(code[0], 0x90);
	argv[7] = "-q"; /* not --per-event-probes */
	tracer = spawn_bg(argv, &tfd);
	usleep(1000000);
	read_probe(pid, engine, "flush", code, &trampoline);
	assert_int_equal(code[0], 0xcc);
	assert_int_equal(waitpid(tracer, &st, 0), tracer);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(tfd);
	read_probe(pid, engine, "flush", code, &trampoline);
	assert_int_equal(code[0], 0x90);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	close(fd);
}

/* Two threads firing as fast as they can into a 64 KiB ring: events are dropped, and every one
 * is counted, per CPU, in the JSON and the report: fired = counted + dropped. Memory stays
 * bounded: with a 1 MiB sample budget (the events counted need several) the largest key goes
 * to a histogram, and perfbpf's peak RSS stays far below what keeping every sample would take
 * at the default budget. */
/* perfbpf's peak RSS under overload: 64 MiB, or 512 MiB when this build (perfbpf and this test
 * alike) runs under AddressSanitizer, whose shadow memory and quarantine of freed blocks add
 * ~150 MiB here. */
#ifdef __SANITIZE_ADDRESS__
#define PEAK_RSS_BOUND (512ull << 20)
#else
#define PEAK_RSS_BOUND (64ull << 20)
#endif

/* Every page of the ring is written once before a probe is armed (a new ring's first lap cost
 * the engine 3x on a VM), and the records that did it reach no statistic: the engine's events
 * are counted exactly, none malformed or dropped. */
static void test_ring_written_ahead(void **state)
{
	const char *out = tmp_file("ahead.json");
	char *argv[] = { (char *)PERFBPF, "run", "-v", "--no-attribution", "--ring-size", "4M",
			 "-j", (char *)out, "--", (char *)bpath("probe_loop"), "--events", "20000",
			 "--wait-attach", "20", NULL };
	struct json_object *root, *losses;
	struct proc_result r;

	(void)state;
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "ring buffer: 1024 of its 1024 pages written ahead"));
	root = load_json(out);
	/* 20,000 ops named with literals, 20,000 with heap names, 20,000 span pairs: 80,000
	 * records, 1.9 MB, all in the ring at once if the consumer is slow to start */
	assert_int_equal(json_u64(root, "events"), 60000);
	assert_int_equal(json_u64(root, "dropped"), 0);
	losses = json_get(root, "losses");
	json_object_object_foreach(losses, reason, n) {
		if (json_object_get_uint64(n))
			fail_msg("loss %s: %llu", reason, (unsigned long long)json_object_get_uint64(n));
	}
	json_object_put(root);
	proc_result_free(&r);
}

static void test_overload_drops_counted_per_cpu(void **state)
{
	const char *out = tmp_file("overload.json"), *line;
	char *argv[] = { (char *)PERFBPF, "run", "-q", "--no-attribution", "--ring-size", "64K",
			 "--sample-budget", "1M", "-j", (char *)out, "-m", "-", "--",
			 (char *)bpath("probe_loop"),
			 "--rate", "0", "--threads", "2", "--seconds", "1", NULL };
	struct json_object *root, *per_cpu;
	struct proc_result r;
	unsigned long long fired = 0;
	uint64_t sum = 0;

	(void)state;
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	/* the engine's own count: its line "events N seconds S", beside the report on stdout */
	line = strncmp(r.out, "events ", 7) ? strstr(r.out, "\nevents ") : r.out - 1;
	assert_non_null(line);
	assert_int_equal(sscanf(line + 1, "events %llu", &fired), 1);
	root = load_json(out);
	assert_true(json_u64(root, "dropped") > 0);
	assert_int_equal(json_u64(root, "events") + json_u64(root, "dropped"), fired);
	assert_int_equal(json_u64(json_get(root, "losses"), "ringbuf_full"),
			 json_u64(root, "dropped"));
	per_cpu = json_get(root, "dropped_per_cpu");
	assert_true(json_object_array_length(per_cpu) >= 1); /* the kernel's possible CPUs */
	for (size_t i = 0; i < json_object_array_length(per_cpu); i++)
		sum += json_object_get_uint64(json_object_array_get_idx(per_cpu, i));
	assert_int_equal(sum, json_u64(root, "dropped"));
	assert_non_null(strstr(r.out, "- Dropped by CPU: cpu0 "));
	assert_non_null(strstr(r.out, "lost because the ring buffer was full"));
	assert_true(json_u64(root, "events") * 8 > 1024 * 1024);
	assert_true(json_object_get_boolean(json_get(json_object_array_get_idx(
		json_get(root, "metrics"), 0), "approximate")));
	print_message("perfbpf peak RSS %.1f MiB, %.2f s CPU, %llu events counted\n",
		      (double)json_u64(root, "perfbpf_peak_rss_bytes") / 1048576,
		      json_object_get_double(json_get(root, "perfbpf_cpu_seconds")),
		      (unsigned long long)json_u64(root, "events"));
	assert_true(json_u64(root, "perfbpf_peak_rss_bytes") > 0);
	assert_true(json_u64(root, "perfbpf_peak_rss_bytes") < PEAK_RSS_BOUND);
	assert_non_null(strstr(r.out, "- perfbpf itself used "));
	json_object_put(root);
	proc_result_free(&r);
}

/* The consumer's line in -v output: how often the watcher returned it to normal priority. */
static void yield_counts(const char *err, unsigned long long *full, unsigned long long *late)
{
	const char *line = strstr(err, "consumer: raised ");

	assert_non_null(line);
	assert_int_equal(sscanf(line, "consumer: raised %llu times (ring half full), %llu (late)",
				full, late), 2);
}

/* Every CPU busy with the engine (threads spinning between their ops) and a ring small enough
 * to fill: the consumer, at idle priority, is starved until the watcher returns it to normal
 * priority at half the ring, again and again, and not one event is lost. */
static void test_consumer_yields_without_loss(void **state)
{
	const char *out = tmp_file("yield.json"), *line;
	char ncpu[16];
	char *argv[] = { (char *)PERFBPF, "run", "-v", "--no-attribution", "--ring-size", "4M",
			 "-j", (char *)out, "--", (char *)bpath("probe_loop"), "--rate", "1000000",
			 "--threads", ncpu, "--seconds", "2", "--pace", "spin", "--wait-attach", "20",
			 NULL };
	struct json_object *root;
	struct proc_result r;
	unsigned long long fired = 0, full, late;

	(void)state;
	snprintf(ncpu, sizeof(ncpu), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	line = strncmp(r.out, "events ", 7) ? strstr(r.out, "\nevents ") : r.out - 1;
	assert_non_null(line);
	assert_int_equal(sscanf(line + 1, "events %llu", &fired), 1);
	yield_counts(r.err, &full, &late);
	print_message("%llu events; consumer raised %llu times at half the ring, %llu late\n",
		      fired, full, late);
	assert_true(full >= 1);
	root = load_json(out);
	assert_int_equal(json_u64(root, "dropped"), 0);
	assert_int_equal(json_u64(root, "events"), fired);
	json_object_put(root);
	proc_result_free(&r);
}

/* The same busy engine, 3 s long, with --duration 300ms and room in the ring: the starved
 * consumer is returned to normal priority when its stop is due, and tracing stops then, not
 * when the engine lets a CPU go. --no-yield: the consumer never yields (no watcher line). */
static void test_consumer_yield_keeps_duty_times(void **state)
{
	const char *out = tmp_file("yield-duration.json");
	char ncpu[16];
	char *argv[] = { (char *)PERFBPF, "run", "-v", "--no-attribution", "-d", "300ms",
			 "-j", (char *)out, "--", (char *)bpath("probe_loop"), "--rate", "100000",
			 "--threads", ncpu, "--seconds", "3", "--pace", "spin", "--wait-attach", "20",
			 NULL };
	char *plain[] = { (char *)PERFBPF, "run", "-v", "--no-yield", "--", (char *)bpath("probe_loop"),
			  "--events", "1000", NULL };
	struct json_object *root;
	struct proc_result r;
	unsigned long long full, late;

	(void)state;
	snprintf(ncpu, sizeof(ncpu), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	yield_counts(r.err, &full, &late);
	root = load_json(out);
	print_message("traced for %.3f s; consumer raised %llu times late\n",
		      (double)json_u64(root, "trace_ns") / 1e9, late);
	assert_string_equal(json_str(root, "stop_reason"), "the duration elapsed");
	assert_true(json_u64(root, "trace_ns") >= 300000000ull);
	assert_true(json_u64(root, "trace_ns") < 800000000ull);
	assert_true(json_u64(root, "events") > 0);
	json_object_put(root);
	proc_result_free(&r);

	run_proc(plain, 120, &r);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.err, "consumer: raised"));
	proc_result_free(&r);
}

static void test_demo_markdown_report(void **state)
{
	char *argv[] = { (char *)PERFBPF, "run", "--", (char *)bpath("backtest"), "--bars", "5000",
			 "--quiet", NULL };
	struct proc_result r;
	const char *td, *first;

	(void)state;
	run_proc(argv, 120, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "# perfbpf performance report"));
	td = strstr(r.out, "## Time distribution");
	assert_non_null(td);
	/* bottleneck first: the enclosing run span has the largest total */
	first = strstr(td, "- **");
	assert_non_null(first);
	assert_int_equal(strncmp(first, "- **backtest.run** (span)", 25), 0);
	assert_non_null(strstr(r.out, "| strategy.tick | op |"));
	assert_non_null(strstr(r.out, "Every event that reached a probe is in the statistics"));
	proc_result_free(&r);
}

/* The demo's --clock-only (the benchmarks' floor for timing the ops): the same backtest, its
 * spans traced and none of its ops recorded. */
static void test_demo_clock_only(void **state)
{
	const char *out = tmp_file("clock-only.json");
	char *traced[] = { (char *)PERFBPF, "run", "-q", "-j", (char *)out, "--",
			   (char *)bpath("backtest"), "--bars", "5000", "--clock-only", NULL };
	char *plain[] = { (char *)bpath("backtest"), "--bars", "5000", NULL };
	struct proc_result r, p;
	struct json_object *root;

	(void)state;
	run_proc(traced, 120, &r);
	assert_int_equal(r.status, 0);
	run_proc(plain, 120, &p);
	assert_int_equal(p.status, 0);
	assert_non_null(strstr(p.out, "pnl"));
	assert_string_equal(r.out, p.out); /* the backtest's results */
	root = load_json(out);
	assert_null(find_row(root, "metric_rollups", "op", "strategy.tick", NULL, NULL));
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "span", "backtest.run", NULL,
					   NULL), "count"), 1);
	json_object_put(root);
	proc_result_free(&r);
	proc_result_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_matches_ground_truth),
		cmocka_unit_test(test_demo_clock_only),
		cmocka_unit_test(test_million_events_no_drops),
		cmocka_unit_test(test_pie_and_shared_library),
		cmocka_unit_test(test_span_nesting_and_parents),
		cmocka_unit_test(test_span_bookkeeping_faults),
		cmocka_unit_test(test_attach_until_duration),
		cmocka_unit_test(test_attach_target_exits),
		cmocka_unit_test(test_mount_namespace_target),
		cmocka_unit_test(test_signals_flush_report),
		cmocka_unit_test(test_demo_markdown_report),
		cmocka_unit_test(test_optimized_probe_site),
		cmocka_unit_test(test_overload_drops_counted_per_cpu),
		cmocka_unit_test(test_ring_written_ahead),
		cmocka_unit_test(test_consumer_yields_without_loss),
		cmocka_unit_test(test_consumer_yield_keeps_duty_times),
	};

	return run_privileged_group("integration: core pipeline", tests);
}
