// SPDX-License-Identifier: BSD-2-Clause
/* `perfbpf run -- COMMAND`: start the command held before exec, attach, release it, trace it
 * from its first instruction until it exits (or --duration, or a signal); --repeat runs it again. */
#include "user/attach/permission.h"
#include "user/cmd/run.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user/cmd/trace_session.h"
#include "user/lib/util.h"

#define RUN_GRACE_NS 5000000000ull /* after forwarding a signal, wait this long for the command */

static pid_t run_child = -1;
static int run_status = -1;
static uint64_t run_signal_at;

static int wait_status(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool run_done(struct session *s)
{
	int st;

	if (run_status < 0 && waitpid(run_child, &st, WNOHANG) == run_child) {
		run_status = wait_status(st);
		if (!s->stop_reason)
			s->stop_reason = "the command exited";
	}
	if (trace_session__signal() && !run_signal_at) {
		/* Ctrl-C reaches the whole process group; SIGTERM to perfbpf is passed on. */
		if (trace_session__signal() != SIGINT)
			kill(run_child, trace_session__signal());
		run_signal_at = mono_ns();
		if (!s->stop_reason)
			s->stop_reason = "interrupted";
	}
	if (run_status >= 0)
		return true;
	if (run_signal_at && mono_ns() - run_signal_at > RUN_GRACE_NS)
		return true;
	/* --duration: stop tracing; the command runs on and is waited for after the report. */
	return s->stop_reason != NULL && !run_signal_at;
}

/* Forks the command, held before exec until `go` is written, so probes attach first. */
static pid_t spawn_held(char **argv, int *go_fd, int *err_fd)
{
	int go[2], report[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(report, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(report[0]);
		signal(SIGINT, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		/* the command runs as the user, never with perfbpf's privileges */
		e = -permission__drop_for_exec();
		if (!e) {
			execvp(argv[0], argv);
			e = errno;
		}
		if (write(report[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(report[1]);
	*go_fd = go[1];
	*err_fd = report[0];
	return pid;
}

/* perfbpf's Python binding, which an interpreter loads at `import perfbpf`, long after it
 * starts: the extension module in each PYTHONPATH directory, in this perfbpf's build tree
 * (bindings/python next to it) and where `make install` put it (PREFIX/lib/python3.X), added
 * to objs so that it is armed before the command runs. first (if given) gets the first one
 * found, the one the interpreter imports when its directory leads PYTHONPATH ("" if none). */
/* The files matching pattern, added to objs; the first file found overall goes to first. */
static void add_glob(struct target_objs *objs, const char *pattern, char *first, size_t *found)
{
	glob_t g;

	if (glob(pattern, 0, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++) {
			target__add_path(objs, g.gl_pathv[i]);
			if (first && (*found)++ == 0)
				snprintf(first, PATH_MAX, "%s", g.gl_pathv[i]);
		}
	globfree(&g);
}

/* Every directory of the path variable `var` (':'-separated; an empty one is "."), with `rel`
 * appended: a glob of binding files to arm. */
static void add_path_var(struct target_objs *objs, const char *var, const char *rel, char *first,
			 size_t *found)
{
	const char *v = getenv(var);
	char pattern[PATH_MAX + 64];
	char *dirs = v ? strdup(v) : NULL, *save = NULL;

	for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		snprintf(pattern, sizeof(pattern), "%s/%s", *d ? d : ".", rel);
		add_glob(objs, pattern, first, found);
	}
	free(dirs);
}

/* The binding that came with perfbpf: rel[0] beside its executable (the build tree), rel[1]
 * (the installed one). */
static void add_beside_self(struct target_objs *objs, const char *const rel[2], char *first,
			    size_t *found)
{
	char self[PATH_MAX], pattern[PATH_MAX + 64], *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return;
	self[n] = '\0';
	dir = dirname(self);
	for (int k = 0; k < 2; k++) {
		snprintf(pattern, sizeof(pattern), "%s/%s", dir, rel[k]);
		add_glob(objs, pattern, first, found);
	}
}

static void add_python_binding(struct target_objs *objs, char *first)
{
	static const char *const mine[2] = { "bindings/python/perfbpf/_perfbpf*.so",
					     "../lib/python3*/dist-packages/perfbpf/_perfbpf*.so" };
	size_t found = 0;

	if (first)
		first[0] = '\0';
	add_path_var(objs, "PYTHONPATH", "perfbpf/_perfbpf*.so", first, &found);
	add_beside_self(objs, mine, first, &found);
}

/* --python: the interpreter starts with perfbpf's startup hook (the package's _hook directory
 * first on PYTHONPATH, its sitecustomize installs the function hook for the patterns in
 * PERFBPF_PYTHON_FUNCTIONS, one per line) and the package itself importable. binding: the
 * extension module the command will import. 0, or -1 after one line. */
static int python_hook_env(const struct cli_opts *o, const char *binding)
{
	char pkg[PATH_MAX], *parent, *pp;
	const char *old = getenv("PYTHONPATH");
	size_t len = 1;
	char *pats;
	int err;

	if (!binding[0]) {
		pb_err("--python: perfbpf's Python package was not found (build it with 'make', "
		       "install it with 'make install', or put its directory on PYTHONPATH)");
		return -1;
	}
	snprintf(pkg, sizeof(pkg), "%s", binding);
	parent = dirname(dirname(pkg)); /* .../perfbpf/_perfbpf.so -> ... */
	for (size_t i = 0; i < o->npython; i++)
		len += strlen(o->python[i]) + 1;
	pats = calloc(1, len);
	if (!pats || asprintf(&pp, "%s/perfbpf/_hook:%s%s%s", parent, parent, old ? ":" : "",
			      old ? old : "") < 0) {
		free(pats);
		pb_err("--python: %s", strerror(ENOMEM));
		return -1;
	}
	for (size_t i = 0; i < o->npython; i++) {
		strcat(pats, o->python[i]);
		strcat(pats, "\n");
	}
	err = setenv("PERFBPF_PYTHON_FUNCTIONS", pats, 1) || setenv("PYTHONPATH", pp, 1);
	free(pats);
	free(pp);
	if (err) {
		pb_err("--python: cannot set the environment: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The --lib libraries, added to objs: each must exist and have perfbpf probes (its own SDT
 * notes read, not those of objs). 0, or -1 after one line. */
static int add_libs(struct target_objs *objs, const struct cli_opts *o)
{
	for (size_t i = 0; i < o->nlibs; i++) {
		struct target_objs one = { 0 };
		int err = target__add_path(&one, o->libs[i]);
		size_t probes = err < 0 ? 0 : target__count_probe_objects(&one);

		target__free(&one);
		if (err < 0) {
			pb_err("--lib %s: %s", o->libs[i], strerror(-err));
			return -1;
		}
		if (!probes) {
			pb_err("--lib %s: no perfbpf probes in it (run 'perfbpf list %s')", o->libs[i],
			       o->libs[i]);
			return -1;
		}
		target__add_path(objs, o->libs[i]);
	}
	return 0;
}

/* Whether the command is an interpreter whose name begins with `name` (python3, python3.11,
 * node, nodejs) or a script whose #! line names one. */
static bool is_interpreter(const char *exe, const char *name)
{
	const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	char line[256] = "";
	FILE *f;

	if (!strncmp(base, name, strlen(name)))
		return true;
	f = fopen(exe, "re");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return !strncmp(line, "#!", 2) && strstr(line, name);
}

static bool is_python(const char *exe)
{
	return is_interpreter(exe, "python");
}

/* perfbpf's Node addon, which `require('perfbpf')` loads long after node starts: in each
 * NODE_PATH directory, in node_modules/perfbpf of the working directory and its parents, in
 * this perfbpf's build tree (bindings/node) and where a global npm install puts it
 * (PREFIX/lib/node_modules), added to objs so that it is armed before the command runs. */
static void add_node_binding(struct target_objs *objs)
{
	static const char *const mine[2] = { "bindings/node/perfbpf.node",
					     "../lib/node_modules/perfbpf/perfbpf.node" };
	char pattern[PATH_MAX + 64], cwd[PATH_MAX];
	size_t found = 0;

	add_path_var(objs, "NODE_PATH", "perfbpf/perfbpf.node", NULL, &found);
	if (getcwd(cwd, sizeof(cwd))) {
		for (char *end; cwd[0]; *end = '\0') {
			snprintf(pattern, sizeof(pattern), "%s/node_modules/perfbpf/perfbpf.node", cwd);
			add_glob(objs, pattern, NULL, &found);
			end = strrchr(cwd, '/');
			if (!end)
				break;
		}
	}
	add_beside_self(objs, mine, NULL, &found);
}

/* The executable, the libraries it needs, the --lib ones and, for Python and Node, perfbpf's
 * binding for them (and with --python its startup hook): what a run attaches to before the
 * command starts. A library list that cannot be
 * read is warned about: libraries are then attached once loaded. -1 after a bad --lib. */
static int collect_objs(struct probe_objs *po, const char *exe, const struct cli_opts *o)
{
	static bool hook_env_set; /* by the first run (--repeat runs again) */
	char binding[PATH_MAX];
	int err;

	target__free(&po->objs);
	memset(po, 0, sizeof(*po));
	err = target__add_path(&po->objs, exe);
	if (add_libs(&po->objs, o))
		return -1;
	if (o->npython && !is_python(exe)) {
		pb_err("--python: '%s' is not a Python interpreter or a script run by one", exe);
		return -1;
	}
	if (is_python(exe))
		add_python_binding(&po->objs, binding);
	if (is_interpreter(exe, "node"))
		add_node_binding(&po->objs);
	if (o->npython && !hook_env_set) {
		if (python_hook_env(o, binding))
			return -1;
		hook_env_set = true;
	}
	if (err >= 0)
		err = target__add_needed_libs(&po->objs, exe);
	if (err < 0)
		pb_warn("%s: cannot list its shared libraries (%s); libraries are attached once "
			"loaded", exe, strerror(-err));
	return 0;
}

/* One run of the command, traced from its first instruction: 0 with run_status set (the
 * command's exit status, or -1 if it is still running), 127 when it could not be started, or
 * another positive exit status of perfbpf's after a message. */
static int run_once(struct session *s, const char *exe)
{
	const struct cli_opts *o = s->o;
	int go_fd = -1, err_fd = -1, exec_errno = 0, st, err;

	run_status = -1;
	run_signal_at = 0;
	if (s->tracer)
		tracer__detach_probes(s->tracer);
	if (s->nruns && collect_objs(&s->po, exe, o))
		return EXIT_FAIL; /* a --lib changed between runs */
	run_child = spawn_held(o->run_argv, &go_fd, &err_fd);
	if (run_child < 0) {
		pb_err("cannot start '%s': %s", o->run_argv[0], strerror(errno));
		return 127;
	}
	s->pid = run_child;
	err = s->tracer ? 0 : trace_session__init(s, o, run_child);
	err = err ?: trace_session__begin_run(s);
	err = err ?: tracer__attach_new(s->tracer, s->pid, &s->po);
	if (err) {
		kill(run_child, SIGKILL);
		waitpid(run_child, &st, 0);
		close(go_fd);
		close(err_fd);
		return EXIT_FAIL;
	}
	/* the last command is started: what perfbpf no longer needs goes (the commands before
	 * it were forked with everything, so every run's command starts alike) */
	if (s->nruns + 1 == o->repeat)
		permission__drop_unneeded(!o->no_yield);
	s->start_mono = mono_ns();
	s->start_real = real_ns();
	if (write(go_fd, "g", 1) != 1)
		pb_warn("cannot release the command: %s", strerror(errno));
	close(go_fd);
	if (read(err_fd, &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
		pb_err("cannot run '%s': %s", o->run_argv[0], strerror(exec_errno));
		waitpid(run_child, &st, 0);
		close(err_fd);
		return 127;
	}
	close(err_fd);
	err = trace_session__loop(s, run_done);
	err = err ?: trace_session__end_run(s, run_status);
	/* --duration: tracing stopped; the command runs on and is waited for */
	if (run_status < 0 && (err || s->nruns < o->repeat) &&
	    waitpid(run_child, &st, 0) == run_child)
		run_status = wait_status(st);
	return err ? EXIT_FAIL : 0;
}

int run__main(const struct cli_opts *o)
{
	struct session s = { .o = o };
	int rc = 0, st;
	char *exe;

	if (tracer__check_privileges())
		return EXIT_FAIL;
	exe = target__which(o->run_argv[0]);
	if (!exe) {
		pb_err("cannot run '%s': %s", o->run_argv[0], strerror(errno));
		return 127;
	}
	if (collect_objs(&s.po, exe, o)) {
		free(exe);
		target__free(&s.po.objs);
		return EXIT_FAIL;
	}
	s.command = join_words("", (const char *const *)o->run_argv, SIZE_MAX);
	if (target__count_probe_objects(&s.po.objs) == 0) {
		pb_err("%s: no perfbpf probes in it or its %zu shared libraries (run 'perfbpf list "
		       "%s' to see what is there; a probe library it loads later: --lib PATH)", exe,
		       s.po.objs.n ? s.po.objs.n - 1 : 0, exe);
		free(exe);
		trace_session__fini(&s);
		return EXIT_FAIL;
	}
	if (trace_session__open_outputs(&s)) {
		free(exe);
		trace_session__fini(&s);
		return EXIT_FAIL;
	}
	trace_session__install_signals();
	for (unsigned i = 0; i < o->repeat; i++) {
		if (o->repeat > 1 && !o->quiet)
			fprintf(stderr, "perfbpf: run %u of %u\n", i + 1, o->repeat);
		rc = run_once(&s, exe);
		if (rc)
			break;
		if (trace_session__signal())
			break;
		if (run_status != 0 && i + 1 < o->repeat) {
			pb_err("run %u of %u: the command exited with status %d; no further runs", i + 1,
			       o->repeat, run_status);
			break;
		}
	}
	free(exe);
	s.exit_status = run_status;
	if (s.nruns && trace_session__report(&s))
		rc = rc ?: EXIT_FAIL;
	if (trace_session__fini(&s))
		rc = rc ?: EXIT_FAIL;
	if (run_status < 0 && run_child > 0 && waitpid(run_child, &st, 0) == run_child)
		run_status = wait_status(st);
	if (rc)
		return rc;
	return run_status < 0 ? EXIT_FAIL : run_status;
}
