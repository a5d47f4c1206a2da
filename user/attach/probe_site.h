/* SPDX-License-Identifier: BSD-2-Clause */
/* Where perfbpf attaches on a probe site: the SDT note's 1-byte nop, or the 5-byte nop of the
 * x86-64 site that include/perfbpf/probe.h emits, which the kernel can turn into a call into its
 * uprobe trampoline instead of an int3 trap. */
#ifndef PERFBPF_PROBE_SITE_H
#define PERFBPF_PROBE_SITE_H

#include <stdbool.h>
#include <stddef.h>

/* nop | lea -128(%rsp),%rsp | nop5 | lea 128(%rsp),%rsp, as emitted by probe.h */
#define PROBE_SITE_LEN 19
#define PROBE_SITE_NOP5_AT 6
extern const unsigned char probe_site_bytes[PROBE_SITE_LEN];

/* True when this kernel optimizes uprobes on 5-byte nops (x86-64 with the uprobe syscall, which
 * answers ENXIO when called from outside its trampoline). Probed once. */
bool probe_site__kernel_optimizes(void);

/* Whether to attach at the 5-byte nop: only when the kernel optimizes it and the user asked for it
 * with PERFBPF_OPTIMIZED_SITES=1. Off by default: on Linux 6.18 a process that forks after a site
 * was optimized gives its child the call into the trampoline but not the trampoline, and the
 * child dies of SIGSEGV when it reaches that site (tests/integration/test_core.c). */
bool probe_site__use_nop5(void);

/* Offset to add to a site's address, given the `len` bytes found there: PROBE_SITE_NOP5_AT when
 * they are probe.h's x86-64 site and `optimize` is set, else 0. */
size_t probe_site__attach_shift(const unsigned char *code, size_t len, bool optimize);

#endif
