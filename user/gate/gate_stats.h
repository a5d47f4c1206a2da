/* SPDX-License-Identifier: BSD-2-Clause */
/* The statistics of `perfbpf gate`: is one key's statistic in HEAD a real change from BASE, or
 * noise? Pure computation (no I/O), described in docs/GATE.md.
 *
 * Each side is R runs of the same command; a run holds, for the key, its sample count, sum,
 * standard deviation and duration histogram (hist.h layout). A side's value is its best run's
 * statistic (GATE_BEST), or the statistic of all its runs pooled (GATE_POOLED; total is then per
 * run). The uncertainty comes from a two-stage bootstrap: runs are resampled with replacement
 * (the run-to-run noise of a shared machine), then each resampled run's own sampling noise is
 * drawn (a quantile's rank from its binomial spread, a mean or total from its standard error).
 * The ratio HEAD/BASE of B such replicates gives a percentile confidence interval. */
#ifndef PERFBPF_GATE_STATS_H
#define PERFBPF_GATE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/model/gate_outcome.h"
#include "user/model/hist.h"

/* One side (BASE or HEAD) of one key: one entry per run of the side. */
struct gate_series {
	const struct gate_run *runs;
	unsigned nruns;
	const double *slowness; /* per run (gate_run_slowness), or NULL */
};

/* GATE_BEST: runs within GATE_AGREE x threshold of the side's best run agree with it (see
 * gate_compare). */
#define GATE_AGREE 0.25

/* GATE_BEST: a run whose slowness (gate_run_slowness) is above 1 + GATE_DISTURBED ran while the
 * machine was busy, and is not drawn when undisturbed runs have the key (see gate_compare). */
#define GATE_DISTURBED 0.05

struct gate_params {
	enum gate_across across;
	double alpha;      /* two-sided error rate of this one comparison's interval */
	double threshold;  /* smallest relative change that counts, e.g. 0.05 */
	unsigned resamples;
	uint64_t seed;
};

/* Samples beyond a quantile that make it worth comparing: a p99 needs 2000 samples (per run
 * with GATE_BEST, pooled with GATE_POOLED); below that a run's p99 is one of its few largest
 * values and moves with every disturbance. */
#define GATE_TAIL_SAMPLES 20.0
uint64_t gate_min_samples(enum gate_stat s);
/* Whether a side has the samples gate_min_samples asks for: pooled, or (GATE_BEST) in each run
 * that has the key. */
bool gate_enough(const struct gate_series *s, enum gate_stat st, enum gate_across across);
/* The statistic of a side (ns), its runs combined as `across` says. */
double gate_point(const struct gate_series *s, enum gate_stat st, enum gate_across across);
/* Resamples needed for an interval at `alpha` to rest on at least 25 replicates in each tail,
 * within [2000, 200000]. */
unsigned gate_resamples_for(double alpha);
/* Compares HEAD with BASE. 0, or -ENOMEM / -EINVAL (a side with no runs). */
int gate_compare(const struct gate_series *base, const struct gate_series *head,
		 enum gate_stat st, const struct gate_params *p, struct gate_result *out);

/* The change most keys share: the median of head/base over the n point ratios given (NAN when
 * n < GATE_COMMON_MIN_KEYS, too few for a median to stand for "most"). */
#define GATE_COMMON_MIN_KEYS 5
double gate_common_ratio(const double *ratios, size_t n);

/* How much slower each of a side's runs was as a whole: per run r, the median over the keys of
 * (the key's median in run r) / (its lowest median among the side's runs). A busy machine slows
 * every key of a run; a change in code slows its keys in every run, so it does not show here.
 * keys[k][r]: key k's data in run r; keys with fewer than GATE_SLOWNESS_MIN_COUNT samples in
 * any run are left out. Writes nruns values: all NAN when fewer than GATE_COMMON_MIN_KEYS keys
 * remain. */
#define GATE_SLOWNESS_MIN_COUNT 20
void gate_run_slowness(const struct gate_run *const *keys, size_t nkeys, unsigned nruns,
		       double *out);

#endif
