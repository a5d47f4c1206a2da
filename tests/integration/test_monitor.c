// SPDX-License-Identifier: BSD-2-Clause
/* Privileged integration tests of `perfbpf monitor`: in-kernel histograms checked against the
 * demo engine's ground truth through a real Prometheus server, promtool and the OpenMetrics
 * parser; engine restarts under --binary; per-process series; --pid with reports; bad input;
 * names whose key hash collides. */
#include "bpf/names_hash.h"
#include "harness.h"

#include <math.h>
#include <stdbool.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PERFBPF bpath("perfbpf")
/* Prometheus interpolates within one bucket: 1/64 of the value (see bpf/kernel_hist.h). */
#define PROM_REL_ERROR (1.0 / 64)        /* native histograms: the layout's bound */
#define PROM_CLASSIC_REL_ERROR 0.5       /* classic: bounds at 2^e and 1.5 * 2^e */
#define REPORT_REL_ERROR (1.0 / 128)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* GET url with curl; the body, or NULL when it failed. Caller frees. */
static char *http_get(const char *url)
{
	char *argv[] = { "curl", "-sf", "--max-time", "10", (char *)url, NULL };
	struct proc_result r;

	run_proc(argv, 15, &r);
	free(r.err);
	if (r.status != 0) {
		free(r.out);
		return NULL;
	}
	return r.out;
}

static char *scrape(int port)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
	return http_get(url);
}

/* Value of the first sample line starting with `prefix` (name and labels), or -1. */
static double sample(const char *body, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = body; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, prefix, n) && (l[n] == ' ' || l[n] == '{'))
			return atof(strchr(l + n, ' ') + 1);
	return -1;
}

/* Starts perfbpf monitor with extra arguments; waits until it serves (or, without a port, a
 * moment for the attach). */
static pid_t start_monitor(int port, char **extra)
{
	char listen[32], *argv[32];
	int n = 0, fd;
	pid_t pid;

	argv[n++] = (char *)PERFBPF;
	argv[n++] = "monitor";
	argv[n++] = "-q";
	if (port) {
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
		argv[n++] = "--listen";
		argv[n++] = listen;
	} else {
		argv[n++] = "--no-listen";
	}
	while (*extra)
		argv[n++] = *extra++;
	argv[n] = NULL;
	pid = track_bg(spawn_bg(argv, &fd));
	close(fd);
	for (uint64_t end = now_ms() + 10000; now_ms() < end;) {
		char *b = port ? scrape(port) : NULL;

		if (b) {
			free(b);
			return pid;
		}
		if (!port) {
			usleep(500000);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			fail_msg("perfbpf monitor exited at start");
		usleep(100000);
	}
	fail_msg("perfbpf monitor did not serve /metrics within 10 s");
	return -1;
}

static int stop(pid_t pid, int sig)
{
	int st;

	kill(pid, sig);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	untrack_bg(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void run_ok(char **argv, int timeout_s)
{
	struct proc_result r;

	run_proc(argv, timeout_s, &r);
	if (r.status != 0)
		fail_msg("%s exited %d: %s", argv[0], r.status, r.err);
	proc_result_free(&r);
}

/* Waits until the scraped value of `prefix` equals want; returns the body (caller frees). */
static char *wait_value(int port, const char *prefix, double want, int timeout_ms)
{
	char *b = NULL;
	double v = -2;

	for (uint64_t end = now_ms() + (uint64_t)timeout_ms; now_ms() < end; usleep(100000)) {
		free(b);
		b = scrape(port);
		assert_non_null(b);
		v = sample(b, prefix);
		if (v == want)
			return b;
	}
	fail_msg("%s is %.0f, expected %.0f", prefix, v, want);
	return b;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every duration of `metric` in the ground truth, sorted (caller frees). */
static uint64_t *metric_truth(const struct ground_truth *gt, const char *metric, size_t *n)
{
	size_t k = 0, cap = 0;
	uint64_t *all;

	for (size_t i = 0; i < gt->nkeys; i++)
		if (!strcmp(gt->keys[i].metric, metric))
			cap += gt->keys[i].n;
	all = malloc((cap ? cap : 1) * sizeof(*all));
	for (size_t i = 0; i < gt->nkeys; i++)
		if (!strcmp(gt->keys[i].metric, metric)) {
			memcpy(all + k, gt->keys[i].d, gt->keys[i].n * sizeof(*all));
			k += gt->keys[i].n;
		}
	qsort(all, k, sizeof(*all), cmp_u64);
	*n = k;
	return all;
}

/* One instant query through Prometheus's HTTP API; the scalar result or NAN. */
static double prom_query(int port, const char *expr)
{
	char url[1024], enc[768];
	size_t j = 0;
	struct json_object *root, *res;
	double v = NAN;
	char *body;

	for (const char *p = expr; *p && j + 4 < sizeof(enc); p++) {
		if (strchr("{}\"(), =+", *p))
			j += (size_t)snprintf(enc + j, sizeof(enc) - j, "%%%02X", (unsigned char)*p);
		else
			enc[j++] = *p;
	}
	enc[j] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/query?query=%s", port, enc);
	body = http_get(url);
	if (!body)
		return NAN;
	root = json_tokener_parse(body);
	res = root ? json_get(json_get(root, "data"), "result") : NULL;
	if (res && json_object_array_length(res) == 1) {
		struct json_object *val = json_get(json_object_array_get_idx(res, 0), "value");

		v = atof(json_object_get_string(json_object_array_get_idx(val, 1)));
	}
	json_object_put(root);
	free(body);
	return v;
}

/* A Prometheus server scraping target_port every second; with native, native histograms on
 * (it then asks for the protobuf exposition). */
static pid_t start_prometheus(int port, int target_port, bool native)
{
	const char *cfg = tmp_file(native ? "prometheus-native.yml" : "prometheus.yml");
	const char *data = tmp_file(native ? "prometheus-native-data" : "prometheus-data");
	char cfg_arg[512], data_arg[512], listen_arg[64], url[64];
	char *argv[] = { "prometheus", cfg_arg, data_arg, listen_arg, "--log.level=error",
			 native ? "--enable-feature=native-histograms" : NULL, NULL };
	FILE *f = fopen(cfg, "w");
	int fd;
	pid_t pid;

	assert_non_null(f);
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		   "scrape_configs:\n  - job_name: perfbpf\n    static_configs:\n"
		   "      - targets: ['127.0.0.1:%d']\n", target_port);
	fclose(f);
	mkdir(data, 0700);
	snprintf(cfg_arg, sizeof(cfg_arg), "--config.file=%s", cfg);
	snprintf(data_arg, sizeof(data_arg), "--storage.tsdb.path=%s", data);
	snprintf(listen_arg, sizeof(listen_arg), "--web.listen-address=127.0.0.1:%d", port);
	pid = track_bg(spawn_bg(argv, &fd));
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/ready", port);
	for (uint64_t end = now_ms() + 30000; now_ms() < end; usleep(200000)) {
		char *b = http_get(url);

		if (b) {
			free(b);
			return pid;
		}
	}
	fail_msg("prometheus did not become ready within 30 s");
	return -1;
}

/* Waits until Prometheus has scraped the final event count. */
static void wait_scraped(int pport, double events)
{
	double v = NAN;

	for (uint64_t end = now_ms() + 30000; now_ms() < end; usleep(500000)) {
		v = prom_query(pport, "sum(perfbpf_events_total)");
		if (v == events)
			return;
	}
	fail_msg("Prometheus on port %d saw %.0f events, not %.0f", pport, v, events);
}

/* Every classic bound of `metric` in the text exposition: sum(..._bucket{le=...}) across its
 * series, through Prometheus, is exactly the number of true values at or below the bound. */
static void check_classic_sums(int pport, const char *body, const char *metric,
			       const uint64_t *all, size_t n)
{
	char pat[256], le[64], expr[512];
	size_t nle = 0;

	snprintf(pat, sizeof(pat), "perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"%s\",",
		 metric);
	for (const char *p = strstr(body, pat); p; p = strstr(p + 1, pat)) {
		const char *l = strstr(p, "le=\"");
		size_t len, below = 0;
		double got, bound;
		bool seen = false;

		assert_non_null(l);
		l += 4;
		len = (size_t)(strchr(l, '"') - l);
		assert_true(len < sizeof(le));
		memcpy(le, l, len);
		le[len] = '\0';
		if (!strcmp(le, "+Inf"))
			continue;
		/* each bound once (the first series of the metric lists them all) */
		for (const char *q = strstr(body, pat); q && q < p && !seen; q = strstr(q + 1, pat))
			seen = !strncmp(strstr(q, "le=\"") + 4, le, len) && strstr(q, "le=\"")[4 + len] == '"';
		if (seen)
			continue;
		bound = atof(le) * 1e9;
		while (below < n && (double)all[below] <= bound + 0.5)
			below++;
		snprintf(expr, sizeof(expr),
			 "sum(perfbpf_operation_duration_seconds_bucket{metric=\"%s\",le=\"%s\"})",
			 metric, le);
		got = prom_query(pport, expr);
		if (got != (double)below)
			fail_msg("%s le=%s: sum of buckets %.0f, truth %zu", metric, le, got, below);
		nle++;
	}
	assert_true(nle >= 2 && nle <= 24);
}

/* The demo engine under `monitor --binary`, scraped by two real Prometheus servers, one with
 * native histograms (protobuf exposition), one without (text, classic histograms): per metric,
 * histogram_quantile on the native histograms agrees with the engine's ground truth within the
 * layout's 1/64, on the classic ones within their 50%; sum by le of the classic buckets across
 * series is exact; promtool and the OpenMetrics parser accept the text exposition. */
static void test_prometheus_quantiles_match_truth(void **state)
{
	int mport = free_port(), pport = free_port(), nport = free_port();
	const char *gtf = tmp_file("prom-gt.tsv");
	char *extra[] = { "--binary", (char *)bpath("backtest"), NULL };
	char *engine[] = { (char *)bpath("backtest"), "--threads", "2", "--symbols",
			   "BTCUSDT,ETHUSDT,SOLUSDT", "--ground-truth", (char *)gtf, "--quiet", NULL };
	const char *metrics[] = { "strategy.tick", "strategy.getSignal", "risk.checkSignal",
				  "exchange.fill", "sizing.calculate" };
	struct ground_truth gt;
	pid_t mon, prom, nprom;
	char *body, expr[512];

	while (pport == mport)
		pport = free_port();
	while (nport == mport || nport == pport)
		nport = free_port();
	(void)state;
	mon = start_monitor(mport, extra);
	prom = start_prometheus(pport, mport, false);
	nprom = start_prometheus(nport, mport, true);
	run_ok(engine, 300);
	assert_int_equal(gt_load(gtf, &gt), 0);
	assert_true(gt.total > 100000);
	/* every op plus 6 phase spans per backtest */
	body = wait_value(mport, "perfbpf_events_total", (double)(gt.total + gt.spans), 5000);
	assert_int_equal(sample(body, "perfbpf_unknown_key_events_total"), 0);
	assert_non_null(strstr(body, "perfbpf_dropped_events_total{reason=\"span_no_stack\"} 0\n"));

	{ /* promtool's own linter, and the OpenMetrics parser on the histogram families */
		const char *file = tmp_file("metrics.txt");
		char cmd[1024];
		FILE *f = fopen(file, "w");

		assert_non_null(f);
		fputs(body, f);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", file);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/helpers/"
			 "openmetrics_check.py < %s", getenv("PERFBPF_SRC") ?: ".", file);
		assert_int_equal(system(cmd), 0);
	}

	wait_scraped(pport, (double)(gt.total + gt.spans));
	wait_scraped(nport, (double)(gt.total + gt.spans));
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		size_t n;
		uint64_t *all = metric_truth(&gt, metrics[i], &n);
		const double qs[] = { 0.5, 0.99 };

		assert_true(n > 1000);
		for (int q = 0; q < 2; q++) {
			double exact = (double)gt_rank(all, n, qs[q] * 100), est, cl;

			snprintf(expr, sizeof(expr), "histogram_quantile(%g, sum("
				 "perfbpf_operation_duration_seconds{kind=\"op\",metric=\"%s\"}))",
				 qs[q], metrics[i]);
			est = prom_query(nport, expr) * 1e9;
			snprintf(expr, sizeof(expr), "histogram_quantile(%g, sum by (le) "
				 "(perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"%s\"}))",
				 qs[q], metrics[i]);
			cl = prom_query(pport, expr) * 1e9;
			print_message("%-20s p%-2g truth %8.0f ns  native %10.1f ns (%+.2f%%)  "
				      "classic %10.1f ns (%+.1f%%)\n", metrics[i], qs[q] * 100, exact,
				      est, (est - exact) / exact * 100, cl, (cl - exact) / exact * 100);
			assert_true(fabs(est - exact) <= exact * PROM_REL_ERROR + 1);
			assert_true(fabs(cl - exact) <= exact * PROM_CLASSIC_REL_ERROR + 1);
		}
		check_classic_sums(pport, body, metrics[i], all, n);
		free(all);
	}
	free(body);
	gt_free(&gt);
	assert_int_equal(stop(nprom, SIGTERM), 0);
	assert_int_equal(stop(prom, SIGTERM), 0);
	assert_int_equal(stop(mon, SIGTERM), 0);
}

#define TICK_COUNT "perfbpf_operation_duration_seconds_count{kind=\"op\",metric=\"strategy.tick\"," \
	"symbol=\"BTCUSDT\",strategy=\"sma-5-20\"}"

/* --binary follows restarts: a second process (new pid) adds to the same series, and the
 * attached-processes gauge follows a long-running one. */
static void test_binary_restart_counts_continue(void **state)
{
	int port = free_port();
	const char *gt1 = tmp_file("r1.tsv"), *gt2 = tmp_file("r2.tsv");
	char *extra[] = { "--binary", (char *)bpath("backtest"), "--interval", "100ms", NULL };
	char *run1[] = { (char *)bpath("backtest"), "--bars", "5000", "--ground-truth",
			 (char *)gt1, "--quiet", NULL };
	char *run2[] = { (char *)bpath("backtest"), "--bars", "7000", "--ground-truth",
			 (char *)gt2, "--quiet", NULL };
	char *forever[] = { (char *)bpath("backtest"), "--forever", "--bars", "200",
			    "--tick-sleep-us", "100", "--quiet", NULL };
	struct ground_truth a, b;
	pid_t mon, eng;
	char *body;
	int fd;

	(void)state;
	mon = start_monitor(port, extra);
	body = wait_value(port, "perfbpf_attached_processes", 0, 3000);
	free(body);
	run_ok(run1, 120);
	assert_int_equal(gt_load(gt1, &a), 0);
	body = wait_value(port, "perfbpf_events_total", (double)(a.total + a.spans), 5000);
	assert_true(sample(body, TICK_COUNT) == 5000);
	free(body);
	run_ok(run2, 120);
	assert_int_equal(gt_load(gt2, &b), 0);
	body = wait_value(port, "perfbpf_events_total", (double)(a.total + b.total + a.spans + b.spans), 5000);
	assert_true(sample(body, TICK_COUNT) == 12000);
	free(body);
	/* a running process is counted, and uncounted once it has gone */
	eng = track_bg(spawn_bg(forever, &fd));
	close(fd);
	body = wait_value(port, "perfbpf_attached_processes", 1, 5000);
	free(body);
	stop(eng, SIGTERM);
	body = wait_value(port, "perfbpf_attached_processes", 0, 5000);
	assert_true(sample(body, "perfbpf_events_total") > (double)(a.total + b.total + a.spans + b.spans));
	free(body);
	gt_free(&a);
	gt_free(&b);
	assert_int_equal(stop(mon, SIGINT), 0);
}

/* --per-pid: one series per process; an exited process's series are dropped. */
static void test_per_pid_series(void **state)
{
	int port = free_port();
	char *extra[] = { "--binary", (char *)bpath("backtest"), "--per-pid", "--interval",
			  "100ms", NULL };
	char *forever[] = { (char *)bpath("backtest"), "--forever", "--bars", "200",
			    "--tick-sleep-us", "200", "--quiet", NULL };
	char prefix[2][160];
	pid_t mon, eng[2];
	char *body = NULL;
	int fd;

	(void)state;
	mon = start_monitor(port, extra);
	for (int i = 0; i < 2; i++) {
		eng[i] = track_bg(spawn_bg(forever, &fd));
		close(fd);
		snprintf(prefix[i], sizeof(prefix[i]), "perfbpf_operation_duration_seconds_count{"
			 "kind=\"op\",metric=\"strategy.tick\",symbol=\"BTCUSDT\",strategy=\"sma-5-20\","
			 "pid=\"%d\"}", eng[i]);
	}
	for (uint64_t end = now_ms() + 10000; now_ms() < end; usleep(200000)) {
		free(body);
		body = scrape(port);
		assert_non_null(body);
		if (sample(body, prefix[0]) > 0 && sample(body, prefix[1]) > 0)
			break;
	}
	assert_true(sample(body, prefix[0]) > 0 && sample(body, prefix[1]) > 0);
	free(body);
	stop(eng[0], SIGTERM);
	body = NULL;
	for (uint64_t end = now_ms() + 5000; now_ms() < end; usleep(200000)) {
		free(body);
		body = scrape(port);
		if (sample(body, prefix[0]) < 0)
			break;
	}
	assert_true(sample(body, prefix[0]) < 0);
	assert_true(sample(body, prefix[1]) > 0);
	free(body);
	stop(eng[1], SIGTERM);
	assert_int_equal(stop(mon, SIGTERM), 0);
}

/* --pid: the monitor ends with the process and its JSON summary agrees with the ground truth:
 * counts, totals, min and max exactly, percentiles within the histogram's midpoint error. */
static void test_pid_report_matches_truth(void **state)
{
	const char *gtf = tmp_file("pid-gt.tsv"), *out = tmp_file("pid.json");
	const char *md = tmp_file("pid.md");
	char *engine[] = { (char *)bpath("backtest"), "--wait-attach", "20", "--threads", "2",
			   "--ground-truth", (char *)gtf, "--quiet", NULL };
	char pidbuf[16];
	char *argv[] = { (char *)PERFBPF, "monitor", "-q", "--no-listen", "--pid", pidbuf, "-j",
			 (char *)out, "-m", (char *)md, NULL };
	struct proc_result r;
	struct ground_truth gt;
	struct json_object *root;
	pid_t eng;
	int fd, st;

	(void)state;
	eng = track_bg(spawn_bg(engine, &fd));
	close(fd);
	snprintf(pidbuf, sizeof(pidbuf), "%d", eng);
	run_proc(argv, 300, &r);
	assert_int_equal(waitpid(eng, &st, 0), eng);
	assert_int_equal(r.status, 0);
	assert_int_equal(gt_load(gtf, &gt), 0);
	root = load_json(out);
	assert_string_equal(json_str(root, "mode"), "kernel_histograms");
	assert_string_equal(json_str(root, "stop_reason"), "the target exited");
	assert_int_equal(json_u64(root, "events"), gt.total + gt.spans);
	assert_int_equal(json_u64(root, "dropped"), 0);
	for (size_t i = 0; i < gt.nkeys; i++) {
		const struct gt_key *k = &gt.keys[i];
		struct json_object *row = find_row(root, "metrics", "op", k->metric, k->symbol,
						   k->strategy);
		uint64_t sum = 0;
		const double ps[] = { 50, 95, 99 };
		const char *names[] = { "p50_ns", "p95_ns", "p99_ns" };

		assert_non_null(row);
		for (size_t j = 0; j < k->n; j++)
			sum += k->d[j];
		assert_int_equal(json_u64(row, "count"), k->n);
		assert_int_equal(json_u64(row, "total_ns"), sum);
		assert_int_equal(json_u64(row, "min_ns"), k->d[0]);
		assert_int_equal(json_u64(row, "max_ns"), k->d[k->n - 1]);
		for (int p = 0; p < 3; p++) {
			double exact = (double)gt_rank(k->d, k->n, ps[p]);
			double got = (double)json_u64(row, names[p]);

			assert_true(fabs(got - exact) <= exact * REPORT_REL_ERROR + 1);
		}
	}
	json_object_put(root);
	gt_free(&gt);
	proc_result_free(&r);
	{ /* the markdown report from the same histograms */
		struct stat sb;

		assert_int_equal(stat(md, &sb), 0);
		assert_true(sb.st_size > 1000);
	}
}

/* SIGUSR1 writes the reports while monitoring goes on. */
static void test_sigusr1_writes_report(void **state)
{
	const char *out = tmp_file("usr1.json");
	char *extra[] = { "--binary", (char *)bpath("backtest"), "-j", (char *)out, NULL };
	char *engine[] = { (char *)bpath("backtest"), "--bars", "3000", "--quiet", NULL };
	struct json_object *root;
	pid_t mon;

	(void)state;
	unlink(out);
	mon = start_monitor(0, extra);
	run_ok(engine, 60);
	kill(mon, SIGUSR1);
	for (uint64_t end = now_ms() + 5000; now_ms() < end && access(out, R_OK); usleep(50000))
		;
	root = load_json(out);
	assert_true(json_u64(root, "events") > 6000);
	assert_string_equal(json_str(root, "stop_reason"), "still monitoring (report on SIGUSR1)");
	json_object_put(root);
	assert_int_equal(waitpid(mon, NULL, WNOHANG), 0); /* still running */
	assert_int_equal(stop(mon, SIGTERM), 0);
}

static void expect_error(char **argv, int status, const char *msg)
{
	struct proc_result r;

	run_proc(argv, 30, &r);
	if (r.status != status || !strstr(r.err, msg) || count_lines(r.err) != 1)
		fail_msg("%s %s: status %d, stderr '%s' (wanted %d, '%s')", argv[2],
			 argv[3] ? argv[3] : "", r.status, r.err, status, msg);
	proc_result_free(&r);
}

static void test_bad_input(void **state)
{
	int port = free_port();
	char listen[32], notelf[] = "/etc/passwd", perfbpf[512], backtest[512], noprobe[512];
	char *extra[] = { "--binary", backtest, NULL };
	pid_t mon;

	(void)state;
	/* bpath's buffers rotate: keep copies */
	snprintf(perfbpf, sizeof(perfbpf), "%s", bpath("perfbpf"));
	snprintf(backtest, sizeof(backtest), "%s", bpath("backtest"));
	snprintf(noprobe, sizeof(noprobe), "%s", bpath("tests/noprobe_target"));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	expect_error((char *[]){ perfbpf, "monitor", NULL }, 2,
		     "nothing to monitor: give --binary PATH or --pid PID");
	expect_error((char *[]){ perfbpf, "monitor", "--binary", notelf, NULL }, 1,
		     "--binary /etc/passwd: not an ELF executable or shared library");
	expect_error((char *[]){ perfbpf, "monitor", "--binary", "/nonexistent", NULL }, 1,
		     "--binary /nonexistent: No such file or directory");
	expect_error((char *[]){ perfbpf, "monitor", "--binary",
				 noprobe, NULL }, 1,
		     "no perfbpf probes in it");
	expect_error((char *[]){ perfbpf, "monitor", "--binary", backtest,
				 "--listen", "example.com:80", NULL }, 2,
		     "invalid value 'example.com:80' for --listen");
	expect_error((char *[]){ perfbpf, "monitor", "--pid", "1", "--binary",
				 backtest, NULL }, 2,
		     "--pid and --binary cannot be combined");
	expect_error((char *[]){ perfbpf, "monitor", "--pid", "4194304", NULL }, 1,
		     "no such process");
	expect_error((char *[]){ perfbpf, "monitor", "--binary", backtest,
				 "--interval", "0", NULL }, 2, "invalid value '0' for --interval");
	/* the port is taken by another monitor */
	mon = start_monitor(port, extra);
	expect_error((char *[]){ perfbpf, "monitor", "--binary", backtest,
				 "--listen", listen, NULL }, 1, "cannot serve metrics on");
	assert_int_equal(stop(mon, SIGTERM), 0);
}

/* Drops in the kernel's aggregation (--per-event-probes) are counted by CPU too: the errors mode
 * nests spans 20 deep, 4 past the limit; perfbpf_dropped_events_by_cpu_total sums to
 * perfbpf_dropped_events_total. (By default the 4 are found by the decoder in userspace, where
 * they have no CPU: test_v3_span_overflow_counted.) perfbpf's own CPU and memory are served
 * too. */
static void test_drops_by_cpu(void **state)
{
	int port = free_port();
	char *extra[] = { "--binary", (char *)bpath("tests/probe_target"), "--interval", "100ms",
			  "--per-event-probes", NULL };
	char *engine[] = { (char *)bpath("tests/probe_target"), "errors", NULL };
	char *body, *l;
	double by_cpu = 0, total = 0;
	int lines = 0;
	pid_t mon;

	(void)state;
	mon = start_monitor(port, extra);
	run_ok(engine, 60);
	body = wait_value(port, "perfbpf_dropped_events_total{reason=\"span_depth_overflow\"}", 4,
			  5000);
	for (l = body; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, "perfbpf_dropped_events_by_cpu_total{cpu=\"", 41)) {
			by_cpu += atof(strchr(l, ' ') + 1);
			lines++;
		} else if (!strncmp(l, "perfbpf_dropped_events_total{", 29)) {
			total += atof(strchr(l, ' ') + 1);
		}
	}
	assert_true(lines >= (int)sysconf(_SC_NPROCESSORS_ONLN)); /* one per possible CPU */
	assert_true(total == 4);
	assert_true(by_cpu == total);
	/* perfbpf's own cost, under the names every Prometheus client library uses */
	assert_true(sample(body, "process_cpu_seconds_total") > 0);
	assert_true(sample(body, "process_resident_memory_bytes") > 1e6);
	free(body);
	assert_int_equal(stop(mon, SIGINT), 0);
}

/* Two op names with one names_hash, built by solving lane 0 (words 0, 4, 8, 12, 16): the
 * metrics differ in word 0 and b's strategy bytes 32..39 (word 16) undo the difference. */
static void colliding_names(struct perfbpf_names *a, struct perfbpf_names *b)
{
	const unsigned lane0[] = { 0, 4, 8, 12 };

	memset(a, 0, sizeof(*a));
	strcpy(a->metric, "hash.a");
	strcpy(a->symbol, "SYM");
	memset(a->strategy, 'x', 47);
	for (char c = 'b'; c <= 'z'; c++) {
		__u64 xa = names_hash_seed[0], xb = names_hash_seed[0], w16;
		const __u64 *wa = (const __u64 *)a, *wb = (const __u64 *)b;
		bool nul = false;

		*b = *a;
		b->metric[5] = c;
		for (int i = 0; i < 4; i++) {
			xa = (xa ^ wa[lane0[i]]) * names_hash_mul[0];
			xb = (xb ^ wb[lane0[i]]) * names_hash_mul[0];
		}
		w16 = xa ^ xb ^ wa[16];
		memcpy(b->strategy + 32, &w16, sizeof(w16));
		for (int i = 32; i < 40; i++)
			nul |= b->strategy[i] == '\0';
		if (!nul)
			break;
	}
	assert_int_equal(strlen(b->strategy), 47);
	assert_memory_not_equal(a, b, sizeof(*a));
	assert_true(names_hash(a) == names_hash(b));
}

/* Starts ENGINE (which waits for a tracer and prints "ready PID"), runs `perfbpf monitor --pid`
 * on it until it exits, with OPT if not NULL, and returns the JSON summary written to OUT. */
static struct json_object *monitor_engine(char *const engine[], const char *out, const char *opt)
{
	char pidbuf[16], line[64];
	char *argv[] = { (char *)PERFBPF, "monitor", "-q", "--no-listen", "--pid", pidbuf, "-j",
			 (char *)out, (char *)opt, NULL };
	struct proc_result r;
	pid_t eng;
	int fd, st;

	eng = track_bg(spawn_bg(engine, &fd));
	assert_int_equal(read_line(fd, line, sizeof(line), 10000), 0); /* "ready PID" */
	snprintf(pidbuf, sizeof(pidbuf), "%d", eng);
	run_proc(argv, 60, &r);
	assert_int_equal(waitpid(eng, &st, 0), eng);
	untrack_bg(eng);
	close(fd);
	if (r.status != 0)
		fail_msg("perfbpf monitor exited %d: %s", r.status, r.err);
	proc_result_free(&r);
	assert_true(WIFEXITED(st));
	return load_json(out);
}

/* Two keys whose names have one names_hash: with --per-event-probes the kernel's table counts
 * the second as over the key limit, never merged with the first (whose statistics stay exact);
 * by default (ABI v3, series aggregated in userspace by the names themselves) both are exact. */
static void check_collision(bool in_kernel)
{
	struct perfbpf_names a, b;
	char *engine[] = { (char *)bpath("tests/probe_target"), "--wait-attach", "ops", "500",
			   a.metric, a.symbol, a.strategy, b.metric, b.symbol, b.strategy, NULL };
	struct json_object *root, *row;

	colliding_names(&a, &b);
	root = monitor_engine(engine, tmp_file("collide.json"),
			      in_kernel ? "--per-event-probes" : NULL);
	row = find_row(root, "metrics", "op", a.metric, a.symbol, a.strategy);
	assert_non_null(row);
	assert_int_equal(json_u64(row, "count"), 500);
	assert_int_equal(json_u64(row, "total_ns"), 500 * 1000 + 499 * 500 / 2);
	assert_int_equal(json_u64(row, "max_ns"), 1499);
	row = find_row(root, "metrics", "op", b.metric, b.symbol, b.strategy);
	if (in_kernel) {
		assert_null(row);
		assert_int_equal(json_u64(json_get(root, "losses"), "key_limit"), 500);
	} else {
		assert_non_null(row);
		assert_int_equal(json_u64(row, "count"), 500);
		assert_int_equal(json_u64(row, "min_ns"), 1000);
		assert_int_equal(json_u64(row, "max_ns"), 1499);
		assert_int_equal(json_u64(json_get(root, "losses"), "key_limit"), 0);
	}
	json_object_put(root);
}

/* By default (ABI v3) the spans past the depth limit are found by the decoder in userspace:
 * the errors mode's 4 are counted in the JSON summary, and in no CPU's drops. */
static void test_v3_span_overflow_counted(void **state)
{
	char *engine[] = { (char *)bpath("tests/probe_target"), "--wait-attach", "errors", NULL };
	struct json_object *root;

	(void)state;
	root = monitor_engine(engine, tmp_file("overflow.json"), NULL);
	assert_int_equal(json_u64(json_get(root, "losses"), "span_depth_overflow"), 4);
	assert_int_equal(json_u64(root, "dropped"), 4);
	json_object_put(root);
}

static void test_hash_collision_counted_apart(void **state)
{
	(void)state;
	check_collision(true);
	check_collision(false);
}

/* 10,000 distinct keys (an engine's symbol universe) with the default options: every key's
 * count, sum, min and max exact in the JSON summary, none over the limit, and the text
 * exposition at most 30 series per key. */
static void test_ten_thousand_keys(void **state)
{
	enum { KEYS = 10000 };
	int port = free_port();
	const char *out = tmp_file("keys.json");
	char pidbuf[16], line[64];
	char *engine[] = { (char *)bpath("tests/probe_target"), "--wait-attach", "--linger", "3000",
			   "keys", "10000", NULL };
	char *extra[] = { "--pid", pidbuf, "-j", (char *)out, NULL };
	struct json_object *root, *rows;
	unsigned char *seen = calloc(KEYS, 1);
	size_t series = 0, nrows;
	char *body;
	pid_t eng, mon;
	int fd, st;

	(void)state;
	assert_non_null(seen);
	unlink(out);
	eng = track_bg(spawn_bg(engine, &fd));
	snprintf(pidbuf, sizeof(pidbuf), "%d", eng);
	mon = start_monitor(port, extra);
	assert_int_equal(read_line(fd, line, sizeof(line), 10000), 0); /* "ready PID" */
	body = wait_value(port, "perfbpf_events_total", 3 * KEYS, 20000);
	assert_int_equal(sample(body, "perfbpf_keys"), KEYS);
	assert_int_equal(sample(body, "perfbpf_unknown_key_events_total"), 0);
	for (const char *l = body; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "perfbpf_operation_", 18))
			series++;
	print_message("text exposition: %zu bytes, %.1f series per key\n", strlen(body),
		      (double)series / KEYS);
	assert_true(series >= 5 * KEYS && series <= 30 * KEYS);
	free(body);
	assert_int_equal(waitpid(eng, &st, 0), eng); /* the monitor stops with its target */
	untrack_bg(eng);
	close(fd);
	assert_int_equal(waitpid(mon, &st, 0), mon);
	untrack_bg(mon);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	root = load_json(out);
	assert_int_equal(json_u64(json_get(root, "losses"), "key_limit"), 0);
	assert_int_equal(json_u64(root, "dropped"), 0);
	rows = json_get(root, "metrics");
	nrows = json_object_array_length(rows);
	assert_int_equal(nrows, KEYS);
	for (size_t i = 0; i < nrows; i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		const char *sym = json_str(r, "symbol");
		unsigned k;
		uint64_t a, b, c;

		assert_string_equal(json_str(r, "metric"), "many.keys");
		assert_int_equal(sscanf(sym, "K%05u", &k), 1);
		assert_true(k < KEYS && !seen[k]);
		seen[k] = 1;
		a = k % 997 + 10;
		b = 3 * (uint64_t)(k % 997) + 10;
		c = 100000 + (uint64_t)k;
		assert_int_equal(json_u64(r, "count"), 3);
		assert_int_equal(json_u64(r, "total_ns"), a + b + c);
		assert_int_equal(json_u64(r, "min_ns"), a);
		assert_int_equal(json_u64(r, "max_ns"), c);
	}
	json_object_put(root);
	free(seen);
}

/* Whether /proc/net/tcp{,6} has a listening socket on port, and whether all of them are on
 * loopback. */
static bool listening(int port, bool *loopback_only)
{
	const char *files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	bool found = false;
	char line[512];

	*loopback_only = true;
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");

		while (f && fgets(line, sizeof(line), f)) {
			char addr[64];
			unsigned p, st;

			if (sscanf(line, "%*d: %63[0-9A-Fa-f]:%x %*s %x", addr, &p, &st) != 3 ||
			    (int)p != port || st != 0x0A)
				continue;
			found = true;
			if (strcmp(addr, "0100007F") && strcmp(addr, "00000000000000000000000001000000"))
				*loopback_only = false;
		}
		if (f)
			fclose(f);
	}
	return found;
}

/* The metrics endpoint listens on loopback unless told otherwise: by default (127.0.0.1:9464)
 * and with a bare --listen PORT. */
static void test_listen_loopback_by_default(void **state)
{
	int port = free_port();
	char portbuf[16];
	char *deflt[] = { (char *)PERFBPF, "monitor", "-q", "--binary", (char *)bpath("backtest"),
			  NULL };
	char *bare[] = { (char *)PERFBPF, "monitor", "-q", "--binary", (char *)bpath("backtest"),
			 "--listen", portbuf, NULL };
	char *const *cases[] = { deflt, bare };
	int ports[] = { 9464, port };

	(void)state;
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	for (int i = 0; i < 2; i++) {
		bool loopback = false, up = false;
		int fd;
		pid_t mon = track_bg(spawn_bg(cases[i], &fd));

		close(fd);
		for (int t = 0; t < 100 && !up; t++, usleep(100000))
			up = listening(ports[i], &loopback);
		assert_true(up);
		assert_true(loopback);
		assert_int_equal(stop(mon, SIGINT), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_prometheus_quantiles_match_truth, kill_tracked),
		cmocka_unit_test_teardown(test_binary_restart_counts_continue, kill_tracked),
		cmocka_unit_test_teardown(test_per_pid_series, kill_tracked),
		cmocka_unit_test_teardown(test_pid_report_matches_truth, kill_tracked),
		cmocka_unit_test_teardown(test_sigusr1_writes_report, kill_tracked),
		cmocka_unit_test_teardown(test_ten_thousand_keys, kill_tracked),
		cmocka_unit_test_teardown(test_bad_input, kill_tracked),
		cmocka_unit_test_teardown(test_drops_by_cpu, kill_tracked),
		cmocka_unit_test_teardown(test_hash_collision_counted_apart, kill_tracked),
		cmocka_unit_test_teardown(test_v3_span_overflow_counted, kill_tracked),
		cmocka_unit_test_teardown(test_listen_loopback_by_default, kill_tracked),
	};

	return run_privileged_group("monitor", tests);
}
