/* SPDX-License-Identifier: BSD-2-Clause */
/* The hash that keys perfbpf monitor's key table (struct perfbpf_mon_key): shared by the BPF
 * programs and the test that builds two names with one hash (tests/integration/test_monitor.c)
 * to check that such names are counted apart, never merged. */
#ifndef PERFBPF_NAMES_HASH_H
#define PERFBPF_NAMES_HASH_H

#include "perfbpf.h"

#define NAMES_WORDS (sizeof(struct perfbpf_names) / 8)
_Static_assert(NAMES_WORDS % 4 == 0, "names_hash takes four words a step");

/* Word i of the names goes to lane i % 4; lane l starts at names_hash_seed[l] and takes each of
 * its words as lane = (lane ^ word) * names_hash_mul[l]. */
static const __u64 names_hash_seed[4] = { 0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full,
					  0x165667b19e3779f9ull, 0x27d4eb2f165667c5ull };
static const __u64 names_hash_mul[4] = { 0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull,
					 0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull };

/* The hash of zero-padded names: four independent multiply-xor lanes over the 20 words (short
 * dependency chains), then a final mix. Not for hostile input: a collision costs the later key
 * its events (counted), never a wrong merge. */
static inline __u64 names_hash(const struct perfbpf_names *n)
{
	const __u64 *w = (const __u64 *)n;
	__u64 l0 = names_hash_seed[0], l1 = names_hash_seed[1], l2 = names_hash_seed[2],
	      l3 = names_hash_seed[3], h;

#ifdef __bpf__
#pragma unroll
#endif
	for (unsigned i = 0; i < NAMES_WORDS; i += 4) {
		l0 = (l0 ^ w[i]) * names_hash_mul[0];
		l1 = (l1 ^ w[i + 1]) * names_hash_mul[1];
		l2 = (l2 ^ w[i + 2]) * names_hash_mul[2];
		l3 = (l3 ^ w[i + 3]) * names_hash_mul[3];
	}
	h = l0 ^ (l1 << 17 | l1 >> 47) ^ (l2 << 31 | l2 >> 33) ^ (l3 << 47 | l3 >> 17);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

#endif /* PERFBPF_NAMES_HASH_H */
