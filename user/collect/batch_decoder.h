/* SPDX-License-Identifier: BSD-2-Clause */
/* Probe ABI v3 records to events: key definitions, batches of an engine thread's records and
 * thread exits (bpf/perfbpf.h, include/perfbpf/record_abi.h) become the perfbpf_events the
 * per-event probes would have produced: ops, and spans rebuilt from each thread's begin/end
 * order (nesting, parent, trace, self time, the same loss counters as the kernel's span stack),
 * and spans with ids from their open and close records (per process, any thread, any order).
 * Pure: no libbpf, no I/O. Everything in a batch was written by the engine: every record is
 * checked, and what does not hold together is counted, never used. */
#ifndef PERFBPF_BATCH_DECODER_H
#define PERFBPF_BATCH_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/perfbpf.h"
#include "user/collect/tsc_clock.h"

typedef int (*batch_event_fn)(void *ctx, const struct perfbpf_event *e);
typedef int (*batch_note_fn)(void *ctx, const struct perfbpf_note *n);
/* An op for a reader that keeps only statistics: its names' number in the session
 * (perfbpf_event.names_id), its end and its duration. -ENOENT: not taken (the reader does not
 * know that number yet), and the op is handed on as a whole event instead. */
typedef int (*batch_op_fn)(void *ctx, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns);

struct batch_counts {
	uint64_t malformed;       /* ring records too short, of lengths that do not add up, or a
				   * record of an unknown kind */
	uint64_t undefined_key;   /* records whose key was never defined (or 0: table full) */
	uint64_t before_start;    /* records stamped before the session began (not its events) */
	uint64_t str_fault, str_truncated; /* events of keys with unreadable or cut names */
	uint64_t span_unmatched_end, span_mismatch, span_abandoned, span_depth_overflow,
		span_unfinished;
	uint64_t span_no_room;    /* spans with ids past PERFBPF_XSPANS_MAX open in one process */
	uint64_t note_no_span;    /* span notes (PERFBPF_F_NOTE_V3, or recorded in the buffer) of a
				   * thread with no open span */
	uint64_t events;          /* events handed on */
};

#define PERFBPF_XSPANS_MAX 65536 /* open spans with ids kept per process */

struct batch_decoder;

/* A decoder handing each event to on_event(ctx, e). Records stamped before start_ns are not
 * this session's. clock converts TSC stamps (it may be refined while the decoder runs). With
 * attribution, spans carry their on-CPU, run-queue and blocked time from the threads' scheduler
 * transitions. NULL without memory. */
struct batch_decoder *batch_decoder__new(batch_event_fn on_event, void *ctx, uint64_t start_ns,
					 const struct tsc_clock *clock, bool attribution);
void batch_decoder__free(struct batch_decoder *d);
/* Span notes recorded in the engine's buffer (PERFBPF_REC_ATTR_STR ...) go to on_note(ctx, n),
 * each about the span it annotates where it stands in its thread's records; without it they
 * are dropped (nobody asked for them). */
void batch_decoder__set_note_fn(struct batch_decoder *d, batch_note_fn on_note, void *ctx);
/* One ring record of kind PERFBPF_EV_V3_*: 0, the callback's error, or -ENOMEM. A malformed
 * record is counted and skipped (0). */
int batch_decoder__record(struct batch_decoder *d, const void *data, size_t size);
/* Ops of keys with whole, readable names go to on_op(ctx of on_event) instead of on_event when
 * it takes them (NULL: all to on_event): no event is built for them. */
void batch_decoder__set_op_fn(struct batch_decoder *d, batch_op_fn on_op);
/* Decodes what is still waiting for the end of its collection (after the final drain). 0 or the
 * callback's error. */
int batch_decoder__finish(struct batch_decoder *d);
/* A span note of a thread that records its own spans (PERFBPF_F_NOTE_V3): its span_id set to
 * the thread's innermost open span as decoded so far (the kernel collected the thread's earlier
 * records just before the note). 0, or -ENOENT (counted) when the thread has no open span. */
int batch_decoder__note(struct batch_decoder *d, struct perfbpf_note *n);
const struct batch_counts *batch_decoder__counts(const struct batch_decoder *d);

#endif
