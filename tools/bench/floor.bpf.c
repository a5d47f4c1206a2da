// SPDX-License-Identifier: BSD-2-Clause
/* Benchmark floor: programs on perfbpf's probes that each do one more part of what perfbpf's op
 * program does, to price the probe hit itself and then each part (tools/bench/floor.c --stage):
 *   floor_empty    nothing
 *   floor_args     reads the four USDT arguments (perfbpf_usdt_args, as perfbpf does)
 *   floor_clock    floor_args + the clock and pid: the least any program that records when an
 *                  event happened does
 *   floor_ring     floor_args + clock, pid, a ring-buffer record of the size perfbpf sends for
 *                  an op whose strings are literals (struct perfbpf_op_ref, 64 bytes), submitted
 *                  without wakeup (floor.c drains it every 10 ms)
 *   floor_strings  floor_args + the three string copies (bpf_probe_read_user_str) into a
 *                  per-CPU buffer
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#include "perfbpf.h"
#include "usdt_args.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} floor_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct perfbpf_names);
} floor_scratch SEC(".maps");

__u64 sink;

SEC("usdt")
int floor_empty(struct pt_regs *ctx)
{
	return 0;
}

static __always_inline void args(struct pt_regs *ctx, long a[4])
{
	perfbpf_usdt_args(ctx, a, 4);
}

SEC("usdt")
int floor_args(struct pt_regs *ctx)
{
	long a[4] = { 0 };

	args(ctx, a);
	sink += a[0] ^ a[1] ^ a[2] ^ a[3];
	return 0;
}

SEC("usdt")
int floor_clock(struct pt_regs *ctx)
{
	long a[4] = { 0 };

	args(ctx, a);
	sink += a[0] ^ a[1] ^ a[2] ^ a[3] ^ bpf_ktime_get_ns() ^ bpf_get_current_pid_tgid();
	return 0;
}

SEC("usdt")
int floor_ring(struct pt_regs *ctx)
{
	long a[4] = { 0 };
	struct perfbpf_op_ref *e;

	args(ctx, a);
	e = bpf_ringbuf_reserve(&floor_events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->h.end_ns = bpf_ktime_get_ns();
	e->h.pid = bpf_get_current_pid_tgid() >> 32;
	e->h.duration_ns = a[3];
	e->addr[0] = a[0];
	e->addr[1] = a[1];
	e->addr[2] = a[2];
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("usdt")
int floor_strings(struct pt_regs *ctx)
{
	long a[4] = { 0 };
	__u32 zero = 0;
	struct perfbpf_names *n = bpf_map_lookup_elem(&floor_scratch, &zero);

	args(ctx, a);
	if (!n)
		return 0;
	bpf_probe_read_user_str(n->metric, sizeof(n->metric), (void *)a[0]);
	bpf_probe_read_user_str(n->symbol, sizeof(n->symbol), (void *)a[1]);
	bpf_probe_read_user_str(n->strategy, sizeof(n->strategy), (void *)a[2]);
	return 0;
}
