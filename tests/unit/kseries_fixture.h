/* SPDX-License-Identifier: BSD-2-Clause */
/* A monitor series filled from known values, for the tests of its statistics and exposition
 * (s zeroed or filled before). */
#ifndef PERFBPF_KSERIES_FIXTURE_H
#define PERFBPF_KSERIES_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "user/model/kseries.h"

static inline void fill(struct kseries *s, const uint64_t *v, size_t n)
{
	kseries__release(s); /* a series filled before (zeroed: nothing to free) */
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		if (khist__add(&s->dur, khist_bucket(v[i]), 1))
			abort();
		s->sum_ns += v[i];
		s->self_sum_ns += v[i];
		if (!s->count || v[i] < s->min_ns)
			s->min_ns = v[i];
		if (v[i] > s->max_ns)
			s->max_ns = v[i];
		s->count++;
	}
}

#endif
