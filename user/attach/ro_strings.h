/* SPDX-License-Identifier: BSD-2-Clause */
/* Strings the BPF side left in the target (PERFBPF_F_REF_*): the target's read-only,
 * file-backed address ranges, published to the kernel as generations (struct perfbpf_ro_set),
 * and the strings at those addresses, read from the mapped files and cached by address.
 *
 * A range is the part of a mapping that lies in a PT_LOAD segment without PF_W of the mapped
 * ELF file (so never RELRO, whose bytes differ from the file after relocation): its bytes are the
 * file's. The files stay open, so a string is read after the target has exited, too. */
#ifndef PERFBPF_RO_STRINGS_H
#define PERFBPF_RO_STRINGS_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/perfbpf.h"

struct ro_strings;

struct ro_strings *ro_strings__new(void);
void ro_strings__free(struct ro_strings *rs);
/* Reads the maps of pid. Returns 1 and fills *set with a new generation when the ranges (or the
 * pid) changed since the last scan, 0 when they did not, or -errno. */
int ro_strings__scan(struct ro_strings *rs, int pid, struct perfbpf_ro_set *set);
/* Writes the string at addr, as mapped in generation gen, into dst (size bytes, NUL-terminated,
 * zero-padded). Sets PERFBPF_F_TRUNCATED when it filled dst and PERFBPF_F_FAULT when addr is in no
 * range of that generation or cannot be read; returns 0, or -ENOMEM. */
int ro_strings__read(struct ro_strings *rs, uint32_t gen, uint64_t addr, char *dst, size_t size,
		     uint32_t *flags);
/* The ranges of a mapping [start, end) of file offset `off`, clipped to the file's read-only
 * PT_LOAD segments (lo[i], hi[i] given as file offsets). Pure, for the unit test: writes up to
 * max ranges into out and returns how many. */
size_t ro_strings__clip(uint64_t start, uint64_t end, uint64_t off, const uint64_t *seg_lo,
			const uint64_t *seg_hi, size_t nseg, struct perfbpf_ro_range *out,
			size_t max);

#endif
