/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* ABI v3 collection's copy functions, included twice by batches.bpf.h: with V3_READ
 * bpf_probe_read_user for the programs that may not sleep (a context switch, a timer tick, exit,
 * exec) and bpf_copy_from_user for the sleepable flush. The second is not only allowed to fault
 * pages in: on this machine's kernel it copies 24 KB in a few us where the first took 45 us
 * (docs/BENCHMARKS.md). No include guard, on purpose. */
#ifndef V3_READ
#error "define V3_READ and V3_FN before including batch_copy.bpf.h"
#endif

/* A global function (see ro_has): verified once, not once per chunk, slot and caller (inlined,
 * the flush program passed the verifier's million-instruction limit). */
__noinline int V3_FN(v3_emit)(const struct perfbpf_v3_batch *h, __u64 src, __u32 n)
{
	if (!h)
		return -EFAULT;
	if (n <= 16)
		V3_EMIT_CLASS(V3_READ, 16);
	if (n <= 64)
		V3_EMIT_CLASS(V3_READ, 64);
	V3_EMIT_CLASS(V3_READ, PERFBPF_V3_CHUNK);
}

/* Collects the pending records of the buffer in slot sl: [consumed, head) of the current batch,
 * or [0, head) of a batch not seen before. Records that cannot be copied stay pending for the
 * next collection unless `final` (the thread's last chance, or a flush after which the engine
 * reuses the buffer): they are then counted as lost. Returns the records sent. */
__noinline __u64 V3_FN(v3_collect)(struct v3_slot *sl, __u32 reason, __u32 final)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct perfbpf_tbuf hd;
	struct perfbpf_v3_batch h;
	__u32 batch, head, from;
	__u64 recs, sent = 0;

	if (!sl || !sl->buf)
		return 0;
	if (V3_READ(&hd, sizeof(hd), (void *)sl->buf)) {
		if (final)
			count(PERFBPF_CNT_V3_UNCOLLECTED);
		return 0;
	}
	batch = hd.pos >> 32;
	head = (__u32)hd.pos;
	if (hd.magic != PERFBPF_TBUF_MAGIC || hd.version != PERFBPF_ABI_V3 || hd.cap == 0 ||
	    hd.cap > PERFBPF_TBUF_MAX_CAP || head > hd.cap || hd.tid != (__u32)id) {
		/* not (or no longer) this thread's buffer: a buffer handed to another thread after
		 * its owner exited has another tid, and is that thread's to collect */
		if (hd.tid != (__u32)id && hd.magic == PERFBPF_TBUF_MAGIC)
			sl->buf = 0;
		else if (hd.magic != PERFBPF_TBUF_MAGIC || hd.version != PERFBPF_ABI_V3 ||
			 hd.cap == 0 || hd.cap > PERFBPF_TBUF_MAX_CAP || head > hd.cap) {
			count(PERFBPF_CNT_V3_BAD_BUFFER);
			sl->buf = 0;
		}
		return 0;
	}
	from = batch == sl->batch ? sl->consumed : 0;
	if (from > head)
		from = head;
	h.kind = PERFBPF_EV_V3_BATCH;
	h.flags = hd.flags;
	h.pid = id >> 32;
	h.tid = (__u32)id;
	h.keytab = hd.keytab;
	h.batch = batch;
	h.reason = reason;
	recs = sl->buf + sizeof(struct perfbpf_tbuf);
	for (int i = 0; i < PERFBPF_TBUF_MAX_CAP / PERFBPF_V3_CHUNK && from < head; i++) {
		__u32 n = head - from;
		int err;

		if (n > PERFBPF_V3_CHUNK)
			n = PERFBPF_V3_CHUNK;
		h.first = from;
		h.n = n;
		err = V3_FN(v3_emit)(&h, recs + (__u64)from * sizeof(struct perfbpf_rec), n);
		if (err) {
			if (!final)
				break;
			count_add(err == -ENOSPC ? PERFBPF_CNT_RB_DROPPED : PERFBPF_CNT_V3_UNCOLLECTED,
				  head - from);
			from = head;
			break;
		}
		from += n;
		sent += n;
	}
	sl->batch = batch;
	sl->consumed = from;
	return sent;
}

