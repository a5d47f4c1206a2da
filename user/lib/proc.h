/* SPDX-License-Identifier: BSD-2-Clause */
/* What /proc says of a process, read the same way everywhere. */
#ifndef PERFBPF_PROC_H
#define PERFBPF_PROC_H

/* /proc/PID/cmdline (its first 64 KiB) with its NUL separators made spaces: a new string, or NULL
 * when unreadable or empty. */
char *proc__cmdline(int pid);

#endif
