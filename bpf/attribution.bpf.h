/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Scheduler attribution (--attribution): the sched tracepoints that split a span's time into
 * on-CPU, run-queue and blocked, and the thread-exit hook that frees a thread's state. Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_ATTRIBUTION_BPF_H
#define PERFBPF_ATTRIBUTION_BPF_H

/* --- attribution: scheduler tracepoints (attached only with --attribution) ---------------------
 * A thread is accounted only while it has a span open; for any other thread a context switch
 * costs a task-storage lookup for each of the two tasks. */

static __always_inline struct acct *tracked(struct task_struct *t)
{
	struct acct *a = bpf_task_storage_get(&accts, t, NULL, 0);

	return a && a->open ? a : NULL;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(perfbpf_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	struct acct *a = tracked(prev);
	__u64 now;

	if (a) {
		now = bpf_ktime_get_ns();
		acct_flush(a, now);
		/* still runnable (preempted, or yielded): it waits in the run queue */
		if (preempt || prev_state == 0 /* TASK_RUNNING */) {
			a->state = ACCT_RUNNABLE;
			a->sum.nivcsw++;
		} else {
			a->state = ACCT_BLOCKED;
			a->sum.nvcsw++;
		}
	}
	a = tracked(next);
	if (a) {
		__u32 cpu = bpf_get_smp_processor_id();

		acct_flush(a, bpf_ktime_get_ns());
		a->state = ACCT_RUNNING;
		if (cpu != a->cpu)
			a->sum.migrations++;
		a->cpu = cpu;
	}
	return 0;
}

static __always_inline void on_wakeup(struct task_struct *p)
{
	struct acct *a = tracked(p);

	if (a && a->state == ACCT_BLOCKED) {
		acct_flush(a, bpf_ktime_get_ns());
		a->state = ACCT_RUNNABLE;
	}
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(perfbpf_sched_wakeup, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(perfbpf_sched_wakeup_new, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

/* A thread that exits with spans open: count them and free its stack. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(perfbpf_thread_exit, struct task_struct *task)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct span_stack *st = bpf_map_lookup_elem(&stacks, &tid);

	if (!st)
		return 0;
	if (st->depth)
		count_add(PERFBPF_CNT_SPAN_UNFINISHED, st->depth);
	bpf_map_delete_elem(&stacks, &tid);
	return 0;
}

#endif
