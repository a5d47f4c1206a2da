// SPDX-License-Identifier: BSD-2-Clause
/* OTLP protobuf encoding (opentelemetry/proto/collector/trace/v1), written with
 * user/lib/protobuf_writer.h. */
#include "exporters/otlp/otlp_encode.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/protobuf_reader.h"

static void put_attr(struct pb_buf *b, unsigned field, const struct otlp_attr *a)
{
	size_t kv = pb__begin(b, field), any;
	uint64_t bits;

	pb__string(b, 1, a->key);
	any = pb__begin(b, 2);
	switch (a->type) {
	case OTLP_STR:
		pb__string(b, 1, a->s);
		break;
	case OTLP_INT:
		pb__tag(b, 3, PB_VARINT);
		pb__varint(b, (uint64_t)a->i);
		break;
	case OTLP_DOUBLE:
		memcpy(&bits, &a->d, sizeof(bits));
		pb__fixed64(b, 4, bits);
		break;
	}
	pb__end(b, any);
	pb__end(b, kv);
}

void otlp_proto_attrs(struct pb_buf *b, unsigned field, const struct otlp_attrs *a)
{
	for (size_t i = 0; i < a->n; i++)
		put_attr(b, field, &a->v[i]);
}

static void put_span(struct pb_buf *b, const struct otlp_span *s)
{
	size_t m = pb__begin(b, 2); /* ScopeSpans.spans */

	pb__bytes(b, 1, s->trace_id, sizeof(s->trace_id));
	pb__bytes(b, 2, s->span_id, sizeof(s->span_id));
	if (s->has_parent)
		pb__bytes(b, 4, s->parent_id, sizeof(s->parent_id));
	pb__string(b, 5, s->name);
	pb__tag(b, 6, PB_VARINT);
	pb__varint(b, OTLP_SPAN_KIND_INTERNAL);
	pb__fixed64(b, 7, s->start_unix_ns);
	pb__fixed64(b, 8, s->end_unix_ns);
	otlp_proto_attrs(b, 9, &s->attrs);
	for (size_t i = 0; i < s->nevents; i++) {
		size_t e = pb__begin(b, 11);

		pb__fixed64(b, 1, s->events[i].time_unix_ns);
		pb__string(b, 2, s->events[i].name);
		otlp_proto_attrs(b, 3, &s->events[i].attrs);
		pb__end(b, e);
	}
	if (s->status != OTLP_STATUS_UNSET) {
		size_t st = pb__begin(b, 15);

		if (s->status_message)
			pb__string(b, 2, s->status_message);
		pb__tag(b, 3, PB_VARINT);
		pb__varint(b, s->status);
		pb__end(b, st);
	}
	pb__end(b, m);
}

int otlp_encode_proto(struct otlp_span *const *spans, size_t n, const char *version,
		      struct pb_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct otlp_resource *r = spans[i]->resource;
		size_t rs, res, ss, scope;

		if (!otlp_first_of_resource(spans, i))
			continue;
		rs = pb__begin(out, 1); /* ExportTraceServiceRequest.resource_spans */
		res = pb__begin(out, 1);
		otlp_proto_attrs(out, 1, &r->attrs);
		pb__end(out, res);
		ss = pb__begin(out, 2); /* ResourceSpans.scope_spans */
		scope = pb__begin(out, 1);
		pb__string(out, 1, "perfbpf");
		pb__string(out, 2, version);
		pb__end(out, scope);
		for (size_t j = i; j < n; j++)
			if (spans[j]->resource == r)
				put_span(out, spans[j]);
		pb__end(out, ss);
		pb__end(out, rs);
	}
	return out->err;
}

/* --- response ------------------------------------------------------------------------------- */

int otlp_decode_response_proto(const uint8_t *p, size_t n, int64_t *rejected, char *msg,
			       size_t msg_len)
{
	struct pb_reader r = { p, p + n }, ps;
	unsigned field, wt;
	uint64_t v;

	*rejected = 0;
	if (msg_len)
		msg[0] = '\0';
	while (r.p < r.end) {
		if (!pb__next_field(&r, &field, &wt, &v, &ps))
			return -EBADMSG;
		if (field != 1 || wt != PB_LEN)
			continue;
		while (ps.p < ps.end) {
			struct pb_reader s;

			if (!pb__next_field(&ps, &field, &wt, &v, &s))
				return -EBADMSG;
			if (field == 1 && wt == PB_VARINT) {
				*rejected = (int64_t)v;
			} else if (field == 2 && wt == PB_LEN && msg_len) {
				size_t k = (size_t)(s.end - s.p) < msg_len - 1 ? (size_t)(s.end - s.p)
									     : msg_len - 1;

				memcpy(msg, s.p, k);
				msg[k] = '\0';
			}
		}
	}
	return 0;
}
