// SPDX-License-Identifier: BSD-2-Clause
/* Kernel events -> OTLP spans, with sampling, handed to the exporter. */
#include "exporters/otlp/otlp_trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "exporters/otlp/otlp_exporter.h"
#include "exporters/otlp/otlp_resource.h"
#include "exporters/otlp/otlp_sampler.h"
#include "user/lib/u64map.h"
#include "user/lib/util.h"

#define MAX_NOTES_PER_SPAN 128 /* engine attributes, and events, per span (OTel's span limits) */
#define OP_ID_BIT (1ull << 63) /* op spans' ids; kernel span ids are tid << 32 | seq, tid < 2^22 */

struct resource_node {
	struct otlp_resource r;
	struct resource_node *next;
};

/* An unsampled trace waiting for its root, for --slow-threshold. */
struct tail_trace {
	struct otlp_span *spans; /* buffered, newest first */
	size_t n;
	bool keep;               /* a span exceeded the threshold: export it all */
};

struct otlp_trace {
	const struct otlp_config *c;
	const char *command;
	struct otlp_exporter *x;
	uint64_t salt[3];
	int64_t mono_to_unix;     /* add to CLOCK_MONOTONIC to get Unix time */
	struct resource_node *resources;
	struct u64map pending;    /* kernel span id -> struct otlp_span with its notes so far */
	struct u64map tails;      /* kernel trace id -> struct tail_trace */
	size_t tail_buffered;
	uint64_t op_seq;
	struct otlp_stats st;     /* what happens here: spans, sampling, notes */
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Span ids: a bijection of the kernel's (unique while the thread lives) id, salted per session,
 * so ids stay unique and do not repeat across sessions. */
static void span_id_of(const struct otlp_trace *t, uint64_t kid, uint8_t out[8])
{
	uint64_t v = mix64(kid ^ t->salt[0]);

	put_be64(out, v ? v : 1);
}

static void trace_id_of(const struct otlp_trace *t, uint32_t pid, uint64_t kroot, uint8_t out[16])
{
	uint64_t a = mix64(kroot ^ t->salt[1] ^ ((uint64_t)pid << 32));
	uint64_t b = mix64(a ^ t->salt[2] ^ kroot);

	put_be64(out, a);
	put_be64(out + 8, b ? b : 1);
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, from the closest bracketing of several readings. */
static int64_t clock_offset(void)
{
	uint64_t best = UINT64_MAX;
	int64_t off = 0;

	for (int i = 0; i < 8; i++) {
		uint64_t a = mono_ns(), r = real_ns(), b = mono_ns();

		if (b - a < best) {
			best = b - a;
			off = (int64_t)r - (int64_t)(a + (b - a) / 2);
		}
	}
	return off;
}

/* --- resources -------------------------------------------------------------------------------- */

static const struct otlp_resource *resource_of(struct otlp_trace *t, uint32_t pid)
{
	struct resource_node *rn;

	for (rn = t->resources; rn; rn = rn->next)
		if (rn->r.pid == pid)
			return &rn->r;
	rn = calloc(1, sizeof(*rn));
	if (!rn || otlp_resource__init(&rn->r, t->c, pid, t->command)) {
		free(rn);
		return NULL;
	}
	rn->next = t->resources;
	t->resources = rn;
	return &rn->r;
}

/* --- notes ------------------------------------------------------------------------------------ */

static struct otlp_span *pending_span(struct otlp_trace *t, uint64_t kid)
{
	struct otlp_span *s = u64map__get(&t->pending, kid);

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (s && u64map__put(&t->pending, kid, s)) {
		free(s);
		return NULL;
	}
	return s;
}

int otlp_trace__note(struct otlp_trace *t, const struct perfbpf_note *n)
{
	struct otlp_span *s = pending_span(t, n->span_id);
	char name[PERFBPF_NOTE_NAME_LEN + 1], akey[PERFBPF_NOTE_NAME_LEN + 1];
	char str[PERFBPF_NOTE_STR_LEN + 1];
	uint64_t when = n->ts_ns + (uint64_t)t->mono_to_unix;
	struct otlp_event *e;
	double d;

	if (!s)
		return -ENOMEM;
	/* the kernel zero-pads; copy with a terminator whatever it sent */
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(n->name), n->name);
	snprintf(akey, sizeof(akey), "%.*s", (int)sizeof(n->akey), n->akey);
	snprintf(str, sizeof(str), "%.*s", (int)sizeof(n->str), n->str);
	switch (n->kind) {
	case PERFBPF_EV_ATTR:
		if (s->attrs.n >= MAX_NOTES_PER_SPAN) {
			t->st.notes_over_limit++;
			return 0;
		}
		if (n->value_type == PERFBPF_VAL_INT)
			return otlp_attrs__set_int(&s->attrs, name, (int64_t)n->value);
		if (n->value_type == PERFBPF_VAL_DOUBLE) {
			memcpy(&d, &n->value, sizeof(d));
			return otlp_attrs__set_double(&s->attrs, name, d);
		}
		return otlp_attrs__set_str(&s->attrs, name, str);
	case PERFBPF_EV_EVENT:
		if (!name[0]) {
			/* no name: one more attribute of the span's latest event */
			if (!s->nevents) {
				t->st.notes_orphaned++;
				return 0;
			}
			e = &s->events[s->nevents - 1];
			if (e->attrs.n >= MAX_NOTES_PER_SPAN) {
				t->st.notes_over_limit++;
				return 0;
			}
			return akey[0] ? otlp_attrs__set_str(&e->attrs, akey, str) : 0;
		}
		if (s->nevents >= MAX_NOTES_PER_SPAN) {
			t->st.notes_over_limit++;
			return 0;
		}
		e = otlp_span__add_event(s, when, name);
		if (!e)
			return -ENOMEM;
		return akey[0] ? otlp_attrs__set_str(&e->attrs, akey, str) : 0;
	case PERFBPF_EV_ERROR:
		/* as an SDK's RecordException + SetStatus(ERROR, message) */
		s->status = OTLP_STATUS_ERROR;
		free(s->status_message);
		s->status_message = strdup(str);
		if (!s->status_message)
			return -ENOMEM;
		/* the exception already recorded (an "exception" event just before): not twice */
		if (s->nevents && strcmp(s->events[s->nevents - 1].name, "exception") == 0)
			return 0;
		if (s->nevents >= MAX_NOTES_PER_SPAN) {
			t->st.notes_over_limit++;
			return 0;
		}
		e = otlp_span__add_event(s, when, "exception");
		if (!e)
			return -ENOMEM;
		return otlp_attrs__set_str(&e->attrs, "exception.message", str);
	}
	return 0;
}

/* --- spans ------------------------------------------------------------------------------------ */

static void discard(struct otlp_trace *t, struct otlp_span *s)
{
	t->st.sampled_out++;
	otlp_span__free(s);
}

/* Hands every buffered span of a kept trace to the exporter. */
static void release(struct otlp_trace *t, struct tail_trace *tt)
{
	while (tt->spans) {
		struct otlp_span *s = tt->spans;

		tt->spans = s->next;
		otlp_exporter__push(t->x, s);
	}
	t->tail_buffered -= tt->n;
	tt->n = 0;
}

/* Samples out every buffered span of a trace that was not kept. */
static void discard_buffered(struct otlp_trace *t, struct tail_trace *tt)
{
	while (tt->spans) {
		struct otlp_span *s = tt->spans;

		tt->spans = s->next;
		discard(t, s);
	}
	t->tail_buffered -= tt->n;
	tt->n = 0;
}

/* The sampling decision for a span, whose trace's root is `root` (it ended when is_root). */
static int sample(struct otlp_trace *t, struct otlp_span *s, uint64_t trace_key, bool is_root,
		  uint64_t dur)
{
	const struct otlp_config *c = t->c;
	bool head = c->sampler == OTLP_ALWAYS_ON ||
		    (c->sampler == OTLP_TRACEIDRATIO && otlp_ratio_keeps(s->trace_id, c->ratio));
	bool slow = c->slow_ns && dur >= c->slow_ns;
	struct tail_trace *tt;

	if (head) {
		otlp_exporter__push(t->x, s);
		return 0;
	}
	if (!c->slow_ns) {
		discard(t, s);
		return 0;
	}
	tt = is_root ? u64map__del(&t->tails, trace_key) : u64map__get(&t->tails, trace_key);
	if (!tt && !is_root) {
		tt = calloc(1, sizeof(*tt));
		if (!tt || u64map__put(&t->tails, trace_key, tt)) {
			free(tt);
			otlp_span__free(s);
			return -ENOMEM;
		}
	}
	if (tt && (slow || tt->keep)) {
		tt->keep = true;
		release(t, tt);
	}
	if (slow || (tt && tt->keep)) {
		otlp_exporter__push(t->x, s);
	} else if (is_root) {
		discard(t, s);
	} else if (t->tail_buffered >= c->tail_buffer) {
		t->st.tail_buffer_full++;
		otlp_span__free(s);
	} else {
		s->next = tt->spans;
		tt->spans = s;
		tt->n++;
		t->tail_buffered++;
	}
	if (is_root && tt) {
		/* the trace is complete and was not slow: its buffered spans are sampled out */
		discard_buffered(t, tt);
		free(tt);
	}
	return 0;
}

int otlp_trace__event(struct otlp_trace *t, const struct perfbpf_event *e)
{
	bool is_op = e->kind == PERFBPF_EV_OP;
	uint64_t kid, kroot;
	struct otlp_span *s;
	const struct otlp_resource *r;
	char buf[PERFBPF_STRATEGY_LEN + 1];
	int err;

	if (is_op && !t->c->ops)
		return 0;
	t->st.spans++;
	kid = is_op ? OP_ID_BIT | ++t->op_seq : e->span_id;
	/* a span's notes, if any arrived, are already a span: finish that one */
	s = is_op ? NULL : u64map__del(&t->pending, kid);
	if (!s)
		s = calloc(1, sizeof(*s));
	r = resource_of(t, e->pid);
	if (!s || !r) {
		otlp_span__free(s);
		return -ENOMEM;
	}
	/* an op outside any span is a trace of its own */
	kroot = e->trace_id ? e->trace_id : kid;
	trace_id_of(t, e->pid, kroot, s->trace_id);
	span_id_of(t, kid, s->span_id);
	s->has_parent = e->parent_id != 0;
	if (s->has_parent)
		span_id_of(t, e->parent_id, s->parent_id);
	s->resource = r;
	snprintf(buf, sizeof(buf), "%.*s", (int)sizeof(e->names.metric), e->names.metric);
	s->name = strdup(buf);
	s->end_unix_ns = e->end_ns + (uint64_t)t->mono_to_unix;
	s->start_unix_ns = s->end_unix_ns - e->duration_ns;
	err = s->name ? 0 : -ENOMEM;
	snprintf(buf, sizeof(buf), "%.*s", (int)sizeof(e->names.symbol), e->names.symbol);
	if (!err && buf[0])
		err = otlp_attrs__set_str(&s->attrs, "trading.symbol", buf);
	snprintf(buf, sizeof(buf), "%.*s", (int)sizeof(e->names.strategy), e->names.strategy);
	if (!err && buf[0])
		err = otlp_attrs__set_str(&s->attrs, "strategy.name", buf);
	err = err ?: otlp_attrs__set_int(&s->attrs, "thread.id", e->tid);
	if (!err && (e->flags & PERFBPF_F_ATTRIBUTED)) {
		err = otlp_attrs__set_int(&s->attrs, "perfbpf.on_cpu_ns", (int64_t)e->attr.oncpu_ns);
		err = err ?: otlp_attrs__set_int(&s->attrs, "perfbpf.runq_ns",
						 (int64_t)e->attr.runq_ns);
		err = err ?: otlp_attrs__set_int(&s->attrs, "perfbpf.blocked_ns",
						 (int64_t)e->attr.blocked_ns);
	}
	if (err) {
		otlp_span__free(s);
		return err;
	}
	return sample(t, s, kroot, !s->has_parent, e->duration_ns);
}

/* --- lifecycle -------------------------------------------------------------------------------- */

struct otlp_trace *otlp_trace__new(const struct otlp_config *c, const char *command)
{
	struct otlp_trace *t = calloc(1, sizeof(*t));

	if (!t) {
		pb_err("cannot start the OTLP export: out of memory");
		return NULL;
	}
	t->c = c;
	t->command = command;
	if (getrandom(t->salt, sizeof(t->salt), 0) != sizeof(t->salt)) {
		t->salt[0] = mix64(real_ns());
		t->salt[1] = mix64(t->salt[0] ^ (uint64_t)getpid());
		t->salt[2] = mix64(t->salt[1] ^ mono_ns());
	}
	t->mono_to_unix = clock_offset();
	t->x = otlp_exporter__new(c, command);
	if (!t->x) {
		free(t);
		return NULL;
	}
	return t;
}

static void drop_pending(struct otlp_trace *t)
{
	for (size_t i = 0; i < t->pending.cap; i++) {
		struct otlp_span *s = t->pending.v[i].val;

		if (!t->pending.v[i].key)
			continue;
		/* a span still open, or whose end was lost: its notes go nowhere */
		t->st.notes_orphaned += s->attrs.n + s->nevents;
		otlp_span__free(s);
	}
	u64map__free(&t->pending);
	for (size_t i = 0; i < t->tails.cap; i++) {
		struct tail_trace *tt = t->tails.v[i].val;

		if (!t->tails.v[i].key)
			continue;
		/* the root never ended (the thread exited, or tracing stopped first) */
		if (tt->keep)
			release(t, tt);
		else
			discard_buffered(t, tt);
		free(tt);
	}
	u64map__free(&t->tails);
	t->tail_buffered = 0;
}

void otlp_trace__finish(struct otlp_trace *t)
{
	if (!t)
		return;
	drop_pending(t);
	otlp_exporter__shutdown(t->x);
}

void otlp_trace__stats(struct otlp_trace *t, struct otlp_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->spans = t->st.spans;
	out->sampled_out = t->st.sampled_out;
	out->tail_buffer_full = t->st.tail_buffer_full;
	out->notes_orphaned = t->st.notes_orphaned;
	out->notes_over_limit = t->st.notes_over_limit;
	otlp_exporter__stats(t->x, out);
}

void otlp_trace__free(struct otlp_trace *t)
{
	if (!t)
		return;
	drop_pending(t);
	otlp_exporter__free(t->x);
	while (t->resources) {
		struct resource_node *rn = t->resources;

		t->resources = rn->next;
		otlp_resource__fini(&rn->r);
		free(rn);
	}
	free(t);
}
