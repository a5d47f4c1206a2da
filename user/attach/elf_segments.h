/* SPDX-License-Identifier: BSD-2-Clause */
/* The program headers (segments) of an ELF file, read one way for every reader of them: the
 * interpreter lookup, the probe sites' load addresses and the read-only ranges. */
#ifndef PERFBPF_ELF_SEGMENTS_H
#define PERFBPF_ELF_SEGMENTS_H

#include <gelf.h>
#include <sys/types.h>

/* The program headers of the ELF file open as elf: a new array in *out (the caller frees it)
 * and their number, or -ENOEXEC (not an ELF file, headers unreadable) or -ENOMEM. */
ssize_t elf_segments__read(Elf *elf, GElf_Phdr **out);

#endif
