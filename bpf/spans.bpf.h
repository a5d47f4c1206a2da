/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Spans: span_begin pushes a frame on the thread's stack, span_end finds it, times it and
 * sends the ended span. Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_SPANS_BPF_H
#define PERFBPF_SPANS_BPF_H

/* A new frame's names (the symbol and strategy may stay in the engine, see pack_field; the name
 * is copied: span_end compares it with the name it is given). */
static __always_inline void frame_fill(struct span_frame *f, __u64 id, const char *name,
				       const char *symbol, const char *strategy)
{
	const struct perfbpf_ro_set *rs = ro_current(id >> 32);
	__u32 refs = ro_ref(rs, symbol, PERFBPF_F_REF_SYMBOL) |
		     ro_ref(rs, strategy, PERFBPF_F_REF_STRATEGY);

	f->child_ns = 0;
	f->name_ptr = (__u64)name;
	f->flags = refs;
	f->ro_gen = rs ? rs->gen : 0;
	/* zero-padded: span_end and monitor mode compare whole names, and monitor hashes them */
	__builtin_memset(&f->names, 0, sizeof(f->names));
	f->len[0] = pack_field(f->names.metric, 0, name, sizeof(f->names.metric), false, &f->flags);
	f->len[1] = pack_field(f->names.symbol, 0, symbol, sizeof(f->names.symbol),
			       refs & PERFBPF_F_REF_SYMBOL, &f->flags);
	f->len[2] = pack_field(f->names.strategy, 0, strategy, sizeof(f->names.strategy),
			       refs & PERFBPF_F_REF_STRATEGY, &f->flags);
}

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_begin, const char *name, const char *symbol, const char *strategy)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct span_stack *st;
	struct span_frame *f;
	__u32 d;

	st = bpf_map_lookup_elem(&stacks, &tid);
	if (!st) {
		bpf_map_update_elem(&stacks, &tid, &empty_stack, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&stacks, &tid);
		if (!st) {
			count(PERFBPF_CNT_SPAN_NO_STACK);
			return 0;
		}
	}
	d = st->depth;
	if (d >= PERFBPF_SPAN_DEPTH || st->overflow) {
		/* Deeper spans are not recorded, but their ends must not close recorded ones. */
		st->overflow++;
		count(PERFBPF_CNT_SPAN_DEPTH_OVERFLOW);
		return 0;
	}
	f = &st->frames[d & (PERFBPF_SPAN_DEPTH - 1)];
	st->seq++;
	f->span_id = ((__u64)tid << 32) | (st->seq & 0xffffffffull);
	frame_fill(f, id, name, symbol, strategy);
	if (d == 0)
		st->trace_id = f->span_id;
	st->depth = d + 1;
	/* Stamp last so that the string copies above are not counted in the span. */
	f->start_ns = bpf_ktime_get_ns();
	if (attribution) {
		struct acct *a = bpf_task_storage_get(&accts, bpf_get_current_task_btf(), NULL,
						      BPF_LOCAL_STORAGE_GET_F_CREATE);

		if (a) {
			if (a->open == 0) {
				/* the thread becomes tracked: it is running, right here */
				a->state = ACCT_RUNNING;
				a->since = f->start_ns;
				a->cpu = bpf_get_smp_processor_id();
			} else {
				acct_flush(a, f->start_ns);
			}
			a->open = d + 1;
			f->at_begin = a->sum;
		}
	}
	return 0;
}

/* The name passed to span_end, as a global function's argument (a sized object). */
struct end_name_buf {
	char b[PERFBPF_METRIC_LEN];
};

/* Per-CPU scratch for the name passed to span_end (too large for the 512-byte BPF stack next to
 * everything else). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct end_name_buf);
} end_name SEC(".maps");

/* Index of the innermost frame at or below top named like nb, or -1. A global function (see
 * ro_has): inlined, its 16 x 8 comparisons made span_end the slowest program to verify. */
__noinline int find_frame_named(const struct span_stack *st, __u32 top,
				const struct end_name_buf *nb)
{
	if (!st || !nb)
		return -1;
	for (int i = PERFBPF_SPAN_DEPTH - 1; i >= 0; i--) {
		if ((__u32)i > top)
			continue;
		if (words_eq(nb->b, st->frames[i].names.metric, PERFBPF_METRIC_LEN / 8))
			return i;
	}
	return -1;
}

/* Index of the open frame that `name` ends: the innermost one when names agree, else the
 * innermost frame with that name (the frames above it were never ended), or -1. */
static __always_inline int match_frame(struct span_stack *st, __u32 top, const char *name)
{
	__u32 zero = 0, unused = 0;
	struct end_name_buf *buf;

	if ((__u64)name == st->frames[top & (PERFBPF_SPAN_DEPTH - 1)].name_ptr)
		return top;
	buf = bpf_map_lookup_elem(&end_name, &zero);
	if (!buf)
		return -1;
	__builtin_memset(buf->b, 0, PERFBPF_METRIC_LEN);
	read_str(buf->b, PERFBPF_METRIC_LEN, name, &unused);
	return find_frame_named(st, top, buf);
}

/* Copies one field of a frame (its len[i] bytes) to buf + off; returns the bytes. */
#define SPAN_FIELD(buf, off, f, field, i)						\
	({										\
		__u32 n_ = (f)->len[i];						\
											\
		n_ = n_ < 1 ? 1 : n_ > sizeof((f)->names.field) ? sizeof((f)->names.field) : n_; \
		__builtin_memcpy((buf) + (off), (f)->names.field, sizeof((f)->names.field)); \
		n_;									\
	})

/* The stack buffer a packed span is built in. */
struct span_packed_buf {
	char b[PERFBPF_SPAN_PACKED_MAX];
};

/* Appends f's three names to the packed span in pb at off (after the header and attribution)
 * and sets their lengths in the header; returns the record's length. A global function (see
 * ro_has): inlined, every combination of the three lengths was a state of its own. */
__noinline __u32 span_pack_names(struct span_packed_buf *pb, __u32 off, const struct span_frame *f)
{
	struct perfbpf_span_packed *p = (struct perfbpf_span_packed *)pb;
	__u32 n;

	if (!pb || !f || off > PERFBPF_SPAN_PACKED_HDR + sizeof(struct perfbpf_attribution))
		return PERFBPF_SPAN_PACKED_MAX + 1;
	n = SPAN_FIELD(pb->b, off, f, metric, 0);
	p->len[0] = n;
	off += n;
	n = SPAN_FIELD(pb->b, off, f, symbol, 1);
	p->len[1] = n;
	off += n;
	n = SPAN_FIELD(pb->b, off, f, strategy, 2);
	p->len[2] = n;
	return off + n;
}

/* The ended span f (at depth d, under parent_id in trace trace_id) as a packed record (struct
 * perfbpf_span_packed). Attributed (a span of the thread's stack, st given) when --attribution
 * is on. */
static __always_inline int span_send(struct span_stack *st, struct span_frame *f, int d, __u64 id,
				     __u64 now, __u64 dur, __u64 parent_id, __u64 trace_id)
{
	char buf[PERFBPF_SPAN_PACKED_MAX] __attribute__((aligned(8)));
	struct perfbpf_span_packed *p = (struct perfbpf_span_packed *)buf;
	struct acct *a = attribution && st ? bpf_task_storage_get(&accts, bpf_get_current_task_btf(),
								 NULL, 0)
					   : NULL;
	__u32 off = PERFBPF_SPAN_PACKED_HDR;

	p->kind = PERFBPF_EV_SPAN_PACKED;
	p->flags = f->flags;
	p->pid = id >> 32;
	p->tid = (__u32)id;
	p->end_ns = now;
	p->duration_ns = dur;
	p->self_ns = dur > f->child_ns ? dur - f->child_ns : 0;
	p->span_id = f->span_id;
	p->parent_id = parent_id;
	p->trace_id = trace_id;
	p->depth = d;
	p->ro_gen = f->ro_gen;
	p->pad = 0;
	if (a) {
		struct perfbpf_attribution *at = (struct perfbpf_attribution *)(buf + off);

		a->open = d;
		acct_flush(a, now);
		at->oncpu_ns = a->sum.oncpu_ns - f->at_begin.oncpu_ns;
		at->runq_ns = a->sum.runq_ns - f->at_begin.runq_ns;
		at->blocked_ns = a->sum.blocked_ns - f->at_begin.blocked_ns;
		at->nvcsw = a->sum.nvcsw - f->at_begin.nvcsw;
		at->nivcsw = a->sum.nivcsw - f->at_begin.nivcsw;
		at->migrations = a->sum.migrations - f->at_begin.migrations;
		at->pad = 0;
		p->flags |= PERFBPF_F_ATTRIBUTED;
		off += sizeof(*at);
	}
	off = span_pack_names((struct span_packed_buf *)buf, off, f);
	if (off > PERFBPF_SPAN_PACKED_MAX) /* cannot happen: for the verifier */
		return 0;
	if (bpf_ringbuf_output(&events, buf, off, wakeup_flag(off)))
		count(PERFBPF_CNT_RB_DROPPED);
	return 0;
}

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_end, const char *name)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct span_stack *st;
	struct span_frame *f;
	__u64 dur;
	__u32 top;
	int d;

	st = bpf_map_lookup_elem(&stacks, &tid);
	if (!st || (st->depth == 0 && st->overflow == 0)) {
		count(PERFBPF_CNT_SPAN_UNMATCHED_END);
		return 0;
	}
	if (st->overflow) {
		st->overflow--;
		return 0;
	}
	top = (st->depth - 1) & (PERFBPF_SPAN_DEPTH - 1);
	d = match_frame(st, top, name);
	if (d < 0) {
		count(PERFBPF_CNT_SPAN_MISMATCH);
		return 0;
	}
	if ((__u32)d != top) {
		count(PERFBPF_CNT_SPAN_MISMATCH);
		count_add(PERFBPF_CNT_SPAN_ABANDONED, top - d);
	}
	d &= PERFBPF_SPAN_DEPTH - 1;
	f = &st->frames[d];
	dur = now - f->start_ns;
	st->depth = d;
	if (d > 0)
		st->frames[(d - 1) & (PERFBPF_SPAN_DEPTH - 1)].child_ns += dur;
	if (aggregate) {
		struct perfbpf_mon_keyval v;

		__builtin_memcpy(&v.names, &f->names, sizeof(v.names));
		mon_record(&v, PERFBPF_EV_SPAN, mon_per_pid ? id >> 32 : 0, dur,
			   dur > f->child_ns ? dur - f->child_ns : 0, now);
		return 0;
	}
	return span_send(st, f, d, id, now, dur,
			 d > 0 ? st->frames[(d - 1) & (PERFBPF_SPAN_DEPTH - 1)].span_id : 0,
			 st->trace_id);
}

#endif
