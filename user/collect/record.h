/* SPDX-License-Identifier: BSD-2-Clause */
/* Decoding of the ring buffer's records (bpf/perfbpf.h): every kind the BPF programs write, as
 * the perfbpf_event or perfbpf_note it stands for. Pure: no libbpf, no I/O. The records come
 * from the kernel, but their contents (lengths, flags) derive from what the engine passed to its
 * probes, so each is checked; one that does not hold together is counted, never used. */
#ifndef PERFBPF_RECORD_H
#define PERFBPF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/perfbpf.h"

enum record_type {
	RECORD_EVENT,     /* an op or span: *ev */
	RECORD_NOTE,      /* a span attribute, event or error: *note (points into the record) */
	RECORD_MALFORMED, /* too short for its kind, an unknown kind, or lengths that do not fit */
	RECORD_V3,        /* a probe ABI v3 record: for the batch decoder (batch_decoder.h) */
};

struct record_counts {
	uint64_t malformed; /* records of RECORD_MALFORMED */
};

/* Decodes the `size` bytes at `data`. An event is `data` itself when the record is a whole
 * perfbpf_event, else written to `scratch`; fields flagged PERFBPF_F_REF_* still hold the
 * address of the string in the engine's read-only memory (the caller reads them). Counts a
 * malformed record in `counts`. */
enum record_type record__decode(const void *data, size_t size, struct perfbpf_event *scratch,
				const struct perfbpf_event **ev, const struct perfbpf_note **note,
				struct record_counts *counts);

#endif
