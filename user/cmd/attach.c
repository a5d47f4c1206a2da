// SPDX-License-Identifier: BSD-2-Clause
/* `perfbpf attach PID`: trace a running process until it exits, a stop signal or --duration. */
#include "user/attach/permission.h"
#include "user/cmd/attach.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "user/cmd/trace_session.h"
#include "user/lib/util.h"

static int attach_pidfd = -1;

static bool attach_done(struct session *s)
{
	struct pollfd p = { .fd = attach_pidfd, .events = POLLIN };

	if (trace_session__signal() && !s->stop_reason)
		s->stop_reason = trace_session__signal() == SIGINT ? "interrupted (SIGINT)" : "terminated by a signal";
	if (!s->stop_reason && poll(&p, 1, 0) == 1)
		s->stop_reason = "the target exited";
	return s->stop_reason != NULL;
}

int attach__main(const struct cli_opts *o)
{
	struct session s = { .o = o };
	int pid = o->pid, err;
	char what[32];

	if (tracer__check_privileges())
		return EXIT_FAIL;
	snprintf(what, sizeof(what), "pid %d", pid);
	if (permission__may_trace(pid, what))
		return EXIT_FAIL;
	if (target__open_pid(pid, &s.po.objs)) {
		target__free(&s.po.objs);
		return EXIT_FAIL;
	}
	s.command = target__cmdline(pid);
	if (trace_session__open_outputs(&s)) {
		trace_session__fini(&s);
		return EXIT_FAIL;
	}
	trace_session__install_signals();
	err = trace_session__init(&s, o, pid);
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
		permission__drop_unneeded(!o->no_yield);
		if (!o->quiet)
			fprintf(stderr, "perfbpf: attached to %u probe sites in %u binaries of pid %d; "
					"Ctrl-C to stop\n", s.po.sites, s.po.binaries, pid);
		err = trace_session__begin_run(&s);
		s.start_mono = mono_ns();
		s.start_real = real_ns();
		err = err ?: trace_session__loop(&s, attach_done);
	}
	if (!err)
		err = trace_session__end_run(&s, -1);
	if (!err)
		err = trace_session__report(&s);
	if (attach_pidfd >= 0)
		close(attach_pidfd);
	err = trace_session__fini(&s) ?: err;
	return err ? EXIT_FAIL : EXIT_OK;
}
