/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Span notes (probe ABI v2): attributes, events and errors of the innermost open span. Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_SPAN_NOTES_BPF_H
#define PERFBPF_SPAN_NOTES_BPF_H

/* --- span notes (probe ABI v2): attributes, events and errors of the innermost open span ------ */

/* Reserves a note about the span the calling thread selected (span_select), else its innermost
 * open span, or NULL (counted). A span past the depth limit is not recorded, so neither are its
 * notes. A thread that records its spans itself (probe ABI v3) has no span stack here: its
 * pending records are collected first, and the note names no span (PERFBPF_F_NOTE_V3). */
static __always_inline struct perfbpf_note *note_begin(__u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct span_stack *st = bpf_map_lookup_elem(&stacks, &tid);
	struct perfbpf_note *n;
	__u64 span = 0;
	__u32 flags = 0;

	if (!st || ((st->depth == 0 || st->overflow) && !st->selected)) {
		struct v3_thread *th = v3_claim(bpf_get_current_task_btf(), false);

		if (!th) {
			count(PERFBPF_CNT_NOTE_NO_SPAN);
			return NULL;
		}
		v3_collect_all(th, PERFBPF_V3_NOTE, false, 0, true);
		v3_release(th);
		flags = PERFBPF_F_NOTE_V3;
	} else {
		span = st->selected ? st->selected
				    : st->frames[(st->depth - 1) & (PERFBPF_SPAN_DEPTH - 1)].span_id;
	}
	n = bpf_ringbuf_reserve(&events, sizeof(*n), 0);
	if (!n) {
		count(PERFBPF_CNT_RB_DROPPED);
		return NULL;
	}
	n->kind = kind;
	n->flags = flags;
	n->pid = id >> 32;
	n->tid = tid;
	n->ts_ns = bpf_ktime_get_ns();
	n->span_id = span;
	n->value_type = 0;
	n->pad = 0;
	n->value = 0;
	n->name[0] = '\0';
	n->akey[0] = '\0';
	n->str[0] = '\0';
	return n;
}

static __always_inline int note_attr(const char *key, const char *str, __u32 type, __u64 value)
{
	struct perfbpf_note *n = note_begin(PERFBPF_EV_ATTR);

	if (!n)
		return 0;
	read_str(n->name, sizeof(n->name), key, &n->flags);
	n->value_type = type;
	n->value = value;
	if (type == PERFBPF_VAL_STR)
		read_str(n->str, sizeof(n->str), str, &n->flags);
	submit(n, sizeof(*n));
	return 0;
}

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_attr_str, const char *key, const char *value)
{
	return note_attr(key, value, PERFBPF_VAL_STR, 0);
}

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_attr_int, const char *key, __s64 value)
{
	return note_attr(key, NULL, PERFBPF_VAL_INT, (__u64)value);
}

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_attr_double, const char *key, __u64 bits)
{
	return note_attr(key, NULL, PERFBPF_VAL_DOUBLE, bits);
}

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_event, const char *name, const char *key, const char *value)
{
	struct perfbpf_note *n = note_begin(PERFBPF_EV_EVENT);

	if (!n)
		return 0;
	read_str(n->name, sizeof(n->name), name, &n->flags);
	if (key) {
		read_str(n->akey, sizeof(n->akey), key, &n->flags);
		read_str(n->str, sizeof(n->str), value, &n->flags);
	}
	submit(n, sizeof(*n));
	return 0;
}

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_error, const char *message)
{
	struct perfbpf_note *n = note_begin(PERFBPF_EV_ERROR);

	if (!n)
		return 0;
	read_str(n->str, sizeof(n->str), message, &n->flags);
	submit(n, sizeof(*n));
	return 0;
}

#endif
