/* SPDX-License-Identifier: BSD-2-Clause */
/* One key's totals (perfbpf monitor), aggregated in userspace or read from the in-kernel
 * histograms, as cumulative counts since perfbpf started: what the monitor's readers fill and
 * its reports and exporters read. Plain data; the statistics computed from it are in
 * user/aggregate/kseries_stats.h. */
#ifndef PERFBPF_MODEL_KSERIES_H
#define PERFBPF_MODEL_KSERIES_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bpf/perfbpf.h"
#include "user/model/khist.h"

/* Largest distance from a bucket's midpoint to a value in it, relative to the value. */
#define KHIST_MID_REL_ERROR (1.0 / (2.0 * KHIST_SUB))

struct kseries {
	uint32_t kind; /* enum perfbpf_event_kind */
	uint32_t pid;  /* 0 unless per-process series */
	char metric[PERFBPF_METRIC_LEN];
	char symbol[PERFBPF_SYMBOL_LEN];
	char strategy[PERFBPF_STRATEGY_LEN];
	uint64_t count, sum_ns, self_sum_ns, min_ns, max_ns;
	uint64_t wait_count, wait_sum_ns, wait_min_ns, wait_max_ns;
	struct khist dur, wait; /* sparse: storage for the occupied buckets only */
};

/* dst (uninitialized) becomes a copy of src with its own histogram storage: 0 or -ENOMEM. */
static inline int kseries__copy(struct kseries *dst, const struct kseries *src)
{
	*dst = *src;
	if (khist__copy(&dst->dur, &src->dur))
		return -ENOMEM;
	if (khist__copy(&dst->wait, &src->wait)) {
		khist__free(&dst->dur);
		return -ENOMEM;
	}
	return 0;
}

/* The series' order for exporters: by kind, metric, symbol, strategy, then pid (a metric's
 * series together, in a stable order); a qsort comparator of struct kseries pointers. */
static inline int kseries__cmp(const void *x, const void *y)
{
	const struct kseries *a = *(struct kseries *const *)x, *b = *(struct kseries *const *)y;
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = strcmp(a->metric, b->metric)) || (c = strcmp(a->symbol, b->symbol)) ||
	    (c = strcmp(a->strategy, b->strategy)))
		return c;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

/* Frees a series' histogram storage (the series itself is the caller's). */
static inline void kseries__release(struct kseries *s)
{
	khist__free(&s->dur);
	khist__free(&s->wait);
}

#endif
