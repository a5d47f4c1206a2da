// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* perfbpf kernel side: USDT programs for the perfbpf probes, a per-thread span stack, and the
 * ring buffer that carries completed ops and spans to userspace. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "perfbpf.h"
#include "names_hash.h"
#include "usdt_args.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Wake the consumer each time the unread data crosses a multiple of this many bytes; between
 * crossings records are submitted with BPF_RB_NO_WAKEUP and the consumer drains on a timer.
 * Default wakeups cost ~1.7 us per event on the reference machine; this keeps them rare. */
const volatile __u64 wakeup_bytes = 1 << 20;
/* Account on-CPU, run-queue and blocked time of open spans (the loader also attaches the sched
 * tracepoints only then). */
const volatile bool attribution = false;
/* perfbpf monitor: aggregate ops and spans into the in-kernel histograms below instead of
 * sending them through the ring buffer; mon_per_pid keys them by process too. */
const volatile bool aggregate = false;
const volatile bool mon_per_pid = false;
/* OTLP export: ops carry their enclosing span, and the span annotation probes (ABI v2) are
 * attached. */
const volatile bool span_notes = false;

/* Each feature in its own header, in this order (later ones use the earlier): */
#include "state.bpf.h"
#include "strings.bpf.h"
#include "monitor.bpf.h"
#include "ro_refs.bpf.h"
#include "ring.bpf.h"

SEC("usdt")
int PERFBPF_USDT(perfbpf_op, const char *metric, const char *symbol, const char *strategy,
		 __u64 duration_ns)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 id = bpf_get_current_pid_tgid();
	const struct perfbpf_ro_set *rs;
	struct perfbpf_event *e;
	__u32 flags = 0, refs;

	if (aggregate) {
		struct perfbpf_mon_keyval v;

		__builtin_memset(&v, 0, sizeof(v));
		read_str(v.names.metric, sizeof(v.names.metric), metric, &flags);
		read_str(v.names.symbol, sizeof(v.names.symbol), symbol, &flags);
		read_str(v.names.strategy, sizeof(v.names.strategy), strategy, &flags);
		mon_record(&v, PERFBPF_EV_OP, mon_per_pid ? id >> 32 : 0, duration_ns, duration_ns,
			   now);
		return 0;
	}
	rs = ro_current(id >> 32);
	refs = ro_refs3(rs, metric, symbol, strategy);
	if (refs == PERFBPF_F_REF_ALL && !span_notes) {
		struct perfbpf_op_ref *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

		if (!r) {
			count(PERFBPF_CNT_RB_DROPPED);
			return 0;
		}
		op_head(&r->h, PERFBPF_EV_OP_REF, id, now, duration_ns, rs, refs);
		r->addr[0] = (__u64)metric;
		r->addr[1] = (__u64)symbol;
		r->addr[2] = (__u64)strategy;
		submit(r, sizeof(*r));
		return 0;
	}
	if (!span_notes) {
		/* built on the stack (a sleepable program may be preempted: no per-CPU scratch),
		 * then copied into the ring at its real length */
		char buf[PERFBPF_PACKED_MAX] __attribute__((aligned(8)));
		struct perfbpf_op_packed *pk = (struct perfbpf_op_packed *)buf;
		__u32 off = PERFBPF_PACKED_HDR, n;

		pk->pad = 0;
		n = pack_op_field((struct packed_op_buf *)buf, off, (__u64)metric, 0 | refs << 8,
				  &flags);
		pk->len[0] = n;
		off += n & 0x7f;
		n = pack_op_field((struct packed_op_buf *)buf, off, (__u64)symbol, 1 | refs << 8,
				  &flags);
		pk->len[1] = n;
		off += n & 0x7f;
		n = pack_op_field((struct packed_op_buf *)buf, off, (__u64)strategy, 2 | refs << 8,
				  &flags);
		pk->len[2] = n;
		off += n & 0x7f;
		op_head(&pk->h, PERFBPF_EV_OP_PACKED, id, now, duration_ns, rs, flags | refs);
		if (off > PERFBPF_PACKED_MAX) /* cannot happen: for the verifier */
			return 0;
		if (bpf_ringbuf_output(&events, buf, off, wakeup_flag(off)))
			count(PERFBPF_CNT_RB_DROPPED);
		return 0;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(PERFBPF_CNT_RB_DROPPED);
		return 0;
	}
	e->kind = PERFBPF_EV_OP;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->end_ns = now;
	e->duration_ns = duration_ns;
	e->self_ns = duration_ns;
	e->span_id = 0;
	e->parent_id = 0;
	e->trace_id = 0;
	e->depth = 0;
	{
		/* span notes (OTLP) are on: the op carries the span that encloses it */
		__u32 tid = (__u32)id;
		struct span_stack *st = bpf_map_lookup_elem(&stacks, &tid);

		if (st && st->depth > 0 && st->depth <= PERFBPF_SPAN_DEPTH) {
			e->parent_id = st->frames[(st->depth - 1) & (PERFBPF_SPAN_DEPTH - 1)].span_id;
			e->trace_id = st->trace_id;
			e->depth = st->depth;
		}
	}
	__builtin_memset(&e->attr, 0, sizeof(e->attr));
	e->ro_gen = rs ? rs->gen : 0;
	pack_field(e->names.metric, 0, metric, sizeof(e->names.metric),
		   refs & PERFBPF_F_REF_METRIC, &flags);
	pack_field(e->names.symbol, 0, symbol, sizeof(e->names.symbol),
		   refs & PERFBPF_F_REF_SYMBOL, &flags);
	pack_field(e->names.strategy, 0, strategy, sizeof(e->names.strategy),
		   refs & PERFBPF_F_REF_STRATEGY, &flags);
	e->flags = flags | refs;
	submit(e, sizeof(*e));
	return 0;
}

#include "spans.bpf.h"
#include "span_ids.bpf.h"
#include "batches.bpf.h"
#include "span_notes.bpf.h"
#include "attribution.bpf.h"
#include "ring_prefault.bpf.h"
