/* SPDX-License-Identifier: BSD-2-Clause */
/* Protocol buffers wire format, written directly into a growing buffer: the few wire types that
 * perfbpf's exporters send (OTLP traces, the Prometheus protobuf exposition). Nested messages
 * reserve one length byte and are moved up when their length needs more. After a failed
 * append, every later one is a no-op and err says why. */
#ifndef PERFBPF_PROTOBUF_WRITER_H
#define PERFBPF_PROTOBUF_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct pb_buf {
	uint8_t *p;
	size_t n, cap;
	int err; /* -ENOMEM once an append failed; the content is then incomplete */
};

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

void pb_buf__free(struct pb_buf *b);
void pb__varint(struct pb_buf *b, uint64_t v);
void pb__tag(struct pb_buf *b, unsigned field, unsigned wire_type);
void pb__uint(struct pb_buf *b, unsigned field, uint64_t v);   /* uint32/64, int64, enum */
void pb__sint(struct pb_buf *b, unsigned field, int64_t v);    /* sint32/64 (zigzag) */
void pb__fixed64(struct pb_buf *b, unsigned field, uint64_t v);
void pb__double(struct pb_buf *b, unsigned field, double v);
void pb__bytes(struct pb_buf *b, unsigned field, const void *p, size_t n);
void pb__string(struct pb_buf *b, unsigned field, const char *s);
/* A nested message (or packed field): begin returns where its body starts, end writes its
 * length. With field 0, no tag: a length-prefixed (delimited) message. */
size_t pb__begin(struct pb_buf *b, unsigned field);
void pb__end(struct pb_buf *b, size_t body);
/* Zigzag encoding of a signed integer (sint32/sint64), for packed fields. */
static inline uint64_t pb__zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

#endif
