// SPDX-License-Identifier: BSD-2-Clause
/* Protocol buffers wire format writer (see protobuf_writer.h). */
#include "user/lib/protobuf_writer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void pb_buf__free(struct pb_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool grow(struct pb_buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (b->err)
		return false;
	if (b->n + more <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->n + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

void pb__varint(struct pb_buf *b, uint64_t v)
{
	if (!grow(b, 10))
		return;
	while (v >= 0x80) {
		b->p[b->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->n++] = (uint8_t)v;
}

void pb__tag(struct pb_buf *b, unsigned field, unsigned wire_type)
{
	pb__varint(b, (uint64_t)field << 3 | wire_type);
}

void pb__uint(struct pb_buf *b, unsigned field, uint64_t v)
{
	pb__tag(b, field, PB_VARINT);
	pb__varint(b, v);
}

void pb__sint(struct pb_buf *b, unsigned field, int64_t v)
{
	pb__uint(b, field, pb__zigzag(v));
}

void pb__fixed64(struct pb_buf *b, unsigned field, uint64_t v)
{
	pb__tag(b, field, PB_I64);
	if (!grow(b, 8))
		return;
	for (int i = 0; i < 8; i++)
		b->p[b->n++] = (uint8_t)(v >> (8 * i));
}

void pb__double(struct pb_buf *b, unsigned field, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	pb__fixed64(b, field, bits);
}

void pb__bytes(struct pb_buf *b, unsigned field, const void *p, size_t n)
{
	pb__tag(b, field, PB_LEN);
	pb__varint(b, n);
	if (!grow(b, n))
		return;
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

void pb__string(struct pb_buf *b, unsigned field, const char *s)
{
	pb__bytes(b, field, s, strlen(s));
}

size_t pb__begin(struct pb_buf *b, unsigned field)
{
	if (field)
		pb__tag(b, field, PB_LEN);
	if (!grow(b, 1))
		return b->n;
	b->p[b->n++] = 0; /* the length, patched by pb__end() */
	return b->n;
}

void pb__end(struct pb_buf *b, size_t body)
{
	size_t len, extra;

	if (b->err)
		return;
	len = b->n - body;
	extra = varint_len(len) - 1;
	if (extra) {
		if (!grow(b, extra))
			return;
		memmove(b->p + body + extra, b->p + body, len);
		b->n += extra;
	}
	for (size_t i = body - 1; len >= 0x80; i++, len >>= 7)
		b->p[i] = (uint8_t)(len | 0x80);
	b->p[body - 1 + extra] = (uint8_t)len;
}
