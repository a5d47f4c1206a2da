// SPDX-License-Identifier: BSD-2-Clause
/* The loss counters: the BPF side's per-CPU ones and the consumer's, as the summary reports them
 * (see tracer.h). */
#include "user/collect/tracer_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "user/lib/util.h"
#include "user/model/summary.h"

void tracer__mon_fds(struct tracer *t, int *keys_fd, int *hists_fd)
{
	*keys_fd = bpf_map__fd(t->skel->maps.mon_keys);
	*hists_fd = bpf_map__fd(t->skel->maps.mon_hists);
}

uint64_t *tracer__dropped_per_cpu(struct tracer *t, int *ncpus)
{
	int fd = bpf_map__fd(t->skel->maps.counters);
	uint64_t *vals = calloc((size_t)t->ncpus, sizeof(*vals));
	uint64_t *out = calloc((size_t)t->ncpus, sizeof(*out));

	if (!vals || !out) {
		free(vals);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < SUMMARY_DROP_COUNTERS; i++) {
		__u32 k = summary_drop_counters[i];

		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < t->ncpus; c++)
			out[c] += vals[c];
	}
	free(vals);
	*ncpus = t->ncpus;
	return out;
}

/* Walk the table at most this often (it holds up to 65,536 open spans, a syscall each), except
 * for the final summary. */
#define REAP_EVERY_NS 1000000000ull

/* Spans with ids (bpf/span_ids.bpf.h) still open in processes that have ended: they never will
 * end. Counted once and removed from the kernel's table. */
static void reap_xspans(struct tracer *t, bool now)
{
	int fd = bpf_map__fd(t->skel->maps.xspans);
	/* id 0 is never a span's: from it the kernel gives the table's first key (a NULL key
	 * would do the same, but valgrind reads the pointer) */
	struct perfbpf_xspan_key k = { 0 }, next, dead[64];
	size_t n = 0;

	if (!now && mono_ns() - t->xspans_reaped_at < REAP_EVERY_NS)
		return;
	t->xspans_reaped_at = mono_ns();
	while (n < sizeof(dead) / sizeof(dead[0]) && !bpf_map_get_next_key(fd, &k, &next)) {
		k = next;
		if (kill((pid_t)k.pid, 0) && errno == ESRCH)
			dead[n++] = k;
	}
	for (size_t i = 0; i < n; i++)
		if (!bpf_map_delete_elem(fd, &dead[i]))
			t->xspans_unfinished++;
}

static int counters(struct tracer *t, uint64_t out[PERFBPF_CNT__MAX], bool final)
{
	const struct ring_consumer_counts *c;
	int fd = bpf_map__fd(t->skel->maps.counters);
	uint64_t *vals = calloc((size_t)t->ncpus, sizeof(*vals));

	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < PERFBPF_CNT__MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < t->ncpus; c++)
			out[k] += vals[c];
	}
	/* strings read from the files instead of copied count as the kernel's copies would */
	c = ring_consumer__counts(t->rc);
	out[PERFBPF_CNT_STR_FAULT] += c->ro_faults;
	out[PERFBPF_CNT_STR_TRUNCATED] += c->ro_truncated;
	out[PERFBPF_CNT_MALFORMED_RECORD] = c->records.malformed;
	/* ABI v3: the consumer rebuilds spans, so it counts what the kernel's span stack would */
	{
		const struct batch_counts *b = ring_consumer__batch_counts(t->rc);

		out[PERFBPF_CNT_MALFORMED_RECORD] += b->malformed;
		out[PERFBPF_CNT_V3_UNDEFINED_KEY] += b->undefined_key;
		out[PERFBPF_CNT_STR_FAULT] += b->str_fault;
		out[PERFBPF_CNT_STR_TRUNCATED] += b->str_truncated;
		out[PERFBPF_CNT_SPAN_UNMATCHED_END] += b->span_unmatched_end;
		out[PERFBPF_CNT_SPAN_MISMATCH] += b->span_mismatch;
		out[PERFBPF_CNT_SPAN_ABANDONED] += b->span_abandoned;
		out[PERFBPF_CNT_SPAN_DEPTH_OVERFLOW] += b->span_depth_overflow;
		out[PERFBPF_CNT_SPAN_UNFINISHED] += b->span_unfinished;
		out[PERFBPF_CNT_SPAN_NO_STACK] += b->span_no_room;
		out[PERFBPF_CNT_NOTE_NO_SPAN] += b->note_no_span;
	}
	reap_xspans(t, final);
	out[PERFBPF_CNT_SPAN_UNFINISHED] += t->xspans_unfinished;
	free(vals);
	return 0;
}

int tracer__counters(struct tracer *t, uint64_t out[PERFBPF_CNT__MAX])
{
	return counters(t, out, false);
}

int tracer__summary_losses(struct tracer *t, struct summary *sum, uint64_t **per_cpu)
{
	struct self_usage self;
	int err = counters(t, sum->counters, true);

	*per_cpu = NULL;
	if (err)
		return err;
	sum->dropped = summary__dropped(sum->counters);
	self_usage(&self);
	sum->self_cpu_s = self.cpu_s;
	sum->self_peak_rss_bytes = self.peak_rss_bytes;
	sum->dropped_per_cpu = *per_cpu = tracer__dropped_per_cpu(t, &sum->ncpus);
	return 0;
}
