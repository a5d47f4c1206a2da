/* SPDX-License-Identifier: BSD-2-Clause */
/* What perfbpf knows of a target process: its state, command line, and the executable objects
 * it has mapped (opened through /proc/PID/map_files, so targets in other mount namespaces work). */
#ifndef PERFBPF_TARGET_H
#define PERFBPF_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct target_obj {
	char *path;      /* as the target sees it, e.g. /usr/lib/libfoo.so */
	char *open_path; /* as perfbpf opens it, e.g. /proc/42/map_files/7f0c...-7f0d... */
	dev_t dev;
	ino_t ino;
};

struct target_objs {
	struct target_obj *v;
	size_t n;
};

/* 0 if pid is a live user process; else -ESRCH (no such process), -EINVAL (kernel thread),
 * -ECHILD (a zombie: it has exited) or another -errno. */
int target__check(int pid);
/* Checks pid (live user process), scans its mapped objects into objs and checks that some have
 * perfbpf probes; on failure prints one line saying why and returns -errno. */
int target__open_pid(int pid, struct target_objs *objs);
/* Command line with arguments joined by spaces; "" if unreadable. Caller frees. */
char *target__cmdline(int pid);
/* One line of /proc/PID/maps of a file (absolute path, an inode); `file` points into the line,
 * which loses its newline. */
struct maps_line {
	unsigned long long start, end, offset;
	char perms[8];
	dev_t dev;
	ino_t ino;
	char *file;
};
bool target__parse_maps_line(char *line, struct maps_line *m);
/* Calls fn for each file mapping of pid, in /proc/PID/maps order, until fn returns non-zero
 * (returned). -ESRCH when pid is gone, -errno when its maps cannot be read. */
int target__each_mapping(int pid, int (*fn)(void *ctx, const struct maps_line *m), void *ctx);
/* The path perfbpf opens a mapping's file by: /proc/PID/map_files/START-END, or
 * /proc/PID/root/FILE where map_files cannot be read. */
void target__mapped_path(int pid, const struct maps_line *m, char *buf, size_t len);
/* Adds the file-backed executable mappings of pid not yet in `objs` (by device and inode);
 * returns how many were added, or -errno. */
int target__scan_maps(int pid, struct target_objs *objs);
/* The one-line error for a target__scan_maps failure (err < 0). */
void target__maps_error(int pid, int err);
/* Objects in objs that have perfbpf probes. */
size_t target__count_probe_objects(const struct target_objs *objs);
/* Processes that have any of `files` mapped executable now (a /proc scan), or -errno. */
int target__count_mapping(const struct target_objs *files);
bool target__has(const struct target_objs *objs, dev_t dev, ino_t ino);
/* Adds a file perfbpf opens directly (run: before the command is started). */
int target__add_path(struct target_objs *objs, const char *path);
/* The shared libraries the dynamic loader would load for `exe`, added to objs (uses the
 * executable's PT_INTERP with --list, which loads nothing and runs no code of the program). */
int target__add_needed_libs(struct target_objs *objs, const char *exe);
void target__free(struct target_objs *objs);
/* Resolve a command name the way execvp would; caller frees; NULL with errno set. */
char *target__which(const char *cmd);

#endif
