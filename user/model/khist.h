/* SPDX-License-Identifier: BSD-2-Clause */
/* The counts of one monitor histogram (the bucket layout of bpf/kernel_hist.h), stored sparsely:
 * the 2,049 buckets are taken in groups of KHIST_CHUNK, and only groups that hold a value have
 * storage (KHIST_CHUNK counters each). A histogram costs sizeof(struct khist) plus
 * KHIST_CHUNK * 8 bytes per occupied group, instead of 16 KiB; adding stays two loads. */
#ifndef PERFBPF_MODEL_KHIST_H
#define PERFBPF_MODEL_KHIST_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/kernel_hist.h"

#define KHIST_CHUNK_BITS 4
#define KHIST_CHUNK (1u << KHIST_CHUNK_BITS)
#define KHIST_NCHUNKS ((KHIST_BUCKETS + KHIST_CHUNK - 1) / KHIST_CHUNK) /* 129 */

struct khist {
	uint64_t (*chunk)[KHIST_CHUNK]; /* the occupied groups, in order of first use */
	uint8_t at[KHIST_NCHUNKS];      /* per group: 1 + its index in chunk, 0: empty */
	uint8_t n, cap;                 /* groups in chunk, room for */
};

/* Adds n to bucket idx (< KHIST_BUCKETS): 0, or -ENOMEM (the histogram is then unchanged). */
int khist__add(struct khist *h, unsigned idx, uint64_t n);
uint64_t khist__get(const struct khist *h, unsigned idx);
/* The first non-empty bucket at or after idx, or KHIST_BUCKETS. */
unsigned khist__next(const struct khist *h, unsigned idx);
/* Adds src's counts to dst: 0 or -ENOMEM. */
int khist__merge(struct khist *dst, const struct khist *src);
/* dst (uninitialized) becomes a copy of src with its own storage: 0, or -ENOMEM (dst empty). */
int khist__copy(struct khist *dst, const struct khist *src);
/* Frees the storage: the histogram is empty again. */
void khist__free(struct khist *h);
/* The exponential bucket, in seconds at `scale` (base 2^(2^-scale)), of the midpoint of layout
 * bucket b (> 0) with its upper edge cut to max_ns: index i holds (base^(i-1), base^i], the
 * Prometheus native-histogram numbering (OTLP's index is one less). Consecutive layout buckets
 * map to non-decreasing indexes. */
int32_t khist__exp_index(unsigned b, int scale, uint64_t max_ns);
/* Heap bytes the histogram holds. */
size_t khist__heap_bytes(const struct khist *h);

#endif
