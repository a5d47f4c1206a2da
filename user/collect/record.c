// SPDX-License-Identifier: BSD-2-Clause
/* Ring-buffer records to events and notes (see record.h). */
#include "user/collect/record.h"

#include <string.h>

/* The perfbpf_event a compact op's header starts. */
static struct perfbpf_event op_event(const struct perfbpf_op_head *h)
{
	return (struct perfbpf_event){
		.kind = PERFBPF_EV_OP, .flags = h->flags, .pid = h->pid, .tid = h->tid,
		.end_ns = h->end_ns, .duration_ns = h->duration_ns, .self_ns = h->duration_ns,
		.ro_gen = h->ro_gen,
	};
}

/* A compact op (PERFBPF_EV_OP_REF): three string addresses. */
static enum record_type op_ref(const void *data, size_t size, struct perfbpf_event *e)
{
	const struct perfbpf_op_ref *o = data;

	if (size < sizeof(*o))
		return RECORD_MALFORMED;
	*e = op_event(&o->h);
	/* a REF record without the three REF flags would read addresses as names */
	if ((e->flags & PERFBPF_F_REF_ALL) != PERFBPF_F_REF_ALL)
		return RECORD_MALFORMED;
	memcpy(e->names.metric, &o->addr[0], sizeof(o->addr[0]));
	memcpy(e->names.symbol, &o->addr[1], sizeof(o->addr[1]));
	memcpy(e->names.strategy, &o->addr[2], sizeof(o->addr[2]));
	return RECORD_EVENT;
}

/* The three fields of a packed record, from data + off (size bytes in all), into e's names: a
 * field flagged PERFBPF_F_REF_* is an 8-byte address, any other a string of 1 .. its field's
 * size bytes, terminated here whatever its last byte was. */
static enum record_type unpack_fields(struct perfbpf_event *e, const uint16_t len[3],
				      const void *data, size_t off, size_t size)
{
	char *field[3] = { e->names.metric, e->names.symbol, e->names.strategy };
	const size_t cap[3] = { sizeof(e->names.metric), sizeof(e->names.symbol),
				sizeof(e->names.strategy) };
	const uint32_t ref[3] = { PERFBPF_F_REF_METRIC, PERFBPF_F_REF_SYMBOL,
				  PERFBPF_F_REF_STRATEGY };

	for (int i = 0; i < 3; i++) {
		size_t n = len[i];

		if (n == 0 || n > cap[i] || off + n > size ||
		    ((e->flags & ref[i]) && n != sizeof(uint64_t)))
			return RECORD_MALFORMED;
		memcpy(field[i], (const char *)data + off, n);
		if (!(e->flags & ref[i]))
			field[i][n - 1] = '\0';
		off += n;
	}
	return RECORD_EVENT;
}

/* A packed op (PERFBPF_EV_OP_PACKED). */
static enum record_type op_packed(const void *data, size_t size, struct perfbpf_event *e)
{
	const struct perfbpf_op_packed *p = data;

	if (size < PERFBPF_PACKED_HDR)
		return RECORD_MALFORMED;
	*e = op_event(&p->h);
	return unpack_fields(e, p->len, data, PERFBPF_PACKED_HDR, size);
}

/* A packed span (PERFBPF_EV_SPAN_PACKED), with its scheduler attribution when flagged. */
static enum record_type span_packed(const void *data, size_t size, struct perfbpf_event *e)
{
	const struct perfbpf_span_packed *p = data;
	size_t off = PERFBPF_SPAN_PACKED_HDR;

	if (size < PERFBPF_SPAN_PACKED_HDR)
		return RECORD_MALFORMED;
	*e = (struct perfbpf_event){
		.kind = PERFBPF_EV_SPAN, .flags = p->flags, .pid = p->pid, .tid = p->tid,
		.end_ns = p->end_ns, .duration_ns = p->duration_ns, .self_ns = p->self_ns,
		.span_id = p->span_id, .parent_id = p->parent_id, .trace_id = p->trace_id,
		.depth = p->depth, .ro_gen = p->ro_gen,
	};
	if (p->flags & PERFBPF_F_ATTRIBUTED) {
		if (off + sizeof(e->attr) > size)
			return RECORD_MALFORMED;
		memcpy(&e->attr, (const char *)data + off, sizeof(e->attr));
		off += sizeof(e->attr);
	}
	return unpack_fields(e, p->len, data, off, size);
}

static enum record_type decode(const void *data, size_t size, struct perfbpf_event *scratch,
			       const struct perfbpf_event **ev, const struct perfbpf_note **note)
{
	uint32_t kind;

	if (size < sizeof(kind))
		return RECORD_MALFORMED;
	memcpy(&kind, data, sizeof(kind));
	*ev = scratch;
	switch (kind) {
	case PERFBPF_EV_ATTR:
	case PERFBPF_EV_EVENT:
	case PERFBPF_EV_ERROR:
		if (size < sizeof(struct perfbpf_note))
			return RECORD_MALFORMED;
		*note = data;
		return RECORD_NOTE;
	case PERFBPF_EV_OP_REF:
		return op_ref(data, size, scratch);
	case PERFBPF_EV_OP_PACKED:
		return op_packed(data, size, scratch);
	case PERFBPF_EV_SPAN_PACKED:
		return span_packed(data, size, scratch);
	case PERFBPF_EV_V3_BATCH:
	case PERFBPF_EV_V3_KEYDEF:
	case PERFBPF_EV_V3_EXIT:
	case PERFBPF_EV_V3_SCHED:
	case PERFBPF_EV_V3_END:
		return RECORD_V3;
	case PERFBPF_EV_OP:
	case PERFBPF_EV_SPAN:
		if (size < sizeof(struct perfbpf_event))
			return RECORD_MALFORMED;
		*ev = data; /* the whole event, read in place */
		return RECORD_EVENT;
	}
	return RECORD_MALFORMED;
}

enum record_type record__decode(const void *data, size_t size, struct perfbpf_event *scratch,
				const struct perfbpf_event **ev, const struct perfbpf_note **note,
				struct record_counts *counts)
{
	enum record_type t = decode(data, size, scratch, ev, note);

	if (t == RECORD_MALFORMED)
		counts->malformed++;
	return t;
}
