/* SPDX-License-Identifier: BSD-2-Clause */
/* Prometheus text exposition (format 0.0.4) of the monitor's series and loss counters. */
#ifndef PERFBPF_PROMETHEUS_H
#define PERFBPF_PROMETHEUS_H

#include <stdbool.h>
#include <stdio.h>

#include "user/lib/util.h"
#include "user/model/kseries.h"

#define PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_input {
	struct kseries *const *series;
	size_t nseries;
	bool per_pid;                        /* series carry a pid label */
	uint64_t counters[PERFBPF_CNT__MAX]; /* the kernel's loss and error counters */
	uint64_t attach_failures;
	unsigned attached_processes;
	const uint64_t *dropped_per_cpu;     /* the dropped events by CPU (ncpus), or NULL */
	int ncpus;
	struct self_usage self;              /* perfbpf's own CPU and memory; 0: not written */
};

/* Writes every family; 0 or -errno. Histogram bounds: both edges of every bucket that is
 * non-empty in any series of the same metric, so that histogram_quantile interpolates within one
 * bucket (error <= 1/64), sum by (le) across a metric's series is exact, and empty buckets cost
 * no lines. A bound, once written, stays: counts only grow (per-process series excepted, which
 * go with their process). */
int prometheus__write(FILE *f, const struct prom_input *in);

#endif
