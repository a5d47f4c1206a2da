// SPDX-License-Identifier: BSD-2-Clause
/* Bad input and failure paths: each gives one clear line on stderr and the documented status. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PERFBPF bpath("perfbpf")

/* Runs perfbpf with args; checks status, a single stderr line containing `want`, empty stdout. */
static void expect_error(char *const argv[], int status, const char *want)
{
	struct proc_result r;

	run_proc(argv, 60, &r);
	if (r.status != status || count_lines(r.err) != 1 || !strstr(r.err, want))
		fail_msg("%s %s: status %d (want %d), stderr '%s' (want one line with '%s')",
			 argv[1], argv[2] ? argv[2] : "", r.status, status, r.err, want);
	assert_string_equal(r.out, "");
	proc_result_free(&r);
}

static void test_malformed_flags(void **state)
{
	struct {
		char *argv[8];
		const char *want;
	} cases[] = {
		{ { NULL, "attach", NULL }, "no pid given" },
		{ { NULL, "attach", "abc", NULL }, "invalid pid 'abc'" },
		{ { NULL, "attach", "-5", NULL }, "invalid option" },
		{ { NULL, "attach", "0", NULL }, "invalid pid '0'" },
		{ { NULL, "attach", "99999999999", NULL }, "invalid pid" },
		{ { NULL, "attach", "1", "2", NULL }, "unexpected argument '2'" },
		{ { NULL, "attach", "1", "--duration", "abc", NULL }, "invalid value 'abc' for --duration" },
		{ { NULL, "attach", "1", "--duration", "0", NULL }, "invalid value '0' for --duration" },
		{ { NULL, "attach", "1", "--duration", "5parsecs", NULL }, "for --duration" },
		{ { NULL, "attach", "1", "--ring-size", "1000", NULL }, "for --ring-size" },
		{ { NULL, "attach", "1", "--ring-size", "3M", NULL }, "for --ring-size" },
		{ { NULL, "attach", "1", "--columns", "metric,bogus", NULL }, "unknown column 'bogus'" },
		{ { NULL, "attach", "1", "--unit", "fortnights", NULL }, "for --unit" },
		{ { NULL, "attach", "1", "--sample-budget", "-1", NULL }, "for --sample-budget" },
		{ { NULL, "attach", "1", "--max-keys", "0", NULL }, "for --max-keys" },
		{ { NULL, "attach", "1", "--max-threads", "x", NULL }, "for --max-threads" },
		{ { NULL, "run", NULL }, "no command given" },
		{ { NULL, "run", "--json", NULL }, "requires an argument" },
		{ { NULL, "list", NULL }, "nothing to list" },
		{ { NULL, "frobnicate", NULL }, "unknown command 'frobnicate'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cases[i].argv[0] = (char *)PERFBPF;
		expect_error(cases[i].argv, 2, cases[i].want);
	}
}

/* A malformed value for every flag that takes one, found in each command's --help so that a new
 * flag is covered the day it is added: exit 2 and one line naming the flag. Files, paths and
 * names take any string (unwritable outputs: test_unwritable_output); a value type missing from
 * the table below fails the test. */
static void test_every_value_flag(void **state)
{
	static const struct {
		const char *type, *bad;
	} values[] = {
		{ "DUR", "soon" }, { "N", "lots" }, { "SIZE", "big" }, { "RATIO", "2" },
		{ "PCT", "ten" }, { "P", "2" }, { "UNIT", "furlongs" }, { "LIST", "p42,no%zz" },
		{ "C", "zip" }, { "PROTO", "pigeon" }, { "HOW", "worst" }, { "URL", "not a url" },
		{ "ADDR", "here" }, { "PID", "me" }, { "PATTERN", "" }, { "STYLE", "fancy" }, { "KEYS", "a,,b" },
		{ "TEMPORALITY", "sometimes" }, { "HISTOGRAM", "linear" },
		{ "FILE", NULL }, { "PATH", NULL }, { "NAME", NULL },
	};
	const char *cmds[] = { "attach", "run", "monitor", "gate" };
	size_t checked = 0;

	(void)state;
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		char *help[] = { (char *)PERFBPF, (char *)cmds[c], "--help", NULL };
		struct proc_result h;

		run_proc(help, 10, &h);
		assert_int_equal(h.status, 0);
		for (char *p = h.out; (p = strstr(p, "--")); p += 2) {
			char flag[64], type[16], arg[128];
			char *argv[10] = { (char *)PERFBPF, (char *)cmds[c] };
			const char *bad = NULL;
			size_t k, n = 2;

			if (sscanf(p, "%63[a-z-]=%15[A-Z]", flag, type) != 2 || p[-1] != ' ')
				continue;
			for (k = 0; k < sizeof(values) / sizeof(values[0]); k++)
				if (!strcmp(values[k].type, type))
					break;
			if (k == sizeof(values) / sizeof(values[0]))
				fail_msg("%s %s=%s: add a malformed %s to this test", cmds[c], flag,
					 type, type);
			bad = values[k].bad;
			if (!bad)
				continue;
			if (!strcmp(cmds[c], "attach")) {
				argv[n++] = "1";
			} else if (!strcmp(cmds[c], "monitor")) {
				argv[n++] = "--binary";
				argv[n++] = (char *)bpath("backtest");
			} else if (!strcmp(cmds[c], "gate")) {
				argv[n++] = "base.json";
				argv[n++] = "head.json";
			}
			snprintf(arg, sizeof(arg), "%s=%s", flag, bad);
			argv[n++] = arg;
			if (!strcmp(cmds[c], "run")) {
				argv[n++] = "--";
				argv[n++] = "true";
			}
			argv[n] = NULL;
			expect_error(argv, 2, flag);
			checked++;
		}
		proc_result_free(&h);
	}
	print_message("%zu flag values checked\n", checked);
	assert_true(checked >= 50);
}

static void test_help_for_every_command(void **state)
{
	const char *cmds[] = { "attach", "run", "list" };
	struct proc_result r;
	char *top[] = { (char *)PERFBPF, "--help", NULL };

	(void)state;
	run_proc(top, 10, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Examples:"));
	proc_result_free(&r);
	for (size_t i = 0; i < 3; i++) {
		char *argv[] = { (char *)PERFBPF, (char *)cmds[i], "--help", NULL };

		run_proc(argv, 10, &r);
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, "Examples:"));
		assert_non_null(strstr(r.out, "Exit status:"));
		proc_result_free(&r);
	}
}

static void test_bad_targets(void **state)
{
	char *nopid[] = { (char *)PERFBPF, "attach", "4000000", NULL };
	char *kthread[] = { (char *)PERFBPF, "attach", "2", NULL };
	char *nocmd[] = { (char *)PERFBPF, "run", "--", "/nonexistent/engine", NULL };
	char *noprobe_run[] = { (char *)PERFBPF, "run", "--", (char *)bpath("tests/noprobe_target"),
				"0", NULL };
	char *target[] = { (char *)bpath("tests/noprobe_target"), "30", NULL };
	char pidbuf[16];
	char *noprobe_attach[] = { (char *)PERFBPF, "attach", pidbuf, NULL };
	int fd, st;
	pid_t pid;

	(void)state;
	expect_error(nopid, 1, "pid 4000000: no such process");
	expect_error(kthread, 1, "kernel thread");
	expect_error(nocmd, 127, "cannot run '/nonexistent/engine'");
	expect_error(noprobe_run, 1, "no perfbpf probes");
	pid = spawn_bg(target, &fd);
	usleep(100000);
	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	expect_error(noprobe_attach, 1, "no perfbpf probes");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(fd);
}

static void test_unprivileged(void **state)
{
	char pidbuf[16];
	char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			 "--inh-caps=-all", "--bounding-set=-all", (char *)PERFBPF, "attach", pidbuf,
			 NULL };
	char *runv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			 "--inh-caps=-all", "--bounding-set=-all", (char *)PERFBPF, "run", "--",
			 (char *)bpath("backtest"), NULL };

	(void)state;
	snprintf(pidbuf, sizeof(pidbuf), "%d", getpid());
	expect_error(argv, 1, "missing CAP_BPF and CAP_PERFMON: run as root");
	expect_error(runv, 1, "missing CAP_BPF and CAP_PERFMON");
}

static void test_unwritable_output(void **state)
{
	char *argv[] = { (char *)PERFBPF, "run", "-j", "/nonexistent-dir/out.json", "--",
			 (char *)bpath("tests/probe_target"), "basic", "1", NULL };

	(void)state;
	expect_error(argv, 1, "cannot write /nonexistent-dir/out.json");
}

static void test_list(void **state)
{
	char *exe[] = { (char *)PERFBPF, "list", (char *)bpath("tests/probe_target"), NULL };
	char *lib[] = { (char *)PERFBPF, "list", (char *)bpath("tests/libprobelib.so"), NULL };
	char *none[] = { (char *)PERFBPF, "list", (char *)bpath("tests/noprobe_target"), NULL };
	char *notelf[] = { (char *)PERFBPF, "list", "/etc/passwd", NULL };
	char *dir[] = { (char *)PERFBPF, "list", "/etc", NULL };
	char *missing[] = { (char *)PERFBPF, "list", "/nonexistent", NULL };
	char *target[] = { (char *)bpath("tests/probe_target"), "--linger", "20000", "basic", "0",
			   NULL };
	char pidbuf[16];
	char *bypid[] = { (char *)PERFBPF, "list", pidbuf, NULL };
	struct proc_result r;
	int fd, st;
	pid_t pid;

	(void)state;
	run_proc(exe, 10, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "perfbpf:op"));
	assert_non_null(strstr(r.out, "perfbpf:span_begin"));
	assert_non_null(strstr(r.out, "perfbpf:span_end"));
	proc_result_free(&r);
	run_proc(lib, 10, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "perfbpf:op                 1 site"));
	proc_result_free(&r);
	expect_error(none, 1, "no perfbpf probes");
	expect_error(notelf, 1, "not an ELF file");
	expect_error(dir, 1, "not a regular file");
	expect_error(missing, 1, "No such file or directory");

	pid = spawn_bg(target, &fd);
	usleep(200000);
	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	run_proc(bypid, 10, &r);
	assert_int_equal(r.status, 0);
	/* each object with the probe ABI it carries */
	assert_non_null(strstr(r.out, "probe_target  (probe ABI v3: "));
	assert_non_null(strstr(r.out, "libprobelib.so  (probe ABI v3: "));
	assert_non_null(strstr(r.out, "in 2 of"));
	proc_result_free(&r);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(fd);
}

/* Probe notes as other tools see them: readelf shows SDT notes with semaphores, and every operand
 * is a register or a constant (libbpf 1.1 refuses base+index*scale forms). */
static void test_probe_notes_readelf(void **state)
{
	char *argv[] = { "readelf", "-n", (char *)bpath("backtest"), NULL };
	struct proc_result r;
	size_t notes = 0;

	(void)state;
	run_proc(argv, 10, &r);
	assert_int_equal(r.status, 0);
	for (char *p = r.out; (p = strstr(p, "Provider: perfbpf")); p++) {
		char *sema = strstr(p, "Semaphore: "), *args = strstr(p, "Arguments: "), *eol;

		assert_non_null(sema);
		assert_null(strstr(sema, "Semaphore: 0x0000000000000000"));
		assert_non_null(args);
		eol = strchr(args, '\n');
		*eol = '\0';
		if (strchr(args, '('))
			fail_msg("memory operand in probe arguments: %s", args);
		*eol = '\n';
		notes++;
	}
	assert_true(notes >= 10);
	proc_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest unprivileged[] = {
		cmocka_unit_test(test_malformed_flags),
		cmocka_unit_test(test_every_value_flag),
		cmocka_unit_test(test_help_for_every_command),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_probe_notes_readelf),
	};
	const struct CMUnitTest privileged[] = {
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test(test_unprivileged),
		cmocka_unit_test(test_unwritable_output),
	};
	int fails = cmocka_run_group_tests_name("integration: errors and list", unprivileged, NULL,
						NULL);

	return fails + run_privileged_group("integration: failure paths (root)", privileged);
}
