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

/* --- monitor: in-kernel aggregation -------------------------------------------------------------
 * Two lookups per event: the hash of the key's names to its names, id and wait-time stamp (shared
 * by all CPUs), then the id to this CPU's histograms. Keys beyond the table's size are counted,
 * never merged.
 * Both maps are preallocated: an insert then fails only when the table is full. (Measured: with
 * BPF_F_NO_PREALLOC, a burst of new keys found the allocator's per-CPU cache of 16 KiB
 * histograms empty and 65 of 87,512 demo events were lost.) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256); /* --max-keys; resized by the loader */
	__type(key, struct perfbpf_mon_key);
	__type(value, struct perfbpf_mon_keyval);
} mon_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256); /* as mon_keys */
	__type(key, __u32);
	__type(value, struct perfbpf_mon_hist);
} mon_hists SEC(".maps");

static const struct perfbpf_mon_hist empty_hist;
__u32 mon_next_id;

/* Kernel 6.12+: copies a user string and, unlike bpf_probe_read_user_str, may fault the page in.
 * Engine string literals sit in .rodata pages the engine itself never touches (it only passes
 * their addresses), so without faulting most first reads fail. Needs a sleepable program: the
 * loader marks the USDT programs BPF_F_SLEEPABLE. */
extern int bpf_copy_from_user_str(void *dst, __u32 dst__sz, const void *unsafe_ptr__ign,
				  __u64 flags) __ksym;
#define COPY_PAD_ZEROS 1 /* BPF_F_PAD_ZEROS */

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

/* Copy a user string into a fixed field, NUL-terminated; the bytes after the NUL are left as
 * they were (callers that compare or hash whole fields zero them first). A fault leaves "" and a
 * flag, or, when the readable part before the fault fits the field, that part flagged truncated;
 * a string that filled the field is checked for one more byte so that exact fits are not
 * called truncated. Returns the bytes of dst used, the NUL included (1 to size).
 * bpf_probe_read_user_str is tried first: it cannot fault pages in, but it costs ~30 ns where
 * bpf_copy_from_user_str costs ~150 ns (measured: op 915 -> 550 ns per event). Only a string in
 * a page the engine has never touched (a literal in .rodata, on its first use) takes the
 * faulting copy; after that the page is present. */
static __always_inline __u32 read_str(char *dst, __u32 size, const char *src, __u32 *flags)
{
	long n;
	char next;

	if (!src) {
		dst[0] = '\0';
		return 1;
	}
	n = bpf_probe_read_user_str(dst, size, src);
	if (n < 0)
		n = bpf_copy_from_user_str(dst, size, src, COPY_PAD_ZEROS);
	if (n < 0) {
		/* A string without a NUL that runs into unmapped memory: keep the bytes up to the
		 * 4 KiB boundary (a page boundary on every page size) and call it truncated. */
		__u32 avail = 4096 - ((__u64)src & 4095);

		*flags |= PERFBPF_F_FAULT;
		count(PERFBPF_CNT_STR_FAULT);
		if (avail < size && avail < 256 &&
		    !bpf_copy_from_user(dst, avail & 255, src)) {
			dst[avail & 255] = '\0';
			*flags |= PERFBPF_F_TRUNCATED;
			return (avail & 255) + 1;
		}
		dst[0] = '\0';
		return 1;
	}
	if (n == size) {
		if (bpf_copy_from_user(&next, 1, src + size - 1) || next != '\0') {
			*flags |= PERFBPF_F_TRUNCATED;
			count(PERFBPF_CNT_STR_TRUNCATED);
		}
	}
	return n > 0 ? (__u32)n : 1;
}

/* Lowers *slot to v (values stored inverted: see perfbpf_mon_hist.min_inv) or raises it. Sleepable
 * programs can be preempted on their CPU, so per-CPU updates are atomic too. */
static __always_inline void raise_to(__u64 *slot, __u64 v)
{
	__u64 cur = *slot;

	for (int i = 0; i < 4 && v > cur; i++) {
		__u64 seen = __sync_val_compare_and_swap(slot, cur, v);

		if (seen == cur)
			break;
		cur = seen;
	}
}

static __always_inline void hist_add(__u32 *buckets, __u64 v)
{
	__u32 b = khist_bucket(v);

	if (b >= KHIST_BUCKETS)
		b = KHIST_OVERFLOW;
	__sync_fetch_and_add(&buckets[b], 1);
}

/* Whether the first `words` 8-byte words of a and b are equal (zero-padded names): every word
 * compared, no branch. */
static __always_inline bool words_eq(const void *a, const void *b, unsigned words)
{
	const __u64 *x = a, *y = b;
	__u64 diff = 0;

#pragma unroll
	for (unsigned i = 0; i < words; i++)
		diff |= x[i] ^ y[i];
	return !diff;
}

/* Records an event of the names in nv (zero-padded; nv's other fields are scratch) for kind and
 * pid: the key's entry is found by the names' hash and its names compared, or created. */
static __always_inline void mon_record(struct perfbpf_mon_keyval *nv, __u32 kind, __u32 pid,
				       __u64 dur, __u64 self, __u64 now)
{
	struct perfbpf_mon_key k = { .hash = names_hash(&nv->names), .kind = kind,
				     .pid = pid };
	struct perfbpf_mon_keyval *kv = bpf_map_lookup_elem(&mon_keys, &k);
	struct perfbpf_mon_hist *h;
	__u64 prev;

	if (!kv) {
		nv->id = __sync_fetch_and_add(&mon_next_id, 1);
		nv->pad = 0;
		nv->last_end_ns = 0;
		/* a concurrent insert of the same key wins and this id goes unused */
		bpf_map_update_elem(&mon_keys, &k, nv, BPF_NOEXIST);
		kv = bpf_map_lookup_elem(&mon_keys, &k);
	}
	/* the table is full, or other names have this hash (test_monitor builds such names) */
	if (!kv || !words_eq(&kv->names, &nv->names, NAMES_WORDS)) {
		count(PERFBPF_CNT_KEYS_OVER_LIMIT);
		return;
	}
	h = bpf_map_lookup_elem(&mon_hists, &kv->id);
	if (!h) {
		bpf_map_update_elem(&mon_hists, &kv->id, &empty_hist, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&mon_hists, &kv->id);
		if (!h) {
			count(PERFBPF_CNT_KEYS_OVER_LIMIT);
			return;
		}
	}
	hist_add(h->dur, dur);
	__sync_fetch_and_add(&h->sum_ns, dur);
	__sync_fetch_and_add(&h->self_sum_ns, self);
	raise_to(&h->min_inv, ~dur);
	raise_to(&h->max_ns, dur);
	/* wait = gap since the key's previous event on any CPU; reordering across CPUs counts 0 */
	prev = __sync_lock_test_and_set(&kv->last_end_ns, now);
	if (prev) {
		__u64 w = now > prev ? now - prev : 0;

		hist_add(h->wait, w);
		__sync_fetch_and_add(&h->wait_sum_ns, w);
		raise_to(&h->wait_min_inv, ~w);
		raise_to(&h->wait_max_ns, w);
	}
}

/* --- strings left where they are (PERFBPF_F_REF_*) -----------------------------------------------
 * A string argument inside one of the target's read-only file-backed ranges is not copied: the
 * event carries its address and userspace reads the bytes from the file (user/attach/ro_strings.c).
 * The ranges are published by userspace (a double buffer: it writes the inactive set, then flips
 * ro_active). Anything that may change a mapping of ro_pid (its threads taking the mmap lock,
 * exec: the programs below) counts in ro_changes; the ranges are used only while ro_changes
 * equals the count userspace read before the maps it published, so from the moment a change may
 * begin until userspace has read the maps after it, every string is copied. */
__u32 ro_pid;          /* the process the ranges belong to; 0: none (copy every string) */
__u32 ro_active;       /* which of ro_sets is current */
__u64 ro_changes;      /* mmap-lock acquires and write releases of ro_pid's threads, and execs */
__u64 ro_changes_seen; /* ro_changes when userspace read the maps of the current set */
struct perfbpf_ro_set ro_sets[2];

static __always_inline const struct perfbpf_ro_set *ro_current(__u32 pid)
{
	if (!pid || pid != ro_pid || ro_changes != ro_changes_seen)
		return 0;
	return &ro_sets[ro_active & 1];
}

/* 1 + the index of the range of rs that holds p, or 0. A global function, like pack_op_field:
 * the verifier checks it once, not at every call site with every state its loop can reach.
 * Inlined, the op program took 40 ms to verify (3 ms before ranges) and `attach` took 122 ms to
 * its first event, over the 100 ms target; with both global, 3.6 ms and 66 ms (each call costs
 * a few ns per event). */
__noinline int ro_has(const struct perfbpf_ro_set *rs, __u64 p)
{
	__u32 lo = 0, hi;

	if (!rs)
		return 0;
	hi = rs->n;
	if (hi > PERFBPF_RO_RANGES)
		hi = PERFBPF_RO_RANGES;
	for (int i = 0; i < 8 && lo < hi; i++) { /* log2(PERFBPF_RO_RANGES) + 1 steps */
		__u32 mid = (lo + hi) / 2;
		const struct perfbpf_ro_range *r = &rs->r[mid & (PERFBPF_RO_RANGES - 1)];

		if (p < r->lo)
			hi = mid;
		else if (p >= r->hi)
			lo = mid + 1;
		else
			return mid + 1;
	}
	return 0;
}

/* ref if the string lies in a read-only range of rs (not NULL), else 0. */
static __always_inline __u32 ro_ref(const struct perfbpf_ro_set *rs, const char *src, __u32 ref)
{
	return rs && src && ro_has(rs, (__u64)src) ? ref : 0;
}

/* ro_ref, trying range r of rs first. */
static __always_inline __u32 ro_ref_near(const struct perfbpf_ro_set *rs,
					 const struct perfbpf_ro_range *r, const char *src, __u32 ref)
{
	if (src && (__u64)src >= r->lo && (__u64)src < r->hi)
		return ref;
	return ro_ref(rs, src, ref);
}

/* The PERFBPF_F_REF_* bits of an op's three strings. The range that holds the metric is tried
 * first for the other two, inline: an engine's literals mostly share one .rodata (~7 ns less
 * per op than three searches). */
static __always_inline __u32 ro_refs3(const struct perfbpf_ro_set *rs, const char *metric,
				      const char *symbol, const char *strategy)
{
	const struct perfbpf_ro_range *r;
	int i;

	if (!rs)
		return 0;
	i = metric ? ro_has(rs, (__u64)metric) : 0;
	if (!i)
		return ro_ref(rs, symbol, PERFBPF_F_REF_SYMBOL) |
		       ro_ref(rs, strategy, PERFBPF_F_REF_STRATEGY);
	r = &rs->r[(i - 1) & (PERFBPF_RO_RANGES - 1)];
	return PERFBPF_F_REF_METRIC | ro_ref_near(rs, r, symbol, PERFBPF_F_REF_SYMBOL) |
	       ro_ref_near(rs, r, strategy, PERFBPF_F_REF_STRATEGY);
}

/* Mapping changes of ro_pid: every change of a mapping holds the process's mmap lock for
 * writing, so its threads taking it (or downgrading it to a read lock) and releasing it count.
 * The mmap_lock tracepoints fire only on the lock's slow paths' users, not on a probe hit (the
 * syscall tracepoints would: an optimized probe hit enters the kernel through the uprobe
 * syscall, measured +60 ns per hit), and fentry is not permitted on every kernel (not here). */
SEC("tp_btf/mmap_lock_acquire_returned")
int BPF_PROG(perfbpf_ro_lock, struct mm_struct *mm, bool write, bool success)
{
	/* a read acquire counts too: mmap_write_downgrade reports itself as one */
	if (success && ro_pid && (__u32)(bpf_get_current_pid_tgid() >> 32) == ro_pid)
		__sync_fetch_and_add(&ro_changes, 1);
	return 0;
}

SEC("tp_btf/mmap_lock_released")
int BPF_PROG(perfbpf_ro_unlock, struct mm_struct *mm, bool write)
{
	if (write && ro_pid && (__u32)(bpf_get_current_pid_tgid() >> 32) == ro_pid)
		__sync_fetch_and_add(&ro_changes, 1);
	return 0;
}

/* exec replaces every mapping; it runs no code of the new image before this tracepoint */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(perfbpf_ro_exec)
{
	if (ro_pid && (__u32)(bpf_get_current_pid_tgid() >> 32) == ro_pid)
		__sync_fetch_and_add(&ro_changes, 1);
	return 0;
}

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

SEC("usdt")
int PERFBPF_USDT(perfbpf_span_begin, const char *name, const char *symbol, const char *strategy)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, refs;
	const struct perfbpf_ro_set *rs;
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
	f->child_ns = 0;
	f->name_ptr = (__u64)name;
	/* the symbol and strategy may stay in the engine (see pack_field); the name is copied:
	 * span_end compares it with the name it is given */
	rs = ro_current(id >> 32);
	refs = ro_ref(rs, symbol, PERFBPF_F_REF_SYMBOL) | ro_ref(rs, strategy, PERFBPF_F_REF_STRATEGY);
	f->flags = refs;
	f->ro_gen = rs ? rs->gen : 0;
	/* zero-padded: span_end and monitor mode compare whole names, and monitor hashes them */
	__builtin_memset(&f->names, 0, sizeof(f->names));
	f->len[0] = pack_field(f->names.metric, 0, name, sizeof(f->names.metric), false, &f->flags);
	f->len[1] = pack_field(f->names.symbol, 0, symbol, sizeof(f->names.symbol),
			       refs & PERFBPF_F_REF_SYMBOL, &f->flags);
	f->len[2] = pack_field(f->names.strategy, 0, strategy, sizeof(f->names.strategy),
			       refs & PERFBPF_F_REF_STRATEGY, &f->flags);
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

/* The ended span d of st as a packed record (struct perfbpf_span_packed). */
static __always_inline int span_send(struct span_stack *st, struct span_frame *f, int d, __u64 id,
				     __u64 now, __u64 dur)
{
	char buf[PERFBPF_SPAN_PACKED_MAX] __attribute__((aligned(8)));
	struct perfbpf_span_packed *p = (struct perfbpf_span_packed *)buf;
	struct acct *a = attribution ? bpf_task_storage_get(&accts, bpf_get_current_task_btf(), NULL, 0)
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
	p->parent_id = d > 0 ? st->frames[(d - 1) & (PERFBPF_SPAN_DEPTH - 1)].span_id : 0;
	p->trace_id = st->trace_id;
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
	return span_send(st, f, d, id, now, dur);
}

/* --- span notes (probe ABI v2): attributes, events and errors of the innermost open span ------ */

/* Reserves a note about the calling thread's innermost open span, or NULL (counted). A span past
 * the depth limit is not recorded, so neither are its notes. */
static __always_inline struct perfbpf_note *note_begin(__u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct span_stack *st = bpf_map_lookup_elem(&stacks, &tid);
	struct perfbpf_note *n;
	__u32 d;

	if (!st || st->depth == 0 || st->overflow) {
		count(PERFBPF_CNT_NOTE_NO_SPAN);
		return NULL;
	}
	d = st->depth - 1;
	n = bpf_ringbuf_reserve(&events, sizeof(*n), 0);
	if (!n) {
		count(PERFBPF_CNT_RB_DROPPED);
		return NULL;
	}
	n->kind = kind;
	n->flags = 0;
	n->pid = id >> 32;
	n->tid = tid;
	n->ts_ns = bpf_ktime_get_ns();
	n->span_id = st->frames[d & (PERFBPF_SPAN_DEPTH - 1)].span_id;
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
