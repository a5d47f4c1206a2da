// SPDX-License-Identifier: BSD-2-Clause
/* Open-addressing hash map from 64-bit keys to pointers. */
#include "user/lib/u64map.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

void *u64map__get(const struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->v[i].key == key)
			return m->v[i].val;
		if (m->v[i].key == 0)
			return NULL;
	}
}

static int grow(struct u64map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct u64map_slot *v = calloc(cap, sizeof(*v)), *old = m->v;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!old[i].key)
			continue;
		for (j = slot_of(old[i].key, cap); v[j].key; j = (j + 1) & (cap - 1))
			;
		v[j] = old[i];
	}
	free(old);
	m->v = v;
	m->cap = cap;
	return 0;
}

int u64map__put(struct u64map *m, uint64_t key, void *val)
{
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3 && grow(m))
		return -ENOMEM;
	for (i = slot_of(key, m->cap); m->v[i].key && m->v[i].key != key; i = (i + 1) & (m->cap - 1))
		;
	if (!m->v[i].key)
		m->n++;
	m->v[i].key = key;
	m->v[i].val = val;
	return 0;
}

void *u64map__del(struct u64map *m, uint64_t key)
{
	size_t i, j, mask = m->cap - 1;
	void *val;

	if (!m->cap)
		return NULL;
	for (i = slot_of(key, m->cap); m->v[i].key != key; i = (i + 1) & mask)
		if (!m->v[i].key)
			return NULL;
	val = m->v[i].val;
	/* shift later members of the run back over the hole when their home allows it */
	for (j = (i + 1) & mask; m->v[j].key; j = (j + 1) & mask) {
		size_t home = slot_of(m->v[j].key, m->cap);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->v[i] = m->v[j];
			i = j;
		}
	}
	m->v[i].key = 0;
	m->v[i].val = NULL;
	m->n--;
	return val;
}

void u64map__free(struct u64map *m)
{
	free(m->v);
	m->v = NULL;
	m->cap = m->n = 0;
}
