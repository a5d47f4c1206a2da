// SPDX-License-Identifier: BSD-2-Clause
/* A tracing session: attach to a pid or run a command, trace, report. */
#include "user/cmd/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exporters/events/events.h"
#include "exporters/otlp/otlp_trace.h"
#include "exporters/report/json.h"
#include "exporters/report/markdown.h"
#include "user/aggregate/agg.h"
#include "user/aggregate/run_summary.h"
#include "user/attach/sdt.h"
#include "user/attach/target.h"
#include "user/collect/tracer.h"
#include "user/lib/output.h"
#include "user/lib/signals.h"
#include "user/lib/util.h"
#include "user/model/environment.h"

#define POLL_MS 10       /* ring drain period: the consumer is woken by the timer */
#define RESCAN_NS 500000000ull /* look for newly loaded libraries (dlopen) this often */
#define RUN_GRACE_NS 5000000000ull /* after forwarding a signal, wait this long for the command */

struct session {
	const struct cli_opts *o;
	struct tracer *tracer;
	struct agg *agg;     /* every event of every run */
	struct agg *run_agg; /* --repeat > 1: this run's events only (with histograms) */
	struct run_summary *runs;
	size_t nruns;
	uint64_t counters_at_start[PERFBPF_CNT__MAX]; /* of this run */
	struct environment env;
	struct probe_objs po;
	int pid;
	int agg_err;
	FILE *json, *md, *events; /* outputs asked for, or NULL */
	uint64_t events_unwritten; /* event log lines lost after a stop signal (reader not reading) */
	struct events_writer *ew;
	struct otlp_trace *otlp; /* --otlp */
	struct otlp_stats otlp_stats;
	char *command;
	const char *stop_reason;
	int exit_status;
	uint64_t start_mono, start_real;
};

static volatile sig_atomic_t got_signal;

/* The live event log's descriptor when it is a pipe, FIFO or socket, else -1 (see on_signal). */
static int live_log_fd = -1;

/* A stop signal; also makes the live event log stop waiting for its reader: a reader that
 * stopped reading (a full pipe) would otherwise block the last drain forever, and writes that
 * would block fail from here on (on_event counts them). fcntl is async-signal-safe. */
static void on_signal(int sig)
{
	int saved = errno, fl;

	got_signal = sig;
	if (live_log_fd >= 0 && (fl = fcntl(live_log_fd, F_GETFL)) >= 0)
		fcntl(live_log_fd, F_SETFL, fl | O_NONBLOCK);
	errno = saved;
}

/* Remembers the event log's descriptor for on_signal when the log is read live (pipe, FIFO,
 * socket); a regular file never blocks. */
static void watch_live_log(FILE *f)
{
	struct stat st;
	int fd = f ? fileno(f) : -1;

	if (fd >= 0 && !fstat(fd, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		live_log_fd = fd;
}

/* A write blocked on a reader that stopped reading returns EINTR; a second signal ends perfbpf
 * at once. */
static void install_signals(void)
{
	signals__on_stop(on_signal, SA_RESETHAND);
}

static int on_event(void *ctx, const struct perfbpf_event *e)
{
	struct session *s = ctx;
	int err = agg__add(s->agg, e);

	if (!err && s->run_agg)
		err = agg__add(s->run_agg, e);
	if (!err && s->ew) {
		err = events__write(s->ew, e);
		/* after a stop signal the log's writes no longer wait for a reader that stopped
		 * reading (see on_signal): count what is lost, keep the statistics */
		if (err && got_signal) {
			s->events_unwritten++;
			err = 0;
		}
	}
	if (!err && s->otlp)
		err = otlp_trace__event(s->otlp, e);
	if (err)
		s->agg_err = err;
	return err;
}

static int on_note(void *ctx, const struct perfbpf_note *n)
{
	struct session *s = ctx;
	int err = s->otlp ? otlp_trace__note(s->otlp, n) : 0;

	if (err)
		s->agg_err = err;
	return err;
}

/* Opens one output asked for by path ("-" is stdout); NULL path: nothing to open. */
static int open_output(const char *path, FILE **f)
{
	int err = 0;

	if (path)
		*f = output__open(path, &err);
	return err;
}

/* On failure the caller's session_fini closes whatever was opened. */
static int open_outputs(struct session *s)
{
	const struct cli_opts *o = s->o;
	int err;

	err = open_output(o->events_path, &s->events);
	err = err ?: open_output(o->json_path, &s->json);
	err = err ?: open_output(o->markdown_path, &s->md);
	if (err)
		return err;
	watch_live_log(s->events);
	/* no output named: the report goes to stdout, unless stdout already carries another one */
	if (!o->markdown_path && !o->quiet && !output__is_stdout(o->json_path) &&
	    !output__is_stdout(o->events_path))
		s->md = stdout;
	return 0;
}

static int close_output(FILE *f, const char *path)
{
	int err = output__close(f);

	if (!err)
		return 0;
	if (got_signal && (err == -EAGAIN || err == -EINTR || f == stdout))
		return 0; /* after a stop signal (see on_signal): said by the caller */
	return output__fail(path, err);
}

/* A run begins: its loss counters and (with --repeat) its own aggregation start from here. */
static int begin_run(struct session *s)
{
	struct agg_opts ao = { .sample_budget = s->o->sample_budget, .max_keys = s->o->max_keys,
			       .histograms = true };

	s->stop_reason = NULL;
	agg__new_run(s->agg);
	tracer__counters(s->tracer, s->counters_at_start);
	if (s->o->repeat > 1 && !(s->run_agg = agg__new(&ao)))
		return -ENOMEM;
	return 0;
}

/* A run has ended: drain its events and keep its record. */
static int end_run(struct session *s, int exit_status)
{
	struct run_summary *r, *nr;
	struct summary sum = { 0 };
	uint64_t now[PERFBPF_CNT__MAX];
	int err;

	/* the probes first: an engine that keeps firing faster than the consumer (a slow event
	 * log, a sanitizer build) would otherwise keep this drain from ever ending */
	tracer__detach_probes(s->tracer);
	tracer__drain(s->tracer);
	nr = realloc(s->runs, (s->nruns + 1) * sizeof(*s->runs));
	if (!nr)
		return -ENOMEM;
	s->runs = nr;
	r = memset(&s->runs[s->nruns], 0, sizeof(*r));
	err = agg__summarize(s->run_agg ? s->run_agg : s->agg, &sum);
	if (!err)
		err = run_summary__capture(r, &sum);
	agg__free(s->run_agg);
	s->run_agg = NULL;
	if (err) {
		pb_err("cannot keep the statistics of run %zu: %s", s->nruns + 1, strerror(-err));
		return err;
	}
	tracer__counters(s->tracer, now);
	for (int i = 0; i < PERFBPF_CNT__MAX; i++)
		now[i] -= s->counters_at_start[i];
	r->index = (unsigned)++s->nruns;
	r->pid = s->pid;
	r->exit_status = exit_status;
	r->stop_reason = s->stop_reason;
	r->start_real_ns = s->start_real;
	r->trace_ns = mono_ns() - s->start_mono;
	r->dropped = summary__dropped(now);
	return 0;
}

/* Counters, statistics over every run, and the outputs. */
static int report(struct session *s)
{
	struct summary sum = { 0 };
	uint64_t *per_cpu;
	int err;

	tracer__drain(s->tracer);
	if (s->otlp) {
		otlp_trace__finish(s->otlp);
		otlp_trace__stats(s->otlp, &s->otlp_stats);
		sum.otlp = &s->otlp_stats;
		if (otlp_stats__undelivered(&s->otlp_stats))
			pb_warn("%llu of %llu spans were not delivered to %s (last error: %s)",
				(unsigned long long)otlp_stats__undelivered(&s->otlp_stats),
				(unsigned long long)s->otlp_stats.spans, s->otlp_stats.url,
				s->otlp_stats.last_error[0] ? s->otlp_stats.last_error : "none");
	}
	sum.command = s->command;
	sum.pid = s->pid;
	sum.stop_reason = s->stop_reason;
	sum.exit_status = s->exit_status;
	sum.start_real_ns = s->nruns ? s->runs[0].start_real_ns : s->start_real;
	for (size_t i = 0; i < s->nruns; i++)
		sum.trace_ns += s->runs[i].trace_ns;
	sum.binaries = s->po.binaries;
	sum.probe_sites = s->po.sites;
	sum.strings_from_files = tracer__strings_from_files(s->tracer);
	sum.attribution = s->o->attribution;
	sum.runs = s->runs;
	sum.nruns = s->nruns;
	sum.env = &s->env;
	err = agg__summarize(s->agg, &sum);
	if (err) {
		pb_err("cannot compute the statistics: %s", strerror(-err));
		return err;
	}
	err = tracer__summary_losses(s->tracer, &sum, &per_cpu);
	if (err) {
		pb_err("cannot read the loss counters: %s", strerror(-err));
		return err;
	}
	if (sum.dropped)
		pb_warn("%llu events were dropped (see the report's data quality section)",
			(unsigned long long)sum.dropped);
	if (s->json && json__write(s->json, &sum))
		err = -EIO;
	if (s->md && markdown__write(s->md, &sum, &s->o->md))
		err = -EIO;
	free(per_cpu);
	return err;
}

static int session_init(struct session *s, const struct cli_opts *o, int pid)
{
	/* one run: the run's record comes from this aggregation, with histograms */
	struct agg_opts ao = { .sample_budget = o->sample_budget, .max_keys = o->max_keys,
			       .histograms = o->repeat <= 1 };
	struct tracer_opts to = {
		.ring_size = o->ring_size,
		.wakeup_bytes = o->ring_size / 4,
		.max_threads = (uint32_t)o->max_threads,
		.attribution = o->attribution,
		.span_notes = o->otlp_flags.enabled,
		.on_event = on_event,
		.on_note = on_note,
		.ctx = s,
		.stop = &got_signal,
	};

	s->pid = pid;
	s->exit_status = -1;
	environment__read(&s->env);
	if (s->events && !(s->ew = events__new(s->events)))
		return -ENOMEM;
	s->agg = agg__new(&ao);
	if (!s->agg)
		return -ENOMEM;
	if (o->otlp_flags.enabled) {
		s->otlp = otlp_trace__new(&o->otlp, s->command);
		if (!s->otlp)
			return -ENOMEM;
		if (!o->quiet)
			fprintf(stderr, "perfbpf: sending spans to %s (%s%s)\n", o->otlp.url,
				o->otlp.protocol == OTLP_HTTP_JSON ? "http/json" : "http/protobuf",
				o->otlp.gzip ? ", gzip" : "");
	}
	return tracer__new(&to, &s->tracer);
}

/* Detaches, closes the outputs and frees; returns an output's write error, if any. */
static int session_fini(struct session *s)
{
	int err = 0;

	tracer__free(s->tracer);
	otlp_trace__free(s->otlp);
	events__free(s->ew);
	err = close_output(s->json, s->o->json_path) ?: err;
	err = close_output(s->md, s->o->markdown_path) ?: err;
	if (s->events && got_signal && (s->events_unwritten || fflush(s->events) || ferror(s->events)))
		pb_warn("%s: its reader stopped reading; at least %llu events after the stop were not "
			"written to it (they are in the statistics)", s->o->events_path,
			(unsigned long long)s->events_unwritten);
	err = close_output(s->events, s->o->events_path) ?: err;
	agg__free(s->agg);
	agg__free(s->run_agg);
	for (size_t i = 0; i < s->nruns; i++)
		run_summary__free(&s->runs[i]);
	free(s->runs);
	target__free(&s->po.objs);
	free(s->command);
	return err;
}

/* Polls until `done` says stop; returns 0 or -errno. */
typedef bool (*done_fn)(struct session *s);

static int trace_loop(struct session *s, done_fn done)
{
	uint64_t deadline = s->o->duration_ns ? s->start_mono + s->o->duration_ns : 0;
	uint64_t next_scan = mono_ns() + RESCAN_NS;

	/* the first drains come sooner (1, 2, 4, 8 ms, then every POLL_MS), so that the first
	 * events show without waiting a whole period (`--events -`, time to first event) */
	int period = 1;

	bool rescan = true;

	while (!done(s)) {
		int n, err = tracer__refresh_strings(s->tracer, s->pid, rescan);
		uint64_t now;

		if (err) {
			pb_err("reading the read-only ranges of pid %d failed: %s", s->pid,
			       strerror(-err));
			return err;
		}
		n = tracer__poll(s->tracer, period);
		rescan = false;

		period = period * 2 < POLL_MS ? period * 2 : POLL_MS;

		if (n < 0 && n != -EINTR) {
			pb_err("reading events failed: %s", strerror(-n));
			return n;
		}
		/* the event log is read live (`--events -`, a FIFO): hand over each drained batch */
		if (n > 0 && s->events)
			fflush(s->events);
		now = mono_ns();
		if (deadline && now >= deadline && !s->stop_reason)
			s->stop_reason = "the duration elapsed";
		if (now >= next_scan) {
			next_scan = now + RESCAN_NS;
			rescan = true;
			if (target__scan_maps(s->pid, &s->po.objs) > 0 &&
			    (err = tracer__attach_new(s->tracer, s->pid, &s->po)))
				return err;
		}
	}
	return 0;
}

/* --- attach ------------------------------------------------------------------------------------- */

static int attach_pidfd = -1;

static bool attach_done(struct session *s)
{
	struct pollfd p = { .fd = attach_pidfd, .events = POLLIN };

	if (got_signal && !s->stop_reason)
		s->stop_reason = got_signal == SIGINT ? "interrupted (SIGINT)" : "terminated by a signal";
	if (!s->stop_reason && poll(&p, 1, 0) == 1)
		s->stop_reason = "the target exited";
	return s->stop_reason != NULL;
}

int trace__attach(const struct cli_opts *o)
{
	struct session s = { .o = o };
	int pid = o->pid, err;

	if (tracer__check_privileges())
		return EXIT_FAIL;
	if (target__open_pid(pid, &s.po.objs)) {
		target__free(&s.po.objs);
		return EXIT_FAIL;
	}
	s.command = target__cmdline(pid);
	if (open_outputs(&s)) {
		session_fini(&s);
		return EXIT_FAIL;
	}
	install_signals();
	err = session_init(&s, o, pid);
	if (!err)
		err = tracer__attach_new(s.tracer, s.pid, &s.po);
	if (!err) {
		attach_pidfd = pidfd_open(pid, 0);
		if (attach_pidfd < 0) {
			err = -errno;
			pb_err("pid %d exited while perfbpf attached", pid);
		}
	}
	if (!err) {
		if (!o->quiet)
			fprintf(stderr, "perfbpf: attached to %u probe sites in %u binaries of pid %d; "
					"Ctrl-C to stop\n", s.po.sites, s.po.binaries, pid);
		err = begin_run(&s);
		s.start_mono = mono_ns();
		s.start_real = real_ns();
		err = err ?: trace_loop(&s, attach_done);
	}
	if (!err)
		err = end_run(&s, -1);
	if (!err)
		err = report(&s);
	if (attach_pidfd >= 0)
		close(attach_pidfd);
	err = session_fini(&s) ?: err;
	return err ? EXIT_FAIL : EXIT_OK;
}

/* --- run ---------------------------------------------------------------------------------------- */

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
	if (got_signal && !run_signal_at) {
		/* Ctrl-C reaches the whole process group; SIGTERM to perfbpf is passed on. */
		if (got_signal != SIGINT)
			kill(run_child, got_signal);
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
		execvp(argv[0], argv);
		e = errno;
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

/* The executable and the libraries it needs: what a run attaches to before the command starts.
 * A library list that cannot be read is warned about: libraries are then attached once loaded. */
static void collect_objs(struct probe_objs *po, const char *exe)
{
	int err;

	target__free(&po->objs);
	memset(po, 0, sizeof(*po));
	err = target__add_path(&po->objs, exe);
	if (err >= 0)
		err = target__add_needed_libs(&po->objs, exe);
	if (err < 0)
		pb_warn("%s: cannot list its shared libraries (%s); libraries are attached once "
			"loaded", exe, strerror(-err));
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
	if (s->nruns)
		collect_objs(&s->po, exe);
	run_child = spawn_held(o->run_argv, &go_fd, &err_fd);
	if (run_child < 0) {
		pb_err("cannot start '%s': %s", o->run_argv[0], strerror(errno));
		return 127;
	}
	s->pid = run_child;
	err = s->tracer ? 0 : session_init(s, o, run_child);
	err = err ?: begin_run(s);
	err = err ?: tracer__attach_new(s->tracer, s->pid, &s->po);
	if (err) {
		kill(run_child, SIGKILL);
		waitpid(run_child, &st, 0);
		close(go_fd);
		close(err_fd);
		return EXIT_FAIL;
	}
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
	err = trace_loop(s, run_done);
	err = err ?: end_run(s, run_status);
	/* --duration: tracing stopped; the command runs on and is waited for */
	if (run_status < 0 && (err || s->nruns < o->repeat) &&
	    waitpid(run_child, &st, 0) == run_child)
		run_status = wait_status(st);
	return err ? EXIT_FAIL : 0;
}

int trace__run(const struct cli_opts *o)
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
	collect_objs(&s.po, exe);
	s.command = join_words("", (const char *const *)o->run_argv, SIZE_MAX);
	if (target__count_probe_objects(&s.po.objs) == 0) {
		pb_err("%s: no perfbpf probes in it or its %zu shared libraries (run 'perfbpf list "
		       "%s' to see what is there)", exe, s.po.objs.n ? s.po.objs.n - 1 : 0, exe);
		free(exe);
		session_fini(&s);
		return EXIT_FAIL;
	}
	if (open_outputs(&s)) {
		free(exe);
		session_fini(&s);
		return EXIT_FAIL;
	}
	install_signals();
	for (unsigned i = 0; i < o->repeat; i++) {
		if (o->repeat > 1 && !o->quiet)
			fprintf(stderr, "perfbpf: run %u of %u\n", i + 1, o->repeat);
		rc = run_once(&s, exe);
		if (rc)
			break;
		if (got_signal)
			break;
		if (run_status != 0 && i + 1 < o->repeat) {
			pb_err("run %u of %u: the command exited with status %d; no further runs", i + 1,
			       o->repeat, run_status);
			break;
		}
	}
	free(exe);
	s.exit_status = run_status;
	if (s.nruns && report(&s))
		rc = rc ?: EXIT_FAIL;
	if (session_fini(&s))
		rc = rc ?: EXIT_FAIL;
	if (run_status < 0 && run_child > 0 && waitpid(run_child, &st, 0) == run_child)
		run_status = wait_status(st);
	if (rc)
		return rc;
	return run_status < 0 ? EXIT_FAIL : run_status;
}
