// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target: one ring-buffer record (user/collect/record.c). The BPF programs write them,
 * but lengths, flags and strings in them follow what the engine passed to its probes. Any input:
 * no crash, no read past the record; a decoded event's copied strings are terminated within
 * their fields, and every input that is not an event or a note is counted once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "user/collect/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly `size` bytes, so AddressSanitizer sees any read past the record */
	uint8_t *rec = malloc(size ? size : 1);
	struct perfbpf_event scratch;
	const struct perfbpf_event *ev = NULL;
	const struct perfbpf_note *note = NULL;
	struct record_counts counts = { 0 };
	enum record_type t;

	if (!rec)
		return 0;
	memcpy(rec, data, size);
	t = record__decode(rec, size, &scratch, &ev, &note, &counts);
	if (counts.malformed != (t == RECORD_MALFORMED))
		abort();
	if (t == RECORD_NOTE && (note != (const void *)rec || size < sizeof(*note)))
		abort();
	if (t == RECORD_EVENT && ev == &scratch) {
		const char *f[3] = { ev->names.metric, ev->names.symbol, ev->names.strategy };
		const size_t cap[3] = { sizeof(ev->names.metric), sizeof(ev->names.symbol),
					sizeof(ev->names.strategy) };
		const uint32_t ref[3] = { PERFBPF_F_REF_METRIC, PERFBPF_F_REF_SYMBOL,
					  PERFBPF_F_REF_STRATEGY };

		if (ev->kind != PERFBPF_EV_OP && ev->kind != PERFBPF_EV_SPAN)
			abort();
		for (int i = 0; i < 3; i++)
			if (!(ev->flags & ref[i]) && !memchr(f[i], '\0', cap[i]))
				abort();
	}
	free(rec);
	return 0;
}
