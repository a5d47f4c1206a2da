// SPDX-License-Identifier: BSD-2-Clause
/* OTLP protobuf encoding (opentelemetry/proto/collector/trace/v1): the handful of wire types the
 * trace request needs, written directly. Nested messages reserve one length byte and are moved
 * up when their length needs more. */
#include "exporters/otlp/otlp_encode.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

void otlp_buf__free(struct otlp_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool grow(struct otlp_buf *b, size_t more)
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

static void put_varint(struct otlp_buf *b, uint64_t v)
{
	if (!grow(b, 10))
		return;
	while (v >= 0x80) {
		b->p[b->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->n++] = (uint8_t)v;
}

static void put_tag(struct otlp_buf *b, unsigned field, unsigned wt)
{
	put_varint(b, (uint64_t)field << 3 | wt);
}

static void put_fixed64(struct otlp_buf *b, unsigned field, uint64_t v)
{
	put_tag(b, field, WT_I64);
	if (!grow(b, 8))
		return;
	for (int i = 0; i < 8; i++)
		b->p[b->n++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct otlp_buf *b, unsigned field, const void *p, size_t n)
{
	put_tag(b, field, WT_LEN);
	put_varint(b, n);
	if (!grow(b, n))
		return;
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_string(struct otlp_buf *b, unsigned field, const char *s)
{
	put_bytes(b, field, s, strlen(s));
}

/* Starts a nested message: returns where its body begins. */
static size_t begin(struct otlp_buf *b, unsigned field)
{
	put_tag(b, field, WT_LEN);
	if (!grow(b, 1))
		return b->n;
	b->p[b->n++] = 0; /* the length, patched by end() */
	return b->n;
}

static void end(struct otlp_buf *b, size_t body)
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

static void put_attr(struct otlp_buf *b, unsigned field, const struct otlp_attr *a)
{
	size_t kv = begin(b, field), any;
	uint64_t bits;

	put_string(b, 1, a->key);
	any = begin(b, 2);
	switch (a->type) {
	case OTLP_STR:
		put_string(b, 1, a->s);
		break;
	case OTLP_INT:
		put_tag(b, 3, WT_VARINT);
		put_varint(b, (uint64_t)a->i);
		break;
	case OTLP_DOUBLE:
		memcpy(&bits, &a->d, sizeof(bits));
		put_fixed64(b, 4, bits);
		break;
	}
	end(b, any);
	end(b, kv);
}

static void put_attrs(struct otlp_buf *b, unsigned field, const struct otlp_attrs *a)
{
	for (size_t i = 0; i < a->n; i++)
		put_attr(b, field, &a->v[i]);
}

static void put_span(struct otlp_buf *b, const struct otlp_span *s)
{
	size_t m = begin(b, 2); /* ScopeSpans.spans */

	put_bytes(b, 1, s->trace_id, sizeof(s->trace_id));
	put_bytes(b, 2, s->span_id, sizeof(s->span_id));
	if (s->has_parent)
		put_bytes(b, 4, s->parent_id, sizeof(s->parent_id));
	put_string(b, 5, s->name);
	put_tag(b, 6, WT_VARINT);
	put_varint(b, OTLP_SPAN_KIND_INTERNAL);
	put_fixed64(b, 7, s->start_unix_ns);
	put_fixed64(b, 8, s->end_unix_ns);
	put_attrs(b, 9, &s->attrs);
	for (size_t i = 0; i < s->nevents; i++) {
		size_t e = begin(b, 11);

		put_fixed64(b, 1, s->events[i].time_unix_ns);
		put_string(b, 2, s->events[i].name);
		put_attrs(b, 3, &s->events[i].attrs);
		end(b, e);
	}
	if (s->status != OTLP_STATUS_UNSET) {
		size_t st = begin(b, 15);

		if (s->status_message)
			put_string(b, 2, s->status_message);
		put_tag(b, 3, WT_VARINT);
		put_varint(b, s->status);
		end(b, st);
	}
	end(b, m);
}

int otlp_encode_proto(struct otlp_span *const *spans, size_t n, const char *version,
		      struct otlp_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct otlp_resource *r = spans[i]->resource;
		size_t rs, res, ss, scope;

		if (!otlp_first_of_resource(spans, i))
			continue;
		rs = begin(out, 1); /* ExportTraceServiceRequest.resource_spans */
		res = begin(out, 1);
		put_attrs(out, 1, &r->attrs);
		end(out, res);
		ss = begin(out, 2); /* ResourceSpans.scope_spans */
		scope = begin(out, 1);
		put_string(out, 1, "perfbpf");
		put_string(out, 2, version);
		end(out, scope);
		for (size_t j = i; j < n; j++)
			if (spans[j]->resource == r)
				put_span(out, spans[j]);
		end(out, ss);
		end(out, rs);
	}
	return out->err;
}

/* --- response ------------------------------------------------------------------------------- */

struct reader {
	const uint8_t *p, *end;
};

static bool get_varint(struct reader *r, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t c;

		if (r->p >= r->end)
			return false;
		c = *r->p++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

/* Reads one field's tag and, for length-delimited fields, its extent. */
static bool next_field(struct reader *r, unsigned *field, unsigned *wt, uint64_t *v,
		       struct reader *sub)
{
	uint64_t tag;

	if (!get_varint(r, &tag))
		return false;
	*field = (unsigned)(tag >> 3);
	*wt = tag & 7;
	switch (*wt) {
	case WT_VARINT:
		return get_varint(r, v);
	case WT_I64:
	case WT_I32: {
		size_t k = *wt == WT_I64 ? 8 : 4;

		if ((size_t)(r->end - r->p) < k)
			return false;
		r->p += k;
		return true;
	}
	case WT_LEN:
		if (!get_varint(r, v) || *v > (uint64_t)(r->end - r->p))
			return false;
		sub->p = r->p;
		sub->end = r->p + *v;
		r->p += *v;
		return true;
	}
	return false;
}

int otlp_decode_response_proto(const uint8_t *p, size_t n, int64_t *rejected, char *msg,
			       size_t msg_len)
{
	struct reader r = { p, p + n }, ps;
	unsigned field, wt;
	uint64_t v;

	*rejected = 0;
	if (msg_len)
		msg[0] = '\0';
	while (r.p < r.end) {
		if (!next_field(&r, &field, &wt, &v, &ps))
			return -EBADMSG;
		if (field != 1 || wt != WT_LEN)
			continue;
		while (ps.p < ps.end) {
			struct reader s;

			if (!next_field(&ps, &field, &wt, &v, &s))
				return -EBADMSG;
			if (field == 1 && wt == WT_VARINT) {
				*rejected = (int64_t)v;
			} else if (field == 2 && wt == WT_LEN && msg_len) {
				size_t k = (size_t)(s.end - s.p) < msg_len - 1 ? (size_t)(s.end - s.p)
									     : msg_len - 1;

				memcpy(msg, s.p, k);
				msg[k] = '\0';
			}
		}
	}
	return 0;
}
