// SPDX-License-Identifier: BSD-2-Clause
/* Sparse monitor histograms (see khist.h). */
#include "user/model/khist.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(KHIST_NCHUNKS < 256, "a group's index must fit khist.at");

int khist__add(struct khist *h, unsigned idx, uint64_t n)
{
	unsigned g = idx >> KHIST_CHUNK_BITS;

	if (!h->at[g]) {
		if (h->n == h->cap) {
			unsigned cap = h->cap ? 2u * h->cap : 2;
			void *p;

			if (cap > KHIST_NCHUNKS)
				cap = KHIST_NCHUNKS;
			p = realloc(h->chunk, cap * sizeof(*h->chunk));
			if (!p)
				return -ENOMEM;
			h->chunk = p;
			h->cap = (uint8_t)cap;
		}
		memset(h->chunk[h->n], 0, sizeof(*h->chunk));
		h->at[g] = ++h->n;
	}
	h->chunk[h->at[g] - 1][idx & (KHIST_CHUNK - 1)] += n;
	return 0;
}

uint64_t khist__get(const struct khist *h, unsigned idx)
{
	unsigned g = idx >> KHIST_CHUNK_BITS;

	return h->at[g] ? h->chunk[h->at[g] - 1][idx & (KHIST_CHUNK - 1)] : 0;
}

unsigned khist__next(const struct khist *h, unsigned idx)
{
	for (unsigned g = idx >> KHIST_CHUNK_BITS; g < KHIST_NCHUNKS; g++) {
		const uint64_t *c;

		if (!h->at[g])
			continue;
		c = h->chunk[h->at[g] - 1];
		for (unsigned i = g == idx >> KHIST_CHUNK_BITS ? idx & (KHIST_CHUNK - 1) : 0;
		     i < KHIST_CHUNK; i++)
			if (c[i])
				return g * KHIST_CHUNK + i;
	}
	return KHIST_BUCKETS;
}

int khist__merge(struct khist *dst, const struct khist *src)
{
	for (unsigned g = 0; g < KHIST_NCHUNKS; g++) {
		const uint64_t *c;

		if (!src->at[g])
			continue;
		c = src->chunk[src->at[g] - 1];
		for (unsigned i = 0; i < KHIST_CHUNK; i++)
			if (c[i] && khist__add(dst, g * KHIST_CHUNK + i, c[i]))
				return -ENOMEM;
	}
	return 0;
}

int khist__copy(struct khist *dst, const struct khist *src)
{
	*dst = *src;
	dst->chunk = NULL;
	dst->cap = src->n;
	if (src->n && !(dst->chunk = malloc(src->n * sizeof(*src->chunk)))) {
		memset(dst, 0, sizeof(*dst));
		return -ENOMEM;
	}
	if (src->n)
		memcpy(dst->chunk, src->chunk, src->n * sizeof(*src->chunk));
	return 0;
}

void khist__free(struct khist *h)
{
	free(h->chunk);
	memset(h, 0, sizeof(*h));
}

size_t khist__heap_bytes(const struct khist *h)
{
	return (size_t)h->cap * sizeof(*h->chunk);
}

int32_t khist__exp_index(unsigned b, int scale, uint64_t max_ns)
{
	uint64_t lo = khist_lower(b), hi = khist_upper(b);
	double mid;

	hi = hi > max_ns ? max_ns : hi;
	mid = hi < lo ? (double)lo : (double)lo + (double)(hi - lo) / 2;
	return (int32_t)ceil(log2(mid * 1e-9) * (double)(1 << scale));
}
