/* SPDX-License-Identifier: BSD-2-Clause */
/* TSC ticks to CLOCK_MONOTONIC nanoseconds, for ABI v3 records an engine stamped with rdtsc
 * (include/perfbpf/record_abi.h, PERFBPF_TBUF_TSC). The engine uses the TSC only when the CPU
 * says it is invariant (constant rate, running in every C-state), and then the kernel keeps it
 * in step across CPUs, so one slowly corrected line maps it to the monotonic clock.
 *
 * perfbpf draws that line itself from pairs of (rdtsc, clock_gettime) read back to back. The
 * mapping is a chain of segments: each new pair starts a segment where the previous one reached
 * (the mapping never jumps, so it never runs backwards and never maps a stamp twice two ways),
 * with the long-run slope (first pair to latest) corrected to close the gap to the new pair over
 * the next interval. A stamp is converted with the segment it falls in, whenever it is decoded,
 * so the order and differences of stamps (span nesting, durations) do not depend on when their
 * records arrived; the absolute error against CLOCK_MONOTONIC stays within about a pair's jitter
 * plus the drift of one interval (docs/RELIABILITY.md). */
#ifndef PERFBPF_TSC_CLOCK_H
#define PERFBPF_TSC_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define TSC_CLOCK_SEGMENTS 4096 /* kept; older stamps use the oldest */

struct tsc_segment {
	uint64_t tsc, ns; /* where it starts */
	double ns_per_tick;
};

struct tsc_clock {
	uint64_t tsc0, ns0;   /* the first pair */
	uint64_t tsc1, ns1;   /* the latest pair */
	unsigned pairs;
	struct tsc_segment seg[TSC_CLOCK_SEGMENTS]; /* a ring: seg[(first + i) % N], i < nseg */
	unsigned first, nseg;
	unsigned gen; /* counts the segments added: 0 before the first (struct tsc_cursor) */
};

/* A segment starting at (tsc0, ns) with its rate, at `tsc` (before tsc0: counted back from it),
 * in ns. One expression for every conversion, so that a stamp maps to one value however found. */
static inline double tsc_segment__at(double ns, uint64_t tsc0, double ns_per_tick, uint64_t tsc)
{
	return ns + (double)(int64_t)(tsc - tsc0) * ns_per_tick;
}

/* ns as a count: 0 for a time before 0. */
static inline uint64_t tsc_clock__count(double v)
{
	if (v <= 0)
		return 0;
	return v < 0x1p63 ? (uint64_t)(int64_t)v : (uint64_t)v;
}

/* Adds a pair: `tsc` read at monotonic time `ns`. Pairs come in time order; one not after the
 * latest is ignored. */
void tsc_clock__add(struct tsc_clock *c, uint64_t tsc, uint64_t ns);
/* `tsc` in monotonic nanoseconds (0 before two pairs). */
uint64_t tsc_clock__ns(const struct tsc_clock *c, uint64_t tsc);
/* Where the latest stamp converted with it fell: the segment, valid while the clock's gen is
 * unchanged, converts every stamp in [lo, hi). A zeroed cursor is valid (it matches nothing). */
struct tsc_cursor {
	unsigned gen;
	uint64_t lo, hi;
	uint64_t tsc; /* where the segment starts */
	double ns, ns_per_tick;
};

/* tsc_clock__ns, setting the cursor k (NULL: none) to the segment used. */
uint64_t tsc_clock__ns_find(const struct tsc_clock *c, uint64_t tsc, struct tsc_cursor *k);

/* Whether the segment of cursor k converts `tsc` (the clock has not changed since it was set). */
static inline bool tsc_cursor__covers(const struct tsc_clock *c, const struct tsc_cursor *k,
				      uint64_t tsc)
{
	return k->gen == c->gen && tsc - k->lo < k->hi - k->lo;
}

/* Whether the segment of cursor k converts every stamp from a to b (a <= b). */
static inline bool tsc_cursor__covers_span(const struct tsc_clock *c, const struct tsc_cursor *k,
					   uint64_t a, uint64_t b)
{
	return k->gen == c->gen && a >= k->lo && b < k->hi;
}

/* tsc_clock__ns, in O(1) for a stamp in the segment of the latest stamp converted with k (stamps
 * are converted in about the order they were taken). */
static inline uint64_t tsc_clock__ns_near(const struct tsc_clock *c, uint64_t tsc,
					  struct tsc_cursor *k)
{
	if (tsc_cursor__covers(c, k, tsc)) {
		return tsc_clock__count(tsc_segment__at(k->ns, k->tsc, k->ns_per_tick, tsc));
	}
	return tsc_clock__ns_find(c, tsc, k);
}

/* Reads a pair from this CPU now (the tightest of a few tries) and adds it, if at least min_gap_ns
 * passed since the latest or the mapping has fewer than two pairs yet. */
void tsc_clock__sample(struct tsc_clock *c, uint64_t min_gap_ns);

#endif
