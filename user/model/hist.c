// SPDX-License-Identifier: BSD-2-Clause
/* Log-linear histogram of u64 values (see hist.h for the error bound). */
#include "user/model/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hist {
	uint64_t total;
	uint64_t counts[HIST_BUCKETS];
};

unsigned hist_bucket(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v); /* e >= HIST_SUB_BITS */
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

uint64_t hist_bucket_lower(unsigned idx)
{
	unsigned g = idx / HIST_SUB, sub = idx % HIST_SUB;

	if (g == 0)
		return idx;
	return (uint64_t)(HIST_SUB + sub) << (g - 1);
}

uint64_t hist_bucket_upper(unsigned idx)
{
	unsigned g = idx / HIST_SUB;

	if (g == 0)
		return idx;
	return hist_bucket_lower(idx) + ((1ull << (g - 1)) - 1);
}

uint64_t hist_bucket_mid(unsigned idx)
{
	uint64_t lo = hist_bucket_lower(idx), hi = hist_bucket_upper(idx);

	return lo + (hi - lo) / 2;
}

struct hist *hist__new(void)
{
	return calloc(1, sizeof(struct hist));
}

void hist__free(struct hist *h)
{
	free(h);
}

void hist__add(struct hist *h, uint64_t v, uint64_t n)
{
	h->counts[hist_bucket(v)] += n;
	h->total += n;
}

void hist__merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
}

uint64_t hist__count(const struct hist *h)
{
	return h->total;
}

void hist__clear(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

size_t hist__bins(const struct hist *h, struct hist_bin *out)
{
	size_t n = 0;

	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		if (h->counts[i])
			out[n++] = (struct hist_bin){ .index = i, .count = h->counts[i] };
	return n;
}

uint64_t hist__percentile(const struct hist *h, double p, uint64_t lo, uint64_t hi)
{
	uint64_t rank, seen = 0, v = 0;

	if (h->total == 0)
		return 0;
	rank = (uint64_t)ceil((double)h->total * p / 100.0);
	if (rank < 1)
		rank = 1;
	if (rank > h->total)
		rank = h->total;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			v = hist_bucket_mid(i);
			break;
		}
	}
	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	return v;
}
