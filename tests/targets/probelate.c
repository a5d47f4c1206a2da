// SPDX-License-Identifier: BSD-2-Clause
/* A shared library with a perfbpf probe that probe_target loads with dlopen() after perfbpf has
 * attached (the late-library tests). Built twice: libprobelate.so with the op "late.op" and
 * libprobelate2.so with "late.ox", the same layout with other bytes (the library-replaced
 * test: the second is loaded where the first was). */
#include <perfbpf/probe.h>

#ifndef LATE_OP
#define LATE_OP "late.op"
#endif

/* True once a tracer has attached to this library's op probe. */
__attribute__((visibility("default"))) int probelate_attached(void)
{
	return PERFBPF__ANY(op);
}

/* n ops with durations 0..n-1. */
__attribute__((visibility("default"))) void probelate_work(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		PERFBPF_OP(LATE_OP, "LATE", "dlopen", (uint64_t)i);
}

/* The address of the op's name, a literal in this library's .rodata. */
__attribute__((visibility("default"))) const char *probelate_name(void)
{
	return LATE_OP;
}
