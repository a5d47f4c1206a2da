// SPDX-License-Identifier: BSD-2-Clause
/* A shared library with perfbpf probes, for the integration tests (probes in a .so). */
#include <perfbpf/probe.h>

/* One op and one span per call; op durations are 1000 + i, so their statistics are known. */
__attribute__((visibility("default"))) void probelib_work(unsigned i)
{
	PERFBPF_SPAN_BEGIN("lib.span", "LIBSYM", "lib");
	PERFBPF_OP("lib.op", "LIBSYM", "lib", 1000 + (uint64_t)i);
	PERFBPF_SPAN_END("lib.span");
}

/* True once a tracer has attached to all of this library's probes (the per-event probes, or the
 * flush site of probe ABI v3). */
__attribute__((visibility("default"))) int probelib_attached(void)
{
	return PERFBPF__ANY(op) && PERFBPF__ANY(span_begin) && PERFBPF__ANY(span_end);
}
