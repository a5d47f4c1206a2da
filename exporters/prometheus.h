/* SPDX-License-Identifier: BSD-2-Clause */
/* Prometheus text exposition (format 0.0.4) of the monitor's series and loss counters. */
#ifndef PERFBPF_PROMETHEUS_H
#define PERFBPF_PROMETHEUS_H

#include <stdbool.h>
#include <stdio.h>

#include "kseries.h"

#define PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_input {
	struct kseries *const *series;
	size_t nseries;
	bool per_pid;                        /* series carry a pid label */
	uint64_t counters[PERFBPF_CNT__MAX]; /* the kernel's loss and error counters */
	uint64_t attach_failures;
	unsigned attached_processes;
};

/* Writes every family; 0 or -EIO. Histogram buckets: for each non-empty bucket, its upper bound,
 * and its lower bound when the bucket below is empty, so that histogram_quantile interpolates
 * within one bucket (error <= 1/64) while empty buckets cost no lines. A bound, once written,
 * stays: counts only grow. */
int prometheus__write(FILE *f, const struct prom_input *in);

#endif
