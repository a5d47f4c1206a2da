// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the in-kernel histogram layout (perfbpf monitor) and its error bound, and the
 * statistics and report rows computed from it (user/aggregate/kseries_stats.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kseries_fixture.h"
#include "user/aggregate/kseries_stats.h"

#define NS_100 100ull
#define S_100 100000000000ull
#define BOUND (1.0 / KHIST_SUB) /* 1/64 = 1.6% <= the 2% the monitor promises */

/* Buckets tile [0, 2^37) without gaps or overlaps, and every value maps into its bucket. */
static void test_layout_tiles(void **state)
{
	(void)state;
	assert_int_equal(KHIST_BUCKETS, 2049);
	assert_int_equal(khist_lower(0), 0);
	for (unsigned b = 0; b < KHIST_OVERFLOW; b++) {
		assert_true(khist_lower(b) <= khist_upper(b));
		assert_int_equal(khist_bucket(khist_lower(b)), b);
		assert_int_equal(khist_bucket(khist_upper(b)), b);
		if (b + 1 < KHIST_OVERFLOW)
			assert_int_equal(khist_lower(b + 1), khist_upper(b) + 1);
	}
	assert_int_equal(khist_upper(KHIST_OVERFLOW - 1) + 1, 1ull << KHIST_MAX_EXP);
	assert_int_equal(khist_bucket(1ull << KHIST_MAX_EXP), KHIST_OVERFLOW);
	assert_int_equal(khist_bucket(UINT64_MAX), KHIST_OVERFLOW);
	/* the shift-based log2 against the compiler's */
	for (unsigned e = 0; e < 64; e++)
		for (uint64_t v = 1ull << e, k = 0; k < 3; k++, v += (v >> 1) + k)
			if (v >> e == 1) /* still in [2^e, 2^(e+1)) */
				assert_int_equal(khist_log2(v), e);
	assert_int_equal(khist_log2(UINT64_MAX), 63);
}

/* Over 100 ns .. 100 s, any estimate Prometheus can interpolate within a bucket, [lo-1, hi], is
 * within 1/64 of every value in the bucket, and the midpoint the report uses within 1/128. */
static void test_error_bound_whole_range(void **state)
{
	double worst = 0, worst_mid = 0;

	(void)state;
	for (unsigned b = khist_bucket(NS_100); b <= khist_bucket(S_100); b++) {
		uint64_t lo = khist_lower(b), hi = khist_upper(b), mid = lo + (hi - lo) / 2;
		/* the extremes of |estimate - value| / value within the bucket */
		double e1 = (double)(hi - lo) / (double)lo;         /* value lo, estimate hi */
		double e2 = (double)(hi - (lo - 1)) / (double)hi;   /* value hi, estimate lo-1 */
		double m1 = (double)(mid - lo) / (double)lo;
		double m2 = (double)(hi - mid) / (double)hi;

		worst = fmax(worst, fmax(e1, e2));
		worst_mid = fmax(worst_mid, fmax(m1, m2));
	}
	print_message("worst interpolation error %.4f%%, worst midpoint error %.4f%%\n",
		      worst * 100, worst_mid * 100);
	assert_true(worst <= BOUND);
	assert_true(worst <= 0.02);
	assert_true(worst_mid <= KHIST_MID_REL_ERROR);
	/* and at sampled values, through khist_bucket itself */
	for (uint64_t v = NS_100; v <= S_100; v += v / 997 + 1) {
		unsigned b = khist_bucket(v);
		uint64_t lo = khist_lower(b), hi = khist_upper(b);

		assert_true(v >= lo && v <= hi);
		assert_true((double)(hi - lo + 1) / (double)v <= BOUND);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentiles from the histogram are within the midpoint bound of the exact nearest rank. */
static void test_percentiles_within_bound(void **state)
{
	static uint64_t v[20000];
	struct kseries *s = calloc(1, sizeof(*s));
	const double ps[] = { 1, 50, 90, 95, 99, 99.9, 100 };

	(void)state;
	srand(7);
	for (size_t i = 0; i < 20000; i++) /* log-uniform over 100 ns .. 10 ms */
		v[i] = (uint64_t)(100.0 * pow(10, 5.0 * rand() / RAND_MAX));
	fill(s, v, 20000);
	qsort(v, 20000, sizeof(v[0]), cmp_u64);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		size_t rank = (size_t)ceil(20000 * ps[i] / 100.0);
		uint64_t exact = v[rank ? rank - 1 : 0];
		uint64_t est = kseries_stats__percentile(&s->dur, s->count, ps[i], s->min_ns, s->max_ns);

		assert_true(fabs((double)est - (double)exact) <= exact * KHIST_MID_REL_ERROR + 1);
	}
	/* known answers: a single value, and an empty series */
	fill(s, (uint64_t[]){ 1234567 }, 1);
	assert_int_equal(kseries_stats__percentile(&s->dur, 1, 99, s->min_ns, s->max_ns), 1234567);
	assert_int_equal(kseries_stats__percentile(&s->dur, 0, 99, 0, 0), 0);
	kseries__release(s);
	free(s);
}

/* Series of two processes merge into one row per key; roll-ups per metric; exact totals. */
static void test_summarize_merges(void **state)
{
	struct kseries *a = calloc(3, sizeof(*a));
	struct kseries *const v[] = { &a[0], &a[1], &a[2] };
	struct kseries_report r = { 0 };
	struct summary s = { 0 };

	(void)state;
	fill(&a[0], (uint64_t[]){ 100, 200, 300 }, 3);
	fill(&a[1], (uint64_t[]){ 1000 }, 1);
	fill(&a[2], (uint64_t[]){ 50 }, 1);
	for (int i = 0; i < 3; i++) {
		a[i].kind = PERFBPF_EV_OP;
		strcpy(a[i].metric, i < 2 ? "tick" : "fill");
		strcpy(a[i].symbol, "BTC");
		a[i].pid = 10 + (uint32_t)i;
	}
	assert_int_equal(kseries_stats__summarize(v, 3, &r, &s), 0);
	assert_int_equal(s.nrows, 2);
	assert_int_equal(s.nmetrics, 2);
	assert_int_equal(s.events, 5);
	assert_string_equal(s.rows[0].metric, "tick");
	assert_int_equal(s.rows[0].count, 4);
	assert_int_equal(s.rows[0].total_ns, 1600);
	assert_int_equal(s.rows[0].min_ns, 100);
	assert_int_equal(s.rows[0].max_ns, 1000);
	assert_int_equal(s.rows[0].p50_ns, 200);
	assert_true(s.rows[0].approximate);
	assert_true(s.kernel_histograms);
	assert_int_equal(s.metrics[1].count, 1);
	assert_int_equal(s.metrics[1].total_ns, 50);
	kseries_stats__free_report(&r);
	for (int i = 0; i < 3; i++)
		kseries__release(&a[i]);
	free(a);
}

/* Known answers from one series: values below 64 ns have a bucket each, so the statistics are
 * exact. 1..10: population stddev sqrt(8.25); self time and waits kept apart from durations. */
static void test_summarize_known_answers(void **state)
{
	struct kseries *k = calloc(1, sizeof(*k));
	struct kseries *const v[] = { k };
	struct kseries_report r = { 0 };
	struct summary s = { 0 };
	const struct stat_row *row;

	(void)state;
	assert_non_null(k);
	fill(k, (uint64_t[]){ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 10);
	k->kind = PERFBPF_EV_SPAN;
	strcpy(k->metric, "tick");
	k->self_sum_ns = 20; /* the rest in child spans */
	/* 9 gaps: 8 of 100 ns, one of 300 */
	k->wait_count = 9;
	k->wait_sum_ns = 1100;
	k->wait_min_ns = 100;
	k->wait_max_ns = 300;
	assert_int_equal(khist__add(&k->wait, khist_bucket(100), 8), 0);
	assert_int_equal(khist__add(&k->wait, khist_bucket(300), 1), 0);
	assert_int_equal(kseries_stats__summarize(v, 1, &r, &s), 0);
	row = &s.rows[0];
	assert_int_equal(row->count, 10);
	assert_int_equal(row->total_ns, 55);
	assert_int_equal(row->self_total_ns, 20);
	assert_float_equal(row->mean_ns, 5.5, 1e-12);
	assert_float_equal(row->stddev_ns, sqrt(8.25), 1e-9);
	assert_int_equal(row->min_ns, 1);
	assert_int_equal(row->max_ns, 10);
	assert_int_equal(row->p50_ns, 5);
	assert_int_equal(row->p95_ns, 10);
	assert_int_equal(row->wait_count, 9);
	assert_float_equal(row->wait_mean_ns, 1100.0 / 9, 1e-9);
	assert_int_equal(row->wait_min_ns, 100);
	assert_int_equal(row->wait_max_ns, 300);
	assert_int_equal(s.metrics[0].self_total_ns, 20);
	assert_float_equal(s.metrics[0].stddev_ns, sqrt(8.25), 1e-9);
	kseries_stats__free_report(&r);
	kseries__release(k);
	free(k);
}

/* Ranks that are not whole (n = 7): ceil(n*p/100), as the exact percentiles. */
static void test_ranks_not_whole(void **state)
{
	struct kseries *k = calloc(1, sizeof(*k));

	(void)state;
	assert_non_null(k);
	fill(k, (uint64_t[]){ 10, 20, 30, 40, 50, 60, 61 }, 7);
	assert_int_equal(kseries_stats__percentile(&k->dur, 7, 10, 10, 61), 10); /* rank 1 (0.7) */
	assert_int_equal(kseries_stats__percentile(&k->dur, 7, 30, 10, 61), 30); /* rank 3 (2.1) */
	assert_int_equal(kseries_stats__percentile(&k->dur, 7, 50, 10, 61), 40); /* rank 4 (3.5) */
	assert_int_equal(kseries_stats__percentile(&k->dur, 7, 95, 10, 61), 61); /* rank 7 (6.65) */
	kseries__release(k);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_tiles),
		cmocka_unit_test(test_error_bound_whole_range),
		cmocka_unit_test(test_percentiles_within_bound),
		cmocka_unit_test(test_summarize_merges),
		cmocka_unit_test(test_summarize_known_answers),
		cmocka_unit_test(test_ranks_not_whole),
	};

	return cmocka_run_group_tests_name("unit: kernel series statistics", tests, NULL, NULL);
}
