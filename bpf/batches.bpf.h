/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Probe ABI v3 (include/perfbpf/record_abi.h): collecting the records an engine wrote into its
 * threads' buffers. The flush program runs when a thread calls its flush site (a full buffer, a
 * new key, a new tracer); the pending records of a thread that does not flush are collected when
 * it is switched out, by a periodic timer tick while it runs, at its exit and at exec. Every
 * collection runs in the owning thread's context, so a buffer is never read half written.
 * Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_BATCHES_BPF_H
#define PERFBPF_BATCHES_BPF_H

#define V3_SLOTS 4 /* buffers one thread may own at once (one per object with v3 probes) */

/* What this tracer collected from one of the thread's buffers. */
struct v3_slot {
	__u64 buf;      /* engine address of its struct perfbpf_tbuf; 0: free */
	__u32 batch;    /* the batch `consumed` counts in */
	__u32 consumed; /* records of that batch collected */
};

struct v3_thread {
	struct v3_slot s[V3_SLOTS];
	__u32 busy; /* a collection of this thread is under way (a tick may interrupt a flush) */
	__u32 pad;
};

/* Task storage: a context switch finds the state of its task with one dereference (see accts). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct v3_thread);
} v3_threads SEC(".maps");

/* Key definitions already sent, per process and key table. Evicting an entry only sends its
 * definitions again (userspace takes them once). */
struct v3_keytab_id {
	__u32 pid;
	__u32 pad;
	__u64 keytab;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct v3_keytab_id);
	__type(value, __u32);
} v3_keys_sent SEC(".maps");

#define V3_BATCH_SIZE(n) (sizeof(struct perfbpf_v3_batch) + (n) * sizeof(struct perfbpf_rec))

/* Copies n (1 .. PERFBPF_V3_CHUNK) records at src into one ring record of the smallest of three
 * sizes that holds them. 0, -ENOSPC (ring full) or -EFAULT (the records could not be read). */
#define V3_EMIT_CLASS(READ, cap)                                                                      \
	do {                                                                                      \
		struct perfbpf_v3_batch *r = bpf_ringbuf_reserve(&events, V3_BATCH_SIZE(cap), 0);  \
		__u32 m = n;                                                                      \
                                                                                                  \
		if (!r)                                                                           \
			return -ENOSPC;                                                           \
		asm volatile("" : "+r"(m));                                                       \
		if (m > (cap))                                                                    \
			m = (cap);                                                                \
		if (READ(r + 1, m * sizeof(struct perfbpf_rec), (void *)src)) {                  \
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);                                 \
			return -EFAULT;                                                           \
		}                                                                                 \
		*r = *h;                                                                          \
		r->n = m;                                                                         \
		submit(r, V3_BATCH_SIZE(cap));                                                    \
		return 0;                                                                         \
	} while (0)

#define V3_READ bpf_probe_read_user
#define V3_FN(name) name##_nofault
#include "batch_copy.bpf.h"
#undef V3_READ
#undef V3_FN
#define V3_READ bpf_copy_from_user
#define V3_FN(name) name##_sleepable
#include "batch_copy.bpf.h"
#undef V3_READ
#undef V3_FN

static __always_inline struct v3_thread *v3_claim(struct task_struct *task, bool create)
{
	struct v3_thread *th = bpf_task_storage_get(&v3_threads, task, NULL,
						    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);

	if (!th || __sync_val_compare_and_swap(&th->busy, 0, 1) != 0)
		return NULL;
	return th;
}

static __always_inline void v3_release(struct v3_thread *th)
{
	asm volatile("" ::: "memory");
	*(volatile __u32 *)&th->busy = 0;
}

/* Marks the end of one collection of the current thread (struct perfbpf_v3_exit). */
static __always_inline void v3_mark(__u32 kind, __u32 reason)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct perfbpf_v3_exit *x = bpf_ringbuf_reserve(&events, sizeof(*x), 0);

	if (!x) {
		/* userspace then orders this collection with the next one */
		if (kind == PERFBPF_EV_V3_EXIT)
			count(PERFBPF_CNT_RB_DROPPED);
		return;
	}
	x->kind = kind;
	x->reason = reason;
	x->pid = id >> 32;
	x->tid = (__u32)id;
	submit(x, sizeof(*x));
}

/* Every registered buffer of the current thread; `flushed` (0: none) is collected as final. A
 * sleepable program (the USDT ones: the flush, span notes) copies with bpf_copy_from_user. */
static __always_inline void v3_collect_all(struct v3_thread *th, __u32 reason, bool final,
					   __u64 flushed, bool sleepable)
{
	__u64 sent = 0;

	for (int i = 0; i < V3_SLOTS; i++) {
		__u32 fin = final || (flushed && th->s[i].buf == flushed);

		sent += sleepable ? v3_collect_sleepable(&th->s[i], reason, fin)
				  : v3_collect_nofault(&th->s[i], reason, fin);
	}
	if (sent)
		v3_mark(PERFBPF_EV_V3_END, reason);
}

struct v3_defs_ctx {
	__u64 defs; /* engine address of defs[0] */
	__u32 from, count, sent;
	__u32 pid, tid;
	__u64 keytab;
};

static long v3_send_def(__u32 i, struct v3_defs_ctx *c)
{
	struct perfbpf_v3_keydef *r;
	__u32 k = c->from + i;

	if (k >= c->count)
		return 1;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r)
		return 1; /* sent again at the next flush */
	if (bpf_probe_read_user(&r->def, sizeof(r->def),
				(void *)(c->defs + (__u64)k * sizeof(struct perfbpf_keydef))) ||
	    !(r->def.ready & 1)) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return 1; /* not published yet: the engine flushes again when it is */
	}
	r->kind = PERFBPF_EV_V3_KEYDEF;
	r->pad = 0;
	r->pid = c->pid;
	r->tid = c->tid;
	r->keytab = c->keytab;
	submit(r, sizeof(*r));
	c->sent = k + 1;
	return 0;
}

/* Sends the definitions of keytab's keys this tracer has not sent for the process yet. */
static __always_inline void v3_send_defs(__u64 keytab)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct v3_keytab_id kid = { .pid = id >> 32, .keytab = keytab };
	struct v3_defs_ctx c = { .defs = keytab + sizeof(struct perfbpf_keytab), .pid = id >> 32,
				 .tid = (__u32)id, .keytab = keytab };
	struct perfbpf_keytab kt;
	__u32 *sent;

	if (!keytab || bpf_probe_read_user(&kt, sizeof(kt), (void *)keytab) ||
	    kt.magic != PERFBPF_KEYTAB_MAGIC)
		return;
	sent = bpf_map_lookup_elem(&v3_keys_sent, &kid);
	c.from = sent ? *sent : 0;
	c.count = kt.count < kt.cap ? kt.count : kt.cap;
	if (c.from >= c.count)
		return;
	c.sent = c.from;
	bpf_loop(c.count - c.from, v3_send_def, &c, 0);
	if (sent)
		*sent = c.sent;
	else if (c.sent)
		bpf_map_update_elem(&v3_keys_sent, &kid, &c.sent, BPF_ANY);
}

/* The notes site (perfbpf:notes) is never run: attaching this program to it raises the engine's
 * perfbpf_notes_semaphore, and the engine then records its span notes in its buffer. */
SEC("usdt")
int perfbpf_notes(struct pt_regs *ctx)
{
	return 0;
}

SEC("usdt")
int PERFBPF_USDT(perfbpf_flush, __u64 buf)
{
	struct v3_thread *th = v3_claim(bpf_get_current_task_btf(), true);
	struct v3_slot *sl = NULL;
	struct perfbpf_tbuf hd;
	int free = -1;

	if (!th)
		return 0;
	for (int i = 0; i < V3_SLOTS; i++) {
		if (th->s[i].buf == buf)
			sl = &th->s[i];
		else if (!th->s[i].buf && free < 0)
			free = i;
	}
	if (!sl && free >= 0) {
		sl = &th->s[free & (V3_SLOTS - 1)];
		sl->buf = buf;
		sl->batch = 0;
		sl->consumed = 0;
	}
	/* the key definitions first: the batch may use a key just added */
	if (!bpf_probe_read_user(&hd, sizeof(hd), (void *)buf) && hd.magic == PERFBPF_TBUF_MAGIC)
		v3_send_defs(hd.keytab);
	if (sl) {
		v3_collect_all(th, PERFBPF_V3_FLUSH, false, buf, true);
	} else {
		/* more buffers than slots: this batch is collected here, and only at flushes (its
		 * records are not ordered with the thread's other buffers') */
		struct v3_slot tmp = { .buf = buf };

		if (v3_collect_sleepable(&tmp, PERFBPF_V3_FLUSH, true))
			v3_mark(PERFBPF_EV_V3_END, PERFBPF_V3_FLUSH);
	}
	v3_release(th);
	return 0;
}

/* A scheduler transition of task t (--attribution). */
static __always_inline void v3_sched(struct task_struct *t, __u32 what)
{
	struct perfbpf_v3_sched *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count(PERFBPF_CNT_RB_DROPPED);
		return;
	}
	r->kind = PERFBPF_EV_V3_SCHED;
	r->what = what;
	r->pid = t->tgid;
	r->tid = t->pid;
	r->ts_ns = bpf_ktime_get_ns();
	r->cpu = bpf_get_smp_processor_id();
	r->pad = 0;
	submit(r, sizeof(*r));
}

SEC("tp_btf/sched_switch")
int BPF_PROG(perfbpf_v3_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	/* prev is the current task here: its memory is the one bpf_probe_read_user reads */
	struct v3_thread *th = v3_claim(prev, false);

	if (th) {
		v3_collect_all(th, PERFBPF_V3_SWITCH, false, 0, false);
		v3_release(th);
		/* after its records: they all happened before this switch */
		if (attribution)
			v3_sched(prev, preempt || prev_state == 0 /* TASK_RUNNING */ ?
					       PERFBPF_V3_SCHED_PREEMPTED : PERFBPF_V3_SCHED_BLOCKED);
	}
	if (attribution && bpf_task_storage_get(&v3_threads, next, NULL, 0))
		v3_sched(next, PERFBPF_V3_SCHED_RUNNING);
	return 0;
}

static __always_inline void v3_woken(struct task_struct *p)
{
	if (bpf_task_storage_get(&v3_threads, p, NULL, 0))
		v3_sched(p, PERFBPF_V3_SCHED_WOKEN);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(perfbpf_v3_wakeup, struct task_struct *p)
{
	v3_woken(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(perfbpf_v3_wakeup_new, struct task_struct *p)
{
	v3_woken(p);
	return 0;
}

SEC("perf_event")
int perfbpf_v3_tick(struct bpf_perf_event_data *ctx)
{
	struct v3_thread *th = v3_claim(bpf_get_current_task_btf(), false);

	if (!th)
		return 0;
	v3_collect_all(th, PERFBPF_V3_TICK, false, 0, false);
	v3_release(th);
	return 0;
}

/* The thread's last collection; then userspace is told that its open spans will not end. */
static __always_inline void v3_thread_gone(__u32 reason)
{
	struct v3_thread *th = v3_claim(bpf_get_current_task_btf(), false);

	if (!th)
		return;
	v3_collect_all(th, reason, true, 0, false);
	for (int i = 0; i < V3_SLOTS; i++)
		th->s[i].buf = 0;
	v3_release(th);
	v3_mark(PERFBPF_EV_V3_EXIT, reason);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(perfbpf_v3_exit, struct task_struct *task)
{
	v3_thread_gone(PERFBPF_V3_EXIT);
	return 0;
}

/* Before exec replaces the memory (the old image's buffers are still readable here). */
SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(perfbpf_v3_exec, struct task_struct *task)
{
	v3_thread_gone(PERFBPF_V3_EXEC);
	return 0;
}

#endif
