/* SPDX-License-Identifier: BSD-2-Clause */
/* The bucket layout of the in-kernel histograms (perfbpf monitor), shared by the BPF programs
 * that fill them and the userspace code that reads and exports them.
 *
 * Log-linear: values below 64 ns have a bucket each; above, every power of two [2^e, 2^(e+1))
 * is split into 64 equal buckets, up to 2^37 ns (137 s); larger values share one overflow
 * bucket. A bucket [lo, hi] has hi - lo + 1 = 2^(e-6) <= lo/64, so any estimate inside the
 * bucket (its midpoint, or Prometheus's linear interpolation) is within 1/64 = 1.6% of every
 * value in it; the midpoint is within 1/128 = 0.8%. */
#ifndef PERFBPF_KERNEL_HIST_H
#define PERFBPF_KERNEL_HIST_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define KHIST_SUB_BITS 6
#define KHIST_SUB (1u << KHIST_SUB_BITS)
#define KHIST_MAX_EXP 37 /* values >= 2^37 ns go to the overflow bucket */
#define KHIST_OVERFLOW ((KHIST_MAX_EXP - KHIST_SUB_BITS + 1) * KHIST_SUB) /* 2048 */
#define KHIST_BUCKETS (KHIST_OVERFLOW + 1)

/* floor(log2(v)) for v > 0, without a count-leading-zeros instruction (BPF has none). */
static inline __u32 khist_log2(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xffffffffull) << 5; v >>= s; r |= s;
	s = (v > 0xffff) << 4; v >>= s; r |= s;
	s = (v > 0xff) << 3; v >>= s; r |= s;
	s = (v > 0xf) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (__u32)(v >> 1);
	return r;
}

static inline __u32 khist_bucket(__u64 v)
{
	__u32 e;

	if (v < KHIST_SUB)
		return (__u32)v;
	if (v >> KHIST_MAX_EXP)
		return KHIST_OVERFLOW;
	e = khist_log2(v); /* KHIST_SUB_BITS .. KHIST_MAX_EXP - 1 */
	return (e - KHIST_SUB_BITS + 1) * KHIST_SUB +
	       (__u32)((v >> (e - KHIST_SUB_BITS)) & (KHIST_SUB - 1));
}

#ifndef __bpf__
/* Smallest value in bucket idx. */
static inline __u64 khist_lower(__u32 idx)
{
	__u32 g = idx / KHIST_SUB, sub = idx % KHIST_SUB;

	if (idx >= KHIST_OVERFLOW)
		return 1ull << KHIST_MAX_EXP;
	if (g == 0)
		return idx;
	return (__u64)(KHIST_SUB + sub) << (g - 1);
}

/* Largest value in bucket idx (UINT64_MAX for the overflow bucket). */
static inline __u64 khist_upper(__u32 idx)
{
	if (idx >= KHIST_OVERFLOW)
		return ~0ull;
	return khist_lower(idx + 1) - 1;
}
#endif

#endif /* PERFBPF_KERNEL_HIST_H */
