/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Strings left in the engine's read-only memory: the published ranges, the checks against
 * them and the mmap-lock hooks that keep them exact. Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_RO_REFS_BPF_H
#define PERFBPF_RO_REFS_BPF_H

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

#endif
