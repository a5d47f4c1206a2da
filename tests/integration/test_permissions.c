// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests: who may trace what, with real privileges. A copy of perfbpf with the file
 * capabilities the README's installation gives it (cap_bpf, cap_perfmon, cap_sys_ptrace), run
 * as the unprivileged user nobody (setpriv): it traces nobody's own processes (run and attach),
 * the command it runs gets none of its privileges, and it refuses, in one line and exit 1, a
 * root-owned process, another user's process (attach, list, monitor --pid), and probes in a file
 * every process maps (monitor --binary). Run as root, perfbpf drops every capability it no longer
 * needs once attached (attach, run, monitor), and still traces to the end. */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY "65534"

static char dir[64], cap_perfbpf[128], target[128];

/* A directory nobody can use, the capability copy of perfbpf and the test target (with its
 * library) in it. */
static int setup(void **state)
{
	char cmd[1024];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/perfbpf-perm-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 01777), 0);
	snprintf(cap_perfbpf, sizeof(cap_perfbpf), "%s/perfbpf", dir);
	snprintf(target, sizeof(target), "%s/probe_target", dir);
	snprintf(cmd, sizeof(cmd),
		 "cp %s %s && cp %s %s/libprobelib.so %s/ && chmod 0755 %s %s && "
		 "setcap cap_bpf,cap_perfmon,cap_sys_ptrace+ep %s",
		 bpath("perfbpf"), cap_perfbpf, bpath("tests/probe_target"), bpath("tests"), dir,
		 cap_perfbpf, target, cap_perfbpf);
	if (system(cmd) != 0)
		fail_msg("cannot make the capability copy of perfbpf: %s", cmd);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* argv run as user `uid` (setpriv; file capabilities still apply at exec). */
static void run_as(const char *uid, char *const argv[], struct proc_result *r)
{
	char *full[32] = { "setpriv", "--reuid", (char *)uid, "--regid", (char *)uid,
			   "--clear-groups", "--" };
	int n = 7;

	for (int i = 0; argv[i] && n < 31; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	run_proc(full, 60, r);
}

/* probe_target --wait-signal basic 5, as `uid` (NULL: root), waiting: its pid. */
static pid_t start_target(const char *uid, int *fd)
{
	char *as_root[] = { target, "--wait-signal", "basic", "5", NULL };
	char *as_user[] = { "setpriv", "--reuid", (char *)uid, "--regid", (char *)uid,
			    "--clear-groups", "--", target, "--wait-signal", "basic", "5", NULL };
	char line[64];

	spawn_bg(uid ? as_user : as_root, fd); /* setpriv execs the target: one process */
	assert_int_equal(read_line(*fd, line, sizeof(line), 10000), 0);
	assert_int_equal(strncmp(line, "ready ", 6), 0);
	return (pid_t)atoi(line + 6);
}

static void stop_target(pid_t pid, pid_t child, int fd)
{
	kill(pid, SIGKILL);
	waitpid(child, NULL, 0);
	close(fd);
}

/* Refused: exit 1, one line, naming the rule. */
static void expect_refused(const char *uid, char *const argv[], const char *rule)
{
	struct proc_result r;

	run_as(uid, argv, &r);
	if (r.status != 1 || count_lines(r.err) != 1 || !strstr(r.err, rule))
		fail_msg("%s as uid %s: status %d, want 1 and one line with '%s': %s", argv[1], uid,
			 r.status, rule, r.err);
	proc_result_free(&r);
}

/* nobody traces its own process, from its first event; the command runs as nobody, with no
 * capabilities. */
static void test_own_process(void **state)
{
	char out[128], lib[128];
	char *run[] = { cap_perfbpf, "run", "-q", "-j", out, "--", target, "basic", "10", NULL };
	/* a command without probes: a library with some given, so that run has probes to arm */
	char *caps[] = { cap_perfbpf, "run", "-q", "--lib", lib, "--", "/bin/sh", "-c",
			 "id -u; grep CapEff /proc/self/status", NULL };
	struct proc_result r;
	struct json_object *root;

	(void)state;
	snprintf(out, sizeof(out), "%s/own.json", dir);
	snprintf(lib, sizeof(lib), "%s/libprobelib.so", dir);
	run_as(NOBODY, run, &r);
	if (r.status != 0)
		fail_msg("nobody's own run: status %d: %s", r.status, r.err);
	proc_result_free(&r);
	root = load_json(out);
	assert_int_equal(json_u64(root, "dropped"), 0);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "op", "exe.op", NULL, NULL),
				  "count"), 10);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "span", "outer", NULL, NULL),
				  "count"), 20);
	json_object_put(root);
	run_as(NOBODY, caps, &r);
	if (r.status != 0)
		fail_msg("run sh as nobody: status %d: %s", r.status, r.err);
	assert_non_null(strstr(r.out, "65534\n"));
	assert_non_null(strstr(r.out, "CapEff:\t0000000000000000"));
	proc_result_free(&r);
}

/* nobody attaches to a process of its own. */
static void test_attach_own(void **state)
{
	char out[128], pid_s[16];
	struct json_object *root;
	pid_t child, pid;
	int fd;

	(void)state;
	snprintf(out, sizeof(out), "%s/attach.json", dir);
	pid = start_target(NOBODY, &fd);
	child = pid;
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	{
		pid_t tracer = fork();

		if (tracer == 0) {
			char *full[] = { "setpriv", "--reuid", NOBODY, "--regid", NOBODY,
					 "--clear-groups", "--", cap_perfbpf, "attach", "-q", "-j", out,
					 "-d", "5", pid_s, NULL };

			execvp("setpriv", full);
			_exit(127);
		}
		sleep(2); /* attached */
		kill(pid, SIGUSR1);
		waitpid(tracer, NULL, 0);
	}
	root = load_json(out);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "op", "exe.op", NULL, NULL),
				  "count"), 5);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "span", "outer", NULL, NULL),
				  "count"), 10);
	json_object_put(root);
	stop_target(pid, child, fd);
}

/* A root-owned process and another user's: attach, list and monitor --pid refused; monitor
 * --binary refused to anyone but root. */
static void test_refused(void **state)
{
	char pid_s[16], pid2_s[16];
	char *attach[] = { cap_perfbpf, "attach", "-q", "-d", "1", pid_s, NULL };
	char *list[] = { cap_perfbpf, "list", pid_s, NULL };
	char *monitor[] = { cap_perfbpf, "monitor", "-q", "--pid", pid_s, NULL };
	char *attach2[] = { cap_perfbpf, "attach", "-q", "-d", "1", pid2_s, NULL };
	char *binary[] = { cap_perfbpf, "monitor", "-q", "--binary", target, NULL };
	pid_t root_pid, other_pid;
	int fd1, fd2;

	(void)state;
	root_pid = start_target(NULL, &fd1);
	other_pid = start_target("4321", &fd2);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)root_pid);
	snprintf(pid2_s, sizeof(pid2_s), "%d", (int)other_pid);
	expect_refused(NOBODY, attach, "may not trace a process of another user");
	expect_refused(NOBODY, list, "may not trace a process of another user");
	expect_refused(NOBODY, monitor, "may not trace a process of another user");
	expect_refused(NOBODY, attach2, "(uid 4321");
	expect_refused(NOBODY, binary, "only root may install probes");
	stop_target(root_pid, root_pid, fd1);
	stop_target(other_pid, other_pid, fd2);
}

/* The capabilities perfbpf keeps once attached: DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER,
 * SYS_PTRACE, PERFMON, BPF, CHECKPOINT_RESTORE; attach and run (their consumer yields the CPU,
 * consumer_yield.h) also SYS_NICE, unless --no-yield. */
#define KEPT "000001c00008000e"
#define KEPT_YIELD "000001c00088000e"

/* The Cap* and NoNewPrivs lines of a process, from its status. */
static void status_of(pid_t pid, char *out, size_t len)
{
	char path[64], line[128];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10))
			n += (size_t)snprintf(out + n, len - n, "%s", line);
	fclose(f);
}

/* Waits until perfbpf (pid) has dropped what it no longer needs; fails after 10 s with what its
 * status says. */
static void expect_dropped(pid_t pid, const char *what, const char *kept)
{
	char st[1024] = "";

	for (int i = 0; i < 100; i++, usleep(100000)) {
		status_of(pid, st, sizeof(st));
		char eff[40], prm[40], bnd[40];

		snprintf(eff, sizeof(eff), "CapEff:\t%s", kept);
		snprintf(prm, sizeof(prm), "CapPrm:\t%s", kept);
		snprintf(bnd, sizeof(bnd), "CapBnd:\t%s", kept);
		if (strstr(st, eff) && strstr(st, prm) && strstr(st, bnd) &&
		    strstr(st, "NoNewPrivs:\t1"))
			return;
	}
	fail_msg("%s as root: capabilities not dropped to %s after attach:\n%s", what, kept, st);
}

/* perfbpf (pid, its output on pfd) has exited 0 and its JSON summary counts the target's 5 ops. */
static void expect_whole_trace(pid_t p, int pfd, const char *json)
{
	struct json_object *root;
	int st;

	assert_int_equal(waitpid(p, &st, 0), p);
	untrack_bg(p);
	close(pfd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	root = load_json(json);
	assert_int_equal(json_u64(find_row(root, "metric_rollups", "op", "exe.op", NULL, NULL),
				  "count"), 5);
	json_object_put(root);
}

/* Root's perfbpf keeps only what tracing still needs once attached (status read from /proc
 * while it traces), and the trace is whole: attach (and a --duration stop), monitor (reports
 * written after the drop), run. */
static void test_root_drops_capabilities(void **state)
{
	char out[128], pidbuf[16], json[128], runjson[128];
	char *attach[] = { (char *)bpath("perfbpf"), "attach", "-q", "-d", "2", "-j", out, pidbuf,
			   NULL };
	char *monitor[] = { (char *)bpath("perfbpf"), "monitor", "-q", "--no-listen", "--pid",
			    pidbuf, "-j", json, NULL };
	char *run[] = { (char *)bpath("perfbpf"), "run", "-q", "-j", runjson, "--", target,
			"--wait-signal", "basic", "5", NULL };
	int fd, pfd;
	pid_t t, p;
	char line[64];

	(void)state;
	snprintf(out, sizeof(out), "%s/root-attach.json", dir);
	snprintf(json, sizeof(json), "%s/root-monitor.json", dir);
	snprintf(runjson, sizeof(runjson), "%s/root-run.json", dir);

	t = start_target(NULL, &fd);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)t);
	p = track_bg(spawn_bg(attach, &pfd));
	expect_dropped(p, "attach", KEPT_YIELD);
	kill(t, SIGUSR1); /* the target's events, after the drop */
	expect_whole_trace(p, pfd, out);
	stop_target(t, t, fd);

	t = start_target(NULL, &fd);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)t);
	p = track_bg(spawn_bg(monitor, &pfd));
	expect_dropped(p, "monitor", KEPT);
	kill(t, SIGUSR1);
	usleep(300000);
	kill(p, SIGINT);
	expect_whole_trace(p, pfd, json);
	stop_target(t, t, fd);

	p = track_bg(spawn_bg(run, &pfd));
	assert_int_equal(read_line(pfd, line, sizeof(line), 10000), 0);
	assert_int_equal(strncmp(line, "ready ", 6), 0);
	expect_dropped(p, "run", KEPT_YIELD);
	kill((pid_t)atoi(line + 6), SIGUSR1);
	expect_whole_trace(p, pfd, runjson);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_process),
		cmocka_unit_test(test_attach_own),
		cmocka_unit_test(test_refused),
		cmocka_unit_test_teardown(test_root_drops_capabilities, kill_tracked),
	};

	return run_privileged_group_setup("integration: who may trace what", tests, setup,
					  teardown);
}
