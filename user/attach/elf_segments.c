// SPDX-License-Identifier: BSD-2-Clause
/* ELF program headers with libelf (see elf_segments.h). */
#include "user/attach/elf_segments.h"

#include <errno.h>
#include <stdlib.h>

ssize_t elf_segments__read(Elf *elf, GElf_Phdr **out)
{
	size_t n, k = 0;

	*out = NULL;
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (gelf_getphdr(elf, (int)i, &(*out)[k]))
			k++;
	return (ssize_t)k;
}
