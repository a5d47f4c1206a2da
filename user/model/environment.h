/* SPDX-License-Identifier: BSD-2-Clause */
/* Where a measurement was taken: kernel, CPU, frequency governor, host. Recorded in the JSON
 * summary so `perfbpf gate` can warn when a baseline and a branch were measured differently. */
#ifndef PERFBPF_ENVIRONMENT_H
#define PERFBPF_ENVIRONMENT_H

struct environment {
	char kernel[128];         /* uname release, e.g. 6.18.0 */
	char kernel_version[256]; /* uname version (build string) */
	char machine[64];         /* uname machine, e.g. x86_64 */
	char cpu_model[256];      /* /proc/cpuinfo "model name" (or "unknown") */
	int cpus;                 /* CPUs online */
	char governor[64];        /* cpu0's cpufreq governor, or "" when not readable */
	char hostname[256];
};

/* Fills every field; what cannot be read is left "" (governor) or "unknown". */
void environment__read(struct environment *e);

#endif
