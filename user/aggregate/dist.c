// SPDX-License-Identifier: BSD-2-Clause
/* A distribution of durations: exact while the sample budget allows, then a histogram. */
#include "user/aggregate/dist.h"

#include <errno.h>
#include <math.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

/* Sample arrays up to SAMPLE_ARENA_MAX come from the budget's arena (the heap without one); larger
 * ones are mappings of their own, grown with mremap (never copied) and, where the kernel has
 * transparent huge pages, backed by 2 MiB pages. */
static bool samples_mapped(size_t bytes)
{
	return bytes > SAMPLE_ARENA_MAX;
}

static void samples_free(struct sample_budget *b, uint64_t *s, size_t cap)
{
	size_t nb = cap * sizeof(*s);

	if (samples_mapped(nb))
		munmap(s, nb);
	else if (b && b->arena)
		sample_arena__release(b->arena, s, nb);
	else
		free(s);
}

/* The array s of cap samples (count of them used) grown to ncap, or NULL (s is then unchanged). */
static uint64_t *samples_grow(struct sample_budget *b, uint64_t *s, size_t count, size_t cap,
			      size_t ncap)
{
	size_t ob = cap * sizeof(*s), nb = ncap * sizeof(*s);
	void *p;

	if (!samples_mapped(nb) && !b->arena)
		return realloc(s, nb);
	if (samples_mapped(ob)) {
		p = mremap(s, ob, nb, MREMAP_MAYMOVE);
		if (p == MAP_FAILED)
			return NULL;
		madvise(p, nb, MADV_HUGEPAGE); /* the new address may take huge pages the old did not */
		return p;
	}
	if (samples_mapped(nb)) {
		p = mmap(NULL, nb, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		madvise(p, nb, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
	} else if (!(p = sample_arena__alloc(b->arena, nb))) {
		return NULL;
	}
	if (count)
		memcpy(p, s, count * sizeof(*s));
	if (cap)
		samples_free(b, s, cap);
	return p;
}

void dist__init(struct dist *d, bool stream_only)
{
	memset(d, 0, sizeof(*d));
	d->min = UINT64_MAX;
	d->stream_only = stream_only;
}

void dist__fini(struct dist *d, struct sample_budget *b)
{
	if (d->samples && b)
		b->used -= d->cap * sizeof(uint64_t);
	if (d->samples)
		samples_free(b, d->samples, d->cap);
	hist__free(d->hist);
	d->samples = NULL;
	d->hist = NULL;
	d->cap = 0;
}

bool dist__exact(const struct dist *d)
{
	return !d->hist;
}

/* Count, sum and extremes: all a distribution that keeps its samples updates per sample (its
 * spread is computed from them when asked: samples_m2). */
/* The same, and the running mean and squared deviations (Welford) of one that keeps none. */
static void stream_add(struct dist *d, uint64_t v)
{
	double delta;

	dist__count(d, v);
	delta = (double)v - d->mean;
	d->mean += delta / (double)d->count;
	d->m2 += delta * ((double)v - d->mean);
}

/* The sum of squared deviations from the mean of an exact distribution's samples (two passes:
 * the mean is exact, sum / count). */
static double samples_m2(const struct dist *d)
{
	double mean = d->count ? (double)d->sum / (double)d->count : 0, m2 = 0;

	for (size_t i = 0; i < d->count; i++) {
		double x = (double)d->samples[i] - mean;

		m2 += x * x;
	}
	return m2;
}

/* The sum of squared deviations of any distribution. */
static double dist_m2(const struct dist *d)
{
	return !d->hist && !d->stream_only ? samples_m2(d) : d->m2;
}

int dist__add(struct dist *d, uint64_t v, struct sample_budget *b)
{
	if (d->stream_only) {
		stream_add(d, v);
		return 0;
	}
	if (d->hist) {
		hist__add(d->hist, v, 1);
		stream_add(d, v);
		return 0;
	}
	if (d->count == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		uint64_t grow = (ncap - d->cap) * sizeof(uint64_t);
		uint64_t *ns;

		if (b->used + grow > b->limit)
			return -ENOSPC;
		ns = samples_grow(b, d->samples, d->count, d->cap, ncap);
		if (!ns)
			return -ENOMEM;
		d->samples = ns;
		d->cap = ncap;
		b->used += grow;
	}
	d->samples[d->count] = v;
	dist__count(d, v);
	return 0;
}

int dist__to_hist(struct dist *d, struct sample_budget *b)
{
	struct hist *h;

	if (d->hist || d->stream_only)
		return 0;
	h = hist__new();
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < d->count; i++)
		hist__add(h, d->samples[i], 1);
	/* from here on the spread is kept up per sample, from where the samples leave it */
	d->m2 = samples_m2(d);
	d->mean = d->count ? (double)d->sum / (double)d->count : 0;
	b->used -= d->cap * sizeof(uint64_t);
	samples_free(b, d->samples, d->cap);
	d->samples = NULL;
	d->cap = 0;
	d->hist = h;
	return 0;
}

void dist__add_to_hist(const struct dist *d, struct hist *h)
{
	if (d->hist)
		hist__merge(h, d->hist);
	else if (d->samples)
		for (size_t i = 0; i < d->count; i++)
			hist__add(h, d->samples[i], 1);
}

/* The nearest rank's index: max(0, ceil(n*p/100) - 1), within [0, n). */
static size_t rank_of(size_t n, double p)
{
	long idx = (long)ceil((double)n * p / 100.0) - 1;

	return idx < 0 ? 0 : (size_t)idx >= n ? n - 1 : (size_t)idx;
}

uint64_t percentile_sorted(const uint64_t *sorted, size_t n, double p)
{
	return n ? sorted[rank_of(n, p)] : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void swap_u64(uint64_t *a, uint64_t *b)
{
	uint64_t t = *a;

	*a = *b;
	*b = t;
}

/* Reorders s[lo, hi) so that s[k] is its (k - lo)-th smallest, nothing greater before it and
 * nothing smaller after it. Quickselect with random pivots and three-way partitions (durations
 * repeat a lot); the samples come from the engine, so a run of bad pivots, unlikely as it is,
 * ends in a sort of what is left rather than in quadratic time. */
static void select_kth(uint64_t *s, size_t lo, size_t hi, size_t k)
{
	static uint64_t rng = 0x9e3779b97f4a7c15ull;
	unsigned budget = 128;

	while (hi - lo > 16) {
		size_t lt = lo, i = lo, gt = hi;
		uint64_t p;

		if (budget-- == 0) {
			qsort(s + lo, hi - lo, sizeof(*s), cmp_u64);
			return;
		}
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		p = s[lo + rng % (hi - lo)];
		while (i < gt) {
			if (s[i] < p)
				swap_u64(&s[lt++], &s[i++]);
			else if (s[i] > p)
				swap_u64(&s[i], &s[--gt]);
			else
				i++;
		}
		if (k < lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else
			return;
	}
	for (size_t i = lo + 1; i < hi; i++)
		for (size_t j = i; j > lo && s[j - 1] > s[j]; j--)
			swap_u64(&s[j - 1], &s[j]);
}

static void stream_stats(const struct dist *d, enum dist_style style, struct dist_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->count = d->count;
	out->sum = d->sum;
	out->min = d->count ? d->min : 0;
	out->max = d->max;
	out->mean = d->count ? (double)d->sum / (double)d->count : 0;
	if (style == DIST_BACKTEST_KIT) /* sample standard deviation (Bessel's correction) */
		out->stddev = d->count > 1 ? sqrt(dist_m2(d) / (double)(d->count - 1)) : 0;
	else /* population standard deviation, as the seed's report computes it */
		out->stddev = d->count ? sqrt(dist_m2(d) / (double)d->count) : 0;
}

/* The count, sum, extremes, mean and spread of members taken together: their squared deviations
 * pooled (each member's about its own mean, plus its count times the square of its mean's
 * distance to the whole's). */
static void merged_stream(struct dist *const *members, size_t n, enum dist_style style,
			  struct dist_stats *out)
{
	struct dist all;
	double mean;

	dist__init(&all, true);
	for (size_t i = 0; i < n; i++) {
		const struct dist *m = members[i];

		all.count += m->count;
		all.sum += m->sum;
		if (m->count && m->min < all.min)
			all.min = m->min;
		if (m->max > all.max)
			all.max = m->max;
	}
	mean = all.count ? (double)all.sum / (double)all.count : 0;
	for (size_t i = 0; i < n; i++) {
		const struct dist *m = members[i];
		double d;

		if (!m->count)
			continue;
		d = (double)m->sum / (double)m->count - mean;
		all.m2 += dist_m2(m) + (double)m->count * d * d;
	}
	stream_stats(&all, style, out);
}

/* The p-th percentile interpolated between the samples of ranks floor(r) and ceil(r), r = p/100 *
 * (n - 1), rounded to the ns; by selection among s[0, hi) (hi > ceil(r)): afterwards nothing
 * above s[floor(r)] lies before it. */
static uint64_t interpolated(uint64_t *s, size_t n, size_t hi, double p)
{
	double r = p / 100.0 * (double)(n - 1), f;
	size_t lo = (size_t)floor(r), up = (size_t)ceil(r);
	uint64_t a, b;

	select_kth(s, 0, hi, lo);
	a = s[lo];
	if (up == lo)
		return a;
	b = s[up];
	for (size_t i = up + 1; i < hi; i++) /* the least sample above rank lo */
		b = s[i] < b ? s[i] : b;
	f = r - (double)lo;
	return (uint64_t)llround((double)a * (1 - f) + (double)b * f);
}

/* p50/p95/p99 by selection, O(n) instead of a sort: nearest rank (percentile_sorted), each
 * rank found among the samples not above the next higher one; or interpolated. */
static void percentiles_exact(uint64_t *s, size_t n, enum dist_style style, struct dist_stats *out)
{
	size_t k99 = rank_of(n, 99), k95 = rank_of(n, 95), k50 = rank_of(n, 50);

	out->approximate = false;
	if (style == DIST_BACKTEST_KIT) {
		out->p99 = interpolated(s, n, n, 99);
		out->p95 = interpolated(s, n, (size_t)ceil(0.99 * (double)(n - 1)) + 1, 95);
		out->p50 = interpolated(s, n, (size_t)ceil(0.95 * (double)(n - 1)) + 1, 50);
		return;
	}
	/* each value is read before the next selection reorders the samples up to it */
	select_kth(s, 0, n, k99);
	out->p99 = s[k99];
	select_kth(s, 0, k99 + 1, k95);
	out->p95 = s[k95];
	select_kth(s, 0, k95 + 1, k50);
	out->p50 = s[k50];
}

static void percentiles_hist(const struct hist *h, uint64_t lo, uint64_t hi, struct dist_stats *out)
{
	out->p50 = hist__percentile(h, 50, lo, hi);
	out->p95 = hist__percentile(h, 95, lo, hi);
	out->p99 = hist__percentile(h, 99, lo, hi);
	out->approximate = true;
}

void dist__stats_style(struct dist *d, enum dist_style style, struct dist_stats *out)
{
	stream_stats(d, style, out);
	if (d->count == 0 || d->stream_only)
		return;
	if (d->hist)
		percentiles_hist(d->hist, out->min, out->max, out);
	else
		percentiles_exact(d->samples, d->count, style, out);
}

void dist__stats(struct dist *d, struct dist_stats *out)
{
	dist__stats_style(d, DIST_SEED, out);
}

int dist__merged_stats_style(struct dist *const *members, size_t n, enum dist_style style,
			     struct dist_stats *out)
{
	bool exact = true;
	size_t total = 0;

	merged_stream(members, n, style, out);
	if (out->count == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		exact = exact && dist__exact(members[i]);
		total += members[i]->count;
	}
	if (exact) {
		uint64_t *all = malloc((total ? total : 1) * sizeof(uint64_t)), *p = all;

		if (!all)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			memcpy(p, members[i]->samples, members[i]->count * sizeof(uint64_t));
			p += members[i]->count;
		}
		percentiles_exact(all, total, style, out);
		free(all);
	} else {
		struct hist *h = hist__new();

		if (!h)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			dist__add_to_hist(members[i], h);
		percentiles_hist(h, out->min, out->max, out);
		hist__free(h);
	}
	return 0;
}

int dist__merged_stats(struct dist *const *members, size_t n, struct dist_stats *out)
{
	return dist__merged_stats_style(members, n, DIST_SEED, out);
}
