/* SPDX-License-Identifier: BSD-2-Clause */
/* Who may trace what. perfbpf installed with file capabilities (or set-user-id) has privileges
 * its invoking user does not: it then acts for the real user, who may trace only the processes
 * the kernel would let it ptrace (PTRACE_MODE_ATTACH_REALCREDS: the same real, effective and
 * saved user and group ids, a dumpable process, and Yama's ptrace_scope), and install probes in
 * a file every process maps (monitor --binary) only as root. Run as root, or without
 * privileges of its own, perfbpf leaves the checks to the kernel. */
#ifndef PERFBPF_PERMISSION_H
#define PERFBPF_PERMISSION_H

#include <stdbool.h>
#include <sys/types.h>

/* Whether perfbpf holds privileges its real user does not: a real uid other than 0 with
 * effective capabilities, or an effective uid other than the real one. */
bool permission__elevated(void);
/* 0 if the real user may trace process pid (`what`: the command, for the message), else -EPERM
 * after one line naming the rule. Always 0 when not elevated. */
int permission__may_trace(pid_t pid, const char *what);
/* 0 if the real user may trace every process that maps a file (only root), else -EPERM after
 * one line. */
int permission__may_trace_all(const char *what);
/* Once the probes are attached and nothing more will be started: only the capabilities perfbpf
 * still uses while it traces stay in its effective, permitted and (when it may change it)
 * bounding sets: CAP_BPF and CAP_PERFMON (libraries loaded later), CAP_SYS_PTRACE and
 * CAP_CHECKPOINT_RESTORE (their maps and files), CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and
 * CAP_FOWNER (reports written at the end, by root, where it does not own the directory) and, with
 * keep_nice, CAP_SYS_NICE (the ring's consumer returning from SCHED_IDLE, consumer_yield.h). Every
 * other one (CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SETUID, CAP_NET_ADMIN, ...) is gone for good, and
 * no_new_privs is set: perfbpf cannot gain them back, even by exec. 0 or -errno (after a
 * warning: tracing goes on). */
int permission__drop_unneeded(bool keep_nice);
/* Whether this process may return a thread of its own from SCHED_IDLE to normal priority
 * (CAP_SYS_NICE, or an RLIMIT_NICE of 20). */
bool permission__may_leave_idle(void);
/* In a child about to exec the user's command: the real user's ids for good (a set-user-id
 * perfbpf must not run it as root) and no capabilities. 0 or -errno. */
int permission__drop_for_exec(void);

#endif
