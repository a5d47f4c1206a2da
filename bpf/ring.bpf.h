/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Writing records into the ring buffer: wakeups, the compact op header and packed fields. Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_RING_BPF_H
#define PERFBPF_RING_BPF_H

/* BPF_RB_NO_WAKEUP, or BPF_RB_FORCE_WAKEUP when a record of `size` just made the unread data
 * cross a multiple of wakeup_bytes. */
static __always_inline __u64 wakeup_flag(__u64 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 thr = wakeup_bytes;

	if (thr && avail >= size && avail / thr != (avail - size) / thr)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void submit(void *rec, __u64 size)
{
	bpf_ringbuf_submit(rec, wakeup_flag(size));
}

static __always_inline void op_head(struct perfbpf_op_head *h, __u32 kind, __u64 id, __u64 now,
				    __u64 duration_ns, const struct perfbpf_ro_set *rs, __u32 flags)
{
	h->kind = kind;
	h->flags = flags;
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->end_ns = now;
	h->duration_ns = duration_ns;
	h->ro_gen = rs ? rs->gen : 0;
	h->pad = 0;
}

/* A string field at buf + off (a packed record's, or a fixed field at 0): the engine's address
 * (8 bytes) when ref, else the string copied with its NUL (at most size bytes, read_str).
 * Returns the bytes used. */
static __always_inline __u32 pack_field(char *buf, __u32 off, const char *src, __u32 size,
					bool ref, __u32 *flags)
{
	if (ref) {
		__u64 a = (__u64)src;

		__builtin_memcpy(buf + off, &a, sizeof(a));
		return sizeof(a);
	}
	return read_str(buf + off, size, src, flags);
}

/* The stack buffer a packed op is built in. */
struct packed_op_buf {
	char b[PERFBPF_PACKED_MAX];
};

/* pack_field into a packed op's buffer, as a global function (see ro_has): the op program's
 * check then does not multiply by every combination of copied and referenced fields and every
 * outcome of each copy (15 ms with the three fields inlined). */
__noinline int pack_op_field(struct packed_op_buf *pb, __u32 off, __u64 src, __u32 field_refs,
			     __u32 *flags)
{
	/* field_refs: the field (0 metric, 1 symbol, 2 strategy) | the PERFBPF_F_REF_* bits << 8 */
	__u32 field = field_refs & 3, size = field == 1 ? PERFBPF_SYMBOL_LEN : PERFBPF_METRIC_LEN;
	__u32 ref = (field_refs >> 8) & (PERFBPF_F_REF_METRIC << field), n;

	if (!pb || !flags || field > 2 || off > PERFBPF_PACKED_MAX - PERFBPF_METRIC_LEN)
		return 1;
	n = pack_field(pb->b, off, (const char *)src, size, ref, flags);
	return n > size ? size : n < 1 ? 1 : n;
}

#endif
