// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target: an ELF file's SystemTap SDT notes (user/attach/sdt.c), read from a buffer exactly as
 * `perfbpf list`, `attach` and `run` read them from a file. Any input: no crash, no leak, and
 * every note returned has its strings. */
#include <stdint.h>
#include <stdlib.h>

#include "user/attach/sdt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdt_notes notes;

	if (sdt__read_mem(data, size, &notes) == 0) {
		for (size_t i = 0; i < notes.n; i++)
			if (!notes.v[i].provider || !notes.v[i].name || !notes.v[i].args)
				abort();
		(void)sdt__count(&notes, "perfbpf", NULL);
		sdt__free(&notes);
	}
	return 0;
}
