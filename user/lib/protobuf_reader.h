/* SPDX-License-Identifier: BSD-2-Clause */
/* Protocol buffers wire format, read field by field from a byte range (the few responses
 * perfbpf's exporters decode: OTLP partial success, gRPC status details). The bytes come from
 * a peer: every length is checked against the range. */
#ifndef PERFBPF_PROTOBUF_READER_H
#define PERFBPF_PROTOBUF_READER_H

#include <stdbool.h>
#include <stdint.h>

struct pb_reader {
	const uint8_t *p, *end;
};

/* Reads one field: its number and wire type (PB_* of protobuf_writer.h), a varint's value in
 * *v, a length-delimited field's bytes as *sub (v: their length); fixed-size fields are
 * skipped. false at a malformed or truncated field. */
bool pb__next_field(struct pb_reader *r, unsigned *field, unsigned *wt, uint64_t *v,
		    struct pb_reader *sub);

#endif
