// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the sample arena's blocks (sizes, reuse, no overlap, the tail of a full region kept)
 * and exact distributions whose sample arrays come from it, across the move to a mapping of
 * their own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "user/aggregate/dist.h"
#include "user/aggregate/sample_arena.h"

#define REGION_BYTES (32u << 20)

static void test_sizes(void **state)
{
	struct sample_arena *a = sample_arena__new();
	const size_t bad[] = { 0, 8, 256, 511, 513, 768, 3000, SAMPLE_ARENA_MAX + 512,
			       2 * SAMPLE_ARENA_MAX };

	(void)state;
	assert_non_null(a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(sample_arena__alloc(a, bad[i]));
	assert_int_equal(sample_arena__mapped(a), 0); /* nothing asked of the kernel for them */
	for (size_t n = SAMPLE_ARENA_MIN; n <= SAMPLE_ARENA_MAX; n *= 2) {
		unsigned char *p = sample_arena__alloc(a, n);

		assert_non_null(p);
		memset(p, 0xab, n); /* the whole block is usable */
		assert_int_equal(p[n - 1], 0xab);
	}
	assert_int_equal(sample_arena__mapped(a), REGION_BYTES);
	sample_arena__free(a);
	sample_arena__free(NULL);
}

/* A block given back is the next one handed out of its size, and only of its size. */
static void test_reuse_by_size(void **state)
{
	struct sample_arena *a = sample_arena__new();
	void *p1, *p2, *q;

	(void)state;
	p1 = sample_arena__alloc(a, 4096);
	p2 = sample_arena__alloc(a, 4096);
	assert_ptr_not_equal(p1, p2);
	sample_arena__release(a, p1, 4096);
	q = sample_arena__alloc(a, 8192); /* another size: not the freed block */
	assert_ptr_not_equal(q, p1);
	q = sample_arena__alloc(a, 2048);
	assert_ptr_not_equal(q, p1);
	assert_ptr_equal(sample_arena__alloc(a, 4096), p1);
	assert_ptr_not_equal(sample_arena__alloc(a, 4096), p1);
	sample_arena__free(a);
}

struct block {
	unsigned char *p;
	size_t n;
	unsigned char fill;
};

static int by_addr(const void *x, const void *y)
{
	const struct block *a = x, *b = y;

	return a->p < b->p ? -1 : a->p > b->p;
}

/* Blocks of mixed sizes, some given back and taken again, across several regions: none overlaps
 * another, and each keeps what was written into it. */
static void test_no_overlap(void **state)
{
	enum { N = 600 };
	struct sample_arena *a = sample_arena__new();
	struct block *b = calloc(N, sizeof(*b));
	uint64_t rng = 88172645463325252ull;

	(void)state;
	assert_non_null(b);
	for (int i = 0; i < N; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		b[i].n = (size_t)SAMPLE_ARENA_MIN << (rng % 13);
		b[i].p = sample_arena__alloc(a, b[i].n);
		assert_non_null(b[i].p);
		b[i].fill = (unsigned char)(i * 7 + 1);
		memset(b[i].p, b[i].fill, b[i].n);
		if (i % 5 == 4) { /* give one back and take one of its size again */
			int j = i - 3;

			sample_arena__release(a, b[j].p, b[j].n);
			b[j].p = sample_arena__alloc(a, b[j].n);
			assert_non_null(b[j].p);
			memset(b[j].p, b[j].fill, b[j].n);
		}
	}
	assert_true(sample_arena__mapped(a) > REGION_BYTES);
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < b[i].n; k += 509)
			assert_int_equal(b[i].p[k], b[i].fill);
	qsort(b, N, sizeof(*b), by_addr);
	for (int i = 1; i < N; i++)
		assert_true(b[i - 1].p + b[i - 1].n <= b[i].p);
	free(b);
	sample_arena__free(a);
}

/* A region that cannot hold the next block keeps its tail as smaller blocks: they are handed out
 * before the kernel is asked for more. */
static void test_region_tail_kept(void **state)
{
	struct sample_arena *a = sample_arena__new();
	unsigned char *first, *p;

	(void)state;
	first = sample_arena__alloc(a, SAMPLE_ARENA_MIN);
	assert_non_null(first);
	for (int i = 0; i < 16; i++) /* the 16th does not fit in the first region */
		assert_non_null(sample_arena__alloc(a, SAMPLE_ARENA_MAX));
	assert_int_equal(sample_arena__mapped(a), 2 * REGION_BYTES);
	/* the first region's last 2 MiB - 512 B: one block of each size from 1 MiB down to 512 B */
	for (size_t n = SAMPLE_ARENA_MAX / 2; n >= SAMPLE_ARENA_MIN; n /= 2) {
		p = sample_arena__alloc(a, n);
		assert_non_null(p);
		assert_true(p >= first && p + n <= first + REGION_BYTES);
	}
	assert_int_equal(sample_arena__mapped(a), 2 * REGION_BYTES);
	sample_arena__free(a);
}

/* An exact distribution with its samples in the arena, grown past SAMPLE_ARENA_MAX (a mapping of
 * its own from there): every sample kept, exact statistics, all budget given back. */
static void test_dist_in_arena(void **state)
{
	struct sample_budget b = { .limit = 64u << 20, .arena = sample_arena__new() };
	struct dist d, small;
	struct dist_stats st;
	const uint64_t n = 600000; /* 4.8 MB of samples */

	(void)state;
	assert_non_null(b.arena);
	dist__init(&d, false);
	dist__init(&small, false);
	for (uint64_t i = 0; i < n; i++) {
		/* 1..n, in an order that is not sorted */
		assert_int_equal(dist__add(&d, (i * 7919) % n + 1, &b), 0);
		if (i < 1000)
			assert_int_equal(dist__add(&small, i + 1, &b), 0);
	}
	assert_true(dist__exact(&d));
	dist__stats(&d, &st);
	assert_int_equal(st.count, n);
	assert_int_equal(st.sum, n * (n + 1) / 2);
	assert_int_equal(st.min, 1);
	assert_int_equal(st.max, n);
	assert_int_equal(st.p50, n / 2);
	assert_int_equal(st.p99, n / 100 * 99);
	dist__stats(&small, &st);
	assert_int_equal(st.p50, 500);
	assert_int_equal(dist__to_hist(&small, &b), 0);
	dist__fini(&d, &b);
	dist__fini(&small, &b);
	assert_int_equal(b.used, 0);
	sample_arena__free(b.arena);
}

/* A region the arena gave back can be mapped again and written: under AddressSanitizer its
 * blocks' poisoning goes with it (a later mapping at that address once hit use-after-poison). */
static void test_freed_region_reusable(void **state)
{
	struct sample_arena *a = sample_arena__new();
	unsigned char *p, *q;

	(void)state;
	p = sample_arena__alloc(a, SAMPLE_ARENA_MAX);
	assert_non_null(p);
	sample_arena__release(a, p, SAMPLE_ARENA_MAX);
	sample_arena__free(a);
	q = mmap(p, SAMPLE_ARENA_MAX, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	assert_ptr_equal(q, p);
	memset(q, 1, SAMPLE_ARENA_MAX);
	assert_int_equal(q[SAMPLE_ARENA_MAX - 1], 1);
	munmap(q, SAMPLE_ARENA_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_reuse_by_size),
		cmocka_unit_test(test_no_overlap),
		cmocka_unit_test(test_region_tail_kept),
		cmocka_unit_test(test_dist_in_arena),
		cmocka_unit_test(test_freed_region_reusable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
