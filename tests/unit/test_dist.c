// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: nearest-rank percentiles, streaming statistics, the histogram's error bound, and the
 * exact-to-approximate switch under the sample budget. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "user/aggregate/dist.h"
#include "user/model/hist.h"

/* The seed's definition: sorted[max(0, ceil(n*p/100) - 1)]. */
static void test_percentile_nearest_rank(void **state)
{
	uint64_t one[] = { 42 };
	uint64_t ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	uint64_t hundred[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		hundred[i] = (uint64_t)i + 1;
	assert_int_equal(percentile_sorted(NULL, 0, 50), 0);
	assert_int_equal(percentile_sorted(one, 1, 50), 42);
	assert_int_equal(percentile_sorted(one, 1, 99), 42);
	assert_int_equal(percentile_sorted(ten, 10, 50), 5);  /* ceil(5) - 1 = 4 */
	assert_int_equal(percentile_sorted(ten, 10, 95), 10); /* ceil(9.5) - 1 = 9 */
	assert_int_equal(percentile_sorted(ten, 10, 99), 10);
	assert_int_equal(percentile_sorted(ten, 10, 10), 1);
	assert_int_equal(percentile_sorted(ten, 10, 11), 2);  /* ceil(1.1) - 1 = 1 */
	assert_int_equal(percentile_sorted(hundred, 100, 50), 50);
	assert_int_equal(percentile_sorted(hundred, 100, 95), 95);
	assert_int_equal(percentile_sorted(hundred, 100, 99), 99);
	assert_int_equal(percentile_sorted(hundred, 100, 0), 1);
}

/* --stats backtest-kit: sample std dev (N - 1) and percentiles interpolated between the ranks
 * around p/100 * (n - 1), as backtest-kit 19.5's Performance.getData (numpy's default): for
 * 100, 200, ..., 1000 given out of order, p50 550, p95 955, p99 991; std dev 100 * sqrt(82.5 /
 * 9); one sample: std dev 0, every percentile that sample; a roll-up the same way. */
static void test_backtest_kit_stats(void **state)
{
	struct sample_budget b = { .limit = 1 << 20 };
	uint64_t vals[] = { 900, 200, 700, 400, 500, 600, 300, 800, 100, 1000 };
	struct dist_stats st;
	struct dist d, one;
	struct dist *members[2] = { &d, &one };

	(void)state;
	dist__init(&d, false);
	dist__init(&one, false);
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(dist__add(&d, vals[i], &b), 0);
	}
	dist__stats_style(&d, DIST_BACKTEST_KIT, &st);
	assert_int_equal(st.p50, 550);
	assert_int_equal(st.p95, 955);
	assert_int_equal(st.p99, 991);
	assert_float_equal(st.stddev, 100 * sqrt(82.5 / 9), 1e-9);
	assert_false(st.approximate);
	dist__stats_style(&d, DIST_SEED, &st); /* the same samples, the seed's way */
	assert_int_equal(st.p50, 500);
	assert_int_equal(st.p95, 1000);
	assert_float_equal(st.stddev, 100 * sqrt(82.5 / 10), 1e-9);
	assert_int_equal(dist__add(&one, 1234, &b), 0);
	dist__stats_style(&one, DIST_BACKTEST_KIT, &st);
	assert_int_equal(st.p50, 1234);
	assert_int_equal(st.p99, 1234);
	assert_float_equal(st.stddev, 0, 0);
	/* 11 samples: 100..1000 and 1234; r(p95) = 9.5 -> (1000 + 1234) / 2 */
	assert_int_equal(dist__merged_stats_style(members, 2, DIST_BACKTEST_KIT, &st), 0);
	assert_int_equal(st.p50, 600);
	assert_int_equal(st.p95, 1117);
	assert_int_equal(st.count, 11);
	/* sample std dev of 100..1000 and 1234: mean 6734 / 11, squared deviations 1,250,323.64 */
	assert_float_equal(st.stddev, sqrt(1250323.636364 / 10), 1e-6);
	dist__fini(&d, &b);
	dist__fini(&one, &b);
}

static void test_exact_stats(void **state)
{
	struct sample_budget b = { .limit = 1 << 20 };
	uint64_t vals[] = { 9, 2, 7, 4, 5, 6, 3, 8, 1, 10 };
	struct dist_stats st;
	struct dist d;

	(void)state;
	dist__init(&d, false);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(dist__add(&d, vals[i], &b), 0);
	dist__stats(&d, &st);
	assert_int_equal(st.count, 10);
	assert_int_equal(st.sum, 55);
	assert_int_equal(st.min, 1);
	assert_int_equal(st.max, 10);
	assert_int_equal(st.p50, 5);
	assert_int_equal(st.p95, 10);
	assert_int_equal(st.p99, 10);
	assert_float_equal(st.mean, 5.5, 1e-12);
	/* population standard deviation of 1..10 = sqrt(8.25) */
	assert_float_equal(st.stddev, sqrt(8.25), 1e-9);
	assert_false(st.approximate);
	assert_true(b.used > 0);
	dist__fini(&d, &b);
	assert_int_equal(b.used, 0);
}

static void test_empty_dist(void **state)
{
	struct dist_stats st;
	struct dist d;

	(void)state;
	dist__init(&d, false);
	dist__stats(&d, &st);
	assert_int_equal(st.count, 0);
	assert_int_equal(st.min, 0);
	assert_int_equal(st.max, 0);
	assert_int_equal(st.p99, 0);
	assert_float_equal(st.stddev, 0, 0);
	dist__fini(&d, NULL);
}

/* Every bucket's representative is within HIST_REL_ERROR of every value in the bucket, over the
 * whole u64 range; buckets are contiguous and increasing. */
static void test_hist_error_bound(void **state)
{
	(void)state;
	assert_int_equal(hist_bucket_lower(0), 0);
	for (unsigned i = 0; i + 1 < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_lower(i), hi = hist_bucket_upper(i), mid = hist_bucket_mid(i);

		assert_true(lo <= mid && mid <= hi);
		assert_int_equal(hist_bucket_lower(i + 1), hi + 1);
		assert_int_equal(hist_bucket(lo), i);
		assert_int_equal(hist_bucket(hi), i);
		if (lo > 0) {
			assert_true((double)(mid - lo) / (double)lo <= HIST_REL_ERROR);
			assert_true((double)(hi - mid) / (double)hi <= HIST_REL_ERROR);
		}
	}
	assert_int_equal(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
	assert_true(HIST_REL_ERROR < 0.004);
}

/* Percentiles from the histogram stay within the bound of the exact ones, 100 ns .. 100 s. */
static void test_hist_percentiles_vs_exact(void **state)
{
	struct sample_budget b = { .limit = 64 << 20 };
	struct dist exact, approx;
	struct dist_stats se, sa;
	uint64_t seed = 88172645463325252ull;

	(void)state;
	dist__init(&exact, false);
	dist__init(&approx, false);
	for (int i = 0; i < 200000; i++) {
		uint64_t v;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		/* log-uniform between 100 ns and 100 s */
		v = (uint64_t)(100.0 * pow(10, 9.0 * (double)(seed >> 11) / 9007199254740992.0));
		assert_int_equal(dist__add(&exact, v, &b), 0);
		assert_int_equal(dist__add(&approx, v, &b), 0);
	}
	assert_int_equal(dist__to_hist(&approx, &b), 0);
	assert_false(dist__exact(&approx));
	dist__stats(&exact, &se);
	dist__stats(&approx, &sa);
	assert_true(sa.approximate);
	assert_int_equal(sa.count, se.count);
	assert_int_equal(sa.sum, se.sum);
	assert_int_equal(sa.min, se.min);
	assert_int_equal(sa.max, se.max);
	assert_true(fabs((double)sa.p50 - (double)se.p50) <= HIST_REL_ERROR * (double)se.p50 + 1);
	assert_true(fabs((double)sa.p95 - (double)se.p95) <= HIST_REL_ERROR * (double)se.p95 + 1);
	assert_true(fabs((double)sa.p99 - (double)se.p99) <= HIST_REL_ERROR * (double)se.p99 + 1);
	dist__fini(&exact, &b);
	dist__fini(&approx, &b);
	assert_int_equal(b.used, 0);
}

/* Small values (< 128) have exact buckets. */
static void test_hist_small_values_exact(void **state)
{
	struct hist *h = hist__new();

	(void)state;
	assert_non_null(h);
	for (uint64_t v = 1; v <= 100; v++)
		hist__add(h, v, 1);
	assert_int_equal(hist__count(h), 100);
	assert_int_equal(hist__percentile(h, 50, 1, 100), 50);
	assert_int_equal(hist__percentile(h, 99, 1, 100), 99);
	assert_int_equal(hist__percentile(h, 100, 1, 100), 100);
	hist__free(h);
}

static void test_budget_refuses_growth(void **state)
{
	struct sample_budget b = { .limit = 64 * sizeof(uint64_t) };
	struct dist d;

	(void)state;
	dist__init(&d, false);
	for (int i = 0; i < 64; i++)
		assert_int_equal(dist__add(&d, (uint64_t)i, &b), 0);
	/* the 65th sample needs more memory than the budget has */
	assert_int_equal(dist__add(&d, 64, &b), -ENOSPC);
	assert_int_equal(d.count, 64);
	assert_int_equal(dist__to_hist(&d, &b), 0);
	assert_int_equal(b.used, 0);
	assert_int_equal(dist__add(&d, 64, &b), 0);
	assert_int_equal(d.count, 65);
	dist__fini(&d, &b);
}

static void test_merged_stats(void **state)
{
	struct sample_budget b = { .limit = 1 << 20 };
	struct dist x, y;
	struct dist *members[] = { &x, &y };
	struct dist_stats st;

	(void)state;
	dist__init(&x, false);
	dist__init(&y, false);
	for (uint64_t v = 1; v <= 50; v++) {
		assert_int_equal(dist__add(&x, v, &b), 0);
	}
	for (uint64_t v = 51; v <= 100; v++) {
		assert_int_equal(dist__add(&y, v, &b), 0);
	}
	assert_int_equal(dist__merged_stats(members, 2, &st), 0);
	assert_int_equal(st.count, 100);
	assert_int_equal(st.sum, 5050);
	assert_int_equal(st.min, 1);
	assert_int_equal(st.max, 100);
	assert_float_equal(st.mean, 50.5, 0);
	/* population std dev of 1..100: sqrt((100^2 - 1) / 12); the members' own are 14.4 */
	assert_float_equal(st.stddev, sqrt(9999.0 / 12), 1e-9);
	assert_int_equal(st.p50, 50);
	assert_int_equal(st.p95, 95);
	assert_int_equal(st.p99, 99);
	assert_false(st.approximate);
	/* one approximate member makes the roll-up approximate, still within the bound */
	assert_int_equal(dist__to_hist(&y, &b), 0);
	assert_int_equal(dist__merged_stats(members, 2, &st), 0);
	assert_true(st.approximate);
	assert_true(fabs((double)st.p99 - 99) <= 99 * HIST_REL_ERROR + 1);
	assert_float_equal(st.stddev, sqrt(9999.0 / 12), 1e-9); /* the spread stays exact */
	assert_int_equal(st.sum, 5050);
	dist__fini(&x, &b);
	dist__fini(&y, &b);
}

/* Ranks that are not whole numbers (n = 7): nearest rank is ceil(n*p/100), never rounded down.
 * Values below 128 have a bucket each, so the histogram's answers are exact too. */
static void test_ranks_not_whole(void **state)
{
	const uint64_t seven[] = { 10, 20, 30, 40, 50, 60, 70 };
	/* p: ceil(7p/100) = 1 (p10: 0.7), 3 (p30: 2.1), 4 (p50: 3.5), 7 (p95: 6.65, p99: 6.93) */
	const struct { double p; uint64_t want; } cases[] = {
		{ 10, 10 }, { 30, 30 }, { 50, 40 }, { 95, 70 }, { 99, 70 },
	};
	struct sample_budget b = { .limit = 1 << 20 };
	struct hist *h = hist__new();
	struct dist_stats st;
	struct dist d;

	(void)state;
	assert_non_null(h);
	dist__init(&d, false);
	for (size_t i = 0; i < 7; i++) {
		hist__add(h, seven[i], 1);
		assert_int_equal(dist__add(&d, seven[i], &b), 0);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(percentile_sorted(seven, 7, cases[i].p), cases[i].want);
		assert_int_equal(hist__percentile(h, cases[i].p, 10, 70), cases[i].want);
	}
	dist__stats(&d, &st);
	assert_int_equal(st.p50, 40);
	assert_int_equal(st.p95, 70);
	assert_int_equal(dist__to_hist(&d, &b), 0);
	dist__stats(&d, &st);
	assert_true(st.approximate);
	assert_int_equal(st.p50, 40);
	assert_int_equal(st.p95, 70);
	dist__fini(&d, &b);
	hist__free(h);
}

/* An approximate percentile is a bucket's midpoint, kept within the key's exact [min, max]:
 * 1000 lies in the bucket [1000, 1003] (midpoint 1001), 5000 in [4992, 5023] (midpoint 5007),
 * 9000 in [8960, 9023] (midpoint 8991). */
static void test_hist_midpoints_clamped(void **state)
{
	struct sample_budget b = { .limit = 1 << 20 };
	struct dist_stats st;
	struct dist d;

	(void)state;
	assert_int_equal(hist_bucket_lower(hist_bucket(1000)), 1000);
	assert_int_equal(hist_bucket_upper(hist_bucket(1000)), 1003);
	assert_int_equal(hist_bucket_lower(hist_bucket(5000)), 4992);
	assert_int_equal(hist_bucket_upper(hist_bucket(5000)), 5023);
	dist__init(&d, false);
	for (int i = 0; i < 3; i++)
		assert_int_equal(dist__add(&d, 1000, &b), 0);
	assert_int_equal(dist__to_hist(&d, &b), 0);
	dist__stats(&d, &st);
	assert_int_equal(st.p50, 1000); /* the midpoint 1001 is above the max */
	assert_int_equal(st.p99, 1000);
	dist__fini(&d, &b);

	dist__init(&d, false);
	assert_int_equal(dist__add(&d, 4995, &b), 0);
	assert_int_equal(dist__add(&d, 5000, &b), 0);
	assert_int_equal(dist__add(&d, 9000, &b), 0);
	assert_int_equal(dist__to_hist(&d, &b), 0);
	dist__stats(&d, &st);
	assert_int_equal(st.p50, 5007);
	assert_int_equal(st.min, 4995);
	assert_int_equal(st.max, 9000);
	assert_int_equal(st.p99, 8991); /* 9000's bucket [8960, 9023]: below the max, kept */
	dist__fini(&d, &b);
}

/* The standard deviation of a distribution that keeps its samples (computed from them), of one
 * that went approximate halfway (its spread carried over from the samples, then kept up per
 * sample) and of a stream-only one are the same: 1..1000 in a shuffled order, population
 * std dev sqrt((1000^2 - 1) / 12). */
static void test_stddev_every_mode(void **state)
{
	struct sample_budget b = { .limit = 1 << 20 };
	const double want = sqrt((1000.0 * 1000.0 - 1) / 12);
	struct dist exact, half, stream;
	struct dist_stats st;

	(void)state;
	dist__init(&exact, false);
	dist__init(&half, false);
	dist__init(&stream, true);
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t v = (i * 379) % 1000 + 1; /* 379 is prime to 1000: each of 1..1000 once */

		if (i == 500)
			assert_int_equal(dist__to_hist(&half, &b), 0);
		assert_int_equal(dist__add(&exact, v, &b), 0);
		assert_int_equal(dist__add(&half, v, &b), 0);
		assert_int_equal(dist__add(&stream, v, &b), 0);
	}
	dist__stats(&exact, &st);
	assert_float_equal(st.stddev, want, 1e-9);
	assert_float_equal(st.mean, 500.5, 0);
	assert_false(st.approximate);
	dist__stats(&half, &st);
	assert_float_equal(st.stddev, want, 1e-9);
	assert_true(st.approximate);
	dist__stats(&stream, &st);
	assert_float_equal(st.stddev, want, 1e-9);
	dist__fini(&exact, &b);
	dist__fini(&half, &b);
	dist__fini(&stream, &b);
}

/* Min and max are right whatever the order: the first sample the largest, and a single one. */
static void test_first_sample_extremes(void **state)
{
	const uint64_t orders[][3] = { { 9, 2, 5 }, { 2, 9, 5 }, { 5, 2, 9 }, { 2, 5, 9 } };
	struct sample_budget b = { .limit = 1 << 20 };
	struct dist_stats st;
	struct dist d;

	(void)state;
	for (size_t o = 0; o < 4; o++) {
		for (int stream_only = 0; stream_only < 2; stream_only++) {
			dist__init(&d, stream_only);
			for (size_t i = 0; i < 3; i++)
				assert_int_equal(dist__add(&d, orders[o][i], &b), 0);
			dist__stats(&d, &st);
			assert_int_equal(st.min, 2);
			assert_int_equal(st.max, 9);
			dist__fini(&d, &b);
		}
	}
	dist__init(&d, false);
	assert_int_equal(dist__add(&d, 7, &b), 0);
	dist__stats(&d, &st);
	assert_int_equal(st.min, 7);
	assert_int_equal(st.max, 7);
	assert_int_equal(st.p50, 7);
	assert_float_equal(st.stddev, 0, 0);
	dist__fini(&d, &b);
}

/* A roll-up over three members, for every set of members that went approximate (in any order,
 * not only the last): exact count, min, max; approximate percentiles within the bound. */
static void test_merged_any_member_approximate(void **state)
{
	struct sample_budget b = { .limit = 1 << 20 };

	(void)state;
	for (unsigned mask = 0; mask < 8; mask++) {
		struct dist m[3], *members[] = { &m[0], &m[1], &m[2] };
		struct dist_stats st;

			for (int k = 0; k < 3; k++) {
			dist__init(&m[k], false);
			/* member k holds 1000 * (100k + 1 .. 100k + 100): 300 distinct values */
			for (uint64_t v = 1; v <= 100; v++) {
				assert_int_equal(dist__add(&m[k], 1000 * (100 * (uint64_t)k + v), &b), 0);
			}
			if (mask & (1u << k))
				assert_int_equal(dist__to_hist(&m[k], &b), 0);
		}
		assert_int_equal(dist__merged_stats(members, 3, &st), 0);
		assert_int_equal(st.count, 300);
		assert_int_equal(st.min, 1000);
		assert_int_equal(st.max, 300000);
		assert_int_equal(st.sum, 1000 * 300 * 301 / 2);
		/* 1000 * (1..300): population std dev 1000 * sqrt((300^2 - 1) / 12), any member
		 * approximate or not */
		assert_float_equal(st.stddev, 1000 * sqrt(89999.0 / 12), 1e-6);
		assert_int_equal(st.approximate, mask != 0);
		/* exact: ranks 150, 285, 297 */
		assert_true(fabs((double)st.p50 - 150000) <= 150000 * HIST_REL_ERROR);
		assert_true(fabs((double)st.p95 - 285000) <= 285000 * HIST_REL_ERROR);
		assert_true(fabs((double)st.p99 - 297000) <= 297000 * HIST_REL_ERROR);
		if (!mask)
			assert_int_equal(st.p50, 150000);
		for (int k = 0; k < 3; k++)
			dist__fini(&m[k], &b);
		}
	assert_int_equal(b.used, 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The percentiles are found by selection, not by a sort: on inputs that defeat naive pivots
 * (sorted, reversed, all equal, few distinct values, organ pipe) and on random ones, of sizes
 * around the insertion-sort cut-off, they are the sorted array's nearest ranks. */
static void test_selection_matches_sort(void **state)
{
	static const size_t sizes[] = { 1, 2, 15, 16, 17, 18, 100, 1001, 65537 };
	uint64_t rng = 88172645463325252ull;

	(void)state;
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si];

		for (int shape = 0; shape < 6; shape++) {
			struct sample_budget b = { .limit = 1 << 24 };
			uint64_t *ref = malloc(n * sizeof(*ref));
			struct dist_stats st;
			struct dist d;

			assert_non_null(ref);
			dist__init(&d, false);
			for (size_t i = 0; i < n; i++) {
				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
				ref[i] = shape == 0 ? i : shape == 1 ? n - i : shape == 2 ? 7 :
					 shape == 3 ? rng % 3 : shape == 4 ? (i < n / 2 ? i : n - i) :
					 rng % 1000000;
				assert_int_equal(dist__add(&d, ref[i], &b), 0);
			}
			dist__stats(&d, &st);
			qsort(ref, n, sizeof(*ref), cmp_u64);
			assert_int_equal(st.p50, percentile_sorted(ref, n, 50));
			assert_int_equal(st.p95, percentile_sorted(ref, n, 95));
			assert_int_equal(st.p99, percentile_sorted(ref, n, 99));
			/* reordered, not lost */
			qsort(d.samples, n, sizeof(*ref), cmp_u64);
			assert_memory_equal(d.samples, ref, n * sizeof(*ref));
			dist__fini(&d, &b);
			free(ref);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile_nearest_rank),
		cmocka_unit_test(test_exact_stats),
		cmocka_unit_test(test_backtest_kit_stats),
		cmocka_unit_test(test_selection_matches_sort),
		cmocka_unit_test(test_empty_dist),
		cmocka_unit_test(test_hist_error_bound),
		cmocka_unit_test(test_hist_percentiles_vs_exact),
		cmocka_unit_test(test_hist_small_values_exact),
		cmocka_unit_test(test_budget_refuses_growth),
		cmocka_unit_test(test_merged_stats),
		cmocka_unit_test(test_ranks_not_whole),
		cmocka_unit_test(test_hist_midpoints_clamped),
		cmocka_unit_test(test_first_sample_extremes),
		cmocka_unit_test(test_stddev_every_mode),
		cmocka_unit_test(test_merged_any_member_approximate),
	};

	return cmocka_run_group_tests_name("unit: dist and hist", tests, NULL, NULL);
}
