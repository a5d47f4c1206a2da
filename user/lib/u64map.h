/* SPDX-License-Identifier: BSD-2-Clause */
/* A hash map from non-zero 64-bit keys to pointers: open addressing, linear probing, deletion by
 * backward shift (no tombstones). */
#ifndef PERFBPF_U64MAP_H
#define PERFBPF_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t key; /* 0: empty */
	void *val;
};

struct u64map {
	struct u64map_slot *v;
	size_t cap, n; /* cap is 0 or a power of two */
};

void *u64map__get(const struct u64map *m, uint64_t key);
/* Inserts or replaces; 0 or -ENOMEM. key must not be 0. */
int u64map__put(struct u64map *m, uint64_t key, void *val);
/* Removes and returns the value, or NULL. */
void *u64map__del(struct u64map *m, uint64_t key);
void u64map__free(struct u64map *m);

#endif
