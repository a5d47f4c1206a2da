/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* perfbpf monitor: the in-kernel key table and histograms, and recording an event in them. Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_MONITOR_BPF_H
#define PERFBPF_MONITOR_BPF_H

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

#endif
