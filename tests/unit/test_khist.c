// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the sparse monitor histogram (user/model/khist.c) against a dense array of the
 * same 2,049 buckets: adds, reads, walks in order, merges, and holds storage only for the
 * groups of buckets in use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "user/model/khist.h"

static uint64_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 17;
}

/* Every bucket of h equals the dense reference, and the walk visits exactly the non-empty
 * ones, lowest first. */
static void check_equal(const struct khist *h, const uint64_t *ref)
{
	unsigned walk = khist__next(h, 0);

	for (unsigned i = 0; i < KHIST_BUCKETS; i++) {
		assert_int_equal(khist__get(h, i), ref[i]);
		if (ref[i]) {
			assert_int_equal(walk, i);
			walk = khist__next(h, i + 1);
		}
	}
	assert_int_equal(walk, KHIST_BUCKETS);
}

static void test_khist_matches_dense(void **state)
{
	uint64_t *ra = calloc(KHIST_BUCKETS, sizeof(*ra)), *rb = calloc(KHIST_BUCKETS, sizeof(*rb));
	struct khist a = { 0 }, b = { 0 };
	uint64_t seed = 7;

	(void)state;
	assert_non_null(ra);
	assert_non_null(rb);
	check_equal(&a, ra);
	assert_int_equal(khist__heap_bytes(&a), 0);
	for (int i = 0; i < 20000; i++) { /* values of every size: 0 ns to the overflow bucket */
		uint64_t v = rnd(&seed) >> (rnd(&seed) % 47);
		unsigned idx = khist_bucket(v);

		assert_int_equal(khist__add(i % 3 ? &a : &b, idx, 1 + (uint64_t)i % 5), 0);
		(i % 3 ? ra : rb)[idx] += 1 + (uint64_t)i % 5;
	}
	assert_int_equal(khist__add(&a, 0, 2), 0); /* the first group and the last bucket */
	ra[0] += 2;
	assert_int_equal(khist__add(&a, KHIST_OVERFLOW, 3), 0);
	ra[KHIST_OVERFLOW] += 3;
	check_equal(&a, ra);
	check_equal(&b, rb);
	assert_int_equal(khist__merge(&a, &b), 0);
	for (unsigned i = 0; i < KHIST_BUCKETS; i++)
		ra[i] += rb[i];
	check_equal(&a, ra);
	check_equal(&b, rb); /* the source unchanged */
	khist__free(&a);
	khist__free(&b);
	assert_int_equal(khist__heap_bytes(&a), 0);
	memset(ra, 0, KHIST_BUCKETS * sizeof(*ra));
	check_equal(&a, ra);
	free(ra);
	free(rb);
}

/* Storage follows use: a few values near each other take one group of KHIST_CHUNK counters
 * (rounded to the allocation step), values spread over every group all of them. */
static void test_khist_memory_follows_use(void **state)
{
	struct khist h = { 0 };

	(void)state;
	for (uint64_t v = 1000; v < 1004; v++)
		assert_int_equal(khist__add(&h, khist_bucket(v), 1), 0);
	assert_int_equal(h.n, 1);
	assert_true(khist__heap_bytes(&h) <= 2 * KHIST_CHUNK * sizeof(uint64_t));
	for (unsigned i = 0; i < KHIST_BUCKETS; i += KHIST_CHUNK)
		assert_int_equal(khist__add(&h, i, 1), 0);
	assert_int_equal(h.n, KHIST_NCHUNKS);
	assert_int_equal(khist__heap_bytes(&h), KHIST_NCHUNKS * KHIST_CHUNK * sizeof(uint64_t));
	/* 1000..1003 ns share one bucket (8 ns wide there) */
	assert_int_equal(khist__get(&h, khist_bucket(1000)), 4 + (khist_bucket(1000) % KHIST_CHUNK == 0));
	khist__free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_khist_matches_dense),
		cmocka_unit_test(test_khist_memory_follows_use),
	};

	return cmocka_run_group_tests_name("unit: sparse monitor histogram", tests, NULL, NULL);
}
