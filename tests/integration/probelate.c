// SPDX-License-Identifier: BSD-2-Clause
/* A shared library with a perfbpf probe that probe_target loads with dlopen() after perfbpf has
 * attached (the late-library test). */
#include <perfbpf/probe.h>

/* True once a tracer has attached to this library's op probe. */
__attribute__((visibility("default"))) int probelate_attached(void)
{
	return PERFBPF__ON(op);
}

/* n ops with durations 0..n-1. */
__attribute__((visibility("default"))) void probelate_work(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		PERFBPF_OP("late.op", "LATE", "dlopen", (uint64_t)i);
}
