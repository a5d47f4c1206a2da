/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Spans with explicit ids (span_open, span_close, span_select): kept per process by the engine's
 * id instead of on the thread's stack, so a span may end on any thread and in any order (a
 * coroutine's span across an await). Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_SPAN_IDS_BPF_H
#define PERFBPF_SPAN_IDS_BPF_H

struct xspan {
	struct span_frame f; /* f.span_id: the engine's id */
	__u64 parent_id;
	__u64 trace_id;
	__u32 depth;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* open spans with ids, all processes */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct perfbpf_xspan_key);
	__type(value, struct xspan);
} xspans SEC(".maps");

static const struct xspan empty_xspan;

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_open, const char *name, const char *symbol, const char *strategy,
		 __u64 span, __u64 parent)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct perfbpf_xspan_key k = { .pid = id >> 32, .id = span };
	struct xspan *x, *px;

	if (!span) {
		count(PERFBPF_CNT_SPAN_UNMATCHED_END);
		return 0;
	}
	if (bpf_map_update_elem(&xspans, &k, &empty_xspan, BPF_NOEXIST)) {
		if (!bpf_map_lookup_elem(&xspans, &k)) {
			count(PERFBPF_CNT_SPAN_NO_STACK);
			return 0;
		}
		/* the id of a span still open: that one will never end */
		count(PERFBPF_CNT_SPAN_ABANDONED);
	}
	x = bpf_map_lookup_elem(&xspans, &k);
	if (!x)
		return 0;
	x->f.span_id = span;
	frame_fill(&x->f, id, name, symbol, strategy);
	x->parent_id = parent;
	x->trace_id = parent ? parent : span;
	x->depth = parent ? 1 : 0;
	if (parent) {
		struct perfbpf_xspan_key pk = { .pid = k.pid, .id = parent };

		px = bpf_map_lookup_elem(&xspans, &pk);
		if (px) {
			x->trace_id = px->trace_id;
			x->depth = px->depth + 1;
		}
	}
	x->f.start_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_close, const char *name, __u64 span)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 id = bpf_get_current_pid_tgid();
	struct perfbpf_xspan_key k = { .pid = id >> 32, .id = span };
	struct xspan *x, *px;
	__u64 dur;
	int err;

	(void)name;
	x = bpf_map_lookup_elem(&xspans, &k);
	if (!x) {
		count(PERFBPF_CNT_SPAN_UNMATCHED_END);
		return 0;
	}
	dur = now > x->f.start_ns ? now - x->f.start_ns : 0;
	if (x->parent_id) {
		struct perfbpf_xspan_key pk = { .pid = k.pid, .id = x->parent_id };

		px = bpf_map_lookup_elem(&xspans, &pk);
		if (px)
			__sync_fetch_and_add(&px->f.child_ns, dur);
	}
	if (aggregate) {
		struct perfbpf_mon_keyval v;

		__builtin_memcpy(&v.names, &x->f.names, sizeof(v.names));
		mon_record(&v, PERFBPF_EV_SPAN, mon_per_pid ? id >> 32 : 0, dur,
			   dur > x->f.child_ns ? dur - x->f.child_ns : 0, now);
		err = 0;
	} else {
		x->f.flags |= PERFBPF_F_SPAN_ID_EXPLICIT;
		err = span_send(NULL, &x->f, x->depth, id, now, dur, x->parent_id, x->trace_id);
	}
	bpf_map_delete_elem(&xspans, &k);
	return err;
}

/* The notes that follow on this thread annotate span `span` (0: the innermost open span). */
SEC("usdt")
int PERFBPF_USDT(perfbpf_span_select, __u64 span)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct span_stack *st = bpf_map_lookup_elem(&stacks, &tid);

	if (!st) {
		if (!span)
			return 0;
		bpf_map_update_elem(&stacks, &tid, &empty_stack, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&stacks, &tid);
		if (!st) {
			count(PERFBPF_CNT_SPAN_NO_STACK);
			return 0;
		}
	}
	st->selected = span;
	return 0;
}

#endif
