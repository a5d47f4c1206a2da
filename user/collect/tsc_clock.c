// SPDX-License-Identifier: BSD-2-Clause
/* The TSC-to-monotonic mapping (see tsc_clock.h). */
#include "user/collect/tsc_clock.h"

#include <time.h>

#define MAX_CORRECTION 1e-4 /* a segment's slope stays within 0.01% of the long-run slope */

static const struct tsc_segment *seg_at(const struct tsc_clock *c, unsigned i)
{
	return &c->seg[(c->first + i) % TSC_CLOCK_SEGMENTS];
}

static double seg_ns(const struct tsc_segment *s, uint64_t tsc)
{
	return tsc_segment__at((double)s->ns, s->tsc, s->ns_per_tick, tsc);
}

void tsc_clock__add(struct tsc_clock *c, uint64_t tsc, uint64_t ns)
{
	struct tsc_segment *s;
	double fit, at, corr;

	if (c->pairs && (tsc <= c->tsc1 || ns <= c->ns1))
		return;
	if (c->pairs == 0) {
		c->tsc0 = tsc;
		c->ns0 = ns;
	}
	c->tsc1 = tsc;
	c->ns1 = ns;
	c->pairs++;
	if (c->pairs < 2)
		return;
	fit = (double)(c->ns1 - c->ns0) / (double)(c->tsc1 - c->tsc0);
	if (c->nseg == 0) {
		at = (double)ns; /* the first segment starts on the pair itself */
		corr = 0;
	} else {
		const struct tsc_segment *last = seg_at(c, c->nseg - 1);
		double span = (double)tsc - (double)last->tsc;

		at = seg_ns(last, tsc);
		/* close the gap to the pair over an interval as long as the last one */
		corr = ((double)ns - at) / span / fit;
		if (corr > MAX_CORRECTION)
			corr = MAX_CORRECTION;
		if (corr < -MAX_CORRECTION)
			corr = -MAX_CORRECTION;
	}
	if (c->nseg == TSC_CLOCK_SEGMENTS) {
		c->first = (c->first + 1) % TSC_CLOCK_SEGMENTS;
		c->nseg--;
	}
	s = &c->seg[(c->first + c->nseg) % TSC_CLOCK_SEGMENTS];
	s->tsc = tsc;
	s->ns = at < 0 ? 0 : (uint64_t)(at + 0.5);
	s->ns_per_tick = fit * (1 + corr);
	c->nseg++;
	c->gen++;
}

uint64_t tsc_clock__ns_find(const struct tsc_clock *c, uint64_t tsc, struct tsc_cursor *k)
{
	const struct tsc_segment *s;
	unsigned lo = 0, hi;

	if (c->nseg == 0)
		return 0;
	/* records arrive within a tick or two of being written, so mostly the newest */
	if (seg_at(c, c->nseg - 1)->tsc <= tsc)
		lo = c->nseg - 1;
	hi = c->nseg;
	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;

		if (seg_at(c, mid)->tsc <= tsc)
			lo = mid;
		else
			hi = mid;
	}
	s = seg_at(c, lo);
	if (k) { /* the stamps this segment converts: up to the next; the oldest takes all before */
		k->gen = c->gen;
		k->lo = lo == 0 ? 0 : s->tsc;
		k->hi = lo + 1 == c->nseg ? UINT64_MAX : seg_at(c, lo + 1)->tsc;
		k->ns = (double)s->ns;
		k->tsc = s->tsc;
		k->ns_per_tick = s->ns_per_tick;
	}
	return tsc_clock__count(seg_ns(s, tsc));
}

uint64_t tsc_clock__ns(const struct tsc_clock *c, uint64_t tsc)
{
	return tsc_clock__ns_find(c, tsc, NULL);
}

#if defined(__x86_64__)
static uint64_t rdtsc(void)
{
	return __builtin_ia32_rdtsc();
}
#else
static uint64_t rdtsc(void)
{
	return 0;
}
#endif

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void tsc_clock__sample(struct tsc_clock *c, uint64_t min_gap_ns)
{
	uint64_t best_tsc = 0, best_ns = 0, best_w = UINT64_MAX;

	if (c->pairs >= 2 && now_ns() - c->ns1 < min_gap_ns)
		return;
	/* the pair whose two TSC reads bracket the clock read most tightly */
	for (int i = 0; i < 5; i++) {
		uint64_t a = rdtsc(), ns = now_ns(), b = rdtsc();

		if (b - a < best_w) {
			best_w = b - a;
			best_tsc = a + (b - a) / 2;
			best_ns = ns;
		}
	}
	tsc_clock__add(c, best_tsc, best_ns);
}
