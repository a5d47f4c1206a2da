/* SPDX-License-Identifier: BSD-2-Clause */
/* A distribution of durations: streaming count/sum/min/max/variance, plus every sample while the
 * shared sample budget allows (exact percentiles), else a log-linear histogram (approximate). */
#ifndef PERFBPF_DIST_H
#define PERFBPF_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/aggregate/sample_arena.h"
#include "user/model/hist.h"

/* Bytes of exact samples all distributions may hold together. */
struct sample_budget {
	uint64_t limit;
	uint64_t used;
	struct sample_arena *arena; /* where sample arrays come from; NULL: the heap */
};

struct dist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	double mean; /* Welford running mean and sum of squared deviations, kept up per sample */
	double m2;   /* only without samples (stream_only, hist): with them, computed from them */
	uint64_t *samples; /* exact mode: all samples, unsorted */
	size_t cap;
	struct hist *hist;  /* approximate mode (samples == NULL) */
	bool stream_only;   /* keeps no samples at all (roll-ups merge their members') */
};

/* How the statistics are defined. */
enum dist_style {
	DIST_SEED = 0,         /* population std dev (N); nearest-rank percentiles (the seed's) */
	DIST_BACKTEST_KIT = 1, /* sample std dev (N - 1); percentiles interpolated linearly between
				* the ranks around p/100 * (n - 1), rounded to the ns (backtest-kit
				* 19.5's Performance.getData, numpy's default) */
};

struct dist_stats {
	uint64_t count, sum, min, max, p50, p95, p99;
	double mean, stddev;
	bool approximate;
};

void dist__init(struct dist *d, bool stream_only);
void dist__fini(struct dist *d, struct sample_budget *b);
/* -ENOSPC: keeping the sample would exceed the budget; the streaming part is not updated either,
 * so the caller can free budget (dist__to_hist on some distribution) and call again. */
int dist__add(struct dist *d, uint64_t v, struct sample_budget *b);

/* The count, sum and extremes with one more sample. */
static inline void dist__count(struct dist *d, uint64_t v)
{
	d->count++;
	d->sum += v;
	if (v < d->min)
		d->min = v;
	if (v > d->max)
		d->max = v;
}

/* dist__add where it needs nothing more than a store (samples kept, with room: cap is 0
 * otherwise): true if v was added, else dist__add it. */
static inline bool dist__add_in_room(struct dist *d, uint64_t v)
{
	if (d->count >= d->cap)
		return false;
	d->samples[d->count] = v;
	dist__count(d, v);
	return true;
}
/* Switch to approximate mode, returning the sample memory to the budget. */
int dist__to_hist(struct dist *d, struct sample_budget *b);
bool dist__exact(const struct dist *d);
/* Adds every sample of `d` (exact or bucketed) to `h`; stream-only distributions add nothing. */
void dist__add_to_hist(const struct dist *d, struct hist *h);
/* Percentiles etc. (reorders the samples in place), as the seed defines them. */
void dist__stats(struct dist *d, struct dist_stats *out);
void dist__stats_style(struct dist *d, enum dist_style style, struct dist_stats *out);
/* Roll-up statistics: count, sum, extremes, spread and percentiles of the members taken together
 * (reorders their samples in place). */
int dist__merged_stats(struct dist *const *members, size_t n, struct dist_stats *out);
int dist__merged_stats_style(struct dist *const *members, size_t n, enum dist_style style,
			     struct dist_stats *out);

/* Nearest-rank percentile of sorted samples, as the seed defines it:
 * sorted[max(0, ceil(n*p/100) - 1)]. */
uint64_t percentile_sorted(const uint64_t *sorted, size_t n, double p);

#endif
