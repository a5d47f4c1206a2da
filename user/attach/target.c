// SPDX-License-Identifier: BSD-2-Clause
/* What perfbpf knows of a target process: state, command line and mapped executable objects. */
#include "user/attach/target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user/attach/elf_segments.h"
#include "user/attach/sdt.h"
#include "user/lib/proc.h"
#include "user/lib/util.h"

extern char **environ;

#define PF_KTHREAD 0x00200000

int target__check(int pid)
{
	char path[64], buf[1024], state;
	unsigned long flags;
	FILE *f;
	char *p;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	n = (int)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = '\0';
	/* comm may hold spaces and parentheses: parse after the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return -EIO;
	if (flags & PF_KTHREAD)
		return -EINVAL;
	if (state == 'Z' || state == 'X')
		return -ECHILD;
	return 0;
}

int target__open_pid(int pid, struct target_objs *objs)
{
	int err = target__check(pid);

	if (err == -ESRCH)
		pb_err("pid %d: no such process", pid);
	else if (err == -EINVAL)
		pb_err("pid %d is a kernel thread: only user processes have perfbpf probes", pid);
	else if (err == -ECHILD)
		pb_err("pid %d has already exited", pid);
	else if (err)
		pb_err("pid %d: cannot read its state: %s", pid, strerror(-err));
	if (err)
		return err;
	err = target__scan_maps(pid, objs);
	if (err < 0) {
		target__maps_error(pid, err);
		return err;
	}
	if (target__count_probe_objects(objs) == 0) {
		pb_err("pid %d: no perfbpf probes in %s or its %zu other mapped objects (run 'perfbpf "
		       "list %d' to see what is there)", pid, objs->n ? objs->v[0].path : "?",
		       objs->n ? objs->n - 1 : 0, pid);
		return -ENOENT;
	}
	return 0;
}

char *target__cmdline(int pid)
{
	char *c = proc__cmdline(pid);

	return c ? c : strdup("");
}

bool target__has(const struct target_objs *objs, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < objs->n; i++)
		if (objs->v[i].dev == dev && objs->v[i].ino == ino)
			return true;
	return false;
}

static int add_obj(struct target_objs *objs, const char *path, const char *open_path, dev_t dev,
		   ino_t ino)
{
	struct target_obj *v = realloc(objs->v, (objs->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	objs->v = v;
	v[objs->n].path = strdup(path);
	v[objs->n].open_path = strdup(open_path);
	if (!v[objs->n].path || !v[objs->n].open_path) {
		free(v[objs->n].path);
		free(v[objs->n].open_path);
		return -ENOMEM;
	}
	v[objs->n].dev = dev;
	v[objs->n].ino = ino;
	objs->n++;
	return 0;
}

int target__add_path(struct target_objs *objs, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (target__has(objs, st.st_dev, st.st_ino))
		return 0;
	return add_obj(objs, path, path, st.st_dev, st.st_ino) ?: 1;
}

bool target__parse_maps_line(char *line, struct maps_line *m)
{
	unsigned long long ino;
	unsigned maj, min;
	char *nl;
	int pos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &m->start, &m->end, m->perms,
		   &m->offset, &maj, &min, &ino, &pos) != 7 || pos == 0)
		return false;
	m->file = line + pos;
	nl = strchr(m->file, '\n');
	if (nl)
		*nl = '\0';
	if (m->file[0] != '/' || ino == 0)
		return false;
	m->dev = makedev(maj, min);
	m->ino = (ino_t)ino;
	return true;
}

void target__mapped_path(int pid, const struct maps_line *m, char *buf, size_t len)
{
	/* map_files opens the mapped file itself. /proc/PID/root + path is not enough: for a file
	 * under a mount that only exists in the target's mount namespace, maps shows the path
	 * relative to that mount (seen: "/probe_target" for /opt/x/probe_target). */
	snprintf(buf, len, "/proc/%d/map_files/%llx-%llx", pid, m->start, m->end);
	if (access(buf, R_OK))
		snprintf(buf, len, "/proc/%d/root%s", pid, m->file);
}

/* One line of /proc/PID/maps: an executable mapping of a file that still exists, or false. */
void target__maps_error(int pid, int err)
{
	const char *hint = "";

	if (err == -EACCES)
		hint = geteuid() ? " (run as root)"
				 : " (denied to root too: it may belong to another user namespace or "
				   "be protected by this host's security policy)";
	pb_err("pid %d: cannot read /proc/%d/maps: %s%s", pid, pid, strerror(-err), hint);
}

int target__each_mapping(int pid, int (*fn)(void *ctx, const struct maps_line *m), void *ctx)
{
	char path[64], line[PATH_MAX + 256];
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		struct maps_line m;

		if (target__parse_maps_line(line, &m))
			ret = fn(ctx, &m);
	}
	fclose(f);
	return ret;
}

static bool exec_mapping(const struct maps_line *m)
{
	return m->perms[2] == 'x' && !strstr(m->file, " (deleted)");
}

struct scan {
	int pid, added;
	struct target_objs *objs;
};

static int scan_one(void *ctx, const struct maps_line *m)
{
	struct scan *sc = ctx;
	char open_path[PATH_MAX + 64];
	int err;

	if (!exec_mapping(m) || target__has(sc->objs, m->dev, m->ino))
		return 0;
	target__mapped_path(sc->pid, m, open_path, sizeof(open_path));
	err = add_obj(sc->objs, m->file, open_path, m->dev, m->ino);
	if (err)
		return err;
	sc->added++;
	return 0;
}

int target__scan_maps(int pid, struct target_objs *objs)
{
	struct scan sc = { .pid = pid, .objs = objs };
	int err = target__each_mapping(pid, scan_one, &sc);

	return err ? err : sc.added;
}

/* 1 when the mapping is an executable one of a file in ctx. */
static int maps_file(void *ctx, const struct maps_line *m)
{
	const struct target_objs *files = ctx;

	return exec_mapping(m) && target__has(files, m->dev, m->ino);
}

static bool maps_any(int pid, const struct target_objs *files)
{
	return target__each_mapping(pid, maps_file, (void *)files) == 1;
}

size_t target__count_probe_objects(const struct target_objs *objs)
{
	size_t n = 0;

	for (size_t i = 0; i < objs->n; i++) {
		struct sdt_notes notes;

		if (sdt__read_file(objs->v[i].open_path, &notes))
			continue;
		n += sdt__count(&notes, "perfbpf", NULL) > 0;
		sdt__free(&notes);
	}
	return n;
}

int target__count_mapping(const struct target_objs *files)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int pid;

		if (parse_pid(de->d_name, &pid) == 0 && maps_any(pid, files))
			n++;
	}
	closedir(d);
	return n;
}

/* PT_INTERP of an ELF executable into buf; -ENOENT if it has none (static). */
static int elf_interp(const char *exe, char *buf, size_t len)
{
	GElf_Phdr *ph = NULL;
	int fd, err = -ENOENT;
	ssize_t n;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	n = elf_segments__read(elf, &ph);
	if (n < 0)
		err = n == -ENOMEM ? -ENOMEM : -ENOEXEC;
	for (ssize_t i = 0; i < n; i++) {
		if (ph[i].p_type != PT_INTERP)
			continue;
		if (ph[i].p_filesz == 0 || ph[i].p_filesz >= len ||
		    pread(fd, buf, ph[i].p_filesz, (off_t)ph[i].p_offset) != (ssize_t)ph[i].p_filesz) {
			err = -ENOEXEC;
			break;
		}
		buf[ph[i].p_filesz] = '\0';
		err = 0;
		break;
	}
	free(ph);
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

int target__add_needed_libs(struct target_objs *objs, const char *exe)
{
	char interp[PATH_MAX], line[PATH_MAX + 128];
	char *argv[] = { interp, "--list", (char *)exe, NULL };
	posix_spawn_file_actions_t fa;
	int pfd[2], err, status, added = 0;
	pid_t child;
	FILE *f;

	err = elf_interp(exe, interp, sizeof(interp));
	if (err)
		return err == -ENOENT ? 0 : err;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	err = -posix_spawn(&child, interp, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (err) {
		close(pfd[0]);
		return err;
	}
	f = fdopen(pfd[0], "r");
	if (!f) {
		close(pfd[0]);
		waitpid(child, &status, 0);
		return -errno;
	}
	/* "\tlibx.so.1 => /usr/lib/libx.so.1 (0x...)" or "\t/lib64/ld-linux-x86-64.so.2 (0x...)" */
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "=> "), *end;

		p = p ? p + 3 : line + strspn(line, " \t");
		if (*p != '/')
			continue;
		end = strstr(p, " (0x");
		if (!end)
			continue;
		*end = '\0';
		if (target__add_path(objs, p) > 0)
			added++;
	}
	fclose(f);
	waitpid(child, &status, 0);
	return added;
}

void target__free(struct target_objs *objs)
{
	for (size_t i = 0; i < objs->n; i++) {
		free(objs->v[i].path);
		free(objs->v[i].open_path);
	}
	free(objs->v);
	objs->v = NULL;
	objs->n = 0;
}

char *target__which(const char *cmd)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(cmd, '/')) {
		if (access(cmd, X_OK))
			return NULL;
		return realpath(cmd, NULL);
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(len ? len : 1), len ? path : ".", cmd);
		if (access(buf, X_OK) == 0)
			return realpath(buf, NULL);
		path += len + (path[len] == ':');
	}
	errno = ENOENT;
	return NULL;
}
