// SPDX-License-Identifier: BSD-2-Clause
/* Who may trace what (see permission.h). */
#include "user/attach/permission.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user/lib/util.h"

/* The hex value of a "Name:\t..." line of /proc/<pid>/status, or of its four ids ("Uid:"). */
static int status_line(pid_t pid, const char *name, char *out, size_t cap)
{
	char path[64], line[256];
	size_t n = strlen(name);
	FILE *f;
	int err = -ENOENT;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n)) {
			snprintf(out, cap, "%s", line + n);
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

bool permission__elevated(void)
{
	char v[64];

	if (geteuid() != getuid() || getegid() != getgid())
		return true;
	if (getuid() == 0)
		return false;
	return !status_line(0, "CapEff:", v, sizeof(v)) && strtoull(v, NULL, 16) != 0;
}

/* Whether pid descends from this process. */
static bool descends_from_me(pid_t pid)
{
	pid_t me = getpid();

	for (int hops = 0; pid > 1 && hops < 4096; hops++) {
		char v[32];

		if (status_line(pid, "PPid:", v, sizeof(v)))
			return false;
		pid = (pid_t)atoi(v);
		if (pid == me)
			return true;
	}
	return false;
}

static int yama_scope(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	int v = 0;

	if (!f)
		return 0; /* no Yama */
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

int permission__may_trace(pid_t pid, const char *what)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	unsigned u[4], g[4];
	char v[128], path[32];
	struct stat st;
	int scope;

	if (!permission__elevated())
		return 0;
	if (status_line(pid, "Uid:", v, sizeof(v)) ||
	    sscanf(v, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]) != 4 ||
	    status_line(pid, "Gid:", v, sizeof(v)) ||
	    sscanf(v, "%u %u %u %u", &g[0], &g[1], &g[2], &g[3]) != 4) {
		pb_err("%s: no such process", what);
		return -ESRCH;
	}
	if (uid == 0)
		return 0;
	for (int i = 0; i < 3; i++)
		if (u[i] != uid || g[i] != gid) {
			pb_err("%s: you (uid %u) may not trace a process of another user or group "
			       "(uid %u, gid %u): perfbpf acts for the user who runs it", what,
			       (unsigned)uid, u[i], g[i]);
			return -EPERM;
		}
	/* a process that is not dumpable (set-user-id, or it asked) has its /proc files owned by
	 * root: the kernel refuses to let its user ptrace it */
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) || st.st_uid != uid) {
		pb_err("%s: the process is not dumpable (set-user-id, or it turned that off): only "
		       "root may trace it", what);
		return -EPERM;
	}
	scope = yama_scope();
	if (scope >= 2 || (scope == 1 && !descends_from_me(pid))) {
		pb_err("%s: Yama's ptrace_scope is %d: %s", what, scope,
		       scope == 1 ? "only a process perfbpf started may be traced (perfbpf run), "
				    "or run as root"
				  : "only root may trace processes");
		return -EPERM;
	}
	return 0;
}

int permission__may_trace_all(const char *what)
{
	if (!permission__elevated() || getuid() == 0)
		return 0;
	pb_err("%s: only root may install probes that every process mapping the file runs "
	       "(you are uid %u; use --pid for your own processes)", what, (unsigned)getuid());
	return -EPERM;
}

int permission__drop_for_exec(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (!permission__elevated())
		return 0;
	if (setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
		return -errno;
	/* no ambient capabilities reach the command */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return 0;
}

bool permission__may_leave_idle(void)
{
	cap_flag_value_t v = CAP_CLEAR;
	struct rlimit rl;
	cap_t caps = cap_get_proc();

	if (caps) {
		cap_get_flag(caps, CAP_SYS_NICE, CAP_EFFECTIVE, &v);
		cap_free(caps);
	}
	/* SCHED_IDLE counts as nice 19 being lowered to 0: RLIMIT_NICE 20 allows it */
	return v == CAP_SET || (!getrlimit(RLIMIT_NICE, &rl) && rl.rlim_cur >= 20);
}

int permission__drop_unneeded(bool keep_nice)
{
	static const cap_value_t keep[] = { CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE,
					    CAP_CHECKPOINT_RESTORE, CAP_DAC_OVERRIDE,
					    CAP_DAC_READ_SEARCH, CAP_FOWNER };
	const cap_flag_t sets[] = { CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE };
	cap_value_t last = (cap_value_t)cap_max_bits();
	cap_t caps = cap_get_proc();
	int err = 0;

	if (!caps)
		return -errno;
	for (cap_value_t v = 0; v < last; v++) {
		bool kept = keep_nice && v == CAP_SYS_NICE;

		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			kept |= keep[i] == v;
		if (kept)
			continue;
		/* the bounding set first: it needs CAP_SETPCAP, about to go (without it, as a
		 * capability copy has, the bounding set stays and NO_NEW_PRIVS guards exec) */
		if (CAP_IS_SUPPORTED(v) && cap_drop_bound(v) && errno != EPERM && errno != EINVAL)
			err = -errno;
		for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
			cap_set_flag(caps, sets[i], 1, &v, CAP_CLEAR);
	}
	if (cap_set_proc(caps))
		err = -errno;
	cap_free(caps);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err = err ?: -errno;
	if (err)
		pb_warn("cannot drop the capabilities perfbpf no longer needs: %s", strerror(-err));
	return err;
}
