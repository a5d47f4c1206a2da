/* SPDX-License-Identifier: BSD-2-Clause */
/* Statistics and report rows computed from the monitor's kernel series (user/model/kseries.h).
 * No libbpf. */
#ifndef PERFBPF_KSERIES_STATS_H
#define PERFBPF_KSERIES_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/perfbpf.h"
#include "user/model/kseries.h"
#include "user/model/summary.h"

/* Adds src's counts to dst (an all-zero dst is empty): 0 or -ENOMEM. */
int kseries_stats__merge(struct kseries *dst, const struct kseries *src);
/* Nearest-rank percentile (0 < p <= 100) of the bucket counts `b` holding `n` values: the
 * midpoint of the bucket holding rank ceil(n*p/100), clamped to [lo, hi]. */
uint64_t kseries_stats__percentile(const struct khist *b, uint64_t n, double p, uint64_t lo,
				   uint64_t hi);

/* Report rows built from series: per (kind, metric, symbol, strategy) over all processes, and
 * per (kind, metric) roll-ups. */
struct kseries_report {
	bool want_bins; /* set by the caller: rows carry their histograms (row.bins) */
	struct kseries *groups, *rollups;
	size_t ngroups, nrollups;
	struct stat_row *rows, *metrics;
	struct hist_bin *bins; /* every row's bins, when wanted */
};

/* Fills s->rows/metrics (owned by `r`), s->events and s->hist_rel_error. */
int kseries_stats__summarize(struct kseries *const *v, size_t n, struct kseries_report *r,
		       struct summary *s);
void kseries_stats__free_report(struct kseries_report *r);

#endif
