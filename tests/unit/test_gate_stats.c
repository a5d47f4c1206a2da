// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the statistical core of `perfbpf gate` (gate_stats.c) on fixed samples with known
 * answers: point values, sample requirements, verdicts, reproducibility and interval width. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "user/gate/gate_stats.h"

#define MAXR 16

/* A run whose samples are `n` copies of each value in v[0..nv): bins, count, sum, sd exact. */
struct fixture_run {
	struct hist *h;
	struct hist_bin bins[HIST_BUCKETS];
	struct gate_run run;
};

static void make_run(struct fixture_run *f, const uint64_t *v, size_t nv, uint64_t n)
{
	double sum = 0, sq = 0, cnt = (double)(nv * n), mean;

	f->h = hist__new();
	assert_non_null(f->h);
	for (size_t i = 0; i < nv; i++) {
		hist__add(f->h, v[i], n);
		sum += (double)v[i] * (double)n;
		sq += (double)v[i] * (double)v[i] * (double)n;
	}
	mean = sum / cnt;
	f->run = (struct gate_run){ .count = nv * n, .sum = sum,
				    .sd = sqrt(fmax(0, sq / cnt - mean * mean)), .bins = f->bins,
				    .nbins = hist__bins(f->h, f->bins) };
}

/* R runs, run r holding values `base[i] * scale[r]` for i < nv, n times each. */
struct fixture_side {
	struct fixture_run r[MAXR];
	struct gate_run runs[MAXR];
	struct gate_series s;
};

static struct fixture_side *make_side(const uint64_t *base, size_t nv, uint64_t n,
				      const double *scale, unsigned R)
{
	struct fixture_side *fs = calloc(1, sizeof(*fs));
	uint64_t v[128];

	assert_non_null(fs);
	assert_true(nv <= 128 && R <= MAXR);
	for (unsigned r = 0; r < R; r++) {
		for (size_t i = 0; i < nv; i++)
			v[i] = (uint64_t)llround((double)base[i] * scale[r]);
		make_run(&fs->r[r], v, nv, n);
		fs->runs[r] = fs->r[r].run;
	}
	fs->s = (struct gate_series){ .runs = fs->runs, .nruns = R };
	return fs;
}

static void free_side(struct fixture_side *fs)
{
	for (unsigned r = 0; r < fs->s.nruns; r++)
		hist__free(fs->r[r].h);
	free(fs);
}

/* 100 distinct values 1000, 1010, ..., 1990: p50 is 1490, p95 1940, p99 1980 (nearest rank). */
static void spread(uint64_t *v)
{
	for (int i = 0; i < 100; i++)
		v[i] = 1000 + 10 * (uint64_t)i;
}

static const double ones[MAXR] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };

static struct gate_params params(enum gate_across a)
{
	return (struct gate_params){ .across = a, .alpha = 0.01, .threshold = 0.05,
				     .resamples = 4000, .seed = 1 };
}

static void test_names_and_requirements(void **state)
{
	(void)state;
	for (int s = 0; s < GATE__NSTAT; s++)
		assert_int_equal(gate_stat_parse(gate_stat_name(s)), s);
	assert_int_equal(gate_stat_parse("p42"), -1);
	/* 20 samples beyond the quantile */
	assert_int_equal(gate_min_samples(GATE_P99), 2000);
	assert_int_equal(gate_min_samples(GATE_P95), 400);
	assert_int_equal(gate_min_samples(GATE_P50), 40);
	assert_int_equal(gate_min_samples(GATE_MEAN), 1);
	/* 25 replicates in each tail, within [2000, 200000] */
	assert_int_equal(gate_resamples_for(0.05), 2000);
	assert_int_equal(gate_resamples_for(0.001), 50000);
	assert_int_equal(gate_resamples_for(1e-9), 200000);
}

/* Point values: quantiles from the histogram (bucket midpoints), means and totals exact. */
static void test_point_values(void **state)
{
	uint64_t v[100];
	const double scale[3] = { 1.0, 1.5, 2.0 };
	struct fixture_side *fs;

	(void)state;
	spread(v);
	fs = make_side(v, 100, 30, scale, 3); /* 3000 samples per run */
	/* best run: run 0, whose p99 is 1980 (bucket 1976..1983, midpoint 1979) */
	assert_int_equal((uint64_t)gate_point(&fs->s, GATE_P99, GATE_BEST),
			 hist_bucket_mid(hist_bucket(1980)));
	assert_int_equal((uint64_t)gate_point(&fs->s, GATE_P50, GATE_BEST),
			 hist_bucket_mid(hist_bucket(1490)));
	/* means: run r's mean is 1495 * scale[r]; the best is run 0's, pooled is their mean */
	assert_true(fabs(gate_point(&fs->s, GATE_MEAN, GATE_BEST) - 1495.0) < 0.01);
	assert_true(fabs(gate_point(&fs->s, GATE_MEAN, GATE_POOLED) - 1495.0 * 1.5) < 0.51);
	/* totals: per run; pooled averages the runs */
	assert_true(fabs(gate_point(&fs->s, GATE_TOTAL, GATE_BEST) - 1495.0 * 3000) < 1);
	assert_true(fabs(gate_point(&fs->s, GATE_TOTAL, GATE_POOLED) - 1495.0 * 1.5 * 3000) < 1500);
	/* pooled p99 of all 9000 samples: rank 8910 lies in run 2 (values 2000..3980): 3920 */
	assert_int_equal((uint64_t)gate_point(&fs->s, GATE_P99, GATE_POOLED),
			 hist_bucket_mid(hist_bucket(3920)));
	free_side(fs);
}

/* The same runs on both sides: ratio 1 exactly, an interval around 1, no change. */
static void test_identical_sides(void **state)
{
	uint64_t v[100];
	struct fixture_side *b, *h;
	struct gate_params p = params(GATE_BEST);
	const double scale[5] = { 1.00, 1.03, 0.98, 1.30, 1.01 };
	struct gate_result r;

	(void)state;
	spread(v);
	b = make_side(v, 100, 30, scale, 5);
	h = make_side(v, 100, 30, scale, 5);
	for (int a = GATE_BEST; a <= GATE_POOLED; a++) {
		p.across = a;
		for (int s = 0; s < GATE__NSTAT; s++) {
			assert_int_equal(gate_compare(&b->s, &h->s, s, &p, &r), 0);
			assert_true(r.change == 0);
			assert_true(r.ci_low <= 1 && r.ci_high >= 1);
			assert_int_equal(r.verdict, GATE_NO_CHANGE);
		}
	}
	free_side(b);
	free_side(h);
}

/* Every run 20% slower, no noise: a regression with a tight interval at 1.2; the mirror image
 * is an improvement; a threshold above the change makes it no change. */
static void test_clear_shift(void **state)
{
	uint64_t v[100];
	const double slow[4] = { 1.2, 1.2, 1.2, 1.2 };
	struct fixture_side *b, *h;
	struct gate_params p = params(GATE_BEST);
	struct gate_result r;

	(void)state;
	spread(v);
	b = make_side(v, 100, 30, ones, 4);
	h = make_side(v, 100, 30, slow, 4);
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_P99, &p, &r), 0);
	assert_int_equal(r.verdict, GATE_REGRESSION);
	assert_true(fabs(r.change - 0.2) < 0.01); /* within the buckets' 0.4% */
	assert_true(r.ci_low > 1.15 && r.ci_high < 1.25);
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_int_equal(r.verdict, GATE_REGRESSION);
	assert_true(fabs(r.change - 0.2) < 1e-3);
	assert_int_equal(gate_compare(&h->s, &b->s, GATE_P50, &p, &r), 0);
	assert_int_equal(r.verdict, GATE_IMPROVEMENT);
	assert_true(r.ci_high < 1);
	p.threshold = 0.25;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_P99, &p, &r), 0);
	assert_int_equal(r.verdict, GATE_NO_CHANGE);
	free_side(b);
	free_side(h);
}

/* Run-to-run noise larger than the change: the point change is beyond the threshold but the
 * interval includes 1, so the verdict is unclear, not a regression. */
static void test_noise_is_unclear(void **state)
{
	uint64_t v[100];
	const double bs[5] = { 1.00, 1.40, 0.80, 1.25, 0.95 };
	const double hs[5] = { 0.88, 1.45, 1.30, 1.10, 0.97 };
	struct fixture_side *b, *h;
	struct gate_params p = params(GATE_POOLED);
	struct gate_result r;

	(void)state;
	spread(v);
	b = make_side(v, 100, 30, bs, 5);
	h = make_side(v, 100, 30, hs, 5);
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_true(r.change > 0.05);
	assert_true(r.ci_low < 1 && r.ci_high > 1);
	assert_int_equal(r.verdict, GATE_UNCLEAR);
	free_side(b);
	free_side(h);
}

/* A disturbed run (everything 30% slower) in HEAD does not move the best run, so identical code
 * passes; pooled, the same files show a change. */
static void test_best_ignores_a_disturbed_run(void **state)
{
	uint64_t v[100];
	const double bs[5] = { 1.00, 1.01, 1.00, 1.02, 1.01 };
	const double hs[5] = { 1.01, 1.30, 1.00, 1.31, 1.02 };
	struct fixture_side *b, *h;
	struct gate_params p = params(GATE_BEST);
	struct gate_result r;

	(void)state;
	spread(v);
	b = make_side(v, 100, 30, bs, 5);
	h = make_side(v, 100, 30, hs, 5);
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_P99, &p, &r), 0);
	assert_int_equal(r.verdict, GATE_NO_CHANGE);
	assert_true(fabs(r.change) < 0.01);
	p.across = GATE_POOLED;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_P99, &p, &r), 0);
	assert_true(r.change > 0.05);
	free_side(b);
	free_side(h);
}

/* Fewer samples than the statistic needs: too few, whatever the change. A key absent from some
 * runs still compares on the runs that have it. */
static void test_too_few(void **state)
{
	uint64_t v[100];
	const double two[2] = { 1, 2 };
	struct fixture_side *b, *h;
	struct gate_params p = params(GATE_BEST);
	struct gate_result r;

	(void)state;
	spread(v);
	b = make_side(v, 100, 10, ones, 3); /* 1000 per run: enough for p95, not p99 */
	h = make_side(v, 100, 10, two, 2);
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_P99, &p, &r), 0);
	assert_int_equal(r.verdict, GATE_TOO_FEW);
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_P95, &p, &r), 0);
	assert_int_not_equal(r.verdict, GATE_TOO_FEW);
	b->runs[1].count = 0; /* the key had no event in run 1 */
	b->runs[1].nbins = 0;
	b->runs[1].sum = 0;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_int_not_equal(r.verdict, GATE_TOO_FEW);
	assert_true(fabs(r.base - 1495.0) < 0.01);
	free_side(b);
	free_side(h);
}

/* The same seed gives the same interval; another seed one within 1% of it. */
static void test_reproducible(void **state)
{
	uint64_t v[100];
	const double bs[6] = { 1.00, 1.10, 0.95, 1.05, 1.02, 0.97 };
	const double hs[6] = { 1.08, 1.12, 1.01, 1.15, 1.04, 1.06 };
	struct fixture_side *b, *h;
	struct gate_params p = params(GATE_POOLED);
	struct gate_result r1, r2, r3;

	(void)state;
	spread(v);
	b = make_side(v, 100, 30, bs, 6);
	h = make_side(v, 100, 30, hs, 6);
	p.resamples = 20000;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r1), 0);
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r2), 0);
	assert_true(r1.ci_low == r2.ci_low && r1.ci_high == r2.ci_high);
	p.seed = 99;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r3), 0);
	assert_true(fabs(r3.ci_low - r1.ci_low) < 0.01 && fabs(r3.ci_high - r1.ci_high) < 0.01);
	free_side(b);
	free_side(h);
}

/* Known answer for the run-level bootstrap: runs without sampling noise (one value each, sd 0),
 * pooled mean, a base of identical runs (ratio denominator fixed at 100 us). HEAD has 8 runs,
 * half at 90 us and half at 110 us: a replicate's mean is 90 + 20 k / 8 us, k ~ Binomial(8, 1/2)
 * runs at 110 drawn, and the interval of head/base is [90 + 20 k_lo / 8, 90 + 20 k_hi / 8] /
 * 100 for the k at the alpha/2 and 1 - alpha/2 quantiles. */
static void interval_known_answer(double alpha, double low, double high)
{
	const uint64_t one[1] = { 100000 };
	const double hs[8] = { 0.9, 1.1, 0.9, 1.1, 0.9, 1.1, 0.9, 1.1 };
	struct fixture_side *b, *h;
	struct gate_params p = params(GATE_POOLED);
	struct gate_result r;

	b = make_side(one, 1, 100, ones, 8);
	h = make_side(one, 1, 100, hs, 8);
	p.resamples = 40000;
	p.alpha = alpha;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_true(fabs(r.change) < 1e-9);
	print_message("%g%% interval of head/base: %.4f - %.4f (exact answer %.4f - %.4f)\n",
		      100 * (1 - alpha), r.ci_low, r.ci_high, low, high);
	assert_true(fabs(r.ci_low - low) < 1e-9);
	assert_true(fabs(r.ci_high - high) < 1e-9);
	free_side(b);
	free_side(h);
}

/* P(k <= 0) = 1/256 < 0.5% < P(k <= 1) = 9/256, so the 99% interval is exactly k in [1, 7]:
 * [0.925, 1.075]. */
static void test_interval_width(void **state)
{
	(void)state;
	interval_known_answer(0.01, 0.925, 1.075);
}

/* At alpha = 0.05, alpha and alpha/2 give different intervals: P(k <= 0) = 1/256 < 2.5% <
 * P(k <= 1) = 9/256 < 5%, so the 95% interval is k in [1, 7], [0.925, 1.075]; a low side taken
 * at alpha (5%) would be k = 2, 0.95, and a high side taken at 1 - alpha k = 6, 1.05. */
static void test_interval_uses_half_alpha(void **state)
{
	(void)state;
	interval_known_answer(0.05, 0.925, 1.075);
}

/* GATE_BEST draws from the runs that agree with the best (within a quarter of the threshold):
 * runs without sampling noise, two agreeing runs per side and three disturbed ones (+50% to
 * +100%). Every replicate then takes its base from {100, 100.5} us and its head from
 * {110, 110.2} us, so the interval is exactly within [110 / 100.5, 110.2 / 100] and the 10%
 * slowdown is a regression. Drawn from all five runs, 7.8% of the replicates would miss both
 * agreeing base runs ((3/5)^5) and put a disturbed run (150 us or more) in the denominator: the
 * interval would reach below 1. When no run agrees with the best, all runs are drawn. */
static void test_best_draws_agreeing_runs(void **state)
{
	const uint64_t one[1] = { 100000 };
	const double bs[5] = { 1.60, 1.00, 1.50, 1.005, 2.00 };
	const double hs[5] = { 1.102, 1.80, 1.10, 1.90, 2.10 };
	const double spreadout[5] = { 1.00, 1.10, 1.20, 1.30, 1.40 };
	struct fixture_side *b, *h, *w;
	struct gate_params p = params(GATE_BEST);
	struct gate_result r;

	(void)state;
	b = make_side(one, 1, 100, bs, 5);
	h = make_side(one, 1, 100, hs, 5);
	w = make_side(one, 1, 100, spreadout, 5);
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_int_equal(r.base_runs, 2);
	assert_int_equal(r.head_runs, 2);
	assert_true(fabs(r.change - 0.10) < 1e-9);
	assert_true(r.ci_low >= 110.0 / 100.5 - 1e-9 && r.ci_high <= 1.102 + 1e-9);
	assert_int_equal(r.verdict, GATE_REGRESSION);
	/* no run within 1.25% of the best: every run is drawn, and the interval shows it */
	assert_int_equal(gate_compare(&w->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_int_equal(r.base_runs, 5);
	assert_true(r.ci_low < 1);
	assert_int_equal(r.verdict, GATE_UNCLEAR);
	/* pooled: every run, always */
	p.across = GATE_POOLED;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_int_equal(r.base_runs, 5);
	assert_int_equal(r.head_runs, 5);
	free_side(b);
	free_side(h);
	free_side(w);
}

/* A side's run slowness: the median over keys of each key's median against its lowest run. A
 * key that slows in every run (a change in code) does not move it; keys with fewer than
 * GATE_SLOWNESS_MIN_COUNT samples in a run are left out; too few keys give NAN. */
static void test_run_slowness(void **state)
{
	const double busy[4] = { 1.0, 1.2, 1.0, 1.5 }, flat[4] = { 2.0, 2.0, 2.0, 2.0 };
	struct fixture_side *k[7];
	const struct gate_run *keys[7];
	double out[4];

	(void)state;
	for (int i = 0; i < 5; i++) { /* five keys slowed by the machine in runs 2 and 4 */
		const uint64_t v[1] = { 1000 * (uint64_t)(i + 1) };

		k[i] = make_side(v, 1, 100, busy, 4);
	}
	{
		const uint64_t v[1] = { 7000 };

		k[5] = make_side(v, 1, 100, flat, 4); /* twice as slow in every run */
		k[6] = make_side(v, 1, GATE_SLOWNESS_MIN_COUNT - 1, busy, 4); /* too few samples */
		k[6]->runs[1].count = GATE_SLOWNESS_MIN_COUNT - 1;
	}
	k[6]->runs[3] = k[0]->runs[3]; /* the other runs still hold too few: left out */
	for (int i = 0; i < 7; i++)
		keys[i] = k[i]->runs;
	gate_run_slowness(keys, 7, 4, out);
	assert_true(fabs(out[0] - 1.0) < 0.005 && fabs(out[2] - 1.0) < 0.005);
	assert_true(fabs(out[1] - 1.2) < 0.02);
	assert_true(fabs(out[3] - 1.5) < 0.02);
	/* four keys with enough samples: too few to tell the machine from the code */
	gate_run_slowness(keys, 4, 4, out);
	for (int r = 0; r < 4; r++)
		assert_true(isnan(out[r]));
	for (int i = 0; i < 7; i++)
		free_side(k[i]);
}

/* GATE_BEST leaves out runs that were slow as a whole: the base's one undisturbed run stands
 * alone against the head's, where without the slowness no other run agrees with it and every
 * run is drawn. */
static void test_best_leaves_out_disturbed_runs(void **state)
{
	const uint64_t one[1] = { 100000 };
	const double bs[3] = { 1.00, 1.30, 1.35 }, hs[3] = { 1.10, 1.101, 1.102 };
	const double bslow[3] = { 1.0, 1.2, 1.25 }, hslow[3] = { 1.0, 1.01, 1.0 };
	struct fixture_side *b, *h;
	struct gate_params p = params(GATE_BEST);
	struct gate_result r;

	(void)state;
	b = make_side(one, 1, 100, bs, 3);
	h = make_side(one, 1, 100, hs, 3);
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_int_equal(r.base_runs, 3);
	assert_true(r.ci_low < 1);
	assert_int_equal(r.verdict, GATE_UNCLEAR);
	b->s.slowness = bslow;
	h->s.slowness = hslow;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_int_equal(r.base_runs, 1);
	assert_int_equal(r.head_runs, 3);
	assert_true(fabs(r.change - 0.10) < 1e-9);
	assert_true(r.ci_low > 1.099 && r.ci_high < 1.103);
	assert_int_equal(r.verdict, GATE_REGRESSION);
	/* the undisturbed run has no sample of the key: every run is drawn again, and the
	 * disturbed ones decide (nothing better is known) */
	b->runs[0].count = 0;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_int_equal(r.base_runs, 3);
	assert_true(fabs(r.base - 130000) < 1e-6);
	assert_int_equal(r.verdict, GATE_IMPROVEMENT);
	b->runs[0] = b->r[0].run;
	/* pooled ignores slowness */
	p.across = GATE_POOLED;
	assert_int_equal(gate_compare(&b->s, &h->s, GATE_MEAN, &p, &r), 0);
	assert_int_equal(r.base_runs, 3);
	free_side(b);
	free_side(h);
}

/* The change most metrics share: the median of the point ratios, NAN below the minimum. */
static void test_common_ratio(void **state)
{
	const double odd[] = { 1.0, 1.3, 1.02, 0.98, 1.01 };
	const double even[] = { 1.1, 1.0, 1.4, 1.2, 1.3, 0.9 };

	(void)state;
	assert_true(fabs(gate_common_ratio(odd, 5) - 1.01) < 1e-12);
	assert_true(fabs(gate_common_ratio(even, 6) - 1.15) < 1e-12);
	assert_true(isnan(gate_common_ratio(odd, GATE_COMMON_MIN_KEYS - 1)));
}

/* A percentile whose rank n*q is not whole (n = 3, q = 0.5: rank 2) takes ceil, as the report
 * does: 2000 ns lies in [2000, 2007], midpoint 2003 (1000 in [1000, 1003], midpoint 1001). */
static void test_point_rank_not_whole(void **state)
{
	const uint64_t three[3] = { 1000, 2000, 3000 };
	struct fixture_side *fs = make_side(three, 3, 1, ones, 1);

	(void)state;
	assert_int_equal((uint64_t)gate_point(&fs->s, GATE_P50, GATE_BEST), 2003);
	assert_int_equal((uint64_t)gate_point(&fs->s, GATE_P50, GATE_POOLED), 2003);
	free_side(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_requirements),
		cmocka_unit_test(test_point_values),
		cmocka_unit_test(test_identical_sides),
		cmocka_unit_test(test_clear_shift),
		cmocka_unit_test(test_noise_is_unclear),
		cmocka_unit_test(test_best_ignores_a_disturbed_run),
		cmocka_unit_test(test_too_few),
		cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_interval_width),
		cmocka_unit_test(test_interval_uses_half_alpha),
		cmocka_unit_test(test_point_rank_not_whole),
		cmocka_unit_test(test_best_draws_agreeing_runs),
		cmocka_unit_test(test_run_slowness),
		cmocka_unit_test(test_best_leaves_out_disturbed_runs),
		cmocka_unit_test(test_common_ratio),
	};

	return cmocka_run_group_tests_name("gate", tests, NULL, NULL);
}
