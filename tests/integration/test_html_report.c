// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests of the HTML report in a real browser (Debian's chromium, headless): the
 * report of a traced demo run (--html) and of its saved JSON summary (perfbpf report) open with
 * no console message and no request, every chart is drawn (its canvas at the size the page gives
 * it, with painted pixels), and the numbers the page's metrics table shows (count, p50, p95, p99
 * per metric) equal the JSON summary's. A page that tries a request is caught (the test's own
 * check). A screenshot of the report is kept as a test artifact (build/tests/html-report.png). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PERFBPF bpath("perfbpf")

struct page {
	struct json_object *check; /* the page's #perfbpf-selfcheck */
	char *console;             /* the console messages chromium logged, one per line */
};

/* chromium, headless, on file `html`: the DOM after its scripts (or a screenshot). */
static void chromium(const char *html, const char *screenshot, struct proc_result *r)
{
	char url[512], shot[512];
	char *argv[16] = { "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
			   "--no-first-run", "--virtual-time-budget=20000", "--enable-logging=stderr",
			   "--v=0" };
	int n = 8;

	snprintf(url, sizeof(url), "file://%s", html);
	if (screenshot) {
		snprintf(shot, sizeof(shot), "--screenshot=%s", screenshot);
		argv[n++] = shot;
		argv[n++] = "--window-size=1280,3400";
		argv[n++] = "--hide-scrollbars";
	} else {
		argv[n++] = "--dump-dom";
	}
	argv[n++] = url;
	argv[n] = NULL;
	run_proc(argv, 120, r);
}

/* Text of an element as the DOM dump writes it: &amp; &lt; &gt; decoded. */
static char *unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' } };
		size_t k;

		for (k = 0; k < 4; k++)
			if (!strncmp(s + i, ents[k].ent, strlen(ents[k].ent)))
				break;
		if (k < 4) {
			*o++ = ents[k].c;
			i += strlen(ents[k].ent) - 1;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Opens html in chromium: its self-check and the console lines (fails when there is none). */
static void open_page(const char *html, struct page *p)
{
	struct proc_result r;
	const char *tag = "<pre id=\"perfbpf-selfcheck\">", *a, *b;
	size_t cap = 1, len = 0;
	char *text;

	chromium(html, NULL, &r);
	if (r.status != 0)
		fail_msg("chromium exited %d: %s", r.status, r.err);
	a = strstr(r.out, tag);
	if (!a)
		fail_msg("%s: the page did not finish drawing (no self-check in the DOM)", html);
	a += strlen(tag);
	b = strstr(a, "</pre>");
	assert_non_null(b);
	text = unescape(a, (size_t)(b - a));
	p->check = json_tokener_parse(text);
	assert_non_null(p->check);
	free(text);
	/* console messages: "[...:CONSOLE(line)] "message", source: ..." */
	p->console = calloc(1, 1);
	for (const char *l = r.err; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t k = strcspn(l, "\n");

		if (!memmem(l, k, ":CONSOLE", 8))
			continue;
		cap += k + 1;
		p->console = realloc(p->console, cap);
		memcpy(p->console + len, l, k);
		len += k;
		p->console[len++] = '\n';
		p->console[len] = '\0';
	}
	proc_result_free(&r);
}

static void page_free(struct page *p)
{
	json_object_put(p->check);
	free(p->console);
}

/* No console message, no error, no resource loaded; every chart named drawn at its size. */
static void expect_clean_page(struct page *p, const char *const charts[], size_t n)
{
	struct json_object *c = json_get(p->check, "charts");

	if (*p->console)
		fail_msg("the page logged to the console:\n%s", p->console);
	assert_int_equal(json_object_array_length(json_get(p->check, "errors")), 0);
	assert_int_equal(json_u64(p->check, "resources"), 0);
	for (size_t i = 0; i < n; i++) {
		struct json_object *ch = json_get(c, charts[i]);

		assert_true(json_u64(ch, "width") >= 500);
		assert_true(json_u64(ch, "height") >= 140);
		if (json_u64(ch, "painted") < 2000)
			fail_msg("chart %s: %llu painted pixels", charts[i],
				 (unsigned long long)json_u64(ch, "painted"));
	}
}

/* The page's metrics table shows exactly the summary's roll-ups: count, p50, p95, p99. */
static void expect_table_equals(struct page *p, struct json_object *summary)
{
	struct json_object *rows = json_get(p->check, "table");
	struct json_object *want = json_get(summary, "metric_rollups");

	assert_int_equal(json_object_array_length(rows), json_object_array_length(want));
	for (size_t i = 0; i < json_object_array_length(want); i++) {
		struct json_object *w = json_object_array_get_idx(want, i), *got = NULL;

		for (size_t j = 0; j < json_object_array_length(rows); j++) {
			struct json_object *r = json_object_array_get_idx(rows, j);

			if (!strcmp(json_str(r, "metric"), json_str(w, "metric")) &&
			    !strcmp(json_str(r, "kind"), json_str(w, "kind")))
				got = r;
		}
		if (!got)
			fail_msg("the page shows no row for %s", json_str(w, "metric"));
		assert_int_equal(json_u64(got, "count"), json_u64(w, "count"));
		assert_int_equal(json_u64(got, "p50"), json_u64(w, "p50_ns"));
		assert_int_equal(json_u64(got, "p95"), json_u64(w, "p95_ns"));
		assert_int_equal(json_u64(got, "p99"), json_u64(w, "p99_ns"));
	}
}

static const char *json_path, *html_path;

/* The demo traced with --html (and -j for the truth), two threads, attribution on. */
static int setup(void **state)
{
	char *argv[] = { (char *)PERFBPF, "run", "-q", "-j", NULL, "--html", NULL, "--",
			 (char *)bpath("backtest"), "--bars", "4000", "--threads", "2", "--quiet",
			 NULL };
	struct proc_result r;

	(void)state;
	json_path = strdup(tmp_file("html-summary.json"));
	html_path = strdup(tmp_file("report.html"));
	argv[4] = (char *)json_path;
	argv[6] = (char *)html_path;
	run_proc(argv, 120, &r);
	if (r.status)
		fprintf(stderr, "perfbpf: %s\n", r.err);
	proc_result_free(&r);
	return access(html_path, R_OK);
}

static void test_run_report(void **state)
{
	static const char *const charts[] = { "chart-bottleneck", "chart-histogram",
					       "chart-percentiles", "chart-attribution",
					       "chart-timeline" };
	struct json_object *summary = load_json(json_path);
	struct page p;
	struct proc_result r;
	char shot[512];
	struct stat st;

	(void)state;
	open_page(html_path, &p);
	expect_clean_page(&p, charts, sizeof(charts) / sizeof(charts[0]));
	expect_table_equals(&p, summary);
	page_free(&p);
	/* the screenshot, kept as the test's artifact */
	snprintf(shot, sizeof(shot), "%s/tests/html-report.png", build_dir());
	unlink(shot);
	chromium(html_path, shot, &r);
	assert_int_equal(r.status, 0);
	proc_result_free(&r);
	assert_int_equal(stat(shot, &st), 0);
	assert_true(st.st_size > 50000);
	json_object_put(summary);
}

/* perfbpf report SUMMARY.json --html: the same page without a timeline. */
static void test_report_command(void **state)
{
	static const char *const charts[] = { "chart-bottleneck", "chart-histogram",
					       "chart-percentiles", "chart-attribution" };
	const char *out = tmp_file("from-summary.html");
	char *argv[] = { (char *)PERFBPF, "report", (char *)json_path, "--html", (char *)out,
			 NULL };
	struct json_object *summary = load_json(json_path);
	struct proc_result r;
	struct page p;

	(void)state;
	run_proc(argv, 60, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	proc_result_free(&r);
	open_page(out, &p);
	expect_clean_page(&p, charts, sizeof(charts) / sizeof(charts[0]));
	assert_null(json_object_object_get(json_get(p.check, "charts"), "chart-timeline"));
	expect_table_equals(&p, summary);
	page_free(&p);
	json_object_put(summary);
}

/* perfbpf monitor --pid --html: the page from the monitor's histograms, written when the target
 * exits, with the distributions drawn from them. */
static void test_monitor_report(void **state)
{
	static const char *const charts[] = { "chart-bottleneck", "chart-histogram",
					       "chart-percentiles" };
	const char *out = tmp_file("monitor.html"), *json = tmp_file("monitor.json");
	char *engine[] = { (char *)bpath("backtest"), "--wait-attach", "10", "--bars", "4000",
			   "--tick-sleep-us", "100", "--quiet", NULL };
	char pidbuf[16];
	char *mon[] = { (char *)PERFBPF, "monitor", "-q", "--no-listen", "--pid", pidbuf, "--html",
			(char *)out, "-j", (char *)json, NULL };
	struct json_object *summary;
	struct proc_result r;
	struct page p;
	int fd;
	pid_t e = track_bg(spawn_bg(engine, &fd));

	(void)state;
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)e);
	run_proc(mon, 120, &r);
	if (r.status)
		fail_msg("perfbpf monitor: %d: %s", r.status, r.err);
	proc_result_free(&r);
	waitpid(e, NULL, 0);
	untrack_bg(e);
	close(fd);
	summary = load_json(json);
	assert_true(json_u64(summary, "events") > 10000);
	open_page(out, &p);
	expect_clean_page(&p, charts, sizeof(charts) / sizeof(charts[0]));
	expect_table_equals(&p, summary);
	page_free(&p);
	json_object_put(summary);
}

/* perfbpf gate --html: a head with strategy.indicators slowed by 5 us against a base; the page
 * lists every comparison as the JSON result does, and overlays base and head for each key that
 * regressed or is unclear. */
static void test_gate_report(void **state)
{
	static const char *const charts[] = { "chart-gate-0" };
	const char *base = tmp_file("gate-base.json"), *head = tmp_file("gate-head.json");
	const char *out = tmp_file("gate.html"), *json = tmp_file("gate.json");
	char *rb[] = { (char *)PERFBPF, "run", "-q", "--repeat", "3", "-j", (char *)base, "--",
		       (char *)bpath("backtest"), "--bars", "20000", "--quiet", NULL };
	char *rh[] = { (char *)PERFBPF, "run", "-q", "--repeat", "3", "-j", (char *)head, "--",
		       (char *)bpath("backtest"), "--bars", "20000", "--quiet", "--slow",
		       "strategy.indicators:5", NULL };
	char *gate[] = { (char *)PERFBPF, "gate", "-q", (char *)base, (char *)head, "--html",
			 (char *)out, "-j", (char *)json, NULL };
	struct json_object *result, *cmps, *rows;
	struct proc_result r;
	struct page p;

	(void)state;
	run_proc(rb, 120, &r);
	assert_int_equal(r.status, 0);
	proc_result_free(&r);
	run_proc(rh, 120, &r);
	assert_int_equal(r.status, 0);
	proc_result_free(&r);
	run_proc(gate, 120, &r);
	assert_int_equal(r.status, 1); /* the regression */
	proc_result_free(&r);
	result = load_json(json);
	open_page(out, &p);
	expect_clean_page(&p, charts, 1);
	cmps = json_get(result, "comparisons");
	rows = json_get(p.check, "table");
	assert_int_equal(json_object_array_length(rows), json_object_array_length(cmps));
	for (size_t i = 0; i < json_object_array_length(cmps); i++) {
		struct json_object *c = json_object_array_get_idx(cmps, i);
		struct json_object *row = json_object_array_get_idx(rows, i);
		const char *verdict = json_object_object_get(c, "verdict")
					      ? json_str(c, "verdict") : json_str(c, "presence");

		assert_string_equal(json_str(row, "metric"), json_str(c, "metric"));
		assert_string_equal(json_str(row, "stat"), json_str(c, "stat"));
		assert_string_equal(json_str(row, "verdict"), verdict);
		if (json_object_object_get(c, "base_ns") &&
		    json_object_get_type(json_object_object_get(c, "base_ns")) == json_type_double)
			assert_true(json_object_get_double(json_get(row, "base")) ==
				    json_object_get_double(json_get(c, "base_ns")));
	}
	assert_true(json_u64(result, "regressions") > 0);
	page_free(&p);
	json_object_put(result);
}

/* The test's own check catches a page that tries a request: the page's policy refuses it and
 * chromium logs it. */
static void test_request_would_be_caught(void **state)
{
	const char *bad = tmp_file("with-request.html");
	char cmd[1024];
	struct page p;

	(void)state;
	snprintf(cmd, sizeof(cmd),
		 "sed 's|<div id=\"app\">|<img src=\"http://127.0.0.1:9/x.png\"><div id=\"app\">|' "
		 "%s > %s", html_path, bad);
	assert_int_equal(system(cmd), 0);
	open_page(bad, &p);
	if (!strstr(p.console, "Content Security Policy"))
		fail_msg("the page's request went unnoticed; console:\n%s", p.console);
	page_free(&p);
}

/* Broken inputs of perfbpf report: one line, status 1 or 2. */
static void test_report_errors(void **state)
{
	const char *notjson = tmp_file("not.json"), *other = tmp_file("other.json");
	struct {
		char *argv[6];
		int status;
		const char *want;
	} cases[] = {
		{ { NULL, "report", "/nonexistent.json", "--html", "/tmp/x.html" }, 1,
		  "not a readable JSON file" },
		{ { NULL, "report", (char *)notjson, "--html", "/tmp/x.html" }, 1,
		  "not a readable JSON file" },
		{ { NULL, "report", (char *)other, "--html", "/tmp/x.html" }, 1,
		  "not a perfbpf JSON summary" },
		{ { NULL, "report", (char *)other }, 2, "give --html FILE" },
		{ { NULL, "report", "--html", "/tmp/x.html" }, 2, "no summary given" },
	};
	FILE *f = fopen(notjson, "w");

	(void)state;
	fputs("{ not json", f);
	fclose(f);
	f = fopen(other, "w");
	fputs("{\"schema\": \"something/1\"}", f);
	fclose(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc_result r;

		cases[i].argv[0] = (char *)PERFBPF;
		run_proc(cases[i].argv, 30, &r);
		if (r.status != cases[i].status || count_lines(r.err) != 1 ||
		    !strstr(r.err, cases[i].want))
			fail_msg("report case %zu: status %d, stderr '%s' (want %d, '%s')", i,
				 r.status, r.err, cases[i].status, cases[i].want);
		proc_result_free(&r);
	}
}

/* Chromium is needed (tools/install-deps.sh installs it). */
static int browser_gate(size_t ntests)
{
	char *argv[] = { "chromium", "--version", NULL };
	struct proc_result r;
	bool ok;

	run_proc(argv, 30, &r);
	ok = r.status == 0;
	proc_result_free(&r);
	return require_or_skip("html_report", ntests, "a browser", "chromium and "
			       "'tools/install-deps.sh'", ok ? NULL : "chromium missing");
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_report_errors),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_report),
		cmocka_unit_test(test_report_command),
		cmocka_unit_test_teardown(test_monitor_report, kill_tracked),
		cmocka_unit_test(test_gate_report),
		cmocka_unit_test(test_request_would_be_caught),
	};
	int fails = cmocka_run_group_tests_name("html_report_errors", plain, NULL, NULL);
	int g = browser_gate(sizeof(tests) / sizeof(tests[0]));

	if (g < 0)
		return fails + 1;
	if (g > 0) {
		int b = bpf_gate("html_report", sizeof(tests) / sizeof(tests[0]));

		if (b < 0)
			return fails + 1;
		if (b > 0)
			fails += cmocka_run_group_tests_name("html_report", tests, setup, NULL);
	}
	return fails;
}
