/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The maps every program shares (the ring buffer, the loss counters, the per-thread span
 * stacks and scheduler state) and the counter and scheduler-interval helpers. Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_STATE_BPF_H
#define PERFBPF_STATE_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by the loader (--ring-size) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PERFBPF_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Scheduler state of a thread with open spans (--attribution). */
enum acct_state { ACCT_RUNNING, ACCT_RUNNABLE, ACCT_BLOCKED };

struct acct {
	struct perfbpf_attribution sum; /* since the thread's outermost span began */
	__u64 since;                    /* when `state` began */
	__u32 state;
	__u32 cpu;                      /* CPU it last ran on */
	__u32 open;                     /* the thread's open spans: accounted while > 0 */
	__u32 pad;
};

/* Task-local storage, not a hash map: the scheduler hooks run on every context switch of every
 * task, and finding a task's storage is a pointer dereference where a hash lookup costs a hash
 * and a bucket walk (measured: 217 ns per context switch with two hash lookups). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct acct);
} accts SEC(".maps");

struct span_frame {
	struct perfbpf_attribution at_begin; /* acct.sum when the span began */
	__u64 start_ns;
	__u64 span_id;
	__u64 child_ns;  /* summed durations of closed child spans */
	__u64 name_ptr;  /* engine address of the name: a cheap first test at span_end */
	__u32 flags;     /* read_str's, and PERFBPF_F_REF_SYMBOL/_STRATEGY */
	__u32 ro_gen;    /* of the ranges the references were checked against */
	struct perfbpf_names names;
	__u16 len[3];    /* bytes used in each names field (an address: 8) */
	__u16 pad;
	__u32 pad2;
};

struct span_stack {
	__u32 depth;    /* frames in use */
	__u32 overflow; /* begins past PERFBPF_SPAN_DEPTH still waiting for their end */
	__u64 seq;
	__u64 trace_id;
	__u64 selected; /* span_select: the span with an id that notes annotate (0: none) */
	struct span_frame frames[PERFBPF_SPAN_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* threads with a stack; resized by the loader */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct span_stack);
} stacks SEC(".maps");

static const struct span_stack empty_stack;

/* Sleepable programs run with migration disabled but may be preempted, so another task on this
 * CPU can interleave: per-CPU counters are updated atomically. */
static __always_inline void count_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline void count(__u32 idx)
{
	count_add(idx, 1);
}

/* Closes the current scheduler interval of a tracked thread at `now`. */
static __always_inline void acct_flush(struct acct *a, __u64 now)
{
	__u64 d = now > a->since ? now - a->since : 0;

	if (a->state == ACCT_RUNNING)
		a->sum.oncpu_ns += d;
	else if (a->state == ACCT_RUNNABLE)
		a->sum.runq_ns += d;
	else
		a->sum.blocked_ns += d;
	a->since = now;
}

#endif
