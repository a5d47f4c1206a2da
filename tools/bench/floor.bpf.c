// SPDX-License-Identifier: BSD-2-Clause
/* Benchmark floor: one empty program on perfbpf's probes, to price the probe hit itself. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("usdt")
int floor_empty(struct pt_regs *ctx)
{
	return 0;
}
