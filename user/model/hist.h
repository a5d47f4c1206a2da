/* SPDX-License-Identifier: BSD-2-Clause */
/* Log-linear histogram of u64 values: 128 linear sub-buckets per power of two, so a value's
 * bucket representative is within 1/256 (0.4%) of every value in the bucket. */
#ifndef PERFBPF_HIST_H
#define PERFBPF_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)
/* Largest relative distance from a bucket's representative to a value in the bucket. */
#define HIST_REL_ERROR (1.0 / (2.0 * HIST_SUB))

struct hist;

/* One non-empty bucket of a histogram. */
struct hist_bin {
	uint32_t index;
	uint64_t count;
};

struct hist *hist__new(void);
void hist__free(struct hist *h);
void hist__add(struct hist *h, uint64_t v, uint64_t n);
void hist__merge(struct hist *dst, const struct hist *src);
uint64_t hist__count(const struct hist *h);
void hist__clear(struct hist *h);
/* The non-empty buckets, lowest first, into `out` (room for HIST_BUCKETS); returns how many. */
size_t hist__bins(const struct hist *h, struct hist_bin *out);
/* Nearest-rank percentile (0 < p <= 100): the representative of the bucket holding the sample
 * of rank ceil(n*p/100), clamped to [lo, hi] (the exact min and max when the caller knows them). */
uint64_t hist__percentile(const struct hist *h, double p, uint64_t lo, uint64_t hi);

unsigned hist_bucket(uint64_t v);
uint64_t hist_bucket_lower(unsigned idx);
uint64_t hist_bucket_upper(unsigned idx); /* inclusive */
uint64_t hist_bucket_mid(unsigned idx);

#endif
