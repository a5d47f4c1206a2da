// SPDX-License-Identifier: BSD-2-Clause
#include "user/attach/probe_site.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

const unsigned char probe_site_bytes[PROBE_SITE_LEN] = {
	0x90,                                           /* nop: the SDT note's address */
	0x48, 0x8d, 0x64, 0x24, 0x80,                   /* lea -0x80(%rsp),%rsp */
	0x0f, 0x1f, 0x44, 0x00, 0x00,                   /* nopl 0x0(%rax,%rax,1) */
	0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00, /* lea 0x80(%rsp),%rsp */
};

#define NR_UPROBE_X86_64 336

bool probe_site__kernel_optimizes(void)
{
#if defined(__x86_64__)
	static int known = -1;

	if (known < 0) {
		long r = syscall(NR_UPROBE_X86_64);

		known = r < 0 && errno == ENXIO;
	}
	return known;
#else
	return false;
#endif
}

bool probe_site__use_nop5(void)
{
	const char *v = getenv("PERFBPF_OPTIMIZED_SITES");

	return v && !strcmp(v, "1") && probe_site__kernel_optimizes();
}

size_t probe_site__attach_shift(const unsigned char *code, size_t len, bool optimize)
{
	if (!optimize || len < PROBE_SITE_LEN || memcmp(code, probe_site_bytes, PROBE_SITE_LEN))
		return 0;
	return PROBE_SITE_NOP5_AT;
}
