// SPDX-License-Identifier: BSD-2-Clause
/* Trace-id-ratio sampling. */
#include "exporters/otlp/otlp_sampler.h"

bool otlp_ratio_keeps(const uint8_t trace_id[16], double ratio)
{
	uint64_t v = 0;

	if (ratio >= 1)
		return true;
	if (ratio <= 0)
		return false;
	for (int i = 8; i < 16; i++)
		v = v << 8 | trace_id[i];
	return (v >> 1) < (uint64_t)(ratio * 9223372036854775808.0);
}
