/* SPDX-License-Identifier: BSD-2-Clause */
/* One key's totals from the in-kernel histograms (perfbpf monitor), as cumulative counts since
 * perfbpf started, and the statistics and report rows computed from them. Plain data; no libbpf. */
#ifndef PERFBPF_KSERIES_H
#define PERFBPF_KSERIES_H

#include <stddef.h>
#include <stdint.h>

#include "perfbpf.h"
#include "summary.h"

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
	uint64_t dur[KHIST_BUCKETS];
	uint64_t wait[KHIST_BUCKETS];
};

/* Adds src's counts to dst (an all-zero dst is empty). */
void kseries__merge(struct kseries *dst, const struct kseries *src);
/* Nearest-rank percentile (0 < p <= 100) of cumulative bucket counts `b` holding `n` values:
 * the midpoint of the bucket holding rank ceil(n*p/100), clamped to [lo, hi]. */
uint64_t kseries__percentile(const uint64_t *b, uint64_t n, double p, uint64_t lo, uint64_t hi);

/* Report rows built from series: per (kind, metric, symbol, strategy) over all processes, and
 * per (kind, metric) roll-ups. */
struct kseries_report {
	struct kseries *groups, *rollups;
	size_t ngroups, nrollups;
	struct stat_row *rows, *metrics;
};

/* Fills s->rows/metrics (owned by `r`), s->events and s->hist_rel_error. */
int kseries__summarize(struct kseries *const *v, size_t n, struct kseries_report *r,
		       struct summary *s);
void kseries_report__free(struct kseries_report *r);

#endif
