/* SPDX-License-Identifier: BSD-2-Clause */
/* The ring buffer's consumer: drains the records the BPF programs wrote, decodes each
 * (record.c), reads the strings left in the target's read-only files (ro_strings.c) and hands
 * every event and span note to the session's callbacks. */
#ifndef PERFBPF_RING_CONSUMER_H
#define PERFBPF_RING_CONSUMER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "bpf/perfbpf.h"
#include "user/attach/ro_strings.h"
#include "user/collect/batch_decoder.h"
#include "user/collect/record.h"

typedef int (*ring_event_fn)(void *ctx, const struct perfbpf_event *e);
typedef int (*ring_note_fn)(void *ctx, const struct perfbpf_note *n);
typedef int (*ring_op_fn)(void *ctx, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns);

struct ring_consumer_opts {
	ring_event_fn on_event;
	ring_note_fn on_note; /* NULL: notes are dropped (they are only written for OTLP) */
	ring_op_fn on_op;     /* ABI v3 ops for statistics alone (batch_op_fn); NULL: events */
	void *ctx;
	/* non-zero: a stop was asked; a sliced poll returns soon (see ring_consumer__poll) */
	const volatile sig_atomic_t *stop;
	uint64_t start_ns;               /* ABI v3 records stamped before this are not the session's */
	const struct tsc_clock *clock;   /* converts ABI v3 TSC stamps */
	bool attribution;                /* ABI v3 spans carry scheduler attribution */
};

/* What the consumer counted. */
struct ring_consumer_counts {
	uint64_t ro_resolved;             /* string fields read from the target's files */
	uint64_t ro_faults, ro_truncated; /* of those: unreadable, or cut to their field */
	struct record_counts records;     /* records that did not decode */
};

struct ring_consumer;

/* A consumer of the ring buffer map map_fd; ro (may be NULL: every string was copied) resolves
 * PERFBPF_F_REF_* fields. NULL with errno set on failure. */
struct ring_consumer *ring_consumer__new(int map_fd, const struct ring_consumer_opts *o,
					 struct ro_strings *ro);
void ring_consumer__free(struct ring_consumer *rc);
/* Waits up to timeout_ms for records, then takes what is there. sliced (probes attached: the
 * engine may fire faster than the consumer drains): returns after about 50 ms of work or at a
 * stop request, leaving the rest in the ring. Records consumed, or a callback's error or -errno. */
int ring_consumer__poll(struct ring_consumer *rc, int timeout_ms, bool sliced);
/* Takes every record in the ring now, unsliced (the final drain, after the probes are
 * detached). */
int ring_consumer__drain(struct ring_consumer *rc);
const struct ring_consumer_counts *ring_consumer__counts(const struct ring_consumer *rc);
/* What the ABI v3 decoder counted. */
const struct batch_counts *ring_consumer__batch_counts(const struct ring_consumer *rc);

#endif
